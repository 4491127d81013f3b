#include "decode.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/linklayer.h"

/* LINKTYPE_* values (tcpdump.org/linktypes.html); libpcap maps the DLT_
 * values it reports onto these for the ones below. */
#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_RAW 101
#define LT_LOOP 108
#define LT_LINUX_SLL 113
#define LT_NFLOG 239
#define LT_IPOIB 242
#define LT_LINUX_SLL2 276
#define DLT_RAW_BSD 12 /* DLT_RAW on most BSDs */
#define DLT_RAW_OPENBSD 14
#define LT_IPV4 228
#define LT_IPV6 229

const char *tr_skip_reason(enum tr_skip s)
{
    switch (s) {
    case TR_DECODED: return "decoded";
    case TR_SKIP_NOT_IP: return "not IP";
    case TR_SKIP_NOT_TCP: return "IP but not TCP";
    case TR_SKIP_FRAGMENT: return "IP fragment (held for reassembly, or dropped)";
    case TR_SKIP_LINK_TRUNC: return "link-layer header truncated or malformed";
    case TR_SKIP_IP_BAD: return "IP header malformed or truncated";
    case TR_SKIP_TCP_TRUNC: return "TCP header truncated before the ports";
    case TR_SKIP_LINKTYPE: return "unknown link type";
    case TR_SKIP_COUNT: break;
    }
    return "?";
}

int tr_linktype_known(int lt)
{
    switch (lt) {
    case LT_NULL: case LT_ETHERNET: case LT_RAW: case LT_LOOP: case LT_LINUX_SLL: case LT_NFLOG:
    case LT_IPOIB: case LT_LINUX_SLL2: case DLT_RAW_BSD: case DLT_RAW_OPENBSD: case LT_IPV4: case LT_IPV6:
        return 1;
    }
    return 0;
}

/* The fixed header of a segment wire_tcp_parse() refused because its
 * options were cut off by the snaplen or by the IP length: Wireshark still
 * shows (and, with a full IP length, analyses) such segments. */
static void fixed_header(const uint8_t *seg, size_t caplen, struct tr_pkt *p)
{
    p->seq = wire_get32(seg + 4);
    p->ack = wire_get32(seg + 8);
    p->hdr_len = (uint8_t)((seg[12] >> 4) * 4);
    p->flags = (uint16_t)(((seg[12] & 0x0f) << 8) | seg[13]);
    p->win = wire_get16(seg + 14);
    p->urg = wire_get16(seg + 18);
    size_t have = caplen < p->hdr_len ? caplen : p->hdr_len;
    p->opts_bad = wire_tcp_parse_opts(seg + WIRE_TCP_HDR_MIN, have - WIRE_TCP_HDR_MIN, &p->opt) != WIRE_OK ||
                  have < p->hdr_len;
}

/* The length of the Fast Open option (kind 34, RFC 7413 §4.1.1, or the
 * experimental kind 254 with magic 0xF989 that Linux sent before 34 was
 * assigned), counted without the magic: 2 asks for a cookie, more carries
 * one. The option codec skips these kinds. */
static uint8_t tfo_len(const uint8_t *o, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (o[i] == 0)
            break;
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2)
            break;
        if (o[i] == 34)
            return o[i + 1];
        if (o[i] == 254 && o[i + 1] >= 4 && i + 3 < n && o[i + 2] == 0xf9 && o[i + 3] == 0x89)
            return (uint8_t)(o[i + 1] - 2);
        i += o[i + 1];
    }
    return 0;
}

static enum tr_skip decode_tcp(const uint8_t *seg, size_t caplen, size_t stated, struct tr_pkt *p)
{
    if (caplen < 4)
        return TR_SKIP_TCP_TRUNC;
    p->sport = wire_get16(seg);
    p->dport = wire_get16(seg + 2);
    struct wire_tcp t;
    int r = wire_tcp_parse(seg, caplen, &t);
    if (r == WIRE_ETRUNC || r == WIRE_EHDRLEN) {
        if (caplen < WIRE_TCP_HDR_MIN || (seg[12] >> 4) * 4 < WIRE_TCP_HDR_MIN) {
            /* Wireshark shows the ports and stops; so do we. */
            p->kind = TR_TCP_PORTS_ONLY;
            return TR_DECODED;
        }
        fixed_header(seg, caplen, p);
        p->captured_len = 0;
    } else {
        p->seq = t.seq;
        p->ack = t.ack;
        p->flags = t.flags;
        p->win = t.wnd;
        p->urg = t.urg;
        p->hdr_len = t.hdr_len;
        p->opt = t.opt;
        p->tfo_len = tfo_len(t.opts_raw, t.opts_len);
        p->opts_bad = r != WIRE_OK;
        p->captured_len = (uint32_t)t.payload_len;
    }
    if (stated < p->hdr_len) {
        p->kind = TR_TCP_SHORT;
        p->len = 0;
        p->captured_len = 0;
        return TR_DECODED;
    }
    p->kind = TR_TCP_OK;
    p->len = (uint32_t)(stated - p->hdr_len);
    if (p->captured_len > p->len)
        p->captured_len = p->len;
    return TR_DECODED;
}

