/* Helpers shared by the files of the TCP core; not for other layers. */
#ifndef SYNACK_TCP_INTERNAL_H
#define SYNACK_TCP_INTERNAL_H

#include "seq.h"
#include "tcb.h"

#define TCP_MSS_DEFAULT 536 /* RFC 9293 §3.7.1: no MSS option means 536 */
#define TCP_WSCALE_MAX 14   /* RFC 7323 §2.3 */
#define TCP_WSCALE_LINUX 8  /* what Linux advertises for its default buffers */

/* Sends a segment of this connection: flags, sequence number, and len bytes
 * of the send ring starting off bytes in. ACK carries rcv_nxt. Returns
 * ctx->output's answer: 0, or TCP_XMIT_REFUSED (the link refused it). */
int tcp_emit(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t flags, uint32_t seq, uint32_t off,
              uint32_t len);
/* A bare ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
void tcp_send_ack(struct tcp_ctx *ctx, struct tcb *tcb);
/* RFC 5961 §7: an ACK in reply to a suspicious segment, rate-limited. */
void tcp_send_challenge_ack(struct tcp_ctx *ctx, struct tcb *tcb);
/* A RST of this connection (abort): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>,
 * with the timestamp option when agreed, as Linux sends it. */
void tcp_send_conn_rst(struct tcp_ctx *ctx, struct tcb *tcb);
/* A RST with no connection behind it (RFC 9293 §3.10.7.1 rules). */
void tcp_send_rst(struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t seq, uint32_t ack, bool with_ack);
/* Sequence number of our FIN (meaningful once TCB_FIN_QUEUED). */
static inline uint32_t tcp_fin_seq(const struct tcb *tcb) { return tcb->snd_data + tcb->snd.len; }
/* Current RTO with exponential backoff applied (RFC 6298 §5.5). */
uint64_t tcp_rto_backed_off(const struct tcp_ctx *ctx, const struct tcb *tcb);
/* Starts, or restarts, the retransmission timer. */
void tcp_arm_rtx(struct tcp_ctx *ctx, struct tcb *tcb);
/* The same timer, due in "in" µs (within TCP_USER_TIMEOUT, as tcp_arm_rtx). */
void tcp_arm_rtx_in(struct tcp_ctx *ctx, struct tcb *tcb, uint64_t in);
/* Linux TCP_RESOURCE_PROBE_INTERVAL: the retry period, without backoff,
 * while the link refuses to transmit (local congestion). */
#define TCP_RESOURCE_PROBE_INTERVAL 500000u
/* RFC 6298 §2: folds an RTT sample (microseconds) into SRTT/RTTVAR/RTO. */
void tcp_rtt_sample(struct tcp_ctx *ctx, struct tcb *tcb, uint64_t rtt);
/* Stops every timer and moves to TIME_WAIT (RFC 9293: 2*MSL). */
void tcp_enter_time_wait(struct tcp_ctx *ctx, struct tcb *tcb, const char *why);
/* Moves to CLOSED, stops timers and drops queued data. */
void tcp_enter_closed(struct tcp_ctx *ctx, struct tcb *tcb, int err, const char *why);
/* Timestamp clock (RFC 7323 §5.4): milliseconds, offset per connection. */
static inline uint32_t tcp_ts_now(const struct tcp_ctx *ctx, const struct tcb *tcb)
{
    return (uint32_t)(ctx->now / 1000u) + tcb->ts_offset;
}
/* RFC 6528 per-connection timestamp offset, keyed like the ISN. */
/* Marks the options we will offer in our SYN (from ctx->p) and the
 * per-connection timestamp offset. */
/* Sets the options offered in our SYN and the timestamp offset; returns
 * the RFC 6528 ISN for the connection's 4-tuple. */
uint32_t tcp_offer_options(struct tcp_ctx *ctx, struct tcb *tcb);
/* Segment length in sequence space: data plus SYN and FIN. */
static inline uint32_t tcp_seg_len(const struct wire_tcp *s)
{
    return (uint32_t)s->payload_len + !!(s->flags & WIRE_TCP_SYN) + !!(s->flags & WIRE_TCP_FIN);
}

/* input.c: Linux's quick-ACK mode (tcp_incr_quickack, tcp_enter_quickack_mode) */
void tcp_incr_quickack(struct tcb *tcb);
void tcp_enter_quickack(struct tcb *tcb);
/* ... with at most max quick ACKs (tcp_enter_quickack_mode(sk, max)) */
void tcp_enter_quickack_n(struct tcb *tcb, uint32_t max);

/* ecn.c: RFC 3168 Explicit Congestion Notification */
/* connect(): ask for ECN in the SYN when the stack is set to (tcp_ecn 1). */
void tcp_ecn_connect(const struct tcp_ctx *ctx, struct tcb *tcb);
/* A listener's child for syn: agree when the SYN asked and ECN is on. */
void tcp_ecn_accept_syn(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *syn);
/* In SYN_SENT, the peer's SYN or SYN-ACK: keep ECN only if it agreed. */
void tcp_ecn_syn_in(struct tcb *tcb, const struct wire_tcp *seg);
/* A segment about to go: ECE/CWR into *flags; returns its ECN codepoint. */
uint8_t tcp_ecn_out_on(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t *flags, uint32_t seq, uint32_t len);
/* (the test of the connection's ECN inline: it is on every segment's path) */
static inline uint8_t tcp_ecn_out(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t *flags, uint32_t seq, uint32_t len)
{
    return (tcb->ecn & TCP_ECN_OK) ? tcp_ecn_out_on(ctx, tcb, flags, seq, len) : WIRE_ECN_NOT_ECT;
}
/* The window was reduced: CWR on the next new data. */
void tcp_ecn_queue_cwr(struct tcb *tcb);
/* Whether an ACK echoes congestion (ECE, counted). */
bool tcp_ecn_echo_on(struct tcp_ctx *ctx, const struct tcb *tcb, const struct wire_tcp *seg);
static inline bool tcp_ecn_echo(struct tcp_ctx *ctx, const struct tcb *tcb, const struct wire_tcp *seg)
{
    return (tcb->ecn & TCP_ECN_OK) && tcp_ecn_echo_on(ctx, tcb, seg);
}
/* An acceptable ACK: its CWR ends our echo. */
void tcp_ecn_cwr_in_on(struct tcb *tcb, const struct wire_tcp *seg);
static inline void tcp_ecn_cwr_in(struct tcb *tcb, const struct wire_tcp *seg)
{
    if (tcb->ecn & TCP_ECN_OK)
        tcp_ecn_cwr_in_on(tcb, seg);
}
/* Data taken (in order or not): its ECN codepoint, CE included. */
void tcp_ecn_data_in_on(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg);
static inline void tcp_ecn_data_in(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg)
{
    if (tcb->ecn & TCP_ECN_OK)
        tcp_ecn_data_in_on(ctx, tcb, seg);
}

