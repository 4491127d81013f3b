/* TCP Fast Open (RFC 7413): the server's cookie and its decision on a SYN
 * (§4.1.2, §4.2.2, §5.1), the client's cookie request, cache and SYN data
 * (§4.1.3, §4.2.1), as Linux does them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "tcp_util.h"
#include "wire/tcp.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK

/* Linux's key a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4 (words little-endian). */
static const uint8_t key_linux[16] = {0xa1, 0xa1, 0xa1, 0xa1, 0xb2, 0xb2, 0xb2, 0xb2,
                                      0xc3, 0xc3, 0xc3, 0xc3, 0xd4, 0xd4, 0xd4, 0xd4};
/* The cookie Linux's tcp_fastopen_cookie_gen gives the client 198.18.0.1 at
 * the server 198.18.0.2 under that key (SipHash-2-4 of the two addresses;
 * the same computation gives packetdrill's 3021b9d889017eeb for 192.0.2.1
 * at 192.168.0.1, fastopen/server/opt34/basic-rw.pkt). */
static const uint8_t cookie_linux[8] = {0xdd, 0x36, 0xde, 0x77, 0xb0, 0xe3, 0x30, 0x91};

static void init(struct harness *h, uint32_t bits)
{
    synack_config c = {.fastopen = bits, .fastopen_key_set = true};
    memcpy(c.fastopen_key, key_linux, sizeof key_linux);
    h_init(h, &c);
}

static synack_sock listener(struct harness *h, int backlog)
{
    synack_sock l = synack_socket(h->s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h->s, l, &e), 0);
    assert_int_equal(synack_listen(h->s, l, backlog), 0);
    return l;
}

static struct wire_tcp_opts fo(uint8_t kind, const uint8_t *cookie, uint8_t len)
{
    struct wire_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.has_mss = true;
    o.mss = 1460;
    o.fo_kind = kind;
    o.fo_len = len;
    if (len)
        memcpy(o.fo_cookie, cookie, len);
    return o;
}

/* RFC 7413 §4.1.2, §4.2.2: a cookie request draws a SYN-ACK with the
 * server's cookie for this client, made as Linux makes it. */
static void test_rfc7413_4_1_2_request_draws_linux_cookie(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL);
    listener(&h, 4);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, NULL, 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1001);
    assert_int_equal(t.opt.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(t.opt.fo_len, 8);
    assert_memory_equal(t.opt.fo_cookie, cookie_linux, 8);
    assert_int_equal(ctr(&h, "tcp_fo_cookie_req"), 1);
    h_free(&h);
}

/* Linux TCP_FASTOPEN_KEY: a listener's own key makes its cookies (here
 * Linux's key words set on the socket, the stack's key being another);
 * only 16 or 32 bytes are a key. */
static void test_rfc7413_4_1_2_listener_key(void **state)
{
    (void)state;
    struct harness h;
    synack_config c = {.fastopen = SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL};
    h_init(&h, &c); /* the stack's key comes from the seed */
    synack_sock l = synack_socket(h.s);
    assert_int_equal(synack_set_fastopen_key(h.s, l, key_linux, 0), -EINVAL);
    assert_int_equal(synack_set_fastopen_key(h.s, l, key_linux, 3), -EINVAL);
    assert_int_equal(synack_set_fastopen_key(h.s, l, key_linux, 16), 0); /* before listen() */
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &e), 0);
    assert_int_equal(synack_listen(h.s, l, 4), 0);
    uint8_t got[16];
    assert_int_equal(synack_get_fastopen_key(h.s, l, got), 0);
    assert_memory_equal(got, key_linux, 16);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, NULL, 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1001);
    assert_memory_equal(t.opt.fo_cookie, cookie_linux, 8);
    h_free(&h);
}

/* RFC 7413 §4.2.2: a valid cookie with data: the SYN-ACK acknowledges the
 * data, the child can be accepted, read and written before the third ACK. */
