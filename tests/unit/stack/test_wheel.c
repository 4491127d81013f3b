/* The timer wheel (src/stack/wheel.c): a node is handed out exactly when
 * its deadline has come, never before; cascades from far levels, re-arming,
 * cancelling, crowded slots and the wrap of each level's digits; and a long
 * random run against a plain list that knows the answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/wheel.h"

#define MS 1000ull
#define SEC 1000000ull

/* Runs the wheel to now; returns how many nodes came out, each checked to
 * be due, and stores them in out (when given). */
static size_t expire(struct wheel *w, uint64_t now, struct wheel_node **out, size_t cap)
{
    wheel_expire(w, now);
    size_t k = 0;
    struct wheel_node *n;
    while ((n = wheel_next_expired(w))) {
        assert_true(n->when <= now);
        assert_false(wheel_armed(n));
        if (out && k < cap)
            out[k] = n;
        k++;
    }
    return k;
}

static void fires_exactly_never_early(void **state)
{
    (void)state;
    struct wheel w;
    wheel_init(&w, 5 * SEC);
    struct wheel_node a;
    wheel_node_init(&a);
    wheel_set(&w, &a, 5 * SEC + 40 * MS + 7); /* inside a tick, not on its edge */
    assert_int_equal(wheel_next(&w), 5 * SEC + 40 * MS + 7);
    assert_int_equal(expire(&w, 5 * SEC + 40 * MS, NULL, 0), 0);
    assert_int_equal(expire(&w, 5 * SEC + 40 * MS + 6, NULL, 0), 0);
    assert_int_equal(wheel_next(&w), 5 * SEC + 40 * MS + 7);
    assert_int_equal(expire(&w, 5 * SEC + 40 * MS + 7, NULL, 0), 1);
    assert_int_equal(wheel_next(&w), WHEEL_NEVER);
    assert_int_equal(w.count, 0);
}

static void cascade_from_far_levels(void **state)
{
    (void)state;
    struct wheel w;
    wheel_init(&w, 0);
    struct wheel_node n[4];
    /* 60 s (TIME_WAIT), 2 h (keepalive), 30 days, 2000 years: levels 2 to 9 */
    uint64_t at[4] = {60 * SEC + 1, 7200 * SEC + 3, 30ull * 86400 * SEC, 2000ull * 365 * 86400 * SEC};
    for (int i = 0; i < 4; i++) {
        wheel_node_init(&n[i]);
        wheel_set(&w, &n[i], at[i]);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(wheel_next(&w), at[i]);
        /* stepping in 97 strides up to just before: nothing fires */
        uint64_t from = i ? at[i - 1] : 0, stride = (at[i] - from) / 97;
        for (uint64_t t = from; t + stride < at[i]; t += stride)
            assert_int_equal(expire(&w, t, NULL, 0), 0);
        assert_int_equal(expire(&w, at[i] - 1, NULL, 0), 0);
        struct wheel_node *out[1];
        assert_int_equal(expire(&w, at[i], out, 1), 1);
        assert_ptr_equal(out[0], &n[i]);
    }
}

static void one_jump_over_everything(void **state)
{
    (void)state;
    struct wheel w;
    wheel_init(&w, 0);
    struct wheel_node n[3];
    uint64_t at[3] = {3 * MS, 70 * SEC, 9000 * SEC};
    for (int i = 0; i < 3; i++) {
        wheel_node_init(&n[i]);
        wheel_set(&w, &n[i], at[i]);
    }
    assert_int_equal(expire(&w, 10000 * SEC, NULL, 0), 3);
    assert_int_equal(w.count, 0);
}

static void rearm_and_cancel(void **state)
{
    (void)state;
    struct wheel w;
    wheel_init(&w, 0);
    struct wheel_node a, b;
    wheel_node_init(&a);
    wheel_node_init(&b);
    wheel_set(&w, &a, 200 * MS);
    wheel_set(&w, &b, 300 * MS);
    wheel_set(&w, &a, 200 * MS); /* unchanged: stays */
    assert_int_equal(w.count, 2);
    wheel_set(&w, &a, 500 * MS); /* pushed back (an RTO restarted) */
    assert_int_equal(wheel_next(&w), 300 * MS);
    wheel_set(&w, &b, 10 * MS); /* brought forward (a delayed ACK) */
    assert_int_equal(wheel_next(&w), 10 * MS);
    wheel_cancel(&w, &b);
    assert_false(wheel_armed(&b));
    assert_int_equal(wheel_next(&w), 500 * MS);
    assert_int_equal(expire(&w, 499 * MS, NULL, 0), 0);
    wheel_cancel(&w, &a);
    assert_int_equal(wheel_next(&w), WHEEL_NEVER);
    assert_int_equal(expire(&w, 10 * SEC, NULL, 0), 0);
    /* re-armed after firing, and in the past: due at the next expiry */
    wheel_set(&w, &a, 11 * SEC);
    assert_int_equal(expire(&w, 11 * SEC, NULL, 0), 1);
    wheel_set(&w, &a, 5 * SEC);
    assert_int_equal(wheel_next(&w), 5 * SEC);
    assert_int_equal(expire(&w, 11 * SEC, NULL, 0), 1);
}

