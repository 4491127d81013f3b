/* The runner of synack-conform against a fake stack (tests/support/
 * pd_fake_stack.c) whose ISNs, TS clock and descriptors differ from the
 * script's: relative sequence numbers, TS ecr mapping, the timing tolerance
 * (max of 4 ms and 12.5 % of the gap), blocking calls and descriptor mapping
 * each have a test that fails if the runner gets them wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform/packet.h"
#include "pd_fake_stack.h"
#include "conform/run.h"
#include "conform/script.h"

static struct run_result res;

/* Run text against a fresh fake; returns 0 if the script passed. */
static int run_text(const char *text)
{
    struct script s;
    char err[512];
    if (script_parse("f.pkt", text, &s, err, sizeof err))
        fail_msg("parse: %s", err);
    struct packetdrill_interface ifc;
    fake_init(&ifc);
    int rc = run_script(&s, &ifc, &res);
    fake_shutdown(&ifc);
    script_free(&s);
    return rc;
}

static void expect_error(const char *text, const char *want)
{
    assert_int_equal(run_text(text), -1);
    if (!strstr(res.error, want))
        fail_msg("error \"%s\"\ndoes not contain \"%s\"", res.error, want);
}

#define PASSIVE                                                        \
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                    \
    "+0 bind(3, ..., ...) = 0\n"                                       \
    "+0 listen(3, 1) = 0\n"                                            \
    "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n"               \
    "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n"    \
    "+.1 < . 1:1(0) ack 1 win 257\n"                                   \
    "+0 accept(3, ..., ...) = 4\n"

static void test_passive_open_data_and_aggregation_pass(void **state)
{
    /* the fake's ISN is 1000000: "ack 1" only reaches it mapped, and its
     * 1000+1000+500 byte segments stand for the script's one 2500 */
    int rc = run_text(PASSIVE "+0 < P. 1:1001(1000) ack 1 win 257\n"
                              "+.04 > . 1:1(0) ack 1001\n"
                              "+0 read(4, ..., 1000) = 1000\n"
                              "+0 write(4, ..., 2500) = 2500\n"
                              "+0 > P. 1:2501(2500) ack 1001\n"
                              "+.1 close(4) = 0\n"
                              "+0 > F. 2501:2501(0) ack 1001\n");
    if (rc)
        fail_msg("%s", res.error);
}

static void test_wrong_ack_is_reported_like_packetdrill(void **state)
{
    expect_error(PASSIVE "+0 < P. 1:1001(1000) ack 1 win 257\n"
                         "+.04 > . 1:1(0) ack 1002\n",
                 "f.pkt:9: error handling packet: live packet field tcp_ack_seq: expected: 1002 "
                 "(0x3ea) vs actual: 1001 (0x3e9)");
}

static void test_wrong_seq_is_reported(void **state)
{
    expect_error(PASSIVE "+0 write(4, ..., 100) = 100\n"
                         "+0 > P. 2:102(100) ack 1\n",
                 "live packet field tcp_seq: expected: 2 (0x2) vs actual: 1 (0x1)");
}

static void test_option_order_is_checked(void **state)
{
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 bind(3, ..., ...) = 0\n"
                 "+0 listen(3, 1) = 0\n"
                 "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n"
                 "+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,nop,nop,nop,wscale 8>\n",
                 "f.pkt:5: error handling packet: bad outbound TCP options");
    /* <...> leaves them unchecked */
    if (run_text("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 bind(3, ..., ...) = 0\n"
                 "+0 listen(3, 1) = 0\n"
                 "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n"
                 "+0 > S. 0:0(0) ack 1 <...>\n"))
        fail_msg("%s", res.error);
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 bind(3, ..., ...) = 0\n"
                 "+0 listen(3, 1) = 0\n"
                 "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n"
                 "+0 > S. 0:0(0) ack 1 <mss 1400,nop,nop,sackOK,nop,wscale 8>\n",
                 "bad value outbound TCP option 2");
}

