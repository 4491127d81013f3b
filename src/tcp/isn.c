/* RFC 6528 initial sequence numbers: ISN = M + F(4-tuple, secret), M a 4 µs
 * clock and F a keyed hash (SipHash-2-4, wire/siphash.h), so ISNs of distinct
 * connections are unpredictable while one 4-tuple's ISNs still increase. */
#include <string.h>

#include "internal.h"
#include "wire/siphash.h"

/* The keyed hash of domain, family, laddr, raddr, lport, rport (ports
 * big-endian). IPv4 addresses take their 4 bytes only (SipHash costs per 8
 * bytes: 14 bytes are two blocks, the 38 of the IPv6 form five), and go to
 * the hash as words from registers: written to a byte buffer and read back
 * as words, they stalled each load on the stores before it (5 % of a
 * connect() in bench/connrate). Same bytes, same value. */
static uint64_t tuple_hash(const uint8_t key[16], const struct tcp_tuple *t, uint8_t domain)
{
    if (t->family == 6) {
        uint8_t msg[1 + 1 + 32 + 4];
        msg[0] = domain;
        msg[1] = t->family;
        memcpy(msg + 2, t->laddr, 16);
        memcpy(msg + 18, t->raddr, 16);
        uint8_t *p = msg + 34;
        p[0] = (uint8_t)(t->lport >> 8);
        p[1] = (uint8_t)t->lport;
        p[2] = (uint8_t)(t->rport >> 8);
        p[3] = (uint8_t)t->rport;
        return wire_siphash24(key, msg, 38);
    }
    struct wire_sip h;
    wire_sip_init(&h, key);
    uint32_t ra = wire_sip_le32(t->raddr);
    wire_sip_word(&h, (uint64_t)domain | (uint64_t)t->family << 8 | (uint64_t)wire_sip_le32(t->laddr) << 16 |
                          (uint64_t)ra << 48);
    uint64_t ports = (uint64_t)(t->lport >> 8) | (uint64_t)(t->lport & 0xff) << 8 |
                     (uint64_t)(t->rport >> 8) << 16 | (uint64_t)(t->rport & 0xff) << 24;
    return wire_sip_final(&h, (uint64_t)(ra >> 16) | ports << 16, 14);
}

/* One keyed hash gives both per-connection secrets: its low half is the
 * ISN's F, its high half the RFC 7323 §5.4 timestamp offset (Linux keys
 * them apart; halves of one SipHash output are as unrelated, and a
 * connection set-up then hashes once, not twice: bench/connrate). */
uint32_t tcp_isn_ts(const struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t *ts_offset)
{
    uint64_t h = tuple_hash(ctx->isn_key, t, 'I');
    *ts_offset = (uint32_t)(h >> 32);
    return (uint32_t)h + (uint32_t)(ctx->now / 4u);
}
