/* A bench for the fault-injecting link on its own (header only: each test_*.c
 * is its own program; include after <cmocka.h>). Frames of any content go in
 * at end 0 at chosen virtual times; a stack on end 1 receives them, and its
 * tap records each one as it arrives (time and a copy), before the stack
 * looks at it. lt_init_from() sends the other way, from end 1. A frame carries its number in its first 4 bytes. */
#ifndef SYNACK_TEST_LINK_UTIL_H
#define SYNACK_TEST_LINK_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"

struct lt_frame {
    synack_time at;
    uint32_t id;
    size_t len;
    uint8_t *data;
};

struct lt {
    synack_vclock clock;
    synack_memlink *link;
    synack_stack *rx;
    int ifx;
    int from; /* the end frames are sent from */
    struct lt_frame *got;
    size_t n, cap;
    uint8_t buf[65536];
};

static void lt_tap(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now)
{
    struct lt *t = ctx;
    if (dir != SYNACK_TAP_IN)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->got = realloc(t->got, t->cap * sizeof *t->got);
        assert_non_null(t->got);
    }
    struct lt_frame *g = &t->got[t->n++];
    g->at = now;
    g->len = len;
    g->id = len >= 4 ? (uint32_t)frame[0] | (uint32_t)frame[1] << 8 | (uint32_t)frame[2] << 16 |
                           (uint32_t)frame[3] << 24
                     : UINT32_MAX;
    g->data = malloc(len ? len : 1);
    assert_non_null(g->data);
    memcpy(g->data, frame, len);
    (void)ifindex;
}

static inline void lt_init_from(struct lt *t, synack_time delay, int from)
{
    memset(t, 0, sizeof *t);
    t->from = from;
    t->clock.now = SYNACK_SEC(1000);
    synack_config c = {.seed = 1, .clock = synack_vclock_read, .clock_ctx = &t->clock};
    t->rx = synack_stack_new(&c);
    assert_non_null(t->rx);
    t->link = synack_memlink_new(delay, synack_vclock_read, &t->clock);
    assert_non_null(t->link);
    synack_iface_config ic = {.ops = synack_memlink_ops(), .ctx = synack_memlink_end(t->link, 1 - from),
                              .addr = synack_ipv4(0xc6120002u), .prefix_len = 24};
    t->ifx = synack_iface_add(t->rx, &ic);
    assert_true(t->ifx >= 0);
    synack_memlink_attach(t->link, 1 - from, t->rx, t->ifx);
    synack_set_tap(t->rx, lt_tap, t);
}

static inline void lt_init(struct lt *t, synack_time delay) { lt_init_from(t, delay, 0); }

static inline void lt_free(struct lt *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->got[i].data);
    free(t->got);
    synack_memlink_free(t->link);
    synack_stack_free(t->rx);
}

/* The content of frame id at byte i (after the 4-byte number). */
static inline uint8_t lt_byte(uint32_t id, size_t i) { return (uint8_t)(id * 31u + i * 7u + 3u); }

/* Hands frame `id` of len bytes (>= 4) to the sending end at the current
 * time. */
static inline void lt_send(struct lt *t, uint32_t id, size_t len)
{
    assert_true(len >= 4 && len <= sizeof t->buf);
    t->buf[0] = (uint8_t)id;
    t->buf[1] = (uint8_t)(id >> 8);
    t->buf[2] = (uint8_t)(id >> 16);
    t->buf[3] = (uint8_t)(id >> 24);
    for (size_t i = 4; i < len; i++)
        t->buf[i] = lt_byte(id, i);
    synack_link_ops ops = synack_memlink_ops();
    assert_int_equal(ops.transmit(synack_memlink_end(t->link, t->from), t->buf, len), 0);
}

/* Delivers everything due up to `until`, moving the clock frame by frame;
 * the clock ends at `until` (or at the last delivery when until is NEVER). */
static inline void lt_run_until(struct lt *t, synack_time until)
{
    for (;;) {
        synack_time next = synack_memlink_next(t->link);
        if (next == SYNACK_TIME_NEVER || next > until)
            break;
        if (next > t->clock.now)
            t->clock.now = next;
        synack_memlink_deliver(t->link, t->clock.now);
    }
    if (until != SYNACK_TIME_NEVER && until > t->clock.now)
        t->clock.now = until;
}

static inline void lt_drain(struct lt *t) { lt_run_until(t, SYNACK_TIME_NEVER); }

/* Sends n frames of len bytes, one every `gap` of virtual time (0: all at
 * once), then delivers everything. */
static inline void lt_stream(struct lt *t, uint32_t n, size_t len, synack_time gap)
{
    for (uint32_t i = 0; i < n; i++) {
        lt_send(t, i, len);
        lt_run_until(t, t->clock.now + gap);
    }
    lt_drain(t);
}

static inline synack_link_stats lt_stats(struct lt *t)
{
    synack_link_stats st;
    synack_memlink_stats(t->link, t->from, &st);
    return st;
}

/* |x - n p| within k standard deviations of a binomial(n, p). */
static inline bool lt_binomial_ok(uint64_t x, uint64_t n, double p, double k)
{
    double mean = (double)n * p, var = (double)n * p * (1 - p);
    double d = (double)x - mean;
    return d * d <= k * k * var;
}

#endif
