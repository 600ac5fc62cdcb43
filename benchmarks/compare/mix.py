#!/usr/bin/env python3
"""Combines the two halves of the mixed GET/SET workload (two redis-benchmark runs at the same time, text output).

Usage: mix.py GET.txt SET.txt
Prints one CSV line: rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms,get_rps,set_rps,get_s,set_s,get_p50_ms,get_p99_ms,
set_p50_ms,set_p99_ms

- rps is all requests of both runs over the time the longer one took (they start together): the rate at which the
  mix was served, not the sum of the two rates, which would count the shorter run's rate for the whole time.
  get_s and set_s are each run's own time (requests ÷ its req/s), so get_s/set_s show how long both ran at once.
- avg, min and max are exact (avg weighted by request count).
- p50, p95 and p99 are percentiles of the two latency distributions merged, weighted by request count. redis-benchmark
  prints each distribution as points (latency, cumulative count): the "percentile distribution" (HdrHistogram) and
  the "cumulative distribution" lists. Between points the count is interpolated linearly, so a merged percentile is
  exact at those points and approximate in between (within the spacing of the printed points).
"""
import re
import sys

POINT = re.compile(r"^\s*[\d.]+% <= ([\d.]+) milliseconds \(cumulative count (\d+)\)")
SUMMARY = re.compile(r"^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")
RPS = re.compile(r"throughput summary: ([\d.]+) requests per second")


def parse(path):
    # Progress lines are separated by carriage returns; the final report follows the last one.
    text = open(path, encoding="utf-8", errors="replace").read().replace("\r", "\n")
    points = {}
    rps = summary = None
    for line in text.splitlines():
        if m := POINT.match(line):
            latency, count = float(m.group(1)), int(m.group(2))
            points[latency] = max(points.get(latency, 0), count)
        elif m := RPS.search(line):
            rps = float(m.group(1))
        elif m := SUMMARY.match(line):
            summary = [float(v) for v in m.groups()]  # avg min p50 p95 p99 max
    if rps is None or summary is None or not points:
        sys.exit(f"mix.py: no redis-benchmark report in {path}")
    curve = sorted(points.items())
    return {"rps": rps, "avg": summary[0], "min": summary[1], "p50": summary[2], "p99": summary[4],
            "max": summary[5], "curve": curve, "count": curve[-1][1]}


def count_at(curve, x):
    """Requests with latency <= x, interpolated linearly between the printed points."""
    if x < curve[0][0]:
        return 0.0
    for (x0, c0), (x1, c1) in zip(curve, curve[1:]):
        if x <= x1:
            return c0 + (c1 - c0) * (x - x0) / (x1 - x0)
    return float(curve[-1][1])


def merged_percentile(parts, q):
    grid = sorted({x for p in parts for x, _ in p["curve"]})
    target = q * sum(p["count"] for p in parts)
    previous_x, previous_c = 0.0, 0.0
    for x in grid:
        c = sum(count_at(p["curve"], x) for p in parts)
        if c >= target:
            if c == previous_c:
                return x
            return previous_x + (x - previous_x) * (target - previous_c) / (c - previous_c)
        previous_x, previous_c = x, c
    return grid[-1]


def main(get_path, set_path):
    get, set_ = parse(get_path), parse(set_path)
    parts = [get, set_]
    total = get["count"] + set_["count"]
    get_s, set_s = get["count"] / get["rps"], set_["count"] / set_["rps"]
    avg = (get["avg"] * get["count"] + set_["avg"] * set_["count"]) / total
    fields = [total / max(get_s, set_s), avg, min(get["min"], set_["min"]),
              merged_percentile(parts, 0.50), merged_percentile(parts, 0.95), merged_percentile(parts, 0.99),
              max(get["max"], set_["max"]), get["rps"], set_["rps"], get_s, set_s,
              get["p50"], get["p99"], set_["p50"], set_["p99"]]
    print(",".join(f"{v:.3f}" for v in fields))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
