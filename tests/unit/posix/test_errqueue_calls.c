/* SO_ZEROCOPY, SO_TIMESTAMPING and recvmsg(MSG_ERRQUEUE) as Linux answers
 * them: sk_setsockopt's checks, ip_recv_error's control messages and
 * flags, tcp_poll's POLLERR for a non-empty error queue, SO_ERROR left
 * alone. */
#include <fcntl.h>
#include <time.h> /* before linux/errqueue.h */
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "posix_util.h"

struct errq_read {
    ssize_t r;
    int flags;
    int n;                     /* control messages */
    int level[2], type[2];
    size_t len[2];
    struct sock_extended_err ee;
    struct scm_timestamping ts;
};

/* recvmsg(MSG_ERRQUEUE) with an iovec of 0 bytes and room for `room`
 * bytes of control messages. */
static struct errq_read read_errq(struct sxp *p, int fd, size_t room)
{
    union {
        struct cmsghdr h;
        uint8_t b[256];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    char byte;
    struct iovec v = {&byte, 0};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = room};
    struct errq_read out;
    memset(&out, 0, sizeof out);
    out.r = sxp_recvmsg(p, fd, &m, MSG_ERRQUEUE);
    out.flags = m.msg_flags;
    for (struct cmsghdr *c = m.msg_controllen ? CMSG_FIRSTHDR(&m) : NULL; c && out.n < 2; c = CMSG_NXTHDR(&m, c)) {
        out.level[out.n] = c->cmsg_level;
        out.type[out.n] = c->cmsg_type;
        out.len[out.n] = c->cmsg_len;
        if (c->cmsg_type == IP_RECVERR && c->cmsg_len >= CMSG_LEN(sizeof out.ee))
            memcpy(&out.ee, CMSG_DATA(c), sizeof out.ee);
        if (c->cmsg_type == SO_TIMESTAMPING_OLD && c->cmsg_len >= CMSG_LEN(sizeof out.ts))
            memcpy(&out.ts, CMSG_DATA(c), sizeof out.ts);
        out.n++;
    }
    return out;
}

static short revents(struct sxp *p, int fd)
{
    struct pollfd q = {.fd = fd, .events = POLLIN | POLLOUT};
    sxp_poll(p, &q, 1, 0);
    return q.revents;
}

static uint8_t data[4000];

/* sk_setsockopt SO_ZEROCOPY: 0 or 1 (EINVAL otherwise), an int's worth
 * (EINVAL shorter); recvmsg(MSG_ERRQUEUE) on an empty queue is EAGAIN,
 * also on a listener and a fresh socket (tcp_recvmsg asks the queue
 * first). */
static void zerocopy_option_and_empty_queue(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int a, b, l;
    connect_pair(&pr, 301, &a, &b, &l);
    int v = 2, got = -1;
    socklen_t len = sizeof got;
    assert_errno(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_ZEROCOPY, &v, sizeof v), EINVAL);
    v = 1;
    assert_errno(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_ZEROCOPY, &v, 2), EINVAL);
    assert_int_equal(sxp_getsockopt(pr.a, a, SOL_SOCKET, SO_ZEROCOPY, &got, &len), 0);
    assert_int_equal(got, 0);
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_ZEROCOPY, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, a, SOL_SOCKET, SO_ZEROCOPY, &got, &len), 0);
    assert_int_equal(got, 1);
    errno = 0;
    assert_int_equal(read_errq(pr.a, a, 64).r, -1);
    assert_int_equal(errno, EAGAIN);
    errno = 0;
    assert_int_equal(read_errq(pr.b, l, 64).r, -1);
    assert_int_equal(errno, EAGAIN);
    int fresh = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    errno = 0;
    assert_int_equal(read_errq(pr.a, fresh, 64).r, -1);
    assert_int_equal(errno, EAGAIN);
    pair_free(&pr);
}

