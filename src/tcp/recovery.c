/* What an acknowledgment tells the sender: the SACK scoreboard (RFC 2018,
 * RFC 6675), duplicate ACKs (RFC 5681 §3.2), fast recovery (RFC 6675 with
 * SACK, RFC 6582 NewReno without), limited transmit (RFC 3042), slow start
 * and congestion avoidance (RFC 5681 §3.1, via cc.h), and the reaction to
 * a retransmission timeout. Linux's way of counting what is in flight. */
#include "cc.h"
#include "internal.h"

#define DUPTHRESH 3 /* RFC 5681 §3.2, RFC 6675 §2 */

void tcp_cc_start(struct tcb *tcb)
{
    /* RFC 6928 (and Linux's TCP_INIT_CWND): ten segments */
    uint32_t mss = tcp_eff_mss(tcb);
    tcb->cwnd = 10u * mss;
    tcb->ssthresh = UINT32_MAX / 2; /* RFC 5681 §3.1: arbitrarily high */
    tcb->ca_state = TCP_CA_OPEN;
    tcb->recover = tcb->iss; /* RFC 6582 §3.2 (1) */
    tcb->x->high_rxt = tcb->x->lost_end = tcb->x->relost_next = tcb->x->relost_end = tcb->snd_una;
    tcb->x->dupacks = 0;
    tcb->x->reno_sacked = 0;
    ranges_clear(&tcb->x->sacked);
    tcp_rack_start(tcb); /* the ISS is chosen: RACK's marks follow SND.UNA */
    tcp_cc(tcb)->init(tcb);
}

uint32_t tcp_sacked_bytes(const struct tcb *tcb)
{
    if (tcb->flags & TCB_SACK_OK)
        return ranges_bytes_in(&tcb->x->sacked, tcb->snd_una, tcb->snd_max);
    return tcb->x->reno_sacked;
}

/* RFC 6675 §3 IsLost over the scoreboard: un-SACKed data lies lost when
 * DupThresh SACKed blocks, or more than (DupThresh-1)*SMSS SACKed bytes,
 * lie above it. Returns the end of that region. */
static uint32_t sack_lost_end(const struct tcb *tcb)
{
    uint32_t mss = tcp_eff_mss(tcb), bytes = 0;
    const struct tcp_ranges *s = &tcb->x->sacked;
    for (int i = s->n - 1, count = 1; i >= 0; i--, count++) {
        bytes += s->r[i].end - s->r[i].start;
        if (count >= DUPTHRESH || bytes > (DUPTHRESH - 1) * mss)
            return seq_max(s->r[i].start, tcb->snd_una);
    }
    return tcb->snd_una;
}

static uint32_t lost_bytes(const struct tcb *tcb)
{
    uint32_t end = seq_max(tcb->x->lost_end, tcb->snd_una);
    if (tcb->flags & TCB_SACK_OK)
        return end - tcb->snd_una - ranges_bytes_in(&tcb->x->sacked, tcb->snd_una, end);
    return end - tcb->snd_una;
}

/* Un-SACKed bytes in [lo, hi), clipped to SND.UNA. */
static uint32_t unsacked_in(const struct tcb *tcb, uint32_t lo, uint32_t hi)
{
    lo = seq_max(lo, tcb->snd_una);
    if (!seq_gt(hi, lo))
        return 0;
    uint32_t n = hi - lo;
    if (tcb->flags & TCB_SACK_OK)
        n -= ranges_bytes_in(&tcb->x->sacked, lo, hi);
    return n;
}

/* Retransmissions still in flight: below HighRxt, less those RACK found
 * lost again and not yet resent (Linux clears TCPCB_SACKED_RETRANS). */
static uint32_t retrans_bytes(const struct tcb *tcb)
{
    return unsacked_in(tcb, tcb->snd_una, tcb->x->high_rxt) -
           unsacked_in(tcb, tcb->x->relost_next, tcb->x->relost_end);
}

/* RFC 6675 §4 "pipe", in bytes: sent and neither acknowledged, SACKed, nor
 * deemed lost; retransmissions count again (Linux tcp_packets_in_flight). */
uint32_t tcp_pipe(const struct tcb *tcb)
{
    uint32_t flight = tcb->snd_max - tcb->snd_una;
    const struct tcp_ext *x = tcb->x;
    /* nothing SACKed, deemed lost or resent above SND.UNA: pipe is the
     * flight (every ACK of every connection asks) */
    if (x->sacked.n == 0 && x->reno_sacked == 0 && !seq_gt(x->lost_end, tcb->snd_una) && !seq_gt(x->high_rxt, tcb->snd_una) &&
        !seq_gt(x->relost_end, tcb->snd_una))
        return flight;
    uint32_t out = tcp_sacked_bytes(tcb) + lost_bytes(tcb);
    uint32_t pipe = flight > out ? flight - out : 0;
    return pipe + retrans_bytes(tcb);
}

