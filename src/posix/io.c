/* The data calls: read/recv family and write/send family, with Linux's
 * tcp_recvmsg and tcp_sendmsg rules for blocking, errors and EOF. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

static ssize_t fail_unlock(struct sxp *p, int err)
{
    sxp_unlock(p);
    return sxp_fail(err);
}

static int iov_total(const struct iovec *iov, int iovcnt, size_t *total)
{
    if (iovcnt < 0 || iovcnt > 1024 /* UIO_MAXIOV */ || (iovcnt && !iov))
        return EINVAL;
    size_t t = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > (size_t)SSIZE_MAX - t)
            return EINVAL;
        if (iov[i].iov_len && !iov[i].iov_base)
            return EFAULT;
        t += iov[i].iov_len;
    }
    *total = t;
    return 0;
}

/* The piece of the iovec `off` bytes in. */
static void iov_at(const struct iovec *iov, int iovcnt, size_t off, uint8_t **base, size_t *len)
{
    for (int i = 0; i < iovcnt; i++) {
        if (off < iov[i].iov_len) {
            *base = (uint8_t *)iov[i].iov_base + off;
            *len = iov[i].iov_len - off;
            return;
        }
        off -= iov[i].iov_len;
    }
    *base = NULL;
    *len = 0;
}

static bool pending_error(struct sxp *p, struct sxp_file *f)
{
    return (synack_events(p->st, f->h) & SYNACK_EV_ERR) != 0;
}

static int take_error(struct sxp *p, struct sxp_file *f)
{
    int e = synack_sock_error(p->st, f->h);
    return e < 0 ? -e : e;
}

static long peek_into(struct sxp *p, struct sxp_file *f, const struct iovec *iov, int iovcnt, size_t total,
                      uint32_t avail)
{
    size_t n = total < avail ? total : avail;
    uint8_t *tmp = malloc(n ? n : 1);
    if (!tmp)
        return -ENOMEM;
    long r = synack_peek(p->st, f->h, tmp, n);
    size_t done = 0;
    while (r > 0 && done < (size_t)r) {
        uint8_t *b;
        size_t l;
        iov_at(iov, iovcnt, done, &b, &l);
        if (l > (size_t)r - done)
            l = (size_t)r - done;
        memcpy(b, tmp + done, l);
        done += l;
    }
    free(tmp);
    return r;
}

/* recv(MSG_OOB), Linux tcp_recv_urg: never blocks. */
static ssize_t recv_oob(struct sxp *p, struct sxp_file *f, const struct iovec *iov, int iovcnt, size_t total,
                        int flags)
{
    uint8_t c;
    long r = synack_recv_flags(p->st, f->h, &c, 1, SYNACK_RECV_OOB | ((flags & MSG_PEEK) ? SYNACK_RECV_PEEK : 0));
    if (r <= 0)
        return r;
    if (!total)
        return 0; /* Linux: MSG_TRUNC, the byte taken all the same */
    uint8_t *b;
    size_t l;
    iov_at(iov, iovcnt, 0, &b, &l);
    *b = c;
    return 1;
}

/* Linux tcp_recvmsg_locked, for a socket already looked up; lock held.
 * splice: Linux's tcp_read_sock, which stops at the urgent mark and never
 * steps over the byte there (tcp_splice_read then returns 0). */
