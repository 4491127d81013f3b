/* The TUN link on an adopted descriptor (synack_tun_adopt): two stacks
 * joined by an AF_UNIX SOCK_SEQPACKET socketpair, in one process on a
 * virtual clock, and in two processes (fork) on the event loop; what the
 * adoption refuses; bad datagrams; a peer that is gone; and a transmit the
 * socket refuses (local congestion), which TCP must retry, not lose. A TUN
 * fd itself is adopted when we are root (in a network namespace of its own). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"

#define CLI_ADDR 0xc6120001u /* 198.18.0.1 */
#define SRV_ADDR 0xc6120002u /* 198.18.0.2 */
#define PORT 7

static synack_endpoint srv_ep(void) { return (synack_endpoint){.addr = synack_ipv4(SRV_ADDR), .port = PORT}; }

/* A stack on an adopted descriptor, addressed addr. */
struct end {
    synack_stack *s;
    synack_tun *t;
    int ifx;
};

static int end_new(struct end *e, int fd, uint32_t addr, const synack_config *cfg)
{
    e->s = synack_stack_new(cfg);
    if (!e->s)
        return -ENOMEM;
    int rc = synack_tun_adopt(fd, 1500, &e->t);
    if (rc < 0)
        return rc;
    synack_iface_config ic = {.ops = synack_tun_ops(), .ctx = e->t, .addr = synack_ipv4(addr), .prefix_len = 24,
                              .mtu = 1500};
    e->ifx = synack_iface_add(e->s, &ic);
    if (e->ifx < 0)
        return e->ifx;
    synack_tun_attach(e->t, e->s, e->ifx);
    return 0;
}

static void end_free(struct end *e)
{
    synack_tun_close(e->t);
    synack_stack_free(e->s);
}

/* ---- two stacks in this process, on a virtual clock ---- */

struct two {
    synack_vclock clock;
    struct end e[2]; /* 0 the client, 1 the server */
    int fds[2];
};

static void two_new(struct two *p, int sndbuf0)
{
    memset(p, 0, sizeof *p);
    p->clock.now = SYNACK_SEC(1000);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p->fds), 0);
    if (sndbuf0)
        assert_int_equal(setsockopt(p->fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf0, sizeof sndbuf0), 0);
    synack_config c = {.seed = 1, .clock = synack_vclock_read, .clock_ctx = &p->clock};
    assert_int_equal(end_new(&p->e[0], p->fds[0], CLI_ADDR, &c), 0);
    c.seed = 2;
    assert_int_equal(end_new(&p->e[1], p->fds[1], SRV_ADDR, &c), 0);
}

static void two_free(struct two *p)
{
    end_free(&p->e[0]);
    end_free(&p->e[1]);
}

/* One turn: every datagram waiting goes into its stack, then both poll.
 * Returns the datagrams moved. end 1 is left alone when `hold` (its
 * socket fills up). */
static long two_turn(struct two *p, bool hold)
{
    long n = 0;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && hold)
            continue;
        long got = synack_tun_pump(p->e[i].t);
        assert_true(got >= 0);
        n += got;
    }
    for (int i = 0; i < 2; i++)
        synack_poll(p->e[i].s);
    return n;
}

/* Turns until nothing moves, then the clock jumps to the nearer deadline;
 * stops when cond holds, or fails after a virtual `limit`. */
static void two_run(struct two *p, bool (*cond)(struct two *, void *), void *ctx, synack_time limit)
{
    synack_time end = p->clock.now + limit;
    while (!cond(p, ctx)) {
        if (two_turn(p, false))
            continue;
        synack_time a = synack_poll(p->e[0].s), b = synack_poll(p->e[1].s);
        synack_time next = a < b ? a : b;
        assert_true(next != SYNACK_TIME_NEVER && next <= end);
        if (next > p->clock.now)
            p->clock.now = next;
    }
}

