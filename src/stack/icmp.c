/* ICMPv4 in the stack: echo replies (RFC 792, RFC 1122 §3.2.2.6),
 * destination-unreachable generation (RFC 1122 §3.2.2.1) under Linux's rate
 * limits, and the errors that come back about our own TCP segments
 * (RFC 1122 §4.2.3.9, RFC 5927, RFC 1191), handed to the TCP core's hook
 * tcp_icmp_error(). */
#include <errno.h>
#include <string.h>

#include "stack.h"
#include "tcp/icmp.h"
#include "wire/bytes.h"
#include "wire/icmp.h"

#define ICMP_TTL 64
/* Linux quotes as much of the offending datagram as keeps the error within
 * 576 bytes (RFC 1812 §4.3.2.3; RFC 1122 requires only the header + 8). */
#define ICMP_ERR_MAX 576
#define ICMP_RATE_US SYNACK_MS(1000) /* icmp_ratelimit */
#define ICMP_RATE_BURST 6            /* XRLIM_BURST_FACTOR */
#define ICMP_GLOBAL_PER_SEC 1000     /* icmp_msgs_per_sec */
#define ICMP_GLOBAL_BURST 50         /* icmp_msgs_burst */

/* Builds IP + ICMP in s->tx and sends it from src to dst. */
static void icmp_send(synack_stack *s, uint32_t src, uint32_t dst, uint8_t tos, uint8_t type, uint8_t code,
                      uint32_t rest, const uint8_t *p1, size_t n1)
{
    struct iface *f = ip_route(s, dst);
    if (!f) {
        s->st.ip_out_noroute++;
        return;
    }
    int n = wire_icmp_emit(s->tx + WIRE_IPV4_HDR_MIN, sizeof s->tx - WIRE_IPV4_HDR_MIN, type, code, rest, p1,
                           n1, NULL, 0);
    if (n < 0 || (size_t)n + WIRE_IPV4_HDR_MIN > f->cfg.mtu) {
        s->st.ip_out_drop++;
        return;
    }
    struct wire_ipv4 ip = {
        .tos = tos, .id = s->ip_id++, .ttl = ICMP_TTL, .proto = WIRE_IPPROTO_ICMP, .src = src, .dst = dst};
    wire_ipv4_emit(s->tx, sizeof s->tx, &ip, (size_t)n);
    ip_send(s, f, WIRE_IPV4_HDR_MIN + (size_t)n);
}

/* RFC 1122 §3.2.2: an error goes only to a single host. */
static bool unicast_source(const synack_stack *s, uint32_t a)
{
    if (a == 0 || a == 0xffffffffu || (a >> 24) == 127 || (a >> 28) >= 0xe)
        return false;
    for (int i = 0; i < s->n_ifaces; i++) {
        const struct iface *f = &s->ifaces[i];
        if (f->mask != 0xffffffffu && f->mask != 0xfffffffeu && (a & ~f->mask) == ~f->mask &&
            (a & f->mask) == (f->addr & f->mask))
            return false; /* the subnet's broadcast address */
    }
    return true;
}

/* Linux icmp_global_allow: a token bucket shared by every destination. */
static bool global_allow(synack_stack *s)
{
    struct icmp_state *st = &s->icmp;
    uint64_t now = s->tcp.now;
    const uint64_t one = 1000000, cap = ICMP_GLOBAL_BURST * one;
    if (!st->global_init) {
        st->global_init = true;
        st->global_tokens = cap;
    } else {
        uint64_t add = (now - st->global_last) * ICMP_GLOBAL_PER_SEC;
        st->global_tokens = add >= cap || st->global_tokens + add > cap ? cap : st->global_tokens + add;
    }
    st->global_last = now;
    if (st->global_tokens < one)
        return false;
    st->global_tokens -= one;
    return true;
}

/* Linux inet_peer_xrlim_allow: microseconds of credit accrue with time, up
 * to six messages' worth; a message costs icmp_ratelimit. The table is
 * direct-mapped and bounded: a colliding destination takes the slot over,
 * starting with a full burst as a new inet_peer does. */
static bool peer_allow(synack_stack *s, uint32_t dst)
{
    struct icmp_peer *p = &s->icmp.peers[(dst * 0x9e3779b1u) >> 26];
    uint64_t now = s->tcp.now, cap = ICMP_RATE_BURST * ICMP_RATE_US;
    if (!p->used || p->addr != dst) {
        p->used = true;
        p->addr = dst;
        p->tokens = cap;
    } else {
        uint64_t add = now - p->last;
        p->tokens = add >= cap || p->tokens + add > cap ? cap : p->tokens + add;
    }
    p->last = now;
    if (p->tokens < ICMP_RATE_US)
        return false;
    p->tokens -= ICMP_RATE_US;
    return true;
}

