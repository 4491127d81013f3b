#!/usr/bin/env bash
# Bulk-transfer benchmark (issue 3): 1 GiB over one connection, synack's two
# stacks on the in-memory link against two Linux sockets on loopback, at MSS
# 1460 and at the largest segment. usage: bench/bulk/run.sh [BUILD_DIR] [BYTES]
# Linux's figure needs a network namespace of the program's own (root); it
# is skipped with a message otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
bin="$build/bench/bench-bulk"
[ -x "$bin" ] || { echo "bench/bulk: $bin not built (make first)" >&2; exit 1; }
if [ -n "${2:-}" ]; then
    exec "$bin" -n "$2"
fi
exec "$bin"