/* The fake's delayed ACK leaves 40 ms after the data. */
static const char *delack(const char *when)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, PASSIVE "+0 < P. 1:1001(1000) ack 1 win 257\n%s > . 1:1(0) ack 1001\n",
             when);
    return buf;
}

static void test_tolerance_is_4ms_or_12_5_percent_of_the_gap(void **state)
{
    assert_int_equal(run_text(delack("+.04")), 0);
    assert_int_equal(run_text(delack("+.037")), 0);   /* 3 ms early, within 4 ms */
    assert_int_equal(run_text(delack("+.045")), 0);   /* 5 ms late, within 12.5 % of 45 ms */
    expect_error(delack("+.034"),                     /* 6 ms early, 12.5 % of 34 ms = 4.25 */
                 "f.pkt:9: error handling packet: timing error: expected outbound packet at "
                 "0.234000 sec but happened at 0.240000 sec; tolerance 0.004250 sec");
    expect_error(delack("+.02"), "timing error: expected outbound packet at 0.220000 sec but "
                                 "happened at 0.240000 sec; tolerance 0.004000 sec");
    expect_error(delack("+.047"), "timing error"); /* 7 ms late > 5.875 ms */
    /* a window */
    assert_int_equal(run_text(delack("+.03~+.05")), 0);
    expect_error(delack("+.01~+.02"), "expected outbound packet in time range");
    assert_int_equal(run_text(delack("*")), 0);
}

static void test_tolerance_usecs_option(void **state)
{
    char buf[2200];
    snprintf(buf, sizeof buf, "--tolerance_usecs=10000\n%s", delack("+.032"));
    assert_int_equal(run_text(buf), 0);
    expect_error(delack("+.032"), "timing error");
}

static void test_missing_packet_times_out_in_virtual_time(void **state)
{
    expect_error(PASSIVE "+.1 > F. 1:1(0) ack 1\n",
                 "f.pkt:8: error handling packet: timing error: expected outbound packet at "
                 "0.300000 sec but none was sent by 0.312500 sec; tolerance 0.012500 sec");
}

static void test_active_open_maps_ts_ecr_and_times_the_blocking_connect(void **state)
{
    /* the fake accepts the SYN-ACK only if its TS ecr is the fake's own
     * TS val (777), which the script calls 100 */
    int rc = run_text("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                      "+0...0.100 connect(3, ..., ...) = 0\n"
                      "+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n"
                      "+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 100,nop,"
                      "wscale 7>\n"
                      "+0 > . 1:1(0) ack 1 <nop,nop,TS val 200 ecr 700>\n"
                      "+0 write(3, ..., 10) = 10\n"
                      "+0 > P. 1:11(10) ack 1 <nop,nop,TS val 200 ecr 700>\n");
    if (rc)
        fail_msg("%s", res.error);
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0...0.050 connect(3, ..., ...) = 0\n"
                 "+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n"
                 "+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 100,nop,"
                 "wscale 7>\n",
                 "f.pkt:2: timing error: expected system call return at 0.050000 sec but happened "
                 "at 0.100000 sec");
}

static void test_ts_val_checked_only_with_tick(void **state)
{
    /* the fake's TS clock is 1 ms; 0.1 s after the SYN it is 100 ticks on */
#define TS_TMPL                                                                               \
    "%s0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                    \
    "+0...0.100 connect(3, ..., ...) = 0\n"                                 \
    "+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n"                     \
    "+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 100,nop,wscale 7>\n"   \
    "+0 > . 1:1(0) ack 1 <nop,nop,TS val %d ecr 700>\n"
    char buf[1024];
    snprintf(buf, sizeof buf, TS_TMPL, "--tcp_ts_tick_usecs=1000\n", 200);
    if (run_text(buf))
        fail_msg("%s", res.error);
    snprintf(buf, sizeof buf, TS_TMPL, "", 900);
    assert_int_equal(run_text(buf), 0); /* unchecked without the tick */
    snprintf(buf, sizeof buf, TS_TMPL, "--tcp_ts_tick_usecs=1000\n", 900);
    expect_error(buf, "bad outbound TCP timestamp value");
}

