#!/usr/bin/env python3
"""Prints tools/bench/growth.sh's results (JSON lines) as markdown tables."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]


def table(figure, key, label):
    rs = [r for r in rows if r.get("figure") == figure]
    if not rs:
        return
    print(f"\n| {label} | events/s | MB/s | ack p50 ms | ack p99 ms | e2e p50 ms | e2e p99 ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rs:
        print(f"| {key(r)} | {r['events_per_s']:,.0f} | {r['mb_per_s']:.1f} "
              f"| {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} "
              f"| {r['e2e_p50_us'] / 1000:.2f} | {r['e2e_p99_us'] / 1000:.2f} |")


table("payload", lambda r: f"{r['payload']} B", "payload")
table("nodes", lambda r: r["nodes"], "nodes")
table("subscribers", lambda r: r["subscribers"], "subscribers")
table("max", lambda r: f"{r['producers']} x {r['window']}", "producers x window")
table("half-max-open-loop", lambda r: f"{r['rate']:,.0f}/s offered", "open loop")
table("one-in-flight", lambda r: "1 x 1", "in flight")
rec = [r for r in rows if r.get("figure") == "recovery"]
if rec:
    print("\n| entries | fill events/s | catch-up s | catch-up entries/s | catch-up MB/s "
          "| restart s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rec:
        print(f"| {r['entries']:,} | {r['fill_per_s']:,.0f} | {r['catchup_s']:.2f} "
              f"| {r['catchup_per_s']:,.0f} | {r['catchup_mb_per_s']:.1f} | {r['restart_s']:.2f} |")
