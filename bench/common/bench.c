/* Helpers shared by the connection benchmarks; see bench.h. */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A benchmark stack: cfg's buffers and timeouts (NULL: the defaults), this
 * seed, the monotonic clock. */
static synack_stack *bench_stack(const synack_config *cfg, uint64_t seed)
{
    synack_config c = {0};
    if (cfg)
        c = *cfg;
    c.clock = synack_monotonic_now;
    c.seed = seed;
    return synack_stack_new(&c);
}

/* An interface at addr/24, MTU 1500, on a link. Returns its index or -errno. */
static int bench_iface(synack_stack *s, synack_link_ops ops, void *ctx, uint32_t addr)
{
    synack_iface_config ic = {.ops = ops, .ctx = ctx, .addr = synack_ipv4(addr), .prefix_len = 24, .mtu = 1500};
    return synack_iface_add(s, &ic);
}

/* The two stacks of every pair, seeds 1 and 2. */
static int two_stacks(const synack_config *cfg, synack_stack **cli, synack_stack **srv)
{
    *cli = bench_stack(cfg, 1);
    *srv = bench_stack(cfg, 2);
    return *cli && *srv ? 0 : -ENOMEM;
}

/* Each stack's interface on its end of a link: the client at
 * BENCH_CLI_ADDR/24, the server at BENCH_SRV_ADDR/24. */
static void two_ifaces(synack_stack *cli, synack_stack *srv, synack_link_ops ops, void *ctx0, void *ctx1, int ifx[2])
{
    ifx[0] = bench_iface(cli, ops, ctx0, BENCH_CLI_ADDR);
    ifx[1] = bench_iface(srv, ops, ctx1, BENCH_SRV_ADDR);
}

int bench_pair_new(struct bench_pair *p, const synack_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->link = synack_memlink_new(0, synack_monotonic_now, NULL);
    if (two_stacks(cfg, &p->cli, &p->srv) < 0 || !p->link) {
        bench_pair_free(p);
        return -ENOMEM;
    }
    int ifx[2];
    two_ifaces(p->cli, p->srv, synack_memlink_ops(), synack_memlink_end(p->link, 0), synack_memlink_end(p->link, 1),
               ifx);
    synack_memlink_attach(p->link, 0, p->cli, ifx[0]);
    synack_memlink_attach(p->link, 1, p->srv, ifx[1]);
    return 0;
}

void bench_pair_free(struct bench_pair *p)
{
    synack_stack_free(p->cli);
    synack_stack_free(p->srv);
    synack_memlink_free(p->link);
    memset(p, 0, sizeof *p);
}

int bench_ring_new(struct bench_ring *p, const synack_config *cfg, size_t bytes)
{
    memset(p, 0, sizeof *p);
    p->link = synack_ringlink_new(bytes, 1500, SYNACK_RING_BATCH);
    if (two_stacks(cfg, &p->cli, &p->srv) < 0 || !p->link) {
        bench_ring_free(p);
        return -ENOMEM;
    }
    int ifx[2];
    two_ifaces(p->cli, p->srv, synack_ringlink_ops(), synack_ringlink_end(p->link, 0),
               synack_ringlink_end(p->link, 1), ifx);
    synack_ringlink_attach(p->link, 0, p->cli, ifx[0]);
    synack_ringlink_attach(p->link, 1, p->srv, ifx[1]);
    return 0;
}

void bench_ring_free(struct bench_ring *p)
{
    synack_stack_free(p->cli);
    synack_stack_free(p->srv);
    synack_ringlink_free(p->link);
    memset(p, 0, sizeof *p);
}

size_t bench_pair_deliver(struct bench_pair *p)
{
    /* one clock read per turn, as an event loop takes it */
    p->now = synack_monotonic_now(NULL);
    return synack_memlink_deliver(p->link, p->now);
}

void bench_pair_poll(struct bench_pair *p)
{
    synack_poll_at(p->cli, p->now);
    synack_poll_at(p->srv, p->now);
}

size_t bench_pair_step(struct bench_pair *p)
{
    size_t n = bench_pair_deliver(p);
    bench_pair_poll(p);
    return n;
}

int bench_seqpacket_pair(int sv[2], int bytes)
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    int got = 0;
    for (int i = 0; i < 2; i++) {
        if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
            setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
        socklen_t len = sizeof got;
        getsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &got, &len);
    }
    return got;
}

