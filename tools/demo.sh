#!/usr/bin/env bash
# make demo: a local 3-node raftlog cluster on 127.0.0.1 from conf/; a
# subscriber; a few hundred events pushed by a producer and printed by the
# subscriber; the cluster's status. Every process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
bin=$BUILD/src/server/raftlogd
ctl=$BUILD/tools/raftlog-ctl
push=$BUILD/tools/raftlog-push
sub=$BUILD/tools/raftlog-sub
data=$BUILD/demo
rm -rf "$data" && mkdir -p "$data"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

for i in 1 2 3; do
  "$bin" --config conf/node$i.conf --data-dir "$data/node$i" >"$data/node$i.log" 2>&1 &
  pids+=($!)
done
echo "== started raftlogd nodes 1-3 (pids ${pids[*]}); logs in $data/"

echo "== waiting for a leader"
for _ in $(seq 100); do
  if "$ctl" -c conf/node1.conf status --timeout-ms 200 2>/dev/null | grep -q " leader "; then break; fi
  sleep 0.1
done

echo "== a subscriber (every node's PUB; gaps filled by fetch) waits for topic 'orders'"
"$sub" -c conf/node1.conf --topic orders --from 1 --count 300 --idle-exit-ms 20000 \
  >"$data/subscriber.jsonl" 2>"$data/subscriber.err" &
sub_pid=$!
pids+=($sub_pid)

echo "== pushing 300 events with raftlog-push (exactly-once producer 'demo', 64 in flight)"
for n in $(seq 300); do echo "order-$n"; done |
  "$push" -c conf/node1.conf --topic orders --producer demo --window 64 >"$data/acks.jsonl"
echo "acks (each once the event is fsynced on a majority): first and last"
head -n 1 "$data/acks.jsonl"; tail -n 1 "$data/acks.jsonl"

echo "== pushing event 1 again with the same (producer, seq): the original index comes back"
"$push" -c conf/node1.conf --topic orders --producer demo --first-seq 1 order-1

wait "$sub_pid" || true
echo "== the subscriber received $(wc -l <"$data/subscriber.jsonl") events; the first 3 and the last:"
head -n 3 "$data/subscriber.jsonl"; tail -n 1 "$data/subscriber.jsonl"

echo "== cluster status"
"$ctl" -c conf/node1.conf status

echo "== stopping the cluster"