/* RFC 2018 §8, RFC 2883 §4: SACK blocks of a segment onto the scoreboard.
 * Blocks at or below SND.UNA (D-SACK) or beyond SND.MAX say nothing we can
 * use and are ignored; returns the bytes newly SACKed. */
static uint32_t take_sack(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    if (!(tcb->flags & TCB_SACK_OK) || seg->opt.sack_count == 0)
        return 0;
    uint32_t before = ranges_bytes_in(&tcb->x->sacked, tcb->snd_una, tcb->snd_max);
    for (unsigned i = 0; i < seg->opt.sack_count; i++) {
        uint32_t a = seg->opt.sack[i].left, b = seg->opt.sack[i].right;
        if (!seq_lt(a, b) || seq_gt(b, tcb->snd_max) || seq_lt(a, tcb->snd_una) ||
            b - a > tcb->snd_max - tcb->snd_una) {
            if (seq_leq(b, seg->ack))
                ctx->st->tcp_dsack_in++;
            else
                ctx->st->tcp_sack_bad++;
            continue;
        }
        if (!ranges_add(&tcb->x->sacked, a, b, 0, NULL, NULL))
            ctx->st->tcp_sack_full++;
    }
    uint32_t after = ranges_bytes_in(&tcb->x->sacked, tcb->snd_una, tcb->snd_max);
    return after > before ? after - before : 0;
}

/* The end of the first unacknowledged segment: RFC 6675 §5 (4.3) and
 * RFC 6582 retransmit it whatever the scoreboard says. */
static uint32_t head_end(const struct tcb *tcb)
{
    return seq_min(tcb->snd_una + tcp_eff_mss(tcb), tcb->snd_max);
}

/* RFC 6937 §3.1, as Linux's tcp_cwnd_reduction: while pipe is above
 * ssthresh, send in proportion to what the network delivered
 * (ssthresh/RecoverFS of it); below, slow-start back up to ssthresh, at most
 * what was delivered (PRR-SSRB, one segment more when SND.UNA moved). The
 * first ACK of a recovery always lets the fast retransmit go. */
static void prr_update(struct tcb *tcb, uint32_t delivered, bool una_advanced)
{
    uint32_t mss = tcp_eff_mss(tcb);
    tcb->x->prr_delivered += delivered;
    uint32_t pipe = tcp_pipe(tcb);
    int64_t sndcnt;
    if (pipe > tcb->ssthresh) {
        uint64_t fs = tcb->x->prior_cwnd ? tcb->x->prior_cwnd : 1;
        sndcnt = (int64_t)(((uint64_t)tcb->ssthresh * tcb->x->prr_delivered + fs - 1) / fs) - tcb->x->prr_out;
    } else {
        int64_t owed = (int64_t)tcb->x->prr_delivered - tcb->x->prr_out;
        sndcnt = owed > (int64_t)delivered ? owed : (int64_t)delivered;
        if (una_advanced)
            sndcnt += mss;
        int64_t room = (int64_t)tcb->ssthresh - pipe;
        sndcnt = sndcnt < room ? sndcnt : room;
    }
    if (sndcnt < (tcb->x->prr_out ? 0 : (int64_t)mss))
        sndcnt = tcb->x->prr_out ? 0 : mss;
    tcb->cwnd = pipe + (uint32_t)sndcnt;
}

/* The start of a window reduction, fast recovery's or the CWR state's
 * (Linux tcp_init_cwnd_reduction): PRR's counts, the new ssthresh, the
 * point whose acknowledgment ends it, and CWR for the peer (RFC 3168
 * §6.1.2). */
static void init_cwnd_reduction(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcb->x->prior_cwnd = tcb->cwnd;
    tcb->x->prr_delivered = tcb->x->prr_out = 0;
    tcb->ssthresh = tcp_cc(tcb)->ssthresh(ctx, tcb);
    tcb->recover = tcb->snd_max;
    tcb->flags &= ~(TCB_TLP_OUT | TCB_TLP_RETRANS);
    tcp_ecn_queue_cwr(tcb);
}

