#!/usr/bin/env bash
# Brand-test benchmarks (whole process, wall time and peak memory):
#  1. 20 regions x 365 days with 100,000 re-randomization draws
#     (in-memory tables -> finished analysis; the example builds the tables).
#  2. `upshot run` of a brand-test config on generated exports of a scale
#     (default large; xl needs bench-data/xl from bench/validate.sh or synth).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-large}
cargo build --release -p upshot --quiet
cargo build --release -p upshot-brand --example bench_region_days --quiet
source bench/common.sh
measure "20 regions x 365 days, 100k draws" target/release/examples/bench_region_days 20 365 100000
dir=bench-data/$scale
generated "$dir" "$scale"
cat > "$dir/brand.toml" <<TOML
name = "bench-brand-$scale"
kind = "brand-test"
currency = "USD"
seed = 1
[inputs]
orders = "orders.parquet"
spend = "spend.parquet"
schedule = "brand_schedule.parquet"
[params]
brand_campaigns = ["brand_search"]
draws = 10000
TOML
cat "$dir"/orders.parquet "$dir"/spend.parquet > /dev/null
measure "upshot run brand-test ($scale)" target/release/upshot run "$dir/brand.toml" --out "$dir/reports" -q
