#!/usr/bin/env bash
# Kernel-to-kernel bulk throughput over a veth pair between two namespaces:
# the yardstick the TUN benchmark is compared with in the same run.
#
#   veth-bench.sh KPEER BYTES [MTU...]     (default MTUs: 1500 65535)
#
# KPEER is the synack-kpeer binary. Prints one line per MTU:
#   veth kernel->kernel mtu 1500: 17.92 Gbit/s (2000000000 bytes in 0.893 s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=netns.sh
. "$here/netns.sh"

if [ $# -lt 2 ]; then
    echo "usage: ${0##*/} KPEER BYTES [MTU...]" >&2
    exit 2
fi
kpeer=$1 bytes=$2
shift 2
[ $# -gt 0 ] || set -- 1500 65535
netns_require

for mtu in "$@"; do
    a="" b=""
    netns_create a
    netns_create b
    netns_veth "$a" "$b" "$mtu"
    sink=""
    netns_spawn sink "$b" "$kpeer" sink 5201 --no-hash >/dev/null
    netns_wait_listen "$b" 5201
    out=$(ip netns exec "$a" "$kpeer" source "$NETNS_VETH_ADDR_B" 5201 "$bytes" --no-hash | tail -n 1)
    netns_wait "$sink" >/dev/null
    # "kpeer source: sent N bytes in T s (R Gbit/s)"
    read -r _ _ _ n _ _ t _ rate _ <<<"$out"
    echo "veth kernel->kernel mtu $mtu: ${rate#(} Gbit/s ($n bytes in $t s)"
    netns_cleanup
done
