/* A line of output built by hand and written with one fwrite: the
 * per-packet tables print hundreds of thousands of rows, and printf's
 * format parsing was most of the analyzer's time. */
#ifndef SYNACK_TRACE_LINE_H
#define SYNACK_TRACE_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "packet.h"

#define TR_LINE_MAX 2048

struct tr_line {
    size_t n;
    char b[TR_LINE_MAX];
};

static inline void ln_c(struct tr_line *l, char c)
{
    if (l->n < TR_LINE_MAX)
        l->b[l->n++] = c;
}

static inline void ln_mem(struct tr_line *l, const char *s, size_t k)
{
    if (k > TR_LINE_MAX - l->n)
        k = TR_LINE_MAX - l->n;
    memcpy(l->b + l->n, s, k);
    l->n += k;
}

static inline void ln_s(struct tr_line *l, const char *s)
{
    ln_mem(l, s, strlen(s));
}

static inline void ln_u64(struct tr_line *l, uint64_t v)
{
    char t[20];
    size_t k = 0;
    do {
        t[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        ln_c(l, t[--k]);
}

/* Seconds with nine decimals. */
static inline void ln_secs(struct tr_line *l, int64_t ns)
{
    uint64_t v = (uint64_t)ns;
    if (ns < 0) {
        ln_c(l, '-');
        v = (uint64_t)0 - v;
    }
    ln_u64(l, v / 1000000000u);
    ln_c(l, '.');
    char t[9];
    uint64_t f = v % 1000000000u;
    for (int i = 8; i >= 0; i--, f /= 10)
        t[i] = (char)('0' + f % 10);
    ln_mem(l, t, 9);
}

static inline void ln_flush(struct tr_line *l, FILE *f)
{
    fwrite(l->b, 1, l->n, f);
    l->n = 0;
}

/* The address in text form (dotted quad, or RFC 5952 for IPv6). */
void ln_addr(struct tr_line *l, const struct tr_addr *a);

/* tcp.flags.str: 12 characters, U+00B7 for a clear bit. */
void ln_flags_str(struct tr_line *l, uint16_t flags);

#endif