int bench_end_new(struct bench_end *e, int fd, uint32_t addr, uint64_t seed, const synack_config *cfg)
{
    memset(e, 0, sizeof *e);
    e->s = bench_stack(cfg, seed);
    if (!e->s)
        return -ENOMEM;
    int rc = synack_tun_adopt(fd, 1500, &e->t);
    if (rc < 0)
        return rc;
    int ifx = bench_iface(e->s, synack_tun_ops(), e->t, addr);
    if (ifx < 0)
        return ifx;
    synack_tun_attach(e->t, e->s, ifx);
    e->loop = synack_loop_new(e->s);
    if (!e->loop)
        return -ENOMEM;
    return synack_loop_add_tun(e->loop, e->t);
}

void bench_end_free(struct bench_end *e)
{
    synack_loop_free(e->loop);
    synack_stack_free(e->s);
    synack_tun_close(e->t);
    memset(e, 0, sizeof *e);
}

int bench_listen(synack_stack *s, synack_sock *out, int n, int backlog)
{
    for (int i = 0; i < n; i++) {
        synack_endpoint ep = {.addr = synack_ipv4(BENCH_SRV_ADDR), .port = (uint16_t)(BENCH_PORT0 + i)};
        synack_sock h = synack_socket(s);
        if (h < 0)
            return h;
        int r = synack_bind(s, h, &ep);
        if (r == 0)
            r = synack_listen(s, h, backlog);
        if (r < 0)
            return r;
        out[i] = h;
    }
    return 0;
}

size_t bench_establish(struct bench_pair *p, const synack_sock *ls, int nports, size_t k, size_t batch,
                       synack_sock *c, synack_sock *v, uint64_t rss_limit)
{
    size_t started = 0, done = 0, accepted = 0, checked = 0;
    bool stop = false;
    unsigned idle = 0;
    while (done < k && idle < 1000) {
        /* start a batch of handshakes */
        while (!stop && started < k && started - done < batch) {
            synack_sock h = synack_socket(p->cli);
            if (h < 0) {
                stop = true;
                break;
            }
            synack_endpoint ep = {.addr = synack_ipv4(BENCH_SRV_ADDR),
                                  .port = (uint16_t)(BENCH_PORT0 + started % (size_t)nports)};
            if (synack_connect(p->cli, h, &ep) != -EINPROGRESS) {
                synack_close(p->cli, h);
                stop = true;
                break;
            }
            if (c)
                c[started] = h;
            started++;
        }
        size_t moved = bench_pair_step(p);
        for (int i = 0; i < nports; i++) {
            synack_sock h;
            while ((h = synack_accept(p->srv, ls[i], NULL)) >= 0) {
                if (v && accepted < k)
                    v[accepted] = h;
                accepted++;
                done++;
            }
        }
        idle = moved ? 0 : idle + 1;
        if (stop && done == started)
            break;
        if (rss_limit && done - checked >= 4096) {
            checked = done;
            if (bench_rss() > rss_limit)
                stop = true;
        }
    }
    return done;
}

int bench_prime(struct bench_pair *p, const synack_sock *ls, int nports, size_t batch)
{
    synack_sock *c = malloc(batch * sizeof *c), *v = malloc(batch * sizeof *v);
    if (!c || !v) {
        free(c);
        free(v);
        return -ENOMEM;
    }
    size_t got = bench_establish(p, ls, nports, batch, batch, c, v, 0);
    for (size_t i = 0; i < got; i++) {
        synack_set_linger(p->cli, c[i], true, 0);
        synack_close(p->cli, c[i]);
        synack_set_linger(p->srv, v[i], true, 0);
        synack_close(p->srv, v[i]);
    }
    while (bench_pair_step(p))
        ;
    free(c);
    free(v);
    return got == batch ? 0 : -EADDRNOTAVAIL;
}

static int write_file(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, val, strlen(val));
    int r = n < 0 ? -errno : 0;
    close(fd);
    return r;
}

int bench_netns(const char *const *sysctls)
{
    if (unshare(CLONE_NEWNET) < 0)
        return -errno;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    if (r == 0)
        r = ioctl(fd, SIOCSIFFLAGS, &ifr);
    r = r ? -errno : 0;
    close(fd);
    for (size_t i = 0; r == 0 && sysctls && sysctls[i]; i++) {
        char path[256];
        const char *eq = strchr(sysctls[i], '=');
        if (!eq)
            return -EINVAL;
        snprintf(path, sizeof path, "/proc/sys/%.*s", (int)(eq - sysctls[i]), sysctls[i]);
        int w = write_file(path, eq + 1);
        if (w < 0)
            fprintf(stderr, "bench: %s: %s (left as is)\n", path, strerror(-w));
    }
    return r;
}

