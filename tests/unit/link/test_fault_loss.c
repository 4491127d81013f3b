/* Bernoulli loss on the fault link: the rate holds within statistical bounds
 * for several seeds, one seed replays the same pattern, another seed or the
 * other direction gives a different one, and bad settings are refused. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

#define N 20000

/* Sends N frames with the given loss and seed; returns the bitmap of what
 * arrived (caller frees). */
static uint8_t *run_from(double loss, uint64_t seed, int from, int both, synack_link_stats *st)
{
    struct lt t;
    lt_init_from(&t, SYNACK_MS(1), from);
    synack_link_faults f = {.seed = seed, .loss = loss};
    assert_int_equal(synack_memlink_set_faults(t.link, from, &f), 0);
    if (both)
        assert_int_equal(synack_memlink_set_faults(t.link, 1 - from, &f), 0);
    lt_stream(&t, N, 64, 10);
    uint8_t *got = calloc(N, 1);
    assert_non_null(got);
    for (size_t i = 0; i < t.n; i++) {
        assert_true(t.got[i].id < N);
        assert_int_equal(got[t.got[i].id], 0); /* loss never duplicates */
        got[t.got[i].id] = 1;
    }
    *st = lt_stats(&t);
    assert_int_equal(st->frames, N);
    assert_int_equal(st->delivered, t.n);
    assert_int_equal(st->delivered + st->lost, N);
    lt_free(&t);
    return got;
}

static uint8_t *run(double loss, uint64_t seed, int both, synack_link_stats *st)
{
    return run_from(loss, seed, 0, both, st);
}

static void loss_rate_within_bounds(void **state)
{
    static const double ps[] = {0.01, 0.05, 0.10, 0.5};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            synack_link_stats st;
            free(run(ps[k], seed, 0, &st));
            if (!lt_binomial_ok(st.lost, N, ps[k], 5))
                fail_msg("p=%.2f seed %llu: lost %llu of %d", ps[k], (unsigned long long)seed,
                         (unsigned long long)st.lost, N);
        }
}

static void no_loss_and_total_loss(void **state)
{
    synack_link_stats st;
    free(run(0.0, 3, 0, &st));
    assert_int_equal(st.lost, 0);
    free(run(1.0, 3, 0, &st));
    assert_int_equal(st.lost, N);
    assert_int_equal(st.delivered, 0);
}

static void same_seed_same_pattern(void **state)
{
    synack_link_stats a, b, c;
    uint8_t *x = run(0.05, 42, 0, &a), *y = run(0.05, 42, 0, &b), *z = run(0.05, 43, 0, &c);
    assert_memory_equal(x, y, N);
    assert_int_equal(a.lost, b.lost);
    assert_true(memcmp(x, z, N) != 0);
    free(x);
    free(y);
    free(z);
}

/* Frames going the other way do not disturb this direction's pattern: each
 * direction has a generator of its own. */
static void directions_are_independent(void **state)
{
    synack_link_stats a, b;
    uint8_t *x = run(0.05, 42, 0, &a), *y = run(0.05, 42, 1, &b);
    assert_memory_equal(x, y, N);
    free(x);
    free(y);

    /* the same seed on the two ends gives two different patterns */
    uint8_t *fwd = run_from(0.05, 42, 0, 0, &a), *rev = run_from(0.05, 42, 1, 0, &b);
    assert_true(memcmp(fwd, rev, N) != 0);
    free(fwd);
    free(rev);
}

static void bad_settings_refused(void **state)
{
    struct lt t;
    lt_init(&t, 0);
    synack_link_faults f = {.loss = 1.5};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), -EINVAL);
    f.loss = NAN;
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), -EINVAL);
    f.loss = -0.1;
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), -EINVAL);
    f = (synack_link_faults){.reorder = 0.1};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), -EINVAL);
    f = (synack_link_faults){.burst_enter = 0.1, .burst_leave = 0.5};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), -EINVAL);
    f = (synack_link_faults){.corrupt = 0.1, .corrupt_bits = SYNACK_LINK_MAX_CORRUPT_BITS + 1};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), -EINVAL);
    assert_int_equal(synack_memlink_set_faults(t.link, 2, NULL), -EINVAL);
    /* a refused setting leaves the link as it was: still perfect */
    lt_stream(&t, 100, 64, 10);
    assert_int_equal(t.n, 100);
    /* NULL clears the faults */
    f = (synack_link_faults){.loss = 1.0};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    assert_int_equal(synack_memlink_set_faults(t.link, 0, NULL), 0);
    lt_stream(&t, 100, 64, 10);
    assert_int_equal(t.n, 200);
    lt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loss_rate_within_bounds),  cmocka_unit_test(no_loss_and_total_loss),
        cmocka_unit_test(same_seed_same_pattern),   cmocka_unit_test(directions_are_independent),
        cmocka_unit_test(bad_settings_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