static ssize_t sock_recv_as(struct sxp *p, struct sxp_file *f, const struct iovec *iov, int iovcnt, int flags,
                            bool splice)
{
    size_t total;
    int e = iov_total(iov, iovcnt, &total);
    if (e)
        return -e;
    if (f->listening)
        return -ENOTCONN;
    if (flags & MSG_OOB)
        return recv_oob(p, f, iov, iovcnt, total, flags);
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    bool peek = (flags & MSG_PEEK) != 0;
    size_t target = (flags & MSG_WAITALL) && !peek && total ? total : 1;
    size_t copied = 0;
    ssize_t ret = 0;
    struct sxp_waiter w;
    sxp_wait_begin(p, &w, SYNACK_TIME_NEVER);
    f->refs++;
    for (;;) {
        if (f->closed) {
            ret = copied ? (ssize_t)copied : -EBADF;
            break;
        }
        synack_tcp_info ti;
        synack_tcp_info_get(p->st, f->h, &ti);
        if (ti.unread && synack_atmark(p->st, f->h) == 1) {
            /* Linux: a read that has copied something stops at the mark */
            if (copied) {
                ret = (ssize_t)copied;
                break;
            }
            if (splice) {
                ret = nonblock ? -EAGAIN : 0;
                break;
            }
        }
        if (ti.unread) {
            long n;
            if (peek) {
                n = peek_into(p, f, iov, iovcnt, total, ti.unread);
            } else {
                uint8_t *b;
                size_t l;
                iov_at(iov, iovcnt, copied, &b, &l);
                n = l ? synack_recv(p->st, f->h, b, l) : 0;
            }
            /* nothing but an urgent byte, out of band, was there: as if empty */
            bool none = n == -EAGAIN || (peek && n == 0 && total);
            if (n < 0 && !none) {
                ret = copied ? (ssize_t)copied : n;
                break;
            }
            if (none)
                goto empty;
            copied += (size_t)n;
            /* Linux copies on while data waits, across iovecs */
            if (copied == total || peek) {
                ret = (ssize_t)copied;
                break;
            }
            continue;
        }
    empty:;
        unsigned shut = sxp_sk_shutdown(p, f, &ti);
        if (copied) {
            if (copied >= target || nonblock || pending_error(p, f) || ti.state == SYNACK_CLOSED || (shut & SXP_RCV_SHUT)) {
                ret = (ssize_t)copied;
                break;
            }
        } else {
            if (pending_error(p, f)) {
                ret = -take_error(p, f);
                break;
            }
            if (shut & SXP_RCV_SHUT) {
                ret = 0;
                break;
            }
            if (ti.state == SYNACK_CLOSED) {
                ret = sxp_had_conn(p, f) ? 0 : -ENOTCONN;
                break;
            }
            if (nonblock) {
                ret = -EAGAIN;
                break;
            }
        }
        sxp_wait(p, &w);
    }
    sxp_wait_end(p, &w);
    sxp_file_release(f);
    return ret;
}

static ssize_t sock_recv(struct sxp *p, struct sxp_file *f, const struct iovec *iov, int iovcnt, int flags)
{
    return sock_recv_as(p, f, iov, iovcnt, flags, false);
}

ssize_t sxp_splice_read(struct sxp *p, struct sxp_file *f, void *buf, size_t len)
{
    struct iovec v = {buf, len};
    return sock_recv_as(p, f, &v, 1, 0, true);
}

static bool can_send(const synack_tcp_info *ti)
{
    /* RFC 7413 §4.2.2: a Fast Open child writes before the third ACK (Linux
     * lets TCPF_SYN_RECV through sk_stream_wait_connect for it) */
    return ti->state == SYNACK_ESTABLISHED || ti->state == SYNACK_CLOSE_WAIT ||
           (ti->state == SYNACK_SYN_RECEIVED && ti->fastopen);
}

/* sk_stream_error: a pending error wins over EPIPE. No SIGPIPE is raised:
 * a library must not kill its host (MSG_NOSIGNAL is always in effect). */
static ssize_t stream_error(struct sxp *p, struct sxp_file *f, int err)
{
    if (err == EPIPE) {
        int e = take_error(p, f);
        if (e)
            return -e;
    }
    return -err;
}

