#!/usr/bin/env bash
# End-to-end comparison of durable-server, redis-server and garnet-server with redis-benchmark.
# Usage: benchmarks/compare/run.sh [--all] [--quick] [--scenario throughput|larger-than-ram|recovery]
#          [--durability memory|fsync|default] [--rounds N] [--servers "durable redis garnet"] [--out DIR]
# --all runs every scenario (throughput with each durability, larger-than-ram, recovery) into one folder.
# See benchmarks/compare/README.md. Results go to artifacts/compare/<timestamp>/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
garnet_version="2.2.8"
garnet_dir="$repo/.tools/garnet"
keyspace=100000
clients=50

all=0
quick=0
rounds=""
servers="durable redis garnet"
scenario="throughput"
durability="memory"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --quick) quick=1 ;;
    --rounds) rounds="$2"; shift ;;
    --servers) servers="$2"; shift ;;
    --scenario) scenario="$2"; shift ;;
    --durability) durability="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$scenario" in throughput|larger-than-ram|recovery) ;; *) echo "run.sh: unknown --scenario '$scenario'" >&2; exit 2 ;; esac
case "$durability" in memory|fsync|default) ;; *) echo "run.sh: --durability must be memory, fsync or default" >&2; exit 2 ;; esac

if [ "$quick" -eq 1 ]; then
  mode="quick"; rounds="${rounds:-1}"; n_p1=60000; n_p16=400000; run_timeout=60
  ltr_budget_mb=16; ltr_p1=20000; ltr_p16=60000; recovery_keys=200000
else
  mode="full"; rounds="${rounds:-3}"; n_p1=200000; n_p16=1000000; run_timeout=300
  ltr_budget_mb=64; ltr_p1=60000; ltr_p16=200000; recovery_keys=2000000
fi
# Unmeasured fill at the start of each round (it also warms up the JIT of the .NET servers) and before the GETs of
# another value size, so that GETs hit values of the size they claim: P16 SETs covering about 95% of the key space.
n_fill=$((keyspace * 3))

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

# ---- output directory, build ---------------------------------------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="${out:-$repo/artifacts/compare/$stamp}"
mkdir -p "$out/logs"
work=$(mktemp -d /tmp/durable-compare.XXXXXX)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit (uncommitted changes)"; fi

if [[ " $servers " == *" durable "* ]]; then
  log "building durable-server (Release)"
  dotnet build "$repo/src/Durable.Server/Durable.Server.csproj" -c Release -nologo -v q >"$out/logs/build.log" 2>&1 \
    || { tail -30 "$out/logs/build.log" >&2; die "build failed (log: $out/logs/build.log)"; }
  durable_dll="$repo/src/Durable.Server/bin/Release/net10.0/durable-server.dll"
  [ -f "$durable_dll" ] || die "build produced no $durable_dll"
fi
read -r -a server_list <<<"$servers"

# ---- servers: started here, always stopped on exit --------------------------------------------------------------
# Per scenario: sdir is its output folder, swork its data folder; durable_args, redis_args and garnet_args its
# server settings.
declare -A pid port cmdline
sdir="$out"
swork="$work"

