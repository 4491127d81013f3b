/* Connection rate: complete short connections per second on one core.
 *
 * Each connection: the client connects, sends a 5-byte request, reads a
 * 5-byte response and closes first; the server reads the request, answers,
 * reads the end of stream and closes. Four-way close, the client ends in
 * TIME_WAIT (kept its full 2*MSL, 60 s, unless -w). N connections run in
 * parallel: a slot whose connection is done opens the next one at once. A
 * connection counts as complete when the server has closed it; the clock
 * stops when every connection started has finished its close (the server's
 * last ACK received) after the run's duration.
 *
 * synack: the client stack and the server stack in this one thread joined
 * by the in-memory link. Linux: the same through loopback sockets in a
 * network namespace of this process's own (non-blocking sockets and epoll,
 * one thread, client and server), tcp_tw_reuse=1 and the whole port range
 * so its TIME_WAIT does not run out of ports. Both pinned to one CPU. The
 * server listens on -p ports (default 32) so that TIME_WAIT four-tuples do
 * not run out on either side, both clients take ephemeral ports from the
 * same range (ip_local_port_range 1024-65535; synack_config.port_lo/hi),
 * and synack's client reuses TIME_WAIT four-tuples as Linux's does
 * (synack_config.tw_reuse, tcp_tw_reuse=1: a tuple whose last timestamp is
 * a second old). That second bounds any client's rate by its tuples: P
 * server ports times 64,512 ephemeral ports a second, 1.03 M/s for P = 16,
 * and less in practice, as the walk's random skips leave ports unused for
 * a lap (RFC 6056 Algorithm 4, socket.c). At 16 ports synack's client
 * looked at 1.3-2.3 ports a connect at 650-840 k/s and 3.4 at 975 k/s, and
 * runs near 950 k/s counted failed connects; hence 32 (2.06 M tuples: 1.3
 * ports a connect at 1.1 M/s). With Linux's default
 * range (28,232 ports) a synack client at 300 k/s found two thirds of its
 * 451,712 tuples under a second old and probed 1.9 ports per connect.
 *
 * -2: the client side on CPU 0 and the server side on CPU 1, each in a
 * thread of its own (synack: the two stacks on the ring link; Linux: a
 * client epoll loop and a server epoll loop), so the server's core does only
 * the server's work; the rate is still complete connections a second.
 *
 * usage: bench-connrate [-n N,N,...] [-t SECONDS] [-p PORTS] [-w TIME_WAIT_MS] [-s] [-v] [-2] */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_PORTS 64
#define PORT_LO 1024 /* both clients' ephemeral ports: PORT_LO-65535 */
#define REQ "hello"
#define RSP "world"
#define MSG_LEN 5

struct result {
    uint64_t done, errors;
    double secs;
    uint64_t segments; /* synack: TCP segments both stacks sent */
    uint64_t time_wait; /* synack with -v: client connections that reached TIME_WAIT */
    double busy[2];     /* synack with -2: the client's and the server's thread, the share of turns with work */
};

static double rate(const struct result *r) { return r->secs > 0 ? (double)r->done / r->secs : 0; }

/* ---- synack ---- */

enum { C_CONNECTING = 1, C_WAITING, S_REQUEST, S_EOF, LISTENER };

/* Per-handle state (handles are small integers) and the handles the stack
 * said may be ready: the loop visits only those, as epoll does for Linux. */
struct side {
    synack_stack *s;
    uint8_t *st;
    bool *queued;
    size_t cap;
    synack_sock *ready, *work;
    size_t n_ready;
};

