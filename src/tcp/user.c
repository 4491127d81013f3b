/* The user calls of RFC 9293 §3.10: SEND, RECEIVE, CLOSE (as shutdown and
 * close), ABORT. Semantics and errno values follow Linux. */
#include <errno.h>
#include <string.h>

#include "internal.h"

long tcp_user_send(struct tcp_ctx *ctx, struct tcb *tcb, const uint8_t *buf, size_t len, bool more, bool eor,
                   bool oob)
{
    if (tcb->err) {
        int e = tcb->err;
        tcb->err = 0;
        return e;
    }
    if (tcb->flags & TCB_FIN_QUEUED)
        return -EPIPE;
    switch (tcb->state) {
    case TCP_SYN_RECEIVED:
        if (tcb->flags & TCB_FASTOPEN) /* RFC 7413 §4.2.2: may send before the third ACK */
            break;
        return -EAGAIN;
    case TCP_SYN_SENT:
        return -EAGAIN; /* Linux waits for the connection before queueing */
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        break;
    case TCP_CLOSED:
    case TCP_LISTEN:
        return -ENOTCONN;
    default:
        return -EPIPE;
    }
    if (len == 0)
        return 0;
    if (!tcb->x->sbuf)
        return -ENOMEM; /* the stack could not attach the send ring's storage */
    uint32_t n = ring_write(&tcb->snd, tcb->x->sbuf, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    if (n == 0)
        return -EAGAIN;
    if (eor && n == len)
        tcp_eor_mark(tcb);
    if (oob) /* before the push, as Linux tcp_push: the first segment carries it */
        tcp_urg_mark(tcb);
    /* Linux tcp_push marks PSH at the end of a write unless MSG_MORE. */
    if (more)
        tcb->flags |= TCB_MORE;
    else
        tcb->flags &= ~TCB_MORE;
    if (more)
        tcp_output_corked(ctx, tcb);
    else
        tcp_output(ctx, tcb);
    return n;
}

long tcp_user_recv(struct tcp_ctx *ctx, struct tcb *tcb, uint8_t *buf, size_t len, bool *wnd_update)
{
    (void)ctx;
    *wnd_update = false;
    /* At the urgent mark, out of band (urg.c): the urgent byte is not data;
     * the read steps over it (Linux tcp_recvmsg's urg_hole) and goes on. */
    bool skip = false;
    if (len && tcb->rcv.len)
        tcp_urg_clip(tcb, 0, 1, &skip);
    if (skip) {
        ring_consume(&tcb->rcv, 1);
        tcp_urg_consumed(tcb);
    }
    if (tcb->rcv.len == 0) {
        if (tcb->err) {
            int e = tcb->err;
            tcb->err = 0;
            return e;
        }
        if (tcb->flags & (TCB_FIN_RCVD | TCB_RD_SHUT))
            return 0;
        switch (tcb->state) {
        case TCP_CLOSED:
            return 0;
        case TCP_LISTEN:
            return -ENOTCONN;
        default:
            return -EAGAIN;
        }
    }
    if (len == 0)
        return 0;
    uint32_t before = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
    uint32_t n = len < tcb->rcv.len ? (uint32_t)len : tcb->rcv.len;
    n = tcp_urg_clip(tcb, 0, n, &skip); /* a read stops at the mark */
    uint32_t bufsize = tcp_rcv_bufsize(tcb);
    bool was_half_full = 2 * (uint64_t)tcb->rcv.len >= bufsize;
    ring_peek(&tcb->rcv, tcb->x->rbuf, 0, buf, n);
    ring_consume(&tcb->rcv, n);
    tcp_urg_consumed(tcb);
    /* Window update (Linux tcp_cleanup_rbuf): when reading at least doubles
     * a window that had fallen to half the buffer or less because data
     * filled it, say so now rather than leave the sender waiting on a small
     * window. A window that is small only because the SYN could not offer
     * more (64 KiB unscaled) is not one a read reopens: Linux's, held by
     * rcv_ssthresh, does not grow there either, and an ACK at each first
     * read would cost a segment per short connection. */
    if (!(tcb->flags & TCB_FIN_RCVD) && tcb->state != TCP_CLOSED && was_half_full && 2 * (uint64_t)before <= bufsize) {
        uint32_t now_wnd = tcp_rcv_window(tcb);
        *wnd_update = now_wnd >= 2 * before && now_wnd > before;
    }
    return n;
}

/* The window update a read asked for, sent once the caller has the time
 * (a read that sends nothing needs no clock). */
void tcp_user_window_update(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcp_send_ack(ctx, tcb);
}

int tcp_user_shutdown(struct tcp_ctx *ctx, struct tcb *tcb, bool rd, bool wr)
{
    if (tcb->state == TCP_CLOSED || tcb->state == TCP_LISTEN)
        return -ENOTCONN;
    if (rd)
        tcb->flags |= TCB_RD_SHUT;
    if (!wr || (tcb->flags & TCB_FIN_QUEUED))
        return 0;
    switch (tcb->state) {
    case TCP_SYN_SENT:
        /* RFC 9293 §3.10.4: nothing was sent to close; Linux goes to CLOSED */
        tcp_enter_closed(ctx, tcb, 0, "shutdown(SHUT_WR)");
        return 0;
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        tcb->flags |= TCB_FIN_QUEUED;
        tcp_set_state(ctx, tcb, TCP_FIN_WAIT_1, "shutdown(SHUT_WR)");
        break;
    case TCP_CLOSE_WAIT:
        tcb->flags |= TCB_FIN_QUEUED;
        tcp_set_state(ctx, tcb, TCP_LAST_ACK, "shutdown(SHUT_WR)");
        break;
    default:
        return 0;
    }
    tcp_output(ctx, tcb);
    return 0;
}

static bool needs_reset(enum tcp_state s)
{
    /* Linux tcp_need_reset: only a peer that may hold state hears a RST */
    return s == TCP_ESTABLISHED || s == TCP_CLOSE_WAIT || s == TCP_FIN_WAIT_1 || s == TCP_FIN_WAIT_2 ||
           s == TCP_SYN_RECEIVED;
}

void tcp_abort(struct tcp_ctx *ctx, struct tcb *tcb, int err, const char *why)
{
    if (needs_reset(tcb->state))
        tcp_send_conn_rst(ctx, tcb);
    tcp_enter_closed(ctx, tcb, err, why);
}

enum tcp_verdict tcp_user_close(struct tcp_ctx *ctx, struct tcb *tcb, bool linger_zero)
{
    tcb->flags |= TCB_ORPHAN | TCB_RD_SHUT;
    switch (tcb->state) {
    case TCP_CLOSED:
    case TCP_LISTEN:
    case TCP_SYN_SENT:
        tcp_enter_closed(ctx, tcb, 0, "close()");
        return TCP_FREE;
    default:
        break;
    }
    /* RFC 1122 §4.2.2.13 (and Linux): closing with data the user never
     * read tells the peer with a RST that it was lost. */
    if (tcb->rcv.len > 0) {
        ctx->st->tcp_abort_on_close++;
        tcp_abort(ctx, tcb, 0, "close() with unread data");
        return TCP_FREE;
    }
    if (linger_zero) {
        ctx->st->tcp_abort_on_linger++;
        tcp_abort(ctx, tcb, 0, "close() with SO_LINGER 0");
        return TCP_FREE;
    }
    switch (tcb->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        tcb->flags |= TCB_FIN_QUEUED;
        tcp_set_state(ctx, tcb, TCP_FIN_WAIT_1, "close()");
        tcp_output(ctx, tcb);
        break;
    case TCP_CLOSE_WAIT:
        tcb->flags |= TCB_FIN_QUEUED;
        tcp_set_state(ctx, tcb, TCP_LAST_ACK, "close()");
        tcp_output(ctx, tcb);
        break;
    case TCP_FIN_WAIT_2:
        tcb->t_wait = ctx->now + ctx->p.fin_wait2;
        break;
    default:
        break;
    }
    return TCP_KEEP;
}
