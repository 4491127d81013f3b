/* RFC 9293 §3.10.7.4 first check: the segment acceptability test (four
 * cases) and <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> in reply to an
 * unacceptable segment, in every synchronized state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "tcp_util.h"
#include "wire/tcp.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST
#define F_ WIRE_TCP_FIN

#define PEER_ISN 70000u
#define WND 65535u

static uint8_t big[2000];

static void inject_at(struct conn *c, uint16_t flags, uint32_t seq, uint32_t ack, const void *d, size_t n)
{
    h_inject(&c->h, &(struct h_seg){.flags = flags, .seq = seq, .ack = ack, .data = d, .len = n});
}

/* A connection whose receive buffer (and window) is 1024 bytes, filled. */
static void open_zero_window(struct conn *c)
{
    h_init(&c->h, NULL);
    synack_sock l = synack_socket(c->h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_set_bufsize(c->h.s, l, 0, 1024), 0);
    assert_int_equal(synack_bind(c->h.s, l, &e), 0);
    assert_int_equal(synack_listen(c->h.s, l, 4), 0);
    h_inject(&c->h, &(struct h_seg){.flags = S_, .seq = PEER_ISN});
    struct wire_tcp t = expect_flags(&c->h, S_ | A_, PEER_ISN + 1);
    c->iss = t.seq;
    c->ours = t.seq + 1;
    c->peer = PEER_ISN + 1;
    c->l = l;
    inject_at(c, A_, c->peer, c->ours, NULL, 0);
    c->s = synack_accept(c->h.s, l, NULL);
    assert_true(c->s >= 0);
    assert_int_equal(info_of(&c->h, c->s).rcv_wnd, 1024);
    /* exactly the window (a segment that ends beyond it would be taken
     * whole into this empty queue, as Linux since 6.17: test_flow_control.c
     * linux_beyond_window_*) */
    memset(big, 'z', sizeof big);
    inject_at(c, A_, c->peer, c->ours, big, 1024);
    c->peer += 1024;
    synack_tcp_info i = info_of(&c->h, c->s);
    assert_int_equal(i.rcv_nxt, c->peer);
    assert_int_equal(i.unread, 1024);
    assert_int_equal(i.rcv_wnd, 0);
    h_advance(&c->h, SYNACK_MS(100)); /* any delayed ACK */
    t = expect_seg(&c->h, A_, c->ours, c->peer);
    assert_int_equal(t.wnd, 0);
    expect_none(&c->h);
}

/* Puts one byte of ours in flight, so that an ACK can be seen to count. */
static void one_byte_in_flight(struct conn *c)
{
    assert_int_equal(synack_send(c->h.s, c->s, "q", 1), 1);
    struct wire_tcp t;
    assert_true(h_next(&c->h, &t));
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(t.payload_len, 1);
}

/* RFC 9293 §3.10.7.4, SEG.LEN = 0, RCV.WND > 0: acceptable when
 * RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND; its ACK is processed. */
static void test_rfc9293_3_10_7_4_len0_wnd_open(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    one_byte_in_flight(&c);
    /* outside: just below and at the right edge */
    inject_at(&c, A_, c.peer - 1, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer);
    inject_at(&c, A_, c.peer + WND, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer);
    expect_none(&c.h);
    assert_int_equal(info_of(&c.h, c.s).snd_una, c.ours);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), 2);
    /* inside, at the far end of the window: the ACK counts */
    inject_at(&c, A_, c.peer + WND - 1, c.ours + 1, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(info_of(&c.h, c.s).snd_una, c.ours + 1);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), 2);
    h_free(&c.h);
}

/* RFC 9293 §3.10.7.4, SEG.LEN = 0, RCV.WND = 0: acceptable only when
 * SEG.SEQ = RCV.NXT. */
