/* See fake_stack.h. One connection, no retransmission: just enough TCP to
 * exercise the runner. Checks what it receives strictly (ack of its ISN,
 * TS ecr of its own TS val) and ignores a wrong segment, as a stack would. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pd_fake_stack.h"

enum { F_CLOSED, F_LISTEN, F_SYNRCVD, F_EST, F_SYNSENT };

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t now;
    struct { uint8_t b[1600]; size_t n; int64_t t; } q[64];
    int qh, qn;
    int st;
    bool shut;
    uint32_t iss, snd_nxt, rcv_nxt, ts_recent;
    uint16_t lport, rport;
    uint32_t lip, rip;
    int64_t delack_at;
    uint32_t unread;
    bool ts;
    int next_fd;
};

#define LIP 0xc0a80001u /* 192.168.0.1 */
#define RIP 0xc0000201u /* 192.0.2.1 */
#define EPOCH 1000000000000LL

static void w16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void w32(uint8_t *p, uint32_t v) { w16(p, v >> 16); w16(p + 2, v); }
static uint32_t r16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t r32(const uint8_t *p) { return r16(p) << 16 | r16(p + 2); }

static uint16_t csum(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += r16(p + i);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static uint32_t tsval(struct fake *f) { return FAKE_TS_BASE + (uint32_t)(f->now / 1000); }

/* emit a segment from us; opt may be NULL */
static void emit(struct fake *f, uint8_t flags, uint32_t seq, uint32_t len, const uint8_t *opt,
                 size_t olen)
{
    uint8_t tsopt[12];
    if (!opt && f->ts && f->st == F_EST) {
        tsopt[0] = 1;
        tsopt[1] = 1;
        tsopt[2] = 8;
        tsopt[3] = 10;
        w32(tsopt + 4, tsval(f));
        w32(tsopt + 8, f->ts_recent);
        opt = tsopt;
        olen = 12;
    }
    if (f->qn == 64)
        return;
    int slot = (f->qh + f->qn++) % 64;
    uint8_t *b = f->q[slot].b;
    size_t tl = 20 + olen;
    size_t tot = 20 + tl + len;
    memset(b, 0, tot);
    b[0] = 0x45;
    w16(b + 2, (uint32_t)tot);
    b[8] = 64;
    b[9] = 6;
    w32(b + 12, LIP);
    w32(b + 16, RIP);
    w16(b + 10, csum(b, 20, 0));
    uint8_t *t = b + 20;
    w16(t, f->lport);
    w16(t + 2, f->rport);
    w32(t + 4, seq);
    w32(t + 8, (flags & 0x10) ? f->rcv_nxt : 0);
    t[12] = (uint8_t)((tl / 4) << 4);
    t[13] = flags;
    w16(t + 14, 256);
    if (olen)
        memcpy(t + 20, opt, olen);
    f->q[slot].n = tot;
    f->q[slot].t = EPOCH + f->now;
}

static struct fake *F(void *u) { return u; }

static int f_socket(void *u, int d, int t, int p)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    int fd = f->next_fd++;
    pthread_mutex_unlock(&f->mu);
    return fd;
}
static int f_bind(void *u, int fd, const struct sockaddr *a, socklen_t l) { return 0; }
static int f_listen(void *u, int fd, int b)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    f->st = F_LISTEN;
    f->lport = 8080;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int wait_for(struct fake *f, int st)
{
    while (f->st != st && !f->shut)
        pthread_cond_wait(&f->cv, &f->mu);
    if (f->shut) {
        errno = EINTR;
        return -1;
    }
    return 0;
}

static int f_accept(void *u, int fd, struct sockaddr *a, socklen_t *l)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    int rc = wait_for(f, F_EST);
    int nfd = rc ? -1 : f->next_fd++;
    pthread_mutex_unlock(&f->mu);
    return nfd;
}

