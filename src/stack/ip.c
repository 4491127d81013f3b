/* IPv4 for the stack's interfaces: receive checks, routing to an interface,
 * and framing TCP segments for the link. Fragments are not reassembled.
 * IPv6 packets are handed to ip6.c. */
#include <errno.h>
#include <string.h>

#include "stack.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"

int synack_iface_add(synack_stack *s, const synack_iface_config *cfg)
{
    if (!cfg || !cfg->ops.transmit)
        return -EINVAL;
    bool v4 = cfg->addr.family == SYNACK_AF_INET;
    bool v6 = cfg->addr.family == SYNACK_AF_INET6 || cfg->addr6.family == SYNACK_AF_INET6;
    if (!v4 && !v6)
        return -EINVAL;
    if ((v4 && cfg->prefix_len > 32) || (cfg->addr.family == SYNACK_AF_INET6 && cfg->prefix_len > 128) ||
        cfg->prefix6_len > 128 || (cfg->addr6.family && cfg->addr6.family != SYNACK_AF_INET6) ||
        (cfg->addr6.family && !v4))
        return -EINVAL;
    if (s->n_ifaces == STACK_MAX_IFACES)
        return -ENOSPC;
    if (cfg->offload & ~SYNACK_OFFLOAD_TX_CSUM)
        return -EINVAL;
    /* RFC 8200 §5: an IPv6 link carries at least 1280 bytes. */
    if (cfg->mtu && (cfg->mtu < (v6 ? WIRE_IPV6_MIN_MTU : 68u) || cfg->mtu > 65535))
        return -EINVAL;
    struct iface *f = &s->ifaces[s->n_ifaces];
    memset(f, 0, sizeof *f);
    f->cfg = *cfg;
    if (!f->cfg.mtu)
        f->cfg.mtu = 1500;
    if (v4) {
        f->has4 = true;
        f->addr = synack_addr_ipv4(&cfg->addr);
        f->mask = cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0;
    }
    if (cfg->addr.family == SYNACK_AF_INET6) {
        f->has6 = true;
        memcpy(f->addr6, cfg->addr.bytes, 16);
        f->plen6 = cfg->prefix_len;
    } else if (cfg->addr6.family == SYNACK_AF_INET6) {
        f->has6 = true;
        memcpy(f->addr6, cfg->addr6.bytes, 16);
        f->plen6 = cfg->prefix6_len;
    }
    return s->n_ifaces++;
}

struct iface *ip_route(synack_stack *s, uint32_t dst)
{
    struct iface *dflt = NULL;
    for (int i = 0; i < s->n_ifaces; i++) {
        struct iface *f = &s->ifaces[i];
        if (!f->has4)
            continue;
        if ((dst & f->mask) == (f->addr & f->mask))
            return f;
        if (!dflt)
            dflt = f;
    }
    /* No on-link match: the first IPv4 interface is the default route. */
    return dflt;
}

bool ip_is_local(const synack_stack *s, uint32_t dst)
{
    for (int i = 0; i < s->n_ifaces; i++)
        if (s->ifaces[i].has4 && s->ifaces[i].addr == dst)
            return true;
    return false;
}

struct iface *ip_route_any(synack_stack *s, uint8_t family, const uint8_t addr[16])
{
    return family == SYNACK_AF_INET6 ? ip6_route(s, addr) : ip_route(s, wire_get32(addr));
}

bool ip_is_local_any(const synack_stack *s, uint8_t family, const uint8_t addr[16])
{
    return family == SYNACK_AF_INET6 ? ip6_is_local(s, addr) : ip_is_local(s, wire_get32(addr));
}

int synack_iface_set_offload(synack_stack *s, int ifindex, unsigned offload)
{
    if (!s || ifindex < 0 || ifindex >= s->n_ifaces || (offload & ~SYNACK_OFFLOAD_TX_CSUM))
        return -EINVAL;
    s->ifaces[ifindex].cfg.offload = offload;
    return 0;
}

/* The TCP checksum of a segment about to leave through f: left to a link
 * that computes it where needed, unless a tap is to see the frame. */
bool ip_tx_csum_offloaded(const synack_stack *s, const struct iface *f)
{
    return (f->cfg.offload & SYNACK_OFFLOAD_TX_CSUM) && !s->tap;
}

void synack_input(synack_stack *s, int ifindex, const uint8_t *frame, size_t len)
{
    synack_input_at(s, ifindex, frame, len, s->cfg.clock(s->cfg.clock_ctx), 0);
}

