/* SYN cookies (RFC 4987 §3.6), as Linux does them (net/ipv4/syncookies.c):
 * when a listener's SYN queue is full, the SYN-ACK's ISN carries the state
 * the queue would have kept, and the connection is made from the ACK that
 * returns it. Nothing is stored between the two.
 *
 * ISN = H1(4-tuple) + SEG.SEQ + (count << 24) + ((H2(4-tuple, count) + mssind) mod 2^24)
 *   count: minutes of ctx->now; a cookie is good in its minute and the next
 *          (Linux MAX_SYNCOOKIE_AGE 2), so it expires within 2 minutes;
 *   H1, H2: SipHash-2-4 keyed from the stack's RFC 6528 secret (isn_key);
 *   mssind: index of the peer's MSS in Linux's table {536, 1300, 1440, 1460}.
 * With timestamps on, the SYN-ACK's TSval carries the peer's window scale
 * (4 bits, 0xf for none), SACK-permitted (1 bit) and ECN agreed (1 bit,
 * RFC 3168 §6.1.1) in its low 6 bits, and the ACK's TSecr brings them back;
 * without timestamps, the SYN-ACK offers neither window scaling nor SACK
 * (Linux tcp_conn_request), and its ECE is not remembered (no ECN). */
#ifndef SYNACK_TCP_SYNCOOKIE_H
#define SYNACK_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcb.h"

#define TCP_SYNCOOKIE_PERIOD 60000000u /* µs per counter step: one minute */
#define TCP_SYNCOOKIE_MAX_AGE 2        /* counter steps a cookie stays good */

/* What a valid cookie gives back. */
struct tcp_syncookie {
    uint16_t mss;   /* peer MSS, rounded down to the table */
    bool ts;        /* timestamps in use (the ACK carried one we encoded) */
    bool sack;      /* SACK-permitted was in the SYN (only with ts) */
    bool wscale_ok; /* window scale was in the SYN (only with ts) */
    uint8_t snd_wscale;
    bool ecn;       /* ECN was agreed in the SYN-ACK (only with ts) */
};

/* The ISN a cookie SYN-ACK carries for this SYN (pure: for tests). */
uint32_t tcp_syncookie_make(const struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t peer_isn,
                            uint16_t peer_mss);

/* Answers a SYN for a listener whose queue is full with a cookie SYN-ACK.
 * mss_local and rcvcap are what a child would get (they fix the MSS and
 * window scale offered). Counts tcp_syncookies_sent. */
void tcp_syncookie_send(struct tcp_ctx *ctx, const struct tcp_tuple *t, const struct wire_tcp *syn,
                        uint16_t mss_local, uint32_t rcvcap);

/* Checks a bare ACK (no SYN, RST or FIN... any ACK without SYN/RST) that
 * matched no connection: true when SEG.ACK - 1 is a cookie this stack made
 * for this 4-tuple and SEG.SEQ - 1 within the last 2 minutes, with *out
 * filled. Counts tcp_syncookies_recv or tcp_syncookies_failed. */
bool tcp_syncookie_check(struct tcp_ctx *ctx, const struct tcp_tuple *t, const struct wire_tcp *ack,
                         struct tcp_syncookie *out);

/* Sets up a fresh child (tcp_tcb_init done) in SYN_RECEIVED as if it had
 * sent the cookie SYN-ACK, without sending anything: the caller then hands
 * it the ACK through tcp_input, which completes the handshake. */
void tcp_syncookie_child(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *ack,
                         const struct tcp_syncookie *c);

#endif
