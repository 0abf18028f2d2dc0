"""Issue 18's stall: orders without a CRM link (`lead_id` null on every row) beside a large leads table.

    python bench/validate_links.py generate DIR MULT   # DIR/{leads,orders_null,orders_linked}.parquet
    python bench/validate_links.py check DIR ORDERS    # DuckDB: the same checks upshot validate runs

MULT x (10M leads, 1M orders), the issue's reproduction at 1x: leads `L0..L9999999`, orders either all
without `lead_id` or each linked to a lead (1 in 100 links dangling). Run by bench/validate_links.sh."""
import sys
import duckdb

con = duckdb.connect()
mode, d = sys.argv[1], sys.argv[2]
if mode == "generate":
    m = int(sys.argv[3])
    leads, orders = 10_000_000 * m, 1_000_000 * m
    con.execute(f"""copy (select 'L' || i as lead_id, timestamp '2025-01-01' + to_seconds(i % 31000000) as created_at,
        'google_search' as channel from range({leads}) t(i)) to '{d}/leads.parquet' (format parquet)""")
    for name, link in [("orders_null", "null::varchar"),
                       ("orders_linked", f"case when i % 100 = 0 then 'X' || i else 'L' || ((i * 7919) % {leads}) end")]:
        con.execute(f"""copy (select 'O' || i as order_id, 'C' || i as customer_id, {link} as lead_id,
            timestamp '2025-01-01' + to_seconds(i % 31000000) as paid_at, 100.0::double as revenue
            from range({orders}) t(i)) to '{d}/{name}.parquet' (format parquet)""")
else:
    orders = sys.argv[3]
    q = lambda sql: con.execute(sql).fetchall()
    q(f"""select count(*), count(*) - count(distinct lead_id), count(*) filter (where created_at is null),
          min(created_at), max(created_at) from '{d}/leads.parquet'""")
    q(f"""select count(*), count(*) - count(distinct order_id),
          count(*) filter (where customer_id is null or paid_at is null or revenue is null),
          count(*) filter (where revenue is not null and not isfinite(revenue)),
          count(*) filter (where o.lead_id is not null and l.lead_id is null), min(paid_at), max(paid_at)
          from '{d}/{orders}.parquet' o left join (select distinct lead_id from '{d}/leads.parquet') l using (lead_id)""")
