#include "decode.h"

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
    case TR_SKIP_FRAGMENT: return "IP fragment (not reassembled)";
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

static enum tr_skip decode_tcp(const uint8_t *seg, size_t caplen, size_t stated, struct tr_pkt *p)
{
    if (caplen < 4)
        return TR_SKIP_TCP_TRUNC;
    p->sport = wire_get16(seg);
    p->dport = wire_get16(seg + 2);
    struct wire_tcp t;
    int r = wire_tcp_parse(seg, caplen, &t);
    if (r == WIRE_ETRUNC || r == WIRE_EHDRLEN) {
        /* Wireshark shows ports and stops; so do we. */
        p->kind = TR_TCP_PORTS_ONLY;
        return TR_DECODED;
    }
    p->seq = t.seq;
    p->ack = t.ack;
    p->flags = t.flags;
    p->win = t.wnd;
    p->urg = t.urg;
    p->hdr_len = t.hdr_len;
    p->opt = t.opt;
    p->opts_bad = r != WIRE_OK;
    p->captured_len = (uint32_t)t.payload_len;
    if (stated < t.hdr_len) {
        p->kind = TR_TCP_SHORT;
        p->len = 0;
        p->captured_len = 0;
        return TR_DECODED;
    }
    p->kind = TR_TCP_OK;
    p->len = (uint32_t)(stated - t.hdr_len);
    if (p->captured_len > p->len)
        p->captured_len = p->len;
    return TR_DECODED;
}

static enum tr_skip decode_ip(uint16_t ethertype, const uint8_t *buf, size_t len, struct tr_pkt *p)
{
    if (ethertype == 0 && len > 0)
        ethertype = (buf[0] >> 4) == 6 ? 0x86dd : 0x0800; /* raw IP: the version nibble decides */
    if (ethertype == 0x0800) {
        struct wire_ipv4 ip;
        if (wire_ipv4_parse(buf, len, WIRE_IPV4_ALLOW_TRUNC, &ip) != WIRE_OK)
            return TR_SKIP_IP_BAD;
        if (ip.proto != WIRE_IPPROTO_TCP)
            return TR_SKIP_NOT_TCP;
        if (ip.mf || ip.frag_off)
            return TR_SKIP_FRAGMENT;
        p->src.af = p->dst.af = 4;
        memset(p->src.a, 0, 16);
        memset(p->dst.a, 0, 16);
        wire_put32(p->src.a, ip.src);
        wire_put32(p->dst.a, ip.dst);
        p->ip_len = ip.total_len;
        size_t tcplen = (size_t)ip.total_len - ip.hdr_len;
        enum tr_skip s = decode_tcp(ip.payload, ip.payload_len, tcplen, p);
        if (s == TR_DECODED && p->kind == TR_TCP_OK && ip.payload_len >= tcplen)
            p->csum = wire_tcp_csum_ipv4(ip.payload, tcplen, ip.src, ip.dst) == 0 ? TR_CSUM_OK : TR_CSUM_BAD;
        return s;
    }
    if (ethertype == 0x86dd) {
        struct wire_ipv6 ip;
        if (wire_ipv6_parse(buf, len, WIRE_IPV6_ALLOW_TRUNC, &ip) != WIRE_OK)
            return TR_SKIP_IP_BAD;
        if (ip.has_frag && !ip.atomic)
            return TR_SKIP_FRAGMENT;
        if (ip.proto != WIRE_IPPROTO_TCP)
            return TR_SKIP_NOT_TCP;
        p->src.af = p->dst.af = 6;
        memcpy(p->src.a, ip.src, 16);
        memcpy(p->dst.a, ip.dst, 16);
        p->ip_len = (uint32_t)ip.plen + WIRE_IPV6_HDR_LEN;
        enum tr_skip s = decode_tcp(ip.payload, ip.payload_len, ip.upper_len, p);
        if (s == TR_DECODED && p->kind == TR_TCP_OK && ip.payload_len >= ip.upper_len)
            p->csum = wire_tcp_csum_ipv6(ip.payload, ip.upper_len, ip.src, ip.dst) == 0 ? TR_CSUM_OK : TR_CSUM_BAD;
        return s;
    }
    return TR_SKIP_NOT_IP;
}

enum tr_skip tr_decode(int lt, const uint8_t *frame, size_t caplen, struct tr_pkt *p)
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
    return decode_ip(l.type, l.payload, l.payload_len, p);
}
