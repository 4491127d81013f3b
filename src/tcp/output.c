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

uint32_t tcp_eor_clip(const struct tcb *tcb, uint32_t seq, uint32_t len)
{
    const struct tcp_ext *x = tcb->x;
    for (unsigned i = 0; i < x->eor_n; i++)
        if (seq_gt(x->eor[i], seq)) {
            uint32_t room = x->eor[i] - seq;
            return len < room ? len : room;
        }
    return len;
}

void tcp_eor_mark(struct tcb *tcb)
{
    struct tcp_ext *x = tcb->x;
    uint32_t end = tcb->snd_data + tcb->snd.len;
    if (x->eor_n && x->eor[x->eor_n - 1] == end)
        return;
    if (x->eor_n == TCP_EOR_MAX) {
        memmove(x->eor, x->eor + 1, (TCP_EOR_MAX - 1) * sizeof x->eor[0]);
        x->eor_n--;
    }
    x->eor[x->eor_n++] = end;
}

bool tcp_eor_at(const struct tcb *tcb, uint32_t seq)
{
    const struct tcp_ext *x = tcb->x;
    for (unsigned i = 0; i < x->eor_n; i++)
        if (x->eor[i] == seq)
            return true;
    return false;
}

uint32_t tcp_rcv_window(const struct tcb *tcb)
{
    /* the buffer's room, not the storage's: storage grown for a segment
     * taken beyond the window (input.c) offers nothing more (Linux's window
     * stays 0 while its receive memory is over sk_rcvbuf) */
    uint32_t free = tcp_rcv_room(tcb);
    /* Round down to what the scale can express, so the edge we advertise is
     * the edge we mean. */
    free &= ~((1u << tcb->rcv_wscale) - 1);
    uint32_t promised = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
    /* RFC 9293 §3.8.6: never shrink the window already offered. */
    uint32_t wnd = free > promised ? free : promised;
    /* RFC 9293 §3.8.6.2.2, receiver SWS avoidance: move the right edge only
     * by at least min(RCV.BUFF / 2, one segment). */
    uint32_t half = tcp_rcv_bufsize(tcb) / 2;
    uint32_t step = half < tcb->mss_local ? half : tcb->mss_local;
    if (wnd > promised && wnd - promised < step)
        wnd = promised;
    uint32_t max = (uint32_t)0xffff << tcb->rcv_wscale;
    return wnd < max ? wnd : max;
}

/* RFC 2018 §4: the first block holds the segment that arrived last, then
 * the others, newest first, as many as fit beside the other options (three
 * with timestamps, four without). RFC 2883 §4: a D-SACK block goes first. */
static void add_sack_blocks(const struct tcb *tcb, struct wire_tcp_opts *o)
{
    unsigned max = o->has_ts ? 3 : 4, n = 0;
    if (max > WIRE_TCP_SACK_MAX)
        max = WIRE_TCP_SACK_MAX;
    if (tcb->flags & TCB_DSACK)
        o->sack[n++] = (struct wire_tcp_sack_block){tcb->x->dsack_start, tcb->x->dsack_end};
    bool used[TCP_RANGES_MAX] = {false};
    while (n < max) {
        int best = -1;
        for (int i = 0; i < tcb->x->ooo.n; i++)
            if (!used[i] && (best < 0 || seq_gt(tcb->x->ooo.r[i].stamp, tcb->x->ooo.r[best].stamp)))
                best = i;
        if (best < 0)
            break;
        used[best] = true;
        o->sack[n++] = (struct wire_tcp_sack_block){tcb->x->ooo.r[best].start, tcb->x->ooo.r[best].end};
    }
    o->sack_count = (uint8_t)n;
}

static void build_options(struct tcp_ctx *ctx, const struct tcb *tcb, uint16_t flags, struct wire_tcp_opts *o)
{
    wire_tcp_opts_clear(o);
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
    if ((tcb->flags & TCB_SACK_OK) && (flags & WIRE_TCP_ACK) && !(flags & (WIRE_TCP_SYN | WIRE_TCP_RST)))
        add_sack_blocks(tcb, o);
    /* RFC 7413 §4.2.2: a SYN-ACK answers a request or a bad cookie with a
     * good one, in the option kind the client used */
    if ((flags & WIRE_TCP_SYN) && (flags & WIRE_TCP_ACK) && (tcb->flags & TCB_FO_COOKIE)) {
        o->fo_kind = (tcb->flags & TCB_FO_EXP) ? WIRE_TCPOPT_EXP : WIRE_TCPOPT_FASTOPEN;
        o->fo_len = TCP_FO_COOKIE_LEN;
        tcp_fo_cookie(ctx, tcb, o->fo_cookie);
    }
}

