#!/usr/bin/env bash
# Bulk TCP throughput of synack over TUN against the Linux kernel, in both
# directions, beside kernel<->kernel over a veth pair between two namespaces,
# in the same run, at MTU 1500 and 65535, with the ratios.
#
#   bench/tun/run.sh [BUILD_DIR] [BYTES]      (BYTES: default 1000000000)
#
# synack's side is the `synack connect` / `synack listen` command, reading
# what it sends from a file in /dev/shm (memory, as kpeer's source sends from
# a buffer; a pipe from head(1) held synack->kernel at 13 Gbit/s, half of
# what the stack does, with synack's thread idle half the time): the event
# loop reads one datagram per read(2) from the TUN descriptor and writes one
# per write(2) (no batching: no multi-queue, no GSO/GRO, no vnet header);
# each TUN read drains the descriptor before the stack is polled, so the ACKs
# of a burst leave together. The --offload rows add batching through a
# virtio-net header: towards synack (TUN_F_TSO4) the kernel hands over TCP
# segments of up to 64 KiB whatever the MTU; from synack, the segments of a
# burst leave as one GSO write (up to 64 KiB) that the kernel cuts. The kernel's side is synack-kpeer (plain
# sockets): `sink` times from accept to the end of stream; for kernel->synack
# the time runs from the kernel's connect to synack's exit (every byte
# received and the close done). The veth figure is tools/netns/veth-bench.sh
# (kpeer source -> kpeer sink, 2 GB). Target (issue 4): synack >= 0.8x veth.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
bytes=${2:-1000000000}
synack=$build/synack
kpeer=$build/synack-kpeer
[ -x "$synack" ] && [ -x "$kpeer" ] || { echo "bench/tun: build first (make)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
    echo "bench/tun: skipped: needs root and /dev/net/tun (network namespaces)" >&2
    exit 0
fi
# shellcheck source=../../tools/netns/netns.sh
. "$root/tools/netns/netns.sh"
K=$NETNS_KERNEL_ADDR S=$NETNS_STACK_ADDR

gbit() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.2f", b * 8 / (ms / 1000) / 1e9 }'; }
now_ms() { date +%s%3N; }

# synack -> kernel: returns Gbit/s on stdout (OPT: --offload for GSO writes)
tun_up() {
    local mtu=$1 opt=${2:-} ns="" k="" out
    netns_create ns
    netns_tun_create "$ns" sk0 "$mtu"
    netns_spawn k "$ns" "$kpeer" sink 5201 --no-hash >"$work/sink"
    netns_wait_listen "$ns" 5201
    ip netns exec "$ns" "$synack" connect $opt --timeout 300 --tun sk0 --addr "$S/24" "$K" 5201 \
        <"$shm/in" >/dev/null
    netns_wait "$k"
    out=$(tail -n 1 "$work/sink") # kpeer sink: received N bytes in T s (R Gbit/s)
    netns_cleanup
    read -r _ _ _ _ _ _ _ _ rate _ <<<"$out"
    echo "${rate#(}"
}

# kernel -> synack (OPT: --offload for the kernel's 64 KiB segments)
tun_down() {
    local mtu=$1 opt=${2:-} ns="" s="" t0 t1
    netns_create ns
    netns_tun_create "$ns" sk0 "$mtu"
    # synack half-closes at once (empty stdin) and exits when the kernel's
    # stream has ended and the close is done
    netns_spawn s "$ns" bash -c "exec '$synack' listen -v $opt --timeout 300 --tun sk0 --addr '$S/24' 5201 \
        </dev/null >/dev/null 2>'$work/listen'"
    until grep -q LISTEN "$work/listen" 2>/dev/null; do sleep 0.02; done
    t0=$(now_ms)
    ip netns exec "$ns" "$kpeer" source "$S" 5201 "$bytes" --no-hash >/dev/null
    netns_wait "$s"
    t1=$(now_ms)
    grep -q "received $bytes," "$work/listen" || { echo "bench/tun: kernel->synack lost bytes" >&2; exit 1; }
    netns_cleanup
    gbit "$bytes" $((t1 - t0))
}

# best RUNS CMD...: the highest of RUNS figures (the machine is shared; the
# best run is the one least disturbed)
best() {
    local n=$1 b=0 r
    shift
    for _ in $(seq 1 "$n"); do
        r=$("$@")
        b=$(awk -v a="$r" -v b="$b" 'BEGIN { print (a > b) ? a : b }')
    done
    echo "$b"
}
veth() {
    bash "$root/tools/netns/veth-bench.sh" "$kpeer" 2000000000 "$1" | sed -n 's/.*: \([0-9.]*\) Gbit\/s.*/\1/p'
}

runs=${SYNACK_BENCH_RUNS:-3}
work=$(mktemp -d /tmp/synack-bench-tun.XXXXXX)
shm=$(mktemp -d /dev/shm/synack-bench-tun.XXXXXX)
trap 'netns_cleanup; rm -rf "$work" "$shm"' EXIT
head -c "$bytes" /dev/zero >"$shm/in"
echo "TUN benchmark: best of $runs runs; $bytes bytes per TUN run, 2000000000 per veth run"
for mtu in 1500 65535; do
    up=$(best "$runs" tun_up "$mtu")
    upgso=$(best "$runs" tun_up "$mtu" --offload)
    down=$(best "$runs" tun_down "$mtu")
    gso=$(best "$runs" tun_down "$mtu" --offload)
    vrate=$(best "$runs" veth "$mtu")
    ratio() { awk -v a="$1" -v b="$vrate" 'BEGIN { printf "%.2f", a / b }'; }
    echo "mtu $mtu:"
    echo "  kernel<->kernel (veth)               $vrate Gbit/s"
    echo "  synack->kernel (TUN)                 $up Gbit/s   ratio $(ratio "$up")x"
    echo "  synack->kernel (TUN, --offload GSO)  $upgso Gbit/s   ratio $(ratio "$upgso")x"
    echo "  kernel->synack (TUN)                 $down Gbit/s   ratio $(ratio "$down")x"
    echo "  kernel->synack (TUN, --offload GSO)  $gso Gbit/s   ratio $(ratio "$gso")x"
done
