#!/usr/bin/env bash
# What a cold GET costs the server: CPU (utime + stime, /proc/PID/stat) and context switches (summed over
# /proc/PID/task/*/status) per GET, for each build given, run in turn; with --perf, a `perf record -g` of each run
# (DOTNET_PerfMapEnabled=1 for .NET frames) and the top of `perf report --children`. Needs root (drop_caches) and a
# data directory filled by `keyspace.sh --keep`. Each run: start, 120,000 unmeasured GETs (JIT), drop caches, SECONDS
# of `redis-benchmark -t get -r KEYS -c C -P P` (GETs counted by INFO's durable_pending_reads).
# Usage: benchmarks/compare/coldprofile.sh --dir DIR [--dll PATH]... [-c 16] [-P 1] [--seconds 10] [--keys 20000000]
#                                          [--memory 256mb] [--perf] [--rounds 1]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir=""
dlls=()
clients=16
pipeline=1
seconds=10
keys=20000000
memory=256mb
perf=0
rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift ;;
    --dll) dlls+=("$2"); shift ;;
    -c) clients="$2"; shift ;;
    -P) pipeline="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --keys) keys="$2"; shift ;;
    --memory) memory="$2"; shift ;;
    --perf) perf=1 ;;
    --rounds) rounds="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "coldprofile.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -d "$dir/log" ] || { echo "coldprofile.sh: --dir must be a Durable data directory (see keyspace.sh --keep)" >&2; exit 2; }
[ ${#dlls[@]} -gt 0 ] || dlls=("$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll")
out="$repo/artifacts/coldprofile/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true' EXIT

say() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*"; }
switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
ticks() { awk '{print $14 + $15}' /proc/"$pid"/stat; }
pending() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1 == "durable_pending_reads" {print $2}'; }

for round in $(seq 1 "$rounds"); do
  for dll in "${dlls[@]}"; do
    name="$(basename "$(dirname "$dll")")"
    label="$out/r$round-$name-c$clients-P$pipeline"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    DOTNET_PerfMapEnabled=$perf DOTNET_EnableWriteXorExecute=$((1 - perf)) dotnet "$dll" --bind 127.0.0.1 --port "$port" \
      --dir "$dir" --memory "$memory" --appendfsync no --loglevel warning >"$label.log" 2>&1 &
    pid=$!
    until timeout 2 redis-cli -p "$port" DBSIZE 2>/dev/null | grep -Eq '^[0-9]+$'; do
      kill -0 $pid 2>/dev/null || { echo "durable-server exited; see $label.log" >&2; exit 1; }
      sleep 0.2
    done
    timeout 300 redis-benchmark -p "$port" -t get -n 100000 -c 4 -P 16 -r "$keys" -q >/dev/null
    timeout 300 redis-benchmark -p "$port" -t get -n 20000 -c 16 -P 1 -r "$keys" -q >/dev/null
    sync; echo 3 >/proc/sys/vm/drop_caches
    s0=$(switches); t0=$(ticks); g0=$(pending); b0=$(date +%s.%N)
    recorder=""
    if [ "$perf" = 1 ]; then
      perf record -F 999 -g -p $pid -o "$label.perf.data" -- sleep "$seconds" >/dev/null 2>&1 &
      recorder=$!
    fi
    timeout "$seconds" redis-benchmark -p "$port" -t get -n 100000000 -c "$clients" -P "$pipeline" -r "$keys" -q >/dev/null 2>&1 || true
    s1=$(switches); t1=$(ticks); g1=$(pending); b1=$(date +%s.%N)
    [ -n "$recorder" ] && wait "$recorder"
    n=$((g1 - g0))
    say "$name -c $clients -P $pipeline: $n GETs in $(echo "scale=1; $b1 - $b0" | bc) s, $(echo "$n / ($b1 - $b0)" | bc) GET/s;" \
      "server CPU $(echo "scale=1; ($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $n" | bc) us/GET;" \
      "context switches/GET $(echo "scale=2; ($s1 - $s0) / $n" | bc)"
    kill $pid; wait $pid 2>/dev/null || true; pid=""
    if [ "$perf" = 1 ]; then
      perf report -i "$label.perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
        sed 's/  */ /g' | cut -c1-200 | head -60 >"$label.perf.txt" || true
      echo "  top of perf report --children: $label.perf.txt"
    fi
  done
done
