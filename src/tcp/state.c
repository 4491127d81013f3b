/* TCB set-up and the single place where a connection changes state. */
#include <stddef.h>
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

_Static_assert(sizeof(struct tcb) <= 256, "an idle TCB fits in 256 bytes (issue 8)");

const struct tcp_tuple *tcp_tuple_of(const struct tcb *tcb, struct tcp_tuple *t)
{
    memset(t, 0, sizeof *t);
    t->family = tcb->family;
    if (tcb->family == 6 && tcb->a6) {
        memcpy(t->laddr, tcb->a6->laddr, 16);
        memcpy(t->raddr, tcb->a6->raddr, 16);
    } else {
        memcpy(t->laddr, tcb->laddr, 4);
        memcpy(t->raddr, tcb->raddr, 4);
    }
    t->lport = tcb->lport;
    t->rport = tcb->rport;
    return t;
}

void tcp_tuple_set(struct tcb *tcb, const struct tcp_tuple *t)
{
    tcb->family = t->family;
    if (t->family == 6 && tcb->a6) {
        memcpy(tcb->a6->laddr, t->laddr, 16);
        memcpy(tcb->a6->raddr, t->raddr, 16);
    }
    memcpy(tcb->laddr, t->laddr, 4);
    memcpy(tcb->raddr, t->raddr, 4);
    tcb->lport = t->lport;
    tcb->rport = t->rport;
}

/* The range sets, the record ends and RACK's transmit runs are read only
 * below their counts, so they stay as they are: zeroing them would be
 * 1,280 of the 1,488 bytes cleared at every attach, and a busy connection attaches at
 * every burst (bench/connrate: 4.4 % and then 4.9 % of its time). They
 * must stay last, in this order, for the clears below to miss nothing
 * else. */
_Static_assert(offsetof(struct tcp_ext, rack) + sizeof(struct tcp_rack) == sizeof(struct tcp_ext) &&
                   offsetof(struct tcp_rack, run) + sizeof(((struct tcp_rack *)0)->run) == sizeof(struct tcp_rack),
               "the RACK runs are the extension's last member");
_Static_assert(offsetof(struct tcp_ext, sacked) == offsetof(struct tcp_ext, ooo) + sizeof(struct tcp_ranges) &&
                   offsetof(struct tcp_ext, eor) == offsetof(struct tcp_ext, sacked) + sizeof(struct tcp_ranges) &&
                   offsetof(struct tcp_ext, rack) - offsetof(struct tcp_ext, eor) - sizeof(((struct tcp_ext *)0)->eor) <
                       _Alignof(struct tcp_rack),
               "the range sets and the record ends (read below their counts) come right before RACK");

void tcp_ext_init(struct tcb *tcb, struct tcp_ext *x)
{
    memset(x, 0, offsetof(struct tcp_ext, ooo));
    x->ooo.n = x->sacked.n = 0;
    memset(&x->rack, 0, offsetof(struct tcp_rack, run));
    /* what the recovery marks are when nothing is in flight (recovery.c
     * keeps them at SND.UNA) */
    x->high_rxt = x->lost_end = x->relost_next = x->relost_end = tcb->snd_una;
    /* RFC 9438 §5.8: an idle period starts a new epoch; W_max is kept */
    x->cc.w_max = tcb->w_max;
    x->cc.w_last_max = tcb->w_last_max;
    tcb->x = x;
    tcp_rack_start(tcb);
}

bool tcp_sbuf_idle(const struct tcb *tcb)
{
    return tcb->snd.len == 0;
}

bool tcp_rbuf_idle(const struct tcb *tcb)
{
    /* out-of-order data waits in the ring past its length */
    return tcb->rcv.len == 0 && tcb->x->ooo.n == 0;
}

uint8_t *tcp_rbuf_detach(struct tcb *tcb, uint32_t *size)
{
    struct tcp_ext *x = tcb->x;
    uint8_t *buf = x->rbuf;
    *size = tcb->rcv.cap;
    /* storage grown for a segment beyond the window (input.c rcv_grow) goes
     * with it: the next is of the buffer's size (memory back to normal) */
    if (x->rcv_bufsize) {
        tcb->rcv.cap = x->rcv_bufsize;
        x->rcv_bufsize = 0;
        if (tcb->rcv.head >= tcb->rcv.cap)
            tcb->rcv.head = 0; /* nothing is held (or it is dropped with the storage) */
    }
    x->rbuf = NULL;
    return buf;
}

void tcp_ext_wants(const struct tcb *tcb, size_t snd_payload, size_t rcv_payload, bool *snd, bool *rcv)
{
    const struct tcp_ext *x = tcb->x;
    *snd = !x->sbuf && tcb->snd.cap && (snd_payload || tcb->snd.len);
    *rcv = !x->rbuf && tcb->rcv.cap && (rcv_payload || tcb->rcv.len || x->ooo.n);
}

