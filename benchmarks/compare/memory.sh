#!/usr/bin/env bash
# Peak RSS of durable-server under a memory budget (issue 5): (a) a 1M-field hash and a 1M-member set, (b) 2M SETs of
# 100-byte values with random keys (redis-benchmark -r 2000000 -P 16 -c 8), each in a fresh server. Prints VmHWM
# (peak RSS) when empty, after each fill, and INFO memory's parts.
# Usage: benchmarks/compare/memory.sh [--memory 64mb] [--members N] [--keys N] [--dll PATH] [--out DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
memory=64mb
members=1000000
keys=2000000
dll=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --memory) memory="$2"; shift ;;
    --members) members="$2"; shift ;;
    --keys) keys="$2"; shift ;;
    --dll) dll="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "memory.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

out="${out:-$repo/artifacts/memory/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
if [ -z "$dll" ]; then
  dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/build.log" 2>&1
  dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
fi

pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
start() { # $1 = run name
  port=$((20000 + RANDOM % 20000))
  dotnet "$dll" --bind 127.0.0.1 --port "$port" --dir "$out/$1" --memory "$memory" --loglevel warning >"$out/$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
hwm() { grep VmHWM "/proc/$pid/status" | awk '{printf "%d MB", $2 / 1024}'; }
parts() { redis-cli -p "$port" info memory | tr -d '\r' | grep -E '^(used_memory|used_memory_rss|maxmemory|durable_[a-z_]*_bytes|durable_memory_budget):' | tr '\n' ' '; }

populate() { # $1 = command, $2 = key, $3 = "pairs" | "single", $4 = count
  python3 - "$1" "$2" "$3" "$4" <<'EOF' | redis-cli -p "$port" --pipe >/dev/null
import sys
cmd, key, shape, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for start in range(0, count, 1000):
    parts = [cmd, key]
    for i in range(start, min(count, start + 1000)):
        m = "%012d" % i
        parts += ["f" + m, "v" + m] if shape == "pairs" else ["m" + m]
    sys.stdout.write(" ".join(parts) + "\r\n")
EOF
}

{
  echo "# Peak RSS under --memory $memory"
  echo
  echo "Commit $(git -C "$repo" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)."
  start collections
  echo "- empty: peak RSS $(hwm)"
  populate HSET bighash pairs "$members"
  populate SADD bigset single "$members"
  echo "- (a) hash of $members fields + set of $members members (HLEN $(redis-cli -p "$port" hlen bighash), SCARD $(redis-cli -p "$port" scard bigset)): peak RSS $(hwm)"
  echo "  - $(parts)"
  stop
  start strings
  timeout 900 redis-benchmark -p "$port" -t set -n "$keys" -r "$keys" -d 100 -P 16 -c 8 -q 2>/dev/null | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 > "$out/set-rps" || true
  echo "- (b) redis-benchmark -t set -n $keys -r $keys -d 100 -P 16 -c 8 ($(cat "$out/set-rps"), DBSIZE $(redis-cli -p "$port" dbsize)): peak RSS $(hwm)"
  echo "  - $(parts)"
  stop
} | tee "$out/summary.md"
