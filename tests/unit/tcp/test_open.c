/* Opening a connection: RFC 9293 §3.5 and §3.10.7.3 (SYN-SENT), option
 * negotiation (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "sim.h"
#include "tcp_util.h"
#include "wire/tcp.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST

/* Starts an active open and returns the socket; *iss and *lport from the SYN. */
static synack_sock start_connect(struct harness *h, uint32_t *iss, uint16_t *lport)
{
    synack_sock c = synack_socket(h->s);
    assert_true(c >= 0);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h->s, c, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(h, &t));
    assert_int_equal(t.flags, S_);
    assert_int_equal(t.ack, 0);
    assert_int_equal(t.dport, H_RPORT);
    *iss = t.seq;
    *lport = t.sport;
    assert_int_equal(state_of(h, c), SYNACK_SYN_SENT);
    return c;
}

/* RFC 9293 §3.5 Figure 6, §3.10.7.3: CLOSED -> SYN_SENT -> ESTABLISHED, and
 * the third segment is <SEQ=ISS+1><ACK=IRS+1><CTL=ACK>. */
static void test_rfc9293_3_5_active_open_syn_sent_to_established(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    assert_false(synack_events(h.s, c) & SYNACK_EV_OUT);
    assert_true(h_logged(&h, "CLOSED -> SYN_SENT"));
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = iss + 1, .dport = lport});
    expect_seg(&h, A_, iss + 1, 5001);
    expect_none(&h);
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_int_equal(i.irs, 5000);
    assert_int_equal(i.rcv_nxt, 5001);
    assert_int_equal(i.snd_una, iss + 1);
    assert_true(synack_events(h.s, c) & SYNACK_EV_OUT);
    assert_true(h_logged(&h, "SYN_SENT -> ESTABLISHED"));
    assert_int_equal(ctr(&h, "tcp_active_opens"), 1);
    h_free(&h);
}

/* RFC 9293 §3.5 Figure 6, §3.10.7.2: LISTEN -> SYN_RECEIVED (SYN-ACK with
 * ACK=SEG.SEQ+1) -> ESTABLISHED on the ACK of our SYN; only then can the
 * connection be accepted. */
static void test_rfc9293_3_5_passive_open_listen_syn_received_established(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &e), 0);
    assert_int_equal(synack_listen(h.s, l, 4), 0);
    assert_int_equal(state_of(&h, l), SYNACK_LISTEN);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 777});
    uint32_t iss = expect_flags(&h, S_ | A_, 778).seq;
    expect_none(&h);
    assert_true(h_logged(&h, "LISTEN -> SYN_RECEIVED"));
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    assert_false(synack_events(h.s, l) & SYNACK_EV_IN);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 778, .ack = iss + 1});
    expect_none(&h);
    assert_true(h_logged(&h, "SYN_RECEIVED -> ESTABLISHED"));
    assert_true(synack_events(h.s, l) & SYNACK_EV_IN);
    synack_endpoint peer;
    synack_sock c = synack_accept(h.s, l, &peer);
    assert_true(c >= 0);
    assert_int_equal(peer.port, H_RPORT);
    assert_int_equal(synack_addr_ipv4(&peer.addr), H_REMOTE);
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_int_equal(i.iss, iss);
    assert_int_equal(i.irs, 777);
    assert_int_equal(i.snd_una, iss + 1);
    assert_int_equal(i.rcv_nxt, 778);
    assert_int_equal(ctr(&h, "tcp_passive_opens"), 1);
    h_free(&h);
}

/* RFC 9293 §3.5 Figure 7 (simultaneous open): a bare SYN in SYN_SENT moves
 * to SYN_RECEIVED and is answered by a SYN-ACK that keeps our ISS; the
 * peer's SYN-ACK then completes the open (as Linux, tcp_validate_incoming,
 * rather than challenging it under RFC 5961 §4). */
