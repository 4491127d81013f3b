#!/usr/bin/env bash
# Smoke test of bench-pktcost (not a speed check): both K complete with a
# positive cost per segment, and K idle connections were held.
set -eu
bin=${SYNACK_BUILD:-build}/bench/bench-pktcost
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
out=$("$bin" -k 10,300 -t 0.02)
echo "$out"
grep -q FAILED <<<"$out" && { echo "FAIL"; exit 1; }
grep -q '^K=300 .*K held 300)' <<<"$out" || { echo "FAIL: 300 idle connections not held"; exit 1; }
awk '/^K=/ { if ($3 + 0 <= 0) bad = 1; n++ } END { exit bad || n != 2 }' <<<"$out" || { echo "FAIL: no positive cost"; exit 1; }
echo ok
