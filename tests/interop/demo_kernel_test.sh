#!/usr/bin/env bash
# `synack demo` as root: the seed's exchange against the Linux kernel over
# TUN in a namespace of its own, synack as client and as server.
set -euo pipefail
bin=${SYNACK_BIN:?}
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null; then
    echo "demo_kernel_test: skipped: needs root, /dev/net/tun and ip(8)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$(cd "$dir" && "$bin" demo --seed 3 --pcap "$dir/k.pcap" 2>&1) || { echo "$out"; exit 1; }
fail() { echo "demo_kernel_test: $*"; echo "$out"; exit 1; }
grep -q "Role 1 of 2: synack as the client" <<<"$out" || fail "kernel demo did not run"
# One cumulative ACK of all 57 bytes when the four segments arrive in one
# burst; with the core's quick-ACK (Linux: the first data is ACKed at once)
# the first segment may draw an ACK of its own, so the ACK of 58 then counts
# from 10. Either way the arithmetic must end at 58.
grep -Eq "ack 58 = (1 \+ 9\+9\+28\+11|10 \+ 9\+28\+11|19 \+ 28\+11|47 \+ 11)$" <<<"$out" ||
    fail "no ACK of the kernel's 57 bytes with its arithmetic"
grep -q "FIN_WAIT_2   -> TIME_WAIT" <<<"$out" || fail "synack client did not reach TIME_WAIT"
grep -q "LAST_ACK     -> CLOSED" <<<"$out" || fail "synack server did not close"
grep -q "kpeer client: received 27 more bytes, then the server's FIN" <<<"$out" || fail "half-close data lost"
[ -s "$dir/k-client.pcap" ] && [ -s "$dir/k-server.pcap" ] || fail "captures missing"
echo "demo_kernel_test: ok"
