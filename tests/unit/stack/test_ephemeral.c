/* Ephemeral ports for connect() (src/stack/socket.c), RFC 6056 §3.3.4
 * Algorithm 4 as Linux's __inet_hash_connect: consecutive connects to one
 * destination walk on from where the last one stopped (a small random skip
 * between), so the next port is free rather than one left in TIME_WAIT;
 * another destination starts at an unrelated secret offset; ports taken are
 * skipped; the same seed gives the same ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../tcp/tcp_util.h"

#define SPAN (60999 - 32768 + 1)

static uint16_t connect_port(struct harness *h, uint16_t rport)
{
    synack_sock k = synack_socket(h->s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = rport};
    assert_int_equal(synack_connect(h->s, k, &r), -EINPROGRESS);
    synack_endpoint l;
    assert_int_equal(synack_local(h->s, k, &l), 0);
    assert_true(l.port >= 32768 && l.port <= 60999);
    h_drain(h);
    return l.port;
}

static uint32_t step(uint16_t from, uint16_t to) { return (uint32_t)(to - from + SPAN) % SPAN; }

static void rfc6056_alg4_walks_on_per_destination(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint16_t prev = connect_port(&h, 80);
    for (int i = 0; i < 50; i++) {
        uint16_t p = connect_port(&h, 80);
        uint32_t d = step(prev, p);
        assert_true(d >= 1 && d <= 4); /* past the last one, skipping at most 3 */
        prev = p;
    }
    /* another destination: its own offset, not the next port of port 80's walk */
    uint16_t other = connect_port(&h, 81);
    assert_true(step(prev, other) > 4);
    uint16_t other2 = connect_port(&h, 81);
    assert_true(step(other, other2) >= 1 && step(other, other2) <= 4);
    /* and port 80's walk is where it was */
    uint16_t p = connect_port(&h, 80);
    assert_true(step(prev, p) >= 1 && step(prev, p) <= 4);
    h_free(&h);
}

static void rfc6056_alg4_skips_ports_in_use(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint16_t prev = connect_port(&h, 80);
    /* bound sockets hold the next eight ports: the walk goes past them */
    for (uint32_t i = 1; i <= 8; i++) {
        synack_sock b = synack_socket(h.s);
        synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = (uint16_t)(32768 + (prev - 32768 + i) % SPAN)};
        assert_int_equal(synack_bind(h.s, b, &e), 0);
    }
    uint16_t p = connect_port(&h, 80);
    assert_true(step(prev, p) > 8 && step(prev, p) <= 12);
    h_free(&h);
}

static void same_seed_same_ports(void **state)
{
    (void)state;
    uint16_t got[2][5];
    for (int run = 0; run < 2; run++) {
        struct harness h;
        h_init(&h, &(synack_config){.seed = 42});
        for (int i = 0; i < 5; i++)
            got[run][i] = connect_port(&h, (uint16_t)(80 + i % 2));
        h_free(&h);
    }
    assert_memory_equal(got[0], got[1], sizeof got[0]);
    struct harness h;
    h_init(&h, &(synack_config){.seed = 43});
    uint16_t p = connect_port(&h, 80);
    h_free(&h);
    assert_true(p != got[0][0]); /* another key, another offset (a 1 in 28,232 chance otherwise) */
}

/* Linux ip_local_port_range: connect() takes ports in the configured
 * range only, and once every port to one destination is taken it fails
 * with EADDRNOTAVAIL, as Linux's connect(). A bad range is refused. */
static void configured_range_is_kept(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, &(synack_config){.port_lo = 40000, .port_hi = 40003});
    bool seen[4] = {false};
    for (int i = 0; i < 4; i++) {
        synack_sock k = synack_socket(h.s);
        synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = 80};
        assert_int_equal(synack_connect(h.s, k, &r), -EINPROGRESS);
        synack_endpoint l;
        assert_int_equal(synack_local(h.s, k, &l), 0);
        assert_true(l.port >= 40000 && l.port <= 40003);
        assert_false(seen[l.port - 40000]);
        seen[l.port - 40000] = true;
        h_drain(&h);
    }
    synack_sock k = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = 80};
    assert_int_equal(synack_connect(h.s, k, &r), -EADDRNOTAVAIL);
    r.port = 81; /* another destination has its own four */
    assert_int_equal(synack_connect(h.s, k, &r), -EINPROGRESS);
    h_free(&h);

    synack_vclock c = {0};
    synack_config bad[] = {{.port_lo = 5000, .port_hi = 4999}, {.port_lo = 0, .port_hi = 4999},
                           {.port_lo = 5000, .port_hi = 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bad[i].clock = synack_vclock_read;
        bad[i].clock_ctx = &c;
        assert_null(synack_stack_new(&bad[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6056_alg4_walks_on_per_destination),
        cmocka_unit_test(rfc6056_alg4_skips_ports_in_use),
        cmocka_unit_test(same_seed_same_ports),
        cmocka_unit_test(configured_range_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
