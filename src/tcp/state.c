/* TCB set-up and the single place where a connection changes state. */
#include <string.h>

#include "internal.h"

const char *tcp_state_name(enum tcp_state s)
{
    static const char *const names[] = {
        [TCP_CLOSED] = "CLOSED",           [TCP_LISTEN] = "LISTEN",
        [TCP_SYN_SENT] = "SYN_SENT",       [TCP_SYN_RECEIVED] = "SYN_RECEIVED",
        [TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN_WAIT_1",
        [TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
        [TCP_CLOSING] = "CLOSING",         [TCP_LAST_ACK] = "LAST_ACK",
        [TCP_TIME_WAIT] = "TIME_WAIT",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void tcp_tcb_init(struct tcb *tcb, const struct tcp_tuple *t, uint16_t mss_local, uint8_t *sndbuf,
                  uint32_t sndcap, uint8_t *rcvbuf, uint32_t rcvcap)
{
    memset(tcb, 0, sizeof *tcb);
    tcb->state = TCP_CLOSED;
    tcb->t = *t;
    tcb->mss_local = mss_local;
    tcb->mss_peer = TCP_MSS_DEFAULT;
    /* Linux tcp_initialize_rcv_mss: guess 536 until larger segments come */
    tcb->rcv_mss = mss_local < TCP_MSS_DEFAULT ? mss_local : TCP_MSS_DEFAULT;
    tcb->snd = (struct ring){.buf = sndbuf, .cap = sndcap};
    tcb->rcv = (struct ring){.buf = rcvbuf, .cap = rcvcap};
    tcb->t_rtx = tcb->t_wait = tcb->t_delack = tcb->t_keep = TCP_TIME_NEVER;
    tcp_opts_default(&tcb->o);
}

/* Linux's defaults: tcp_keepalive_time 7200 s, _intvl 75 s, _probes 9. */
void tcp_opts_default(struct tcp_opts *o)
{
    *o = (struct tcp_opts){
        .cc = TCP_CC_CUBIC,
        .keepcnt = 9,
        .keepidle = 7200ull * 1000000,
        .keepintvl = 75ull * 1000000,
    };
}

void tcp_set_state(struct tcp_ctx *ctx, struct tcb *tcb, enum tcp_state to, const char *why)
{
    enum tcp_state from = tcb->state;
    if (from == to)
        return;
    tcb->state = to;
    if (to == TCP_ESTABLISHED)
        tcb->flags &= ~TCB_NEW;
    if ((from == TCP_SYN_SENT || from == TCP_SYN_RECEIVED) && to != TCP_CLOSED && to != TCP_SYN_RECEIVED)
        tcp_cc_start(tcb); /* the peer's MSS is known now */
    if (ctx->state_change)
        ctx->state_change(ctx->cb, tcb, from, to, why);
}

void tcp_enter_closed(struct tcp_ctx *ctx, struct tcb *tcb, int err, const char *why)
{
    if (err)
        tcb->err = err;
    tcb->t_rtx = tcb->t_wait = tcb->t_delack = tcb->t_keep = TCP_TIME_NEVER;
    tcb->flags &= ~(TCB_PERSIST | TCB_ACK_PENDING | TCB_ACK_NOW | TCB_RTT_TIMING);
    /* Data the peer will never acknowledge is gone; received data stays
     * readable only after a graceful end, so a reset discards it too. */
    ring_consume(&tcb->snd, tcb->snd.len);
    if (err)
        ring_consume(&tcb->rcv, tcb->rcv.len);
    tcp_set_state(ctx, tcb, TCP_CLOSED, why);
}

void tcp_enter_time_wait(struct tcp_ctx *ctx, struct tcb *tcb, const char *why)
{
    tcb->t_rtx = tcb->t_delack = tcb->t_keep = TCP_TIME_NEVER;
    tcb->flags &= ~(TCB_PERSIST | TCB_RTT_TIMING);
    tcb->t_wait = ctx->now + ctx->p.msl2;
    tcp_set_state(ctx, tcb, TCP_TIME_WAIT, why);
}
