/* Streaming: a finished conversation is reported once and freed, so memory
 * follows the connections that are live, not the length of the capture.
 * Finished means closed (FIN both ways or RST) and quiet for 2 MSL, idle past
 * the idle timeout, or its ports reused by a new SYN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis.h"

#define SEC 1000000000ll

struct rec {
    struct tr_table t;
    struct tr_result r;
    uint64_t num;
    uint32_t retired[64]; /* stream numbers, in the order they were retired */
    unsigned nretired;
};

static void on_retire(void *ctx, struct tr_conv *c)
{
    struct rec *s = ctx;
    if (s->nretired < 64)
        s->retired[s->nretired] = c->stream;
    s->nretired++;
}

static void setup(struct rec *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(tr_table_init(&s->t), 0);
    s->t.retire = on_retire;
    s->t.retire_ctx = s;
}

/* A segment between 10.0.0.1:cport and 10.0.0.2:80 at time t (seconds). */
static void seg(struct rec *s, double t, uint16_t cport, int from_server, uint16_t flags, uint32_t seq, uint32_t ack)
{
    struct tr_pkt p;
    memset(&p, 0, sizeof p);
    p.num = ++s->num;
    p.ts_ns = (int64_t)(t * SEC);
    p.src.af = p.dst.af = 4;
    uint8_t a1[4] = {10, 0, 0, 1}, a2[4] = {10, 0, 0, 2};
    memcpy(p.src.a, from_server ? a2 : a1, 4);
    memcpy(p.dst.a, from_server ? a1 : a2, 4);
    p.sport = from_server ? 80 : cport;
    p.dport = from_server ? cport : 80;
    p.kind = TR_TCP_OK;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.win = 1000;
    p.ip_len = 40;
    assert_int_equal(tr_analyse(&s->t, &p, &s->r), 0);
}

/* Handshake and four-way close of one connection starting at t. */
static void short_conn(struct rec *s, double t, uint16_t cport)
{
    const uint16_t S = WIRE_TCP_SYN, A = WIRE_TCP_ACK, F = WIRE_TCP_FIN;
    seg(s, t, cport, 0, S, 100, 0);
    seg(s, t + 0.001, cport, 1, S | A, 500, 101);
    seg(s, t + 0.002, cport, 0, A, 101, 501);
    seg(s, t + 0.003, cport, 0, F | A, 101, 501);
    seg(s, t + 0.004, cport, 1, F | A, 501, 102);
    seg(s, t + 0.005, cport, 0, A, 102, 502);
}

static void test_closed_conversation_waits_two_msl(void **state)
{
    (void)state;
    struct rec s;
    setup(&s);
    short_conn(&s, 0, 40000);
    seg(&s, 100, 40001, 0, WIRE_TCP_ACK, 7, 9); /* another connection, mid-stream, 100 s later */
    assert_int_equal(s.nretired, 0);            /* still inside 2 MSL */
    seg(&s, 200, 40000, 1, WIRE_TCP_FIN | WIRE_TCP_ACK, 501, 102); /* a late FIN joins its stream */
    assert_int_equal(s.r.conv->stream, 0);
    assert_true(s.r.aflags & TR_A_RETRANS);
    seg(&s, 440.5, 40001, 0, WIRE_TCP_ACK, 7, 9); /* 240.5 s after the late FIN */
    assert_int_equal(s.r.conv->stream, 1);        /* open: still live */
    assert_int_equal(s.nretired, 1);
    assert_int_equal(s.retired[0], 0);
    assert_int_equal(s.t.nconv, 1);
    tr_table_free(&s.t);
}

static void test_open_conversation_expires_when_idle(void **state)
{
    (void)state;
    struct rec s;
    setup(&s);
    const uint16_t S = WIRE_TCP_SYN, A = WIRE_TCP_ACK;
    seg(&s, 0, 40000, 0, S, 100, 0);
    seg(&s, 0.001, 40000, 1, S | A, 500, 101);
    seg(&s, 0.002, 40000, 0, A, 101, 501);
    /* Linux keep-alives every 2 hours keep it one stream. */
    seg(&s, 7200, 40000, 0, A, 100, 501);
    assert_int_equal(s.r.conv->stream, 0);
    assert_true(s.r.aflags & TR_A_KEEPALIVE);
    seg(&s, 14400, 40000, 0, A, 100, 501);
    assert_int_equal(s.r.conv->stream, 0);
    assert_int_equal(s.nretired, 0);
    /* Three hours of silence: reported and forgotten. */
    seg(&s, 14400 + 10800.5, 40001, 0, S, 9, 0);
    assert_int_equal(s.nretired, 1);
    assert_int_equal(s.t.nconv, 1);
    /* Without a timeout nothing is ever forgotten (Wireshark's way). */
    tr_table_free(&s.t);
    setup(&s);
    s.t.idle_timeout = 0;
    seg(&s, 0, 40000, 0, A, 100, 7);
    seg(&s, 1e6, 40001, 0, A, 100, 7);
    assert_int_equal(s.nretired, 0);
    tr_table_free(&s.t);
}

