#!/usr/bin/env bash
# IPv6 against the Linux kernel over TUN, in a namespace of its own, with
# addresses from 2001:2::/48 (RFC 5180, the benchmarking prefix: the IPv6
# counterpart of 198.18.0.0/15): the kernel at 2001:2::1, synack at 2001:2::2.
#  - ping -6 from the kernel draws synack's echo replies (RFC 4443 §4.2);
#  - synack client -> kernel server and kernel client -> synack server, 1 MiB
#    each, checked by SHA-256, with no loss and with 1 % and 5 % of the
#    kernel's TCP packets dropped each way (nftables numgen, inet table);
#  - no RST in synack's capture; TIME_WAIT on the side that closed first;
#  - a UDP datagram to synack draws ICMPv6 port unreachable, which the
#    kernel reports to its socket as ECONNREFUSED;
#  - over TAP, neighbour discovery (RFC 4861) both ways: ping -6 and 1 MiB
#    from a kernel client, the kernel's neighbour entry for synack REACHABLE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require
K6=2001:2::1
S6=2001:2::2
LIMIT=120
SIZE=${IPV6_SIZE:-1048576}

# RSTs in an IPv6 capture (tcpdump's tcp[] does not reach past an IPv6
# header; the stack sends no extension headers, so TCP starts at 40).
rsts6() { tcpdump -nr "$1" 'ip6 and ip6[6] == 6 and (ip6[53] & 4) != 0' 2>/dev/null || true; }

ns6() { # VAR LOSS [KIND]: interop_ns plus the kernel's IPv6 address on sk0
    local _v=$1 n6=""
    interop_ns n6 "${3:-tun}" 1500 "$2" || return 1
    ip -n "$n6" addr add "$K6/64" dev sk0 nodad || return 1
    printf -v "$_v" '%s' "$n6"
}

fails=0
case_up() { # loss: synack connects to the kernel
    local loss=$1 ns="" k="" s="" what="IPv6 up, loss $1 %"
    ns6 ns "$loss" || return 1
    make_file "$WORK/in" "$SIZE"
    rm -f "$WORK/out"
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u "TCP6-LISTEN:5000,bind=[$K6],reuseaddr" CREATE:"$WORK/out"
    netns_wait_listen "$ns" 5000 || return 1
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" connect -v --timeout "$LIMIT" --tun sk0 --addr "$S/24" \
        --addr6 "$S6/64" --pcap "$WORK/cap.pcap" "$K6" 5000
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: kernel socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    [ -z "$(rsts6 "$WORK/cap.pcap")" ] || { echo "FAIL: $what: RST in the capture" >&2; rsts6 "$WORK/cap.pcap" >&2; return 1; }
    expect_synack_time_wait "$WORK/err" 1 "$what" || return 1
    netns_cleanup
}

case_down() { # loss: the kernel connects to synack, ping and UDP first
    local loss=$1 ns="" k="" s="" what="IPv6 down, loss $1 %"
    ns6 ns "$loss" || return 1
    make_file "$WORK/in" "$SIZE"
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" listen -v --timeout "$LIMIT" --tun sk0 \
        --addr "$S/24" --addr6 "$S6/64" --pcap "$WORK/cap.pcap" 5000
    wait_grep "$WORK/err" LISTEN 10 || { release_hold; return 1; }
    if [ "$loss" = 0 ]; then
        ip netns exec "$ns" ping -6 -c 3 -i 0.2 -W 2 "$S6" >/dev/null || { echo "FAIL: ping -6 $S6" >&2; release_hold; return 1; }
        echo "ok: ping -6 $S6"
        # the kernel's UDP socket hears synack's port unreachable (socat's
        # read fails with ECONNREFUSED)
        local udp
        udp=$(ip netns exec "$ns" bash -c "echo x | timeout 5 socat -T2 - 'UDP6:[$S6]:9'" 2>&1 || true)
        if grep -q 'Connection refused' <<<"$udp"; then echo "ok: UDP to synack over IPv6: ECONNREFUSED from its ICMPv6 port unreachable"
        else echo "FAIL: no ICMPv6 port unreachable seen by the kernel" >&2; release_hold; return 1
        fi
    fi
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u OPEN:"$WORK/in" "TCP6:[$S6]:5000"
    wait_pid "$k" "$LIMIT" "$what: kernel socat" || { release_hold; return 1; }
    wait_size "$WORK/out" "$SIZE" "$LIMIT" || true
    wait_grep "$WORK/err" 'CLOSE_WAIT' "$LIMIT" || true
    release_hold
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    [ -z "$(rsts6 "$WORK/cap.pcap")" ] || { echo "FAIL: $what: RST in the capture" >&2; return 1; }
    local tw
    tw=$(ip netns exec "$ns" ss -Htan state time-wait "dst [$S6]" | wc -l)
    [ "$tw" -eq 1 ] || { echo "FAIL: $what: kernel TIME_WAIT count $tw, expected 1" >&2; return 1; }
    netns_cleanup
}

case_tap() { # neighbour discovery against the kernel's
    local ns="" k="" s="" what="IPv6 over TAP"
    ns6 ns 0 tap || return 1
    make_file "$WORK/in" "$SIZE"
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" listen -v --timeout "$LIMIT" --tap sk0 \
        --addr "$S/24" --addr6 "$S6/64" 5000
    wait_grep "$WORK/err" LISTEN 10 || { release_hold; return 1; }
    ip netns exec "$ns" ping -6 -c 2 -i 0.2 -W 2 "$S6" >/dev/null || { echo "FAIL: $what: ping -6" >&2; release_hold; return 1; }
    local neigh
    neigh=$(ip -n "$ns" -6 neigh show "$S6") # not piped into grep -q: SIGPIPE under pipefail
    grep -qE 'REACHABLE|STALE|DELAY' <<<"$neigh" ||
        { echo "FAIL: $what: the kernel has no neighbour entry for $S6" >&2; release_hold; return 1; }
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 -u OPEN:"$WORK/in" "TCP6:[$S6]:5000"
    wait_pid "$k" "$LIMIT" "$what: kernel socat" || { release_hold; return 1; }
    wait_size "$WORK/out" "$SIZE" "$LIMIT" || true
    release_hold
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    grep -q 'ndp_na_out' "$WORK/err" || { echo "FAIL: $what: synack sent no neighbour advertisement" >&2; return 1; }
    netns_cleanup
}
t0=$(now_ms)
if case_tap; then echo "ok: IPv6 over TAP (neighbour discovery): $(($(now_ms) - t0)) ms"
else echo "FAIL: IPv6 over TAP" >&2; keep_artifacts ipv6-tap; netns_cleanup; fails=$((fails + 1)); fi

for loss in ${INTEROP_LOSS:-0 1 5}; do
    for c in case_up case_down; do
        t0=$(now_ms)
        if "$c" "$loss"; then
            echo "ok: $c, loss $loss %: $(($(now_ms) - t0)) ms"
        else
            echo "FAIL: $c, loss $loss %" >&2
            keep_artifacts "ipv6-$c-$loss"
            netns_cleanup
            fails=$((fails + 1))
        fi
    done
done
[ "$fails" -eq 0 ]
