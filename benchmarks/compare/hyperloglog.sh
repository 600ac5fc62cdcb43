#!/usr/bin/env bash
# HyperLogLog commands against redis-server, both with appendfsync everysec, started side by side on this machine:
# redis-benchmark -c 50 at -P 1 and -P 16 for PFADD into new keys (sparse sketches), PFADD into one hot dense sketch
# (each changed register rewrites its 12 KiB value), PFADD of an element already counted (no write), and PFCOUNT of a
# cached count. Prints req/s per server and Durable's ratio to Redis, one line per workload and round.
# Usage: benchmarks/compare/hyperloglog.sh [--dll PATH] [--rounds 2] [--requests 300000] [--out DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dll=""
rounds=2
requests=300000
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dll) dll="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "hyperloglog.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

out="${out:-$repo/artifacts/hyperloglog/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out/durable" "$out/redis"
if [ -z "$dll" ]; then
  dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/build.log" 2>&1
  dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
fi

durable_port=7621
redis_port=7622
dotnet "$dll" --port "$durable_port" --dir "$out/durable" --appendfsync everysec >"$out/durable.log" 2>&1 &
durable_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$out/redis" --save '' --appendonly yes --appendfsync everysec \
  --logfile "$out/redis.log" &
redis_pid=$!
trap 'kill "$durable_pid" "$redis_pid" 2>/dev/null; wait 2>/dev/null' EXIT
for port in "$durable_port" "$redis_port"; do
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
done

rate() { # port, then redis-benchmark arguments: prints req/s
  redis-benchmark -p "$1" -c 50 -n "$requests" --csv "${@:2}" 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"'
}

echo "workload,pipeline,round,durable_rps,redis_rps,ratio" | tee "$out/results.csv"
for round in $(seq 1 "$rounds"); do
  for pipeline in 1 16; do
    for workload in new-keys hot-dense no-change count-cached; do
      results=()
      for port in "$durable_port" "$redis_port"; do
        redis-cli -p "$port" del hll:hot >/dev/null
        case "$workload" in
          new-keys) results+=("$(rate "$port" -P "$pipeline" -r 100000000 pfadd hll:__rand_int__ __rand_int__)") ;;
          hot-dense) results+=("$(rate "$port" -P "$pipeline" -r 100000000 pfadd hll:hot __rand_int__)") ;;
          no-change | count-cached)
            redis-benchmark -p "$port" -c 50 -n 100000 -P 16 -r 100000000 pfadd hll:hot __rand_int__ >/dev/null 2>&1
            redis-cli -p "$port" pfadd hll:hot counted >/dev/null
            redis-cli -p "$port" pfcount hll:hot >/dev/null
            if [ "$workload" = no-change ]; then
              results+=("$(rate "$port" -P "$pipeline" pfadd hll:hot counted)")
            else
              results+=("$(rate "$port" -P "$pipeline" pfcount hll:hot)")
            fi
            ;;
        esac
      done
      ratio=$(awk -v d="${results[0]}" -v r="${results[1]}" 'BEGIN { printf "%.2f", d / r }')
      echo "$workload,$pipeline,$round,${results[0]},${results[1]},$ratio" | tee -a "$out/results.csv"
    done
  done
done
