#!/usr/bin/env bash
# Memory (issue 8): bytes per listener, per idle ESTABLISHED and per
# TIME_WAIT connection, and 1,000,000 idle connections held at once (stopped
# at 6 GiB of RSS): both ends in this process, then the server ends alone
# with the clients in a child process (socketpair link); against Linux's
# slab per idle loopback connection (100,000). QUICK=1: 100,000 synack
# connections, 20,000 Linux.
# usage: bench/memory/run.sh [BUILD_DIR] [options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin="$build/bench/bench-memory"
[ -x "$bin" ] || { echo "bench/memory: $bin not built (make first)" >&2; exit 1; }
if [ "${QUICK:-0}" = 1 ]; then set -- -k 100000 -l 20000 "$@"; fi
exec "$bin" "$@"
