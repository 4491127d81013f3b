/* Urgent data (RFC 9293 §3.8.5, §3.10.7.4 sixth step) with Linux's
 * semantics: the pointer points one past the urgent byte (RFC 6093 §4, the
 * BSD reading Linux keeps); without SO_OOBINLINE the byte at the mark
 * leaves the stream and recv(MSG_OOB) returns it once; a read never
 * crosses the mark; a later pointer replaces an earlier one; MSG_OOB
 * puts URG and SND.UP on every segment below it until it is acknowledged,
 * and Nagle does not hold it (Linux tcp_check_urg, tcp_urg, tcp_recv_urg,
 * tcp_recvmsg_locked, tcp_mark_urg, __tcp_transmit_skb, tcp_nagle_test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define MSS 1000

static void open_conn(struct xconn *x, uint32_t rcvbuf)
{
    synack_config cfg = {.sndbuf = 1 << 16, .rcvbuf = rcvbuf ? rcvbuf : 1 << 16};
    x_open(x, &cfg, &(struct xopen){.mss = MSS, .wscale = -1});
}

/* The peer sends data with URG and the pointer urg, at c->peer. */
static void send_urg(struct xconn *x, const char *d, uint16_t urg)
{
    struct conn *c = &x->c;
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_ACK | WIRE_TCP_URG, .seq = c->peer, .ack = c->ours,
                                    .data = d, .len = strlen(d), .urg = urg});
    c->peer += (uint32_t)strlen(d);
}

static void send_plain(struct xconn *x, const char *d)
{
    struct conn *c = &x->c;
    conn_send(c, WIRE_TCP_ACK, d, strlen(d));
    c->peer += (uint32_t)strlen(d);
}

static long oob(struct conn *c, uint8_t *b, int flags)
{
    return synack_recv_flags(c->h.s, c->s, b, 1, SYNACK_RECV_OOB | flags);
}

static void expect_read(struct conn *c, const char *want)
{
    char buf[256] = {0};
    long n = synack_recv(c->h.s, c->s, buf, sizeof buf);
    assert_int_equal(n, (long)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

/* "abcde" with the pointer 3: 'c' is urgent. The read stops before it,
 * SIOCATMARK says so, MSG_OOB takes it once, and the stream goes on
 * without it. */
static void urgent_byte_out_of_band(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    uint8_t b = 0;
    assert_int_equal(oob(c, &b, 0), -EINVAL); /* none yet */
    send_urg(&x, "abcde", 3);
    assert_true(synack_events(c->h.s, c->s) & SYNACK_EV_PRI);
    assert_int_equal(synack_atmark(c->h.s, c->s), 0);
    expect_read(c, "ab"); /* stops at the mark */
    assert_int_equal(synack_atmark(c->h.s, c->s), 1);
    assert_int_equal(oob(c, &b, SYNACK_RECV_PEEK), 1);
    assert_int_equal(b, 'c');
    assert_int_equal(oob(c, &b, 0), 1);
    assert_int_equal(b, 'c');
    assert_false(synack_events(c->h.s, c->s) & SYNACK_EV_PRI);
    assert_int_equal(oob(c, &b, 0), -EINVAL); /* already read */
    assert_int_equal(synack_atmark(c->h.s, c->s), 1); /* still at the mark */
    expect_read(c, "de");
    assert_int_equal(synack_atmark(c->h.s, c->s), 0);
    assert_int_equal(synack_recv(c->h.s, c->s, &b, 1), -EAGAIN);
    h_free(&c->h);
}

/* A read at the mark steps over the urgent byte unread by MSG_OOB, and
 * once past it the byte is gone for MSG_OOB too (Linux clears urg_data). */
static void read_steps_over_unread_urgent_byte(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_urg(&x, "abcde", 3);
    expect_read(c, "ab");
    expect_read(c, "de");
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), -EINVAL);
    /* the urgent byte alone is not readable data: poll says not readable */
    send_urg(&x, "fg", 2);
    expect_read(c, "f");
    assert_false(synack_events(c->h.s, c->s) & SYNACK_EV_IN);
    assert_true(synack_events(c->h.s, c->s) & SYNACK_EV_PRI);
    assert_int_equal(synack_recv(c->h.s, c->s, &b, 1), -EAGAIN); /* stepped over 'g' */
    assert_int_equal(synack_atmark(c->h.s, c->s), 0);
    h_free(&c->h);
}

/* SO_OOBINLINE: the byte is data, only the mark is kept: the read still
 * stops there, MSG_OOB is EINVAL. */