bool icmp_rate_allow(synack_stack *s, uint32_t peer_key)
{
    return peer_allow(s, peer_key) && global_allow(s);
}

void icmp_send_unreach(synack_stack *s, const struct wire_ipv4 *ip, const uint8_t *dgram, uint8_t code)
{
    /* RFC 1122 §3.2.2: never about an ICMP error, a fragment other than the
     * first, or a datagram whose source is not a single host. (Datagrams to
     * broadcast or multicast addresses never get this far.) */
    if (ip->frag_off || !unicast_source(s, ip->src))
        return;
    if (ip->proto == WIRE_IPPROTO_ICMP &&
        (ip->payload_len < 1 || wire_icmp_is_error(ip->payload[0]) || ip->payload[0] > WIRE_ICMP_PARAM_PROBLEM))
        return;
    if (!icmp_rate_allow(s, ip->src)) {
        s->nst.icmp_ratelimited++;
        return;
    }
    size_t quote = ip->hdr_len + ip->payload_len;
    if (quote > ICMP_ERR_MAX - WIRE_IPV4_HDR_MIN - WIRE_ICMP_HDR_LEN)
        quote = ICMP_ERR_MAX - WIRE_IPV4_HDR_MIN - WIRE_ICMP_HDR_LEN;
    /* RFC 1812 §4.3.2.5: an error is sent with precedence 6 (internetwork
     * control), as Linux sends it: TOS 0xc0. */
    icmp_send(s, ip->dst, ip->src, 0xc0, WIRE_ICMP_DEST_UNREACH, code, 0, dgram, quote);
    s->nst.icmp_unreach_out++;
}

/* RFC 1191 §5: with no next-hop MTU in the message (an old router), the
 * next plateau below the datagram that did not fit. */
