/* The sending side under loss: fast retransmit (RFC 5681 §3.2), NewReno
 * (RFC 6582), SACK-based recovery (RFC 6675), limited transmit (RFC 3042),
 * the initial window (RFC 6928) and RTO backoff (RFC 6298 §5.5). The test
 * plays a receiver that drops chosen first transmissions and answers every
 * segment at once, with SACK blocks when they were agreed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define A_ WIRE_TCP_ACK
#define MSS 1000
#define NSEG 64

struct peer {
    struct xconn x;
    uint32_t base; /* the stack's first data sequence number */
    bool got[NSEG];
    bool drop_first[NSEG]; /* lose the first transmission of these */
    bool seen[NSEG];
    int tx[NSEG]; /* transmissions of each segment */
    int last;     /* segment received last (RFC 2018 §4 ordering) */
    int rtos;     /* timer-driven rounds */
};

static uint32_t cum(const struct peer *p)
{
    int i = 0;
    while (i < NSEG && p->got[i])
        i++;
    return p->base + (uint32_t)i * MSS;
}

/* ACK with up to 3 SACK blocks: the one holding the last segment first,
 * then the others from the highest down. */
static void answer(struct peer *p)
{
    uint32_t blocks[8];
    int nb = 0;
    int c = (int)((cum(p) - p->base) / MSS);
    int first_lo = -1, first_hi = -1;
    if (p->x.sack && p->last > c && p->got[p->last]) {
        int lo = p->last, hi = p->last;
        while (lo - 1 > c && p->got[lo - 1])
            lo--;
        while (hi + 1 < NSEG && p->got[hi + 1])
            hi++;
        blocks[0] = p->base + (uint32_t)lo * MSS;
        blocks[1] = p->base + (uint32_t)(hi + 1) * MSS;
        nb = 1;
        first_lo = lo;
        first_hi = hi;
    }
    for (int i = NSEG - 1; p->x.sack && i > c && nb < 3;) {
        if (!p->got[i]) {
            i--;
            continue;
        }
        int hi = i;
        while (i > c && p->got[i])
            i--;
        int lo = i + 1;
        if (lo == first_lo && hi == first_hi)
            continue;
        blocks[2 * nb] = p->base + (uint32_t)lo * MSS;
        blocks[2 * nb + 1] = p->base + (uint32_t)(hi + 1) * MSS;
        nb++;
    }
    x_ack(&p->x, cum(p), blocks, nb);
}

/* Runs until everything sent is acknowledged or max_rounds timers fired. */
static void run(struct peer *p, uint32_t total, int max_rounds)
{
    struct wire_tcp t;
    for (int guard = 0; guard < 100000; guard++) {
        if (h_next(&p->x.c.h, &t)) {
            if (!t.payload_len)
                continue;
            int i = (int)((t.seq - p->base) / MSS);
            assert_true(i >= 0 && i < NSEG);
            assert_int_equal((t.seq - p->base) % MSS, 0);
            p->tx[i]++;
            if (p->drop_first[i] && !p->seen[i]) {
                p->seen[i] = true;
                continue;
            }
            p->seen[i] = true;
            p->got[i] = true;
            p->last = i;
            answer(p);
            continue;
        }
        if (cum(p) - p->base >= total)
            return;
        if (p->rtos >= max_rounds)
            return;
        assert_true(h_run_to_deadline(&p->x.c.h, SYNACK_SEC(100)));
        p->rtos++;
    }
}

static void peer_open(struct peer *p, bool sack, uint32_t bytes)
{
    memset(p, 0, sizeof *p);
    /* These tests pin the RFC 6675/6582/3042 rules. The peer answers in no
     * time at all, where RACK (RFC 8985 §6, test_rack.c) finds every hole
     * at the first SACK, as Linux would: so they run as Linux does with
     * tcp_recovery 0, RFC 6675 alone. */
    synack_config cfg = {.sndbuf = NSEG * MSS, .rcvbuf = NSEG * MSS, .no_rack = true};
    x_open(&p->x, &cfg, &(struct xopen){.mss = MSS, .sack = sack, .wscale = 7});
    p->base = p->x.c.ours;
    static uint8_t d[NSEG * MSS];
    assert_int_equal(synack_send(p->x.c.h.s, p->x.c.s, d, bytes), (long)bytes);
}

/* RFC 6928 (Linux TCP_INIT_CWND): the first flight is ten segments. */
static void test_rfc6928_initial_window_is_ten_segments(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, false, 30 * MSS);
    uint32_t seqs[32];
    assert_int_equal(x_data_segs(&p.x, seqs, 32), 10);
    assert_int_equal(seqs[9], p.base + 9 * MSS);
    h_free(&p.x.c.h);
}

/* RFC 5681 §3.2: the third duplicate ACK triggers a retransmission of the
 * first unacknowledged segment at once; RFC 3042: the first two each let
 * one new segment go. */
