#!/usr/bin/env bash
# Smoke test of bench-memory (not a size check): small counts complete, every
# connection asked for is held, and the per-connection figures are positive.
set -eu
bin=${SYNACK_BUILD:-build}/bench/bench-memory
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
out=$("$bin" -k 3000 -c 200 -L 20 -l 300)
echo "$out"
# RSS, not allocator bytes: under ASan mallinfo2() reports nothing; small
# objects may fit in pages already resident (0 B RSS is a figure too)
grep -q '^listening socket *synack *-*[0-9]* B allocated, *-*[0-9]* B RSS (20 listeners)' <<<"$out" ||
    { echo "FAIL: listener row"; exit 1; }
grep -q '^ESTABLISHED, idle *synack .*, *[0-9][0-9]* B RSS, both ends (200 connections)' <<<"$out" ||
    { echo "FAIL: established row"; exit 1; }
grep -q '^TIME_WAIT *synack .*, *[0-9][0-9]* B RSS per connection (200 closed' <<<"$out" ||
    { echo "FAIL: TIME_WAIT row"; exit 1; }
grep -q '^3000 idle connections: synack RSS' <<<"$out" || { echo "FAIL: 3000 idle connections not held"; exit 1; }
# the server ends alone, the clients in a child process over a socketpair
grep -q '^3000 idle connections, server ends alone .* [0-9]* B allocated per connection; established in [0-9.]* s ([0-9]* handshakes in flight)$' <<<"$out" ||
    { echo "FAIL: 3000 server ends not held"; exit 1; }
grep -q 'the client process failed' <<<"$out" && { echo "FAIL: client process"; exit 1; }
echo ok
