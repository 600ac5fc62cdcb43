#!/usr/bin/env bash
# End-to-end comparison of durable-server, redis-server and garnet-server with redis-benchmark.
# Usage: benchmarks/compare/run.sh [--quick] [--rounds N] [--servers "durable redis garnet"] [--durability memory|fsync] [--out DIR]
# See benchmarks/compare/README.md. Results go to artifacts/compare/<timestamp>/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
garnet_version="2.2.8"
garnet_dir="$repo/.tools/garnet"
keyspace=100000
clients=50

quick=0
rounds=""
servers="durable redis garnet"
durability="memory"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --rounds) rounds="$2"; shift ;;
    --servers) servers="$2"; shift ;;
    --durability) durability="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# Persistence settings per scenario. memory: as little persistence as each server allows (Durable always logs,
# so it commits its WAL every 5 s). fsync: each server's strongest setting (reply after the write is on disk).
case "$durability" in
  memory)
    durable_args=(--appendfsync no)
    redis_args=(--save '' --appendonly no)
    garnet_args=()
    ;;
  fsync)
    durable_args=(--appendfsync always)
    redis_args=(--save '' --appendonly yes --appendfsync always)
    garnet_args=(--aof --aof-commit-wait --device-type RandomAccess)
    ;;
  *) echo "run.sh: --durability must be memory or fsync" >&2; exit 2 ;;
esac

if [ "$quick" -eq 1 ]; then
  mode="quick"; rounds="${rounds:-1}"; n_p1=60000; n_p16=400000; run_timeout=60
else
  mode="full"; rounds="${rounds:-3}"; n_p1=200000; n_p16=1000000; run_timeout=300
fi
# Unmeasured fill at the start of each round (it also warms up the JIT of the .NET servers) and before the GETs of
# another value size, so that GETs hit values of the size they claim: P16 SETs covering about 95% of the key space.
n_fill=$((keyspace * 3))

# Workloads: name|redis-benchmark test|pipeline|value size|requests|probe command (run once per server first).
workloads=(
  "SET -P 1 -d 100|set|1|100|$n_p1|SET probe:key 1"
  "GET -P 1 -d 100|get|1|100|$n_p1|GET probe:key"
  "SET -P 16 -d 100|set|16|100|$n_p16|SET probe:key 1"
  "GET -P 16 -d 100|get|16|100|$n_p16|GET probe:key"
  "INCR -P 1|incr|1|100|$n_p1|INCR probe:counter"
  "MSET (10 keys) -P 1 -d 100|mset|1|100|$n_p1|MSET probe:a 1 probe:b 2"
)
if [ "$mode" = "full" ]; then
  workloads+=(
    "INCR -P 16|incr|16|100|$n_p16|INCR probe:counter"
    "MSET (10 keys) -P 16 -d 100|mset|16|100|$((n_p16 / 4))|MSET probe:a 1 probe:b 2"
    "SET -P 1 -d 4096|set|1|4096|$n_p1|SET probe:key 1"
    "GET -P 1 -d 4096|get|1|4096|$n_p1|GET probe:key"
    "SET -P 16 -d 4096|set|16|4096|$((n_p16 / 4))|SET probe:key 1"
    "GET -P 16 -d 4096|get|16|4096|$((n_p16 / 4))|GET probe:key"
  )
fi

started_at=$(date +%s)
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - started_at ))" "$*"; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---- install what is missing -------------------------------------------------------------------------------------
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null || ! command -v redis-cli >/dev/null; then
  log "installing redis-server and redis-tools (apt-get)"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
  # The Debian package starts a service on 6379; this suite starts its own servers.
  if command -v service >/dev/null; then $sudo_cmd service redis-server stop >/dev/null 2>&1 || true; fi
fi
if [[ " $servers " == *" garnet "* ]] && [ ! -x "$garnet_dir/garnet-server" ]; then
  log "installing garnet-server $garnet_version as a .NET tool into $garnet_dir (about 600 MB)"
  dotnet tool install --tool-path "$garnet_dir" garnet-server --version "$garnet_version" >/dev/null
fi

# ---- output directory and facts ------------------------------------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="${out:-$repo/artifacts/compare/$stamp}"
mkdir -p "$out/logs" "$out/raw"
work=$(mktemp -d /tmp/durable-compare.XXXXXX)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit (uncommitted changes)"; fi

