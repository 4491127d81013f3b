#!/usr/bin/env bash
# synack on a TAP device: Ethernet framing and ARP against the Linux kernel's
# neighbour code. The kernel pings synack (echo replies; ARP both ways), a
# kernel client fetches 1 MiB from `synack listen --tap`, and `synack
# connect --tap` sends 1 MiB to a kernel server (synack resolves the kernel's
# address by ARP first). SHA-256, no RST, TIME_WAIT on the first closer;
# with no loss and with 1 % and 5 % of the kernel's TCP segments dropped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require
LIMIT=120
fails=0

tap-server() {
    local loss=$1 ns="" k="" s="" what="TAP: ping and kernel client, loss $1 %"
    interop_ns ns tap 1500 "$loss" || return 1
    make_file "$WORK/in" 1048576
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" listen -v --timeout $LIMIT --tap sk0 --addr "$S/24" \
        --pcap "$WORK/cap.pcap" 5000
    wait_grep "$WORK/err" LISTEN 10 || return 1
    ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 "$S" >"$WORK/ping" ||
        { echo "FAIL: $what: ping" >&2; cat "$WORK/ping" >&2; return 1; }
    grep -q '3 received' "$WORK/ping" || { echo "FAIL: $what: ping lost replies" >&2; return 1; }
    # the kernel learned synack's MAC from its ARP reply
    ip -n "$ns" neigh show "$S" dev sk0 | grep -Eq 'lladdr .* (REACHABLE|STALE|DELAY)' ||
        { echo "FAIL: $what: no neighbour entry for $S" >&2; ip -n "$ns" neigh >&2; return 1; }
    kernel_bg k "$ns" /dev/null "$WORK/out" nc -N "$S" 5000
    wait_pid "$k" $LIMIT "$what: nc" || return 1
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_kernel_time_wait "$ns" 1 "$what" || return 1
    grep -q 'icmp_echo_replies *3 ' "$WORK/err" || { echo "FAIL: $what: echo replies not counted" >&2; return 1; }
    netns_cleanup
}

tap-client() {
    local loss=$1 ns="" k="" s="" what="TAP: synack client, loss $1 %"
    interop_ns ns tap 1500 "$loss" || return 1
    make_file "$WORK/in" 1048576
    rm -f "$WORK/out"
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u TCP-LISTEN:5001,bind=$K,reuseaddr CREATE:"$WORK/out"
    netns_wait_listen "$ns" 5001 || return 1
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" connect -v --timeout $LIMIT --tap sk0 --addr "$S/24" \
        --pcap "$WORK/cap.pcap" "$K" 5001
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" 1 "$what" || return 1
    grep -q 'arp_requests_out' "$WORK/err" || { echo "FAIL: $what: synack sent no ARP request" >&2; return 1; }
    netns_cleanup
}

for loss in ${INTEROP_LOSS:-0 1 5}; do
    for c in ${INTEROP_CASES:-tap-server tap-client}; do
        if reason=$(lossy_skip "$loss" "$c"); then
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
            netns_cleanup
        fi
    done
done
exit $((fails > 0))