static void test_unmapped_ts_ecr_is_an_error(void **state)
{
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0...0.100 connect(3, ..., ...) = 0\n"
                 "+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n"
                 "+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 55,nop,"
                 "wscale 7>\n",
                 "unable to infer live TS ecr for script TS ecr 55");
}

static void test_blocking_accept_and_read(void **state)
{
    int rc = run_text("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                      "+0 bind(3, ..., ...) = 0\n"
                      "+0 listen(3, 1) = 0\n"
                      "+0...0.200 accept(3, ..., ...) = 4\n"
                      "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n"
                      "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n"
                      "+.1 < . 1:1(0) ack 1 win 257\n"
                      "+0...0.1 read(4, ..., 100) = 100\n"
                      "+.1 < P. 1:101(100) ack 1 win 257\n");
    if (rc)
        fail_msg("%s", res.error);
    /* the read would return at 0.3, the script says 0.25 */
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 bind(3, ..., ...) = 0\n"
                 "+0 listen(3, 1) = 0\n"
                 "+0...0.200 accept(3, ..., ...) = 4\n"
                 "+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n"
                 "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n"
                 "+.1 < . 1:1(0) ack 1 win 257\n"
                 "+0...0.05 read(4, ..., 100) = 100\n"
                 "+.1 < P. 1:101(100) ack 1 win 257\n",
                 "f.pkt:8: ");
}

/* The fake answers an ICMP echo request; that reply is not the TCP
 * segment the script waits for (packetdrill ignores it too). */
static void test_stack_icmp_is_not_the_expected_segment(void **state)
{
    if (run_text(PASSIVE "+0 < icmp echo_request\n"
                         "+0 write(4, ..., 10) = 10\n"
                         "+0 > P. 1:11(10) ack 1\n"))
        fail_msg("%s", res.error);
}

static void test_call_that_blocks_unexpectedly(void **state)
{
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 bind(3, ..., ...) = 0\n"
                 "+0 listen(3, 1) = 0\n"
                 "+0 accept(3, ..., ...) = 4\n",
                 "f.pkt:4: runtime error in accept call: expected a non-blocking call, but it "
                 "blocked");
}

static void test_results_and_errno(void **state)
{
    expect_error(PASSIVE "+0 write(4, ..., 100) = 99\n",
                 "f.pkt:8: runtime error in write call: Expected result 99 but got 100 with errno "
                 "0 (Success)");
    expect_error(PASSIVE "+0 write(4, NULL, 100) = -1 EPIPE (Broken pipe)\n",
                 "Expected errno 32 (Broken pipe) but got 14 (Bad address)");
    if (run_text(PASSIVE "+0 write(4, NULL, 100) = -1 EFAULT (Bad address)\n"))
        fail_msg("%s", res.error);
    expect_error(PASSIVE "+0 write(4, ..., 1) = NOT_A_SYMBOL\n", "unknown symbol 'NOT_A_SYMBOL'");
    expect_error(PASSIVE "+0 frob(4) = 0\n", "unsupported system call 'frob'");
}

/* Values a call writes back are compared with the script's: ints, struct
 * linger, strings, lengths, poll revents. */
static void test_out_values_are_checked(void **state)
{
    if (run_text("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 getsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=5}, [8]) = 0\n"
                 "+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, \"reno\", [4]) = 0\n"
                 "+0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1448], [4]) = 0\n"
                 "+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1\n"
                 "+0 getsockopt(3, SOL_TCP, TCP_NODELAY, [0], [4]) = -1 ENOPROTOOPT (x)\n"))
        fail_msg("%s", res.error);
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 getsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, [8]) = 0\n",
                 "f.pkt:2: runtime error in getsockopt call: Bad linger: expected: {onoff=1, "
                 "linger=0} actual: {onoff=1, linger=5}");
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, \"cubic\", [5]) = 0\n",
                 "Bad optval: expected: \"cubic\" actual: \"reno\"");
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1460], [4]) = 0\n",
                 "Bad getsockopt optval: expected: 1460 actual: 1448");
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1448], [8]) = 0\n",
                 "Bad getsockopt optlen: expected: 8 actual: 4");
    expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLIN}], 1, 0) = 1\n",
                 "Bad poll revents: expected: 1 actual: 4");
}

