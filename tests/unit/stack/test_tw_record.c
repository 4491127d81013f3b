/* TIME_WAIT as a compact record (src/stack/timewait.c): once an orphaned
 * connection reaches TIME_WAIT its sock and TCB are freed and a struct
 * tcp_tw answers for it. Each answer of RFC 9293 §3.10.7.4 in TIME_WAIT
 * must still come: the ACK of a retransmitted FIN (and 2MSL restarted),
 * the ACK of an unacceptable segment, PAWS (RFC 7323 §5.3), the end on a
 * RST, a new SYN that reopens the 4-tuple (RFC 6191), 2MSL itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../tcp/xfer_util.h"
#include "sim.h"
#include "stack/stack.h"

#define A_ WIRE_TCP_ACK
#define F_ WIRE_TCP_FIN

/* Timestamps on; the stack closes first; the peer's FIN+ACK puts it in
 * TIME_WAIT, as a record. c->peer is then the peer's FIN's sequence + 1. */
static void to_time_wait(struct xconn *x, bool keep_handle)
{
    x_open(x, NULL, &(struct xopen){.mss = 1460, .ts = true, .sack = true, .wscale = 7});
    struct conn *c = &x->c;
    if (keep_handle)
        assert_int_equal(synack_shutdown(c->h.s, c->s, SYNACK_SHUT_RDWR), 0);
    else
        assert_int_equal(synack_close(c->h.s, c->s), 0);
    h_advance(&c->h, 0);
    struct wire_tcp t = x_next(x);
    assert_int_equal(t.flags, A_ | F_);
    assert_int_equal(t.seq, c->ours);
    x->tsval += 10;
    h_advance(&c->h, SYNACK_MS(10));
    x_send(x, A_ | F_, c->peer, c->ours + 1, NULL, 0, NULL, 0);
    t = x_next(x);
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.seq, c->ours + 1);
    assert_int_equal(t.ack, c->peer + 1);
    assert_true(t.opt.has_ts);
    assert_int_equal(t.opt.ts_ecr, x->tsval);
    expect_none(&c->h);
    c->ours++;
    c->peer++;
    assert_true(h_logged(&c->h, "-> TIME_WAIT"));
    if (keep_handle) { /* the user holds it: the full TCB stays */
        assert_int_equal(c->h.s->n_tw, 0);
        return;
    }
    /* the record is all that is left */
    synack_stack *s = c->h.s;
    assert_int_equal(s->n_tw, 1);
    assert_int_equal(s->n_hashed, 0);
    assert_int_equal(s->pool.ext_live, 0);
    assert_int_equal(s->pool.buf_bytes_live, 0);
}

static void to_record(struct xconn *x)
{
    to_time_wait(x, false);
}

static size_t records(struct xconn *x)
{
    return x->c.h.s->n_tw;
}

/* RFC 9293 §3.10.7.4 (eighth, TIME-WAIT): a retransmitted FIN is
 * acknowledged and restarts the 2 MSL timeout. */
static void retransmitted_fin_acked_and_2msl_restarted(void **state)
{
    (void)state;
    struct xconn x;
    to_record(&x);
    struct conn *c = &x.c;
    h_advance(&c->h, SYNACK_SEC(30));
    uint32_t recent = x.tsval;
    x.tsval += 30000;
    x_send(&x, A_ | F_, c->peer - 1, c->ours, NULL, 0, NULL, 0);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(t.ack, c->peer);
    /* RFC 7323 §4.3: an old segment does not move TS.Recent */
    assert_int_equal(t.opt.ts_ecr, recent);
    /* 60 s after the first FIN, the record stays: the wait restarted */
    h_advance(&c->h, SYNACK_SEC(30) + SYNACK_MS(10));
    assert_int_equal(records(&x), 1);
    assert_false(h_logged(&c->h, "TIME_WAIT -> CLOSED"));
    /* and ends 60 s after the retransmission, not a microsecond before */
    h_advance(&c->h, SYNACK_SEC(30) - SYNACK_MS(10) - 1);
    assert_int_equal(records(&x), 1);
    h_advance(&c->h, 1);
    assert_int_equal(records(&x), 0);
    assert_true(h_logged(&c->h, "TIME_WAIT -> CLOSED"));
    expect_none(&c->h);
    h_free(&c->h);
}

/* RFC 9293 §3.10.7.4 first: an unacceptable segment draws an ACK. */
static void unacceptable_segment_draws_ack(void **state)
{
    (void)state;
    struct xconn x;
    to_record(&x);
    struct conn *c = &x.c;
    x.tsval += 5;
    uint8_t d[10] = {0};
    x_send(&x, A_, c->peer + 0x40000000u, c->ours, d, sizeof d, NULL, 0);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(t.ack, c->peer);
    assert_int_equal(records(&x), 1);
    h_free(&c->h);
}

/* RFC 7323 §5.3 R1: an older TSval is an old duplicate: ACKed and
 * dropped (counted), the record lives on. */
