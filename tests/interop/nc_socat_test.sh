#!/usr/bin/env bash
# netcat (OpenBSD nc) and socat against synack, both directions and both
# roles, 1 MiB each, checked by SHA-256, with no RST and TIME_WAIT on the
# side that closed first; with no loss and with 1 % and 5 % on the kernel side.
#   nc-server:   kernel `nc -l` sends, synack connect receives; the kernel closes first
#   nc-client:   synack listen sends, kernel `nc -N` receives; the kernel closes first
#   socat-server: synack connect sends, kernel socat receives; synack closes first
#   socat-client: kernel socat sends, synack listen receives; the kernel closes first
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require
SIZE=1048576
LIMIT=120
fails=0

nc-server() {
    local loss=$1 ns="" k="" s="" what="nc server -> synack client, loss $1 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" $SIZE
    kernel_bg k "$ns" "$WORK/in" /dev/null nc -N -l "$K" 5001
    netns_wait_listen "$ns" 5001 || return 1
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" connect -v --timeout $LIMIT --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" "$K" 5001
    wait_grep "$WORK/err" CLOSE_WAIT $LIMIT || true
    release_hold
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: nc" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_kernel_time_wait "$ns" 1 "$what" || return 1
    netns_cleanup
}

nc-client() {
    local loss=$1 ns="" k="" s="" what="synack server -> nc client, loss $1 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" $SIZE
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" listen -v --timeout $LIMIT --tun sk0 --addr "$S/24" \
        --pcap "$WORK/cap.pcap" 5001
    wait_grep "$WORK/err" LISTEN 10 || return 1
    # -N with an empty stdin: the kernel's FIN goes first (half-close)
    kernel_bg k "$ns" /dev/null "$WORK/out" nc -N "$S" 5001
    wait_pid "$k" $LIMIT "$what: nc" || return 1
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_kernel_time_wait "$ns" 1 "$what" || return 1
    netns_cleanup
}

socat-server() {
    local loss=$1 ns="" k="" s="" what="synack client -> socat server, loss $1 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" $SIZE
    rm -f "$WORK/out"
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u TCP-LISTEN:5002,bind=$K,reuseaddr CREATE:"$WORK/out"
    netns_wait_listen "$ns" 5002 || return 1
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" connect -v --timeout $LIMIT --tun sk0 --addr "$S/24" \
        --pcap "$WORK/cap.pcap" "$K" 5002
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" 1 "$what" || return 1
    netns_cleanup
}

socat-client() {
    local loss=$1 ns="" k="" s="" what="socat client -> synack server, loss $1 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" $SIZE
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" listen -v --timeout $LIMIT --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" 5003
    wait_grep "$WORK/err" LISTEN 10 || return 1
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u OPEN:"$WORK/in" TCP:$S:5003
    wait_pid "$k" $LIMIT "$what: socat" || { release_hold; return 1; }
    wait_grep "$WORK/err" CLOSE_WAIT $LIMIT || true
    release_hold
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_kernel_time_wait "$ns" 1 "$what" || return 1
    netns_cleanup
}

for loss in ${INTEROP_LOSS:-0 1 5}; do
    for c in ${INTEROP_CASES:-nc-server nc-client socat-server socat-client}; do
        if reason=$(lossy_skip "$loss" $SIZE); then
            echo "SKIP: $c, loss $loss %: $reason"
            continue
        fi
        t0=$(now_ms)
        if "$c" "$loss"; then
            echo "ok: $c, loss $loss %: $(($(now_ms) - t0)) ms"
        else
            echo "FAIL: $c, loss $loss %: after $(($(now_ms) - t0)) ms"
            fails=$((fails + 1))
            keep_artifacts "$c-$loss"
            release_hold 2>/dev/null || true
            netns_cleanup
        fi
    done
done
exit $((fails > 0))