static void test_rfc7413_4_2_2_valid_cookie_data_taken_at_once(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL);
    synack_sock l = listener(&h, 4);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, cookie_linux, 8);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o, .data = "0123456789", .len = 10});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1011);
    assert_int_equal(t.opt.fo_kind, 0); /* no cookie when the one sent was good */
    uint32_t iss = t.seq;
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    assert_int_equal(state_of(&h, c), SYNACK_SYN_RECEIVED);
    assert_true(info_of(&h, c).syn_data);
    char buf[16];
    assert_int_equal(synack_recv(h.s, c, buf, sizeof buf), 10);
    assert_memory_equal(buf, "0123456789", 10);
    assert_int_equal(synack_send(h.s, c, "hello", 5), 5);
    synack_poll(h.s);
    t = expect_seg(&h, A_ | WIRE_TCP_PSH, iss + 1, 1011);
    assert_int_equal(t.payload_len, 5);
    /* the third ACK completes it */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1011, .ack = iss + 6});
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    assert_int_equal(ctr(&h, "tcp_fo_passive"), 1);
    h_free(&h);
}

/* Linux queues a Fast Open SYN's data without tcp_event_data_recv, so the
 * delayed-ACK time is still zero: a FIN right after is ACKed at once
 * (fastopen/server/opt34/fin-close-socket.pkt). */
static void test_rfc7413_syn_data_leaves_ack_time_zero(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL);
    listener(&h, 4);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, cookie_linux, 8);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o, .data = "0123456789", .len = 10});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1011);
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_FIN | A_, .seq = 1011, .ack = t.seq + 1});
    expect_seg(&h, A_, t.seq + 1, 1012);
    h_free(&h);
}

/* RFC 7413 §4.2.2: a bad cookie: only the SYN is acknowledged, the SYN-ACK
 * brings the good cookie, nothing is acceptable before the handshake. */
static void test_rfc7413_4_2_2_bad_cookie_acks_only_the_syn(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL);
    synack_sock l = listener(&h, 4);
    uint8_t bad[8];
    memcpy(bad, cookie_linux, 8);
    bad[7] ^= 1;
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, bad, 8);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o, .data = "0123456789", .len = 10});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1001);
    assert_int_equal(t.opt.fo_len, 8);
    assert_memory_equal(t.opt.fo_cookie, cookie_linux, 8);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    assert_int_equal(ctr(&h, "tcp_fo_passive_fail"), 1);
    h_free(&h);
}

/* The experimental option (RFC 6994 kind 254, magic 0xF989) is answered in
 * kind, as Linux does. */
static void test_rfc7413_experimental_request_answered_in_kind(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL);
    listener(&h, 4);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_EXP, NULL, 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1001);
    assert_int_equal(t.opt.fo_kind, WIRE_TCPOPT_EXP);
    assert_memory_equal(t.opt.fo_cookie, cookie_linux, 8);
    h_free(&h);
}

/* Off unless configured: the default stack ignores the option and the data
 * (today's behaviour, RFC 7413 §4.2.2's non-TFO server). */
static void test_rfc7413_off_by_default(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, cookie_linux, 8);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o, .data = "0123456789", .len = 10});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1001);
    assert_int_equal(t.opt.fo_kind, 0);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    h_free(&h);
}

/* RFC 7413 §5.1 (Linux fastopenq): without the 0x400 bit a listener takes
 * Fast Open only with TCP_FASTOPEN, and only as many pending children as
 * its queue length. */
static void test_rfc7413_5_1_queue_length_bounds_pending_children(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER);
    synack_sock l = listener(&h, 8);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, cookie_linux, 8);
    /* no TCP_FASTOPEN yet: no Fast Open */
    h_inject(&h, &(struct h_seg){.sport = 40001, .flags = S_, .seq = 1000, .opts = &o, .data = "ab", .len = 2});
    expect_flags(&h, S_ | A_, 1001);
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_FASTOPEN, 1), 0);
    h_inject(&h, &(struct h_seg){.sport = 40002, .flags = S_, .seq = 2000, .opts = &o, .data = "ab", .len = 2});
    expect_flags(&h, S_ | A_, 2003);
    /* the one pending child fills the queue */
    h_inject(&h, &(struct h_seg){.sport = 40003, .flags = S_, .seq = 3000, .opts = &o, .data = "ab", .len = 2});
    expect_flags(&h, S_ | A_, 3001);
    int v = -1;
    assert_int_equal(synack_getopt(h.s, l, SYNACK_OPT_FASTOPEN, &v), 0);
    assert_int_equal(v, 1);
    h_free(&h);
}

