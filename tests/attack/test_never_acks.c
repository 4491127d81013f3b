/* Hostile peer: it takes the handshake, then never acknowledges anything.
 *   - With TCP_USER_TIMEOUT (RFC 5482, RFC 9293 §3.8.4; SYNACK_OPT_USER_TIMEOUT
 *     in milliseconds) the connection is aborted with ETIMEDOUT once data has
 *     stayed unacknowledged that long - and, as Linux does since 4.19
 *     (tcp_clamp_rto_to_user_timeout), not a backed-off RTO later.
 *   - Without it, the retry count (Linux tcp_retries2 = 15) ends it, after
 *     retransmissions that back off up to the maximum RTO.
 * In both: no busy loop (every deadline lies ahead), nothing sent after the
 * abort, and the socket reports the error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer.h"

struct run {
    synack_time died_at, first_send;
    int segs, retrans;
};

/* Runs the stack's timers with the peer silent until the connection dies
 * or max passes. */
static struct run silent_peer(struct harness *h, struct peer *p, synack_time max)
{
    struct run r = {0};
    uint8_t data[3000];
    memset(data, 'd', sizeof data);
    assert_int_equal(synack_send(h->s, p->s, data, sizeof data), (long)sizeof data);
    synack_poll(h->s);
    r.first_send = h->clock.now;
    synack_time end = h->clock.now + max, prev_gap = 0, last = h->clock.now;
    for (int polls = 0;; polls++) {
        assert_true(polls < 10000);
        struct wire_tcp t;
        bool any = false;
        while (h_next(h, &t)) {
            if (t.dport != p->port)
                continue;
            assert_false(r.died_at); /* nothing after the end */
            r.segs++;
            any = true;
        }
        h_drain(h);
        if (any && h->clock.now > r.first_send) {
            r.retrans++;
            synack_time gap = h->clock.now - last;
            assert_true(gap + SYNACK_MS(1) >= prev_gap || h->clock.now - r.first_send > 0);
            prev_gap = gap;
            last = h->clock.now;
        }
        synack_tcp_info ti;
        assert_int_equal(synack_tcp_info_get(h->s, p->s, &ti), 0);
        if (ti.state == SYNACK_CLOSED && !r.died_at)
            r.died_at = h->clock.now;
        synack_time next = synack_poll(h->s);
        if (r.died_at || next == SYNACK_TIME_NEVER || next > end)
            break;
        assert_true(next > h->clock.now);
        h->clock.now = next;
        synack_poll(h->s);
    }
    return r;
}

static void rfc5482_user_timeout_fires_on_time(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 5482;
    h_init(&h, &cfg);
    struct peer p;
    peer_connect(&p, &h, peer_listen(&h, 8), 40000, 5, false, 0, 0, 0);
    assert_int_equal(synack_setopt(h.s, p.s, SYNACK_OPT_USER_TIMEOUT, 10000), 0);
    struct run r = silent_peer(&h, &p, SYNACK_SEC(3600));
    if (!r.died_at)
        fail_msg("TCP_USER_TIMEOUT 10 s: the connection is still open an hour later");
    synack_time took = r.died_at - r.first_send;
    print_message("user timeout 10 s: aborted after %.3f s, %d retransmissions\n", (double)took / 1e6,
                  r.retrans);
    assert_true(took >= SYNACK_SEC(10));
    if (took > SYNACK_SEC(10) + SYNACK_MS(250))
        fail_msg("TCP_USER_TIMEOUT 10 s fired after %.3f s: Linux clamps the RTO to what is left of the user "
                 "timeout (tcp_clamp_rto_to_user_timeout) and aborts at 10 s",
                 (double)took / 1e6);
    assert_true(synack_events(h.s, p.s) & SYNACK_EV_ERR);
    assert_int_equal(synack_sock_error(h.s, p.s), -ETIMEDOUT);
    assert_int_equal(synack_counter(h.s, "tcp_user_timeouts"), 1);
    h_free(&h);
}

static void rfc9293_no_user_timeout_retries_then_etimedout(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 5483;
    h_init(&h, &cfg);
    struct peer p;
    peer_connect(&p, &h, peer_listen(&h, 8), 40000, 5, false, 0, 0, 0);
    struct run r = silent_peer(&h, &p, SYNACK_SEC(7200));
    if (!r.died_at)
        fail_msg("a peer that never ACKs: the connection is still open after 2 hours");
    synack_time took = r.died_at - r.first_send;
    print_message("no user timeout: gave up after %.1f s and %d retransmissions\n", (double)took / 1e6, r.retrans);
    /* Linux tcp_retries2 = 15 with a 200 ms RTO: 924.6 s, 15 retransmissions
     * by the timer, after the one tail loss probe (RFC 8985 §7) */
    assert_int_equal(r.retrans, 16);
    assert_int_equal(synack_counter(h.s, "tcp_tlp_probes"), 1);
    assert_int_equal(synack_counter(h.s, "tcp_rto"), 15);
    assert_true(took > SYNACK_SEC(600) && took < SYNACK_SEC(1000));
    assert_int_equal(synack_sock_error(h.s, p.s), -ETIMEDOUT);
    assert_int_equal(synack_counter(h.s, "tcp_timeouts"), 1);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5482_user_timeout_fires_on_time),
        cmocka_unit_test(rfc9293_no_user_timeout_retries_then_etimedout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
