#!/usr/bin/env python3
"""Turns a run directory into a Markdown summary: medians with min-max and ratios to Redis.

Usage: summarize.py DIR
DIR is one scenario's folder (facts.txt, results.csv, and mix.csv or recovery.csv when it has them), or the folder of
`run.sh --all`, whose scenario subfolders are summarized one after the other.
"""
import csv
import statistics
import sys
from collections import OrderedDict
from pathlib import Path

SERVER_ORDER = ["durable", "redis", "garnet"]
TITLES = OrderedDict([
    ("throughput-memory", "In memory: as little persistence as each server allows"),
    ("throughput-fsync", "Durable writes: each server's strongest fsync setting"),
    ("throughput-default", "Default durability: each server's default persistence (Redis: AOF everysec + RDB)"),
    ("larger-than-ram", "Larger than RAM: key space ten times the memory budget"),
    ("recovery", "Recovery time: SIGKILL, then restart on the same data"),
])


def fmt_rps(value):
    return f"{value:,.0f}"


def fmt_ms(value):
    return f"{value:.3f}"


def fmt_s(value):
    return f"{value:.2f}"


def spread(values, fmt):
    if not values:
        return "–"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def ordered(servers):
    return sorted(servers, key=lambda s: SERVER_ORDER.index(s) if s in SERVER_ORDER else len(SERVER_ORDER))


def read_csv(path):
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def floats(rows, field):
    return [float(r[field]) for r in rows if r.get(field)]


def throughput_table(rows, servers):
    by_workload = OrderedDict()  # workload -> server -> list of result rows
    for r in rows:
        by_workload.setdefault(r["workload"], OrderedDict()).setdefault(r["server"], []).append(r)
    out = ["| workload | server | req/s | vs Redis | p50 ms | p99 ms |", "|---|---|---:|---:|---:|---:|"]
    for workload, by_server in by_workload.items():
        redis_ok = floats([r for r in by_server.get("redis", []) if r["status"] == "ok"], "rps")
        redis_median = statistics.median(redis_ok) if redis_ok else None
        for s in servers:
            results = by_server.get(s, [])
            ok = [r for r in results if r["status"] == "ok"]
            bad = sorted({r["status"] for r in results if r["status"] != "ok"})
            if not ok:
                reason = "skipped: replies with an error (not implemented yet)" if bad == ["unsupported"] else ", ".join(bad) or "not run"
                out.append(f"| {workload} | {s} | {reason} | | | |")
                continue
            rps = floats(ok, "rps")
            ratio = f"{statistics.median(rps) / redis_median:.2f}" if redis_median else "–"
            extra = f" ({len(ok)}/{len(results)} rounds ok: {', '.join(bad)})" if bad else ""
            out.append(f"| {workload} | {s} | {spread(rps, fmt_rps)}{extra} | {ratio} | "
                       f"{spread(floats(ok, 'p50_ms'), fmt_ms)} | {spread(floats(ok, 'p99_ms'), fmt_ms)} |")
    return out


def mix_table(rows, servers):
    out = ["The two halves of the mixed workload (medians). Each half's req/s is over its own run; both ran at once "
           "for the shorter run's time (\"overlap\", as a share of the longer run's).", "",
           "| workload | server | GET req/s | SET req/s | overlap | GET p50 / p99 ms | SET p50 / p99 ms |",
           "|---|---|---:|---:|---:|---:|---:|"]
    workloads = list(OrderedDict.fromkeys(r["workload"] for r in rows))
    for workload in workloads:
        for s in servers:
            mine = [r for r in rows if r["workload"] == workload and r["server"] == s]
            if not mine:
                continue
            med = {k: statistics.median(floats(mine, k)) for k in mine[0] if k.endswith(("_rps", "_s", "_ms"))}
            overlap = min(med["get_s"], med["set_s"]) / max(med["get_s"], med["set_s"])
            out.append(f"| {workload} | {s} | {fmt_rps(med['get_rps'])} | {fmt_rps(med['set_rps'])} | {overlap:.0%} | "
                       f"{fmt_ms(med['get_p50_ms'])} / {fmt_ms(med['get_p99_ms'])} | "
                       f"{fmt_ms(med['set_p50_ms'])} / {fmt_ms(med['set_p99_ms'])} |")
    return out


