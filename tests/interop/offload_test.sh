#!/usr/bin/env bash
# TUN with offloads (`--offload`: virtio-net header, TUN_F_CSUM and
# TUN_F_TSO4). down: the kernel hands synack TCP segments of up to 64 KiB with
# their checksums left to finish (a kernel client sends to `synack listen
# --offload`; the capture must show segments longer than the MTU, or the
# offload was not in effect). up: synack's segments of a burst leave as one
# GSO write that the kernel cuts (`synack connect --offload` to a kernel
# server). 1 MiB and 100 MiB each, SHA-256, no RST, TIME_WAIT on the side
# that closed first; with no loss and with 1 % and 5 % on the kernel side.
# The nftables rule drops a GSO datagram whole (up to 44 segments of 1448
# bytes at once), a much burstier loss than on the wire, so at 5 % only the
# 1 MiB transfers run: 100 MiB took 145 s there (recovery from losing 44
# segments at a time), too long for `make test`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require
fails=0

down_offload() { # size loss
    local size=$1 loss=$2 ns="" k="" s="" what="offload down $1 B, loss $2 %" big
    local limit=$((size > 10000000 ? 300 : 60))
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" "$size"
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" listen -v --offload --timeout "$limit" --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" 5000
    wait_grep "$WORK/err" LISTEN 10 || { release_hold; return 1; }
    kernel_bg k "$ns" /dev/null /dev/null socat -t 60 -u OPEN:"$WORK/in" TCP:$S:5000
    wait_pid "$k" "$limit" "$what: kernel socat" || { release_hold; return 1; }
    wait_grep "$WORK/err" CLOSE_WAIT "$limit" || true
    release_hold
    wait_pid "$s" "$limit" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_kernel_time_wait "$ns" 1 "$what" || return 1
    big=$(tcpdump -nr "$WORK/cap.pcap" "src $K and greater 1600" 2>/dev/null | wc -l)
    [ "$big" -gt 0 ] || { echo "FAIL: $what: no segment above the MTU: offload not in effect" >&2; return 1; }
    netns_cleanup
}

up_offload() { # size loss
    local size=$1 loss=$2 ns="" k="" s="" what="offload up $1 B, loss $2 %"
    local limit=$((size > 10000000 ? 300 : 60))
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" "$size"
    rm -f "$WORK/out"
    kernel_bg k "$ns" /dev/null /dev/null socat -t 60 -u TCP-LISTEN:5000,bind=$K,reuseaddr CREATE:"$WORK/out"
    netns_wait_listen "$ns" 5000 || return 1
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" connect -v --offload --timeout "$limit" --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" "$K" 5000
    wait_pid "$s" "$limit" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: kernel socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" 1 "$what" || return 1
    netns_cleanup
}

for loss in ${INTEROP_LOSS:-0 1 5}; do
    sizes="1048576 104857600"
    [ "$loss" -lt 5 ] || sizes=1048576
    for size in $sizes; do
        for dir in down up; do
            t0=$(now_ms)
            if "${dir}_offload" "$size" "$loss"; then
                echo "ok: offload $dir $size B, loss $loss %: $(($(now_ms) - t0)) ms"
            else
                echo "FAIL: offload $dir $size B, loss $loss %: after $(($(now_ms) - t0)) ms"
                fails=$((fails + 1))
                release_hold 2>/dev/null || true
                keep_artifacts "offload-$dir-$size-$loss"
                netns_cleanup
            fi
        done
    done
done
exit $((fails > 0))
