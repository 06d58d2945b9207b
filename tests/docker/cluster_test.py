#!/usr/bin/env python3
"""make docker-test: docker/compose.yaml's cluster, tested for real.

Builds the image (and the base image first when the engine lacks it: docker
pull, else docker/make-base-image), brings the compose project up under a
project name of its own, and then:

1. waits (polling, with a deadline) until the three nodes are healthy;
2. checks the ports published on 127.0.0.1 from the host (a node's client
   endpoint answers a status request, the broker's XPUB streams);
3. pushes EVENTS events (10,000) through the producer container with
   raftlog-push, and checks that the subscriber container printed every
   acked event once, in order, and every event of the log with no gap;
4. kills the leader's container while events are being pushed: the push
   goes on through the other two nodes, every event is acked and the
   subscriber stays gap-free; then starts it again and waits until its
   commit and applied indexes reach the others';
5. stops the subscriber container, pushes more, starts it again: it resumes
   from its position file (in its volume) with no gap and no duplicate.

It always tears the project down (`down -v`: containers, network, volumes),
also on failure or interruption, and checks nothing of it is left. The
images stay, as a cache (tagged raftlog:docker-test). It prints the
timings it measured. Exit status 0 when every check passed.

Environment: RAFTLOG_TEST_EVENTS (default 10000), RAFTLOG_TEST_IMAGE
(default raftlog:docker-test), RAFTLOG_BASE_IMAGE (default
debian:bookworm-slim), RAFTLOG_BUILD_JOBS (compile jobs in the image build,
default 2; make docker-test passes its JOBS).
"""

import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPOSE_FILE = os.path.join(ROOT, "docker", "compose.yaml")
OUT = os.path.join(ROOT, "build-docker-test")  # logs of the run (ignored by git and docker)
EVENTS = int(os.environ.get("RAFTLOG_TEST_EVENTS", "10000"))
IMAGE = os.environ.get("RAFTLOG_TEST_IMAGE", "raftlog:docker-test")
BASE_IMAGE = os.environ.get("RAFTLOG_BASE_IMAGE", "debian:bookworm-slim")
BUILD_JOBS = os.environ.get("RAFTLOG_BUILD_JOBS", "2")
NODES = ("node1", "node2", "node3")
CLUSTER_CONF = "/etc/raftlog/cluster.conf"  # in the producer container
SUB_POSITION = "/var/lib/raftlog/subscriber.position"  # in the subscriber container

T0 = time.monotonic()
timings = []  # (what, seconds, detail)


class Failure(Exception):
    pass


def log(msg):
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


def timing(what, seconds, detail=""):
    timings.append((what, seconds, detail))
    log(f"TIMING {what}: {seconds:.1f} s{'  (' + detail + ')' if detail else ''}")


def run(cmd, check=True, timeout=120, input=None, env=None):
    """Runs cmd; returns (returncode, stdout, stderr) as text."""
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                           env=env)
    except subprocess.TimeoutExpired:
        raise Failure(f"{' '.join(cmd)}: still running after {timeout} s")
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p.returncode, p.stdout, p.stderr


def wait_for(what, deadline_s, probe, every=0.5):
    """Calls probe() until it returns something true, at most deadline_s seconds."""
    deadline = time.monotonic() + deadline_s
    last = None
    while True:
        try:
            result = probe()
        except Failure as e:
            result, last = None, e
        if result:
            return result
        if time.monotonic() >= deadline:
            raise Failure(f"{what}: not within {deadline_s} s" + (f" (last error: {last})" if last else ""))
        time.sleep(every)


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def compose_command():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if subprocess.run(["docker-compose", "version"], capture_output=True).returncode == 0:
        return ["docker-compose"]
    raise Failure("neither `docker compose` nor `docker-compose` works")