static void test_rfc9293_3_10_7_4_len0_wnd_zero(void **state)
{
    (void)state;
    struct conn c;
    open_zero_window(&c);
    one_byte_in_flight(&c);
    inject_at(&c, A_, c.peer + 1, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer);
    expect_none(&c.h);
    assert_int_equal(info_of(&c.h, c.s).snd_una, c.ours);
    inject_at(&c, A_, c.peer, c.ours + 1, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(info_of(&c.h, c.s).snd_una, c.ours + 1);
    h_free(&c.h);
}

/* RFC 9293 §3.10.7.4, SEG.LEN > 0, RCV.WND = 0: never acceptable; the data
 * is not taken and an ACK (showing the zero window) goes back. */
static void test_rfc9293_3_10_7_4_data_wnd_zero_not_acceptable(void **state)
{
    (void)state;
    struct conn c;
    open_zero_window(&c);
    uint64_t before = ctr(&c.h, "tcp_drop_unacceptable");
    inject_at(&c, A_, c.peer, c.ours, "more", 4);
    struct wire_tcp t = expect_seg(&c.h, A_, c.ours, c.peer);
    assert_int_equal(t.wnd, 0);
    expect_none(&c.h);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer);
    assert_int_equal(i.unread, 1024);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), before + 1);
    /* reading opens the window, and the same data is then taken */
    char b[1024];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 1024);
    h_drain(&c.h);
    inject_at(&c, A_, c.peer, c.ours, "more", 4);
    i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer + 4);
    assert_int_equal(i.unread, 4);
    h_free(&c.h);
}

/* RFC 9293 §3.10.7.4, SEG.LEN > 0, RCV.WND > 0: acceptable when its first
 * or its last octet is in the window. Partly old data is trimmed to the new
 * part; wholly old or wholly beyond-the-window data draws an ACK. */
static void test_rfc9293_3_10_7_4_data_wnd_open(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, A_, c.peer, c.ours, "abcde", 5);
    /* last octet in the window, first before it */
    inject_at(&c, A_, c.peer + 2, c.ours, "cdefgh", 6);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer + 8);
    char b[16];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 8);
    assert_memory_equal(b, "abcdefgh", 8);
    c.peer += 8;
    h_advance(&c.h, SYNACK_MS(100));
    h_drain(&c.h);
    uint64_t before = ctr(&c.h, "tcp_drop_unacceptable");
    /* wholly old */
    inject_at(&c, A_, c.peer - 6, c.ours, "fgh", 3);
    expect_seg(&c.h, A_, c.ours, c.peer);
    /* wholly beyond the window */
    inject_at(&c, A_, c.peer + WND, c.ours, "xyz", 3);
    expect_seg(&c.h, A_, c.ours, c.peer);
    expect_none(&c.h);
    i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer);
    assert_int_equal(i.unread, 0);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), before + 2);
    h_free(&c.h);
}

/* RFC 9293 §3.10.7.4 first: "If an incoming segment is not acceptable, an
 * acknowledgment should be sent in reply (unless the RST bit is set, if so
 * drop the segment and return)". */
static void test_rfc9293_3_10_7_4_unacceptable_rst_no_reply(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, R_, c.peer + WND + 5, 0, NULL, 0);
    inject_at(&c, R_ | A_, c.peer - 5, c.ours, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    h_free(&c.h);
}

enum { ST_EST, ST_FW1, ST_FW2, ST_CW, ST_LA, ST_CLOSING, ST_TW, ST_N };