/* Linux tcp_sendmsg_locked, for a socket already looked up; lock held. */
static ssize_t sock_send(struct sxp *p, struct sxp_file *f, const struct iovec *iov, int iovcnt, int flags)
{
    size_t total;
    int e = iov_total(iov, iovcnt, &total);
    if (e)
        return -e;
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    size_t copied = 0;
    ssize_t ret = 0;
    struct sxp_waiter w;
    sxp_wait_begin(p, &w, SYNACK_TIME_NEVER);
    f->refs++;
    synack_tcp_info ti;
    bool mem_wait = false; /* waiting in sk_stream_wait_memory */
    for (;;) { /* sk_stream_wait_connect */
        if (f->closed) {
            ret = -EBADF;
            goto out;
        }
        synack_tcp_info_get(p->st, f->h, &ti);
        if (can_send(&ti))
            break;
        if (pending_error(p, f)) {
            ret = -take_error(p, f);
            goto out;
        }
        if (ti.state != SYNACK_SYN_SENT && ti.state != SYNACK_SYN_RECEIVED) {
            ret = stream_error(p, f, EPIPE);
            goto out;
        }
        if (nonblock) {
            ret = -EAGAIN;
            goto out;
        }
        sxp_wait(p, &w);
    }
    for (;;) {
        if (f->closed) {
            ret = copied ? (ssize_t)copied : -EBADF;
            goto out;
        }
        synack_tcp_info_get(p->st, f->h, &ti);
        sxp_sndbuf_expand(p, f, &ti);
        if (pending_error(p, f) || (sxp_sk_shutdown(p, f, &ti) & SXP_SEND_SHUT) || !can_send(&ti)) {
            ret = copied ? (ssize_t)copied : stream_error(p, f, EPIPE);
            goto out;
        }
        if (copied == total) {
            ret = (ssize_t)copied;
            goto out;
        }
        uint8_t *b;
        size_t l;
        iov_at(iov, iovcnt, copied, &b, &l);
        /* SO_SNDBUF set: Linux's skb accounting decides, not the buffer's bytes */
        size_t room = f->sndbuf ? sxp_wmem_room(f, &ti) : l;
        /* a writer that waited for memory is woken by sk_stream_write_space,
         * only once the socket is writeable again */
        if (f->sndbuf && mem_wait) {
            if (sxp_wmem_writeable(f, &ti))
                mem_wait = false;
            else
                room = 0;
        }
        if (l > room)
            l = room;
        uint32_t write_seq = ti.snd_una + ti.snd_queued;
        if (!f->pushed_known) {
            f->pushed_seq = write_seq;
            f->pushed_known = true;
        }
        /* one call, however many writes: synack_send_end (send_any) settles
         * its zerocopy id and timestamp key */
        int sf = SYNACK_SEND_PART | ((flags & MSG_MORE) ? SYNACK_SEND_MORE : 0) |
                 ((flags & MSG_ZEROCOPY) ? SYNACK_SEND_ZEROCOPY : 0);
        if ((flags & MSG_OOB) && copied + l == total) /* Linux tcp_push: SND.UP at the end of the call */
            sf |= SYNACK_SEND_OOB;
        if ((flags & MSG_EOR) && copied + l == total) /* the record ends with the last piece */
            sf |= SYNACK_SEND_EOR;
        if (f->sndbuf && l && copied + l < total && !(sf & SYNACK_SEND_MORE)) {
            /* A piece of a write that Linux's accounting cut (above): inside
             * tcp_sendmsg_locked a full skb goes without PSH (tcp_push_one),
             * unless the write has run half the peer's largest window past
             * the last PSH (forced_push), or memory runs out after it and
             * the write waits (tcp_push before sk_stream_wait_memory). */
            synack_tcp_info after = ti;
            after.snd_queued += (uint32_t)l;
            after.unsent += (uint32_t)l;
            bool forced = (int32_t)(write_seq + (uint32_t)l - f->pushed_seq - ti.max_snd_wnd / 2) > 0;
            if (!forced && sxp_wmem_room(f, &after))
                sf |= SYNACK_SEND_MORE;
        }
        /* l is 0 only when the accounting left no room: wait for memory */
        long n = l ? synack_send_flags(p->st, f->h, b, l, sf) : -EAGAIN;
        if (n > 0 && !(sf & SYNACK_SEND_MORE)) /* tcp_push / tcp_mark_push */
            f->pushed_seq = write_seq + (uint32_t)n;
        if (n > 0) {
            copied += (size_t)n;
            continue;
        }
        if (n != -EAGAIN) {
            ret = copied ? (ssize_t)copied : stream_error(p, f, (int)-n);
            goto out;
        }
        f->nospace = true; /* sk_stream_wait_memory sets SOCK_NOSPACE */
        if (nonblock) {
            ret = copied ? (ssize_t)copied : -EAGAIN;
            goto out;
        }
        mem_wait = true;
        sxp_wait(p, &w);
    }
out:
    sxp_wait_end(p, &w);
    sxp_file_release(f);
    return ret;
}

/* Linux tcp_inq_hint: rcv_nxt - copied_seq, which counts a received FIN
 * as a byte, and 1 once the connection is done (SOCK_DONE) with nothing
 * left, so that a reader learns to expect EOF. */
static int inq_hint(struct sxp *p, struct sxp_file *f)
{
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    if (ti.state == SYNACK_SYN_SENT || ti.state == SYNACK_SYN_RECEIVED)
        return 0;
    unsigned done = sxp_sk_shutdown(p, f, &ti) & ~f->shut; /* by the peer or the stack, not shutdown() */
    bool fin = ti.state == SYNACK_CLOSE_WAIT || ti.state == SYNACK_LAST_ACK || ti.state == SYNACK_CLOSING ||
               ti.state == SYNACK_TIME_WAIT || (synack_events(p->st, f->h) & SYNACK_EV_RDHUP);
    int inq = (int)ti.unread + (fin ? 1 : 0);
    return inq == 0 && (done & SXP_RCV_SHUT) ? 1 : inq;
}

/* Linux put_cmsg: what does not fit is cut and flagged MSG_CTRUNC;
 * msg_controllen ends as the bytes used. */
