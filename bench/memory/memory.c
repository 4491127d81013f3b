/* Memory: bytes per connection and per listener.
 *
 * synack (two stacks in this process on the in-memory link), measured as
 * bytes the allocator handed out (mallinfo2: in use plus mmapped) and as
 * the process's resident set (VmRSS), each a delta over the objects made:
 *   - a listening socket (L listeners);
 *   - an ESTABLISHED connection with empty buffers (C connections, both ends
 *     counted: client and server stacks), with and without the socket buffers
 *     the stack allocates (capacity sndbuf + rcvbuf per end);
 *   - a TIME_WAIT connection (the client closes first; what remains once the
 *     server end is freed, per connection);
 *   - K idle established connections (default 1,000,000) held at once, both
 *     ends in this process, stopping early when the RSS passes -m MiB: the
 *     count reached, RSS and bytes per connection;
 *   - the same K held by a server stack alone, as a server holds them: the
 *     client stack runs in a child process, joined by an AF_UNIX
 *     SOCK_SEQPACKET socketpair (synack_tun_adopt on each end); this
 *     process's RSS and allocator deltas over the connections, per
 *     connection, and the time from fork to the last accept.
 * Linux: K' idle established loopback connections (both ends) in a network
 * namespace of this process's own (-l, default 100,000; held by child
 * processes, each within RLIMIT_NOFILE), as the kernel's slab memory delta (/proc/meminfo
 * Slab, machine-wide) per connection, and the size of its tcp_sock object
 * from /proc/slabinfo when readable. Compared: both ends with Linux's figure,
 * and the server ends with half of it (per end).
 *
 * -s: no Linux figure; -e: only the server ends measurement (and Linux's).
 *
 * usage: bench-memory [-k K] [-c C] [-L L] [-l LINUX_K] [-m RSS_MIB] [-b BUFSIZE] [-s] [-e] */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define PORTS 64 /* 64 * 28232 four-tuples: room for 1.8 M connections */

struct probe {
    uint64_t heap, rss;
};

static struct probe probe(void) { return (struct probe){bench_heap(), bench_rss()}; }

static double per(uint64_t after, uint64_t before, size_t n)
{
    return n ? ((double)after - (double)before) / (double)n : 0;
}

static void mib(uint64_t b, char *buf, size_t len) { snprintf(buf, len, "%.1f MiB", (double)b / 1048576.0); }

static int listeners(size_t n, const synack_config *cfg)
{
    struct bench_pair p;
    if (bench_pair_new(&p, cfg) < 0)
        return -ENOMEM;
    synack_sock *ls = malloc(n * sizeof *ls);
    struct probe a = probe();
    size_t made = 0;
    for (; made < n; made++) {
        synack_sock h = synack_socket(p.srv);
        synack_endpoint ep = {.addr = synack_ipv4(BENCH_SRV_ADDR), .port = (uint16_t)(1024 + made)};
        if (h < 0 || synack_bind(p.srv, h, &ep) < 0 || synack_listen(p.srv, h, 128) < 0)
            break;
        ls[made] = h;
    }
    struct probe b = probe();
    printf("listening socket      synack %8.0f B allocated, %8.0f B RSS (%zu listeners)\n", per(b.heap, a.heap, made),
           per(b.rss, a.rss, made), made);
    free(ls);
    bench_pair_free(&p);
    return made == n ? 0 : -ENOMEM;
}

#define BATCH 256 /* handshakes or closes in flight at once */

/* C connections established, then every one closed into TIME_WAIT, BATCH
 * at a time, after priming the link with a batch (bench_prime). */
