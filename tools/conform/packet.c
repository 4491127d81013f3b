/* Script packets <-> live IPv4 and IPv6 datagrams (see packet.h). Field checks and
 * their messages follow packetdrill's run_packet.c so a failure reads the
 * same under both runners. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += rd16(p + i);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static int errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

void conn_init(struct conn *c, int ipv, const uint8_t local_ip[16], const uint8_t remote_ip[16],
               uint16_t bind_port, uint16_t connect_port)
{
    memset(c, 0, sizeof *c);
    c->ipv = ipv;
    memcpy(c->local_ip, local_ip, 16);
    memcpy(c->remote_ip, remote_ip, 16);
    c->bind_port = bind_port;
    c->connect_port = connect_port;
    /* packetdrill asks the host for an ephemeral port; a fixed first choice
     * keeps runs identical */
    c->next_ephemeral = 48765;
}

static uint32_t remote_s2l(const struct conn *c, bool syn) { return syn ? 0 : c->remote_isn; }
static uint32_t local_s2l(const struct conn *c, bool syn)
{
    return syn ? c->live_local_isn - c->script_local_isn : c->live_local_isn;
}

int encode_options(const struct pkt_spec *pk, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < pk->nopt; i++) {
        const struct tcp_opt *o = &pk->opt[i];
        uint8_t b[40];
        size_t k = 0;
        switch (o->kind) {
        case OP_EOL: b[k++] = 0; break;
        case OP_NOP: b[k++] = 1; break;
        case OP_MSS: b[k++] = 2; b[k++] = 4; wr16(b + k, o->val); k += 2; break;
        case OP_WSCALE: b[k++] = 3; b[k++] = 3; b[k++] = (uint8_t)o->val; break;
        case OP_SACKOK: b[k++] = 4; b[k++] = 2; break;
        case OP_SACK:
            b[k++] = 5;
            b[k++] = (uint8_t)(2 + 8 * o->nsack);
            for (int s = 0; s < o->nsack; s++) {
                wr32(b + k, o->sack[s][0]);
                wr32(b + k + 4, o->sack[s][1]);
                k += 8;
            }
            break;
        case OP_TS:
            b[k++] = 8; b[k++] = 10; wr32(b + k, o->val); wr32(b + k + 4, o->ecr); k += 8;
            break;
        case OP_MD5:
            b[k++] = 19; b[k++] = 18; memset(b + k, 0, 16);
            memcpy(b + k, o->data, (size_t)(o->ndata < 16 ? o->ndata : 16)); k += 16;
            break;
        case OP_FO:
            b[k++] = 34; b[k++] = (uint8_t)(2 + o->ndata);
            memcpy(b + k, o->data, (size_t)o->ndata); k += (size_t)o->ndata;
            break;
        case OP_FOEXP:
            b[k++] = 254; b[k++] = (uint8_t)(4 + o->ndata); wr16(b + k, 0xF989); k += 2;
            memcpy(b + k, o->data, (size_t)o->ndata); k += (size_t)o->ndata;
            break;
        }
        if (n + k > cap)
            return -1;
        memcpy(out + n, b, k);
        n += k;
    }
    return (int)n;
}

static void ipv4_header(uint8_t *ip, size_t total, uint8_t proto, uint8_t tos, const uint8_t *src,
                        const uint8_t *dst)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[1] = tos;
    wr16(ip + 2, (uint32_t)total);
    ip[6] = 0x40; /* DF, as Linux peers send */
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    wr16(ip + 10, fold(sum16(ip, 20, 0)));
}

/* RFC 8200 §3: version 6, traffic class (ECN in its low bits, RFC 3168
 * §5), flow label 0, hop limit 64 as Linux peers send. */
static void ipv6_header(uint8_t *ip, size_t payload, uint8_t next, uint8_t tclass, const uint8_t *src,
                        const uint8_t *dst)
{
    memset(ip, 0, 40);
    ip[0] = (uint8_t)(0x60 | tclass >> 4);
    ip[1] = (uint8_t)(tclass << 4);
    wr16(ip + 4, (uint32_t)payload);
    ip[6] = next;
    ip[7] = 64;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
}