/* One sendmsg of several iovecs is one zerocopy send, one id. Its
 * completion makes POLLERR until read, leaves SO_ERROR at 0, and reads as
 * 0 bytes with MSG_ERRQUEUE and one SOL_IP/IP_RECVERR message carrying
 * sock_extended_err and a sockaddr_in (ip_recv_error's errhdr). */
static void zerocopy_completion_reads_as_ip_recverr(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 302, &a, &b, NULL);
    int v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_ZEROCOPY, &v, sizeof v), 0);
    struct iovec iov[3] = {{data, 100}, {data, 0}, {data, 900}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
    assert_int_equal(sxp_sendmsg(pr.a, a, &m, MSG_ZEROCOPY), 1000);
    assert_false(revents(pr.a, a) & POLLERR); /* sent, not yet acknowledged */
    run_for(&pr, 100000);
    assert_int_equal(revents(pr.a, a), POLLOUT | POLLERR);
    int err = -1;
    socklen_t len = sizeof err;
    assert_int_equal(sxp_getsockopt(pr.a, a, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    assert_int_equal(err, 0);
    struct errq_read e = read_errq(pr.a, a, CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)));
    assert_int_equal(e.r, 0);
    assert_int_equal(e.flags, MSG_ERRQUEUE);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.level[0], IPPROTO_IP);
    assert_int_equal(e.type[0], IP_RECVERR);
    assert_int_equal(e.len[0], CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)));
    assert_int_equal(e.ee.ee_errno, 0);
    assert_int_equal(e.ee.ee_origin, SO_EE_ORIGIN_ZEROCOPY);
    assert_int_equal(e.ee.ee_code, SO_EE_CODE_ZEROCOPY_COPIED);
    assert_int_equal(e.ee.ee_info, 0);
    assert_int_equal(e.ee.ee_data, 0);
    assert_int_equal(revents(pr.a, a), POLLOUT);
    /* the next: id 1; with too little room the message is cut (MSG_CTRUNC) */
    assert_int_equal(sxp_write(pr.a, a, data, 10), 10); /* no MSG_ZEROCOPY: no id */
    struct iovec one = {data, 10};
    struct msghdr m1 = {.msg_iov = &one, .msg_iovlen = 1};
    assert_int_equal(sxp_sendmsg(pr.a, a, &m1, MSG_ZEROCOPY), 10);
    run_for(&pr, 100000);
    e = read_errq(pr.a, a, CMSG_LEN(8));
    assert_int_equal(e.r, 0);
    assert_int_equal(e.flags, MSG_ERRQUEUE | MSG_CTRUNC);
    assert_int_equal(e.len[0], CMSG_LEN(8));
    pair_free(&pr);
}

/* SO_TIMESTAMPING: OPT_ID needs a connection (EINVAL before); a stamp reads
 * as SCM_TIMESTAMPING (with SOF_TIMESTAMPING_SOFTWARE) then IP_RECVERR with
 * ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, the SCM_TSTAMP_* kind and the byte's
 * key; MSG_TRUNC says the packet Linux loops back was not delivered, unless
 * OPT_TSONLY asked for none. */
