# Shared by the benchmark scripts: `source bench/common.sh` from the repository root.

# measure LABEL COMMAND...: runs the command, prints its wall time and peak memory (max RSS).
measure() {
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$log" "$@"
  read -r wall rss < "$log"
  printf '%-52s wall %7.2f s   peak RSS %7.0f MiB\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
  rm -f "$log"
}

# generated DIR SCALE: synthetic exports of SCALE in DIR (seed 1), made once.
generated() {
  if [ ! -f "$1/truth.json" ]; then
    target/release/upshot synth --scale "$2" --seed 1 --out "$1" -q
  fi
}
