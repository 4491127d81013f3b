/* libsynack_packetdrill.so as packetdrill uses it: dlopen, the one exported
 * init function, a handshake through netdev_send/netdev_receive in virtual
 * time, a blocking accept on a second thread, and send times that say when
 * the stack sent (delayed ACK, SYN retransmission). */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "packetdrill.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

#define LOCAL (192u << 24 | 168u << 16 | 1)  /* packetdrill's defaults */
#define REMOTE (192u << 24 | 0u << 16 | 2u << 8 | 1)

static void *lib;
static struct packetdrill_interface ifc;

static void load(const char *flags)
{
    lib = dlopen(SYNACK_PD_SO, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        fail_msg("dlopen: %s", dlerror());
    void *sym = dlsym(lib, "packetdrill_interface_init");
    assert_non_null(sym);
    packetdrill_interface_init_t init;
    memcpy(&init, &sym, sizeof init); /* POSIX dlsym: object to function pointer */
    memset(&ifc, 0, sizeof ifc);
    init(flags, &ifc);
    assert_non_null(ifc.userdata);
}

static void unload(void)
{
    ifc.free(ifc.userdata);
    dlclose(lib);
}

static long long now_us(void)
{
    struct timeval tv;
    ifc.gettimeofday(ifc.userdata, &tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* One IPv4 TCP datagram from the remote (192.0.2.1) to the stack. */
static size_t build(uint8_t *buf, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint16_t flags,
                    const void *data, size_t len)
{
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4}; /* mss 1460 */
    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = sport;
    h.dport = dport;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.wnd = 65535;
    if (flags & WIRE_TCP_SYN) {
        h.opts_raw = mss;
        h.opts_len = sizeof mss;
    }
    uint8_t *tcp = buf + 20;
    int hl = wire_tcp_emit(tcp, 1500, &h);
    assert_true(hl > 0);
    if (len)
        memcpy(tcp + hl, data, len);
    size_t seglen = (size_t)hl + len;
    wire_tcp_set_csum_ipv4(tcp, seglen, REMOTE, LOCAL);
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = REMOTE, .dst = LOCAL, .df = true};
    wire_ipv4_emit(buf, 1600, &ip, seglen);
    return 20 + seglen;
}

/* The next datagram the stack sent, parsed; its send time in *t. */
static struct wire_tcp next_out(uint8_t *buf, long long *t)
{
    size_t n = 2000;
    if (ifc.netdev_receive(ifc.userdata, buf, &n, t) != 0)
        fail_msg("netdev_receive: nothing sent");
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, n, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    assert_int_equal(ip.src, LOCAL);
    assert_int_equal(ip.dst, REMOTE);
    struct wire_tcp tcp;
    assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, &tcp), WIRE_OK);
    return tcp;
}

static void exports_only_init(void **state)
{
    load("");
    assert_non_null(dlsym(lib, "synack_packetdrill_command")); /* the one addition */
    assert_null(dlsym(lib, "sxp_new"));
    assert_null(dlsym(lib, "synack_stack_new"));
    unload();
}

static void clock_is_virtual(void **state)
{
    load("seed=3");
    long long t0 = now_us();
    assert_int_equal(t0, SYNACK_PD_EPOCH_USECS);
    assert_int_equal(ifc.usleep(ifc.userdata, 2500000), 0); /* returns at once */
    assert_int_equal(now_us(), t0 + 2500000);
    unload();
}

struct acc {
    int fd, ret;
};

static void *accept_thread(void *arg)
{
    struct acc *a = arg;
    a->ret = ifc.accept(ifc.userdata, a->fd, NULL, NULL);
    return NULL;
}

