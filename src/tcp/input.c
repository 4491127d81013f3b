/* Segment arrival, in the order of RFC 9293 §3.10.7, with the RFC 5961
 * defences against blind RST, SYN and data injection. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* ---- LISTEN (RFC 9293 §3.10.7.2) ------------------------------------- */

enum tcp_listen_verdict tcp_listen_input(struct tcp_ctx *ctx, const struct tcp_tuple *t,
                                         const struct wire_tcp *seg)
{
    /* first: an RST is ignored */
    if (seg->flags & WIRE_TCP_RST) {
        ctx->st->tcp_drop_listen++;
        return TCP_LISTEN_DROP;
    }
    /* second: any ACK is bad here: <SEQ=SEG.ACK><CTL=RST> */
    if (seg->flags & WIRE_TCP_ACK) {
        ctx->st->tcp_drop_listen++;
        tcp_send_rst(ctx, t, seg->ack, 0, false);
        return TCP_LISTEN_DROP;
    }
    /* third: a SYN opens; Linux discards SYN+FIN as a scan, not a request */
    if ((seg->flags & WIRE_TCP_SYN) && !(seg->flags & WIRE_TCP_FIN))
        return TCP_LISTEN_SYN;
    /* fourth: anything else is dropped */
    ctx->st->tcp_drop_listen++;
    return TCP_LISTEN_DROP;
}

static uint8_t local_wscale(const struct tcb *tcb)
{
    /* The smallest scale that lets the window describe the whole buffer,
     * and at least what Linux offers so a grown buffer can be offered. */
    uint8_t s = 0;
    while (s < TCP_WSCALE_MAX && (tcb->rcv.cap >> s) > 0xffff)
        s++;
    /* Linux tcp_select_initial_window: a buffer the user fixed with
     * SO_RCVBUF bounds the window, and with it the scale */
    if (tcb->o.rcvbuf_locked)
        return s;
    return s > TCP_WSCALE_LINUX ? s : TCP_WSCALE_LINUX;
}

static void take_syn_options(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    const struct wire_tcp_opts *o = &seg->opt;
    tcb->mss_peer = o->has_mss && o->mss ? o->mss : TCP_MSS_DEFAULT;
    /* RFC 7323 §2.2 and §3.2, RFC 2018 §2: an option is in use only when
     * both SYNs carry it. */
    if ((tcb->flags & TCB_WSCALE_OK) && o->has_wscale) {
        /* §2.3: a shift above 14 is used as 14 */
        tcb->snd_wscale = o->wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o->wscale;
    } else {
        tcb->flags &= ~TCB_WSCALE_OK;
        tcb->snd_wscale = tcb->rcv_wscale = 0;
    }
    if ((tcb->flags & TCB_TS_OK) && o->has_ts)
        tcb->ts_recent = o->ts_val, tcb->ts_recent_age = tcp_ts_now(ctx, tcb);
    else
        tcb->flags &= ~TCB_TS_OK;
    if (!((tcb->flags & TCB_SACK_OK) && o->sack_perm))
        tcb->flags &= ~TCB_SACK_OK;
}

uint32_t tcp_offer_options(struct tcp_ctx *ctx, struct tcb *tcb)
{
    if (ctx->p.use_ts)
        tcb->flags |= TCB_TS_OK;
    if (ctx->p.use_sack)
        tcb->flags |= TCB_SACK_OK;
    if (ctx->p.use_wscale) {
        tcb->flags |= TCB_WSCALE_OK;
        tcb->rcv_wscale = local_wscale(tcb);
    }
    return tcp_isn_ts(ctx, TCP_TUPLE(tcb), &tcb->ts_offset);
}

static void start_send_space(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t iss)
{
    tcb->iss = iss;
    tcb->snd_una = iss;
    tcb->snd_nxt = iss + 1;
    tcb->snd_max = iss + 1;
    tcb->snd_sml = iss; /* no small segment sent yet (Nagle, output.c) */
    tcb->snd_data = iss + 1;
    tcb->rto = 0;
    tcb->backoff = 0;
    tcb->flags |= TCB_RTT_TIMING | TCB_NEW;
    tcb->x->rtt_seq = iss + 1;
    tcb->x->rtt_start = ctx->now;
    tcb->last_rcv = ctx->now;
    tcp_cc_start(tcb);
    tcp_arm_rtx(ctx, tcb);
}

void tcp_accept_syn(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *seg, uint32_t iss_hint)
{
    child->flags |= TCB_PASSIVE;
    uint32_t isn = tcp_offer_options(ctx, child);
    take_syn_options(ctx, child, seg);
    tcp_ecn_accept_syn(ctx, child, seg);
    child->irs = seg->seq;
    child->rcv_nxt = seg->seq + 1;
    child->rcv_adv = child->rcv_nxt;
    /* RFC 7323 §2.2: the window of a SYN is not scaled */
    child->snd_wnd = child->max_snd_wnd = seg->wnd;
    child->snd_wl1 = seg->seq;
    start_send_space(ctx, child, iss_hint ? iss_hint : isn);
    child->snd_wl2 = child->iss;
    if (tcp_fo_server_syn(ctx, child, seg)) {
        /* RFC 7413 §4.2.2: the data is taken now and the SYN-ACK acks it;
         * the child may be accepted before the third ACK (Linux). */
        child->flags |= TCB_FASTOPEN;
        if (seg->payload_len && child->x->rbuf) {
            uint32_t n = seg->payload_len > UINT32_MAX ? UINT32_MAX : (uint32_t)seg->payload_len;
            uint32_t took = ring_write(&child->rcv, child->x->rbuf, seg->payload, n);
            child->rcv_nxt += took;
            /* not TCB_DATA_RCVD: Linux queues the SYN's data without
             * tcp_event_data_recv, so its delayed-ACK time stays zero */
            if (took)
                child->flags |= TCB_SYN_DATA;
        }
    }
    child->state = TCP_LISTEN; /* born of the listener: record LISTEN -> SYN_RECEIVED */
    tcp_set_state(ctx, child, TCP_SYN_RECEIVED, "rcv SYN");
    ctx->st->tcp_passive_opens++;
    tcp_emit(ctx, child, WIRE_TCP_SYN | WIRE_TCP_ACK, child->iss, 0, 0);
}

void tcp_connect(struct tcp_ctx *ctx, struct tcb *tcb) { tcp_connect_over(ctx, tcb, NULL); }

