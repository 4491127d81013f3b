/* The TUN link against the Linux kernel, with no stack in between: ICMP echo
 * requests built by hand go out through synack_tun_ops().transmit, and the
 * kernel's replies are read back from the descriptor. That proves both
 * directions, the MTU setting and the error returns of the driver.
 *
 * It touches the network only inside the namespace that tun_test.sh creates
 * (SYNACK_NETNS, with the TUN device SYNACK_TUN_DEV already holding the
 * kernel's address 198.18.0.1/24); run any other way, it skips. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"
#include "wire/checksum.h"

#define KERNEL_ADDR 0xc6120001u /* 198.18.0.1 */
#define OUR_ADDR 0xc6120002u    /* 198.18.0.2 */
#define IP_HLEN 20
#define ICMP_HLEN 8
#define MAX_DGRAM 65535
#define REPLY_WAIT_MS 2000

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* True only inside the namespace the script named, and never in the one
 * the machine's init process lives in. */
static bool in_test_netns(void)
{
    const char *ns = getenv("SYNACK_NETNS");
    if (!ns || !*ns || strchr(ns, '/') || !getenv("SYNACK_TUN_DEV"))
        return false;
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    return same_file(path, "/proc/self/ns/net") && !same_file("/proc/1/ns/net", "/proc/self/ns/net");
}

static const char *test_dev(void)
{
    if (!in_test_netns())
        skip();
    return getenv("SYNACK_TUN_DEV");
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint8_t payload_byte(size_t i, uint16_t seq)
{
    return (uint8_t)(i * 7u + seq);
}

/* An IPv4 datagram of `total` bytes carrying an ICMP echo request from us to
 * the kernel. */
static void build_echo(uint8_t *buf, size_t total, uint16_t id, uint16_t seq)
{
    memset(buf, 0, IP_HLEN + ICMP_HLEN);
    buf[0] = 0x45;
    put16(buf + 2, (uint16_t)total);
    put16(buf + 4, seq);
    buf[8] = 64;
    buf[9] = 1; /* ICMP */
    put32(buf + 12, OUR_ADDR);
    put32(buf + 16, KERNEL_ADDR);
    put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, IP_HLEN)));
    uint8_t *icmp = buf + IP_HLEN;
    icmp[0] = 8;
    put16(icmp + 4, id);
    put16(icmp + 6, seq);
    for (size_t i = IP_HLEN + ICMP_HLEN; i < total; i++)
        buf[i] = payload_byte(i - IP_HLEN - ICMP_HLEN, seq);
    put16(icmp + 2, wire_csum_fold(wire_csum_add(0, icmp, total - IP_HLEN)));
}

/* Reads the next IPv4 ICMP datagram from the kernel to us; the kernel may
 * also send IPv6 router solicitations and the like, which are skipped.
 * Returns its length, or 0 when none came in time. */
static size_t read_icmp(int fd, uint8_t *buf)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, REPLY_WAIT_MS) <= 0)
            return 0;
        ssize_t n = read(fd, buf, MAX_DGRAM);
        assert_true(n > 0);
        if (n >= IP_HLEN && buf[0] >> 4 == 4 && buf[9] == 1 && get32(buf + 12) == KERNEL_ADDR &&
            get32(buf + 16) == OUR_ADDR)
            return (size_t)n;
    }
}

static void assert_echo_reply(const uint8_t *buf, size_t len, size_t total, uint16_t id, uint16_t seq)
{
    assert_int_equal(len, total);
    assert_int_equal(buf[0], 0x45);
    assert_int_equal(get16(buf + 2), total);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, buf, IP_HLEN)), 0);
    const uint8_t *icmp = buf + IP_HLEN;
    assert_int_equal(icmp[0], 0); /* echo reply */
    assert_int_equal(get16(icmp + 4), id);
    assert_int_equal(get16(icmp + 6), seq);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, icmp, total - IP_HLEN)), 0);
    for (size_t i = IP_HLEN + ICMP_HLEN; i < total; i++)
        assert_int_equal(buf[i], payload_byte(i - IP_HLEN - ICMP_HLEN, seq));
}

