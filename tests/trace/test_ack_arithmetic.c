/* The seed's capture, rebuilt packet by packet: the analysis must give the
 * article's relative numbers and explain each ACK the way the article does
 * ("ack 2755731985 = 2755731984 + 1 (SYN)", "ack 58 = 1 + 9+9+28+11"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis.h"
#include "ladder.h"
#include "summary.h"

#define ISN_1 2755731984u /* host .1, the client */
#define ISN_2 3747234003u /* host .2, the server */

struct seed {
    struct tr_table t;
    struct tr_view v;
    uint64_t num;
    char math[96];
    struct tr_result r;
};

static void send_seg(struct seed *s, int from_server, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    struct tr_pkt p;
    memset(&p, 0, sizeof p);
    p.num = ++s->num;
    p.ts_ns = (int64_t)s->num * 1000000;
    p.src.af = p.dst.af = 4;
    uint8_t a1[4] = {192, 168, 1, 1}, a2[4] = {192, 168, 1, 2};
    memcpy(p.src.a, from_server ? a2 : a1, 4);
    memcpy(p.dst.a, from_server ? a1 : a2, 4);
    p.sport = from_server ? 80 : 40000;
    p.dport = from_server ? 40000 : 80;
    p.kind = TR_TCP_OK;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.len = len;
    p.captured_len = len; /* the whole payload was captured */
    p.win = 1000;
    p.ip_len = 40 + len;
    assert_int_equal(tr_analyse(&s->t, &p, &s->r), 0);
    tr_ackmath(&s->v, s->r.conv, &p, &s->r, s->math, sizeof s->math);
}

static void test_seed_handshake_data_and_close(void **state)
{
    (void)state;
    struct seed s;
    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    const uint16_t A = WIRE_TCP_ACK, S = WIRE_TCP_SYN, F = WIRE_TCP_FIN, P = WIRE_TCP_PSH;

    send_seg(&s, 0, S, ISN_1, 0, 0);
    assert_int_equal(s.r.rel_seq, 0);
    assert_string_equal(s.math, "");
    send_seg(&s, 1, S | A, ISN_2, ISN_1 + 1, 0);
    assert_int_equal(s.r.rel_ack, 1);
    assert_string_equal(s.math, "ack 2755731985 = 2755731984 + 1 (SYN)");
    send_seg(&s, 0, A, ISN_1 + 1, ISN_2 + 1, 0);
    assert_string_equal(s.math, "ack 3747234004 = 3747234003 + 1 (SYN)");
    assert_int_equal(s.r.rel_seq, 1);
    assert_int_equal(s.r.rel_ack, 1);

    uint32_t seq = ISN_2 + 1;
    const uint32_t lens[] = {9, 9, 28, 11};
    for (int i = 0; i < 4; i++) {
        send_seg(&s, 1, P | A, seq, ISN_1 + 1, lens[i]);
        assert_int_equal(s.r.rel_seq, seq - ISN_2);
        assert_int_equal(s.r.aflags, 0);
        seq += lens[i];
    }
    send_seg(&s, 0, A, ISN_1 + 1, seq, 0);
    assert_int_equal(s.r.rel_ack, 58);
    assert_string_equal(s.math, "ack 58 = 1 + 9+9+28+11");
    /* One cumulative ACK covers four segments: it acknowledges the last. */
    assert_int_equal(s.r.acks_frame, 7);

    /* Four-way close: .1 FIN, .2 ACK, .2 FIN, .1 ACK. */
    send_seg(&s, 0, F | A, ISN_1 + 1, seq, 0);
    send_seg(&s, 1, A, seq, ISN_1 + 2, 0);
    assert_string_equal(s.math, "ack 2 = 1 + 1 (FIN)");
    send_seg(&s, 1, F | A, seq, ISN_1 + 2, 0);
    send_seg(&s, 0, A, ISN_1 + 2, seq + 1, 0);
    assert_string_equal(s.math, "ack 59 = 58 + 1 (FIN)");

    const struct tr_conv *c = s.r.conv;
    assert_non_null(c);
    assert_int_equal(s.t.nconv, 1);
    int client = tr_conv_client(c);
    assert_string_equal(tr_open_name(c, client), "three-way handshake");
    char buf[256];
    assert_non_null(strstr(tr_close_name(c, client, buf, sizeof buf), "four-way close"));
    assert_int_equal(c->completeness, 31);
    assert_string_equal(tr_zeek_conn_state(&c->st.zk), "SF");
    assert_string_equal(c->st.zk.hist, "ShAdFaf");
    assert_int_equal(c->st.d[client].bytes, 0);
    assert_int_equal(c->st.d[1 - client].bytes, 57);
    tr_table_free(&s.t);
}

