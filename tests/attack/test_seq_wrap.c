/* Sequence wrap (RFC 9293 §3.4: all sequence arithmetic is modulo 2^32):
 * transfers both ways whose sequence numbers cross 2^32 arrive intact.
 * The peer picks its ISN 100 kB below the wrap; the stack's ISN (RFC 6528:
 * keyed hash + a 4 µs clock) is steered there by choosing the virtual time
 * of the SYN: one run learns the hash for the 4-tuple, a second stack with
 * the same seed gets its SYN at the time that puts its ISN where we want
 * it. With and without timestamps and window scaling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer.h"

#define BELOW_WRAP 100000u
#define SIZE (8u << 20)

/* The stack's ISN hash for the peer's 4-tuple, for stacks with this seed. */
static uint32_t isn_hash(const synack_config *cfg, uint16_t port)
{
    struct harness h;
    h_init(&h, cfg);
    peer_listen(&h, 8);
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = 1, .sport = port});
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    uint32_t hash = t.seq - (uint32_t)(h.clock.now / 4u);
    h_free(&h);
    return hash;
}

static void wrap_both_ways(bool ts, uint8_t wscale)
{
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 0x100000000ull;
    cfg.sndbuf = 256 * 1024;
    cfg.rcvbuf = 256 * 1024;
    const uint16_t port = 40000;
    const uint32_t target = 0u - BELOW_WRAP;
    uint64_t ticks = (uint32_t)(target - isn_hash(&cfg, port));
    if (ticks < SYNACK_SEC(100) / 4)
        ticks += 1ull << 32;
    struct harness h;
    h_init(&h, &cfg);
    h.clock.now = ticks * 4; /* the SYN arrives at this time */
    struct peer p;
    peer_connect(&p, &h, peer_listen(&h, 8), port, target - 7, ts, wscale, SIZE, SIZE);
    assert_int_equal(p.iss, target);
    for (int i = 0; !peer_done(&p); i++) {
        assert_true(i < 1000000);
        peer_step(&p, 64);
        h_advance(&h, 500);
    }
    peer_check_intact(&p);
    synack_tcp_info ti;
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
    /* both spaces went round: the numbers now sit just above zero */
    assert_true(ti.snd_una < SIZE && ti.snd_una == (uint32_t)(target + 1 + SIZE));
    assert_true(ti.rcv_nxt < SIZE && ti.rcv_nxt == (uint32_t)(target - 7 + 1 + SIZE));
    assert_int_equal(ti.state, SYNACK_ESTABLISHED);
    print_message("ts %d wscale %u: ISNs %#x (stack) and %#x (peer), %u MiB each way across 2^32 intact\n", ts,
                  wscale, p.iss, p.isn, SIZE >> 20);
    h_free(&h);
}

static void rfc9293_3_4_transfer_across_the_wrap(void **state)
{
    (void)state;
    wrap_both_ways(true, 7);
    wrap_both_ways(false, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(rfc9293_3_4_transfer_across_the_wrap)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