void tcp_enter_cwr(struct tcp_ctx *ctx, struct tcb *tcb)
{
    /* RFC 3168 §6.1.2: react to ECN-Echo as to a loss, at most once per
     * window of data: a reduction under way (CWR, recovery, loss) covers
     * it. As Linux tcp_enter_cwr: ssthresh from the congestion control
     * now, cwnd brought down to it by PRR as ACKs come (RFC 6937). */
    if (tcb->ca_state >= TCP_CA_CWR)
        return;
    init_cwnd_reduction(ctx, tcb);
    tcb->ca_state = TCP_CA_CWR;
    ctx->st->tcp_ecn_cwr++;
}

static void enter_recovery(struct tcp_ctx *ctx, struct tcb *tcb)
{
    /* Linux tcp_enter_recovery: a reduction already under way for an
     * ECN-Echo (CWR) goes on; the window is not cut a second time. The
     * recovery still runs to RFC 6675's RecoveryPoint, the data sent so
     * far (Linux keeps the CWR's high_seq there). */
    if (tcb->ca_state != TCP_CA_CWR) {
        init_cwnd_reduction(ctx, tcb);
        tcb->cwnd = tcb->ssthresh; /* RFC 6675 §5 (4.2); PRR (prr_update) sets it per ACK from here */
    }
    tcb->recover = tcb->snd_max;
    tcb->x->high_rxt = tcb->x->relost_next = tcb->x->relost_end = tcb->snd_una;
    tcb->ca_state = TCP_CA_RECOVERY;
    if (tcb->flags & TCB_SACK_OK) {
        ctx->st->tcp_sack_recovery++;
        tcb->x->lost_end = seq_max(tcp_rack_on(ctx, tcb) ? tcb->snd_una : sack_lost_end(tcb), head_end(tcb));
    } else {
        ctx->st->tcp_reno_recovery++;
        tcb->x->lost_end = head_end(tcb); /* the first unacknowledged segment */
    }
    ctx->st->tcp_fast_retrans++;
}

static void exit_recovery(struct tcb *tcb)
{
    /* RFC 6937 §3.1 and Linux tcp_end_cwnd_reduction: the recovery ends
     * with cwnd = ssthresh (PRR has brought pipe there already). */
    if (tcb->ca_state == TCP_CA_RECOVERY) {
        tcb->cwnd = tcb->ssthresh;
        tcp_rack_recovery_done(tcb);
    }
    tcb->ca_state = TCP_CA_OPEN;
    tcb->x->dupacks = 0;
    tcb->x->reno_sacked = 0;
    tcb->x->high_rxt = tcb->x->lost_end = tcb->x->relost_next = tcb->x->relost_end = tcb->snd_una;
}