/* Anonymised traces (and some offloading NICs) leave the checksum field
 * zero; such a segment is not evidence of corruption, so it is not judged. */
static bool zeroed_csum(const uint8_t *seg)
{
    return seg[16] == 0 && seg[17] == 0;
}

struct defrag {
    struct tr_frags *fr; /* NULL: fragments are skipped */
    int64_t ts;
    bool oom;
};

static enum tr_skip decode_ip(uint16_t ethertype, const uint8_t *buf, size_t len, size_t reported, unsigned flags,
                              struct tr_pkt *p, struct defrag *df);

/* Hands a fragment to the reassembler; the frame that completes a datagram
 * is decoded as that datagram. Only the captured part of the fragment is
 * kept; its stated length still counts, as for any segment. */
static enum tr_skip fragment(struct defrag *df, struct tr_frag_in *in, uint16_t ethertype, unsigned flags,
                             struct tr_pkt *p)
{
    if (!df || !df->fr)
        return TR_SKIP_FRAGMENT;
    const uint8_t *dgram;
    size_t caplen, len;
    int r = tr_frags_add(df->fr, df->ts, in, &dgram, &caplen, &len);
    if (r < 0)
        df->oom = true;
    if (r <= 0)
        return TR_SKIP_FRAGMENT;
    enum tr_skip s = decode_ip(ethertype, dgram, caplen, len, flags, p, NULL);
    p->reassembled = s == TR_DECODED;
    return s;
}

static enum tr_skip decode_ip(uint16_t ethertype, const uint8_t *buf, size_t len, size_t reported, unsigned flags,
                              struct tr_pkt *p, struct defrag *df)
{
    if (ethertype == 0 && len > 0)
        ethertype = (buf[0] >> 4) == 6 ? 0x86dd : 0x0800; /* raw IP: the version nibble decides */
    if (ethertype == 0x0800) {
        struct wire_ipv4 ip;
        if (wire_ipv4_parse(buf, len, WIRE_IPV4_ALLOW_TRUNC, &ip) != WIRE_OK)
            return TR_SKIP_IP_BAD;
        if (ip.proto != WIRE_IPPROTO_TCP)
            return TR_SKIP_NOT_TCP;
        if (ip.mf || ip.frag_off) {
            struct tr_frag_in in = {.af = 4, .hdr = buf, .hdr_len = ip.hdr_len, .id = ip.id, .proto = ip.proto,
                                    .off = ip.frag_off, .mf = ip.mf, .data = ip.payload,
                                    .len = (size_t)ip.total_len - ip.hdr_len, .caplen = ip.payload_len};
            wire_put32(in.src, ip.src);
            wire_put32(in.dst, ip.dst);
            return fragment(df, &in, ethertype, flags, p);
        }
        p->src.af = p->dst.af = 4;
        memset(p->src.a, 0, 16);
        memset(p->dst.a, 0, 16);
        wire_put32(p->src.a, ip.src);
        wire_put32(p->dst.a, ip.dst);
        p->ip_len = ip.total_len;
        /* A frame shorter on the wire than its IP length claims: the
         * frame's own length bounds the segment (Wireshark does the same). */
        size_t tcplen = (size_t)ip.total_len - ip.hdr_len;
        if (reported >= ip.hdr_len && reported - ip.hdr_len < tcplen)
            tcplen = reported - ip.hdr_len;
        enum tr_skip s = decode_tcp(ip.payload, ip.payload_len, tcplen, p);
        if (s == TR_DECODED && p->kind == TR_TCP_OK && ip.payload_len >= tcplen &&
            tcplen == (size_t)ip.total_len - ip.hdr_len && (flags & TR_DECODE_CSUM) && !zeroed_csum(ip.payload))
            p->csum = wire_tcp_csum_ipv4(ip.payload, tcplen, ip.src, ip.dst) == 0 ? TR_CSUM_OK : TR_CSUM_BAD;
        return s;
    }
    if (ethertype == 0x86dd) {
        struct wire_ipv6 ip;
        if (wire_ipv6_parse(buf, len, WIRE_IPV6_ALLOW_TRUNC, &ip) != WIRE_OK)
            return TR_SKIP_IP_BAD;
        if (ip.has_frag && !ip.atomic) {
            /* Every fragment names the header after the Fragment header:
             * TCP, or an extension header still to be walked. */
            if (ip.proto != WIRE_IPPROTO_TCP && ip.proto != WIRE_IPV6_DSTOPTS && ip.proto != WIRE_IPV6_AH &&
                ip.proto != WIRE_IPV6_ROUTING)
                return TR_SKIP_NOT_TCP;
            struct tr_frag_in in = {.af = 6, .hdr = buf, .hdr_len = WIRE_IPV6_HDR_LEN, .id = ip.frag_id,
                                    .proto = ip.proto, .off = ip.frag_off, .mf = ip.mf, .data = ip.payload,
                                    .len = ip.upper_len, .caplen = ip.payload_len};
            memcpy(in.src, ip.src, 16);
            memcpy(in.dst, ip.dst, 16);
            return fragment(df, &in, ethertype, flags, p);
        }
        if (ip.proto != WIRE_IPPROTO_TCP)
            return TR_SKIP_NOT_TCP;
        p->src.af = p->dst.af = 6;
        memcpy(p->src.a, ip.src, 16);
        memcpy(p->dst.a, ip.dst, 16);
        p->ip_len = (uint32_t)ip.plen + WIRE_IPV6_HDR_LEN;
        size_t tcplen = ip.upper_len, hdrs = (size_t)(ip.payload - buf);
        if (reported >= hdrs && reported - hdrs < tcplen)
            tcplen = reported - hdrs;
        enum tr_skip s = decode_tcp(ip.payload, ip.payload_len, tcplen, p);
        if (s == TR_DECODED && p->kind == TR_TCP_OK && ip.payload_len >= ip.upper_len && tcplen == ip.upper_len &&
            (flags & TR_DECODE_CSUM) && !zeroed_csum(ip.payload))
            p->csum = wire_tcp_csum_ipv6(ip.payload, ip.upper_len, ip.src, ip.dst) == 0 ? TR_CSUM_OK : TR_CSUM_BAD;
        return s;
    }
    return TR_SKIP_NOT_IP;
}