static size_t ip_hlen(int ipv) { return ipv == 6 ? 40 : 20; }

/* The IP header for a payload of `payload` bytes; returns its length. */
static size_t ip_header(int ipv, uint8_t *ip, size_t payload, uint8_t proto, uint8_t tos,
                        const uint8_t *src, const uint8_t *dst)
{
    if (ipv == 6)
        ipv6_header(ip, payload, proto, tos, src, dst);
    else
        ipv4_header(ip, 20 + payload, proto, tos, src, dst);
    return ip_hlen(ipv);
}

/* The pseudo-header's sum (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for
 * IPv6: the same fields, the addresses 16 bytes long). */
static uint32_t pseudo_sum(int ipv, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len)
{
    size_t alen = ipv == 6 ? 16 : 4;
    return sum16(src, alen, sum16(dst, alen, 0)) + proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
}

static uint8_t tos_of(int ecn)
{
    switch (ecn) {
    case ECN_ECT1: return 1;
    case ECN_ECT0: return 2;
    case ECN_CE: return 3;
    default: return 0;
    }
}

/* The type and code of an ICMP line in this run's family: packetdrill looks
 * the names up in the family's own table, so an ICMPv4-only name is an
 * error in an IPv6 run and the other way round. */
static int icmp_values(int ipv, const struct pkt_spec *pk, int *type, int *code, char *err,
                       size_t errlen)
{
    if (ipv == 6)
        return script_icmp6_resolve(pk, type, code, err, errlen);
    if (pk->icmpv6)
        return errf(err, errlen, "bad ICMP type %s", pk->icmp_type_name);
    if (pk->icmp_code < 0)
        return errf(err, errlen, "bad ICMP code %s", pk->icmp_code_name);
    *type = pk->icmp_type;
    *code = pk->icmp_code;
    return 0;
}

static int build_icmp(struct conn *c, const struct pkt_spec *pk, uint8_t *buf, size_t cap,
                      char *err, size_t errlen)
{
    if (c->st == CS_NONE || c->st == CS_LISTENING)
        return errf(err, errlen, "no connection for the ICMP message to quote");
    int type, code;
    if (icmp_values(c->ipv, pk, &type, &code, err, errlen))
        return -1;
    size_t hl = ip_hlen(c->ipv);
    size_t total = hl + 8 + hl + 8;
    if (cap < total)
        return errf(err, errlen, "packet buffer too small");
    uint8_t *ic = buf + hl;
    memset(ic, 0, 8);
    ic[0] = (uint8_t)type;
    ic[1] = (uint8_t)code;
    if (pk->has_mtu) {
        if (c->ipv == 6)
            wr32(ic + 4, pk->mtu); /* RFC 4443 §3.2: a 32-bit MTU */
        else
            wr16(ic + 6, pk->mtu);
    }
    /* the quoted segment: our (the stack's) own header, as sent */
    uint8_t *q = ic + 8;
    size_t qpay = 20 + (pk->has_echo ? pk->echo_len : 0);
    ip_header(c->ipv, q, qpay, 6, 0, c->local_ip, c->remote_ip);
    uint8_t *qt = q + hl;
    wr16(qt, c->local_port);
    wr16(qt + 2, c->remote_port);
    wr32(qt + 4, (pk->has_echo ? pk->echo_seq : 0) + local_s2l(c, false));
    size_t iclen = 8 + hl + 8;
    /* ICMPv6's checksum covers a pseudo-header (RFC 4443 §2.3) */
    uint32_t acc = c->ipv == 6 ? pseudo_sum(6, c->remote_ip, c->local_ip, 58, iclen) : 0;
    wr16(ic + 2, fold(sum16(ic, iclen, acc)));
    ip_header(c->ipv, buf, iclen, c->ipv == 6 ? 58 : 1, tos_of(pk->ecn), c->remote_ip, c->local_ip);
    return (int)total;
}