/* Linux TFO_SERVER_COOKIE_NOT_REQD (0x200): data in a SYN without the
 * option is taken. */
static void test_rfc7413_linux_cookie_not_required(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL | SYNACK_FASTOPEN_SERVER_NO_COOKIE);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .data = "abc", .len = 3});
    expect_flags(&h, S_ | A_, 1004);
    assert_true(synack_accept(h.s, l, NULL) >= 0);
    h_free(&h);
}

/* Linux tcp_reset: a Fast Open child is a socket already, so a RST
 * before the third ACK resets it (ECONNRESET), where a plain child that
 * nobody accepted just goes (ECONNREFUSED is never seen). */
static void test_rfc7413_rst_on_fast_open_child_is_econnreset(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER | SYNACK_FASTOPEN_SERVER_ALL);
    synack_sock l = listener(&h, 4);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, cookie_linux, 8);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o, .data = "0123456789", .len = 10});
    struct wire_tcp t = expect_flags(&h, S_ | A_, 1011);
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_RST | A_, .seq = 1011, .ack = t.seq + 1});
    assert_int_equal(state_of(&h, c), SYNACK_CLOSED);
    assert_int_equal(synack_send(h.s, c, "x", 1), -ECONNRESET);
    h_free(&h);
}

static synack_sock client(struct harness *h)
{
    return synack_socket(h->s);
}

static const synack_endpoint server = {.addr = {.family = SYNACK_AF_INET, .bytes = {198, 18, 0, 1}},
                                       .port = H_RPORT};

/* RFC 7413 §4.1.3: with no cookie cached the SYN asks for one and carries
 * no data; the cookie of the SYN-ACK is cached and the next SYN carries it
 * with data (Linux: up to the server's MSS less 40). */
static void test_rfc7413_4_1_3_request_then_cookie_with_data(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT);
    static const uint8_t ck[4] = {0xab, 0xcd, 0x12, 0x34};
    static uint8_t data[2000];
    synack_sock c = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c, &server, data, 100, 0), 0);
    struct wire_tcp t = expect_flags(&h, S_, 0);
    assert_int_equal(t.opt.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(t.opt.fo_len, 0);
    assert_int_equal(t.payload_len, 0);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, ck, 4);
    o.mss = 940;
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 5000,
                                 .ack = t.seq + 1, .opts = &o});
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_drain(&h);

    synack_sock c2 = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c2, &server, data, sizeof data, 0), 900);
    t = expect_flags(&h, S_, 0);
    assert_int_equal(t.opt.fo_len, 4);
    assert_memory_equal(t.opt.fo_cookie, ck, 4);
    assert_int_equal(t.payload_len, 900);
    /* all of it acknowledged: TCPI_OPT_SYN_DATA */
    struct wire_tcp_opts plain = fo(0, NULL, 0);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 7000,
                                 .ack = t.seq + 901, .opts = &plain});
    assert_int_equal(state_of(&h, c2), SYNACK_ESTABLISHED);
    assert_true(info_of(&h, c2).syn_data);
    assert_int_equal(info_of(&h, c2).unsent, 0);
    h_free(&h);
}

/* RFC 7413 §4.2.1 / Linux tcp_rcv_fastopen_synack: a SYN-ACK that
 * acknowledges only the SYN makes the client send the data again at once. */