static void test_rfc5681_3_2_fast_retransmit_after_three_dupacks(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, false, 30 * MSS);
    uint32_t seqs[32];
    assert_int_equal(x_data_segs(&p.x, seqs, 32), 10);
    uint32_t una = p.base + MSS;
    x_ack(&p.x, una, NULL, 0); /* seg 0 arrives; seg 1 was lost */
    int n = x_data_segs(&p.x, seqs, 32); /* slow start: two more */
    assert_int_equal(n, 2);
    uint32_t next = p.base + 12 * MSS;
    uint64_t fr = ctr(&p.x.c.h, "tcp_fast_retrans");
    for (int d = 1; d <= 2; d++) {
        x_ack(&p.x, una, NULL, 0);
        assert_int_equal(x_data_segs(&p.x, seqs, 32), 1); /* limited transmit */
        assert_int_equal(seqs[0], next);
        next += MSS;
    }
    assert_int_equal(ctr(&p.x.c.h, "tcp_fast_retrans"), fr);
    x_ack(&p.x, una, NULL, 0);
    n = x_data_segs(&p.x, seqs, 32);
    assert_true(n >= 1);
    assert_int_equal(seqs[0], una); /* the retransmission, before any RTO */
    assert_int_equal(ctr(&p.x.c.h, "tcp_fast_retrans"), fr + 1);
    assert_int_equal(ctr(&p.x.c.h, "tcp_rto"), 0);
    h_free(&p.x.c.h);
}

/* RFC 6582 §3.2: without SACK, several losses in one window are repaired
 * one per partial ACK, without waiting for the timer. */
static void test_rfc6582_newreno_repairs_several_holes(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, false, 40 * MSS);
    p.drop_first[2] = p.drop_first[5] = p.drop_first[8] = true;
    run(&p, 40 * MSS, 0);
    assert_int_equal(cum(&p) - p.base, 40 * MSS);
    assert_int_equal(p.rtos, 0);
    assert_int_equal(ctr(&p.x.c.h, "tcp_rto"), 0);
    assert_int_equal(ctr(&p.x.c.h, "tcp_reno_recovery"), 1);
    for (int i = 0; i < 40; i++)
        assert_int_equal(p.tx[i], (i == 2 || i == 5 || i == 8) ? 2 : 1);
    h_free(&p.x.c.h);
}

/* RFC 6675: with SACK, several holes in one window are all resent in one
 * recovery, each exactly once, and nothing SACKed is resent. */
static void test_rfc6675_sack_recovers_several_holes(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, true, 40 * MSS);
    p.drop_first[1] = p.drop_first[4] = p.drop_first[6] = p.drop_first[9] = true;
    run(&p, 40 * MSS, 0);
    assert_int_equal(cum(&p) - p.base, 40 * MSS);
    assert_int_equal(p.rtos, 0);
    assert_int_equal(ctr(&p.x.c.h, "tcp_rto"), 0);
    assert_int_equal(ctr(&p.x.c.h, "tcp_sack_recovery"), 1);
    for (int i = 0; i < 40; i++)
        assert_int_equal(p.tx[i], (i == 1 || i == 4 || i == 6 || i == 9) ? 2 : 1);
    h_free(&p.x.c.h);
}

/* RFC 6675 §5 with all the data already sent: the SACKs that make the
 * first segment lost send its retransmission at once. output() stops
 * before pipe when nothing is unsent and nothing lost (the common ACK); a
 * lost segment with nothing new behind it must still go the full way. */
static void test_rfc6675_retransmits_with_nothing_unsent(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, true, 4 * MSS);
    p.drop_first[0] = true;
    run(&p, 4 * MSS, 0);
    assert_int_equal(cum(&p) - p.base, 4 * MSS);
    assert_int_equal(p.tx[0], 2);
    assert_int_equal(p.rtos, 0);
    assert_int_equal(ctr(&p.x.c.h, "tcp_rto"), 0);
    assert_int_equal(ctr(&p.x.c.h, "tcp_sack_recovery"), 1);
    h_free(&p.x.c.h);
}

/* RFC 6298 §5.5: each timeout of the same data doubles the RTO; §5.7 is
 * Linux's min of 200 ms; the retransmission is the segment at SND.UNA. */
static void test_rfc6298_5_5_rto_backoff_doubles(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, false, 1 * MSS);
    uint32_t seqs[4];
    assert_int_equal(x_data_segs(&p.x, seqs, 4), 1);
    synack_time t0 = p.x.c.h.clock.now, prev = 0;
    synack_time rto = info_of(&p.x.c.h, p.x.c.s).rto_us;
    assert_true(rto >= SYNACK_MS(200)); /* Linux's minimum (RFC 6298 §2.4 allows it) */
    for (int i = 0; i < 4; i++) {
        assert_true(h_run_to_deadline(&p.x.c.h, SYNACK_SEC(200)));
        synack_time gap = p.x.c.h.clock.now - t0;
        if (i > 0)
            assert_int_equal(gap, 2 * prev);
        else
            assert_int_equal(gap, rto);
        prev = gap;
        t0 = p.x.c.h.clock.now;
        assert_int_equal(x_data_segs(&p.x, seqs, 4), 1);
        assert_int_equal(seqs[0], p.base);
    }
    assert_int_equal(ctr(&p.x.c.h, "tcp_rto"), 4);
    h_free(&p.x.c.h);
}

