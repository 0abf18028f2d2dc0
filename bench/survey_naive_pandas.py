"""The naive survey method in pandas, as a yardstick for `upshot run` (kind = "survey").

Fairing's rule: new customers per channel = answers naming the channel / response
rate, plus click-attributed customers and click CAC. It is a strict subset of what
upshot computes (no reweighting, no promo codes, no intervals), written the way an
analyst would in a notebook: first paid order per customer, left join of the survey,
answer mapping with a dict and regexes, group-bys.
"""
import re
import sys
import time

import pandas as pd

EXACT = {
    "google": "google_search", "instagram / facebook": "meta", "youtube": "youtube",
    "blogger / influencer": "influencers", "friend or colleague": "organic", "podcast": "organic",
}
PATTERNS = [
    ("google|гугл", "google_search"), ("instagram|facebook|инстаграм", "meta"),
    ("you ?tube|ютуб", "youtube"), ("influencer|blogger|блогер", "influencers"),
]


def channel_of(answer):
    if answer is None or pd.isna(answer):
        return None
    key = answer.strip().lower()
    if key in EXACT:
        return EXACT[key]
    for pattern, channel in PATTERNS:
        if re.search(pattern, answer, re.IGNORECASE):
            return channel
    return None


def main(folder):
    start = time.time()
    orders = pd.read_parquet(f"{folder}/orders.parquet",
                             columns=["order_id", "customer_id", "paid_at", "revenue", "channel"])
    survey = pd.read_parquet(f"{folder}/survey.parquet", columns=["order_id", "answered_at", "answer"])
    spend = pd.read_parquet(f"{folder}/spend.parquet", columns=["channel", "cost"])
    paid = orders[orders["revenue"] > 0].sort_values(["customer_id", "paid_at", "order_id"])
    firsts = paid.drop_duplicates("customer_id", keep="first")
    firsts = firsts.merge(survey, on="order_id", how="left")
    firsts["click"] = firsts["channel"].fillna("organic")
    answers = pd.Series(firsts["answer"].dropna().unique())
    mapping = dict(zip(answers, answers.map(channel_of)))
    firsts["survey_channel"] = firsts["answer"].map(mapping)
    customers = len(firsts)
    responded = firsts["survey_channel"].notna().sum()
    naive = firsts["survey_channel"].value_counts() * customers / responded
    click = firsts["click"].value_counts()
    cost = spend.groupby("channel")["cost"].sum()
    table = pd.DataFrame({"click": click, "survey_naive": naive, "spend": cost}).fillna(0)
    table["click_cac"] = table["spend"] / table["click"]
    table["naive_cac"] = table["spend"] / table["survey_naive"]
    print(table.round(1).to_string())
    print(f"{customers} new customers, {responded} mapped answers, {time.time() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
