/* Urgent data through the socket calls, as on Linux: send(MSG_OOB),
 * recv(MSG_OOB) with its EINVAL/EAGAIN answers, SIOCATMARK, POLLPRI and
 * EPOLLPRI, SO_OOBINLINE, a read and a splice() stopping at the mark. */
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "posix_util.h"

static ssize_t send_f(struct sxp *p, int fd, const void *b, size_t n, int flags)
{
    struct iovec v = {(void *)b, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return sxp_sendmsg(p, fd, &m, flags);
}

static ssize_t recv_f(struct sxp *p, int fd, void *b, size_t n, int flags, int *msg_flags)
{
    struct iovec v = {b, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    ssize_t r = sxp_recvmsg(p, fd, &m, flags);
    if (msg_flags)
        *msg_flags = m.msg_flags;
    return r;
}

static int atmark(struct sxp *p, int fd)
{
    int v = -1;
    assert_int_equal(sxp_ioctl(p, fd, SIOCATMARK, &v), 0);
    return v;
}

static short revents(struct sxp *p, int fd)
{
    struct pollfd q = {.fd = fd, .events = POLLIN | POLLPRI};
    assert_true(sxp_poll(p, &q, 1, 0) >= 0);
    return q.revents;
}

static void oob_out_of_band(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 7000, &a, &b, NULL);
    char buf[64];
    assert_errno(recv_f(pr.b, b, buf, 1, MSG_OOB, NULL), EINVAL); /* none */
    assert_int_equal(send_f(pr.a, a, "hello", 5, 0), 5);
    assert_int_equal(send_f(pr.a, a, "X", 1, MSG_OOB), 1);
    run_for(&pr, 50000);
    assert_int_equal(revents(pr.b, b), POLLIN | POLLPRI);
    int ep = sxp_epoll_create(pr.b, 1);
    struct epoll_event ev = {.events = EPOLLPRI, .data.fd = b};
    assert_int_equal(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_ADD, b, &ev), 0);
    assert_int_equal(sxp_epoll_wait(pr.b, ep, &ev, 1, 0), 1);
    assert_int_equal(ev.events, EPOLLPRI);
    assert_int_equal(atmark(pr.b, b), 0);
    assert_int_equal(recv_f(pr.b, b, buf, sizeof buf, 0, NULL), 5); /* stops at the mark */
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(atmark(pr.b, b), 1);
    assert_int_equal(revents(pr.b, b), POLLPRI); /* the urgent byte alone is not data */
    int mf = 0;
    assert_int_equal(recv_f(pr.b, b, buf, sizeof buf, MSG_OOB | MSG_PEEK, NULL), 1);
    assert_int_equal(recv_f(pr.b, b, buf, sizeof buf, MSG_OOB, &mf), 1);
    assert_int_equal(buf[0], 'X');
    assert_int_equal(mf, MSG_OOB);
    assert_errno(recv_f(pr.b, b, buf, 1, MSG_OOB, NULL), EINVAL); /* already read */
    assert_int_equal(revents(pr.b, b), 0);
    assert_errno(recv_f(pr.b, b, buf, sizeof buf, MSG_DONTWAIT, NULL), EAGAIN);
    assert_int_equal(atmark(pr.b, b), 0);
    sxp_close(pr.b, ep);
    pair_free(&pr);
}

static void oob_inline(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 7001, &a, &b, NULL);
    int one = 1, v = 0;
    socklen_t vl = sizeof v;
    assert_int_equal(sxp_setsockopt(pr.b, b, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one), 0);
    assert_int_equal(sxp_getsockopt(pr.b, b, SOL_SOCKET, SO_OOBINLINE, &v, &vl), 0);
    assert_int_equal(v, 1);
    assert_int_equal(send_f(pr.a, a, "ab", 2, 0), 2);
    assert_int_equal(send_f(pr.a, a, "c", 1, MSG_OOB), 1);
    assert_int_equal(send_f(pr.a, a, "de", 2, 0), 2);
    run_for(&pr, 50000);
    char buf[64];
    assert_errno(recv_f(pr.b, b, buf, 1, MSG_OOB, NULL), EINVAL);
    assert_int_equal(recv_f(pr.b, b, buf, sizeof buf, 0, NULL), 2);
    assert_int_equal(atmark(pr.b, b), 1);
    assert_int_equal(recv_f(pr.b, b, buf, sizeof buf, 0, NULL), 3);
    assert_memory_equal(buf, "cde", 3);
    pair_free(&pr);
}

/* splice() stops at the mark and, there, returns 0 without stepping over
 * the urgent byte (Linux tcp_read_sock / tcp_splice_read); a read does. */
static void splice_stops_at_mark(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 7002, &a, &b, NULL);
    assert_int_equal(send_f(pr.a, a, "0123456789", 10, 0), 10);
    assert_int_equal(send_f(pr.a, a, "U", 1, MSG_OOB), 1);
    assert_int_equal(send_f(pr.a, a, "z", 1, 0), 1);
    run_for(&pr, 50000);
    int pfd[2];
    assert_int_equal(sxp_pipe(pr.b, pfd), 0);
    assert_int_equal(sxp_splice(pr.b, b, NULL, pfd[1], NULL, 100, 0), 10);
    assert_int_equal(sxp_splice(pr.b, b, NULL, pfd[1], NULL, 100, 0), 0);
    assert_int_equal(atmark(pr.b, b), 1);
    char buf[64];
    assert_int_equal(read(pfd[0], buf, sizeof buf), 10);
    assert_int_equal(recv_f(pr.b, b, buf, sizeof buf, 0, NULL), 1);
    assert_int_equal(buf[0], 'z');
    close(pfd[0]);
    close(pfd[1]);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oob_out_of_band),
        cmocka_unit_test(oob_inline),
        cmocka_unit_test(splice_stops_at_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
