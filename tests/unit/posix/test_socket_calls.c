#define _GNU_SOURCE /* POLLRDHUP */
/* The POSIX layer's socket calls answer as Linux does: results and errno for
 * misuse, connect's second-call rules, EOF and reset, SIOCINQ/SIOCOUTQ. */
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "posix_util.h"

static void socket_args(void **state)
{
    struct pair pr;
    pair_init(&pr);
    assert_errno(sxp_socket(pr.a, AF_INET6 + 100, SOCK_STREAM, 0), EAFNOSUPPORT);
    assert_errno(sxp_socket(pr.a, AF_INET, SOCK_DGRAM, 0), EPROTONOSUPPORT);
    assert_errno(sxp_socket(pr.a, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    int fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_true(fd >= 0);
    /* a real host descriptor stands behind it */
    assert_true(fcntl(fd, F_GETFD) >= 0);
    assert_int_equal(sxp_fcntl(pr.a, fd, F_GETFL, 0) & O_NONBLOCK, O_NONBLOCK);
    assert_int_equal(sxp_close(pr.a, fd), 0);
    assert_true(fcntl(fd, F_GETFD) < 0);
    assert_errno(sxp_listen(pr.a, fd, 1), EBADF);
    pair_free(&pr);
}

static void host_close_then_reuse(void **state)
{
    /* packetdrill closes leftovers with the host's close(); the number the
     * host hands out next must name a fresh socket, not the stale one. */
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = sin_of(IP_A, 8080);
    assert_int_equal(sxp_bind(pr.a, fd, SA(sa), sizeof sa), 0);
    close(fd);
    int fd2 = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(fd2, fd);
    assert_int_equal(sxp_bind(pr.a, fd2, SA(sa), sizeof sa), 0); /* the old bind is gone */
    pair_free(&pr);
}

static void bind_errors(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = sin_of(IP_A, 8080);
    assert_errno(sxp_bind(pr.a, fd, SA(sa), sizeof sa - 1), EINVAL);
    struct sockaddr_in bad = sa;
    bad.sin_family = AF_INET6;
    assert_errno(sxp_bind(pr.a, fd, SA(bad), sizeof bad), EAFNOSUPPORT);
    struct sockaddr_in far = sin_of(IP_B, 8080);
    assert_errno(sxp_bind(pr.a, fd, SA(far), sizeof far), EADDRNOTAVAIL);
    assert_int_equal(sxp_bind(pr.a, fd, SA(sa), sizeof sa), 0);
    assert_errno(sxp_bind(pr.a, fd, SA(sa), sizeof sa), EINVAL); /* already bound */
    int fd2 = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    assert_errno(sxp_bind(pr.a, fd2, SA(sa), sizeof sa), EADDRINUSE);
    /* port 0 picks an ephemeral port at once, as Linux does */
    struct sockaddr_in any = sin_of(0, 0);
    assert_int_equal(sxp_bind(pr.a, fd2, SA(any), sizeof any), 0);
    struct sockaddr_in got;
    socklen_t gl = sizeof got;
    assert_int_equal(sxp_getsockname(pr.a, fd2, SA(got), &gl), 0);
    assert_true(ntohs(got.sin_port) >= 32768 && ntohs(got.sin_port) <= 60999);
    pair_free(&pr);
}

static void connect_second_calls(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sb = sin_of(IP_B, 80);
    assert_int_equal(sxp_bind(pr.b, l, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_listen(pr.b, l, 4), 0);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb - 1), EINVAL);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), EINPROGRESS);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), EALREADY);
    /* Linux inet_listen: a connecting socket cannot listen */
    assert_errno(sxp_listen(pr.a, c, 1), EINVAL);
    pump(&pr);
    /* the call after a non-blocking connect completed returns 0 once, then EISCONN */
    assert_int_equal(sxp_connect(pr.a, c, SA(sb), sizeof sb), 0);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), EISCONN);
    assert_errno(sxp_listen(pr.a, c, 1), EINVAL);
    int so_error = -1;
    socklen_t len = sizeof so_error;
    assert_int_equal(sxp_getsockopt(pr.a, c, SOL_SOCKET, SO_ERROR, &so_error, &len), 0);
    assert_int_equal(so_error, 0);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int s = sxp_accept(pr.b, l, SA(peer), &pl);
    assert_true(s >= 0);
    assert_int_equal(pl, sizeof peer);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), IP_A);
    /* a listener is not connectable (Linux: EISCONN, it is not in CLOSE) */
    assert_errno(sxp_connect(pr.b, l, SA(sb), sizeof sb), EISCONN);
    pair_free(&pr);
}