static int established_and_time_wait(size_t n, const synack_config *cfg, uint32_t bufs)
{
    struct bench_pair p;
    synack_sock ls[PORTS];
    if (bench_pair_new(&p, cfg) < 0 || bench_listen(p.srv, ls, PORTS, 4096) < 0 ||
        bench_prime(&p, ls, PORTS, BATCH) < 0)
        return -ENOMEM;
    synack_sock *c = malloc(n * sizeof *c), *v = malloc(n * sizeof *v);
    struct probe a = probe();
    size_t got = bench_establish(&p, ls, PORTS, n, BATCH, c, v, 0);
    struct probe b = probe();
    double both = per(b.heap, a.heap, got);
    char without[96] = "";
    if (both / 2 > bufs)
        snprintf(without, sizeof without, "; %.0f per end without the %u B of socket buffers it was given",
                 both / 2 - bufs, bufs);
    else
        snprintf(without, sizeof without, "; less than the %u B of socket buffers: none allocated while idle",
                 bufs);
    printf("ESTABLISHED, idle     synack %8.0f B allocated (%.0f per end%s), %8.0f B RSS, both ends (%zu "
           "connections)\n",
           both, both / 2, without, per(b.rss, a.rss, got), got);
    /* the client closes first; the server reads the end of stream and
     * closes; a batch at a time */
    size_t closed = 0;
    uint8_t buf[16];
    for (size_t at = 0; at < got; at += BATCH) {
        size_t end = at + BATCH < got ? at + BATCH : got;
        for (size_t i = at; i < end; i++)
            synack_close(p.cli, c[i]);
        size_t left = end - at;
        for (unsigned idle = 0; left && idle < 1000;) {
            idle = bench_pair_step(&p) ? 0 : idle + 1;
            for (size_t i = at; i < end; i++)
                if (v[i] >= 0 && synack_recv(p.srv, v[i], buf, sizeof buf) == 0) {
                    synack_close(p.srv, v[i]);
                    v[i] = -1;
                    left--;
                }
        }
        while (bench_pair_step(&p))
            ;
        closed += end - at - left;
    }
    struct probe t = probe();
    printf("TIME_WAIT             synack %8.0f B allocated, %8.0f B RSS per connection (%zu closed; the server "
           "ends freed)\n",
           per(t.heap, a.heap, closed), per(t.rss, a.rss, closed), closed);
    free(c);
    free(v);
    bench_pair_free(&p);
    return closed == n ? 0 : -EIO;
}

static size_t many(size_t k, const synack_config *cfg, uint64_t rss_limit, double *rss_per)
{
    struct bench_pair p;
    synack_sock ls[PORTS];
    if (bench_pair_new(&p, cfg) < 0 || bench_listen(p.srv, ls, PORTS, 65535) < 0 ||
        bench_prime(&p, ls, PORTS, 4096) < 0)
        return 0;
    struct probe a = probe();
    double t0 = bench_now();
    size_t got = bench_establish(&p, ls, PORTS, k, 4096, NULL, NULL, rss_limit);
    double secs = bench_now() - t0;
    struct probe b = probe();
    char r[32], h[32];
    mib(b.rss, r, sizeof r);
    mib(b.heap - a.heap, h, sizeof h);
    printf("%zu idle connections%s: synack RSS %s (process), %s allocated; %.0f B RSS and %.0f B allocated per "
           "connection, both ends in this process (%.0f B RSS per end); established in %.1f s\n",
           got, got < k ? " (stopped at the RSS limit or out of ports/memory)" : "", r, h, per(b.rss, a.rss, got),
           per(b.heap, a.heap, got), per(b.rss, a.rss, got) / 2, secs);
    *rss_per = per(b.rss, a.rss, got);
    if (got < k && got)
        printf("  at that rate %zu connections would take %.0f MiB of RSS (target: 1,000,000 in 512 MiB)\n", k,
               per(b.rss, a.rss, got) * (double)k / 1048576.0 + (double)a.rss / 1048576.0);
    bench_pair_free(&p);
    return got;
}

/* ---- server ends alone: the clients in a child process ---- */