static synack_state state_of(struct end *e, synack_sock h)
{
    synack_tcp_info ti;
    assert_int_equal(synack_tcp_info_get(e->s, h, &ti), 0);
    return ti.state;
}

struct conn {
    synack_sock ls, c, v;
};

static bool accepted(struct two *p, void *ctx)
{
    struct conn *k = ctx;
    if (k->v < 0)
        k->v = synack_accept(p->e[1].s, k->ls, NULL);
    return k->v >= 0 && state_of(&p->e[0], k->c) == SYNACK_ESTABLISHED;
}

static void two_connect(struct two *p, struct conn *k)
{
    synack_endpoint ep = srv_ep();
    k->ls = synack_socket(p->e[1].s);
    assert_int_equal(synack_bind(p->e[1].s, k->ls, &ep), 0);
    assert_int_equal(synack_listen(p->e[1].s, k->ls, 16), 0);
    k->c = synack_socket(p->e[0].s);
    k->v = -1;
    assert_int_equal(synack_connect(p->e[0].s, k->c, &ep), -EINPROGRESS);
    two_run(p, accepted, k, SYNACK_SEC(5));
}

/* Reads from (e, h) into buf until want bytes or end of stream. */
struct reader {
    int end;
    synack_sock h;
    uint8_t *buf;
    size_t want, got;
    bool eof;
};

static bool read_all(struct two *p, void *ctx)
{
    struct reader *r = ctx;
    long n;
    while (r->got < r->want &&
           (n = synack_recv(p->e[r->end].s, r->h, r->buf + r->got, r->want - r->got)) > 0)
        r->got += (size_t)n;
    return r->got == r->want;
}

static bool at_eof(struct two *p, void *ctx)
{
    struct reader *r = ctx;
    uint8_t b;
    return synack_recv(p->e[r->end].s, r->h, &b, 1) == 0;
}

static bool client_in_time_wait(struct two *p, void *ctx)
{
    struct conn *k = ctx;
    return state_of(&p->e[0], k->c) == SYNACK_TIME_WAIT;
}

static void test_handshake_data_both_ways_and_four_way_close(void **state)
{
    (void)state;
    struct two p;
    two_new(&p, 0);
    struct conn k;
    two_connect(&p, &k);
    assert_string_equal(synack_tun_name(p.e[0].t), "");

    assert_int_equal(synack_send(p.e[0].s, k.c, "hello", 5), 5);
    uint8_t buf[16] = {0};
    struct reader r = {.end = 1, .h = k.v, .buf = buf, .want = 5};
    two_run(&p, read_all, &r, SYNACK_SEC(5));
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(synack_send(p.e[1].s, k.v, "world", 5), 5);
    r = (struct reader){.end = 0, .h = k.c, .buf = buf, .want = 5};
    two_run(&p, read_all, &r, SYNACK_SEC(5));
    assert_memory_equal(buf, "world", 5);

    /* RFC 9293 §3.6: the client's FIN, the server reads the end and sends
     * its own; the client ends in TIME_WAIT, the server's end is gone. */
    assert_int_equal(synack_shutdown(p.e[0].s, k.c, SHUT_WR), 0);
    r = (struct reader){.end = 1, .h = k.v};
    two_run(&p, at_eof, &r, SYNACK_SEC(5));
    assert_int_equal(state_of(&p.e[1], k.v), SYNACK_CLOSE_WAIT);
    assert_int_equal(synack_close(p.e[1].s, k.v), 0);
    two_run(&p, client_in_time_wait, &k, SYNACK_SEC(5));
    while (two_turn(&p, false))
        ;
    assert_int_equal(synack_counter(p.e[1].s, "tcp_out_refused"), 0);
    assert_int_equal(synack_close(p.e[0].s, k.c), 0);
    two_free(&p);
}

