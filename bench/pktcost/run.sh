#!/usr/bin/env bash
# Per-packet cost (issue 8): ns per segment of a ping-pong beside K = 1,000
# and K = 1,000,000 idle connections (the larger stopped at 6 GiB of RSS;
# Linux at most 100,000: -l), synack against Linux loopback. QUICK=1: K = 1,000 and 20,000.
# usage: bench/pktcost/run.sh [BUILD_DIR] [options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin="$build/bench/bench-pktcost"
[ -x "$bin" ] || { echo "bench/pktcost: $bin not built (make first)" >&2; exit 1; }
if [ "${QUICK:-0}" = 1 ]; then set -- -k 1000,20000 -t 0.5 "$@"; fi
exec "$bin" "$@"
