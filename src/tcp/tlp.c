/* Tail loss probe (RFC 8985 §7), scheduled and sent as Linux does
 * (tcp_schedule_loss_probe, tcp_send_loss_probe, tcp_process_tlp_ack).
 *
 * A loss at the tail of a flight draws no duplicate ACKs, so without a
 * probe only the RTO would find it. The probe timer (PTO) shares the
 * retransmission timer's slot: TCB_TLP_TIMER says t_rtx holds the PTO. */
#include "cc.h"
#include "internal.h"

/* Linux TCP_TIMEOUT_MIN: what is added to 2*SRTT with several segments in
 * flight (one segment in flight adds the minimum RTO, for a delayed ACK). */
#define TLP_MIN_US 2000u

static bool tlp_applies(const struct tcp_ctx *ctx, const struct tcb *tcb)
{
    /* Linux: SACK connections only, not in recovery or loss (the CWR
     * state of RFC 3168 allows a probe), with data out. */
    if (!ctx->p.use_tlp || !(tcb->flags & TCB_SACK_OK) ||
        (tcb->ca_state != TCP_CA_OPEN && tcb->ca_state != TCP_CA_CWR) ||
        tcb->snd_una == tcb->snd_max || (tcb->flags & TCB_PERSIST))
        return false;
    switch (tcb->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT_1:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        return true;
    default:
        return false;
    }
}

/* RFC 8985 §7.2: PTO = 2*SRTT, plus the worst-case delayed ACK when one
 * segment is in flight; never later than the RTO would fire. */
static void schedule(struct tcp_ctx *ctx, struct tcb *tcb, bool advanced)
{
    uint64_t pto = ctx->p.rto_initial;
    if (tcb->srtt) {
        bool one = tcb->snd_max - tcb->snd_una <= tcp_eff_mss(tcb);
        pto = 2ull * tcb->srtt + (one ? ctx->p.rto_min : TLP_MIN_US);
    }
    uint64_t rto_at = ctx->now + tcp_rto_backed_off(ctx, tcb);
    if (!advanced && tcb->t_rtx != TCP_TIME_NEVER && !(tcb->flags & TCB_TLP_TIMER))
        rto_at = tcb->t_rtx; /* the RTO already running keeps its deadline */
    uint64_t at = ctx->now + pto;
    tcb->t_rtx = at < rto_at ? at : rto_at;
    tcb->flags = (tcb->flags | TCB_TLP_TIMER) & ~TCB_RACK_TIMER;
}

void tcp_arm_xmit_timer(struct tcp_ctx *ctx, struct tcb *tcb, bool advanced, bool new_data)
{
    /* Sending keeps a pending RACK reordering timer (Linux rearms only
     * when nothing was in flight); an ACK of new data re-decides it. */
    if ((tcb->flags & TCB_RACK_TIMER) && !advanced && tcb->t_rtx != TCP_TIME_NEVER)
        return;
    bool tlp = tlp_applies(ctx, tcb);
    if (tlp && (advanced || new_data)) {
        schedule(ctx, tcb, advanced);
        return;
    }
    /* A probe timer that no longer applies (recovery began, say) gives
     * way to the RTO. */
    if (advanced || tcb->t_rtx == TCP_TIME_NEVER || (tcb->flags & TCB_PERSIST) ||
        ((tcb->flags & TCB_TLP_TIMER) && !tlp)) {
        /* The probe or reordering timer stood in for an RTO that RFC 6298
         * §5.1 started at the send; an ACK of no new data does not restart
         * it (§5.3), so it keeps that deadline: the last send of the oldest
         * outstanding segment plus RTO (Linux tcp_rearm_rto,
         * tcp_rto_delta_us). An ACK of new data restarts it from now. */
        bool stood_in = !advanced && tcb->t_rtx != TCP_TIME_NEVER &&
                        (tcb->flags & (TCB_TLP_TIMER | TCB_RACK_TIMER));
        tcb->flags &= ~(TCB_PERSIST | TCB_TLP_TIMER);
        uint64_t sent;
        if (stood_in && tcp_rack_sent_at(tcb, tcb->snd_una, &sent)) {
            uint64_t at = sent + tcp_rto_backed_off(ctx, tcb);
            tcp_arm_rtx_in(ctx, tcb, at > ctx->now ? at - ctx->now : 1);
        } else {
            tcp_arm_rtx(ctx, tcb);
        }
    }
}