void tcp_connect_over(struct tcp_ctx *ctx, struct tcb *tcb, const struct tcp_tw *old)
{
    uint32_t iss = tcp_offer_options(ctx, tcb);
    tcp_ecn_connect(ctx, tcb);
    if (old) { /* Linux tcp_twsk_unique: beyond the old space, TS.Recent kept */
        iss = old->snd_nxt + 65535 + 2;
        iss = iss ? iss : 1;
        tcb->ts_recent = old->ts_recent;
        tcb->ts_recent_age = old->ts_recent_age;
        ctx->st->tcp_tw_reused++;
    }
    start_send_space(ctx, tcb, iss);
    tcp_set_state(ctx, tcb, TCP_SYN_SENT, "connect()");
    ctx->st->tcp_active_opens++;
    tcp_emit(ctx, tcb, WIRE_TCP_SYN, tcb->iss, 0, 0);
}

void tcp_connect_defer(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcb->flags |= TCB_FO_DEFER;
    tcp_set_state(ctx, tcb, TCP_SYN_SENT, "connect() deferred to the first send (Fast Open)");
}

void tcp_connect_fo(struct tcp_ctx *ctx, struct tcb *tcb, const struct tcp_fo_syn *fo)
{
    bool deferred = tcb->flags & TCB_FO_DEFER;
    tcb->flags &= ~TCB_FO_DEFER;
    start_send_space(ctx, tcb, tcp_offer_options(ctx, tcb));
    tcp_ecn_connect(ctx, tcb);
    /* a request carries no data (§4.1.3); without any option (Linux's
     * TFO_CLIENT_NO_COOKIE) the data goes alone */
    uint32_t n = fo->len || !fo->kind ? fo->data : 0;
    if (n > tcb->snd.len)
        n = tcb->snd.len;
    tcb->snd_nxt = tcb->snd_max = tcb->iss + 1 + n;
    tcb->flags |= (fo->kind ? TCB_FO_SYN : 0) | (fo->wait ? TCB_FO_WAIT : 0);
    if (!deferred)
        tcp_set_state(ctx, tcb, TCP_SYN_SENT, "connect() with Fast Open");
    ctx->st->tcp_active_opens++;
    struct wire_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.fo_kind = fo->kind;
    o.fo_len = fo->len > WIRE_TCP_FO_COOKIE_MAX ? WIRE_TCP_FO_COOKIE_MAX : fo->len;
    memcpy(o.fo_cookie, fo->cookie, o.fo_len);
    if (n)
        ctx->st->tcp_fo_active++;
    tcp_emit_opts(ctx, tcb, WIRE_TCP_SYN, tcb->iss, 0, n, &o);
}

/* RFC 7413 §4.2.2 at the client: the SYN-ACK acknowledged all, part or
 * none of our SYN's data. What it took leaves the send ring; the rest is
 * sent again at once as ordinary data (Linux tcp_rcv_fastopen_synack). */
static void fo_synack(struct tcp_ctx *ctx, struct tcb *tcb)
{
    uint32_t acked = seq_gt(tcb->snd_una, tcb->snd_data) ? tcb->snd_una - tcb->snd_data : 0;
    if (acked) {
        ring_consume(&tcb->snd, acked);
        tcb->snd_data += acked;
        tcb->flags |= TCB_SYN_DATA;
    }
    if (seq_lt(tcb->snd_una, tcb->snd_max)) {
        /* Linux tcp_send_syn_data keeps the SYN's data as an skb of its
         * own, flagged ACK|PSH, that later data never joins: its end is a
         * record end for every retransmission */
        if (tcb->snd_data + tcb->snd.len == tcb->snd_max)
            tcp_eor_mark(tcb);
        ctx->st->tcp_fo_active_fail++;
        tcb->snd_nxt = tcb->snd_max = tcb->snd_una;
    }
}

/* ---- common pieces ---------------------------------------------------- */

/* Linux ACKs the first data of a connection at once, up to 16 segments
 * or half a window of them (tcp_incr_quickack), so a sender in slow start
 * is not held back by delayed ACKs; the same after an idle RTO. */
static void incr_quickack(struct tcb *tcb, uint32_t max)
{
    uint32_t rmss = tcb->rcv_mss ? tcb->rcv_mss : TCP_MSS_DEFAULT;
    uint32_t q = tcp_rcv_window(tcb) / (2 * rmss);
    if (q == 0)
        q = 2;
    if (q > max)
        q = max;
    if (q > tcb->quick)
        tcb->quick = (uint8_t)q;
}

void tcp_incr_quickack(struct tcb *tcb)
{
    incr_quickack(tcb, 16);
}

void tcp_enter_quickack_n(struct tcb *tcb, uint32_t max)
{
    incr_quickack(tcb, max);
    tcb->pingpong = false;
}

void tcp_set_quickack(struct tcb *tcb, bool on)
{
    /* Linux TCP_QUICKACK: not a lasting mode but a switch. 1 leaves
     * pingpong mode and sends an owed ACK now; 0 enters pingpong mode,
     * where ACKs wait the delayed-ACK time. */
    tcb->pingpong = !on;
    if (on && (tcb->flags & TCB_ACK_PENDING))
        tcb->flags |= TCB_ACK_NOW;
}

void tcp_enter_quickack(struct tcb *tcb)
{
    tcp_enter_quickack_n(tcb, 16);
}

/* RFC 2883 §4: the next ACK reports this duplicate as its first SACK block. */
static void note_dsack(struct tcb *tcb, uint32_t start, uint32_t end)
{
    if (!(tcb->flags & TCB_SACK_OK))
        return;
    tcb->flags |= TCB_DSACK;
    tcb->x->dsack_start = start;
    tcb->x->dsack_end = end;
}


/* RFC 9293 §3.10.7.4, first: is any of the segment inside the window? */
static bool acceptable(const struct tcb *tcb, uint32_t seq, uint32_t len)
{
    uint32_t nxt = tcb->rcv_nxt;
    /* A segment at RCV.NXT passes every case below (a zero window takes
     * seq == RCV.NXT; an open one, under 2^30, holds RCV.NXT itself), so
     * the in-order segment, nearly all of them, skips the window's sum. */
    if (seq == nxt)
        return true;
    uint32_t wnd = tcp_rcv_window(tcb);
    if (len == 0)
        return wnd == 0 ? seq == nxt : seq_in(seq, nxt, nxt + wnd);
    /* RFC 9293 §3.10.7.4: with a zero window no data is acceptable, but
     * "special allowance should be made to accept valid ACKs, URGs, and
     * RSTs": a segment at RCV.NXT is taken for its control part (as Linux
     * tcp_sequence does) and its data is then trimmed away. */
    if (wnd == 0)
        return seq == nxt;
    return seq_in(seq, nxt, nxt + wnd) || seq_in(seq + len - 1, nxt, nxt + wnd);
}

