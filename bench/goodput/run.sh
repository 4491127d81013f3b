#!/usr/bin/env bash
# Goodput table (issue 3): loss 0, 1, 5, 10 % at a fixed RTT and bottleneck,
# one column per congestion-control algorithm, in virtual time.
# usage: bench/goodput/run.sh [BUILD_DIR] [bench-goodput options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin="$build/bench/bench-goodput"
[ -x "$bin" ] || { echo "bench/goodput: $bin not built (make first)" >&2; exit 1; }
exec "$bin" "$@"
