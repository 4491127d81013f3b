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
 * server listens on -p ports (default 16) so that TIME_WAIT four-tuples do
 * not run out on either side (28232 ephemeral ports each in synack).
 *
 * usage: bench-connrate [-n N,N,...] [-t SECONDS] [-p PORTS] [-w TIME_WAIT_MS] [-s] [-v] */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_PORTS 64
#define REQ "hello"
#define RSP "world"
#define MSG_LEN 5

struct result {
    uint64_t done, errors;
    double secs;
    uint64_t segments; /* synack: TCP segments both stacks sent */
    uint64_t time_wait; /* synack with -v: client connections that reached TIME_WAIT */
};

static double rate(const struct result *r) { return r->secs > 0 ? (double)r->done / r->secs : 0; }

/* ---- synack ---- */

enum { C_CONNECTING = 1, C_WAITING };
enum { S_REQUEST = 1, S_EOF };

struct table { /* per-handle state, handles being small integers */
    uint8_t *st;
    size_t cap;
};

static int table_set(struct table *t, synack_sock h, uint8_t v)
{
    if ((size_t)h >= t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap <= (size_t)h)
            cap *= 2;
        uint8_t *n = realloc(t->st, cap);
        if (!n)
            return -ENOMEM;
        memset(n + t->cap, 0, cap - t->cap);
        t->st = n;
        t->cap = cap;
    }
    t->st[h] = v;
    return 0;
}

static void count_tw(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                     synack_state to, const char *why, synack_time now)
{
    if (to == SYNACK_TIME_WAIT)
        ++*(uint64_t *)ctx;
}

static synack_sock open_one(synack_stack *s, uint64_t i, int ports)
{
    synack_sock h = synack_socket(s);
    if (h < 0)
        return h;
    synack_endpoint ep = {.addr = synack_ipv4(BENCH_SRV_ADDR), .port = (uint16_t)(BENCH_PORT0 + i % (unsigned)ports)};
    int r = synack_connect(s, h, &ep);
    if (r != -EINPROGRESS) {
        synack_close(s, h);
        return r < 0 ? r : -EIO;
    }
    return h;
}

