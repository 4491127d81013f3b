/* IP-level socket options, with Linux's values, defaults and errors
 * (net/ipv4/ip_sockglue.c do_ip_setsockopt, net/ipv6/ipv6_sockglue.c), and
 * the IP header fields they give each segment:
 *
 *  - IP_TOS / IPV6_TCLASS: the DS field (RFC 2474) of every packet the
 *    socket sends. TCP owns the ECN bits (RFC 3168 §5; Linux masks
 *    INET_ECN_MASK off a stream socket's value), so only the DSCP is kept.
 *    A TIME_WAIT record keeps it for its ACKs (Linux tw_tos, tw_tclass).
 *  - IP_TTL / IPV6_UNICAST_HOPS: -1 is the default, 64.
 *  - IP_MTU_DISCOVER / IPV6_MTU_DISCOVER: DF on a TCP segment with WANT or
 *    DO only (ip_dont_fragment); ICMP fragmentation-needed lowers the MSS
 *    unless DONT, INTERFACE or OMIT (tcp_v4_mtu_reduced, ip_sk_accept_pmtu),
 *    packet-too-big unless INTERFACE or OMIT (tcp_v6_err).
 *  - IP_FREEBIND / IPV6_FREEBIND: one bit (Linux has no separate IPv6 one).
 *
 * An IPv6 socket's IPv4 (mapped) packets take the IPv4 options, its IPv6
 * packets the IPv6 ones, as Linux's inet and ipv6_pinfo parts do. A RST
 * that answers a segment (no TCB: to no one, or refusing the segment) goes
 * as from Linux's control socket (tcp_v4_send_reset, tcp_v6_send_reset):
 * the segment's own DSCP reflected, the default TTL, DF. */
#include <errno.h>

#include "stack.h"

void ipopt_init(struct sock *k)
{
    k->pmtud4 = k->pmtud6 = SYNACK_PMTUDISC_WANT; /* net.ipv4.ip_no_pmtu_disc = 0 */
}

void ipopt_inherit(struct sock *child, const struct sock *l)
{
    /* Linux clones the listener (inet_csk_clone_lock): tcp_reflect_tos is
     * off by default, so the child's DS field is the listener's */
    child->hn.tos = l->hn.tos;
    child->hn.tclass = l->hn.tclass;
    child->hn.ttl = l->hn.ttl;
    child->hops = l->hops;
    child->hops_set = l->hops_set;
    child->pmtud4 = l->pmtud4;
    child->pmtud6 = l->pmtud6;
    child->freebind = l->freebind;
}

static bool df_of(unsigned pmtud)
{
    return pmtud == SYNACK_PMTUDISC_WANT || pmtud == SYNACK_PMTUDISC_DO;
}

void ipopt_out(const synack_stack *s, const struct tcb *tcb, uint8_t family, struct ip_out *o)
{
    o->ds = s->rx_ds;
    o->ttl = IP_DEFAULT_TTL;
    o->df = true;
    if (!tcb)
        return;
    const struct hnode *e = s->out_entry;
    if (!e)
        e = &((const struct sock *)(const void *)tcb)->hn; /* a tcb pointer is a sock pointer */
    o->ds = family == SYNACK_AF_INET6 ? e->tclass : e->tos;
    if (e->tw)
        return;
    const struct sock *k = (const struct sock *)(const void *)((const char *)e - offsetof(struct sock, hn));
    if (family == SYNACK_AF_INET6) {
        if (k->hops_set)
            o->ttl = k->hops;
    } else {
        if (e->ttl)
            o->ttl = e->ttl;
        o->df = df_of(k->pmtud4);
    }
}

bool ipopt_accept_pmtu(const struct sock *k, uint8_t family)
{
    unsigned m = family == SYNACK_AF_INET6 ? k->pmtud6 : k->pmtud4;
    if (m == SYNACK_PMTUDISC_INTERFACE || m == SYNACK_PMTUDISC_OMIT)
        return false;
    return family == SYNACK_AF_INET6 || m != SYNACK_PMTUDISC_DONT;
}