static void test_commands_and_code_are_skipped_and_counted(void **state)
{
    int rc = run_text("`../common/defaults.sh`\n"
                      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                      "+0 %{ assert tcpi_snd_cwnd == 10 }%\n"
                      "+0 `sysctl -q net.ipv4.tcp_sack=0`\n");
    if (rc)
        fail_msg("%s", res.error);
    assert_int_equal(res.skipped, 3);
    assert_string_equal(res.skipped_lines, "1 3 4");
}

static void test_same_result_every_run(void **state)
{
    char first[RUN_ERR_LEN];
    assert_int_equal(run_text(delack("+.02")), -1);
    snprintf(first, sizeof first, "%s", res.error);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(run_text(delack("+.02")), -1);
        assert_string_equal(res.error, first);
    }
}

/* Direct checks of the sequence mapping in packet.c. */
static void test_inbound_mapping_bytes(void **state)
{
    struct conn c;
    const uint8_t lip[16] = {192, 168, 0, 1}, rip[16] = {192, 0, 2, 1};
    conn_init(&c, 4, lip, rip, 8080, 8080);
    struct script_opts o;
    script_default_opts(&o);
    struct pkt_spec syn = {.dir = '<', .flags = TF_SYN, .seq = 7, .end = 7, .win = 100, .ecn = -1};
    uint8_t b[2000];
    char err[256];
    int n = conn_build_inbound(&c, &syn, &o, b, sizeof b, err, sizeof err);
    assert_int_equal(n, 40);
    assert_int_equal(c.remote_isn, 7);
    /* SYN seq is absolute */
    assert_int_equal(b[24] << 24 | b[25] << 16 | b[26] << 8 | b[27], 7);
    /* the stack's SYN-ACK: script ISN 0, live ISN 0xfffffff0 (wraps) */
    struct pkt_spec sa = {.dir = '>', .flags = TF_SYN | TF_ACK, .ack = 8, .ecn = -1};
    conn_outbound_prepare(&c, &sa);
    struct live_pkt lp = {.proto = 6, .flags = TF_SYN | TF_ACK, .seq = 0xfffffff0u, .ack = 8};
    conn_outbound_learn(&c, &sa, &lp);
    conn_to_script(&c, &lp);
    assert_int_equal(lp.seq, 0);
    assert_int_equal(lp.ack, 8);
    /* data with ack 1 and a SACK block 5:9, both in the stack's space */
    struct pkt_spec d = {.dir = '<', .flags = TF_ACK, .seq = 1, .end = 1, .ack = 1, .win = 9,
                         .ecn = -1, .nopt = 3};
    d.opt[0].kind = OP_SACK;
    d.opt[0].nsack = 1;
    d.opt[0].sack[0][0] = 5;
    d.opt[0].sack[0][1] = 9;
    d.opt[1].kind = OP_NOP;
    d.opt[2].kind = OP_NOP;
    n = conn_build_inbound(&c, &d, &o, b, sizeof b, err, sizeof err);
    assert_int_equal(n, 52);
    uint32_t seq = (uint32_t)(b[24] << 24 | b[25] << 16 | b[26] << 8 | b[27]);
    uint32_t ack = (uint32_t)b[28] << 24 | (uint32_t)b[29] << 16 | (uint32_t)b[30] << 8 | b[31];
    uint32_t left = (uint32_t)b[42] << 24 | (uint32_t)b[43] << 16 | (uint32_t)b[44] << 8 | b[45];
    assert_int_equal(seq, 8);                 /* remote ISN 7 + 1 */
    assert_int_equal(ack, 0xfffffff1u);       /* live ISN + 1 */
    assert_int_equal(left, 0xfffffff5u);      /* live ISN + 5 */
    /* outbound non-SYN: live -> script relative */
    struct live_pkt a = {.proto = 6, .flags = TF_ACK, .seq = 0xfffffff1u, .ack = 8 + 1000};
    conn_to_script(&c, &a);
    assert_int_equal(a.seq, 1);
    assert_int_equal(a.ack, 1001);
}

