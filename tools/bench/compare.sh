#!/usr/bin/env bash
# make bench-compare: raftlog beside etcd and NATS JetStream, same machine,
# same run. Starts a 3-node cluster of each on 127.0.0.1 (data under
# $BUILD/bench-compare), drives each with 256-byte values at 1, 16, 64 and
# 256 in flight, rounds alternating the systems' order so that drift hits
# all alike, and prints one table of medians (tools/bench/table.py).
#
# Knobs (environment): BUILD (build), ROUNDS (3), DURATION (8 s measured per
# run), WARMUP (1 s), INFLIGHT ("1 16 64 256"), PORT_BASE (23100).
# About 7 minutes with the defaults (36 runs of 9 s, plus start-up).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-1}
INFLIGHT=${INFLIGHT:-"1 16 64 256"}
PORT_BASE=${PORT_BASE:-23100}
DATA=$PWD/$BUILD/bench-compare

tools/install-deps etcd-server etcd-client nats-server
for tool in raftlog-bench etcd-load nats-load; do
  [[ -x $BUILD/bench/$tool ]] || { echo "compare.sh: $BUILD/bench/$tool is not built" >&2; exit 1; }
done
rm -rf "$DATA"
mkdir -p "$DATA"
source tools/bench/clusters.sh
# Stop what was started, and drop the gigabytes of data (results and logs stay).
cleanup() {
  stop_clusters
  rm -rf "$DATA"/etcd[123] "$DATA"/nats[123] "$DATA"/raftlog[123]
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench-compare: starting etcd $(etcd --version | awk '/etcd Version/{print $3}')," \
  "nats-server $(nats-server --version | awk '{print $NF}') and raftlogd, 3 nodes each" >&2
start_etcd
start_nats
start_raftlog
for _ in $(seq 100); do
  ETCD_LEADER=$(etcd_leader)
  [[ -n $ETCD_LEADER ]] && break
  sleep 0.2
done
[[ -n $ETCD_LEADER ]] || { echo "compare.sh: etcd elected no leader" >&2; exit 1; }

nats_urls=()
for u in "${NATS_URLS[@]}"; do nats_urls+=(--url "$u"); done
raftlog_eps=()
for e in "${RAFTLOG_CLIENTS[@]}"; do raftlog_eps+=(--endpoint "$e"); done
common=(--warmup "$WARMUP" --duration "$DURATION" --json)

run() {  # system inflight round
  local line
  case $1 in
    etcd) line=$("$BUILD/bench/etcd-load" --endpoint "$(etcd_leader)" --inflight "$2" "${common[@]}") ;;
    nats) line=$("$BUILD/bench/nats-load" "${nats_urls[@]}" --inflight "$2" "${common[@]}") ;;
    raftlog) line=$("$BUILD/bench/raftlog-bench" "${raftlog_eps[@]}" --subscribers 0 \
      --producers 1 --window "$2" "${common[@]}") ;;
  esac
  echo "${line%\}},\"round\":$3}" | tee -a "$DATA/results.jsonl" >&2
}

systems=(etcd nats raftlog)
for n in $INFLIGHT; do
  for r in $(seq "$ROUNDS"); do
    # Round r starts with system r mod 3: each goes first, second and last.
    for k in 0 1 2; do run "${systems[$(((r + k) % 3))]}" "$n" "$r"; done
  done
done

python3 tools/bench/table.py "$DATA/results.jsonl"
# The disk's floor, for reading the latencies: one synced 256-byte append.
dd if=/dev/zero of="$DATA/dsync-probe" bs=256 count=300 oflag=dsync 2>&1 |
  awk '/copied/ { printf "\nThis disk: a synced 256-byte append (dd oflag=dsync) takes %.0f us on average.\n", $(NF-3) / 300 * 1e6 }'
rm -f "$DATA/dsync-probe"
cat <<'NOTE'

Durability: raftlog and etcd fsync before they ack (raftlog: a majority has
the entry synced in LevelDB; etcd: its WAL is fsynced on a majority).
NATS JetStream 2.9 does not fsync each message (it syncs stream files every
2 minutes): its acks mean "in memory on 2 of 3 servers".
Load generators: etcd-load (HTTP/1.1 to etcd's v3 JSON gateway, one
connection per request in flight), nats-load (one connection, text
protocol, PubAck per message), raftlog-bench (one raftlog::Producer,
exactly-once pushes). All on the same cores as the servers.
NOTE
