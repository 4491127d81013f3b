/* `synack connect ADDR PORT` and `synack listen PORT`: netcat over a synack
 * connection on a TUN or TAP device.
 *
 * stdin goes to the connection and the connection to stdout. At the end of
 * stdin the write side is shut (a FIN: half-close), and the command exits
 * once both directions are done and the connection has closed (TIME_WAIT on
 * the side that closed first, which the process does not wait out).
 *
 * Where the device comes from:
 *   --tun NAME / --tap NAME --addr A.B.C.D/LEN   a device of the user's (made
 *       if missing; then the user configures the kernel's side of it);
 *   --netns [NAME]   a namespace of its own (NAME, or synack-PID when NAME is
 *       not given or does not exist yet; deleted at exit when made here) with
 *       the device in it, the kernel at 198.18.0.1/24 and 2001:2::1/64, synack
 *       at 198.18.0.2/24 and 2001:2::2/64 (RFC 5180's benchmarking prefixes):
 *       `ip netns exec NAME nc 198.18.0.2 PORT` (or 2001:2::2) reaches it.
 *   --addr6 ADDR/LEN gives synack an IPv6 address beside --addr's IPv4 one
 *   (--addr may itself be IPv6); a listener then takes both families.
 *
 * For tests and clients of many connections, two modes read stdin whole
 * first: `connect --parallel N` opens N connections that each send stdin and
 * print one line per connection (bytes and SHA-256 of what came back), and
 * `listen --http [--max N]` answers each HTTP request with stdin as the body
 * and closes, serving connections concurrently until N are done. */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "synack.h"

#define NC_MAX_CONNS 1024
#define NC_BUF (256u * 1024u)
#define NC_BODY_MAX (256u * 1024u * 1024u)
#define NETNS_KERNEL "198.18.0.1"
#define NETNS_STACK "198.18.0.2/24"
#define NETNS_KERNEL6 "2001:2::1"
#define NETNS_STACK6 "2001:2::2/64"
#define NETNS_DEV "sk0"

struct conn {
    synack_sock sock;
    int id;
    bool connected, wr_done, rd_done, finished, failed;
    size_t sent, rcvd;
    crypto_hash_sha256_state sha;
    /* HTTP: the end of the request is the first empty line */
    uint32_t tail;
    bool request_done;
    size_t hdr_len;
    synack_state final;
};

struct nc {
    const char *verb;
    bool listen, http, verbose, parallel_mode;
    int parallel, max;
    synack_stack *s;
    synack_loop *loop;
    synack_sock lsn;
    synack_endpoint remote;
    /* stdin as a stream (one connection) */
    bool stdin_eof;
    uint8_t *in;
    size_t in_len, in_off;
    /* stdin whole, for --parallel and --http */
    uint8_t *body;
    size_t body_len;
    char hdr[160];
    struct conn conns[NC_MAX_CONNS];
    int n_conns, accepted;
    int rc;
    uint8_t *rbuf;
};

extern char **environ;
static volatile sig_atomic_t nc_stop;

static void on_signal(int sig)
{
    (void)sig;
    nc_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synack connect [OPTIONS] ADDR PORT\n"
            "       synack listen [OPTIONS] PORT\n"
            "  --tun NAME | --tap NAME   the device (with --addr A.B.C.D/LEN, synack's address)\n"
            "  --addr6 ADDR/LEN          an IPv6 address too (TUN; listen then takes both)\n"
            "  --netns [NAME]            a namespace of its own: kernel %s and %s, synack %s and %s\n"
            "  --mtu N                   device MTU (default: the device's, else 1500)\n"
            "  --offload                 TUN: take the kernel's 64 KiB TCP segments (virtio-net GSO)\n"
            "  --pcap FILE               write a capture of synack's IP datagrams\n"
            "  --timeout SEC             give up after SEC seconds\n"
            "  --ecn 0|1|2               RFC 3168 ECN as Linux's net.ipv4.tcp_ecn (default 2: agree when asked)\n"
            "  -v                        print synack's state changes on stderr\n"
            "  connect --parallel N      N connections, each sending stdin; one line each\n"
            "  listen --http [--max N]   answer HTTP requests with stdin as the body\n",
            NETNS_KERNEL, NETNS_KERNEL6, NETNS_STACK, NETNS_STACK6);
}

