/* connect() on the 4-tuple of a connection in TIME_WAIT (Linux
 * tcp_tw_reuse, tcp_twsk_unique; synack_config.tw_reuse): allowed only when
 * asked, when timestamps were on and the peer's last one is a second old;
 * the new connection starts beyond the old sequence space (snd_nxt + 65537)
 * and the TIME_WAIT connection's end is reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../tcp/tcp_util.h"

/* An active open with timestamps, closed by us first: the record stays in
 * TIME_WAIT. Returns our port and the sequence number after our FIN. */
static uint16_t into_time_wait(struct harness *h, bool ts, uint32_t *snd_nxt)
{
    synack_sock c = synack_socket(h->s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h->s, c, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(h, &t) && t.flags == WIRE_TCP_SYN);
    uint16_t lport = t.sport;
    uint32_t iss = t.seq;
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .has_ts = ts, .ts_val = 100, .ts_ecr = t.opt.ts_val};
    h_inject(h, &(struct h_seg){.flags = WIRE_TCP_SYN | WIRE_TCP_ACK, .seq = 7000, .ack = iss + 1,
                                .sport = H_RPORT, .dport = lport, .opts = &o});
    h_drain(h);
    assert_int_equal(synack_close(h->s, c), 0);
    h_advance(h, 0);
    assert_true(h_next(h, &t) && (t.flags & WIRE_TCP_FIN));
    o.has_mss = false;
    o.ts_val = 200;
    o.ts_ecr = t.opt.ts_val;
    h_inject(h, &(struct h_seg){.flags = WIRE_TCP_FIN | WIRE_TCP_ACK, .seq = 7001, .ack = iss + 2,
                                .sport = H_RPORT, .dport = lport, .opts = ts ? &o : NULL});
    h_drain(h);
    assert_int_equal(synack_counter(h->s, "tcp_tw_reused"), 0);
    *snd_nxt = iss + 2;
    return lport;
}

static int connect_from(struct harness *h, uint16_t lport, uint32_t *syn_seq)
{
    synack_sock k = synack_socket(h->s);
    synack_endpoint l = {.addr = synack_ipv4(H_LOCAL), .port = lport};
    assert_int_equal(synack_setopt(h->s, k, SYNACK_OPT_REUSEADDR, 1), 0); /* TIME_WAIT holds the port */
    assert_int_equal(synack_bind(h->s, k, &l), 0);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    int rc = synack_connect(h->s, k, &r);
    struct wire_tcp t;
    if (rc == -EINPROGRESS) {
        assert_true(h_next(h, &t) && t.flags == WIRE_TCP_SYN);
        *syn_seq = t.seq;
    } else {
        synack_close(h->s, k);
    }
    h_drain(h);
    return rc;
}

static void tw_reuse_after_a_second_with_timestamps(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, &(synack_config){.seed = 9, .tw_reuse = true});
    uint32_t nxt, seq;
    uint16_t lport = into_time_wait(&h, true, &nxt);
    h_advance(&h, SYNACK_MS(500));
    assert_int_equal(connect_from(&h, lport, &seq), -EADDRNOTAVAIL); /* the peer's TSval is too fresh */
    h_advance(&h, SYNACK_MS(600));
    assert_int_equal(connect_from(&h, lport, &seq), -EINPROGRESS);
    assert_int_equal(seq, nxt + 65535 + 2); /* beyond the old connection's space */
    assert_int_equal(synack_counter(h.s, "tcp_tw_reused"), 1);
    assert_true(h_logged(&h, "TIME_WAIT reused by connect()"));
    h_free(&h);
}

static void no_tw_reuse_unless_asked_or_without_timestamps(void **state)
{
    (void)state;
    struct harness h;
    uint32_t nxt, seq;
    h_init(&h, &(synack_config){.seed = 9});
    uint16_t lport = into_time_wait(&h, true, &nxt);
    h_advance(&h, SYNACK_SEC(5));
    assert_int_equal(connect_from(&h, lport, &seq), -EADDRNOTAVAIL);
    h_free(&h);

    h_init(&h, &(synack_config){.seed = 9, .tw_reuse = true});
    lport = into_time_wait(&h, false, &nxt);
    h_advance(&h, SYNACK_SEC(5));
    assert_int_equal(connect_from(&h, lport, &seq), -EADDRNOTAVAIL); /* no PAWS to tell them apart */
    assert_int_equal(synack_counter(h.s, "tcp_tw_reused"), 0);
    h_free(&h);
}

/* The ephemeral port walk's reuse (connect() without bind): the record it
 * takes leaves the table at once and its timer wheel at the end of
 * connect() (tw_reap). Three records share a wheel slot, so the one taken
 * has neighbours there; the other two must still expire on time, and
 * nothing may touch the freed one (valgrind and ASan run this test). */
static void tw_reuse_by_the_port_walk_leaves_the_wheel(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, &(synack_config){.seed = 5, .tw_reuse = true, .port_lo = 40000, .port_hi = 40002});
    uint32_t nxt[3];
    uint16_t port[3];
    for (int i = 0; i < 3; i++)
        port[i] = into_time_wait(&h, true, &nxt[i]);
    assert_true(port[0] != port[1] && port[1] != port[2] && port[0] != port[2]);
    synack_stack_usage u;
    synack_stack_usage_get(h.s, &u);
    assert_int_equal(u.timewait, 3);
    /* every port in TIME_WAIT under a second: the walk passes over all */
    synack_sock k = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, k, &r), -EADDRNOTAVAIL);
    synack_close(h.s, k);
    h_advance(&h, SYNACK_MS(1100));
    k = synack_socket(h.s);
    assert_int_equal(synack_connect(h.s, k, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(&h, &t) && t.flags == WIRE_TCP_SYN);
    int taken = t.sport == port[0] ? 0 : t.sport == port[1] ? 1 : 2;
    assert_int_equal(t.sport, port[taken]);
    assert_int_equal(t.seq, nxt[taken] + 65535 + 2);
    assert_int_equal(synack_counter(h.s, "tcp_tw_reused"), 1);
    synack_stack_usage_get(h.s, &u);
    assert_int_equal(u.timewait, 2);
    assert_int_equal(u.closed_listed, 0);
    /* 2MSL (60 s) ends the other two; the taken one's timer is gone */
    h_drain(&h);
    h_advance(&h, SYNACK_SEC(61));
    synack_stack_usage_get(h.s, &u);
    assert_int_equal(u.timewait, 0);
    assert_int_equal(u.closed_listed, 0);
    assert_int_equal(synack_counter(h.s, "tcp_tw_reused"), 1);
    synack_close(h.s, k);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tw_reuse_after_a_second_with_timestamps),
        cmocka_unit_test(no_tw_reuse_unless_asked_or_without_timestamps),
        cmocka_unit_test(tw_reuse_by_the_port_walk_leaves_the_wheel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