/* Linux since 6.17 (tcp_sequence, net/ipv4/tcp_input.c): does the segment
 * end beyond the window, counting its FIN only when data overshoots too?
 * (A FIN alone past the edge is let through and judged with the text, as
 * Linux does for stacks that send one into a closed window.) A zero window
 * is RFC 9293 §3.10.7.4's own case, left to acceptable(). */
static bool beyond_window(const struct tcb *tcb, uint32_t seq, uint32_t len, bool fin)
{
    uint32_t wnd = tcp_rcv_window(tcb);
    return wnd != 0 && seq_gt(seq + len - (fin ? 1u : 0u), tcb->rcv_nxt + wnd);
}

/* A segment that the sequence-number check refuses (RFC 9293 §3.10.7.4
 * first: "send an acknowledgment ... and drop the unacceptable segment";
 * Linux tcp_validate_incoming's tcp_send_dupack). */
static enum tcp_verdict refuse_segment(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg,
                                       uint32_t seq, uint32_t len)
{
    uint16_t f = seg->flags;
    if (f & WIRE_TCP_RST)
        return TCP_KEEP;
    if (f & WIRE_TCP_SYN) { /* RFC 5961 §4 applies whatever the sequence number */
        ctx->st->tcp_drop_syn_sync++;
        tcp_send_challenge_ack(ctx, tcb);
        return TCP_KEEP;
    }
    /* A retransmitted FIN in TIME_WAIT restarts the 2MSL wait. */
    if (tcb->state == TCP_TIME_WAIT && (f & WIRE_TCP_FIN) && seq + len == tcb->rcv_nxt)
        tcb->t_wait = ctx->now + ctx->p.msl2;
    /* data from before RCV.NXT is a duplicate: RFC 2883 D-SACK of that part
     * (Linux tcp_send_dupack) */
    if (seg->payload_len && seq_lt(seq, tcb->rcv_nxt))
        note_dsack(tcb, seq, seq_min(seq + (uint32_t)seg->payload_len, tcb->rcv_nxt));
    tcp_send_ack(ctx, tcb);
    return TCP_KEEP;
}

/* Receive storage of need bytes at least for a segment taken beyond the
 * window (take_whole) from the stack's rbuf_alloc; false when it has none.
 * The queue is empty, so what the old storage holds past its head is data
 * held out of order: it moves over at the same offsets. */
static bool rcv_grow(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t need)
{
    struct tcp_ext *x = tcb->x;
    if (!ctx->rbuf_alloc || !ctx->rbuf_free)
        return false;
    uint32_t bufsize = tcp_rcv_bufsize(tcb);
    uint32_t size = need > bufsize ? need : bufsize;
    uint8_t *nb = ctx->rbuf_alloc(ctx->cb, size);
    if (!nb)
        return false;
    if (x->rbuf) {
        uint32_t held = x->ooo.n ? x->ooo.r[x->ooo.n - 1].end - tcb->rcv_nxt : 0;
        if (held > tcb->rcv.cap)
            held = tcb->rcv.cap;
        ring_peek(&tcb->rcv, x->rbuf, 0, nb, held);
        ctx->rbuf_free(ctx->cb, x->rbuf, tcb->rcv.cap);
    }
    x->rbuf = nb;
    x->rcv_bufsize = size != bufsize ? bufsize : 0;
    tcb->rcv.cap = size;
    tcb->rcv.head = 0;
    return true;
}

/* The largest segment taken beyond the window: what one IP datagram holds,
 * so a peer gets at most this much past the window it was offered. */
#define TCP_BEYOND_MAX 65535u

/* Linux since 6.17: a segment that starts inside a non-zero window and
 * ends beyond it is taken whole when nothing waits to be read (tcp_sequence
 * lets it through with its receive queue empty; tcp_data_queue then queues
 * the whole skb, forcing the memory for it, sk_forced_mem_schedule), so a
 * peer that overshoots (a 64 KiB TSO packet into a smaller window) is not
 * stalled. Held out-of-order data does not make the queue non-empty, as in
 * Linux, whose out-of-order queue is apart from sk_receive_queue. The
 * ring's storage grows for it through the stack (rcv_grow); the window then
 * stays 0 until the reader has taken the excess and made room (output.c),
 * and the storage goes back to the buffer's size once it is empty (the
 * stack's release of idle storage, tcp_rbuf_detach). Without that memory
 * the segment is trimmed to the window as RFC 9293 §3.10.7.4 says. seq is
 * at or past RCV.NXT (the old part already skipped). */
static bool take_whole(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t seq, uint32_t dlen, uint32_t wnd)
{
    if (tcb->rcv.len || wnd == 0 || !seq_lt(seq, tcb->rcv_nxt + wnd) || dlen > TCP_BEYOND_MAX)
        return false;
    if (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_FIN_WAIT_1 && tcb->state != TCP_FIN_WAIT_2)
        return false; /* the text would not be taken (text_and_fin) */
    if (tcb->flags & (TCB_FIN_OOO | TCB_ORPHAN))
        return false; /* past a held FIN nothing is data; an orphan resets */
    bool beyond = seq_gt(seq + dlen, tcb->rcv_nxt + wnd); /* else only the storage is short */
    uint32_t need = seq - tcb->rcv_nxt + dlen;
    if ((!tcb->x->rbuf || need > tcb->rcv.cap) && !rcv_grow(ctx, tcb, need)) {
        if (beyond)
            ctx->st->tcp_rcv_beyond_nomem++;
        return false;
    }
    if (beyond)
        ctx->st->tcp_rcv_beyond_taken++;
    return true;
}

/* A new acknowledgment: SND.UNA < SEG.ACK <= SND.MAX. Frees acknowledged
 * data and takes an RTT sample (RFC 6298, Karn). */
