#!/usr/bin/env bash
# `synack demo --memory`: the seed's exchange between two stacks, explained.
# Checks the explanation's arithmetic and that tshark reads the capture it
# writes without a malformed packet.
set -euo pipefail
bin=${SYNACK_BIN:?}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$bin" demo --memory --seed 11 --pcap "$dir/d.pcap")
fail() { echo "demo_test: $*"; echo "$out"; exit 1; }
grep -q "ack 58 = 1 + 9+9+28+11" <<<"$out" || fail "no cumulative ACK of 57 bytes"
grep -qE "ack [0-9]+ = [0-9]+ \+ 1 \(SYN\)" <<<"$out" || fail "no handshake arithmetic"
# The ladder (the analyzer's, tools/trace/ladder.c) shows each rung's flags,
# relative numbers on the arrow and the raw ones beside it.
read -r isn_a isn_b < <(sed -n 's/^Client ISN a = \([0-9]*\), server ISN b = \([0-9]*\)\./\1 \2/p' <<<"$out")
[ -n "$isn_a" ] || fail "no ISNs printed"
grep -qE -- "-+ ACK seq 1 ack 58 -+>\| +$(((isn_a + 1) % 4294967296)) +$(((isn_b + 58) % 4294967296))  ack 58 = 1 \+ 9\+9\+28\+11" <<<"$out" ||
    fail "the cumulative ACK's rung lacks its flags or its relative and absolute numbers"
grep -qE "<-+ PSH,ACK seq 10 ack 1 len 9 -+\| +$(((isn_b + 10) % 4294967296)) " <<<"$out" || fail "no rung for the second 9 bytes"
grep -q "FIN_WAIT_2   -> TIME_WAIT" <<<"$out" || fail "client did not reach TIME_WAIT"
grep -q "LAST_ACK     -> CLOSED" <<<"$out" || fail "server did not close"
grep -q "TIME_WAIT    -> CLOSED        (2MSL timeout)" <<<"$out" || fail "TIME_WAIT did not end"
# the same seed replays the same run
out2=$("$bin" demo --memory --seed 11 --pcap "$dir/e.pcap")
[ "$out" = "${out2//e.pcap/d.pcap}" ] || fail "same seed, different run"
if command -v tshark >/dev/null; then
    t=$(tshark -r "$dir/d.pcap" 2>&1)
    n=$(grep -c " → " <<<"$t" || true)
    [ "$n" -eq 13 ] || fail "tshark saw $n packets, expected 13: $t"
    if grep -qi malformed <<<"$t"; then fail "tshark: malformed packet: $t"; fi
    e=$(tshark -r "$dir/d.pcap" -q -z expert,error 2>&1 | grep -ci "error" || true)
    [ "$e" -le 1 ] || fail "tshark expert errors: $(tshark -r "$dir/d.pcap" -q -z expert,error)"
else
    echo "demo_test: tshark not installed: capture check skipped"
fi
echo "demo_test: ok"
