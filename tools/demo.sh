#!/usr/bin/env bash
# make demo: a local 3-node raftlog cluster on 127.0.0.1 from conf/, a few
# hundred entries appended through the leader, the cluster's status, and a
# follower's copy of the log. Every process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
bin=$BUILD/src/server/raftlogd
ctl=$BUILD/tools/raftlog-ctl
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

echo "== appending 300 events through the leader (each acknowledged once committed)"
events=()
for n in $(seq 300); do events+=("event-$n"); done
"$ctl" -c conf/node1.conf append "${events[@]}" >"$data/acks.jsonl"
echo "first and last acks:"; head -n 1 "$data/acks.jsonl"; tail -n 1 "$data/acks.jsonl"

echo "== cluster status"
"$ctl" -c conf/node1.conf status

echo "== the last 5 committed entries as node 3 holds them"
last=$(tail -n 1 "$data/acks.jsonl" | sed 's/.*"index":\([0-9]*\).*/\1/')
for _ in $(seq 50); do
  [ "$("$ctl" -e tcp://127.0.0.1:7103 fetch --from "$last" | wc -l)" -ge 1 ] && break
  sleep 0.1
done
"$ctl" -e tcp://127.0.0.1:7103 fetch --from $((last - 4))

echo "== stopping the cluster"
