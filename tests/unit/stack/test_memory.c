/* Memory on demand (issue 8, docs/architecture.md "Memory"): an idle
 * connection is its TCB alone. The extension and the rings' storage are
 * attached while data is queued, in flight or held out of order, and given
 * back when that is over; the window still comes from the configured
 * buffer size (SO_RCVBUF), not from what happens to be attached. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../tcp/tcp_util.h"
#include "stack/stack.h"

static struct sock *sock_of(struct conn *c)
{
    return c->h.s->handles[c->s];
}

static void assert_idle(struct conn *c)
{
    assert_null(sock_of(c)->tcb.x);
    assert_int_equal(c->h.s->pool.ext_live, 0);
    assert_int_equal(c->h.s->pool.buf_bytes_live, 0);
}

static void idle_after_transfer_holds_no_buffer(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, 1000);
    assert_idle(&c); /* ESTABLISHED, nothing sent or received */
    /* and no timer runs: the poll's wheel does not hold it */
    assert_false(wheel_armed(&sock_of(&c)->tn));
    assert_int_equal(c.h.s->wheel.count, 0);
    uint32_t wnd0 = info_of(&c.h, c.s).rcv_wnd;

    /* data in: the receive ring's storage comes, and stays while unread */
    uint8_t d[1000];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(i * 7);
    conn_send(&c, WIRE_TCP_ACK | WIRE_TCP_PSH, d, sizeof d);
    c.peer += sizeof d;
    assert_non_null(sock_of(&c)->tcb.x);
    assert_non_null(sock_of(&c)->tcb.x->rbuf);
    assert_int_equal(c.h.s->pool.buf_bytes_live, sock_of(&c)->rcvcap);
    uint8_t r[2000];
    assert_int_equal(synack_recv(c.h.s, c.s, r, sizeof r), sizeof d);
    assert_memory_equal(r, d, sizeof d);
    assert_idle(&c); /* read: given back */
    h_advance(&c.h, SYNACK_MS(50));
    struct wire_tcp t = expect_seg(&c.h, WIRE_TCP_ACK, c.ours, c.peer); /* delayed ACK */

    /* data out: the send ring's storage, until the peer acknowledges */
    assert_int_equal(synack_send(c.h.s, c.s, d, 500), 500);
    h_advance(&c.h, 0);
    t = expect_seg(&c.h, WIRE_TCP_ACK | WIRE_TCP_PSH, c.ours, c.peer);
    assert_int_equal(t.payload_len, 500);
    assert_non_null(sock_of(&c)->tcb.x);
    assert_non_null(sock_of(&c)->tcb.x->sbuf);
    c.ours += 500;
    conn_send(&c, WIRE_TCP_ACK, NULL, 0);
    assert_idle(&c);
    assert_int_equal(c.h.s->wheel.count, 0); /* everything acknowledged: no timer left */
    /* the window offered is the configured one, all along */
    assert_int_equal(info_of(&c.h, c.s).rcv_wnd, wnd0);
    h_free(&c.h);
}

/* Out-of-order data lives in the receive ring past its length: the storage
 * stays while only that is held, and the bytes survive until the hole is
 * filled. */
static void out_of_order_keeps_storage_until_delivered(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, 5000);
    uint8_t a[100], b[100];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    h_inject(&c.h, &(struct h_seg){.flags = WIRE_TCP_ACK, .seq = c.peer + 100, .ack = c.ours, .data = b, .len = 100});
    expect_seg(&c.h, WIRE_TCP_ACK, c.ours, c.peer); /* duplicate ACK at once */
    assert_int_equal(sock_of(&c)->tcb.rcv.len, 0);
    assert_non_null(sock_of(&c)->tcb.x);
    assert_non_null(sock_of(&c)->tcb.x->rbuf);
    /* a poll, a timer pass: nothing is taken back while the hole is open */
    h_advance(&c.h, SYNACK_MS(300));
    h_drain(&c.h);
    assert_non_null(sock_of(&c)->tcb.x->rbuf);
    conn_send(&c, WIRE_TCP_ACK, a, 100);
    uint8_t r[300];
    assert_int_equal(synack_recv(c.h.s, c.s, r, sizeof r), 200);
    assert_memory_equal(r, a, 100);
    assert_memory_equal(r + 100, b, 100);
    assert_idle(&c);
    h_free(&c.h);
}

/* SO_RCVBUF: the window and the storage follow the size set, though no
 * storage is attached when the window is announced. */
static void rcvbuf_sets_window_and_storage(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock s = synack_socket(h.s);
    assert_int_equal(synack_setopt(h.s, s, SYNACK_OPT_RCVBUF, 8192), 0);
    synack_endpoint ep = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, s, &ep), -EINPROGRESS);
    h_advance(&h, 0);
    struct wire_tcp syn = expect_flags(&h, WIRE_TCP_SYN, 0);
    /* Linux rounds the first window down to whole segments: 5 * 1460 */
    assert_int_equal(syn.wnd, 7300);
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_SYN | WIRE_TCP_ACK, .sport = H_RPORT, .dport = syn.sport,
                                 .seq = 7000, .ack = syn.seq + 1});
    struct wire_tcp t = expect_seg(&h, WIRE_TCP_ACK, syn.seq + 1, 7001);
    assert_true(t.wnd >= 7300 && t.wnd <= 8192);
    assert_null(h.s->handles[s]->tcb.x);
    uint8_t d[300] = {0};
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_ACK, .sport = H_RPORT, .dport = syn.sport, .seq = 7001,
                                 .ack = syn.seq + 1, .data = d, .len = sizeof d});
    assert_int_equal(h.s->pool.buf_bytes_live, 8192);
    h_free(&h);
}

/* Closing: TIME_WAIT keeps no storage. */
static void time_wait_holds_no_buffer(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, 9000);
    assert_int_equal(synack_send(c.h.s, c.s, "hello", 5), 5);
    assert_int_equal(synack_shutdown(c.h.s, c.s, SYNACK_SHUT_WR), 0);
    h_advance(&c.h, 0);
    expect_seg(&c.h, WIRE_TCP_ACK | WIRE_TCP_PSH, c.ours, c.peer);
    expect_seg(&c.h, WIRE_TCP_ACK | WIRE_TCP_FIN, c.ours + 5, c.peer);
    c.ours += 6;
    conn_send(&c, WIRE_TCP_ACK | WIRE_TCP_FIN, NULL, 0);
    c.peer++;
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    assert_idle(&c);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_after_transfer_holds_no_buffer),
        cmocka_unit_test(out_of_order_keeps_storage_until_delivered),
        cmocka_unit_test(rcvbuf_sets_window_and_storage),
        cmocka_unit_test(time_wait_holds_no_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