/* A whole decimal number in [lo, hi], or -1. */
static long parse_num(const char *text, long lo, long hi)
{
    char *end;
    long v = strtol(text, &end, 10);
    return *text && !*end && v >= lo && v <= hi ? v : -1;
}

/* A usage error: one line, exit status 2. */
static int bad_usage(const char *verb, const char *why)
{
    fprintf(stderr, "synack %s: %s (see synack %s --help)\n", verb, why, verb);
    return 2;
}

static void on_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                     synack_state to, const char *why, synack_time now)
{
    struct nc *nc = ctx;
    (void)now;
    if (!nc->verbose)
        return;
    char la[46], ra[46];
    fprintf(stderr, "synack: %s:%u <-> %s:%u %s -> %s (%s)\n", synack_addr_format(&l->addr, la, sizeof la),
            l->port, synack_addr_format(&r->addr, ra, sizeof ra), r->port, synack_state_name(from),
            synack_state_name(to), why);
}

static int fail_conn(struct nc *nc, struct conn *c, int err)
{
    fprintf(stderr, "synack %s: connection %d: %s\n", nc->verb, c->id, synack_strerror(err));
    c->failed = c->finished = true;
    nc->rc = 1;
    return err;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                fd_set fds;
                FD_ZERO(&fds);
                FD_SET(fd, &fds);
                select(fd + 1, NULL, &fds, NULL, NULL);
                continue;
            }
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void http_scan(struct conn *c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && !c->request_done; i++) {
        c->tail = c->tail << 8 | p[i];
        if (c->tail == 0x0d0a0d0au || (c->tail & 0xffff) == 0x0a0a)
            c->request_done = true;
    }
}

static void conn_recv(struct nc *nc, struct conn *c)
{
    for (;;) {
        long n = synack_recv(nc->s, c->sock, nc->rbuf, NC_BUF);
        if (n == -EAGAIN)
            return;
        if (n < 0) {
            fail_conn(nc, c, (int)n);
            return;
        }
        if (n == 0) {
            c->rd_done = true;
            return;
        }
        c->rcvd += (size_t)n;
        if (nc->http) {
            http_scan(c, nc->rbuf, (size_t)n);
        } else if (nc->parallel_mode) {
            crypto_hash_sha256_update(&c->sha, nc->rbuf, (unsigned long long)n);
        } else if (write_all(STDOUT_FILENO, nc->rbuf, (size_t)n) < 0) {
            fprintf(stderr, "synack %s: stdout: %s\n", nc->verb, strerror(errno));
            nc->rc = 1;
            c->failed = c->finished = true;
            return;
        }
    }
}

/* Sends from [p, p+len) starting at *off; true when all of it went. */
static bool send_from(struct nc *nc, struct conn *c, const uint8_t *p, size_t len, size_t *off)
{
    while (*off < len) {
        long w = synack_send(nc->s, c->sock, p + *off, len - *off);
        if (w == -EAGAIN)
            return false;
        if (w < 0) {
            fail_conn(nc, c, (int)w);
            return false;
        }
        *off += (size_t)w;
        c->sent += (size_t)w;
    }
    return true;
}

static void conn_send_stream(struct nc *nc, struct conn *c)
{
    for (;;) {
        if (nc->in_off == nc->in_len) {
            if (nc->stdin_eof)
                break;
            ssize_t n = read(STDIN_FILENO, nc->in, NC_BUF);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (n <= 0) {
                if (n < 0)
                    fprintf(stderr, "synack %s: stdin: %s\n", nc->verb, strerror(errno));
                nc->stdin_eof = true;
                break;
            }
            nc->in_len = (size_t)n;
            nc->in_off = 0;
        }
        if (!send_from(nc, c, nc->in, nc->in_len, &nc->in_off))
            return;
    }
    synack_shutdown(nc->s, c->sock, SYNACK_SHUT_WR);
    c->wr_done = true;
}

