/* Explicit Congestion Notification (RFC 3168) for TCP, as Linux does it
 * (net.ipv4.tcp_ecn and tcp_sock's ecn_flags, include/net/tcp_ecn.h):
 * the handshake that agrees on it, which segments leave ECN-capable, the
 * receiver's echo of Congestion Experienced, and the flags that tell the
 * two ends a reduction happened. The reduction itself (the CWR state, once
 * per window) lives with the others in recovery.c (tcp_enter_cwr).
 *
 * The codepoint travels in wire_tcp.ecn: the IP layer writes what arrived
 * and sends what the core chose. Linux's classic ECN throughout; no RFC 8311
 * relaxation (Linux sends no ECT on SYNs, retransmissions or pure ACKs
 * either), no Accurate ECN (tcp_ecn 3 and up). */
#include "internal.h"

void tcp_ecn_connect(const struct tcp_ctx *ctx, struct tcb *tcb)
{
    /* RFC 3168 §6.1.1: an ECN-setup SYN only where the stack asks for ECN
     * (Linux tcp_ecn_send_syn: tcp_ecn 1) */
    tcb->ecn = ctx->p.ecn == TCP_ECN_MODE_ON ? TCP_ECN_OK : 0;
}

static bool ecn_setup_syn(const struct wire_tcp *seg)
{
    return (seg->flags & (WIRE_TCP_ECE | WIRE_TCP_CWR)) == (WIRE_TCP_ECE | WIRE_TCP_CWR);
}

void tcp_ecn_accept_syn(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *syn)
{
    /* RFC 3168 §6.1.1: a SYN with ECE and CWR asks for ECN; a host that
     * takes ECN at all agrees (tcp_ecn 1 or 2). A SYN that came ECT or CE
     * was sent against §6.1.1 (or re-marked on the way): Linux
     * (tcp_ecn_create_request) then agrees only if a reserved header bit
     * is set, and so does synack. */
    child->ecn = 0;
    if (ctx->p.ecn != TCP_ECN_MODE_OFF && ecn_setup_syn(syn) &&
        ((syn->ecn & WIRE_ECN_MASK) == WIRE_ECN_NOT_ECT || (syn->flags & WIRE_TCP_RES)))
        child->ecn = TCP_ECN_OK;
}

void tcp_ecn_syn_in(struct tcb *tcb, const struct wire_tcp *seg)
{
    if (!(tcb->ecn & TCP_ECN_OK))
        return;
    if (seg->flags & WIRE_TCP_ACK) {
        /* RFC 3168 §6.1.1: the ECN-setup SYN-ACK has ECE and not CWR
         * (Linux tcp_ecn_rcv_synack) */
        if ((seg->flags & (WIRE_TCP_ECE | WIRE_TCP_CWR)) != WIRE_TCP_ECE)
            tcb->ecn = 0;
    } else if (!ecn_setup_syn(seg)) {
        /* a simultaneous open: the peer's SYN must have asked too (Linux
         * tcp_ecn_rcv_syn) */
        tcb->ecn = 0;
    }
}

/* The *_on functions run for an ECN connection only: internal.h's inline
 * wrappers test TCP_ECN_OK on every segment's path. */
