/* RACK loss detection (RFC 8985 §6), as Linux does it: a segment is lost
 * once a segment sent after it was delivered and it has waited RACK.rtt
 * plus the reordering window, however few segments were SACKed above it.
 * The peer here answers after a round trip of 20 ms (the handshake's too,
 * so RACK.min_RTT is 20 ms and the reordering window min_RTT/4 = 5 ms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define A_ WIRE_TCP_ACK
#define MSS 1000
#define RTT SYNACK_MS(20)

static uint8_t data[64 * MSS];

static void open_rack(struct xconn *x, bool no_rack, bool ts)
{
    synack_config cfg = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20, .no_rack = no_rack};
    /* with timestamps the segments carry 12 bytes less: keep them MSS */
    x_open_rtt(x, &cfg, &(struct xopen){.mss = ts ? MSS + 12 : MSS, .sack = true, .ts = ts, .wscale = 7}, RTT);
    assert_int_equal(synack_setopt(x->c.h.s, x->c.s, SYNACK_OPT_NODELAY, 1), 0);
}

/* n segments written and sent now; returns how many went. */
static int send_segs(struct xconn *x, int n)
{
    assert_int_equal(synack_send(x->c.h.s, x->c.s, data, (size_t)n * MSS), (long)n * MSS);
    uint32_t seqs[64];
    return x_data_segs(x, seqs, 64);
}

/* The data segments the stack sent; their sequence numbers in seqs. */
static int sent(struct xconn *x, uint32_t *seqs)
{
    return x_data_segs(x, seqs, 64);
}

/* §6.2 step 5: segment 0 left 10 ms before segments 1 and 2; when the SACK
 * of segment 2 comes a round trip after it was sent, segment 0 has waited
 * RACK.rtt + reo_wnd (20 + 5 ms) already: lost, with one segment SACKed
 * above it where RFC 6675 IsLost needs three. Segment 1, sent with 2, is not
 * lost yet. With RACK off (Linux tcp_recovery 0) nothing is resent. */
static void test_rfc8985_6_2_lost_by_time_with_one_sack(void **state)
{
    (void)state;
    for (int off = 0; off < 2; off++) {
        struct xconn x;
        open_rack(&x, off, false);
        struct conn *c = &x.c;
        uint32_t base = c->ours;
        assert_int_equal(send_segs(&x, 1), 1);
        h_advance(&c->h, SYNACK_MS(10));
        assert_int_equal(send_segs(&x, 2), 2);
        h_advance(&c->h, RTT);
        uint32_t sack[2] = {base + 2 * MSS, base + 3 * MSS};
        x_ack(&x, base, sack, 1);
        uint32_t seqs[64];
        int n = sent(&x, seqs);
        if (off) {
            assert_int_equal(n, 0);
            assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 0);
            assert_int_equal(ctr(&c->h, "tcp_fast_retrans"), 0);
        } else {
            assert_int_equal(n, 1);
            assert_int_equal(seqs[0], base); /* segment 0 at once */
            assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 1);
            assert_int_equal(ctr(&c->h, "tcp_rack_recoveries"), 1);
            assert_int_equal(ctr(&c->h, "tcp_fast_retrans"), 1);
        }
        h_free(&c->h);
    }
}

/* §6.2 step 5 and §6.3: a segment not yet RACK.rtt + reo_wnd old is not
 * marked; the reordering timer fires when it will be (5 ms after the SACK
 * here, and 2 ms more as Linux; well before the RTO or a probe) and marks
 * and resends it. A SACK
 * within that window (the "reordered" segment arriving) keeps it unmarked. */