static void conn_send(struct nc *nc, struct conn *c)
{
    if (c->wr_done || c->finished)
        return;
    if (!nc->http && !nc->parallel_mode) {
        conn_send_stream(nc, c);
        return;
    }
    if (nc->http) {
        if (!c->request_done)
            return;
        size_t hl = strlen(nc->hdr);
        if (!send_from(nc, c, (const uint8_t *)nc->hdr, hl, &c->hdr_len))
            return;
    }
    size_t off = c->sent - (nc->http ? strlen(nc->hdr) : 0);
    if (!send_from(nc, c, nc->body, nc->body_len, &off))
        return;
    synack_shutdown(nc->s, c->sock, SYNACK_SHUT_WR);
    c->wr_done = true;
}

static void conn_step(struct nc *nc, struct conn *c)
{
    if (c->finished)
        return;
    unsigned ev = synack_events(nc->s, c->sock);
    if (!c->connected) {
        if (ev & SYNACK_EV_ERR) {
            int e = synack_sock_error(nc->s, c->sock);
            fail_conn(nc, c, e ? e : -ECONNREFUSED);
            return;
        }
        if (!(ev & (SYNACK_EV_OUT | SYNACK_EV_IN)))
            return;
        c->connected = true;
    }
    conn_recv(nc, c);
    if (c->finished)
        return;
    conn_send(nc, c);
    if (c->finished || !c->wr_done || !c->rd_done)
        return;
    synack_tcp_info ti;
    if (synack_tcp_info_get(nc->s, c->sock, &ti) == 0 && ti.state != SYNACK_TIME_WAIT && ti.state != SYNACK_CLOSED)
        return; /* our FIN is not acknowledged yet (CLOSING, LAST_ACK) */
    c->final = ti.state;
    c->finished = true;
    if (nc->parallel_mode) {
        uint8_t d[crypto_hash_sha256_BYTES];
        char hex[2 * sizeof d + 1];
        crypto_hash_sha256_final(&c->sha, d);
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
        printf("conn %d: sent %zu received %zu sha256 %s\n", c->id, c->sent, c->rcvd, hex);
    }
    if (nc->verbose)
        fprintf(stderr, "synack: connection %d done: sent %zu, received %zu, %s\n", c->id, c->sent, c->rcvd,
                synack_state_name(ti.state));
}

static struct conn *conn_add(struct nc *nc, synack_sock sock)
{
    if (nc->n_conns == NC_MAX_CONNS)
        return NULL;
    struct conn *c = &nc->conns[nc->n_conns];
    memset(c, 0, sizeof *c);
    c->sock = sock;
    c->id = nc->n_conns++;
    crypto_hash_sha256_init(&c->sha);
    return c;
}

static bool step(void *ctx)
{
    struct nc *nc = ctx;
    if (nc_stop) {
        fprintf(stderr, "synack %s: interrupted\n", nc->verb);
        nc->rc = 1;
        return true;
    }
    if (nc->listen && nc->lsn >= 0) {
        synack_sock a;
        synack_endpoint peer;
        while ((a = synack_accept(nc->s, nc->lsn, &peer)) >= 0) {
            struct conn *c = conn_add(nc, a);
            if (!c) {
                synack_close(nc->s, a);
                continue;
            }
            nc->accepted++;
            if (nc->verbose) {
                char ra[46];
                fprintf(stderr, "synack: connection %d from %s:%u\n", c->id,
                        synack_addr_format(&peer.addr, ra, sizeof ra), peer.port);
            }
            /* netcat -l takes one connection; --http takes up to --max */
            if (!nc->http || (nc->max && nc->accepted >= nc->max)) {
                synack_close(nc->s, nc->lsn);
                nc->lsn = -1;
                break;
            }
        }
    }
    bool all = nc->n_conns > 0;
    for (int i = 0; i < nc->n_conns; i++) {
        conn_step(nc, &nc->conns[i]);
        all = all && nc->conns[i].finished;
    }
    return all && nc->lsn < 0;
}

