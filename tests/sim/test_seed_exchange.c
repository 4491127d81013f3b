/* The seed's exchange end to end between two stacks (SEED.md): handshake
 * with random ISNs, 9+9+28+11 bytes acknowledged by one cumulative ACK, a
 * half-close in which the server keeps sending after the client's FIN, and
 * the four-way close ending in TIME_WAIT. Every segment is checked from the
 * pcap the link wrote: flags, seq, ack and length. */
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define PORT 5000

struct seg {
    uint32_t src;
    uint16_t flags;
    uint32_t seq, ack;
    size_t len;
};

static int read_pcap(const char *path, struct seg *out, int max)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    assert_non_null(p);
    assert_int_equal(pcap_datalink(p), DLT_RAW);
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;
    while (n < max && pcap_next_ex(p, &h, &d) == 1) {
        struct wire_ipv4 ip;
        assert_int_equal(wire_ipv4_parse(d, h->caplen, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
        assert_true(wire_tcp_csum_ok_ipv4(ip.payload, ip.payload_len, ip.src, ip.dst));
        struct wire_tcp t;
        assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, &t), WIRE_OK);
        out[n++] = (struct seg){ip.src, t.flags, t.seq, t.ack, t.payload_len};
    }
    pcap_close(p);
    return n;
}

struct run {
    struct sim sim;
    synack_sock lsn, srv, cli;
    char got[256];
    size_t ngot;
    bool srv_eof, cli_eof;
};

static bool accepted(void *ctx)
{
    struct run *r = ctx;
    if (r->srv < 0)
        r->srv = synack_accept(r->sim.b, r->lsn, NULL);
    return r->srv >= 0 && (synack_events(r->sim.a, r->cli) & SYNACK_EV_OUT);
}

static bool client_read(void *ctx, size_t want)
{
    struct run *r = ctx;
    long n;
    while ((n = synack_recv(r->sim.a, r->cli, r->got + r->ngot, sizeof r->got - r->ngot)) > 0)
        r->ngot += (size_t)n;
    if (n == 0)
        r->cli_eof = true;
    return r->ngot >= want;
}

static bool got57(void *ctx) { return client_read(ctx, 57); }
static bool got69(void *ctx) { return client_read(ctx, 69); }
static bool cli_eof(void *ctx)
{
    client_read(ctx, 0);
    return ((struct run *)ctx)->cli_eof;
}

static bool server_eof(void *ctx)
{
    struct run *r = ctx;
    char b[16];
    r->srv_eof = synack_recv(r->sim.b, r->srv, b, sizeof b) == 0;
    return r->srv_eof;
}

