/* Explicit Congestion Notification (RFC 3168) as Linux does it: the
 * setup handshake in every net.ipv4.tcp_ecn mode and both roles (§6.1.1),
 * ECT(0) on new data only (§6.1.2, §6.1.4-§6.1.6), the receiver's ECE
 * until CWR (§6.1.3), the sender's one reduction per window and one CWR
 * (§6.1.2). The test plays the peer and reads the IP ECN field of what
 * the stack sends (harness: wire_tcp.ecn). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tcp_util.h"
#include "wire/wire.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define P_ WIRE_TCP_PSH
#define F_ WIRE_TCP_FIN
#define E_ WIRE_TCP_ECE
#define W_ WIRE_TCP_CWR
#define MSS 1000
#define DEFAULT_MODE (-1)

static const struct wire_tcp_opts mss_opt = {.has_mss = true, .mss = MSS};
static uint8_t zeros[64 * 1024];

static synack_config mode_cfg(int mode)
{
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (mode != DEFAULT_MODE) {
        cfg.ecn_set = true;
        cfg.ecn = (uint8_t)mode;
    }
    return cfg;
}

/* Passive open: the test's SYN has the extra flags and arrives with IP ECN
 * syn_ecn; returns the SYN-ACK's flags (its ECN field must be Not-ECT). */
static uint16_t open_passive(struct conn *c, int mode, uint16_t syn_flags, uint8_t syn_ecn)
{
    synack_config cfg = mode_cfg(mode);
    h_init(&c->h, &cfg);
    c->l = synack_socket(c->h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(c->h.s, c->l, &e), 0);
    assert_int_equal(synack_listen(c->h.s, c->l, 16), 0);
    c->peer_isn = 1000;
    h_inject(&c->h, &(struct h_seg){.flags = S_ | syn_flags, .seq = c->peer_isn, .opts = &mss_opt, .ecn = syn_ecn});
    struct wire_tcp t;
    assert_true(h_next(&c->h, &t));
    assert_int_equal(t.flags & (S_ | A_), S_ | A_);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT); /* §6.1.1: never ECT on a SYN-ACK */
    c->iss = t.seq;
    c->peer = c->peer_isn + 1;
    c->ours = c->iss + 1;
    h_inject(&c->h, &(struct h_seg){.flags = A_, .seq = c->peer, .ack = c->ours});
    c->s = synack_accept(c->h.s, c->l, NULL);
    assert_true(c->s >= 0);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    expect_none(&c->h);
    return t.flags;
}

/* Active open: returns the SYN's flags; the peer answers with a SYN-ACK
 * carrying synack_flags (after `retries` SYN timeouts). */
static uint16_t open_active(struct conn *c, int mode, uint16_t synack_flags, int retries)
{
    synack_config cfg = mode_cfg(mode);
    h_init(&c->h, &cfg);
    c->s = synack_socket(c->h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(c->h.s, c->s, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(&c->h, &t));
    assert_int_equal(t.flags & (S_ | A_), S_);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT); /* §6.1.1: never ECT on a SYN */
    uint16_t first = t.flags;
    for (int i = 0; i < retries; i++) {
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
        assert_true(h_next(&c->h, &t));
        assert_int_equal(t.flags & S_, S_);
        assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
        first = t.flags; /* the last SYN sent */
    }
    c->iss = t.seq;
    c->peer_isn = 5000;
    h_inject(&c->h, &(struct h_seg){.flags = S_ | A_ | synack_flags, .seq = c->peer_isn, .ack = c->iss + 1,
                                    .sport = H_RPORT, .dport = t.sport, .opts = &mss_opt});
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    struct wire_tcp ack = expect_seg(&c->h, A_, c->iss + 1, c->peer_isn + 1);
    assert_int_equal(ack.ecn, WIRE_ECN_NOT_ECT);
    c->peer = c->peer_isn + 1;
    c->ours = c->iss + 1;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    return first;
}

/* The test's segment on an active open (its ports differ). */
static void seg_in(struct conn *c, uint16_t flags, uint32_t ack, size_t len, uint8_t ecn)
{
    struct wire_tcp_opts none;
    memset(&none, 0, sizeof none);
    synack_endpoint l;
    assert_int_equal(synack_local(c->h.s, c->s, &l), 0);
    h_inject(&c->h, &(struct h_seg){.flags = flags, .seq = c->peer, .ack = ack, .data = zeros, .len = len,
                                    .ecn = ecn, .sport = H_RPORT, .dport = l.port});
    c->peer += (uint32_t)len;
}