/* The child: the client stack on its end of the socketpair opens k
 * connections, `batch` handshakes in flight, then reports how many were
 * established (a uint64_t on the pipe) and holds them until the parent's end
 * hangs up. */
struct cli {
    synack_stack *s;
    size_t k, batch, started, established, failed;
    bool stop, reported;
    int report;
};

static void cli_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now)
{
    struct cli *c = ctx;
    (void)l, (void)r, (void)why, (void)now;
    if (from == SYNACK_SYN_SENT)
        *(to == SYNACK_ESTABLISHED ? &c->established : &c->failed) += 1;
}

static bool cli_step(void *ctx)
{
    struct cli *c = ctx;
    while (!c->stop && c->started < c->k && c->started - c->established - c->failed < c->batch) {
        synack_sock h = synack_socket(c->s);
        synack_endpoint ep = {.addr = synack_ipv4(BENCH_SRV_ADDR),
                              .port = (uint16_t)(BENCH_PORT0 + c->started % PORTS)};
        if (h < 0 || synack_connect(c->s, h, &ep) != -EINPROGRESS) {
            if (h >= 0)
                synack_close(c->s, h);
            c->stop = true;
            break;
        }
        c->started++;
    }
    if (!c->reported && c->established + c->failed == c->started && (c->stop || c->started == c->k)) {
        uint64_t n = c->established;
        c->reported = write(c->report, &n, sizeof n) == sizeof n;
    }
    return false;
}

static int client_child(int fd, int report, size_t k, size_t batch, const synack_config *cfg)
{
    struct cli c = {.k = k, .batch = batch, .report = report};
    synack_config cc = *cfg;
    cc.on_state = cli_state;
    cc.on_state_ctx = &c;
    struct bench_end e;
    if (bench_end_new(&e, fd, BENCH_CLI_ADDR, 1, &cc) < 0)
        return 1;
    c.s = e.s;
    /* the parent hanging up its end is the end (-EPIPE); the process exits
     * without freeing a million connections one by one */
    int rc = synack_loop_run(e.loop, cli_step, &c, SYNACK_TIME_NEVER);
    return rc == -EPIPE && c.reported ? 0 : 2;
}

struct srv {
    synack_stack *s;
    const synack_sock *ls;
    size_t accepted, checked;
    uint64_t reported;
    bool have_report, over;
    uint64_t rss_limit;
    double t_last;
};

static void srv_report(void *ctx, int fd, unsigned events)
{
    struct srv *v = ctx;
    (void)events;
    if (read(fd, &v->reported, sizeof v->reported) == sizeof v->reported)
        v->have_report = true;
}

static bool srv_step(void *ctx)
{
    struct srv *v = ctx;
    size_t before = v->accepted;
    for (int i = 0; i < PORTS; i++)
        while (synack_accept(v->s, v->ls[i], NULL) >= 0)
            v->accepted++;
    if (v->accepted != before)
        v->t_last = bench_now();
    if (v->rss_limit && v->accepted - v->checked >= 4096) {
        v->checked = v->accepted;
        v->over = bench_rss() > v->rss_limit;
    }
    return v->over || (v->have_report && v->accepted >= v->reported);
}

struct split_result {
    size_t got;
    double rss_per, heap_per; /* bytes per connection in the server process */
};

/* k idle established connections: the server stack (this process) holds one
 * end of each; the clients run in a child process, over an AF_UNIX
 * SOCK_SEQPACKET socketpair (synack_tun_adopt). The figures are this
 * process's own. */
