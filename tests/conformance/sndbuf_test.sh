#!/usr/bin/env bash
# SO_SNDBUF with Linux's semantics, end to end against libsynack_packetdrill.so:
# once set, a write is admitted by Linux's skb accounting (src/posix/opt.c
# sxp_wmem_room): a new skb of size_goal only while the queued skbs' truesize
# (896 B of head each, plus payload) is under sk_sndbuf. google's
# timestamping/partial.pkt relies on it (write 10000 with SO_SNDBUF 1000 into
# a 2000-byte window: 2964); the PSH of each piece is where Linux's
# tcp_sendmsg puts it (forced_push past half the window, and before a wait).
set -u
. "$(dirname "$0")/conform_lib.sh"
# one MSS a skb: half the largest window (2000) holds one 988-byte segment
cat > "$tmp/partial.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
+.01 < S. 0:0(0) ack 1 win 2000 <mss 1000,sackOK,TS val 700 ecr 100,nop,wscale 7>
+0 > . 1:1(0) ack 1 <nop,nop,TS val 200 ecr 700>
+0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [1000], 4) = 0
+0 getsockopt(3, SOL_SOCKET, SO_SNDBUF, [4608], [4]) = 0
+0 write(3, ..., 10000) = 2964
+0 > . 1:989(988) ack 1 <nop,nop,TS val 110 ecr 700>
+0 > P. 989:1977(988) ack 1 <nop,nop,TS val 110 ecr 700>
+0 poll([{fd=3, events=POLLOUT, revents=0}], 1, 0) = 0
+0 write(3, ..., 10000) = -1 EAGAIN (Resource temporarily unavailable)
+.01 < . 1:1(0) ack 1977 win 92 <nop,nop,TS val 800 ecr 200>
+0 > P. 1977:2965(988) ack 1 <nop,nop,TS val 114 ecr 800>
+0 poll([{fd=3, events=POLLOUT, revents=POLLOUT}], 1, 0) = 1
PKT
# many MSS a skb: half of 50000 is 25 segments; the window then shuts, so
# nothing leaves and one skb begun at 0 bytes takes 25000 past sk_sndbuf 20000
cat > "$tmp/wide.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
+.01 < S. 0:0(0) ack 1 win 50000 <mss 1000,nop,wscale 0>
+0 > . 1:1(0) ack 1
+0 < . 1:1(0) ack 1 win 0
+0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [10000], 4) = 0
+0 write(3, ..., 100000) = 25000
+0 write(3, ..., 100000) = -1 EAGAIN (Resource temporarily unavailable)
+0 ioctl(3, SIOCOUTQ, [25000]) = 0
PKT
check "a partial write stops where Linux's accounting does" 0 "partial.pkt: PASS" "$tmp/partial.pkt"
check "one skb of size_goal past sk_sndbuf" 0 "wide.pkt: PASS" "$tmp/wide.pkt"
# the same scripts with Linux's figures changed must fail: the rule is what passes them
sed 's/= 2964/= 3952/' "$tmp/partial.pkt" > "$tmp/more.pkt"
check "not a byte more" 1 "Expected result 3952 but got 2964" "$tmp/more.pkt"
sed 's/^+0 > \. 1:989(988)/+0 > P. 1:989(988)/' "$tmp/partial.pkt" > "$tmp/psh.pkt"
check "no PSH on the first piece" 1 "tcp_psh: expected: 1 (0x1) vs actual: 0" "$tmp/psh.pkt"
exit $fail
