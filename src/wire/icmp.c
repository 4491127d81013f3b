#include "icmp.h"

#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv4.h"

int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out)
{
    if (len < WIRE_ICMP_HDR_LEN)
        return WIRE_ETRUNC;
    if (wire_csum_fold(wire_csum_add(0, buf, len)) != 0)
        return WIRE_ECSUM;
    out->type = buf[0];
    out->code = buf[1];
    out->csum = wire_get16(buf + 2);
    out->rest = wire_get32(buf + 4);
    out->body = buf + WIRE_ICMP_HDR_LEN;
    out->body_len = len - WIRE_ICMP_HDR_LEN;
    return WIRE_OK;
}

bool wire_icmp_is_error(uint8_t type)
{
    return type == WIRE_ICMP_DEST_UNREACH || type == WIRE_ICMP_SOURCE_QUENCH || type == WIRE_ICMP_REDIRECT ||
           type == WIRE_ICMP_TIME_EXCEEDED || type == WIRE_ICMP_PARAM_PROBLEM;
}

int wire_icmp_quote_parse(const struct wire_icmp *m, struct wire_icmp_quote *out)
{
    /* The quoted datagram is usually cut short, so its stated total length
     * may exceed what came back, and its checksum is not ours to judge
     * (a router may have decremented the TTL after quoting). */
    struct wire_ipv4 ip;
    int r = wire_ipv4_parse(m->body, m->body_len, WIRE_IPV4_ALLOW_TRUNC, &ip);
    if (r != WIRE_OK)
        return r;
    if (ip.payload_len < 8)
        return WIRE_ETRUNC;
    out->proto = ip.proto;
    out->total_len = ip.total_len;
    out->src = ip.src;
    out->dst = ip.dst;
    out->payload = ip.payload;
    out->payload_len = ip.payload_len;
    return WIRE_OK;
}

int wire_icmp_put(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *p1,
                  size_t n1, const uint8_t *p2, size_t n2)
{
    size_t len = WIRE_ICMP_HDR_LEN + n1 + n2;
    if (cap < len)
        return WIRE_ESPACE;
    buf[0] = type;
    buf[1] = code;
    wire_put16(buf + 2, 0);
    wire_put32(buf + 4, rest);
    if (n1)
        memmove(buf + WIRE_ICMP_HDR_LEN, p1, n1);
    if (n2)
        memmove(buf + WIRE_ICMP_HDR_LEN + n1, p2, n2);
    return (int)len;
}

int wire_icmp_emit(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *p1,
                   size_t n1, const uint8_t *p2, size_t n2)
{
    int len = wire_icmp_put(buf, cap, type, code, rest, p1, n1, p2, n2);
    if (len > 0)
        wire_put16(buf + 2, wire_csum_fold(wire_csum_add(0, buf, (size_t)len)));
    return len;
}
