/* Blocking calls sleep on one thread while another drives the wire and the
 * virtual clock, and return at the virtual instant their condition holds. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"
#include "posix_util.h"

/* Waits (really) until n calls sleep in p: the thread under test is blocked. */
static void wait_blocked(struct sxp *p, int n)
{
    for (int i = 0; i < 20000; i++) {
        sxp_lock(p);
        int k = 0;
        for (struct sxp_waiter *w = p->waiters; w; w = w->next)
            k++;
        sxp_unlock_quiet(p);
        if (k >= n)
            return;
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    fail_msg("the call never blocked");
}

struct job {
    struct sxp *p;
    int fd;
    long ret;
    int err;
    int64_t t_done;
    char buf[64];
    struct sockaddr_in sa;
    size_t size;
    _Atomic int done;
};

static void finish(struct job *j, long r)
{
    j->ret = r;
    j->err = r < 0 ? errno : 0;
    j->t_done = sxp_clock(j->p);
    atomic_store(&j->done, 1);
}

static void *do_read(void *arg)
{
    struct job *j = arg;
    finish(j, sxp_read(j->p, j->fd, j->buf, sizeof j->buf));
    return NULL;
}

static void *do_accept(void *arg)
{
    struct job *j = arg;
    finish(j, sxp_accept(j->p, j->fd, NULL, NULL));
    return NULL;
}

static void *do_connect(void *arg)
{
    struct job *j = arg;
    finish(j, sxp_connect(j->p, j->fd, SA(j->sa), sizeof j->sa));
    return NULL;
}

static void *do_poll(void *arg)
{
    struct job *j = arg;
    struct pollfd q = {.fd = j->fd, .events = POLLIN};
    finish(j, sxp_poll(j->p, &q, 1, 100));
    return NULL;
}

static void *do_big_write(void *arg)
{
    struct job *j = arg;
    uint8_t *data = malloc(j->size);
    for (size_t i = 0; i < j->size; i++)
        data[i] = (uint8_t)(i * 7);
    finish(j, sxp_write(j->p, j->fd, data, j->size));
    free(data);
    return NULL;
}

static void *do_close(void *arg)
{
    struct job *j = arg;
    finish(j, sxp_close(j->p, j->fd));
    return NULL;
}

static void linger_close_waits_for_ack(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 105, &a, &b, NULL);
    struct linger lg = {.l_onoff = 1, .l_linger = 5};
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    struct job j = {.p = pr.a, .fd = a};
    int64_t start = sxp_clock(pr.a);
    pthread_t t;
    pthread_create(&t, NULL, do_close, &j);
    wait_blocked(pr.a, 1);
    sxp_advance(pr.a, 30000);
    assert_int_equal(atomic_load(&j.done), 0); /* the FIN is not acknowledged yet */
    pump(&pr); /* FIN over, its ACK back */
    pthread_join(t, NULL);
    assert_int_equal(j.ret, 0);
    assert_int_equal(j.t_done, start + 30000);
    pair_free(&pr);
}

static void linger_close_times_out(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 106, &a, &b, NULL);
    struct linger lg = {.l_onoff = 1, .l_linger = 2};
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    struct job j = {.p = pr.a, .fd = a};
    int64_t start = sxp_clock(pr.a);
    pthread_t t;
    pthread_create(&t, NULL, do_close, &j);
    wait_blocked(pr.a, 1);
    sxp_advance(pr.a, 5000000); /* the peer never answers */
    pthread_join(t, NULL);
    assert_int_equal(j.ret, 0);
    assert_int_equal(j.t_done, start + 2000000);
    pair_free(&pr);
}

static void read_blocks_until_data(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 100, &a, &b, NULL);
    struct job j = {.p = pr.b, .fd = b};
    pthread_t t;
    pthread_create(&t, NULL, do_read, &j);
    wait_blocked(pr.b, 1);
    run_for(&pr, 5000);
    assert_int_equal(atomic_load(&j.done), 0); /* nothing arrived: still asleep */
    assert_int_equal(sxp_write(pr.a, a, "wake", 4), 4);
    int64_t t_send = sxp_clock(pr.b);
    pump(&pr);
    pthread_join(t, NULL);
    assert_int_equal(j.ret, 4);
    assert_memory_equal(j.buf, "wake", 4);
    assert_int_equal(j.t_done, t_send); /* woken at the instant the data arrived */
    pair_free(&pr);
}