static void refused(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sb = sin_of(IP_B, 81);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), EINPROGRESS);
    pump(&pr); /* SYN, RST */
    struct pollfd q = {.fd = c, .events = POLLIN | POLLOUT};
    assert_int_equal(sxp_poll(pr.a, &q, 1, 0), 1);
    assert_int_equal(q.revents & (POLLERR | POLLHUP), POLLERR | POLLHUP);
    int so_error = 0;
    socklen_t len = sizeof so_error;
    assert_int_equal(sxp_getsockopt(pr.a, c, SOL_SOCKET, SO_ERROR, &so_error, &len), 0);
    assert_int_equal(so_error, ECONNREFUSED);
    /* read and consumed: the next connect sees no error but a dead socket */
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), ECONNABORTED);
    pair_free(&pr);
}

static void refused_connect_reports(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sb = sin_of(IP_B, 81);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), EINPROGRESS);
    pump(&pr);
    /* the second connect() returns the pending error itself */
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), ECONNREFUSED);
    pair_free(&pr);
}

static void unconnected_calls(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    char b[4] = "abc";
    /* Linux tcp_sendmsg: EPIPE on a socket that never connected (not ENOTCONN) */
    assert_errno(sxp_write(pr.a, fd, b, 3), EPIPE);
    /* tcp_recvmsg: ENOTCONN */
    assert_errno(sxp_read(pr.a, fd, b, 3), ENOTCONN);
    assert_errno(sxp_shutdown(pr.a, fd, SHUT_WR), ENOTCONN);
    assert_errno(sxp_shutdown(pr.a, fd, 7), EINVAL);
    assert_errno(sxp_accept(pr.a, fd, NULL, NULL), EINVAL); /* not a listener */
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    assert_errno(sxp_getpeername(pr.a, fd, SA(peer), &pl), ENOTCONN);
    /* a fresh socket polls writable and hung up, as tcp_poll says */
    struct pollfd q = {.fd = fd, .events = POLLIN | POLLOUT};
    assert_int_equal(sxp_poll(pr.a, &q, 1, 0), 1);
    assert_int_equal(q.revents, POLLOUT | POLLHUP);
    /* listen without bind binds an ephemeral port */
    assert_int_equal(sxp_listen(pr.a, fd, 1), 0);
    struct sockaddr_in got;
    socklen_t gl = sizeof got;
    assert_int_equal(sxp_getsockname(pr.a, fd, SA(got), &gl), 0);
    assert_true(ntohs(got.sin_port) != 0);
    assert_errno(sxp_read(pr.a, fd, b, 3), ENOTCONN);
    int n;
    assert_errno(sxp_ioctl(pr.a, fd, SIOCINQ, &n), EINVAL);
    assert_errno(sxp_ioctl(pr.a, fd, SIOCOUTQ, &n), EINVAL);
    assert_int_equal(sxp_fcntl(pr.a, fd, F_SETFL, O_NONBLOCK), 0);
    assert_errno(sxp_accept(pr.a, fd, NULL, NULL), EAGAIN);
    pair_free(&pr);
}

