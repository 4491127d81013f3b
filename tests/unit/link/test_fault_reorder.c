/* Reordering: the chosen fraction of frames is held back by exactly the
 * reorder delay and overtaken by the frames behind it; every other frame
 * keeps its place and its delay; nothing is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

#define N 20000

static void a_fraction_is_held_back(void **state)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct lt t;
        lt_init(&t, SYNACK_MS(2));
        synack_link_faults f = {.seed = seed, .reorder = 0.05, .reorder_delay = SYNACK_MS(3)};
        assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
        synack_time t0 = t.clock.now;
        /* one frame every 100 us: a held-back frame is passed by 30 others */
        lt_stream(&t, N, 100, 100);
        assert_int_equal(t.n, N);
        uint64_t late = 0, overtaken = 0;
        for (size_t i = 0; i < t.n; i++) {
            synack_time sent = t0 + (synack_time)t.got[i].id * 100;
            synack_time took = t.got[i].at - sent;
            if (took == SYNACK_MS(5))
                late++;
            else
                assert_int_equal(took, SYNACK_MS(2));
            if (i > 0 && t.got[i].id < t.got[i - 1].id)
                overtaken++;
        }
        synack_link_stats st = lt_stats(&t);
        assert_int_equal(st.reordered, late);
        assert_true(lt_binomial_ok(late, N, 0.05, 5));
        /* every late frame arrives after a later one */
        assert_true(overtaken >= late * 9 / 10);
        lt_free(&t);
    }
}

static void no_reordering_without_the_fault(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(2));
    lt_stream(&t, 1000, 100, 0);
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.got[i].id, i);
    lt_free(&t);
}

static void same_seed_same_order(void **state)
{
    uint32_t order[2][2000];
    for (int k = 0; k < 2; k++) {
        struct lt t;
        lt_init(&t, SYNACK_MS(1));
        synack_link_faults f = {.seed = 11, .reorder = 0.2, .reorder_delay = SYNACK_MS(1)};
        assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
        lt_stream(&t, 2000, 100, 50);
        assert_int_equal(t.n, 2000);
        for (size_t i = 0; i < t.n; i++)
            order[k][i] = t.got[i].id;
        lt_free(&t);
    }
    assert_memory_equal(order[0], order[1], sizeof order[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_fraction_is_held_back),
        cmocka_unit_test(no_reordering_without_the_fault),
        cmocka_unit_test(same_seed_same_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
