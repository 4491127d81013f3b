/* libFuzzer target: the wire codecs (src/wire) on arbitrary bytes.
 *
 * The first byte picks the outermost layer (Ethernet, a pseudo link layer,
 * IPv4, IPv6, a TCP segment or a bare option block); every layer the parse
 * reaches hands its payload to the next, as a capture reader would. The
 * frame is copied to a buffer of exactly its size so ASan sees any read
 * past it. Besides memory safety, each successful parse must be consistent
 * with its input and survive a round trip through the emitters. */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "wire/checksum.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"
#include "wire/linklayer.h"
#include "wire/tcp.h"

static void check_opts_roundtrip(const struct wire_tcp_opts *o)
{
    uint8_t buf[WIRE_TCP_OPT_MAX];
    int n = wire_tcp_opts_emit(buf, sizeof buf, o);
    if (n < 0) /* more than fits in 40 bytes: the emitter must say so */
        FUZZ_CHECK(wire_tcp_opts_len(o) > WIRE_TCP_OPT_MAX);
    if (n < 0)
        return;
    FUZZ_CHECK((size_t)n == wire_tcp_opts_len(o) && n % 4 == 0);
    struct wire_tcp_opts r;
    FUZZ_CHECK(wire_tcp_parse_opts(buf, (size_t)n, &r) == WIRE_OK);
    FUZZ_CHECK(r.has_mss == o->has_mss && (!o->has_mss || r.mss == o->mss));
    FUZZ_CHECK(r.has_wscale == o->has_wscale && (!o->has_wscale || r.wscale == o->wscale));
    FUZZ_CHECK(r.sack_perm == o->sack_perm && r.has_ts == o->has_ts);
    FUZZ_CHECK(!o->has_ts || (r.ts_val == o->ts_val && r.ts_ecr == o->ts_ecr));
    FUZZ_CHECK(r.sack_count == o->sack_count);
    FUZZ_CHECK(memcmp(r.sack, o->sack, o->sack_count * sizeof o->sack[0]) == 0);
}

static void tcp_layer(const uint8_t *seg, size_t len, const uint8_t *src, const uint8_t *dst, int v6)
{
    struct wire_tcp t;
    if (wire_tcp_parse(seg, len, &t) != WIRE_OK)
        return;
    FUZZ_CHECK(t.hdr_len >= WIRE_TCP_HDR_MIN && t.hdr_len <= WIRE_TCP_HDR_MAX && t.hdr_len <= len);
    FUZZ_CHECK(t.opts_len == (size_t)t.hdr_len - WIRE_TCP_HDR_MIN);
    FUZZ_CHECK(t.payload == seg + t.hdr_len && t.payload_len == len - t.hdr_len);
    FUZZ_CHECK(t.opt.sack_count <= WIRE_TCP_SACK_MAX);
    check_opts_roundtrip(&t.opt);

    /* The header re-emitted from the parse is the header that came in. */
    uint8_t hdr[WIRE_TCP_HDR_MAX];
    int hl = wire_tcp_emit(hdr, sizeof hdr, &t);
    FUZZ_CHECK(hl == t.hdr_len);
    /* reserved bits and the urgent pointer aside, every byte matches */
    uint8_t a[WIRE_TCP_HDR_MAX], b[WIRE_TCP_HDR_MAX];
    memcpy(a, seg, (size_t)hl);
    memcpy(b, hdr, (size_t)hl);
    a[12] &= 0xf1; /* reserved bits (RES, not AE) may be dropped */
    b[12] &= 0xf1;
    FUZZ_CHECK(memcmp(a, b, (size_t)hl) == 0);

    /* A checksum we store always verifies. */
    if (src && len <= 65535) {
        uint8_t *copy = malloc(len);
        FUZZ_CHECK(copy);
        memcpy(copy, seg, len);
        if (v6) {
            wire_tcp_set_csum_ipv6(copy, len, src, dst);
            FUZZ_CHECK(wire_tcp_csum_ok_ipv6(copy, len, src, dst));
        } else {
            uint32_t s = (uint32_t)src[0] << 24 | (uint32_t)src[1] << 16 | (uint32_t)src[2] << 8 | src[3];
            uint32_t d = (uint32_t)dst[0] << 24 | (uint32_t)dst[1] << 16 | (uint32_t)dst[2] << 8 | dst[3];
            wire_tcp_set_csum_ipv4(copy, len, s, d);
            FUZZ_CHECK(wire_tcp_csum_ok_ipv4(copy, len, s, d));
        }
        free(copy);
    }
}