int tcp_emit(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t flags, uint32_t seq, uint32_t off, uint32_t len)
{
    return tcp_emit_opts(ctx, tcb, flags, seq, off, len, NULL);
}

int tcp_emit_opts(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t flags, uint32_t seq, uint32_t off, uint32_t len,
                  const struct wire_tcp_opts *extra)
{
    uint8_t optbuf[WIRE_TCP_OPT_MAX];
    int optlen;
    bool sack = (tcb->flags & TCB_SACK_OK) && (flags & WIRE_TCP_ACK) && !(flags & WIRE_TCP_RST);
    if (!(flags & WIRE_TCP_SYN) && !(extra && extra->fo_kind) && !(sack && ((tcb->flags & TCB_DSACK) || tcb->x->ooo.n))) {
        /* What build_options and wire_tcp_opts_emit would write for a
         * segment other than a SYN with no SACK block to report: the
         * timestamp alone, or nothing (no MSS, window scale or Fast Open
         * outside a SYN); written at once, as nearly every segment is
         * (bench/connrate) */
        optlen = 0;
        if (tcb->flags & TCB_TS_OK) {
            wire_tcp_ts_emit(optbuf, tcp_ts_now(ctx, tcb), tcb->state == TCP_SYN_SENT ? 0 : tcb->ts_recent);
            optlen = 12;
        }
    } else {
        struct wire_tcp_opts o;
        build_options(ctx, tcb, flags, &o);
        if (extra && extra->fo_kind) { /* RFC 7413 §3: the client's SYN */
            o.fo_kind = extra->fo_kind;
            o.fo_len = extra->fo_len;
            memcpy(o.fo_cookie, extra->fo_cookie, sizeof o.fo_cookie);
        }
        optlen = wire_tcp_opts_emit(optbuf, sizeof optbuf, &o);
    }

    struct wire_tcp h;
    wire_tcp_reset_emit(&h);
    h.sport = tcb->lport;
    h.dport = tcb->rport;
    h.seq = seq;
    h.flags = flags;
    h.ecn = tcp_ecn_out(ctx, tcb, &h.flags, seq, len); /* RFC 3168 (ecn.c) */
    tcp_urg_out(tcb, &h); /* RFC 9293 §3.8.5 (urg.c) */
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
        /* A Fast Open child's SYN-ACK already opens the window to data
         * the user may read before the handshake ends: record its edge so
         * that reading does not look like the window reopening. */
        if (tcb->flags & TCB_FASTOPEN)
            tcb->rcv_adv = tcb->rcv_nxt + h.wnd;
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
        ring_span(&tcb->snd, tcb->x->sbuf, off, len, &p1, &n1, &p2, &n2);
    /* Linux clears the owed ACK before handing the segment down
     * (tcp_event_ack_sent), so a refused ACK is not owed again */
    if (flags & WIRE_TCP_ACK) {
        if ((tcb->flags & TCB_ACK_PENDING) && tcb->quick) /* Linux tcp_dec_quickack_mode */
            tcb->quick--;
        if (tcb->flags & TCB_DSACK)
            ctx->st->tcp_dsack_out++;
        tcb->flags &= ~(TCB_ACK_PENDING | TCB_ACK_NOW | TCB_DSACK | TCB_FO_WAIT);
        tcb->t_delack = TCP_TIME_NEVER;
        tcb->rcv_acked = tcb->rcv_nxt;
    }
    if (ctx->output(ctx->cb, tcb, TCP_TUPLE(tcb), &h, p1, n1, p2, n2)) {
        ctx->st->tcp_out_refused++;
        return TCP_XMIT_REFUSED;
    }
    ctx->st->tcp_out++;
    if (flags & WIRE_TCP_RST)
        ctx->st->tcp_rst_out++;
    tcb->last_send = ctx->now;
    return 0;
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

void tcp_send_conn_rst(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcp_emit(ctx, tcb, WIRE_TCP_RST | WIRE_TCP_ACK, tcb->snd_nxt, 0, 0);
}

void tcp_send_rst(struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t seq, uint32_t ack, bool with_ack)
{
    struct wire_tcp h;
    wire_tcp_reset_emit(&h);
    h.sport = t->lport;
    h.dport = t->rport;
    h.seq = seq;
    h.ack = with_ack ? ack : 0;
    h.flags = (uint16_t)(WIRE_TCP_RST | (with_ack ? WIRE_TCP_ACK : 0));
    if (ctx->output(ctx->cb, NULL, t, &h, NULL, 0, NULL, 0)) {
        ctx->st->tcp_out_refused++;
        return;
    }
    ctx->st->tcp_out++;
    ctx->st->tcp_rst_out++;
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

/* Sends len bytes (and the FIN if it is the next sequence number) from seq,
 * a sequence number at or above SND.UNA within the send ring. */
bool tcp_send_data(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t seq, uint32_t len, bool fin, bool push)
{
    uint16_t flags = WIRE_TCP_ACK;
    uint32_t end = seq + len;
    /* a record's end is a write's end: Linux's tcp_push marked it, unless
     * the write said MSG_MORE; push is the GSO packet's own, which Linux
     * forces whatever the write said (__tcp_transmit_skb) */
    bool at_end = end == tcb->snd_data + tcb->snd.len;
    if (len && (push || (at_end && !(tcb->flags & TCB_MORE)) || tcp_eor_at(tcb, end)))
        flags |= WIRE_TCP_PSH;
    if (fin)
        flags |= WIRE_TCP_FIN;
    bool rtx = seq_lt(seq, tcb->snd_max);
    /* Linux tcp_write_xmit / tcp_retransmit_skb: an skb the device refused
     * stays unsent, at the send head or unmarked in the retransmission
     * queue; the caller stops there. */
    tcb->x->tx_refused = tcp_emit(ctx, tcb, flags, seq, seq - tcb->snd_data, len) != 0;
    if (tcb->x->tx_refused)
        return false;
    if (rtx)
        ctx->st->tcp_retrans++;
    /* RFC 6937 prr_out; Linux counts it in the CWR state too */
    if (tcb->ca_state == TCP_CA_RECOVERY || tcb->ca_state == TCP_CA_CWR)
        tcb->x->prr_out += len + (fin ? 1u : 0u);
    end += fin ? 1 : 0;
    tcp_rack_sent(ctx, tcb, seq, end, rtx);
    if (fin)
        tcb->flags |= TCB_FIN_SENT;
    if (len < tcp_eff_mss(tcb))
        tcb->snd_sml = end;
    if (seq_gt(end, tcb->snd_max)) {
        /* Linux tcp_event_data_sent: a reply within the delayed-ACK time
         * of the last data received means an interactive exchange */
        if ((tcb->flags & TCB_DATA_RCVD) && ctx->now - tcb->lrcvtime < ctx->p.delack)
            tcb->pingpong = true;
        tcb->snd_max = end;
        /* Karn's rule: time only segments sent for the first time. */
        if (!rtx && !(tcb->flags & TCB_RTT_TIMING)) {
            tcb->flags |= TCB_RTT_TIMING;
            tcb->x->rtt_seq = end;
            tcb->x->rtt_start = ctx->now;
        }
    }
    if (seq_gt(end, tcb->snd_nxt))
        tcb->snd_nxt = end;
    tcp_arm_xmit_timer(ctx, tcb, false, !rtx);
    return true;
}

/* RFC 6675 §4 NextSeg() rule 1: the first un-SACKed byte above HighRxt that
 * is deemed lost; its length stops at the next SACKed block. */
static bool next_lost(const struct tcb *tcb, uint32_t *seq, uint32_t *len, bool *again)
{
    if (tcb->ca_state < TCP_CA_RECOVERY)
        return false;
    /* RFC 8985 §6.2: retransmissions RACK found lost again go first, as
     * Linux's tcp_xmit_retransmit_queue walks from the head */
    uint32_t from = seq_max(tcb->x->relost_next, tcb->snd_una);
    uint32_t end = seq_min(tcb->x->relost_end, tcb->snd_max);
    uint32_t s = ranges_next_gap(&tcb->x->sacked, from, end);
    *again = seq_lt(s, end);
    if (!*again) {
        from = seq_max(tcb->x->high_rxt, tcb->snd_una);
        end = seq_min(tcb->x->lost_end, tcb->snd_max);
        s = ranges_next_gap(&tcb->x->sacked, from, end);
    }
    if (!seq_lt(s, end))
        return false;
    uint32_t e = end;
    for (unsigned i = 0; i < tcb->x->sacked.n; i++)
        if (seq_gt(tcb->x->sacked.r[i].start, s)) {
            e = seq_min(e, tcb->x->sacked.r[i].start);
            break;
        }
    *seq = s;
    *len = e - s;
    return true;
}

/* Whether another new segment could follow one of n bytes about to go. */
static bool more_follows(const struct tcb *tcb, uint32_t n, uint16_t mss)
{
    uint32_t unsent = tcp_unsent(tcb) - n;
    if (unsent == 0 || tcp_pipe(tcb) + n >= tcb->cwnd)
        return false;
    uint32_t wnd_end = tcb->snd_una + tcb->snd_wnd, nxt = tcb->snd_nxt + n;
    uint32_t room = seq_gt(wnd_end, nxt) ? wnd_end - nxt : 0;
    return (unsent < mss ? unsent : mss) <= room;
}

/* How many segments Linux puts in one GSO packet (tcp_tso_segs).
 * tcp_tso_autosize: about 1 ms of the pacing rate (sk_pacing_shift 10)
 * plus 64 KB >> (min RTT >> 9 us) (tcp_tso_rtt_log), at most 64 KB
 * (gso_max_size), at least tcp_min_tso_segs (2); at most half the cwnd
 * (tcp_cwnd_test). tcp_update_pacing_rate sets the rate to 200 % of
 * max(cwnd, flight) / SRTT in slow start (cwnd below ssthresh / 2), 120 %
 * after, and leaves it unbounded before the first RTT sample. Linux's SRTT
 * takes a sample on every ACK; synack's RFC 6298 one (a timed segment per
 * RTT) lags behind it, so the rate is taken from RACK.rtt, the latest
 * per-ACK sample. */
static uint32_t gso_segs(const struct tcp_ctx *ctx, const struct tcb *tcb, uint16_t mss)
{
    uint64_t bytes = 0;
    uint32_t r = tcb->min_rtt ? tcb->min_rtt >> 9 : 32;
    uint32_t rtt = tcb->x->rack.valid && tcb->x->rack.rtt ? tcb->x->rack.rtt : tcb->srtt;
    if (!tcb->srtt) {
        bytes = 65536; /* no RTT sample: Linux's pacing rate is unbounded */
    } else {
        uint32_t flight = tcb->snd_nxt - tcb->snd_una;
        uint64_t w = tcb->cwnd > flight ? tcb->cwnd : flight;
        uint64_t pct = tcb->cwnd < tcb->ssthresh / 2 ? 200 : 120;
        bytes = (w * pct * 10000u / (rtt ? rtt : 1)) >> 10;
        if (r < 32)
            bytes += 65536u >> r;
        if (bytes > 65536)
            bytes = 65536;
    }
    uint32_t segs = (uint32_t)bytes / mss, half = tcb->cwnd / mss / 2;
    uint32_t least = ctx->p.min_tso_segs ? ctx->p.min_tso_segs : 2;
    if (segs < least)
        segs = least;
    return segs < half ? segs : (half ? half : 1);
}

/* RFC 896 (Nagle) as Linux applies it, with Minshall's refinement: a
 * partial segment waits while an earlier partial one is unacknowledged,
 * unless TCP_NODELAY; TCP_CORK holds every partial segment. */
static bool nagle_holds(const struct tcb *tcb, uint32_t n, uint16_t mss, bool fin, bool corked)
{
    if (n >= mss || fin || (tcb->flags & TCB_PUSH_ONCE))
        return false;
    if (tcp_urg_mode(tcb)) /* Linux tcp_nagle_test: urgent data is never held, corked or not */
        return false;
    if (tcb->o.cork || corked)
        return true;
    if (tcb->o.nodelay)
        return false;
    /* A Fast Open child's unacknowledged SYN-ACK is not data in flight
     * (Linux keeps it with the request, outside packets_out). */
    uint32_t una = (tcb->flags & TCB_FASTOPEN) && tcb->state == TCP_SYN_RECEIVED ? tcb->snd_una + 1 : tcb->snd_una;
    /* Linux tcp_minshall_check: the small segment's end must also lie in
     * what was sent (SND.NXT). Before any small segment, snd_sml holds the
     * ISS; without this bound, a zero there read as "in flight" whenever
     * the ISS fell in the upper half of the sequence space, and held the
     * first partial segment of a connection for an ACK. */
    return seq_gt(tcb->snd_sml, una) && !seq_gt(tcb->snd_sml, tcb->snd_nxt) && una != tcb->snd_max;
}

static void output(struct tcp_ctx *ctx, struct tcb *tcb, bool corked);

void tcp_output(struct tcp_ctx *ctx, struct tcb *tcb)
{
    output(ctx, tcb, false);
}

void tcp_output_corked(struct tcp_ctx *ctx, struct tcb *tcb)
{
    output(ctx, tcb, true);
}

static void output(struct tcp_ctx *ctx, struct tcb *tcb, bool corked)
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
         * handshake completes; data waits for ESTABLISHED, except on a
         * Fast Open child (RFC 7413 §4.2.2, Linux sends it at once). */
        if (!(tcb->flags & (TCB_FIN_QUEUED | TCB_FASTOPEN)))
            goto ack_only;
        break;
    default:
        goto ack_only;
    }

    uint16_t mss = tcp_eff_mss(tcb);
    /* RFC 5681 §4.1: after an idle period longer than the RTO, restart
     * from the initial window. */
    if (tcb->snd_una == tcb->snd_max && tcb->cwnd > 10u * mss && tcb->last_send &&
        ctx->now - tcb->last_send > tcp_rto_backed_off(ctx, tcb))
        tcb->cwnd = 10u * mss;

    bool sent = false;
    /* segments so far in the GSO packet being cut; one never spans two
     * passes, as none spans two tcp_write_xmit calls */
    uint32_t tso = 0, in_gso = 0;
    for (int guard = 0; guard < 1 << 16; guard++) {
        uint32_t seq, len;
        bool again = false;
        bool lost = next_lost(tcb, &seq, &len, &again);
        /* RFC 5681 §3.2 step 2, RFC 6675 §5 (4.3), RFC 6582 §3.2 (5): the
         * first unacknowledged segment is resent at once on entering
         * recovery or on a partial ACK, whatever pipe says. */
        bool head = lost && seq == tcb->snd_una && tcb->x->high_rxt == tcb->snd_una &&
                    tcb->ca_state == TCP_CA_RECOVERY;
        /* Nothing lost, no data and no FIN left to send: the new-data step
         * below would find n == 0 and no FIN and stop, so stop before
         * asking pipe (either test ends the loop, neither changes state;
         * each output pass of a connection ends here). */
        if (!lost && tcp_unsent(tcb) == 0 && !tcp_fin_unsent(tcb))
            break;
        if (!head && tcp_pipe(tcb) >= tcb->cwnd)
            break;
        if (lost) {
            uint32_t data_end = tcb->snd_data + tcb->snd.len;
            bool fin = false;
            if ((tcb->flags & TCB_FIN_SENT) && seq_geq(seq + len, data_end)) {
                len = seq_lt(seq, data_end) ? data_end - seq : 0;
                fin = true;
            }
            if (len > mss) {
                len = mss;
                fin = false;
            }
            uint32_t rec = tcp_eor_clip(tcb, seq, len); /* Linux never collapses past TCPCB_EOR */
            if (rec < len) {
                len = rec;
                fin = false;
            }
            if (!tcp_send_data(ctx, tcb, seq, len, fin, false))
                break;
            if (again)
                tcb->x->relost_next = seq + len + (fin ? 1 : 0);
            else
                tcb->x->high_rxt = seq + len + (fin ? 1 : 0);
            sent = true;
            continue;
        }
        /* new data (RFC 6675 NextSeg rule 2) */
        uint32_t unsent = tcp_unsent(tcb);
        uint32_t wnd_end = tcb->snd_una + tcb->snd_wnd;
        uint32_t room = seq_gt(wnd_end, tcb->snd_nxt) ? wnd_end - tcb->snd_nxt : 0;
        uint32_t n = tcp_eor_clip(tcb, tcb->snd_nxt, unsent < mss ? unsent : mss);
        /* Our FIN needs a sequence number inside the peer's window, as in
         * Linux; a closed window is probed by the persist timer. */
        bool fin = tcp_fin_unsent(tcb) && n == unsent && room > n;
        if (n == 0 && !fin)
            break;
        /* Sender SWS avoidance (RFC 9293 §3.8.6.2.1) as Linux does it
         * (tcp_snd_wnd_test): a segment goes only when it fits the window
         * whole; a window too small is probed by the persist timer. */
        if (n > room)
            break;
        /* Nagle and cork hold only the last of the queue: a record's end
         * with more behind it goes (Linux tcp_write_xmit: TCP_NAGLE_PUSH
         * for any skb but the last) */
        if (n == unsent && nagle_holds(tcb, n, mss, fin, corked))
            break;
        /* PSH where Linux's lands on the wire: __tcp_transmit_skb forces it
         * on every GSO packet (tcp_skb_pcount > 1, so that the receiver's
         * GRO flushes) and tcp_gso_segment leaves it on the packet's last
         * segment. tcp_write_xmit cuts a burst into packets of gso_segs
         * segments, the last one short where cwnd, window, data or an skb
         * (a MSG_EOR record) ends; a packet of one segment has PSH only
         * from the write (tcp_push). */
        if (!tso)
            tso = gso_segs(ctx, tcb, mss);
        bool cut = ++in_gso >= tso || !more_follows(tcb, n, mss) || tcp_eor_at(tcb, tcb->snd_nxt + n);
        if (!tcp_send_data(ctx, tcb, tcb->snd_nxt, n, fin, cut && in_gso >= 2))
            break; /* refused: the persist timer below retries (Linux tcp_check_probe_timer) */
        if (cut)
            in_gso = 0;
        sent = true;
    }
    /* RFC 9293 §3.8.6.1: with a window too small and nothing in flight,
     * probe it from the persist timer, backing off like the RTO. A cork
     * holding a partial segment with nothing in flight is timed the same
     * way: the probe sends what fits (Linux tcp_check_probe_timer and
     * tcp_write_wakeup: TCP_CORK's ceiling of tcp(7)). */
    bool pending = tcp_unsent(tcb) > 0 ||
                   tcp_fin_unsent(tcb);
    if (!sent && pending && tcb->snd_una == tcb->snd_max && tcb->t_rtx == TCP_TIME_NEVER) {
        tcb->flags = (tcb->flags | TCB_PERSIST) & ~(TCB_TLP_TIMER | TCB_RACK_TIMER);
        tcb->t_rtx = ctx->now + tcp_rto_backed_off(ctx, tcb);
    }
    tcb->flags &= ~TCB_PUSH_ONCE;
    if (tcb->o.keepalive && tcb->t_keep == TCP_TIME_NEVER)
        tcp_keepalive_arm(ctx, tcb);
    if (sent && !(tcb->flags & TCB_ACK_PENDING))
        return;
ack_only:
    if (!(tcb->flags & TCB_ACK_PENDING))
        return;
    /* the SYN-ACK's ACK saved for a Fast Open writer's data (syn_sent_input):
     * it waits for that data or its delayed-ACK timer, whichever first */
    if ((tcb->flags & TCB_FO_WAIT) && !(tcb->flags & TCB_ACK_NOW) && tcb->t_delack != TCP_TIME_NEVER)
        return;
    /* RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3: delay the ACK of in-order data
     * (40 ms as Linux), but acknowledge at least every second full-sized
     * segment, and at once when told to (FIN, out of order, a hole filled). */
    uint32_t rmss = tcb->rcv_mss ? tcb->rcv_mss : tcb->mss_local;
    /* Linux's delayed-ACK time (ato) is zero until the first data arrives:
     * an ACK owed before then (a bare FIN, say) goes at once. */
    if ((tcb->flags & TCB_ACK_NOW) || (tcb->quick && !tcb->pingpong) || !(tcb->flags & TCB_DATA_RCVD) ||
        tcb->rcv_nxt - tcb->rcv_acked > rmss ||
        (tcb->state != TCP_ESTABLISHED && tcb->state != TCP_FIN_WAIT_1 && tcb->state != TCP_FIN_WAIT_2 &&
         tcb->state != TCP_CLOSE_WAIT)) {
        tcp_send_ack(ctx, tcb);
        return;
    }
    if (tcb->t_delack == TCP_TIME_NEVER)
        tcb->t_delack = ctx->now + ctx->p.delack;
}
