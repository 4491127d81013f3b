#!/usr/bin/env bash
# synack-conform over IPv6, end to end against libsynack_packetdrill.so: an
# ICMPv6 Packet Too Big (RFC 4443 §3.2) quoting the stack's segment lowers
# its MSS to 1280 - 60 (RFC 8201 §4, the RTO resends at the new size), the
# same script is refused in an IPv4 run (packetdrill's per-family ICMP
# names), a script that pins --ip_version is SKIPped in the other modes, and
# an IPv4-only one (ICMPv4 names ICMPv6 lacks) is SKIPped over IPv6.
set -u
. "$(dirname "$0")/conform_lib.sh"
cat > "$tmp/ptb.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
+.1 < . 1:1(0) ack 1 win 1000
+0 accept(3, ..., ...) = 4
+0 write(4, ..., 2920) = 2920
+0 > . 1:1461(1460) ack 1
+0 > P. 1461:2921(1460) ack 1
+.01 < icmp packet_too_big mtu 1280 [1:1461(1460)]
+.3~+.4 > . 1:1221(1220) ack 1
PKT
{ echo '--ip_version=ipv4'; sed -n '1,7p' "$tmp/ptb.pkt"; } > "$tmp/pinned.pkt"
check "ICMPv6 packet too big lowers the MSS to 1220" 0 "ptb.pkt: PASS" --ip_version=ipv6 "$tmp/ptb.pkt"
check "a wrong size after it fails" 1 "actual packet: .* 1:1221(1220)" --ip_version=ipv6 <(sed 's/1221(1220)/1301(1300)/' "$tmp/ptb.pkt")
check "ICMPv6 names are refused in an IPv4 run" 1 "bad ICMP type packet_too_big" --ip_version=ipv4 "$tmp/ptb.pkt"
check "the IPv6 MSS is MTU - 60" 1 "mss 1440" --ip_version=ipv6 --mtu=1500 "$tmp/ptb.pkt"
check "a pinned script runs in its mode" 0 "pinned.pkt: PASS" --ip_version=ipv4 "$tmp/pinned.pkt"
check "and is SKIPped in another" 1 "pins --ip_version=ipv4" --ip_version=ipv6 "$tmp/pinned.pkt"
# an ICMPv4 code ICMPv6 lacks makes a script IPv4-only: SKIP in an IPv6 run,
# run in the other two (packetdrill itself stops at that line over IPv6)
{ sed -n '1,9p' "$tmp/ptb.pkt"; echo '+.01 < icmp unreachable host_unreachable [1:1461(1460)]'; } > "$tmp/v4only.pkt"
check "an IPv4-only script runs over IPv4" 0 "v4only.pkt: PASS" --ip_version=ipv4 "$tmp/v4only.pkt"
check "and over ipv4-mapped-ipv6" 0 "v4only.pkt: PASS" --ip_version=ipv4-mapped-ipv6 "$tmp/v4only.pkt"
check "and is SKIPped over IPv6, with its line" 1 "v4only.pkt:10: IPv4-only: ICMP unreachable host_unreachable .*(SKIP)" --ip_version=ipv6 "$tmp/v4only.pkt"
exit $fail
