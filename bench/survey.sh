#!/usr/bin/env bash
# Survey-attribution benchmark (whole process, wall time and peak memory):
#  1. `upshot run` of a survey config (1,000 bootstrap draws) on generated
#     exports of a scale (default xl: 11M orders, ~7M survey rows, 20M spend rows).
#  2. The naive method (Fairing: answers per channel / response rate) in pandas
#     on the same files (bench/survey_naive_pandas.py, pandas + pyarrow
#     installed into bench/.venv by this script), as the yardstick.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-xl}
cargo build --release -p upshot --quiet
source bench/common.sh
dir=bench-data/$scale
generated "$dir" "$scale"
sed -e "s/^name = .*/name = \"bench-survey-$scale\"/" \
    -e 's#\.\./notebooks-data/##' experiments/survey-attribution.toml > "$dir/survey.toml"
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet pandas pyarrow
fi
cat "$dir"/orders.parquet "$dir"/survey.parquet "$dir"/spend.parquet > /dev/null
measure "upshot run survey ($scale, 1,000 draws)" target/release/upshot run "$dir/survey.toml" --out "$dir/reports" -q
measure "pandas naive survey counts ($scale)" bench/.venv/bin/python bench/survey_naive_pandas.py "$dir"
