#!/usr/bin/env bash
# Where raftlogd's instructions go, per event: runs a 3-node cluster with
# every node under callgrind, pushes for DURATION seconds with raftlog-bench
# (1 producer, WINDOW in flight), stops the nodes, and prints for each node
# the instructions per pushed event of the functions that matter
# (docs/benchmarks.md, "Where the time goes"). Instruction counts do not
# depend on how busy the machine is, so this is the figure to compare
# before and after a change. Output files stay in $BUILD/bench-callgrind.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-15}
WINDOW=${WINDOW:-64}
PORT_BASE=${PORT_BASE:-24100}
D=$PWD/$BUILD/bench-callgrind
rm -rf "$D"
mkdir -p "$D"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done' EXIT
eps=()
for i in 1 2 3; do
  {
    echo "id = $i"
    echo "data-dir = $D/n$i"
    echo "log-level = warn"
    for j in 1 2 3; do
      echo "peer = $j=tcp://127.0.0.1:$((PORT_BASE + j)),tcp://127.0.0.1:$((PORT_BASE + 10 + j)),tcp://127.0.0.1:$((PORT_BASE + 20 + j))"
    done
  } >"$D/n$i.conf"
  eps+=(--endpoint "tcp://127.0.0.1:$((PORT_BASE + 10 + i))")
  valgrind --tool=callgrind --callgrind-out-file="$D/node$i.callgrind" \
    "$BUILD/src/server/raftlogd" --config "$D/n$i.conf" >"$D/n$i.log" 2>&1 &
  PIDS+=($!)
done
"$BUILD/bench/raftlog-bench" "${eps[@]}" --subscribers 0 -W "$WINDOW" --warmup 1 \
  --duration "$DURATION"
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
for p in "${PIDS[@]}"; do wait "$p" || true; done
PIDS=()

for i in 1 2 3; do
  f=$D/node$i.callgrind
  # Events this node applied: calls of EventApplier::apply.
  id=$(grep -m1 -oE 'fn=\([0-9]+\) raftlog::server::EventApplier::apply' "$f" | grep -oE '\([0-9]+\)')
  events=$(grep -A1 -F "cfn=$id" "$f" | awk -F'[= ]' '/^calls=/{s+=$2} END{print s}')
  echo "== node $i: $events events"
  callgrind_annotate --inclusive=yes "$f" 2>/dev/null | awk -v n="$events" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); printf "%8.0f  all instructions\n", $1 / n }
    /ClientService::on_readable\(|DecodeRequest\(|ClientService::handle_push\(|EventApplier::apply\(|DecodeEventRecord\(|ClientService::on_committed\(|Impl::drain_ready\(|Raft::take_ready\(|Persister::run\(|LevelDbLogStore::append\(|ZmqTransport::receive\(|Publisher::publish\(|DecodeMessage\(/ {
      if ($0 ~ /^ *[0-9,]+ \(/ && !seen[$0]++) {
        c = $1; gsub(",", "", c); name = $0; sub(/^[^:]*:/, "", name); sub(/\(.*/, "", name)
        if (name ~ /^raftlog::/ && !done[name]++) printf "%8.0f  %s\n", c / n, name
      }
    }'
  callgrind_annotate "$f" 2>/dev/null | awk -v n="$events" '
    /malloc\.c:|libjemalloc|operator new|operator delete/ && /^ *[0-9,]+ \(/ { c = $1; gsub(",", "", c); m += c }
    /memmove|memcpy/ && /^ *[0-9,]+ \(/ { c = $1; gsub(",", "", c); k += c }
    END { printf "%8.0f  malloc/free/new/delete (self)\n%8.0f  memcpy (self)\n", m / n, k / n }'
done