stop_server() {
  local s=$1
  if kill -0 "${pid[$s]}" 2>/dev/null; then
    kill "${pid[$s]}" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "${pid[$s]}" 2>/dev/null || break; sleep 0.2; done
    kill -9 "${pid[$s]}" 2>/dev/null || true
  fi
  wait "${pid[$s]}" 2>/dev/null || true
  unset "pid[$s]"
}
stop_servers() {
  local s
  for s in "${!pid[@]}"; do stop_server "$s"; done
}
cleanup() {
  stop_servers
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The words of a command line, quoted where needed (an empty argument shows as '').
shown() { printf '%q ' "$@" | sed 's/ $//'; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until the server answers DBSIZE; fails (never benchmarks a dead port) if it exits or takes over 90 s.
wait_ready() {
  local s=$1
  for _ in $(seq 450); do
    if ! kill -0 "${pid[$s]}" 2>/dev/null; then
      tail -20 "$sdir/logs/$s.log" >&2
      die "$s exited during startup (log: $sdir/logs/$s.log)"
    fi
    # DBSIZE rather than PING: PING also answers while a server is still loading its data set.
    if timeout 2 redis-cli -h 127.0.0.1 -p "${port[$s]}" DBSIZE 2>/dev/null | grep -Eq '^[0-9]+$'; then return 0; fi
    sleep 0.2
  done
  die "$s did not answer DBSIZE within 90 s (log: $sdir/logs/$s.log)"
}

# Starts server $1 on a new free port with data folder $swork/$1 (kept across restarts) and returns at once.
spawn_server() {
  local s=$1 dir="$swork/$1"
  local -a cmd
  port[$s]=$(free_port)
  mkdir -p "$dir"
  case "$s" in
    durable) cmd=(dotnet "$durable_dll" --bind 127.0.0.1 --port "${port[$s]}" --dir "$dir" --loglevel warning "${durable_args[@]}") ;;
    redis) cmd=(redis-server --bind 127.0.0.1 --port "${port[$s]}" --dir "$dir" "${redis_args[@]}" --daemonize no --logfile '') ;;
    garnet) cmd=("$garnet_dir/garnet-server" --bind 127.0.0.1 --port "${port[$s]}" "${garnet_args[@]}") ;;
    *) die "unknown server '$s' (use durable, redis, garnet)" ;;
  esac
  # Shown without the install paths: dotnet durable-server.dll ..., garnet-server ...
  cmdline[$s]=$(shown "$(basename "${cmd[0]}")" "${cmd[@]:1}" | sed "s|^dotnet [^ ]*|dotnet durable-server.dll|")
  echo "---- $(date -u +%H:%M:%S) ${cmdline[$s]}" >>"$sdir/logs/$s.log"
  (cd "$dir" && exec "${cmd[@]}") >>"$sdir/logs/$s.log" 2>&1 &
  pid[$s]=$!
}

start_server() {
  spawn_server "$1"
  wait_ready "$1"
  log "$1 ready on 127.0.0.1:${port[$1]} (pid ${pid[$1]}, data $swork/$1)"
}

cli() {
  local s=$1
  shift
  timeout 60 redis-cli -h 127.0.0.1 -p "${port[$s]}" "$@"
}

# bench <server> <output file> <redis-benchmark arguments...>: exit status as redis-benchmark's (124: timed out).
bench() {
  local s=$1 file=$2
  shift 2
  timeout "$run_timeout" redis-benchmark -h 127.0.0.1 -p "${port[$s]}" "$@" >"$file" 2>>"$sdir/logs/redis-benchmark.log"
}

# The mixed workload: redis-benchmark runs one command type per run, so a GET run with 4/5 of the clients and a SET
# run with 1/5 start together, with 4/5 and 1/5 of the requests; mix.py combines their req/s and merges their latency
# distributions (README: "The mixed workload").
bench_mix() {
  local s=$1 file=$2 keys=$3 pipeline=$4 size=$5 requests=$6 status=0 get_pid set_pid
  local common=(-r "$keys" -P "$pipeline" -d "$size")
  bench "$s" "$file-get.txt" -c $((clients * 4 / 5)) -t get -n $((requests * 4 / 5)) "${common[@]}" &
  get_pid=$!
  bench "$s" "$file-set.txt" -c $((clients / 5)) -t set -n $((requests / 5)) "${common[@]}" &
  set_pid=$!
  wait "$get_pid" || status=$?
  wait "$set_pid" || status=$?
  [ "$status" -eq 0 ] || return "$status"
  python3 "$here/mix.py" "$file-get.txt" "$file-set.txt" >"$file.csv"
}

