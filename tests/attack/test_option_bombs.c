/* Hostile peer: option bombs on an established connection.
 *   - 40 bytes of NOPs (RFC 9293 §3.1: legal padding) on every data segment
 *     of a transfer: the data is taken as if they were not there;
 *   - SACK blocks outside the window (RFC 2018 §4, RFC 6675: blocks not
 *     inside SND.UNA..SND.NXT are ignored) on the peer's ACKs while the
 *     stack sends: nothing is marked lost or acknowledged by them, the
 *     transfer completes intact;
 *   - malformed option lengths (0, 1, running past the header): RFC 9293
 *     §3.1 / RFC 1122 §4.2.2.5 - the segment is dropped, counted
 *     (tcp_drop_opts), unanswered, and changes nothing even when it carries
 *     data at RCV.NXT;
 *   - a known option with the wrong length (MSS of 3 bytes) and options that
 *     belong on a SYN only (MSS, window scale) on data segments: ignored,
 *     the data taken, the window scale unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer.h"

/* A segment with raw option bytes (zero-padded to a multiple of 4). */
static void inject_opts(struct peer *p, uint16_t flags, uint32_t seq, uint32_t ack, const uint8_t *opts,
                        size_t optlen, const uint8_t *data, size_t len)
{
    uint8_t buf[2048], ob[WIRE_TCP_OPT_MAX];
    memset(ob, 0, sizeof ob);
    memcpy(ob, opts, optlen);
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = p->port;
    t.dport = H_LPORT;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.wnd = p->wnd;
    t.opts_raw = ob;
    t.opts_len = (optlen + 3) & ~(size_t)3;
    uint8_t *tcp = buf + WIRE_IPV4_HDR_MIN;
    int hl = wire_tcp_emit(tcp, sizeof buf - WIRE_IPV4_HDR_MIN, &t);
    assert_true(hl > 0);
    if (len)
        memcpy(tcp + hl, data, len);
    wire_tcp_set_csum_ipv4(tcp, (size_t)hl + len, H_REMOTE, H_LOCAL);
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = H_REMOTE, .dst = H_LOCAL};
    wire_ipv4_emit(buf, sizeof buf, &ip, (size_t)hl + len);
    h_inject_raw(p->h, buf, WIRE_IPV4_HDR_MIN + (size_t)hl + len);
}

static struct harness h;

static void setup_conn(struct peer *p, bool ts, uint64_t up, uint64_t down)
{
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 2018;
    h_init(&h, &cfg);
    peer_connect(p, &h, peer_listen(&h, 8), 40000, 1000, ts, 7, up, down);
}

static void rfc9293_3_1_forty_bytes_of_nops_on_every_data_segment(void **state)
{
    (void)state;
    struct peer p;
    setup_conn(&p, false, 0, 0);
    uint8_t nops[40];
    memset(nops, WIRE_TCPOPT_NOP, sizeof nops);
    uint8_t data[1000];
    uint64_t total = 0;
    crypto_hash_sha256_state tx, rx;
    crypto_hash_sha256_init(&tx);
    crypto_hash_sha256_init(&rx);
    for (int i = 0; i < 500; i++) {
        for (size_t k = 0; k < sizeof data; k++)
            data[k] = stream_byte(7, total + k);
        crypto_hash_sha256_update(&tx, data, sizeof data);
        inject_opts(&p, WIRE_TCP_ACK | WIRE_TCP_PSH, p.snd_nxt, p.rcv_nxt, nops, sizeof nops, data, sizeof data);
        p.snd_nxt += sizeof data;
        total += sizeof data;
        uint8_t buf[4096];
        long r;
        while ((r = synack_recv(h.s, p.s, buf, sizeof buf)) > 0)
            crypto_hash_sha256_update(&rx, buf, (size_t)r);
        h_advance(&h, 1000);
        peer_take(&p);
    }
    synack_tcp_info ti;
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
    assert_int_equal(ti.rcv_nxt, p.snd_nxt); /* every byte taken */
    assert_int_equal(synack_counter(h.s, "tcp_drop_opts"), 0);
    uint8_t a[32], b[32];
    crypto_hash_sha256_final(&tx, a);
    crypto_hash_sha256_final(&rx, b);
    assert_memory_equal(a, b, 32);
    h_free(&h);
}

