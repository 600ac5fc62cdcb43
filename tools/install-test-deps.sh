#!/usr/bin/env bash
# Installs what the tests and benchmarks need besides the .NET SDK: redis-server (the reference implementation
# that byte-exact tests compare against), redis-tools (redis-cli, redis-benchmark) and e2fsprogs (mkfs.ext4, for the
# power-cut tests' file system; those run where the user is root and loop devices exist). Idempotent; quiet when present.
set -euo pipefail
# dotnet-stack, for the tests' report of every thread's stack when a reply does not come in time (StallReport.cs); a
# diagnostic only, so a failure to install it does not stop the tests.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/.tools/dotnet-stack" ]; then
  dotnet tool install dotnet-stack --version 10.0.750501 --tool-path "$root/.tools" >/dev/null 2>&1 \
    || echo "install-test-deps: dotnet-stack was not installed; a stalled test will not report its threads' stacks"
fi
if command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 \
  && { command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /sbin/mkfs.ext4 ]; }; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq redis-server redis-tools e2fsprogs >/dev/null
# The Debian package starts a redis-server service on 6379; the tests start their own, so stop it if it runs.
if command -v service >/dev/null 2>&1; then $SUDO service redis-server stop >/dev/null 2>&1 || true; fi
