#define _GNU_SOURCE /* splice */
/* poll, epoll, pipe and splice. Readiness is Linux's tcp_poll; host
 * descriptors (pipes) are asked of the host without waiting, and a blocked
 * poll looks again whenever the stack or the virtual clock moves. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int fail_unlock(struct sxp *p, int err)
{
    sxp_unlock(p);
    return sxp_fail(err);
}

/* Linux tcp_poll, over what the public API shows. */
static unsigned tcp_poll_mask(struct sxp *p, struct sxp_file *f)
{
    synack_tcp_info ti;
    if (synack_tcp_info_get(p->st, f->h, &ti) < 0)
        return POLLNVAL;
    unsigned ev = synack_events(p->st, f->h);
    if (ti.state == SYNACK_LISTEN)
        return (ev & SYNACK_EV_IN) ? POLLIN | POLLRDNORM : 0;
    unsigned m = 0;
    unsigned shut = sxp_sk_shutdown(p, f, &ti);
    if (shut == (SXP_RCV_SHUT | SXP_SEND_SHUT) || ti.state == SYNACK_CLOSED)
        m |= POLLHUP;
    if (shut & SXP_RCV_SHUT)
        m |= POLLIN | POLLRDNORM | POLLRDHUP;
    /* a Fast Open child is ready in SYN_RECEIVED (tcp_poll: fastopen_rsk) */
    if (ti.state != SYNACK_SYN_SENT && (ti.state != SYNACK_SYN_RECEIVED || ti.fastopen)) {
        /* an urgent byte at the read position, out of band, is not data
         * (Linux tcp_poll: target++); POLLPRI while it waits to be read */
        if (ti.unread && (ev & SYNACK_EV_IN))
            m |= POLLIN | POLLRDNORM;
        if (ev & SYNACK_EV_PRI)
            m |= POLLPRI;
        if (!(shut & SXP_SEND_SHUT)) {
            /* tcp_stream_memory_free(sk, wake): twice the unsent bytes
             * below TCP_NOTSENT_LOWAT */
            bool lowat_ok = !ti.notsent_lowat || 2ull * ti.unsent < ti.notsent_lowat;
            if (sxp_wmem_writeable(f, &ti) && lowat_ok)
                m |= POLLOUT | POLLWRNORM;
        } else {
            m |= POLLOUT | POLLWRNORM;
        }
    }
    /* TCP_FASTOPEN_CONNECT waiting for data: writable, so that the
     * application writes and the SYN goes (tcp_poll, DEFER_CONNECT) */
    if (ti.fo_deferred)
        m |= POLLOUT | POLLWRNORM;
    if (ev & (SYNACK_EV_ERR | SYNACK_EV_ERRQUEUE)) /* sk_err or the error queue */
        m |= POLLERR;
    return m;
}

static short host_revents(int fd, short events)
{
    struct pollfd q = {.fd = fd, .events = events};
    if (poll(&q, 1, 0) < 0)
        return POLLNVAL;
    return q.revents;
}

static unsigned epoll_mask(struct sxp *p, struct sxp_file *ep);

short sxp_revents(struct sxp *p, int fd, short events)
{
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f)
        return host_revents(fd, events);
    unsigned m = f->kind == SXF_SOCK ? tcp_poll_mask(p, f) : epoll_mask(p, f);
    /* POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not */
    return (short)(m & ((unsigned)(unsigned short)events | POLLERR | POLLHUP | POLLNVAL));
}

int sxp_poll(struct sxp *p, struct pollfd *fds, nfds_t n, int timeout_ms)
{
    if (n && !fds)
        return sxp_fail(EFAULT);
    sxp_lock(p);
    struct sxp_waiter w;
    sxp_wait_begin(p, &w, sxp_deadline_ms(p, timeout_ms));
    int ready;
    for (;;) {
        ready = 0;
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = fds[i].fd < 0 ? 0 : sxp_revents(p, fds[i].fd, fds[i].events);
            ready += fds[i].revents != 0;
        }
        if (ready || timeout_ms == 0 || p->clk.now >= w.deadline)
            break;
        sxp_wait(p, &w);
    }
    sxp_wait_end(p, &w);
    sxp_unlock(p);
    return ready;
}

/* ---- epoll ----------------------------------------------------------- */

static unsigned item_ready(struct sxp *p, struct sxp_epitem *it)
{
    if (it->disabled)
        return 0;
    unsigned want = it->ev.events & ~(unsigned)(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP);
    unsigned short r = (unsigned short)sxp_revents(p, it->fd, (short)want);
    return r & (want | EPOLLERR | EPOLLHUP);
}

static unsigned epoll_mask(struct sxp *p, struct sxp_file *ep)
{
    for (struct sxp_epitem *it = ep->items; it; it = it->next)
        if (item_ready(p, it))
            return POLLIN | POLLRDNORM;
    return 0;
}

int sxp_epoll_create(struct sxp *p, int size)
{
    if (size <= 0)
        return sxp_fail(EINVAL);
    sxp_lock(p);
    struct sxp_file *f = sxp_file_new(p, SXF_EPOLL);
    if (!f)
        return fail_unlock(p, errno);
    int fd = f->fd;
    sxp_unlock(p);
    return fd;
}

