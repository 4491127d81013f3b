/* RACK time-based loss detection (RFC 8985 §6), as Linux does it
 * (tcp_recovery.c: tcp_rack_advance, tcp_rack_detect_loss,
 * tcp_rack_update_reo_wnd, tcp_rack_reo_timeout).
 *
 * A segment is lost when a segment sent after it was delivered and it is
 * older than RACK.rtt plus a reordering window: so one SACK above a hole is
 * enough once enough time has passed, where RFC 6675 IsLost waits for
 * three. Send times live in a ring of transmit runs (tcb.h, struct
 * tcp_rack); recovery.c turns what detect-loss returns into the RFC 6675
 * loss marks (lost_end) and fast recovery, so retransmission order and PRR
 * stay recovery.c's.
 *
 * The marks form prefixes: above HighRxt nothing was retransmitted, and
 * data first sent leaves in sequence order, so send times never decrease
 * with the sequence number there; whatever RACK finds lost lies below the
 * first byte it does not. Below HighRxt the same holds for this
 * recovery's retransmissions (NextSeg sends them in order), above those
 * resent a second time (relost_next..relost_end in recovery.c). */
#include "internal.h"

#define DUPTHRESH 3            /* RFC 6675 §2, Linux tp->reordering's default */
#define REO_WND_PERSIST 16     /* Linux TCP_RACK_RECOVERY_THRESH */
/* Linux arms the reordering timer TCP_TIMEOUT_MIN (2 ms) after the time
 * left (tcp_rack_mark_lost); Linux's scripts (sack-shift-sacked-*-fack)
 * expect the retransmission then, so synack waits as long. */
#define REO_TIMER_SLACK 2000u

bool tcp_rack_on(const struct tcp_ctx *ctx, const struct tcb *tcb)
{
    /* Linux runs RACK only with SACK (tcp_identify_packet_loss). */
    return ctx->p.use_rack && (tcb->flags & TCB_SACK_OK);
}

static struct tcp_rack_run run_at(uint32_t start, uint32_t end, uint64_t t, bool rtx)
{
    return (struct tcp_rack_run){.start = start, .end = end, .t_last = t, .span = 0, .rtx = rtx};
}

static uint64_t t_first(const struct tcp_rack_run *r)
{
    return r->t_last - r->span;
}

/* Merges runs i and i+1 into i. */
static void merge(struct tcp_rack_run *run, unsigned *n, unsigned i)
{
    struct tcp_rack_run *a = &run[i], *b = &run[i + 1];
    uint64_t first = t_first(a) < t_first(b) ? t_first(a) : t_first(b);
    uint64_t last = a->t_last > b->t_last ? a->t_last : b->t_last;
    uint64_t span = last - first;
    a->end = b->end;
    a->t_last = last;
    a->span = span > UINT32_MAX ? UINT32_MAX : (uint32_t)span;
    a->rtx = a->rtx || b->rtx;
    for (unsigned k = i + 1; k + 1 < *n; k++)
        run[k] = run[k + 1];
    (*n)--;
}

/* Two neighbours sent at once, both exact, merge without loss. */
static bool same_send(const struct tcp_rack_run *a, const struct tcp_rack_run *b)
{
    return a->end == b->start && a->t_last == b->t_last && !a->span && !b->span && a->rtx == b->rtx;
}

/* RACK.fack (the §6.2 step 3 reordering test) and RACK.end_seq are
 * sequence numbers, meaningful only within SND.UNA..SND.MAX: they must
 * start again wherever SND.UNA does. The extension is often attached
 * before the ISS is chosen (connect, accept, Fast Open with data), with
 * SND.UNA still 0; a RACK.fack left at 0 reads, for half of all ISSs, as
 * lying above every byte sent (seq_gt wraps), so the first SACK looked
 * like reordering and reo_wnd stayed min_RTT/4 for the life of the
 * connection where Linux has none (its reordering test,
 * tcp_sacktag_one, compares with tcp_highest_sack_seq, SND.UNA while
 * nothing is SACKed). */
