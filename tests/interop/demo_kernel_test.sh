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
grep -q "ack 58 = 1 + 9+9+28+11" <<<"$out" || fail "no cumulative ACK of the kernel's 57 bytes"
grep -q "FIN_WAIT_2   -> TIME_WAIT" <<<"$out" || fail "synack client did not reach TIME_WAIT"
grep -q "LAST_ACK     -> CLOSED" <<<"$out" || fail "synack server did not close"
grep -q "kpeer client: received 27 more bytes, then the server's FIN" <<<"$out" || fail "half-close data lost"
[ -s "$dir/k-client.pcap" ] && [ -s "$dir/k-server.pcap" ] || fail "captures missing"
echo "demo_kernel_test: ok"
