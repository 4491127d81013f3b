/* Connections with options, for the data-transfer tests: the test is the
 * peer, offering MSS, SACK, timestamps and window scaling as it chooses.
 * Include after <cmocka.h>. */
#ifndef SYNACK_TEST_XFER_UTIL_H
#define SYNACK_TEST_XFER_UTIL_H

#include "tcp_util.h"

struct xconn {
    struct conn c;
    bool ts, sack;
    uint32_t tsval; /* the test's clock */
    uint32_t ecr;   /* the stack's last TSval */
    uint16_t wnd;
};

struct xopen {
    uint16_t mss; /* 0: no MSS option */
    bool sack, ts;
    int wscale; /* -1: none */
    uint16_t wnd;
};

static inline void x_opts(struct xconn *x, struct wire_tcp_opts *o)
{
    memset(o, 0, sizeof *o);
    if (x->ts) {
        o->has_ts = true;
        o->ts_val = x->tsval;
        o->ts_ecr = x->ecr;
    }
}

/* x_open with the handshake's ACK rtt after the SYN-ACK (the first RTT sample). */
static inline void x_open_rtt(struct xconn *x, const synack_config *cfg, const struct xopen *p, synack_time rtt);
static inline void x_open(struct xconn *x, const synack_config *cfg, const struct xopen *p)
{
    x_open_rtt(x, cfg, p, 0);
}

/* The passive open up to the stack's SYN-ACK: a listener, the test's SYN
 * with p's options, the SYN-ACK read (c->iss, c->peer and c->ours set).
 * The caller sends the handshake's ACK (x_open_rtt; or one carrying data). */
static inline void x_syn(struct xconn *x, const synack_config *cfg, const struct xopen *p)
{
    memset(x, 0, sizeof *x);
    struct conn *c = &x->c;
    h_init(&c->h, cfg);
    c->peer_isn = 1000;
    x->ts = p->ts;
    x->sack = p->sack;
    x->tsval = 5000;
    x->wnd = p->wnd ? p->wnd : 65535;
    c->l = synack_socket(c->h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(c->h.s, c->l, &e), 0);
    assert_int_equal(synack_listen(c->h.s, c->l, 16), 0);
    struct wire_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.has_mss = p->mss != 0;
    o.mss = p->mss;
    o.sack_perm = p->sack;
    o.has_ts = p->ts;
    o.ts_val = x->tsval;
    o.has_wscale = p->wscale >= 0;
    o.wscale = (uint8_t)(p->wscale >= 0 ? p->wscale : 0);
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = c->peer_isn, .wnd = x->wnd, .opts = &o});
    struct wire_tcp t;
    assert_true(h_next(&c->h, &t));
    assert_int_equal(t.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
    c->iss = t.seq;
    if (p->ts) {
        assert_true(t.opt.has_ts);
        x->ecr = t.opt.ts_val;
    }
    c->peer = c->peer_isn + 1;
    c->ours = c->iss + 1;
}

static inline void x_open_rtt(struct xconn *x, const synack_config *cfg, const struct xopen *p, synack_time rtt)
{
    x_syn(x, cfg, p);
    struct conn *c = &x->c;
    if (rtt)
        h_advance(&c->h, rtt);
    struct wire_tcp_opts o;
    x_opts(x, &o);
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_ACK, .seq = c->peer, .ack = c->ours, .wnd = x->wnd, .opts = &o});
    c->s = synack_accept(c->h.s, c->l, NULL);
    assert_true(c->s >= 0);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    expect_none(&c->h);
}

/* The test sends a segment at seq acking ack, with up to 4 SACK blocks
 * (pairs in sack[], count nsack). */
static inline void x_send(struct xconn *x, uint16_t flags, uint32_t seq, uint32_t ack, const void *data,
                          size_t len, const uint32_t *sack, int nsack)
{
    struct wire_tcp_opts o;
    x_opts(x, &o);
    for (int i = 0; i < nsack; i++)
        o.sack[i] = (struct wire_tcp_sack_block){sack[2 * i], sack[2 * i + 1]};
    o.sack_count = (uint8_t)nsack;
    h_inject(&x->c.h, &(struct h_seg){.flags = flags, .seq = seq, .ack = ack, .data = data, .len = len,
                                      .wnd = x->wnd, .zero_wnd = x->wnd == 0, .opts = &o});
}

/* An ACK from the test (no data). */
static inline void x_ack(struct xconn *x, uint32_t ack, const uint32_t *sack, int nsack)
{
    x_send(x, WIRE_TCP_ACK, x->c.peer, ack, NULL, 0, sack, nsack);
}

/* The next segment the stack sent; remembers its TSval for echoing. */
static inline struct wire_tcp x_next(struct xconn *x)
{
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    if (!h_next(&x->c.h, &t))
        fail_msg("expected a segment, got none");
    if (t.opt.has_ts)
        x->ecr = t.opt.ts_val;
    return t;
}

/* Drains what the stack sent; returns how many data segments, and their
 * starting sequence numbers in seqs (up to max). */
static inline int x_data_segs(struct xconn *x, uint32_t *seqs, int max)
{
    int n = 0;
    struct wire_tcp t;
    while (h_next(&x->c.h, &t)) {
        if (t.opt.has_ts)
            x->ecr = t.opt.ts_val;
        if (t.payload_len && n < max)
            seqs[n] = t.seq;
        if (t.payload_len)
            n++;
    }
    return n;
}

#endif