static void data_queues(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 90, &a, &b, NULL);
    assert_int_equal(sxp_write(pr.a, a, "hello", 5), 5);
    int outq = -1;
    assert_int_equal(sxp_ioctl(pr.a, a, SIOCOUTQ, &outq), 0);
    assert_int_equal(outq, 5); /* sent, not yet acknowledged */
    pump(&pr);
    int inq = -1;
    assert_int_equal(sxp_ioctl(pr.b, b, FIONREAD, &inq), 0);
    assert_int_equal(inq, 5);
    char buf[16];
    assert_int_equal(sxp_recvmsg(pr.b, b,
                                 &(struct msghdr){.msg_iov = &(struct iovec){buf, 3}, .msg_iovlen = 1},
                                 MSG_PEEK),
                     3);
    assert_memory_equal(buf, "hel", 3);
    assert_int_equal(sxp_ioctl(pr.b, b, SIOCINQ, &inq), 0);
    assert_int_equal(inq, 5); /* MSG_PEEK leaves the data */
    struct iovec v[2] = {{buf, 2}, {buf + 8, 8}};
    assert_int_equal(sxp_readv(pr.b, b, v, 2), 5);
    assert_memory_equal(buf, "he", 2);
    assert_memory_equal(buf + 8, "llo", 3);
    assert_errno(sxp_recvmsg(pr.b, b, &(struct msghdr){.msg_iov = &(struct iovec){buf, 3}, .msg_iovlen = 1},
                             MSG_DONTWAIT),
                 EAGAIN);
    run_for(&pr, 100000); /* the delayed ACK goes out */
    assert_int_equal(sxp_ioctl(pr.a, a, SIOCOUTQ, &outq), 0);
    assert_int_equal(outq, 0);
    struct iovec w[2] = {{"ab", 2}, {"cde", 3}};
    assert_int_equal(sxp_writev(pr.a, a, w, 2), 5);
    pump(&pr);
    assert_int_equal(sxp_read(pr.b, b, buf, sizeof buf), 5);
    assert_memory_equal(buf, "abcde", 5);
    /* fcntl O_NONBLOCK makes an empty read EAGAIN */
    assert_int_equal(sxp_fcntl(pr.b, b, F_SETFL, O_NONBLOCK), 0);
    assert_errno(sxp_read(pr.b, b, buf, sizeof buf), EAGAIN);
    pair_free(&pr);
}

static void eof_and_shutdown(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 91, &a, &b, NULL);
    assert_int_equal(sxp_write(pr.a, a, "xy", 2), 2);
    assert_int_equal(sxp_shutdown(pr.a, a, SHUT_WR), 0);
    assert_errno(sxp_sendmsg(pr.a, a, &(struct msghdr){.msg_iov = &(struct iovec){"z", 1}, .msg_iovlen = 1}, MSG_NOSIGNAL), EPIPE);
    pump(&pr);
    struct pollfd q = {.fd = b, .events = POLLIN | POLLRDHUP};
    assert_int_equal(sxp_poll(pr.b, &q, 1, 0), 1);
    assert_int_equal(q.revents, POLLIN | POLLRDHUP);
    char buf[8];
    assert_int_equal(sxp_read(pr.b, b, buf, sizeof buf), 2); /* data before EOF */
    assert_int_equal(sxp_read(pr.b, b, buf, sizeof buf), 0);
    assert_int_equal(sxp_read(pr.b, b, buf, sizeof buf), 0);
    /* the half-closed side still writes */
    assert_int_equal(sxp_write(pr.b, b, "ok", 2), 2);
    pump(&pr);
    assert_int_equal(sxp_read(pr.a, a, buf, sizeof buf), 2);
    pair_free(&pr);
}

