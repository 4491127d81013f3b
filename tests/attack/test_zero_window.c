/* Hostile peer: a window that stays at zero. The peer answers every probe
 * with an ACK that keeps the window closed, for two hours of virtual time.
 * RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: the connection stays open as long
 * as the probes are answered; probes back off exponentially up to the
 * maximum RTO (Linux: 120 s) and never come faster (no busy loop: every
 * deadline the stack returns lies ahead); nothing more than a probe goes
 * into the closed window; the send buffer holds no more than its size.
 * When the window opens, the data held all along arrives intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer.h"

#define SPAN SYNACK_SEC(7200)
#define RTO_MAX SYNACK_SEC(120)

static void rfc9293_3_8_6_1_zero_window_forever_probes_with_backoff(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 1122;
    cfg.sndbuf = 64 * 1024;
    h_init(&h, &cfg);
    struct peer p;
    peer_connect(&p, &h, peer_listen(&h, 8), 40000, 5, true, 7, 0, 256u << 10);
    /* the window closes at once */
    p.wnd = 0;
    peer_inject(&p, WIRE_TCP_ACK, p.snd_nxt, p.rcv_nxt, NULL, 0);
    peer_step(&p, 0); /* the application fills the send buffer */
    synack_tcp_info ti;
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
    assert_int_equal(ti.snd_wnd, 0);
    assert_true(ti.unsent > 0 && ti.unsent <= cfg.sndbuf);
    uint32_t una0 = ti.snd_una;

    synack_time end = h.clock.now + SPAN, last = 0, prev_gap = 0;
    int probes = 0, polls = 0;
    while (h.clock.now < end) {
        synack_time next = synack_poll(h.s);
        assert_true(next > h.clock.now); /* nothing due that a poll left undone */
        assert_true(++polls < 100000);
        if (next == SYNACK_TIME_NEVER || next > end)
            break;
        h.clock.now = next;
        synack_poll(h.s);
        struct wire_tcp t;
        bool any = false;
        while (h_next(&h, &t)) {
            if (t.dport != p.port)
                continue;
            assert_true(t.payload_len <= 1); /* a probe at most: nothing else into a closed window */
            assert_false(t.flags & (WIRE_TCP_RST | WIRE_TCP_FIN));
            any = true;
        }
        h_drain(&h);
        if (!any)
            continue;
        probes++;
        if (last) {
            synack_time gap = h.clock.now - last;
            assert_true(gap <= RTO_MAX + SYNACK_MS(1));
            assert_true(gap + SYNACK_MS(1) >= prev_gap); /* backs off, never speeds up */
            prev_gap = gap;
        }
        last = h.clock.now;
        peer_inject(&p, WIRE_TCP_ACK, p.snd_nxt, p.rcv_nxt, NULL, 0); /* still zero */
        assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
        assert_int_equal(ti.state, SYNACK_ESTABLISHED);
        assert_int_equal(ti.snd_una, una0);
        assert_true(ti.unsent <= cfg.sndbuf);
    }
    assert_int_equal(synack_tcp_info_get(h.s, p.s, &ti), 0);
    print_message("2 h of zero window: %d probes (tcp_persist_probes %llu), last gap %llu s, %d polls; "
                  "state %s, %u bytes held\n",
                  probes, (unsigned long long)synack_counter(h.s, "tcp_persist_probes"),
                  (unsigned long long)(prev_gap / SYNACK_SEC(1)), polls, synack_state_name(ti.state), ti.unsent);
    assert_int_equal(ti.state, SYNACK_ESTABLISHED);
    assert_true(probes >= (int)(SPAN / RTO_MAX) - 1);
    assert_true(probes <= (int)(SPAN / RTO_MAX) + 16);
    assert_true(prev_gap >= RTO_MAX - SYNACK_SEC(1)); /* backed off to the maximum */

    /* the window opens: everything arrives, intact */
    p.wnd = 65535;
    peer_inject(&p, WIRE_TCP_ACK, p.snd_nxt, p.rcv_nxt, NULL, 0);
    for (int i = 0; !peer_done(&p); i++) {
        assert_true(i < 100000);
        peer_step(&p, 0);
        h_advance(&h, 1000);
    }
    peer_check_intact(&p);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(rfc9293_3_8_6_1_zero_window_forever_probes_with_backoff)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
