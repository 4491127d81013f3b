/* A small set of disjoint sequence-number ranges [start, end), kept in
 * order: the out-of-order data we hold (RFC 9293 §3.10.7.4, seventh) and
 * the SACK scoreboard of what the peer holds (RFC 6675 §3). Fixed
 * capacity: no allocation; a range that does not fit is refused, which
 * costs a retransmission, never correctness. */
#ifndef SYNACK_TCP_RANGES_H
#define SYNACK_TCP_RANGES_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_RANGES_MAX 16

struct tcp_range {
    uint32_t start, end;
    uint32_t stamp; /* when it last grew: RFC 2018 §4 reports the newest first */
};

struct tcp_ranges {
    uint8_t n;
    struct tcp_range r[TCP_RANGES_MAX];
};

/* Adds [start, end), merging with neighbours. Returns false when it could
 * not be recorded (the set is full). dup_start and dup_end receive the part
 * that was already present (RFC 2883 D-SACK), equal when none. */
bool ranges_add(struct tcp_ranges *s, uint32_t start, uint32_t end, uint32_t stamp, uint32_t *dup_start,
                uint32_t *dup_end);
/* Forgets everything below seq (it was acknowledged or delivered). */
void ranges_trim_below(struct tcp_ranges *s, uint32_t seq);
/* If a range starts exactly at seq, removes it and returns its end; else
 * returns seq. */
uint32_t ranges_take_at(struct tcp_ranges *s, uint32_t seq);
/* Bytes covered in [lo, hi). */
uint32_t ranges_bytes_in(const struct tcp_ranges *s, uint32_t lo, uint32_t hi);
/* Whether seq is covered. */
bool ranges_has(const struct tcp_ranges *s, uint32_t seq);
/* The first uncovered sequence number at or above seq (below limit), or
 * limit when [seq, limit) is all covered. */
uint32_t ranges_next_gap(const struct tcp_ranges *s, uint32_t seq, uint32_t limit);
static inline void ranges_clear(struct tcp_ranges *s) { s->n = 0; }

#endif
