/* The event loop on its own: timeouts, application descriptors (including
 * removal from inside a callback), and the timerfd that wakes the loop for
 * the stack's own deadline when no descriptor has anything to say. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"

static synack_stack *new_stack(void)
{
    synack_config cfg = {.seed = 7, .clock = synack_monotonic_now};
    synack_stack *s = synack_stack_new(&cfg);
    assert_non_null(s);
    return s;
}

struct fixture {
    synack_stack *stack;
    synack_loop *loop;
    int pipes[2][2];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    f->stack = new_stack();
    f->loop = synack_loop_new(f->stack);
    for (int i = 0; i < 2; i++)
        if (pipe(f->pipes[i]) < 0)
            return -1;
    return f->loop ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    synack_loop_free(f->loop);
    synack_stack_free(f->stack);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (f->pipes[i][j] >= 0)
                close(f->pipes[i][j]);
    free(f);
    return 0;
}

static bool always(void *ctx)
{
    (void)ctx;
    return true;
}

static bool counter_reached(void *ctx)
{
    return *(int *)ctx > 0;
}

static void test_new_needs_a_stack(void **state)
{
    (void)state;
    assert_null(synack_loop_new(NULL));
}

static void test_done_is_checked_before_waiting(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(synack_loop_run(f->loop, always, NULL, SYNACK_TIME_NEVER), 0);
}

static void test_times_out(void **state)
{
    struct fixture *f = *state;
    synack_time t0 = synack_monotonic_now(NULL);
    assert_int_equal(synack_loop_run(f->loop, NULL, NULL, SYNACK_MS(30)), -ETIMEDOUT);
    synack_time took = synack_monotonic_now(NULL) - t0;
    assert_true(took >= SYNACK_MS(30));
    assert_true(took < SYNACK_MS(1000));
}

struct reader {
    int fd;
    unsigned events;
    int calls;
};

static void on_readable(void *ctx, int fd, unsigned events)
{
    struct reader *r = ctx;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    r->fd = fd;
    r->events = events;
    r->calls++;
}

static void test_app_fd_callback(void **state)
{
    struct fixture *f = *state;
    struct reader r = {.fd = -1};
    int rd = f->pipes[0][0];
    assert_int_equal(synack_loop_add_fd(f->loop, rd, EPOLLIN, on_readable, &r), 0);
    assert_int_equal(write(f->pipes[0][1], "x", 1), 1);
    assert_int_equal(synack_loop_run(f->loop, counter_reached, &r.calls, SYNACK_SEC(2)), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fd, rd);
    assert_true(r.events & EPOLLIN);
}

static void test_add_and_del_errors(void **state)
{
    struct fixture *f = *state;
    struct reader r = {0};
    int rd = f->pipes[0][0];
    assert_int_equal(synack_loop_add_fd(f->loop, rd, EPOLLIN, NULL, &r), -EINVAL);
    assert_int_equal(synack_loop_add_fd(f->loop, rd, EPOLLIN, on_readable, &r), 0);
    assert_int_equal(synack_loop_add_fd(f->loop, rd, EPOLLIN, on_readable, &r), -EEXIST);
    assert_int_equal(synack_loop_del_fd(f->loop, rd), 0);
    assert_int_equal(synack_loop_del_fd(f->loop, rd), -ENOENT);
    /* Removed means removed: readable data no longer calls back. */
    assert_int_equal(write(f->pipes[0][1], "x", 1), 1);
    assert_int_equal(synack_loop_run(f->loop, NULL, NULL, SYNACK_MS(20)), -ETIMEDOUT);
    assert_int_equal(r.calls, 0);
    assert_int_equal(synack_loop_add_fd(f->loop, rd, EPOLLIN, on_readable, &r), 0);
    assert_int_equal(synack_loop_run(f->loop, counter_reached, &r.calls, SYNACK_SEC(2)), 0);
}

/* Two descriptors ready in the same wake-up; whichever callback runs first
 * removes and closes the other, whose event is already in the batch. The
 * loop must not call it (nor touch its freed entry: ASan and valgrind). */
struct rival {
    struct fixture *f;
    int index;
    int *calls;
};

static void on_rival(void *ctx, int fd, unsigned events)
{
    (void)events;
    struct rival *r = ctx;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    r->calls[r->index]++;
    int other = 1 - r->index;
    assert_int_equal(synack_loop_del_fd(r->f->loop, r->f->pipes[other][0]), 0);
    close(r->f->pipes[other][0]);
    r->f->pipes[other][0] = -1;
}

static bool either_called(void *ctx)
{
    const int *calls = ctx;
    return calls[0] + calls[1] > 0;
}

static void test_del_from_callback(void **state)
{
    struct fixture *f = *state;
    int calls[2] = {0, 0};
    struct rival r[2] = {{f, 0, calls}, {f, 1, calls}};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(synack_loop_add_fd(f->loop, f->pipes[i][0], EPOLLIN, on_rival, &r[i]), 0);
        assert_int_equal(write(f->pipes[i][1], "x", 1), 1);
    }
    assert_int_equal(synack_loop_run(f->loop, either_called, calls, SYNACK_SEC(2)), 0);
    assert_int_equal(calls[0] + calls[1], 1);
    /* Nothing is left to call: a second run only times out. */
    assert_int_equal(synack_loop_run(f->loop, NULL, NULL, SYNACK_MS(20)), -ETIMEDOUT);
    assert_int_equal(calls[0] + calls[1], 1);
}

/* A link that loses everything, so a SYN is retransmitted by the stack's
 * timer alone: only the timerfd can wake the loop for it. */
static int lossy_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    (void)frame;
    (void)len;
    ++*(int *)ctx;
    return -ENOBUFS;
}

static bool retransmitted(void *ctx)
{
    return *(int *)ctx >= 2;
}

static void test_timer_wakes_for_stack_deadline(void **state)
{
    struct fixture *f = *state;
    int sent = 0;
    synack_iface_config ifc = {.ops = {.transmit = lossy_transmit},
                               .ctx = &sent,
                               .addr = synack_ipv4(0xc6120002u),
                               .prefix_len = 24};
    assert_true(synack_iface_add(f->stack, &ifc) >= 0);
    synack_sock h = synack_socket(f->stack);
    assert_true(h >= 0);
    synack_endpoint to = {.addr = synack_ipv4(0xc6120001u), .port = 9};
    assert_int_equal(synack_connect(f->stack, h, &to), -EINPROGRESS);
    synack_time t0 = synack_monotonic_now(NULL);
    assert_int_equal(synack_loop_run(f->loop, retransmitted, &sent, SYNACK_SEC(5)), 0);
    synack_time took = synack_monotonic_now(NULL) - t0;
    /* The first SYN goes out at once, the second after the initial RTO of
     * one second (RFC 6298 §2.1). */
    assert_int_equal(sent, 2);
    assert_true(took >= SYNACK_MS(900));
    assert_true(took < SYNACK_MS(3000));
    synack_close(f->stack, h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_needs_a_stack),
        cmocka_unit_test_setup_teardown(test_done_is_checked_before_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_fd_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_and_del_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_del_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_wakes_for_stack_deadline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