static int f_connect(void *u, int fd, const struct sockaddr *a, socklen_t l)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    f->lport = 40000;
    f->rport = 8080;
    f->iss = FAKE_ACTIVE_ISN;
    f->snd_nxt = f->iss + 1;
    f->ts = true;
    uint8_t o[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 8};
    w32(o + 8, tsval(f));
    f->st = F_SYNSENT;
    emit(f, 0x02, f->iss, 0, o, sizeof o);
    int rc = wait_for(f, F_EST);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static ssize_t f_read(void *u, int fd, void *buf, size_t n)
{
    struct fake *f = F(u);
    if (!buf) {
        errno = EFAULT;
        return -1;
    }
    pthread_mutex_lock(&f->mu);
    while (!f->unread && !f->shut)
        pthread_cond_wait(&f->cv, &f->mu);
    ssize_t got = -1;
    if (f->shut) {
        errno = EINTR;
    } else {
        got = (ssize_t)(n < f->unread ? n : f->unread);
        f->unread -= (uint32_t)got;
        memset(buf, 0, (size_t)got);
    }
    pthread_mutex_unlock(&f->mu);
    return got;
}

static ssize_t f_write(void *u, int fd, const void *buf, size_t n)
{
    struct fake *f = F(u);
    if (!buf) {
        errno = EFAULT;
        return -1;
    }
    pthread_mutex_lock(&f->mu);
    for (size_t off = 0; off < n; off += 1000) {
        size_t len = n - off < 1000 ? n - off : 1000;
        emit(f, (uint8_t)(0x10 | (off + len == n ? 0x08 : 0)), f->snd_nxt, (uint32_t)len, NULL, 0);
        f->snd_nxt += (uint32_t)len;
    }
    pthread_mutex_unlock(&f->mu);
    return (ssize_t)n;
}

static int f_close(void *u, int fd)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    if (f->st == F_EST) {
        emit(f, 0x11, f->snd_nxt, 0, NULL, 0);
        f->snd_nxt++;
    }
    pthread_mutex_unlock(&f->mu);
    return 0;
}

/* Fixed answers, so the runner's out-value checks can be tested. */
static int f_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len)
{
    if (level == SOL_SOCKET && name == SO_LINGER && *len >= 8) {
        int v[2] = {1, 5};
        memcpy(val, v, 8);
        *len = 8;
        return 0;
    }
    if (level == IPPROTO_TCP && name == TCP_CONGESTION && *len >= 5) {
        memcpy(val, "reno", 5);
        *len = 4;
        return 0;
    }
    if (level == IPPROTO_TCP && name == TCP_MAXSEG && *len >= 4) {
        int v = 1448;
        memcpy(val, &v, 4);
        *len = 4;
        return 0;
    }
    errno = ENOPROTOOPT;
    return -1;
}

static int f_poll(void *u, struct pollfd *fds, nfds_t n, int timeout)
{
    for (nfds_t i = 0; i < n; i++)
        fds[i].revents = (short)(fds[i].events & POLLOUT);
    return (int)n;
}