/* Segments standing for one TSO packet of the script: the aggregate shows
 * the last one's flags, seq and CWR the first's (packetdrill's
 * aggregate_packets; the inverse of Linux's GSO, which leaves PSH and FIN
 * on a packet's last segment, CWR on its first). */
static void test_aggregate_takes_the_last_segments_flags(void **state)
{
    struct conn c;
    const uint8_t lip[16] = {192, 168, 0, 1}, rip[16] = {192, 0, 2, 1};
    conn_init(&c, 4, lip, rip, 8080, 8080);
    struct script_opts o;
    script_default_opts(&o);
    struct pkt_spec pk = {.dir = '>', .flags = TF_ACK | TF_PSH, .seq = 1, .end = 2001, .len = 2000,
                          .has_ack = true, .ack = 1, .opts_nocheck = true, .ecn = -1};
    struct live_pkt one = {.proto = 6, .ip_csum_ok = true, .flags = TF_ACK, .seq = 1, .ack = 1,
                           .paylen = 1000, .payload_zero = true};
    struct live_pkt lp[2] = {one, one}, agg;
    lp[1].seq = 1001;
    char err[256];
    lp[0].flags |= TF_PSH; /* PSH on the first piece only: the packet has none */
    assert_int_equal(conn_check_outbound(&c, &pk, &o, 0, lp, 2, &agg, err, sizeof err), -1);
    assert_non_null(strstr(err, "tcp_psh"));
    lp[0].flags = TF_ACK | TF_CWR;
    lp[1].flags = TF_ACK | TF_PSH;
    assert_int_equal(conn_check_outbound(&c, &pk, &o, 0, lp, 2, &agg, err, sizeof err), -1);
    assert_non_null(strstr(err, "tcp_cwr")); /* the first piece's CWR stays */
    pk.flags |= TF_CWR;
    assert_int_equal(conn_check_outbound(&c, &pk, &o, 0, lp, 2, &agg, err, sizeof err), 0);
    assert_int_equal(agg.flags, TF_ACK | TF_PSH | TF_CWR);
    assert_int_equal(agg.seq, 1);
    assert_int_equal(agg.paylen, 2000);
}

/* One's-complement sum over buf, for checking checksums independently. */
static uint32_t csum_add(const uint8_t *b, size_t n, uint32_t acc)
{
    for (size_t i = 0; i < n; i += 2)
        acc += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
    return acc;
}

static uint16_t csum_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

/* IPv6 runs: RFC 8200 header, the TCP checksum over the IPv6 pseudo-header
 * (§8.1), ICMPv6 with its own pseudo-header (RFC 4443 §2.3), and the live
 * decoder reading IPv6 back. */
