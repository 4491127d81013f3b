#!/usr/bin/env bash
# Runs a command on a TUN device facing the Linux kernel, in a namespace of
# its own that is deleted afterwards:
#
#   tun-run.sh [--dev NAME] [--mtu N] [--kernel 'CMD ARGS' [--port P]] -- CMD ARGS
#
# The device NAME (default sktun0) is created with the kernel's address
# 198.18.0.1/24 and brought up before CMD starts; CMD opens it by name and
# uses 198.18.0.2. The environment tells CMD so: SYNACK_NETNS, SYNACK_TUN_DEV,
# SYNACK_KERNEL_ADDR, SYNACK_STACK_ADDR. --kernel starts a kernel-side program
# in the namespace first (e.g. 'synack-kpeer server 5000'); with --port, CMD
# starts only once that program listens on P. The exit status is CMD's, or
# the kernel side's when CMD succeeded and it did not.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=netns.sh
. "$here/netns.sh"

dev=sktun0 mtu=1500 kernel="" port=""
while [ $# -gt 0 ]; do
    case $1 in
    --dev) dev=$2; shift 2 ;;
    --mtu) mtu=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: ${0##*/} [--dev NAME] [--mtu N] [--kernel 'CMD ARGS' [--port P]] -- CMD ARGS" >&2
       exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "${0##*/}: no command given" >&2; exit 2; }
netns_require

ns=""
netns_create ns
netns_tun_create "$ns" "$dev" "$mtu"
export SYNACK_NETNS=$ns SYNACK_TUN_DEV=$dev
export SYNACK_KERNEL_ADDR=$NETNS_KERNEL_ADDR SYNACK_STACK_ADDR=$NETNS_STACK_ADDR

kpid=""
if [ -n "$kernel" ]; then
    # Word splitting of the kernel command is intended: it is one string.
    # shellcheck disable=SC2086
    netns_spawn kpid "$ns" $kernel
    [ -z "$port" ] || netns_wait_listen "$ns" "$port"
fi
rc=0
ip netns exec "$ns" "$@" || rc=$?
if [ -n "$kpid" ]; then
    krc=0
    if [ "$rc" -eq 0 ]; then
        netns_wait "$kpid" || krc=$?
    fi
    [ "$rc" -ne 0 ] || rc=$krc
fi
exit "$rc"