# measure <round> <server> <workload> <test> <pipeline> <value size> <requests> <key space>: runs one workload on one
# server and appends its line to results.csv (and, for the mix, its two halves to mix.csv).
measure() {
  local round=$1 s=$2 name=$3 test=$4 pipeline=$5 size=$6 requests=$7 keys=$8
  local file status=ok line="" rps avg min p50 p95 p99 max parts
  file="$sdir/raw/r$round-$s-$(tr -cs 'A-Za-z0-9%' '_' <<<"$name" | sed 's/_$//')"
  if [ "$test" = mix ]; then
    bench_mix "$s" "$file" "$keys" "$pipeline" "$size" "$requests" || status="failed-$?"
    [ "$status" = ok ] && line=$(cat "$file.csv")
  else
    bench "$s" "$file.csv" -c "$clients" -r "$keys" -t "$test" -P "$pipeline" -d "$size" -n "$requests" --csv \
      || status="failed-$?"
    # --csv prints a header and one line per test: "test","rps","avg","min","p50","p95","p99","max".
    line=$(grep -v '^"test"' "$file.csv" | tail -1 | tr -d '"' | cut -d, -f2- || true)
  fi
  if [ "$status" = ok ] && [ -n "$line" ]; then
    IFS=',' read -r rps avg min p50 p95 p99 max parts <<<"$line"
    echo "$round,$s,\"$name\",$test,$pipeline,$size,$requests,ok,$rps,$avg,$min,$p50,$p95,$p99,$max" >>"$sdir/results.csv"
    if [ -n "$parts" ]; then echo "$round,$s,\"$name\",$parts" >>"$sdir/mix.csv"; fi
    log "  $s: $rps req/s, p50 $p50 ms, p99 $p99 ms"
  else
    [ "$status" = ok ] && status=no-output
    echo "$round,$s,\"$name\",$test,$pipeline,$size,$requests,$status,,,,,,," >>"$sdir/results.csv"
    log "  $s: $status (see $sdir/logs/redis-benchmark.log)"
  fi
  # A server that died takes its remaining workloads with it: report and stop rather than benchmark a dead port.
  kill -0 "${pid[$s]}" 2>/dev/null || die "$s exited during the run (log: $sdir/logs/$s.log)"
}

# Server order of round $1: rotates, so that no server always runs first (right after a fill) or last.
round_order() {
  local i
  for i in "${!server_list[@]}"; do printf '%s ' "${server_list[$(( (i + $1 - 1) % ${#server_list[@]} ))]}"; done
}

# ---- facts for the report ----------------------------------------------------------------------------------------
# begin_scenario <name> <output folder> <rounds>: fresh folders, results.csv header and the facts every summary shows.
begin_scenario() {
  sdir=$2
  swork="$work/$1"
  mkdir -p "$sdir/logs" "$sdir/raw" "$swork"
  echo "round,server,workload,test,pipeline,size,requests,status,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms" >"$sdir/results.csv"
  echo "round,server,workload,get_rps,set_rps,get_s,set_s,get_p50_ms,get_p99_ms,set_p50_ms,set_p99_ms" >"$sdir/mix.csv"
  {
    echo "scenario=$1"
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "mode=$mode"
    echo "rounds=$3"
    echo "commit=$commit"
    echo "machine=$(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
    echo "redis=$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)"
    echo "garnet=$garnet_version"
    echo "dotnet=$(dotnet --version)"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  } >"$sdir/facts.txt"
  log "== scenario $1 ($mode) =="
}

end_scenario() {
  local s
  for s in "${server_list[@]}"; do echo "cmd_$s=${cmdline[$s]}" >>"$sdir/facts.txt"; done
  echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$sdir/facts.txt"
  stop_servers
  python3 "$here/summarize.py" "$sdir" >"$sdir/summary.md"
}