static void passive_handshake_and_delayed_ack(void **state)
{
    load("");
    void *u = ifc.userdata;
    int l = ifc.socket(u, AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080), .sin_addr.s_addr = htonl(LOCAL)};
    assert_int_equal(ifc.bind(u, l, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(ifc.listen(u, l, 1), 0);
    /* packetdrill runs a blocking accept on its second thread */
    struct acc a = {.fd = l, .ret = -2};
    pthread_t t;
    pthread_create(&t, NULL, accept_thread, &a);
    uint8_t pkt[2000], out[2000];
    ifc.usleep(u, 100000);
    size_t n = build(pkt, 40000, 8080, 1000, 0, WIRE_TCP_SYN, NULL, 0);
    assert_int_equal(ifc.netdev_send(u, pkt, n), 0);
    long long ts;
    struct wire_tcp sa_seg = next_out(out, &ts);
    assert_int_equal(sa_seg.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
    assert_int_equal(sa_seg.ack, 1001);
    assert_int_equal(sa_seg.sport, 8080);
    assert_int_equal(sa_seg.dport, 40000);
    assert_int_equal(ts, now_us()); /* sent at once */
    ifc.usleep(u, 10000);
    n = build(pkt, 40000, 8080, 1001, sa_seg.seq + 1, WIRE_TCP_ACK, NULL, 0);
    assert_int_equal(ifc.netdev_send(u, pkt, n), 0);
    pthread_join(t, NULL);
    assert_true(a.ret >= 0);
    /* data in: acknowledged at once (quick-ACK at the start) or within the
     * 40 ms delayed-ACK timer, and netdev_receive says when */
    n = build(pkt, 40000, 8080, 1001, sa_seg.seq + 1, WIRE_TCP_ACK | WIRE_TCP_PSH, "hello", 5);
    long long t_data = now_us();
    assert_int_equal(ifc.netdev_send(u, pkt, n), 0);
    struct wire_tcp ack = next_out(out, &ts);
    assert_int_equal(ack.flags, WIRE_TCP_ACK);
    assert_int_equal(ack.ack, 1006);
    assert_true(ts >= t_data && ts <= t_data + 40000);
    /* data out, never acknowledged: netdev_receive waits in virtual time for
     * the retransmission and stamps it at least the 200 ms minimum RTO later */
    ifc.usleep(u, 50000);
    assert_int_equal(ifc.write(u, a.ret, "abc", 3), 3);
    long long t_first, t_again;
    struct wire_tcp d1 = next_out(out, &t_first);
    assert_int_equal(d1.payload_len, 3);
    assert_int_equal(t_first, now_us());
    struct wire_tcp d2 = next_out(out, &t_again);
    assert_int_equal(d2.seq, d1.seq);
    assert_int_equal(d2.payload_len, 3);
    assert_true(t_again - t_first >= 200000);
    assert_int_equal(t_again, now_us()); /* the clock moved to that instant */
    char buf[8];
    assert_int_equal(ifc.read(u, a.ret, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    int inq = -1;
    assert_int_equal(ifc.ioctl(u, a.ret, FIONREAD, &inq), 0);
    assert_int_equal(inq, 0);
    /* leftovers closed with the host's close(), as packetdrill does */
    close(a.ret);
    close(l);
    unload();
}

static void active_open_off_link_and_rto(void **state)
{
    load("");
    void *u = ifc.userdata;
    int fd = ifc.socket(u, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(ifc.fcntl(u, fd, F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(ifc.fcntl(u, fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    struct sockaddr_in ra = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(REMOTE)};
    errno = 0;
    assert_int_equal(ifc.connect(u, fd, (struct sockaddr *)&ra, sizeof ra), -1);
    assert_int_equal(errno, EINPROGRESS);
    uint8_t out[2000];
    long long t1, t2;
    struct wire_tcp syn = next_out(out, &t1); /* 192.0.2.1 is off-link: via the default route */
    assert_int_equal(syn.flags, WIRE_TCP_SYN);
    assert_true(syn.opt.has_mss);
    struct wire_tcp again = next_out(out, &t2);
    assert_int_equal(again.flags, WIRE_TCP_SYN);
    assert_int_equal(again.seq, syn.seq);
    assert_int_equal(t2 - t1, 1000000); /* initial RTO, RFC 6298 §2.1 */
    ifc.close(u, fd);
    unload();
}

/* synack_packetdrill_command: a script's timed `sysctl -q
 * net.ipv4.tcp_fastopen=0` reaches the stack; a word it does not take is
 * not counted. */
static void runtime_sysctl_command(void **state)
{
    load("sysctl:net.ipv4.tcp_fastopen=1");
    void *sym = dlsym(lib, "synack_packetdrill_command");
    assert_non_null(sym);
    int (*command)(void *, const char *);
    memcpy(&command, &sym, sizeof command);
    void *u = ifc.userdata;
    struct sockaddr_in ra = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(REMOTE)};
    assert_int_equal(command(u, "sysctl:net.ipv4.tcp_fastopen=0 sysctl:net.ipv4.tcp_nope=1"), 1);
    int fd = ifc.socket(u, AF_INET, SOCK_STREAM, 0);
    errno = 0;
    assert_int_equal(ifc.sendto(u, fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&ra, sizeof ra), -1);
    assert_int_equal(errno, EOPNOTSUPP);
    assert_int_equal(command(u, "sysctl:net.ipv4.tcp_fastopen=1 tcp_metrics:flush"), 2);
    assert_int_equal(ifc.fcntl(u, fd, F_SETFL, O_NONBLOCK), 0);
    errno = 0;
    assert_int_equal(ifc.sendto(u, fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&ra, sizeof ra), -1);
    assert_int_equal(errno, EINPROGRESS); /* no cookie yet: a request */
    ifc.close(u, fd);
    unload();
}

/* qdisc:drop / qdisc:none, a script's `tc qdisc add dev tun0 root pfifo
 * limit 0` and its delete: while it holds, the device refuses every packet
 * (netdev_receive sees none) and TCP is told, as Linux's NET_XMIT_DROP
 * tells it: the SYN refused at 0 and at its RTO (1 s) is tried again 500 ms
 * later (Linux tcp_retransmit_timer, local congestion), and goes once the
 * qdisc is gone. Another qdisc is no command. */
static void qdisc_drop_command(void **state)
{
    load("");
    void *sym = dlsym(lib, "synack_packetdrill_command");
    int (*command)(void *, const char *);
    memcpy(&command, &sym, sizeof command);
    void *u = ifc.userdata;
    assert_int_equal(command(u, "qdisc:fq"), 0);
    assert_int_equal(command(u, "qdisc:drop"), 1);
    struct sockaddr_in ra = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(REMOTE)};
    int fd = ifc.socket(u, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(ifc.fcntl(u, fd, F_SETFL, O_NONBLOCK), 0);
    long long t0 = now_us();
    errno = 0;
    assert_int_equal(ifc.connect(u, fd, (struct sockaddr *)&ra, sizeof ra), -1);
    assert_int_equal(errno, EINPROGRESS);
    ifc.usleep(u, 1200000);
    assert_int_equal(command(u, "qdisc:none"), 1);
    uint8_t buf[2000];
    long long t;
    struct wire_tcp syn = next_out(buf, &t);
    assert_int_equal(syn.flags, WIRE_TCP_SYN);
    assert_int_equal(t - t0, 1500000);
    ifc.close(u, fd);
    unload();
}

/* net.ipv4.tcp_ecn from so_flags and from a timed command: 1 sends an
 * ECN-setup SYN (RFC 3168 §6.1.1), 0 a plain one; a value beyond Linux's
 * classic modes (3 and up, Accurate ECN) is not taken. */
static void ecn_sysctl(void **state)
{
    load("sysctl:net.ipv4.tcp_ecn=1");
    void *sym = dlsym(lib, "synack_packetdrill_command");
    int (*command)(void *, const char *);
    memcpy(&command, &sym, sizeof command);
    void *u = ifc.userdata;
    struct sockaddr_in ra = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(REMOTE)};
    uint8_t buf[2000];
    long long t;
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            assert_int_equal(command(u, "sysctl:net.ipv4.tcp_ecn=0"), 1);
        if (round == 2)
            assert_int_equal(command(u, "sysctl:net.ipv4.tcp_ecn=3"), 0); /* kept at 0 */
        int fd = ifc.socket(u, AF_INET, SOCK_STREAM, 0);
        assert_int_equal(ifc.fcntl(u, fd, F_SETFL, O_NONBLOCK), 0);
        errno = 0;
        assert_int_equal(ifc.connect(u, fd, (struct sockaddr *)&ra, sizeof ra), -1);
        assert_int_equal(errno, EINPROGRESS);
        struct wire_tcp syn = next_out(buf, &t);
        assert_int_equal(syn.flags, WIRE_TCP_SYN | (round == 0 ? WIRE_TCP_ECE | WIRE_TCP_CWR : 0));
        ifc.close(u, fd);
    }
    unload();
}

/* net.ipv4.tcp_min_tso_segs from so_flags (slow_start/slow-start-after-*.pkt
 * set 10): Linux's GSO packets are then half the cwnd, 5 segments of the
 * initial 10, each ending with PSH; with Linux's default of 2 the fifth
 * segment would end none. */
static void min_tso_segs_sysctl(void **state)
{
    load("sysctl:net.ipv4.tcp_min_tso_segs=10");
    void *u = ifc.userdata;
    int l = ifc.socket(u, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080), .sin_addr.s_addr = htonl(LOCAL)};
    assert_int_equal(ifc.bind(u, l, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(ifc.listen(u, l, 1), 0);
    struct acc a = {.fd = l, .ret = -2};
    pthread_t t;
    pthread_create(&t, NULL, accept_thread, &a);
    uint8_t pkt[2000], out[2000];
    long long ts;
    size_t n = build(pkt, 40000, 8080, 1000, 0, WIRE_TCP_SYN, NULL, 0);
    assert_int_equal(ifc.netdev_send(u, pkt, n), 0);
    struct wire_tcp syn_ack = next_out(out, &ts);
    ifc.usleep(u, 100000); /* RTT 100 ms: a pacing rate far below 10 segments per ms */
    n = build(pkt, 40000, 8080, 1001, syn_ack.seq + 1, WIRE_TCP_ACK, NULL, 0);
    assert_int_equal(ifc.netdev_send(u, pkt, n), 0);
    pthread_join(t, NULL);
    assert_true(a.ret >= 0);
    static const uint8_t data[10 * 1460];
    assert_int_equal(ifc.write(u, a.ret, data, sizeof data), (long)sizeof data);
    for (int i = 0; i < 10; i++) {
        struct wire_tcp d = next_out(out, &ts);
        assert_int_equal(d.payload_len, 1460);
        assert_int_equal(!!(d.flags & WIRE_TCP_PSH), i == 4 || i == 9);
    }
    close(a.ret);
    close(l);
    unload();
}

static void nowait_mode(void **state)
{
    load("nowait,seed=5");
    uint8_t out[100];
    size_t n = sizeof out;
    long long t = -1;
    errno = 0;
    assert_int_equal(ifc.netdev_receive(ifc.userdata, out, &n, &t), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(n, 0);
    unload();
}

/* IPv6 through the same interface: so_flags give the interface's IPv6
 * address and MTU; an AF_INET6 listener answers an IPv6 SYN from the
 * off-link 2001:db8::1 with MSS = MTU - 60, and an AF_INET6 connect sends an
 * IPv6 SYN from the configured address. */
static void ipv6_datagrams(void **state)
{
    load("local_ip6=fd3d:fa7b:d17d::5,mtu=1520");
    void *u = ifc.userdata;
    uint8_t local[16], remote[16];
    inet_pton(AF_INET6, "fd3d:fa7b:d17d::5", local);
    inet_pton(AF_INET6, "2001:db8::1", remote);
    int l = ifc.socket(u, AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
    assert_int_equal(ifc.bind(u, l, (struct sockaddr *)&any, sizeof any), 0);
    assert_int_equal(ifc.listen(u, l, 1), 0);
    uint8_t pkt[200];
    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = 40000;
    h.dport = 8080;
    h.seq = 100;
    h.flags = WIRE_TCP_SYN;
    h.wnd = 65535;
    int hl = wire_tcp_emit(pkt + 40, 160, &h);
    assert_true(hl > 0);
    wire_tcp_set_csum_ipv6(pkt + 40, (size_t)hl, remote, local);
    struct wire_ipv6 ip6 = {.hop_limit = 64, .proto = WIRE_IPPROTO_TCP};
    memcpy(ip6.src, remote, 16);
    memcpy(ip6.dst, local, 16);
    assert_true(wire_ipv6_emit(pkt, sizeof pkt, &ip6, (size_t)hl) > 0);
    assert_int_equal(ifc.netdev_send(u, pkt, 40 + (size_t)hl), 0);
    uint8_t out[2000];
    size_t n = sizeof out;
    long long t;
    assert_int_equal(ifc.netdev_receive(u, out, &n, &t), 0);
    struct wire_ipv6 o;
    assert_int_equal(wire_ipv6_parse(out, n, 0, &o), WIRE_OK);
    assert_memory_equal(o.src, local, 16);
    assert_memory_equal(o.dst, remote, 16);
    assert_true(wire_tcp_csum_ok_ipv6(o.payload, o.payload_len, o.src, o.dst));
    struct wire_tcp sa;
    assert_int_equal(wire_tcp_parse(o.payload, o.payload_len, &sa), WIRE_OK);
    assert_int_equal(sa.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
    assert_int_equal(sa.ack, 101);
    assert_int_equal(sa.opt.mss, 1460); /* 1520 - 40 - 20 */

    int c = ifc.socket(u, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 ra = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    memcpy(&ra.sin6_addr, remote, 16);
    errno = 0;
    assert_int_equal(ifc.connect(u, c, (struct sockaddr *)&ra, sizeof ra), -1);
    assert_int_equal(errno, EINPROGRESS);
    n = sizeof out;
    assert_int_equal(ifc.netdev_receive(u, out, &n, &t), 0);
    assert_int_equal(wire_ipv6_parse(out, n, 0, &o), WIRE_OK);
    assert_memory_equal(o.src, local, 16);
    struct wire_tcp syn;
    assert_int_equal(wire_tcp_parse(o.payload, o.payload_len, &syn), WIRE_OK);
    assert_int_equal(syn.flags, WIRE_TCP_SYN);
    assert_int_equal(syn.dport, 80);
    ifc.close(u, c);
    ifc.close(u, l);
    unload();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exports_only_init),
        cmocka_unit_test(clock_is_virtual),
        cmocka_unit_test(passive_handshake_and_delayed_ack),
        cmocka_unit_test(active_open_off_link_and_rto),
        cmocka_unit_test(runtime_sysctl_command),
        cmocka_unit_test(ecn_sysctl),
        cmocka_unit_test(qdisc_drop_command),
        cmocka_unit_test(min_tso_segs_sysctl),
        cmocka_unit_test(nowait_mode),
        cmocka_unit_test(ipv6_datagrams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
