#!/usr/bin/env bash
# Cold random GETs against the disk's own random-read rate at the same queue depth (issue 5). Needs root (it empties
# the OS page cache before every measurement) and a data directory filled by `keyspace.sh --keep`. For each queue
# depth: drop caches, raw 4 KiB O_DIRECT random reads of the log's segment files for 3 s (randread.c), drop caches,
# redis-benchmark GETs over the whole key space with clients x pipeline = that depth. Prints both rates and the ratio.
# Usage: benchmarks/compare/coldreads.sh --dir DIR [--keys 20000000] [--memory 256mb] [--dll PATH]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir=""
keys=20000000
memory=256mb
dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift ;;
    --keys) keys="$2"; shift ;;
    --memory) memory="$2"; shift ;;
    --dll) dll="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "coldreads.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -d "$dir/log" ] || { echo "coldreads.sh: --dir must be a Durable data directory (see keyspace.sh --keep)" >&2; exit 2; }

randread="$repo/artifacts/randread"
mkdir -p "$repo/artifacts"
gcc -O2 -pthread -o "$randread" "$here/randread.c"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
dotnet "$dll" --bind 127.0.0.1 --port "$port" --dir "$dir" --memory "$memory" --appendfsync no --loglevel warning >"$dir.coldreads.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until timeout 2 redis-cli -p "$port" DBSIZE 2>/dev/null | grep -Eq '^[0-9]+$'; do
  kill -0 $pid 2>/dev/null || { echo "durable-server exited; see $dir.coldreads.log" >&2; exit 1; }
  sleep 0.2
done

say() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*"; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
pending() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '/^durable_pending_reads:/ {print $2}'; }
for shape in "1 1 20000" "16 1 100000" "1 16 100000" "64 1 100000" "4 16 100000"; do
  read -r clients pipeline requests <<<"$shape"
  depth=$((clients * pipeline))
  drop
  raw=$("$randread" "$depth" 3 "$dir"/log/hlog.*)
  drop
  before=$(pending)
  begin=$(date +%s.%N)
  gets=$(timeout 300 redis-benchmark -p "$port" -t get -n "$requests" -c "$clients" -P "$pipeline" -r "$keys" -q | tr '\r' '\n' | grep -o 'GET: [0-9.]*' | tail -1 | cut -d' ' -f2)
  seconds=$(echo "$(date +%s.%N) - $begin" | bc)
  from_disk=$(( $(pending) - before ))
  say "depth $depth (-c $clients -P $pipeline): GET $gets req/s ($from_disk of $requests went to disk, $seconds s); raw: $raw; ratio $(echo "scale=2; $gets / $(echo "$raw" | grep -o '[0-9]* reads/s' | cut -d' ' -f1)" | bc)"
done
