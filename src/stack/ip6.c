/* IPv6 (RFC 8200) for the stack's interfaces: receive checks, routing to an
 * interface by prefix, and framing TCP segments. Extension headers are
 * walked to the upper layer (wire/ipv6.c); fragments are not reassembled,
 * as IPv4's are not. No neighbour discovery: IPv6 runs on links without
 * link-layer addresses (TUN, the in-memory link). */
#include <string.h>

#include "stack.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

static bool prefix_match(const uint8_t a[16], const uint8_t b[16], unsigned plen)
{
    unsigned whole = plen / 8, bits = plen % 8;
    if (memcmp(a, b, whole))
        return false;
    if (!bits)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - bits));
    return (a[whole] & mask) == (b[whole] & mask);
}

struct iface *ip6_route(synack_stack *s, const uint8_t dst[16])
{
    struct iface *dflt = NULL;
    for (int i = 0; i < s->n_ifaces; i++) {
        struct iface *f = &s->ifaces[i];
        if (!f->has6)
            continue;
        if (prefix_match(dst, f->addr6, f->plen6))
            return f;
        if (!dflt)
            dflt = f;
    }
    return dflt; /* the first IPv6 interface is the default route */
}

bool ip6_is_local(const synack_stack *s, const uint8_t addr[16])
{
    for (int i = 0; i < s->n_ifaces; i++)
        if (s->ifaces[i].has6 && !memcmp(s->ifaces[i].addr6, addr, 16))
            return true;
    return false;
}

/* RFC 4291 §2.7: multicast; §2.5.2 unspecified. Neither is a source a
 * segment may come from (RFC 9293 §3.10.7.2 for SYNs). */
static bool bad_source(const uint8_t a[16])
{
    static const uint8_t zero[16];
    return a[0] == 0xff || !memcmp(a, zero, 16);
}

void ip6_input(synack_stack *s, int ifindex, const uint8_t *frame, size_t len, unsigned flags)
{
    (void)ifindex;
    s->nst.ip6_in++;
    struct wire_ipv6 ip;
    if (wire_ipv6_parse(frame, len, 0, &ip) != WIRE_OK) {
        s->nst.ip6_drop_hdr++;
        return;
    }
    if (!ip6_is_local(s, ip.dst) || bad_source(ip.src)) {
        s->nst.ip6_drop_addr++;
        return;
    }
    /* RFC 6946: an atomic fragment is a whole packet. */
    if (ip.has_frag && !ip.atomic) {
        s->nst.ip6_drop_frag++;
        return;
    }
    if (ip.proto == WIRE_IPPROTO_ICMPV6) {
        icmp6_input(s, &ip);
        return;
    }
    if (ip.proto != WIRE_IPPROTO_TCP) {
        s->nst.ip6_drop_proto++;
        /* RFC 4443 §3.1 port unreachable for UDP (no UDP here, as a Linux
         * host with no socket on the port); RFC 8200 §4 parameter problem,
         * unrecognized next header, pointing at the field, otherwise. The
         * pointer is exact only without extension headers. */
        if (ip.proto == WIRE_IPPROTO_UDP)
            icmp6_send_error(s, &ip, frame, len, WIRE_ICMPV6_DEST_UNREACH, WIRE_ICMPV6_PORT_UNREACH, 0);
        else if (ip.proto != WIRE_IPV6_NONXT)
            icmp6_send_error(s, &ip, frame, len, WIRE_ICMPV6_PARAM_PROBLEM, WIRE_ICMPV6_UNK_NEXTHDR,
                             ip.n_ext ? 0 : 6);
        return;
    }
    s->st.tcp_in++;
    if (ip.payload_len < WIRE_TCP_HDR_MIN || ip.payload_len != ip.upper_len) {
        s->st.tcp_drop_hdr++;
        return;
    }
    /* RFC 8200 §8.1: the checksum is mandatory and covers the pseudo-header. */
    if (!(flags & SYNACK_RX_CSUM_OK) && !wire_tcp_csum_ok_ipv6(ip.payload, ip.payload_len, ip.src, ip.dst)) {
        s->st.tcp_drop_csum++;
        return;
    }
    struct tcp_tuple t;
    memset(&t, 0, sizeof t);
    t.family = SYNACK_AF_INET6;
    memcpy(t.laddr, ip.dst, 16);
    memcpy(t.raddr, ip.src, 16);
    ip_tcp_deliver(s, &t, ip.payload, ip.payload_len, ip.tclass);
}

int ip6_output_tcp(synack_stack *s, const struct ip_out *o, const struct tcp_tuple *t, const struct wire_tcp *hdr,
                   const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2)
{
    struct iface *f = ip6_route(s, t->raddr);
    if (!f) {
        s->st.ip_out_noroute++;
        return 0;
    }
    uint8_t *tcp = s->tx + WIRE_IPV6_HDR_LEN;
    int hl = wire_tcp_emit(tcp, sizeof s->tx - WIRE_IPV6_HDR_LEN, hdr);
    size_t seglen = (size_t)hl + n1 + n2;
    if (hl < 0 || WIRE_IPV6_HDR_LEN + seglen > sizeof s->tx || seglen > 0xffff) {
        s->st.ip_out_drop++;
        return 0;
    }
    if (n1)
        memcpy(tcp + hl, p1, n1);
    if (n2)
        memcpy(tcp + hl + n1, p2, n2);
    if (ip_tx_csum_offloaded(s, f))
        wire_put16(tcp + 16, 0);
    else
        wire_tcp_set_csum_ipv6(tcp, seglen, t->laddr, t->raddr);
    struct wire_ipv6 ip;
    memset(&ip, 0, sizeof ip);
    ip.hop_limit = o->ttl;
    ip.tclass = (uint8_t)(o->ds | (hdr->ecn & WIRE_ECN_MASK)); /* RFC 3168 §5: ECN in the traffic class */
    ip.proto = WIRE_IPPROTO_TCP;
    memcpy(ip.src, t->laddr, 16);
    memcpy(ip.dst, t->raddr, 16);
    wire_ipv6_emit(s->tx, sizeof s->tx, &ip, seglen);
    return ip_send(s, f, WIRE_IPV6_HDR_LEN + seglen);
}
