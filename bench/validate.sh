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

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$log" "$@" > /dev/null
  read -r wall rss < "$log"
  printf '%-28s wall %7.2f s   peak RSS %7.0f MiB\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
  rm -f "$log"
}

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
done
