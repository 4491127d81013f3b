/* ICMPv6 in the stack (RFC 4443): echo replies, errors about packets we
 * cannot take (port unreachable for UDP, parameter problem for an unknown
 * next header), and the errors that come back about our TCP segments,
 * mapped as Linux's icmpv6_err_convert maps them and handed to the core
 * like ICMPv4's (icmp_conn_error). Neighbour discovery is not here: the
 * links IPv6 runs on (TUN, in-memory) have no link-layer addresses. */
#include <errno.h>
#include <string.h>

#include "stack.h"
#include "tcp/icmp.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

#define ICMP6_HOP_LIMIT 64

static void icmp6_send(synack_stack *s, const uint8_t src[16], const uint8_t dst[16], uint8_t type, uint8_t code,
                       uint32_t rest, const uint8_t *body, size_t n)
{
    struct iface *f = ip6_route(s, dst);
    if (!f) {
        s->st.ip_out_noroute++;
        return;
    }
    uint8_t *m = s->tx + WIRE_IPV6_HDR_LEN;
    int len = wire_icmpv6_emit(m, sizeof s->tx - WIRE_IPV6_HDR_LEN, src, dst, type, code, rest, body, n, NULL, 0);
    if (len < 0 || (size_t)len + WIRE_IPV6_HDR_LEN > f->cfg.mtu) {
        s->st.ip_out_drop++;
        return;
    }
    struct wire_ipv6 ip;
    memset(&ip, 0, sizeof ip);
    ip.hop_limit = ICMP6_HOP_LIMIT;
    ip.proto = WIRE_IPPROTO_ICMPV6;
    memcpy(ip.src, src, 16);
    memcpy(ip.dst, dst, 16);
    wire_ipv6_emit(s->tx, sizeof s->tx, &ip, (size_t)len);
    ip_send(s, f, WIRE_IPV6_HDR_LEN + (size_t)len);
}

static uint32_t peer_key(const uint8_t a[16])
{
    return wire_get32(a) ^ wire_get32(a + 4) ^ wire_get32(a + 8) ^ wire_get32(a + 12);
}

void icmp6_send_error(synack_stack *s, const struct wire_ipv6 *ip, const uint8_t *dgram, size_t len, uint8_t type,
                      uint8_t code, uint32_t rest)
{
    /* RFC 4443 §2.4 (e): never about an ICMPv6 error, nor to a source that
     * is not one node (multicast, unspecified: ip6_input drops those). */
    if (ip->proto == WIRE_IPPROTO_ICMPV6 && (ip->payload_len < 1 || wire_icmpv6_is_error(ip->payload[0])))
        return;
    /* §2.4 (f): rate-limited, as Linux does it (icmpv6_xrlim_allow). */
    if (!icmp_rate_allow(s, peer_key(ip->src))) {
        s->nst.icmp_ratelimited++;
        return;
    }
    /* §2.4 (c): as much of the packet as fits in the minimum MTU. */
    size_t max = WIRE_IPV6_MIN_MTU - WIRE_IPV6_HDR_LEN - WIRE_ICMPV6_HDR_LEN;
    icmp6_send(s, ip->dst, ip->src, type, code, rest, dgram, len < max ? len : max);
    s->nst.icmp6_errors_out++;
}

/* Linux icmpv6_err_convert: which errors are hard (they abort a connection
 * still opening), and the errno each stands for. */
static bool classify(const struct wire_icmpv6 *m, struct tcp_icmp_err *e)
{
    memset(e, 0, sizeof *e);
    switch (m->type) {
    case WIRE_ICMPV6_DEST_UNREACH:
        switch (m->code) {
        case WIRE_ICMPV6_PORT_UNREACH:
            e->kind = TCP_ICMP_HARD;
            e->err = -ECONNREFUSED;
            return true;
        case WIRE_ICMPV6_ADM_PROHIBITED:
        case WIRE_ICMPV6_POLICY_FAIL:
        case WIRE_ICMPV6_REJECT_ROUTE:
            e->kind = TCP_ICMP_HARD;
            e->err = -EACCES;
            return true;
        default: /* no route, beyond scope, address unreachable */
            e->kind = TCP_ICMP_SOFT;
            e->err = -EHOSTUNREACH;
            return true;
        }
    case WIRE_ICMPV6_PKT_TOO_BIG:
        /* RFC 8201 §4: the path MTU follows the message down; below 1280 it
         * is 1280 (tcp/icmp.c raises it). */
        e->kind = TCP_ICMP_FRAG_NEEDED;
        e->err = -EMSGSIZE;
        e->mtu = m->rest;
        return true;
    case WIRE_ICMPV6_TIME_EXCEEDED:
        e->kind = TCP_ICMP_SOFT;
        e->err = -EHOSTUNREACH;
        return true;
    case WIRE_ICMPV6_PARAM_PROBLEM:
        e->kind = TCP_ICMP_HARD;
        e->err = -EPROTO;
        return true;
    default:
        return false;
    }
}

static void error_input(synack_stack *s, const struct wire_icmpv6 *m)
{
    struct wire_icmpv6_quote q;
    if (wire_icmpv6_quote_parse(m, &q) != WIRE_OK || !ip6_is_local(s, q.src)) {
        s->nst.icmp_err_drop_quote++;
        return;
    }
    struct tcp_icmp_err e = {0}; /* IPv6 errors never drop an embryonic connection (Linux tcp_v6_err) */
    if (q.proto != WIRE_IPPROTO_TCP || !classify(m, &e)) {
        s->nst.icmp6_ignored++;
        return;
    }
    struct tcp_tuple t;
    memset(&t, 0, sizeof t);
    t.family = SYNACK_AF_INET6;
    memcpy(t.laddr, q.src, 16);
    memcpy(t.raddr, q.dst, 16);
    t.lport = wire_get16(q.payload);
    t.rport = wire_get16(q.payload + 2);
    e.seq = wire_get32(q.payload + 4);
    icmp_conn_error(s, &t, &e);
}

void icmp6_input(synack_stack *s, const struct wire_ipv6 *ip)
{
    s->nst.icmp6_in++;
    struct wire_icmpv6 m;
    if (ip->payload_len != ip->upper_len ||
        wire_icmpv6_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &m) != WIRE_OK) {
        s->nst.icmp6_drop++;
        return;
    }
    if (m.type == WIRE_ICMPV6_ECHO_REQUEST && m.code == 0) {
        /* RFC 4443 §4.2: the reply carries the request's identifier,
         * sequence number and data, from the address it was sent to. */
        icmp6_send(s, ip->dst, ip->src, WIRE_ICMPV6_ECHO_REPLY, 0, m.rest, m.body, m.body_len);
        s->nst.icmp6_echo_replies++;
        return;
    }
    if (wire_icmpv6_is_error(m.type)) {
        s->nst.icmp_err_in++;
        error_input(s, &m);
        return;
    }
    s->nst.icmp6_ignored++; /* §2.4 (b): unknown informational messages are dropped */
}
