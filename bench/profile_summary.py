#!/usr/bin/env python3
"""Self time per operator in a chrome trace written by `bench_train --profile TRACE`.

    python3 bench/profile_summary.py TRACE [--top 30] [--updates N]

LibTorch's profiler records nested ranges (aten::linear contains aten::addmm, a backward node
contains its kernels); an operator's self time is its duration minus that of the ranges nested
directly inside it, per thread. Prints, most expensive first: self milliseconds per update
(--updates: the number of timed updates in the trace), share of all self time, and calls.
"""

import argparse
import collections
import json


def self_times(events):
    """{name: [self_us, calls]} from complete ('X') events, nesting resolved per thread."""
    totals = collections.defaultdict(lambda: [0.0, 0])
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append((float(e["ts"]), float(e.get("dur", 0.0)), e["name"]))
    for ranges in by_thread.values():
        ranges.sort(key=lambda r: (r[0], -r[1]))
        stack = []  # [end, name, child_us]

        def close(entry):
            end, name, child, dur = entry
            totals[name][0] += dur - child
            totals[name][1] += 1

        for start, dur, name in ranges:
            while stack and stack[-1][0] <= start:
                close(stack.pop())
            if stack:
                stack[-1][2] += dur
            stack.append([start + dur, name, 0.0, dur])
        while stack:
            close(stack.pop())
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--updates", type=int, default=1, help="timed updates in the trace")
    args = parser.parse_args()
    with open(args.trace) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    totals = self_times(events)
    all_us = sum(t[0] for t in totals.values()) or 1.0
    print(f"{'self ms/update':>14} {'share':>6} {'calls':>7}  operator")
    for name, (us, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{us / 1e3 / args.updates:14.2f} {100 * us / all_us:5.1f}% {calls // args.updates:7d}  {name}")
    print(f"{all_us / 1e3 / args.updates:14.2f} 100.0%          all")


if __name__ == "__main__":
    main()
