/* A segment that ends beyond the receive window, as Linux since 6.17
 * (tcp_sequence, net/ipv4/tcp_input.c): taken whole when nothing waits to
 * be read, dropped whole (a duplicate ACK, its ACK field unread) when data
 * does; one that starts beyond the window is dropped as before. Taking it
 * grows the receive ring's storage through the stack's hook for that one
 * segment; the window stays 0 until the reader has made room, and the
 * memory is back to the buffer's size once the ring is empty. Without
 * memory the segment is trimmed to the window (RFC 9293 §3.10.7.4) and
 * nothing is lost. linux-selftests tcp_rcv_zero_wnd_fin.pkt is the
 * conformance side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "tcp_util.h"

#define A_ WIRE_TCP_ACK
#define F_ WIRE_TCP_FIN

/* The byte at offset i of the test's stream. */
static uint8_t pat(uint32_t i)
{
    return (uint8_t)(i * 7u + 3u + (i >> 8));
}

static uint8_t stream[80000];

static void fill_stream(void)
{
    for (uint32_t i = 0; i < sizeof stream; i++)
        stream[i] = pat(i);
}

/* Bytes [off, off+len) of the stream at c->peer_isn + 1 + off, acking ack;
 * any size (the harness's h_inject stops at 2 KiB frames). */
static void inject_data(struct conn *c, uint16_t flags, uint32_t off, uint32_t len, uint32_t ack)
{
    static uint8_t frame[70000 + 100];
    size_t n = h_build(&(struct h_seg){.flags = flags, .seq = c->peer_isn + 1 + off, .ack = ack,
                                       .data = stream + off, .len = len},
                       frame, sizeof frame);
    assert_true(n > 0);
    h_inject_raw(&c->h, frame, n);
}

static struct sock *sock_of(struct conn *c)
{
    return c->h.s->handles[c->s];
}

/* A connection with a receive buffer of rcvbuf bytes and no options (the
 * window unscaled); returns the window it offers. */
static uint32_t open_with(struct conn *c, uint32_t rcvbuf)
{
    fill_stream();
    synack_config cfg = {.rcvbuf = rcvbuf, .sndbuf = 1 << 16};
    conn_open(c, &cfg, 5000);
    uint32_t wnd = info_of(&c->h, c->s).rcv_wnd;
    assert_true(wnd > 0 && wnd <= rcvbuf);
    return wnd;
}

/* Reads everything readable and checks it is the stream from off on. */
static uint32_t read_check(struct conn *c, uint32_t off, uint32_t max)
{
    static uint8_t buf[70000];
    long n = synack_recv(c->h.s, c->s, buf, max);
    assert_true(n > 0);
    assert_memory_equal(buf, stream + off, (size_t)n);
    return (uint32_t)n;
}

/* Linux since 6.17: an in-order segment that starts in the window and ends
 * beyond it goes whole into an empty queue; the ACK shows the window 0,
 * and a FIN into that closed window is taken and ACKed at once
 * (tcp_rcv_zero_wnd_fin.pkt). Read, it is every byte sent, and SIOCINQ
 * says so first. */
static void test_linux_beyond_window_taken_whole_into_empty_queue(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 20000);
    inject_data(&c, A_ | WIRE_TCP_PSH, 0, 60000, c.ours);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer + 60000);
    assert_int_equal(i.unread, 60000); /* SIOCINQ / FIONREAD */
    assert_int_equal(i.rcv_wnd, 0);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_taken"), 1);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), 0);
    assert_true(60000 > wnd);
    h_advance(&c.h, SYNACK_MS(100));
    struct wire_tcp t = expect_seg(&c.h, A_, c.ours, c.peer + 60000);
    assert_int_equal(t.wnd, 0);
    expect_none(&c.h);
    /* the storage holds the segment; the buffer is still 20000 */
    struct sock *k = sock_of(&c);
    assert_true(k->tcb.x && k->tcb.x->rbuf);
    assert_true(k->tcb.rcv.cap >= 60000);
    assert_int_equal(tcp_rcv_bufsize(&k->tcb), 20000);
    int v;
    assert_int_equal(synack_getopt(c.h.s, c.s, SYNACK_OPT_RCVBUF, &v), 0);
    assert_int_equal(v, 20000);

    inject_data(&c, A_ | F_, 60000, 0, c.ours);
    t = expect_seg(&c.h, A_, c.ours, c.peer + 60001);
    assert_int_equal(t.wnd, 0);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSE_WAIT);

    assert_int_equal(read_check(&c, 0, 70000), 60000);
    uint8_t one;
    assert_int_equal(synack_recv(c.h.s, c.s, &one, 1), 0); /* then the end */
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0);
    h_free(&c.h);
}

