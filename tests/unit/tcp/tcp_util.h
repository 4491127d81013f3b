/* Small helpers shared by the TCP state-machine unit tests (header only:
 * each test_*.c is its own program). Include after <cmocka.h>. */
#ifndef SYNACK_TEST_TCP_UTIL_H
#define SYNACK_TEST_TCP_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "wire/tcp.h"

/* The next segment the stack sent must have exactly these flags, seq and
 * ack (ack checked only when the ACK or, for RST|ACK, flag is set). */
static inline struct wire_tcp expect_seg_at(struct harness *h, uint16_t flags, uint32_t seq, uint32_t ack,
                                            int line)
{
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    if (!h_next(h, &t))
        fail_msg("line %d: expected a segment with flags %#x, got none", line, flags);
    if (t.flags != flags || t.seq != seq || ((flags & WIRE_TCP_ACK) && t.ack != ack))
        fail_msg("line %d: expected flags %#x seq %u ack %u, got flags %#x seq %u ack %u", line, flags, seq, ack,
                 t.flags, t.seq, t.ack);
    return t;
}
#define expect_seg(h, flags, seq, ack) expect_seg_at((h), (flags), (seq), (ack), __LINE__)

/* Same, with any sequence number (a SYN-ACK whose ISN the test learns). */
static inline struct wire_tcp expect_flags_at(struct harness *h, uint16_t flags, uint32_t ack, int line)
{
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    if (!h_next(h, &t))
        fail_msg("line %d: expected a segment with flags %#x, got none", line, flags);
    if (t.flags != flags || ((flags & WIRE_TCP_ACK) && t.ack != ack))
        fail_msg("line %d: expected flags %#x ack %u, got flags %#x seq %u ack %u", line, flags, ack, t.flags,
                 t.seq, t.ack);
    return t;
}
#define expect_flags(h, flags, ack) expect_flags_at((h), (flags), (ack), __LINE__)

static inline void expect_none_at(struct harness *h, int line)
{
    struct wire_tcp t;
    if (h_next(h, &t))
        fail_msg("line %d: expected no segment, got flags %#x seq %u ack %u len %zu", line, t.flags, t.seq, t.ack,
                 t.payload_len);
}
#define expect_none(h) expect_none_at((h), __LINE__)

static inline synack_tcp_info info_of(struct harness *h, synack_sock s)
{
    synack_tcp_info i;
    assert_int_equal(synack_tcp_info_get(h->s, s, &i), 0);
    return i;
}

static inline synack_state state_of(struct harness *h, synack_sock s)
{
    return info_of(h, s).state;
}

static inline uint64_t ctr(struct harness *h, const char *name)
{
    uint64_t v = synack_counter(h->s, name);
    assert_true(v != UINT64_MAX);
    return v;
}

/* An established connection made by passive open, with the test's view of
 * both sequence spaces: peer = the test's next sequence number (RCV.NXT of
 * the stack), ours = the stack's SND.NXT. */
struct conn {
    struct harness h;
    synack_sock s, l;
    uint32_t iss, peer_isn;
    uint32_t peer; /* next sequence number the test sends */
    uint32_t ours; /* next sequence number the stack sends */
};

static inline void conn_open(struct conn *c, const synack_config *cfg, uint32_t peer_isn)
{
    h_init(&c->h, cfg);
    c->peer_isn = peer_isn;
    c->s = h_passive_open(&c->h, peer_isn, &c->iss, &c->l);
    assert_true(c->s >= 0);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    c->peer = peer_isn + 1;
    c->ours = c->iss + 1;
    expect_none(&c->h);
}

/* The test sends: flags, data, at c->peer, acking c->ours. */
static inline void conn_send(struct conn *c, uint16_t flags, const void *data, size_t len)
{
    h_inject(&c->h, &(struct h_seg){.flags = flags, .seq = c->peer, .ack = c->ours, .data = data, .len = len});
}

#endif
