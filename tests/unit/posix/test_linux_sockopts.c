/* Linux socket options beyond the basics, as Linux 6.x answers them:
 * TCP_INQ with its TCP_CM_INQ control message (tcp_inq_hint),
 * TCP_NOTSENT_LOWAT and its sysctl (tcp_stream_memory_free), and the send
 * buffer that follows the congestion window (tcp_sndbuf_expand). */
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "posix_util.h"

/* recvmsg into buf with room for one int control message; returns the
 * call's result and the TCP_CM_INQ value (-1 when none came). */
static ssize_t recv_inq(struct sxp *p, int fd, void *buf, size_t n, int *inq, int *mflags)
{
    union {
        struct cmsghdr h;
        uint8_t b[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec v = {buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    ssize_t r = sxp_recvmsg(p, fd, &m, 0);
    *inq = -1;
    *mflags = m.msg_flags;
    struct cmsghdr *c = m.msg_controllen ? CMSG_FIRSTHDR(&m) : NULL;
    if (c && c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ)
        memcpy(inq, CMSG_DATA(c), sizeof *inq);
    return r;
}

/* Linux do_tcp_setsockopt/tcp_recvmsg: TCP_INQ takes 0 or 1; while on,
 * every recvmsg reports rcv_nxt - copied_seq, in which a received FIN
 * counts one byte (the "fake" byte that announces EOF). */
static void tcp_inq_reports_bytes_left_and_fin(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 101, &a, &b, NULL);
    int v = 2, got = -1;
    socklen_t len = sizeof got;
    assert_errno(sxp_setsockopt(pr.b, b, IPPROTO_TCP, TCP_INQ, &v, sizeof v), EINVAL);
    assert_int_equal(sxp_getsockopt(pr.b, b, IPPROTO_TCP, TCP_INQ, &got, &len), 0);
    assert_int_equal(got, 0);
    static uint8_t data[3000], buf[3000];
    int inq, fl;
    assert_int_equal(sxp_write(pr.a, a, data, 3000), 3000);
    pump(&pr);
    /* off: no control message, msg_controllen 0 */
    assert_int_equal(recv_inq(pr.b, b, buf, 500, &inq, &fl), 500);
    assert_int_equal(inq, -1);
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.b, b, IPPROTO_TCP, TCP_INQ, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.b, b, IPPROTO_TCP, TCP_INQ, &got, &len), 0);
    assert_int_equal(got, 1);
    assert_int_equal(recv_inq(pr.b, b, buf, 1000, &inq, &fl), 1000);
    assert_int_equal(inq, 1500);
    assert_int_equal(fl, 0);
    assert_int_equal(recv_inq(pr.b, b, buf, 1500, &inq, &fl), 1500);
    assert_int_equal(inq, 0);
    assert_int_equal(sxp_write(pr.a, a, data, 100), 100);
    assert_int_equal(sxp_shutdown(pr.a, a, SHUT_WR), 0);
    pump(&pr);
    assert_int_equal(recv_inq(pr.b, b, buf, 40, &inq, &fl), 40);
    assert_int_equal(inq, 61); /* 60 bytes and the FIN */
    assert_int_equal(recv_inq(pr.b, b, buf, 100, &inq, &fl), 60);
    assert_int_equal(inq, 1);
    assert_int_equal(recv_inq(pr.b, b, buf, 100, &inq, &fl), 0); /* EOF still reports */
    assert_int_equal(inq, 1);
    pair_free(&pr);
}

/* Linux put_cmsg: no room for the message sets MSG_CTRUNC, and the
 * accepted socket inherits TCP_INQ from its listener (sk_clone_lock). */
static void tcp_inq_truncated_and_inherited(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET, SOCK_STREAM, 0);
    int one = 1;
    assert_int_equal(sxp_setsockopt(pr.b, l, IPPROTO_TCP, TCP_INQ, &one, sizeof one), 0);
    struct sockaddr_in sb = sin_of(IP_B, 102);
    assert_int_equal(sxp_bind(pr.b, l, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_listen(pr.b, l, 8), 0);
    int a = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_errno(sxp_connect(pr.a, a, SA(sb), sizeof sb), EINPROGRESS);
    pump(&pr);
    int b = sxp_accept(pr.b, l, NULL, NULL);
    assert_true(b >= 0);
    assert_int_equal(sxp_write(pr.a, a, "abcdef", 6), 6);
    pump(&pr);
    char buf[4];
    struct iovec v = {buf, 2};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    assert_int_equal(sxp_recvmsg(pr.b, b, &m, 0), 2);
    assert_int_equal(m.msg_flags, MSG_CTRUNC);
    assert_int_equal(m.msg_controllen, 0);
    int inq, fl;
    assert_int_equal(recv_inq(pr.b, b, buf, 2, &inq, &fl), 2);
    assert_int_equal(inq, 2);
    pair_free(&pr);
}

static short pollout(struct sxp *p, int fd)
{
    struct pollfd q = {.fd = fd, .events = POLLOUT};
    sxp_poll(p, &q, 1, 0);
    return q.revents;
}

/* Linux tcp_stream_memory_free: with TCP_NOTSENT_LOWAT a write stops
 * taking data once the unsent bytes reach the mark (checked where a new
 * send-queue chunk would start, so it overshoots by less than one), and
 * poll reports POLLOUT only while twice the unsent bytes are below it. */