static bool ts_lookup(const struct conn *c, uint32_t script, uint32_t *live)
{
    /* newest mapping wins, like packetdrill's hash map overwrite */
    for (int i = 0; i < c->nts; i++) {
        int k = (c->ts_next - 1 - i + CONN_TS_MAP) % CONN_TS_MAP;
        if (c->ts[k].script == script) {
            *live = c->ts[k].live;
            return true;
        }
    }
    return false;
}

static void ts_remember(struct conn *c, uint32_t script, uint32_t live)
{
    c->ts[c->ts_next].script = script;
    c->ts[c->ts_next].live = live;
    c->ts_next = (c->ts_next + 1) % CONN_TS_MAP;
    if (c->nts < CONN_TS_MAP)
        c->nts++;
}

int conn_build_inbound(struct conn *c, const struct pkt_spec *pk, const struct script_opts *o,
                       uint8_t *buf, size_t cap, char *err, size_t errlen)
{
    if (pk->icmp)
        return build_icmp(c, pk, buf, cap, err, errlen);
    bool syn = pk->flags & TF_SYN;
    if (c->st == CS_NONE || c->st == CS_LISTENING) {
        /* a listener's first inbound packet makes the child under test */
        c->st = CS_PASSIVE_RCVD;
        c->remote_port = c->next_ephemeral++;
        c->local_port = c->bind_port;
        c->remote_isn = pk->seq;
        c->script_local_isn = c->live_local_isn = 0;
    } else if (c->st == CS_SYNACK_SENT && (pk->flags & TF_ACK)) {
        c->st = CS_ESTABLISHED;
    } else if (c->st == CS_SYN_SENT && syn && (pk->flags & TF_ACK)) {
        c->st = CS_ESTABLISHED;
        c->remote_isn = pk->seq;
    } else if (c->st == CS_CONNECTING) {
        return errf(err, errlen, "inbound packet before the stack's SYN was seen");
    }

    struct pkt_spec m = *pk;
    uint32_t ack_off = local_s2l(c, syn);
    for (int i = 0; i < m.nopt; i++) {
        struct tcp_opt *op = &m.opt[i];
        if (op->kind == OP_SACK)
            for (int s = 0; s < op->nsack; s++) {
                op->sack[s][0] += ack_off;
                op->sack[s][1] += ack_off;
            }
        if (op->kind == OP_TS && (pk->flags & TF_ACK)) {
            uint32_t live;
            if (ts_lookup(c, op->ecr, &live)) {
                op->ecr = live;
            } else if (o->ts_ecr_scaled && c->ts_found) {
                op->ecr = op->ecr - c->first_script_val + c->first_live_val;
            } else {
                return errf(err, errlen,
                            "unable to infer live TS ecr for script TS ecr %u;  no matching or "
                            "preceding outbound TS val",
                            op->ecr);
            }
        }
    }
    uint8_t opts[40];
    int olen = encode_options(&m, opts, sizeof opts);
    if (olen < 0)
        return errf(err, errlen, "TCP options do not fit in 40 bytes");
    size_t tcplen = 20 + (size_t)olen;
    size_t hl = ip_hlen(c->ipv);
    size_t total = hl + tcplen + pk->len;
    if (tcplen + pk->len + (c->ipv == 6 ? 0 : 20) > 65535 || total > cap)
        return errf(err, errlen, "inbound packet of %zu bytes is too large", total);
    uint8_t *t = buf + hl;
    memset(t, 0, tcplen + pk->len); /* payload: zeros, as packetdrill injects */
    wr16(t, c->remote_port);
    wr16(t + 2, c->local_port);
    wr32(t + 4, pk->seq + remote_s2l(c, syn));
    wr32(t + 8, (pk->flags & TF_ACK) ? pk->ack + ack_off : pk->ack);
    t[12] = (uint8_t)((tcplen / 4) << 4);
    t[13] = pk->flags;
    wr16(t + 14, pk->win);
    wr16(t + 18, pk->has_urg ? pk->urg : 0);
    memcpy(t + 20, opts, (size_t)olen);
    ip_header(c->ipv, buf, tcplen + pk->len, 6, tos_of(pk->ecn), c->remote_ip, c->local_ip);
    uint32_t acc = pseudo_sum(c->ipv, c->remote_ip, c->local_ip, 6, tcplen + pk->len);
    wr16(t + 16, fold(sum16(t, tcplen + pk->len, acc)));
    return (int)total;
}