static void reset_errors(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 92, &a, &b, NULL);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(sxp_setsockopt(pr.b, b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(sxp_close(pr.b, b), 0); /* RST */
    pump(&pr);
    char buf[4];
    /* tcp_recvmsg: the error once, then EOF (tcp_done shut both ways) */
    assert_errno(sxp_read(pr.a, a, buf, sizeof buf), ECONNRESET);
    assert_int_equal(sxp_read(pr.a, a, buf, sizeof buf), 0);
    /* tcp_sendmsg: the error is gone, the socket is dead: EPIPE */
    assert_errno(sxp_write(pr.a, a, "x", 1), EPIPE);
    pair_free(&pr);
}

static void reset_error_first_on_write(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 93, &a, &b, NULL);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(sxp_setsockopt(pr.b, b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(sxp_close(pr.b, b), 0);
    pump(&pr);
    assert_errno(sxp_write(pr.a, a, "x", 1), ECONNRESET);
    assert_errno(sxp_write(pr.a, a, "x", 1), EPIPE);
    pair_free(&pr);
}

static void options(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    int v;
    socklen_t len = sizeof v;
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, 131072); /* tcp_rmem[1] */
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    assert_int_equal(v, 16384); /* tcp_wmem[1] */
    v = 10000;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, 20000); /* Linux doubles */
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, 2304); /* SOCK_MIN_RCVBUF */
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    assert_int_equal(v, 4608); /* SOCK_MIN_SNDBUF */
    v = -1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, 2 * 212992); /* capped at rmem_max, then doubled */
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, 9999, &v, sizeof v), ENOPROTOOPT);
    v = 0;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
    v = 60;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
    assert_int_equal(v, 60);
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, &len), 0);
    assert_int_equal(v, 75);
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_KEEPCNT, &v, &len), 0);
    assert_int_equal(v, 9);
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
    assert_int_equal(v, 536); /* TCP_MSS_DEFAULT before a connection */
    v = 50;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v), EINVAL);
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), 0);
    v = 0;
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    assert_int_equal(v, 1);
    v = -1;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof v), EINVAL);
    char cc[16];
    socklen_t cl = sizeof cc;
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl), 0);
    assert_string_equal(cc, "cubic");
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl), 0);
    assert_string_equal(cc, "reno");
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_TCP, TCP_CONGESTION, "bbr9", 4), ENOENT);
    struct linger lg = {.l_onoff = 1, .l_linger = 7}, got;
    socklen_t ll = sizeof got;
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg - 1), EINVAL);
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_LINGER, &got, &ll), 0);
    assert_int_equal(got.l_onoff, 1);
    assert_int_equal(got.l_linger, 7);
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), 0);
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), 0);
    v = 0;
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
    assert_int_equal(v, 1);
    assert_int_equal(sxp_getsockopt(pr.a, fd, SOL_SOCKET, SO_TYPE, &v, &len), 0);
    assert_int_equal(v, SOCK_STREAM);
    pair_free(&pr);
}

static void epoll_calls(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 94, &a, &b, NULL);
    assert_errno(sxp_epoll_create(pr.b, 0), EINVAL);
    int ep = sxp_epoll_create(pr.b, 1);
    assert_true(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 42};
    assert_errno(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_MOD, b, &ev), ENOENT);
    assert_errno(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
    assert_int_equal(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_ADD, b, &ev), 0);
    assert_errno(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_ADD, b, &ev), EEXIST);
    struct epoll_event out[4];
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 0);
    assert_errno(sxp_epoll_wait(pr.b, ep, out, 0, 0), EINVAL);
    assert_int_equal(sxp_write(pr.a, a, "q", 1), 1);
    pump(&pr);
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 1);
    assert_int_equal(out[0].events, EPOLLIN);
    assert_int_equal(out[0].data.u32, 42);
    /* edge-triggered: no new wakeup, no report */
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 0);
    /* new data is a new wakeup even though the socket was never drained
     * (google/net/tcp/epoll/epoll_in_edge.pkt) */
    assert_int_equal(sxp_write(pr.a, a, "r", 1), 1);
    pump(&pr);
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 1);
    assert_int_equal(out[0].events, EPOLLIN);
    char rb[1];
    assert_int_equal(sxp_read(pr.b, b, rb, 1), 1); /* reading is no wakeup */
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 0);
    ev.events = EPOLLIN; /* level-triggered reports while data waits */
    assert_int_equal(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_MOD, b, &ev), 0);
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 1);
    assert_int_equal(sxp_epoll_wait(pr.b, ep, out, 4, 0), 1);
    assert_int_equal(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_DEL, b, NULL), 0);
    assert_errno(sxp_epoll_ctl(pr.b, ep, EPOLL_CTL_DEL, b, NULL), ENOENT);
    assert_int_equal(sxp_close(pr.b, ep), 0);
    pair_free(&pr);
}