static int side_grow(struct side *d, synack_sock h)
{
    if ((size_t)h < d->cap)
        return 0;
    size_t cap = d->cap ? d->cap : 1024;
    while (cap <= (size_t)h)
        cap *= 2;
    uint8_t *st = realloc(d->st, cap);
    bool *q = st ? realloc(d->queued, cap * sizeof *q) : NULL;
    synack_sock *r = q ? realloc(d->ready, cap * sizeof *r) : NULL;
    synack_sock *w = r ? realloc(d->work, cap * sizeof *w) : NULL;
    if (st)
        d->st = st;
    if (q)
        d->queued = q;
    if (r)
        d->ready = r;
    if (w)
        d->work = w;
    if (!w)
        return -ENOMEM;
    memset(d->st + d->cap, 0, cap - d->cap);
    memset(d->queued + d->cap, 0, (cap - d->cap) * sizeof *q);
    d->cap = cap;
    return 0;
}

static void side_push(struct side *d, synack_sock h)
{
    if ((size_t)h >= d->cap || d->queued[h] || !d->st[h])
        return;
    d->queued[h] = true;
    d->ready[d->n_ready++] = h;
}

static void on_event(void *ctx, synack_sock h, unsigned events) { side_push(ctx, h); }

static int side_set(struct side *d, synack_sock h, uint8_t st)
{
    if (h < 0 || side_grow(d, h) < 0)
        return -ENOMEM;
    d->st[h] = st;
    return 0;
}

static void side_free(struct side *d)
{
    free(d->st);
    free(d->queued);
    free(d->ready);
    free(d->work);
}

static void count_tw(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                     synack_state to, const char *why, synack_time now)
{
    if (to == SYNACK_TIME_WAIT)
        ++*(uint64_t *)ctx;
}

static synack_sock open_one(struct side *d, uint64_t i, int ports)
{
    synack_sock h = synack_socket(d->s);
    if (h < 0)
        return h;
    /* a constant, as a client keeps its server's address: built by
     * synack_ipv4's byte stores on every connect, the address was read back
     * by connect() before those stores could forward (6 % of the client) */
    static const synack_addr srv = {.family = SYNACK_AF_INET,
                                    .bytes = {BENCH_SRV_ADDR >> 24, BENCH_SRV_ADDR >> 16 & 0xff,
                                              BENCH_SRV_ADDR >> 8 & 0xff, BENCH_SRV_ADDR & 0xff}};
    synack_endpoint ep = {.addr = srv, .port = (uint16_t)(BENCH_PORT0 + i % (unsigned)ports)};
    int r = synack_connect(d->s, h, &ep);
    if (r != -EINPROGRESS || side_set(d, h, C_CONNECTING) < 0) {
        synack_close(d->s, h);
        return r < 0 && r != -EINPROGRESS ? r : -EIO;
    }
    return h;
}

/* With -2 the client's fields and the server's are written by two threads:
 * each group on cache lines of its own, or every event would move a line
 * between the cores (false sharing). */
struct run {
    _Alignas(64) struct side cli;
    int ports;
    uint64_t started;
    size_t live;
    bool opening;
    struct result res; /* errors: the client side's */
    _Alignas(64) struct side srv;
    size_t nsrv;
    uint64_t srv_done, srv_errors; /* the server side's */
};

/* A client connection is done (response read, or failed): close it first,
 * and open the next in its place while the run lasts. */
static void client_done(struct run *r, synack_sock h)
{
    synack_close(r->cli.s, h);
    r->cli.st[h] = 0;
    r->live--;
    if (r->opening) {
        if (open_one(&r->cli, r->started++, r->ports) >= 0)
            r->live++;
        else
            r->res.errors++;
    }
}

static void client_ready(struct run *r, synack_sock h)
{
    uint8_t buf[64];
    if (r->cli.st[h] == C_CONNECTING) {
        unsigned ev = synack_events(r->cli.s, h);
        if (ev & SYNACK_EV_ERR) {
            r->res.errors++;
            client_done(r, h);
        } else if (ev & SYNACK_EV_OUT) {
            if (synack_send(r->cli.s, h, REQ, MSG_LEN) != MSG_LEN)
                r->res.errors++;
            r->cli.st[h] = C_WAITING;
        }
        return;
    }
    long n = synack_recv(r->cli.s, h, buf, sizeof buf);
    if (n == -EAGAIN)
        return;
    if (n != MSG_LEN)
        r->res.errors++;
    client_done(r, h);
}

