#include "tcp.h"

#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv4.h"

/* The counters are bytes, and wire_tcp_parse_opts accepts blocks longer than
 * a TCP header; stopping at the maximum keeps "many" from wrapping to "few". */
static void count(uint8_t *c)
{
    if (*c < UINT8_MAX)
        (*c)++;
}

/* Known kinds with a fixed length; a mismatch means the option is ignored
 * (as Linux's tcp_parse_options does), not that the segment is bad. */
static void opt_known(struct wire_tcp_opts *o, uint8_t kind, const uint8_t *v, size_t vlen)
{
    switch (kind) {
    case WIRE_TCPOPT_MSS:
        if (vlen != 2)
            goto bad;
        o->has_mss = true;
        o->mss = wire_get16(v);
        return;
    case WIRE_TCPOPT_WSCALE:
        if (vlen != 1)
            goto bad;
        o->has_wscale = true;
        o->wscale = v[0];
        return;
    case WIRE_TCPOPT_SACK_PERM:
        if (vlen != 0)
            goto bad;
        o->sack_perm = true;
        return;
    case WIRE_TCPOPT_TS:
        if (vlen != 8)
            goto bad;
        o->has_ts = true;
        o->ts_val = wire_get32(v);
        o->ts_ecr = wire_get32(v + 4);
        return;
    case WIRE_TCPOPT_SACK:
        if (vlen == 0 || vlen % 8 != 0 || vlen / 8 > WIRE_TCP_SACK_MAX)
            goto bad;
        o->sack_count = (uint8_t)(vlen / 8);
        for (size_t i = 0; i < o->sack_count; i++) {
            o->sack[i].left = wire_get32(v + 8 * i);
            o->sack[i].right = wire_get32(v + 8 * i + 4);
        }
        return;
    case WIRE_TCPOPT_EXP:
        /* RFC 6994: an experimental option is ours only with our magic */
        if (vlen < 2 || wire_get16(v) != WIRE_TCPOPT_FASTOPEN_MAGIC) {
            count(&o->unknown);
            return;
        }
        v += 2;
        vlen -= 2;
        /* fall through */
    case WIRE_TCPOPT_FASTOPEN:
        /* RFC 7413 §4.1.1: empty (a request) or a 4..16 byte cookie;
         * Linux also wants an even length. The first one counts. */
        if (vlen != 0 && (vlen < WIRE_TCP_FO_COOKIE_MIN || vlen > WIRE_TCP_FO_COOKIE_MAX || vlen % 2))
            goto bad;
        if (o->fo_kind)
            return;
        o->fo_kind = kind;
        o->fo_len = (uint8_t)vlen;
        memcpy(o->fo_cookie, v, vlen);
        return;
    default:
        count(&o->unknown);
        return;
    }
bad:
    count(&o->bad_len);
}

int wire_tcp_parse_opts(const uint8_t *p, size_t len, struct wire_tcp_opts *o)
{
    /* the scalars only: the SACK blocks, the cookie and the kinds are read
     * below their counts (clearing all 110 bytes was 3 % of bench/connrate) */
    wire_tcp_opts_clear(o);
    o->unknown = o->bad_len = o->nkinds = 0;
    /* The block of nearly every segment of a connection with timestamps,
     * two NOPs and the option (RFC 7323 Appendix A's layout), read at once
     * as Linux's tcp_parse_aligned_timestamp does */
    if (len == 12 && p[0] == WIRE_TCPOPT_NOP && p[1] == WIRE_TCPOPT_NOP && p[2] == WIRE_TCPOPT_TS &&
        p[3] == 10) {
        o->kinds[0] = o->kinds[1] = WIRE_TCPOPT_NOP;
        o->kinds[2] = WIRE_TCPOPT_TS;
        o->nkinds = 3;
        o->has_ts = true;
        o->ts_val = wire_get32(p + 4);
        o->ts_ecr = wire_get32(p + 8);
        return WIRE_OK;
    }
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (o->nkinds < WIRE_TCP_OPT_MAX)
            o->kinds[o->nkinds++] = kind;
        if (kind == WIRE_TCPOPT_EOL)
            break;
        if (kind == WIRE_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return WIRE_EOPTLEN;
        size_t olen = p[i + 1];
        if (olen < 2 || i + olen > len)
            return WIRE_EOPTLEN;
        opt_known(o, kind, p + i + 2, olen - 2);
        i += olen;
    }
    return WIRE_OK;
}