static void ack_advance(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t ack, const struct wire_tcp *seg)
{
    if (seq_gt(ack, tcb->snd_data)) {
        uint32_t data = ack - tcb->snd_data;
        if (data > tcb->snd.len)
            data = tcb->snd.len;
        ring_consume(&tcb->snd, data);
        tcb->snd_data += data;
    }
    if ((tcb->flags & TCB_FIN_SENT) && ack == tcp_fin_seq(tcb) + 1)
        tcb->flags |= TCB_FIN_ACKED;
    /* RFC 7323 §4.1: with timestamps every ACK of new data is an RTT sample
     * (the echoed TSval says which transmission it answers, so Karn's
     * ambiguity does not arise); without them, the timed segment. */
    uint32_t ts_now = tcp_ts_now(ctx, tcb);
    if ((tcb->flags & TCB_TS_OK) && seg->opt.has_ts && seg->opt.ts_ecr && seq_leq(seg->opt.ts_ecr, ts_now) &&
        ts_now - seg->opt.ts_ecr < 3600u * 1000) {
        tcb->flags &= ~TCB_RTT_TIMING;
        tcp_rtt_sample(ctx, tcb, (uint64_t)(ts_now - seg->opt.ts_ecr) * 1000u);
    } else if ((tcb->flags & TCB_RTT_TIMING) && seq_geq(ack, tcb->x->rtt_seq)) {
        tcb->flags &= ~TCB_RTT_TIMING;
        tcp_rtt_sample(ctx, tcb, ctx->now - tcb->x->rtt_start);
    }
    tcb->x->rtx_stamp = 0; /* progress: no retransmission episode is running */
    tcb->snd_una = ack;
    unsigned done = 0; /* record ends now acknowledged */
    while (done < tcb->x->eor_n && seq_leq(tcb->x->eor[done], ack))
        done++;
    if (done) {
        tcb->x->eor_n = (uint8_t)(tcb->x->eor_n - done);
        memmove(tcb->x->eor, tcb->x->eor + done, tcb->x->eor_n * sizeof tcb->x->eor[0]);
    }
    if (seq_lt(tcb->snd_nxt, ack))
        tcb->snd_nxt = ack;
    tcb->backoff = 0;
    /* RFC 6298 §5.2/§5.3: stop when all is acknowledged, else restart. */
    tcb->flags &= ~TCB_PERSIST;
    if (tcb->snd_una == tcb->snd_max) {
        tcb->t_rtx = TCP_TIME_NEVER;
        tcb->flags &= ~TCB_RACK_TIMER;
    } else {
        tcp_arm_rtx(ctx, tcb);
    }
}

/* RFC 7323 §2.2: a SYN's window is never scaled; syn says the segment was
 * one (the SYN-ACK that completes a simultaneous open). */
static bool update_window(struct tcb *tcb, const struct wire_tcp *seg, bool syn)
{
    uint32_t before = tcb->snd_wnd;
    /* RFC 9293 §3.10.7.4, fifth: only a segment newer than the last one
     * that set the window may set it. */
    if (seq_lt(tcb->snd_wl1, seg->seq) ||
        (tcb->snd_wl1 == seg->seq && seq_leq(tcb->snd_wl2, seg->ack))) {
        tcb->snd_wnd = syn ? seg->wnd : (uint32_t)seg->wnd << tcb->snd_wscale;
        tcb->snd_wl1 = seg->seq;
        tcb->snd_wl2 = seg->ack;
        if (tcb->snd_wnd > tcb->max_snd_wnd)
            tcb->max_snd_wnd = tcb->snd_wnd;
        if (tcb->snd_wnd && (tcb->flags & TCB_PERSIST)) {
            tcb->flags &= ~TCB_PERSIST;
            tcb->t_rtx = TCP_TIME_NEVER;
            tcb->backoff = 0;
        }
    }
    return tcb->snd_wnd != before;
}

static enum tcp_verdict reset_by_peer(struct tcp_ctx *ctx, struct tcb *tcb)
{
    ctx->st->tcp_rst_in++;
    switch (tcb->state) {
    case TCP_SYN_RECEIVED:
        if (tcb->flags & TCB_PASSIVE) { /* back to LISTEN: the child just goes */
            ctx->st->tcp_attempt_fails++;
            /* a Fast Open child is a socket already (Linux tcp_reset of a
             * SYN_RECV socket): ECONNRESET */
            tcp_enter_closed(ctx, tcb, (tcb->flags & TCB_FASTOPEN) ? -ECONNRESET : -ECONNREFUSED, "rcv RST");
        } else {
            ctx->st->tcp_attempt_fails++;
            tcp_enter_closed(ctx, tcb, -ECONNREFUSED, "rcv RST");
        }
        break;
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        ctx->st->tcp_estab_resets++;
        /* Linux reports EPIPE once the peer had already closed its side */
        tcp_enter_closed(ctx, tcb, tcb->state == TCP_CLOSE_WAIT ? -EPIPE : -ECONNRESET, "rcv RST");
        break;
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
        tcp_enter_closed(ctx, tcb, -ECONNRESET, "rcv RST");
        break;
    default: /* CLOSING, LAST_ACK, TIME_WAIT */
        tcp_enter_closed(ctx, tcb, 0, "rcv RST");
        break;
    }
    return TCP_FREE;
}

/* ---- SYN-SENT (RFC 9293 §3.10.7.3) ----------------------------------- */