class Cluster:
    def __init__(self):
        self.project = f"raftlogtest{os.getpid()}{random.randrange(16**4):04x}"
        self.compose_cmd = compose_command()
        ports = free_ports(4)
        self.ports = dict(zip(("node1", "node2", "node3", "broker"), ports))
        self.env = dict(os.environ, RAFTLOG_IMAGE=IMAGE,
                        RAFTLOG_NODE1_PORT=str(ports[0]), RAFTLOG_NODE2_PORT=str(ports[1]),
                        RAFTLOG_NODE3_PORT=str(ports[2]), RAFTLOG_BROKER_PORT=str(ports[3]))
        self.ids = {}

    def compose(self, *args, timeout=300, check=True):
        cmd = self.compose_cmd + ["-f", COMPOSE_FILE, "-p", self.project] + list(args)
        return run(cmd, timeout=timeout, env=self.env, check=check)

    def cid(self, service):
        """The service's container (by compose's labels: any compose version, running or not)."""
        if service not in self.ids:
            _, out, _ = run(["docker", "ps", "-a", "-q",
                             "--filter", f"label=com.docker.compose.project={self.project}",
                             "--filter", f"label=com.docker.compose.service={service}"])
            ids = out.split()
            if len(ids) != 1:
                raise Failure(f"{service}: expected one container, found {len(ids)}")
            self.ids[service] = ids[0]
        return self.ids[service]

    def health(self, service):
        _, out, _ = run(["docker", "inspect", "-f",
                         "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                         self.cid(service)])
        return out.strip()

    def exec(self, service, *cmd, input=None, timeout=120, check=True):
        args = ["docker", "exec"] + (["-i"] if input is not None else []) + [self.cid(service)]
        return run(args + list(cmd), input=input, timeout=timeout, check=check)

    def status(self, *services, via="producer"):
        """{node id: status} of the nodes that answer, asked from inside the network."""
        endpoints = []
        for s in services or NODES:
            endpoints += ["-e", f"tcp://{s}:7101"]
        _, out, _ = self.exec(via, "raftlog-ctl", *endpoints, "status", "--json",
                              "--timeout-ms", "1000", check=False)
        try:
            nodes = json.loads(out)
        except ValueError:
            raise Failure(f"raftlog-ctl status --json printed {out!r}")
        return {n["id"]: n for n in nodes if "error" not in n}

    def leader(self, *services):
        """(node id, term) of the leader the answering nodes agree on, else None."""
        st = self.status(*services)
        leaders = [n for n in st.values() if n["role"] == "leader"]
        if len(leaders) != 1:
            return None
        l = leaders[0]
        if any(n["term"] == l["term"] and n["leader"] != l["id"] for n in st.values()):
            return None
        return l["id"], l["term"]

    def subscriber_output(self):
        """Every line the subscriber container printed, across its restarts."""
        _, out, _ = run(["docker", "logs", self.cid("subscriber")], timeout=120)
        events = []
        for line in out.splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except ValueError:
                    raise Failure(f"subscriber printed a line that is not JSON: {line!r}")
        return events

    def log_events(self, upto):
        """The events of the committed log up to index upto, fetched from a node."""
        events, index = [], 1
        while index <= upto:
            for node in NODES:
                code, out, _ = self.exec(node, "raftlog-ctl", "-e", "tcp://127.0.0.1:7101", "fetch",
                                         "--from", str(index), "--max-count", "5000", check=False)
                if code == 0:
                    break
            else:
                raise Failure(f"no node serves a fetch from {index}")
            entries = [json.loads(l) for l in out.splitlines() if l.strip()]
            if not entries:
                raise Failure(f"fetch from {index} returned nothing")
            for e in entries:
                if e["index"] > upto:
                    break
                if "type" not in e:
                    events.append(e)
            index = entries[-1]["index"] + 1
        return events

    def teardown(self):
        log(f"tearing down compose project {self.project}")
        try:
            self.compose("down", "-v", "--remove-orphans", "-t", "10", timeout=300, check=False)
        except Failure as e:
            log(f"teardown: {e}")
        left = []
        for kind in ("ps -a", "network ls", "volume ls"):
            _, out, _ = run(["docker"] + kind.split() + ["-q", "--filter",
                            f"label=com.docker.compose.project={self.project}"], check=False)
            if out.split():
                left.append(f"{kind}: {' '.join(out.split())}")
        if left:
            log("teardown LEFT BEHIND: " + "; ".join(left))
            return False
        log("teardown: no container, network or volume of the project is left")
        return True

    def diagnose(self):
        os.makedirs(OUT, exist_ok=True)
        _, out, err = self.compose("ps", check=False, timeout=60)
        print(out + err, file=sys.stderr)
        for service in NODES + ("broker", "producer", "subscriber"):
            try:
                _, out, err = run(["docker", "logs", "--tail", "3000", self.cid(service)], check=False)
            except Failure as e:
                print(f"{service}: {e}", file=sys.stderr)
                continue
            path = os.path.join(OUT, f"{service}.log")
            with open(path, "w") as f:
                f.write(out + err)
            tail = (err if service != "subscriber" else err + out).splitlines()[-15:]
            print(f"--- {service} (whole log in {os.path.relpath(path, ROOT)}), last lines:",
                  file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)


# ---- checks ----

def check_stream(events, log_events, pushed):
    """events: what the subscriber printed; log_events: the log's events up to
    the last printed; pushed: {producer: {seq: index}} acked by our pushes."""
    indexes = [e["index"] for e in events]
    seen = set()
    for a, b in zip([0] + indexes, indexes):
        if b in seen:
            raise Failure(f"subscriber printed index {b} twice")
        if b < a:
            raise Failure(f"subscriber printed index {b} after {a}")
        seen.add(b)
    # It started at index 1 (--from 1): it must have printed every event of
    # the log up to the last one it printed, and nothing else.
    expected = [e["index"] for e in log_events]
    if indexes != expected:
        missing = sorted(set(expected) - seen)
        extra = sorted(seen - set(expected))
        raise Failure(f"subscriber output differs from the log: {len(missing)} missing "
                      f"{missing[:10]}, {len(extra)} not in the log {extra[:10]}")
    by_producer = {}
    for e in events:
        by_producer.setdefault(e.get("producer"), []).append(e)
    for producer, acks in pushed.items():
        got = by_producer.get(producer, [])
        seqs = [e["seq"] for e in got]
        want = sorted(acks)
        if seqs != want:
            raise Failure(f"producer {producer}: subscriber printed {len(seqs)} events, "
                          f"{len(want)} acked; first difference at "
                          f"{next((i for i, (a, b) in enumerate(zip(seqs, want)) if a != b), min(len(seqs), len(want)))}")
        for e in got:
            if e["index"] != acks[e["seq"]]:
                raise Failure(f"producer {producer} seq {e['seq']}: printed at index {e['index']}, "
                              f"acked at {acks[e['seq']]}")


def wait_subscriber(cluster, pushed, deadline_s=180):
    """Waits until the subscriber printed every acked event, then checks its
    whole output against the log."""
    want = {(p, s) for p, acks in pushed.items() for s in acks}

    def probe():
        events = cluster.subscriber_output()
        got = {(e.get("producer"), e.get("seq")) for e in events}
        return events if want <= got else None

    events = wait_for("the subscriber printing every acked event", deadline_s, probe, every=1)
    check_stream(events, cluster.log_events(events[-1]["index"]), pushed)
    return events


def parse_acks(out, n):
    acks = {}
    for line in out.splitlines():
        a = json.loads(line)
        if a["seq"] in acks:
            raise Failure(f"seq {a['seq']} acked twice")
        acks[a["seq"]] = a["index"]
    if sorted(acks) != list(range(1, n + 1)):
        raise Failure(f"{len(acks)} acks for {n} events")
    return acks


def push(cluster, producer, payloads, window=256):
    code, out, err = cluster.exec(
        "producer", "raftlog-push", "-c", CLUSTER_CONF, "--topic", "test", "--producer", producer,
        "--window", str(window), input="".join(p + "\n" for p in payloads), timeout=600, check=False)
    if code != 0:
        raise Failure(f"raftlog-push exited {code}: {err[-2000:]}")
    return parse_acks(out, len(payloads))


# ---- ZMTP 3.0 from the host, to check the published ports (no library needed) ----

def zmtp_connect(port, socket_type):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    greeting = b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + b"\0" * 32
    s.sendall(greeting)
    peer = recv_exact(s, 64)
    if peer[0] != 0xFF or peer[9] != 0x7F:
        raise Failure(f"127.0.0.1:{port}: not a ZeroMQ peer")
    name = b"Socket-Type"
    ready = b"\x05READY" + bytes([len(name)]) + name + struct.pack(">I", len(socket_type)) + socket_type
    s.sendall(b"\x04" + bytes([len(ready)]) + ready)
    flags, _ = recv_frame(s)
    if not flags & 0x04:
        raise Failure(f"127.0.0.1:{port}: no READY command")
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise Failure("connection closed")
        data += chunk
    return data


def recv_frame(s):
    flags = recv_exact(s, 1)[0]
    size = struct.unpack(">Q", recv_exact(s, 8))[0] if flags & 0x02 else recv_exact(s, 1)[0]
    return flags, recv_exact(s, size)


def check_host_ports(cluster):
    # A status request ([1, 7, "status", {}] in msgpack) to each node's
    # published client endpoint: the reply is [1, 7, "ok", {...}].
    for node in NODES:
        port = cluster.ports[node]
        s = zmtp_connect(port, b"DEALER")
        request = b"\x94\x01\x07\xa6status\x80"
        s.sendall(b"\x00" + bytes([len(request)]) + request)
        _, reply = recv_frame(s)
        s.close()
        if not reply.startswith(b"\x94\x01\x07\xa2ok") or b"role" not in reply:
            raise Failure(f"{node}'s client endpoint on 127.0.0.1:{port}: unexpected reply {reply[:40]!r}")
    # The broker's XPUB: subscribe to everything; the nodes' heartbeats come through.
    port = cluster.ports["broker"]
    s = zmtp_connect(port, b"SUB")
    s.sendall(b"\x00\x01\x01")  # ZMTP 3.0 subscription: 0x01 and an empty prefix
    recv_frame(s)
    s.close()
    log(f"host: client endpoints on 127.0.0.1:{cluster.ports['node1']},{cluster.ports['node2']},"
        f"{cluster.ports['node3']} answer status; the broker's XPUB on 127.0.0.1:{port} streams")


# ---- the scenario ----

def build_images():
    code, _, _ = run(["docker", "image", "inspect", BASE_IMAGE], check=False)
    if code != 0:
        # As docker build would, first; an engine without registry access
        # gets it made from Debian packages instead.
        log(f"{BASE_IMAGE} is missing: docker pull")
        code, _, err = run(["docker", "pull", "-q", BASE_IMAGE], check=False, timeout=600)
    if code != 0:
        log(f"cannot pull it ({err.strip().splitlines()[-1] if err.strip() else 'no reason given'}): "
            "docker/make-base-image")
        os.makedirs(OUT, exist_ok=True)
        path = os.path.join(OUT, "base-image.log")
        log(f"output in {os.path.relpath(path, ROOT)}")
        t = time.monotonic()
        with open(path, "w") as f:
            p = subprocess.run([os.path.join(ROOT, "docker", "make-base-image"), BASE_IMAGE],
                               stdout=f, stderr=subprocess.STDOUT)
        with open(path) as f:
            lines = f.readlines()
        if p.returncode != 0:
            sys.stderr.write("".join(lines[-40:]))
            raise Failure("docker/make-base-image failed")
        log(lines[-1].strip() if lines else "docker/make-base-image printed nothing")
        timing("base image build (debootstrap + import)", time.monotonic() - t)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "image-build.log")
    log(f"building {IMAGE} (docker build; output in {os.path.relpath(path, ROOT)})")
    t = time.monotonic()
    with open(path, "w") as f:
        p = subprocess.run(["docker", "build", "-f", "docker/Dockerfile", "-t", IMAGE,
                            "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
                            "--build-arg", f"JOBS={BUILD_JOBS}", "."],
                           cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        with open(path) as f:
            sys.stderr.write("".join(f.readlines()[-40:]))
        raise Failure("docker build failed")
    timing("image build", time.monotonic() - t)


def scenario(cluster):
    log(f"compose project {cluster.project} ({' '.join(cluster.compose_cmd)}), host ports "
        + ", ".join(f"{k} {v}" for k, v in cluster.ports.items()))
    t = time.monotonic()
    cluster.compose("up", "-d", "--no-build", timeout=300)

    def all_healthy():
        states = {n: cluster.health(n) for n in NODES}
        for n, st in states.items():
            if not st.startswith("running"):
                raise Failure(f"{n} is {st}")
        return all(st == "running healthy" for st in states.values())

    wait_for("the three nodes healthy", 180, all_healthy)
    timing("cluster up to three healthy nodes", time.monotonic() - t)
    for s in ("broker", "producer", "subscriber"):
        wait_for(f"{s} running", 60, lambda: cluster.health(s).startswith("running"))
    check_host_ports(cluster)

    # 1. EVENTS events through the producer container.
    pushed = {}
    producer = f"test-{cluster.project}-a"
    log(f"pushing {EVENTS} events (raftlog-push in the producer container, topic test)")
    t = time.monotonic()
    pushed[producer] = push(cluster, producer, [f"a-{n}" for n in range(1, EVENTS + 1)])
    dt = time.monotonic() - t
    timing(f"push of {EVENTS} events, all acked", dt, f"{EVENTS / dt:.0f} events/s")
    events = wait_subscriber(cluster, pushed)
    log(f"subscriber: {len(events)} events printed, every acked one once and in order, "
        f"and every event of the log up to index {events[-1]['index']}")

    # 2. The leader's container killed in the middle of a push.
    leader, term = wait_for("a leader", 30, cluster.leader)
    victim = f"node{leader}"
    others = [n for n in NODES if n != victim]
    n_b, rate = 4000, 500.0
    producer_b = f"test-{cluster.project}-b"
    log(f"leader is {victim} (term {term}); pushing {n_b} events at {rate:.0f}/s and killing it")
    proc = subprocess.Popen(
        ["docker", "exec", "-i", cluster.cid("producer"), "raftlog-push", "-c", CLUSTER_CONF,
         "--topic", "test", "--producer", producer_b, "--window", "256"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ack_times = []
    ack_lines = []

    def read_acks():
        for line in proc.stdout:
            ack_times.append(time.monotonic())
            ack_lines.append(line)

    err_chunks = []
    reader = threading.Thread(target=read_acks, daemon=True)
    err_reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    err_reader.start()
    start = time.monotonic()
    killed_at = None
    for n in range(1, n_b + 1):
        due = start + n / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        proc.stdin.write(f"b-{n}\n")
        proc.stdin.flush()
        if killed_at is None and n >= n_b // 4:
            run(["docker", "kill", cluster.cid(victim)])
            killed_at = time.monotonic()
            log(f"killed {victim} (docker kill) after {n} events written")
    proc.stdin.close()
    try:
        proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("raftlog-push during the failover did not finish within 300 s")
    reader.join(10)
    err_reader.join(10)
    if proc.returncode != 0:
        raise Failure(f"raftlog-push during the failover exited {proc.returncode}: "
                      f"{''.join(err_chunks)[-2000:]}")
    pushed[producer_b] = parse_acks("".join(ack_lines), n_b)
    new_leader, new_term = wait_for("a new leader among the other two", 30,
                                    lambda: cluster.leader(*others))
    if f"node{new_leader}" == victim:
        raise Failure("the killed node is reported leader")
    after = [t for t in ack_times if t > killed_at]
    if not after:
        raise Failure("no event was acked after the leader was killed")
    stall = max(b - a for a, b in zip([killed_at] + after, after))
    log(f"new leader node{new_leader} (term {new_term}); {len(after)} of {n_b} events acked "
        f"after the kill, by the other two nodes")
    timing("failover: longest wait for an ack after the leader was killed", stall,
           f"push of {n_b} at {rate:.0f}/s completed, all acked")
    events = wait_subscriber(cluster, pushed)
    log(f"subscriber: gap-free through the failover ({len(events)} events)")

    # 3. The killed node starts again and catches up.
    t = time.monotonic()
    run(["docker", "start", cluster.cid(victim)])
    target = max(n["commit_index"] for n in cluster.status(*others).values())

    def caught_up():
        st = cluster.status(victim)
        n = st.get(leader)
        return n and n["commit_index"] >= target and n["applied_index"] >= target and n

    n = wait_for(f"{victim} catching up to index {target}", 180, caught_up)
    timing(f"{victim} restarted to caught up (commit/applied >= {target})", time.monotonic() - t,
           f"commit {n['commit_index']}, applied {n['applied_index']}")
    wait_for(f"{victim} healthy again", 120, lambda: cluster.health(victim) == "running healthy")
    final = cluster.status()
    line = ", ".join(f"node{i}: {s['role']} commit {s['commit_index']} applied {s['applied_index']}"
                     for i, s in sorted(final.items()))
    log(f"status: {line}")

    # 4. The subscriber stopped, events pushed meanwhile, started again.
    before = cluster.subscriber_output()
    t = time.monotonic()
    run(["docker", "stop", "-t", "10", cluster.cid("subscriber")])
    position = read_position(cluster)
    last_printed = cluster.subscriber_output()[-1]["index"]
    if position != last_printed:
        raise Failure(f"position file holds {position}, the subscriber printed up to {last_printed}")
    producer_c = f"test-{cluster.project}-c"
    pushed[producer_c] = push(cluster, producer_c, [f"c-{n}" for n in range(1, 1001)])
    run(["docker", "start", cluster.cid("subscriber")])
    events = wait_subscriber(cluster, pushed)
    resumed = [e for e in events if e["index"] > position]
    timing("subscriber stop, 1000 pushed, start, caught up", time.monotonic() - t)
    log(f"subscriber: resumed after index {position} (its position file) with index "
        f"{resumed[0]['index']}; {len(events) - len(before)} more events, none missing, "
        "none twice")


def read_position(cluster):
    """The subscriber's position file, read from its (stopped) container."""
    p = subprocess.run(["docker", "cp", f"{cluster.cid('subscriber')}:{SUB_POSITION}", "-"],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise Failure(f"docker cp of the position file: {p.stderr.decode(errors='replace')}")
    # A tar stream of one small file: 512 bytes of header, then the content.
    size = int(p.stdout[124:136].strip(b"\0 ") or b"0", 8)
    return int(p.stdout[512:512 + size].decode().strip())


def main():
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    os.chdir(ROOT)
    ok = False
    cluster = None
    try:
        build_images()
        cluster = Cluster()
        scenario(cluster)
        ok = True
    except Failure as e:
        log(f"FAILED: {e}")
        if cluster is not None:
            cluster.diagnose()
    except KeyboardInterrupt as e:
        log(f"interrupted ({e})")
    except Exception:  # a bug here, or an unexpected answer: still diagnosed and torn down
        log("FAILED: unexpected error")
        traceback.print_exc()
        if cluster is not None:
            cluster.diagnose()
    finally:
        clean = cluster.teardown() if cluster is not None else True
    print("\ntimings:")
    for what, seconds, detail in timings:
        print(f"  {what:<60} {seconds:7.1f} s  {detail}")
    print(f"  {'whole test':<60} {time.monotonic() - T0:7.1f} s")
    if ok and clean:
        print("docker-test: PASSED")
        return 0
    print("docker-test: FAILED", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
