/* Everything the core sends: data, SYNs, ACKs, RSTs. */
#include <string.h>

#include "internal.h"

uint16_t tcp_eff_mss(const struct tcb *tcb)
{
    /* RFC 9293 §3.7.1 / RFC 6691: the peer's MSS counts the fixed headers
     * only, so options we put on every segment come off it. */
    uint16_t mss = tcb->mss_peer < tcb->mss_local ? tcb->mss_peer : tcb->mss_local;
    if (tcb->flags & TCB_TS_OK)
        mss -= 12;
    return mss ? mss : 1;
}

uint32_t tcp_unsent(const struct tcb *tcb)
{
    uint32_t off = tcb->snd_nxt - tcb->snd_data;
    if (seq_lt(tcb->snd_nxt, tcb->snd_data))
        off = 0;
    return off < tcb->snd.len ? tcb->snd.len - off : 0;
}

uint32_t tcp_rcv_window(const struct tcb *tcb)
{
    uint32_t free = ring_free(&tcb->rcv);
    /* Round down to what the scale can express, so the edge we advertise is
     * the edge we mean. */
    free &= ~((1u << tcb->rcv_wscale) - 1);
    uint32_t promised = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
    /* RFC 9293 §3.8.6: never shrink the window already offered. */
    uint32_t wnd = free > promised ? free : promised;
    uint32_t max = (uint32_t)0xffff << tcb->rcv_wscale;
    return wnd < max ? wnd : max;
}

static void build_options(struct tcp_ctx *ctx, const struct tcb *tcb, uint16_t flags, struct wire_tcp_opts *o)
{
    memset(o, 0, sizeof *o);
    if (flags & WIRE_TCP_SYN) {
        o->has_mss = true;
        o->mss = tcb->mss_local;
        o->sack_perm = (tcb->flags & TCB_SACK_OK) != 0;
        o->has_wscale = (tcb->flags & TCB_WSCALE_OK) != 0;
        o->wscale = tcb->rcv_wscale;
    }
    if (tcb->flags & TCB_TS_OK) {
        /* RFC 7323 §3.2: once negotiated, on every segment (Linux puts it on
         * RSTs of a connection too). */
        o->has_ts = true;
        o->ts_val = tcp_ts_now(ctx, tcb);
        o->ts_ecr = tcb->state == TCP_SYN_SENT ? 0 : tcb->ts_recent;
    }
}

void tcp_emit(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t flags, uint32_t seq, uint32_t off, uint32_t len)
{
    struct wire_tcp_opts o;
    uint8_t optbuf[WIRE_TCP_OPT_MAX];
    build_options(ctx, tcb, flags, &o);
    int optlen = wire_tcp_opts_emit(optbuf, sizeof optbuf, &o);

    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = tcb->t.lport;
    h.dport = tcb->t.rport;
    h.seq = seq;
    h.flags = flags;
    if (flags & WIRE_TCP_ACK)
        h.ack = tcb->rcv_nxt;
    uint32_t wnd = tcp_rcv_window(tcb);
    if (flags & WIRE_TCP_SYN) {
        /* RFC 7323 §2.2: the window of a SYN is never scaled. Linux offers
         * a whole number of segments, but only when the window holds more
         * than one (tcp_select_initial_window): a buffer below one MSS must
         * not offer a zero window, which would stall the peer until an
         * update (RFC 9293 §3.8.6.2.1). */
        if (wnd > 0xffff)
            wnd = 0xffff;
        if (wnd > tcb->mss_local)
            wnd -= wnd % tcb->mss_local;
        h.wnd = (uint16_t)wnd;
    } else {
        h.wnd = (uint16_t)(wnd >> tcb->rcv_wscale);
        uint32_t edge = tcb->rcv_nxt + ((uint32_t)h.wnd << tcb->rcv_wscale);
        if (seq_gt(edge, tcb->rcv_adv))
            tcb->rcv_adv = edge;
    }
    h.opts_raw = optbuf;
    h.opts_len = optlen > 0 ? (size_t)optlen : 0;

    const uint8_t *p1 = NULL, *p2 = NULL;
    uint32_t n1 = 0, n2 = 0;
    if (len)
        ring_span(&tcb->snd, off, len, &p1, &n1, &p2, &n2);
    ctx->st->tcp_out++;
    if (flags & WIRE_TCP_RST)
        ctx->st->tcp_rst_out++;
    if (flags & WIRE_TCP_ACK) {
        tcb->flags &= ~(TCB_ACK_PENDING | TCB_ACK_NOW);
        tcb->t_delack = TCP_TIME_NEVER;
        tcb->rcv_acked = tcb->rcv_nxt;
    }
    ctx->output(ctx->cb, &tcb->t, &h, p1, n1, p2, n2);
}

void tcp_send_ack(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcp_emit(ctx, tcb, WIRE_TCP_ACK, tcb->snd_nxt, 0, 0);
}

void tcp_send_challenge_ack(struct tcp_ctx *ctx, struct tcb *tcb)
{
    if (ctx->now - ctx->challenge_window >= 1000000u) {
        ctx->challenge_window = ctx->now;
        ctx->challenge_count = 0;
    }
    if (ctx->challenge_count >= ctx->p.challenge_limit) {
        ctx->st->tcp_challenge_ack_limited++;
        return;
    }
    ctx->challenge_count++;
    ctx->st->tcp_challenge_ack++;
    tcp_send_ack(ctx, tcb);
}