static void test_rfc9293_3_5_simultaneous_open_syn_then_synack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 9000, .dport = lport});
    expect_seg(&h, S_ | A_, iss, 9001);
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_RECEIVED);
    assert_true(h_logged(&h, "SYN_SENT -> SYN_RECEIVED"));
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 9000, .ack = iss + 1, .dport = lport});
    /* its SYN came twice: ACKed at once (Linux tcp_data_queue; with SACK a
     * D-SACK names it, fastopen/client/simultaneous-fast-open.pkt) */
    expect_seg(&h, A_, iss + 1, 9001);
    expect_none(&h);
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_int_equal(i.snd_una, iss + 1);
    assert_int_equal(i.rcv_nxt, 9001);
    assert_true(h_logged(&h, "SYN_RECEIVED -> ESTABLISHED"));
    assert_int_equal(ctr(&h, "tcp_challenge_ack"), 0);
    assert_int_equal(ctr(&h, "tcp_rst_out"), 0);
    assert_true(synack_events(h.s, c) & SYNACK_EV_OUT);
    h_free(&h);
}

/* RFC 9293 §3.5 Figure 7, the other ending: a plain ACK of our SYN-ACK
 * completes a simultaneous open too (§3.10.7.4 fifth, SYN-RECEIVED). */
static void test_rfc9293_3_5_simultaneous_open_syn_then_ack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 9000, .dport = lport});
    expect_seg(&h, S_ | A_, iss, 9001);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 9001, .ack = iss + 1, .dport = lport});
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_free(&h);
}

/* RFC 9293 §3.5 Figure 7 between two stacks: both connect at the same
 * instant to each other's bound port; the SYNs cross, both go through
 * SYN_RECEIVED, and both reach ESTABLISHED without RST or challenge. */
static bool both_established(void *ctx)
{
    struct sim *s = ctx;
    synack_tcp_info a, b;
    synack_tcp_info_get(s->a, 0, &a);
    synack_tcp_info_get(s->b, 0, &b);
    return a.state == SYNACK_ESTABLISHED && b.state == SYNACK_ESTABLISHED;
}

static void test_rfc9293_3_5_simultaneous_open_two_stacks(void **state)
{
    (void)state;
    struct sim s;
    sim_init(&s, 11, SYNACK_MS(5), NULL);
    synack_sock a = synack_socket(s.a), b = synack_socket(s.b);
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
    synack_endpoint ea = sim_ep(SIM_ADDR_A, 5001), eb = sim_ep(SIM_ADDR_B, 5002);
    assert_int_equal(synack_bind(s.a, a, &ea), 0);
    assert_int_equal(synack_bind(s.b, b, &eb), 0);
    assert_int_equal(synack_connect(s.a, a, &eb), -EINPROGRESS);
    assert_int_equal(synack_connect(s.b, b, &ea), -EINPROGRESS);
    assert_true(sim_run(&s, both_established, &s, SYNACK_SEC(1)));
    int n = 0;
    for (int i = 0; i < s.log.n; i++)
        n += strstr(s.log.lines[i], "SYN_SENT -> SYN_RECEIVED") != NULL;
    assert_int_equal(n, 2);
    assert_int_equal(synack_counter(s.a, "tcp_rst_out") + synack_counter(s.b, "tcp_rst_out"), 0);
    assert_int_equal(synack_counter(s.a, "tcp_challenge_ack") + synack_counter(s.b, "tcp_challenge_ack"), 0);
    /* and data flows both ways */
    assert_int_equal(synack_send(s.a, a, "ping", 4), 4);
    assert_int_equal(synack_send(s.b, b, "pong", 4), 4);
    sim_advance(&s, SYNACK_MS(50));
    char buf[8];
    assert_int_equal(synack_recv(s.b, b, buf, sizeof buf), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(synack_recv(s.a, a, buf, sizeof buf), 4);
    assert_memory_equal(buf, "pong", 4);
    sim_free(&s);
}

/* RFC 7323 §2.2: "The window field in a segment where the SYN bit is set
 * (i.e., a <SYN> or <SYN,ACK>) MUST NOT be scaled." In a simultaneous open
 * the segment that completes the handshake is the peer's SYN-ACK: its window
 * is taken as it is, not shifted by the peer's scale (it was shifted by 8,
 * so a 4 KiB receiver was sent 14 KiB at once; both ends then stood outside
 * each other's window and answered every ACK with an ACK, a storm of 900 000
 * frames until both timed out; found by `synack sim --seed 27 --stacks 3
 * --time 60`). The first window after it is scaled again. */
static void test_rfc7323_2_2_simultaneous_open_synack_window_unscaled(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock c = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    uint32_t iss = t.seq;
    uint16_t lport = t.sport;
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 8, .sack_perm = true};
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 9000, .wnd = 2920, .dport = lport, .opts = &o});
    expect_flags(&h, S_ | A_, 9001);
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 9000, .ack = iss + 1, .wnd = 2920, .dport = lport,
                                 .opts = &o});
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_int_equal(i.snd_wscale, 8);
    assert_int_equal(i.snd_wnd, 2920);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 9001, .ack = iss + 1, .wnd = 16, .dport = lport});
    assert_int_equal(info_of(&h, c).snd_wnd, 16u << 8);
    h_free(&h);
}