static void rfc2018_sack_blocks_outside_the_window_ignored(void **state)
{
    (void)state;
    struct peer p;
    setup_conn(&p, true, 0, 2u << 20);
    synack_tcp_info ti;
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
    assert_true(ti.sack_ok);
    uint64_t rng = 6675;
    for (int step = 0; !peer_done(&p); step++) {
        assert_true(step < 100000);
        peer_step(&p, 0);
        assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
        /* TS (10+2 NOPs) and up to 3 SACK blocks, none inside SND.UNA..SND.NXT */
        uint8_t o[40];
        size_t n = 0;
        o[n++] = WIRE_TCPOPT_NOP, o[n++] = WIRE_TCPOPT_NOP, o[n++] = WIRE_TCPOPT_TS, o[n++] = 10;
        uint32_t tsv = (uint32_t)(h.clock.now / 1000), ecr = p.ts_recent;
        for (int k = 3; k >= 0; k--)
            o[n++] = (uint8_t)(tsv >> (8 * k));
        for (int k = 3; k >= 0; k--)
            o[n++] = (uint8_t)(ecr >> (8 * k));
        o[n++] = WIRE_TCPOPT_NOP, o[n++] = WIRE_TCPOPT_NOP, o[n++] = WIRE_TCPOPT_SACK, o[n++] = 2 + 3 * 8;
        for (int b = 0; b < 3; b++) {
            uint64_t r = atk_rand(&rng);
            uint32_t l, rr;
            switch ((r + (uint64_t)b) % 4) {
            case 0: l = ti.snd_nxt + 1 + (uint32_t)(r >> 40), rr = l + 1000; break;          /* above SND.NXT */
            case 1: rr = ti.snd_una - 1 - (uint32_t)(r >> 40), l = rr - 1000; break;          /* below SND.UNA */
            case 2: l = ti.snd_una + 10, rr = l - 5; break;                                   /* left > right */
            default: l = (uint32_t)(r >> 8), rr = l + 0x7fffffffu; break;                     /* huge */
            }
            for (int k = 3; k >= 0; k--)
                o[n++] = (uint8_t)(l >> (8 * k));
            for (int k = 3; k >= 0; k--)
                o[n++] = (uint8_t)(rr >> (8 * k));
        }
        inject_opts(&p, WIRE_TCP_ACK, p.snd_nxt, p.rcv_nxt, o, n, NULL, 0);
        synack_tcp_info t2;
        assert_int_equal(synack_tcp_info_get(h.s, p.s, &t2), 0);
        assert_int_equal(t2.snd_una, ti.snd_una); /* nothing acknowledged by them */
        assert_int_equal(t2.state, SYNACK_ESTABLISHED);
        peer_take(&p);
        h_advance(&h, 1000);
    }
    peer_check_intact(&p);
    print_message("SACK blocks ignored (tcp_sack_bad): %llu\n",
                  (unsigned long long)synack_counter(h.s, "tcp_sack_bad"));
    assert_true(synack_counter(h.s, "tcp_sack_bad") > 0);
    assert_int_equal(synack_counter(h.s, "tcp_fast_retrans"), 0); /* no loss inferred from them */
    h_free(&h);
}

static void rfc9293_3_1_malformed_option_lengths_drop_the_segment(void **state)
{
    (void)state;
    struct peer p;
    setup_conn(&p, false, 0, 0);
    static const struct {
        uint8_t o[40];
        size_t n;
    } bombs[] = {
        {{WIRE_TCPOPT_MSS, 0, 0, 0}, 4},                      /* length 0 */
        {{WIRE_TCPOPT_NOP, WIRE_TCPOPT_TS, 1, 0}, 4},         /* length 1 */
        {{WIRE_TCPOPT_TS, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12}, /* past the header */
        {{99, 255, 0, 0}, 4},                                 /* unknown kind, past the header */
        {{WIRE_TCPOPT_SACK, 34, 1, 2, 3, 4, 5, 6, 7, 8}, 12},  /* SACK past the header */
        {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
          1, 1, 1, 1, 2},
         40}, /* 39 NOPs, then a kind with no length byte */
    };
    uint8_t data[100];
    memset(data, 'x', sizeof data);
    uint64_t drops0 = synack_counter(h.s, "tcp_drop_opts");
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        synack_tcp_info a, b;
        assert_int_equal(synack_tcp_info_get(h.s, p.s, &a), 0);
        h_drain(&h);
        inject_opts(&p, WIRE_TCP_ACK | WIRE_TCP_PSH, p.snd_nxt, p.rcv_nxt, bombs[i].o, bombs[i].n, data, sizeof data);
        h_advance(&h, SYNACK_MS(300)); /* any delayed ACK would be out */
        struct wire_tcp t;
        if (h_next(&h, &t))
            fail_msg("bomb %zu drew a reply: flags %#x", i, t.flags);
        assert_int_equal(synack_tcp_info_get(h.s, p.s, &b), 0);
        assert_int_equal(b.rcv_nxt, a.rcv_nxt); /* the data was not taken */
        assert_int_equal(b.unread, a.unread);
        assert_int_equal(b.state, SYNACK_ESTABLISHED);
        assert_int_equal(synack_counter(h.s, "tcp_drop_opts"), drops0 + i + 1);
    }
    /* the connection still works: the same data without the bomb */
    inject_opts(&p, WIRE_TCP_ACK | WIRE_TCP_PSH, p.snd_nxt, p.rcv_nxt, NULL, 0, data, sizeof data);
    uint8_t buf[200];
    assert_int_equal(synack_recv(h.s, p.s, buf, sizeof buf), (long)sizeof data);
    h_free(&h);
}

static void rfc9293_syn_only_and_misfit_options_on_data_ignored(void **state)
{
    (void)state;
    struct peer p;
    setup_conn(&p, false, 0, 0);
    synack_tcp_info a;
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &a), 0);
    /* MSS 3 bytes long, MSS 100 and window scale 14 on a data segment */
    static const uint8_t o[] = {WIRE_TCPOPT_MSS, 3, 0x10, WIRE_TCPOPT_NOP, WIRE_TCPOPT_MSS, 4, 0, 100,
                                WIRE_TCPOPT_NOP, WIRE_TCPOPT_WSCALE, 3, 14};
    uint8_t data[100];
    memset(data, 'y', sizeof data);
    inject_opts(&p, WIRE_TCP_ACK | WIRE_TCP_PSH, p.snd_nxt, p.rcv_nxt, o, sizeof o, data, sizeof data);
    uint8_t buf[200];
    assert_int_equal(synack_recv(h.s, p.s, buf, sizeof buf), (long)sizeof data);
    synack_tcp_info b;
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &b), 0);
    assert_int_equal(b.snd_wscale, a.snd_wscale);
    assert_int_equal(b.mss, a.mss);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc9293_3_1_forty_bytes_of_nops_on_every_data_segment),
        cmocka_unit_test(rfc2018_sack_blocks_outside_the_window_ignored),
        cmocka_unit_test(rfc9293_3_1_malformed_option_lengths_drop_the_segment),
        cmocka_unit_test(rfc9293_syn_only_and_misfit_options_on_data_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
