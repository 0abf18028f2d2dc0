#!/usr/bin/env bash
# Brand power benchmarks (whole process, wall time and peak memory): `upshot brand-test design
# --history` on the sample's orders (a year of daily new customers, 21 designs of 28-224 days x
# blocks of 1, 2 and 7 days, 1,000 simulated tests x 1,000 re-randomization draws each) and on
# the generated exports of a scale (default xl, 11M orders). UPSHOT=path times another binary
# (e.g. an older build) with the same arguments; flags it does not know are the caller's problem.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-xl}
bin=${UPSHOT:-target/release/upshot}
if [ -z "${UPSHOT:-}" ]; then cargo build --release -p upshot --quiet; fi
source bench/common.sh
dir=bench-data/$scale
generated "$dir" "$scale"
out=$(mktemp -d)
cat "$dir"/orders.parquet > /dev/null
measure "design power, sample history (21 designs)" "$bin" brand-test design --start 2026-03-02 --days 56 \
  --history notebooks-data/orders.parquet --out "$out/s.parquet" --report-out "$out/r" -q
measure "design power, $scale history (21 designs)" "$bin" brand-test design --start 2026-03-02 --days 56 \
  --history "$dir/orders.parquet" --out "$out/s.parquet" --report-out "$out/r" -q
rm -rf "$out"
