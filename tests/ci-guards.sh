#!/usr/bin/env bash
# What a growth team's CI runs on fresh exports (tests/cli/diff.rs runs it): every analysis of an
# experiments folder on main's exports and on the fresh ones, the executive plan of each, and
# `upshot diff` with the guards of the folder's economics.toml. Prints the pull-request comment
# (Markdown) and writes diff.json; exits 3 when a guard breaks, 0 when none does, 1 or 2 when a
# run itself fails.
#
# usage: tests/ci-guards.sh EXPERIMENTS_DIR MAIN_EXPORTS_DIR FRESH_EXPORTS_DIR WORK_DIR
# The configs name their inputs as ../notebooks-data/<table>.parquet, so each run gets its own
# copy of the configs beside a notebooks-data link to its exports. UPSHOT names the binary.
set -euo pipefail
upshot=${UPSHOT:-upshot}
experiments=$1 main_exports=$2 fresh_exports=$3 work=$4

run() { # name exports
  local tree="$work/$1"
  mkdir -p "$tree"
  cp -r "$experiments" "$tree/experiments"
  ln -sfn "$(cd "$2" && pwd)" "$tree/notebooks-data"
  "$upshot" run "$tree/experiments" --out "$tree/reports" -q
  "$upshot" report "$tree/reports" -q
}

run main "$main_exports"
run fresh "$fresh_exports"
status=0
"$upshot" diff "$work/main/reports" "$work/fresh/reports" --guards "$experiments/economics.toml" \
  --json "$work/diff.json" > "$work/diff.md" || status=$?
cat "$work/diff.md"
exit "$status"
