#include "ipv6.h"

#include <string.h>

#include "bytes.h"

static bool is_ext(uint8_t nh)
{
    return nh == WIRE_IPV6_HOPOPTS || nh == WIRE_IPV6_ROUTING || nh == WIRE_IPV6_FRAGMENT ||
           nh == WIRE_IPV6_DSTOPTS || nh == WIRE_IPV6_AH;
}

int wire_ipv6_parse(const uint8_t *buf, size_t len, unsigned flags, struct wire_ipv6 *out)
{
    if (len < WIRE_IPV6_HDR_LEN)
        return WIRE_ETRUNC;
    if (buf[0] >> 4 != 6)
        return WIRE_EVERSION;
    uint32_t w0 = wire_get32(buf);
    out->tclass = (uint8_t)(w0 >> 20);
    out->flow = w0 & 0xfffff;
    out->plen = wire_get16(buf + 4);
    out->hop_limit = buf[7];
    memcpy(out->src, buf + 8, 16);
    memcpy(out->dst, buf + 24, 16);
    out->n_ext = 0;
    out->has_frag = out->atomic = out->mf = false;
    out->frag_off = 0;
    out->frag_id = 0;
    if (out->plen == 0)
        return WIRE_EUNSUPP; /* jumbogram or BIG TCP: the length is in an option */

    size_t end = WIRE_IPV6_HDR_LEN + (size_t)out->plen;
    out->truncated = end > len;
    if (out->truncated && !(flags & WIRE_IPV6_ALLOW_TRUNC))
        return WIRE_ETRUNC;
    size_t avail = out->truncated ? len : end;

    uint8_t nh = buf[6];
    size_t off = WIRE_IPV6_HDR_LEN;
    while (is_ext(nh)) {
        if (off + 8 > avail)
            return WIRE_ETRUNC;
        size_t elen;
        if (nh == WIRE_IPV6_FRAGMENT) {
            uint16_t fo = wire_get16(buf + off + 2);
            out->has_frag = true;
            out->frag_off = (uint16_t)(fo & 0xfff8);
            out->mf = (fo & 1) != 0;
            out->frag_id = wire_get32(buf + off + 4);
            out->atomic = out->frag_off == 0 && !out->mf;
            elen = 8;
        } else if (nh == WIRE_IPV6_AH) {
            elen = ((size_t)buf[off + 1] + 2) * 4; /* RFC 4302: 32-bit words minus 2 */
        } else {
            elen = ((size_t)buf[off + 1] + 1) * 8;
        }
        if (off + elen > avail)
            return WIRE_ETRUNC;
        nh = buf[off];
        off += elen;
        out->n_ext++;
        if (out->has_frag && !out->atomic)
            break; /* headers after a real fragment header belong to the fragment */
    }
    if (off > end)
        return WIRE_ETOTLEN;
    out->proto = nh;
    out->payload = buf + off;
    out->payload_len = avail - off;
    out->upper_len = end - off;
    return WIRE_OK;
}

int wire_ipv6_emit(uint8_t *buf, size_t cap, const struct wire_ipv6 *h, size_t payload_len)
{
    if (cap < WIRE_IPV6_HDR_LEN || payload_len > 0xffff)
        return WIRE_ESPACE;
    wire_put32(buf, 6u << 28 | (uint32_t)h->tclass << 20 | (h->flow & 0xfffff));
    wire_put16(buf + 4, (uint16_t)payload_len);
    buf[6] = h->proto;
    buf[7] = h->hop_limit;
    memcpy(buf + 8, h->src, 16);
    memcpy(buf + 24, h->dst, 16);
    return WIRE_IPV6_HDR_LEN;
}
