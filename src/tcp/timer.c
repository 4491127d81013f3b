/* Timers of a connection: retransmission and persist (RFC 6298, RFC 9293
 * §3.8.6.1), TIME_WAIT (2*MSL), and the orphaned FIN_WAIT_2 timeout. */
#include <errno.h>

#include "internal.h"

uint64_t tcp_rto_backed_off(const struct tcp_ctx *ctx, const struct tcb *tcb)
{
    uint64_t rto = tcb->rto ? tcb->rto : ctx->p.rto_initial;
    for (unsigned i = 0; i < tcb->backoff && rto < ctx->p.rto_max; i++)
        rto *= 2;
    return rto < ctx->p.rto_max ? rto : ctx->p.rto_max;
}

/* Arms t_rtx (retransmission or persist) rto from now, but never past the
 * user timeout (RFC 5482): Linux tcp_clamp_rto_to_user_timeout and
 * tcp_clamp_probe0_to_user_timeout, so it fires on time, not a backed-off
 * RTO late (tests/attack/test_never_acks.c). */
static void arm_clamped(struct tcp_ctx *ctx, struct tcb *tcb, uint64_t rto)
{
    if (tcp_user_timeout(&tcb->o) && tcb->x->rtx_stamp) {
        uint64_t elapsed = ctx->now - tcb->x->rtx_stamp;
        uint64_t left = elapsed < tcp_user_timeout(&tcb->o) ? tcp_user_timeout(&tcb->o) - elapsed : 1;
        if (left < rto)
            rto = left;
    }
    tcb->t_rtx = ctx->now + rto;
    tcb->flags &= ~(TCB_TLP_TIMER | TCB_RACK_TIMER);
}

void tcp_arm_rtx(struct tcp_ctx *ctx, struct tcb *tcb)
{
    arm_clamped(ctx, tcb, tcp_rto_backed_off(ctx, tcb));
}

void tcp_arm_rtx_in(struct tcp_ctx *ctx, struct tcb *tcb, uint64_t in)
{
    arm_clamped(ctx, tcb, in);
}

void tcp_rtt_sample(struct tcp_ctx *ctx, struct tcb *tcb, uint64_t r)
{
    if (r > UINT32_MAX)
        r = UINT32_MAX;
    if (r == 0)
        r = 1;
    /* RFC 8985 §6.2 step 2 RACK.min_RTT (Linux tcp_update_rtt_min) */
    if (!tcb->min_rtt || r < tcb->min_rtt)
        tcb->min_rtt = (uint32_t)r;
    if (tcb->srtt == 0) { /* RFC 6298 §2.2 */
        tcb->srtt = (uint32_t)r;
        tcb->rttvar = (uint32_t)(r / 2);
    } else { /* §2.3, alpha 1/8, beta 1/4 */
        uint32_t delta = tcb->srtt > r ? tcb->srtt - (uint32_t)r : (uint32_t)r - tcb->srtt;
        tcb->rttvar = tcb->rttvar - tcb->rttvar / 4 + delta / 4;
        tcb->srtt = tcb->srtt - tcb->srtt / 8 + (uint32_t)(r / 8);
    }
    /* Linux floors the variance term at the minimum RTO rather than
     * clamping the sum, so RTO = SRTT + max(4*RTTVAR, 200 ms). */
    uint64_t var = 4ull * tcb->rttvar;
    if (var < ctx->p.rto_min)
        var = ctx->p.rto_min;
    uint64_t rto = tcb->srtt + var;
    tcb->rto = rto < ctx->p.rto_max ? rto : ctx->p.rto_max;
}

uint64_t tcp_next_deadline(const struct tcb *tcb)
{
    uint64_t t = tcb->t_rtx < tcb->t_wait ? tcb->t_rtx : tcb->t_wait;
    t = tcb->t_keep < t ? tcb->t_keep : t;
    return tcb->t_delack < t ? tcb->t_delack : t;
}

/* RFC 5482 / Linux TCP_USER_TIMEOUT: how long data may stay unacknowledged
 * (or a window stay shut) before the connection is given up. */
static bool user_timeout_expired(const struct tcp_ctx *ctx, const struct tcb *tcb)
{
    return tcp_user_timeout(&tcb->o) && tcb->x->rtx_stamp && ctx->now - tcb->x->rtx_stamp >= tcp_user_timeout(&tcb->o);
}