# ---- scenario: throughput (in memory, strongest fsync, default persistence) ----------------------------------------
run_throughput() {
  local name=$1 durability=$2 w wname test pipeline size requests probe s round step total filled_size reply key
  local p1=$n_p1 p16=$n_p16
  local -a workloads order
  # The full run halves the requests of the durable-write scenarios (fsync'd writes are slow), to stay well under 30
  # minutes in all.
  if [ "$mode" = full ] && [ "$durability" != memory ]; then p1=$((n_p1 / 2)); p16=$((n_p16 / 2)); fi
  # Persistence per durability level. memory: as little persistence as each server allows (Durable always logs, so
  # it commits its WAL every 5 s). fsync: each server's strongest setting (reply after the write is on disk).
  # default: each server's out-of-the-box persistence, with Redis's recommended AOF turned on (README).
  case "$durability" in
    memory) durable_args=(--appendfsync no); redis_args=(--save '' --appendonly no); garnet_args=() ;;
    fsync)
      durable_args=(--appendfsync always)
      redis_args=(--save '' --appendonly yes --appendfsync always)
      garnet_args=(--aof --aof-commit-wait --device-type RandomAccess)
      ;;
    default) durable_args=(); redis_args=(--appendonly yes --appendfsync everysec); garnet_args=() ;;
  esac
  # Workloads: name|redis-benchmark test|pipeline|value size|requests|probe command (run once per server first)|key
  # space (-r; the default key space when empty).
  workloads=(
    "SET -P 1 -d 100|set|1|100|$p1|SET probe:key 1"
    "GET -P 1 -d 100|get|1|100|$p1|GET probe:key"
    "SET -P 16 -d 100|set|16|100|$p16|SET probe:key 1"
    "GET -P 16 -d 100|get|16|100|$p16|GET probe:key"
    "MIX 80/20 GET/SET -P 1 -d 100|mix|1|100|$p1|GET probe:key"
    "INCR -P 1|incr|1|100|$p1|INCR probe:counter"
    "MSET (10 keys) -P 1 -d 100|mset|1|100|$p1|MSET probe:a 1 probe:b 2"
  )
  # Collections, in memory only: redis-benchmark grows one collection per test (LPUSH: the list "mylist", which LPOP
  # then empties; SADD, HSET, ZADD: -r members of one key), so these use fewer requests and -r 1000.
  if [ "$durability" = memory ]; then
    local pc=$((n_p1 / 6))
    workloads+=(
      "LPUSH -P 1|lpush|1|3|$pc|LPUSH probe:list a|"
      "LPUSH -P 16|lpush|16|3|$pc|LPUSH probe:list a|"
      "LPOP -P 1|lpop|1|3|$pc|LPOP probe:list|"
      "LPOP -P 16|lpop|16|3|$pc|LPOP probe:list|"
      "SADD -P 1 -r 1000|sadd|1|3|$pc|SADD probe:set a|1000"
      "SADD -P 16 -r 1000|sadd|16|3|$pc|SADD probe:set a|1000"
      "HSET -P 1 -r 1000|hset|1|3|$pc|HSET probe:hash f v|1000"
      "HSET -P 16 -r 1000|hset|16|3|$pc|HSET probe:hash f v|1000"
      "ZADD -P 1 -r 1000|zadd|1|3|$pc|ZADD probe:zset 1 a|1000"
      "ZADD -P 16 -r 1000|zadd|16|3|$pc|ZADD probe:zset 1 a|1000"
    )
  fi
  # The full run adds the heavier workloads to the in-memory scenario only, for the same reason.
  if [ "$mode" = "full" ] && [ "$durability" = memory ]; then
    workloads+=(
      "MIX 80/20 GET/SET -P 16 -d 100|mix|16|100|$p16|GET probe:key"
      "INCR -P 16|incr|16|100|$p16|INCR probe:counter"
      "MSET (10 keys) -P 16 -d 100|mset|16|100|$((p16 / 4))|MSET probe:a 1 probe:b 2"
      "SET -P 1 -d 4096|set|1|4096|$p1|SET probe:key 1"
      "GET -P 1 -d 4096|get|1|4096|$p1|GET probe:key"
      "SET -P 16 -d 4096|set|16|4096|$((p16 / 4))|SET probe:key 1"
      "GET -P 16 -d 4096|get|16|4096|$((p16 / 4))|GET probe:key"
    )
  fi
  begin_scenario "$name" "$3" "$rounds"
  for s in "${server_list[@]}"; do start_server "$s"; done

  # Probe: which workloads does each server support?
  declare -A unsupported=()
  for w in "${workloads[@]}"; do
    IFS='|' read -r _ test _ _ _ probe _ <<<"$w"
    for s in "${server_list[@]}"; do
      # shellcheck disable=SC2086  # the probe is a command line to split into words
      reply=$(cli "$s" $probe 2>&1 || true)
      if [[ "$reply" == ERR* || "$reply" == "(error)"* || "$reply" == *"unknown command"* ]]; then
        unsupported["$s|$test"]="$reply"
      fi
    done
  done
  for s in "${server_list[@]}"; do
    cli "$s" DEL probe:key probe:counter probe:a probe:b probe:list probe:set probe:hash probe:zset >/dev/null 2>&1 || true
  done
  {
    echo "benchmark=redis-benchmark -h 127.0.0.1 -c $clients -r $keyspace --csv; requests: P1 $p1, P16 $p16 (MSET and -d 4096 at P16: a quarter); MIX: GET with $((clients * 4 / 5)) clients and SET with $((clients / 5)) at the same time; redis-benchmark runs on the same machine and shares its cores"
    echo "persistence_durable=write-ahead log, ${durable_args[*]:-defaults (--appendfsync always)} (checkpoints every 300 s while writing)"
    echo "persistence_redis=$(shown "${redis_args[@]}")$([ "$durability" = default ] && echo " (RDB snapshots on the built-in schedule: save 3600 1 300 100 60 10000)")"
    echo "persistence_garnet=${garnet_args[*]:-none (defaults: no AOF, no checkpoints, no storage tier)}"
    for key in "${!unsupported[@]}"; do
      log "skipping ${key%%|*} ${key#*|}: ${unsupported[$key]}"
      echo "unsupported_${key%%|*}_${key#*|}=${unsupported[$key]}"
    done
  } >>"$sdir/facts.txt"

  total=$(( rounds * ${#workloads[@]} ))
  step=0
  for round in $(seq "$rounds"); do
    # Interleaved: every server runs a workload before any runs the next one.
    read -r -a order <<<"$(round_order "$round")"
    filled_size=""
    for w in "${workloads[@]}"; do
      IFS='|' read -r wname test pipeline size requests _ wkeys <<<"$w"
      step=$((step + 1))
      log "$name round $round/$rounds, workload $step/$total: $wname ($requests requests; order: ${order[*]})"
      if [ -z "$filled_size" ] || { [ "$filled_size" != "$size" ] && [[ "$test" == get || "$test" == mix ]]; }; then
        for s in "${server_list[@]}"; do
          log "  fill $s: SET -P 16 -d $size x $n_fill (not measured)"
          bench "$s" "$sdir/raw/r$round-fill-$s-d$size.csv" -c "$clients" -r "$keyspace" -t set -P 16 -d "$size" \
            -n "$n_fill" --csv || log "  fill $s failed (status $?)"
        done
        filled_size=$size
      fi
      for s in "${order[@]}"; do
        if [ -n "${unsupported["$s|$test"]:-}" ]; then
          echo "$round,$s,\"$wname\",$test,$pipeline,$size,$requests,unsupported,,,,,,," >>"$sdir/results.csv"
          log "  $s: skipped (replies with an error)"
          continue
        fi
        measure "$round" "$s" "$wname" "$test" "$pipeline" "$size" "$requests" "${wkeys:-$keyspace}"
      done
    done
  done
  end_scenario
}

# start_and_load <keys> <value bytes>: starts every server, then loads the same keys into each in turn, piping a
# RESP file through one connection (redis-cli --pipe); leaves the seconds each load took in load_secs.
declare -A load_secs
start_and_load() {
  local keys=$1 size=$2 s t0 t1 reply
  for s in "${server_list[@]}"; do start_server "$s"; done
  log "writing $keys SET commands of $size B to a RESP file"
  python3 "$here/resp_sets.py" "$keys" "$size" >"$swork/sets.resp"
  for s in "${server_list[@]}"; do
    log "loading $keys keys into $s (redis-cli --pipe)"
    t0=$(date +%s.%N)
    reply=$(timeout 1200 redis-cli -h 127.0.0.1 -p "${port[$s]}" --pipe <"$swork/sets.resp" 2>&1 | tail -1)
    t1=$(date +%s.%N)
    [[ "$reply" == *"errors: 0, replies: $keys"* ]] || die "loading $s failed: $reply (log: $sdir/logs/$s.log)"
    load_secs[$s]=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", t1 - t0 }')
    log "  $s: ${load_secs[$s]} s ($(awk -v n="$keys" -v t="${load_secs[$s]}" 'BEGIN { printf "%.0f", n / t }') keys/s)"
  done
  rm -f "$swork/sets.resp"
}

# ---- scenario: larger than RAM -------------------------------------------------------------------------------------
run_larger_than_ram() {
  local budget=$ltr_budget_mb size=1024 keys hot s round w wname pipeline range requests rate step total
  local -a workloads order
  keys=$((budget * 1048576 * 10 / size))
  hot=$((keys / 100))
  # Durable and Garnet keep $budget MiB of log in memory (Durable's pages are an eighth of it, Garnet's a quarter: at
  # least 4 pages; 16 MiB of hash index each, which is not part of the budget for either) and the rest on disk. Redis holds everything in memory: a reference for
  # what the disk path costs, not a contestant (with maxmemory it would evict keys rather than read them from disk).
  durable_args=(--memory "${budget}mb" --index 16mb --appendfsync no)
  redis_args=(--save '' --appendonly no)
  garnet_args=(--storage-tier --logdir "$work/larger-than-ram/garnet" --memory "${budget}m" --page "$((budget / 4))m"
    --index 16m --device-type RandomAccess --minthreads 64)
  workloads=(
    "GET -P 1, uniform over all keys|1|$keys|$ltr_p1"
    "GET -P 1, hot 1% (the first keys loaded)|1|$hot|$ltr_p1"
    "GET -P 16, uniform over all keys|16|$keys|$ltr_p16"
  )
  begin_scenario larger-than-ram "$1" "$rounds"
  {
    echo "benchmark=$keys keys x $size B ($((keys * size / 1048576)) MiB of values, ten times the $budget MiB budget) loaded with redis-cli --pipe; then redis-benchmark -c $clients -t get, -r $keys (uniform) or -r $hot (hot 1%); requests: P1 $ltr_p1, P16 $ltr_p16; redis-benchmark runs on the same machine and shares its cores"
    echo "persistence_durable=${durable_args[*]} (the write-ahead log commits every 5 s; checkpoints on the defaults)"
    echo "persistence_redis=$(shown "${redis_args[@]}") (no maxmemory: the whole data set in memory, as a reference)"
    echo "persistence_garnet=storage tier, no AOF, no checkpoints"
  } >>"$sdir/facts.txt"
  start_and_load "$keys" "$size"
  for s in "${server_list[@]}"; do
    rate=$(awk -v n="$keys" -v t="${load_secs[$s]}" 'BEGIN { printf "%.0f", n / t }')
    echo "1,$s,\"load $keys keys x $size B (redis-cli --pipe, 1 connection)\",set,pipe,$size,$keys,ok,$rate,,,,,," >>"$sdir/results.csv"
    [ "$(cli "$s" STRLEN key:000000000000)" = "$size" ] || die "$s lost key:000000000000 after loading"
    echo "after_load_$s=RSS $(( $(ps -o rss= -p "${pid[$s]}") / 1024 )) MiB, data folder $(du -sm "$swork/$s" | cut -f1) MiB" >>"$sdir/facts.txt"
    log "  $s after loading: $(grep "after_load_$s" "$sdir/facts.txt" | cut -d= -f2)"
  done
  total=$(( rounds * ${#workloads[@]} ))
  step=0
  for round in $(seq "$rounds"); do
    read -r -a order <<<"$(round_order "$round")"
    for w in "${workloads[@]}"; do
      IFS='|' read -r wname pipeline range requests <<<"$w"
      step=$((step + 1))
      log "larger-than-ram round $round/$rounds, workload $step/$total: $wname ($requests requests; order: ${order[*]})"
      for s in "${order[@]}"; do measure "$round" "$s" "$wname" get "$pipeline" "$size" "$requests" "$range"; done
    done
  done
  end_scenario
}

# ---- scenario: recovery time -----------------------------------------------------------------------------------------
# recover <server> <phase>: SIGKILLs the server, restarts it on the same data folder and appends to recovery.csv how
# long it took to accept connections, to serve GET of the last key loaded, and to report all keys in DBSIZE.
recover() {
  local s=$1 phase=$2 disk t0 result
  kill -9 "${pid[$s]}"
  wait "${pid[$s]}" 2>/dev/null || true
  disk=$(du -sm "$swork/$s" | cut -f1)
  t0=$(date +%s.%N)
  spawn_server "$s"
  result=$(python3 "$here/recovery_probe.py" "${port[$s]}" "${pid[$s]}" "key:$(printf '%012d' $((recovery_keys - 1)))" 100 \
    "$recovery_keys" "$t0" "$run_timeout")
  echo "$phase,$s,$recovery_keys,$disk,$result" >>"$sdir/recovery.csv"
  log "  $s: $result (listen_s,first_get_s,loaded_s,dbsize,loading_replies,status; $disk MiB on disk)"
  # A server that did not recover is reported, not fatal: the others still get measured.
  if ! kill -0 "${pid[$s]}" 2>/dev/null; then
    log "  $s exited (log: $sdir/logs/$s.log)"
    return 1
  fi
  [[ "$result" == *",ok" ]] || wait_ready "$s"
}

run_recovery() {
  local s
  # Log replay: no snapshot is taken while loading (Durable: no checkpoint; Redis: no RDB, no AOF rewrite; Garnet:
  # no checkpoint), so recovery replays every write from the log. Writes are committed about once a second by each,
  # and the kill comes 3 s after the load. Then a snapshot (Durable SAVE = checkpoint, Redis BGREWRITEAOF = an RDB
  # preamble as the AOF base, Garnet SAVE = checkpoint) and a second kill: recovery loads the snapshot.
  durable_args=(--appendfsync everysec --checkpoint-interval 0 --checkpoint-wal-size 100gb)
  redis_args=(--save '' --appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0)
  garnet_args=(--aof --checkpointdir "$work/recovery/garnet" --recover --device-type RandomAccess)
  begin_scenario recovery "$1" 1
  echo "phase,server,keys,disk_mib,listen_s,first_get_s,loaded_s,dbsize,loading_replies,status" >"$sdir/recovery.csv"
  {
    echo "benchmark=$recovery_keys keys x 100 B loaded with redis-cli --pipe, SIGKILL 3 s later, restart on the same data folder; probed every 10 ms (GET key:$(printf '%012d' $((recovery_keys - 1))), then DBSIZE)"
    echo "persistence_durable=${durable_args[*]}; snapshot phase: SAVE (checkpoint)"
    echo "persistence_redis=$(shown "${redis_args[@]}"); snapshot phase: BGREWRITEAOF (aof-use-rdb-preamble yes: the new AOF base is an RDB file)"
    echo "persistence_garnet=${garnet_args[*]}; snapshot phase: SAVE (checkpoint)"
  } >>"$sdir/facts.txt"
  start_and_load "$recovery_keys" 100
  sleep 3
  log "recovery by log replay (SIGKILL, restart)"
  declare -A recovered=()
  for s in "${server_list[@]}"; do recover "$s" log && recovered[$s]=1; done
  log "recovery from a snapshot (snapshot, SIGKILL, restart)"
  for s in "${server_list[@]}"; do
    [ -n "${recovered[$s]:-}" ] || continue
    case "$s" in
      redis)
        cli "$s" BGREWRITEAOF >/dev/null
        until cli "$s" INFO persistence | grep -q 'aof_rewrite_in_progress:0' \
          && cli "$s" INFO persistence | grep -q 'aof_rewrite_scheduled:0'; do sleep 0.2; done
        ;;
      *) [ "$(cli "$s" SAVE)" = OK ] || die "SAVE failed on $s" ;;
    esac
    sleep 3
    recover "$s" snapshot
  done
  end_scenario
}

# ---- run -----------------------------------------------------------------------------------------------------------
if [ "$all" -eq 1 ]; then
  log "all scenarios ($mode): throughput (memory, fsync, default durability), larger-than-ram, recovery"
  run_throughput throughput-memory memory "$out/throughput-memory"
  run_throughput throughput-fsync fsync "$out/throughput-fsync"
  run_throughput throughput-default default "$out/throughput-default"
  run_larger_than_ram "$out/larger-than-ram"
  run_recovery "$out/recovery"
else
  case "$scenario" in
    throughput) run_throughput "throughput-$durability" "$durability" "$out" ;;
    larger-than-ram) run_larger_than_ram "$out" ;;
    recovery) run_recovery "$out" ;;
  esac
fi
[ "$all" -eq 1 ] && python3 "$here/summarize.py" "$out" >"$out/summary.md"
log "done in $(( $(date +%s) - started_at )) s"
echo
cat "$out/summary.md"
echo
echo "Results: $out (summary.md; per scenario: results.csv, raw/, logs/)"
