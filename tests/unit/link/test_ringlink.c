/* The ring link (synack_ringlink): two stacks joined by two SPSC rings.
 * In one thread on a virtual clock: a connection with data both ways and
 * the close; a ring so small that records wrap and pad on every lap; a full
 * ring refusing frames, which TCP must retry, not lose; frames over the
 * MTU; what new() refuses. In two threads: a stream checked byte for byte
 * while both loops poll, and again with the receivers sleeping on the
 * wake-up descriptor, and with each stack on synack_loop; and raw frames of
 * every length in order, through a tap, across thousands of wraps. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"

#define CLI_ADDR 0xc6120001u /* 198.18.0.1 */
#define SRV_ADDR 0xc6120002u /* 198.18.0.2 */
#define PORT 7

static synack_endpoint srv_ep(void) { return (synack_endpoint){.addr = synack_ipv4(SRV_ADDR), .port = PORT}; }

struct pair {
    synack_vclock clock; /* the one-thread tests */
    synack_ringlink *l;
    synack_stack *s[2]; /* 0 the client, 1 the server */
};

static void pair_new(struct pair *p, size_t bytes, unsigned flags, bool vclock)
{
    memset(p, 0, sizeof *p);
    p->clock.now = SYNACK_SEC(1000);
    p->l = synack_ringlink_new(bytes, 1500, flags);
    assert_non_null(p->l);
    for (int i = 0; i < 2; i++) {
        synack_config c = {.seed = 1u + (unsigned)i, .clock = synack_monotonic_now};
        if (vclock) {
            c.clock = synack_vclock_read;
            c.clock_ctx = &p->clock;
        }
        p->s[i] = synack_stack_new(&c);
        assert_non_null(p->s[i]);
        synack_iface_config ic = {.ops = synack_ringlink_ops(), .ctx = synack_ringlink_end(p->l, i),
                                  .addr = synack_ipv4(i ? SRV_ADDR : CLI_ADDR), .prefix_len = 24};
        int ifx = synack_iface_add(p->s[i], &ic);
        assert_true(ifx >= 0);
        synack_ringlink_attach(p->l, i, p->s[i], ifx);
    }
}

static void pair_free(struct pair *p)
{
    for (int i = 0; i < 2; i++)
        synack_stack_free(p->s[i]);
    synack_ringlink_free(p->l);
}

/* ---- one thread, virtual time ---- */

static size_t turn(struct pair *p)
{
    size_t n = 0;
    for (int i = 0; i < 2; i++)
        n += synack_ringlink_pump(p->l, i, p->clock.now, 64);
    for (int i = 0; i < 2; i++)
        synack_poll(p->s[i]);
    return n;
}

/* Turns until nothing moves and cond holds; the clock jumps to the nearer
 * deadline when nothing moves. Fails after a virtual `limit`. */
static void run(struct pair *p, bool (*cond)(struct pair *, void *), void *ctx, synack_time limit)
{
    synack_time end = p->clock.now + limit;
    while (!cond(p, ctx)) {
        if (turn(p))
            continue;
        synack_time a = synack_poll(p->s[0]), b = synack_poll(p->s[1]);
        synack_time next = a < b ? a : b;
        assert_true(next != SYNACK_TIME_NEVER && next <= end);
        if (next > p->clock.now)
            p->clock.now = next;
    }
}

struct conn {
    synack_sock ls, c, v;
};

static bool accepted(struct pair *p, void *ctx)
{
    struct conn *k = ctx;
    if (k->v < 0)
        k->v = synack_accept(p->s[1], k->ls, NULL);
    return k->v >= 0 && (synack_events(p->s[0], k->c) & SYNACK_EV_OUT);
}