static bool keepalive_applies(const struct tcb *tcb)
{
    /* Linux: keepalive runs in ESTABLISHED, CLOSE_WAIT and the FIN_WAITs
     * of a socket the user still holds */
    return tcb->o.keepalive && !(tcb->flags & TCB_ORPHAN) &&
           (tcb->state == TCP_ESTABLISHED || tcb->state == TCP_CLOSE_WAIT || tcb->state == TCP_FIN_WAIT_1 ||
            tcb->state == TCP_FIN_WAIT_2);
}

void tcp_keepalive_arm(struct tcp_ctx *ctx, struct tcb *tcb)
{
    if (!keepalive_applies(tcb)) {
        tcb->t_keep = TCP_TIME_NEVER;
        return;
    }
    uint64_t idle_since = tcb->last_rcv;
    uint64_t at = tcb->keep_probes ? idle_since + tcp_keepidle(&tcb->o) + tcb->keep_probes * tcp_keepintvl(&tcb->o)
                                   : idle_since + tcp_keepidle(&tcb->o);
    tcb->t_keep = at > ctx->now ? at : ctx->now;
}

/* RFC 1122 §4.2.3.6: after keepidle without a segment from the peer, send
 * a probe every keepintvl (Linux: an ACK at SND.UNA-1, which the peer must
 * answer); after keepcnt unanswered probes, give up with a RST as Linux
 * does. Data in flight is the retransmission timer's business. */
static enum tcp_verdict keepalive(struct tcp_ctx *ctx, struct tcb *tcb)
{
    tcb->t_keep = TCP_TIME_NEVER;
    if (!keepalive_applies(tcb))
        return TCP_KEEP;
    uint64_t idle = ctx->now - tcb->last_rcv;
    if (tcb->snd_una != tcb->snd_max || tcp_unsent(tcb)) {
        /* Linux tcp_keepalive_timer: look again a keepidle from now (re-
         * arming from the last arrival, already past, spun at this time:
         * tests/attack/test_zero_window.c) */
        tcb->keep_probes = 0;
        tcb->t_keep = ctx->now + (tcp_keepidle(&tcb->o) ? tcp_keepidle(&tcb->o) : 1);
        return TCP_KEEP;
    }
    if (idle < tcp_keepidle(&tcb->o)) {
        tcb->keep_probes = 0;
        tcp_keepalive_arm(ctx, tcb);
        return TCP_KEEP;
    }
    bool ut = tcp_user_timeout(&tcb->o) && tcb->keep_probes > 0 && idle >= tcp_user_timeout(&tcb->o);
    if (tcb->keep_probes >= tcb->o.keepcnt || ut) {
        ctx->st->tcp_keepalive_timeouts++;
        tcp_abort(ctx, tcb, -ETIMEDOUT, "keepalive timeout");
        return TCP_FREE;
    }
    ctx->st->tcp_keepalive_probes++;
    tcp_emit(ctx, tcb, WIRE_TCP_ACK, tcb->snd_una - 1, 0, 0);
    tcb->keep_probes++;
    tcp_keepalive_arm(ctx, tcb);
    return TCP_KEEP;
}

/* Linux tcp_send_probe0. The first probe starts the clock of the user
 * timeout (icsk_probes_tstamp; here rtx_stamp, nothing being in flight).
 * Every probe counts (icsk_probes_out, TCP_INFO tcpi_probes) until an ACK
 * comes. A probe the link refused (local congestion: a qdisc that drops,
 * NET_XMIT_DROP) is retried every TCP_RESOURCE_PROBE_INTERVAL without
 * backoff, "senders fight for local resources conservatively". */
