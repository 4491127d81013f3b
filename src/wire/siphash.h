/* SipHash-2-4 (Aumasson and Bernstein, 2012), the same function as
 * libsodium's crypto_shorthash_siphash24 (tests/unit/wire/test_siphash.c
 * checks every length against it), written inline: the keyed hashes on
 * the path of every segment hash 12 to 14 bytes, and at that size the
 * library's call, its length loop and its byte-wise tail cost a fifth of
 * the hash (bench/connrate, docs/benchmarks.md). Same output, same key:
 * not a weaker hash. */
#ifndef SYNACK_WIRE_SIPHASH_H
#define SYNACK_WIRE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t wire_sip_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t wire_sip_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t wire_sip_rotl(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

#define WIRE_SIPROUND(v0, v1, v2, v3)                                                                                \
    do {                                                                                                             \
        v0 += v1;                                                                                                    \
        v1 = wire_sip_rotl(v1, 13);                                                                                  \
        v1 ^= v0;                                                                                                    \
        v0 = wire_sip_rotl(v0, 32);                                                                                  \
        v2 += v3;                                                                                                    \
        v3 = wire_sip_rotl(v3, 16);                                                                                  \
        v3 ^= v2;                                                                                                    \
        v0 += v3;                                                                                                    \
        v3 = wire_sip_rotl(v3, 21);                                                                                  \
        v3 ^= v0;                                                                                                    \
        v2 += v1;                                                                                                    \
        v1 = wire_sip_rotl(v1, 17);                                                                                  \
        v1 ^= v2;                                                                                                    \
        v2 = wire_sip_rotl(v2, 32);                                                                                  \
    } while (0)

/* The hash in three steps, for callers that have their message as words
 * in registers: building it in a byte buffer first costs a stalled load
 * per word (a word read back across the several stores that wrote it:
 * src/stack/demux.c, bench/connrate). Absorbing words m0, m1, ... and then
 * the last 0-7 bytes as the value `tail` (byte i at bits 8i) hashes the
 * message whose bytes are those words, little-endian, and then the tail:
 * the same value as wire_siphash24 on those bytes. */
struct wire_sip {
    uint64_t v0, v1, v2, v3;
};

static inline __attribute__((always_inline)) void wire_sip_init(struct wire_sip *s, const uint8_t key[16])
{
    uint64_t k0 = wire_sip_le64(key), k1 = wire_sip_le64(key + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ull;
    s->v1 = k1 ^ 0x646f72616e646f6dull;
    s->v2 = k0 ^ 0x6c7967656e657261ull;
    s->v3 = k1 ^ 0x7465646279746573ull;
}

static inline __attribute__((always_inline)) void wire_sip_word(struct wire_sip *s, uint64_t m)
{
    s->v3 ^= m;
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    s->v0 ^= m;
}

/* len: the whole message's length in bytes (only its low byte counts) */
static inline __attribute__((always_inline)) uint64_t wire_sip_final(struct wire_sip *s, uint64_t tail, size_t len)
{
    uint64_t b = (uint64_t)len << 56 | tail;
    s->v3 ^= b;
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    s->v0 ^= b;
    s->v2 ^= 0xff;
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    WIRE_SIPROUND(s->v0, s->v1, s->v2, s->v3);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The 64-bit SipHash-2-4 of msg[0..len) under key, as the little-endian
 * value of libsodium's 8 output bytes. Always inlined: each caller passes
 * a constant length, and only a copy per length unrolls its loops (gcc
 * otherwise keeps one generic copy, byte loop and all, once three files
 * call it). */
static inline __attribute__((always_inline)) uint64_t wire_siphash24(const uint8_t key[16], const uint8_t *msg, size_t len)
{
    struct wire_sip s;
    wire_sip_init(&s, key);
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8)
        wire_sip_word(&s, wire_sip_le64(msg + i));
    /* the last 0-7 bytes, a word at once where 4 of them are left (the
     * lengths callers pass are constants: this folds to a few loads) */
    uint64_t b = 0;
    size_t i = 0;
    if ((len & 7) >= 4) {
        b = wire_sip_le32(msg + full);
        i = 4;
    }
    for (; i < (len & 7); i++)
        b |= (uint64_t)msg[full + i] << (8 * i);
    return wire_sip_final(&s, b, len);
}

#undef WIRE_SIPROUND

#endif