static void cancel_while_firing(void **state)
{
    (void)state;
    struct wheel w;
    wheel_init(&w, 0);
    struct wheel_node a, b;
    wheel_node_init(&a);
    wheel_node_init(&b);
    wheel_set(&w, &a, 5 * MS);
    wheel_set(&w, &b, 5 * MS);
    wheel_expire(&w, 5 * MS);
    struct wheel_node *first = wheel_next_expired(&w);
    struct wheel_node *other = first == &a ? &b : &a;
    wheel_cancel(&w, other); /* e.g. the callback closed that connection */
    assert_null(wheel_next_expired(&w));
    assert_int_equal(w.count, 0);
}

static void many_in_one_slot(void **state)
{
    (void)state;
    enum { N = 5000 };
    static struct wheel_node n[N];
    struct wheel w;
    wheel_init(&w, 0);
    /* all within one millisecond 3 s ahead: one slot, exact order inside */
    for (int i = 0; i < N; i++) {
        wheel_node_init(&n[i]);
        wheel_set(&w, &n[i], 3 * SEC + (uint64_t)(i % 1000));
    }
    assert_int_equal(wheel_next(&w), 3 * SEC);
    size_t total = 0;
    for (uint64_t t = 3 * SEC; t < 3 * SEC + 1000; t++) {
        size_t k = expire(&w, t, NULL, 0);
        assert_int_equal(k, N / 1000);
        total += k;
    }
    assert_int_equal(total, N);
}

/* A far slot keeps its earliest deadline (no scan per wheel_next, which
 * bench/connrate found with a minute of TIME_WAITs in one slot). Taking out
 * that earliest node leaves it as a lower bound, not rescanned (tw_reuse
 * does that at every connect); the expiry at it hands out nothing and
 * cascades the slot, after which the answer is exact. Level 0 stays exact. */
static void far_slot_minimum_is_a_lower_bound(void **state)
{
    (void)state;
    struct wheel w;
    wheel_init(&w, 0);
    struct wheel_node n[3];
    uint64_t at[3] = {60 * SEC + 9 * MS, 60 * SEC + 2 * MS + 5, 60 * SEC + 30 * MS};
    for (int i = 0; i < 3; i++) {
        wheel_node_init(&n[i]);
        wheel_set(&w, &n[i], at[i]);
    }
    assert_int_equal(wheel_next(&w), at[1]);
    wheel_cancel(&w, &n[1]);
    assert_int_equal(wheel_next(&w), at[1]); /* stale: a lower bound */
    wheel_set(&w, &n[1], 60 * SEC + 1);      /* a new earliest */
    assert_int_equal(wheel_next(&w), 60 * SEC + 1);
    wheel_cancel(&w, &n[1]);
    assert_int_equal(expire(&w, 60 * SEC + 1, NULL, 0), 0); /* the wake finds nothing... */
    assert_int_equal(wheel_next(&w), at[0]);                /* ...and the slot is exact again */
    wheel_set(&w, &n[0], 60 * SEC + 40 * MS); /* moved later, now from level 0 */
    assert_int_equal(wheel_next(&w), at[2]);
    assert_int_equal(expire(&w, at[2], NULL, 0), 1);
    assert_int_equal(wheel_next(&w), 60 * SEC + 40 * MS);
    wheel_cancel(&w, &n[0]);
    assert_int_equal(wheel_next(&w), WHEEL_NEVER);

    /* a slot emptied after its bound was named never cascades: the bound
     * must still give way once passed (sim_test spun on it) */
    struct wheel_node far;
    wheel_node_init(&far);
    wheel_set(&w, &n[0], 200 * SEC + 3 * MS);
    wheel_set(&w, &n[1], 200 * SEC + 7 * MS);
    wheel_set(&w, &far, 400 * SEC);
    assert_int_equal(wheel_next(&w), 200 * SEC + 3 * MS);
    wheel_cancel(&w, &n[0]);
    assert_int_equal(wheel_next(&w), 200 * SEC + 3 * MS); /* the stale bound, named */
    wheel_cancel(&w, &n[1]);
    assert_int_equal(expire(&w, 200 * SEC + 3 * MS, NULL, 0), 0);
    assert_int_equal(wheel_next(&w), 400 * SEC);
}

