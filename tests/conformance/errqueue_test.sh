#!/usr/bin/env bash
# synack-conform's error-queue checks, end to end against
# libsynack_packetdrill.so: a MSG_ZEROCOPY completion read with
# recvmsg(MSG_ERRQUEUE) passes as written in every mode (CMSG_LEVEL_IP and
# CMSG_TYPE_RECVERR resolve per family), and each field of the
# sock_extended_err, the cmsg type, a short control buffer, and an SO_TIMESTAMPING stamp's time
# (beyond --tolerance_usecs) fail when the script states them wrong, so the
# comparisons cannot pass vacuously.
set -u
. "$(dirname "$0")/conform_lib.sh"
cat > "$tmp/zc.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
+0 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 send(4, ..., 1000, MSG_ZEROCOPY) = 1000
+0 > P. 1:1001(1000) ack 1
+0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=MSG_ERRQUEUE,
              msg_control=[]}, MSG_ERRQUEUE) = -1 EAGAIN (Resource temporarily unavailable)
+.01 < . 1:1(0) ack 1001 win 257
+0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=MSG_ERRQUEUE,
              msg_control=[{cmsg_level=CMSG_LEVEL_IP, cmsg_type=CMSG_TYPE_RECVERR,
                            cmsg_data={ee_errno=0, ee_origin=SO_EE_ORIGIN_ZEROCOPY, ee_type=0,
                                       ee_code=SO_EE_CODE_ZEROCOPY_COPIED, ee_info=0, ee_data=0}}]},
              MSG_ERRQUEUE) = 0
PKT
cat > "$tmp/ts.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
+.01 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 setsockopt(4, SOL_SOCKET, SO_TIMESTAMPING, [SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID], 4) = 0
+0 write(4, ..., 500) = 500
+0 > P. 1:501(500) ack 1
+.02 < . 1:1(0) ack 501 win 257
+0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC,
              msg_control=[{cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING,
                            cmsg_data={scm_sec=0,scm_nsec=30000000}},
                           {cmsg_level=CMSG_LEVEL_IP, cmsg_type=CMSG_TYPE_RECVERR,
                            cmsg_data={ee_errno=ENOMSG, ee_origin=SO_EE_ORIGIN_TIMESTAMPING, ee_type=0,
                                       ee_code=0, ee_info=SCM_TSTAMP_ACK, ee_data=499}}]},
              MSG_ERRQUEUE) = 0
PKT
for mode in ipv4 ipv6 ipv4-mapped-ipv6; do
    check "a zerocopy completion ($mode)" 0 "zc.pkt: PASS" --ip_version=$mode "$tmp/zc.pkt"
    check "a TX_ACK timestamp ($mode)" 0 "ts.pkt: PASS" --ip_version=$mode "$tmp/ts.pkt"
done
check "a wrong ee_info fails" 1 "Bad ee_info" <(sed 's/ee_info=0/ee_info=1/' "$tmp/zc.pkt")
check "a wrong ee_data fails" 1 "Bad ee_data" <(sed 's/ee_data=0/ee_data=7/' "$tmp/zc.pkt")
check "a wrong ee_code fails" 1 "Bad ee_code" <(sed 's/ee_code=SO_EE_CODE_ZEROCOPY_COPIED/ee_code=0/' "$tmp/zc.pkt")
check "a wrong ee_origin fails" 1 "Bad ee_origin" <(sed 's/ee_origin=SO_EE_ORIGIN_ZEROCOPY/ee_origin=2/' "$tmp/zc.pkt")
check "a wrong ee_errno fails" 1 "Bad ee_errno" <(sed 's/ee_errno=ENOMSG/ee_errno=0/' "$tmp/ts.pkt")
check "IPv4's type in an IPv6 run fails" 1 "Bad recvmsg cmsg_type" --ip_version=ipv6 <(sed "s/CMSG_TYPE_RECVERR/IP_RECVERR/" "$tmp/zc.pkt")
check "too little room for the offender address is MSG_CTRUNC" 1 "Bad recvmsg msg_flags: expected: 8192 actual: 8200" --ip_version=ipv6 <(sed "s/CMSG_LEVEL_IP/SOL_IP/" "$tmp/zc.pkt")
check "a stamp 10 ms off fails" 1 "Bad timestamp 0 in scm_timestamping" <(sed 's/scm_nsec=30000000/scm_nsec=20000000/' "$tmp/ts.pkt")
check "within --tolerance_usecs it passes" 0 "PASS" --tolerance_usecs=11000 <(sed 's/scm_nsec=30000000/scm_nsec=20000000/' "$tmp/ts.pkt")
check "a completion read before the ACK is EAGAIN" 1 "Expected result 0 but got -1" <(sed '/^+.01 < . 1:1(0) ack 1001/d' "$tmp/zc.pkt")
exit $fail