static int server_ends(size_t k, const synack_config *cfg, uint64_t rss_limit, struct split_result *res)
{
    memset(res, 0, sizeof *res);
    int sv[2], rp[2];
    /* a datagram is charged to its sender's buffer until it is read: room
     * for a batch of handshakes each way (a small datagram costs about
     * 1 KiB of it); without root the buffer stays at wmem_max and the
     * batch shrinks to fit */
    int buf = bench_seqpacket_pair(sv, 64 << 20);
    if (buf < 0 || pipe(rp) < 0) {
        printf("server ends: skipped: socketpair: %s\n", strerror(buf < 0 ? -buf : errno));
        return -1;
    }
    size_t batch = (size_t)buf / 2048;
    batch = batch > 4096 ? 4096 : batch < 16 ? 16 : batch;
    struct bench_end e;
    synack_sock ls[PORTS];
    if (bench_end_new(&e, sv[0], BENCH_SRV_ADDR, 2, cfg) < 0 || bench_listen(e.s, ls, PORTS, 65535) < 0) {
        printf("server ends: skipped: no stack\n");
        return -1;
    }
    struct srv v = {.s = e.s, .ls = ls, .rss_limit = rss_limit};
    if (synack_loop_add_fd(e.loop, rp[0], EPOLLIN, srv_report, &v) < 0)
        return -1;
    fflush(stdout);
    /* pages the earlier measurements freed go back to the system, so the
     * connections' RSS is theirs, not reused pages */
    malloc_trim(0);
    struct probe a = probe();
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(sv[0]);
        close(rp[0]);
        _exit(client_child(sv[1], rp[1], k, batch, cfg));
    }
    close(sv[1]);
    close(rp[1]);
    int rc = synack_loop_run(e.loop, srv_step, &v, SYNACK_SEC(3600));
    double secs = v.t_last - t0;
    struct probe b = probe();
    /* hanging up our end ends the child */
    shutdown(sv[0], SHUT_RDWR);
    int status = 0;
    waitpid(pid, &status, 0);
    res->got = v.accepted;
    res->rss_per = per(b.rss, a.rss, v.accepted);
    res->heap_per = per(b.heap, a.heap, v.accepted);
    char r[32], d[32], h[32];
    mib(b.rss, r, sizeof r);
    mib(b.rss - a.rss, d, sizeof d);
    mib(b.heap - a.heap, h, sizeof h);
    printf("%zu idle connections, server ends alone (the clients in a child process, socketpair link): synack RSS "
           "%s (server process), +%s for the connections, %s allocated; %.0f B RSS and %.0f B allocated per "
           "connection; established in %.1f s (%zu handshakes in flight)%s\n",
           v.accepted, r, d, h, res->rss_per, res->heap_per, secs, batch,
           v.over ? " (stopped at the RSS limit)"
           : rc < 0 ? " (the loop failed)"
           : v.reported < k ? " (the client ran out of ports or memory)"
                            : "");
    uint64_t refused = synack_counter(e.s, "tcp_out_refused"), resent = synack_counter(e.s, "tcp_retrans");
    if (refused || resent)
        printf("  server: %llu segments refused by a full socket buffer (retried), %llu retransmitted\n",
               (unsigned long long)refused, (unsigned long long)resent);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("  the client process failed (status %#x)\n", (unsigned)status);
    close(rp[0]);
    bench_end_free(&e);
    return rc == 0 && v.accepted == k && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* ---- Linux ---- */

static uint64_t slab_objsize(const char *cache)
{
    FILE *f = fopen("/proc/slabinfo", "r");
    if (!f)
        return 0;
    char line[512], name[64];
    unsigned long active, num, objsize = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %lu %lu %lu", name, &active, &num, &objsize) == 4 && !strcmp(name, cache))
            break;
        else
            objsize = 0;
    fclose(f);
    return objsize;
}

/* Returns the slab bytes per connection (both ends). */
static double linux_idle(size_t k)
{
    uint64_t slab0 = bench_meminfo("Slab");
    struct bench_linux_hold h;
    size_t got = bench_linux_hold(k, 10000, &h);
    uint64_t slab1 = bench_meminfo("Slab");
    uint64_t tcp = slab_objsize("TCP");
    printf("%zu idle connections: linux slab %+.1f MiB (machine-wide), %.0f B per connection, both ends "
           "(%.0f B per end; held by %d processes, their descriptor tables included)\n",
           got, ((double)slab1 - (double)slab0) / 1048576.0, per(slab1, slab0, got), per(slab1, slab0, got) / 2,
           h.n);
    if (tcp)
        printf("  linux tcp_sock (slab cache TCP): %llu B per end\n", (unsigned long long)tcp);
    bench_linux_release(&h);
    return per(slab1, slab0, got);
}