def recovery_table(rows, servers):
    out = ["Seconds from the restart (process start) to: the port accepting connections, the first GET of the last key "
           "loaded returning its value, and DBSIZE reporting every key. Ratio = server's time to all keys ÷ Redis's "
           "(lower is faster).", "",
           "| phase | server | on disk | accepts connections | first GET | all keys | keys/s | vs Redis | result |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for phase in OrderedDict.fromkeys(r["phase"] for r in rows):
        in_phase = {r["server"]: r for r in rows if r["phase"] == phase}
        redis_loaded = float(in_phase["redis"]["loaded_s"]) if in_phase.get("redis", {}).get("loaded_s") else None
        for s in servers:
            r = in_phase.get(s)
            if r is None:
                out.append(f"| {phase} | {s} | | | | | | | not run (did not recover in the previous phase) |")
                continue
            loaded = float(r["loaded_s"]) if r["loaded_s"] else None
            rate = fmt_rps(int(r["keys"]) / loaded) if loaded else "–"
            ratio = f"{loaded / redis_loaded:.2f}" if loaded and redis_loaded else "–"
            cells = [r[k] or "–" for k in ("listen_s", "first_get_s", "loaded_s")]
            result = r["status"] if r["status"] != "ok" else f"ok ({r['dbsize']} keys)"
            if r["loading_replies"] != "0":
                result += f", {r['loading_replies']} -LOADING replies"
            out.append(f"| {phase} | {s} | {r['disk_mib']} MiB | {' | '.join(cells)} | {rate} | {ratio} | {result} |")
    return out


def summarize(run, level="#"):
    facts = OrderedDict()
    for line in (run / "facts.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        facts[key] = value
    scenario = facts.get("scenario", run.name)
    results = read_csv(run / "results.csv")
    mix = read_csv(run / "mix.csv")
    recovery = read_csv(run / "recovery.csv")
    servers = ordered({r["server"] for r in results + recovery} | {k[4:] for k in facts if k.startswith("cmd_")})

    out = [f"{level} {TITLES.get(scenario, scenario)} ({facts.get('mode')} mode, {facts.get('rounds')} round(s))", ""]
    out.append(f"- Date (UTC): {facts.get('date_utc')}; load average (1/5/15 min) at start {facts.get('load_start')}, "
               f"at end {facts.get('load_end')}")
    out.append(f"- Commit: {facts.get('commit')}")
    out.append(f"- Machine: {facts.get('machine')}")
    out.append(f"- Versions: Redis {facts.get('redis')}, Garnet {facts.get('garnet')}, .NET SDK {facts.get('dotnet')}")
    out.append(f"- Load: {facts.get('benchmark')}")
    for s in servers:
        if f"cmd_{s}" in facts:
            out.append(f"- {s}: `{facts[f'cmd_{s}']}`")
    out.append("- Settings:")
    for s in servers:
        if f"persistence_{s}" in facts:
            out.append(f"  - {s}: {facts[f'persistence_{s}']}")
    for s in servers:
        if f"after_load_{s}" in facts:
            out.append(f"- {s} after loading: {facts[f'after_load_{s}']}")
    out.append("")
    if results:
        multi = int(facts.get("rounds", "1")) > 1
        note = "median (min–max) over rounds" if multi else "one round: single values, no spread"
        out.append(f"Requests per second and latency are {note}. Ratio = server's median req/s ÷ Redis's.")
        out.append("")
        out.extend(throughput_table(results, servers))
    if mix:
        out.append("")
        out.extend(mix_table(mix, servers))
    if recovery:
        out.extend(recovery_table(recovery, servers))
    unsupported = [(k[len("unsupported_"):], v) for k, v in facts.items() if k.startswith("unsupported_")]
    if unsupported:
        out.append("")
        out.append("Skipped workloads (the server's reply to a probe of the command):")
        for key, reply in sorted(unsupported):
            out.append(f"- {key.replace('_', ' ')}: `{reply}`")
    return "\n".join(out)


def main(run_dir):
    run = Path(run_dir)
    if (run / "facts.txt").exists():
        print(summarize(run))
        return
    parts = [run / name for name in TITLES if (run / name / "facts.txt").exists()]
    print("# Durable vs Redis vs Garnet: all scenarios\n")
    print("\n\n".join(summarize(part, "##") for part in parts))


if __name__ == "__main__":
    main(sys.argv[1])
