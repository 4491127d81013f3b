#!/usr/bin/env bash
# Smoke test of bench-connrate (not a speed check): tiny runs complete, every
# client connection ends in TIME_WAIT, and the rates printed are positive.
set -eu
bin=${SYNACK_BUILD:-build}/bench/bench-connrate
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
check() {
    local out
    out=$("$bin" -n 1,8 -t 0.05 -p 2 -v "$@")
    echo "$out"
    [ "$(grep -c '^N=' <<<"$out")" -eq 2 ] || { echo "FAIL: expected two rows"; exit 1; }
    grep -q ERRORS <<<"$out" && { echo "FAIL: errors reported"; exit 1; }
    awk '/^N=/ { if ($3 + 0 <= 0) bad = 1 } END { exit bad }' <<<"$out" ||
        { echo "FAIL: a rate is not positive"; exit 1; }
    # every complete connection went through TIME_WAIT on the client
    awk '/reached TIME_WAIT/ { if ($2 != $8 || $2 == 0) bad = 1; n++ } END { exit bad || n != 2 }' <<<"$out" ||
        { echo "FAIL: TIME_WAIT count differs from complete connections"; exit 1; }
}
# More connections than the handle arrays' first size (1024): handlers grow
# them while the loop visits its ready list (under ASan, a list visited
# through a stale pointer is a heap-use-after-free)
grow() {
    local out
    out=$("$bin" -n 2048 -t 0.05 -p 2 -s "$@") || { echo "FAIL: exit status $? with -n 2048 $*"; exit 1; }
    echo "$out"
    [ "$(grep -c '^N=2048' <<<"$out")" -eq 1 ] || { echo "FAIL: no row for N=2048"; exit 1; }
}
check
grow
# -2: the client and the server stacks in two threads on the ring link
if [ "$(nproc)" -ge 2 ]; then
    check -2
    grow -2
else
    echo "skip -2: one CPU"
fi
echo ok