/* RFC 9293 §3.10.7.3 first: in SYN_SENT an ACK with SEG.ACK =< ISS or
 * SEG.ACK > SND.NXT draws <SEQ=SEG.ACK><CTL=RST> and changes nothing. */
static void test_rfc9293_3_10_7_3_syn_sent_bad_ack_draws_rst(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = iss + 100, .dport = lport});
    expect_seg(&h, R_, iss + 100, 0);
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = iss, .dport = lport});
    expect_seg(&h, R_, iss, 0);
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    assert_int_equal(ctr(&h, "tcp_drop_syn_sent"), 2);
    /* a bad ACK with RST set is dropped without reply */
    h_inject(&h, &(struct h_seg){.flags = R_ | A_, .seq = 5000, .ack = iss + 100, .dport = lport});
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    /* the right SYN-ACK still completes the open */
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = iss + 1, .dport = lport});
    expect_seg(&h, A_, iss + 1, 5001);
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_free(&h);
}

/* Linux tcp_rcv_synsent_state_process (PAWSActiveRejected): a SYN-ACK whose
 * TSecr is not a timestamp of our SYN (between the first SYN's and now) is
 * answered with a RST at its ACK and the connection stays in SYN_SENT; one
 * that echoes the SYN's TSval then completes the open. */
static void test_linux_syn_sent_synack_with_foreign_tsecr_draws_rst(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock c = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    struct wire_tcp syn;
    assert_true(h_next(&h, &syn));
    assert_true(syn.opt.has_ts);
    uint32_t tsval = syn.opt.ts_val;
    h_advance(&h, SYNACK_MS(10));
    struct wire_tcp_opts bad = {.has_ts = true, .ts_val = 777, .ts_ecr = tsval + 5000};
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = syn.seq + 1, .dport = syn.sport,
                                 .opts = &bad});
    expect_seg(&h, R_, syn.seq + 1, 0);
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    bad.ts_ecr = tsval - 1; /* older than our first SYN */
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = syn.seq + 1, .dport = syn.sport,
                                 .opts = &bad});
    expect_seg(&h, R_, syn.seq + 1, 0);
    assert_int_equal(ctr(&h, "tcp_paws_active_rejected"), 2);
    struct wire_tcp_opts good = {.has_ts = true, .ts_val = 777, .ts_ecr = tsval};
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 5000, .ack = syn.seq + 1, .dport = syn.sport,
                                 .opts = &good});
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_free(&h);
}

/* RFC 9293 §3.10.7.3 second: a RST with an acceptable ACK in SYN_SENT
 * refuses the connection (ECONNREFUSED through SO_ERROR, EV_ERR). */
static void test_rfc9293_3_10_7_3_syn_sent_rst_with_ack_refuses(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    h_inject(&h, &(struct h_seg){.flags = R_ | A_, .seq = 0, .ack = iss + 1, .dport = lport});
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_CLOSED);
    assert_true(synack_events(h.s, c) & SYNACK_EV_ERR);
    assert_int_equal(synack_sock_error(h.s, c), -ECONNREFUSED);
    assert_int_equal(synack_sock_error(h.s, c), 0);
    assert_true(h_logged(&h, "SYN_SENT -> CLOSED"));
    assert_int_equal(ctr(&h, "tcp_attempt_fails"), 1);
    /* no retransmission follows */
    assert_false(h_run_to_deadline(&h, SYNACK_SEC(200)));
    expect_none(&h);
    h_free(&h);
}

/* RFC 9293 §3.10.7.3 second (and RFC 5961 §3.2): a RST without ACK in
 * SYN_SENT is dropped. */
