/* ICMP errors about a connection. Only the TCB fields err, mss_peer (and,
 * while connecting, mss_local) and state are touched; an abort sends no RST. */
#include "icmp.h"

#include "internal.h"

#define IPV4_TCP_HDRS 40u
#define IPV6_TCP_HDRS 60u

/* RFC 5927 §4.1: an ICMP error is believed only when the sequence number of
 * the quoted segment is one we sent and is not yet acknowledged, which an
 * off-path attacker must guess. The upper edge is inclusive, as Linux's
 * between(seq, snd_una, snd_nxt); SND.MAX rather than SND.NXT because a
 * retransmission timeout pulls SND.NXT back while the quoted segment may be
 * anywhere in what was sent. */
static bool seq_acceptable(const struct tcb *tcb, uint32_t seq)
{
    return seq_geq(seq, tcb->snd_una) && seq_leq(seq, tcb->snd_max);
}

static bool not_synchronized(enum tcp_state s)
{
    return s == TCP_SYN_SENT || s == TCP_SYN_RECEIVED;
}

enum tcp_icmp_verdict tcp_icmp_error(struct tcp_ctx *ctx, struct tcb *tcb, const struct tcp_icmp_err *e)
{
    if (tcb->state == TCP_CLOSED || tcb->state == TCP_LISTEN || tcb->state == TCP_TIME_WAIT)
        return TCP_ICMP_IGNORED;
    if (!seq_acceptable(tcb, e->seq))
        return TCP_ICMP_IGNORED;
    switch (e->kind) {
    case TCP_ICMP_FRAG_NEEDED: {
        /* RFC 1191 §6.1: the MSS follows the path MTU down, never up. The
         * segments already sent at the old size are retransmitted at the
         * new one when the retransmission timer fires (the core resegments
         * from the send ring). */
        bool v6 = tcb->family == 6;
        uint32_t floor = v6 ? TCP_ICMP_MIN_PMTU6 : TCP_ICMP_MIN_PMTU;
        uint32_t mtu = e->mtu < floor ? floor : e->mtu;
        uint32_t mss = mtu - (v6 ? IPV6_TCP_HDRS : IPV4_TCP_HDRS);
        if (tcb->state == TCP_SYN_SENT) {
            /* Linux tcp_v4_mtu_reduced while connecting: the path's MTU
             * caps the MSS we announce and send (tcp_sync_mss, the route's
             * advmss; the SYN-ACK's MSS is not known yet), and a SYN whose
             * data the path could not carry goes again at once, alone
             * (tcp_simple_retransmit, Linux c31b70c9968f): RFC 7413 §4.1.3's
             * data then follows the handshake. */
            if (mss >= tcb->mss_local)
                return TCP_ICMP_NO_CHANGE;
            tcb->mss_local = (uint16_t)mss;
            if (tcb->snd_max - tcb->iss - 1 > mss) {
                ctx->st->tcp_retrans++;
                tcp_emit(ctx, tcb, WIRE_TCP_SYN, tcb->iss, 0, 0);
            }
            return TCP_ICMP_MSS_LOWERED;
        }
        if (mss >= tcb->mss_peer)
            return TCP_ICMP_NO_CHANGE;
        tcb->mss_peer = (uint16_t)mss;
        return TCP_ICMP_MSS_LOWERED;
    }
    case TCP_ICMP_HARD:
        /* RFC 1122 §4.2.3.9 lets a hard error abort; RFC 5927 §5.2 and Linux
         * (tcp_v4_err) abort only before the connection is synchronized, so
         * a forged or transient error cannot kill an established one. */
        if (not_synchronized(tcb->state)) {
            /* no RST: the error says the peer cannot be reached (Linux
             * tcp_done_with_error, or dropping the request sock, sends
             * none), and a later segment of its finds no connection */
            tcp_enter_closed(ctx, tcb, e->err, "ICMP error");
            return TCP_ICMP_ABORTED;
        }
        return TCP_ICMP_SOFT_ERROR;
    case TCP_ICMP_SOFT:
    default:
        /* A passive connection the peer has not completed holds no user's
         * state yet (a Fast Open child's data aside, which the error then
         * follows): Linux drops it rather than keep answering a peer the
         * network says it cannot reach. RFC 1122 §4.2.3.9's "MUST NOT
         * abort" still holds for every synchronized connection and for
         * our own SYN_SENT. */
        if (e->drops_embryo && tcb->state == TCP_SYN_RECEIVED && (tcb->flags & TCB_PASSIVE)) {
            tcp_enter_closed(ctx, tcb, e->err, "ICMP error (embryonic connection)");
            return TCP_ICMP_ABORTED;
        }
        /* RFC 1122 §4.2.3.9: a soft error MUST NOT abort the connection. */
        return TCP_ICMP_SOFT_ERROR;
    }
}
