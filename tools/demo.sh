#!/usr/bin/env bash
# make demo: a local 3-node raftlog cluster on 127.0.0.1 from conf/; a
# subscriber; a few hundred events pushed by a producer and printed by the
# subscriber; the cluster's status. Every process started here is stopped by PID.
#
# The demo uses conf/'s fixed ports (7001-7003, 7101-7103, 7201-7203). It
# checks they are free before it starts, and that its own three nodes are
# running and answering before it pushes anything: it never talks to another
# cluster on those ports (such as one started by README.md's "Running a
# cluster"). It exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
bin=$BUILD/src/server/raftlogd
ctl=$BUILD/tools/raftlog-ctl
push=$BUILD/tools/raftlog-push
sub=$BUILD/tools/raftlog-sub
data=$BUILD/demo
events=300

fail() {
  echo "demo: $*" >&2
  exit 1
}

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    # A process that does not stop within 5 s is killed.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "ID ROLE PORT", one line per endpoint of the cluster (every node's conf
# lists every member).
endpoints() {
  sed -nE 's/^peer *= *([0-9]+)=(.*)$/\1 \2/p' conf/node1.conf |
    while read -r id eps; do
      IFS=, read -r peer client pub <<<"$eps"
      echo "$id peer ${peer##*:}"
      echo "$id client ${client##*:}"
      if [[ -n ${pub:-} ]]; then echo "$id PUB ${pub##*:}"; fi
    done
}

# The ports someone else holds: those that cannot be bound on 127.0.0.1 now
# (a listener, or a socket merely bound).
busy_ports() {
  python3 -c '
import socket, sys
for port in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as ZeroMQ binds
    try:
        s.bind(("127.0.0.1", int(port)))
    except OSError as e:
        print(port, e.strerror)
    finally:
        s.close()
' "$@"
}

mapfile -t eps < <(endpoints)
((${#eps[@]} == 9)) || fail "expected 3 nodes with 3 endpoints each in conf/node1.conf"
ports=()
for e in "${eps[@]}"; do ports+=("${e##* }"); done
# "node 2's client endpoint", for a port.
describe() {
  local e id role p
  for e in "${eps[@]}"; do
    read -r id role p <<<"$e"
    if [[ $p == "$1" ]]; then echo "node $id's $role endpoint"; fi
  done
}
mapfile -t busy < <(busy_ports "${ports[@]}")
if ((${#busy[@]} > 0)); then
  for b in "${busy[@]}"; do
    echo "demo: port ${b%% *} on 127.0.0.1 ($(describe "${b%% *}")) is taken: ${b#* }" >&2
  done
  fail "the demo cluster needs ports ${ports[*]} free; stop what holds them (a cluster started" \
    "by README.md's \"Running a cluster\"?) and run it again"
fi

rm -rf "$data" && mkdir -p "$data"
for i in 1 2 3; do
  "$bin" --config conf/node$i.conf --data-dir "$data/node$i" >"$data/node$i.log" 2>&1 &
  pids+=($!)
done
echo "== started raftlogd nodes 1-3 (pids ${pids[*]}); logs in $data/"

# Fails if node i's process has exited, with what its log says.
check_alive() {
  local i=$1 pid=${pids[$(($1 - 1))]}
  kill -0 "$pid" 2>/dev/null && return 0
  local status=0
  wait "$pid" || status=$?
  echo "demo: raftlogd node $i (pid $pid) exited with status $status; $data/node$i.log ends:" >&2
  tail -n 3 "$data/node$i.log" | sed 's/^/  /' >&2
  local port
  port=$(sed -nE 's/.*127\.0\.0\.1:([0-9]+): Address already in use.*/\1/p' "$data/node$i.log" | head -n 1)
  if [[ -n $port ]]; then
    fail "port $port on 127.0.0.1 ($(describe "$port")) was taken" \
      "after the check; stop what holds it and run it again"
  fi
  fail "node $i did not start"
}

echo "== waiting for the 3 nodes to answer and elect a leader"
client_endpoint() { sed -nE "s/^peer *= *$1=[^,]*,([^,]*).*/\1/p" conf/node1.conf; }
leader=""
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
  up=0
  for i in 1 2 3; do
    check_alive "$i"
    if "$ctl" -e "$(client_endpoint "$i")" status --timeout-ms 200 >/dev/null 2>&1; then
      up=$((up + 1))
    fi
  done
  if ((up == 3)) && "$ctl" -c conf/node1.conf status --timeout-ms 200 2>/dev/null |
    grep -q " leader "; then
    leader=yes
    break
  fi
  sleep 0.1
done
[[ -n $leader ]] || fail "no leader among the 3 nodes within 20 s (logs in $data/)"

echo "== a subscriber (every node's PUB; gaps filled by fetch) waits for topic 'orders'"
"$sub" -c conf/node1.conf --topic orders --from 1 --count "$events" --idle-exit-ms 20000 \
  >"$data/subscriber.jsonl" 2>"$data/subscriber.err" &
sub_pid=$!
pids+=($sub_pid)

echo "== pushing $events events with raftlog-push (exactly-once producer 'demo', 64 in flight)"
for n in $(seq "$events"); do echo "order-$n"; done |
  "$push" -c conf/node1.conf --topic orders --producer demo --window 64 >"$data/acks.jsonl" ||
  fail "raftlog-push failed (acks in $data/acks.jsonl)"
echo "acks (each once the event is fsynced on a majority): first and last"
head -n 1 "$data/acks.jsonl"
tail -n 1 "$data/acks.jsonl"

echo "== pushing event 1 again with the same (producer, seq): the original index comes back"
"$push" -c conf/node1.conf --topic orders --producer demo --first-seq 1 order-1

for i in 1 2 3; do check_alive "$i"; done
wait "$sub_pid" || true
received=$(wc -l <"$data/subscriber.jsonl")
echo "== the subscriber received $received events; the first 3 and the last:"
head -n 3 "$data/subscriber.jsonl"
tail -n 1 "$data/subscriber.jsonl"
if ((received != events)); then
  cat "$data/subscriber.err" >&2
  fail "the subscriber received $received events, not $events"
fi

echo "== cluster status"
"$ctl" -c conf/node1.conf status

echo "== stopping the cluster"