void synack_input_at(synack_stack *s, int ifindex, const uint8_t *frame, size_t len, synack_time now,
                     unsigned flags)
{
    stack_now_at(s, now);
    if (s->tap && frame)
        s->tap(s->tap_ctx, SYNACK_TAP_IN, ifindex, frame, len, s->tcp.now);
    s->st.ip_in++;
    if (ifindex < 0 || ifindex >= s->n_ifaces || !frame) {
        s->st.ip_drop_hdr++;
        return;
    }
    if (len && frame[0] >> 4 == 6) {
        ip6_input(s, ifindex, frame, len, flags);
        return;
    }
    struct wire_ipv4 ip;
    int r = wire_ipv4_parse(frame, len, WIRE_IPV4_VERIFY_CSUM, &ip);
    if (r == WIRE_ECSUM) {
        s->st.ip_drop_csum++;
        return;
    }
    if (r != WIRE_OK) {
        s->st.ip_drop_hdr++;
        return;
    }
    if (!ip_is_local(s, ip.dst)) {
        s->st.ip_drop_addr++;
        return;
    }
    if (ip.mf || ip.frag_off) {
        s->st.ip_drop_frag++;
        return;
    }
    if (ip.proto == WIRE_IPPROTO_ICMP) {
        icmp_input(s, &ip);
        return;
    }
    if (ip.proto != WIRE_IPPROTO_TCP) {
        s->st.ip_drop_proto++;
        /* RFC 1122 §3.2.2.1: protocol unreachable; there is no UDP here, so
         * a UDP datagram draws port unreachable, as from a Linux host with
         * no socket on the port. */
        icmp_send_unreach(s, &ip, frame,
                          ip.proto == WIRE_IPPROTO_UDP ? WIRE_ICMP_PORT_UNREACH : WIRE_ICMP_PROT_UNREACH);
        return;
    }
    s->st.tcp_in++;
    /* RFC 9293 §3.1: the checksum covers the pseudo-header; check it before
     * believing any field, options included. */
    if (ip.payload_len < WIRE_TCP_HDR_MIN) {
        s->st.tcp_drop_hdr++;
        return;
    }
    if (!(flags & SYNACK_RX_CSUM_OK) && !wire_tcp_csum_ok_ipv4(ip.payload, ip.payload_len, ip.src, ip.dst)) {
        s->st.tcp_drop_csum++;
        return;
    }
    struct tcp_tuple t;
    memset(&t, 0, sizeof t);
    t.family = SYNACK_AF_INET;
    wire_put32(t.laddr, ip.dst);
    wire_put32(t.raddr, ip.src);
    ip_tcp_deliver(s, &t, ip.payload, ip.payload_len, ip.tos);
}

void ip_tcp_deliver(synack_stack *s, struct tcp_tuple *t, const uint8_t *payload, size_t len, uint8_t tos)
{
    struct wire_tcp seg;
    int r = wire_tcp_parse(payload, len, &seg);
    if (r == WIRE_EOPTLEN) {
        s->st.tcp_drop_opts++;
        return;
    }
    if (r != WIRE_OK) {
        s->st.tcp_drop_hdr++;
        return;
    }
    t->lport = seg.dport;
    t->rport = seg.sport;
    seg.ecn = tos & WIRE_ECN_MASK; /* RFC 3168 §5: CE reaches the core */
    s->rx_ds = tos & (uint8_t)~WIRE_ECN_MASK;
    tcp_segment_in(s, t, &seg);
    s->rx_ds = 0;
}

int ip_output_tcp(void *stack, const struct tcb *tcb, const struct tcp_tuple *t, const struct wire_tcp *hdr,
                  const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2)
{
    synack_stack *s = stack;
    struct ip_out o;
    ipopt_out(s, tcb, t->family, &o); /* IP_TOS, IP_TTL, IP_MTU_DISCOVER (ipopt.c) */
    if (t->family == SYNACK_AF_INET6)
        return ip6_output_tcp(s, &o, t, hdr, p1, n1, p2, n2);
    uint32_t src = wire_get32(t->laddr), dst = wire_get32(t->raddr);
    struct iface *f = ip_route(s, dst);
    if (!f) {
        s->st.ip_out_noroute++;
        return 0;
    }
    uint8_t *tcp = s->tx + WIRE_IPV4_HDR_MIN;
    int hl = wire_tcp_emit(tcp, sizeof s->tx - WIRE_IPV4_HDR_MIN, hdr);
    size_t seglen = (size_t)hl + n1 + n2;
    if (hl < 0 || WIRE_IPV4_HDR_MIN + seglen > sizeof s->tx) {
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
        wire_tcp_set_csum_ipv4(tcp, seglen, src, dst);
    /* RFC 3168 §5: the core chose the ECN codepoint (ECT(0) on new data),
     * the socket the DSCP */
    struct wire_ipv4 ip = {.tos = (uint8_t)(o.ds | (hdr->ecn & WIRE_ECN_MASK)),
                           .id = s->ip_id++,
                           .df = o.df,
                           .ttl = o.ttl,
                           .proto = WIRE_IPPROTO_TCP,
                           .src = src,
                           .dst = dst};
    wire_ipv4_emit(s->tx, sizeof s->tx, &ip, seglen);
    return ip_send(s, f, WIRE_IPV4_HDR_MIN + seglen);
}

int ip_send(synack_stack *s, struct iface *f, size_t len)
{
    if (s->tap)
        s->tap(s->tap_ctx, SYNACK_TAP_OUT, (int)(f - s->ifaces), s->tx, len, s->tcp.now);
    int r = f->cfg.ops.transmit(f->cfg.ctx, s->tx, len);
    if (r >= 0) {
        s->st.ip_out++;
        return 0;
    }
    s->st.ip_out_drop++;
    /* A link out of buffers or room (a TUN write's ENOBUFS / EAGAIN, a
     * qdisc that drops: Linux's NET_XMIT_DROP) refused the frame locally:
     * TCP is told, and counts it as never sent. Any other failure is a
     * loss like one on the wire, which TCP's timers repair. */
    return r == -ENOBUFS || r == -EAGAIN || r == -ENOMEM ? TCP_XMIT_REFUSED : 0;
}
