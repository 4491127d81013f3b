/* The link allocates nothing per frame once warmed up: frame buffers go
 * back to its pool, rings and heap stay grown. Over 400 000 frames with
 * every fault on, the allocations the link reports after a warm-up are a
 * handful (the pool reaching a new peak of frames in flight), where one
 * per frame would be hundreds of thousands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"

static synack_vclock clock_;

/* Sends n frames from each end, sizes cycling from 60 to 9000 bytes, one
 * every 10 us, delivering as it goes (to no stack: only the link runs). */
static void run(synack_memlink *l, uint32_t n)
{
    static uint8_t frame[9000];
    synack_link_ops ops = synack_memlink_ops();
    for (uint32_t i = 0; i < n; i++) {
        size_t len = 60 + (i * 977u) % (sizeof frame - 60);
        for (int end = 0; end < 2; end++)
            assert_int_equal(ops.transmit(synack_memlink_end(l, end), frame, len), 0);
        clock_.now += 10;
        synack_memlink_deliver(l, clock_.now);
    }
}

static uint64_t allocs(synack_memlink *l)
{
    synack_link_stats a, b;
    synack_memlink_stats(l, 0, &a);
    synack_memlink_stats(l, 1, &b);
    return a.allocs + b.allocs;
}

static void no_allocation_per_frame(void **state)
{
    clock_.now = SYNACK_SEC(1);
    synack_memlink *l = synack_memlink_new(SYNACK_MS(5), synack_vclock_read, &clock_);
    assert_non_null(l);
    synack_link_faults f = {.seed = 1, .loss = 0.02, .burst_enter = 0.01, .burst_leave = 0.3,
                            .burst_loss_bad = 1.0, .reorder = 0.05, .reorder_delay = SYNACK_MS(2),
                            .duplicate = 0.02, .corrupt = 0.01, .jitter = 500, .rate_bps = 10000000000ull,
                            .queue_bytes = 4u << 20};
    assert_int_equal(synack_memlink_set_faults(l, 0, &f), 0);
    f.seed = 2;
    assert_int_equal(synack_memlink_set_faults(l, 1, &f), 0);
    run(l, 20000);
    uint64_t warm = allocs(l);
    /* about 500 frames in flight each way, plus the held-back ones */
    assert_true(warm > 100 && warm < 5000);
    run(l, 200000);
    uint64_t more = allocs(l) - warm;
    synack_link_stats st;
    synack_memlink_stats(l, 0, &st);
    assert_true(st.lost && st.burst_lost && st.reordered && st.duplicated && st.corrupted);
    assert_true(st.delivered > 200000);
    if (more > 100)
        fail_msg("%llu allocations for 400000 frames after warm-up", (unsigned long long)more);
    synack_memlink_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_allocation_per_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
