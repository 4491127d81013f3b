/* Congestion control: one small interface, two algorithms. Slow start
 * (RFC 5681 §3.1) is common to both and lives in recovery.c; an algorithm
 * says how the window grows in congestion avoidance and where ssthresh
 * goes when loss is detected. */
#ifndef SYNACK_TCP_CC_H
#define SYNACK_TCP_CC_H

#include "tcb.h"

struct tcp_cc_ops {
    const char *name;
    /* A fresh connection, or a change of algorithm. */
    void (*init)(struct tcb *tcb);
    /* acked bytes newly acknowledged while cwnd >= ssthresh, in the Open
     * state and limited by cwnd. */
    void (*cong_avoid)(const struct tcp_ctx *ctx, struct tcb *tcb, uint32_t acked);
    /* Loss detected (fast retransmit or RTO): the new ssthresh. */
    uint32_t (*ssthresh)(const struct tcp_ctx *ctx, struct tcb *tcb);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

static inline const struct tcp_cc_ops *tcp_cc(const struct tcb *tcb)
{
    return tcb->o.cc == TCP_CC_NEWRENO ? &tcp_cc_newreno : &tcp_cc_cubic;
}

#endif