void tcp_ack_event(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t acked,
                   uint32_t prior_flight, bool wnd_changed)
{
    uint32_t mss = tcp_eff_mss(tcb);
    /* Data the peer already SACKed was counted as delivered then; its
     * cumulative ACK delivers nothing new (Linux tp->delivered). */
    uint32_t was_sacked = !acked                         ? 0
                          : (tcb->flags & TCB_SACK_OK) ? ranges_bytes_in(&tcb->x->sacked, tcb->snd_una - acked, tcb->snd_una)
                          : tcb->x->reno_sacked < acked   ? tcb->x->reno_sacked
                                                       : acked;
    tcp_rack_ack(ctx, tcb, seg, tcb->snd_una - acked);
    uint32_t newly_sacked = take_sack(ctx, tcb, seg);
    uint32_t delivered = acked - was_sacked + newly_sacked;
    tcp_tlp_ack(ctx, tcb, seg, acked, newly_sacked);
    ranges_trim_below(&tcb->x->sacked, tcb->snd_una);
    if (seq_lt(tcb->x->high_rxt, tcb->snd_una))
        tcb->x->high_rxt = tcb->snd_una;
    if (seq_lt(tcb->x->lost_end, tcb->snd_una))
        tcb->x->lost_end = tcb->snd_una;
    if (seq_lt(tcb->x->relost_end, tcb->snd_una))
        tcb->x->relost_end = tcb->snd_una;
    if (seq_lt(tcb->x->relost_next, tcb->snd_una))
        tcb->x->relost_next = tcb->snd_una;

    /* RFC 5681 §2 "duplicate acknowledgment", and RFC 6675 §2: with SACK,
     * an ACK that SACKs new data counts as one. */
    bool outstanding = tcb->snd_una != tcb->snd_max;
    bool dup = acked == 0 && outstanding && seg->payload_len == 0 &&
               !(seg->flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)) && !wnd_changed;
    if (tcb->flags & TCB_SACK_OK)
        dup = acked == 0 && outstanding && (newly_sacked > 0 || dup);
    if (dup) {
        if (tcb->x->dupacks < 255)
            tcb->x->dupacks++;
        ctx->st->tcp_dupack_in++;
        if (!(tcb->flags & TCB_SACK_OK) && tcb->ca_state != TCP_CA_LOSS) {
            /* Linux tcp_add_reno_sack: each stands for one segment that left
             * the network. Not after a timeout: there they mostly answer
             * our own go-back-N duplicates (Linux tcp_process_loss). */
            uint32_t room = tcb->snd_max - tcb->snd_una;
            room = room > mss ? room - mss : 0;
            tcb->x->reno_sacked = tcb->x->reno_sacked + mss < room ? tcb->x->reno_sacked + mss : room;
        }
    }
    if (acked && !(tcb->flags & TCB_SACK_OK))
        tcb->x->reno_sacked = tcb->x->reno_sacked > acked ? tcb->x->reno_sacked - acked : 0;

    /* RFC 8985 §6.2 step 5: what RACK finds lost by time (SND.UNA: nothing).
     * With RACK on, its marks replace RFC 6675 IsLost's, as in Linux. */
    bool rack = tcp_rack_on(ctx, tcb);
    uint32_t rack_end = tcp_rack_detect(ctx, tcb);
    bool ece = tcp_ecn_echo(ctx, tcb, seg);

    switch (tcb->ca_state) {
    case TCP_CA_CWR:
        /* RFC 3168 §6.1.2, as Linux (tcp_fastretrans_alert): the
         * reduction ends once data beyond its start is acknowledged, so
         * that the CWR that announced it has reached the receiver; cwnd is
         * then ssthresh (tcp_end_cwnd_reduction) */
        if (seq_gt(tcb->snd_una, tcb->recover)) {
            tcb->cwnd = tcb->ssthresh;
            tcb->ca_state = TCP_CA_OPEN;
        }
        break;
    case TCP_CA_RECOVERY:
    case TCP_CA_LOSS:
        if (seq_geq(tcb->snd_una, tcb->recover)) {
            bool loss = tcb->ca_state == TCP_CA_LOSS;
            exit_recovery(tcb);
            if (loss && acked)
                goto grow;
            return;
        }
        if (tcb->flags & TCB_SACK_OK) {
            if (tcb->ca_state == TCP_CA_RECOVERY)
                tcb->x->lost_end = seq_max(tcb->x->lost_end, rack ? rack_end : sack_lost_end(tcb));
        } else if (acked && tcb->ca_state == TCP_CA_RECOVERY) {
            /* RFC 6582 §3.2 (5), partial acknowledgment: the next segment
             * is lost too; retransmit it at once */
            tcb->x->lost_end = head_end(tcb);
            tcb->x->high_rxt = tcb->snd_una;
        }
        if (tcb->ca_state == TCP_CA_LOSS && acked)
            goto grow; /* slow start again after a timeout (RFC 5681 §3.1) */
        if (tcb->ca_state == TCP_CA_RECOVERY)
            prr_update(tcb, delivered, acked > 0);
        return;
    default:
        break;
    }

    if (acked)
        tcb->x->dupacks = 0;
    /* RFC 6675 §5 (3)/(4), RFC 6582 §3.2 (2): enter recovery at DupThresh
     * duplicate ACKs, or as soon as the scoreboard says the first segment is
     * lost; NewReno never starts a second recovery for data sent before the
     * last one began (RFC 6582 §4.1). */
    /* RFC 8985 §6.2: with RACK, when RACK marks a segment lost and only
     * then (Linux tcp_time_to_recover: lost_out, no duplicate-ACK count
     * with RACK): its reordering window stands in for DupThresh. */
    bool lost_head = (tcb->flags & TCB_SACK_OK) &&
                     seq_gt(rack ? rack_end : sack_lost_end(tcb), tcb->snd_una);
    if (outstanding && ((!rack && tcb->x->dupacks >= DUPTHRESH) || lost_head)) {
        if ((tcb->flags & TCB_SACK_OK) || seq_gt(tcb->snd_una, tcb->recover)) {
            if (rack)
                ctx->st->tcp_rack_recoveries++;
            enter_recovery(ctx, tcb);
            tcb->x->lost_end = seq_max(tcb->x->lost_end, rack_end);
            prr_update(tcb, delivered, acked > 0);
            return;
        }
    }
    /* RFC 3168 §6.1.2: an ECN-Echo with data in flight starts a
     * reduction (Linux tcp_try_to_open; nothing in flight: no reaction,
     * as Linux's tcp_ack takes no congestion step then) */
    if (ece && prior_flight)
        tcp_enter_cwr(ctx, tcb);
    if (tcb->ca_state == TCP_CA_CWR) {
        /* Linux tcp_cwnd_reduction: PRR, for ACKs that delivered data */
        if (delivered)
            prr_update(tcb, delivered, acked > 0);
        return;
    }
    tcb->ca_state = tcb->x->dupacks || tcp_sacked_bytes(tcb) ? TCP_CA_DISORDER : TCP_CA_OPEN;
    if (!acked)
        return;