static void open_conn(struct pair *p, struct conn *k)
{
    k->ls = synack_socket(p->s[1]);
    synack_endpoint any = {.addr = synack_ipv4(SRV_ADDR), .port = PORT};
    assert_int_equal(synack_bind(p->s[1], k->ls, &any), 0);
    assert_int_equal(synack_listen(p->s[1], k->ls, 4), 0);
    k->c = synack_socket(p->s[0]);
    synack_endpoint ep = srv_ep();
    assert_int_equal(synack_connect(p->s[0], k->c, &ep), -EINPROGRESS);
    k->v = -1;
    run(p, accepted, k, SYNACK_SEC(5));
}

/* A stream of `total` bytes from s[from] to s[1 - from], pattern i * 7 + 3,
 * written and read as the buffers allow. */
struct stream {
    struct conn *k;
    int from;
    size_t total, sent, got;
    bool bad;
};

static uint8_t pat(size_t i) { return (uint8_t)(i * 7 + 3); }

static bool streamed(struct pair *p, void *ctx)
{
    struct stream *st = ctx;
    synack_sock tx = st->from ? st->k->v : st->k->c, rx = st->from ? st->k->c : st->k->v;
    uint8_t buf[4096];
    while (st->sent < st->total) {
        size_t n = st->total - st->sent < sizeof buf ? st->total - st->sent : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(st->sent + i);
        long w = synack_send(p->s[st->from], tx, buf, n);
        if (w <= 0)
            break;
        st->sent += (size_t)w;
    }
    long r;
    while ((r = synack_recv(p->s[1 - st->from], rx, buf, sizeof buf)) > 0) {
        for (long i = 0; i < r; i++)
            if (buf[i] != pat(st->got + (size_t)i))
                st->bad = true;
        st->got += (size_t)r;
    }
    return st->got == st->total;
}

static bool closed(struct pair *p, void *ctx)
{
    struct conn *k = ctx;
    synack_tcp_info a, b;
    assert_int_equal(synack_tcp_info_get(p->s[0], k->c, &a), 0);
    assert_int_equal(synack_tcp_info_get(p->s[1], k->v, &b), 0);
    return a.state == SYNACK_TIME_WAIT && b.state == SYNACK_CLOSED;
}

static void transfer_and_close(struct pair *p, size_t each_way)
{
    struct conn k;
    open_conn(p, &k);
    for (int from = 0; from < 2; from++) {
        struct stream st = {.k = &k, .from = from, .total = each_way};
        run(p, streamed, &st, SYNACK_SEC(60));
        assert_false(st.bad);
    }
    assert_int_equal(synack_shutdown(p->s[0], k.c, SYNACK_SHUT_WR), 0);
    uint8_t b;
    while (synack_recv(p->s[1], k.v, &b, 1) != 0)
        turn(p);
    assert_int_equal(synack_shutdown(p->s[1], k.v, SYNACK_SHUT_WR), 0);
    run(p, closed, &k, SYNACK_SEC(5));
}

static void test_connection_data_and_close(void **state)
{
    (void)state;
    struct pair p;
    pair_new(&p, 1u << 16, 0, true);
    transfer_and_close(&p, 100000);
    synack_ring_stats st[2];
    for (int i = 0; i < 2; i++) {
        synack_ringlink_stats(p.l, i, &st[i]);
        assert_int_equal(st[i].refused, 0);
        assert_int_equal(st[i].oversize, 0);
        assert_true(st[i].frames > 0);
    }
    /* every frame sent was delivered at the other end */
    assert_int_equal(st[0].frames, st[1].delivered);
    assert_int_equal(st[1].frames, st[0].delivered);
    assert_true(st[0].bytes > 100000 && st[1].bytes > 100000);
    pair_free(&p);
}

/* 8 KiB holds five full-sized records: the writer reaches the end of the
 * buffer on every lap, usually with a record that does not fit (a pad),
 * and fills the ring (refused, retried by TCP). */
