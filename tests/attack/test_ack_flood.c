/* Hostile peer: ACK floods during a transfer from the stack. The peer's own
 * 4-tuple and sequence numbers, so every ACK is acceptable as a segment;
 * what it acknowledges is not:
 *   - data never sent (SEG.ACK > SND.NXT): RFC 9293 §3.10.7.4 fifth, drop
 *     and send an ACK; RFC 5961 §5.2, the ACK is a (rate-limited) challenge;
 *   - data acknowledged long ago (SEG.ACK < SND.UNA - MAX.SND.WND): RFC
 *     5961 §5.2, dropped the same way;
 *   - duplicates of the current SND.UNA, which are valid and change nothing.
 * Each bad ACK is dropped and counted (tcp_drop_badack), SND.UNA never moves
 * past what the peer really received, and the transfer arrives intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer.h"

#define FLOOD_PER_STEP 40

static void rfc5961_5_2_ack_flood_dropped_counted_no_state_change(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 793;
    h_init(&h, &cfg);
    struct peer p;
    peer_connect(&p, &h, peer_listen(&h, 8), 40000, 0x70000000u, false, 0, 0, 4u << 20);
    uint64_t rng = 793, bad = 0, dup = 0;
    uint64_t bad0 = synack_counter(h.s, "tcp_drop_badack");
    uint32_t last_una = p.iss + 1;
    for (int step = 0; !peer_done(&p); step++) {
        assert_true(step < 100000);
        peer_step(&p, 0);
        for (int k = 0; k < FLOOD_PER_STEP; k++) {
            synack_tcp_info ti;
            assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
            uint64_t r = atk_rand(&rng);
            uint32_t ack;
            switch (r % 3) {
            case 0: /* beyond anything sent */
                ack = ti.snd_nxt + 1 + (uint32_t)((r >> 8) % 0x40000000u);
                bad++;
                break;
            case 1: /* older than the window allows */
                ack = ti.snd_una - ti.snd_wnd - 65536 - 1 - (uint32_t)((r >> 8) % 0x40000000u);
                bad++;
                break;
            default: /* a duplicate */
                ack = ti.snd_una;
                dup++;
                break;
            }
            peer_inject(&p, WIRE_TCP_ACK, p.snd_nxt, ack, NULL, 0);
            assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
            /* SND.UNA: only what the peer's real ACKs gave, never more */
            assert_true(seq_geq(ti.snd_una, last_una));
            assert_true(seq_leq(ti.snd_una, p.rcv_nxt));
            assert_true(seq_leq(ti.snd_una, ti.snd_nxt));
            assert_int_equal(ti.state, SYNACK_ESTABLISHED);
            last_una = ti.snd_una;
        }
        peer_take(&p);
        h_advance(&h, 1000);
    }
    peer_check_intact(&p);
    uint64_t counted = synack_counter(h.s, "tcp_drop_badack") - bad0;
    print_message("%llu bad ACKs, %llu duplicates: %llu counted as tcp_drop_badack, %llu challenge ACKs, "
                  "%llu suppressed; %llu bytes intact\n",
                  (unsigned long long)bad, (unsigned long long)dup, (unsigned long long)counted,
                  (unsigned long long)synack_counter(h.s, "tcp_challenge_ack"),
                  (unsigned long long)synack_counter(h.s, "tcp_challenge_ack_limited"),
                  (unsigned long long)p.down_total);
    assert_int_equal(counted, bad);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(rfc5961_5_2_ack_flood_dropped_counted_no_state_change)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