static enum tcp_verdict syn_sent_input(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    uint16_t f = seg->flags;
    /* first: the ACK must acknowledge our SYN */
    if (f & WIRE_TCP_ACK) {
        if (seq_leq(seg->ack, tcb->iss) || seq_gt(seg->ack, tcb->snd_max)) {
            ctx->st->tcp_drop_syn_sent++;
            if (!(f & WIRE_TCP_RST))
                tcp_send_rst(ctx, TCP_TUPLE(tcb), seg->ack, 0, false);
            return TCP_KEEP;
        }
    }
    /* Linux tcp_rcv_synsent_state_process (PAWSActiveRejected): an ACK
     * whose TSecr is no timestamp our SYN carried (from the first SYN's to
     * now's) is treated as one for another connection: a RST, state kept */
    if ((f & WIRE_TCP_ACK) && tcb->x && (tcb->flags & TCB_TS_OK) && seg->opt.has_ts && seg->opt.ts_ecr) {
        uint32_t first = (uint32_t)(tcb->x->rtt_start / 1000u) + tcb->ts_offset;
        if (seg->opt.ts_ecr - first > tcp_ts_now(ctx, tcb) - first) {
            ctx->st->tcp_paws_active_rejected++;
            if (!(f & WIRE_TCP_RST))
                tcp_send_rst(ctx, TCP_TUPLE(tcb), seg->ack, 0, false);
            return TCP_KEEP;
        }
    }
    /* second: a RST counts only with an acceptable ACK (RFC 5961 §3.2) */
    if (f & WIRE_TCP_RST) {
        if (!(f & WIRE_TCP_ACK)) {
            ctx->st->tcp_drop_syn_sent++;
            return TCP_KEEP;
        }
        ctx->st->tcp_rst_in++;
        ctx->st->tcp_attempt_fails++;
        tcp_enter_closed(ctx, tcb, -ECONNREFUSED, "rcv RST");
        return TCP_FREE;
    }
    /* fourth: the SYN */
    if (!(f & WIRE_TCP_SYN)) {
        ctx->st->tcp_drop_syn_sent++;
        return TCP_KEEP;
    }
    take_syn_options(ctx, tcb, seg);
    tcp_ecn_syn_in(tcb, seg);
    tcb->irs = seg->seq;
    tcb->rcv_nxt = seg->seq + 1;
    tcb->rcv_adv = tcb->rcv_nxt;
    tcb->snd_wnd = tcb->max_snd_wnd = seg->wnd; /* a SYN's window is never scaled */
    tcb->snd_wl1 = seg->seq;
    tcb->snd_wl2 = seg->ack;
    if (!(f & WIRE_TCP_ACK)) {
        /* Simultaneous open: both SYNs crossed (RFC 9293 Figure 7). */
        tcp_set_state(ctx, tcb, TCP_SYN_RECEIVED, "rcv SYN (simultaneous open)");
        tcb->backoff = 0;
        tcb->flags &= ~TCB_RTT_TIMING;
        tcp_emit(ctx, tcb, WIRE_TCP_SYN | WIRE_TCP_ACK, tcb->iss, 0, 0);
        tcp_arm_rtx(ctx, tcb);
        return TCP_KEEP;
    }
    tcb->snd_una = seg->ack;
    if (tcb->snd_max != tcb->iss + 1)
        fo_synack(ctx, tcb);
    if ((tcb->flags & TCB_RTT_TIMING) && tcb->backoff == 0)
        tcp_rtt_sample(ctx, tcb, ctx->now - tcb->x->rtt_start);
    tcb->flags &= ~TCB_RTT_TIMING;
    tcb->backoff = 0;
    tcb->t_rtx = TCP_TIME_NEVER;
    tcp_set_state(ctx, tcb, TCP_ESTABLISHED, "rcv SYN,ACK");
    /* Data queued before the handshake went out may ride on this ACK. */
    tcb->flags |= TCB_ACK_PENDING;
    if ((tcb->flags & TCB_FO_WAIT) && !seg->payload_len && !(f & WIRE_TCP_FIN) && tcb->snd_nxt == tcb->snd_max &&
        !tcp_unsent(tcb)) {
        /* Linux tcp_rcv_synsent_state_process with sk_write_pending: a Fast
         * Open writer waits to send the rest, so the ACK is saved for its
         * data, and that reply at once makes the exchange interactive
         * (pingpong: later data is ACKed after the delayed-ACK time) */
        tcb->pingpong = true; /* TCB_FO_WAIT stays until an ACK goes (tcp_emit) */
        tcb->t_delack = ctx->now + ctx->p.delack;
        return TCP_KEEP;
    }
    tcb->flags &= ~TCB_FO_WAIT;
    if (seg->payload_len || (f & WIRE_TCP_FIN))
        return TCP_KEEP; /* the caller continues with text and FIN: see tcp_input */
    tcp_output(ctx, tcb);
    if (tcb->flags & TCB_ACK_PENDING)
        tcp_send_ack(ctx, tcb);
    return TCP_KEEP;
}

/* ---- text and FIN (sixth to eighth) ---------------------------------- */


