/* RFC 5961: 100,000 blind segments - RSTs, SYNs and data, with the right
 * 4-tuple but random sequence and acknowledgment numbers - thrown at an
 * established connection while a transfer runs both ways. The connection
 * is never reset, both streams arrive intact (SHA-256 end to end), and the
 * challenge ACKs the attack draws stay within the RFC 5961 §7 limit.
 * Half the guesses land inside the receive window (the case RFC 5961 is
 * about: §3.2 RST, §4.2 SYN, §5.2 data with a bad ACK); the others anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer.h"

#define BLIND 100000
#define PER_STEP 50
#define STEP_US 2500 /* 2,000 steps: 5 s of virtual time */
#define LIMIT 1000   /* challenge ACKs per second (the default) */

static void rfc5961_blind_rst_syn_data_never_reset_or_corrupt(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 5961;
    h_init(&h, &cfg);
    struct peer p;
    peer_connect(&p, &h, peer_listen(&h, 8), 40000, 0x1000, true, 7, 2u << 20, 2u << 20);
    uint64_t rng = 5961;
    uint8_t junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)atk_rand(&rng);
    int sent = 0, steps = 0;
    synack_time start = h.clock.now;
    uint64_t ch0 = synack_counter(h.s, "tcp_challenge_ack");
    while (sent < BLIND || !peer_done(&p)) {
        assert_true(++steps < 200000);
        peer_step(&p, 4);
        for (int k = 0; k < PER_STEP && sent < BLIND; k++, sent++) {
            uint64_t r = atk_rand(&rng);
            synack_tcp_info ti;
            assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
            uint32_t seq = (r & 1) ? ti.rcv_nxt + (uint32_t)((r >> 8) % (ti.rcv_wnd + 1u)) /* in window */
                                   : (uint32_t)(r >> 8);
            uint32_t ack = (uint32_t)atk_rand(&rng);
            uint16_t flags;
            size_t len = 0;
            switch ((r >> 1) % 3) {
            case 0: flags = WIRE_TCP_RST | ((r & 0x10) ? WIRE_TCP_ACK : 0); break;
            case 1: flags = WIRE_TCP_SYN | ((r & 0x10) ? WIRE_TCP_ACK : 0); break;
            default:
                flags = WIRE_TCP_ACK | WIRE_TCP_PSH;
                len = 1 + (size_t)((r >> 40) % sizeof junk);
                break;
            }
            h_inject(&h, &(struct h_seg){.flags = flags, .seq = seq, .ack = ack, .sport = p.port,
                                           .data = len ? junk : NULL, .len = len});
        }
        peer_take(&p);
        synack_tcp_info ti;
        assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
        if (ti.state != SYNACK_ESTABLISHED)
            fail_msg("after %d blind segments the connection is %s", sent, synack_state_name(ti.state));
        h_advance(&h, STEP_US);
    }
    peer_check_intact(&p);
    assert_int_equal(synack_counter(h.s, "tcp_rst_in"), 0);
    assert_int_equal(synack_counter(h.s, "tcp_estab_resets"), 0);
    /* §7: at most LIMIT challenge ACKs in any one-second window; windows
     * start at a challenge, so the run's span allows one more window. */
    uint64_t ch = synack_counter(h.s, "tcp_challenge_ack") - ch0;
    uint64_t secs = (h.clock.now - start) / SYNACK_SEC(1) + 1;
    print_message("%d blind segments over %llu s: %llu challenge ACKs, %llu suppressed, %llu segments "
                  "outside the window; %llu bytes each way intact\n",
                  sent, (unsigned long long)secs, (unsigned long long)ch,
                  (unsigned long long)synack_counter(h.s, "tcp_challenge_ack_limited"),
                  (unsigned long long)synack_counter(h.s, "tcp_drop_unacceptable"),
                  (unsigned long long)p.up_total);
    assert_true(ch <= LIMIT * (secs + 1));
    assert_true(synack_counter(h.s, "tcp_challenge_ack_limited") > 0); /* the limit was reached */
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(rfc5961_blind_rst_syn_data_never_reset_or_corrupt)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