int wire_tcp_parse(const uint8_t *seg, size_t len, struct wire_tcp *out)
{
    if (len < WIRE_TCP_HDR_MIN)
        return WIRE_ETRUNC;
    size_t hl = (size_t)(seg[12] >> 4) * 4;
    if (hl < WIRE_TCP_HDR_MIN)
        return WIRE_EHDRLEN;
    if (hl > len)
        return WIRE_ETRUNC;
    out->ecn = WIRE_ECN_NOT_ECT; /* the IP layer's to set */
    out->sport = wire_get16(seg);
    out->dport = wire_get16(seg + 2);
    out->seq = wire_get32(seg + 4);
    out->ack = wire_get32(seg + 8);
    out->hdr_len = (uint8_t)hl;
    out->flags = (uint16_t)(((seg[12] & 0x0f) << 8) | seg[13]);
    out->wnd = wire_get16(seg + 14);
    out->csum = wire_get16(seg + 16);
    out->urg = wire_get16(seg + 18);
    out->opts_raw = seg + WIRE_TCP_HDR_MIN;
    out->opts_len = hl - WIRE_TCP_HDR_MIN;
    out->payload = seg + hl;
    out->payload_len = len - hl;
    return wire_tcp_parse_opts(out->opts_raw, out->opts_len, &out->opt);
}

/* The Fast Open option's bytes, rounded up to 4 with NOPs. */
static size_t fo_space(const struct wire_tcp_opts *o)
{
    size_t n = 2u + (o->fo_kind == WIRE_TCPOPT_EXP ? 2u : 0u) + o->fo_len;
    return (n + 3u) & ~(size_t)3u;
}

size_t wire_tcp_opts_len(const struct wire_tcp_opts *o)
{
    size_t n = 0;
    if (o->has_mss)
        n += 4;
    if (o->has_ts)
        n += 12; /* SACK-permitted rides in the two bytes of padding */
    else if (o->sack_perm)
        n += 4;
    if (o->has_wscale)
        n += 4;
    if (o->sack_count)
        n += 4 + 8u * o->sack_count;
    if (o->fo_kind)
        n += fo_space(o);
    return n;
}