static void test_rfc9293_3_10_7_3_syn_sent_rst_without_ack_ignored(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    h_inject(&h, &(struct h_seg){.flags = R_, .seq = 1234, .dport = lport});
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    assert_int_equal(synack_sock_error(h.s, c), 0);
    assert_int_equal(ctr(&h, "tcp_drop_syn_sent"), 1);
    h_free(&h);
}

/* RFC 9293 §3.10.7.3 fourth: neither SYN nor RST in SYN_SENT: dropped. */
static void test_rfc9293_3_10_7_3_syn_sent_plain_ack_dropped(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    uint16_t lport;
    synack_sock c = start_connect(&h, &iss, &lport);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1234, .ack = iss + 1, .dport = lport});
    expect_none(&h);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    h_free(&h);
}

static void expect_linux_syn_layout(const struct wire_tcp *t)
{
    /* Linux tcp_options_write for a SYN: mss, sackOK+TS, nop, wscale */
    static const uint8_t kinds[] = {WIRE_TCPOPT_MSS, WIRE_TCPOPT_SACK_PERM, WIRE_TCPOPT_TS, WIRE_TCPOPT_NOP,
                                    WIRE_TCPOPT_WSCALE};
    assert_int_equal(t->opts_len, 20);
    assert_int_equal(t->opt.nkinds, sizeof kinds);
    assert_memory_equal(t->opt.kinds, kinds, sizeof kinds);
}

/* RFC 7323 §2.2/§3.2, RFC 2018 §2, RFC 9293 §3.7.1: our SYN offers MSS,
 * SACK-permitted, timestamps and window scale in Linux's order; when the
 * SYN-ACK carries none of them, none is used and the peer's MSS is 536. */
static void test_rfc7323_active_open_options_unused_when_peer_omits_them(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock c = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    expect_linux_syn_layout(&t);
    assert_int_equal(t.opt.mss, 1460);
    assert_int_equal(t.opt.ts_ecr, 0);
    assert_int_equal(t.opt.wscale, 8);
    uint32_t iss = t.seq;
    uint16_t lport = t.sport;
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 1, .ack = iss + 1, .dport = lport});
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.opts_len, 0); /* no timestamp once refused */
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_false(i.ts_ok);
    assert_false(i.sack_ok);
    assert_int_equal(i.snd_wscale, 0);
    assert_int_equal(i.rcv_wscale, 0);
    assert_int_equal(i.mss, 536);
    h_free(&h);
}

/* The same rules on the passive side: a SYN with all four options gets a
 * SYN-ACK with all four in Linux's order, and all four are in use. */
static void test_rfc7323_passive_open_all_options_negotiated(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &e), 0);
    assert_int_equal(synack_listen(h.s, l, 4), 0);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1000, .has_wscale = true, .wscale = 7, .sack_perm = true,
                              .has_ts = true, .ts_val = 12345};
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 100, .opts = &o});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 101);
    expect_linux_syn_layout(&t);
    assert_int_equal(t.opt.mss, 1460);
    assert_int_equal(t.opt.ts_ecr, 12345);
    assert_int_equal(t.opt.wscale, 8);
    uint32_t iss = t.seq, tsval = t.opt.ts_val;
    struct wire_tcp_opts ots = {.has_ts = true, .ts_val = 12346, .ts_ecr = tsval};
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 101, .ack = iss + 1, .wnd = 1000, .opts = &ots});
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_true(i.ts_ok);
    assert_true(i.sack_ok);
    assert_int_equal(i.snd_wscale, 7);
    assert_int_equal(i.rcv_wscale, 8);
    assert_int_equal(i.mss, 1000 - 12); /* RFC 6691: less the timestamp option */
    assert_int_equal(i.snd_wnd, 1000u << 7); /* the window after the SYN is scaled */
    /* data carries the timestamp option, echoing the peer's latest */
    assert_int_equal(synack_send(h.s, c, "x", 1), 1);
    assert_true(h_next(&h, &t));
    assert_true(t.opt.has_ts);
    assert_int_equal(t.opt.ts_ecr, 12346);
    h_free(&h);
}

/* RFC 7323 §2.2, §3.2; RFC 2018 §2: an option the peer's SYN lacks is not
 * offered back in the SYN-ACK and not used, while those it has are. */