static enum tcp_verdict text_and_fin(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg,
                                     uint32_t seq, const uint8_t *data, uint32_t len, bool fin)
{
    if (len) {
        switch (tcb->state) {
        case TCP_ESTABLISHED:
        case TCP_FIN_WAIT_1:
        case TCP_FIN_WAIT_2:
            break;
        default: /* the peer's FIN came already: ignore */
            len = 0;
            fin = false;
            break;
        }
    }
    if (len && (tcb->flags & TCB_ORPHAN) &&
        (tcb->state == TCP_FIN_WAIT_1 || tcb->state == TCP_FIN_WAIT_2)) {
        /* Nobody will read it: Linux resets rather than ACK data into the
         * void (tcp_rcv_state_process, LINUX_MIB_TCPABORTONDATA), with the
         * RST that answers a segment: <SEQ=SEG.ACK><CTL=RST> (RFC 9293
         * §3.10.7.1 form, tcp_v4_send_reset). */
        ctx->st->tcp_abort_on_data++;
        tcp_send_rst(ctx, TCP_TUPLE(tcb), seg->ack, 0, false);
        tcp_enter_closed(ctx, tcb, -ECONNRESET, "rcv data after close()");
        return TCP_FREE;
    }
    /* Linux tcp_measure_rcv_mss: at most the MSS we announced, so that one
     * segment larger than that (one taken beyond the window, take_whole)
     * does not stretch every later delayed ACK */
    if (len > tcb->rcv_mss)
        tcb->rcv_mss = (uint16_t)(len < tcb->mss_local ? len : tcb->mss_local);
    if (len) { /* Linux tcp_event_data_recv (and tcp_data_queue_ofo) */
        tcp_ecn_data_in(ctx, tcb, seg);
        if (!(tcb->flags & TCB_DATA_RCVD) || ctx->now - tcb->lrcvtime > tcp_rto_backed_off(ctx, tcb))
            tcp_incr_quickack(tcb);
        tcb->flags |= TCB_DATA_RCVD;
        tcb->lrcvtime = ctx->now;
    }
    if ((tcb->flags & TCB_FIN_OOO) && len && seq_gt(seq + len, tcb->x->fin_seq)) {
        /* nothing lies beyond a FIN already held: that part is not data */
        len = seq_lt(seq, tcb->x->fin_seq) ? tcb->x->fin_seq - seq : 0;
        fin = false;
    }
    if ((len || fin) && seq != tcb->rcv_nxt) {
        /* Out of order (RFC 9293 §3.10.7.4 seventh, "segments with higher
         * beginning sequence numbers may be held"): the data goes into the
         * receive ring at its offset, and ooo records it; the sender hears at
         * once what we hold (RFC 5681 §4.2: an immediate duplicate ACK, with
         * SACK blocks when agreed). */
        uint32_t off = seq - tcb->rcv_nxt;
        uint32_t ds, de;
        if (len && ranges_add(&tcb->x->ooo, seq, seq + len, ++tcb->x->ooo_stamp, &ds, &de)) {
            ring_write_at(&tcb->rcv, tcb->x->rbuf, off, data, len);
            ctx->st->tcp_ooo_queued++;
            if (ds != de)
                note_dsack(tcb, ds, de);
        } else if (len) {
            ctx->st->tcp_ooo_full++;
            fin = false;
        }
        if (fin) {
            tcb->flags |= TCB_FIN_OOO;
            tcb->x->fin_seq = seq + len;
        }
        tcb->flags |= TCB_ACK_PENDING | TCB_ACK_NOW;
        tcp_enter_quickack(tcb);
        return TCP_KEEP;
    }
    if (len && tcb->x->ooo.n && seq_lt(tcb->x->ooo.r[0].start, seq + len)) {
        /* in-order data over what was held out of order: a duplicate, the
         * first piece of which RFC 2883 reports */
        const struct tcp_range *r = &tcb->x->ooo.r[0];
        note_dsack(tcb, seq_max(r->start, seq), seq_min(r->end, seq + len));
    }
    if (len) {
        uint32_t took = ring_write(&tcb->rcv, tcb->x->rbuf, data, len);
        tcb->rcv_nxt += took;
        tcb->flags |= TCB_ACK_PENDING;
        if (took < len)
            fin = false; /* the FIN lies beyond what we kept */
    }
    if (tcb->x->ooo.n && seq_leq(tcb->x->ooo.r[0].start, tcb->rcv_nxt)) {
        /* a hole filled: what was held joins the stream; ACK at once
         * (RFC 5681 §4.2) */
        uint32_t end = tcb->x->ooo.r[0].end;
        if (seq_gt(end, tcb->rcv_nxt)) {
            ring_commit(&tcb->rcv, end - tcb->rcv_nxt);
            tcb->rcv_nxt = end;
        }
        tcb->flags |= TCB_ACK_NOW;
    }
    ranges_trim_below(&tcb->x->ooo, tcb->rcv_nxt);
    if ((tcb->flags & TCB_FIN_OOO) && tcb->x->fin_seq == tcb->rcv_nxt) {
        tcb->flags &= ~TCB_FIN_OOO;
        fin = true;
    }
    if (tcb->x->ooo.n)
        tcb->flags |= TCB_ACK_NOW; /* Linux ACKs at once while a hole remains */
    if (!fin)
        return TCP_KEEP;

    /* eighth: the FIN. The stream ends here: whatever was held out of
     * order beyond it is not data and is dropped, never joined later
     * (Linux tcp_fin purges its out-of-order queue). */
    bool held = tcb->x->ooo.n != 0;
    ranges_clear(&tcb->x->ooo);
    tcb->flags &= ~TCB_FIN_OOO;
    tcb->rcv_nxt += 1;
    tcb->flags |= TCB_FIN_RCVD | TCB_ACK_PENDING;
    tcb->flags &= ~TCB_DSACK; /* Linux tcp_fin resets the SACK state */
    switch (tcb->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        /* Linux tcp_fin: the ACK of a FIN that half-closes may wait the
         * delayed-ACK time (pingpong mode), so that our own FIN, if the
         * application closes at once, carries it (RFC 1122 §4.2.3.2 lets
         * ACKs wait up to 500 ms) */
        tcb->pingpong = true;
        if (held)
            tcb->flags |= TCB_ACK_NOW;
        tcp_set_state(ctx, tcb, TCP_CLOSE_WAIT, "rcv FIN");
        break;
    case TCP_FIN_WAIT_1:
        tcb->flags |= TCB_ACK_NOW;
        if (tcb->flags & TCB_FIN_ACKED)
            tcp_enter_time_wait(ctx, tcb, "rcv FIN");
        else
            tcp_set_state(ctx, tcb, TCP_CLOSING, "rcv FIN (simultaneous close)");
        break;
    case TCP_FIN_WAIT_2:
        tcb->flags |= TCB_ACK_NOW;
        tcb->t_wait = TCP_TIME_NEVER;
        tcp_enter_time_wait(ctx, tcb, "rcv FIN");
        break;
    default:
        break;
    }
    (void)seg;
    return TCP_KEEP;
}

/* ---- synchronized states (RFC 9293 §3.10.7.4) ------------------------ */