/* Linux since 6.17 (SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE): with data
 * waiting to be read, such a segment is dropped whole, the in-window part
 * too, and a duplicate ACK (RCV.NXT unchanged) goes back; its ACK field is
 * not taken. */
static void test_linux_beyond_window_dropped_with_data_queued(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 2048);
    inject_data(&c, A_, 0, 100, c.ours);
    assert_int_equal(info_of(&c.h, c.s).unread, 100);
    h_advance(&c.h, SYNACK_MS(100));
    expect_seg(&c.h, A_, c.ours, c.peer + 100);
    /* one byte of ours in flight, which the dropped segment acknowledges */
    assert_int_equal(synack_send(c.h.s, c.s, "q", 1), 1);
    struct wire_tcp t;
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.payload_len, 1);
    uint32_t edge = wnd; /* the right edge, in stream offsets */
    inject_data(&c, A_, 100, edge - 100 + 1, c.ours + 1);
    t = expect_seg(&c.h, A_, c.ours + 1, c.peer + 100);
    expect_none(&c.h);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, 100);
    assert_int_equal(i.rcv_nxt, c.peer + 100);
    assert_int_equal(i.snd_una, c.ours); /* the ACK field was not read */
    assert_int_equal(ctr(&c.h, "tcp_drop_beyond_window"), 1);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_taken"), 0);
    assert_int_equal(sock_of(&c)->tcb.rcv.cap, 2048); /* nothing grew */
    assert_int_equal(sock_of(&c)->tcb.x->rcv_bufsize, 0);
    /* what fits is taken as ever, its ACK with it */
    inject_data(&c, A_, 100, edge - 100, c.ours + 1);
    i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, edge);
    assert_int_equal(i.snd_una, c.ours + 1);
    assert_int_equal(read_check(&c, 0, 70000), edge);
    h_free(&c.h);
}

/* A segment that starts beyond the window (or at its right edge) is not
 * acceptable (RFC 9293 §3.10.7.4, and Linux's TCP_INVALID_SEQUENCE), empty
 * queue or not: dropped, a duplicate ACK back, nothing held. */
static void test_linux_beyond_window_starting_beyond_is_dropped(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 2048);
    inject_data(&c, A_, wnd, 500, c.ours);
    expect_seg(&c.h, A_, c.ours, c.peer);
    inject_data(&c, A_, wnd + 10, 500, c.ours);
    expect_seg(&c.h, A_, c.ours, c.peer);
    expect_none(&c.h);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, 0);
    assert_int_equal(i.rcv_nxt, c.peer);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), 2);
    assert_int_equal(ctr(&c.h, "tcp_ooo_queued"), 0);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_taken"), 0);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0);
    h_free(&c.h);
}

/* After the excess: the window stays 0 while the ring holds the buffer's
 * size or more (never advertised beyond it, RFC 9293 §3.8.6), reopens by
 * the room the reader made (with a window update once half the buffer is
 * free, Linux tcp_cleanup_rbuf), and the storage is the buffer's size
 * again once the ring is empty; the next such segment into the empty
 * queue is taken whole again. */
