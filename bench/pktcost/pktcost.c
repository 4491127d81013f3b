/* Per-packet cost against the number of connections: does demultiplexing
 * and timer work stay O(1) per packet as connections pile up?
 *
 * With K idle established connections (both ends in this process, on the
 * in-memory link), one more connection runs 1-byte ping-pong (TCP_NODELAY)
 * for -t seconds; the figure is wall time per TCP segment sent by both
 * stacks (a round trip is two segments). K = 1,000 and K = 1,000,000 by
 * default (-k), the larger stopped early at the RSS limit (-m MiB) and
 * reported at the count reached. Linux: the same ping-pong over loopback
 * with K idle loopback connections held by child processes (in a network
 * namespace of ours), at most -l (default 100,000: a million takes some
 * 9 GiB of kernel memory and a minute to tear down), ns per segment from
 * the round-trip time.
 *
 * usage: bench-pktcost [-k K,K,...] [-t SECONDS] [-m RSS_MIB] [-l LINUX_MAX_K] [-s] */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define PORTS 64

struct result {
    size_t k;       /* idle connections actually held */
    double ns_seg;  /* per segment */
    double ns_trip; /* per round trip */
    int err;
};

static struct result synack_run(size_t k, double secs, uint64_t rss_limit)
{
    struct result res = {0};
    struct bench_pair p;
    synack_sock ls[PORTS];
    if (bench_pair_new(&p, NULL) < 0 || bench_listen(p.srv, ls, PORTS, 65535) < 0) {
        res.err = -ENOMEM;
        return res;
    }
    res.k = bench_establish(&p, ls, PORTS, k, 4096, NULL, NULL, rss_limit);
    synack_sock c, v;
    if (bench_establish(&p, ls, 1, 1, 1, &c, &v, 0) != 1) {
        res.err = -EADDRNOTAVAIL;
        bench_pair_free(&p);
        return res;
    }
    synack_setopt(p.cli, c, SYNACK_OPT_NODELAY, 1);
    synack_setopt(p.srv, v, SYNACK_OPT_NODELAY, 1);
    uint64_t seg0 = synack_counter(p.cli, "tcp_out") + synack_counter(p.srv, "tcp_out"), trips = 0;
    uint8_t b = 'x';
    double t0 = bench_now(), end = t0 + secs;
    while (trips < 4 || bench_now() < end) {
        if (synack_send(p.cli, c, &b, 1) != 1) {
            res.err = -EIO;
            break;
        }
        unsigned idle = 0;
        for (;;) {
            bench_pair_step(&p);
            if (synack_recv(p.srv, v, &b, 1) == 1)
                synack_send(p.srv, v, &b, 1);
            if (synack_recv(p.cli, c, &b, 1) == 1)
                break;
            if (++idle > 100000) {
                res.err = -ETIMEDOUT;
                break;
            }
        }
        if (res.err)
            break;
        trips++;
    }
    double t = bench_now() - t0;
    uint64_t segs = synack_counter(p.cli, "tcp_out") + synack_counter(p.srv, "tcp_out") - seg0;
    res.ns_seg = segs ? t * 1e9 / (double)segs : 0;
    res.ns_trip = trips ? t * 1e9 / (double)trips : 0;
    bench_pair_free(&p);
    return res;
}

static struct result linux_run(size_t k, double secs)
{
    struct result res = {0};
    struct bench_linux_hold h;
    res.k = bench_linux_hold(k, 10000, &h);
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), v = -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(BENCH_PORT0), .sin_addr.s_addr = htonl(0x7f000001)};
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 4) < 0 ||
        connect(c, (struct sockaddr *)&sa, sizeof sa) < 0 || (v = accept(l, NULL, NULL)) < 0) {
        res.err = -errno;
    } else {
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(v, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char b = 'x';
        uint64_t trips = 0;
        double t0 = bench_now(), end = t0 + secs;
        while (trips % 1024 || bench_now() < end) {
            if (write(c, &b, 1) != 1 || read(v, &b, 1) != 1 || write(v, &b, 1) != 1 || read(c, &b, 1) != 1) {
                res.err = -errno;
                break;
            }
            trips++;
        }
        double t = bench_now() - t0;
        res.ns_trip = trips ? t * 1e9 / (double)trips : 0;
        res.ns_seg = res.ns_trip / 2; /* data segments carry the ACKs */
    }
    if (v >= 0)
        close(v);
    close(c);
    close(l);
    bench_linux_release(&h);
    return res;
}

int main(int argc, char **argv)
{
    char klist[256] = "1000,1000000";
    double secs = 1;
    uint64_t rss_mib = 6144;
    size_t linux_max = 100000;
    bool linux_too = true;
    int o;
    while ((o = getopt(argc, argv, "k:t:m:l:s")) != -1) {
        switch (o) {
        case 'k': snprintf(klist, sizeof klist, "%s", optarg); break;
        case 't': secs = strtod(optarg, NULL); break;
        case 'm': rss_mib = strtoull(optarg, NULL, 0); break;
        case 'l': linux_max = strtoull(optarg, NULL, 0); break;
        case 's': linux_too = false; break;
        default: fprintf(stderr, "usage: %s [-k K,K,...] [-t SECONDS] [-m RSS_MIB] [-l LINUX_MAX_K] [-s]\n", argv[0]); return 2;
        }
    }
    if (secs <= 0) {
        fprintf(stderr, "bench-pktcost: bad arguments\n");
        return 2;
    }
    if (bench_pin_cpu() < 0)
        fprintf(stderr, "bench-pktcost: cannot pin to one CPU: %s\n", strerror(errno));
    if (linux_too) {
        int r = bench_netns(NULL);
        if (r < 0) {
            fprintf(stderr, "bench-pktcost: no network namespace of our own (%s): Linux's figure skipped\n",
                    strerror(-r));
            linux_too = false;
        }
    }
    printf("pktcost: 1-byte ping-pong on one connection beside K idle ones, %.1f s each, one CPU; synack: two "
           "stacks on the in-memory link (RSS limit %llu MiB); linux: loopback, idle connections held by child "
           "processes (at most %zu)\n",
           secs, (unsigned long long)rss_mib, linux_max);
    int rc = 0;
    for (char *tok = strtok(klist, ","); tok; tok = strtok(NULL, ",")) {
        size_t k = strtoull(tok, NULL, 0);
        struct result s = synack_run(k, secs, rss_mib << 20), x = {0};
        if (linux_too)
            x = linux_run(k < linux_max ? k : linux_max, secs);
        char ratio[32] = "-";
        if (linux_too && !s.err && !x.err && s.ns_seg > 0)
            snprintf(ratio, sizeof ratio, "%.2fx", x.ns_seg / s.ns_seg);
        printf("K=%-8zu synack %9.0f ns/segment (%9.0f ns/round trip, K held %zu)%s   linux %9.0f ns/segment "
               "(%9.0f ns/round trip, K held %zu)%s   ratio (speed) %s\n",
               k, s.ns_seg, s.ns_trip, s.k, s.err ? " FAILED" : "", x.ns_seg, x.ns_trip, x.k,
               linux_too ? (x.err ? " FAILED" : "") : " skipped", ratio);
        fflush(stdout);
        if (s.err)
            rc = 1;
    }
    return rc;
}
