#!/usr/bin/env bash
# Regenerates src/Durable.Commands/Server/CommandDocs.resp3 from a real redis-server (7.0.15, as Durable reports).
# The file holds the raw RESP3 replies of HELLO 3, COMMAND INFO, COMMAND DOCS and QUIT, in that order; Durable
# embeds it and serves the richer COMMAND fields (tips, key specs, docs) from it, filtered to the commands it registers.
# Needs redis-server on PATH and bash's /dev/tcp; binds 127.0.0.1 on a free port and stops the server afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../src/Durable.Commands/Server/CommandDocs.resp3"
version="$(redis-server --version | sed -E 's/.* v=([0-9.]+) .*/\1/')"
if [[ "$version" != "7.0.15" ]]; then
  echo "warning: redis-server is $version, Durable reports 7.0.15" >&2
fi

port=""
for candidate in $(shuf -i 20000-60000 -n 20); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[[ -n "$port" ]] || { echo "no free port found" >&2; exit 1; }

dir="$(mktemp -d)"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no --logfile "$dir/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.05
done

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'HELLO 3\r\nCOMMAND INFO\r\nCOMMAND DOCS\r\nQUIT\r\n' >&3
cat <&3 > "$out"
exec 3<&-
echo "wrote $(wc -c < "$out") bytes to $out"