static void server_ready(struct run *r, synack_sock h)
{
    struct side *d = &r->srv;
    uint8_t buf[64];
    if (d->st[h] == LISTENER) {
        synack_sock c;
        while ((c = synack_accept(d->s, h, NULL)) >= 0) {
            if (side_set(d, c, S_REQUEST) < 0) {
                synack_close(d->s, c);
                r->srv_errors++;
                continue;
            }
            r->nsrv++;
            side_push(d, c); /* the request may be in already */
        }
        return;
    }
    long n = synack_recv(d->s, h, buf, sizeof buf);
    if (n == -EAGAIN)
        return;
    if (d->st[h] == S_REQUEST && n == MSG_LEN) {
        if (synack_send(d->s, h, RSP, MSG_LEN) != MSG_LEN)
            r->srv_errors++;
        d->st[h] = S_EOF;
        side_push(d, h); /* the end of stream may follow at once */
        return;
    }
    if (d->st[h] == S_EOF && n == 0)
        r->srv_done++;
    else
        r->srv_errors++;
    synack_close(d->s, h);
    d->st[h] = 0;
    r->nsrv--;
}

/* Visits the handles made ready since the last visit. */
static size_t drain(struct run *r, struct side *d, void (*ready)(struct run *, synack_sock))
{
    size_t visits = 0;
    while (d->n_ready) {
        size_t n = d->n_ready;
        synack_sock *w = d->ready;
        d->ready = d->work;
        d->work = w;
        d->n_ready = 0;
        visits += n;
        for (size_t i = 0; i < n; i++) {
            /* through d->work, not w: a handler that accepts or opens a
             * handle past the arrays' size grows them, and realloc may move
             * the one being visited */
            synack_sock h = d->work[i];
            d->queued[h] = false;
            if (d->st[h])
                ready(r, h);
        }
    }
    return visits;
}

static struct result synack_run(int n, double secs, int ports, synack_time tw, bool verify)
{
    struct run r = {.ports = ports, .opening = true};
    struct bench_pair p;
    /* as Linux here: tcp_tw_reuse=1, ip_local_port_range 1024-65535 */
    synack_config cfg = {.time_wait = tw, .tw_reuse = true, .port_lo = PORT_LO, .port_hi = 65535};
    uint64_t tw_seen = 0;
    if (verify) {
        cfg.on_state = count_tw;
        cfg.on_state_ctx = &tw_seen;
    }
    synack_sock ls[MAX_PORTS];
    if (bench_pair_new(&p, &cfg) < 0 || bench_listen(p.srv, ls, ports, n + 64) < 0) {
        r.res.errors = 1;
        if (p.cli)
            bench_pair_free(&p);
        return r.res;
    }
    r.cli.s = p.cli;
    r.srv.s = p.srv;
    synack_set_event_handler(p.cli, on_event, &r.cli);
    synack_set_event_handler(p.srv, on_event, &r.srv);
    for (int i = 0; i < ports; i++)
        if (side_set(&r.srv, ls[i], LISTENER) < 0)
            r.res.errors++;
    double t0 = bench_now(), end = t0 + secs;
    for (int i = 0; i < n; i++) {
        if (open_one(&r.cli, r.started++, ports) >= 0)
            r.live++;
        else
            r.res.errors++;
    }
    for (unsigned iter = 0;; iter++) {
        bench_pair_deliver(&p);
        if (r.opening && (iter & 63) == 0 && bench_now() >= end)
            r.opening = false;
        drain(&r, &r.srv, server_ready);
        drain(&r, &r.cli, client_ready);
        bench_pair_poll(&p);
        if (!r.live && !r.nsrv && synack_memlink_next(p.link) == SYNACK_TIME_NEVER)
            break;
        if (r.res.errors + r.srv_errors > 1000)
            break;
    }
    r.res.secs = bench_now() - t0;
    r.res.errors += r.srv_errors;
    r.res.done = r.srv_done;
    r.res.segments = synack_counter(p.cli, "tcp_out") + synack_counter(p.srv, "tcp_out");
    r.res.time_wait = tw_seen;
    side_free(&r.cli);
    side_free(&r.srv);
    bench_pair_free(&p);
    return r.res;
}