void tcp_rack_start(struct tcb *tcb)
{
    tcb->x->rack.fack = tcb->x->rack.end_seq = tcb->snd_una;
}

void tcp_rack_sent(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t seq, uint32_t end, bool rtx)
{
    if (!tcp_rack_on(ctx, tcb) || !seq_lt(seq, end))
        return;
    struct tcp_rack *r = &tcb->x->rack;
    /* The common case, new data after the last run: extend it or append. */
    struct tcp_rack_run fresh = run_at(seq, end, ctx->now, rtx);
    if (r->n == 0 || (r->run[r->n - 1].end == seq && r->n < TCP_RACK_RUNS)) {
        if (r->n && same_send(&r->run[r->n - 1], &fresh))
            r->run[r->n - 1].end = end;
        else
            r->run[r->n++] = fresh;
        return;
    }
    struct tcp_rack_run tmp[TCP_RACK_RUNS + 3];
    unsigned n = 0;
    /* what was sent before [seq, end), the new send, what lies after */
    for (unsigned i = 0; i < r->n; i++)
        if (seq_lt(r->run[i].start, seq)) {
            tmp[n] = r->run[i];
            tmp[n].end = seq_min(tmp[n].end, seq);
            n++;
        }
    tmp[n++] = fresh;
    for (unsigned i = 0; i < r->n; i++)
        if (seq_gt(r->run[i].end, end)) {
            tmp[n] = r->run[i];
            tmp[n].start = seq_max(tmp[n].start, end);
            n++;
        }
    for (unsigned i = 0; i + 1 < n;) {
        if (same_send(&tmp[i], &tmp[i + 1]))
            merge(tmp, &n, i);
        else
            i++;
    }
    /* Full: merge the neighbours whose union spans the least time, so
     * the error (in the conservative direction only) stays smallest. */
    while (n > TCP_RACK_RUNS) {
        unsigned best = 0;
        uint64_t best_span = UINT64_MAX;
        for (unsigned i = 0; i + 1 < n; i++) {
            uint64_t first = t_first(&tmp[i]) < t_first(&tmp[i + 1]) ? t_first(&tmp[i]) : t_first(&tmp[i + 1]);
            uint64_t last = tmp[i].t_last > tmp[i + 1].t_last ? tmp[i].t_last : tmp[i + 1].t_last;
            if (last - first < best_span) {
                best_span = last - first;
                best = i;
            }
        }
        merge(tmp, &n, best);
        ctx->st->tcp_rack_run_merges++;
    }
    for (unsigned i = 0; i < n; i++)
        r->run[i] = tmp[i];
    r->n = (uint8_t)n;
}

/* RFC 8985 §6.2: RACK_sent_after(t1, seq1, t2, seq2). */
static bool sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
    return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

/* The RFC 7323 TSval we put on a segment sent at t. */
static uint32_t tsval_at(const struct tcb *tcb, uint64_t t)
{
    return (uint32_t)(t / 1000u) + tcb->ts_offset;
}

/* §6.2 steps 1-3 for [a, b), newly delivered (cumulative: by the ACK
 * field, which for a retransmission can prove by its TSecr that the
 * original was what arrived). */
