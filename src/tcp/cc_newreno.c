/* NewReno's window (RFC 5681 §3.1 congestion avoidance, RFC 6582 for the
 * recovery that recovery.c runs). */
#include "cc.h"
#include "internal.h"

static void reno_init(struct tcb *tcb)
{
    tcb->x->cc.cnt = 0;
}

/* RFC 5681 §3.1, equation (3) in its byte-counting form (RFC 3465): one
 * SMSS per window of acknowledged data. */
static void reno_cong_avoid(const struct tcp_ctx *ctx, struct tcb *tcb, uint32_t acked)
{
    (void)ctx;
    uint32_t mss = tcp_eff_mss(tcb);
    tcb->x->cc.cnt += acked;
    if (tcb->x->cc.cnt >= tcb->cwnd) {
        tcb->x->cc.cnt -= tcb->cwnd;
        tcb->cwnd += mss;
    }
}

/* RFC 5681 §3.1 equation (4) halves FlightSize; Linux (tcp_reno_ssthresh)
 * halves cwnd, which is what is in the network when the loss is seen and
 * stays right after a timeout, when SND.MAX - SND.UNA still counts a
 * window that has left it. ssthresh = max(cwnd / 2, 2 * SMSS). */
static uint32_t reno_ssthresh(const struct tcp_ctx *ctx, struct tcb *tcb)
{
    (void)ctx;
    uint32_t two = 2u * tcp_eff_mss(tcb);
    tcb->x->cc.cnt = 0;
    return tcb->cwnd / 2 > two ? tcb->cwnd / 2 : two;
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "reno",
    .init = reno_init,
    .cong_avoid = reno_cong_avoid,
    .ssthresh = reno_ssthresh,
};
