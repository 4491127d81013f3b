#!/usr/bin/env bash
# The TUN link against the Linux kernel, in a namespace of its own: the
# device is made and given the kernel's address 198.18.0.1/24 here, then the
# link test (interop.test_tun_link) runs inside the namespace and exchanges
# ICMP echoes with the kernel through synack's TUN driver.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../tools/netns/netns.sh
. "$here/../../tools/netns/netns.sh"
netns_require

build=${SYNACK_BUILD:?SYNACK_BUILD must name the build directory}
prog=$build/tests/interop.test_tun_link
if [ ! -x "$prog" ]; then
    echo "FAIL: $prog was not built" >&2
    exit 1
fi

ns=""
netns_create ns
netns_tun_create "$ns" sktun0 1500
SYNACK_NETNS=$ns SYNACK_TUN_DEV=sktun0 ip netns exec "$ns" "$prog"