static void put_cmsg_int(struct msghdr *msg, int level, int type, int v)
{
    size_t room = msg->msg_control ? msg->msg_controllen : 0;
    msg->msg_controllen = 0;
    if (room < sizeof(struct cmsghdr)) {
        msg->msg_flags |= MSG_CTRUNC;
        return;
    }
    struct cmsghdr h = {.cmsg_len = CMSG_LEN(sizeof v), .cmsg_level = level, .cmsg_type = type};
    uint8_t whole[CMSG_SPACE(sizeof v)];
    memset(whole, 0, sizeof whole);
    memcpy(whole, &h, sizeof h);
    memcpy(whole + CMSG_LEN(0), &v, sizeof v);
    size_t n = sizeof whole;
    if (room < CMSG_LEN(sizeof v)) {
        msg->msg_flags |= MSG_CTRUNC;
        n = room;
        h.cmsg_len = room;
        memcpy(whole, &h, sizeof h);
    } else if (room < n) {
        n = room;
    }
    memcpy(msg->msg_control, whole, n);
    msg->msg_controllen = n;
}

ssize_t sxp_recvmsg(struct sxp *p, int fd, struct msghdr *msg, int flags)
{
    if (!msg)
        return sxp_fail(EFAULT);
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (flags & MSG_ERRQUEUE) { /* Linux tcp_recvmsg: before anything else */
        ssize_t e = sxp_errq_recv(p, f, msg);
        if (e < 0)
            return fail_unlock(p, (int)-e);
        sxp_unlock(p);
        return e;
    }
    ssize_t r = sock_recv(p, f, msg->msg_iov, (int)msg->msg_iovlen, flags);
    if (r < 0)
        return fail_unlock(p, (int)-r);
    msg->msg_namelen = 0; /* TCP reports no source address */
    msg->msg_flags = (flags & MSG_OOB) && r > 0 ? MSG_OOB : 0; /* Linux tcp_recv_urg */
    if (f->inq) /* TCP_INQ (Linux tcp_recvmsg) */
        put_cmsg_int(msg, IPPROTO_TCP, TCP_CM_INQ, inq_hint(p, f));
    else
        msg->msg_controllen = 0;
    sxp_unlock(p);
    return r;
}

/* Linux tcp_sendmsg_fastopen: sendto(MSG_FASTOPEN) on an unconnected
 * socket connects with RFC 7413 Fast Open. Non-blocking, it returns what
 * the SYN carries, or EINPROGRESS when that is nothing (no cookie yet);
 * blocking, it waits for the handshake and sends the rest as write() does. */
static ssize_t fastopen_send(struct sxp *p, struct sxp_file *f, const struct msghdr *msg, int flags, bool deferred)
{
    const struct sockaddr *a = msg->msg_name;
    if (a && msg->msg_namelen >= (socklen_t)sizeof(sa_family_t) && a->sa_family == AF_UNSPEC)
        return -EOPNOTSUPP;
    if (!deferred && (!a || msg->msg_namelen < (socklen_t)sizeof(sa_family_t)))
        return -EINVAL;
    size_t total;
    int e = iov_total(msg->msg_iov, (int)msg->msg_iovlen, &total);
    if (e)
        return -e;
    /* the first bytes, gathered: a SYN carries at most an MSS of them */
    uint8_t first[1 << 16];
    size_t n = 0;
    for (size_t i = 0; i < msg->msg_iovlen && n < sizeof first; i++) {
        size_t l = msg->msg_iov[i].iov_len;
        if (l > sizeof first - n)
            l = sizeof first - n;
        if (l && !msg->msg_iov[i].iov_base)
            return -EFAULT;
        if (l) /* sendto(fd, NULL, 0, MSG_FASTOPEN): memcpy wants a pointer even for 0 */
            memcpy(first + n, msg->msg_iov[i].iov_base, l);
        n += l;
    }
    long queued = 0;
    int r = -EINPROGRESS;
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    int ff = SYNACK_SEND_PART | (nonblock ? 0 : SYNACK_SEND_FO_WAIT) | ((flags & MSG_ZEROCOPY) ? SYNACK_SEND_ZEROCOPY : 0);
    if (deferred) { /* TCP_FASTOPEN_CONNECT: this send makes the SYN */
        queued = synack_send_flags(p->st, f->h, first, n, ff);
        if (queued < 0)
            return queued;
    } else {
        r = sxp_connect_start(p, f, a, msg->msg_namelen, first, n, &queued, ff);
        if (r != -EINPROGRESS)
            return r;
    }
    if (nonblock)
        return queued > 0 ? queued : -EINPROGRESS;
    r = sxp_connect_wait(p, f, false, r);
    if (r < 0) /* refused or reset: the SYN's bytes count for nothing (Linux out_err) */
        return r;
    if ((size_t)queued == total)
        return queued;
    /* the rest, from where the SYN stopped */
    struct iovec rest[UIO_MAXIOV];
    int cnt = 0;
    size_t skip = (size_t)queued;
    for (size_t i = 0; i < msg->msg_iovlen && cnt < UIO_MAXIOV; i++) {
        size_t l = msg->msg_iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        rest[cnt].iov_base = (uint8_t *)msg->msg_iov[i].iov_base + skip;
        rest[cnt++].iov_len = l - skip;
        skip = 0;
    }
    ssize_t sent = sock_send(p, f, rest, cnt, flags & ~MSG_FASTOPEN);
    if (sent < 0)
        return queued > 0 ? queued : sent;
    return queued + sent;
}

