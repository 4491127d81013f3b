/* Bulk transfer: how fast one connection moves data.
 *
 * synack: two stack instances in this process joined by the in-memory link
 * (no delay, no faults), on one core, on the real monotonic clock: the
 * client sends N bytes, the server reads them. Linux: the same N bytes
 * between two TCP sockets over loopback, a sender thread and a receiver
 * thread, in a network namespace of this process's own (unshare) so that
 * the MTU of its lo can be set without touching the host's.
 *
 * Both at MSS 1460 (MTU 1500) and at the largest segment each allows
 * (synack: MTU 65535; Linux: lo's MTU 65536). Prints Gbit/s of goodput for
 * each and synack/Linux.
 *
 * Each figure is the best of -r runs (3), as the machine may be shared.
 *
 * With -1 the whole process (synack, and Linux's two threads with the
 * kernel's work done on their behalf) is pinned to one CPU: the same core
 * budget for both.
 *
 * usage: bench-bulk [-n BYTES] [-b SOCKBUF] [-m 1460|max|both] [-r RUNS] [-1] [-s (synack only)] */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "synack.h"

#define CHUNK (256u * 1024u)
#define PORT 5201

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double gbps(uint64_t bytes, double secs) { return secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0; }

/* ---- synack ---- */

struct syn_result {
    double secs;
    uint64_t bytes;
    uint32_t mss;
    int err;
};

static struct syn_result synack_run(uint64_t total, uint32_t mtu, uint32_t sockbuf)
{
    struct syn_result res = {0};
    synack_config c = {.seed = 1, .clock = synack_monotonic_now, .sndbuf = sockbuf, .rcvbuf = sockbuf};
    synack_stack *a = synack_stack_new(&c);
    c.seed = 2;
    synack_stack *b = synack_stack_new(&c);
    synack_memlink *l = synack_memlink_new(0, synack_monotonic_now, NULL);
    if (!a || !b || !l) {
        res.err = -ENOMEM;
        return res;
    }
    synack_iface_config ic = {.ops = synack_memlink_ops(), .ctx = synack_memlink_end(l, 0),
                              .addr = synack_ipv4(0xc6120001u), .prefix_len = 24, .mtu = mtu};
    synack_memlink_attach(l, 0, a, synack_iface_add(a, &ic));
    ic.ctx = synack_memlink_end(l, 1);
    ic.addr = synack_ipv4(0xc6120002u);
    synack_memlink_attach(l, 1, b, synack_iface_add(b, &ic));

    synack_endpoint ep = {.addr = synack_ipv4(0xc6120002u), .port = PORT};
    synack_sock lsn = synack_socket(b), cli = synack_socket(a), srv = -1;
    synack_bind(b, lsn, &ep);
    synack_listen(b, lsn, 4);
    synack_connect(a, cli, &ep);

    static uint8_t txbuf[CHUNK], rxbuf[CHUNK];
    memset(txbuf, 0x5a, sizeof txbuf);
    uint64_t sent = 0, rcvd = 0;
    double t0 = 0, deadline = now_s() + 600;
    bool shut = false;
    for (;;) {
        synack_time now = synack_monotonic_now(NULL);
        synack_memlink_deliver(l, now);
        synack_poll_at(a, now);
        synack_poll_at(b, now);
        if (srv < 0) {
            srv = synack_accept(b, lsn, NULL);
            if (srv >= 0)
                t0 = now_s();
            continue;
        }
        while (sent < total) {
            uint64_t want = total - sent < CHUNK ? total - sent : CHUNK;
            long n = synack_send(a, cli, txbuf, (size_t)want);
            if (n <= 0)
                break;
            sent += (uint64_t)n;
        }
        if (sent == total && !shut) {
            synack_shutdown(a, cli, SYNACK_SHUT_WR);
            shut = true;
        }
        long n;
        while ((n = synack_recv(b, srv, rxbuf, sizeof rxbuf)) > 0)
            rcvd += (uint64_t)n;
        if (n == 0)
            break;
        if (n != -EAGAIN) {
            res.err = (int)n;
            break;
        }
        if (now_s() > deadline) {
            res.err = -ETIMEDOUT;
            break;
        }
    }
    res.secs = now_s() - t0;
    res.bytes = rcvd;
    synack_tcp_info ti;
    if (synack_tcp_info_get(a, cli, &ti) == 0)
        res.mss = ti.mss;
    synack_stack_free(a);
    synack_stack_free(b);
    synack_memlink_free(l);
    return res;
}