/* The stack writes len bytes; returns the first segment it sent. */
static struct wire_tcp write_one(struct conn *c, size_t len)
{
    assert_int_equal(synack_send(c->h.s, c->s, zeros, len), (long)len);
    struct wire_tcp t;
    assert_true(h_next(&c->h, &t));
    assert_int_equal(t.seq, c->ours);
    c->ours += (uint32_t)t.payload_len;
    return t;
}

/* ECN agreed: does new data go ECT(0)? */
static bool data_is_ect(struct conn *c)
{
    struct wire_tcp t = write_one(c, 100);
    assert_int_equal(t.payload_len, 100);
    seg_in(c, A_, c->ours, 0, WIRE_ECN_NOT_ECT);
    return t.ecn == WIRE_ECN_ECT0;
}

/* ---- §6.1.1 negotiation, passive ---------------------------------------- */

/* RFC 3168 §6.1.1: an ECN-setup SYN (ECE|CWR) draws an ECN-setup SYN-ACK
 * (ECE, no CWR) in modes 1 and 2 (the default), and a plain one in mode 0;
 * a plain SYN never draws ECE. */
static void test_rfc3168_6_1_1_passive_modes(void **state)
{
    (void)state;
    static const struct {
        int mode;
        uint16_t syn;
        uint16_t want;
        bool ecn;
    } cases[] = {
        {DEFAULT_MODE, E_ | W_, E_, true}, {2, E_ | W_, E_, true}, {1, E_ | W_, E_, true},
        {0, E_ | W_, 0, false},            {2, 0, 0, false},       {1, 0, 0, false},
        {1, E_, 0, false}, /* ECE alone is no setup */
        {1, W_, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct conn c;
        uint16_t f = open_passive(&c, cases[i].mode, cases[i].syn, WIRE_ECN_NOT_ECT);
        assert_int_equal(f & (E_ | W_), cases[i].want);
        assert_int_equal(ctr(&c.h, "tcp_ecn_estab"), cases[i].ecn ? 1 : 0);
        assert_int_equal(info_of(&c.h, c.s).ecn, cases[i].ecn);
        assert_int_equal(data_is_ect(&c), cases[i].ecn);
        h_free(&c.h);
    }
}

/* RFC 3168 §6.1.1 forbids ECT on a SYN; Linux (tcp_ecn_create_request)
 * does not agree to an ECN-setup SYN that arrived ECT or CE. */
static void test_rfc3168_6_1_1_ect_syn_not_agreed(void **state)
{
    (void)state;
    for (uint8_t e = WIRE_ECN_ECT1; e <= WIRE_ECN_CE; e++) {
        struct conn c;
        uint16_t f = open_passive(&c, 1, E_ | W_, e);
        assert_int_equal(f & (E_ | W_), 0);
        assert_false(data_is_ect(&c));
        h_free(&c.h);
    }
}

/* ---- §6.1.1 negotiation, active ----------------------------------------- */

/* RFC 3168 §6.1.1: only mode 1 sends an ECN-setup SYN (ECE|CWR, not ECT);
 * ECN holds only when the SYN-ACK has ECE and not CWR. */
static void test_rfc3168_6_1_1_active_modes(void **state)
{
    (void)state;
    static const struct {
        int mode;
        uint16_t synack;
        uint16_t syn_want;
        bool ecn;
    } cases[] = {
        {1, E_, E_ | W_, true},   {1, 0, E_ | W_, false},     {1, E_ | W_, E_ | W_, false},
        {1, W_, E_ | W_, false},  {DEFAULT_MODE, E_, 0, false}, {2, E_, 0, false},
        {0, E_, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct conn c;
        uint16_t syn = open_active(&c, cases[i].mode, cases[i].synack, 0);
        assert_int_equal(syn & (E_ | W_), cases[i].syn_want);
        assert_int_equal(ctr(&c.h, "tcp_ecn_estab"), cases[i].ecn ? 1 : 0);
        assert_int_equal(data_is_ect(&c), cases[i].ecn);
        h_free(&c.h);
    }
}

/* Linux tcp_ecn_clear_syn (tcp_ecn_fallback 1): a retransmitted SYN drops
 * ECE and CWR, so a path that eats ECN-setup SYNs lets the connection
 * through; a SYN-ACK with ECE (to the first SYN) still agrees. */
static void test_rfc3168_6_1_1_syn_retransmission_plain(void **state)
{
    (void)state;
    struct conn c;
    uint16_t last = open_active(&c, 1, E_, 2);
    assert_int_equal(last & (E_ | W_), 0);
    assert_true(data_is_ect(&c));
    h_free(&c.h);
}

/* ---- §6.1.2 / §6.1.4-§6.1.6: what goes ECT ------------------------------ */

/* RFC 3168 §6.1.2: new data is ECT(0) (Linux: never ECT(1)); §6.1.4: pure
 * ACKs are not ECT; §6.1.5: a retransmission is not; a bare FIN carries no
 * data and is not either. */
static void test_rfc3168_6_1_2_ect_on_new_data_only(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    /* data from the peer: our pure ACK is Not-ECT */
    conn_send(&c, A_, zeros, 500);
    c.peer += 500;
    h_advance(&c.h, SYNACK_MS(50));
    struct wire_tcp t = expect_seg(&c.h, A_, c.ours, c.peer);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    /* new data: ECT(0) */
    t = write_one(&c, 1000);
    assert_int_equal(t.ecn, WIRE_ECN_ECT0);
    /* the timeout resends it: Not-ECT */
    assert_true(h_run_to_deadline(&c.h, SYNACK_SEC(5)));
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.seq, c.ours - 1000);
    assert_int_equal(t.payload_len, 1000);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    conn_send(&c, A_, NULL, 0);
    /* a bare FIN: Not-ECT */
    assert_int_equal(synack_shutdown(c.h.s, c.s, SYNACK_SHUT_WR), 0);
    t = expect_seg(&c.h, F_ | A_, c.ours, c.peer);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    h_free(&c.h);
}

/* RFC 3168 §6.1.6: a zero-window probe is not ECT. */
static void test_rfc3168_6_1_6_window_probe_not_ect(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .zero_wnd = true});
    assert_int_equal(synack_send(c.h.s, c.s, zeros, 100), 100);
    expect_none(&c.h);
    assert_true(h_run_to_deadline(&c.h, SYNACK_SEC(5)));
    struct wire_tcp t = expect_seg(&c.h, A_, c.ours - 1, c.peer);
    assert_int_equal(t.payload_len, 0);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    h_free(&c.h);
}