static void tcp_notsent_lowat_bounds_unsent_data(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 103, &a, &b, NULL);
    int v = 4000, got = -1, unsent = -1;
    socklen_t len = sizeof got;
    assert_int_equal(sxp_getsockopt(pr.a, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &got, &len), 0);
    assert_int_equal(got, 0);
    assert_int_equal(sxp_setsockopt(pr.a, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &got, &len), 0);
    assert_int_equal(got, 4000);
    assert_int_equal(sxp_fcntl(pr.a, a, F_SETFL, O_NONBLOCK), 0);
    static uint8_t data[200000];
    ssize_t n = sxp_write(pr.a, a, data, sizeof data);
    assert_true(n > 4000 && n < 100000); /* far below what the buffer would take */
    assert_int_equal(sxp_ioctl(pr.a, a, SIOCOUTQNSD, &unsent), 0);
    assert_true(unsent >= 4000);
    assert_int_equal(pollout(pr.a, a), 0);
    assert_errno(sxp_write(pr.a, a, data, 1000), EAGAIN);
    /* the peer takes it all: unsent drains, POLLOUT comes back */
    assert_int_equal(sxp_fcntl(pr.b, b, F_SETFL, O_NONBLOCK), 0);
    static uint8_t sink[200000];
    for (int i = 0; i < 200; i++) {
        run_for(&pr, 1000);
        while (sxp_read(pr.b, b, sink, sizeof sink) > 0)
            ;
    }
    assert_int_equal(sxp_ioctl(pr.a, a, SIOCOUTQNSD, &unsent), 0);
    assert_int_equal(unsent, 0);
    assert_int_equal(pollout(pr.a, a), POLLOUT);
    /* full again; raising the mark makes it writable at once (sk_write_space) */
    assert_true(sxp_write(pr.a, a, data, sizeof data) > 4000);
    assert_int_equal(pollout(pr.a, a), 0);
    v = 1 << 20;
    assert_int_equal(sxp_setsockopt(pr.a, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v), 0);
    assert_int_equal(pollout(pr.a, a), POLLOUT);
    pair_free(&pr);
}

/* net.ipv4.tcp_notsent_lowat applies to every socket that sets no mark of
 * its own; getsockopt still reports the socket's (0). */
static void tcp_notsent_lowat_sysctl_default(void **state)
{
    struct pair pr;
    struct sxp_config c;
    sxp_config_default(&c);
    c.recv_nowait = true;
    c.notsent_lowat = 4000;
    pr.a = sxp_new(&c);
    c.local_ip = IP_B;
    c.local_ip6[15] = 2;
    c.seed = 2;
    c.notsent_lowat = 0;
    pr.b = sxp_new(&c);
    int a, b, got = -1;
    socklen_t len = sizeof got;
    connect_pair(&pr, 104, &a, &b, NULL);
    assert_int_equal(sxp_getsockopt(pr.a, a, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &got, &len), 0);
    assert_int_equal(got, 0);
    assert_int_equal(sxp_fcntl(pr.a, a, F_SETFL, O_NONBLOCK), 0);
    static uint8_t data[200000];
    ssize_t n = sxp_write(pr.a, a, data, sizeof data);
    assert_true(n > 4000 && n < 100000);
    assert_int_equal(pollout(pr.a, a), 0);
    pair_free(&pr);
}

/* Linux tcp_sndbuf_expand: once connected, an unlocked send buffer holds
 * two windows of IW10 segments, each counted as a power-of-two skb (1448
 * bytes + 12 of timestamps + headers -> 4096, + 256: 87040); SO_SNDBUF set
 * by the user stays as set (SOCK_SNDBUF_LOCK), and a write is then admitted
 * by Linux's skb accounting (sxp_wmem_room): a new skb only while the
 * queued skbs' truesize is under sk_sndbuf, each filled to size_goal (here
 * many MSS, half the peer's window), so one write takes one whole skb even
 * past 16384 and the next finds no room. */
static void sndbuf_follows_cwnd_unless_set(void **state)
{
    struct pair pr;
    pair_init(&pr);
    int a, b, got = -1;
    socklen_t len = sizeof got;
    connect_pair(&pr, 105, &a, &b, NULL);
    assert_int_equal(sxp_getsockopt(pr.a, a, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
    assert_int_equal(got, 87040); /* at establishment, before any write */
    assert_int_equal(sxp_fcntl(pr.a, a, F_SETFL, O_NONBLOCK), 0);
    static uint8_t data[200000];
    assert_int_equal(sxp_write(pr.a, a, data, sizeof data), 87040);
    assert_int_equal(sxp_getsockopt(pr.a, a, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
    assert_int_equal(got, 87040);
    int c = sxp_socket(pr.b, AF_INET, SOCK_STREAM, 0);
    int v = 8192;
    assert_int_equal(sxp_setsockopt(pr.b, c, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    struct sockaddr_in sa = sin_of(IP_A, 106);
    int l = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(sxp_bind(pr.a, l, SA(sa), sizeof sa), 0);
    assert_int_equal(sxp_listen(pr.a, l, 1), 0);
    assert_int_equal(sxp_fcntl(pr.b, c, F_SETFL, O_NONBLOCK), 0);
    assert_errno(sxp_connect(pr.b, c, SA(sa), sizeof sa), EINPROGRESS);
    pump(&pr);
    ssize_t n = sxp_write(pr.b, c, data, sizeof data);
    assert_true(n > 16384 && n <= 65535);
    assert_int_equal(n % 1448, 0);
    assert_errno(sxp_write(pr.b, c, data, sizeof data), EAGAIN);
    assert_int_equal(sxp_getsockopt(pr.b, c, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
    assert_int_equal(got, 16384);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_inq_reports_bytes_left_and_fin),
        cmocka_unit_test(tcp_inq_truncated_and_inherited),
        cmocka_unit_test(tcp_notsent_lowat_bounds_unsent_data),
        cmocka_unit_test(tcp_notsent_lowat_sysctl_default),
        cmocka_unit_test(sndbuf_follows_cwnd_unless_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