static uint32_t plateau_below(uint32_t len)
{
    static const uint16_t plateaus[] = {65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};
    for (size_t i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
        if (plateaus[i] < len)
            return plateaus[i];
    return 68;
}

/* RFC 1122 §4.2.3.9 and Linux icmp_err_convert: which errors are hard, and
 * the errno each one reports. Returns false for messages TCP ignores. */
static bool classify(const struct wire_icmp *m, const struct wire_icmp_quote *q, struct tcp_icmp_err *e)
{
    e->mtu = 0;
    e->drops_embryo = (m->type == WIRE_ICMP_DEST_UNREACH &&
                       (m->code == WIRE_ICMP_NET_UNREACH || m->code == WIRE_ICMP_HOST_UNREACH)) ||
                      m->type == WIRE_ICMP_TIME_EXCEEDED || m->type == WIRE_ICMP_PARAM_PROBLEM;
    switch (m->type) {
    case WIRE_ICMP_DEST_UNREACH:
        switch (m->code) {
        case WIRE_ICMP_NET_UNREACH:
        case WIRE_ICMP_NET_UNKNOWN:
        case WIRE_ICMP_NET_UNR_TOS:
            e->kind = TCP_ICMP_SOFT;
            e->err = -ENETUNREACH;
            return true;
        case WIRE_ICMP_HOST_UNREACH:
        case WIRE_ICMP_HOST_UNKNOWN:
        case WIRE_ICMP_HOST_ISOLATED:
        case WIRE_ICMP_HOST_UNR_TOS:
            e->kind = TCP_ICMP_SOFT;
            e->err = -EHOSTUNREACH;
            return true;
        case WIRE_ICMP_SR_FAILED:
            e->kind = TCP_ICMP_SOFT;
            e->err = -EOPNOTSUPP;
            return true;
        case WIRE_ICMP_PROT_UNREACH:
            e->kind = TCP_ICMP_HARD;
            e->err = -ENOPROTOOPT;
            return true;
        case WIRE_ICMP_PORT_UNREACH:
            e->kind = TCP_ICMP_HARD;
            e->err = -ECONNREFUSED;
            return true;
        case WIRE_ICMP_FRAG_NEEDED:
            e->kind = TCP_ICMP_FRAG_NEEDED;
            e->err = -EMSGSIZE;
            e->mtu = wire_icmp_next_mtu(m);
            if (e->mtu == 0)
                e->mtu = plateau_below(q->total_len);
            /* A next-hop MTU not below the datagram that failed is bogus. */
            return e->mtu < q->total_len;
        case WIRE_ICMP_NET_ANO:
        case WIRE_ICMP_HOST_ANO:
        case WIRE_ICMP_PKT_FILTERED:
            e->kind = TCP_ICMP_HARD;
            e->err = -EHOSTUNREACH;
            return true;
        default: /* precedence violation / cutoff, unknown codes */
            e->kind = TCP_ICMP_SOFT;
            e->err = -EHOSTUNREACH;
            return m->code <= WIRE_ICMP_PREC_CUTOFF;
        }
    case WIRE_ICMP_TIME_EXCEEDED:
        e->kind = TCP_ICMP_SOFT;
        e->err = -EHOSTUNREACH;
        return true;
    case WIRE_ICMP_PARAM_PROBLEM:
        e->kind = TCP_ICMP_SOFT;
        e->err = -EPROTO;
        return true;
    default:
        /* RFC 6633: source quench is ignored; redirects change no route
         * of a stack whose routes are its interfaces. */
        return false;
    }
}

static void error_input(synack_stack *s, const struct wire_icmp *m)
{
    struct wire_icmp_quote q;
    if (wire_icmp_quote_parse(m, &q) != WIRE_OK || !ip_is_local(s, q.src)) {
        s->nst.icmp_err_drop_quote++;
        return;
    }
    if (q.proto != WIRE_IPPROTO_TCP) {
        s->nst.icmp_ignored++;
        return;
    }
    struct tcp_icmp_err e;
    if (!classify(m, &q, &e)) {
        s->nst.icmp_ignored++;
        return;
    }
    struct tcp_tuple t;
    memset(&t, 0, sizeof t);
    t.family = SYNACK_AF_INET;
    wire_put32(t.laddr, q.src);
    wire_put32(t.raddr, q.dst);
    t.lport = wire_get16(q.payload);
    t.rport = wire_get16(q.payload + 2);
    e.seq = wire_get32(q.payload + 4);
    icmp_conn_error(s, &t, &e);
}

void icmp_conn_error(synack_stack *s, const struct tcp_tuple *t, struct tcp_icmp_err *e)
{
    struct sock *k = demux_lookup(s, t);
    if (!k) {
        s->nst.icmp_err_noconn++;
        return;
    }
    if (e->kind == TCP_ICMP_FRAG_NEEDED && !ipopt_accept_pmtu(k, t->family)) {
        s->nst.icmp_ignored++; /* IP_MTU_DISCOVER says the path MTU is not ours to follow */
        return;
    }
    if (stack_attach(s, k, 0, 0) < 0 && !k->tcb.x) {
        s->nst.tcp_drop_nomem++;
        return;
    }
    switch (tcp_icmp_error(&s->tcp, &k->tcb, e)) {
    case TCP_ICMP_IGNORED:
        s->nst.icmp_err_outofwindow++;
        break;
    case TCP_ICMP_SOFT_ERROR:
        s->nst.icmp_err_soft++;
        k->soft_err = (int8_t)e->err;
        break;
    case TCP_ICMP_ABORTED:
        s->nst.icmp_err_abort++;
        sock_released(s, k);
        return;
    case TCP_ICMP_MSS_LOWERED:
        s->nst.icmp_pmtu_lowered++;
        break;
    case TCP_ICMP_NO_CHANGE:
        break;
    }
    stack_settle(s, k);
}

void icmp_input(synack_stack *s, const struct wire_ipv4 *ip)
{
    s->nst.icmp_in++;
    struct wire_icmp m;
    if (wire_icmp_parse(ip->payload, ip->payload_len, &m) != WIRE_OK) {
        s->nst.icmp_drop_hdr++;
        return;
    }
    if (m.type == WIRE_ICMP_ECHO) {
        /* RFC 1122 §3.2.2.6: the reply returns the data unchanged, from the
         * address the request was sent to. It is not rate-limited (Linux's
         * icmp_ratemask leaves echo replies out). */
        icmp_send(s, ip->dst, ip->src, ip->tos, WIRE_ICMP_ECHO_REPLY, 0, m.rest, m.body, m.body_len);
        s->nst.icmp_echo_replies++;
        return;
    }
    if (wire_icmp_is_error(m.type)) {
        s->nst.icmp_err_in++;
        error_input(s, &m);
        return;
    }
    s->nst.icmp_ignored++;
}
