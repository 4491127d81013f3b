/* RFC 6528 initial sequence numbers: ISN = M + F(4-tuple, secret), M a 4 µs
 * clock and F a keyed hash (SipHash-2-4 from libsodium), so ISNs of distinct
 * connections are unpredictable while one 4-tuple's ISNs still increase. */
#include <sodium.h>
#include <string.h>

#include "internal.h"

static uint64_t tuple_hash(const uint8_t key[16], const struct tcp_tuple *t, uint8_t domain)
{
    uint8_t msg[1 + 1 + 32 + 4];
    msg[0] = domain;
    msg[1] = t->family;
    memcpy(msg + 2, t->laddr, 16);
    memcpy(msg + 18, t->raddr, 16);
    msg[34] = (uint8_t)(t->lport >> 8);
    msg[35] = (uint8_t)t->lport;
    msg[36] = (uint8_t)(t->rport >> 8);
    msg[37] = (uint8_t)t->rport;
    uint8_t out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, msg, sizeof msg, key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

uint32_t tcp_isn(const struct tcp_ctx *ctx, const struct tcp_tuple *t)
{
    return (uint32_t)tuple_hash(ctx->isn_key, t, 'I') + (uint32_t)(ctx->now / 4u);
}

uint32_t tcp_ts_offset(const struct tcp_ctx *ctx, const struct tcp_tuple *t)
{
    return (uint32_t)tuple_hash(ctx->isn_key, t, 'T');
}