static void on_stdin(void *ctx, int fd, unsigned events)
{
    /* only a wake-up: step() reads */
    (void)ctx;
    (void)fd;
    (void)events;
}

static int read_whole(int fd, uint8_t **out, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    if (!b)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= NC_BODY_MAX) {
                free(b);
                return -EFBIG;
            }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return -ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = -errno;
            free(b);
            return e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = b;
    *len = n;
    return 0;
}

/* The device's MTU when it exists (so a device the user set up keeps its
 * MTU), else 0. */
static uint32_t device_mtu(const char *name)
{
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk < 0)
        return 0;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    int rc = ioctl(sk, SIOCGIFMTU, &ifr);
    close(sk);
    return rc < 0 ? 0 : (uint32_t)ifr.ifr_mtu;
}

static int parse_prefix(const char *text, synack_addr *a, uint8_t *len)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    long l = -1;
    if (slash) {
        *slash = 0;
        char *end;
        l = strtol(slash + 1, &end, 10);
        if (*end || slash[1] == 0)
            return -EINVAL;
    }
    if (synack_addr_parse(buf, a) < 0)
        return -EINVAL;
    long max = a->family == SYNACK_AF_INET6 ? 128 : 32;
    if (l < 0)
        l = a->family == SYNACK_AF_INET6 ? 64 : 24;
    if (l > max)
        return -EINVAL;
    *len = (uint8_t)l;
    return 0;
}

/* Runs ip(8) with these arguments (no shell: names go through untouched). */
static int run_ip(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
                  const char *a6)
{
    char *args[] = {"ip", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, (char *)a6, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "ip", NULL, NULL, args, environ) != 0)
        return -EIO;
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -EIO;
    return 0;
}