/* A SYN scan, or a SYN nobody answers: forgotten 2 MSL after the last SYN,
 * not 3 hours; a connection that got past its SYNs is open. */
static void test_unanswered_syn_waits_two_msl(void **state)
{
    (void)state;
    struct rec s;
    setup(&s);
    seg(&s, 0, 40000, 0, WIRE_TCP_SYN, 100, 0);
    seg(&s, 63, 40000, 0, WIRE_TCP_SYN, 100, 0); /* Linux's last SYN retransmission */
    assert_int_equal(s.r.conv->stream, 0);
    seg(&s, 100, 40001, 0, WIRE_TCP_SYN, 7, 0);
    seg(&s, 101, 40001, 1, WIRE_TCP_SYN | WIRE_TCP_ACK, 70, 8);
    seg(&s, 102, 40001, 0, WIRE_TCP_ACK, 8, 71);
    seg(&s, 303.5, 40002, 0, WIRE_TCP_SYN, 9, 0); /* 240.5 s after stream 0's last SYN */
    assert_int_equal(s.nretired, 1);
    assert_int_equal(s.retired[0], 0);
    seg(&s, 1000, 40002, 0, WIRE_TCP_SYN, 9, 0);
    assert_int_equal(s.nretired, 2); /* stream 2's first SYN was 696.5 s ago */
    assert_int_equal(s.r.conv->stream, 3);
    assert_int_equal(s.t.nconv, 2); /* stream 1 is established: still live */
    tr_table_free(&s.t);
}

static void test_reused_ports_retire_the_old_conversation_at_once(void **state)
{
    (void)state;
    struct rec s;
    setup(&s);
    short_conn(&s, 0, 40000);
    seg(&s, 1, 40000, 0, WIRE_TCP_SYN, 9000, 0); /* new ISN, same ports */
    assert_int_equal(s.r.conv->stream, 1);
    assert_true(s.r.aflags & TR_A_REUSED);
    assert_int_equal(s.nretired, 1);
    assert_int_equal(s.retired[0], 0);
    assert_int_equal(s.t.nconv, 1);
    tr_table_free(&s.t);
}

static void test_flush_reports_in_stream_order(void **state)
{
    (void)state;
    struct rec s;
    setup(&s);
    seg(&s, 0, 40000, 0, WIRE_TCP_SYN, 1, 0);
    short_conn(&s, 1, 40001);                    /* closed: the closed list */
    seg(&s, 2, 40002, 0, WIRE_TCP_SYN, 1, 0);
    seg(&s, 3, 40000, 0, WIRE_TCP_SYN, 1, 0);    /* stream 0 most recently active */
    assert_int_equal(tr_table_flush(&s.t), 0);
    assert_int_equal(s.nretired, 3);
    assert_int_equal(s.retired[0], 0);
    assert_int_equal(s.retired[1], 1);
    assert_int_equal(s.retired[2], 2);
    assert_int_equal(s.t.nconv, 0);
    tr_table_free(&s.t);
}

/* 20,000 sequential connections, one every 50 ms: at any time only those of
 * the last 2 MSL (about 4,800) are live, whatever the capture's length. */
static void test_live_conversations_do_not_grow_with_the_capture(void **state)
{
    (void)state;
    struct rec s;
    setup(&s);
    for (unsigned i = 0; i < 20000; i++)
        short_conn(&s, i * 0.05, (uint16_t)(1024 + i % 60000));
    assert_int_equal(s.t.next_stream, 20000);
    assert_true(s.t.peak_conv <= 240 / 0.05 + 2);
    assert_true(s.nretired >= 20000 - 240 / 0.05 - 2);
    assert_int_equal(tr_table_flush(&s.t), 0);
    assert_int_equal(s.nretired, 20000);
    tr_table_free(&s.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_conversation_waits_two_msl),
        cmocka_unit_test(test_open_conversation_expires_when_idle),
        cmocka_unit_test(test_unanswered_syn_waits_two_msl),
        cmocka_unit_test(test_reused_ports_retire_the_old_conversation_at_once),
        cmocka_unit_test(test_flush_reports_in_stream_order),
        cmocka_unit_test(test_live_conversations_do_not_grow_with_the_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