static void msg_more_holds(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 95, &a, &b, NULL);
    int one = 1, v = -1, inq = -1;
    socklen_t len = sizeof v;
    assert_int_equal(sxp_setsockopt(pr.a, a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    struct msghdr m = {.msg_iov = &(struct iovec){"0123456789", 10}, .msg_iovlen = 1};
    assert_int_equal(sxp_sendmsg(pr.a, a, &m, MSG_MORE), 10);
    run_for(&pr, 50000);
    assert_int_equal(sxp_ioctl(pr.b, b, SIOCINQ, &inq), 0);
    assert_int_equal(inq, 0); /* held, NODELAY notwithstanding */
    assert_int_equal(sxp_getsockopt(pr.a, a, IPPROTO_TCP, TCP_CORK, &v, &len), 0);
    assert_int_equal(v, 0); /* the hold is not the user's cork */
    /* setting TCP_NODELAY pushes what MSG_MORE held */
    assert_int_equal(sxp_setsockopt(pr.a, a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    pump(&pr);
    assert_int_equal(sxp_ioctl(pr.b, b, SIOCINQ, &inq), 0);
    assert_int_equal(inq, 10);
    /* a send without MSG_MORE pushes too */
    assert_int_equal(sxp_sendmsg(pr.a, a, &m, MSG_MORE), 10);
    assert_int_equal(sxp_sendmsg(pr.a, a, &m, 0), 10);
    pump(&pr);
    assert_int_equal(sxp_ioctl(pr.b, b, SIOCINQ, &inq), 0);
    assert_int_equal(inq, 30);
    pair_free(&pr);
}

static void null_buffers_fault(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 96, &a, &b, NULL);
    assert_errno(sxp_write(pr.a, a, NULL, 1000), EFAULT);
    assert_int_equal(sxp_write(pr.a, a, "abc", 3), 3);
    pump(&pr);
    assert_errno(sxp_read(pr.b, b, NULL, 1000), EFAULT);
    pair_free(&pr);
}

static void sndbuf_grows_live(void **state)
{
    /* google/net/tcp/slow_start/slow-start-after-win-update.pkt sets
     * SO_SNDBUF after accept() and writes 26000 bytes without blocking */
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 97, &a, &b, NULL);
    static uint8_t data[120000], got[120000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 1);
    assert_int_equal(sxp_fcntl(pr.a, a, F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(sxp_write(pr.a, a, data, 10000), 10000); /* queued before growing */
    int v = 100000;
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    assert_int_equal(sxp_write(pr.a, a, data + 10000, 80000), 80000); /* > the old 16 KiB */
    size_t n = 0;
    assert_int_equal(sxp_fcntl(pr.b, b, F_SETFL, O_NONBLOCK), 0);
    for (int i = 0; i < 3000 && n < 90000; i++) {
        run_for(&pr, 1000);
        ssize_t r;
        while ((r = sxp_read(pr.b, b, got + n, sizeof got - n)) > 0)
            n += (size_t)r;
    }
    assert_int_equal(n, 90000);
    assert_memory_equal(got, data, 90000);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socket_args),      cmocka_unit_test(host_close_then_reuse),
        cmocka_unit_test(bind_errors),      cmocka_unit_test(connect_second_calls),
        cmocka_unit_test(refused),          cmocka_unit_test(refused_connect_reports),
        cmocka_unit_test(unconnected_calls), cmocka_unit_test(data_queues),
        cmocka_unit_test(eof_and_shutdown), cmocka_unit_test(reset_errors),
        cmocka_unit_test(reset_error_first_on_write), cmocka_unit_test(options),
        cmocka_unit_test(epoll_calls),      cmocka_unit_test(msg_more_holds),
        cmocka_unit_test(null_buffers_fault), cmocka_unit_test(sndbuf_grows_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
