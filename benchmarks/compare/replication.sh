#!/usr/bin/env bash
# A primary with and without a replica: SET throughput of Durable and of redis-server, each first alone and then with
# one redis-server replica attached (REPLICAOF, until its link is up), in interleaved rounds; then the time a full
# sync holds Durable's writes for a data set of N keys x 100 B, in memory and after a restart (records on disk), read
# from its log (event 69), with redis-server's SAVE of the same keys for scale.
# Usage: benchmarks/compare/replication.sh [--rounds 3] [--keys 1000000] [--out DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rounds=3
keys=1000000
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --keys) keys="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "replication.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

out="${out:-$repo/artifacts/replication/$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"/{durable,redis,durable-replica,redis-replica}
dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/build.log" 2>&1
dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
durable=7620; redis=7621; durable_replica=7622; redis_replica=7623

start_durable() { (setsid dotnet "$dll" --bind 127.0.0.1 --port $durable --dir "$out/durable" --appendfsync no >>"$out/durable.log" 2>&1 &); wait_ping $durable; }
wait_ping() { for _ in $(seq 1 100); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.2; done; echo "no server on $1" >&2; exit 1; }
wait_link() { for _ in $(seq 1 600); do redis-cli -p "$1" info replication | grep -q "master_link_status:up" && return 0; sleep 0.5; done; echo "replica on $1 never synced" >&2; exit 1; }
replica() { redis-server --bind 127.0.0.1 --port "$1" --dir "$2" --save '' --appendonly no --daemonize yes --logfile "$2/log" --repl-diskless-load disabled; wait_ping "$1"; }
bench() { timeout 300 redis-benchmark -p "$1" -t set -n "$2" -c 50 -P "$3" -r 100000 -d 100 -q | tr '\r' '\n' | grep -o "[0-9.]* requests per second" | tail -1 | cut -d' ' -f1; }
load() { python3 -c "
import sys
v = 'x' * 100
for i in range($keys):
    k = 'key:%010d' % i
    sys.stdout.write('*3\r\n\$3\r\nSET\r\n\$%d\r\n%s\r\n\$100\r\n%s\r\n' % (len(k), k, v))
" | redis-cli -p "$1" --pipe >/dev/null; }
cleanup() { for p in $redis $durable_replica $redis_replica; do redis-cli -p $p shutdown nosave >/dev/null 2>&1 || true; done; pkill -f "durable-server.dll --bind 127.0.0.1 --port $durable" || true; }
trap cleanup EXIT

start_durable
redis-server --bind 127.0.0.1 --port $redis --dir "$out/redis" --save '' --appendonly no --daemonize yes --logfile "$out/redis/log" --repl-diskless-sync-delay 0
wait_ping $redis
replica $durable_replica "$out/durable-replica"
replica $redis_replica "$out/redis-replica"
bench $durable 200000 16 >/dev/null; bench $redis 200000 16 >/dev/null
{
  echo "| replicas | round | Durable -P 1 | redis -P 1 | Durable -P 16 | redis -P 16 |"
  echo "|---|---|---:|---:|---:|---:|"
  for replicas in 0 1; do
    if [ $replicas = 1 ]; then
      redis-cli -p $durable_replica replicaof 127.0.0.1 $durable >/dev/null; redis-cli -p $redis_replica replicaof 127.0.0.1 $redis >/dev/null
      wait_link $durable_replica; wait_link $redis_replica
    fi
    for round in $(seq 1 "$rounds"); do
      echo "| $replicas | $round | $(bench $durable 200000 1) | $(bench $redis 200000 1) | $(bench $durable 1000000 16) | $(bench $redis 1000000 16) |"
    done
  done
} | tee "$out/throughput.md"

# Full syncs of N keys: in memory, then after a restart (the log on disk), each to a replica emptied first.
redis-cli -p $durable_replica replicaof no one >/dev/null
redis-cli -p $durable flushall >/dev/null; redis-cli -p $redis flushall >/dev/null
load $durable; load $redis
sync_once() {
  redis-cli -p $durable_replica replicaof no one >/dev/null; redis-cli -p $durable_replica flushall >/dev/null
  redis-cli -p $durable_replica replicaof 127.0.0.1 $durable >/dev/null; wait_link $durable_replica
  echo "$1: $(grep -a 'snapshot for its full sync' "$out/durable.log" | tail -1 | sed 's/.*written (//; s/), sending.*//'); replica holds $(redis-cli -p $durable_replica dbsize) keys"
}
{
  sync_once "in memory"
  redis-cli -p $durable_replica replicaof no one >/dev/null
  redis-cli -p $durable shutdown >/dev/null 2>&1 || true
  sleep 2
  start_durable
  sync_once "on disk after a restart"
  start=$(date +%s%N); redis-cli -p $redis save >/dev/null; echo "redis-server SAVE of the same keys: $(( ($(date +%s%N) - start) / 1000000 )) ms"
} | tee "$out/full-sync.txt"
echo "results in $out"
