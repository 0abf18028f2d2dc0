#!/usr/bin/env bash
# Whole-process benchmark of `upshot validate` on generated exports, beside
# DuckDB running the same checks (GROUP BY / aggregate queries) over the same files.
#
#   bench/validate.sh [large|xl ...]      (default: large xl)
#
# Generates bench-data/<scale>/ once (kept between runs), then reports wall
# time and peak memory (max RSS) of each process. Needs ~6 GB of disk for xl.
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("${@:-large xl}")
[ $# -eq 0 ] && scales=(large xl)

cargo build --release -p upshot --quiet
bin=target/release/upshot

if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet duckdb
fi

source bench/common.sh

for scale in "${scales[@]}"; do
  dir=bench-data/$scale
  if [ ! -f "$dir/truth.json" ]; then
    echo "generating $scale exports into $dir"
    measure "synth $scale" "$bin" synth --scale "$scale" --seed 1 --out "$dir" -q
  fi
  du -sh "$dir" | sed 's/^/size: /'
  cat > "$dir/validate.toml" <<TOML
name = "bench-$scale"
kind = "inspect"
currency = "USD"
[inputs]
spend = "spend.parquet"
leads = "leads.parquet"
orders = "orders.parquet"
touchpoints = "touchpoints.parquet"
survey = "survey.parquet"
plan = "plan.parquet"
schedule = "brand_schedule.parquet"
TOML
  # Warm the page cache so both tools read from memory.
  cat "$dir"/*.parquet > /dev/null
  measure "upshot validate $scale" "$bin" validate "$dir/validate.toml" -q
  measure "duckdb checks $scale" bench/.venv/bin/python bench/duckdb_checks.py "$dir"
  # The same exports with orders that carry no CRM link (`lead_id` null on every row, issue 18).
  nolinks=$dir/nolinks
  if [ ! -f "$nolinks/orders.parquet" ]; then
    mkdir -p "$nolinks"
    bench/.venv/bin/python -c "import duckdb, sys; duckdb.execute(\"set enable_progress_bar = false\"); duckdb.sql(f\"copy (select * replace (null::varchar as lead_id) from '{sys.argv[1]}/orders.parquet') to '{sys.argv[2]}/orders.parquet' (format parquet)\")" "$dir" "$nolinks"
    for table in spend leads touchpoints survey plan brand_schedule; do ln -sf "../$table.parquet" "$nolinks/$table.parquet"; done
  fi
  sed 's/^name = .*/name = "bench-nolinks"/' "$dir/validate.toml" > "$nolinks/validate.toml"
  cat "$nolinks"/*.parquet > /dev/null
  measure "upshot validate $scale, orders without lead_id" "$bin" validate "$nolinks/validate.toml" -q
  measure "duckdb checks $scale, orders without lead_id" bench/.venv/bin/python bench/duckdb_checks.py "$nolinks"
done