static void paws_drops_old_duplicate(void **state)
{
    (void)state;
    struct xconn x;
    to_record(&x);
    struct conn *c = &x.c;
    uint64_t before = ctr(&c->h, "tcp_paws_drop");
    x.tsval -= 1000;
    x_send(&x, A_ | F_, c->peer - 1, c->ours, NULL, 0, NULL, 0);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.ack, c->peer);
    assert_int_equal(ctr(&c->h, "tcp_paws_drop"), before + 1);
    assert_int_equal(records(&x), 1);
    h_free(&c->h);
}

/* An RST at RCV.NXT ends TIME_WAIT (RFC 9293 §3.10.7.4 second; Linux
 * with tcp_rfc1337 0), silently. */
static void rst_ends_it(void **state)
{
    (void)state;
    struct xconn x;
    to_record(&x);
    struct conn *c = &x.c;
    x.tsval += 5;
    x_send(&x, WIRE_TCP_RST, c->peer, 0, NULL, 0, NULL, 0);
    expect_none(&c->h);
    assert_int_equal(records(&x), 0);
    assert_true(h_logged(&c->h, "TIME_WAIT -> CLOSED"));
    h_free(&c->h);
}

/* RFC 6191 / Linux: a SYN with a newer timestamp reopens the 4-tuple; the
 * listener answers with an ISN beyond the old connection's space. */
static void new_syn_reopens(void **state)
{
    (void)state;
    struct xconn x;
    to_record(&x);
    struct conn *c = &x.c;
    x.tsval += 5;
    struct wire_tcp_opts o = {.has_ts = true, .ts_val = x.tsval, .has_mss = true, .mss = 1460};
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = c->peer - 10, .opts = &o});
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.flags, WIRE_TCP_SYN | A_);
    assert_int_equal(t.ack, c->peer - 9);
    assert_int_equal(t.seq, c->ours + 65535 + 2);
    assert_int_equal(ctr(&c->h, "tcp_tw_reopened"), 1);
    assert_int_equal(records(&x), 0);
    assert_true(h_logged(&c->h, "TIME_WAIT reused by a new SYN"));
    /* the new connection completes */
    x_send(&x, A_, c->peer - 9, t.seq + 1, NULL, 0, NULL, 0);
    assert_true(synack_accept(c->h.s, c->l, NULL) >= 0);
    h_free(&c->h);
}

/* A SYN that is not newer (same sequence space, older timestamp) does not
 * reopen: the record answers as TIME_WAIT does (an ACK), and stays. */
static void old_syn_does_not_reopen(void **state)
{
    (void)state;
    struct xconn x;
    to_record(&x);
    struct conn *c = &x.c;
    struct wire_tcp_opts o = {.has_ts = true, .ts_val = x.tsval - 50};
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = c->peer - 10, .opts = &o});
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.ack, c->peer);
    assert_int_equal(records(&x), 1);
    assert_int_equal(ctr(&c->h, "tcp_tw_reopened"), 0);
    h_free(&c->h);
}

/* The record answers every segment exactly as the full TCB in TIME_WAIT
 * does (a connection whose handle is still held keeps it): the same
 * segments out, the same end. */
struct probe {
    const char *name;
    uint16_t flags;
    int32_t dseq, dack; /* from RCV.NXT and SND.NXT */
    int32_t dts;        /* from the last TSval */
    size_t len;
};

static int drain(struct xconn *x, struct wire_tcp *out, int max)
{
    int n = 0;
    struct wire_tcp t;
    while (n < max && h_next(&x->c.h, &t))
        out[n++] = t;
    return n;
}