int wire_tcp_opts_emit(uint8_t *buf, size_t cap, const struct wire_tcp_opts *o)
{
    size_t need = wire_tcp_opts_len(o);
    if (need > cap || need > WIRE_TCP_OPT_MAX || o->sack_count > WIRE_TCP_SACK_MAX ||
        o->fo_len > WIRE_TCP_FO_COOKIE_MAX)
        return WIRE_ESPACE;
    uint8_t *p = buf;
    if (o->has_mss) {
        p[0] = WIRE_TCPOPT_MSS;
        p[1] = 4;
        wire_put16(p + 2, o->mss);
        p += 4;
    }
    if (o->has_ts) {
        wire_tcp_ts_emit(p, o->ts_val, o->ts_ecr);
        if (o->sack_perm) { /* in the two bytes of padding */
            p[0] = WIRE_TCPOPT_SACK_PERM;
            p[1] = 2;
        }
        p += 12;
    } else if (o->sack_perm) {
        p[0] = p[1] = WIRE_TCPOPT_NOP;
        p[2] = WIRE_TCPOPT_SACK_PERM;
        p[3] = 2;
        p += 4;
    }
    if (o->has_wscale) {
        p[0] = WIRE_TCPOPT_NOP;
        p[1] = WIRE_TCPOPT_WSCALE;
        p[2] = 3;
        p[3] = o->wscale;
        p += 4;
    }
    if (o->sack_count) {
        p[0] = p[1] = WIRE_TCPOPT_NOP;
        p[2] = WIRE_TCPOPT_SACK;
        p[3] = (uint8_t)(2 + 8 * o->sack_count);
        p += 4;
        for (size_t i = 0; i < o->sack_count; i++, p += 8) {
            wire_put32(p, o->sack[i].left);
            wire_put32(p + 4, o->sack[i].right);
        }
    }
    if (o->fo_kind) {
        size_t n = fo_space(o);
        uint8_t *q = p;
        *q++ = o->fo_kind;
        *q++ = 0; /* the length, below */
        if (o->fo_kind == WIRE_TCPOPT_EXP) {
            wire_put16(q, WIRE_TCPOPT_FASTOPEN_MAGIC);
            q += 2;
        }
        memcpy(q, o->fo_cookie, o->fo_len);
        q += o->fo_len;
        p[1] = (uint8_t)(q - p);
        memset(q, WIRE_TCPOPT_NOP, n - (size_t)(q - p));
        p += n;
    }
    return (int)(p - buf);
}

int wire_tcp_emit(uint8_t *buf, size_t cap, const struct wire_tcp *h)
{
    size_t hl = WIRE_TCP_HDR_MIN + h->opts_len;
    if (h->opts_len % 4 != 0 || h->opts_len > WIRE_TCP_OPT_MAX)
        return WIRE_EHDRLEN;
    if (cap < hl)
        return WIRE_ESPACE;
    wire_put16(buf, h->sport);
    wire_put16(buf + 2, h->dport);
    wire_put32(buf + 4, h->seq);
    wire_put32(buf + 8, h->ack);
    buf[12] = (uint8_t)((hl / 4) << 4 | ((h->flags >> 8) & 0x0f));
    buf[13] = (uint8_t)h->flags;
    wire_put16(buf + 14, h->wnd);
    wire_put16(buf + 16, h->csum);
    wire_put16(buf + 18, h->urg);
    if (h->opts_len)
        memmove(buf + WIRE_TCP_HDR_MIN, h->opts_raw, h->opts_len);
    return (int)hl;
}

uint16_t wire_tcp_csum_ipv4(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    uint32_t acc = wire_csum_pseudo_ipv4(src, dst, WIRE_IPPROTO_TCP, (uint32_t)len);
    return wire_csum_fold(wire_csum_add(acc, seg, len));
}

uint16_t wire_tcp_csum_ipv6(const uint8_t *seg, size_t len, const uint8_t src[16], const uint8_t dst[16])
{
    uint32_t acc = wire_csum_pseudo_ipv6(src, dst, WIRE_IPPROTO_TCP, (uint32_t)len);
    return wire_csum_fold(wire_csum_add(acc, seg, len));
}

void wire_tcp_set_csum_ipv4(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    wire_put16(seg + 16, 0);
    wire_put16(seg + 16, wire_tcp_csum_ipv4(seg, len, src, dst));
}

bool wire_tcp_csum_ok_ipv4(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    return wire_tcp_csum_ipv4(seg, len, src, dst) == 0;
}

void wire_tcp_set_csum_ipv6(uint8_t *seg, size_t len, const uint8_t src[16], const uint8_t dst[16])
{
    wire_put16(seg + 16, 0);
    wire_put16(seg + 16, wire_tcp_csum_ipv6(seg, len, src, dst));
}

bool wire_tcp_csum_ok_ipv6(const uint8_t *seg, size_t len, const uint8_t src[16], const uint8_t dst[16])
{
    return wire_tcp_csum_ipv6(seg, len, src, dst) == 0;
}