static void oobinline_keeps_byte_in_stream(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_OOBINLINE, 1), 0);
    int v = 0;
    assert_int_equal(synack_getopt(c->h.s, c->s, SYNACK_OPT_OOBINLINE, &v), 0);
    assert_int_equal(v, 1);
    send_urg(&x, "abcde", 3);
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), -EINVAL);
    expect_read(c, "ab");
    assert_int_equal(synack_atmark(c->h.s, c->s), 1);
    char pk[8] = {0};
    assert_int_equal(synack_peek(c->h.s, c->s, pk, sizeof pk), 3);
    assert_memory_equal(pk, "cde", 3);
    expect_read(c, "cde");
    assert_int_equal(synack_atmark(c->h.s, c->s), 0);
    h_free(&c->h);
}

/* MSG_PEEK honours the mark too: it stops there, and at it (out of band)
 * peeks past the urgent byte. */
static void peek_honours_mark(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_urg(&x, "abcde", 3);
    char pk[8] = {0};
    assert_int_equal(synack_peek(c->h.s, c->s, pk, sizeof pk), 2);
    assert_memory_equal(pk, "ab", 2);
    expect_read(c, "ab");
    assert_int_equal(synack_peek(c->h.s, c->s, pk, sizeof pk), 2);
    assert_memory_equal(pk, "de", 2);
    h_free(&c->h);
}

/* A second pointer replaces the first: the old urgent byte, not yet
 * reached, becomes ordinary data; MSG_OOB gives the new one. */
static void second_pointer_replaces_first(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_urg(&x, "abc", 2); /* 'b' */
    send_urg(&x, "def", 3); /* 'f' */
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), 1);
    assert_int_equal(b, 'f');
    expect_read(c, "abcde");
    assert_int_equal(synack_atmark(c->h.s, c->s), 1);
    assert_int_equal(synack_recv(c->h.s, c->s, &b, 1), -EAGAIN);
    h_free(&c->h);
}

/* A reader sitting at the old mark when the new pointer comes: the old
 * byte leaves the stream (Linux advances copied_seq over it). */
static void second_pointer_with_reader_at_old_mark(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_urg(&x, "abc", 2); /* 'b' */
    expect_read(c, "a");
    assert_int_equal(synack_atmark(c->h.s, c->s), 1);
    send_urg(&x, "def", 3); /* 'f' */
    expect_read(c, "cde");
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), 1);
    assert_int_equal(b, 'f');
    h_free(&c->h);
}

/* The same pointer again (a retransmission) or an older one changes
 * nothing: the byte already read stays read. */
static void repeated_pointer_not_replayed(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_urg(&x, "abc", 3); /* 'c' */
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), 1);
    c->peer -= 3;
    send_urg(&x, "abc", 3); /* the retransmission */
    assert_int_equal(oob(c, &b, 0), -EINVAL);
    expect_read(c, "ab");
    h_free(&c->h);
}

/* A pointer into data already in (a retransmission that now carries URG)
 * is not replayed: Linux's tcp_check_urg cannot fetch such a byte. */
static void pointer_into_data_already_in_ignored(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_plain(&x, "abcde");
    c->peer -= 5;
    send_urg(&x, "abcdefg", 3); /* overlaps: "fg" is new, so the segment is taken */
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), -EINVAL);
    assert_int_equal(synack_atmark(c->h.s, c->s), 0);
    expect_read(c, "abcdefg");
    h_free(&c->h);
}

/* A pointer beyond what arrived, even beyond the window: known, its byte
 * not yet here. MSG_OOB says EAGAIN (never blocks), POLLPRI is not set,
 * data before the mark reads; the byte is taken when its segment comes,
 * and MSG_OOB at the end of the stream is 0. */
static void pointer_beyond_data_and_window(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 4096);
    struct conn *c = &x.c;
    uint32_t wnd = info_of(&c->h, c->s).rcv_wnd;
    assert_true(wnd < 60000);
    send_urg(&x, "0123456789", 60000); /* beyond the window */
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), -EAGAIN);
    assert_false(synack_events(c->h.s, c->s) & SYNACK_EV_PRI);
    expect_read(c, "0123456789");
    assert_int_equal(synack_atmark(c->h.s, c->s), 0);
    /* a pointer within reach replaces it (a later mark wins: max) only
     * when it lies beyond; an earlier one is ignored */
    send_urg(&x, "ab", 2);
    assert_int_equal(oob(c, &b, 0), -EAGAIN);
    conn_send(c, WIRE_TCP_ACK | WIRE_TCP_FIN, NULL, 0);
    c->peer++;
    assert_int_equal(oob(c, &b, 0), 0);
    h_free(&c->h);
}

static void pointer_then_its_byte(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    send_urg(&x, "0123456789", 20); /* the urgent byte is the 20th */
    uint8_t b;
    assert_int_equal(oob(c, &b, 0), -EAGAIN);
    expect_read(c, "0123456789");
    send_plain(&x, "abcdefghijklmn");
    assert_true(synack_events(c->h.s, c->s) & SYNACK_EV_PRI);
    expect_read(c, "abcdefghi");
    assert_int_equal(oob(c, &b, 0), 1);
    assert_int_equal(b, 'j');
    expect_read(c, "klmn");
    h_free(&c->h);
}

