/* Gilbert-Elliott burst loss: losses come in runs whose mean length is
 * 1/burst_leave, at the stationary rate burst_enter/(burst_enter+burst_leave),
 * much longer runs than Bernoulli loss of the same rate gives, and one seed
 * replays the same bursts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

#define N 200000

struct runs {
    uint64_t lost, runs;
    uint8_t *got;
};

static struct runs measure(const synack_link_faults *f)
{
    struct lt t;
    lt_init(&t, 0);
    assert_int_equal(synack_memlink_set_faults(t.link, 0, f), 0);
    lt_stream(&t, N, 32, 1);
    struct runs r = {0, 0, calloc(N, 1)};
    assert_non_null(r.got);
    for (size_t i = 0; i < t.n; i++)
        r.got[t.got[i].id] = 1;
    for (uint32_t i = 0; i < N; i++)
        if (!r.got[i]) {
            r.lost++;
            if (i == 0 || r.got[i - 1])
                r.runs++;
        }
    synack_link_stats st = lt_stats(&t);
    assert_int_equal(st.burst_lost + st.lost, r.lost);
    lt_free(&t);
    return r;
}

static void bursts_have_the_model_length_and_rate(void **state)
{
    /* classic Gilbert: enter 1 %, leave 25 %, Bad loses all: 3.85 % loss in
     * runs of 4 on average */
    for (uint64_t seed = 1; seed <= 3; seed++) {
        synack_link_faults f = {.seed = seed, .burst_enter = 0.01, .burst_leave = 0.25, .burst_loss_bad = 1.0};
        struct runs r = measure(&f);
        double rate = (double)r.lost / N, mean_run = (double)r.lost / (double)r.runs;
        double want = 0.01 / (0.01 + 0.25);
        if (rate < want * 0.85 || rate > want * 1.15 || mean_run < 3.6 || mean_run > 4.4)
            fail_msg("seed %llu: loss %.4f (want %.4f), mean burst %.2f (want 4)", (unsigned long long)seed, rate,
                     want, mean_run);
        free(r.got);
    }
    /* Bernoulli at the same rate: runs of about 1/(1-p) = 1.04 */
    synack_link_faults b = {.seed = 1, .loss = 0.0385};
    struct runs r = measure(&b);
    assert_true((double)r.lost / (double)r.runs < 1.2);
    free(r.got);
}

static void good_state_loss_and_partial_bad(void **state)
{
    /* Elliott's extension: 1 % loss in Good, half the frames in Bad */
    synack_link_faults f = {.seed = 5, .burst_enter = 0.02, .burst_leave = 0.2, .burst_loss_good = 0.01,
                            .burst_loss_bad = 0.5};
    struct runs r = measure(&f);
    double pb = 0.02 / 0.22, want = (1 - pb) * 0.01 + pb * 0.5;
    double rate = (double)r.lost / N;
    if (rate < want * 0.85 || rate > want * 1.15)
        fail_msg("loss %.4f, want %.4f", rate, want);
    free(r.got);
}

static void same_seed_same_bursts(void **state)
{
    synack_link_faults f = {.seed = 77, .burst_enter = 0.01, .burst_leave = 0.3, .burst_loss_bad = 1.0};
    struct runs a = measure(&f), b = measure(&f);
    assert_memory_equal(a.got, b.got, N);
    f.seed = 78;
    struct runs c = measure(&f);
    assert_true(memcmp(a.got, c.got, N) != 0);
    free(a.got);
    free(b.got);
    free(c.got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bursts_have_the_model_length_and_rate),
        cmocka_unit_test(good_state_loss_and_partial_bad),
        cmocka_unit_test(same_seed_same_bursts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