static void deliver(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t a, uint32_t b,
                    bool cumulative, uint32_t prior_fack)
{
    struct tcp_rack *r = &tcb->x->rack;
    uint32_t mss = tcp_eff_mss(tcb);
    for (unsigned i = 0; i < r->n; i++) {
        const struct tcp_rack_run *u = &r->run[i];
        if (!seq_lt(u->start, b))
            break;
        if (!seq_gt(u->end, a))
            continue;
        uint32_t p = seq_max(a, u->start), q = seq_min(b, u->end);
        /* Less than a segment of a run says no segment arrived whole:
         * Linux cannot split an skb below the MSS and leaves such a SACK
         * out of RACK (tcp_match_skb_to_sack). */
        if (q - p < mss && !(p == u->start && q == u->end))
            continue;
        /* Whole run delivered: its latest send is among what arrived.
         * Part of it: only its earliest send is sure to be older. */
        bool whole = p == u->start && q == u->end;
        uint64_t t = whole ? u->t_last : t_first(u);
        uint64_t rtt = ctx->now - t_first(u);
        if (u->rtx) {
            /* §6.2 step 2: an ACK echoing a TSval older than the
             * retransmission answers the original (Linux
             * tcp_skb_spurious_retrans); an RTT below the minimum is
             * likely the original's too (Linux tcp_rack_advance). */
            if (cumulative && (tcb->flags & TCB_TS_OK) && seg->opt.has_ts &&
                seq_lt(seg->opt.ts_ecr, tsval_at(tcb, u->t_last)))
                continue;
            if (ctx->now - u->t_last < tcb->min_rtt)
                continue;
        } else if (seq_lt(q, prior_fack) && !tcb->rack_reord) {
            /* §6.2 step 3: never retransmitted, yet delivered below data
             * delivered before: the path reorders (Linux
             * tcp_check_sack_reordering). */
            tcb->rack_reord = true;
            ctx->st->tcp_rack_reordering++;
        }
        /* Linux keeps the RTT of the last segment taken, the SACKed ones
         * first, then the cumulatively acknowledged in sequence order. */
        r->rtt = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
        if (!r->valid || sent_after(t, q, r->xmit_ts, r->end_seq)) {
            r->xmit_ts = t;
            r->end_seq = q;
        }
        r->valid = true;
        if (seq_gt(q, r->fack))
            r->fack = q;
    }
}

/* deliver() for each stretch of [a, b) the scoreboard did not hold yet. */
static void deliver_unsacked(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t a,
                             uint32_t b, bool cumulative, uint32_t prior_fack)
{
    const struct tcp_ranges *sacked = &tcb->x->sacked;
    for (uint32_t s = a; seq_lt(s, b);) {
        s = ranges_next_gap(sacked, s, b);
        if (!seq_lt(s, b))
            break;
        uint32_t e = b;
        for (unsigned i = 0; i < sacked->n; i++)
            if (seq_gt(sacked->r[i].start, s)) {
                e = seq_min(e, sacked->r[i].start);
                break;
            }
        deliver(ctx, tcb, seg, s, e, cumulative, prior_fack);
        s = e;
    }
}

/* RFC 2883 §4: the first block reports a duplicate when it lies below the
 * ACK or inside the second block (Linux tcp_check_dsack). */
static bool has_dsack(const struct wire_tcp *seg)
{
    if (!seg->opt.sack_count)
        return false;
    const struct wire_tcp_sack_block *s = seg->opt.sack;
    if (seq_lt(s[0].left, seg->ack))
        return true;
    return seg->opt.sack_count > 1 && seq_geq(s[0].left, s[1].left) && seq_leq(s[0].right, s[1].right);
}

/* §6.2 step 4, as Linux's tcp_rack_update_reo_wnd: a D-SACK (at most one
 * per round trip) widens the window by min_RTT/4 for the next 16
 * recoveries; then it falls back to one step. */
static void update_reo_wnd(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    struct tcp_rack *r = &tcb->x->rack;
    /* the round ends once what was sent before the last widening is acknowledged */
    if (r->dsack_round_on && seq_geq(tcb->snd_una, r->dsack_round))
        r->dsack_round_on = false;
    if (has_dsack(seg) && !r->dsack_round_on) {
        if (tcb->rack_reo_mult < 255)
            tcb->rack_reo_mult++;
        tcb->rack_reo_persist = REO_WND_PERSIST;
        r->dsack_round = tcb->snd_nxt;
        r->dsack_round_on = true;
        ctx->st->tcp_rack_reo_wnd_grown++;
    } else if (!tcb->rack_reo_persist) {
        tcb->rack_reo_mult = 1;
    }
}

