#!/usr/bin/env bash
# Read cache on and off (issue 5, item 3): two durable-servers (read-cache yes / no) and a redis-server, each loaded with
# the same N keys of 1 KiB (key:%012d, redis-benchmark's __rand_int__ format), then GETs with redis-benchmark over a hot
# set that went to disk (-r HOT: the oldest keys) and over the whole key space (-r N), the two Durables interleaved
# round after round. Prints req/s and, for Durable, how many reads waited for the disk (INFO durable_pending_reads)
# and how many records were copied back (durable_read_copies) during each run.
# Usage: benchmarks/compare/read-cache.sh [--memory 16mb] [--keys 100000] [--hot 1000] [--requests 200000] [--rounds 2] [--dll PATH] [--out DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
memory=16mb
keys=100000
hot=1000
requests=200000
rounds=2
dll=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --memory) memory="$2"; shift ;;
    --keys) keys="$2"; shift ;;
    --hot) hot="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --dll) dll="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "read-cache.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

out="${out:-$repo/artifacts/read-cache/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
if [ -z "$dll" ]; then
  dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/build.log" 2>&1
  dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
fi

declare -A port pid
trap 'for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
wait_ping() { for _ in $(seq 150); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "no PING on $1" >&2; exit 1; }
start_durable() { # $1 = name, $2 = yes|no
  port[$1]=$((20000 + RANDOM % 20000))
  dotnet "$dll" --bind 127.0.0.1 --port "${port[$1]}" --dir "$out/$1" --memory "$memory" --read-cache "$2" \
    --appendfsync everysec --loglevel warning >"$out/$1.log" 2>&1 &
  pid[$1]=$!
  wait_ping "${port[$1]}"
}
start_redis() {
  port[redis]=$((20000 + RANDOM % 20000))
  mkdir -p "$out/redis"
  redis-server --port "${port[redis]}" --bind 127.0.0.1 --dir "$out/redis" --save '' --appendonly no --daemonize no --logfile '' >"$out/redis.log" 2>&1 &
  pid[redis]=$!
  wait_ping "${port[redis]}"
}
load() { # $1 = name: SET key:%012d to a 1 KiB value, oldest first
  python3 - "$keys" <<'EOF' | redis-cli -p "${port[$1]}" --pipe >/dev/null
import sys
value = "x" * 1024
for i in range(int(sys.argv[1])):
    key = "key:%012d" % i
    sys.stdout.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1024\r\n%s\r\n" % (len(key), key, value))
EOF
}
field() { redis-cli -p "${port[$1]}" info memory | tr -d '\r' | sed -n "s/^$2://p"; }
run() { # $1 = name, $2 = -r range, $3 = label
  local before_reads before_copies rps
  if [ "$1" != redis ]; then before_reads=$(field "$1" durable_pending_reads); before_copies=$(field "$1" durable_read_copies); fi
  rps=$(timeout 300 redis-benchmark -p "${port[$1]}" -t get -n "$requests" -r "$2" -c 16 -P 1 -d 1024 -q 2>/dev/null | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)
  if [ "$1" = redis ]; then
    printf '%-10s %-8s %10s req/s\n' "$1" "$3" "$rps"
  else
    printf '%-10s %-8s %10s req/s  disk reads %8d  copies %7d\n' "$1" "$3" "$rps" \
      $(( $(field "$1" durable_pending_reads) - before_reads )) $(( $(field "$1" durable_read_copies) - before_copies ))
  fi
}

{
  echo "# $(date -u +%FT%TZ) commit $(git -C "$repo" rev-parse --short HEAD), memory $memory, $keys keys x 1 KiB, hot $hot, $requests GETs a run, -c 16 -P 1"
  echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  start_durable on yes; start_durable off no; start_redis
  for name in on off redis; do load "$name"; done
  echo "# loaded; Durable log head/tail: on $(field on durable_log_head_address)/$(field on durable_log_tail_address)"
  for round in $(seq "$rounds"); do
    for name in on off; do run "$name" "$hot" hot; done
    for name in on off; do run "$name" "$keys" uniform; done
  done
  run redis "$hot" hot; run redis "$keys" uniform
  echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/summary.txt"