/* ---- synack on two CPUs (-2): the server stack alone on one ---- */

/* The client stack runs in one thread on one CPU, the server stack in
 * another on the other CPU, joined by the ring link: the server's core does
 * only the server's work, as a server's does when its clients are
 * elsewhere. Each thread runs the same event loop as above on its own
 * stack: the ring's frames in, its ready sockets' handlers, its poll. */
#define RING_BYTES (1u << 20) /* a direction: about 14,000 short segments */

struct run2 {
    struct run r;
    struct bench_ring p;
    double end;
    int n;
    _Alignas(64) _Atomic bool cli_idle; /* the client has stopped opening and has nothing open */
    _Atomic bool srv_done; /* ... and every server connection is closed */
    _Atomic bool abort;    /* over 1000 errors on either side */
    _Atomic int pinned;    /* threads that could not be pinned */
    synack_time idle[2];   /* each thread's turns that found nothing to do, written as it ends */
};

#define CLI_CPU 0
#define SRV_CPU 1

/* Idle time: from the start of a turn that found no frame and no ready
 * socket to the start of the next. Kept on the thread's own stack: a shared
 * line written on every idle turn would move between the cores. */
struct idle_clock {
    synack_time prev, idle;
    bool was_idle;
};

static synack_time idle_tick(struct idle_clock *c, synack_time now)
{
    if (c->was_idle)
        c->idle += now - c->prev;
    c->prev = now;
    return now;
}

static void *client_thread(void *arg)
{
    struct run2 *x = arg;
    struct run *r = &x->r;
    if (bench_pin_thread(CLI_CPU) < 0)
        x->pinned++;
    for (int i = 0; i < x->n; i++) /* the first N, opened here, on this thread's stack */
        if (open_one(&r->cli, r->started++, r->ports) >= 0)
            r->live++;
        else
            r->res.errors++;
    struct idle_clock ic = {0};
    for (unsigned iter = 0; !x->srv_done; iter++) {
        synack_time now = idle_tick(&ic, synack_monotonic_now(NULL));
        size_t got = synack_ringlink_pump(x->p.link, 0, now, 256);
        if (r->opening && (iter & 63) == 0 && bench_now() >= x->end)
            r->opening = false;
        got += drain(r, &r->cli, client_ready);
        synack_poll_at(x->p.cli, now);
        synack_ringlink_flush(x->p.link, 0);
        ic.was_idle = !got;
        if (!r->opening && !r->live)
            x->cli_idle = true;
        if (r->res.errors > 1000)
            x->abort = true;
        if (x->abort)
            break;
    }
    x->idle[0] = ic.idle;
    return NULL;
}

static void *server_thread(void *arg)
{
    struct run2 *x = arg;
    struct run *r = &x->r;
    if (bench_pin_thread(SRV_CPU) < 0)
        x->pinned++;
    synack_stack_usage u;
    struct idle_clock ic = {0};
    for (;;) {
        synack_time now = idle_tick(&ic, synack_monotonic_now(NULL));
        size_t got = synack_ringlink_pump(x->p.link, 1, now, 256);
        got += drain(r, &r->srv, server_ready);
        synack_poll_at(x->p.srv, now);
        synack_ringlink_flush(x->p.link, 1);
        ic.was_idle = !got;
        /* done when the client is, and the last ACK of every close is in */
        if (!got && x->cli_idle && !r->nsrv) {
            synack_stack_usage_get(x->p.srv, &u);
            if (!u.conns)
                break;
        }
        if (r->srv_errors > 1000)
            x->abort = true;
        if (x->abort)
            break;
    }
    x->idle[1] = ic.idle;
    x->srv_done = true;
    return NULL;
}

