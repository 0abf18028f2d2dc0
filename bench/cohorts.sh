#!/usr/bin/env bash
# Cohort LTV/CAC benchmark (whole process, wall time and peak memory):
#  1. `upshot run` of kind = "cohorts", weekly lead cohorts by channel and
#     campaign (52 cohorts x 52 ages x each campaign), on generated exports of
#     a scale (default xl: 11M leads, 11M orders, 20M spend rows).
#  2. The same monthly; its observed triangles (tables/triangle.csv) are the
#     ones both chain-ladder implementations fit below.
#  3. Chain-ladder fit, Python `chainladder` (MackChainladder on one Triangle
#     holding every channel x campaign) against upshot's Mack chain ladder on
#     the same triangles (bench/cohorts_chainladder.py writes them as JSON for
#     the `chainladder_bench` example). Both print their total reserve, which
#     must agree.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-xl}
cargo build --release -p upshot --quiet
cargo build --release -p upshot-development --example chainladder_bench --quiet
source bench/common.sh
dir=bench-data/$scale
generated "$dir" "$scale"
for grain in week month; do
  sed -e "s/^name = .*/name = \"bench-cohorts-$grain\"/" \
      -e 's#\.\./notebooks-data/##' \
      -e "s/^grain = .*/grain = \"$grain\"/" \
      -e 's/^by = .*/by = ["channel", "campaign"]/' experiments/cohorts-ltv.toml > "$dir/cohorts-$grain.toml"
done
if [ ! -x bench/.venv/bin/python ] || ! bench/.venv/bin/python -c "import chainladder" 2> /dev/null; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet pandas pyarrow chainladder
fi
cat "$dir"/leads.parquet "$dir"/orders.parquet "$dir"/spend.parquet > /dev/null
measure "upshot run cohorts, weekly x channel x campaign ($scale)" target/release/upshot run "$dir/cohorts-week.toml" --out "$dir/reports" -q
measure "upshot run cohorts, monthly x channel x campaign ($scale)" target/release/upshot run "$dir/cohorts-month.toml" --out "$dir/reports" -q
bench/.venv/bin/python bench/cohorts_chainladder.py "$dir/reports/bench-cohorts-month/tables/triangle.csv" "$dir/triangles.json"
target/release/examples/chainladder_bench "$dir/triangles.json"
