/* A byte ring for socket buffers: copies in and out in at most two pieces,
 * no per-byte work. The capacity is any size; the storage (buf, cap bytes)
 * is passed in, since it is attached only while the ring is in use. */
#ifndef SYNACK_TCP_RING_H
#define SYNACK_TCP_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
    uint32_t cap;
    uint32_t head; /* offset of the first byte */
    uint32_t len;  /* bytes held */
};

static inline uint32_t ring_free(const struct ring *r) { return r->cap - r->len; }

/* Appends up to n bytes; returns how many fit. */
uint32_t ring_write(struct ring *r, uint8_t *buf, const uint8_t *src, uint32_t n);
/* Copies n bytes starting off bytes past the head, without consuming. */
void ring_peek(const struct ring *r, const uint8_t *buf, uint32_t off, uint8_t *dst, uint32_t n);
/* The (up to) two contiguous pieces of [off, off+n). */
void ring_span(const struct ring *r, const uint8_t *buf, uint32_t off, uint32_t n, const uint8_t **p1, uint32_t *n1,
               const uint8_t **p2, uint32_t *n2);
/* Writes n bytes off bytes past the tail, leaving len alone: data that
 * arrived out of order waits there until ring_commit takes it in. The
 * caller keeps off + n within ring_free(). */
void ring_write_at(struct ring *r, uint8_t *buf, uint32_t off, const uint8_t *src, uint32_t n);
/* Counts n more bytes past the tail as held (written by ring_write_at). */
static inline void ring_commit(struct ring *r, uint32_t n) { r->len += n <= ring_free(r) ? n : ring_free(r); }
/* Drops n bytes from the head. */
void ring_consume(struct ring *r, uint32_t n);

#endif