int live_decode(const uint8_t *b, size_t len, struct live_pkt *lp, char *err, size_t errlen)
{
    memset(lp, 0, sizeof *lp);
    const uint8_t *t;
    size_t tl;
    if (len >= 40 && (b[0] >> 4) == 6) {
        /* the stack sends no extension headers: the next header is the
         * transport (RFC 8200 §4) */
        size_t pay = rd16(b + 4);
        if (40 + pay > len)
            return errf(err, errlen, "outbound IPv6 payload length %zu is malformed", pay);
        lp->ipv = 6;
        lp->ip_csum_ok = true; /* IPv6 has no header checksum */
        lp->tos = (uint8_t)((b[0] & 15) << 4 | b[1] >> 4);
        lp->proto = b[6];
        memcpy(lp->src, b + 8, 16);
        memcpy(lp->dst, b + 24, 16);
        t = b + 40;
        tl = pay;
    } else {
        if (len < 20 || (b[0] >> 4) != 4)
            return errf(err, errlen, "outbound datagram is neither IPv4 nor IPv6 (%zu bytes)", len);
        size_t ihl = (size_t)(b[0] & 15) * 4;
        size_t tot = rd16(b + 2);
        if (ihl < 20 || tot < ihl || tot > len)
            return errf(err, errlen, "outbound IPv4 header is malformed");
        lp->ipv = 4;
        lp->ip_csum_ok = fold(sum16(b, ihl, 0)) == 0;
        lp->tos = b[1];
        lp->proto = b[9];
        memcpy(lp->src, b + 12, 4);
        memcpy(lp->dst, b + 16, 4);
        t = b + ihl;
        tl = tot - ihl;
    }
    if (lp->proto == 1 || lp->proto == 58) {
        if (tl < 8)
            return errf(err, errlen, "outbound ICMP message too short");
        lp->icmp_type = t[0];
        lp->icmp_code = t[1];
        return 0;
    }
    if (lp->proto != 6)
        return errf(err, errlen, "outbound datagram carries protocol %u, not TCP", lp->proto);
    if (tl < 20)
        return errf(err, errlen, "outbound TCP header too short");
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tl)
        return errf(err, errlen, "outbound TCP data offset %zu is malformed", doff);
    lp->sport = rd16(t);
    lp->dport = rd16(t + 2);
    lp->seq = rd32(t + 4);
    lp->ack = rd32(t + 8);
    lp->flags = t[13];
    lp->win = rd16(t + 14);
    lp->urg = rd16(t + 18);
    lp->optlen = (int)(doff - 20);
    memcpy(lp->opt, t + 20, (size_t)lp->optlen);
    lp->paylen = (uint32_t)(tl - doff);
    lp->payload_zero = true;
    for (size_t i = doff; i < tl; i++)
        if (t[i]) {
            lp->payload_zero = false;
            break;
        }
    return 0;
}

static bool is_icmp(const struct live_pkt *lp) { return lp->proto == 1 || lp->proto == 58; }

bool conn_claims(struct conn *c, const struct live_pkt *lp, bool want_icmp)
{
    if (lp->ipv != c->ipv)
        return false; /* the other family: not the connection under test */
    bool from_us = !memcmp(lp->src, c->local_ip, 16), to_remote = !memcmp(lp->dst, c->remote_ip, 16);
    /* an ICMP message from the stack (an echo reply, say) belongs to the
     * test only when the script expects one: packetdrill's socket under
     * test is TCP, and its other traffic is not the script's business */
    if (lp->proto != 6)
        return want_icmp && is_icmp(lp) && from_us && to_remote;
    if (want_icmp)
        return false;
    if (c->local_port && from_us && lp->sport == c->local_port && to_remote &&
        lp->dport == c->remote_port)
        return true;
    if (c->st == CS_SYN_SENT && !c->local_port && (lp->flags & TF_SYN) &&
        !(lp->flags & TF_ACK) && to_remote && lp->dport == c->connect_port) {
        memcpy(c->local_ip, lp->src, 16);
        c->local_port = lp->sport;
        c->remote_port = c->connect_port;
        c->live_local_isn = lp->seq;
        return true;
    }
    return false;
}