static struct result synack_run2(int n, double secs, int ports, synack_time tw, bool verify)
{
    struct run2 *x = aligned_alloc(64, (sizeof *x + 63) / 64 * 64);
    struct result res = {.errors = 1};
    if (!x)
        return res;
    memset(x, 0, sizeof *x);
    struct run *r = &x->r;
    r->ports = ports;
    r->opening = true;
    synack_config cfg = {.time_wait = tw, .tw_reuse = true, .port_lo = PORT_LO, .port_hi = 65535};
    uint64_t tw_seen = 0;
    if (verify) {
        cfg.on_state = count_tw;
        cfg.on_state_ctx = &tw_seen; /* only the client reaches TIME_WAIT: one thread writes it */
    }
    synack_sock ls[MAX_PORTS];
    if (bench_ring_new(&x->p, &cfg, RING_BYTES) < 0 || bench_listen(x->p.srv, ls, ports, n + 64) < 0) {
        bench_ring_free(&x->p);
        free(x);
        return res;
    }
    r->cli.s = x->p.cli;
    r->srv.s = x->p.srv;
    synack_set_event_handler(x->p.cli, on_event, &r->cli);
    synack_set_event_handler(x->p.srv, on_event, &r->srv);
    for (int i = 0; i < ports; i++)
        if (side_set(&r->srv, ls[i], LISTENER) < 0)
            r->srv_errors++;
    x->n = n;
    double t0 = bench_now();
    x->end = t0 + secs;
    pthread_t tc, ts;
    bool ok = pthread_create(&ts, NULL, server_thread, x) == 0;
    if (ok && pthread_create(&tc, NULL, client_thread, x) != 0) {
        x->abort = true; /* the server thread ends at once */
        r->res.errors++;
        pthread_join(ts, NULL);
        ok = false;
    } else if (ok) {
        pthread_join(tc, NULL);
        pthread_join(ts, NULL);
    }
    r->res.secs = bench_now() - t0;
    r->res.errors += r->srv_errors + (ok ? 0 : 1);
    r->res.done = r->srv_done;
    if (x->pinned)
        fprintf(stderr, "bench-connrate: %d thread(s) could not be pinned to their CPU\n", (int)x->pinned);
    synack_ring_stats st[2];
    synack_ringlink_stats(x->p.link, 0, &st[0]);
    synack_ringlink_stats(x->p.link, 1, &st[1]);
    if (st[0].refused || st[1].refused)
        fprintf(stderr, "bench-connrate: the ring refused %llu + %llu frames (full): TCP retried them\n",
                (unsigned long long)st[0].refused, (unsigned long long)st[1].refused);
    r->res.segments = synack_counter(x->p.cli, "tcp_out") + synack_counter(x->p.srv, "tcp_out");
    r->res.time_wait = tw_seen;
    for (int i = 0; i < 2; i++)
        r->res.busy[i] = r->res.secs > 0 ? 1 - (double)x->idle[i] / 1e6 / r->res.secs : 0;
    res = r->res;
    side_free(&r->cli);
    side_free(&r->srv);
    bench_ring_free(&x->p);
    free(x);
    return res;
}

/* ---- Linux ---- */

/* epoll data: the fd, and which side and step in the high bits */
enum { L_LISTEN = 1, L_CONNECTING, L_WAITING, L_REQUEST, L_EOF };
#define TAG(fd, kind) (((uint64_t)(kind) << 32) | (uint32_t)(fd))