void tcp_rack_recovery_done(struct tcb *tcb)
{
    if (tcb->rack_reo_persist)
        tcb->rack_reo_persist--;
}

void tcp_rack_ack(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t prior_una)
{
    if (!tcp_rack_on(ctx, tcb))
        return;
    struct tcp_rack *r = &tcb->x->rack;
    uint32_t prior_fack = seq_gt(r->fack, prior_una) ? r->fack : prior_una;
    /* SACK blocks first, in sequence order, then the cumulative ACK (the
     * order Linux's tcp_ack takes them in); what was SACKed before
     * delivers nothing new. */
    struct wire_tcp_sack_block blk[WIRE_TCP_SACK_MAX];
    unsigned nb = 0;
    for (unsigned i = 0; i < seg->opt.sack_count && nb < WIRE_TCP_SACK_MAX; i++) {
        struct wire_tcp_sack_block s = seg->opt.sack[i];
        if (!seq_lt(s.left, s.right) || seq_gt(s.right, tcb->snd_max) || seq_lt(s.left, tcb->snd_una) ||
            s.right - s.left > tcb->snd_max - tcb->snd_una)
            continue;
        unsigned k = nb++;
        for (; k > 0 && seq_gt(blk[k - 1].left, s.left); k--)
            blk[k] = blk[k - 1];
        blk[k] = s;
    }
    for (unsigned i = 0; i < nb; i++)
        deliver_unsacked(ctx, tcb, seg, blk[i].left, blk[i].right, false, prior_fack);
    deliver_unsacked(ctx, tcb, seg, prior_una, tcb->snd_una, true, prior_fack);
    /* forget what is acknowledged */
    unsigned k = 0;
    for (unsigned i = 0; i < r->n; i++) {
        if (!seq_gt(r->run[i].end, tcb->snd_una))
            continue;
        r->run[k] = r->run[i];
        r->run[k].start = seq_max(r->run[k].start, tcb->snd_una);
        k++;
    }
    r->n = (uint8_t)k;
    if (seq_lt(r->fack, tcb->snd_una))
        r->fack = tcb->snd_una;
    update_reo_wnd(ctx, tcb, seg);
}

/* §6.2 step 4: RACK.reo_wnd (Linux tcp_rack_reo_wnd). Without reordering
 * seen, none in recovery or once DupThresh segments are SACKed: be as
 * quick as RFC 6675 there. */
static uint64_t reo_wnd(const struct tcb *tcb)
{
    if (!tcb->rack_reord) {
        if (tcb->ca_state >= TCP_CA_RECOVERY)
            return 0;
        uint32_t mss = tcp_eff_mss(tcb);
        if ((tcp_sacked_bytes(tcb) + mss - 1) / mss >= DUPTHRESH)
            return 0;
    }
    /* no RTT yet: Linux's min_rtt is "infinite" and SRTT bounds it */
    uint64_t quarter = (tcb->min_rtt ? tcb->min_rtt : tcb->srtt) / 4u;
    uint64_t w = quarter * (tcb->rack_reo_mult ? tcb->rack_reo_mult : 1);
    return w < tcb->srtt ? w : tcb->srtt;
}

/* §6.2 step 5 over [from, to), where send times never decrease with the
 * sequence number: returns the end of what is lost there (from: none), and
 * raises *timeout to what the rest still needs. */