static void timestamps_read_with_their_cmsgs(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int fl = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID;
    int fresh = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    assert_errno(sxp_setsockopt(pr.a, fresh, SOL_SOCKET, SO_TIMESTAMPING, &fl, sizeof fl), EINVAL);
    int bad = 1 << 30;
    int a, b;
    connect_pair(&pr, 303, &a, &b, NULL);
    assert_errno(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_TIMESTAMPING, &bad, sizeof bad), EINVAL);
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_TIMESTAMPING, &fl, sizeof fl), 0);
    int got = 0;
    socklen_t len = sizeof got;
    assert_int_equal(sxp_getsockopt(pr.a, a, SOL_SOCKET, SO_TIMESTAMPING, &got, &len), 0);
    assert_int_equal(got, fl);
    int64_t t0 = sxp_now(pr.a);
    assert_int_equal(sxp_write(pr.a, a, data, 1000), 1000);
    run_for(&pr, 1000);
    size_t room = CMSG_SPACE(sizeof(struct scm_timestamping)) +
                  CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in));
    struct errq_read e = read_errq(pr.a, a, room);
    assert_int_equal(e.r, 0);
    assert_int_equal(e.flags, MSG_ERRQUEUE | MSG_TRUNC);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.level[0], SOL_SOCKET);
    assert_int_equal(e.type[0], SO_TIMESTAMPING_OLD);
    assert_int_equal(e.len[0], CMSG_LEN(sizeof(struct scm_timestamping)));
    assert_int_equal((int64_t)e.ts.ts[0].tv_sec * 1000000 + e.ts.ts[0].tv_nsec / 1000, t0);
    assert_int_equal(e.level[1], IPPROTO_IP);
    assert_int_equal(e.type[1], IP_RECVERR);
    assert_int_equal(e.ee.ee_errno, ENOMSG);
    assert_int_equal(e.ee.ee_origin, SO_EE_ORIGIN_TIMESTAMPING);
    assert_int_equal(e.ee.ee_info, SCM_TSTAMP_SND);
    assert_int_equal(e.ee.ee_data, 999);
    /* OPT_TSONLY: nothing to truncate; no SOFTWARE: no SCM_TIMESTAMPING */
    fl = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_TIMESTAMPING, &fl, sizeof fl), 0);
    assert_int_equal(sxp_write(pr.a, a, data, 500), 500);
    run_for(&pr, 1000);
    e = read_errq(pr.a, a, room);
    assert_int_equal(e.flags, MSG_ERRQUEUE);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.ee.ee_data, 1499); /* the key stays where OPT_ID was first set */
    pair_free(&pr);
}

/* EPOLLET reports Linux's sk_error_report wakeups: a queued notification
 * wakes once, however long it stays unread; reading one with another left
 * behind wakes again (sock_dequeue_err_skb); reading the last does not. */
static void epollet_wakes_on_queueing_and_on_a_read_with_more_left(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int a, b;
    connect_pair(&pr, 304, &a, &b, NULL);
    int fl = SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY;
    assert_int_equal(sxp_setsockopt(pr.a, a, SOL_SOCKET, SO_TIMESTAMPING, &fl, sizeof fl), 0);
    int ep = sxp_epoll_create(pr.a, 1);
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.fd = a}, out[2];
    assert_int_equal(sxp_epoll_ctl(pr.a, ep, EPOLL_CTL_ADD, a, &ev), 0);
    assert_int_equal(sxp_epoll_wait(pr.a, ep, out, 2, 0), 1);
    assert_int_equal(out[0].events, EPOLLOUT);
    assert_int_equal(sxp_epoll_wait(pr.a, ep, out, 2, 0), 0);
    assert_int_equal(sxp_write(pr.a, a, data, 100), 100); /* SCHED and SND */
    run_for(&pr, 1000);
    assert_int_equal(sxp_epoll_wait(pr.a, ep, out, 2, 0), 1);
    assert_int_equal(out[0].events, EPOLLOUT | EPOLLERR);
    assert_int_equal(sxp_epoll_wait(pr.a, ep, out, 2, 0), 0); /* not level-triggered */
    size_t room = CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in));
    struct errq_read e = read_errq(pr.a, a, room);
    assert_int_equal(e.ee.ee_info, SCM_TSTAMP_SCHED);
    assert_int_equal(sxp_epoll_wait(pr.a, ep, out, 2, 0), 1); /* one more waits: woken again */
    assert_int_equal(out[0].events, EPOLLOUT | EPOLLERR);
    e = read_errq(pr.a, a, room);
    assert_int_equal(e.ee.ee_info, SCM_TSTAMP_SND);
    assert_int_equal(sxp_epoll_wait(pr.a, ep, out, 2, 0), 0);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zerocopy_option_and_empty_queue),
        cmocka_unit_test(zerocopy_completion_reads_as_ip_recverr),
        cmocka_unit_test(timestamps_read_with_their_cmsgs),
        cmocka_unit_test(epollet_wakes_on_queueing_and_on_a_read_with_more_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