static void test_small_ring_wraps_and_refuses_without_loss(void **state)
{
    (void)state;
    struct pair p;
    pair_new(&p, 8192, 0, true);
    transfer_and_close(&p, 300000);
    synack_ring_stats st;
    synack_ringlink_stats(p.l, 0, &st);
    assert_true(st.bytes > 300000);
    assert_true(st.refused > 0);
    /* the stack was told: segments refused locally, counted as never sent */
    assert_int_equal(synack_counter(p.s[0], "ip_out_drop"), st.refused);
    assert_true(synack_counter(p.s[0], "tcp_out_refused") > 0);
    pair_free(&p);
}

static void test_oversize_and_bad_arguments(void **state)
{
    (void)state;
    assert_null(synack_ringlink_new(8192, 1500, 0x80));       /* unknown flag */
    assert_null(synack_ringlink_new(6000, 1500, 0));          /* not a power of two */
    assert_null(synack_ringlink_new(4096, 1500, 0));          /* under four records */
    assert_null(synack_ringlink_new(1u << 20, 70000, 0));     /* no such IP MTU */
    synack_ringlink *l = synack_ringlink_new(8192, 0, 0);     /* 0: 1500 */
    assert_non_null(l);
    synack_link_ops ops = synack_ringlink_ops();
    static uint8_t big[1501];
    assert_int_equal(ops.transmit(synack_ringlink_end(l, 0), big, sizeof big), -EMSGSIZE);
    assert_int_equal(ops.transmit(synack_ringlink_end(l, 0), big, 0), -EMSGSIZE);
    assert_int_equal(ops.transmit(synack_ringlink_end(l, 0), big, 1500), 0);
    assert_null(synack_ringlink_end(l, 2));
    assert_int_equal(synack_ringlink_fd(l, 0), -EINVAL);  /* no SYNACK_RING_WAKEUP */
    assert_int_equal(synack_ringlink_arm(l, 1), -EINVAL);
    assert_true(synack_ringlink_pending(l, 1));
    assert_false(synack_ringlink_pending(l, 0));
    /* nobody attached: the frame is taken and dropped */
    assert_int_equal(synack_ringlink_pump(l, 1, 0, 8), 1);
    assert_false(synack_ringlink_pending(l, 1));
    assert_int_equal(synack_ringlink_pump(l, 5, 0, 8), 0);
    synack_ring_stats st;
    synack_ringlink_stats(l, 0, &st);
    assert_int_equal(st.frames, 1);
    assert_int_equal(st.oversize, 2);
    synack_ringlink_stats(l, 1, &st);
    assert_int_equal(st.delivered, 1);
    synack_ringlink_free(l);
    synack_ringlink_free(NULL);
}

/* ---- two threads ---- */

struct side {
    struct pair *p;
    int idx;
    bool sleep; /* wait on the descriptor when idle */
    struct conn *k;
    size_t total, done; /* bytes to send (client) or to receive (server) */
    bool bad;
    _Atomic bool *stop;
    size_t sleeps;
};

static void idle(struct side *d)
{
    if (!d->sleep) {
        sched_yield(); /* on one CPU (valgrind runs one thread at a time), let the other side run */
        return;
    }
    if (synack_ringlink_arm(d->p->l, d->idx) != 1)
        return;
    struct pollfd pf = {.fd = synack_ringlink_fd(d->p->l, d->idx), .events = POLLIN};
    synack_time next = synack_poll(d->p->s[d->idx]);
    int ms = next == SYNACK_TIME_NEVER ? 50 : 1;
    d->sleeps++;
    (void)poll(&pf, 1, ms);
}

static void *client(void *arg)
{
    struct side *d = arg;
    synack_stack *s = d->p->s[0];
    uint8_t buf[8192];
    bool shut = false;
    while (!*d->stop) {
        size_t moved = synack_ringlink_pump(d->p->l, 0, synack_monotonic_now(NULL), 256);
        while (d->done < d->total) {
            size_t n = d->total - d->done < sizeof buf ? d->total - d->done : sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = pat(d->done + i);
            long w = synack_send(s, d->k->c, buf, n);
            if (w <= 0)
                break;
            d->done += (size_t)w;
        }
        if (d->done == d->total && !shut) {
            shut = true;
            synack_shutdown(s, d->k->c, SYNACK_SHUT_WR);
        }
        synack_poll(s);
        if (!moved)
            idle(d);
    }
    return NULL;
}