static struct result synack_run(int n, double secs, int ports, synack_time tw, bool verify)
{
    struct result res = {0};
    struct bench_pair p;
    synack_config cfg = {.time_wait = tw};
    uint64_t tw_seen = 0;
    if (verify) {
        cfg.on_state = count_tw;
        cfg.on_state_ctx = &tw_seen;
    }
    if (bench_pair_new(&p, &cfg) < 0) {
        res.errors = 1;
        return res;
    }
    synack_sock ls[MAX_PORTS];
    if (bench_listen(p.srv, ls, ports, n + 64) < 0) {
        res.errors = 1;
        bench_pair_free(&p);
        return res;
    }
    synack_sock *slot = malloc((size_t)n * sizeof *slot), *srv = malloc((size_t)n * 2 * sizeof *srv);
    struct table ct = {0}, stt = {0};
    size_t nsrv = 0;
    uint64_t started = 0;
    double t0 = bench_now(), end = t0 + secs;
    bool opening = true;
    for (int i = 0; i < n; i++) {
        slot[i] = open_one(p.cli, started++, ports);
        if (slot[i] < 0 || table_set(&ct, slot[i], C_CONNECTING) < 0) {
            res.errors++;
            slot[i] = -1;
        }
    }
    uint8_t buf[64];
    size_t live = (size_t)n;
    for (unsigned iter = 0;; iter++) {
        bench_pair_step(&p);
        if (opening && (iter & 63) == 0 && bench_now() >= end)
            opening = false;
        /* server: accept, answer, close at end of stream */
        for (int i = 0; i < ports; i++) {
            synack_sock h;
            while ((h = synack_accept(p.srv, ls[i], NULL)) >= 0) {
                if (nsrv == (size_t)n * 2 || table_set(&stt, h, S_REQUEST) < 0) {
                    synack_close(p.srv, h);
                    res.errors++;
                    continue;
                }
                srv[nsrv++] = h;
            }
        }
        for (size_t i = 0; i < nsrv;) {
            synack_sock h = srv[i];
            long r = synack_recv(p.srv, h, buf, sizeof buf);
            if (r == -EAGAIN) {
                i++;
                continue;
            }
            if (stt.st[h] == S_REQUEST && r == MSG_LEN) {
                if (synack_send(p.srv, h, RSP, MSG_LEN) != MSG_LEN)
                    res.errors++;
                stt.st[h] = S_EOF;
                i++;
                continue;
            }
            if (stt.st[h] == S_EOF && r == 0)
                res.done++;
            else
                res.errors++;
            synack_close(p.srv, h);
            srv[i] = srv[--nsrv];
        }
        /* clients: request once connected, close on the response, reopen */
        for (int i = 0; i < n; i++) {
            synack_sock h = slot[i];
            if (h < 0)
                continue;
            bool finished = false;
            if (ct.st[h] == C_CONNECTING) {
                unsigned ev = synack_events(p.cli, h);
                if (ev & SYNACK_EV_ERR) {
                    res.errors++;
                    finished = true;
                } else if (ev & SYNACK_EV_OUT) {
                    if (synack_send(p.cli, h, REQ, MSG_LEN) != MSG_LEN)
                        res.errors++;
                    ct.st[h] = C_WAITING;
                }
            } else {
                long r = synack_recv(p.cli, h, buf, sizeof buf);
                if (r == -EAGAIN)
                    continue;
                if (r != MSG_LEN)
                    res.errors++;
                finished = true;
            }
            if (!finished)
                continue;
            synack_close(p.cli, h);
            slot[i] = -1;
            if (opening) {
                slot[i] = open_one(p.cli, started++, ports);
                if (slot[i] < 0 || table_set(&ct, slot[i], C_CONNECTING) < 0) {
                    res.errors++;
                    slot[i] = -1;
                    live--;
                }
            } else {
                live--;
            }
        }
        if (!live && !nsrv && synack_memlink_next(p.link) == SYNACK_TIME_NEVER)
            break;
        if (res.errors > 1000)
            break;
    }
    res.secs = bench_now() - t0;
    res.segments = synack_counter(p.cli, "tcp_out") + synack_counter(p.srv, "tcp_out");
    res.time_wait = tw_seen;
    free(slot);
    free(srv);
    free(ct.st);
    free(stt.st);
    bench_pair_free(&p);
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

static struct result linux_run(int n, double secs, int ports)
{
    struct result res = {0};
    int ep = epoll_create1(0), one = 1;
    int lfd[MAX_PORTS];
    for (int i = 0; i < ports; i++) {
        lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(BENCH_PORT0 + i)),
                                 .sin_addr.s_addr = htonl(0x7f000001)};
        setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (lfd[i] < 0 || bind(lfd[i], (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd[i], n + 64) < 0) {
            perror("bench-connrate: linux listen");
            res.errors = 1;
            return res;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(lfd[i], L_LISTEN)};
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &ev);
    }
    uint64_t started = 0;
    size_t live = 0, nsrv = 0;
    double t0 = bench_now(), end = t0 + secs;
    bool opening = true;
    for (int i = 0; i < n; i++) {
        if (lx_open(ep, started++, ports) >= 0)
            live++;
        else
            res.errors++;
    }
    struct epoll_event evs[256];
    char buf[64];
    for (unsigned iter = 0; live || nsrv; iter++) {
        if (opening && (iter & 63) == 0 && bench_now() >= end)
            opening = false;
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k <= 0) {
            res.errors++;
            break;
        }
        for (int j = 0; j < k; j++) {
            int fd = (int)(uint32_t)evs[j].data.u64, kind = (int)(evs[j].data.u64 >> 32);
            struct epoll_event ev;
            ssize_t r;
            switch (kind) {
            case L_LISTEN: {
                int c;
                while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = TAG(c, L_REQUEST)};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                    nsrv++;
                }
                break;
            }
            case L_CONNECTING:
                if (evs[j].events & (EPOLLERR | EPOLLHUP) || write(fd, REQ, MSG_LEN) != MSG_LEN) {
                    res.errors++;
                    close(fd);
                    live--;
                    break;
                }
                ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = TAG(fd, L_WAITING)};
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                break;
            case L_WAITING:
                r = read(fd, buf, sizeof buf);
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r != MSG_LEN)
                    res.errors++;
                close(fd); /* the client closes first: TIME_WAIT here */
                live--;
                if (opening) {
                    if (lx_open(ep, started++, ports) >= 0)
                        live++;
                    else
                        res.errors++;
                }
                break;
            case L_REQUEST:
                r = read(fd, buf, sizeof buf);
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r != MSG_LEN || write(fd, RSP, MSG_LEN) != MSG_LEN) {
                    res.errors++;
                    close(fd);
                    nsrv--;
                    break;
                }
                ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = TAG(fd, L_EOF)};
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                break;
            case L_EOF:
                r = read(fd, buf, sizeof buf);
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r == 0)
                    res.done++;
                else
                    res.errors++;
                close(fd);
                nsrv--;
                break;
            }
        }
        if (res.errors > 1000)
            break;
    }
    /* the server's close is answered within the loopback softirq that ran
     * during close(): nothing is left in flight once both sides closed */
    res.secs = bench_now() - t0;
    for (int i = 0; i < ports; i++)
        close(lfd[i]);
    close(ep);
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
    if (s->errors || (k && k->errors))
        printf("        errors: synack %llu, linux %llu\n", (unsigned long long)s->errors,
               k ? (unsigned long long)k->errors : 0ull);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char nlist[256] = "1,64,1024";
    double secs = 2;
    int ports = 16;
    long tw_ms = 0;
    bool linux_too = true, verify = false;
    int o;
    while ((o = getopt(argc, argv, "n:t:p:w:sv")) != -1) {
        switch (o) {
        case 'n': snprintf(nlist, sizeof nlist, "%s", optarg); break;
        case 't': secs = strtod(optarg, NULL); break;
        case 'p': ports = atoi(optarg); break;
        case 'w': tw_ms = atol(optarg); break;
        case 's': linux_too = false; break;
        case 'v': verify = true; break;
        default:
            fprintf(stderr, "usage: %s [-n N,N,...] [-t SECONDS] [-p PORTS] [-w TIME_WAIT_MS] [-s] [-v]\n", argv[0]);
            return 2;
        }
    }
    if (secs <= 0 || ports < 1 || ports > MAX_PORTS || tw_ms < 0) {
        fprintf(stderr, "bench-connrate: bad arguments\n");
        return 2;
    }
    if (bench_pin_cpu() < 0)
        fprintf(stderr, "bench-connrate: cannot pin to one CPU: %s\n", strerror(errno));
    bool netns = false;
    if (linux_too) {
        static const char *const sysctls[] = {"net/ipv4/tcp_tw_reuse=1", "net/ipv4/ip_local_port_range=1024 65535",
                                              NULL};
        int r = bench_netns(sysctls);
        if (r < 0)
            fprintf(stderr, "bench-connrate: no network namespace of our own (%s): Linux runs on the host's "
                            "loopback, its TIME_WAIT and port range as the host has them\n", strerror(-r));
        netns = r == 0;
    }
    bench_raise_nofile(65536);
    printf("connrate: connect, 5-byte request, 5-byte response, client closes first (TIME_WAIT %s), N in "
           "parallel, %.1f s each, %d server ports, one thread pinned to one CPU; synack: two stacks on the "
           "in-memory link; linux: loopback%s\n",
           tw_ms ? "shortened by -w" : "60 s", secs, ports, !linux_too ? " (skipped)" : netns ? " in a namespace of its own" : " of the host");
    int rc = 0;
    for (char *tok = strtok(nlist, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok);
        if (n < 1 || n > 60000) {
            fprintf(stderr, "bench-connrate: bad N %s\n", tok);
            return 2;
        }
        struct result s = synack_run(n, secs, ports, (synack_time)tw_ms * 1000, verify), k = {0};
        if (linux_too)
            k = linux_run(n, secs, ports);
        row(n, &s, linux_too ? &k : NULL);
        if (verify)
            printf("        synack: %llu client connections reached TIME_WAIT of %llu complete\n",
                   (unsigned long long)s.time_wait, (unsigned long long)s.done);
        if (s.errors || !s.done || (verify && s.time_wait < s.done))
            rc = 1;
    }
    return rc;
}