static void test_rfc8985_6_2_no_loss_inside_reo_wnd_timer_marks_later(void **state)
{
    (void)state;
    struct xconn x;
    open_rack(&x, false, false);
    struct conn *c = &x.c;
    uint32_t base = c->ours;
    assert_int_equal(send_segs(&x, 3), 3);
    h_advance(&c->h, RTT);
    uint32_t sack[2] = {base + MSS, base + 2 * MSS};
    x_ack(&x, base, sack, 1);
    uint32_t seqs[64];
    assert_int_equal(sent(&x, seqs), 0);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 0);
    synack_time t_sack = c->h.clock.now;
    h_advance(&c->h, SYNACK_MS(6));
    assert_int_equal(sent(&x, seqs), 0);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1)));
    /* RACK.rtt + reo_wnd - age, and Linux's TCP_TIMEOUT_MIN */
    assert_int_equal(c->h.clock.now - t_sack, SYNACK_MS(5) + SYNACK_MS(2));
    assert_int_equal(ctr(&c->h, "tcp_rack_reo_timeouts"), 1);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 1);
    assert_int_equal(ctr(&c->h, "tcp_rto"), 0);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 0);
    assert_int_equal(sent(&x, seqs), 1);
    assert_int_equal(seqs[0], base);
    h_free(&c->h);

    /* The missing segment arrives inside the window: nothing is resent. */
    open_rack(&x, false, false);
    base = c->ours;
    assert_int_equal(send_segs(&x, 3), 3);
    h_advance(&c->h, RTT);
    x_ack(&x, base, sack, 1);
    h_advance(&c->h, SYNACK_MS(2));
    x_ack(&x, base + 3 * MSS, NULL, 0);
    h_advance(&c->h, SYNACK_SEC(1));
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 0);
    assert_int_equal(ctr(&c->h, "tcp_retrans"), 0);
    h_free(&c->h);
}

/* Segments 0-3 go at t0, segment 4 at t0+10 ms. A SACK of 3 at t0+20 and
 * the reordering timer mark 0-2 lost at t0+25; PRR lets the first go. */
static void four_then_one(struct xconn *x, bool ts, uint32_t *base)
{
    open_rack(x, false, ts);
    struct conn *c = &x->c;
    *base = c->ours;
    assert_int_equal(send_segs(x, 4), 4);
    h_advance(&c->h, SYNACK_MS(10));
    assert_int_equal(send_segs(x, 1), 1);
    h_advance(&c->h, SYNACK_MS(10));
    uint32_t sack[2] = {*base + 3 * MSS, *base + 4 * MSS};
    x_ack(x, *base, sack, 1);
    uint32_t seqs[64];
    assert_int_equal(sent(x, seqs), 0);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1)));
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 3);
    assert_int_equal(sent(x, seqs), 1);
    assert_int_equal(seqs[0], *base);
}

/* §6.2 step 2: an ACK of a retransmission sooner than RACK.min_RTT after it
 * is likely the original's, so its time is no RACK.rtt / RACK.xmit_ts. Had
 * it been taken (sent at t0+25, RTT 2 ms), segment 4 (sent at t0+10, 17 ms
 * old) would be marked lost; it must not be. */
static void test_rfc8985_6_2_rtt_not_from_ambiguous_retransmission(void **state)
{
    (void)state;
    struct xconn x;
    uint32_t base;
    four_then_one(&x, false, &base);
    struct conn *c = &x.c;
    h_advance(&c->h, SYNACK_MS(2));
    uint32_t sack[2] = {base + 3 * MSS, base + 4 * MSS};
    x_ack(&x, base + MSS, sack, 1);
    uint32_t seqs[64];
    int n = sent(&x, seqs);
    for (int i = 0; i < n; i++)
        assert_true(seqs[i] != base + 4 * MSS);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 3);
    h_free(&c->h);
}

/* §6.2 step 2 with timestamps: an ACK of a retransmission a full RTT after
 * it, but echoing the TSval of the original (sent 25 ms before it), answers
 * the original: no sample. Taken, RACK.rtt would be 22 ms from t0+25 and
 * segment 4 (t0+10) lost at t0+47; it must not be marked then. */
