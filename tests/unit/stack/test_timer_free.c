/* A connection that a timer ends (here 2*MSL in TIME_WAIT) after the user
 * closed its handle is freed inside synack_poll(); with an event handler
 * set, the poll loop must not then look at it to notify anyone (found by
 * bench/connrate: a use after free on every TIME_WAIT expiry). ASan and
 * valgrind watch; the handler must also never be called for a handle the
 * user has released. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

struct pair {
    struct sim sim;
    synack_sock lsn, srv, cli;
    int stale_events; /* events for a handle already closed */
};


static void on_event_a(void *ctx, synack_sock h, unsigned ev)
{
    struct pair *p = ctx;
    if (h == p->cli && p->cli < 0)
        p->stale_events++;
}

static bool pair_up(void *ctx)
{
    struct pair *p = ctx;
    if (p->srv < 0)
        p->srv = synack_accept(p->sim.b, p->lsn, NULL);
    return p->srv >= 0 && (synack_events(p->sim.a, p->cli) & SYNACK_EV_OUT);
}

static void time_wait_expiry_after_close_with_event_handler(void **state)
{
    (void)state;
    struct pair p;
    memset(&p, 0, sizeof p);
    synack_config base = {.time_wait = SYNACK_SEC(1)};
    sim_init(&p.sim, 7, SYNACK_MS(1), &base);
    synack_set_event_handler(p.sim.a, on_event_a, &p);
    p.srv = -1;
    p.lsn = synack_socket(p.sim.b);
    synack_endpoint le = sim_ep(SIM_ADDR_B, 6001);
    assert_int_equal(synack_bind(p.sim.b, p.lsn, &le), 0);
    assert_int_equal(synack_listen(p.sim.b, p.lsn, 4), 0);
    p.cli = synack_socket(p.sim.a);
    assert_int_equal(synack_connect(p.sim.a, p.cli, &le), -EINPROGRESS);
    assert_true(sim_run(&p.sim, pair_up, &p, SYNACK_SEC(2)));
    /* the client closes first and releases its handle: TIME_WAIT, orphaned */
    assert_int_equal(synack_close(p.sim.a, p.cli), 0);
    p.cli = -1;
    sim_advance(&p.sim, SYNACK_MS(50));
    assert_int_equal(synack_close(p.sim.b, p.srv), 0);
    sim_advance(&p.sim, SYNACK_MS(50));
    /* 2*MSL passes: the poll frees the connection */
    sim_advance(&p.sim, SYNACK_SEC(2));
    bool freed = false;
    for (int i = 0; i < p.sim.log.n; i++)
        freed |= strstr(p.sim.log.lines[i], "TIME_WAIT -> CLOSED (2MSL timeout)") != NULL;
    assert_true(freed);
    assert_int_equal(p.stale_events, 0);
    sim_free(&p.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(time_wait_expiry_after_close_with_event_handler)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
