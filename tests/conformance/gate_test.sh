#!/usr/bin/env bash
# The expected-results gate of synack-conform itself: a script recorded as
# passing that fails must fail the run (exit 1, REGRESSION); a script
# recorded as failing that passes is reported, not fatal; a script missing
# from the file fails the run. Uses one script that passes today and one
# that fails on a line synack-conform reads.
set -u
shared=${SYNACK_SHARED:?}
. "$(dirname "$0")/conform_lib.sh"
mkdir -p "$tmp/s"
# passes: a listener answering a SYN; fails: it expects the wrong ack
cat > "$tmp/s/good.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
PKT
sed 's/ack 1 <...>/ack 2 <...>/' "$tmp/s/good.pkt" > "$tmp/s/bad.pkt"
printf 'good.pkt\nbad.pkt\n' > "$tmp/s/list.txt"
gate() { # name, expected exit, pattern, expected-file content[, runner options]
    printf '%b' "$4" > "$tmp/exp.tsv"
    # shellcheck disable=SC2086 # the options are words
    check "$1" "$2" "$3" --list="$tmp/s/list.txt" --expected="$tmp/exp.tsv" ${5:-}
}
gate "recorded results hold" 0 "1/2 scripts passed; 0 regression" 'good.pkt\tpass\nbad.pkt\tfail\n'
gate "a recorded pass that fails is a regression" 1 "bad.pkt.*REGRESSION" 'good.pkt\tpass\nbad.pkt\tpass\n'
gate "a recorded fail that passes is a new pass" 0 "good.pkt.*(new pass)" 'good.pkt\tfail\nbad.pkt\tfail\n'
gate "an unlisted script fails the run" 1 "missing from the expected-results file" 'good.pkt\tpass\n'
gate "the failure names file:line and the field" 0 "bad.pkt:5: error handling packet: live packet field tcp_ack_seq: expected: 2" 'good.pkt\tpass\nbad.pkt\tfail\n'
# each mode is gated on its own lines ("MODE<TAB>path<TAB>...")
both='good.pkt\tpass\nbad.pkt\tfail\nipv6\tgood.pkt\tpass\nipv6\tbad.pkt\tfail\n'
gate "ipv4 and ipv6 results hold" 0 "1/2 ipv4, 1/2 ipv6 passed; 0 regression" "$both" --ip_version=ipv4,ipv6
gate "an ipv6 pass that fails is a regression" 1 "bad.pkt.*REGRESSION" \
    'good.pkt\tpass\nbad.pkt\tfail\nipv6\tgood.pkt\tpass\nipv6\tbad.pkt\tpass\n' --ip_version=ipv4,ipv6
gate "a missing ipv6 line fails the run" 1 "missing from the expected-results file" \
    'good.pkt\tpass\nbad.pkt\tfail\n' --ip_version=ipv4,ipv6
exit $fail