uint8_t tcp_ecn_out_on(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t *flags, uint32_t seq, uint32_t len)
{
    if (*flags & WIRE_TCP_SYN) {
        /* RFC 3168 §6.1.1: ECE on the SYN-ACK; ECE and CWR on the SYN, but
         * not on its retransmissions (Linux tcp_ecn_clear_syn, with its
         * default tcp_ecn_fallback 1: a path that drops ECN-setup SYNs
         * still lets the connection through). Neither is ECT (§6.1.1). */
        if (*flags & WIRE_TCP_ACK)
            *flags |= WIRE_TCP_ECE;
        else if (!(tcb->state == TCP_SYN_SENT && tcb->backoff))
            *flags |= WIRE_TCP_ECE | WIRE_TCP_CWR;
        return WIRE_ECN_NOT_ECT;
    }
    uint8_t ect = WIRE_ECN_NOT_ECT;
    /* RFC 3168 §6.1.2: new data goes ECT(0), and the first new data after a
     * reduction carries CWR. §6.1.4 (pure ACKs), §6.1.5 (retransmissions):
     * never ECT. Linux tcp_ecn_send: "not-retransmitted data segment"; a
     * zero-window probe has no data (§6.1.6), but data sent into a window
     * that reopened partly (tcp_write_wakeup, persist_probe) is new data. */
    if (len && !seq_lt(seq, tcb->snd_max)) {
        ect = WIRE_ECN_ECT0;
        if (tcb->ecn & TCP_ECN_QUEUE_CWR) {
            tcb->ecn &= (uint8_t)~TCP_ECN_QUEUE_CWR;
            *flags |= WIRE_TCP_CWR;
            ctx->st->tcp_ecn_cwr_out++;
        }
    }
    /* RFC 3168 §6.1.3: ECE on every segment until the peer's CWR */
    if (tcb->ecn & TCP_ECN_DEMAND_CWR)
        *flags |= WIRE_TCP_ECE;
    return ect;
}

void tcp_ecn_queue_cwr(struct tcb *tcb)
{
    /* RFC 3168 §6.1.2: after any reduction of the window (ECN-Echo, fast
     * recovery, timeout; Linux tcp_init_cwnd_reduction, tcp_enter_loss) */
    if (tcb->ecn & TCP_ECN_OK)
        tcb->ecn |= TCP_ECN_QUEUE_CWR;
}

bool tcp_ecn_echo_on(struct tcp_ctx *ctx, const struct tcb *tcb, const struct wire_tcp *seg)
{
    /* RFC 3168 §6.1.2: ECE on an ACK (not on a SYN-ACK, §6.1.1) of an
     * ECN-capable connection says the network saw congestion */
    if (!(seg->flags & WIRE_TCP_ECE) || (seg->flags & WIRE_TCP_SYN))
        return false;
    ctx->st->tcp_ecn_ece_in++;
    return true;
}

void tcp_ecn_cwr_in_on(struct tcb *tcb, const struct wire_tcp *seg)
{
    /* RFC 3168 §6.1.3: the CWR ends the echo. Linux takes it from any
     * segment, pure ACKs too (tcp_ecn_accept_cwr in tcp_ack, since 2019),
     * and ACKs data that carries it at once: the sender's window may be
     * down to one segment. */
    if (!(seg->flags & WIRE_TCP_CWR))
        return;
    tcb->ecn &= (uint8_t)~TCP_ECN_DEMAND_CWR;
    if (tcp_seg_len(seg))
        tcb->flags |= TCB_ACK_NOW;
}

void tcp_ecn_data_in_on(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    switch (seg->ecn & WIRE_ECN_MASK) {
    case WIRE_ECN_NOT_ECT:
        /* Linux __tcp_ecn_check_ce: not ECT after ECT most likely is a
         * retransmission (§6.1.5): ACK it without delay */
        if (tcb->ecn & TCP_ECN_SEEN)
            tcp_enter_quickack_n(tcb, 2);
        break;
    case WIRE_ECN_CE:
        /* RFC 3168 §6.1.3: set ECE from now on; Linux also stops delaying
         * ACKs (two at once), the sender's window may be small */
        ctx->st->tcp_ecn_ce_in++;
        if (!(tcb->ecn & TCP_ECN_DEMAND_CWR)) {
            tcp_enter_quickack_n(tcb, 2);
            tcb->ecn |= TCP_ECN_DEMAND_CWR;
        }
        tcb->ecn |= TCP_ECN_SEEN;
        break;
    default:
        tcb->ecn |= TCP_ECN_SEEN;
        break;
    }
}
