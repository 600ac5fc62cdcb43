#!/usr/bin/env bash
# Cold random GETs against the disk's own random-read rate at the same queue depth (issue 5), for each cold-read path.
# Needs root (it empties the OS page cache before every measurement: it disturbs anything else measuring on the
# machine) and a data directory filled by `keyspace.sh --keep`. For each queue depth: drop caches, raw 4 KiB O_DIRECT
# random reads of the log's segment files for 3 s (randread.c); then for each --io path: start durable-server with
# --cold-read-io PATH, drop caches, redis-benchmark GETs over the whole key space with clients x pipeline = that depth,
# stop it. Each run starts with 120,000 GETs that are not measured, for the JIT (after only 20,000, a cold GET cost
# the server twice the CPU, 31-32 against 13-18 us at -c 4 -P 16: the tiered JIT had not finished). Prints both rates,
# the ratio, the server's CPU per GET (/proc/PID/stat) and the disk reads per GET (/proc/diskstats). --warm: then read
# every segment file into the page cache and run the same GETs again (no drop).
# --dll more than once: each build in turn at every depth (a change against the build it started from, interleaved).
# Usage: benchmarks/compare/coldreads.sh --dir DIR [--keys 20000000] [--memory 256mb] [--dll PATH]...
#                                        [--io "uring faster"] [--warm]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir=""
keys=20000000
memory=256mb
dlls=()
ios="uring faster"
warm=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift ;;
    --keys) keys="$2"; shift ;;
    --memory) memory="$2"; shift ;;
    --dll) dlls+=("$2"); shift ;;
    --io) ios="$2"; shift ;;
    --warm) warm=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "coldreads.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#dlls[@]} -gt 0 ] || dlls=("$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll")
[ -d "$dir/log" ] || { echo "coldreads.sh: --dir must be a Durable data directory (see keyspace.sh --keep)" >&2; exit 2; }

randread="$repo/artifacts/randread"
mkdir -p "$repo/artifacts"
gcc -O2 -pthread -o "$randread" "$here/randread.c"
disk=$(lsblk -no pkname "$(df --output=source "$dir" | tail -1)" 2>/dev/null || true)
disk=${disk:-$(basename "$(df --output=source "$dir" | tail -1)")}
pid=""
port=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null || true' EXIT

start() { # $1 = cold-read-io, $2 = the build's dll
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  dotnet "$2" --bind 127.0.0.1 --port "$port" --dir "$dir" --memory "$memory" --appendfsync no --loglevel warning \
    --cold-read-io "$1" >>"$dir.coldreads.log" 2>&1 &
  pid=$!
  until timeout 2 redis-cli -p "$port" DBSIZE 2>/dev/null | grep -Eq '^[0-9]+$'; do
    kill -0 $pid 2>/dev/null || { echo "durable-server exited; see $dir.coldreads.log" >&2; exit 1; }
    sleep 0.2
  done
  # Compiles the GET paths (tiered JIT) before anything is measured, as coldprofile.sh does.
  redis-benchmark -p "$port" -t get -n 100000 -c 4 -P 16 -r "$keys" -q >/dev/null
  redis-benchmark -p "$port" -t get -n 20000 -c 16 -P 1 -r "$keys" -q >/dev/null
}
stop() { kill $pid; wait $pid 2>/dev/null || true; pid=""; }
say() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*"; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
info() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: -v f="$1" '$1 == f {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
disk_reads() { awk -v d="$disk" '$3 == d {print $4}' /proc/diskstats; }
gets() { # $1 = label, $2 clients, $3 pipeline, $4 requests, $5 raw reads/s (or "-"), $6 the build's dll
  local before ticks reads begin result seconds from_disk cpu
  before=$(info durable_pending_reads); ticks=$(cpu_ticks); reads=$(disk_reads); begin=$(date +%s.%N)
  result=$(timeout 300 redis-benchmark -p "$port" -t get -n "$4" -c "$2" -P "$3" -r "$keys" -q | tr '\r' '\n' | grep -o 'GET: [0-9.]*' | tail -1 | cut -d' ' -f2)
  seconds=$(echo "$(date +%s.%N) - $begin" | bc)
  from_disk=$(( $(info durable_pending_reads) - before ))
  cpu=$(echo "scale=1; ($(cpu_ticks) - $ticks) * 1000000 / $(getconf CLK_TCK) / $4" | bc)
  local ratio=""
  [ "$5" != "-" ] && ratio="; ratio $(echo "scale=2; $result / $5" | bc)"
  say "$1 $(dirname "$6") depth $(($2 * $3)) (-c $2 -P $3) $(info durable_cold_read_io): GET $result req/s ($from_disk of $4 pending, $seconds s), server CPU $cpu us/GET, disk reads/GET $(echo "scale=2; ($(disk_reads) - $reads) / $4" | bc)$ratio"
}

shapes=("1 1 20000" "16 1 100000" "1 16 100000" "64 1 100000" "4 16 100000")
for shape in "${shapes[@]}"; do
  read -r clients pipeline requests <<<"$shape"
  drop
  raw=$("$randread" "$((clients * pipeline))" 3 "$dir"/log/hlog.*)
  say "raw depth $((clients * pipeline)): $raw"
  rate=$(echo "$raw" | grep -o '[0-9]* reads/s' | cut -d' ' -f1)
  for dll in "${dlls[@]}"; do
    for io in $ios; do
      start "$io" "$dll"
      drop
      gets cold "$clients" "$pipeline" "$requests" "$rate" "$dll"
      stop
    done
  done
done

if [ "$warm" = 1 ]; then
  cat "$dir"/log/hlog.* >/dev/null
  for shape in "${shapes[@]}"; do
    read -r clients pipeline requests <<<"$shape"
    for dll in "${dlls[@]}"; do
      for io in $ios; do
        start "$io" "$dll"
        gets warm "$clients" "$pipeline" "$requests" - "$dll"
        stop
      done
    done
  done
fi
