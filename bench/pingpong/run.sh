#!/usr/bin/env bash
# Ping-pong (issue 8): 1-byte round trips per second, TCP_NODELAY, synack
# on the memlink against Linux loopback in a namespace of the program's own.
# QUICK=1: one run of 0.5 s. usage: bench/pingpong/run.sh [BUILD_DIR] [options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin="$build/bench/bench-pingpong"
[ -x "$bin" ] || { echo "bench/pingpong: $bin not built (make first)" >&2; exit 1; }
if [ "${QUICK:-0}" = 1 ]; then set -- -t 0.5 -r 1 "$@"; fi
exec "$bin" "$@"