static void test_linux_beyond_window_reopens_after_reading(void **state)
{
    (void)state;
    struct conn c;
    open_with(&c, 20000);
    inject_data(&c, A_, 0, 50000, c.ours);
    h_advance(&c.h, SYNACK_MS(100));
    assert_int_equal(expect_seg(&c.h, A_, c.ours, c.peer + 50000).wnd, 0);
    uint32_t got = read_check(&c, 0, 25000);
    assert_int_equal(got, 25000);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, 25000);
    assert_int_equal(i.rcv_wnd, 0); /* still more than the buffer */
    h_advance(&c.h, SYNACK_MS(100));
    expect_none(&c.h); /* no window update for a window still shut */
    /* a byte sent now meets the zero window: not taken (RFC 9293
     * §3.10.7.4's zero-window case), the ACK says so again */
    inject_data(&c, A_, 50000, 1, c.ours);
    assert_int_equal(expect_seg(&c.h, A_, c.ours, c.peer + 50000).wnd, 0);
    assert_int_equal(info_of(&c.h, c.s).unread, 25000);
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), 1);
    got += read_check(&c, got, 15000);
    assert_int_equal(info_of(&c.h, c.s).rcv_wnd, 10000); /* the room made */
    struct wire_tcp t = expect_seg(&c.h, A_, c.ours, c.peer + 50000); /* a window update */
    assert_int_equal(t.wnd, 10000);
    got += read_check(&c, got, 70000);
    assert_int_equal(got, 50000);
    struct sock *k = sock_of(&c);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0); /* the memory is back */
    assert_true(!k->tcb.x || !k->tcb.x->rbuf);
    assert_int_equal(k->tcb.rcv.cap, 20000);
    assert_int_equal(info_of(&c.h, c.s).rcv_wnd, 20000);
    h_advance(&c.h, SYNACK_MS(100));
    t = expect_seg(&c.h, A_, c.ours, c.peer + 50000); /* the window update */
    assert_int_equal(t.wnd, 20000);
    /* in-window data gets storage of the buffer's size */
    inject_data(&c, A_, 50000, 1000, c.ours);
    assert_int_equal(k->tcb.rcv.cap, 20000);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 20000);
    assert_int_equal(read_check(&c, 50000, 70000), 1000);
    /* and the empty queue takes the next overshoot whole again */
    inject_data(&c, A_, 51000, 19000 + 1000, c.ours);
    assert_int_equal(info_of(&c.h, c.s).unread, 20000);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_taken"), 2);
    assert_int_equal(read_check(&c, 51000, 70000), 20000);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0);
    h_free(&c.h);
}

static uint8_t *refuse_rbuf(void *cb, uint32_t size)
{
    (void)cb;
    (void)size;
    return NULL;
}

/* Without memory for the larger storage (the stack's hook refuses), the
 * segment is trimmed to the window as RFC 9293 §3.10.7.4 says; the peer
 * sends the rest again and no byte is lost or doubled. */
static void test_linux_beyond_window_no_memory_trims(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 1024);
    c.h.s->tcp.rbuf_alloc = refuse_rbuf;
    inject_data(&c, A_, 0, 1900, c.ours);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, wnd);
    assert_int_equal(i.rcv_nxt, c.peer + wnd);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_nomem"), 1);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_taken"), 0);
    h_advance(&c.h, SYNACK_MS(100));
    assert_int_equal(expect_seg(&c.h, A_, c.ours, c.peer + wnd).wnd, 0);
    uint32_t got = read_check(&c, 0, 70000);
    assert_int_equal(got, wnd);
    h_drain(&c.h);
    /* the peer goes on from the ACK; the rest fits now */
    inject_data(&c, A_, wnd, 1900 - wnd, c.ours);
    got += read_check(&c, got, 70000);
    assert_int_equal(got, 1900);
    assert_int_equal(info_of(&c.h, c.s).rcv_nxt, c.peer + 1900);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0);
    h_free(&c.h);
}

/* Held out-of-order data does not make the queue non-empty (Linux's
 * out-of-order queue is apart from sk_receive_queue): an out-of-order
 * segment that ends beyond the window is taken whole too, the data held
 * before it moves into the grown storage at its place, and filling the
 * holes gives the stream intact. */