static enum tr_skip decode_frame(int lt, const uint8_t *frame, size_t caplen, size_t wirelen, unsigned flags,
                                 struct tr_pkt *p, struct defrag *df)
{
    struct wire_link l;
    int r = WIRE_OK;
    p->csum = TR_CSUM_UNKNOWN;
    switch (lt) {
    case LT_ETHERNET: {
        struct wire_eth e;
        r = wire_eth_parse(frame, caplen, &e);
        if (r == WIRE_EUNSUPP)
            return TR_SKIP_NOT_IP;
        if (r != WIRE_OK)
            return TR_SKIP_LINK_TRUNC;
        l.type = e.type;
        l.payload = e.payload;
        l.payload_len = e.payload_len;
        break;
    }
    case LT_RAW: case DLT_RAW_BSD: case DLT_RAW_OPENBSD:
        l.type = 0;
        l.payload = frame;
        l.payload_len = caplen;
        break;
    case LT_IPV4:
        l.type = 0x0800;
        l.payload = frame;
        l.payload_len = caplen;
        break;
    case LT_IPV6:
        l.type = 0x86dd;
        l.payload = frame;
        l.payload_len = caplen;
        break;
    case LT_NULL: case LT_LOOP:
        r = wire_null_parse(frame, caplen, &l);
        break;
    case LT_LINUX_SLL:
        r = wire_sll_parse(frame, caplen, &l);
        break;
    case LT_LINUX_SLL2:
        r = wire_sll2_parse(frame, caplen, &l);
        break;
    case LT_NFLOG:
        r = wire_nflog_parse(frame, caplen, &l);
        break;
    case LT_IPOIB:
        r = wire_ipoib_parse(frame, caplen, &l);
        break;
    default:
        return TR_SKIP_LINKTYPE;
    }
    if (lt != LT_ETHERNET && lt != LT_RAW && lt != DLT_RAW_BSD && lt != DLT_RAW_OPENBSD && lt != LT_IPV4 &&
        lt != LT_IPV6) {
        if (r == WIRE_EUNSUPP)
            return TR_SKIP_NOT_IP;
        if (r != WIRE_OK)
            return TR_SKIP_LINK_TRUNC;
    }
    size_t off = (size_t)(l.payload - frame);
    return decode_ip(l.type, l.payload, l.payload_len, wirelen > off ? wirelen - off : 0, flags, p, df);
}

enum tr_skip tr_decode(int lt, const uint8_t *frame, size_t caplen, size_t wirelen, unsigned flags, struct tr_pkt *p)
{
    return decode_frame(lt, frame, caplen, wirelen, flags, p, NULL);
}

enum tr_skip tr_decode_frags(struct tr_frags *fr, int64_t ts, int lt, const uint8_t *frame, size_t caplen,
                             size_t wirelen, unsigned flags, struct tr_pkt *p, bool *oom)
{
    struct defrag df = {fr, ts, false};
    enum tr_skip s = decode_frame(lt, frame, caplen, wirelen, flags, p, &df);
    *oom = df.oom;
    return s;
}