void tcp_tlp_fire(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcb->flags &= ~TCB_TLP_TIMER;
    tcb->t_rtx = TCP_TIME_NEVER;
    if (!tlp_applies(ctx, tcb) || (tcb->flags & TCB_TLP_OUT)) {
        tcp_arm_rtx(ctx, tcb); /* one probe per episode (RFC 8985 §7.3) */
        return;
    }
    uint32_t mss = tcp_eff_mss(tcb);
    uint32_t unsent = tcp_unsent(tcb);
    uint32_t out = tcb->snd_nxt - tcb->snd_una;
    uint32_t room = tcb->snd_wnd > out ? tcb->snd_wnd - out : 0;
    uint32_t n = tcp_eor_clip(tcb, tcb->snd_nxt, unsent < mss ? unsent : mss);
    /* a FIN that cwnd held back is a previously unsent segment too (Linux
     * tcp_send_loss_probe: the FIN skb at the send head); it needs a
     * sequence number inside the window */
    bool held_fin = tcp_fin_unsent(tcb) && unsent == 0;
    bool retrans, sent;
    if ((n && n <= room) || (held_fin && room > 0)) {
        /* New data if the peer's window allows, regardless of cwnd. */
        bool fin = tcp_fin_unsent(tcb) && n == unsent;
        sent = tcp_send_data(ctx, tcb, tcb->snd_nxt, n, fin, false);
        retrans = false;
    } else {
        /* Else the last segment sent, at most one MSS of it, and the FIN
         * when it was sent. */
        bool fin = (tcb->flags & TCB_FIN_SENT) != 0;
        uint32_t data_end = tcb->snd_max - (fin ? 1u : 0u);
        uint32_t data = seq_gt(data_end, tcb->snd_una) ? data_end - tcb->snd_una : 0;
        uint32_t tail = data ? (data - 1) % mss + 1 : 0;
        for (unsigned i = 0; i < tcb->x->eor_n; i++) /* the last record's part of it (MSG_EOR) */
            if (seq_gt(tcb->x->eor[i], data_end - tail) && seq_lt(tcb->x->eor[i], data_end))
                tail = data_end - tcb->x->eor[i];
        sent = tcp_send_data(ctx, tcb, data_end - tail, tail, fin, false);
        retrans = true;
    }
    if (!sent) { /* the link refused it: no probe is out (Linux tcp_send_loss_probe, rearm_timer) */
        tcp_arm_rtx(ctx, tcb);
        return;
    }
    ctx->st->tcp_tlp_probes++;
    tcb->flags |= TCB_TLP_OUT;
    if (retrans)
        tcb->flags |= TCB_TLP_RETRANS;
    else
        tcb->flags &= ~TCB_TLP_RETRANS;
    tcb->x->tlp_high_seq = tcb->snd_nxt;
    /* RFC 8985 §7.3: after the probe the RTO runs, not another PTO. */
    tcb->flags &= ~TCB_TLP_TIMER;
    tcp_arm_rtx(ctx, tcb);
}

void tcp_tlp_ack(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t acked,
                 uint32_t newly_sacked)
{
    if (!(tcb->flags & TCB_TLP_OUT) || seq_lt(seg->ack, tcb->x->tlp_high_seq))
        return;
    bool end = false;
    if (!(tcb->flags & TCB_TLP_RETRANS)) {
        end = true; /* a probe of new data was acknowledged */
    } else if (seg->opt.sack_count && seq_leq(seg->opt.sack[0].right, seg->ack) &&
               seg->opt.sack[0].right == tcb->x->tlp_high_seq) {
        end = true; /* RFC 8985 §7.4.2: a D-SACK of the probe: nothing was lost */
    } else if (seq_gt(seg->ack, tcb->x->tlp_high_seq)) {
        /* §7.4.2: the probe repaired a loss: reduce the window once, as a
         * fast recovery would have (Linux enters CWR and ends it at once). */
        tcb->ssthresh = tcp_cc(tcb)->ssthresh(ctx, tcb);
        if (tcb->cwnd > tcb->ssthresh)
            tcb->cwnd = tcb->ssthresh;
        ctx->st->tcp_tlp_recoveries++;
        end = true;
    } else if (!acked && !newly_sacked && seg->payload_len == 0) {
        end = true; /* a pure duplicate ACK: original and probe both arrived */
    }
    if (end)
        tcb->flags &= ~(TCB_TLP_OUT | TCB_TLP_RETRANS);
}
