/* Duplication: the chosen fraction of frames arrives twice, byte for byte,
 * the copy right behind the original; the counters add up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

#define N 50000

static void a_fraction_arrives_twice(void **state)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct lt t;
        lt_init(&t, SYNACK_MS(1));
        synack_link_faults f = {.seed = seed, .duplicate = 0.01};
        assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
        lt_stream(&t, N, 200, 20);
        synack_link_stats st = lt_stats(&t);
        assert_int_equal(t.n, N + st.duplicated);
        assert_int_equal(st.delivered, t.n);
        assert_true(lt_binomial_ok(st.duplicated, N, 0.01, 5));
        uint64_t twins = 0;
        for (size_t i = 0; i < t.n; i++) {
            if (i > 0 && t.got[i].id == t.got[i - 1].id) {
                twins++;
                assert_int_equal(t.got[i].at, t.got[i - 1].at);
                assert_int_equal(t.got[i].len, t.got[i - 1].len);
                assert_memory_equal(t.got[i].data, t.got[i - 1].data, t.got[i].len);
            } else {
                assert_int_equal(t.got[i].id, i - twins);
            }
        }
        assert_int_equal(twins, st.duplicated);
        lt_free(&t);
    }
}

static void everything_twice(void **state)
{
    struct lt t;
    lt_init(&t, 0);
    synack_link_faults f = {.seed = 1, .duplicate = 1.0};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    lt_stream(&t, 100, 64, 0);
    assert_int_equal(t.n, 200);
    lt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_fraction_arrives_twice),
        cmocka_unit_test(everything_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