static int lx_open(int ep, uint64_t i, int ports)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(BENCH_PORT0 + i % (unsigned)ports)),
                             .sin_addr.s_addr = htonl(0x7f000001)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        int e = -errno;
        close(fd);
        return e;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = TAG(fd, L_CONNECTING)};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* One event loop over epoll: the client's sockets, the server's, or both
 * (one thread). */
struct lx {
    int ep, n, ports;
    bool client, server; /* which sockets this loop serves */
    uint64_t started;
    size_t live, nsrv;
    bool opening;
    double end;
    struct result res;
    _Atomic bool *cli_idle; /* two threads: the client loop has finished */
    _Atomic bool *abort;
};

static int lx_listen(struct lx *L, int *lfd)
{
    int one = 1;
    for (int i = 0; i < L->ports; i++) {
        lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(BENCH_PORT0 + i)),
                                 .sin_addr.s_addr = htonl(0x7f000001)};
        setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (lfd[i] < 0 || bind(lfd[i], (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd[i], L->n + 64) < 0) {
            perror("bench-connrate: linux listen");
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(lfd[i], L_LISTEN)};
        epoll_ctl(L->ep, EPOLL_CTL_ADD, lfd[i], &ev);
    }
    return 0;
}

static void lx_event(struct lx *L, const struct epoll_event *e)
{
    int fd = (int)(uint32_t)e->data.u64, kind = (int)(e->data.u64 >> 32);
    struct epoll_event ev;
    char buf[64];
    ssize_t r;
    switch (kind) {
    case L_LISTEN: {
        int c;
        while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
            ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = TAG(c, L_REQUEST)};
            epoll_ctl(L->ep, EPOLL_CTL_ADD, c, &ev);
            L->nsrv++;
        }
        break;
    }
    case L_CONNECTING:
        if (e->events & (EPOLLERR | EPOLLHUP) || write(fd, REQ, MSG_LEN) != MSG_LEN) {
            L->res.errors++;
            close(fd);
            L->live--;
            break;
        }
        ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = TAG(fd, L_WAITING)};
        epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &ev);
        break;
    case L_WAITING:
        r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r != MSG_LEN)
            L->res.errors++;
        close(fd); /* the client closes first: TIME_WAIT here */
        L->live--;
        if (L->opening) {
            if (lx_open(L->ep, L->started++, L->ports) >= 0)
                L->live++;
            else
                L->res.errors++;
        }
        break;
    case L_REQUEST:
        r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r != MSG_LEN || write(fd, RSP, MSG_LEN) != MSG_LEN) {
            L->res.errors++;
            close(fd);
            L->nsrv--;
            break;
        }
        ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = TAG(fd, L_EOF)};
        epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &ev);
        break;
    case L_EOF:
        r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r == 0)
            L->res.done++;
        else
            L->res.errors++;
        close(fd);
        L->nsrv--;
        break;
    }
}

/* Runs until this loop's part is over: the client's, when it has stopped
 * opening and nothing is open; the server's, when nothing is open and the
 * client's part is over (itself, or the other thread's). */
static void lx_loop(struct lx *L)
{
    if (L->client)
        for (int i = 0; i < L->n; i++) {
            if (lx_open(L->ep, L->started++, L->ports) >= 0)
                L->live++;
            else
                L->res.errors++;
        }
    struct epoll_event evs[256];
    for (unsigned iter = 0;; iter++) {
        if (L->opening && (iter & 63) == 0 && bench_now() >= L->end)
            L->opening = false;
        bool cli_over = L->client ? !L->opening && !L->live : *L->cli_idle;
        if (L->client && L->cli_idle && cli_over)
            *L->cli_idle = true;
        if (cli_over && (!L->server || !L->nsrv))
            break;
        if (L->res.errors > 1000 || (L->abort && *L->abort)) {
            if (L->abort)
                *L->abort = true;
            break;
        }
        /* a server thread waiting for the client's end looks again soon */
        int k = epoll_wait(L->ep, evs, 256, L->client ? 1000 : 10);
        if (k < 0 || (k == 0 && L->client)) {
            L->res.errors++;
            break;
        }
        for (int j = 0; j < k; j++)
            lx_event(L, &evs[j]);
    }
}