int bench_pin_thread(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int r = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    return -r;
}

int bench_pin_cpu(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpu = sched_getcpu();
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) < 0 ? -errno : 0;
}

uint64_t bench_raise_nofile(uint64_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur >= want)
        return rl.rlim_cur;
    struct rlimit up = {.rlim_cur = want, .rlim_max = want > rl.rlim_max ? want : rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
        return want;
    rl.rlim_cur = rl.rlim_max; /* not root: as far as the hard limit */
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

static uint64_t proc_field(const char *path, const char *field)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    size_t n = strlen(field);
    uint64_t v = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') {
            v = strtoull(line + n + 1, NULL, 10) * 1024; /* kB */
            break;
        }
    fclose(f);
    return v;
}

uint64_t bench_rss(void)
{
    return proc_field("/proc/self/status", "VmRSS");
}

uint64_t bench_meminfo(const char *field)
{
    return proc_field("/proc/meminfo", field);
}

uint64_t bench_heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

const char *bench_si(double v, char *buf, size_t len)
{
    if (v >= 1e6)
        snprintf(buf, len, "%.3f M", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1f k", v / 1e3);
    else
        snprintf(buf, len, "%.1f ", v);
    return buf;
}

/* ---- Linux idle connections held by children ---- */

#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>

#define HOLD_PORTS 64

/* In the child: n connections over HOLD_PORTS listeners from port base;
 * writes the count to fd, then waits to be killed. */
static void hold_child(size_t n, int base, int fd)
{
    int lfd[HOLD_PORTS], one = 1;
    size_t got = 0;
    for (int i = 0; i < HOLD_PORTS; i++) {
        lfd[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + i)),
                                 .sin_addr.s_addr = htonl(0x7f000001)};
        setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (lfd[i] < 0 || bind(lfd[i], (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd[i], 128) < 0)
            n = 0;
    }
    for (; got < n; got++) {
        int i = (int)(got % HOLD_PORTS);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + i)),
                                 .sin_addr.s_addr = htonl(0x7f000001)};
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0)
            break;
        if (connect(c, (struct sockaddr *)&sa, sizeof sa) < 0) {
            close(c);
            break;
        }
        if (accept(lfd[i], NULL, NULL) < 0)
            break;
    }
    uint64_t g = got;
    if (write(fd, &g, sizeof g) != (ssize_t)sizeof g)
        _exit(1);
    close(fd);
    for (;;)
        pause();
}

size_t bench_linux_hold(size_t k, int port_base, struct bench_linux_hold *h)
{
    uint64_t lim = bench_raise_nofile(1u << 20);
    size_t per = lim > 2 * HOLD_PORTS + 64 ? (size_t)(lim - HOLD_PORTS - 64) / 2 : 0;
    h->n = 0;
    h->pids = NULL;
    if (!per || !k)
        return 0;
    int children = (int)((k + per - 1) / per);
    if (port_base + (size_t)children * HOLD_PORTS > 65535)
        children = (65535 - port_base) / HOLD_PORTS;
    h->pids = calloc((size_t)children, sizeof *h->pids);
    size_t total = 0, left = k;
    for (int j = 0; j < children && left; j++) {
        size_t n = left < per ? left : per;
        int pfd[2];
        if (pipe(pfd) < 0)
            break;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            close(pfd[0]);
            close(pfd[1]);
            break;
        }
        if (pid == 0) {
            close(pfd[0]);
            hold_child(n, port_base + j * HOLD_PORTS, pfd[1]);
        }
        close(pfd[1]);
        h->pids[h->n++] = pid;
        uint64_t g = 0;
        if (read(pfd[0], &g, sizeof g) != (ssize_t)sizeof g)
            g = 0;
        close(pfd[0]);
        total += (size_t)g;
        left -= n;
        if (g < n)
            break;
    }
    return total;
}

void bench_linux_release(struct bench_linux_hold *h)
{
    for (int j = 0; j < h->n; j++)
        kill(h->pids[j], SIGKILL);
    for (int j = 0; j < h->n; j++)
        waitpid(h->pids[j], NULL, 0);
    free(h->pids);
    h->pids = NULL;
    h->n = 0;
}