# ---- servers: started here, always stopped on exit --------------------------------------------------------------
declare -A pid port cmdline
cleanup() {
  local s
  for s in "${!pid[@]}"; do
    if kill -0 "${pid[$s]}" 2>/dev/null; then
      kill "${pid[$s]}" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "${pid[$s]}" 2>/dev/null || break; sleep 0.2; done
      kill -9 "${pid[$s]}" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until the server answers PING; fails (never benchmarks a dead port) if it exits or takes over 90 s.
wait_ready() {
  local s=$1 i
  for i in $(seq 450); do
    if ! kill -0 "${pid[$s]}" 2>/dev/null; then
      tail -20 "$out/logs/$s.log" >&2
      die "$s exited during startup (log: $out/logs/$s.log)"
    fi
    # DBSIZE rather than PING: PING also answers while a server is still loading its data set.
    if timeout 2 redis-cli -h 127.0.0.1 -p "${port[$s]}" DBSIZE 2>/dev/null | grep -Eq '^[0-9]+$'; then return 0; fi
    sleep 0.2
  done
  die "$s did not answer PING within 90 s (log: $out/logs/$s.log)"
}

start_server() {
  local s=$1
  port[$s]=$(free_port)
  local dir="$work/$s"
  mkdir -p "$dir"
  case "$s" in
    durable)
      cmdline[$s]="dotnet durable-server.dll --bind 127.0.0.1 --port ${port[$s]} --dir $dir --loglevel warning ${durable_args[*]}"
      (cd "$dir" && exec dotnet "$durable_dll" --bind 127.0.0.1 --port "${port[$s]}" --dir "$dir" --loglevel warning "${durable_args[@]}") \
        >"$out/logs/$s.log" 2>&1 &
      ;;
    redis)
      cmdline[$s]="redis-server --bind 127.0.0.1 --port ${port[$s]} --dir $dir ${redis_args[*]} --daemonize no"
      (cd "$dir" && exec redis-server --bind 127.0.0.1 --port "${port[$s]}" --dir "$dir" "${redis_args[@]}" \
        --daemonize no --logfile '') >"$out/logs/$s.log" 2>&1 &
      ;;
    garnet)
      cmdline[$s]="garnet-server --bind 127.0.0.1 --port ${port[$s]} ${garnet_args[*]}"
      (cd "$dir" && exec "$garnet_dir/garnet-server" --bind 127.0.0.1 --port "${port[$s]}" "${garnet_args[@]}") >"$out/logs/$s.log" 2>&1 &
      ;;
    *) die "unknown server '$s' (use durable, redis, garnet)" ;;
  esac
  pid[$s]=$!
  wait_ready "$s"
  log "$s ready on 127.0.0.1:${port[$s]} (pid ${pid[$s]}, data $dir)"
}

# ---- build and start ------------------------------------------------------------------------------------------------
if [[ " $servers " == *" durable "* ]]; then
  log "building durable-server (Release)"
  dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/logs/build.log" 2>&1 \
    || { tail -30 "$out/logs/build.log" >&2; die "build failed (log: $out/logs/build.log)"; }
  durable_dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
  [ -f "$durable_dll" ] || die "build produced no $durable_dll"
fi
for s in $servers; do start_server "$s"; done

# ---- probe: which workloads does each server support? ----------------------------------------------------------
declare -A unsupported
for w in "${workloads[@]}"; do
  IFS='|' read -r name test pipeline size requests probe <<<"$w"
  for s in $servers; do
    # shellcheck disable=SC2086  # the probe is a command line to split into words
    reply=$(timeout 5 redis-cli -h 127.0.0.1 -p "${port[$s]}" $probe 2>&1 || true)
    if [[ "$reply" == ERR* || "$reply" == "(error)"* || "$reply" == *"unknown command"* ]]; then
      unsupported["$s|$test"]="$reply"
    fi
  done
done
for key in "${!unsupported[@]}"; do log "skipping ${key%%|*} ${key#*|}: ${unsupported[$key]}"; done
for s in $servers; do
  timeout 10 redis-cli -h 127.0.0.1 -p "${port[$s]}" DEL probe:key probe:counter probe:a probe:b >/dev/null 2>&1 || true
done

