#!/usr/bin/env bash
# `upshot validate` on orders with and without `lead_id` beside a large leads table, at 1x, 2x and 5x
# of (10M leads, 1M orders), beside DuckDB running the same checks on the same files; whole process,
# wall time and peak RSS.
#
#   bench/validate_links.sh [MULT ...]      (default: 1 2 5; 5x needs ~2.5 GB of disk)
set -euo pipefail
cd "$(dirname "$0")/.."
mults=("$@")
[ $# -eq 0 ] && mults=(1 2 5)
cargo build --release -p upshot --quiet
bin=target/release/upshot
source bench/common.sh
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet duckdb
fi
for m in "${mults[@]}"; do
  dir=bench-data/links-${m}x
  if [ ! -f "$dir/orders_linked.parquet" ]; then
    mkdir -p "$dir"
    bench/.venv/bin/python bench/validate_links.py generate "$dir" "$m"
  fi
  for orders in orders_null orders_linked; do
    cat > "$dir/$orders.toml" <<TOML
name = "links"
kind = "inspect"
currency = "USD"
[inputs]
leads = "leads.parquet"
orders = "$orders.parquet"
TOML
    cat "$dir"/*.parquet > /dev/null
    measure "upshot validate ${m}x $orders" "$bin" validate "$dir/$orders.toml" -q
    measure "duckdb checks ${m}x $orders" bench/.venv/bin/python bench/validate_links.py check "$dir" "$orders"
  done
done
