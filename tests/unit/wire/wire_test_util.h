/* Helpers shared by the wire codec tests. Header-only because only test_*.c
 * files are built, each as its own program. */
#ifndef SYNACK_TEST_WIRE_UTIL_H
#define SYNACK_TEST_WIRE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A copy in a heap block of exactly len bytes, so a parser that reads one
 * byte too far trips ASan or valgrind instead of reading its neighbour.
 * malloc(0) may return NULL, which a parser must not dereference either;
 * a one-byte block keeps the pointer valid without giving it a byte it may
 * legitimately read (len is still 0). */
static inline uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

/* True when [p, p+n) lies inside [base, base+len). Compared as integers
 * so a pointer outside the block is reported, not undefined. */
static inline bool view_inside(const uint8_t *base, size_t len, const uint8_t *p, size_t n)
{
    uintptr_t b = (uintptr_t)base, q = (uintptr_t)p;
    return q >= b && q - b <= len && n <= len - (q - b);
}

/* splitmix64: a fixed seed makes every randomized failure reproducible. */
struct test_rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct test_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline uint32_t rng_below(struct test_rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

static inline uint8_t rng_byte(struct test_rng *r)
{
    return (uint8_t)rng_next(r);
}

#endif