static void test_rfc7413_syn_data_not_acked_is_sent_again(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT);
    static const uint8_t ck[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    synack_sock c = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c, &server, "x", 1, 0), 0);
    struct wire_tcp t = expect_flags(&h, S_, 0);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, ck, 8);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 5000,
                                 .ack = t.seq + 1, .opts = &o});
    h_drain(&h);
    synack_sock c2 = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c2, &server, "hello", 5, 0), 5);
    t = expect_flags(&h, S_, 0);
    assert_int_equal(t.payload_len, 5);
    uint32_t iss = t.seq;
    struct wire_tcp_opts plain = fo(0, NULL, 0);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 7000,
                                 .ack = iss + 1, .opts = &plain});
    t = expect_seg(&h, A_ | WIRE_TCP_PSH, iss + 1, 7001);
    assert_int_equal(t.payload_len, 5);
    assert_false(info_of(&h, c2).syn_data);
    assert_int_equal(ctr(&h, "tcp_fo_active_fail"), 1);
    /* Linux tcp_send_syn_data keeps the SYN's data an skb of its own,
     * flagged ACK|PSH: resent after an RTO, it goes alone and with PSH when
     * the next write's data does not fit beside it in a segment (MSS 1460;
     * tcp_retrans_try_collapse merges only a next skb that fits whole), as
     * in fastopen/client/syn-data-only-syn-acked.pkt :69 with a SACK */
    static const uint8_t more[1460];
    assert_int_equal(synack_setopt(h.s, c2, SYNACK_OPT_NODELAY, 1), 0);
    assert_int_equal(synack_send(h.s, c2, more, sizeof more), (long)sizeof more);
    h_drain(&h);
    h_advance(&h, SYNACK_SEC(3));
    t = expect_seg(&h, A_ | WIRE_TCP_PSH, iss + 1, 7001);
    assert_int_equal(t.payload_len, 5);
    h_free(&h);
}

/* Linux TCP_FASTOPEN_CONNECT: with a cookie cached, connect() returns 0
 * and sends nothing; the first send makes the SYN with cookie and data.
 * Without one, connect() sends a SYN that asks for a cookie. */
static void test_rfc7413_fastopen_connect_defers_the_syn(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT);
    static const uint8_t ck[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    synack_sock c = client(&h);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_FASTOPEN_CONNECT, 1), 0);
    assert_int_equal(synack_connect(h.s, c, &server), -EINPROGRESS);
    struct wire_tcp t = expect_flags(&h, S_, 0);
    assert_int_equal(t.opt.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(t.opt.fo_len, 0);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, ck, 8);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 5000,
                                 .ack = t.seq + 1, .opts = &o});
    h_drain(&h);

    synack_sock c2 = client(&h);
    assert_int_equal(synack_setopt(h.s, c2, SYNACK_OPT_FASTOPEN_CONNECT, 1), 0);
    assert_int_equal(synack_connect(h.s, c2, &server), 0);
    expect_none(&h);
    assert_true(info_of(&h, c2).fo_deferred);
    assert_int_equal(synack_send(h.s, c2, "hello", 5), 5);
    t = expect_flags(&h, S_, 0);
    assert_int_equal(t.payload_len, 5);
    assert_memory_equal(t.opt.fo_cookie, ck, 8);
    assert_false(info_of(&h, c2).fo_deferred);
    /* only before connect, and only with the client bit */
    assert_int_equal(synack_setopt(h.s, c2, SYNACK_OPT_FASTOPEN_CONNECT, 1), -EINVAL);
    h_free(&h);
    init(&h, SYNACK_FASTOPEN_SERVER);
    c = client(&h);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_FASTOPEN_CONNECT, 1), -EOPNOTSUPP);
    h_free(&h);
}

/* Linux: Fast Open on a client with the client bit off is EOPNOTSUPP. */
static void test_rfc7413_client_disabled_eopnotsupp(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_SERVER);
    synack_sock c = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c, &server, "x", 1, 0), -EOPNOTSUPP);
    expect_none(&h);
    h_free(&h);
}

/* Linux's sysctls written on a live stack: net.ipv4.tcp_fastopen (client
 * bit cleared: EOPNOTSUPP; set again: Fast Open), tcp_timestamps (later SYNs
 * without TSopt), and `ip tcp_metrics flush` (RFC 7413 §4.1.3: the cached
 * cookie is gone, the next SYN asks again and carries no data). */