void conn_outbound_prepare(struct conn *c, const struct pkt_spec *pk)
{
    if (pk->icmp)
        return;
    bool syn = pk->flags & TF_SYN, ack = pk->flags & TF_ACK;
    if (syn && !ack && c->st == CS_CONNECTING) {
        c->st = CS_SYN_SENT;
        c->script_local_isn = pk->seq;
        c->local_port = 0;
    } else if (syn && ack && c->st == CS_PASSIVE_RCVD) {
        c->script_local_isn = pk->seq;
    }
}

void conn_outbound_learn(struct conn *c, const struct pkt_spec *pk, const struct live_pkt *first)
{
    if (!pk->icmp && (pk->flags & TF_SYN) && (pk->flags & TF_ACK) && c->st == CS_PASSIVE_RCVD) {
        c->st = CS_SYNACK_SENT;
        c->live_local_isn = first->seq;
    }
}

void conn_to_script(const struct conn *c, struct live_pkt *lp)
{
    if (lp->proto != 6)
        return;
    bool syn = lp->flags & TF_SYN;
    lp->seq -= local_s2l(c, syn);
    uint32_t off = remote_s2l(c, syn);
    if (lp->flags & TF_ACK)
        lp->ack -= off;
    /* SACK blocks name the peer's (the script's) sequence space */
    for (int i = 0; i < lp->optlen;) {
        uint8_t k = lp->opt[i];
        if (k == 0 || k == 1) {
            i++;
            continue;
        }
        if (i + 1 >= lp->optlen || lp->opt[i + 1] < 2 || i + lp->opt[i + 1] > lp->optlen)
            break;
        int l = lp->opt[i + 1];
        if (k == 5)
            for (int b = i + 2; b + 8 <= i + l; b += 8) {
                wr32(lp->opt + b, rd32(lp->opt + b) - off);
                wr32(lp->opt + b + 4, rd32(lp->opt + b + 4) - off);
            }
        i += l;
    }
}

static int check_field(const char *name, uint32_t exp, uint32_t act, char *err, size_t errlen)
{
    if (exp == act)
        return 0;
    return errf(err, errlen, "live packet field %s: expected: %u (0x%x) vs actual: %u (0x%x)", name,
                exp, exp, act, act);
}

/* One option of a live packet: kind, length (1 for EOL/NOP), or -1 if malformed. */
static int next_opt(const uint8_t *o, int len, int i, int *kind)
{
    if (i >= len)
        return 0;
    *kind = o[i];
    if (o[i] <= 1)
        return 1;
    if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
        return -1;
    return o[i + 1];
}