bool tcp_ext_idle(const struct tcb *tcb)
{
    const struct tcp_ext *x = tcb->x;
    return !x->sbuf && !x->rbuf && x->ooo.n == 0 && x->sacked.n == 0 && x->eor_n == 0 &&
           !(tcb->flags & (TCB_DSACK | TCB_FIN_OOO | TCB_RTT_TIMING | TCB_TLP_OUT)) && tcb->ca_state == TCP_CA_OPEN &&
           x->rtx_stamp == 0 && x->dupacks == 0 && x->probes == 0 &&
           x->reno_sacked == 0 && x->high_rxt == tcb->snd_una && x->lost_end == tcb->snd_una &&
           x->relost_next == tcb->snd_una && x->relost_end == tcb->snd_una && x->rack.n == 0 &&
           !(tcb->flags & TCB_RACK_TIMER) && x->urg_data == 0 && !tcp_urg_mode(tcb);
}

void tcp_ext_release(struct tcb *tcb)
{
    tcb->w_max = (float)tcb->x->cc.w_max;
    tcb->w_last_max = (float)tcb->x->cc.w_last_max;
    tcb->x = NULL;
}

void tcp_tcb_init(struct tcb *tcb, const struct tcp_tuple *t, uint16_t mss_local, uint32_t sndcap,
                  uint32_t rcvcap)
{
    struct tcp_ext *x = tcb->x;
    struct tcp_addr6 *a6 = tcb->a6;
    /* receive storage still attached keeps its size (grown by input.c's
     * rcv_grow, or of an older SO_RCVBUF) until it goes (tcp_rbuf_detach) */
    uint32_t rsize = x && x->rbuf ? tcb->rcv.cap : 0;
    memset(tcb, 0, sizeof *tcb);
    tcb->a6 = a6;
    if (x) {
        uint8_t *sb = x->sbuf, *rb = x->rbuf;
        tcp_ext_init(tcb, x);
        x->sbuf = sb;
        x->rbuf = rb;
    }
    tcb->state = TCP_CLOSED;
    tcp_tuple_set(tcb, t);
    tcb->mss_local = mss_local;
    tcb->mss_peer = TCP_MSS_DEFAULT;
    /* Linux tcp_initialize_rcv_mss: guess 536 until larger segments come */
    tcb->rcv_mss = mss_local < TCP_MSS_DEFAULT ? mss_local : TCP_MSS_DEFAULT;
    tcb->snd = (struct ring){.cap = sndcap};
    tcb->rcv = (struct ring){.cap = rcvcap};
    if (rsize && rsize != rcvcap) {
        tcb->rcv.cap = rsize;
        x->rcv_bufsize = rcvcap;
    }
    tcb->t_rtx = tcb->t_wait = tcb->t_delack = tcb->t_keep = TCP_TIME_NEVER;
    tcp_opts_default(&tcb->o);
    tcb->rack_reo_mult = 1; /* RFC 8985 §6.2 step 4 */
}

/* Linux's defaults: tcp_keepalive_time 7200 s, _intvl 75 s, _probes 9. */
void tcp_opts_default(struct tcp_opts *o)
{
    *o = (struct tcp_opts){
        .cc = TCP_CC_CUBIC,
        .keepcnt = 9,
        .keepidle_s = 7200,
        .keepintvl_s = 75,
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
    if ((from == TCP_SYN_SENT || from == TCP_SYN_RECEIVED) && to != TCP_CLOSED && to != TCP_SYN_RECEIVED) {
        tcp_cc_start(tcb); /* the peer's MSS is known now */
        if (tcb->ecn & TCP_ECN_OK) /* RFC 3168 §6.1.1: both ends agreed */
            ctx->st->tcp_ecn_estab++;
    }
    if (ctx->state_change)
        ctx->state_change(ctx->cb, tcb, from, to, why);
}

void tcp_enter_closed(struct tcp_ctx *ctx, struct tcb *tcb, int err, const char *why)
{
    if (err)
        tcb->err = err;
    tcb->t_rtx = tcb->t_wait = tcb->t_delack = tcb->t_keep = TCP_TIME_NEVER;
    tcb->flags &= ~(TCB_PERSIST | TCB_ACK_PENDING | TCB_ACK_NOW | TCB_RTT_TIMING);
    /* Data the peer will never acknowledge is gone. Received in-order data
     * was acknowledged, so the peer counts it delivered: it stays readable
     * whatever ended the connection (a reset, a timeout, an ICMP error), and
     * the error comes once it is read (tcp_user_recv), as on Linux, whose
     * tcp_done never purges the receive queue (fastopen/server/
     * reset-*-accept.pkt read the SYN's data after the RST). RFC 9293
     * §3.10.7.4 would flush it on a RST; that only loses bytes the peer was
     * told had arrived. Out-of-order data can never be read: it goes. */
    ring_consume(&tcb->snd, tcb->snd.len);
    if (tcb->x) {
        tcb->x->eor_n = 0;
        ranges_clear(&tcb->x->ooo);
    }
    tcp_set_state(ctx, tcb, TCP_CLOSED, why);
}

void tcp_enter_time_wait(struct tcp_ctx *ctx, struct tcb *tcb, const char *why)
{
    tcb->t_rtx = tcb->t_delack = tcb->t_keep = TCP_TIME_NEVER;
    tcb->flags &= ~(TCB_PERSIST | TCB_RTT_TIMING);
    tcb->t_wait = ctx->now + ctx->p.msl2;
    tcp_set_state(ctx, tcb, TCP_TIME_WAIT, why);
}
