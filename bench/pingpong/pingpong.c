/* Ping-pong: 1-byte round trips per second on one connection.
 *
 * The client writes one byte, the server reads it and writes one byte
 * back, the client reads it: one round trip; TCP_NODELAY on both ends.
 * synack: two stacks in this thread on the in-memory link. Linux: two
 * loopback sockets driven by this one thread too (the kernel answers inside
 * each write's softirq), in a network namespace of the process's own. The
 * process is pinned to one CPU: one core for both. Best of -r runs.
 *
 * usage: bench-pingpong [-t SECONDS] [-r RUNS] [-s] */
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

struct result {
    uint64_t trips;
    double secs;
    int err;
};

static double per_sec(const struct result *r) { return r->secs > 0 ? (double)r->trips / r->secs : 0; }

static struct result synack_run(double secs)
{
    struct result res = {0};
    struct bench_pair p;
    synack_sock ls, c, v;
    if (bench_pair_new(&p, NULL) < 0 || bench_listen(p.srv, &ls, 1, 4) < 0 ||
        bench_establish(&p, &ls, 1, 1, 1, &c, &v, 0) != 1) {
        res.err = -ENOMEM;
        if (p.cli)
            bench_pair_free(&p);
        return res;
    }
    synack_setopt(p.cli, c, SYNACK_OPT_NODELAY, 1);
    synack_setopt(p.srv, v, SYNACK_OPT_NODELAY, 1);
    uint8_t b = 'x';
    double t0 = bench_now(), end = t0 + secs;
    unsigned idle = 0;
    while (res.trips % 1024 || bench_now() < end) {
        if (synack_send(p.cli, c, &b, 1) != 1) {
            res.err = -EIO;
            break;
        }
        bool back = false;
        while (!back) {
            /* an event loop's turn: input, the handlers, then the poll (an
             * ACK the input owes rides on the handler's reply) */
            bench_pair_deliver(&p);
            if (synack_recv(p.srv, v, &b, 1) == 1 && synack_send(p.srv, v, &b, 1) != 1) {
                res.err = -EIO;
                break;
            }
            back = synack_recv(p.cli, c, &b, 1) == 1;
            bench_pair_poll(&p);
            if (!back && ++idle > 1000000) {
                res.err = -ETIMEDOUT;
                break;
            }
        }
        if (res.err)
            break;
        idle = 0;
        res.trips++;
    }
    res.secs = bench_now() - t0;
    bench_pair_free(&p);
    return res;
}

static struct result linux_run(double secs)
{
    struct result res = {0};
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), v = -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(BENCH_PORT0), .sin_addr.s_addr = htonl(0x7f000001)};
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 4) < 0 ||
        connect(c, (struct sockaddr *)&sa, sizeof sa) < 0 || (v = accept(l, NULL, NULL)) < 0) {
        res.err = -errno;
        goto out;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(v, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char b = 'x';
    double t0 = bench_now(), end = t0 + secs;
    while (res.trips % 1024 || bench_now() < end) {
        if (write(c, &b, 1) != 1 || read(v, &b, 1) != 1 || write(v, &b, 1) != 1 || read(c, &b, 1) != 1) {
            res.err = -errno;
            break;
        }
        res.trips++;
    }
    res.secs = bench_now() - t0;
out:
    if (v >= 0)
        close(v);
    close(c);
    close(l);
    return res;
}

static struct result best(struct result a, struct result b)
{
    return (!b.err && (a.err || per_sec(&b) > per_sec(&a))) ? b : a;
}

int main(int argc, char **argv)
{
    double secs = 1;
    int runs = 3, o;
    bool linux_too = true;
    while ((o = getopt(argc, argv, "t:r:s")) != -1) {
        switch (o) {
        case 't': secs = strtod(optarg, NULL); break;
        case 'r': runs = atoi(optarg); break;
        case 's': linux_too = false; break;
        default: fprintf(stderr, "usage: %s [-t SECONDS] [-r RUNS] [-s]\n", argv[0]); return 2;
        }
    }
    if (secs <= 0 || runs < 1) {
        fprintf(stderr, "bench-pingpong: bad arguments\n");
        return 2;
    }
    if (bench_pin_cpu() < 0)
        fprintf(stderr, "bench-pingpong: cannot pin to one CPU: %s\n", strerror(errno));
    bool netns = false;
    if (linux_too) {
        int r = bench_netns(NULL);
        if (r < 0)
            fprintf(stderr, "bench-pingpong: no network namespace of our own (%s): Linux runs on the host's "
                            "loopback\n", strerror(-r));
        netns = r == 0;
    }
    struct result s = {.err = -EIO}, k = {.err = -EIO};
    for (int i = 0; i < runs; i++) {
        s = best(s, synack_run(secs));
        if (linux_too)
            k = best(k, linux_run(secs));
    }
    char a[32], b[32], ratio[32] = "-";
    if (!s.err && linux_too && !k.err)
        snprintf(ratio, sizeof ratio, "%.2fx", per_sec(&s) / per_sec(&k));
    printf("pingpong: 1-byte round trips, TCP_NODELAY, one thread pinned to one CPU, best of %d runs of %.1f s; "
           "synack: two stacks on the in-memory link; linux: loopback%s\n",
           runs, secs, netns ? " in a namespace of its own" : " of the host");
    printf("synack %s round trips/s (%.0f ns each)%s   linux %s round trips/s%s   ratio %s\n",
           bench_si(per_sec(&s), a, sizeof a), s.trips ? s.secs * 1e9 / (double)s.trips : 0.0,
           s.err ? " FAILED" : "", linux_too ? bench_si(per_sec(&k), b, sizeof b) : "skipped",
           linux_too && k.err ? " FAILED" : "", ratio);
    return s.err || !s.trips ? 1 : 0;
}