static void test_ipv6_datagrams(void **state)
{
    struct conn c;
    uint8_t lip[16] = {0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, [15] = 1};
    uint8_t rip[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    conn_init(&c, 6, lip, rip, 8080, 8080);
    struct script_opts o;
    script_default_opts(&o);
    struct pkt_spec syn = {.dir = '<', .flags = TF_SYN, .seq = 7, .end = 7, .win = 100, .ecn = -1,
                           .nopt = 1};
    syn.opt[0].kind = OP_MSS;
    syn.opt[0].val = 1440;
    uint8_t b[2000];
    char err[256];
    int n = conn_build_inbound(&c, &syn, &o, b, sizeof b, err, sizeof err);
    assert_int_equal(n, 40 + 24);
    assert_int_equal(b[0] >> 4, 6);
    assert_int_equal(b[4] << 8 | b[5], 24); /* payload length */
    assert_int_equal(b[6], 6);              /* next header TCP */
    assert_memory_equal(b + 8, rip, 16);
    assert_memory_equal(b + 24, lip, 16);
    /* pseudo-header: src, dst, upper-layer length, next header */
    uint32_t acc = csum_add(b + 8, 32, 0) + 24 + 6;
    assert_int_equal(csum_fold(csum_add(b + 40, 24, acc)), 0xffff);

    struct live_pkt lp;
    b[1] |= 0x20; /* traffic class 0x02: ECT(0) */
    assert_int_equal(live_decode(b, (size_t)n, &lp, err, sizeof err), 0);
    assert_int_equal(lp.ipv, 6);
    assert_int_equal(lp.proto, 6);
    assert_int_equal(lp.tos & 3, 2);
    char shown[400];
    fmt_live_pkt(&lp, shown, sizeof shown); /* the mark as a script writes it */
    assert_true(!strncmp(shown, "[ect0] ", 7));
    assert_true(lp.ip_csum_ok);
    assert_memory_equal(lp.src, rip, 16);
    assert_int_equal(lp.seq, 7);
    /* a live IPv4 datagram is not the IPv6 connection's */
    struct live_pkt v4 = lp;
    v4.ipv = 4;
    assert_false(conn_claims(&c, &v4, false));

    /* ICMPv6 packet too big quoting the stack's segment */
    c.st = CS_ESTABLISHED;
    struct pkt_spec ptb = {.dir = '<', .icmp = true, .icmpv6 = true, .icmp_type = 2, .has_mtu = true,
                           .mtu = 1280, .ecn = -1, .icmp_type_name = "packet_too_big"};
    n = conn_build_inbound(&c, &ptb, &o, b, sizeof b, err, sizeof err);
    assert_int_equal(n, 40 + 8 + 40 + 8);
    assert_int_equal(b[6], 58);
    assert_int_equal(b[40], 2);
    assert_int_equal(b[44] << 24 | b[45] << 16 | b[46] << 8 | b[47], 1280);
    assert_int_equal(b[48] >> 4, 6); /* the quoted IPv6 header */
    acc = csum_add(b + 8, 32, 0) + 56 + 58;
    assert_int_equal(csum_fold(csum_add(b + 40, 56, acc)), 0xffff);
    /* names resolve in the run's family, as packetdrill's tables do:
     * "unreachable port_unreachable" is type 1 code 4 in ICMPv6 ... */
    struct pkt_spec un = {.dir = '<', .icmp = true, .icmp_type = 3, .icmp_code = 3, .ecn = -1,
                          .icmp_type_name = "unreachable", .icmp_code_name = "port_unreachable"};
    n = conn_build_inbound(&c, &un, &o, b, sizeof b, err, sizeof err);
    assert_int_equal(n, 40 + 8 + 40 + 8);
    assert_int_equal(b[40], 1);
    assert_int_equal(b[41], 4);
    /* ... and an ICMPv4-only code is an error there */
    struct pkt_spec fn = {.dir = '<', .icmp = true, .icmp_type = 3, .icmp_code = 4, .ecn = -1,
                          .icmp_type_name = "unreachable", .icmp_code_name = "frag_needed"};
    assert_int_equal(conn_build_inbound(&c, &fn, &o, b, sizeof b, err, sizeof err), -1);
    assert_string_equal(err, "bad ICMP code frag_needed");
}

/* sendto/sendmsg opens a connection when its flags have MSG_FASTOPEN's
 * bit, however written: a name, a number (valid-cookie-format.pkt's
 * 0x20000000), or in an a|b. */
static void test_msg_fastopen_by_name_or_number(void **state)
{
    (void)state;
    const char *text = "0 sendto(3, ..., 1, MSG_FASTOPEN, ..., ...) = 1\n"
                       "+0 sendto(3, ..., 1, 0x20000000, ..., ...) = 1\n"
                       "+0 sendto(3, ..., 1, MSG_DONTWAIT|MSG_FASTOPEN, ..., ...) = 1\n"
                       "+0 sendto(3, ..., 1, MSG_DONTWAIT, ..., ...) = 1\n"
                       "+0 sendto(3, ..., 1, 0x40, ..., ...) = 1\n";
    struct script s;
    char err[512];
    if (script_parse("f.pkt", text, &s, err, sizeof err))
        fail_msg("parse: %s", err);
    const bool want[] = {true, true, true, false, false};
    for (int i = 0; i < 5; i++)
        assert_int_equal(run_names_fastopen(s.ev[i].sc.arg[3]), want[i]);
    script_free(&s);
}

static char got_words[512];
static long long got_at;
static struct packetdrill_interface *cmd_ifc;

static int record_command(void *userdata, const char *words)
{
    (void)userdata;
    struct timeval tv;
    cmd_ifc->gettimeofday(cmd_ifc->userdata, &tv, NULL);
    got_at = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    snprintf(got_words, sizeof got_words, "%s", words);
    return 1;
}

/* A timed command that sets sysctls goes to the library at its time (as
 * packetdrill's shell changes the kernel then), `a || b` split into its
 * commands; one that sets nothing is still reported skipped. */
static void test_timed_sysctl_command_reaches_the_library(void **state)
{
    (void)state;
    const char *text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+.25 `sysctl -q net.ipv4.tcp_fastopen=0 net.ipv4.tcp_nope=1 &> /dev/null ||\\\n"
                       "      ip tcp_metrics flush all`\n"
                       "+0 `echo hi`\n";
    struct script s;
    char err[512];
    if (script_parse("f.pkt", text, &s, err, sizeof err))
        fail_msg("parse: %s", err);
    struct packetdrill_interface ifc;
    fake_init(&ifc);
    cmd_ifc = &ifc;
    struct timeval tv;
    ifc.gettimeofday(ifc.userdata, &tv, NULL);
    long long t0 = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    got_words[0] = 0;
    assert_int_equal(run_script_ext(&s, &ifc, record_command, &res), 0);
    assert_string_equal(got_words,
                        "sysctl:net.ipv4.tcp_fastopen=0 sysctl:net.ipv4.tcp_nope=1 tcp_metrics:flush");
    assert_int_equal(got_at - t0, 250000);
    assert_int_equal(res.skipped, 1);
    assert_string_equal(res.skipped_lines, "4");
    /* without a hook both are skipped, as before */
    assert_int_equal(run_script(&s, &ifc, &res), 0);
    fake_shutdown(&ifc);
    script_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_open_data_and_aggregation_pass),
        cmocka_unit_test(test_wrong_ack_is_reported_like_packetdrill),
        cmocka_unit_test(test_wrong_seq_is_reported),
        cmocka_unit_test(test_option_order_is_checked),
        cmocka_unit_test(test_tolerance_is_4ms_or_12_5_percent_of_the_gap),
        cmocka_unit_test(test_tolerance_usecs_option),
        cmocka_unit_test(test_missing_packet_times_out_in_virtual_time),
        cmocka_unit_test(test_active_open_maps_ts_ecr_and_times_the_blocking_connect),
        cmocka_unit_test(test_ts_val_checked_only_with_tick),
        cmocka_unit_test(test_unmapped_ts_ecr_is_an_error),
        cmocka_unit_test(test_blocking_accept_and_read),
        cmocka_unit_test(test_stack_icmp_is_not_the_expected_segment),
        cmocka_unit_test(test_call_that_blocks_unexpectedly),
        cmocka_unit_test(test_results_and_errno),
        cmocka_unit_test(test_out_values_are_checked),
        cmocka_unit_test(test_commands_and_code_are_skipped_and_counted),
        cmocka_unit_test(test_same_result_every_run),
        cmocka_unit_test(test_inbound_mapping_bytes),
        cmocka_unit_test(test_aggregate_takes_the_last_segments_flags),
        cmocka_unit_test(test_ipv6_datagrams),
        cmocka_unit_test(test_timed_sysctl_command_reaches_the_library),
        cmocka_unit_test(test_msg_fastopen_by_name_or_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