static void test_rfc7323_passive_open_only_options_both_syns_carry(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &e), 0);
    assert_int_equal(synack_listen(h.s, l, 4), 0);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1200, .has_wscale = true, .wscale = 3};
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 100, .opts = &o});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 101);
    assert_true(t.opt.has_mss);
    assert_true(t.opt.has_wscale);
    assert_false(t.opt.has_ts);
    assert_false(t.opt.sack_perm);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 101, .ack = t.seq + 1});
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    synack_tcp_info i = info_of(&h, c);
    assert_false(i.ts_ok);
    assert_false(i.sack_ok);
    assert_int_equal(i.snd_wscale, 3);
    assert_int_equal(i.rcv_wscale, 8);
    assert_int_equal(i.mss, 1200);
    /* and with no window scale in the SYN, neither side scales */
    struct wire_tcp_opts o2 = {.has_mss = true, .mss = 1200, .sack_perm = true};
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 500, .sport = H_RPORT + 1, .opts = &o2});
    t = expect_flags(&h, S_ | A_, 501);
    assert_false(t.opt.has_wscale);
    assert_true(t.opt.sack_perm);
    assert_false(t.opt.has_ts);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 501, .ack = t.seq + 1, .sport = H_RPORT + 1});
    synack_sock c2 = synack_accept(h.s, l, NULL);
    assert_true(c2 >= 0);
    i = info_of(&h, c2);
    assert_true(i.sack_ok);
    assert_int_equal(i.snd_wscale, 0);
    assert_int_equal(i.rcv_wscale, 0);
    h_free(&h);
}

/* Linux tcp_select_initial_window, RFC 9293 §3.8.6.2.1: the SYN-ACK's
 * window is a whole number of segments, except that a buffer smaller than
 * one segment is offered whole rather than as a zero window. */
static void test_linux_synack_window_whole_segments_never_zero(void **state)
{
    (void)state;
    static const uint32_t bufs[] = {1024, 4096, 128 * 1024};
    static const uint16_t want[] = {1024, 2 * 1460, 65535 - 65535 % 1460};
    for (int i = 0; i < 3; i++) {
        struct harness h;
        h_init(&h, NULL);
        synack_sock l = synack_socket(h.s);
        synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
        assert_int_equal(synack_set_bufsize(h.s, l, 0, bufs[i]), 0);
        assert_int_equal(synack_bind(h.s, l, &e), 0);
        assert_int_equal(synack_listen(h.s, l, 4), 0);
        h_inject(&h, &(struct h_seg){.flags = S_, .seq = 100});
        struct wire_tcp t = expect_flags(&h, S_ | A_, 101);
        assert_int_equal(t.wnd, want[i]);
        h_free(&h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9293_3_5_active_open_syn_sent_to_established),
        cmocka_unit_test(test_rfc9293_3_5_passive_open_listen_syn_received_established),
        cmocka_unit_test(test_rfc9293_3_5_simultaneous_open_syn_then_synack),
        cmocka_unit_test(test_rfc9293_3_5_simultaneous_open_syn_then_ack),
        cmocka_unit_test(test_rfc9293_3_5_simultaneous_open_two_stacks),
        cmocka_unit_test(test_rfc7323_2_2_simultaneous_open_synack_window_unscaled),
        cmocka_unit_test(test_rfc9293_3_10_7_3_syn_sent_bad_ack_draws_rst),
        cmocka_unit_test(test_linux_syn_sent_synack_with_foreign_tsecr_draws_rst),
        cmocka_unit_test(test_rfc9293_3_10_7_3_syn_sent_rst_with_ack_refuses),
        cmocka_unit_test(test_rfc9293_3_10_7_3_syn_sent_rst_without_ack_ignored),
        cmocka_unit_test(test_rfc9293_3_10_7_3_syn_sent_plain_ack_dropped),
        cmocka_unit_test(test_rfc7323_active_open_options_unused_when_peer_omits_them),
        cmocka_unit_test(test_rfc7323_passive_open_all_options_negotiated),
        cmocka_unit_test(test_rfc7323_passive_open_only_options_both_syns_carry),
        cmocka_unit_test(test_linux_synack_window_whole_segments_never_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