static int kernel_mtu(const char *dev)
{
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(sock >= 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    assert_int_equal(ioctl(sock, SIOCGIFMTU, &ifr), 0);
    close(sock);
    return ifr.ifr_mtu;
}

/* What a test holds, released by the teardown even when an assertion fails
 * half-way, so one failure cannot leave the device busy for the next test. */
struct fixture {
    synack_tun *tun;
    uint8_t *buf; /* one datagram of the largest size */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->buf = malloc(MAX_DGRAM);
    *state = f;
    return f->buf ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    synack_tun_close(f->tun);
    free(f->buf);
    free(f);
    return 0;
}

static synack_tun *open_tun(struct fixture *f, const char *dev, uint32_t mtu)
{
    assert_int_equal(synack_tun_open(dev, mtu, &f->tun), 0);
    assert_non_null(f->tun);
    return f->tun;
}

/* Sends one echo request of `total` bytes and checks the kernel's reply. */
static void ping_once(struct fixture *f, size_t total, uint16_t seq)
{
    build_echo(f->buf, total, 0x5a5a, seq);
    assert_int_equal(synack_tun_ops().transmit(f->tun, f->buf, total), 0);
    size_t len = read_icmp(synack_tun_fd(f->tun), f->buf);
    assert_echo_reply(f->buf, len, total, 0x5a5a, seq);
}

static void test_open_rejects_bad_arguments(void **state)
{
    (void)state;
    synack_tun *t = (synack_tun *)&t;
    assert_int_equal(synack_tun_open(NULL, 65536, &t), -EINVAL);
    assert_null(t);
    assert_int_equal(synack_tun_open("a-name-too-long-x", 1500, &t), -EINVAL);
    assert_null(t);
}

static void test_kernel_names_the_device(void **state)
{
    test_dev();
    synack_tun *t = open_tun(*state, NULL, 0);
    assert_int_equal(strncmp(synack_tun_name(t), "tun", 3), 0);
    assert_int_equal(synack_tun_mtu(t), 1500);
    assert_int_equal(kernel_mtu(synack_tun_name(t)), 1500);
    assert_true(fcntl(synack_tun_fd(t), F_GETFL) & O_NONBLOCK);
}

/* Right after the open, with no delay: the kernel's first reply must not be
 * lost while the device it attached to is still being activated. */
static void test_echo_through_the_kernel(void **state)
{
    open_tun(*state, test_dev(), 1500);
    ping_once(*state, IP_HLEN + ICMP_HLEN + 56, 1);
    ping_once(*state, 1500, 2);
}

/* At the largest MTU a datagram of 65535 bytes crosses in one read and one
 * write, each way: the read buffer must hold the largest datagram. */
static void test_echo_at_mtu_65535(void **state)
{
    const char *dev = test_dev();
    synack_tun *t = open_tun(*state, dev, 65535);
    assert_int_equal(synack_tun_mtu(t), 65535);
    assert_int_equal(kernel_mtu(dev), 65535);
    ping_once(*state, MAX_DGRAM, 3);
}

/* The MTU we set is the one the kernel obeys: its reply to a 4000-byte
 * request comes back in fragments of at most 1500 bytes. */
static void test_kernel_obeys_the_mtu(void **state)
{
    struct fixture *f = *state;
    synack_tun *t = open_tun(f, test_dev(), 1500);
    build_echo(f->buf, 4000, 0x5a5a, 4);
    assert_int_equal(synack_tun_ops().transmit(t, f->buf, 4000), 0);
    size_t carried = 0, fragments = 0;
    while (carried < 4000 - IP_HLEN) {
        size_t len = read_icmp(synack_tun_fd(t), f->buf);
        assert_true(len > IP_HLEN);
        assert_true(len <= 1500);
        uint16_t frag = get16(f->buf + 6);
        bool more = frag & 0x2000;
        assert_int_equal((size_t)(frag & 0x1fff) * 8, carried);
        carried += len - IP_HLEN;
        fragments++;
        assert_true(more == (carried < 4000 - IP_HLEN));
    }
    assert_int_equal(fragments, 3);
}

/* A frame the kernel refuses comes back as a negative errno for the stack
 * to count, not as a silent success. */
static void test_transmit_reports_refusal(void **state)
{
    synack_tun *t = open_tun(*state, test_dev(), 1500);
    uint8_t junk[40] = {0}; /* IP version 0 */
    assert_int_equal(synack_tun_ops().transmit(t, junk, sizeof junk), -EINVAL);
}

/* With no stack attached the datagrams stay queued rather than being read
 * and lost. */
static void test_pump_without_stack_keeps_datagrams(void **state)
{
    struct fixture *f = *state;
    synack_tun *t = open_tun(f, test_dev(), 1500);
    build_echo(f->buf, 100, 0x5a5a, 5);
    assert_int_equal(synack_tun_ops().transmit(t, f->buf, 100), 0);
    struct pollfd p = {.fd = synack_tun_fd(t), .events = POLLIN};
    assert_int_equal(poll(&p, 1, REPLY_WAIT_MS), 1);
    assert_int_equal(synack_tun_pump(t), -ENOTCONN);
    size_t len = read_icmp(synack_tun_fd(t), f->buf);
    assert_echo_reply(f->buf, len, 100, 0x5a5a, 5);
}

/* The whole path: the kernel's TCP connects to a synack listener through the
 * TUN device, and data crosses both ways, with the event loop pumping the
 * device into the stack and polling the stack's replies out. */
struct conn {
    synack_stack *stack;
    synack_sock listener, accepted;
    char got[64];
    size_t have, want;
    int kfd;
};

static bool accepted(void *ctx)
{
    struct conn *c = ctx;
    if (c->accepted < 0)
        c->accepted = synack_accept(c->stack, c->listener, NULL);
    return c->accepted >= 0;
}

static bool synack_received(void *ctx)
{
    struct conn *c = ctx;
    long n = synack_recv(c->stack, c->accepted, c->got + c->have, c->want - c->have);
    if (n > 0)
        c->have += (size_t)n;
    return c->have == c->want;
}

static void on_kernel_readable(void *ctx, int fd, unsigned events)
{
    (void)events;
    struct conn *c = ctx;
    ssize_t n = read(fd, c->got + c->have, c->want - c->have);
    if (n > 0)
        c->have += (size_t)n;
}

static bool kernel_received(void *ctx)
{
    const struct conn *c = ctx;
    return c->have == c->want;
}

static void test_loop_runs_stack_on_tun(void **state)
{
    struct fixture *f = *state;
    synack_tun *t = open_tun(f, test_dev(), 1500);
    synack_config cfg = {.seed = 1, .clock = synack_monotonic_now};
    struct conn c = {.stack = synack_stack_new(&cfg), .accepted = -1, .kfd = -1};
    assert_non_null(c.stack);
    synack_loop *loop = synack_loop_new(c.stack);
    assert_non_null(loop);
    synack_iface_config ifc = {
        .ops = synack_tun_ops(), .ctx = t, .addr = synack_ipv4(OUR_ADDR), .prefix_len = 24, .mtu = 1500};
    int ifindex = synack_iface_add(c.stack, &ifc);
    assert_true(ifindex >= 0);
    synack_tun_attach(t, c.stack, ifindex);
    assert_int_equal(synack_loop_add_tun(loop, t), 0);

    c.listener = synack_socket(c.stack);
    synack_endpoint local = {.addr = synack_ipv4(OUR_ADDR), .port = 7777};
    assert_int_equal(synack_bind(c.stack, c.listener, &local), 0);
    assert_int_equal(synack_listen(c.stack, c.listener, 1), 0);

    c.kfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(c.kfd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(7777),
                             .sin_addr.s_addr = htonl(OUR_ADDR)};
    assert_int_equal(connect(c.kfd, (struct sockaddr *)&to, sizeof to), -1);
    assert_int_equal(errno, EINPROGRESS);
    assert_int_equal(synack_loop_run(loop, accepted, &c, SYNACK_SEC(3)), 0);

    static const char hello[] = "hello from the kernel";
    assert_int_equal(write(c.kfd, hello, sizeof hello), sizeof hello);
    c.want = sizeof hello;
    assert_int_equal(synack_loop_run(loop, synack_received, &c, SYNACK_SEC(3)), 0);
    assert_memory_equal(c.got, hello, sizeof hello);

    static const char answer[] = "and hello from synack";
    assert_int_equal(synack_send(c.stack, c.accepted, answer, sizeof answer), sizeof answer);
    c.have = 0;
    c.want = sizeof answer;
    assert_int_equal(synack_loop_add_fd(loop, c.kfd, EPOLLIN, on_kernel_readable, &c), 0);
    assert_int_equal(synack_loop_run(loop, kernel_received, &c, SYNACK_SEC(3)), 0);
    assert_memory_equal(c.got, answer, sizeof answer);

    close(c.kfd);
    synack_loop_free(loop);
    synack_stack_free(c.stack);
}

int main(void)
{
    if (!in_test_netns())
        fprintf(stderr, "interop.test_tun_link: not inside tun_test.sh's namespace; "
                        "the tests that need a TUN device skip (tun_test.sh runs them as root)\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rejects_bad_arguments),
        cmocka_unit_test_setup_teardown(test_kernel_names_the_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_through_the_kernel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_at_mtu_65535, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_obeys_the_mtu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit_reports_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pump_without_stack_keeps_datagrams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_runs_stack_on_tun, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
