#!/usr/bin/env bash
# Smoke test of bench-pingpong (not a speed check): it completes and prints a
# positive round-trip rate with its ratio.
set -eu
bin=${SYNACK_BUILD:-build}/bench/bench-pingpong
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
out=$("$bin" -t 0.05 -r 1)
echo "$out"
grep -q FAILED <<<"$out" && { echo "FAIL"; exit 1; }
awk '/^synack/ { if ($2 + 0 <= 0) bad = 1; n++ } END { exit bad || n != 1 }' <<<"$out" || { echo "FAIL: no positive rate"; exit 1; }
echo ok