static void test_rfc7413_linux_sysctls_at_run_time(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT);
    static const uint8_t ck[4] = {0xab, 0xcd, 0x12, 0x34};
    synack_sock c = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c, &server, "x", 1, 0), 0);
    struct wire_tcp t = expect_flags(&h, S_, 0);
    assert_true(t.opt.has_ts);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, ck, 4);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 5000,
                                 .ack = t.seq + 1, .opts = &o});
    h_drain(&h);

    synack_set_fastopen(h.s, 0);
    assert_int_equal(synack_connect_fastopen(h.s, client(&h), &server, "x", 1, 0), -EOPNOTSUPP);
    expect_none(&h);
    synack_set_fastopen(h.s, SYNACK_FASTOPEN_CLIENT);
    synack_set_timestamps(h.s, false);
    assert_int_equal(synack_connect_fastopen(h.s, client(&h), &server, "x", 1, 0), 1);
    t = expect_flags(&h, S_, 0);
    assert_false(t.opt.has_ts);
    assert_int_equal(t.opt.fo_len, 4); /* the cached cookie, with the data */
    assert_int_equal(t.payload_len, 1);

    synack_fastopen_cache_flush(h.s);
    synack_set_timestamps(h.s, true);
    assert_int_equal(synack_connect_fastopen(h.s, client(&h), &server, "x", 1, 0), 0);
    t = expect_flags(&h, S_, 0);
    assert_true(t.opt.has_ts);
    assert_int_equal(t.opt.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(t.opt.fo_len, 0); /* a request again */
    assert_int_equal(t.payload_len, 0);
    h_free(&h);
}

/* Linux tcp_rcv_fastopen_synack: a cookie in the SYN-ACK of a SYN that
 * carried no Fast Open option (data alone, TFO_CLIENT_NO_COOKIE) was not
 * asked for and is not kept; the SYN-ACK's MSS is. With cookies required
 * again, the next connect asks for one. */
static void test_rfc7413_linux_unsolicited_cookie_not_kept(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT | SYNACK_FASTOPEN_CLIENT_NO_COOKIE);
    static const uint8_t ck[4] = {0xab, 0xcd, 0x12, 0x34};
    synack_sock c = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c, &server, "hello", 5, 0), 5);
    struct wire_tcp t = expect_flags(&h, S_, 0);
    assert_int_equal(t.opt.fo_kind, 0); /* data, no option */
    assert_int_equal(t.payload_len, 5);
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, ck, 4);
    o.mss = 940;
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 5000,
                                 .ack = t.seq + 6, .opts = &o});
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_drain(&h);

    synack_set_fastopen(h.s, SYNACK_FASTOPEN_CLIENT);
    assert_int_equal(synack_connect_fastopen(h.s, client(&h), &server, "x", 1, 0), 0);
    t = expect_flags(&h, S_, 0);
    assert_int_equal(t.opt.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(t.opt.fo_len, 0); /* a request: nothing was cached */
    assert_int_equal(t.payload_len, 0);
    h_drain(&h);

    /* the MSS was: cookie-less data is cut to it */
    synack_set_fastopen(h.s, SYNACK_FASTOPEN_CLIENT | SYNACK_FASTOPEN_CLIENT_NO_COOKIE);
    static uint8_t big[2000];
    long n = synack_connect_fastopen(h.s, client(&h), &server, big, sizeof big, 0);
    assert_true(n > 0 && n <= 940);
    h_free(&h);
}

/* A cookie request no server answers (Linux tcp_rcv_fastopen_synack,
 * try_exp): RFC 7413's option first, the experimental one (RFC 6994 254)
 * once, then RFC 7413's for good. */
static void test_rfc7413_linux_experimental_fallback_tried_once(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT);
    const uint8_t want[] = {WIRE_TCPOPT_FASTOPEN, WIRE_TCPOPT_EXP, WIRE_TCPOPT_FASTOPEN,
                            WIRE_TCPOPT_FASTOPEN};
    struct wire_tcp_opts plain = fo(0, NULL, 0);
    for (size_t i = 0; i < sizeof want; i++) {
        synack_sock c = client(&h);
        assert_int_equal(synack_connect_fastopen(h.s, c, &server, "x", 1, 0), 0);
        struct wire_tcp t = expect_flags(&h, S_, 0);
        assert_int_equal(t.opt.fo_kind, want[i]);
        assert_int_equal(t.opt.fo_len, 0);
        h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_,
                                     .seq = 5000, .ack = t.seq + 1, .opts = &plain});
        assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
        h_drain(&h);
    }
    h_free(&h);
}

