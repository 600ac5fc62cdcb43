#!/usr/bin/env bash
# FLUSHALL on a data set larger than the memory budget: for each server (every --dll given, then redis-server), loads N
# keys x 100 B (keyed_sets.py), starts a GET load from other clients (redis-benchmark -c 4 -P 1 over the key space), then
# times FLUSHALL MODE (SYNC or ASYNC) as its client sees it, the time until the server has deleted the old records (INFO
# lazyfree_pending_objects and durable_lazyfree_pending_databases back to 0), and the GET load's req/s over the run (a
# server stalled by the flush serves none meanwhile).
# Usage: benchmarks/compare/flush.sh [--keys 1500000] [--memory 64mb] [--mode SYNC|ASYNC] [--dll PATH]... [--no-redis] [--out DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
keys=1500000
memory=64mb
mode=SYNC
dlls=()
redis=yes
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift ;;
    --memory) memory="$2"; shift ;;
    --mode) mode="$2"; shift ;;
    --dll) dlls+=("$2"); shift ;;
    --no-redis) redis=no ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "flush.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

out="${out:-$repo/artifacts/flush/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
if [ ${#dlls[@]} -eq 0 ]; then
  dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/build.log" 2>&1
  dlls=("$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll")
fi

port=7610
pending() {
  redis-cli -p "$1" info memory | tr -d '\r' |
    awk -F: '/^lazyfree_pending_objects:/ { n += $2 } /^durable_lazyfree_pending_databases:/ { n += $2 } END { print n + 0 }'
}

measure() {
  local name="$1" start_command="$2" dir="$out/$1"
  mkdir -p "$dir"
  port=$((port + 1))
  bash -c "$start_command --port $port" >"$dir/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
  python3 "$here/keyed_sets.py" "$keys" | redis-cli -p "$port" --pipe >"$dir/load.txt"
  local loaded
  loaded=$(redis-cli -p "$port" dbsize)
  redis-benchmark -p "$port" -t get -n 100000000 -r "$keys" -c 4 -P 1 --csv >"$dir/get.csv" 2>&1 &
  local load=$!
  sleep 2
  local gets_before
  gets_before=$(redis-cli -p "$port" info stats | tr -d '\r' | awk -F: '/^total_commands_processed:/ { print $2 }')
  local started
  started=$(date +%s.%N)
  redis-cli -p "$port" flushall "$mode" >/dev/null
  local replied
  replied=$(date +%s.%N)
  while [ "$(pending "$port")" != "0" ]; do sleep 0.05; done
  local deleted
  deleted=$(date +%s.%N)
  local commands
  commands=$(redis-cli -p "$port" info stats | tr -d '\r' | awk -F: '/^total_commands_processed:/ { print $2 }')
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true
  printf '%s: %s keys, FLUSHALL %s replied after %.3f s, old records deleted after %.3f s, %.0f other commands/s meanwhile\n' \
    "$name" "$loaded" "$mode" "$(echo "$replied - $started" | bc)" "$(echo "$deleted - $started" | bc)" \
    "$(echo "($commands - $gets_before) / ($deleted - $started)" | bc -l)" | tee -a "$out/summary.txt"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir/data"
}

i=0
for dll in "${dlls[@]}"; do
  i=$((i + 1))
  measure "durable-$i" "dotnet $dll --dir $out/durable-$i/data --memory $memory --appendfsync everysec"
done
if [ "$redis" = yes ]; then
  measure redis "redis-server --save '' --appendonly no --dir $out/redis"
fi
echo "(machine load at the end: $(cut -d' ' -f1-3 /proc/loadavg); dlls: ${dlls[*]})" | tee -a "$out/summary.txt"