void tcp_send_rst(struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t seq, uint32_t ack, bool with_ack)
{
    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = t->lport;
    h.dport = t->rport;
    h.seq = seq;
    h.ack = with_ack ? ack : 0;
    h.flags = (uint16_t)(WIRE_TCP_RST | (with_ack ? WIRE_TCP_ACK : 0));
    ctx->st->tcp_out++;
    ctx->st->tcp_rst_out++;
    ctx->output(ctx->cb, t, &h, NULL, 0, NULL, 0);
}

void tcp_reset_closed(struct tcp_ctx *ctx, const struct tcp_tuple *t, const struct wire_tcp *seg)
{
    /* RFC 9293 §3.10.7.1: an RST is never answered; otherwise the reset
     * must look acceptable to the sender of seg. */
    if (seg->flags & WIRE_TCP_RST)
        return;
    if (seg->flags & WIRE_TCP_ACK)
        tcp_send_rst(ctx, t, seg->ack, 0, false);
    else
        tcp_send_rst(ctx, t, 0, seg->seq + tcp_seg_len(seg), true);
}

void tcp_output(struct tcp_ctx *ctx, struct tcb *tcb)
{
    switch (tcb->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT_1:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        break;
    case TCP_SYN_RECEIVED:
        /* RFC 9293 §3.10.4: a FIN may follow the SYN-ACK before the
         * handshake completes; data waits for ESTABLISHED. */
        if (!(tcb->flags & TCB_FIN_QUEUED))
            goto ack_only;
        break;
    default:
        goto ack_only;
    }

    bool sent = false;
    uint16_t mss = tcp_eff_mss(tcb);
    for (;;) {
        uint32_t unsent = tcp_unsent(tcb);
        uint32_t off = tcb->snd.len - unsent;
        uint32_t wnd_end = tcb->snd_una + tcb->snd_wnd;
        uint32_t room = seq_gt(wnd_end, tcb->snd_nxt) ? wnd_end - tcb->snd_nxt : 0;
        uint32_t n = unsent < room ? unsent : room;
        if (n > mss)
            n = mss;
        /* Our FIN needs a sequence number inside the peer's window, as in
         * Linux; a closed window is probed by the persist timer. */
        bool fin = (tcb->flags & TCB_FIN_QUEUED) && n == unsent && seq_leq(tcb->snd_nxt, tcp_fin_seq(tcb)) &&
                   room > n;
        if (n == 0 && !fin)
            break;
        uint16_t flags = WIRE_TCP_ACK;
        if (n && n == unsent)
            flags |= WIRE_TCP_PSH;
        if (fin)
            flags |= WIRE_TCP_FIN;
        if (seq_lt(tcb->snd_nxt, tcb->snd_max))
            ctx->st->tcp_retrans++;
        tcp_emit(ctx, tcb, flags, tcb->snd_nxt, off, n);
        bool new_data = seq_geq(tcb->snd_nxt, tcb->snd_max);
        tcb->snd_nxt += n + (fin ? 1 : 0);
        if (fin)
            tcb->flags |= TCB_FIN_SENT;
        if (new_data) {
            tcb->snd_max = tcb->snd_nxt;
            /* Karn's rule: time only segments sent for the first time. */
            if (!(tcb->flags & TCB_RTT_TIMING)) {
                tcb->flags |= TCB_RTT_TIMING;
                tcb->rtt_seq = tcb->snd_nxt;
                tcb->rtt_start = ctx->now;
            }
        }
        if (tcb->t_rtx == TCP_TIME_NEVER || (tcb->flags & TCB_PERSIST)) {
            tcb->flags &= ~TCB_PERSIST;
            tcp_arm_rtx(ctx, tcb);
        }
        sent = true;
    }
    /* RFC 9293 §3.8.6.1: with a zero window and something to send, probe
     * it from the persist timer, backing off like the RTO. */
    bool pending = tcp_unsent(tcb) > 0 ||
                   ((tcb->flags & TCB_FIN_QUEUED) && !(tcb->flags & TCB_FIN_SENT));
    if (!sent && pending && tcb->snd_una == tcb->snd_max && tcb->t_rtx == TCP_TIME_NEVER) {
        tcb->flags |= TCB_PERSIST;
        tcb->t_rtx = ctx->now + tcp_rto_backed_off(ctx, tcb);
    }
    if (sent)
        return;
ack_only:
    if (!(tcb->flags & TCB_ACK_PENDING))
        return;
    /* RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3: delay the ACK of in-order data
     * (40 ms as Linux), but acknowledge at least every second full-sized
     * segment, and at once when told to (FIN, out of order, a hole filled). */
    if ((tcb->flags & TCB_ACK_NOW) || tcb->rcv_nxt - tcb->rcv_acked > tcp_eff_mss(tcb) ||
        (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_FIN_WAIT_1 && tcb->state != TCP_FIN_WAIT_2)) {
        tcp_send_ack(ctx, tcb);
        return;
    }
    if (tcb->t_delack == TCP_TIME_NEVER)
        tcb->t_delack = ctx->now + ctx->p.delack;
}