int main(int argc, char **argv)
{
    size_t k = 1000000, c = 10000, nl = 1000, lk = 100000;
    uint64_t rss_mib = 6144;
    uint32_t bufsize = 0;
    bool linux_too = true, ends_only = false;
    int o;
    while ((o = getopt(argc, argv, "k:c:L:l:m:b:se")) != -1) {
        switch (o) {
        case 'k': k = strtoull(optarg, NULL, 0); break;
        case 'c': c = strtoull(optarg, NULL, 0); break;
        case 'L': nl = strtoull(optarg, NULL, 0); break;
        case 'l': lk = strtoull(optarg, NULL, 0); break;
        case 'm': rss_mib = strtoull(optarg, NULL, 0); break;
        case 'b': bufsize = (uint32_t)strtoul(optarg, NULL, 0); break;
        case 's': linux_too = false; break;
        case 'e': ends_only = true; break;
        default:
            fprintf(stderr, "usage: %s [-k K] [-c C] [-L L] [-l LINUX_K] [-m RSS_MIB] [-b BUFSIZE] [-s] [-e]\n", argv[0]);
            return 2;
        }
    }
    if (!k || !c || !nl || nl > 60000 || c > 1000000) {
        fprintf(stderr, "bench-memory: bad arguments\n");
        return 2;
    }
    synack_config cfg = {.sndbuf = bufsize, .rcvbuf = bufsize};
    /* the stack's defaults, to subtract the buffers it allocates */
    uint32_t bufs = bufsize ? 2 * bufsize : 16 * 1024 + 128 * 1024;
    printf("memory: synack on the in-memory link (two stacks, this process; the server ends alone: a socketpair "
           "link to a child process holding the clients), socket buffers %s; linux loopback sockets\n",
           bufsize ? "set by -b" : "the defaults (16 KiB send, 128 KiB receive)");
    if (!bench_heap())
        printf("allocator bytes unavailable: mallinfo2() reports nothing (not glibc's malloc, e.g. under a "
               "sanitizer); the RSS figures stand\n");
    int rc = 0;
    double both_per = 0;
    if (!ends_only && listeners(nl, &cfg) < 0)
        rc = 1;
    if (!ends_only && established_and_time_wait(c, &cfg, bufs) < 0)
        rc = 1;
    if (!ends_only && !many(k, &cfg, rss_mib << 20, &both_per))
        rc = 1;
    struct split_result split;
    if (server_ends(k, &cfg, rss_mib << 20, &split) < 0)
        rc = 1;
    if (linux_too) {
        int r = bench_netns(NULL);
        if (r < 0) {
            printf("linux: skipped: no network namespace of our own (%s)\n", strerror(-r));
        } else {
            double lin = linux_idle(lk);
            /* RSS against slab: what each side's memory for an idle
             * connection costs (synack's process pages, Linux's kernel
             * objects: tcp_sock, socket, file, dentry, ... per end) */
            if (both_per > 0 && lin > 0)
                printf("compare, both ends: synack %.0f B RSS per connection, linux %.0f B slab per connection: "
                       "linux / synack %.1fx\n",
                       both_per, lin, lin / both_per);
            if (split.rss_per > 0 && lin > 0)
                printf("compare, one end (a server's): synack %.0f B RSS per connection in the server process, "
                       "linux %.0f B slab per end (half its per-connection figure): linux / synack %.1fx\n",
                       split.rss_per, lin / 2, lin / 2 / split.rss_per);
        }
    }
    return rc;
}