/* The client's socket has the smallest send buffer the kernel allows and
 * the server reads nothing for a while, so the socket refuses datagrams
 * (EAGAIN): local congestion, which TCP retries (docs/architecture.md);
 * every byte still arrives, in order. */
static void test_refused_transmit_is_retried_not_lost(void **state)
{
    (void)state;
    struct two p;
    two_new(&p, 1);
    struct conn k;
    two_connect(&p, &k);
    enum { LEN = 200000 };
    uint8_t *out = malloc(LEN), *in = malloc(LEN);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < LEN; i++)
        out[i] = (uint8_t)(i * 131u + (i >> 8));
    size_t sent = 0;
    /* the server holds off: what the client sends piles up in its socket */
    for (int i = 0; i < 4; i++) {
        long n = synack_send(p.e[0].s, k.c, out + sent, LEN - sent);
        if (n > 0)
            sent += (size_t)n;
        two_turn(&p, true);
    }
    assert_true(synack_counter(p.e[0].s, "tcp_out_refused") > 0);
    struct reader r = {.end = 1, .h = k.v, .buf = in, .want = LEN};
    synack_time end = p.clock.now + SYNACK_SEC(60);
    while (!read_all(&p, &r)) {
        long n = sent < LEN ? synack_send(p.e[0].s, k.c, out + sent, LEN - sent) : 0;
        if (n > 0)
            sent += (size_t)n;
        if (two_turn(&p, false) || n > 0)
            continue;
        synack_time a = synack_poll(p.e[0].s), b = synack_poll(p.e[1].s);
        synack_time next = a < b ? a : b;
        assert_true(next <= end);
        if (next > p.clock.now)
            p.clock.now = next;
    }
    assert_memory_equal(in, out, LEN);
    free(out);
    free(in);
    two_free(&p);
}

/* ---- what the adoption takes and refuses ---- */

static void test_adopt_refuses_what_it_cannot_carry(void **state)
{
    (void)state;
    synack_tun *t = (synack_tun *)&t;
    assert_int_equal(synack_tun_adopt(-1, 0, &t), -EBADF);
    assert_null(t);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* a byte stream keeps no datagram boundaries */
    assert_int_equal(synack_tun_adopt(sv[0], 0, &t), -EPROTOTYPE);
    assert_true(fcntl(sv[0], F_GETFD) >= 0); /* left to the caller */
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(synack_tun_adopt(sv[0], 0, &t), -EBADF);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    assert_int_equal(synack_tun_adopt(sv[0], 65536, &t), -EINVAL);
    assert_int_equal(synack_tun_adopt(sv[0], 0, &t), 0);
    assert_int_equal(synack_tun_mtu(t), 1500);
    assert_int_equal(synack_tun_fd(t), sv[0]);
    assert_true(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    /* no stack attached yet: datagrams stay queued */
    assert_int_equal(send(sv[1], "x", 1, 0), 1);
    assert_int_equal(synack_tun_pump(t), -ENOTCONN);
    /* the descriptor is the link's: closing the link closes it */
    synack_tun_close(t);
    errno = 0;
    assert_int_equal(fcntl(sv[0], F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    close(sv[1]);
}

/* A stack on sv[0] of a fresh socketpair, on the virtual clock (NULL: the
 * monotonic one); the test writes raw datagrams into sv[1], which has room
 * for a few hundred. */
static void lone_end(struct end *e, int sv[2], synack_vclock *clock)
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    int big = 1 << 20;
    assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big), 0);
    synack_config c = {.seed = 3, .clock = clock ? synack_vclock_read : synack_monotonic_now, .clock_ctx = clock};
    assert_int_equal(end_new(e, sv[0], SRV_ADDR, &c), 0);
}

/* Whatever comes through the socket that is not an IP datagram is dropped
 * and counted (ip_drop_hdr), and the link carries on. */
