#!/usr/bin/env bash
# ICMP between synack and the Linux kernel over TUN:
#   echo:   the kernel pings synack (small, and 1472 bytes with DF: a full MTU);
#   unreach: UDP to synack (which has no UDP) draws port unreachable, and an
#           unknown protocol draws protocol unreachable: the kernel counts both;
#   pmtu:   RFC 1191 through a real router. The namespace holding the TUN
#           forwards to a second namespace over a route with MTU 1280; synack
#           (MTU 1500) sends 1 MiB there with DF, the router answers
#           "fragmentation needed", synack lowers its MSS and the transfer
#           completes intact, without RST.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require
fails=0

echo_case() {
    local ns="" s=""
    interop_ns ns tun 1500 0 || return 1
    synack_bg s "$ns" /dev/null /dev/null "$WORK/err" listen -v --timeout 20 --tun sk0 --addr "$S/24" 9
    wait_grep "$WORK/err" LISTEN 10 || return 1
    ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 "$S" >"$WORK/ping" || { cat "$WORK/ping" >&2; return 1; }
    ip netns exec "$ns" ping -c 2 -i 0.2 -W 2 -s 1472 -M "do" "$S" >"$WORK/ping" || { cat "$WORK/ping" >&2; return 1; }
    kill "$s"
    netns_wait "$s" || true
    netns_cleanup
}

unreach_case() {
    local ns="" s="" before after
    interop_ns ns tun 1500 0 || return 1
    synack_bg s "$ns" /dev/null /dev/null "$WORK/err" listen -v --timeout 20 --tun sk0 --addr "$S/24" 9
    wait_grep "$WORK/err" LISTEN 10 || return 1
    before=$(ip netns exec "$ns" nstat -az IcmpInDestUnreachs | awk '/IcmpInDestUnreachs/ { print $2 }')
    echo hello | ip netns exec "$ns" socat -u - "UDP:$S:9" || true
    # an unknown protocol (GRE, 47) from a raw socket
    ip netns exec "$ns" socat -u - "IP4-SENDTO:$S:47" <<<"not a GRE packet" || true
    sleep 0.3
    after=$(ip netns exec "$ns" nstat -az IcmpInDestUnreachs | awk '/IcmpInDestUnreachs/ { print $2 }')
    kill "$s"
    netns_wait "$s" || true
    [ $((after - before)) -eq 2 ] ||
        { echo "FAIL: unreach: the kernel counted $((after - before)) destination-unreachable messages, not 2" >&2; return 1; }
    grep -q 'icmp_unreach_out *2 ' "$WORK/err" || { echo "FAIL: unreach: synack did not count 2" >&2; return 1; }
    netns_cleanup
}

pmtu_case() {
    local ns="" b="" k="" s=""
    interop_ns ns tun 1500 0 || return 1
    netns_create b
    trap interop_cleanup EXIT
    netns_veth "$ns" "$b" 1500 || return 1
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
    # the bottleneck: the router's route onward has MTU 1280
    ip -n "$ns" route replace 198.18.1.0/24 dev veth0 mtu 1280
    ip -n "$b" route add 198.18.0.0/24 via "$NETNS_VETH_ADDR_A"
    make_file "$WORK/in" 1048576
    rm -f "$WORK/out"
    kernel_bg k "$b" /dev/null /dev/null socat -t 60 -u TCP-LISTEN:5000,bind=$NETNS_VETH_ADDR_B,reuseaddr \
        CREATE:"$WORK/out"
    netns_wait_listen "$b" 5000 || return 1
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" connect -v --timeout 60 --tun sk0 --addr "$S/24" \
        --pcap "$WORK/cap.pcap" "$NETNS_VETH_ADDR_B" 5000
    wait_pid "$s" 60 "pmtu: synack" || { tail -5 "$WORK/err" >&2; return 1; }
    wait_pid "$k" 10 "pmtu: socat" || return 1
    expect_same "$WORK/in" "$WORK/out" "pmtu" || return 1
    expect_no_rst "$WORK/cap.pcap" "pmtu" "$WORK/err" || return 1
    grep -q 'icmp_pmtu_lowered' "$WORK/err" || { echo "FAIL: pmtu: synack never lowered its MSS" >&2; return 1; }
    # nothing above 1280 bytes after the first ICMP message
    local big
    big=$(tcpdump -nr "$WORK/cap.pcap" 2>/dev/null | awk '/need to frag/ { seen = 1; next } seen && / > 198.18.1.2/ && / length / { n = $NF; if (n + 52 > 1280) c++ } END { print c + 0 }')
    [ "$big" -eq 0 ] || { echo "FAIL: pmtu: $big segments over 1280 bytes after the ICMP message" >&2; return 1; }
    netns_cleanup
}

for c in echo_case unreach_case pmtu_case; do
    t0=$(now_ms)
    if "$c"; then
        echo "ok: $c: $(($(now_ms) - t0)) ms"
    else
        echo "FAIL: $c"
        fails=$((fails + 1))
        keep_artifacts "$c"
        netns_cleanup
    fi
done
exit $((fails > 0))