static struct result linux_run(int n, double secs, int ports)
{
    struct lx L = {.ep = epoll_create1(0), .n = n, .ports = ports, .client = true, .server = true, .opening = true};
    int lfd[MAX_PORTS];
    if (lx_listen(&L, lfd) < 0) {
        L.res.errors = 1;
        return L.res;
    }
    double t0 = bench_now();
    L.end = t0 + secs;
    lx_loop(&L);
    /* the server's close is answered within the loopback softirq that ran
     * during close(): nothing is left in flight once both sides closed */
    L.res.secs = bench_now() - t0;
    for (int i = 0; i < ports; i++)
        close(lfd[i]);
    close(L.ep);
    return L.res;
}

/* -2: the client's loop on one CPU, the server's on the other. */
struct lx2 {
    struct lx L;
    int cpu;
    int pin_err;
};

static void *lx_thread(void *arg)
{
    struct lx2 *t = arg;
    t->pin_err = bench_pin_thread(t->cpu);
    lx_loop(&t->L);
    return NULL;
}

static struct result linux_run2(int n, double secs, int ports)
{
    _Atomic bool cli_idle = false, abort = false;
    struct lx2 c = {.L = {.ep = epoll_create1(0), .n = n, .ports = ports, .client = true, .opening = true,
                          .cli_idle = &cli_idle, .abort = &abort},
                    .cpu = 0},
               v = {.L = {.ep = epoll_create1(0), .n = n, .ports = ports, .server = true, .cli_idle = &cli_idle,
                          .abort = &abort},
                    .cpu = 1};
    struct result res = {.errors = 1};
    int lfd[MAX_PORTS];
    if (lx_listen(&v.L, lfd) < 0)
        return res;
    double t0 = bench_now();
    c.L.end = t0 + secs;
    pthread_t tc, tv;
    if (pthread_create(&tv, NULL, lx_thread, &v) != 0)
        return res;
    if (pthread_create(&tc, NULL, lx_thread, &c) != 0) {
        abort = true;
        pthread_join(tv, NULL);
        return res;
    }
    pthread_join(tc, NULL);
    pthread_join(tv, NULL);
    res.secs = bench_now() - t0;
    res.done = v.L.res.done;
    res.errors = c.L.res.errors + v.L.res.errors;
    if (c.pin_err || v.pin_err)
        fprintf(stderr, "bench-connrate: a Linux thread could not be pinned to its CPU\n");
    for (int i = 0; i < ports; i++)
        close(lfd[i]);
    close(c.L.ep);
    close(v.L.ep);
    return res;
}

/* ---- report ---- */