static uint32_t scan(struct tcp_ctx *ctx, const struct tcb *tcb, uint32_t from, uint32_t to, uint64_t reo,
                     int64_t *timeout)
{
    const struct tcp_rack *r = &tcb->x->rack;
    uint32_t lost = from;
    for (unsigned i = 0; i < r->n; i++) {
        const struct tcp_rack_run *u = &r->run[i];
        if (!seq_gt(u->end, from))
            continue;
        /* Only what was sent before RACK's segment; at the same time, what
         * lies below it in sequence. Judged by the run's latest send. */
        uint32_t p = seq_max(u->start, from), q = seq_min(u->end, to);
        if (u->t_last > r->xmit_ts)
            break;
        bool cut = !seq_lt(q, to);
        if (u->t_last == r->xmit_ts && seq_gt(q, r->end_seq)) {
            q = r->end_seq;
            cut = true;
        }
        if (!seq_lt(p, q))
            break;
        if (ranges_bytes_in(&tcb->x->sacked, p, q) < q - p) {
            int64_t remaining = (int64_t)r->rtt + (int64_t)reo - (int64_t)(ctx->now - u->t_last);
            if (remaining <= 0)
                lost = q;
            else if (remaining > *timeout)
                *timeout = remaining;
        }
        if (cut)
            break;
    }
    if (seq_gt(lost, from)) {
        uint32_t bytes = lost - from - ranges_bytes_in(&tcb->x->sacked, from, lost);
        uint32_t mss = tcp_eff_mss(tcb);
        ctx->st->tcp_rack_lost += (bytes + mss - 1) / mss;
    }
    return lost;
}

bool tcp_rack_sent_at(const struct tcb *tcb, uint32_t seq, uint64_t *t)
{
    const struct tcp_rack *r = &tcb->x->rack;
    for (unsigned i = 0; i < r->n; i++)
        if (!seq_lt(seq, r->run[i].start) && seq_lt(seq, r->run[i].end)) {
            *t = r->run[i].t_last;
            return true;
        }
    return false;
}

uint32_t tcp_rack_detect(struct tcp_ctx *ctx, struct tcb *tcb)
{
    struct tcp_rack *r = &tcb->x->rack;
    struct tcp_ext *x = tcb->x;
    r->reo_at = 0;
    if (!tcp_rack_on(ctx, tcb) || !r->valid || tcb->snd_una == tcb->snd_max || tcb->ca_state == TCP_CA_LOSS)
        return tcb->snd_una;
    uint64_t reo = reo_wnd(tcb);
    int64_t timeout = 0;
    /* Retransmissions of this recovery (below HighRxt) left in sequence
     * order, so their times rise with it too, above what was resent a
     * second time; one found lost goes again (Linux
     * tcp_rack_detect_loss marks retransmitted skbs lost as well). */
    uint32_t rfrom = seq_max(tcb->snd_una, x->relost_end);
    if (tcb->ca_state == TCP_CA_RECOVERY && seq_lt(rfrom, x->high_rxt)) {
        uint32_t end = scan(ctx, tcb, rfrom, x->high_rxt, reo, &timeout);
        if (seq_gt(end, rfrom)) {
            if (!seq_lt(x->relost_next, x->relost_end) || seq_lt(x->relost_next, tcb->snd_una))
                x->relost_next = rfrom;
            x->relost_end = end;
        }
    }
    /* What was sent once, above HighRxt and what is marked already. */
    uint32_t from = seq_max(seq_max(tcb->snd_una, x->high_rxt), x->lost_end);
    uint32_t lost = scan(ctx, tcb, from, tcb->snd_max, reo, &timeout);
    if (timeout > 0)
        r->reo_at = ctx->now + (uint64_t)timeout + REO_TIMER_SLACK;
    return seq_gt(lost, from) ? lost : tcb->snd_una;
}

void tcp_rack_arm(struct tcp_ctx *ctx, struct tcb *tcb)
{
    (void)ctx;
    uint64_t at = tcb->x->rack.reo_at;
    if (!at || tcb->snd_una == tcb->snd_max || (tcb->flags & TCB_PERSIST))
        return;
    /* Linux ICSK_TIME_REO_TIMEOUT takes the retransmission timer's slot,
     * ahead of a probe; an RTO due sooner stays. */
    if (tcb->t_rtx == TCP_TIME_NEVER || at < tcb->t_rtx || (tcb->flags & TCB_TLP_TIMER)) {
        tcb->t_rtx = at;
        tcb->flags = (tcb->flags | TCB_RACK_TIMER) & ~TCB_TLP_TIMER;
    }
    tcb->x->rack.reo_at = 0;
}
