#include "icmpv6.h"

#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "icmp.h"
#include "ipv4.h"
#include "ipv6.h"

static uint16_t sum(const uint8_t *buf, size_t len, const uint8_t src[16], const uint8_t dst[16])
{
    uint32_t acc = wire_csum_pseudo_ipv6(src, dst, WIRE_IPPROTO_ICMPV6, (uint32_t)len);
    return wire_csum_fold(wire_csum_add(acc, buf, len));
}

int wire_icmpv6_parse(const uint8_t *buf, size_t len, const uint8_t src[16], const uint8_t dst[16],
                      struct wire_icmpv6 *out)
{
    if (len < WIRE_ICMPV6_HDR_LEN)
        return WIRE_ETRUNC;
    if (sum(buf, len, src, dst) != 0)
        return WIRE_ECSUM;
    out->type = buf[0];
    out->code = buf[1];
    out->csum = wire_get16(buf + 2);
    out->rest = wire_get32(buf + 4);
    out->body = buf + WIRE_ICMPV6_HDR_LEN;
    out->body_len = len - WIRE_ICMPV6_HDR_LEN;
    return WIRE_OK;
}

int wire_icmpv6_quote_parse(const struct wire_icmpv6 *m, struct wire_icmpv6_quote *out)
{
    struct wire_ipv6 ip;
    int r = wire_ipv6_parse(m->body, m->body_len, WIRE_IPV6_ALLOW_TRUNC, &ip);
    if (r != WIRE_OK)
        return r;
    if (ip.payload_len < 8)
        return WIRE_ETRUNC;
    out->proto = ip.proto;
    memcpy(out->src, ip.src, 16);
    memcpy(out->dst, ip.dst, 16);
    out->payload = ip.payload;
    out->payload_len = ip.payload_len;
    return WIRE_OK;
}

int wire_icmpv6_emit(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16], uint8_t type,
                     uint8_t code, uint32_t rest, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2)
{
    /* the same 8-byte header as ICMPv4 (RFC 4443 §2.1); only the checksum
     * differs: it covers the IPv6 pseudo-header (§2.3) */
    int len = wire_icmp_put(buf, cap, type, code, rest, p1, n1, p2, n2);
    if (len > 0)
        wire_put16(buf + 2, sum(buf, (size_t)len, src, dst));
    return len;
}