static void test_datagrams_that_are_not_ip_are_dropped_and_counted(void **state)
{
    (void)state;
    int sv[2];
    synack_vclock clock = {.now = SYNACK_SEC(1)};
    struct end e;
    lone_end(&e, sv, &clock);
    static const uint8_t text[] = "GET / HTTP/1.0\r\n\r\n";
    static const uint8_t short_ip[] = {0x45, 0, 0, 20, 0, 0};
    static const uint8_t bad_len[20] = {0x45, 0, 0xff, 0xff}; /* total length beyond the datagram */
    assert_int_equal(send(sv[1], text, sizeof text, 0), (ssize_t)sizeof text);
    assert_int_equal(send(sv[1], short_ip, sizeof short_ip, 0), (ssize_t)sizeof short_ip);
    assert_int_equal(send(sv[1], bad_len, sizeof bad_len, 0), (ssize_t)sizeof bad_len);
    assert_int_equal(send(sv[1], "", 0, 0), 0); /* an empty datagram: not the end */
    uint64_t before = synack_counter(e.s, "ip_drop_hdr");
    assert_int_equal(synack_tun_pump(e.t), 4);
    assert_int_equal(synack_counter(e.s, "ip_drop_hdr") - before, 4);
    assert_int_equal(synack_tun_pump(e.t), 0);
    close(sv[1]);
    end_free(&e);
}

/* A pump takes at most 256 datagrams (its budget), so the stack's poll
 * runs between bursts from a peer that writes as fast as we read. */
static void test_a_pump_has_a_budget(void **state)
{
    (void)state;
    int sv[2];
    synack_vclock clock = {.now = SYNACK_SEC(1)};
    struct end e;
    lone_end(&e, sv, &clock);
    for (int i = 0; i < 300; i++)
        assert_int_equal(send(sv[1], "x", 1, 0), 1);
    assert_int_equal(synack_tun_pump(e.t), 256);
    assert_int_equal(synack_tun_pump(e.t), 44);
    assert_int_equal(synack_tun_pump(e.t), 0);
    close(sv[1]);
    end_free(&e);
}

/* A peer that is gone: reads end with -EPIPE (so does the event loop),
 * and a transmit fails with -EPIPE instead of raising SIGPIPE. */
static void test_a_closed_peer_is_a_clear_error(void **state)
{
    (void)state;
    int sv[2];
    struct end e;
    lone_end(&e, sv, NULL);
    static const uint8_t junk[8] = {1};
    assert_int_equal(send(sv[1], junk, sizeof junk, 0), (ssize_t)sizeof junk);
    close(sv[1]);
    /* what was sent before the close is still read, then the end */
    assert_int_equal(synack_tun_pump(e.t), 1);
    assert_int_equal(synack_tun_pump(e.t), -EPIPE);
    synack_link_ops ops = synack_tun_ops();
    assert_int_equal(ops.transmit(e.t, junk, sizeof junk), -EPIPE);
    synack_loop *l = synack_loop_new(e.s);
    assert_non_null(l);
    assert_int_equal(synack_loop_add_tun(l, e.t), 0);
    assert_int_equal(synack_loop_run(l, NULL, NULL, SYNACK_SEC(5)), -EPIPE);
    /* a connection over the dead link: the SYN is lost, not a crash */
    synack_sock h = synack_socket(e.s);
    synack_endpoint ep = srv_ep();
    assert_int_equal(synack_connect(e.s, h, &ep), -EINPROGRESS);
    synack_loop_free(l);
    end_free(&e);
}

/* ---- two processes ---- */

/* The child's server: accept, read the 5-byte request, answer, read the
 * end of stream, close; done when its end has reached CLOSED. */
struct srv_app {
    synack_stack *s;
    synack_sock ls, v;
    size_t got;
    uint8_t req[5];
    bool answered, closed, finished;
};

static void srv_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now)
{
    struct srv_app *a = ctx;
    (void)l, (void)r, (void)why, (void)now;
    if (from == SYNACK_LAST_ACK && to == SYNACK_CLOSED)
        a->finished = true;
}

