/* One stack on a virtual clock, with the test playing its peer segment by
 * segment: inject a crafted segment, read back exactly what the stack sent.
 * This is how each RFC rule is pinned down on its own. */
#ifndef SYNACK_TEST_HARNESS_H
#define SYNACK_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack.h"
#include "wire/tcp.h"

#define H_LOCAL 0xc6120002u  /* 198.18.0.2: the stack */
#define H_REMOTE 0xc6120001u /* 198.18.0.1: the test */
#define H_MAX_OUT 256

struct h_frame {
    uint8_t data[2048];
    size_t len;
};

struct harness {
    synack_vclock clock;
    synack_stack *s;
    int ifx;
    struct h_frame out[H_MAX_OUT];
    int nout, rd;
    struct h_frame cur; /* the frame h_next returned, which its view points into */
    char log[64][128];  /* state changes */
    int nlog;
    /* Local congestion: while refuse is an errno (ENOBUFS, EAGAIN...), the
     * link refuses every frame with -refuse, as a TUN write or a dropping
     * qdisc would; refused counts them. */
    int refuse;
    int refused;
};

struct h_seg {
    uint16_t sport, dport; /* 0: H_RPORT / H_LPORT */
    uint16_t flags;
    uint32_t seq, ack;
    uint16_t wnd; /* 0 means 65535 unless zero_wnd */
    bool zero_wnd;
    const void *data;
    size_t len;
    const struct wire_tcp_opts *opts;
    bool bad_csum;
    uint8_t ecn; /* the IP header's ECN field (WIRE_ECN_*, RFC 3168 §5) */
    uint16_t urg; /* the urgent pointer (meant with WIRE_TCP_URG) */
};

#define H_LPORT 8080
#define H_RPORT 40000

void h_init(struct harness *h, const synack_config *base);
void h_free(struct harness *h);
void h_inject(struct harness *h, const struct h_seg *seg);
/* Raw IPv4 datagram into the stack, then a poll. */
void h_inject_raw(struct harness *h, const uint8_t *frame, size_t len);
/* Builds the IPv4 datagram h_inject would send; returns its length. */
size_t h_build(const struct h_seg *seg, uint8_t *buf, size_t cap);
/* The next segment the stack sent, parsed (out->ecn: its IP ECN field);
 * false when there is none. */
bool h_next(struct harness *h, struct wire_tcp *out);
int h_pending(const struct harness *h);
void h_drain(struct harness *h);
/* Moves the clock and polls. */
void h_advance(struct harness *h, synack_time dt);
/* Runs the clock forward to the stack's next deadline (if within max). */
bool h_run_to_deadline(struct harness *h, synack_time max);
/* Whether the state log holds a line containing text. */
bool h_logged(const struct harness *h, const char *text);

/* Passive open at H_LPORT from the test's ISN peer_isn: SYN, SYN-ACK, ACK.
 * Returns the accepted socket; *iss is the stack's ISN. The listener's
 * handle goes to *listener when not NULL. No options are used. */
synack_sock h_passive_open(struct harness *h, uint32_t peer_isn, uint32_t *iss, synack_sock *listener);
/* Active open to H_REMOTE:H_RPORT, answered by a SYN-ACK with peer_isn. */
synack_sock h_active_open(struct harness *h, uint32_t peer_isn, uint32_t *iss, uint16_t *lport);

#endif