/* MSG_OOB: URG with SND.UP one past the last byte, on each segment below
 * it, the resend included; none once SND.UNA passed it. */
static void send_oob_marks_segments_until_acked(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    static uint8_t d[3000];
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, sizeof d, SYNACK_SEND_OOB), 3000);
    for (int i = 0; i < 3; i++) {
        struct wire_tcp t = x_next(&x);
        assert_int_equal(t.seq, c->ours + (uint32_t)i * MSS);
        assert_true(t.flags & WIRE_TCP_URG);
        assert_int_equal(t.urg, 3000 - i * MSS);
    }
    expect_none(&c->h);
    /* the first is lost: its resend carries the pointer again */
    x_ack(&x, c->ours, NULL, 0);
    x_ack(&x, c->ours, NULL, 0);
    x_ack(&x, c->ours, NULL, 0);
    struct wire_tcp t;
    bool resent = false;
    for (int ms = 0; ms < 3000 && !resent; ms += 10) {
        h_advance(&c->h, 10 * 1000);
        while (h_next(&c->h, &t))
            if (t.payload_len && t.seq == c->ours) {
                resent = true;
                assert_true(t.flags & WIRE_TCP_URG);
                assert_int_equal(t.urg, 3000);
            }
    }
    assert_true(resent);
    h_drain(&c->h);
    x_ack(&x, c->ours + 3000, NULL, 0);
    h_drain(&c->h);
    c->ours += 3000;
    assert_int_equal(synack_send(c->h.s, c->s, d, 10), 10);
    t = x_next(&x);
    assert_int_equal(t.seq, c->ours);
    assert_false(t.flags & WIRE_TCP_URG);
    assert_int_equal(t.urg, 0);
    h_free(&c->h);
}

/* Bare ACKs below SND.UP carry it too (RFC 9293 §3.8.5: the pointer goes
 * with every segment while SND.UP is ahead). A window too small for the
 * urgent write keeps the pointer ahead of SND.NXT. */
static void ack_carries_pointer_while_ahead(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    x.wnd = 1500;
    x_ack(&x, c->ours, NULL, 0);
    static uint8_t d[2000];
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, sizeof d, SYNACK_SEND_OOB), 2000);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 1000); /* the next does not fit: SND.NXT stays below SND.UP */
    assert_true(t.flags & WIRE_TCP_URG);
    assert_int_equal(t.urg, 2000);
    h_drain(&c->h);
    x_send(&x, WIRE_TCP_ACK, c->peer, c->ours, "hello", 5, NULL, 0); /* the window stays 1500 */
    c->peer += 5;
    bool acked = false;
    for (int ms = 0; ms < 100 && !acked; ms += 10) {
        h_advance(&c->h, 10 * 1000);
        while (h_next(&c->h, &t))
            if (!t.payload_len && t.ack == c->peer) {
                acked = true;
                assert_int_equal(t.seq, c->ours + 1000);
                assert_true(t.flags & WIRE_TCP_URG);
                assert_int_equal(t.urg, 1000);
            }
    }
    assert_true(acked);
    h_free(&c->h);
}

/* Nagle holds a small segment while one is unacknowledged, but never
 * urgent data (Linux tcp_nagle_test). */
static void nagle_does_not_hold_urgent(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x, 0);
    struct conn *c = &x.c;
    static uint8_t d[10];
    assert_int_equal(synack_send(c->h.s, c->s, d, 10), 10);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 10);
    assert_int_equal(synack_send(c->h.s, c->s, d, 5), 5);
    expect_none(&c->h); /* Nagle */
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, 5, SYNACK_SEND_OOB), 5);
    t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 10);
    assert_int_equal(t.payload_len, 10);
    assert_true(t.flags & WIRE_TCP_URG);
    assert_int_equal(t.urg, 10);
    h_free(&c->h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urgent_byte_out_of_band),
        cmocka_unit_test(read_steps_over_unread_urgent_byte),
        cmocka_unit_test(oobinline_keeps_byte_in_stream),
        cmocka_unit_test(peek_honours_mark),
        cmocka_unit_test(second_pointer_replaces_first),
        cmocka_unit_test(second_pointer_with_reader_at_old_mark),
        cmocka_unit_test(repeated_pointer_not_replayed),
        cmocka_unit_test(pointer_into_data_already_in_ignored),
        cmocka_unit_test(pointer_beyond_data_and_window),
        cmocka_unit_test(pointer_then_its_byte),
        cmocka_unit_test(send_oob_marks_segments_until_acked),
        cmocka_unit_test(ack_carries_pointer_while_ahead),
        cmocka_unit_test(nagle_does_not_hold_urgent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