/* RFC 5681 §3.1: after a timeout the window is one segment and grows in
 * slow start as the retransmissions are acknowledged; with SACK, segments
 * the receiver holds are not sent again (RFC 6675 §5.1). */
static void test_rfc5681_3_1_loss_window_then_slow_start(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, true, 10 * MSS);
    /* the whole first flight but the last segment is lost: too few SACKs
     * for fast retransmit, so the timer must do it */
    for (int i = 0; i < 9; i++)
        p.drop_first[i] = true;
    run(&p, 10 * MSS, 10);
    assert_int_equal(cum(&p) - p.base, 10 * MSS);
    assert_int_equal(p.rtos, 1);
    assert_int_equal(p.tx[9], 1); /* SACKed: never resent */
    for (int i = 0; i < 9; i++)
        assert_int_equal(p.tx[i], 2);
    h_free(&p.x.c.h);
}

/* RFC 6937 §3.1 (Linux tcp_cwnd_reduction): in recovery, while pipe is
 * above ssthresh, the sender sends ssthresh/RecoverFS of what each ACK
 * delivered: with NewReno's ssthresh of half the window, one segment for
 * every second segment SACKed; the fast retransmit goes at once. */
static void test_rfc6937_prr_sends_in_proportion(void **state)
{
    (void)state;
    struct xconn x;
    /* RFC 6675 alone, as in peer_open: a zero-time RACK would start the
     * recovery at the first SACK */
    synack_config cfg = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20, .no_rack = true};
    x_open(&x, &cfg, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_CONGESTION, SYNACK_CC_NEWRENO), 0);
    static uint8_t d[40 * MSS];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    uint32_t seqs[64];
    assert_int_equal(x_data_segs(&x, seqs, 64), 10);
    x_ack(&x, c->ours + 10 * MSS, NULL, 0); /* slow start: cwnd 20 segments */
    assert_int_equal(x_data_segs(&x, seqs, 64), 20);
    uint32_t base = c->ours + 10 * MSS; /* the first of the 20 is lost */
    int sent = 0;
    for (int k = 1; k <= 17; k++) {
        uint32_t sack[2] = {base + MSS, base + (uint32_t)(k + 1) * MSS};
        x_ack(&x, base, sack, 1);
        int n = x_data_segs(&x, seqs, 64);
        if (k < 3) { /* limited transmit (RFC 3042): one new segment each */
            assert_int_equal(n, 1);
            continue;
        }
        if (k == 3)
            assert_int_equal(seqs[0], base); /* the fast retransmit */
        sent += n;
        /* delivered since recovery began: k - 2 segments; ceil(that * 10 / 20) */
        int want = (k - 2 + 1) / 2;
        if (sent != want)
            fail_msg("after %d segments SACKed: %d sent in recovery, PRR allows %d", k, sent, want);
    }
    assert_int_equal(info_of(&c->h, c->s).ssthresh, 10 * MSS);
    h_free(&c->h);
}

/* RFC 3042 §2: limited transmit sends only new data, at most two segments
 * beyond cwnd, and never when the peer's window forbids it. */
static void test_rfc3042_limited_transmit_two_segments(void **state)
{
    (void)state;
    struct peer p;
    peer_open(&p, true, 30 * MSS);
    uint32_t seqs[32];
    assert_int_equal(x_data_segs(&p.x, seqs, 32), 10);
    /* segment 0 lost; 1 and 2 arrive: two SACKing duplicate ACKs */
    uint32_t blk[2] = {p.base + MSS, p.base + 2 * MSS};
    x_ack(&p.x, p.base, blk, 1);
    assert_int_equal(x_data_segs(&p.x, seqs, 32), 1);
    assert_int_equal(seqs[0], p.base + 10 * MSS);
    blk[1] = p.base + 3 * MSS;
    x_ack(&p.x, p.base, blk, 1);
    assert_int_equal(x_data_segs(&p.x, seqs, 32), 1);
    assert_int_equal(seqs[0], p.base + 11 * MSS);
    h_free(&p.x.c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6928_initial_window_is_ten_segments),
        cmocka_unit_test(test_rfc5681_3_2_fast_retransmit_after_three_dupacks),
        cmocka_unit_test(test_rfc6582_newreno_repairs_several_holes),
        cmocka_unit_test(test_rfc6675_sack_recovers_several_holes),
        cmocka_unit_test(test_rfc6675_retransmits_with_nothing_unsent),
        cmocka_unit_test(test_rfc6298_5_5_rto_backoff_doubles),
        cmocka_unit_test(test_rfc5681_3_1_loss_window_then_slow_start),
        cmocka_unit_test(test_rfc3042_limited_transmit_two_segments),
        cmocka_unit_test(test_rfc6937_prr_sends_in_proportion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
