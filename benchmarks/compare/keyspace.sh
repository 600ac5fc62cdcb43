#!/usr/bin/env bash
# Issue 5's must-show: N keys (default 20M) of 100-byte values under a memory budget, Durable and Garnet side by side.
# Loads both servers (keyed_sets.py | redis-cli --pipe), warms them with 120,000 unmeasured GETs, then runs random GETs
# over the whole key space and over a hot 1% (redis-benchmark -r), Durable and Garnet interleaved, checks sampled
# values (check_keyed.py), kills Durable with SIGKILL, restarts it on the same directory and checks again. Prints peak
# RSS (VmHWM) and INFO memory's parts.
# Usage: benchmarks/compare/keyspace.sh [--keys N] [--memory 256mb] [--requests N] [--servers "durable garnet"]
#                                       [--dll PATH] [--out DIR] [--keep] [--rounds N]
#        --keep: leave the data directories; --rounds N: measure the four GET runs N times over (default 1),
#        the servers' order swapped each round
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
keys=20000000
memory=256mb
requests=200000
servers="durable garnet"
dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
garnet="$repo/.tools/garnet/garnet-server"
out=""
keep=0
rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift ;;
    --memory) memory="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --servers) servers="$2"; shift ;;
    --dll) dll="$2"; shift ;;
    --out) out="$2"; shift ;;
    --keep) keep=1 ;;
    --rounds) rounds="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "keyspace.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ " $servers " == *" garnet "* ]] && [ ! -x "$garnet" ]; then
  dotnet tool install --tool-path "$repo/.tools/garnet" garnet-server --version 2.2.8 >/dev/null
fi

out="${out:-$repo/artifacts/keyspace/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
declare -A pid port
cleanup() {
  # Wait for each server to stop before its directory goes (a durable-server whose directory was removed while it
  # shut down did not exit).
  for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; wait "${pid[$s]}" 2>/dev/null || true; done
  if [ "$keep" = 0 ]; then rm -rf "$out/durable" "$out/garnet"; fi
}
trap cleanup EXIT
say() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

start() { # $1 = server
  local s=$1
  port[$s]=$(free_port)
  case $s in
    durable) dotnet "$dll" --bind 127.0.0.1 --port "${port[$s]}" --dir "$out/durable" --memory "$memory" \
               --appendfsync no >>"$out/durable.log" 2>&1 & ;;
    garnet) "$garnet" --bind 127.0.0.1 --port "${port[$s]}" --storage-tier --logdir "$out/garnet" \
              --memory "${memory%b}" --page 16m --index 512m --device-type RandomAccess --minthreads 64 \
              >>"$out/garnet.log" 2>&1 & ;;
  esac
  pid[$s]=$!
  local begin=$SECONDS
  # DBSIZE, not PING: PING also answers while a server is still loading.
  until timeout 2 redis-cli -p "${port[$s]}" DBSIZE 2>/dev/null | grep -Eq '^[0-9]+$'; do
    kill -0 "${pid[$s]}" 2>/dev/null || { say "$s exited; see $out/$s.log"; exit 1; }
    [ $((SECONDS - begin)) -lt 600 ] || { say "$s not ready after 600 s"; exit 1; }
    sleep 0.1
  done
}
hwm() { awk '/VmHWM/ {printf "%d MB", $2 / 1024}' "/proc/${pid[$1]}/status"; }
parts() {
  redis-cli -p "${port[durable]}" info memory | tr -d '\r' |
    grep -E '^(used_memory|used_memory_rss|durable_[a-z_]*_bytes):' | tr '\n' ' '
}
get() { # $1 = server, $2 = key range, $3 = pipeline
  timeout 300 redis-benchmark -p "${port[$1]}" -t get -n "$requests" -c 50 -r "$2" -P "$3" -q | tr '\r' '\n' | grep -o 'GET: .*' | tail -1
}

for s in $servers; do
  start "$s"
  say "$s: loading $keys keys"
  begin=$(date +%s.%N)
  python3 "$here/keyed_sets.py" "$keys" | redis-cli -p "${port[$s]}" --pipe | tail -1
  say "$s: loaded in $(echo "$(date +%s.%N) - $begin" | bc) s; DBSIZE $(redis-cli -p "${port[$s]}" dbsize); peak RSS $(hwm "$s")"
done
[ -n "${pid[durable]:-}" ] && say "durable memory: $(parts)"

# Compiles each server's GET paths (tiered JIT) before anything is measured, as coldreads.sh and coldprofile.sh do:
# right after the load, a cold GET cost Durable twice the CPU (docs/benchmarks.md, "Cold reads, session 13").
for s in $servers; do
  timeout 300 redis-benchmark -p "${port[$s]}" -t get -n 100000 -c 4 -P 16 -r "$keys" -q >/dev/null
  timeout 300 redis-benchmark -p "${port[$s]}" -t get -n 20000 -c 16 -P 1 -r "$keys" -q >/dev/null
done
for round in $(seq "$rounds"); do
  # Each round the other server goes first, so that neither always runs right after the other's cache-warming run.
  order=$servers
  [ $((round % 2)) = 0 ] && order=$(echo "$servers" | tr ' ' '\n' | tac | tr '\n' ' ')
  for range in "$keys" $((keys / 100)); do
    for pipeline in 1 16; do
      for s in $order; do say "$s: GET -r $range -P $pipeline (round $round): $(get "$s" "$range" "$pipeline")"; done
    done
  done
done
for s in $servers; do
  say "$s: check $(python3 "$here/check_keyed.py" "${port[$s]}" "$keys" 20000 || true); peak RSS $(hwm "$s")"
done
[ -n "${pid[durable]:-}" ] || exit 0

say "durable memory: $(parts)"
kill -9 "${pid[durable]}"
wait "${pid[durable]}" 2>/dev/null || true
begin=$(date +%s.%N)
start durable
say "durable: restarted after SIGKILL, serving in $(echo "$(date +%s.%N) - $begin" | bc) s"
say "durable: check $(python3 "$here/check_keyed.py" "${port[durable]}" "$keys" 20000 || true)"
say "durable: GET -r $keys -P 16: $(get durable "$keys" 16); peak RSS $(hwm durable)"
say "durable memory: $(parts)"