static int check_options(struct conn *c, const struct pkt_spec *pk, const struct script_opts *so,
                         int64_t since_start, const struct live_pkt *lp, char *err, size_t errlen)
{
    uint8_t want[40];
    int wlen = encode_options(pk, want, sizeof want);
    if (wlen < 0)
        return errf(err, errlen, "script TCP options do not fit");
    /* remember TS val mapping for later ecr rewriting, whatever the outcome */
    int wi = 0, ai = 0;
    for (;;) {
        int wk = -1, ak = -1;
        int wl = next_opt(want, wlen, wi, &wk);
        int al = next_opt(lp->opt, lp->optlen, ai, &ak);
        if (al < 0)
            return errf(err, errlen, "bad outbound TCP options (malformed option at byte %d)", ai);
        if (wl == 0 && al == 0)
            return 0;
        if (wl == 0 || al == 0 || wk != ak)
            return errf(err, errlen, "bad outbound TCP options");
        if (ak == 8) {
            if (al != 10)
                return errf(err, errlen, "bad lengths for outbound TCP option 8");
            uint32_t sval = rd32(want + wi + 2), aval = rd32(lp->opt + ai + 2);
            /* aval is live; map into script space from the first TS seen */
            uint32_t mapped = c->first_script_val + (aval - c->first_live_val);
            if (so->tcp_ts_tick_usecs) {
                long tol = so->tolerance_usecs;
                double dyn = so->tolerance_pct / 100.0 * (double)since_start;
                if (dyn > tol)
                    tol = (long)dyn;
                long long dev = (long long)(int32_t)(mapped - sval);
                if (dev < 0)
                    dev = -dev;
                if (dev * so->tcp_ts_tick_usecs > tol)
                    return errf(err, errlen,
                                "bad outbound TCP timestamp value, tolerance %ld (expected TS val "
                                "%u, actual %u)",
                                tol, sval, mapped);
            }
        } else if (ak > 1) {
            if (al != wl)
                return errf(err, errlen, "bad lengths for outbound TCP option %d", ak);
            if (memcmp(want + wi + 2, lp->opt + ai + 2, (size_t)al - 2))
                return errf(err, errlen, "bad value outbound TCP option %d", ak);
        }
        wi += wl;
        ai += al;
    }
}

static void learn_ts(struct conn *c, const struct pkt_spec *pk, const struct live_pkt *lp)
{
    const struct tcp_opt *sts = NULL;
    for (int i = 0; i < pk->nopt; i++)
        if (pk->opt[i].kind == OP_TS)
            sts = &pk->opt[i];
    if (!sts)
        return;
    for (int i = 0, k, l; (l = next_opt(lp->opt, lp->optlen, i, &k)) > 0; i += l)
        if (k == 8 && l == 10) {
            uint32_t aval = rd32(lp->opt + i + 2);
            ts_remember(c, sts->val, aval);
            if (!c->ts_found) {
                c->ts_found = true;
                c->first_script_val = sts->val;
                c->first_live_val = aval;
            }
            return;
        }
}

