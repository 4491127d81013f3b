#!/usr/bin/env bash
# Transfers of 0 B, 1 B, 1 MiB and 100 MiB between synack and the Linux
# kernel over TUN, checked by SHA-256, in both roles:
#   up:   synack connect sends to a kernel server (socat), synack closes first;
#   down: a kernel client (socat) sends to synack listen, the kernel closes first.
# Every connection must close cleanly: no RST in synack's capture, and
# TIME_WAIT on the side that closed first. Each runs with no loss and with
# 1 % and 5 % of the kernel's segments dropped (INTEROP_LOSS="0 1 5").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require

SIZES=${INTEROP_SIZES:-0 1 1048576 104857600}
fails=0

up() { # size loss
    local size=$1 loss=$2 ns="" k="" s="" what="up $1 B, loss $2 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" "$size"
    rm -f "$WORK/out"
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u TCP-LISTEN:5000,bind=$K,reuseaddr CREATE:"$WORK/out"
    netns_wait_listen "$ns" 5000 || return 1
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" connect -v --timeout "$LIMIT" --tun sk0 --addr "$S/24" \
        --pcap "$WORK/cap.pcap" "$K" 5000
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: kernel socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" 1 "$what" || return 1
    netns_cleanup
}

down() { # size loss
    local size=$1 loss=$2 ns="" k="" s="" what="down $1 B, loss $2 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" "$size"
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" listen -v --timeout "$LIMIT" --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" 5000
    sleep 0.2
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u OPEN:"$WORK/in" TCP:$S:5000
    wait_pid "$k" "$LIMIT" "$what: kernel socat" || { release_hold; return 1; }
    # all of it in, and the kernel's FIN: then synack closes its side
    wait_size "$WORK/out" "$size" "$LIMIT" || true
    wait_grep "$WORK/err" 'CLOSE_WAIT' "$LIMIT" || true
    release_hold
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_kernel_time_wait "$ns" 1 "$what" || return 1
    netns_cleanup
}

for loss in ${INTEROP_LOSS:-0 1 5}; do
    for size in $SIZES; do
        # a generous bound: 100 MiB with loss is slow without loss recovery
        LIMIT=$((size > 10000000 ? 600 : 60))
        for dir in up down; do
            if reason=$(lossy_skip "$loss" "$size"); then
                echo "SKIP: $dir $size B, loss $loss %: $reason"
                continue
            fi
            t0=$(now_ms)
            if "$dir" "$size" "$loss"; then
                echo "ok: $dir $size B, loss $loss %: $(($(now_ms) - t0)) ms"
            else
                echo "FAIL: $dir $size B, loss $loss %: after $(($(now_ms) - t0)) ms"
                fails=$((fails + 1))
            keep_artifacts "$dir-$size-$loss"
                netns_cleanup
            fi
        done
    done
done
exit $((fails > 0))
