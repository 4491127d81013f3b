/* CUBIC (RFC 9438), the default as in Linux. Windows are kept in segments
 * as doubles, as the RFC writes them; time comes from ctx->now. */
#include <math.h>

#include "cc.h"
#include "internal.h"

#define CUBIC_C 0.4    /* RFC 9438 §5.1 */
#define CUBIC_BETA 0.7 /* §4.6 */

static void cubic_init(struct tcb *tcb)
{
    tcb->x->cc = (struct tcp_cc_state){0};
}

static void cubic_cong_avoid(const struct tcp_ctx *ctx, struct tcb *tcb, uint32_t acked)
{
    struct tcp_cc_state *c = &tcb->x->cc;
    double mss = tcp_eff_mss(tcb);
    double cwnd = tcb->cwnd / mss;
    if (c->epoch == 0 || c->cwnd_seg < cwnd - 1 || c->cwnd_seg > cwnd + 1) {
        /* §4.2: a new congestion-avoidance stage begins */
        c->epoch = ctx->now ? ctx->now : 1;
        c->cwnd_seg = cwnd;
        c->w_est = cwnd;
        if (c->w_max > cwnd) {
            c->k = cbrt((c->w_max - cwnd) / CUBIC_C); /* §4.2, eq. 2 with cwnd_epoch */
        } else {
            c->k = 0;
            c->w_max = cwnd;
        }
    }
    double segs = acked / mss;
    /* §4.2: the target is W_cubic one RTT ahead, kept within
     * [cwnd, 1.5 cwnd] (§4.2, "target") */
    double rtt = (tcb->srtt ? tcb->srtt : 100000) / 1e6;
    double t = (double)(ctx->now - c->epoch) / 1e6 + rtt;
    double target = CUBIC_C * (t - c->k) * (t - c->k) * (t - c->k) + c->w_max;
    if (target < c->cwnd_seg)
        target = c->cwnd_seg;
    if (target > 1.5 * c->cwnd_seg)
        target = 1.5 * c->cwnd_seg;
    /* §4.3: the Reno-friendly estimate */
    double alpha = c->w_est >= c->w_max ? 1.0 : 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    c->w_est += alpha * segs / c->cwnd_seg;
    if (c->w_est > target) {
        c->cwnd_seg += segs * (c->w_est - c->cwnd_seg) / c->cwnd_seg;
        if (c->cwnd_seg > c->w_est)
            c->cwnd_seg = c->w_est;
    } else {
        /* §4.4 and §4.5: grow by (target - cwnd) / cwnd per segment acked */
        c->cwnd_seg += segs * (target - c->cwnd_seg) / c->cwnd_seg;
    }
    double bytes = c->cwnd_seg * mss;
    if (bytes > (double)UINT32_MAX / 2)
        bytes = (double)UINT32_MAX / 2;
    if ((uint32_t)bytes > tcb->cwnd)
        tcb->cwnd = (uint32_t)bytes;
}

static uint32_t cubic_ssthresh(const struct tcp_ctx *ctx, struct tcb *tcb)
{
    (void)ctx;
    struct tcp_cc_state *c = &tcb->x->cc;
    double mss = tcp_eff_mss(tcb);
    double cwnd = tcb->cwnd / mss;
    /* §4.7 fast convergence: yield to newer flows when the window shrank */
    if (cwnd < c->w_last_max)
        c->w_last_max = cwnd, c->w_max = cwnd * (1 + CUBIC_BETA) / 2;
    else
        c->w_last_max = cwnd, c->w_max = cwnd;
    c->epoch = 0;
    /* §4.6: ssthresh = cwnd * beta, at least 2 segments */
    double ss = cwnd * CUBIC_BETA * mss;
    return ss > 2 * mss ? (uint32_t)ss : (uint32_t)(2 * mss);
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .cong_avoid = cubic_cong_avoid,
    .ssthresh = cubic_ssthresh,
};