/* Linux tcp_rcv_synsent_state_process with a writer waiting (sk_write_pending):
 * the SYN-ACK's ACK is saved for that writer's data, even across the
 * stack's own flush of pending ACKs; with no data it goes after the
 * delayed-ACK time (fastopen/client/blocking-sendmsg-multi-iov.pkt). */
static void test_rfc7413_linux_synack_ack_waits_for_the_writer(void **state)
{
    (void)state;
    struct harness h;
    init(&h, SYNACK_FASTOPEN_CLIENT);
    static const uint8_t ck[4] = {0xab, 0xcd, 0x12, 0x34};
    struct wire_tcp_opts o = fo(WIRE_TCPOPT_FASTOPEN, ck, 4);
    synack_sock c = client(&h);
    assert_int_equal(synack_connect_fastopen(h.s, c, &server, "", 0, 0), 0);
    struct wire_tcp t = expect_flags(&h, S_, 0);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 5000,
                                 .ack = t.seq + 1, .opts = &o});
    h_drain(&h);

    static uint8_t data[3000];
    for (int writer = 1; writer >= 0; writer--) {
        synack_sock d = client(&h);
        long took = synack_connect_fastopen(h.s, d, &server, data, sizeof data, SYNACK_SEND_FO_WAIT);
        assert_true(took > 0 && took < (long)sizeof data);
        t = expect_flags(&h, S_, 0);
        struct wire_tcp_opts plain = fo(0, NULL, 0);
        h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = 7000,
                                     .ack = t.seq + 1 + (uint32_t)took, .opts = &plain});
        synack_poll(h.s);
        expect_none(&h); /* no bare ACK */
        if (writer) {
            assert_int_equal(synack_send(h.s, d, data, 100), 100);
            struct wire_tcp seg = expect_flags(&h, A_ | WIRE_TCP_PSH, 7001);
            assert_int_equal(seg.payload_len, 100);
        } else {
            h_advance(&h, SYNACK_MS(40));
            struct wire_tcp ack = expect_flags(&h, A_, 7001);
            assert_int_equal(ack.payload_len, 0);
        }
        h_drain(&h);
    }
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7413_4_1_2_request_draws_linux_cookie),
        cmocka_unit_test(test_rfc7413_4_1_2_listener_key),
        cmocka_unit_test(test_rfc7413_4_2_2_valid_cookie_data_taken_at_once),
        cmocka_unit_test(test_rfc7413_syn_data_leaves_ack_time_zero),
        cmocka_unit_test(test_rfc7413_4_2_2_bad_cookie_acks_only_the_syn),
        cmocka_unit_test(test_rfc7413_experimental_request_answered_in_kind),
        cmocka_unit_test(test_rfc7413_off_by_default),
        cmocka_unit_test(test_rfc7413_5_1_queue_length_bounds_pending_children),
        cmocka_unit_test(test_rfc7413_linux_cookie_not_required),
        cmocka_unit_test(test_rfc7413_rst_on_fast_open_child_is_econnreset),
        cmocka_unit_test(test_rfc7413_4_1_3_request_then_cookie_with_data),
        cmocka_unit_test(test_rfc7413_syn_data_not_acked_is_sent_again),
        cmocka_unit_test(test_rfc7413_fastopen_connect_defers_the_syn),
        cmocka_unit_test(test_rfc7413_client_disabled_eopnotsupp),
        cmocka_unit_test(test_rfc7413_linux_sysctls_at_run_time),
        cmocka_unit_test(test_rfc7413_linux_unsolicited_cookie_not_kept),
        cmocka_unit_test(test_rfc7413_linux_experimental_fallback_tried_once),
        cmocka_unit_test(test_rfc7413_linux_synack_ack_waits_for_the_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