static void persist_probe(struct tcp_ctx *ctx, struct tcb *tcb)
{
    ctx->st->tcp_persist_probes++;
    if (!tcb->x->rtx_stamp)
        tcb->x->rtx_stamp = ctx->now;
    uint32_t room = tcb->snd_wnd > tcb->snd_nxt - tcb->snd_una ? tcb->snd_wnd - (tcb->snd_nxt - tcb->snd_una) : 0;
    uint32_t unsent = tcp_unsent(tcb);
    bool refused;
    if (room && unsent) {
        /* The window opened, but less than a segment: send what fits
         * (Linux tcp_write_wakeup), and wait for its ACK as for any data. */
        uint32_t n = room < unsent ? room : unsent;
        uint16_t mss = tcp_eff_mss(tcb);
        n = n < mss ? n : mss;
        uint16_t fl = WIRE_TCP_ACK | (n == unsent ? WIRE_TCP_PSH : 0);
        refused = tcp_emit(ctx, tcb, fl, tcb->snd_nxt, tcb->snd_nxt - tcb->snd_data, n) != 0;
        if (!refused) {
            tcp_rack_sent(ctx, tcb, tcb->snd_nxt, tcb->snd_nxt + n, false);
            tcb->snd_nxt += n;
            tcb->snd_max = tcb->snd_nxt;
            tcb->flags &= ~TCB_PERSIST;
            tcb->x->probes = 0; /* data in flight: the RTO's business now */
            tcp_arm_rtx(ctx, tcb);
            return;
        }
    } else {
        /* Linux's zero-window probe: an ACK at SND.UNA-1, outside the
         * peer's window, which must answer with an ACK carrying its
         * current window. */
        refused = tcp_emit(ctx, tcb, WIRE_TCP_ACK, tcb->snd_una - 1, 0, 0) != 0;
    }
    if (tcb->x->probes < UINT8_MAX)
        tcb->x->probes++;
    if (refused) {
        arm_clamped(ctx, tcb, TCP_RESOURCE_PROBE_INTERVAL);
        return;
    }
    if (tcb->backoff < 31)
        tcb->backoff++;
    tcp_arm_rtx(ctx, tcb);
}

/* How long `retries` backed-off retransmissions take from the first send
 * (Linux tcp_model_timeout, what retransmits_timed_out compares against). */
static uint64_t model_timeout(const struct tcp_ctx *ctx, unsigned retries, uint64_t rto)
{
    uint64_t t = 0;
    for (unsigned i = 0; i <= retries; i++) {
        t += rto;
        rto = 2 * rto < ctx->p.rto_max ? 2 * rto : ctx->p.rto_max;
    }
    return t;
}

static enum tcp_verdict retransmit(struct tcp_ctx *ctx, struct tcb *tcb)
{
    uint8_t limit = tcb->state == TCP_SYN_SENT       ? (tcb->o.syncnt ? tcb->o.syncnt : ctx->p.syn_retries)
                    : tcb->state == TCP_SYN_RECEIVED ? ctx->p.synack_retries
                                                     : ctx->p.data_retries;
    if (tcb->backoff >= limit) {
        ctx->st->tcp_timeouts++;
        if (tcb->flags & TCB_NEW)
            ctx->st->tcp_attempt_fails++;
        /* Linux gives up without a RST: the peer is presumed gone. */
        tcp_enter_closed(ctx, tcb, -ETIMEDOUT, "retransmission timeout");
        return TCP_FREE;
    }
    if (user_timeout_expired(ctx, tcb) && tcb->state != TCP_SYN_SENT) {
        ctx->st->tcp_user_timeouts++;
        tcp_enter_closed(ctx, tcb, -ETIMEDOUT, "user timeout");
        return TCP_FREE;
    }
    if (!tcb->x->rtx_stamp) /* the oldest data left about one RTO ago */
        tcb->x->rtx_stamp = ctx->now - tcp_rto_backed_off(ctx, tcb);
    tcb->backoff++;
    tcb->flags &= ~TCB_RTT_TIMING; /* Karn */
    ctx->st->tcp_rto++;
    bool refused;
    if (tcb->state == TCP_SYN_SENT || (tcb->state == TCP_SYN_RECEIVED && !(tcb->flags & TCB_FIN_SENT))) {
        uint16_t fl = tcb->state == TCP_SYN_SENT ? WIRE_TCP_SYN : WIRE_TCP_SYN | WIRE_TCP_ACK;
        refused = tcp_emit(ctx, tcb, fl, tcb->iss, 0, 0) != 0;
        if (!refused)
            ctx->st->tcp_retrans++;
    } else {
        /* RFC 5681 §3.1 / RFC 6675 §5.1: one segment of window, all
         * un-SACKed data deemed lost, resent from SND.UNA as ACKs come. */
        tcp_on_rto(ctx, tcb);
        tcb->t_rtx = TCP_TIME_NEVER;
        uint64_t resent = ctx->st->tcp_retrans;
        tcb->x->tx_refused = false;
        tcp_output(ctx, tcb);
        refused = tcb->x->tx_refused && ctx->st->tcp_retrans == resent;
    }
    if (refused) {
        tcb->backoff--; /* the try did not leave the host */
        /* A handshake the link keeps refusing still ends: no backoff grows
         * to reach the limit, so the limit is the time the retries would
         * have taken (Linux gives up a SYN refused by a dropping qdisc:
         * with tcp_syn_retries 2 after 4 s, seen on 6.18). */
        if ((tcb->state == TCP_SYN_SENT || tcb->state == TCP_SYN_RECEIVED) &&
            ctx->now - tcb->x->rtx_stamp >= model_timeout(ctx, limit, ctx->p.rto_initial)) {
            ctx->st->tcp_timeouts++;
            if (tcb->flags & TCB_NEW)
                ctx->st->tcp_attempt_fails++;
            tcp_enter_closed(ctx, tcb, -ETIMEDOUT, "retransmission timeout (link refusing)");
            return TCP_FREE;
        }
        /* Linux tcp_retransmit_timer, local congestion: the head did not
         * leave the host, so no backoff; try again in 500 ms. */
        tcb->t_rtx = ctx->now + TCP_RESOURCE_PROBE_INTERVAL;
        tcb->flags &= ~(TCB_TLP_TIMER | TCB_RACK_TIMER);
        return TCP_KEEP;
    }
    tcp_arm_rtx(ctx, tcb);
    return TCP_KEEP;
}