static void *server(void *arg)
{
    struct side *d = arg;
    synack_stack *s = d->p->s[1];
    uint8_t buf[8192];
    while (!*d->stop) {
        size_t moved = synack_ringlink_pump(d->p->l, 1, synack_monotonic_now(NULL), 256);
        long r;
        while ((r = synack_recv(s, d->k->v, buf, sizeof buf)) > 0) {
            for (long i = 0; i < r; i++)
                if (buf[i] != pat(d->done + (size_t)i))
                    d->bad = true;
            d->done += (size_t)r;
        }
        if (r == 0) /* end of stream: everything arrived */
            *d->stop = true;
        synack_poll(s);
        if (!moved)
            idle(d);
    }
    return NULL;
}

/* A connection opened on the calling thread, pumping both ends itself
 * (and flushing, for SYNACK_RING_BATCH), before the threads start. */
static void open_on_this_thread(struct pair *p, struct conn *k)
{
    k->ls = synack_socket(p->s[1]);
    synack_endpoint any = {.addr = synack_ipv4(SRV_ADDR), .port = PORT};
    assert_int_equal(synack_bind(p->s[1], k->ls, &any), 0);
    assert_int_equal(synack_listen(p->s[1], k->ls, 4), 0);
    k->c = synack_socket(p->s[0]);
    synack_endpoint ep = srv_ep();
    assert_int_equal(synack_connect(p->s[0], k->c, &ep), -EINPROGRESS);
    k->v = -1;
    for (int i = 0; i < 1000 && (k->v = synack_accept(p->s[1], k->ls, NULL)) < 0; i++) {
        for (int e = 0; e < 2; e++)
            synack_ringlink_pump(p->l, e, synack_monotonic_now(NULL), 64);
        for (int e = 0; e < 2; e++) {
            synack_poll(p->s[e]);
            synack_ringlink_flush(p->l, e);
        }
    }
    assert_true(k->v >= 0);
}

/* The two ends' threads, run to their end. */
static void both_threads(void *(*f0)(void *), void *a0, void *(*f1)(void *), void *a1)
{
    pthread_t t0, t1;
    assert_int_equal(pthread_create(&t0, NULL, f0, a0), 0);
    assert_int_equal(pthread_create(&t1, NULL, f1, a1), 0);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
}

static void threads_stream(bool sleep)
{
    struct pair p;
    /* 16 KiB: the rings fill and wrap all the time */
    pair_new(&p, 16384, sleep ? SYNACK_RING_WAKEUP : 0, false);
    struct conn k;
    open_on_this_thread(&p, &k);
    _Atomic bool stop = false;
    const size_t total = 4u << 20;
    struct side c = {.p = &p, .idx = 0, .sleep = sleep, .k = &k, .total = total, .stop = &stop};
    struct side v = {.p = &p, .idx = 1, .sleep = sleep, .k = &k, .stop = &stop};
    both_threads(client, &c, server, &v);
    assert_int_equal(c.done, total);
    assert_int_equal(v.done, total);
    assert_false(v.bad);
    if (sleep) /* the loops did sleep (bounded: a lost wake-up is the event-loop test's to catch) */
        assert_true(c.sleeps + v.sleeps > 0);
    pair_free(&p);
}

static void test_two_threads_polling(void **state)
{
    (void)state;
    threads_stream(false);
}

static void test_two_threads_sleeping_receivers(void **state)
{
    (void)state;
    threads_stream(true);
}

/* Each stack on synack_loop in its own thread, the ring ends added with
 * synack_loop_add_ringlink: the loops sleep in epoll between frames, and
 * only the ring's wake-ups keep the stream going (a lost wake-up would leave
 * a frame waiting until a retransmission timeout: none may happen). */
