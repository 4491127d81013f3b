/* TIME_WAIT records (tcb.h, struct tcp_tw): saving the part of a TCB that
 * TIME_WAIT still uses, and loading it back to answer a segment. Segments
 * in TIME_WAIT never carry data we keep, so the rings, the out-of-order
 * queue, congestion control and every timer but 2MSL have nothing to say. */
#include <string.h>

#include "internal.h"

/* What TIME_WAIT can still use: the ACK we send carries timestamps, SACK
 * blocks (none: nothing is held), the window; the flags say which options
 * were agreed and that both FINs are done. */
#define TW_FLAGS_KEPT                                                                                  \
    (TCB_PASSIVE | TCB_FIN_QUEUED | TCB_FIN_SENT | TCB_FIN_ACKED | TCB_FIN_RCVD | TCB_RD_SHUT | TCB_ORPHAN | \
     TCB_TS_OK | TCB_SACK_OK | TCB_WSCALE_OK | TCB_DATA_RCVD)

void tcp_tw_save(const struct tcb *b, struct tcp_tw *w)
{
    *w = (struct tcp_tw){
        .flags = b->flags & TW_FLAGS_KEPT,
        .snd_una = b->snd_una,
        .snd_nxt = b->snd_nxt,
        .snd_max = b->snd_max,
        .snd_data = b->snd_data,
        .snd_wnd = b->snd_wnd,
        .max_snd_wnd = b->max_snd_wnd,
        .snd_wl1 = b->snd_wl1,
        .snd_wl2 = b->snd_wl2,
        .rcv_nxt = b->rcv_nxt,
        .rcv_adv = b->rcv_adv,
        .rcv_acked = b->rcv_acked,
        .rcv_cap = tcp_rcv_bufsize(b),
        .ts_recent = b->ts_recent,
        .ts_offset = b->ts_offset,
        .ts_recent_age = b->ts_recent_age,
        .a6 = b->a6,
        .lport = b->lport,
        .rport = b->rport,
        .mss_peer = b->mss_peer,
        .mss_local = b->mss_local,
        .rcv_mss = b->rcv_mss,
        .family = b->family,
        .snd_wscale = b->snd_wscale,
        .rcv_wscale = b->rcv_wscale,
    };
    memcpy(w->laddr, b->laddr, 4);
    memcpy(w->raddr, b->raddr, 4);
}

void tcp_tw_load(const struct tcp_tw *w, uint64_t t_wait, struct tcb *b, struct tcp_ext *x)
{
    memset(b, 0, sizeof *b);
    b->flags = w->flags;
    b->snd_una = w->snd_una;
    b->snd_nxt = w->snd_nxt;
    b->snd_max = w->snd_max;
    b->snd_data = w->snd_data;
    b->snd_wnd = w->snd_wnd;
    b->max_snd_wnd = w->max_snd_wnd;
    b->snd_wl1 = w->snd_wl1;
    b->snd_wl2 = w->snd_wl2;
    b->rcv_nxt = w->rcv_nxt;
    b->rcv_adv = w->rcv_adv;
    b->rcv_acked = w->rcv_acked;
    b->rcv.cap = w->rcv_cap;
    b->ts_recent = w->ts_recent;
    b->ts_offset = w->ts_offset;
    b->ts_recent_age = w->ts_recent_age;
    memcpy(b->laddr, w->laddr, 4);
    memcpy(b->raddr, w->raddr, 4);
    b->a6 = w->a6;
    b->lport = w->lport;
    b->rport = w->rport;
    b->mss_peer = w->mss_peer;
    b->mss_local = w->mss_local;
    b->rcv_mss = w->rcv_mss;
    b->family = w->family;
    b->snd_wscale = w->snd_wscale;
    b->rcv_wscale = w->rcv_wscale;
    b->state = TCP_TIME_WAIT;
    tcp_opts_default(&b->o);
    b->t_rtx = b->t_delack = b->t_keep = TCP_TIME_NEVER;
    b->t_wait = t_wait;
    tcp_ext_init(b, x);
}

/* Linux tcp_twsk_unique under tcp_tw_reuse: an outgoing connection may
 * take the 4-tuple of a connection in TIME_WAIT when timestamps were on and
 * the peer's last one is at least a second old. The new connection starts
 * beyond the old sequence space and keeps TS.Recent, so PAWS (RFC 7323 §5)
 * drops the old connection's duplicates; that is what makes the reuse safe
 * (RFC 6191 argues the same for a SYN arriving in TIME_WAIT). */
bool tcp_tw_reusable(const struct tcp_ctx *ctx, const struct tcp_tw *w)
{
    uint32_t now_ts = (uint32_t)(ctx->now / 1000u) + w->ts_offset;
    return (w->flags & TCB_TS_OK) && (int32_t)(now_ts - w->ts_recent_age) >= 1000;
}