int conn_check_outbound(struct conn *c, const struct pkt_spec *pk, const struct script_opts *so,
                        int64_t since_start, struct live_pkt *lp, int n, struct live_pkt *agg_out,
                        char *err, size_t errlen)
{
    *agg_out = lp[0];
    if (pk->icmp) {
        if (!is_icmp(&lp[0]))
            return errf(err, errlen, "live packet: expected an ICMP message, got protocol %u",
                        lp[0].proto);
        int type, code;
        if (icmp_values(c->ipv, pk, &type, &code, err, errlen) ||
            check_field("icmp_type", (uint32_t)type, (uint32_t)lp[0].icmp_type, err, errlen) ||
            check_field("icmp_code", (uint32_t)code, (uint32_t)lp[0].icmp_code, err, errlen))
            return -1;
        return 0;
    }
    if (lp[0].proto != 6)
        return errf(err, errlen, "live packet: expected TCP, got protocol %u", lp[0].proto);
    /* several live segments standing for one script segment: consistent
     * with each other (packetdrill's verify_packet_fragments) */
    struct live_pkt agg = lp[0];
    for (int i = 1; i < n; i++) {
        const struct live_pkt *p = &lp[i - 1], *q = &lp[i];
        uint8_t mask = (uint8_t) ~(TF_FIN | TF_PSH | TF_CWR);
        if (check_field("tcp_flags (aggregate candidate)", p->flags & mask, q->flags & mask, err,
                        errlen) ||
            check_field("tcp_seq (aggregate candidate)", p->seq + p->paylen, q->seq, err,
                        errlen) ||
            check_field("tcp_ack_seq (aggregate candidate)", p->ack, q->ack, err, errlen) ||
            check_field("tcp_window (aggregate candidate)", p->win, q->win, err, errlen) ||
            check_field("tcp_data_offset (aggregate candidate)", (uint32_t)p->optlen,
                        (uint32_t)q->optlen, err, errlen))
            return -1;
        if (i < n - 1 && q->paylen != p->paylen)
            return errf(err, errlen,
                        "fragment payload: expected %u bytes vs actual %u bytes; total payload: "
                        "expected %u bytes",
                        p->paylen, q->paylen, pk->len);
        /* packetdrill's aggregate_packets: the TCP header is the last
         * piece's, seq and CWR the first's; the inverse of Linux's GSO
         * (tcp_gso_segment), which leaves PSH and FIN on the last segment
         * only and CWR on the first. */
        agg.flags = (uint8_t)((q->flags & ~TF_CWR) | (lp[0].flags & TF_CWR));
        agg.paylen += q->paylen;
        agg.payload_zero = agg.payload_zero && q->payload_zero;
        *agg_out = agg;
    }
    if (agg.paylen != pk->len)
        return errf(err, errlen, "live packet payload: expected %u bytes vs actual %u bytes",
                    pk->len, agg.paylen);
    learn_ts(c, pk, &agg);
    if (!agg.ip_csum_ok)
        return errf(err, errlen, "bad outbound IP checksum");
    int want_opt = -1;
    if (!pk->opts_nocheck) {
        uint8_t tmp[40];
        want_opt = encode_options(pk, tmp, sizeof tmp);
    }
    if ((want_opt >= 0 &&
         check_field("tcp_data_offset", (uint32_t)(20 + want_opt) / 4,
                     (uint32_t)(20 + agg.optlen) / 4, err, errlen)) ||
        check_field("tcp_fin", !!(pk->flags & TF_FIN), !!(agg.flags & TF_FIN), err, errlen) ||
        check_field("tcp_syn", !!(pk->flags & TF_SYN), !!(agg.flags & TF_SYN), err, errlen) ||
        check_field("tcp_rst", !!(pk->flags & TF_RST), !!(agg.flags & TF_RST), err, errlen) ||
        check_field("tcp_psh", !!(pk->flags & TF_PSH), !!(agg.flags & TF_PSH), err, errlen) ||
        check_field("tcp_ack", !!(pk->flags & TF_ACK), !!(agg.flags & TF_ACK), err, errlen) ||
        check_field("tcp_urg", !!(pk->flags & TF_URG), !!(agg.flags & TF_URG), err, errlen) ||
        check_field("tcp_ece", !!(pk->flags & TF_ECE), !!(agg.flags & TF_ECE), err, errlen) ||
        check_field("tcp_cwr", !!(pk->flags & TF_CWR), !!(agg.flags & TF_CWR), err, errlen) ||
        check_field("tcp_seq", pk->seq, agg.seq, err, errlen) ||
        check_field("tcp_ack_seq", pk->ack, agg.ack, err, errlen) ||
        (pk->has_win && check_field("tcp_window", pk->win, agg.win, err, errlen)) ||
        check_field("tcp_urg_ptr", pk->has_urg ? pk->urg : 0, agg.urg, err, errlen))
        return -1;
    if (pk->ecn != ECN_UNSET) {
        uint32_t e = agg.tos & 3;
        if (pk->ecn == ECN_ECT01) {
            if (e != 1 && e != 2)
                return errf(err, errlen, "live packet field ip_ecn: expected: 0x1 or 0x2 vs "
                                         "actual: 0x%x",
                            e);
        } else if (check_field("ip_ecn", tos_of(pk->ecn), e, err, errlen)) {
            return -1;
        }
    }
    if (!pk->opts_nocheck && check_options(c, pk, so, since_start, &agg, err, errlen))
        return -1;
    if (!agg.payload_zero)
        return errf(err, errlen, "incorrect outbound data payload");
    return 0;
}