struct looped {
    struct pair *p;
    int idx;
    struct conn *k;
    size_t total, done;
    bool shut, bad;
    int rc;
};

static bool cli_step(void *ctx)
{
    struct looped *a = ctx;
    synack_stack *s = a->p->s[0];
    uint8_t buf[8192];
    while (a->done < a->total) {
        size_t n = a->total - a->done < sizeof buf ? a->total - a->done : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(a->done + i);
        long w = synack_send(s, a->k->c, buf, n);
        if (w <= 0)
            break;
        a->done += (size_t)w;
    }
    if (a->done == a->total && !a->shut)
        a->shut = synack_shutdown(s, a->k->c, SYNACK_SHUT_WR) == 0;
    /* done when the server's end of stream arrives */
    return a->shut && synack_recv(s, a->k->c, buf, sizeof buf) == 0;
}

static bool srv_step(void *ctx)
{
    struct looped *a = ctx;
    synack_stack *s = a->p->s[1];
    uint8_t buf[8192];
    long r;
    while ((r = synack_recv(s, a->k->v, buf, sizeof buf)) > 0) {
        for (long i = 0; i < r; i++)
            if (buf[i] != pat(a->done + (size_t)i))
                a->bad = true;
        a->done += (size_t)r;
    }
    if (r == 0 && !a->shut)
        a->shut = synack_shutdown(s, a->k->v, SYNACK_SHUT_WR) == 0;
    return a->shut;
}

static void *loop_thread(void *arg)
{
    struct looped *a = arg;
    synack_loop *lp = synack_loop_new(a->p->s[a->idx]);
    assert_non_null(lp);
    a->rc = synack_loop_add_ringlink(lp, a->p->l, a->idx);
    if (a->rc == 0)
        a->rc = synack_loop_run(lp, a->idx ? srv_step : cli_step, a, SYNACK_SEC(30));
    /* the server's FIN must still be ACKed: the client's loop outlives it */
    synack_loop_free(lp);
    return NULL;
}

static void event_loops(unsigned flags)
{
    struct pair p;
    pair_new(&p, 16384, flags, false);
    struct conn k;
    open_on_this_thread(&p, &k);
    const size_t total = 2u << 20;
    struct looped c = {.p = &p, .idx = 0, .k = &k, .total = total}, v = {.p = &p, .idx = 1, .k = &k};
    both_threads(loop_thread, &c, loop_thread, &v);
    assert_int_equal(c.rc, 0);
    assert_int_equal(v.rc, 0);
    assert_int_equal(v.done, total);
    assert_false(v.bad);
    for (int i = 0; i < 2; i++)
        assert_int_equal(synack_counter(p.s[i], "tcp_rto"), 0);
    pair_free(&p);
}

static void test_event_loops_woken_by_the_ring(void **state)
{
    (void)state;
    event_loops(SYNACK_RING_WAKEUP);
}

/* The same with publication batched: the loop flushes before it sleeps. */
static void test_event_loops_batching(void **state)
{
    (void)state;
    event_loops(SYNACK_RING_WAKEUP | SYNACK_RING_BATCH);
}

/* SYNACK_RING_BATCH: frames are invisible to the receiver until a flush,
 * or until 32 wait. */
