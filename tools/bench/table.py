#!/usr/bin/env python3
"""Prints bench-compare's table (markdown) from its JSON lines: per system
and in-flight count, the medians over rounds, and raftlog's ratio to each
peer (throughput: raftlog / peer, higher is better for raftlog; latency:
raftlog / peer, lower is better)."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        runs[(r["system"], r["inflight"])].append(r)


def median(system, inflight, key):
    rs = runs.get((system, inflight))
    return statistics.median(r[key] for r in rs) if rs else None


def ms(us):
    return f"{us / 1000:.2f}" if us is not None else "-"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


print("| in flight | system | events/s | p50 ms | p99 ms | p99.9 ms "
      "| raftlog ÷ it: events/s | p50 | p99 |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for inflight in sorted({k[1] for k in runs}):
    for system in ("raftlog", "etcd", "nats"):
        if (system, inflight) not in runs:
            continue
        tput = median(system, inflight, "events_per_s")
        p50 = median(system, inflight, "p50_us")
        p99 = median(system, inflight, "p99_us")
        p999 = median(system, inflight, "p999_us")
        n = len(runs[(system, inflight)])
        cells = ["", "", ""]
        if system != "raftlog":
            cells = [ratio(median("raftlog", inflight, "events_per_s"), tput),
                     ratio(median("raftlog", inflight, "p50_us"), p50),
                     ratio(median("raftlog", inflight, "p99_us"), p99)]
        name = {"nats": "NATS JetStream"}.get(system, system)
        print(f"| {inflight} | {name} | {tput:,.0f} | {ms(p50)} | {ms(p99)} | {ms(p999)} "
              f"| {' | '.join(cells)} |")
print(f"\nMedians of {max(len(v) for v in runs.values())} runs each, "
      "in alternating order within one run of make bench-compare.")
