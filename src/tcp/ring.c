#include "ring.h"

#include <string.h>

uint32_t ring_write(struct ring *r, uint8_t *buf, const uint8_t *src, uint32_t n)
{
    if (n > ring_free(r))
        n = ring_free(r);
    uint32_t tail = (r->head + r->len) % (r->cap ? r->cap : 1);
    uint32_t first = r->cap - tail < n ? r->cap - tail : n;
    if (first)
        memcpy(buf + tail, src, first);
    if (n > first)
        memcpy(buf, src + first, n - first);
    r->len += n;
    return n;
}

void ring_span(const struct ring *r, const uint8_t *buf, uint32_t off, uint32_t n, const uint8_t **p1, uint32_t *n1,
               const uint8_t **p2, uint32_t *n2)
{
    uint32_t start = r->cap ? (r->head + off) % r->cap : 0;
    uint32_t first = r->cap - start < n ? r->cap - start : n;
    *p1 = buf + start;
    *n1 = first;
    *p2 = buf;
    *n2 = n - first;
}

void ring_peek(const struct ring *r, const uint8_t *buf, uint32_t off, uint8_t *dst, uint32_t n)
{
    const uint8_t *p1, *p2;
    uint32_t n1, n2;
    ring_span(r, buf, off, n, &p1, &n1, &p2, &n2);
    if (n1)
        memcpy(dst, p1, n1);
    if (n2)
        memcpy(dst + n1, p2, n2);
}

void ring_consume(struct ring *r, uint32_t n)
{
    if (n > r->len)
        n = r->len;
    r->len -= n;
    /* the head moves on even when the ring empties: data held past the
     * tail (ring_write_at) stays where it was written */
    r->head = r->cap ? (r->head + n) % r->cap : 0;
}

void ring_write_at(struct ring *r, uint8_t *buf, uint32_t off, const uint8_t *src, uint32_t n)
{
    if (r->cap == 0 || off >= ring_free(r))
        return;
    if (n > ring_free(r) - off)
        n = ring_free(r) - off;
    uint32_t pos = (r->head + r->len + off) % r->cap;
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(buf + pos, src, first);
    if (n > first)
        memcpy(buf, src + first, n - first);
}
