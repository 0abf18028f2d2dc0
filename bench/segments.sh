#!/usr/bin/env bash
# Segmentation benchmark (whole process, wall time and peak memory):
#  1. `upshot run` of the segments config on the generated exports of a scale
#     (default xl: 20M spend rows, 11M leads, 11M orders; the synthetic company
#     has 201 ads).
#  2. The same exports with every ad split into 512 sub-ads (~97k ads over the
#     same 20M spend rows), made by bench/segments_many_ads.py (pyarrow, in
#     bench/.venv): the issue's scale of about 100k ads x 200 days.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-xl}
cargo build --release -p upshot --quiet
source bench/common.sh
dir=bench-data/$scale
many=bench-data/$scale-ads
generated "$dir" "$scale"
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet pandas pyarrow
fi
if [ ! -f "$many/spend.parquet" ]; then
  mkdir -p "$many"
  PYTHONHASHSEED=1 bench/.venv/bin/python bench/segments_many_ads.py "$dir" "$many"
fi
for d in "$dir" "$many"; do
  sed -e "s/^name = .*/name = \"bench-segments-$(basename "$d")\"/" -e 's#\.\./notebooks-data/##' experiments/segments.toml > "$d/segments.toml"
  cat "$d"/spend.parquet "$d"/leads.parquet "$d"/orders.parquet > /dev/null
done
measure "upshot run segments ($scale, 201 ads)" target/release/upshot run "$dir/segments.toml" --out "$dir/reports" -q
measure "upshot run segments ($scale, ~97k ads)" target/release/upshot run "$many/segments.toml" --out "$many/reports" -q
