#!/usr/bin/env bash
# How raftlog's cost grows (docs/benchmarks.md, "How cost grows"): throughput
# against payload size, cluster size and subscriber count; the maximum
# throughput, and end-to-end latency at half of it (open loop); catch-up and
# restart time against log length. Every run starts its own local cluster
# (fsync on) under $BUILD/bench-growth. Results go to
# $BUILD/bench-growth/results.jsonl, then tools/bench/growth_table.py prints
# them as markdown.
#
# Knobs (environment): BUILD (build), DURATION (4 s measured per run),
# WARMUP (1 s), RECOVERY_ENTRIES ("1000000"; "1000000 10000000" for both
# figures of the issue: the 10M fill alone takes minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
RECOVERY_ENTRIES=${RECOVERY_ENTRIES:-1000000}
DATA=$PWD/$BUILD/bench-growth
OUT=$DATA/results.jsonl
mkdir -p "$DATA"
: >"$OUT"

bench() {  # figure, then raftlog-bench options
  local figure=$1 line
  shift
  line=$("$BUILD/bench/raftlog-bench" --data-dir "$DATA/cluster" --warmup "$WARMUP" \
    --duration "$DURATION" --json "$@")
  echo "${line%\}},\"figure\":\"$figure\"}" | tee -a "$OUT" >&2
}

for p in 64 256 1024 4096 16384 65536; do bench payload --window 256 --payload "$p"; done
for n in 1 3 5; do bench nodes --window 256 --nodes "$n"; done
for s in 1 4 16 64; do bench subscribers --window 256 --subscribers "$s"; done
for pw in "1 256" "2 256" "4 128" "4 256"; do
  set -- $pw
  bench max --producers "$1" --window "$2"
done
max=$(python3 -c '
import json, sys
print(int(max(r["events_per_s"] for r in map(json.loads, open(sys.argv[1])) if r["figure"] == "max")))' "$OUT")
bench half-max-open-loop --producers 2 --window 1024 --rate $((max / 2))
bench one-in-flight --window 1

for n in $RECOVERY_ENTRIES; do
  line=$("$BUILD/bench/raftlog-recovery" --data-dir "$DATA/recovery" --entries "$n" --json)
  echo "${line%\}},\"figure\":\"recovery\"}" | tee -a "$OUT" >&2
done
python3 tools/bench/growth_table.py "$OUT"