static void drive(struct conn *c, int to)
{
    switch (to) {
    case ST_EST:
        break;
    case ST_FW1:
    case ST_FW2:
    case ST_CLOSING:
    case ST_TW:
        assert_int_equal(synack_shutdown(c->h.s, c->s, SYNACK_SHUT_WR), 0);
        expect_seg(&c->h, A_ | F_, c->ours, c->peer);
        if (to == ST_FW1)
            break;
        if (to == ST_CLOSING) {
            inject_at(c, A_ | F_, c->peer, c->ours, NULL, 0);
            break;
        }
        inject_at(c, A_, c->peer, c->ours + 1, NULL, 0);
        if (to == ST_TW)
            inject_at(c, A_ | F_, c->peer, c->ours + 1, NULL, 0);
        break;
    case ST_CW:
    case ST_LA:
        inject_at(c, A_ | F_, c->peer, c->ours, NULL, 0);
        if (to == ST_LA)
            assert_int_equal(synack_shutdown(c->h.s, c->s, SYNACK_SHUT_WR), 0);
        break;
    }
    h_advance(&c->h, SYNACK_MS(1));
    h_drain(&c->h);
}

/* RFC 9293 §3.10.7.4 first, in ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2,
 * CLOSE-WAIT, LAST-ACK, CLOSING and TIME-WAIT: an unacceptable segment
 * draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and nothing changes; an
 * unacceptable RST draws nothing. */
static void test_rfc9293_3_10_7_4_unacceptable_ack_reply_every_sync_state(void **state)
{
    (void)state;
    static const synack_state want[ST_N] = {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2,
                                            SYNACK_CLOSE_WAIT,  SYNACK_LAST_ACK,   SYNACK_CLOSING,
                                            SYNACK_TIME_WAIT};
    for (int st = 0; st < ST_N; st++) {
        struct conn c;
        conn_open(&c, NULL, PEER_ISN);
        drive(&c, st);
        synack_tcp_info i = info_of(&c.h, c.s);
        print_message("state %s\n", synack_state_name(i.state));
        assert_int_equal(i.state, want[st]);
        inject_at(&c, A_, i.rcv_nxt + 100000, i.snd_nxt, "xyz", 3);
        expect_seg(&c.h, A_, i.snd_nxt, i.rcv_nxt);
        inject_at(&c, A_, i.rcv_nxt - 10, i.snd_nxt, "xyz", 3);
        expect_seg(&c.h, A_, i.snd_nxt, i.rcv_nxt);
        inject_at(&c, R_, i.rcv_nxt + 100000, 0, NULL, 0);
        expect_none(&c.h);
        synack_tcp_info j = info_of(&c.h, c.s);
        assert_int_equal(j.state, want[st]);
        assert_int_equal(j.rcv_nxt, i.rcv_nxt);
        assert_int_equal(j.snd_nxt, i.snd_nxt);
        h_free(&c.h);
    }
}

/* The same in SYN-RECEIVED (passive open, before the handshake's ACK):
 * <SEQ=ISS+1><ACK=RCV.NXT><CTL=ACK>. */
static void test_rfc9293_3_10_7_4_unacceptable_ack_reply_syn_received(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &e), 0);
    assert_int_equal(synack_listen(h.s, l, 4), 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = PEER_ISN});
    uint32_t iss = expect_flags(&h, S_ | A_, PEER_ISN + 1).seq;
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = PEER_ISN + 1 + 100000, .ack = iss + 1, .data = "x", .len = 1});
    expect_seg(&h, A_, iss + 1, PEER_ISN + 1);
    expect_none(&h);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = PEER_ISN + 1, .ack = iss + 1});
    assert_true(synack_accept(h.s, l, NULL) >= 0);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9293_3_10_7_4_len0_wnd_open),
        cmocka_unit_test(test_rfc9293_3_10_7_4_len0_wnd_zero),
        cmocka_unit_test(test_rfc9293_3_10_7_4_data_wnd_zero_not_acceptable),
        cmocka_unit_test(test_rfc9293_3_10_7_4_data_wnd_open),
        cmocka_unit_test(test_rfc9293_3_10_7_4_unacceptable_rst_no_reply),
        cmocka_unit_test(test_rfc9293_3_10_7_4_unacceptable_ack_reply_every_sync_state),
        cmocka_unit_test(test_rfc9293_3_10_7_4_unacceptable_ack_reply_syn_received),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
