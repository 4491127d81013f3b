#include "ipv4.h"

#include <string.h>

#include "bytes.h"
#include "checksum.h"

/* RFC 1071 over a header of hl bytes (a multiple of 4): 32 bits a load,
 * summed in memory order, so the complement goes back into the header as
 * it is (RFC 1071 §2(B): the sum does not depend on byte order). Every
 * segment's header is summed once out and once in; the general
 * wire_csum_add cost twice this (Linux has ip_fast_csum for the same). */
static uint32_t word_at(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static uint16_t hdr_csum(const uint8_t *buf, size_t hl)
{
    /* The 20 bytes every header has, summed without a loop (hl is at
     * least that: the parser refuses less, the emitter writes 20); then
     * any options. Five or fifteen 32-bit words cannot carry out of 64. */
    uint64_t s = (uint64_t)word_at(buf) + word_at(buf + 4) + word_at(buf + 8) + word_at(buf + 12) + word_at(buf + 16);
    for (size_t i = WIRE_IPV4_HDR_MIN; i < hl; i += 4)
        s += word_at(buf + i);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)~s;
}

int wire_ipv4_parse(const uint8_t *buf, size_t len, unsigned flags, struct wire_ipv4 *out)
{
    if (len < WIRE_IPV4_HDR_MIN)
        return WIRE_ETRUNC;
    if (buf[0] >> 4 != 4)
        return WIRE_EVERSION;
    size_t hl = (size_t)(buf[0] & 0x0f) * 4;
    if (hl < WIRE_IPV4_HDR_MIN)
        return WIRE_EHDRLEN;
    if (hl > len)
        return WIRE_ETRUNC;
    uint16_t total = wire_get16(buf + 2);
    if (total < hl)
        return WIRE_ETOTLEN;
    bool truncated = total > len;
    if (truncated && !(flags & WIRE_IPV4_ALLOW_TRUNC))
        return WIRE_ETRUNC;
    if ((flags & WIRE_IPV4_VERIFY_CSUM) && hdr_csum(buf, hl) != 0)
        return WIRE_ECSUM;

    uint16_t frag = wire_get16(buf + 6);
    out->hdr_len = (uint8_t)hl;
    out->tos = buf[1];
    out->total_len = total;
    out->id = wire_get16(buf + 4);
    out->df = (frag & 0x4000) != 0;
    out->mf = (frag & 0x2000) != 0;
    out->frag_off = (uint16_t)((frag & 0x1fff) * 8);
    out->ttl = buf[8];
    out->proto = buf[9];
    out->csum = wire_get16(buf + 10);
    out->src = wire_get32(buf + 12);
    out->dst = wire_get32(buf + 16);
    out->options = buf + WIRE_IPV4_HDR_MIN;
    out->options_len = hl - WIRE_IPV4_HDR_MIN;
    out->payload = buf + hl;
    out->payload_len = (truncated ? len : total) - hl;
    out->truncated = truncated;
    return WIRE_OK;
}

int wire_ipv4_emit(uint8_t *buf, size_t cap, const struct wire_ipv4 *h, size_t payload_len)
{
    if (cap < WIRE_IPV4_HDR_MIN || payload_len > 0xffff - WIRE_IPV4_HDR_MIN)
        return WIRE_ESPACE;
    buf[0] = 0x45;
    buf[1] = h->tos;
    wire_put16(buf + 2, (uint16_t)(WIRE_IPV4_HDR_MIN + payload_len));
    wire_put16(buf + 4, h->id);
    wire_put16(buf + 6, (uint16_t)((h->df ? 0x4000 : 0) | (h->mf ? 0x2000 : 0) | ((h->frag_off / 8) & 0x1fff)));
    buf[8] = h->ttl;
    buf[9] = h->proto;
    wire_put16(buf + 10, 0);
    wire_put32(buf + 12, h->src);
    wire_put32(buf + 16, h->dst);
    uint16_t c = hdr_csum(buf, WIRE_IPV4_HDR_MIN);
    memcpy(buf + 10, &c, 2); /* in memory order, as summed */
    return WIRE_IPV4_HDR_MIN;
}
