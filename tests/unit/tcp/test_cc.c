/* The congestion controllers on their own: NewReno (RFC 5681 §3.1) and
 * CUBIC (RFC 9438), driven with a TCB and a clock. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/cc.h"
#include "tcp/internal.h"

#define MSS 1000

static void tcb_with(struct tcb *t, uint8_t cc, uint32_t cwnd)
{
    static struct tcp_ext ext[8]; /* the stack attaches one; here, a static one per TCB */
    static unsigned next;
    struct tcp_tuple tu = {.family = 4};
    t->x = &ext[next++ % 8];
    memset(t->x, 0, sizeof *t->x);
    tcp_tcb_init(t, &tu, MSS, 32, 32);
    t->mss_peer = MSS;
    t->o.cc = cc;
    tcp_cc(t)->init(t);
    t->cwnd = cwnd;
    t->srtt = 100000; /* 100 ms */
}

/* RFC 5681 §3.1: in congestion avoidance cwnd grows by one SMSS per cwnd's
 * worth of acknowledged data. */
static void test_rfc5681_3_1_newreno_one_mss_per_window(void **state)
{
    (void)state;
    struct tcp_ctx ctx = {.now = 1};
    struct tcb t;
    tcb_with(&t, TCP_CC_NEWRENO, 10 * MSS);
    for (int i = 0; i < 10; i++)
        tcp_cc_newreno.cong_avoid(&ctx, &t, MSS);
    assert_int_equal(t.cwnd, 11 * MSS);
    for (int i = 0; i < 10; i++)
        tcp_cc_newreno.cong_avoid(&ctx, &t, MSS);
    assert_int_equal(t.cwnd, 11 * MSS); /* 10 of the 11 needed */
    tcp_cc_newreno.cong_avoid(&ctx, &t, MSS);
    assert_int_equal(t.cwnd, 12 * MSS);
}

/* RFC 5681 §3.1 equation (4), as Linux applies it: ssthresh =
 * max(cwnd / 2, 2 * SMSS), whatever SND.MAX says after a timeout. */
static void test_rfc5681_3_1_newreno_ssthresh_half_window(void **state)
{
    (void)state;
    struct tcp_ctx ctx = {.now = 1};
    struct tcb t;
    tcb_with(&t, TCP_CC_NEWRENO, 20 * MSS);
    t.snd_una = 1000;
    t.snd_max = 1000 + 40 * MSS; /* a window sent before a timeout */
    assert_int_equal(tcp_cc_newreno.ssthresh(&ctx, &t), 10 * MSS);
    t.cwnd = 3 * MSS;
    assert_int_equal(tcp_cc_newreno.ssthresh(&ctx, &t), 2 * MSS);
}

/* RFC 9438 §4.6: a loss sets ssthresh to beta = 0.7 of cwnd. */
static void test_rfc9438_4_6_cubic_beta(void **state)
{
    (void)state;
    struct tcp_ctx ctx = {.now = 1};
    struct tcb t;
    tcb_with(&t, TCP_CC_CUBIC, 100 * MSS);
    assert_int_equal(tcp_cc_cubic.ssthresh(&ctx, &t), 70 * MSS);
    assert_true(fabs(t.x->cc.w_max - 100) < 1e-9);
}

/* RFC 9438 §4.7: fast convergence lowers W_max below the cwnd at a loss
 * that comes before the last W_max was reached again. */
static void test_rfc9438_4_7_cubic_fast_convergence(void **state)
{
    (void)state;
    struct tcp_ctx ctx = {.now = 1};
    struct tcb t;
    tcb_with(&t, TCP_CC_CUBIC, 100 * MSS);
    tcp_cc_cubic.ssthresh(&ctx, &t);
    t.cwnd = 80 * MSS;
    tcp_cc_cubic.ssthresh(&ctx, &t);
    assert_true(fabs(t.x->cc.w_max - 80 * 1.7 / 2) < 1e-9);
}

/* RFC 9438 §4.2: after a loss the window grows back toward W_max in a
 * concave curve, reaching it about K seconds later, then grows convexly. */
static void test_rfc9438_4_2_cubic_returns_to_wmax_at_k(void **state)
{
    (void)state;
    struct tcp_ctx ctx = {.now = 1000000};
    struct tcb t;
    tcb_with(&t, TCP_CC_CUBIC, 100 * MSS);
    t.ssthresh = tcp_cc_cubic.ssthresh(&ctx, &t);
    t.cwnd = t.ssthresh; /* 70 segments */
    double k = cbrt(100 * (1 - 0.7) / 0.4);
    uint32_t at_half = 0, at_k = 0;
    /* one window of ACKs every RTT (100 ms) */
    for (int rtt = 1; rtt <= 100; rtt++) {
        ctx.now += 100000;
        uint32_t w = t.cwnd;
        for (uint32_t a = 0; a < w; a += MSS)
            tcp_cc_cubic.cong_avoid(&ctx, &t, MSS);
        double el = rtt * 0.1;
        if (!at_half && el >= k / 2)
            at_half = t.cwnd;
        if (!at_k && el >= k)
            at_k = t.cwnd;
    }
    /* concave: more than halfway back by K/2 */
    assert_true(at_half > 85 * MSS);
    /* close to W_max at K (within a few segments, the RTT look-ahead) */
    assert_true(at_k > 97 * MSS && at_k < 106 * MSS);
    /* convex beyond: well past W_max later */
    assert_true(t.cwnd > 110 * MSS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5681_3_1_newreno_one_mss_per_window),
        cmocka_unit_test(test_rfc5681_3_1_newreno_ssthresh_half_window),
        cmocka_unit_test(test_rfc9438_4_6_cubic_beta),
        cmocka_unit_test(test_rfc9438_4_7_cubic_fast_convergence),
        cmocka_unit_test(test_rfc9438_4_2_cubic_returns_to_wmax_at_k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