static void run_seed(uint64_t seed, const char *pcap_path, struct run *r)
{
    memset(r, 0, sizeof *r);
    sim_init(&r->sim, seed, SYNACK_MS(5), NULL);
    assert_int_equal(synack_memlink_pcap(r->sim.link, pcap_path), 0);
    r->srv = -1;
    r->lsn = synack_socket(r->sim.b);
    synack_endpoint le = sim_ep(SIM_ADDR_B, PORT);
    assert_int_equal(synack_bind(r->sim.b, r->lsn, &le), 0);
    assert_int_equal(synack_listen(r->sim.b, r->lsn, 8), 0);
    r->cli = synack_socket(r->sim.a);
    assert_int_equal(synack_connect(r->sim.a, r->cli, &le), -EINPROGRESS);
    assert_true(sim_run(&r->sim, accepted, r, SYNACK_SEC(5)));

    /* the server's four writes of the capture, each its own segment: Nagle
     * (RFC 896) would hold the second until the first is acknowledged, so
     * the server runs with TCP_NODELAY, as the capture's server did */
    assert_int_equal(synack_setopt(r->sim.b, r->srv, SYNACK_OPT_NODELAY, 1), 0);
    static const char *parts[] = {"HTTP/1.1 ", "200 OK.\r\n", "Content-Type: text/plain\r\n\r\n", "hello world"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(synack_send(r->sim.b, r->srv, parts[i], strlen(parts[i])), (long)strlen(parts[i]));
    assert_true(sim_run(&r->sim, got57, r, SYNACK_SEC(5)));
    assert_memory_equal(r->got, "HTTP/1.1 200 OK.\r\nContent-Type: text/plain\r\n\r\nhello world", 57);
    /* as in the article's capture, the client acknowledges (a delayed ACK,
     * at most 40 ms) before it closes */
    sim_advance(&r->sim, SYNACK_MS(100));

    /* half-close: the client is done sending, the server is not */
    assert_int_equal(synack_shutdown(r->sim.a, r->cli, SYNACK_SHUT_WR), 0);
    assert_true(sim_run(&r->sim, server_eof, r, SYNACK_SEC(5)));
    /* the server's ACK of the FIN waits the delayed-ACK time (Linux
     * tcp_fin: pingpong mode) and goes alone, as in the capture, because
     * the server writes later than that */
    sim_advance(&r->sim, SYNACK_MS(100));
    assert_int_equal(synack_send(r->sim.b, r->srv, "one more...\n", 12), 12);
    assert_true(sim_run(&r->sim, got69, r, SYNACK_SEC(5)));
    sim_advance(&r->sim, SYNACK_MS(100)); /* the client's delayed ACK of them */
    assert_int_equal(synack_close(r->sim.b, r->srv), 0);
    assert_true(sim_run(&r->sim, cli_eof, r, SYNACK_SEC(5)));
    sim_advance(&r->sim, SYNACK_SEC(1));
}

static void test_seed_exchange_segment_by_segment(void **state)
{
    (void)state;
    char path[] = "/tmp/synack-seed-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct run r;
    run_seed(7, path, &r);

    synack_tcp_info ci, si;
    assert_int_equal(synack_tcp_info_get(r.sim.a, r.cli, &ci), 0);
    assert_int_equal(ci.state, SYNACK_TIME_WAIT); /* the active closer waits */
    /* the server side is gone entirely; after 2MSL so is the client */
    assert_int_equal(synack_tcp_info_get(r.sim.b, r.srv, &si), -EBADF);
    sim_advance(&r.sim, SYNACK_SEC(60));
    assert_int_equal(synack_tcp_info_get(r.sim.a, r.cli, &ci), 0);
    assert_int_equal(ci.state, SYNACK_CLOSED);
    sim_free(&r.sim); /* closes the pcap */

    struct seg s[32];
    int n = read_pcap(path, s, 32);
    unlink(path);
    assert_int_equal(n, 14);
    const uint32_t A = SIM_ADDR_A, B = SIM_ADDR_B;
    uint32_t a = s[0].seq, b = s[1].seq;
    assert_int_equal(ci.iss, a);
    assert_int_equal(ci.irs, b);
    const uint16_t S = WIRE_TCP_SYN, K = WIRE_TCP_ACK, P = WIRE_TCP_PSH, F = WIRE_TCP_FIN;
    const struct seg want[14] = {
        {A, S, a, 0, 0},              /* SYN, ISN a, ACK flag clear and ack 0 */
        {B, S | K, b, a + 1, 0},      /* SYN+ACK, ISN b, ack a+1 */
        {A, K, a + 1, b + 1, 0},      /* ACK: seq a+1, ack b+1 */
        {B, P | K, b + 1, a + 1, 9},  /* 9 */
        {B, P | K, b + 10, a + 1, 9}, /* 9 */
        {B, P | K, b + 19, a + 1, 28},
        {B, P | K, b + 47, a + 1, 11},
        {A, K, a + 1, b + 58, 0},      /* one cumulative ACK: 1 + 57 */
        {A, F | K, a + 1, b + 58, 0},  /* client FIN */
        {B, K, b + 58, a + 2, 0},      /* server ACKs the FIN */
        {B, P | K, b + 58, a + 2, 12}, /* half-close: data after the FIN */
        {A, K, a + 2, b + 70, 0},
        {B, F | K, b + 70, a + 2, 0}, /* server FIN */
        {A, K, a + 2, b + 71, 0},     /* last ACK: client to TIME_WAIT */
    };
    for (int i = 0; i < 14; i++) {
        print_message("segment %d\n", i + 1);
        assert_int_equal(s[i].src, want[i].src);
        assert_int_equal(s[i].flags, want[i].flags);
        assert_int_equal(s[i].seq, want[i].seq);
        assert_int_equal(s[i].ack, want[i].ack);
        assert_int_equal(s[i].len, want[i].len);
    }
}

static void test_seed_isns_differ_by_seed(void **state)
{
    (void)state;
    uint32_t isn[3];
    for (int i = 0; i < 3; i++) {
        struct run r;
        run_seed((uint64_t)i + 100, "/dev/null", &r);
        synack_tcp_info ci;
        synack_tcp_info_get(r.sim.a, r.cli, &ci);
        isn[i] = ci.iss;
        sim_free(&r.sim);
    }
    assert_int_not_equal(isn[0], isn[1]);
    assert_int_not_equal(isn[1], isn[2]);
    /* and the same seed replays the same ISN */
    struct run r;
    run_seed(100, "/dev/null", &r);
    synack_tcp_info ci;
    synack_tcp_info_get(r.sim.a, r.cli, &ci);
    assert_int_equal(ci.iss, isn[0]);
    sim_free(&r.sim);
}

static void test_seed_state_log(void **state)
{
    (void)state;
    struct run r;
    run_seed(3, "/dev/null", &r);
    const char *expect[] = {
        "SYN_SENT", "LISTEN -> SYN_RECEIVED (rcv SYN)", "SYN_SENT -> ESTABLISHED (rcv SYN,ACK)",
        "SYN_RECEIVED -> ESTABLISHED (rcv ACK of SYN)", "ESTABLISHED -> FIN_WAIT_1 (shutdown(SHUT_WR))",
        "ESTABLISHED -> CLOSE_WAIT (rcv FIN)", "FIN_WAIT_1 -> FIN_WAIT_2 (rcv ACK of FIN)",
        "CLOSE_WAIT -> LAST_ACK (close())", "FIN_WAIT_2 -> TIME_WAIT (rcv FIN)", "LAST_ACK -> CLOSED (rcv ACK of FIN)",
    };
    int at = 0;
    for (int i = 0; i < r.sim.log.n && at < 10; i++)
        if (strstr(r.sim.log.lines[i], expect[at]))
            at++;
    for (int i = 0; i < r.sim.log.n; i++)
        print_message("%s\n", r.sim.log.lines[i]);
    assert_int_equal(at, 10);
    sim_free(&r.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_exchange_segment_by_segment),
        cmocka_unit_test(test_seed_isns_differ_by_seed),
        cmocka_unit_test(test_seed_state_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