static void test_half_close_counts_bytes_after_fin(void **state)
{
    (void)state;
    struct seed s;
    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    const uint16_t A = WIRE_TCP_ACK, S = WIRE_TCP_SYN, F = WIRE_TCP_FIN;
    send_seg(&s, 0, S, 100, 0, 0);
    send_seg(&s, 1, S | A, 500, 101, 0);
    send_seg(&s, 0, A, 101, 501, 0);
    send_seg(&s, 0, F | A, 101, 501, 0);      /* client closes its side */
    send_seg(&s, 1, A, 501, 102, 20);         /* server still sends 20 bytes */
    send_seg(&s, 1, A, 521, 102, 30);         /* and 30 more */
    send_seg(&s, 0, A, 102, 551, 0);
    assert_string_equal(s.math, "ack 51 = 1 + 20+30");
    send_seg(&s, 1, F | A, 551, 102, 0);
    send_seg(&s, 0, A, 102, 552, 0);
    const struct tr_conv *c = s.r.conv;
    char buf[256];
    const char *name = tr_close_name(c, tr_conv_client(c), buf, sizeof buf);
    assert_non_null(strstr(name, "half-close"));
    assert_non_null(strstr(name, "sent 50 bytes after"));
    tr_table_free(&s.t);
}

static void test_simultaneous_close_and_rst_abort(void **state)
{
    (void)state;
    struct seed s;
    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    const uint16_t A = WIRE_TCP_ACK, S = WIRE_TCP_SYN, F = WIRE_TCP_FIN;
    send_seg(&s, 0, S, 100, 0, 0);
    send_seg(&s, 1, S | A, 500, 101, 0);
    send_seg(&s, 0, A, 101, 501, 0);
    send_seg(&s, 0, F | A, 101, 501, 0); /* both FINs leave before either arrives */
    send_seg(&s, 1, F | A, 501, 101, 0);
    send_seg(&s, 0, A, 102, 502, 0);
    send_seg(&s, 1, A, 502, 102, 0);
    const struct tr_conv *c = s.r.conv;
    char buf[256];
    assert_non_null(strstr(tr_close_name(c, tr_conv_client(c), buf, sizeof buf), "simultaneous close"));
    assert_string_equal(tr_zeek_conn_state(&c->st.zk), "SF");
    tr_table_free(&s.t);

    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    send_seg(&s, 0, S, 100, 0, 0);
    send_seg(&s, 1, S | A, 500, 101, 0);
    send_seg(&s, 0, A, 101, 501, 0);
    send_seg(&s, 0, A, 101, 501, 10);
    send_seg(&s, 1, WIRE_TCP_RST | A, 501, 111, 0);
    c = s.r.conv;
    assert_non_null(strstr(tr_close_name(c, tr_conv_client(c), buf, sizeof buf), "RST abort by 192.168.1.2:80 (frame 5)"));
    assert_string_equal(tr_zeek_conn_state(&c->st.zk), "RSTR");
    assert_string_equal(c->st.zk.hist, "ShADr");
    tr_table_free(&s.t);
}

static void test_refused_and_simultaneous_open(void **state)
{
    (void)state;
    struct seed s;
    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    send_seg(&s, 0, WIRE_TCP_SYN, 7, 0, 0);
    send_seg(&s, 1, WIRE_TCP_RST | WIRE_TCP_ACK, 0, 8, 0);
    const struct tr_conv *c = s.r.conv;
    assert_string_equal(tr_open_name(c, tr_conv_client(c)), "refused (the SYN was answered with RST)");
    assert_string_equal(tr_zeek_conn_state(&c->st.zk), "REJ");
    tr_table_free(&s.t);

    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    send_seg(&s, 0, WIRE_TCP_SYN, 7, 0, 0);
    send_seg(&s, 1, WIRE_TCP_SYN, 900, 0, 0);
    c = s.r.conv;
    assert_string_equal(tr_open_name(c, tr_conv_client(c)), "simultaneous open (both sides sent SYN)");
    tr_table_free(&s.t);
}

static void test_port_reuse_starts_new_stream(void **state)
{
    (void)state;
    struct seed s;
    memset(&s, 0, sizeof s);
    assert_int_equal(tr_table_init(&s.t), 0);
    send_seg(&s, 0, WIRE_TCP_SYN, 1000, 0, 0);
    assert_int_equal(s.r.conv->stream, 0);
    send_seg(&s, 0, WIRE_TCP_SYN, 1000, 0, 0); /* same ISN: a retransmission */
    assert_int_equal(s.r.conv->stream, 0);
    assert_true(s.r.aflags & TR_A_RETRANS);
    send_seg(&s, 0, WIRE_TCP_SYN, 5000, 0, 0); /* new ISN: ports reused */
    assert_int_equal(s.r.conv->stream, 1);
    assert_true(s.r.aflags & TR_A_REUSED);
    assert_int_equal(s.r.completeness, 1);
    tr_table_free(&s.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_handshake_data_and_close),
        cmocka_unit_test(test_half_close_counts_bytes_after_fin),
        cmocka_unit_test(test_simultaneous_close_and_rst_abort),
        cmocka_unit_test(test_refused_and_simultaneous_open),
        cmocka_unit_test(test_port_reuse_starts_new_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