static void digits_wrap(void **state)
{
    (void)state;
    struct wheel w;
    /* start just below a boundary of level 0, 1 and 2 at once */
    uint64_t base = ((1ull << 18) - 2) * MS;
    wheel_init(&w, base);
    struct wheel_node n[6];
    uint64_t at[6] = {base + 1 * MS, base + 2 * MS, base + 3 * MS, base + 65 * MS, base + 4097 * MS,
                      base + 262145 * MS};
    for (int i = 5; i >= 0; i--) {
        wheel_node_init(&n[i]);
        wheel_set(&w, &n[i], at[i]);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(wheel_next(&w), at[i]);
        assert_int_equal(expire(&w, at[i] - 1, NULL, 0), 0);
        assert_int_equal(expire(&w, at[i], NULL, 0), 1);
    }
}

/* A long random run: the wheel hands out exactly what a list says is due. */
static uint64_t rng = 88172645463325252ull;
static uint64_t xs(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_against_a_list(void **state)
{
    (void)state;
    enum { N = 300 };
    struct wheel_node n[N];
    bool fired[N];
    struct wheel w;
    uint64_t now = 123456789;
    wheel_init(&w, now);
    for (int i = 0; i < N; i++)
        wheel_node_init(&n[i]);
    for (int step = 0; step < 20000; step++) {
        int i = (int)(xs() % N);
        uint64_t r = xs();
        uint64_t span = (r & 3) == 0 ? 100 : (r & 3) == 1 ? 50 * MS : (r & 3) == 2 ? 5 * SEC : 3000 * SEC;
        if ((r >> 8) % 7 == 0)
            wheel_cancel(&w, &n[i]);
        else
            wheel_set(&w, &n[i], now + xs() % span);
        uint64_t expect_next = WHEEL_NEVER;
        for (int j = 0; j < N; j++)
            if (wheel_armed(&n[j]) && n[j].when < expect_next)
                expect_next = n[j].when;
        uint64_t next = wheel_next(&w);
        assert_true(next <= expect_next);
        assert_true(next == WHEEL_NEVER || expect_next != WHEEL_NEVER);
        if (step % 50 == 0) {
            /* a loop that sleeps until each deadline named reaches the true
             * one in a few empty wakes, each cascading one stale slot */
            int wakes = 0;
            for (; next < expect_next && wakes < WHEEL_LEVELS + 1; wakes++) {
                now = next > now ? next : now;
                wheel_expire(&w, now);
                assert_null(wheel_next_expired(&w));
                uint64_t again = wheel_next(&w);
                assert_true(again > next && again <= expect_next);
                next = again;
            }
            assert_int_equal(next, expect_next);
        }
        if (step % 3 == 0) {
            /* jump to the next deadline the wheel names (a lower bound: the
             * expiry there hands out exactly what is due, perhaps nothing),
             * or somewhere short of it */
            uint64_t to = (xs() & 1) && next != WHEEL_NEVER ? next : now + xs() % (2 * SEC);
            bool due[N];
            for (int j = 0; j < N; j++) {
                due[j] = wheel_armed(&n[j]) && n[j].when <= to;
                fired[j] = false;
            }
            now = to > now ? to : now;
            wheel_expire(&w, now);
            struct wheel_node *x;
            while ((x = wheel_next_expired(&w)))
                fired[x - n] = true;
            /* whatever was due went out: the next deadline is ahead (a
             * loop sleeping until it must not spin on a past bound) */
            assert_true(wheel_next(&w) > now);
            for (int j = 0; j < N; j++)
                assert_int_equal(fired[j], due[j]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_exactly_never_early), cmocka_unit_test(cascade_from_far_levels),
        cmocka_unit_test(one_jump_over_everything),  cmocka_unit_test(rearm_and_cancel),
        cmocka_unit_test(cancel_while_firing),       cmocka_unit_test(many_in_one_slot),
        cmocka_unit_test(far_slot_minimum_is_a_lower_bound), cmocka_unit_test(digits_wrap),               cmocka_unit_test(random_against_a_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