static void ipv4_layer(const uint8_t *buf, size_t len, unsigned flags)
{
    struct wire_ipv4 ip;
    if (wire_ipv4_parse(buf, len, flags, &ip) != WIRE_OK)
        return;
    FUZZ_CHECK(ip.hdr_len >= WIRE_IPV4_HDR_MIN && ip.hdr_len <= WIRE_IPV4_HDR_MAX && ip.hdr_len <= len);
    FUZZ_CHECK(ip.payload == buf + ip.hdr_len);
    FUZZ_CHECK(ip.payload_len <= len - ip.hdr_len);
    FUZZ_CHECK(ip.payload_len + ip.hdr_len <= ip.total_len || ip.truncated);
    FUZZ_CHECK(ip.options_len == (size_t)ip.hdr_len - WIRE_IPV4_HDR_MIN);
    if (!(flags & WIRE_IPV4_ALLOW_TRUNC))
        FUZZ_CHECK(!ip.truncated && ip.total_len <= len);
    if (flags & WIRE_IPV4_VERIFY_CSUM)
        FUZZ_CHECK(wire_csum_fold(wire_csum_add(0, buf, ip.hdr_len)) == 0 ||
                   wire_csum_fold(wire_csum_add(0, buf, ip.hdr_len)) == 0xffff);
    /* A header we emit parses back with the same fields. */
    uint8_t h[WIRE_IPV4_HDR_MIN];
    struct wire_ipv4 in = ip;
    size_t plen = ip.total_len >= ip.hdr_len ? ip.total_len - ip.hdr_len : 0;
    if (plen + WIRE_IPV4_HDR_MIN <= 65535 && wire_ipv4_emit(h, sizeof h, &in, plen) == WIRE_IPV4_HDR_MIN) {
        struct wire_ipv4 back;
        FUZZ_CHECK(wire_ipv4_parse(h, sizeof h, WIRE_IPV4_VERIFY_CSUM | WIRE_IPV4_ALLOW_TRUNC, &back) ==
                   WIRE_OK);
        FUZZ_CHECK(back.src == ip.src && back.dst == ip.dst && back.proto == ip.proto && back.ttl == ip.ttl);
        FUZZ_CHECK(back.total_len == plen + WIRE_IPV4_HDR_MIN);
    }
    if (ip.proto == WIRE_IPPROTO_TCP && ip.frag_off == 0 && !ip.mf) {
        uint8_t s[4], d[4];
        for (int i = 0; i < 4; i++) {
            s[i] = (uint8_t)(ip.src >> (24 - 8 * i));
            d[i] = (uint8_t)(ip.dst >> (24 - 8 * i));
        }
        tcp_layer(ip.payload, ip.payload_len, s, d, 0);
    }
}

static void ipv6_layer(const uint8_t *buf, size_t len, unsigned flags)
{
    struct wire_ipv6 ip;
    if (wire_ipv6_parse(buf, len, flags, &ip) != WIRE_OK)
        return;
    FUZZ_CHECK(ip.payload >= buf + WIRE_IPV6_HDR_LEN && ip.payload + ip.payload_len <= buf + len);
    FUZZ_CHECK(ip.payload_len <= ip.upper_len || ip.truncated);
    if (!(flags & WIRE_IPV6_ALLOW_TRUNC))
        FUZZ_CHECK(!ip.truncated);
    if (ip.proto == WIRE_IPPROTO_TCP && (!ip.has_frag || ip.atomic))
        tcp_layer(ip.payload, ip.payload_len, ip.src, ip.dst, 1);
    if (ip.proto == WIRE_IPPROTO_ICMPV6) {
        struct wire_icmpv6 m;
        if (wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m) == WIRE_OK) {
            FUZZ_CHECK(m.body + m.body_len == ip.payload + ip.payload_len);
            struct wire_icmpv6_quote q;
            if (wire_icmpv6_is_error(m.type) && wire_icmpv6_quote_parse(&m, &q) == WIRE_OK)
                FUZZ_CHECK(q.payload_len >= 8 && q.payload + q.payload_len <= m.body + m.body_len);
        }
    }
}

static void by_ethertype(uint16_t type, const uint8_t *p, size_t len, unsigned trunc)
{
    if (type == WIRE_ETHERTYPE_IPV4)
        ipv4_layer(p, len, trunc ? WIRE_IPV4_ALLOW_TRUNC : WIRE_IPV4_VERIFY_CSUM);
    else if (type == WIRE_ETHERTYPE_IPV6)
        ipv6_layer(p, len, trunc ? WIRE_IPV6_ALLOW_TRUNC : 0);
}

static void link_layer(int (*parse)(const uint8_t *, size_t, struct wire_link *), const uint8_t *buf,
                       size_t len, unsigned trunc)
{
    struct wire_link l;
    if (parse(buf, len, &l) != WIRE_OK)
        return;
    FUZZ_CHECK(l.payload >= buf && l.payload + l.payload_len <= buf + len);
    by_ethertype(l.type, l.payload, l.payload_len, trunc);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1); /* exactly len bytes: reads past it are caught */
    FUZZ_CHECK(buf);
    memcpy(buf, data + 1, len);
    unsigned trunc = sel & 0x80u; /* capture mode: truncated datagrams allowed */
    switch (sel & 0x0fu) {
    case 0: {
        struct wire_eth e;
        if (wire_eth_parse(buf, len, &e) == WIRE_OK) {
            FUZZ_CHECK(e.payload >= buf && e.payload + e.payload_len <= buf + len);
            FUZZ_CHECK(e.nvlan <= WIRE_ETH_VLAN_MAX);
            by_ethertype(e.type, e.payload, e.payload_len, trunc);
        }
        break;
    }
    case 1: link_layer(wire_sll_parse, buf, len, trunc); break;
    case 2: link_layer(wire_sll2_parse, buf, len, trunc); break;
    case 3: link_layer(wire_null_parse, buf, len, trunc); break;
    case 4: link_layer(wire_nflog_parse, buf, len, trunc); break;
    case 5: link_layer(wire_ipoib_parse, buf, len, trunc); break;
    case 6: case 7: case 8: ipv4_layer(buf, len, trunc ? WIRE_IPV4_ALLOW_TRUNC : WIRE_IPV4_VERIFY_CSUM); break;
    case 9: case 10: ipv6_layer(buf, len, trunc ? WIRE_IPV6_ALLOW_TRUNC : 0); break;
    case 11: case 12: tcp_layer(buf, len, NULL, NULL, 0); break;
    default: {
        struct wire_tcp_opts o;
        if (wire_tcp_parse_opts(buf, len, &o) == WIRE_OK) {
            FUZZ_CHECK(o.sack_count <= WIRE_TCP_SACK_MAX && o.nkinds <= WIRE_TCP_OPT_MAX);
            check_opts_roundtrip(&o);
        }
        break;
    }
    }
    free(buf);
    return 0;
}