static void record_answers_as_the_tcb(void **state)
{
    (void)state;
    static const struct probe probes[] = {
        {"retransmitted FIN", A_ | F_, -1, 0, 1000, 0},
        {"ACK", A_, 0, 0, 1000, 0},
        {"ACK of data never sent", A_, 0, 5, 1000, 0},
        {"data in window", A_, 0, 0, 1000, 10},
        {"data out of window", A_, 0x40000000, 0, 1000, 10},
        {"old duplicate data", A_, -100, 0, 1000, 10},
        {"PAWS", A_, 0, 0, -1000, 0},
        {"new FIN", A_ | F_, 0, 0, 1000, 0},
        {"RST exact", WIRE_TCP_RST, 0, 0, 1000, 0},
        {"RST in window", WIRE_TCP_RST, 10, 0, 1000, 0},
        {"RST|ACK", WIRE_TCP_RST | A_, 0, 0, 1000, 0},
        {"SYN newer", WIRE_TCP_SYN, 1000, 0, 1000, 0},
        {"SYN older", WIRE_TCP_SYN, -10, 0, -1000, 0},
        {"SYN|ACK", WIRE_TCP_SYN | A_, 0, 0, 1000, 0},
    };
    uint8_t d[10] = {1, 2, 3};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const struct probe *p = &probes[i];
        struct xconn x[2];
        struct wire_tcp out[2][8];
        int n[2];
        bool alive[2];
        for (int k = 0; k < 2; k++) {
            to_time_wait(&x[k], k == 0);
            struct conn *c = &x[k].c;
            h_advance(&c->h, SYNACK_SEC(1));
            struct wire_tcp_opts o = {.has_ts = true, .ts_val = x[k].tsval + (uint32_t)p->dts, .ts_ecr = x[k].ecr};
            h_inject(&c->h, &(struct h_seg){.flags = p->flags, .seq = c->peer + (uint32_t)p->dseq,
                                            .ack = c->ours + (uint32_t)p->dack, .data = d, .len = p->len,
                                            .opts = &o});
            n[k] = drain(&x[k], out[k], 8);
            alive[k] = k == 0 ? state_of(&c->h, c->s) == SYNACK_TIME_WAIT : records(&x[k]) == 1;
        }
        if (n[0] != n[1] || alive[0] != alive[1])
            fail_msg("%s: the TCB sent %d segments and %s, the record %d and %s", p->name, n[0],
                     alive[0] ? "lives" : "ended", n[1], alive[1] ? "lives" : "ended");
        for (int j = 0; j < n[0]; j++) {
            const struct wire_tcp *a = &out[0][j], *b = &out[1][j];
            if (a->flags != b->flags || a->seq != b->seq || a->ack != b->ack || a->wnd != b->wnd ||
                a->payload_len != b->payload_len || a->opt.ts_val != b->opt.ts_val ||
                a->opt.ts_ecr != b->opt.ts_ecr || a->opt.sack_count != b->opt.sack_count)
                fail_msg("%s: segment %d differs: TCB flags %#x seq %u ack %u wnd %u ecr %u sack %u, record flags "
                         "%#x seq %u ack %u wnd %u ecr %u sack %u",
                         p->name, j, a->flags, a->seq, a->ack, a->wnd, a->opt.ts_ecr, a->opt.sack_count, b->flags,
                         b->seq, b->ack, b->wnd, b->opt.ts_ecr, b->opt.sack_count);
        }
        /* and the same end: 2MSL after whatever the probe restarted */
        for (int k = 0; k < 2; k++)
            h_advance(&x[k].c.h, SYNACK_SEC(61));
        bool gone0 = state_of(&x[0].c.h, x[0].c.s) != SYNACK_TIME_WAIT;
        assert_true(gone0);
        assert_int_equal(records(&x[1]), 0);
        for (int k = 0; k < 2; k++)
            h_free(&x[k].c.h);
    }
}

/* IPv6: the record keeps the connection's addresses (tcb->a6 moves to it),
 * is found by its IPv6 tuple, and ends after 2MSL. */
static void ipv6_record(void **state)
{
    (void)state;
    struct sim sm;
    sim_init(&sm, 3, SYNACK_MS(1), NULL);
    synack_endpoint srv = sim_ep6(SIM_ADDR6_B, 7000);
    synack_sock l = synack_socket(sm.b);
    assert_int_equal(synack_bind(sm.b, l, &srv), 0);
    assert_int_equal(synack_listen(sm.b, l, 8), 0);
    synack_sock c = synack_socket(sm.a);
    assert_int_equal(synack_connect(sm.a, c, &srv), -EINPROGRESS);
    sim_advance(&sm, SYNACK_MS(10));
    synack_sock a = synack_accept(sm.b, l, NULL);
    assert_true(a >= 0);
    synack_endpoint le;
    assert_int_equal(synack_local(sm.a, c, &le), 0);
    assert_int_equal(synack_send(sm.a, c, "ping", 4), 4);
    sim_advance(&sm, SYNACK_MS(10));
    char buf[8];
    assert_int_equal(synack_recv(sm.b, a, buf, sizeof buf), 4);
    /* the client closes first and ends in TIME_WAIT, as a record */
    assert_int_equal(synack_close(sm.a, c), 0);
    sim_advance(&sm, SYNACK_MS(10));
    assert_int_equal(synack_close(sm.b, a), 0);
    sim_advance(&sm, SYNACK_MS(10));
    assert_int_equal(sm.a->n_tw, 1);
    assert_int_equal(sm.a->n_hashed, 0);
    struct tcp_tuple t = {.family = 6, .lport = le.port, .rport = 7000};
    memcpy(t.laddr, le.addr.bytes, 16);
    memcpy(t.raddr, srv.addr.bytes, 16);
    struct tw_rec *w = tw_lookup(sm.a, &t);
    assert_non_null(w);
    assert_non_null(w->tw.a6);
    t.raddr[15] ^= 1; /* another peer: not this record */
    assert_null(tw_lookup(sm.a, &t));
    sim_advance(&sm, SYNACK_SEC(60));
    assert_int_equal(sm.a->n_tw, 0);
    synack_close(sm.b, l);
    sim_free(&sm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retransmitted_fin_acked_and_2msl_restarted),
        cmocka_unit_test(unacceptable_segment_draws_ack),
        cmocka_unit_test(paws_drops_old_duplicate),
        cmocka_unit_test(rst_ends_it),
        cmocka_unit_test(new_syn_reopens),
        cmocka_unit_test(old_syn_does_not_reopen),
        cmocka_unit_test(record_answers_as_the_tcb),
        cmocka_unit_test(ipv6_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