/* timer.c: (re)arms the keepalive timer from the last segment received. */
void tcp_keepalive_arm(struct tcp_ctx *ctx, struct tcb *tcb);

/* output.c: sends len bytes of the ring from seq (at or above SND.UNA), and
 * the FIN when fin; PSH when push or at the end of the written data. False
 * when the link refused it: then nothing is recorded as sent (SND.NXT,
 * RACK, the FIN, retransmission counts stay), as Linux leaves an skb whose
 * tcp_transmit_skb failed, and x->tx_refused is set. */
bool tcp_send_data(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t seq, uint32_t len, bool fin, bool push);

/* tlp.c: RFC 8985 §7 tail loss probe. */
/* Arms the retransmission timer, or the probe timer in its place, after an
 * ACK that advanced SND.UNA (advanced) or a send (new_data: never sent). */
void tcp_arm_xmit_timer(struct tcp_ctx *ctx, struct tcb *tcb, bool advanced, bool new_data);
/* The probe timer fired. */
void tcp_tlp_fire(struct tcp_ctx *ctx, struct tcb *tcb);
/* An ACK arrived while a probe is out: did the probe repair a loss? */
void tcp_tlp_ack(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t acked,
                 uint32_t newly_sacked);

/* rack.c: RFC 8985 §6 RACK loss detection. */
/* Whether RACK runs on this connection (it needs SACK, as in Linux). */
bool tcp_rack_on(const struct tcp_ctx *ctx, const struct tcb *tcb);
/* [seq, end) left now; rtx: it had been sent before. */
void tcp_rack_sent(struct tcp_ctx *ctx, struct tcb *tcb, uint32_t seq, uint32_t end, bool rtx);
/* An ACK arrived (SND.UNA already moved from prior_una, the scoreboard not
 * yet updated): RACK.xmit_ts, .rtt, .fack, reordering, reo_wnd (§6.2 steps
 * 1-4). */
void tcp_rack_ack(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t prior_una);
/* §6.2 step 5: returns the end of what is now lost (SND.UNA if nothing
 * new), and notes the reordering timer wanted for what is not yet. */
uint32_t tcp_rack_detect(struct tcp_ctx *ctx, struct tcb *tcb);
/* The latest send of the byte at seq, as RACK's runs keep it (a run sent
 * over a span answers with its latest); false when no run holds it. */
bool tcp_rack_sent_at(const struct tcb *tcb, uint32_t seq, uint64_t *t);
/* Puts the reordering timer tcp_rack_detect asked for into t_rtx. */
void tcp_rack_arm(struct tcp_ctx *ctx, struct tcb *tcb);
/* A fast recovery ended (the reordering window's persistence, §6.2 step 4). */
void tcp_rack_recovery_done(struct tcb *tcb);
/* RACK's sequence marks (RACK.fack, RACK.end_seq) start at SND.UNA. */
void tcp_rack_start(struct tcb *tcb);

/* recovery.c */
/* Congestion state for a connection that just became synchronized. */
void tcp_cc_start(struct tcb *tcb);
/* An ACK arrived: acked bytes newly acknowledged (SND.UNA already moved),
 * prior_flight what was in flight before, wnd_changed whether it moved the
 * peer's window. Updates the scoreboard, duplicate ACKs, recovery, cwnd. */
void tcp_ack_event(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg, uint32_t acked,
                   uint32_t prior_flight, bool wnd_changed);
/* RACK's reordering timer fired (RFC 8985 §6.3 RACK_reo_timeout). */
void tcp_rack_timeout(struct tcp_ctx *ctx, struct tcb *tcb);
/* RFC 3168 §6.1.2: an ECN-Echo: reduce cwnd, once per window (Linux tcp_enter_cwr). */
void tcp_enter_cwr(struct tcp_ctx *ctx, struct tcb *tcb);
/* A retransmission timeout: loss state, cwnd of one segment. */
void tcp_on_rto(struct tcp_ctx *ctx, struct tcb *tcb);
/* RFC 6675 pipe, in bytes. */
uint32_t tcp_pipe(const struct tcb *tcb);
uint32_t tcp_sacked_bytes(const struct tcb *tcb);

/* urg.c */
/* MSG_OOB: the end of the send ring is SND.UP (Linux tcp_mark_urg). */
void tcp_urg_mark(struct tcb *tcb);
/* URG and the urgent pointer on a segment leaving at h->seq. */
void tcp_urg_out(struct tcb *tcb, struct wire_tcp *h);
/* A read moved the read position: a mark passed is forgotten. */
void tcp_urg_consumed(struct tcb *tcb);

#endif
