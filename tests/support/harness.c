#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/ipv4.h"

static int capture(void *ctx, const uint8_t *frame, size_t len)
{
    struct harness *h = ctx;
    if (h->refuse) {
        h->refused++;
        return -h->refuse;
    }
    if (h->nout == H_MAX_OUT) { /* keep the newest: compact what was read */
        memmove(h->out, h->out + h->rd, (size_t)(h->nout - h->rd) * sizeof h->out[0]);
        h->nout -= h->rd;
        h->rd = 0;
        if (h->nout == H_MAX_OUT)
            return -1;
    }
    if (len > sizeof h->out[0].data)
        len = sizeof h->out[0].data;
    memcpy(h->out[h->nout].data, frame, len);
    h->out[h->nout++].len = len;
    return 0;
}

static void log_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now)
{
    struct harness *h = ctx;
    if (h->nlog < 64)
        snprintf(h->log[h->nlog++], sizeof h->log[0], "%s -> %s (%s)", synack_state_name(from),
                 synack_state_name(to), why);
    (void)l;
    (void)r;
    (void)now;
}

void h_init(struct harness *h, const synack_config *base)
{
    memset(h, 0, sizeof *h);
    h->clock.now = SYNACK_SEC(100);
    synack_config c;
    if (base)
        c = *base;
    else
        memset(&c, 0, sizeof c);
    if (!c.seed)
        c.seed = 42;
    c.clock = synack_vclock_read;
    c.clock_ctx = &h->clock;
    c.on_state = log_state;
    c.on_state_ctx = h;
    h->s = synack_stack_new(&c);
    /* IPv6 beside IPv4, so IPv6 input is reachable too (2001:2::2/64) */
    static const uint8_t a6[16] = {0x20, 0x01, 0x00, 0x02, [15] = 2};
    synack_iface_config ic = {.ops = {.transmit = capture}, .ctx = h, .addr = synack_ipv4(H_LOCAL),
                              .prefix_len = 24, .addr6 = synack_ipv6(a6), .prefix6_len = 64};
    h->ifx = synack_iface_add(h->s, &ic);
}

void h_free(struct harness *h)
{
    synack_stack_free(h->s);
}

size_t h_build(const struct h_seg *seg, uint8_t *buf, size_t cap)
{
    uint8_t opt[WIRE_TCP_OPT_MAX];
    int optlen = seg->opts ? wire_tcp_opts_emit(opt, sizeof opt, seg->opts) : 0;
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = seg->sport ? seg->sport : H_RPORT;
    t.dport = seg->dport ? seg->dport : H_LPORT;
    t.seq = seg->seq;
    t.ack = seg->ack;
    t.flags = seg->flags;
    t.wnd = seg->zero_wnd ? 0 : seg->wnd ? seg->wnd : 65535;
    t.urg = seg->urg;
    t.opts_raw = opt;
    t.opts_len = optlen > 0 ? (size_t)optlen : 0;
    uint8_t *tcp = buf + WIRE_IPV4_HDR_MIN;
    int hl = wire_tcp_emit(tcp, cap - WIRE_IPV4_HDR_MIN, &t);
    if (hl < 0 || (size_t)hl + seg->len + WIRE_IPV4_HDR_MIN > cap)
        return 0;
    if (seg->len)
        memcpy(tcp + hl, seg->data, seg->len);
    size_t seglen = (size_t)hl + seg->len;
    wire_tcp_set_csum_ipv4(tcp, seglen, H_REMOTE, H_LOCAL);
    if (seg->bad_csum)
        tcp[16] ^= 0x5a;
    struct wire_ipv4 ip = {
        .tos = seg->ecn, .ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = H_REMOTE, .dst = H_LOCAL, .df = true};
    wire_ipv4_emit(buf, cap, &ip, seglen);
    return WIRE_IPV4_HDR_MIN + seglen;
}

void h_inject_raw(struct harness *h, const uint8_t *frame, size_t len)
{
    synack_input(h->s, h->ifx, frame, len);
    synack_poll(h->s);
}

void h_inject(struct harness *h, const struct h_seg *seg)
{
    uint8_t buf[2048];
    size_t n = h_build(seg, buf, sizeof buf);
    if (n)
        h_inject_raw(h, buf, n);
}

bool h_next(struct harness *h, struct wire_tcp *out)
{
    while (h->rd < h->nout) {
        h->cur = h->out[h->rd++];
        struct wire_ipv4 ip;
        if (wire_ipv4_parse(h->cur.data, h->cur.len, WIRE_IPV4_VERIFY_CSUM, &ip) != WIRE_OK)
            continue;
        if (!wire_tcp_csum_ok_ipv4(ip.payload, ip.payload_len, ip.src, ip.dst))
            continue;
        if (wire_tcp_parse(ip.payload, ip.payload_len, out) == WIRE_OK) {
            out->ecn = ip.tos & WIRE_ECN_MASK;
            return true;
        }
    }
    return false;
}

int h_pending(const struct harness *h)
{
    return h->nout - h->rd;
}

void h_drain(struct harness *h)
{
    h->rd = h->nout = 0;
}

void h_advance(struct harness *h, synack_time dt)
{
    h->clock.now += dt;
    synack_poll(h->s);
}

bool h_run_to_deadline(struct harness *h, synack_time max)
{
    synack_time next = synack_poll(h->s);
    if (next == SYNACK_TIME_NEVER || next > h->clock.now + max)
        return false;
    if (next > h->clock.now)
        h->clock.now = next;
    synack_poll(h->s);
    return true;
}

bool h_logged(const struct harness *h, const char *text)
{
    for (int i = 0; i < h->nlog; i++)
        if (strstr(h->log[i], text))
            return true;
    return false;
}

synack_sock h_passive_open(struct harness *h, uint32_t peer_isn, uint32_t *iss, synack_sock *listener)
{
    synack_sock l = synack_socket(h->s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    if (synack_bind(h->s, l, &e) || synack_listen(h->s, l, 16))
        return -1;
    h_inject(h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = peer_isn});
    struct wire_tcp t;
    if (!h_next(h, &t) || t.flags != (WIRE_TCP_SYN | WIRE_TCP_ACK))
        return -1;
    *iss = t.seq;
    h_inject(h, &(struct h_seg){.flags = WIRE_TCP_ACK, .seq = peer_isn + 1, .ack = t.seq + 1});
    synack_sock c = synack_accept(h->s, l, NULL);
    if (listener)
        *listener = l;
    return c;
}

synack_sock h_active_open(struct harness *h, uint32_t peer_isn, uint32_t *iss, uint16_t *lport)
{
    synack_sock c = synack_socket(h->s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    if (synack_connect(h->s, c, &r) != -EINPROGRESS)
        return -1;
    struct wire_tcp t;
    if (!h_next(h, &t) || t.flags != WIRE_TCP_SYN)
        return -1;
    *iss = t.seq;
    *lport = t.sport;
    h_inject(h, &(struct h_seg){.flags = WIRE_TCP_SYN | WIRE_TCP_ACK, .seq = peer_isn, .ack = t.seq + 1,
                                .sport = H_RPORT, .dport = t.sport});
    return c;
}