static bool srv_step(void *ctx)
{
    struct srv_app *a = ctx;
    if (a->v < 0)
        a->v = synack_accept(a->s, a->ls, NULL);
    if (a->v < 0 || a->closed)
        return a->finished;
    long n;
    while (a->got < 5 && (n = synack_recv(a->s, a->v, a->req + a->got, 5 - a->got)) > 0)
        a->got += (size_t)n;
    if (a->got == 5 && !a->answered)
        a->answered = synack_send(a->s, a->v, memcmp(a->req, "hello", 5) ? "wrong" : "world", 5) == 5;
    uint8_t b;
    if (a->answered && synack_recv(a->s, a->v, &b, 1) == 0) {
        synack_close(a->s, a->v);
        a->closed = true;
    }
    return false;
}

static int child_server(int fd)
{
    struct srv_app a = {.v = -1};
    synack_config c = {.seed = 6, .clock = synack_monotonic_now, .on_state = srv_state, .on_state_ctx = &a};
    struct end e;
    if (end_new(&e, fd, SRV_ADDR, &c) < 0)
        return 10;
    a.s = e.s;
    synack_endpoint ep = srv_ep();
    a.ls = synack_socket(e.s);
    synack_loop *l = synack_loop_new(e.s);
    int rc = 11;
    if (a.ls >= 0 && synack_bind(e.s, a.ls, &ep) == 0 && synack_listen(e.s, a.ls, 4) == 0 && l &&
        synack_loop_add_tun(l, e.t) == 0)
        rc = synack_loop_run(l, srv_step, &a, SYNACK_SEC(10)) == 0 ? 0 : 12;
    synack_loop_free(l);
    end_free(&e);
    return rc;
}

struct cli_app {
    synack_stack *s;
    synack_sock c;
    size_t got;
    uint8_t resp[5];
    bool sent, closed, time_wait;
};

static void cli_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now)
{
    struct cli_app *a = ctx;
    (void)l, (void)r, (void)from, (void)why, (void)now;
    if (to == SYNACK_TIME_WAIT)
        a->time_wait = true;
}

static bool cli_step(void *ctx)
{
    struct cli_app *a = ctx;
    if (!a->sent && (synack_events(a->s, a->c) & SYNACK_EV_OUT))
        a->sent = synack_send(a->s, a->c, "hello", 5) == 5;
    long n;
    while (a->sent && a->got < 5 && (n = synack_recv(a->s, a->c, a->resp + a->got, 5 - a->got)) > 0)
        a->got += (size_t)n;
    if (a->got == 5 && !a->closed) {
        synack_close(a->s, a->c);
        a->closed = true;
    }
    return a->time_wait;
}