/* ---- §6.1.3 the receiver ------------------------------------------------ */

/* RFC 3168 §6.1.3: after a CE data segment every ACK carries ECE (the first
 * at once: Linux enters quick-ACK mode) until a segment with CWR arrives. */
static void test_rfc3168_6_1_3_ece_until_cwr(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = zeros, .len = 500,
                                   .ecn = WIRE_ECN_CE});
    c.peer += 500;
    struct wire_tcp t = expect_seg(&c.h, A_ | E_, c.ours, c.peer); /* not delayed */
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    assert_int_equal(ctr(&c.h, "tcp_ecn_ce_in"), 1);
    assert_true(info_of(&c.h, c.s).ecn_seen);
    /* later data, not marked: ECE still */
    for (int i = 0; i < 3; i++) {
        h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = zeros, .len = 500,
                                       .ecn = WIRE_ECN_ECT0});
        c.peer += 500;
        h_advance(&c.h, SYNACK_MS(50));
        expect_seg(&c.h, A_ | E_, c.ours, c.peer);
    }
    /* our own data carries ECE too (and is ECT) */
    t = write_one(&c, 100);
    assert_int_equal(t.flags & E_, E_);
    assert_int_equal(t.ecn, WIRE_ECN_ECT0);
    /* CWR with data: the echo ends, and the ACK goes at once */
    h_inject(&c.h, &(struct h_seg){.flags = A_ | W_, .seq = c.peer, .ack = c.ours, .data = zeros, .len = 500,
                                   .ecn = WIRE_ECN_ECT0});
    c.peer += 500;
    expect_seg(&c.h, A_, c.ours, c.peer);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = zeros, .len = 500,
                                   .ecn = WIRE_ECN_ECT0});
    c.peer += 500;
    h_advance(&c.h, SYNACK_MS(50));
    expect_seg(&c.h, A_, c.ours, c.peer);
    h_free(&c.h);
}

/* Linux (tcp_ecn_accept_cwr in tcp_ack): a pure ACK with CWR ends the echo
 * too. */
static void test_rfc3168_6_1_3_cwr_on_pure_ack(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = zeros, .len = 500,
                                   .ecn = WIRE_ECN_CE});
    c.peer += 500;
    expect_seg(&c.h, A_ | E_, c.ours, c.peer);
    h_inject(&c.h, &(struct h_seg){.flags = A_ | W_, .seq = c.peer, .ack = c.ours});
    expect_none(&c.h); /* an ACK is not ACKed */
    struct wire_tcp t = write_one(&c, 100);
    assert_int_equal(t.flags & E_, 0);
    h_free(&c.h);
}

