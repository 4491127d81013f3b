#!/usr/bin/env bash
# RFC 3168 ECN between synack and the Linux kernel over TUN, both roles,
# with nftables in the kernel's namespace playing a congested router: 5 % of
# the ECN-capable (ECT(0)) packets each way are marked CE, none dropped.
#   up:   synack (--ecn 1) connects and sends to a kernel server (tcp_ecn 2);
#   down: a kernel client (tcp_ecn 1) sends to synack listening (default 2).
# Checked in synack's capture and on the kernel (ss -ti): the handshake
# agrees (ECE|CWR SYN, ECE SYN-ACK), data goes ECT(0), pure ACKs and SYNs
# Not-ECT; the receiver echoes the marks (ECE) and the sender answers them
# (CWR); every byte arrives, with no RST.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require

SIZE=${INTEROP_ECN_SIZE:-4194304}
LIMIT=60
fails=0

# ce_router NS: marks 5 % of the ECT(0) TCP packets CE in both directions.
ce_router() {
    ip netns exec "$1" nft -f - <<NFT
table ip synack_ce {
    chain in { type filter hook prerouting priority 0; meta l4proto tcp ip ecn ect0 numgen random mod 100 < 5 ip ecn set ce; }
    chain out { type filter hook output priority 0; meta l4proto tcp ip ecn ect0 numgen random mod 100 < 5 ip ecn set ce; }
}
NFT
}

# count PCAP FILTER
count() { tcpdump -nr "$1" "$2" 2>/dev/null | wc -l; }

# expect_count PCAP FILTER OP N WHAT: e.g. expect_count cap 'src x' -ge 1 'data'
expect_count() {
    local n
    n=$(count "$1" "$2")
    if ! [ "$n" "$3" "$4" ]; then
        echo "FAIL: $5: $n packet(s) match '$2' (want $3 $4)" >&2
        return 1
    fi
}

# the ECN field, and whether a TCP segment carries data
ECN='(ip[1] & 3)'
DATA='(ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0'
SYN='(tcp[tcpflags] & tcp-syn) != 0'
ECE='(tcp[13] & 0x40) != 0'
CWR='(tcp[13] & 0x80) != 0'

# expect_kernel_delivered_ce NS WHAT: the kernel, sending, took synack's
# echoes (ss -ti: delivered_ce, the data it counted as delivered with ECE;
# iproute2 6.1's ss prints no option flags, "ecn" included, for Linux 6.18)
expect_kernel_delivered_ce() {
    local info
    info=$(ip netns exec "$1" ss -Htin "dst $S")
    if ! grep -qE 'delivered_ce:[1-9]' <<<"$info"; then
        echo "FAIL: $2: the kernel's socket shows no delivered_ce: $info" >&2
        return 1
    fi
}

# common checks of a capture: sender (synack's or the kernel's address) sent
# the data
expect_ecn_capture() { # PCAP SENDER RECEIVER WHAT
    local cap=$1 snd=$2 rcv=$3 what=$4
    expect_count "$cap" "src $snd and $SYN and $ECE and $CWR and not tcp[tcpflags] & tcp-ack != 0" -eq 1 \
        "$what: ECN-setup SYN" || return 1
    expect_count "$cap" "src $rcv and $SYN and $ECE and not $CWR" -eq 1 "$what: ECN-setup SYN-ACK" || return 1
    expect_count "$cap" "$SYN and $ECN != 0" -eq 0 "$what: SYNs are Not-ECT" || return 1
    expect_count "$cap" "src $snd and $DATA and $ECN = 2" -ge 100 "$what: data ECT(0)" || return 1
    expect_count "$cap" "src $rcv and not $DATA and not $SYN and $ECN != 0" -eq 0 \
        "$what: pure ACKs Not-ECT" || return 1
    expect_count "$cap" "src $rcv and not $SYN and $ECE" -ge 1 "$what: the receiver echoes CE" || return 1
    expect_count "$cap" "src $snd and $DATA and $CWR" -ge 1 "$what: the sender answers with CWR" || return 1
    expect_no_rst "$cap" "$what" "$WORK/err"
}

up() {
    local ns="" k="" s="" what="up: synack --ecn 1 sends to the kernel (tcp_ecn 2)"
    interop_ns ns tun 1500 0 || return 1
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_ecn=2 || return 1
    ce_router "$ns" || return 1
    make_file "$WORK/in" "$SIZE"
    rm -f "$WORK/out"
    hold_open "$WORK/hold"
    kernel_bg k "$ns" /dev/null /dev/null socat -t 60 -u TCP-LISTEN:5000,bind=$K,reuseaddr CREATE:"$WORK/out"
    netns_wait_listen "$ns" 5000 || return 1
    # synack's stdin: the file, then the held FIFO, so the connection stays
    # up until the kernel's side has been looked at
    rm -f "$WORK/feed"
    mkfifo "$WORK/feed"
    { cat "$WORK/in" "$WORK/hold" >"$WORK/feed"; } 7>&- &
    local feeder=$!
    synack_bg s "$ns" "$WORK/feed" /dev/null "$WORK/err" connect -v --ecn 1 --timeout "$LIMIT" --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" "$K" 5000
    wait_size "$WORK/out" "$SIZE" "$LIMIT" || { echo "FAIL: $what: not all arrived" >&2; release_hold; return 1; }
    release_hold
    wait "$feeder" || true
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "$what: kernel socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_ecn_capture "$WORK/cap.pcap" "$S" "$K" "$what" || return 1
    netns_cleanup
}

down() {
    local ns="" k="" s="" what="down: the kernel (tcp_ecn 1) sends to synack (default)"
    interop_ns ns tun 1500 0 || return 1
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_ecn=1 || return 1
    ce_router "$ns" || return 1
    make_file "$WORK/in" "$SIZE"
    hold_open "$WORK/hold"
    synack_bg s "$ns" "$WORK/hold" "$WORK/out" "$WORK/err" listen -v --timeout "$LIMIT" --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" 5000
    sleep 0.2
    # the kernel's side stays open (sleep) until it has been looked at
    kernel_bg k "$ns" /dev/null /dev/null bash -c "{ cat '$WORK/in'; sleep 3; } | socat -t 10 -u - TCP:$S:5000"
    wait_size "$WORK/out" "$SIZE" "$LIMIT" || { echo "FAIL: $what: not all arrived" >&2; release_hold; return 1; }
    expect_kernel_delivered_ce "$ns" "$what" || { release_hold; return 1; }
    wait_pid "$k" "$LIMIT" "$what: kernel socat" || { release_hold; return 1; }
    wait_grep "$WORK/err" 'CLOSE_WAIT' "$LIMIT" || true
    release_hold
    wait_pid "$s" "$LIMIT" "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_ecn_capture "$WORK/cap.pcap" "$K" "$S" "$what" || return 1
    netns_cleanup
}

for dir in ${INTEROP_ECN_DIRS:-up down}; do
    t0=$(now_ms)
    if "$dir"; then
        echo "ok: $dir: $(($(now_ms) - t0)) ms"
    else
        echo "FAIL: $dir: after $(($(now_ms) - t0)) ms"
        fails=$((fails + 1))
        keep_artifacts "ecn-$dir"
        netns_cleanup
    fi
done
exit $((fails > 0))
