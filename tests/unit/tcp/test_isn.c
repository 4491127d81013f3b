/* RFC 6528 initial sequence numbers: ISN = M + F(4-tuple, secret key), M a
 * 4 µs clock, F keyed from the stack's seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "harness.h"
#include "tcp_util.h"
#include "tcp/tcb.h"
#include "wire/tcp.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST

static void listen_on(struct harness *h)
{
    synack_sock l = synack_socket(h->s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h->s, l, &e), 0);
    assert_int_equal(synack_listen(h->s, l, 64), 0);
}

/* The ISN the stack picks for a SYN from sport; the embryonic connection
 * is then reset so the 4-tuple can be used again. */
static uint32_t isn_for(struct harness *h, uint16_t sport)
{
    h_inject(h, &(struct h_seg){.flags = S_, .seq = 1, .sport = sport});
    uint32_t isn = expect_flags(h, S_ | A_, 2).seq;
    h_inject(h, &(struct h_seg){.flags = R_, .seq = 2, .sport = sport});
    expect_none(h);
    return isn;
}

/* RFC 6528 §3: F hashes the 4-tuple, so connections that differ only in a
 * port get unrelated ISNs at the same instant. */
static void test_rfc6528_3_isns_of_different_tuples_differ(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    listen_on(&h);
    uint32_t isn[16];
    for (int i = 0; i < 16; i++)
        isn[i] = isn_for(&h, (uint16_t)(40000 + i));
    for (int i = 0; i < 16; i++)
        for (int j = i + 1; j < 16; j++)
            assert_int_not_equal(isn[i], isn[j]);
    /* not a counter per port either: consecutive ports land far apart */
    for (int i = 0; i + 1 < 16; i++) {
        uint32_t d = isn[i + 1] - isn[i];
        assert_true(d > 65536u && d < 0u - 65536u);
    }
    h_free(&h);
}

/* RFC 6528 §3 (and RFC 9293 §3.4.1): M ticks every 4 µs, so one 4-tuple's
 * ISN grows by 250000 per second of clock. */
static void test_rfc6528_3_same_tuple_isn_grows_with_4us_clock(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    listen_on(&h);
    uint32_t a = isn_for(&h, 40000);
    h_advance(&h, SYNACK_SEC(1));
    uint32_t b = isn_for(&h, 40000);
    assert_int_equal(b - a, 250000);
    h_advance(&h, 4);
    uint32_t c = isn_for(&h, 40000);
    assert_int_equal(c - b, 1);
    h_advance(&h, SYNACK_SEC(60));
    uint32_t d = isn_for(&h, 40000);
    assert_int_equal(d - c, 15000000);
    h_free(&h);
}

/* RFC 6528 §3: the secret key comes from the stack's seed: other seeds give
 * other ISNs for the same 4-tuple at the same time; the same seed the same
 * ISN (a replayable run). Active opens too. */
static void test_rfc6528_3_different_seeds_give_different_isns(void **state)
{
    (void)state;
    uint32_t isn[3], act[3];
    const uint64_t seeds[3] = {1, 2, 1};
    for (int i = 0; i < 3; i++) {
        synack_config cfg = {.seed = seeds[i]};
        struct harness h;
        h_init(&h, &cfg);
        listen_on(&h);
        isn[i] = isn_for(&h, 40000);
        synack_sock c = synack_socket(h.s);
        synack_endpoint b = {.addr = synack_ipv4(H_LOCAL), .port = 33333};
        assert_int_equal(synack_bind(h.s, c, &b), 0);
        synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
        assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
        struct wire_tcp t;
        assert_true(h_next(&h, &t));
        act[i] = t.seq;
        h_free(&h);
    }
    assert_int_not_equal(isn[0], isn[1]);
    assert_int_equal(isn[0], isn[2]);
    assert_int_not_equal(act[0], act[1]);
    assert_int_equal(act[0], act[2]);
}

/* F is SipHash-2-4 of the bytes domain 'I', family, laddr, raddr, lport,
 * rport (ports big-endian; IPv4 addresses 4 bytes): the library's function
 * on that message, whichever way isn.c feeds it, so a seed replays the same
 * ISNs and timestamp offsets as before. Low half F, high half the offset. */
static void test_rfc6528_3_f_is_siphash_of_the_tuple(void **state)
{
    (void)state;
    struct tcp_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    for (int i = 0; i < 16; i++)
        ctx.isn_key[i] = (uint8_t)(0xa5 ^ (i * 29));
    ctx.now = 4000; /* M = 1000 */
    for (int fam = 4; fam <= 6; fam += 2)
        for (int k = 0; k < 64; k++) {
            struct tcp_tuple t;
            memset(&t, 0, sizeof t);
            t.family = (uint8_t)fam;
            size_t n = fam == 6 ? 16 : 4;
            for (size_t i = 0; i < n; i++) {
                t.laddr[i] = (uint8_t)(k * 7 + i * 13 + 1);
                t.raddr[i] = (uint8_t)(k * 11 + i * 5 + 2);
            }
            t.lport = (uint16_t)(1024 + k * 997);
            t.rport = (uint16_t)(80 + k * 131);
            uint8_t msg[38], out[8];
            size_t len = 0;
            msg[len++] = 'I';
            msg[len++] = (uint8_t)fam;
            memcpy(msg + len, t.laddr, n);
            len += n;
            memcpy(msg + len, t.raddr, n);
            len += n;
            msg[len++] = (uint8_t)(t.lport >> 8);
            msg[len++] = (uint8_t)t.lport;
            msg[len++] = (uint8_t)(t.rport >> 8);
            msg[len++] = (uint8_t)t.rport;
            crypto_shorthash_siphash24(out, msg, len, ctx.isn_key);
            uint64_t f = 0;
            for (int i = 7; i >= 0; i--)
                f = f << 8 | out[i];
            uint32_t ts_off;
            assert_int_equal(tcp_isn_ts(&ctx, &t, &ts_off), (uint32_t)f + 1000u);
            assert_int_equal(ts_off, (uint32_t)(f >> 32));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6528_3_isns_of_different_tuples_differ),
        cmocka_unit_test(test_rfc6528_3_same_tuple_isn_grows_with_4us_clock),
        cmocka_unit_test(test_rfc6528_3_different_seeds_give_different_isns),
        cmocka_unit_test(test_rfc6528_3_f_is_siphash_of_the_tuple),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