static void accept_and_connect_block(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sb = sin_of(IP_B, 101);
    assert_int_equal(sxp_bind(pr.b, l, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_listen(pr.b, l, 4), 0);
    struct job ja = {.p = pr.b, .fd = l};
    struct job jc = {.p = pr.a, .fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0), .sa = sb};
    pthread_t ta, tc;
    pthread_create(&ta, NULL, do_accept, &ja);
    wait_blocked(pr.b, 1);
    pthread_create(&tc, NULL, do_connect, &jc);
    wait_blocked(pr.a, 1);
    pump(&pr);
    pthread_join(tc, NULL);
    pthread_join(ta, NULL);
    assert_int_equal(jc.ret, 0);
    assert_true(ja.ret >= 0);
    assert_int_equal(sxp_write(pr.a, jc.fd, "x", 1), 1);
    pump(&pr);
    char c;
    assert_int_equal(sxp_read(pr.b, (int)ja.ret, &c, 1), 1);
    pair_free(&pr);
}

static void connect_blocks_until_refused(void **state)
{
    struct pair pr;
    pair_init(&pr);
    struct job jc = {.p = pr.a, .fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0), .sa = sin_of(IP_B, 102)};
    pthread_t tc;
    pthread_create(&tc, NULL, do_connect, &jc);
    wait_blocked(pr.a, 1);
    pump(&pr);
    pthread_join(tc, NULL);
    assert_int_equal(jc.ret, -1);
    assert_int_equal(jc.err, ECONNREFUSED);
    pair_free(&pr);
}

static void poll_times_out_in_virtual_time(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 103, &a, &b, NULL);
    struct job j = {.p = pr.b, .fd = b};
    int64_t start = sxp_clock(pr.b);
    pthread_t t;
    pthread_create(&t, NULL, do_poll, &j);
    wait_blocked(pr.b, 1);
    sxp_advance(pr.b, 60000);
    assert_int_equal(atomic_load(&j.done), 0);
    sxp_advance(pr.b, 200000); /* passes the 100 ms deadline on the way */
    pthread_join(t, NULL);
    assert_int_equal(j.ret, 0);
    assert_int_equal(j.t_done, start + 100000); /* exactly, not when usleep ended */
    pair_free(&pr);
}

static void write_blocks_for_room(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 104, &a, &b, NULL);
    struct job j = {.p = pr.a, .fd = a, .size = 300000}; /* far more than the 16 KiB send buffer */
    pthread_t t;
    pthread_create(&t, NULL, do_big_write, &j);
    wait_blocked(pr.a, 1);
    size_t got = 0;
    uint8_t buf[4096];
    bool ok = true;
    assert_int_equal(sxp_fcntl(pr.b, b, F_SETFL, O_NONBLOCK), 0);
    for (int i = 0; i < 20000 && got < j.size; i++) {
        run_for(&pr, 1000);
        ssize_t n;
        while ((n = sxp_read(pr.b, b, buf, sizeof buf)) > 0) {
            for (ssize_t k = 0; k < n; k++)
                ok &= buf[k] == (uint8_t)((got + (size_t)k) * 7);
            got += (size_t)n;
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(j.ret, (long)j.size); /* a blocking write writes it all */
    assert_int_equal(got, j.size);
    assert_true(ok);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_blocks_until_data),
        cmocka_unit_test(accept_and_connect_block),
        cmocka_unit_test(connect_blocks_until_refused),
        cmocka_unit_test(poll_times_out_in_virtual_time),
        cmocka_unit_test(write_blocks_for_room),
        cmocka_unit_test(linger_close_waits_for_ack),
        cmocka_unit_test(linger_close_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
