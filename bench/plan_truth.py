#!/usr/bin/env python3
"""Scores the executive plan's reconciled CAC against truth.json over many synth seeds.

For each seed: `upshot synth --seed N`, every config of experiments/ run on that export,
`upshot report`, then each row of plan.json compared with the truth:
  - a channel's non-brand row: spend / the channel's true-origin new customers plus its leads'
    purchases still to come (truth cohorts, eventual - observed); google_search's non-brand
    campaigns: their cost over their expected eventual purchases (truth keywords);
  - brand search: the brand test's planted incremental cost per incremental purchase.
Beside it the click-only CAC (segments: cost over lag-projected last-click customers) and the
survey-only CAC (blended, no brand split, no projection), each against the same truth.

Usage: bench/plan_truth.py [--seeds 20] [--first 101] [--bin target/debug/upshot]
Writes a Markdown table to stdout; nothing is cached between runs.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import tempfile
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def channel_metric(result, name, channel):
    for m in result["metrics"]:
        if m["name"] == name and m["segment"] == {"channel": channel}:
            return m
    return None


def truth_rows(truth, survey):
    out = {}
    still = defaultdict(float)
    for c in truth["cohorts"]:
        still[c["channel"]] += c["eventual_purchases"] - c["observed_purchases"]
    for o in truth["origins"]:
        spend = channel_metric(survey, "spend", o["channel"])
        if spend and spend["estimate"] > 0:
            out[(o["channel"], False)] = spend["estimate"] / (o["new_customers"] + still[o["channel"]])
    k = truth["keywords"]
    cost = sum(x["cost"] for x in k)
    expected = sum(x["clicks"] * x["lead_rate"] * x["purchase_prob"] for x in k)
    out[("google_search", False)] = cost / expected
    b = truth["brand_test"]
    out[("google_search", True)] = b["incremental_cost_total"] / b["incremental_purchases_total"]
    return out


def click_cac(segments, channel, brand):
    cost = projected = 0.0
    for m in segments["metrics"]:
        seg = m["segment"]
        if set(seg) != {"channel", "campaign"} or seg["channel"] != channel:
            continue
        if ("brand" in seg["campaign"]) != brand:
            continue
        if m["name"] == "cost":
            cost += m["estimate"]
        elif m["name"] == "purchases_projected":
            projected += m["estimate"]
    return cost / projected if projected > 0 else None


def one_seed(binary, seed, work):
    data = os.path.join(work, "notebooks-data")
    run([binary, "synth", "--seed", str(seed), "--out", data, "--quiet"])
    exp = os.path.join(work, "experiments")
    shutil.copytree(os.path.join(ROOT, "experiments"), exp)
    reports = os.path.join(work, "reports")
    run([binary, "run", exp, "--out", reports, "--quiet"])
    run([binary, "report", reports])
    plan = json.load(open(os.path.join(reports, "plan.json")))
    truth = json.load(open(os.path.join(data, "truth.json")))
    folders = {json.load(open(os.path.join(reports, d, "result.json")))["kind"]: d
               for d in os.listdir(reports) if os.path.isfile(os.path.join(reports, d, "result.json"))}
    survey = json.load(open(os.path.join(reports, folders["survey"], "result.json")))
    segments = json.load(open(os.path.join(reports, folders["segments"], "result.json")))
    truths = truth_rows(truth, survey)
    rows = []
    # The stakes must add up to at most the horizon's spend: pacing's own all-channel run rate.
    pacing = json.load(open(os.path.join(reports, folders["pacing"], "result.json")))
    horizon = next(m["estimate"] for m in pacing["metrics"]
                   if m["name"] == "run_rate" and m["segment"] == {"channel": "all", "metric": "cost"})
    stakes = sum(c["stake"] for c in plan["calls"])
    stake_ok = abs(stakes - plan["total_stake"]) < 0.01 and stakes <= horizon * 1.001
    for call in plan["calls"]:
        key = (call["channel"], call["brand"])
        if key not in truths or not call.get("cac"):
            continue
        t = truths[key]
        cac = call["cac"]
        lo, hi = cac.get("ci_low"), cac.get("ci_high")
        covered = (lo is None or lo <= t) and (hi is None or t <= hi)
        s = channel_metric(survey, "blended_cac", call["channel"]) if not call["brand"] else None
        rows.append({
            "row": ("brand search" if call["brand"] else call["channel"]),
            "basis": cac["basis"],
            "truth": t,
            "plan": cac["estimate"],
            "covered": covered,
            "click": click_cac(segments, call["channel"], call["brand"]),
            "survey": s["estimate"] if s else None,
            "action": call["action"],
        })
    per_channel = defaultdict(int)
    for call in plan["calls"]:
        per_channel[(call["channel"], call["brand"])] += 1
    return rows, stake_ok and all(n == 1 for n in per_channel.values())


def bias(values):
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.mean(vals) if vals else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first", type=int, default=101)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "upshot"))
    args = ap.parse_args()
    by_row = defaultdict(list)
    one_call = 0
    for seed in range(args.first, args.first + args.seeds):
        with tempfile.TemporaryDirectory() as work:
            rows, ok = one_seed(args.bin, seed, work)
        one_call += ok
        for r in rows:
            by_row[r["row"]].append(r)
    n = args.seeds
    print(f"Seeds {args.first}..{args.first + n - 1} (scale small): one call per row and stakes summing to the horizon in {one_call} of {n}.\n")
    print("| row | basis | seeds | truth CAC (mean) | plan bias | plan 90% coverage (binomial SE) | click-only bias | survey-only bias | calls |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rows in sorted(by_row.items()):
        k = len(rows)
        cov = sum(r["covered"] for r in rows) / k
        se = math.sqrt(0.9 * 0.1 / k)
        def rel(field):
            b = bias([(r[field] / r["truth"] - 1) if r[field] else None for r in rows])
            return "n/a" if math.isnan(b) else f"{b:+.1%}"
        calls = defaultdict(int)
        for r in rows:
            calls[r["action"]] += 1
        basis = "/".join(sorted({r["basis"] for r in rows}))
        print(
            f"| {name} | {basis} | {k} | ${statistics.mean(r['truth'] for r in rows):,.2f} | {rel('plan')} | "
            f"{cov:.0%} (±{se:.0%}) | {rel('click')} | {rel('survey')} | "
            + ", ".join(f"{a} {c}" for a, c in sorted(calls.items()))
            + " |"
        )


if __name__ == "__main__":
    main()