/* Without agreement CE means nothing to TCP (RFC 3168 §6.1.1: only an
 * ECN-capable connection echoes it), and ECE on an ACK reduces nothing. */
static void test_rfc3168_6_1_1_no_ecn_no_echo_no_reduction(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, 0, WIRE_ECN_NOT_ECT);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = zeros, .len = 500,
                                   .ecn = WIRE_ECN_CE});
    c.peer += 500;
    h_advance(&c.h, SYNACK_MS(50));
    struct wire_tcp t = expect_seg(&c.h, A_, c.ours, c.peer);
    assert_int_equal(t.flags & E_, 0);
    assert_int_equal(ctr(&c.h, "tcp_ecn_ce_in"), 0);
    t = write_one(&c, 4000);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    h_drain(&c.h);
    uint32_t cwnd = info_of(&c.h, c.s).cwnd;
    conn_send(&c, A_ | E_, NULL, 0);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.ca_state, 0);
    assert_true(i.cwnd >= cwnd);
    assert_int_equal(ctr(&c.h, "tcp_ecn_cwr"), 0);
    h_free(&c.h);
}

/* ---- §6.1.2 the sender -------------------------------------------------- */

/* RFC 3168 §6.1.2: an ECN-Echo halves the window as a loss would (Linux
 * tcp_enter_cwr: the CWR state, ssthresh from CUBIC, cwnd brought down by
 * PRR), once per window of data: echoes for data sent before the
 * reduction do not reduce it again; one for data sent after it does. The
 * first new data after the reduction carries CWR, and only that segment. */
static void test_rfc3168_6_1_2_one_reduction_per_window_one_cwr(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    uint32_t base = c.ours;
    assert_int_equal(synack_send(c.h.s, c.s, zeros, 4000), 4000);
    for (int i = 0; i < 4; i++) {
        struct wire_tcp t;
        assert_true(h_next(&c.h, &t));
        assert_int_equal(t.seq, base + (uint32_t)i * MSS);
        assert_int_equal(t.ecn, WIRE_ECN_ECT0);
        assert_int_equal(t.flags & (E_ | W_), 0);
    }
    expect_none(&c.h);
    c.ours = base + 4000;
    assert_int_equal(info_of(&c.h, c.s).cwnd, 10 * MSS);
    h_advance(&c.h, SYNACK_MS(100));
    /* the echo for the first segment: CWR state; CUBIC's ssthresh is 0.7
     * of cwnd; PRR (RFC 6937, pipe 3000 below ssthresh): cwnd = pipe +
     * min(ssthresh - pipe, delivered + 1 MSS) = 5 segments, as Linux 6.18
     * computes it (the script cwnd-moderation-ecn-enter-cwr-no-moderation
     * expects 4, from older kernels' PRR) */
    h_inject(&c.h, &(struct h_seg){.flags = A_ | E_, .seq = c.peer, .ack = base + 1000});
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.ca_state, 2); /* Linux TCP_CA_CWR */
    assert_int_equal(i.ssthresh, 7 * MSS);
    assert_int_equal(i.cwnd, 5 * MSS);
    assert_int_equal(ctr(&c.h, "tcp_ecn_ece_in"), 1);
    assert_int_equal(ctr(&c.h, "tcp_ecn_cwr"), 1);
    expect_none(&c.h); /* cwnd 5000, pipe 3000: room, but nothing to send */
    /* new data: the first segment carries CWR, the next does not */
    assert_int_equal(synack_send(c.h.s, c.s, zeros, 2000), 2000);
    struct wire_tcp t = expect_seg(&c.h, A_ | W_, base + 4000, c.peer);
    assert_int_equal(t.ecn, WIRE_ECN_ECT0);
    t = expect_seg(&c.h, A_ | P_, base + 5000, c.peer);
    assert_int_equal(t.ecn, WIRE_ECN_ECT0);
    c.ours = base + 6000;
    assert_int_equal(ctr(&c.h, "tcp_ecn_cwr_out"), 1);
    /* echoes for the data sent before the reduction (up to base + 4000, its
     * acknowledgment included): no second reduction */
    for (uint32_t a = 2000; a <= 4000; a += 1000) {
        h_inject(&c.h, &(struct h_seg){.flags = A_ | E_, .seq = c.peer, .ack = base + a});
        assert_int_equal(info_of(&c.h, c.s).ca_state, 2);
        assert_int_equal(info_of(&c.h, c.s).ssthresh, 7 * MSS);
    }
    assert_int_equal(ctr(&c.h, "tcp_ecn_cwr"), 1);
    h_drain(&c.h);
    /* data beyond the point is acknowledged: the reduction ends at
     * ssthresh (and a new echo, for data sent after it, reduces again) */
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = base + 5000});
    i = info_of(&c.h, c.s);
    assert_int_equal(i.ca_state, 0);
    assert_true(i.cwnd >= 7 * MSS);
    h_inject(&c.h, &(struct h_seg){.flags = A_ | E_, .seq = c.peer, .ack = base + 5500});
    assert_int_equal(info_of(&c.h, c.s).ca_state, 2);
    assert_int_equal(ctr(&c.h, "tcp_ecn_cwr"), 2);
    assert_true(info_of(&c.h, c.s).ssthresh < 7 * MSS);
    h_free(&c.h);
}