static void test_rfc8985_6_2_rtt_not_from_retransmission_tsecr_older(void **state)
{
    (void)state;
    struct xconn x;
    uint32_t base;
    four_then_one(&x, true, &base);
    struct conn *c = &x.c;
    uint32_t rtx_tsval = x.ecr;
    h_advance(&c->h, RTT + SYNACK_MS(2));
    x.ecr = rtx_tsval - 25; /* the original's TSval (ms clock) */
    x.tsval += 50;
    uint32_t sack[2] = {base + 3 * MSS, base + 4 * MSS};
    x_ack(&x, base + MSS, sack, 1);
    uint32_t seqs[64];
    int n = sent(&x, seqs);
    for (int i = 0; i < n; i++)
        assert_true(seqs[i] != base + 4 * MSS);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 3);
    h_free(&c->h);
}

/* §6.2 step 4 (Linux tcp_rack_update_reo_wnd): a D-SACK shows a spurious
 * retransmission, so reo_wnd grows by min_RTT/4: the reordering timer of
 * the same pattern as above fires 10 (+2) ms after the SACK instead of 5. A
 * second D-SACK in the same round trip does not grow it again. */
static void test_rfc8985_6_2_reo_wnd_grows_on_dsack(void **state)
{
    (void)state;
    for (int dsack = 0; dsack < 2; dsack++) {
        struct xconn x;
        open_rack(&x, false, false);
        struct conn *c = &x.c;
        uint32_t base = c->ours;
        assert_int_equal(send_segs(&x, 4), 4);
        h_advance(&c->h, RTT);
        /* two D-SACKs in one round trip (SND.UNA below SND.NXT of the first) */
        uint32_t ds[2] = {base, base + MSS};
        x_ack(&x, base + 2 * MSS, ds, dsack);
        x_ack(&x, base + 3 * MSS, ds, dsack);
        x_ack(&x, base + 4 * MSS, NULL, 0);
        assert_int_equal(ctr(&c->h, "tcp_rack_reo_wnd_grown"), dsack);
        base += 4 * MSS;
        assert_int_equal(send_segs(&x, 3), 3);
        h_advance(&c->h, RTT);
        uint32_t sack[2] = {base + MSS, base + 2 * MSS};
        x_ack(&x, base, sack, 1);
        synack_time t_sack = c->h.clock.now;
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1)));
        assert_int_equal(c->h.clock.now - t_sack, (dsack ? SYNACK_MS(10) : SYNACK_MS(5)) + SYNACK_MS(2));
        assert_int_equal(ctr(&c->h, "tcp_rack_reo_timeouts"), 1);
        h_free(&c->h);
    }
}

/* §6.2 step 3: never-retransmitted data delivered below RACK.fack is
 * reordering; from then reo_wnd stays min_RTT/4 even with three segments
 * SACKed (without it, RACK marks at once there, like RFC 6675). */
static void test_rfc8985_6_2_reordering_seen_keeps_the_window(void **state)
{
    (void)state;
    struct xconn x;
    open_rack(&x, false, false);
    struct conn *c = &x.c;
    uint32_t base = c->ours;
    assert_int_equal(send_segs(&x, 2), 2);
    h_advance(&c->h, RTT);
    uint32_t s1[2] = {base + MSS, base + 2 * MSS};
    x_ack(&x, base, s1, 1);
    x_ack(&x, base + 2 * MSS, NULL, 0); /* segment 0, below RACK.fack */
    assert_int_equal(ctr(&c->h, "tcp_rack_reordering"), 1);
    assert_int_equal(ctr(&c->h, "tcp_retrans"), 0);
    base += 2 * MSS;
    assert_int_equal(send_segs(&x, 4), 4);
    h_advance(&c->h, RTT);
    uint32_t s3[2] = {base + MSS, base + 4 * MSS};
    x_ack(&x, base, s3, 1);
    uint32_t seqs[64];
    assert_int_equal(sent(&x, seqs), 0); /* neither RACK nor RFC 6675 at once (3 SACKed: 6675 would) */
    h_free(&c->h);
}