enum tcp_verdict tcp_timers(struct tcp_ctx *ctx, struct tcb *tcb)
{
    if (tcb->t_wait <= ctx->now) {
        tcb->t_wait = TCP_TIME_NEVER;
        if (tcb->state == TCP_TIME_WAIT) {
            tcp_enter_closed(ctx, tcb, 0, "2MSL timeout");
            return TCP_FREE;
        }
        if (tcb->state == TCP_FIN_WAIT_2) {
            tcp_enter_closed(ctx, tcb, 0, "FIN_WAIT_2 timeout");
            return TCP_FREE;
        }
    }
    if (tcb->t_keep <= ctx->now && keepalive(ctx, tcb) == TCP_FREE)
        return TCP_FREE;
    if (tcb->t_delack <= ctx->now) {
        tcb->t_delack = TCP_TIME_NEVER;
        tcb->pingpong = false; /* the reply did not come: Linux leaves pingpong mode */
        if (tcb->flags & TCB_ACK_PENDING)
            tcp_send_ack(ctx, tcb);
    }
    if (tcb->t_rtx <= ctx->now) {
        tcb->t_rtx = TCP_TIME_NEVER;
        if (tcb->flags & TCB_TLP_TIMER) {
            tcp_tlp_fire(ctx, tcb);
            return TCP_KEEP;
        }
        if (tcb->flags & TCB_RACK_TIMER) {
            tcp_rack_timeout(ctx, tcb);
            return TCP_KEEP;
        }
        if (tcb->flags & TCB_PERSIST) {
            tcb->flags &= ~TCB_PERSIST;
            if (tcp_unsent(tcb) > 0 || tcp_fin_unsent(tcb)) {
                if (user_timeout_expired(ctx, tcb)) {
                    ctx->st->tcp_user_timeouts++;
                    tcp_abort(ctx, tcb, -ETIMEDOUT, "user timeout (window stayed shut)");
                    return TCP_FREE;
                }
                /* Linux tcp_probe_timer: unanswered probes end it after
                 * tcp_retries2, as unanswered retransmissions do */
                if (tcb->x->probes >= ctx->p.data_retries) {
                    ctx->st->tcp_timeouts++;
                    tcp_enter_closed(ctx, tcb, -ETIMEDOUT, "persist probes unanswered");
                    return TCP_FREE;
                }
                tcb->flags |= TCB_PERSIST;
                persist_probe(ctx, tcb);
            } else {
                tcb->x->probes = 0;
            }
            return TCP_KEEP;
        }
        if (seq_lt(tcb->snd_una, tcb->snd_max) || tcb->state == TCP_SYN_SENT ||
            tcb->state == TCP_SYN_RECEIVED)
            return retransmit(ctx, tcb);
    }
    return TCP_KEEP;
}