static enum tcp_verdict sync_input(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    /* RFC 9293 §3.5 Figure 7: in a simultaneous open the peer's SYN-ACK
     * (<SEQ=IRS><ACK=SND.NXT><CTL=SYN,ACK>) completes the handshake. Its SYN
     * is the one already received, so it is neither a new SYN for RFC 5961
     * §4 nor outside the window: process it as the ACK it is (Linux
     * tcp_validate_incoming does the same). */
    struct wire_tcp simopen;
    bool syn_wnd = false; /* the segment's window is a SYN's: unscaled */
    if (tcb->state == TCP_SYN_RECEIVED && !(tcb->flags & TCB_PASSIVE) &&
        (seg->flags & (WIRE_TCP_SYN | WIRE_TCP_ACK | WIRE_TCP_RST | WIRE_TCP_FIN)) == (WIRE_TCP_SYN | WIRE_TCP_ACK) &&
        seg->seq == tcb->irs && seg->ack == tcb->snd_nxt && seg->payload_len == 0) {
        simopen = *seg;
        simopen.flags &= (uint16_t)~WIRE_TCP_SYN;
        simopen.seq = tcb->irs + 1;
        seg = &simopen;
        syn_wnd = true;
        /* its SYN is a byte received twice: Linux (tcp_data_queue) ACKs it
         * at once with a D-SACK for it (RFC 2883) */
        note_dsack(tcb, tcb->irs, tcb->irs + 1);
        tcb->flags |= TCB_ACK_PENDING | TCB_ACK_NOW;
    }
    uint16_t f = seg->flags;
    uint32_t seq = seg->seq;
    uint32_t len = tcp_seg_len(seg);

    /* A retransmitted SYN while our SYN-ACK is out: answer it again (Linux
     * tcp_check_req); any other SYN kills the embryonic connection. */
    if (tcb->state == TCP_SYN_RECEIVED && (tcb->flags & TCB_PASSIVE) && (f & WIRE_TCP_SYN) &&
        !(f & WIRE_TCP_RST)) {
        if (seq == tcb->irs && !(f & WIRE_TCP_ACK)) {
            ctx->st->tcp_retrans++;
            tcp_emit(ctx, tcb, WIRE_TCP_SYN | WIRE_TCP_ACK, tcb->iss, 0, 0);
            return TCP_KEEP;
        }
        if (acceptable(tcb, seq, len)) {
            ctx->st->tcp_attempt_fails++;
            tcp_reset_closed(ctx, TCP_TUPLE(tcb), seg);
            tcp_enter_closed(ctx, tcb, -ECONNREFUSED, "rcv SYN in SYN_RECEIVED");
            return TCP_FREE;
        }
    }

    /* RFC 6191 / Linux: a new SYN above the old sequence space may reuse a
     * 4-tuple in TIME_WAIT. */
    if (tcb->state == TCP_TIME_WAIT && (f & (WIRE_TCP_SYN | WIRE_TCP_ACK | WIRE_TCP_RST)) == WIRE_TCP_SYN) {
        bool newer = seq_gt(seq, tcb->rcv_nxt) ||
                     ((tcb->flags & TCB_TS_OK) && seg->opt.has_ts && seq_gt(seg->opt.ts_val, tcb->ts_recent));
        if (newer) {
            ctx->st->tcp_tw_reopened++;
            return TCP_TW_REOPEN;
        }
    }

    /* RFC 7323 §5.3 R1, PAWS: a segment whose TSval is older than
     * TS.Recent is an old duplicate; acknowledge and drop it. RSTs are
     * exempt (§5.2), and TS.Recent older than 24 days is invalid (§5.5). */
    if ((tcb->flags & TCB_TS_OK) && seg->opt.has_ts && !(f & WIRE_TCP_RST) &&
        seq_lt(seg->opt.ts_val, tcb->ts_recent) &&
        tcp_ts_now(ctx, tcb) - tcb->ts_recent_age < 24u * 24 * 3600 * 1000) {
        ctx->st->tcp_paws_drop++;
        tcp_send_ack(ctx, tcb);
        return TCP_KEEP;
    }

    /* first: sequence number */
    if (!acceptable(tcb, seq, len)) {
        ctx->st->tcp_drop_unacceptable++;
        return refuse_segment(ctx, tcb, seg, seq, len);
    }
    /* Linux since 6.17 (tcp_sequence): a segment that ends beyond the window
     * while data waits to be read is dropped whole, its ACK field unread
     * (SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE, LINUX_MIB_BEYOND_WINDOW),
     * where RFC 9293 §3.10.7.4 would take the part inside the window: a
     * peer may not make us hold more than we offered. Into an empty queue
     * it is taken whole (the seventh step, take_whole). Deviation from Linux,
     * on purpose: with our window at zero this does not apply, and a
     * segment at RCV.NXT still has its ACK, URG and RST processed (RFC 9293
     * §3.10.7.4: "special allowance should be made"), its data dropped;
     * the answer on the wire is the same ACK. */
    if (tcb->rcv.len && beyond_window(tcb, seq, len, f & WIRE_TCP_FIN)) {
        ctx->st->tcp_drop_beyond_window++;
        return refuse_segment(ctx, tcb, seg, seq, len);
    }

    /* second: RST (RFC 5961 §3.2) */
    if (f & WIRE_TCP_RST) {
        if (seq == tcb->rcv_nxt)
            return reset_by_peer(ctx, tcb);
        ctx->st->tcp_drop_rst_window++;
        tcp_send_challenge_ack(ctx, tcb);
        return TCP_KEEP;
    }

    /* fourth: SYN (RFC 5961 §4.2) */
    if (f & WIRE_TCP_SYN) {
        ctx->st->tcp_drop_syn_sync++;
        tcp_send_challenge_ack(ctx, tcb);
        return TCP_KEEP;
    }

    /* fifth: ACK */
    if (!(f & WIRE_TCP_ACK)) {
        ctx->st->tcp_drop_noack++;
        return TCP_KEEP;
    }
    uint32_t ack = seg->ack;
    if (tcb->state == TCP_SYN_RECEIVED) {
        if (!(seq_lt(tcb->snd_una, ack) && seq_leq(ack, tcb->snd_max))) {
            ctx->st->tcp_drop_badack++;
            tcp_send_rst(ctx, TCP_TUPLE(tcb), ack, 0, false);
            return TCP_KEEP;
        }
        tcb->snd_wnd = syn_wnd ? seg->wnd : (uint32_t)seg->wnd << tcb->snd_wscale;
        tcb->max_snd_wnd = tcb->snd_wnd;
        tcb->snd_wl1 = seq;
        tcb->snd_wl2 = ack;
        bool was_fin_wait = tcb->flags & TCB_FIN_QUEUED;
        tcp_set_state(ctx, tcb, was_fin_wait ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED, "rcv ACK of SYN");
        if ((tcb->flags & TCB_RTT_TIMING) && tcb->backoff == 0)
            tcp_rtt_sample(ctx, tcb, ctx->now - tcb->x->rtt_start);
        tcb->flags &= ~TCB_RTT_TIMING;
    }
    /* RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT */
    if (seq_gt(ack, tcb->snd_max) || seq_lt(ack, tcb->snd_una - tcb->max_snd_wnd)) {
        ctx->st->tcp_drop_badack++;
        tcp_send_challenge_ack(ctx, tcb);
        return TCP_KEEP;
    }
    /* RFC 7323 §4.3: TS.Recent follows the segment that holds Last.ACK.sent */
    if ((tcb->flags & TCB_TS_OK) && seg->opt.has_ts && seq_leq(seq, tcb->rcv_acked) &&
        seq_geq(seg->opt.ts_val, tcb->ts_recent)) {
        tcb->ts_recent = seg->opt.ts_val;
        tcb->ts_recent_age = tcp_ts_now(ctx, tcb);
    }
    tcb->last_rcv = ctx->now;
    if (tcb->keep_probes) { /* answered: idle counts again from now */
        tcb->keep_probes = 0;
        tcp_keepalive_arm(ctx, tcb);
    }
    if (seq_geq(ack, tcb->snd_una)) /* Linux tcp_ack: an ACK not older than SND.UNA answers every probe */
        tcb->x->probes = 0;
    uint32_t prior_flight = tcb->snd_max - tcb->snd_una;
    uint32_t acked = 0;
    if (seq_gt(ack, tcb->snd_una)) {
        acked = ack - tcb->snd_una;
        ack_advance(ctx, tcb, ack, seg);
    }
    bool wnd_changed = update_window(tcb, seg, syn_wnd);
    tcp_ecn_cwr_in(tcb, seg);
    if (tcb->state != TCP_SYN_RECEIVED) {
        tcp_ack_event(ctx, tcb, seg, acked, prior_flight, wnd_changed);
        /* Linux tcp_set_xmit_timer: once the ACK is taken, the probe timer
         * may stand in for the RTO (RFC 8985 §7.2). */
        if (tcb->snd_una != tcb->snd_max && (acked || (tcb->flags & TCB_TLP_TIMER)))
            tcp_arm_xmit_timer(ctx, tcb, acked != 0, false);
        /* then RACK's reordering timer, when detect-loss wants one */
        tcp_rack_arm(ctx, tcb);
    }

    switch (tcb->state) {
    case TCP_FIN_WAIT_1:
        if (tcb->flags & TCB_FIN_ACKED) {
            tcp_set_state(ctx, tcb, TCP_FIN_WAIT_2, "rcv ACK of FIN");
            if (tcb->flags & TCB_ORPHAN) /* Linux tcp_fin_timeout */
                tcb->t_wait = ctx->now + ctx->p.fin_wait2;
        }
        break;
    case TCP_CLOSING:
        if (tcb->flags & TCB_FIN_ACKED)
            tcp_enter_time_wait(ctx, tcb, "rcv ACK of FIN");
        return TCP_KEEP;
    case TCP_LAST_ACK:
        if (tcb->flags & TCB_FIN_ACKED) {
            tcp_enter_closed(ctx, tcb, 0, "rcv ACK of FIN");
            return TCP_FREE;
        }
        return TCP_KEEP;
    case TCP_TIME_WAIT:
        return TCP_KEEP;
    default:
        break;
    }

    /* sixth: the URG bit (urg.c); RFC 9293 ignores it once the peer's FIN
     * is in (CLOSE_WAIT), the later states having returned above */
    if (tcb->state != TCP_CLOSE_WAIT)
        tcp_urg_input(tcb, seg);

    /* seventh: text, trimmed to the window: what lies before RCV.NXT is
     * old, what lies beyond the window is dropped (and with it any FIN). */
    const uint8_t *data = seg->payload;
    uint32_t dlen = (uint32_t)seg->payload_len;
    bool fin = (f & WIRE_TCP_FIN) != 0;
    if (seq_lt(seq, tcb->rcv_nxt)) {
        uint32_t skip = tcb->rcv_nxt - seq;
        if (skip >= dlen + (fin ? 1u : 0u)) {
            /* all old: a duplicate; acknowledge it at once so the sender
             * moves on, and say it was a duplicate (RFC 2883 D-SACK) */
            if (dlen) {
                note_dsack(tcb, seq, seq + dlen);
                tcp_enter_quickack(tcb); /* a retransmission came: ACK at once */
                tcp_send_ack(ctx, tcb);
            } else if (fin) {
                tcp_send_ack(ctx, tcb);
            }
            return TCP_KEEP;
        }
        if (skip > dlen)
            skip = dlen;
        if (skip)
            note_dsack(tcb, seq, seq + skip);
        data += skip;
        dlen -= skip;
        seq += skip;
    }
    /* A bare ACK: no text to trim and no FIN, so the window below could
     * change nothing (dlen > room never holds at 0). */
    if (dlen == 0 && !fin)
        return text_and_fin(ctx, tcb, seg, seq, data, 0, false);
    uint32_t wnd = tcp_rcv_window(tcb);
    uint32_t room = seq_gt(tcb->rcv_nxt + wnd, seq) ? tcb->rcv_nxt + wnd - seq : 0;
    /* the window may exceed the free space (it never shrinks): keep only
     * what the ring can hold at this offset */
    uint32_t off = seq - tcb->rcv_nxt;
    uint32_t space = ring_free(&tcb->rcv) > off ? ring_free(&tcb->rcv) - off : 0;
    if (!tcb->x->rbuf)
        space = 0; /* the stack had no memory for the receive ring: as if full */
    if (room > space)
        room = space;
    if (dlen > room && take_whole(ctx, tcb, seq, dlen, wnd))
        room = dlen;
    if (dlen > room) {
        /* beyond the window: not taken; the ACK shows the window (Linux
         * TCPZeroWindowDrop when it is zero) */
        ctx->st->tcp_drop_unacceptable++;
        tcb->flags |= TCB_ACK_PENDING | TCB_ACK_NOW;
        dlen = room;
        fin = false;
    } else if (fin && (wnd == 0 || tcp_rcv_room(tcb) == 0)) {
        /* a FIN into a closed window is taken (Linux tcp_data_queue: a
         * peer that keeps resending it would otherwise loop), and, the
         * receive memory being full, acknowledged at once (Linux sets
         * ICSK_ACK_NOW when its receive memory is exhausted) rather than
         * after the delayed-ACK time a half-closing FIN otherwise waits */
        tcb->flags |= TCB_ACK_NOW;
    }
    return text_and_fin(ctx, tcb, seg, seq, data, dlen, fin);
}

enum tcp_verdict tcp_input(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    switch (tcb->state) {
    case TCP_CLOSED:
    case TCP_LISTEN:
        ctx->st->tcp_drop_closed++;
        tcp_reset_closed(ctx, TCP_TUPLE(tcb), seg);
        return TCP_KEEP;
    case TCP_SYN_SENT: {
        enum tcp_verdict v = syn_sent_input(ctx, tcb, seg);
        if (v != TCP_KEEP || tcb->state != TCP_ESTABLISHED ||
            !(seg->payload_len || (seg->flags & WIRE_TCP_FIN)))
            return v;
        /* a SYN-ACK that carries data or a FIN */
        v = text_and_fin(ctx, tcb, seg, seg->seq + 1, seg->payload, (uint32_t)seg->payload_len,
                         (seg->flags & WIRE_TCP_FIN) != 0);
        tcp_output(ctx, tcb);
        return v;
    }
    default:
        return sync_input(ctx, tcb, seg);
    }
}
