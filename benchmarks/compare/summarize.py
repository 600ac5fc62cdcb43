#!/usr/bin/env python3
"""Turns a run directory (facts.txt, results.csv) into a Markdown summary: medians with min-max, ratios to Redis."""
import csv
import statistics
import sys
from collections import OrderedDict
from pathlib import Path

SERVER_ORDER = ["durable", "redis", "garnet"]


def fmt_rps(value):
    return f"{value:,.0f}"


def fmt_ms(value):
    return f"{value:.3f}"


def spread(values, fmt):
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def main(run_dir):
    run = Path(run_dir)
    facts = OrderedDict()
    for line in (run / "facts.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        facts[key] = value

    rows = OrderedDict()  # workload -> server -> list of result dicts
    servers = []
    with open(run / "results.csv", newline="") as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["workload"], OrderedDict()).setdefault(r["server"], []).append(r)
            if r["server"] not in servers:
                servers.append(r["server"])
    servers.sort(key=lambda s: SERVER_ORDER.index(s) if s in SERVER_ORDER else len(SERVER_ORDER))

    out = []
    out.append(f"# redis-benchmark comparison ({facts.get('mode')} mode, {facts.get('rounds')} round(s))")
    out.append("")
    out.append(f"- Date (UTC): {facts.get('date_utc')}")
    out.append(f"- Commit: {facts.get('commit')}")
    out.append(f"- Machine: {facts.get('machine')}")
    out.append(f"- Versions: Redis {facts.get('redis')}, Garnet {facts.get('garnet')}, .NET SDK {facts.get('dotnet')}")
    out.append(f"- Load: {facts.get('benchmark')}; redis-benchmark runs on the same machine and shares its cores")
    for s in servers:
        if f"cmd_{s}" in facts:
            out.append(f"- {s}: `{facts[f'cmd_{s}']}`")
    out.append("- Persistence:")
    for s in servers:
        if f"persistence_{s}" in facts:
            out.append(f"  - {s}: {facts[f'persistence_{s}']}")
    out.append("")
    multi = int(facts.get("rounds", "1")) > 1
    note = "median (min–max) over rounds" if multi else "one round: single values, no spread"
    out.append(f"Requests per second and latency are {note}. Ratio = server's median req/s ÷ Redis's.")
    out.append("")
    out.append("| workload | server | req/s | vs Redis | p50 ms | p99 ms |")
    out.append("|---|---|---:|---:|---:|---:|")
    for workload, by_server in rows.items():
        redis_ok = [float(r["rps"]) for r in by_server.get("redis", []) if r["status"] == "ok"]
        redis_median = statistics.median(redis_ok) if redis_ok else None
        for s in servers:
            results = by_server.get(s, [])
            ok = [r for r in results if r["status"] == "ok"]
            bad = sorted({r["status"] for r in results if r["status"] != "ok"})
            if not ok:
                reason = "skipped: replies with an error (not implemented yet)" if bad == ["unsupported"] else ", ".join(bad) or "not run"
                out.append(f"| {workload} | {s} | {reason} | | | |")
                continue
            rps = [float(r["rps"]) for r in ok]
            p50 = [float(r["p50_ms"]) for r in ok]
            p99 = [float(r["p99_ms"]) for r in ok]
            ratio = f"{statistics.median(rps) / redis_median:.2f}" if redis_median else "–"
            extra = f" ({len(ok)}/{len(results)} rounds ok: {', '.join(bad)})" if bad else ""
            out.append(f"| {workload} | {s} | {spread(rps, fmt_rps)}{extra} | {ratio} | {spread(p50, fmt_ms)} | {spread(p99, fmt_ms)} |")
    unsupported = [(k[len("unsupported_"):], v) for k, v in facts.items() if k.startswith("unsupported_")]
    if unsupported:
        out.append("")
        out.append("Skipped workloads (the server's reply to a probe of the command):")
        for key, reply in sorted(unsupported):
            out.append(f"- {key.replace('_', ' ')}: `{reply}`")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
