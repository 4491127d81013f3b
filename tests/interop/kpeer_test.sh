#!/usr/bin/env bash
# synack-kpeer against itself, kernel to kernel over a veth pair between two
# namespaces: the seed's exchange (57 bytes, half-close, 12 more bytes) and
# transfers of 0 B, 1 B and 1 MiB whose SHA-256 must agree at both ends. The
# TUN interop tests trust kpeer as the kernel's side; this is why they may.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../tools/netns/netns.sh
. "$here/../../tools/netns/netns.sh"
netns_require

kpeer=${SYNACK_BUILD:?SYNACK_BUILD must name the build directory}/synack-kpeer
if [ ! -x "$kpeer" ]; then
    echo "SKIP: $kpeer is not built (tools/kpeer is not in tools/CMakeLists.txt yet)" >&2
    exit 77
fi

a="" b=""
netns_create a
netns_create b
netns_veth "$a" "$b" 1500
log=$(mktemp)
trap 'rm -f "$log"; netns_cleanup' EXIT

server=""
netns_spawn server "$b" "$kpeer" server 5000 >"$log"
netns_wait_listen "$b" 5000
client_out=$(ip netns exec "$a" "$kpeer" client "$NETNS_VETH_ADDR_B" 5000)
netns_wait "$server"
echo "$client_out"
cat "$log"
grep -q "received all 57 bytes" <<<"$client_out"
grep -q "received 12 more bytes, then the server's FIN" <<<"$client_out"
grep -q "client half-closed (FIN) after sending 0 bytes" "$log"

for bytes in 0 1 1048576; do
    sink=""
    netns_spawn sink "$b" "$kpeer" sink 5001 >"$log"
    netns_wait_listen "$b" 5001
    sent=$(ip netns exec "$a" "$kpeer" source "$NETNS_VETH_ADDR_B" 5001 "$bytes" | tail -n 1)
    netns_wait "$sink"
    got=$(tail -n 1 "$log")
    echo "$sent"
    echo "$got"
    [ "${sent##* sha256 }" = "${got##* sha256 }" ]
    grep -q "received $bytes bytes" <<<"$got"
done
echo "kpeer: seed exchange and 0 B / 1 B / 1 MiB transfers agree"