/* RFC 3168 §6.1.5: CWR rides on new data only, never on a retransmission;
 * and Linux queues it after a timeout's reduction too (tcp_enter_loss). */
static void test_rfc3168_6_1_5_cwr_not_on_retransmission(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    uint32_t base = c.ours;
    struct wire_tcp t = write_one(&c, 1000);
    assert_int_equal(t.flags & W_, 0);
    assert_true(h_run_to_deadline(&c.h, SYNACK_SEC(5))); /* RTO: cwnd cut, CWR queued */
    t = expect_seg(&c.h, A_ | P_, base, c.peer);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    assert_int_equal(t.flags & W_, 0);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = base + 1000});
    t = write_one(&c, 500);
    assert_int_equal(t.flags & W_, W_);
    assert_int_equal(t.ecn, WIRE_ECN_ECT0);
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours});
    t = write_one(&c, 500);
    assert_int_equal(t.flags & W_, 0);
    h_free(&c.h);
}

/* An echo with nothing in flight asks for nothing (Linux's tcp_ack takes no
 * congestion step without packets out). */
static void test_rfc3168_6_1_2_echo_with_nothing_in_flight(void **state)
{
    (void)state;
    struct conn c;
    open_passive(&c, 2, E_ | W_, WIRE_ECN_NOT_ECT);
    conn_send(&c, A_ | E_, NULL, 0);
    assert_int_equal(info_of(&c.h, c.s).ca_state, 0);
    assert_int_equal(ctr(&c.h, "tcp_ecn_cwr"), 0);
    struct wire_tcp t = write_one(&c, 100);
    assert_int_equal(t.flags & W_, 0);
    h_free(&c.h);
}

/* The stack's setting: only Linux's values, and changed at run time for
 * later connections. */
static void test_ecn_mode_setting(void **state)
{
    (void)state;
    synack_config cfg = mode_cfg(3);
    struct harness h;
    memset(&h, 0, sizeof h);
    cfg.clock = synack_vclock_read;
    cfg.clock_ctx = &h.clock;
    assert_null(synack_stack_new(&cfg));
    h_init(&h, NULL);
    assert_int_equal(synack_set_ecn(h.s, 3), -EINVAL);
    assert_int_equal(synack_set_ecn(h.s, 1), 0);
    synack_sock s = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, s, &r), -EINPROGRESS);
    expect_flags(&h, S_ | E_ | W_, 0);
    assert_int_equal(synack_set_ecn(h.s, 0), 0);
    s = synack_socket(h.s);
    assert_int_equal(synack_connect(h.s, s, &r), -EINPROGRESS);
    expect_flags(&h, S_, 0);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3168_6_1_1_passive_modes),
        cmocka_unit_test(test_rfc3168_6_1_1_ect_syn_not_agreed),
        cmocka_unit_test(test_rfc3168_6_1_1_active_modes),
        cmocka_unit_test(test_rfc3168_6_1_1_syn_retransmission_plain),
        cmocka_unit_test(test_rfc3168_6_1_2_ect_on_new_data_only),
        cmocka_unit_test(test_rfc3168_6_1_6_window_probe_not_ect),
        cmocka_unit_test(test_rfc3168_6_1_3_ece_until_cwr),
        cmocka_unit_test(test_rfc3168_6_1_3_cwr_on_pure_ack),
        cmocka_unit_test(test_rfc3168_6_1_1_no_ecn_no_echo_no_reduction),
        cmocka_unit_test(test_rfc3168_6_1_2_one_reduction_per_window_one_cwr),
        cmocka_unit_test(test_rfc3168_6_1_5_cwr_not_on_retransmission),
        cmocka_unit_test(test_rfc3168_6_1_2_echo_with_nothing_in_flight),
        cmocka_unit_test(test_ecn_mode_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
