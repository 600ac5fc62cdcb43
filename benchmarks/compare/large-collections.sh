#!/usr/bin/env bash
# Issue 6's must-show: one hash, set, sorted set and list of N members each (default 1,000,000) in durable-server
# under a small memory budget (default --memory 64mb), against small collections of the same types in the same
# server: point-operation throughput on huge vs small, ZRANGE/LRANGE of 10 from the middle vs the ends, and the
# process's peak RSS.
# Usage: benchmarks/compare/large-collections.sh [--members N] [--memory 64mb] [--requests N] [--types "hash set zset list"] [--out DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
members=1000000
memory=64mb
requests=50000
types="hash set zset list"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --members) members="$2"; shift ;;
    --memory) memory="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --types) types="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "large-collections.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

out="${out:-$repo/artifacts/large-collections/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null || "$repo/tools/install-test-deps.sh"
dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/build.log" 2>&1
dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
port=$((20000 + RANDOM % 20000))
dir="$out/data"
rm -rf "$dir"   # a data directory left by an earlier run would be recovered, not filled
dotnet "$dll" --bind 127.0.0.1 --port "$port" --dir "$dir" --memory "$memory" --loglevel warning >"$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done

# Members are named as redis-benchmark's -r fills __rand_int__: 12 digits, zero-padded.
populate() { # $1 = command, $2 = key, $3 = "pairs" | "scored" | "single", $4 = count
  python3 - "$1" "$2" "$3" "$4" <<'EOF' | redis-cli -p "$port" --pipe >/dev/null
import sys
cmd, key, shape, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
batch = 1000
for start in range(0, count, batch):
    parts = [cmd, key]
    for i in range(start, min(count, start + batch)):
        m = "%012d" % i
        if shape == "pairs": parts += ["f" + m, "v" + m]
        elif shape == "scored": parts += [str(i), "m" + m]
        else: parts.append("m" + m)
    sys.stdout.write(" ".join(parts) + "\r\n")
EOF
}

started=$(date +%s)
for size in "$members:big" "100:small"; do
  n="${size%%:*}"; name="${size##*:}"
  for type in $types; do
    case "$type" in
      hash) populate HSET "${name}hash" pairs "$n" ;;
      set) populate SADD "${name}set" single "$n" ;;
      zset) populate ZADD "${name}zset" scored "$n" ;;
      list) populate RPUSH "${name}list" single "$n" ;;
    esac
  done
done
fill_seconds=$(( $(date +%s) - started ))

rps() { # $1 = key space for __rand_int__, rest = command
  local space="$1"; shift
  timeout 300 redis-benchmark -p "$port" -n "$requests" -c 50 -P 1 -r "$space" -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1
}

{
  echo "# Huge collections under --memory $memory ($members members each)"
  echo
  echo "Commit $(git -C "$repo" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), filled in ${fill_seconds}s."
  echo "redis-benchmark -n $requests -c 50 -P 1 -r <members> (__rand_int__ picks the member)."
  echo
  echo "| operation | huge req/s | small req/s | huge / small |"
  echo "|---|---:|---:|---:|"
  while IFS='|' read -r type label cmd; do
    case " $types " in *" $type "*) ;; *) continue ;; esac
    big=$(rps "$members" ${cmd//@/big})
    small=$(rps 100 ${cmd//@/small})
    ratio=$(python3 -c "print(f'{float(\"$big\" or 0) / float(\"$small\" or 1):.2f}')")
    echo "| $label | $big | $small | $ratio |"
  done <<'EOF'
hash|HGET|HGET @hash f__rand_int__
hash|HSET (update)|HSET @hash f__rand_int__ w
set|SISMEMBER|SISMEMBER @set m__rand_int__
zset|ZSCORE|ZSCORE @zset m__rand_int__
zset|ZADD (update)|ZADD @zset 7 m__rand_int__
zset|ZADD (random score)|ZADD @zset __rand_int__ m__rand_int__
list|LPUSH|LPUSH @list x
list|LPOP|LPOP @list
EOF
  echo
  echo "| range read | req/s |"
  echo "|---|---:|"
  middle=$((members / 2))
  for spec in "zset|ZRANGE 10 at the start|ZRANGE bigzset 0 9" "zset|ZRANGE 10 in the middle|ZRANGE bigzset $middle $((middle + 9))" \
              "list|LRANGE 10 at the start|LRANGE biglist 0 9" "list|LRANGE 10 in the middle|LRANGE biglist $middle $((middle + 9))"; do
    type="${spec%%|*}"; rest="${spec#*|}"
    case " $types " in *" $type "*) echo "| ${rest%%|*} | $(rps 1 ${rest##*|}) |" ;; esac
  done
  echo
  echo "Peak RSS (VmHWM): $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}'); now (VmRSS): $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}')."
  echo "HLEN/SCARD/ZCARD/LLEN: $(redis-cli -p "$port" hlen bighash) $(redis-cli -p "$port" scard bigset) $(redis-cli -p "$port" zcard bigzset) $(redis-cli -p "$port" llen biglist)"
} | tee "$out/summary.md"