/* IP_MTU: Linux's dst_mtu of the socket's cached route, which it has from
 * connect() (or accept) on, and not while listening or never connected. */
static int path_mtu(synack_stack *s, struct sock *k, int *v)
{
    const struct tcb *b = &k->tcb;
    if (b->state == TCP_LISTEN || (b->state == TCP_CLOSED && !b->iss))
        return -ENOTCONN;
    const struct tcp_tuple *t = TCP_TUPLE(b);
    struct iface *f = ip_route_any(s, t->family, t->raddr);
    if (!f)
        return -ENOTCONN;
    *v = (int)f->cfg.mtu;
    return 0;
}

bool ipopt_owns(synack_opt opt)
{
    switch (opt) {
    case SYNACK_OPT_IP_TOS:
    case SYNACK_OPT_IPV6_TCLASS:
    case SYNACK_OPT_IP_TTL:
    case SYNACK_OPT_IPV6_UNICAST_HOPS:
    case SYNACK_OPT_IP_MTU_DISCOVER:
    case SYNACK_OPT_IPV6_MTU_DISCOVER:
    case SYNACK_OPT_FREEBIND:
    case SYNACK_OPT_MTU: return true;
    default: return false;
    }
}

int ipopt_set(synack_stack *s, struct sock *k, synack_opt opt, int v)
{
    (void)s;
    switch (opt) {
    case SYNACK_OPT_IP_TOS: /* Linux __ip_sock_set_tos: any int, as a byte */
        k->hn.tos = (uint8_t)((unsigned)v & ~WIRE_ECN_MASK);
        return 0;
    case SYNACK_OPT_IPV6_TCLASS: /* RFC 3542 §6.5: -1 is the default, 0 */
        if (v < -1 || v > 0xff)
            return -EINVAL;
        k->hn.tclass = v < 0 ? 0 : (uint8_t)((unsigned)v & ~WIRE_ECN_MASK);
        return 0;
    case SYNACK_OPT_IP_TTL:
        if (v != -1 && (v < 1 || v > 255))
            return -EINVAL;
        k->hn.ttl = v < 0 ? 0 : (uint8_t)v;
        return 0;
    case SYNACK_OPT_IPV6_UNICAST_HOPS:
        if (v < -1 || v > 255)
            return -EINVAL;
        k->hops_set = v >= 0;
        k->hops = v < 0 ? 0 : (uint8_t)v;
        return 0;
    case SYNACK_OPT_IP_MTU_DISCOVER:
    case SYNACK_OPT_IPV6_MTU_DISCOVER:
        if (v < SYNACK_PMTUDISC_DONT || v > SYNACK_PMTUDISC_OMIT)
            return -EINVAL;
        if (opt == SYNACK_OPT_IP_MTU_DISCOVER)
            k->pmtud4 = (uint8_t)v;
        else
            k->pmtud6 = (uint8_t)v;
        return 0;
    case SYNACK_OPT_FREEBIND: k->freebind = v != 0; return 0;
    default: return -ENOPROTOOPT; /* SYNACK_OPT_MTU too: read only */
    }
}

int ipopt_get(synack_stack *s, struct sock *k, synack_opt opt, int *v)
{
    switch (opt) {
    case SYNACK_OPT_IP_TOS: *v = k->hn.tos; return 0;
    case SYNACK_OPT_IPV6_TCLASS: *v = k->hn.tclass; return 0;
    case SYNACK_OPT_IP_TTL: *v = k->hn.ttl ? k->hn.ttl : IP_DEFAULT_TTL; return 0;
    case SYNACK_OPT_IPV6_UNICAST_HOPS: *v = k->hops_set ? k->hops : IP_DEFAULT_TTL; return 0;
    case SYNACK_OPT_IP_MTU_DISCOVER: *v = k->pmtud4; return 0;
    case SYNACK_OPT_IPV6_MTU_DISCOVER: *v = k->pmtud6; return 0;
    case SYNACK_OPT_FREEBIND: *v = k->freebind; return 0;
    case SYNACK_OPT_MTU: return path_mtu(s, k, v);
    default: return -ENOPROTOOPT;
    }
}
