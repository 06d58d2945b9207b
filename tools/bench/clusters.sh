# Sourced by tools/bench/compare.sh: starts 3-node etcd, NATS JetStream and
# raftlog clusters on 127.0.0.1, each node with its own data directory under
# $DATA, and records every PID it starts in PIDS so that stop_clusters (run
# by the caller's trap) stops exactly those processes.
#
# Ports: $PORT_BASE + 0..2 etcd clients, +10..12 etcd peers, +20..22 NATS
# clients, +30..32 NATS routes, +40..42 raftlog peers, +50..52 raftlog
# clients, +60..62 raftlog PUB.

PIDS=()

stop_clusters() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    # A node that does not stop within 5 s is killed.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

ETCD_CLIENTS=()
start_etcd() {
  local cluster="" i
  for i in 1 2 3; do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:$((PORT_BASE + 9 + i))"
  done
  for i in 1 2 3; do
    local c=127.0.0.1:$((PORT_BASE - 1 + i)) p=http://127.0.0.1:$((PORT_BASE + 9 + i))
    ETCD_CLIENTS+=("$c")
    etcd --name "e$i" --data-dir "$DATA/etcd$i" \
      --listen-client-urls "http://$c" --advertise-client-urls "http://$c" \
      --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token raftlog-bench --log-level warn \
      >"$DATA/etcd$i.log" 2>&1 &
    PIDS+=($!)
  done
}

# The etcd member that leads, as host:port of its client URL (empty if none yet).
etcd_leader() {
  local eps
  eps=$(IFS=,; echo "${ETCD_CLIENTS[*]}")
  ETCDCTL_API=3 etcdctl --endpoints="$eps" endpoint status -w json 2>/dev/null |
    python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["Status"]["header"]["member_id"] == s["Status"]["leader"]:
        print(s["Endpoint"].replace("http://", ""))' 2>/dev/null || true
}

NATS_URLS=()
start_nats() {
  local routes="" i
  for i in 1 2 3; do
    routes+="${routes:+,}nats://127.0.0.1:$((PORT_BASE + 29 + i))"
  done
  for i in 1 2 3; do
    NATS_URLS+=("127.0.0.1:$((PORT_BASE + 19 + i))")
    nats-server -js -sd "$DATA/nats$i" -n "n$i" -a 127.0.0.1 -p $((PORT_BASE + 19 + i)) \
      --cluster_name raftlog-bench --cluster "nats://127.0.0.1:$((PORT_BASE + 29 + i))" \
      --routes "$routes" >"$DATA/nats$i.log" 2>&1 &
    PIDS+=($!)
  done
}

RAFTLOG_CLIENTS=()
start_raftlog() {
  local i j
  for i in 1 2 3; do
    RAFTLOG_CLIENTS+=("tcp://127.0.0.1:$((PORT_BASE + 49 + i))")
    {
      echo "id = $i"
      echo "data-dir = $DATA/raftlog$i"
      echo "log-level = warn"
      for j in 1 2 3; do
        echo "peer = $j=tcp://127.0.0.1:$((PORT_BASE + 39 + j)),tcp://127.0.0.1:$((PORT_BASE + 49 + j)),tcp://127.0.0.1:$((PORT_BASE + 59 + j))"
      done
    } >"$DATA/raftlog$i.conf"
    "$BUILD/src/server/raftlogd" --config "$DATA/raftlog$i.conf" >"$DATA/raftlog$i.log" 2>&1 &
    PIDS+=($!)
  done
}