static void test_linux_beyond_window_out_of_order_data_moves(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 1024);
    inject_data(&c, A_, 300, 100, c.ours); /* held: [300, 400) */
    assert_int_equal(ctr(&c.h, "tcp_ooo_queued"), 1);
    inject_data(&c, A_, 600, 1300, c.ours); /* [600, 1900): past the window */
    assert_true(1900 > wnd);
    assert_int_equal(ctr(&c.h, "tcp_rcv_beyond_taken"), 1);
    assert_int_equal(ctr(&c.h, "tcp_ooo_queued"), 2);
    assert_int_equal(info_of(&c.h, c.s).unread, 0);
    inject_data(&c, A_, 0, 300, c.ours);
    assert_int_equal(info_of(&c.h, c.s).unread, 400);
    /* the queue holds data now: the hole is in the window, so it is taken */
    inject_data(&c, A_, 400, 200, c.ours);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, 1900);
    assert_int_equal(i.rcv_nxt, c.peer + 1900);
    assert_int_equal(i.rcv_wnd, 0);
    assert_int_equal(read_check(&c, 0, 70000), 1900);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0);
    h_free(&c.h);
}

/* A FIN alone past the window's edge does not make a segment "beyond"
 * (Linux tcp_sequence lets it through, for stacks that send one into a
 * closed window): data up to the edge and the FIN are taken with data
 * already queued. */
static void test_linux_beyond_window_fin_alone_is_not_beyond(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 2048);
    inject_data(&c, A_, 0, 100, c.ours);
    h_drain(&c.h);
    inject_data(&c, A_ | F_, 100, wnd - 100, c.ours);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSE_WAIT);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, wnd);
    assert_int_equal(i.rcv_nxt, c.peer + wnd + 1);
    assert_int_equal(ctr(&c.h, "tcp_drop_beyond_window"), 0);
    h_advance(&c.h, SYNACK_MS(100));
    assert_int_equal(expect_seg(&c.h, A_, c.ours, c.peer + wnd + 1).wnd, 0);
    assert_int_equal(read_check(&c, 0, 70000), wnd);
    h_free(&c.h);
}

/* A hostile peer gets one segment past the window and no more: segments
 * that straddle the window's edge out of order, again and again, keep the
 * storage within the window plus the largest of them, and once data is
 * queued nothing more past the edge is taken. */
static void test_linux_beyond_window_excess_bounded_by_one_segment(void **state)
{
    (void)state;
    struct conn c;
    uint32_t wnd = open_with(&c, 1024);
    size_t bound = wnd + 60000;
    for (uint32_t start = 100; start < wnd; start += 100) {
        inject_data(&c, A_, start, 60000 - start, c.ours); /* all end at 60000 */
        assert_true(c.h.s->pool.buf_bytes_live <= bound);
        assert_int_equal(info_of(&c.h, c.s).unread, 0);
    }
    inject_data(&c, A_, 0, 100, c.ours); /* the hole: now all is in order */
    assert_int_equal(info_of(&c.h, c.s).unread, 60000);
    /* data queued: a segment past the edge is dropped, the storage stays */
    size_t live = c.h.s->pool.buf_bytes_live;
    inject_data(&c, A_, 60000, 5000, c.ours);
    assert_int_equal(info_of(&c.h, c.s).unread, 60000);
    assert_int_equal(c.h.s->pool.buf_bytes_live, live);
    assert_int_equal(read_check(&c, 0, 70000), 60000);
    assert_int_equal(c.h.s->pool.buf_bytes_live, 0);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_beyond_window_taken_whole_into_empty_queue),
        cmocka_unit_test(test_linux_beyond_window_dropped_with_data_queued),
        cmocka_unit_test(test_linux_beyond_window_starting_beyond_is_dropped),
        cmocka_unit_test(test_linux_beyond_window_reopens_after_reading),
        cmocka_unit_test(test_linux_beyond_window_no_memory_trims),
        cmocka_unit_test(test_linux_beyond_window_out_of_order_data_moves),
        cmocka_unit_test(test_linux_beyond_window_fin_alone_is_not_beyond),
        cmocka_unit_test(test_linux_beyond_window_excess_bounded_by_one_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