/* §6.2 step 5 applies to retransmissions too (Linux tcp_rack_detect_loss):
 * segments 0-5 at t0, 0-2 lost; the SACK of 3 and the reordering timer
 * resend 0 at t0+27, the SACK of 4 lets 1 go at t0+40. When the SACK of 1's
 * retransmission comes a round trip later (t0+60), 0's retransmission, sent
 * 13 ms before it and 33 ms old, is lost as well: it goes again, first,
 * before 2; 5 (sent at t0) is found lost by the same ACK. */
static void test_rfc8985_6_2_lost_retransmission_is_resent(void **state)
{
    (void)state;
    struct xconn x;
    open_rack(&x, false, false);
    struct conn *c = &x.c;
    uint32_t base = c->ours;
    synack_time t0 = c->h.clock.now;
    assert_int_equal(send_segs(&x, 6), 6);
    h_advance(&c->h, RTT);
    uint32_t s3[2] = {base + 3 * MSS, base + 4 * MSS};
    x_ack(&x, base, s3, 1);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1)));
    assert_int_equal(c->h.clock.now - t0, SYNACK_MS(27));
    uint32_t seqs[64];
    assert_int_equal(sent(&x, seqs), 1);
    assert_int_equal(seqs[0], base);
    h_advance(&c->h, SYNACK_MS(13));
    uint32_t s34[2] = {base + 3 * MSS, base + 5 * MSS};
    x_ack(&x, base, s34, 1);
    assert_int_equal(sent(&x, seqs), 1);
    assert_int_equal(seqs[0], base + MSS);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 3);
    h_advance(&c->h, RTT);
    uint32_t s1[4] = {base + MSS, base + 2 * MSS, base + 3 * MSS, base + 5 * MSS};
    x_ack(&x, base, s1, 2);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 5);
    assert_true(sent(&x, seqs) >= 1);
    assert_int_equal(seqs[0], base); /* the third transmission of 0 */
    assert_int_equal(ctr(&c->h, "tcp_rto"), 0);
    h_free(&c->h);
}

/* tcb.h: more sends in flight than the ring's 32 runs merge neighbours (the
 * closest in time first), and a merged run is judged by its latest send, so
 * RACK may mark later than per-segment times would, never earlier. 40
 * segments leave about 1 ms apart, eight pairs 0.5 ms apart (0-1 ... 12-13
 * and 34-35: the eight merges); a round trip after the last, its SACK finds
 * 0-34 older than RACK.rtt + reo_wnd (25 ms; 34 by 0.2 ms, 35 0.3 ms short).
 * Exact times mark 35 segments; the merged 34-35 waits: 34 marked, never
 * 35 or more. */
static void test_rfc8985_6_2_merged_runs_never_mark_early(void **state)
{
    (void)state;
    struct xconn x;
    open_rack(&x, false, false);
    struct conn *c = &x.c;
    uint32_t base = c->ours;
    /* slow start to a window of 40 segments */
    assert_int_equal(send_segs(&x, 10), 10);
    h_advance(&c->h, RTT);
    x_ack(&x, base + 10 * MSS, NULL, 0);
    assert_int_equal(x_data_segs(&x, (uint32_t[64]){0}, 64), 0);
    assert_int_equal(send_segs(&x, 20), 20);
    h_advance(&c->h, RTT);
    x_ack(&x, base + 30 * MSS, NULL, 0);
    base += 30 * MSS;
    for (int i = 0; i < 40; i++) {
        synack_time gap = (i % 2 && i <= 13) || i == 35 ? 500 : i >= 36 ? 1175 : 1000;
        if (i)
            h_advance(&c->h, gap);
        assert_int_equal(send_segs(&x, 1), 1);
    }
    assert_int_equal(ctr(&c->h, "tcp_rack_run_merges"), 8);
    h_advance(&c->h, RTT);
    uint32_t sack[2] = {base + 39 * MSS, base + 40 * MSS};
    x_ack(&x, base, sack, 1);
    assert_int_equal(ctr(&c->h, "tcp_rack_lost"), 34);
    uint32_t seqs[64];
    int n = sent(&x, seqs);
    for (int i = 0; i < n; i++)
        assert_true(seqs[i] < base + 34 * MSS);
    h_free(&c->h);
}