int sxp_epoll_ctl(struct sxp *p, int epfd, int op, int fd, struct epoll_event *ev)
{
    sxp_lock(p);
    struct sxp_file *ep = sxp_file_get(p, epfd);
    if (!ep)
        return fail_unlock(p, EBADF);
    struct sxp_file *t = sxp_file_get(p, fd);
    if (!t && fcntl(fd, F_GETFD) < 0)
        return fail_unlock(p, EBADF);
    if (ep->kind != SXF_EPOLL || epfd == fd)
        return fail_unlock(p, EINVAL);
    if (op != EPOLL_CTL_DEL && !ev)
        return fail_unlock(p, EFAULT);
    struct sxp_epitem **pp = &ep->items;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    switch (op) {
    case EPOLL_CTL_ADD: {
        if (*pp)
            return fail_unlock(p, EEXIST);
        struct sxp_epitem *it = calloc(1, sizeof *it);
        if (!it)
            return fail_unlock(p, ENOMEM);
        it->fd = fd;
        it->ev = *ev;
        it->pending = true; /* ep_insert polls the file once */
        if (t && t->kind == SXF_SOCK)
            it->seen = t->wakeups;
        *pp = it;
        break;
    }
    case EPOLL_CTL_MOD:
        if (!*pp)
            return fail_unlock(p, ENOENT);
        (*pp)->ev = *ev;
        (*pp)->last = 0;
        (*pp)->pending = true; /* ep_modify polls the file again */
        (*pp)->disabled = false;
        break;
    case EPOLL_CTL_DEL: {
        if (!*pp)
            return fail_unlock(p, ENOENT);
        struct sxp_epitem *it = *pp;
        *pp = it->next;
        free(it);
        break;
    }
    default:
        return fail_unlock(p, EINVAL);
    }
    sxp_unlock(p);
    return 0;
}

/* Whether an edge-triggered item has news: a socket had a wakeup since the
 * item last looked; a host descriptor gained a readiness bit. */
static bool edge(struct sxp *p, struct sxp_epitem *it, unsigned ready)
{
    struct sxp_file *f = sxp_file_get(p, it->fd);
    if (f && f->kind == SXF_SOCK) {
        if (f->wakeups != it->seen)
            it->pending = true;
        it->seen = f->wakeups;
    } else {
        if (ready & ~it->last)
            it->pending = true;
        it->last = ready;
    }
    bool news = it->pending;
    it->pending = false;
    return news;
}

static int epoll_collect(struct sxp *p, struct sxp_file *ep, struct epoll_event *evs, int max)
{
    int n = 0;
    for (struct sxp_epitem *it = ep->items; it && n < max; it = it->next) {
        if (!sxp_file_get(p, it->fd) && fcntl(it->fd, F_GETFD) < 0)
            continue; /* closed: Linux drops the item with its file */
        unsigned r = item_ready(p, it);
        if ((it->ev.events & EPOLLET) && !edge(p, it, r))
            continue;
        if (!r)
            continue;
        evs[n].events = r;
        evs[n].data = it->ev.data;
        n++;
        if (it->ev.events & EPOLLONESHOT)
            it->disabled = true;
    }
    return n;
}

int sxp_epoll_wait(struct sxp *p, int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
    if (max <= 0)
        return sxp_fail(EINVAL);
    if (!evs)
        return sxp_fail(EFAULT);
    sxp_lock(p);
    struct sxp_file *ep = sxp_file_get(p, epfd);
    if (!ep)
        return fail_unlock(p, EBADF);
    if (ep->kind != SXF_EPOLL)
        return fail_unlock(p, EINVAL);
    ep->refs++;
    struct sxp_waiter w;
    sxp_wait_begin(p, &w, sxp_deadline_ms(p, timeout_ms));
    int n;
    for (;;) {
        n = ep->closed ? 0 : epoll_collect(p, ep, evs, max);
        if (n || ep->closed || timeout_ms == 0 || p->clk.now >= w.deadline)
            break;
        sxp_wait(p, &w);
    }
    sxp_wait_end(p, &w);
    sxp_file_release(ep);
    sxp_unlock(p);
    return n;
}

/* ---- pipe and splice ----------------------------------------------------- */

int sxp_pipe(struct sxp *p, int fds[2])
{
    return pipe(fds); /* a host pipe: the stack has nothing to add */
}

ssize_t sxp_splice(struct sxp *p, int in, loff_t *off_in, int out, loff_t *off_out, size_t len, unsigned flags)
{
    sxp_lock(p);
    bool in_ours = sxp_file_get(p, in) != NULL, out_ours = sxp_file_get(p, out) != NULL;
    sxp_unlock_quiet(p);
    if (!in_ours && !out_ours)
        return splice(in, off_in, out, off_out, len, flags);
    if (off_in && in_ours)
        return sxp_fail(ESPIPE);
    if (off_out && out_ours)
        return sxp_fail(ESPIPE);
    /* One side is a synack socket: copy through a buffer. */
    if (len > 65536)
        len = 65536;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return sxp_fail(ENOMEM);
    ssize_t n;
    if (in_ours) {
        sxp_lock(p);
        struct sxp_file *f = sxp_file_get(p, in);
        if (f && f->kind == SXF_SOCK) {
            n = sxp_splice_read(p, f, buf, len);
            sxp_unlock(p);
            if (n < 0) {
                errno = (int)-n;
                n = -1;
            }
        } else {
            sxp_unlock_quiet(p);
            n = sxp_read(p, in, buf, len);
        }
    } else {
        n = read(in, buf, len);
    }
    ssize_t r = n;
    if (n > 0)
        r = out_ours ? sxp_write(p, out, buf, (size_t)n) : write(out, buf, (size_t)n);
    int e = errno;
    free(buf);
    errno = e;
    return r;
}