static void row(int n, const struct result *s, const struct result *k)
{
    char a[32], b[32], ratio[32] = "-";
    if (k && k->done && s->done)
        snprintf(ratio, sizeof ratio, "%.2fx", rate(s) / rate(k));
    printf("N=%-5d synack %10s conn/s (%7llu in %.2f s, %.1f segments/conn%s)   linux %10s conn/s (%llu in %.2f s)"
           "   ratio %s\n",
           n, bench_si(rate(s), a, sizeof a), (unsigned long long)s->done, s->secs,
           s->done ? (double)s->segments / (double)s->done : 0.0, s->errors ? ", ERRORS" : "",
           k ? bench_si(rate(k), b, sizeof b) : "skipped", k ? (unsigned long long)k->done : 0ull,
           k ? k->secs : 0.0, ratio);
    if (s->busy[1] > 0)
        printf("        synack -2: busy %.0f %% of the time on the client's CPU, %.0f %% on the server's: the server's "
               "core does %s conn per busy second\n",
               100 * s->busy[0], 100 * s->busy[1], bench_si(rate(s) / s->busy[1], a, sizeof a));
    if (s->errors || (k && k->errors))
        printf("        errors: synack %llu, linux %llu\n", (unsigned long long)s->errors,
               k ? (unsigned long long)k->errors : 0ull);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char nlist[256] = "1,64,1024";
    double secs = 2;
    int ports = 32;
    long tw_ms = 0;
    bool linux_too = true, verify = false, two = false;
    int o;
    while ((o = getopt(argc, argv, "n:t:p:w:sv2")) != -1) {
        switch (o) {
        case 'n': snprintf(nlist, sizeof nlist, "%s", optarg); break;
        case 't': secs = strtod(optarg, NULL); break;
        case 'p': ports = atoi(optarg); break;
        case 'w': tw_ms = atol(optarg); break;
        case 's': linux_too = false; break;
        case 'v': verify = true; break;
        case '2': two = true; break;
        default:
            fprintf(stderr, "usage: %s [-n N,N,...] [-t SECONDS] [-p PORTS] [-w TIME_WAIT_MS] [-s] [-v] [-2]\n",
                    argv[0]);
            return 2;
        }
    }
    if (secs <= 0 || ports < 1 || ports > MAX_PORTS || tw_ms < 0) {
        fprintf(stderr, "bench-connrate: bad arguments\n");
        return 2;
    }
    if (two && sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        fprintf(stderr, "bench-connrate: -2 needs two CPUs\n");
        return 2;
    }
    if (!two && bench_pin_cpu() < 0)
        fprintf(stderr, "bench-connrate: cannot pin to one CPU: %s\n", strerror(errno));
    bool netns = false;
    if (linux_too) {
        static const char *const sysctls[] = {"net/ipv4/tcp_tw_reuse=1", "net/ipv4/ip_local_port_range=1024 65535",
                                              NULL}; /* PORT_LO */
        int r = bench_netns(sysctls);
        if (r < 0)
            fprintf(stderr, "bench-connrate: no network namespace of our own (%s): Linux runs on the host's "
                            "loopback, its TIME_WAIT and port range as the host has them\n", strerror(-r));
        netns = r == 0;
    }
    bench_raise_nofile(65536);
    char twtext[128] = "60 s, as Linux's";
    if (tw_ms)
        snprintf(twtext, sizeof twtext, "%ld ms in synack by -w, a diagnostic; 60 s in Linux", tw_ms);
    printf("connrate: connect, 5-byte request, 5-byte response, client closes first (TIME_WAIT %s), N in "
           "parallel, %.1f s each, %d server ports, %s; linux: loopback%s\n",
           twtext, secs, ports,
           two ? "two threads, the client's on CPU 0 and the server's on CPU 1; synack: two stacks on the ring link"
               : "one thread pinned to one CPU; synack: two stacks on the in-memory link",
           !linux_too ? " (skipped)" : netns ? " in a namespace of its own" : " of the host");
    int rc = 0;
    for (char *tok = strtok(nlist, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok);
        if (n < 1 || n > 60000) {
            fprintf(stderr, "bench-connrate: bad N %s\n", tok);
            return 2;
        }
        struct result s = two ? synack_run2(n, secs, ports, (synack_time)tw_ms * 1000, verify)
                              : synack_run(n, secs, ports, (synack_time)tw_ms * 1000, verify),
                      k = {0};
        if (linux_too)
            k = two ? linux_run2(n, secs, ports) : linux_run(n, secs, ports);
        row(n, &s, linux_too ? &k : NULL);
        if (verify)
            printf("        synack: %llu client connections reached TIME_WAIT of %llu complete\n",
                   (unsigned long long)s.time_wait, (unsigned long long)s.done);
        if (s.errors || !s.done || (verify && s.time_wait < s.done))
            rc = 1;
    }
    return rc;
}