grow:
    /* Linux tcp_may_raise_cwnd: only an ACK that moves SND.UNA grows the
     * window, by what this ACK delivered (RFC 5681 §3.1 counts bytes
     * acknowledged; SACKed bytes count when they are SACKed). */
    acked = delivered;
    /* Only a window that was in use may grow (RFC 7661 §4.1, Linux
     * tcp_is_cwnd_limited). */
    if (tcb->cwnd < tcb->ssthresh) {
        if (2 * prior_flight < tcb->cwnd)
            return;
        /* RFC 5681 §3.1 slow start; Linux grows by every segment acked */
        uint32_t room = tcb->ssthresh - tcb->cwnd;
        uint32_t inc = acked < room ? acked : room;
        tcb->cwnd += inc;
        acked -= inc;
        if (!acked)
            return;
    }
    if (prior_flight + mss < tcb->cwnd)
        return;
    if (tcb->ca_state == TCP_CA_OPEN || tcb->ca_state == TCP_CA_DISORDER)
        tcp_cc(tcb)->cong_avoid(ctx, tcb, acked);
}

void tcp_rack_timeout(struct tcp_ctx *ctx, struct tcb *tcb)
{
    /* RFC 8985 §6.3 RACK_reo_timeout, as Linux's tcp_rack_reo_timeout:
     * mark what has now waited long enough, start a recovery for it (PRR
     * then paces the retransmissions), and put the RTO back. */
    tcb->flags &= ~TCB_RACK_TIMER;
    ctx->st->tcp_rack_reo_timeouts++;
    tcp_arm_rtx(ctx, tcb);
    if (tcb->snd_una == tcb->snd_max)
        return;
    uint32_t end = tcp_rack_detect(ctx, tcb);
    if (seq_gt(end, tcb->snd_una)) {
        if (tcb->ca_state == TCP_CA_OPEN || tcb->ca_state == TCP_CA_DISORDER || tcb->ca_state == TCP_CA_CWR) {
            ctx->st->tcp_rack_recoveries++;
            enter_recovery(ctx, tcb);
            tcb->x->lost_end = seq_max(tcb->x->lost_end, end);
            prr_update(tcb, tcp_eff_mss(tcb), false);
        } else if (tcb->ca_state == TCP_CA_RECOVERY) {
            tcb->x->lost_end = seq_max(tcb->x->lost_end, end);
        }
    }
    tcp_output(ctx, tcb);
    tcp_rack_arm(ctx, tcb);
}

void tcp_on_rto(struct tcp_ctx *ctx, struct tcb *tcb)
{
    /* RFC 5681 §3.1, equation (4), for the first timeout of a recovery;
     * then cwnd = 1 SMSS (loss window). Linux enters CA_Loss and treats all
     * un-SACKed data as lost (tcp_enter_loss). */
    /* Linux tcp_enter_loss: not a second cut inside an ECN reduction
     * whose window is still in flight (RFC 3168 §6.1.2: once per window) */
    bool reduced = tcb->ca_state == TCP_CA_CWR && seq_gt(tcb->recover, tcb->snd_una);
    if ((tcb->ca_state != TCP_CA_LOSS || tcb->backoff <= 1) && !reduced)
        tcb->ssthresh = tcp_cc(tcb)->ssthresh(ctx, tcb);
    tcp_ecn_queue_cwr(tcb); /* RFC 3168 §6.1.2 (Linux tcp_enter_loss) */
    tcb->cwnd = tcp_eff_mss(tcb);
    tcb->ca_state = TCP_CA_LOSS;
    tcb->recover = tcb->snd_max;
    tcb->x->high_rxt = tcb->x->relost_next = tcb->x->relost_end = tcb->snd_una;
    tcb->x->lost_end = tcb->snd_max;
    tcb->x->dupacks = 0;
    tcb->x->reno_sacked = 0;
    tcb->flags &= ~(TCB_TLP_OUT | TCB_TLP_RETRANS);
}