static void test_batch_publishes_at_flush_or_32(void **state)
{
    (void)state;
    synack_ringlink *l = synack_ringlink_new(1u << 16, 1500, SYNACK_RING_BATCH);
    assert_non_null(l);
    synack_link_ops ops = synack_ringlink_ops();
    uint8_t f[100] = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ops.transmit(synack_ringlink_end(l, 0), f, sizeof f), 0);
    assert_false(synack_ringlink_pending(l, 1));
    assert_int_equal(synack_ringlink_pump(l, 1, 0, 64), 0);
    synack_ringlink_flush(l, 1); /* the other direction: nothing */
    assert_false(synack_ringlink_pending(l, 1));
    synack_ringlink_flush(l, 0);
    assert_true(synack_ringlink_pending(l, 1));
    assert_int_equal(synack_ringlink_pump(l, 1, 0, 64), 3);
    for (int i = 0; i < 31; i++)
        assert_int_equal(ops.transmit(synack_ringlink_end(l, 0), f, sizeof f), 0);
    assert_false(synack_ringlink_pending(l, 1));
    assert_int_equal(ops.transmit(synack_ringlink_end(l, 0), f, sizeof f), 0);
    assert_int_equal(synack_ringlink_pump(l, 1, 0, 64), 32);
    synack_ringlink_flush(l, 0); /* nothing left: no change */
    assert_false(synack_ringlink_pending(l, 1));
    synack_ringlink_free(l);
}

static void test_loop_refuses_a_ring_without_wakeup(void **state)
{
    (void)state;
    struct pair p;
    pair_new(&p, 16384, 0, false);
    synack_loop *lp = synack_loop_new(p.s[0]);
    assert_non_null(lp);
    assert_int_equal(synack_loop_add_ringlink(lp, p.l, 0), -EINVAL);
    synack_loop_free(lp);
    pair_free(&p);
}

/* Raw frames of lengths 2..1500 in turn, each carrying its number, from a
 * producer thread; the consumer's stack tap checks order, length and
 * content of every one. */
#define RAW_FRAMES 200000u

struct raw {
    synack_ringlink *l;
    uint32_t next;
    bool bad;
};

static size_t raw_len(uint32_t i) { return 2 + (i * 37u) % 1499u; }

static void raw_tap(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now)
{
    struct raw *r = ctx;
    (void)ifindex;
    (void)now;
    if (dir != SYNACK_TAP_IN)
        return;
    uint32_t i = r->next++;
    if (len != raw_len(i) || frame[0] != (uint8_t)i || frame[len - 1] != (uint8_t)(i >> 8))
        r->bad = true;
}

static void *raw_producer(void *arg)
{
    struct raw *r = arg;
    synack_link_ops ops = synack_ringlink_ops();
    uint8_t f[1500];
    for (uint32_t i = 0; i < RAW_FRAMES;) {
        size_t len = raw_len(i);
        memset(f, 0xee, len);
        f[len - 1] = (uint8_t)(i >> 8);
        f[0] = (uint8_t)i;
        if (ops.transmit(synack_ringlink_end(r->l, 0), f, len) == 0)
            i++;
        else
            sched_yield();
    }
    return NULL;
}

static void test_raw_frames_in_order_across_wraps(void **state)
{
    (void)state;
    struct pair p;
    pair_new(&p, 8192, 0, false);
    struct raw r = {.l = p.l};
    synack_set_tap(p.s[1], raw_tap, &r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, raw_producer, &r), 0);
    while (r.next < RAW_FRAMES)
        if (!synack_ringlink_pump(p.l, 1, synack_monotonic_now(NULL), 32))
            sched_yield();
    pthread_join(t, NULL);
    assert_false(r.bad);
    assert_int_equal(r.next, RAW_FRAMES);
    synack_ring_stats st;
    synack_ringlink_stats(p.l, 0, &st);
    assert_int_equal(st.frames, RAW_FRAMES);
    assert_true(st.refused > 0); /* the producer outran the consumer */
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_data_and_close),
        cmocka_unit_test(test_small_ring_wraps_and_refuses_without_loss),
        cmocka_unit_test(test_oversize_and_bad_arguments),
        cmocka_unit_test(test_two_threads_polling),
        cmocka_unit_test(test_two_threads_sleeping_receivers),
        cmocka_unit_test(test_raw_frames_in_order_across_wraps),
        cmocka_unit_test(test_event_loops_woken_by_the_ring),
        cmocka_unit_test(test_event_loops_batching),
        cmocka_unit_test(test_batch_publishes_at_flush_or_32),
        cmocka_unit_test(test_loop_refuses_a_ring_without_wakeup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