/* Passive open under seed: the handshake's ACK carries data the
 * application has not read, so the connection's extension stays attached
 * from before the ISS was chosen (as for Fast Open and for requests sent
 * right behind the handshake). */
static void open_rack_seeded(struct xconn *x, uint64_t seed)
{
    synack_config cfg = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20, .seed = seed};
    x_syn(x, &cfg, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    struct conn *c = &x->c;
    h_advance(&c->h, RTT);
    x_send(x, A_ | WIRE_TCP_PSH, c->peer, c->ours, "req", 3, NULL, 0);
    c->peer += 3;
    c->s = synack_accept(c->h.s, c->l, NULL);
    assert_true(c->s >= 0);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    h_drain(&c->h);
}

/* §6.2 step 3 compares with RACK.fack, a sequence number: it starts at
 * SND.UNA once the ISS is chosen, whenever the connection's state was set
 * up (Linux compares with tcp_highest_sack_seq, SND.UNA while nothing is
 * SACKed). Three segments SACKed above a hole a round trip after they
 * left, no reordering seen: reo_wnd is 0 (Linux tcp_rack_reo_wnd,
 * sacked_out >= reordering) and segment 0 goes at once, for any ISS. A
 * RACK.fack left at 0 (from before the ISS) lies above every ISS in the
 * upper half of the sequence space: there the first SACK read as
 * reordering, and the retransmission waited min_RTT/4 + 2 ms for the
 * reordering timer (fastopen/client/syn-data-partial-or-over-ack.pkt). */
static void test_rfc8985_6_2_fack_starts_at_the_iss(void **state)
{
    (void)state;
    int upper = 0, lower = 0;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        struct xconn x;
        open_rack_seeded(&x, seed);
        struct conn *c = &x.c;
        uint32_t base = c->ours;
        if (base & 0x80000000u)
            upper++;
        else
            lower++;
        assert_int_equal(send_segs(&x, 4), 4);
        h_advance(&c->h, RTT);
        uint32_t sack[2] = {base + MSS, base + 4 * MSS};
        x_ack(&x, base, sack, 1);
        uint32_t seqs[64];
        assert_int_equal(sent(&x, seqs), 1);
        assert_int_equal(seqs[0], base);
        assert_int_equal(ctr(&c->h, "tcp_rack_reordering"), 0);
        assert_int_equal(ctr(&c->h, "tcp_rack_reo_timeouts"), 0);
        h_free(&c->h);
    }
    /* both halves of the sequence space were tried */
    assert_true(upper > 0 && lower > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8985_6_2_lost_by_time_with_one_sack),
        cmocka_unit_test(test_rfc8985_6_2_no_loss_inside_reo_wnd_timer_marks_later),
        cmocka_unit_test(test_rfc8985_6_2_rtt_not_from_ambiguous_retransmission),
        cmocka_unit_test(test_rfc8985_6_2_rtt_not_from_retransmission_tsecr_older),
        cmocka_unit_test(test_rfc8985_6_2_reo_wnd_grows_on_dsack),
        cmocka_unit_test(test_rfc8985_6_2_reordering_seen_keeps_the_window),
        cmocka_unit_test(test_rfc8985_6_2_lost_retransmission_is_resent),
        cmocka_unit_test(test_rfc8985_6_2_merged_runs_never_mark_early),
        cmocka_unit_test(test_rfc8985_6_2_fack_starts_at_the_iss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