static int f_netdev_send(void *u, const void *buf, size_t n)
{
    struct fake *f = F(u);
    const uint8_t *b = buf;
    if (n >= 28 && b[9] == 1 && b[20] == 8) {
        /* an echo request: answer it, as a host would (not the test's business) */
        pthread_mutex_lock(&f->mu);
        if (f->qn < 64) {
            int slot = (f->qh + f->qn++) % 64;
            uint8_t *o = f->q[slot].b;
            memset(o, 0, 28);
            o[0] = 0x45;
            w16(o + 2, 28);
            o[8] = 64;
            o[9] = 1;
            w32(o + 12, LIP);
            w32(o + 16, RIP);
            w16(o + 10, csum(o, 20, 0));
            w16(o + 22, csum(o + 20, 8, 0));
            f->q[slot].n = 28;
            f->q[slot].t = EPOCH + f->now;
        }
        pthread_mutex_unlock(&f->mu);
        return 0;
    }
    if (n < 40 || b[9] != 6)
        return 0; /* other ICMP and the rest: ignored */
    const uint8_t *t = b + (b[0] & 15) * 4;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    uint32_t seq = r32(t + 4), ack = r32(t + 8), len = (uint32_t)(r16(b + 2) - 20 - doff);
    uint8_t fl = t[13];
    uint32_t peer_ts = 0, peer_ecr = 0;
    bool has_ts = false;
    for (size_t i = 20; i < doff;) {
        if (t[i] <= 1) {
            i++;
            continue;
        }
        if (t[i] == 8) {
            has_ts = true;
            peer_ts = r32(t + i + 2);
            peer_ecr = r32(t + i + 6);
        }
        i += t[i + 1] ? t[i + 1] : 1;
    }
    pthread_mutex_lock(&f->mu);
    if (f->st == F_LISTEN && fl == 0x02) {
        f->rport = (uint16_t)r16(t);
        f->rcv_nxt = seq + 1;
        f->iss = FAKE_PASSIVE_ISN;
        f->snd_nxt = f->iss + 1;
        f->st = F_SYNRCVD;
        const uint8_t o[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8};
        emit(f, 0x12, f->iss, 0, o, sizeof o);
    } else if (f->st == F_SYNRCVD && (fl & 0x10) && ack == f->iss + 1) {
        f->st = F_EST;
    } else if (f->st == F_SYNSENT && (fl & 0x12) == 0x12 && ack == f->iss + 1 &&
               (!has_ts || peer_ecr == FAKE_TS_BASE)) {
        f->rcv_nxt = seq + 1;
        f->ts_recent = peer_ts;
        f->ts = has_ts;
        f->st = F_EST;
        emit(f, 0x10, f->snd_nxt, 0, NULL, 0);
    } else if (f->st == F_EST && seq == f->rcv_nxt && len) {
        f->rcv_nxt += len;
        f->unread += len;
        if (!f->delack_at)
            f->delack_at = f->now + 40000;
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int f_netdev_receive(void *u, void *buf, size_t *n, long long *t)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    if (!f->qn) {
        pthread_mutex_unlock(&f->mu);
        *n = 0;
        errno = EAGAIN;
        return -1;
    }
    size_t len = f->q[f->qh].n < *n ? f->q[f->qh].n : *n;
    memcpy(buf, f->q[f->qh].b, len);
    *n = len;
    *t = f->q[f->qh].t;
    f->qh = (f->qh + 1) % 64;
    f->qn--;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int f_usleep(void *u, useconds_t d)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    int64_t target = f->now + d;
    if (f->delack_at && f->delack_at <= target) {
        f->now = f->delack_at;
        f->delack_at = 0;
        emit(f, 0x10, f->snd_nxt, 0, NULL, 0);
    }
    f->now = target;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int f_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
    struct fake *f = F(u);
    pthread_mutex_lock(&f->mu);
    int64_t t = EPOCH + f->now;
    pthread_mutex_unlock(&f->mu);
    tv->tv_sec = (time_t)(t / 1000000);
    tv->tv_usec = (suseconds_t)(t % 1000000);
    return 0;
}

/* every fake ever made stays reachable: runner threads may outlive a test
 * (volatile: nothing reads the array, and link-time optimization dropped
 * the stores, leaving valgrind to call the fakes lost) */
void *volatile pd_fake_all[256];
static int nfakes;

void fake_init(struct packetdrill_interface *ifc)
{
    struct fake *f = calloc(1, sizeof *f);
    if (nfakes < 256)
        pd_fake_all[nfakes++] = f;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->next_fd = 100;
    memset(ifc, 0, sizeof *ifc);
    ifc->userdata = f;
    ifc->socket = f_socket;
    ifc->bind = f_bind;
    ifc->listen = f_listen;
    ifc->accept = f_accept;
    ifc->connect = f_connect;
    ifc->read = f_read;
    ifc->write = f_write;
    ifc->close = f_close;
    ifc->getsockopt = f_getsockopt;
    ifc->poll = f_poll;
    ifc->netdev_send = f_netdev_send;
    ifc->netdev_receive = f_netdev_receive;
    ifc->usleep = f_usleep;
    ifc->gettimeofday = f_gettimeofday;
}

void fake_shutdown(struct packetdrill_interface *ifc)
{
    struct fake *f = ifc->userdata;
    pthread_mutex_lock(&f->mu);
    f->shut = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    /* not freed: a runner thread may still be returning through it */
}