static void test_two_processes_over_a_seqpacket_socketpair(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        _exit(child_server(sv[1]));
    }
    close(sv[1]);
    struct cli_app a = {0};
    synack_config c = {.seed = 5, .clock = synack_monotonic_now, .on_state = cli_state, .on_state_ctx = &a};
    struct end e;
    assert_int_equal(end_new(&e, sv[0], CLI_ADDR, &c), 0);
    a.s = e.s;
    a.c = synack_socket(e.s);
    synack_endpoint ep = srv_ep();
    assert_int_equal(synack_connect(e.s, a.c, &ep), -EINPROGRESS);
    synack_loop *l = synack_loop_new(e.s);
    assert_non_null(l);
    assert_int_equal(synack_loop_add_tun(l, e.t), 0);
    int rc = synack_loop_run(l, cli_step, &a, SYNACK_SEC(10));
    /* TIME_WAIT's ACK of the server's FIN lets the child finish and exit;
     * its end of the socketpair closing ends our loop */
    int rc2 = rc == 0 ? synack_loop_run(l, NULL, NULL, SYNACK_SEC(10)) : rc;
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    synack_loop_free(l);
    end_free(&e);
    assert_int_equal(rc, 0);
    assert_memory_equal(a.resp, "world", 5);
    assert_int_equal(rc2, -EPIPE);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- a TUN descriptor (root: a network namespace of a child's own) ---- */

static int tun_fd(short flags, const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = flags;
    strcpy(ifr.ifr_name, name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The Internet checksum of p[from, to) into p[field], p[field + 1]. */
static void fill_csum(uint8_t *p, int from, int to, int field)
{
    uint32_t sum = 0;
    for (int i = from; i < to; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    p[field] = (uint8_t)(~sum >> 8);
    p[field + 1] = (uint8_t)~sum;
}

/* A TUN fd opened with IFF_VNET_HDR wants the virtio-net header on every
 * write: the adopted link must send it, or the kernel reads the IP header
 * as one (version/IHL 0x45 sets NEEDS_CSUM with a start beyond the frame)
 * and refuses the write. An ICMP echo request, checksummed, goes out
 * (the device is up, in the child's own namespace, with no address). */
static int vnet_fd_is_spoken(void)
{
    int fd = tun_fd(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, "sadopt2");
    if (fd < 0)
        return 5;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "sadopt2");
    ifr.ifr_flags = IFF_UP;
    int up = sock >= 0 && ioctl(sock, SIOCSIFFLAGS, &ifr) == 0;
    if (sock >= 0)
        close(sock);
    synack_tun *t;
    if (!up || synack_tun_adopt(fd, 0, &t) != 0)
        return 6;
    uint8_t p[28] = {0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 1, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, 8, 0, 0, 0, 0, 1, 0, 1};
    fill_csum(p, 0, 20, 10);  /* IPv4 header */
    fill_csum(p, 20, 28, 22); /* ICMP */
    /* the same datagram without the header: the kernel refuses it */
    if (write(fd, p, sizeof p) >= 0)
        return 7;
    synack_link_ops ops = synack_tun_ops();
    int rc = ops.transmit(t, p, sizeof p) == 0 && synack_tun_flush(t) == 0 ? 0 : 8;
    synack_tun_close(t);
    return rc;
}

static int child_tun(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        return 77;
    synack_tun *t;
    int fd = tun_fd(IFF_TUN | IFF_NO_PI, "sadopt0");
    if (fd < 0)
        return 77;
    if (synack_tun_adopt(fd, 1400, &t) != 0)
        return 1;
    int rc = strcmp(synack_tun_name(t), "sadopt0") || synack_tun_mtu(t) != 1400 ? 2 : 0;
    synack_tun_close(t);
    /* a TAP fd carries Ethernet frames. (A TUN fd without IFF_NO_PI is
     * refused too, but this kernel reports IFF_NO_PI in TUNGETIFF for every
     * TUN device, so that case cannot be made here.) */
    fd = tun_fd(IFF_TAP | IFF_NO_PI, "sadopt1");
    if (!rc && fd < 0)
        return 3;
    if (!rc)
        rc = synack_tun_adopt(fd, 0, &t) == -EPROTOTYPE ? 0 : 4;
    close(fd);
    if (!rc)
        rc = vnet_fd_is_spoken();
    return rc;
}

static void test_a_tun_descriptor_is_adopted_with_its_name(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_tun());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_data_both_ways_and_four_way_close),
        cmocka_unit_test(test_refused_transmit_is_retried_not_lost),
        cmocka_unit_test(test_adopt_refuses_what_it_cannot_carry),
        cmocka_unit_test(test_datagrams_that_are_not_ip_are_dropped_and_counted),
        cmocka_unit_test(test_a_pump_has_a_budget),
        cmocka_unit_test(test_a_closed_peer_is_a_clear_error),
        cmocka_unit_test(test_two_processes_over_a_seqpacket_socketpair),
        cmocka_unit_test(test_a_tun_descriptor_is_adopted_with_its_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
