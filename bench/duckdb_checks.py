"""The yardstick for `upshot validate`: the same contract checks as DuckDB
aggregate / GROUP BY queries over the same Parquet files (row counts, nulls in
required columns, negative and impossible values, duplicate ids, id lookups,
time ranges). Run by bench/validate.sh."""
import sys
import duckdb

d = sys.argv[1]
con = duckdb.connect()
q = lambda sql: con.execute(sql).fetchall()
stages = ["target_lead", "call", "proposal", "negotiation", "purchase"]

q(f"""select count(*), count(*) filter (where date is null or channel is null or campaign is null
        or impressions is null or clicks is null or cost is null),
      count(*) filter (where cost < 0 or impressions < 0 or clicks < 0),
      count(*) filter (where clicks > impressions and impressions > 0), min(date), max(date)
      from '{d}/spend.parquet'""")
q(f"""select count(*), count(*) - count(distinct lead_id), count(*) filter (where created_at is null),
      min(created_at), max(created_at) from '{d}/leads.parquet'""")
q(f"""select count(*), count(*) - count(distinct order_id),
      count(*) filter (where customer_id is null or paid_at is null or revenue is null),
      count(*) filter (where o.lead_id is not null and l.lead_id is null), min(paid_at), max(paid_at)
      from '{d}/orders.parquet' o left join (select distinct lead_id from '{d}/leads.parquet') l using (lead_id)""")
q(f"""select count(*), count(*) filter (where customer_id is null or "at" is null or channel is null),
      count(*) filter (where kind not in ('click', 'view')), min("at"), max("at") from '{d}/touchpoints.parquet'""")
q(f"""select count(*), count(*) - count(distinct s.order_id), count(*) filter (where o.order_id is null),
      count(*) filter (where answered_at < sent_at)
      from '{d}/survey.parquet' s left join (select distinct order_id from '{d}/orders.parquet') o using (order_id)""")
q(f"""select month, channel, campaign, metric, count(*) n from '{d}/plan.parquet' group by all having n > 1""")
q(f"""select date, region, count(*) n from '{d}/brand_schedule.parquet' group by all having n > 1""")