static size_t fmt_flags(uint8_t f, char *b)
{
    size_t n = 0;
    if (f & TF_SYN) b[n++] = 'S';
    if (f & TF_FIN) b[n++] = 'F';
    if (f & TF_RST) b[n++] = 'R';
    if (f & TF_PSH) b[n++] = 'P';
    if (f & TF_ECE) b[n++] = 'E';
    if (f & TF_CWR) b[n++] = 'W';
    if (f & TF_URG) b[n++] = 'U';
    if (f & TF_ACK) b[n++] = '.';
    if (!n) b[n++] = '-';
    b[n] = 0;
    return n;
}

static void fmt_opts_bytes(const uint8_t *o, int len, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0, k, l; (l = next_opt(o, len, i, &k)) != 0; i += l) {
        if (l < 0) {
            snprintf(buf + n, cap - n, "%s?", n ? "," : "");
            return;
        }
        char one[96];
        switch (k) {
        case 0: snprintf(one, sizeof one, "eol"); break;
        case 1: snprintf(one, sizeof one, "nop"); break;
        case 2: snprintf(one, sizeof one, l == 4 ? "mss %u" : "mss?", l == 4 ? rd16(o + i + 2) : 0); break;
        case 3: snprintf(one, sizeof one, "wscale %u", l == 3 ? o[i + 2] : 0); break;
        case 4: snprintf(one, sizeof one, "sackOK"); break;
        case 5: {
            size_t m = (size_t)snprintf(one, sizeof one, "sack");
            for (int b = i + 2; b + 8 <= i + l && m < sizeof one; b += 8)
                m += (size_t)snprintf(one + m, sizeof one - m, " %u:%u", rd32(o + b), rd32(o + b + 4));
            break;
        }
        case 8:
            if (l == 10)
                snprintf(one, sizeof one, "TS val %u ecr %u", rd32(o + i + 2), rd32(o + i + 6));
            else
                snprintf(one, sizeof one, "TS?");
            break;
        default: snprintf(one, sizeof one, "opt%d(len %d)", k, l); break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", one);
        if (n >= cap)
            return;
    }
}

void fmt_script_pkt(const struct pkt_spec *pk, char *buf, size_t len)
{
    if (pk->icmp) {
        snprintf(buf, len, "icmp type %d code %d", pk->icmp_type, pk->icmp_code);
        return;
    }
    char f[12], o[300] = "";
    fmt_flags(pk->flags, f);
    if (pk->opts_nocheck) {
        snprintf(o, sizeof o, "...");
    } else {
        uint8_t b[40];
        int n = encode_options(pk, b, sizeof b);
        if (n > 0)
            fmt_opts_bytes(b, n, o, sizeof o);
    }
    char ack[24] = "", win[24] = "";
    if (pk->flags & TF_ACK)
        snprintf(ack, sizeof ack, " ack %u", pk->ack);
    if (pk->has_win)
        snprintf(win, sizeof win, " win %u", pk->win);
    snprintf(buf, len, "%s %u:%u(%u)%s%s%s%s%s", f, pk->seq, pk->end, pk->len, ack, win,
             o[0] ? " <" : "", o, o[0] ? ">" : "");
}

void fmt_live_pkt(const struct live_pkt *lp, char *buf, size_t len)
{
    if (is_icmp(lp)) {
        snprintf(buf, len, "%s type %d code %d", lp->proto == 58 ? "icmp6" : "icmp", lp->icmp_type, lp->icmp_code);
        return;
    }
    char f[12], o[300] = "", ack[24] = "";
    fmt_flags(lp->flags, f);
    fmt_opts_bytes(lp->opt, lp->optlen, o, sizeof o);
    if (lp->flags & TF_ACK)
        snprintf(ack, sizeof ack, " ack %u", lp->ack);
    /* the IP ECN field in the script's own words, when it is not Not-ECT */
    static const char *const ecn[4] = {"", "[ect1] ", "[ect0] ", "[ce] "};
    snprintf(buf, len, "%s%s %u:%u(%u)%s win %u%s%s%s", ecn[lp->tos & 3], f, lp->seq, lp->seq + lp->paylen,
             lp->paylen, ack, lp->win, o[0] ? " <" : "", o, o[0] ? ">" : "");
}
