#include "ranges.h"

#include <string.h>

#include "seq.h"

static void remove_at(struct tcp_ranges *s, unsigned i)
{
    memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof s->r[0]);
    s->n--;
}

bool ranges_add(struct tcp_ranges *s, uint32_t start, uint32_t end, uint32_t stamp, uint32_t *dup_start,
                uint32_t *dup_end)
{
    uint32_t ds = start, de = start;
    if (!seq_lt(start, end)) {
        if (dup_start)
            *dup_start = *dup_end = start;
        return true;
    }
    /* first range that ends at or after start: it may touch or overlap */
    unsigned i = 0;
    while (i < s->n && seq_lt(s->r[i].end, start))
        i++;
    if (i == s->n || seq_lt(end, s->r[i].start)) {
        /* disjoint: insert at i */
        if (s->n == TCP_RANGES_MAX) {
            if (dup_start)
                *dup_start = *dup_end = start;
            return false;
        }
        memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof s->r[0]);
        s->r[i] = (struct tcp_range){start, end, stamp};
        s->n++;
    } else {
        /* the duplicate part: the overlap with the first range it meets
         * (RFC 2883 reports one block; the first is what matters) */
        uint32_t os = seq_max(start, s->r[i].start), oe = seq_min(end, s->r[i].end);
        if (seq_lt(os, oe)) {
            ds = os;
            de = oe;
        }
        struct tcp_range *r = &s->r[i];
        r->start = seq_min(r->start, start);
        r->end = seq_max(r->end, end);
        r->stamp = stamp;
        while (i + 1 < s->n && seq_leq(s->r[i + 1].start, r->end)) {
            r->end = seq_max(r->end, s->r[i + 1].end);
            remove_at(s, i + 1);
        }
    }
    if (dup_start) {
        *dup_start = ds;
        *dup_end = de;
    }
    return true;
}

void ranges_trim_below(struct tcp_ranges *s, uint32_t seq)
{
    while (s->n && seq_leq(s->r[0].end, seq))
        remove_at(s, 0);
    if (s->n && seq_lt(s->r[0].start, seq))
        s->r[0].start = seq;
}

uint32_t ranges_take_at(struct tcp_ranges *s, uint32_t seq)
{
    if (s->n && seq_leq(s->r[0].start, seq) && seq_lt(seq, s->r[0].end)) {
        uint32_t e = s->r[0].end;
        remove_at(s, 0);
        return e;
    }
    return seq;
}

uint32_t ranges_bytes_in(const struct tcp_ranges *s, uint32_t lo, uint32_t hi)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < s->n; i++) {
        uint32_t a = seq_max(s->r[i].start, lo), b = seq_min(s->r[i].end, hi);
        if (seq_lt(a, b))
            n += b - a;
    }
    return n;
}

bool ranges_has(const struct tcp_ranges *s, uint32_t seq)
{
    for (unsigned i = 0; i < s->n; i++)
        if (seq_leq(s->r[i].start, seq) && seq_lt(seq, s->r[i].end))
            return true;
    return false;
}

uint32_t ranges_next_gap(const struct tcp_ranges *s, uint32_t seq, uint32_t limit)
{
    for (unsigned i = 0; i < s->n && seq_lt(seq, limit); i++)
        if (seq_leq(s->r[i].start, seq) && seq_lt(seq, s->r[i].end))
            seq = s->r[i].end;
    return seq_lt(seq, limit) ? seq : limit;
}