/* Linux tcp_sendmsg_locked's start: Fast Open first (sendto MSG_FASTOPEN
 * on an unconnected socket, or any send on one TCP_FASTOPEN_CONNECT left
 * waiting for its data), else an ordinary send. */
static ssize_t send_any_call(struct sxp *p, struct sxp_file *f, const struct msghdr *msg, int flags);

/* One user call, whatever writes it made: its MSG_ZEROCOPY id and its
 * SO_TIMESTAMPING key are settled at its end (Linux tcp_sendmsg_locked). */
static ssize_t send_any(struct sxp *p, struct sxp_file *f, const struct msghdr *msg, int flags)
{
    ssize_t r = send_any_call(p, f, msg, flags);
    if (!f->closed)
        synack_send_end(p->st, f->h);
    return r;
}

static ssize_t send_any_call(struct sxp *p, struct sxp_file *f, const struct msghdr *msg, int flags)
{
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    if (((flags & MSG_FASTOPEN) && f->ss == SS_UNCONN) || ti.fo_deferred)
        return fastopen_send(p, f, msg, flags, ti.fo_deferred);
    if (flags & MSG_FASTOPEN) {
        /* Linux tcp_sendmsg_fastopen connects first (__inet_stream_connect,
         * is_sendmsg): EISCONN once connected; while the handshake runs
         * EALREADY without waiting, else after it, which (as a second
         * connect() does) makes the socket connected; then the data goes
         * as write() sends it. */
        if (f->ss == SS_CONNECTED)
            return -EISCONN;
        int r = sxp_connect_wait(p, f, f->nonblock || (flags & MSG_DONTWAIT), -EALREADY);
        if (r < 0)
            return r;
    }
    return sock_send(p, f, msg->msg_iov, (int)msg->msg_iovlen, flags & ~MSG_FASTOPEN);
}

ssize_t sxp_sendmsg(struct sxp *p, int fd, const struct msghdr *msg, int flags)
{
    if (!msg)
        return sxp_fail(EFAULT);
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    /* A destination address on a TCP socket is ignored, as Linux does. */
    ssize_t r = send_any(p, f, msg, flags);
    if (r < 0)
        return fail_unlock(p, (int)-r);
    sxp_unlock(p);
    return r;
}

ssize_t sxp_readv(struct sxp *p, int fd, const struct iovec *iov, int iovcnt)
{
    sxp_lock(p);
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f) {
        sxp_unlock_quiet(p);
        return readv(fd, iov, iovcnt); /* a host descriptor (a pipe, say) */
    }
    if (f->kind != SXF_SOCK)
        return fail_unlock(p, EINVAL);
    ssize_t r = sock_recv(p, f, iov, iovcnt, 0);
    if (r < 0)
        return fail_unlock(p, (int)-r);
    sxp_unlock(p);
    return r;
}

ssize_t sxp_writev(struct sxp *p, int fd, const struct iovec *iov, int iovcnt)
{
    sxp_lock(p);
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f) {
        sxp_unlock_quiet(p);
        return writev(fd, iov, iovcnt);
    }
    if (f->kind != SXF_SOCK)
        return fail_unlock(p, EINVAL);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt > 0 ? (size_t)iovcnt : 0};
    ssize_t r = iovcnt < 0 ? -EINVAL : send_any(p, f, &m, 0);
    if (r < 0)
        return fail_unlock(p, (int)-r);
    sxp_unlock(p);
    return r;
}

ssize_t sxp_read(struct sxp *p, int fd, void *buf, size_t n)
{
    struct iovec v = {.iov_base = buf, .iov_len = n};
    return sxp_readv(p, fd, &v, 1);
}

ssize_t sxp_write(struct sxp *p, int fd, const void *buf, size_t n)
{
    struct iovec v = {.iov_base = (void *)buf, .iov_len = n};
    return sxp_writev(p, fd, &v, 1);
}