/* ---- Linux ---- */

static int set_lo(uint32_t mtu)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_mtu = (int)mtu;
    int r = ioctl(fd, SIOCSIFMTU, &ifr);
    if (r == 0) {
        r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        ifr.ifr_flags |= IFF_UP;
        if (r == 0)
            r = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    r = r ? -errno : 0;
    close(fd);
    return r;
}

struct lx {
    uint64_t total, rcvd;
    int lfd;
    double t_end;
    int err;
};

static void *lx_receiver(void *arg)
{
    struct lx *x = arg;
    int fd = accept(x->lfd, NULL, NULL);
    if (fd < 0) {
        x->err = -errno;
        return NULL;
    }
    static uint8_t buf[CHUNK];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        x->rcvd += (uint64_t)n;
    if (n < 0)
        x->err = -errno;
    x->t_end = now_s();
    close(fd);
    return NULL;
}

static struct syn_result linux_run(uint64_t total)
{
    struct syn_result res = {0};
    struct lx x = {.total = total};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(0x7f000001)};
    int one = 1;
    x.lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(x.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (x.lfd < 0 || bind(x.lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(x.lfd, 4) < 0) {
        res.err = -errno;
        return res;
    }
    pthread_t th;
    pthread_create(&th, NULL, lx_receiver, &x);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    double t0 = now_s();
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        res.err = -errno;
        close(fd);
        close(x.lfd);
        pthread_join(th, NULL);
        return res;
    }
    static uint8_t buf[CHUNK];
    memset(buf, 0x5a, sizeof buf);
    uint64_t sent = 0;
    while (sent < total) {
        size_t want = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        ssize_t n = write(fd, buf, want);
        if (n <= 0) {
            res.err = -errno;
            break;
        }
        sent += (uint64_t)n;
    }
    int mss = 0;
    socklen_t ml = sizeof mss;
    getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml);
    shutdown(fd, SHUT_WR);
    pthread_join(th, NULL);
    close(fd);
    close(x.lfd);
    res.secs = x.t_end - t0;
    res.bytes = x.rcvd;
    res.mss = (uint32_t)mss;
    if (x.err)
        res.err = x.err;
    return res;
}

/* ---- report ---- */

static bool complete(const struct syn_result *r, uint64_t total)
{
    return !r->err && r->bytes == total && r->secs > 0;
}

/* The faster of two runs; a failed run stays only while no run completed,
 * so a failure is never hidden behind nothing. */
static struct syn_result better(struct syn_result best, struct syn_result r, uint64_t total, bool first)
{
    if (first || (complete(&r, total) && (!complete(&best, total) || r.secs < best.secs)))
        return r;
    return best;
}

