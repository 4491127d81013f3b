#!/usr/bin/env bash
# Connection rate (issue 8): complete connections per second, N = 1, 64 and
# 1024 in parallel, synack's two stacks on the memlink against Linux loopback
# in a namespace of the program's own (on the host's loopback when not
# root). Then the same with synack's TIME_WAIT cut to 1 ms (-w 1), a
# diagnostic: the cost per connection without the TIME_WAIT connections
# that pile up in synack's timer scan. With two CPUs or more, then the same
# with the client side and the server side on CPUs of their own (-2:
# synack's stacks on the ring link, Linux's two epoll loops), which prints
# how busy each CPU was. QUICK=1: 0.5 s per N.
# usage: bench/connrate/run.sh [BUILD_DIR] [options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
bin="$build/bench/bench-connrate"
[ -x "$bin" ] || { echo "bench/connrate: $bin not built (make first)" >&2; exit 1; }
if [ "${QUICK:-0}" = 1 ]; then set -- -t 0.5 "$@"; fi
"$bin" "$@"
"$bin" -w 1 "$@"
if [ "$(nproc)" -ge 2 ]; then
    "$bin" -2 "$@"
else
    echo "bench/connrate: -2 skipped: one CPU"
fi