# ---- facts for the report ----------------------------------------------------------------------------------------
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem_total=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
{
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode=$mode"
  echo "rounds=$rounds"
  echo "commit=$commit"
  echo "machine=$(nproc) cores, $mem_total RAM, $cpu_model, $(uname -sr)"
  echo "redis=$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)"
  echo "garnet=$garnet_version"
  echo "dotnet=$(dotnet --version)"
  echo "benchmark=redis-benchmark -h 127.0.0.1 -c $clients -r $keyspace --csv; requests: P1 $n_p1, P16 $n_p16 (MSET and -d 4096 at P16: a quarter)"
  for s in $servers; do echo "cmd_$s=${cmdline[$s]}"; done
  echo "scenario=$durability"
  echo "persistence_durable=write-ahead log, ${durable_args[*]} (checkpoints every 300 s while writing)"
  echo "persistence_redis=${redis_args[*]}"
  echo "persistence_garnet=${garnet_args[*]:-none (defaults: no AOF, no checkpoints, no storage tier)}"
  for key in "${!unsupported[@]}"; do echo "unsupported_${key%%|*}_${key#*|}=${unsupported[$key]}"; done
} >"$out/facts.txt"

# ---- run ----------------------------------------------------------------------------------------------------------
raw="$out/results.csv"
echo "round,server,workload,test,pipeline,size,requests,status,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms" >"$raw"

# bench <server> <test> <pipeline> <size> <requests> <csv file>: runs redis-benchmark, exit status as its own.
bench() {
  timeout "$run_timeout" redis-benchmark -h 127.0.0.1 -p "${port[$1]}" -c "$clients" -r "$keyspace" \
    -t "$2" -P "$3" -d "$4" -n "$5" --csv >"$6" 2>>"$out/logs/redis-benchmark.log"
}

filled_size=""
fill() {
  local size=$1 s
  [ "$filled_size" = "$size" ] && return 0
  for s in $servers; do
    log "  fill $s: SET -P 16 -d $size x $n_fill (not measured)"
    bench "$s" set 16 "$size" "$n_fill" "$out/raw/r$round-fill-$s-d$size.csv" || log "  fill $s failed (status $?)"
  done
  filled_size=$size
}

total=$(( rounds * ${#workloads[@]} ))
step=0
read -r -a server_list <<<"$servers"
for round in $(seq "$rounds"); do
  # Interleaved: every server runs a workload before any runs the next one. The order rotates each round, so that
  # no server always runs first (right after a fill) or last.
  order=()
  for i in "${!server_list[@]}"; do order+=("${server_list[$(( (i + round - 1) % ${#server_list[@]} ))]}"); done
  filled_size=""
  for w in "${workloads[@]}"; do
    IFS='|' read -r name test pipeline size requests probe <<<"$w"
    step=$((step + 1))
    log "round $round/$rounds, workload $step/$total: $name ($requests requests; order: ${order[*]})"
    if [ -z "$filled_size" ] || [ "$test" = "get" ]; then fill "$size"; fi
    for s in "${order[@]}"; do
      file="$out/raw/r$round-$s-$test-P$pipeline-d$size.csv"
      if [ -n "${unsupported["$s|$test"]:-}" ]; then
        echo "$round,$s,\"$name\",$test,$pipeline,$size,$requests,unsupported,,,,,,," >>"$raw"
        log "  $s: skipped (replies with an error)"
        continue
      fi
      status=ok
      bench "$s" "$test" "$pipeline" "$size" "$requests" "$file" || status="failed-$?"
      # --csv prints a header and one line per test: "test","rps","avg","min","p50","p95","p99","max".
      line=$(grep -v '^"test"' "$file" | tail -1 | tr -d '"' || true)
      if [ "$status" = ok ] && [ -n "$line" ]; then
        IFS=',' read -r _ rps avg min p50 p95 p99 max <<<"$line"
        echo "$round,$s,\"$name\",$test,$pipeline,$size,$requests,ok,$rps,$avg,$min,$p50,$p95,$p99,$max" >>"$raw"
        log "  $s: $rps req/s, p50 $p50 ms, p99 $p99 ms"
      else
        [ "$status" = ok ] && status=no-output
        echo "$round,$s,\"$name\",$test,$pipeline,$size,$requests,$status,,,,,,," >>"$raw"
        log "  $s: $status (see $out/logs/redis-benchmark.log)"
      fi
      # A server that died takes its remaining workloads with it: report and stop rather than benchmark a dead port.
      kill -0 "${pid[$s]}" 2>/dev/null || die "$s exited during the run (log: $out/logs/$s.log)"
    done
  done
done

python3 "$here/summarize.py" "$out" >"$out/summary.md"
log "done in $(( $(date +%s) - started_at )) s"
echo
cat "$out/summary.md"
echo
echo "Results: $out (summary.md, results.csv, raw/, logs/)"