static void row(const char *label, const struct syn_result *s, const struct syn_result *k, uint64_t total)
{
    char sbuf[64], kbuf[64], rbuf[32];
    if (s->err || s->bytes != total)
        snprintf(sbuf, sizeof sbuf, "failed (%s, %llu bytes)", s->err ? synack_strerror(s->err) : "short",
                 (unsigned long long)s->bytes);
    else
        snprintf(sbuf, sizeof sbuf, "%7.2f Gbit/s (mss %u)", gbps(s->bytes, s->secs), s->mss);
    if (!k)
        snprintf(kbuf, sizeof kbuf, "skipped");
    else if (k->err || k->bytes != total)
        snprintf(kbuf, sizeof kbuf, "failed (%s)", k->err ? strerror(-k->err) : "short");
    else
        snprintf(kbuf, sizeof kbuf, "%7.2f Gbit/s (mss %u)", gbps(k->bytes, k->secs), k->mss);
    if (k && !k->err && !s->err && k->bytes == total && s->bytes == total)
        snprintf(rbuf, sizeof rbuf, "%.3fx", gbps(s->bytes, s->secs) / gbps(k->bytes, k->secs));
    else
        snprintf(rbuf, sizeof rbuf, "-");
    printf("%-9s synack %-28s linux %-28s ratio %s\n", label, sbuf, kbuf, rbuf);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    uint64_t total = 1ull << 30;
    uint32_t sockbuf = 4u << 20;
    const char *which = "both";
    bool linux_too = true;
    unsigned runs = 3;
    bool one_cpu = false;
    int o;
    while ((o = getopt(argc, argv, "n:b:m:r:1s")) != -1) {
        switch (o) {
        case 'n':
            total = strtoull(optarg, NULL, 0);
            break;
        case 'b':
            sockbuf = (uint32_t)strtoul(optarg, NULL, 0);
            break;
        case 'm':
            which = optarg;
            break;
        case 'r':
            runs = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case '1':
            one_cpu = true;
            break;
        case 's':
            linux_too = false;
            break;
        default:
            fprintf(stderr, "usage: %s [-n BYTES] [-b SOCKBUF] [-m 1460|max|both] [-r RUNS] [-1] [-s]\n", argv[0]);
            return 2;
        }
    }
    if (!total || !runs || sockbuf < 1024 || (strcmp(which, "1460") && strcmp(which, "max") && strcmp(which, "both"))) {
        fprintf(stderr, "bench-bulk: bad arguments\n");
        return 2;
    }
    if (one_cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
        if (sched_setaffinity(0, sizeof set, &set) < 0) {
            fprintf(stderr, "bench-bulk: cannot pin to one CPU: %s\n", strerror(errno));
            return 1;
        }
    }
    if (linux_too && unshare(CLONE_NEWNET) < 0) {
        fprintf(stderr, "bench-bulk: no network namespace of our own (%s): Linux's figure skipped\n",
                strerror(errno));
        linux_too = false;
    }
    printf("bulk: %llu bytes one way, one connection, socket buffers %u bytes; synack on one core over the "
           "in-memory link, linux over loopback (sender and receiver threads%s, buffers autotuned); best of "
           "%u runs\n",
           (unsigned long long)total, sockbuf, one_cpu ? ", all pinned to one CPU" : "", runs);
    static const struct {
        const char *name, *label;
        uint32_t synack_mtu, linux_mtu;
    } cases[] = {{"1460", "MSS 1460", 1500, 1500}, {"max", "largest", 65535, 65536}};
    int rc = 0;
    for (size_t i = 0; i < 2; i++) {
        if (strcmp(which, "both") && strcmp(which, cases[i].name))
            continue;
        struct syn_result s = {0}, k = {0};
        bool have_k = false;
        for (unsigned r = 0; r < runs; r++)
            s = better(s, synack_run(total, cases[i].synack_mtu, sockbuf), total, r == 0);
        if (linux_too) {
            int r = set_lo(cases[i].linux_mtu);
            if (r < 0)
                fprintf(stderr, "bench-bulk: lo mtu %u: %s\n", cases[i].linux_mtu, strerror(-r));
            else {
                for (unsigned n = 0; n < runs; n++)
                    k = better(k, linux_run(total), total, n == 0);
                have_k = true;
            }
        }
        row(cases[i].label, &s, have_k ? &k : NULL, total);
        if (s.err || s.bytes != total)
            rc = 1;
    }
    return rc;
}