/* Enters namespace `name`, creating it when missing (*made says so). */
static int netns_enter(const char *name, bool *made)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    *made = false;
    if (access(path, F_OK) != 0) {
        if (run_ip("netns", "add", name, NULL, NULL, NULL) < 0)
            return -EIO;
        *made = true;
        run_ip("-n", name, "link", "set", "lo", "up");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int synack_cmd_nc(int argc, char **argv)
{
    struct nc *nc = calloc(1, sizeof *nc);
    if (!nc)
        return 1;
    nc->verb = argv[0];
    nc->listen = !strcmp(argv[0], "listen");
    nc->lsn = -1;
    nc->rc = 0;
    const char *tun = NULL, *tap = NULL, *addr = NULL, *addr6 = NULL, *pcap = NULL, *netns = NULL;
    bool want_netns = false;
    uint32_t mtu = 0;
    double timeout = 0;
    enum { O_TUN = 1, O_TAP, O_ADDR, O_NETNS, O_MTU, O_PCAP, O_TIMEOUT, O_PAR, O_HTTP, O_MAX, O_OFFLOAD, O_ADDR6, O_ECN };
    int ecn = SYNACK_ECN_PASSIVE;
    bool offload = false;
    static const struct option opts[] = {
        {"tun", required_argument, 0, O_TUN},         {"tap", required_argument, 0, O_TAP},
        {"addr", required_argument, 0, O_ADDR},       {"netns", optional_argument, 0, O_NETNS},
        {"mtu", required_argument, 0, O_MTU},         {"pcap", required_argument, 0, O_PCAP},
        {"timeout", required_argument, 0, O_TIMEOUT}, {"parallel", required_argument, 0, O_PAR},
        {"http", no_argument, 0, O_HTTP},             {"max", required_argument, 0, O_MAX},
        {"offload", no_argument, 0, O_OFFLOAD},       {"addr6", required_argument, 0, O_ADDR6},
        {"ecn", required_argument, 0, O_ECN},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int o;
    optind = 1;
    opterr = 0; /* one line of our own instead */
    while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (o) {
        case O_TUN: tun = optarg; break;
        case O_TAP: tap = optarg; break;
        case O_ADDR: addr = optarg; break;
        case O_ADDR6: addr6 = optarg; break;
        case O_NETNS:
            want_netns = true;
            if (!optarg && optind < argc && argv[optind][0] != '-' &&
                argc - optind > (nc->listen ? 1 : 2))
                optarg = argv[optind++];
            netns = optarg;
            break;
        case O_MTU: {
            long v = parse_num(optarg, 68, 65535);
            mtu = v < 0 ? 1 : (uint32_t)v; /* 1: reported below */
            break;
        }
        case O_PCAP: pcap = optarg; break;
        case O_TIMEOUT: {
            char *end;
            timeout = strtod(optarg, &end);
            if (*end || !(timeout > 0))
                timeout = -1;
            break;
        }
        case O_PAR: nc->parallel = (int)parse_num(optarg, 1, NC_MAX_CONNS); break;
        case O_HTTP: nc->http = true; break;
        case O_OFFLOAD: offload = true; break;
        case O_ECN: ecn = (int)parse_num(optarg, SYNACK_ECN_OFF, SYNACK_ECN_PASSIVE); break;
        case O_MAX: nc->max = (int)parse_num(optarg, 0, 1000000); break;
        case 'v': nc->verbose = true; break;
        case 'h':
            usage(stdout);
            free(nc);
            return 0;
        default: {
            char m[160];
            snprintf(m, sizeof m, "bad option '%s'", argv[optind - 1]);
            free(nc);
            return bad_usage(argv[0], m);
        }
        }
    }
    const char *why = NULL;
    if (argc - optind != (nc->listen ? 1 : 2))
        why = nc->listen ? "want one argument, PORT" : "want two arguments, ADDR PORT";
    else if (tun && tap)
        why = "--tun and --tap exclude each other";
    else if (ecn < 0)
        why = "--ecn wants 0, 1 or 2";
    else if (offload && tap)
        why = "--offload is for TUN";
    else if (!want_netns && !tun && !tap)
        why = "no device: give --tun NAME, --tap NAME or --netns";
    else if (!want_netns && !addr)
        why = "--addr A.B.C.D/LEN is needed with --tun or --tap";
    else if (nc->parallel < 0)
        why = "--parallel wants 1..1024";
    else if (nc->max < 0)
        why = "--max wants 0..1000000";
    else if (nc->http && !nc->listen)
        why = "--http is for listen";
    else if (nc->parallel && nc->listen)
        why = "--parallel is for connect";
    else if (mtu && (mtu < 68 || mtu > 65535))
        why = "--mtu wants 68..65535";
    else if (timeout < 0)
        why = "--timeout wants seconds above 0";
    if (why) {
        free(nc);
        return bad_usage(argv[0], why);
    }
    char *pend;
    long port = strtol(argv[argc - 1], &pend, 10);
    if (*pend || port <= 0 || port > 65535) {
        fprintf(stderr, "synack %s: bad port '%s'\n", argv[0], argv[argc - 1]);
        free(nc);
        return 2;
    }
    if (!nc->listen && synack_addr_parse(argv[optind], &nc->remote.addr) < 0) {
        fprintf(stderr, "synack %s: bad address '%s'\n", argv[0], argv[optind]);
        free(nc);
        return 2;
    }
    nc->remote.port = (uint16_t)port;
    nc->parallel_mode = nc->parallel > 0;
    if (!nc->parallel)
        nc->parallel = 1;
    if (nc->http && !nc->max)
        nc->max = 0; /* serve until interrupted */
    else if (!nc->http)
        nc->max = 1;

    synack_addr me, me6;
    uint8_t plen, plen6 = 0;
    memset(&me6, 0, sizeof me6);
    if (parse_prefix(addr ? addr : NETNS_STACK, &me, &plen) < 0) {
        fprintf(stderr, "synack %s: bad --addr '%s' (want A.B.C.D/LEN or an IPv6 prefix)\n", argv[0], addr);
        free(nc);
        return 2;
    }
    if (!addr6 && want_netns && !addr)
        addr6 = NETNS_STACK6;
    if (addr6 && (parse_prefix(addr6, &me6, &plen6) < 0 || me6.family != SYNACK_AF_INET6 ||
                  me.family != SYNACK_AF_INET)) {
        fprintf(stderr, "synack %s: bad --addr6 '%s' (want an IPv6 prefix, beside an IPv4 --addr)\n", argv[0],
                addr6);
        free(nc);
        return 2;
    }

    /* stdin: whole for the modes that replay it, else a stream */
    nc->rbuf = malloc(NC_BUF);
    nc->in = malloc(NC_BUF);
    if (nc->http || nc->parallel_mode) {
        int e = read_whole(STDIN_FILENO, &nc->body, &nc->body_len);
        if (e < 0) {
            fprintf(stderr, "synack %s: stdin: %s\n", argv[0], strerror(-e));
            free(nc);
            return 1;
        }
        snprintf(nc->hdr, sizeof nc->hdr,
                 "HTTP/1.0 200 OK\r\nServer: synack\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 nc->body_len);
    }

    char nsname[64] = "";
    bool ns_made = false;
    const char *dev = tun ? tun : tap;
    if (want_netns) {
        snprintf(nsname, sizeof nsname, "%s", netns ? netns : "");
        if (!nsname[0])
            snprintf(nsname, sizeof nsname, "synack-%d", (int)getpid());
        int e = netns_enter(nsname, &ns_made);
        if (e < 0) {
            fprintf(stderr, "synack %s: namespace %s: %s (root needed)\n", argv[0], nsname, strerror(-e));
            free(nc);
            return 1;
        }
        if (!dev)
            dev = NETNS_DEV;
    }
    if (!mtu)
        mtu = device_mtu(dev);
    if (!mtu)
        mtu = 1500;

    int rc = 1;
    synack_tun *tn = NULL;
    synack_tap *tp = NULL;
    synack_pcap *pc = NULL;
    synack_config cfg = {.seed = (uint64_t)getpid() ^ (uint64_t)synack_monotonic_now(NULL),
                         .clock = synack_monotonic_now,
                         .on_state = on_state,
                         .on_state_ctx = nc,
                         .sndbuf = 1u << 20,
                         .rcvbuf = 1u << 20,
                         .ecn_set = true,
                         .ecn = (uint8_t)ecn};
    nc->s = synack_stack_new(&cfg);
    int e = tap       ? synack_tap_open(dev, mtu, NULL, &tp)
            : offload ? synack_tun_open_offload(dev, mtu, &tn)
                      : synack_tun_open(dev, mtu, &tn);
    if (!nc->s || e < 0) {
        fprintf(stderr, "synack %s: cannot open %s %s: %s\n", argv[0], tap ? "TAP" : "TUN", dev, strerror(-e));
        goto out;
    }
    if (pcap && (e = synack_pcap_open(pcap, &pc)) < 0) {
        fprintf(stderr, "synack %s: %s: %s\n", argv[0], pcap, strerror(-e));
        goto out;
    }
    if (pc)
        synack_set_tap(nc->s, synack_pcap_tap, pc);
    synack_iface_config ic = {.ops = tap ? synack_eth_ops() : synack_tun_ops(),
                              .ctx = tap ? (void *)synack_tap_eth(tp) : (void *)tn,
                              .addr = me,
                              .prefix_len = plen,
                              .addr6 = me6,
                              .prefix6_len = plen6,
                              .mtu = mtu};
    int ifx = synack_iface_add(nc->s, &ic);
    if (ifx < 0) {
        fprintf(stderr, "synack %s: interface: %s\n", argv[0], synack_strerror(ifx));
        goto out;
    }
    nc->loop = synack_loop_new(nc->s);
    if (tap) {
        synack_tap_attach(tp, nc->s, ifx);
        synack_loop_add_tap(nc->loop, tp);
    } else {
        synack_tun_attach(tn, nc->s, ifx);
        synack_loop_add_tun(nc->loop, tn);
    }
    if (want_netns) {
        char a[32];
        snprintf(a, sizeof a, "%s/24", NETNS_KERNEL);
        /* nodad: the address is usable at once (no duplicate detection
         * on a link whose only other end is synack) */
        char a6[64];
        snprintf(a6, sizeof a6, "%s/%u", NETNS_KERNEL6, (unsigned)plen6);
        if (run_ip("addr", "add", a, "dev", dev, NULL) < 0 ||
            (me6.family && run_ip("addr", "add", a6, "dev", dev, "nodad") < 0) ||
            run_ip("link", "set", dev, "up", NULL, NULL) < 0) {
            fprintf(stderr, "synack %s: cannot configure %s in %s\n", argv[0], dev, nsname);
            goto out;
        }
        char ma[46];
        fprintf(stderr,
                "synack: namespace %s: the kernel is %s on %s, synack is %s (e.g. ip netns exec %s nc %s %ld)\n",
                nsname, NETNS_KERNEL, dev, synack_addr_format(&me, ma, sizeof ma), nsname,
                nc->listen ? ma : NETNS_KERNEL, port);
    }
    if (tap)
        synack_eth_announce(synack_tap_eth(tp));

    if (nc->listen) {
        nc->lsn = synack_socket(nc->s);
        /* with both families, the IPv6 wildcard takes both (dual stack) */
        synack_endpoint le = {.addr = me, .port = (uint16_t)port};
        if (me6.family) {
            memset(&le.addr, 0, sizeof le.addr);
            le.addr.family = SYNACK_AF_INET6;
        }
        if ((e = synack_bind(nc->s, nc->lsn, &le)) < 0 || (e = synack_listen(nc->s, nc->lsn, 128)) < 0) {
            fprintf(stderr, "synack listen: port %ld: %s\n", port, synack_strerror(e));
            goto out;
        }
    } else {
        for (int i = 0; i < nc->parallel; i++) {
            struct conn *c = conn_add(nc, synack_socket(nc->s));
            e = synack_connect(nc->s, c->sock, &nc->remote);
            if (e != -EINPROGRESS && e != 0) {
                fail_conn(nc, c, e);
                goto out;
            }
        }
    }
    if (!nc->http && !nc->parallel_mode) {
        int fl = fcntl(STDIN_FILENO, F_GETFL);
        if (fl >= 0)
            fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
        /* A regular file cannot be watched by epoll, and is always ready:
         * step() reads it whenever the send buffer has room. */
        synack_loop_add_fd(nc->loop, STDIN_FILENO, EPOLLIN | EPOLLET, on_stdin, nc);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    e = synack_loop_run(nc->loop, step, nc, timeout > 0 ? (synack_time)(timeout * 1e6) : SYNACK_TIME_NEVER);
    if (e == -ETIMEDOUT) {
        fprintf(stderr, "synack %s: timed out after %g s\n", argv[0], timeout);
        nc->rc = 1;
    } else if (e < 0) {
        fprintf(stderr, "synack %s: event loop: %s\n", argv[0], strerror(-e));
        nc->rc = 1;
    }
    synack_poll(nc->s); /* the last ACK leaves */
    rc = nc->rc;
    if (nc->verbose)
        synack_counters_print(nc->s, stderr, false);
out:
    if (!nc->http && !nc->parallel_mode) {
        int fl = fcntl(STDIN_FILENO, F_GETFL);
        if (fl >= 0)
            fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK);
    }
    fflush(stdout);
    synack_loop_free(nc->loop);
    synack_stack_free(nc->s);
    synack_tun_close(tn);
    synack_tap_close(tp);
    synack_pcap_close(pc);
    if (ns_made)
        run_ip("netns", "del", nsname, NULL, NULL, NULL);
    free(nc->body);
    free(nc->rbuf);
    free(nc->in);
    free(nc);
    return rc;
}
