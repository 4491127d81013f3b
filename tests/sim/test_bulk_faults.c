/* Issue 3: 64 MiB each way at once between two stacks over a link that
 * loses 5 %, reorders 5 % and duplicates 1 % of the frames in each
 * direction, arriving byte-exact (SHA-256 of what was sent against what
 * arrived), for 20 seeds, in virtual time.
 *
 * For quick local runs: SYNACK_BULK_SEEDS=n and SYNACK_BULK_BYTES=bytes
 * (each direction) shrink it; the default is the full test. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim.h"
#include "xfer.h"

#define DEFAULT_SEEDS 20
#define DEFAULT_BYTES (64ull << 20)

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    unsigned long long n = strtoull(v, &end, 0);
    if (*end || !n) {
        fprintf(stderr, "%s=%s: want a positive number; using %" PRIu64 "\n", name, v, dflt);
        return dflt;
    }
    return n;
}

/* Each frame's fate is drawn independently: ~5 % lost, of the rest ~5 %
 * held back 3 ms (past the frames behind it), ~1 % sent twice. */
static void faulty_link(struct sim *s, uint64_t seed)
{
    synack_link_faults f = {.seed = seed, .loss = 0.05, .reorder = 0.05, .reorder_delay = SYNACK_MS(3),
                            .duplicate = 0.01};
    assert_int_equal(sim_set_faults(s, &f), 0);
}

/* Within 6 standard deviations of the binomial: the faults really were
 * there, at the rates asked. */
static void check_rate(const char *what, uint64_t x, uint64_t n, double p)
{
    double mean = (double)n * p, sd = (double)n * p * (1 - p);
    double d = (double)x - mean;
    if (d * d > 36 * sd)
        fail_msg("%s: %" PRIu64 " of %" PRIu64 " frames, expected about %.0f", what, x, n, mean);
}

static void sixty_four_mib_each_way_over_a_faulty_link(void **state)
{
    uint64_t seeds = env_u64("SYNACK_BULK_SEEDS", DEFAULT_SEEDS);
    uint64_t bytes = env_u64("SYNACK_BULK_BYTES", DEFAULT_BYTES);
    static struct xfer x; /* 128 KiB of buffers: not on the stack */
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct sim s;
        sim_init(&s, seed, SYNACK_MS(5), NULL);
        faulty_link(&s, seed);
        assert_int_equal(xfer_start(&x, &s, 5001, bytes, bytes, seed, SYNACK_SEC(120)), 0);
        synack_time t0 = s.clock.now;
        bool done = sim_run(&s, xfer_pump, &x, SYNACK_SEC(24 * 3600));
        double secs = (double)(s.clock.now - t0) / 1e6;
        synack_link_stats st[2];
        synack_memlink_stats(s.link, 0, &st[0]);
        synack_memlink_stats(s.link, 1, &st[1]);
        printf("seed %2" PRIu64 ": %" PRIu64 "+%" PRIu64 " bytes in %.1f s virtual (%.2f Mbit/s each way); "
               "frames a->b %" PRIu64 " lost %" PRIu64 " reordered %" PRIu64 " duplicated %" PRIu64
               "; b->a %" PRIu64 " lost %" PRIu64 " reordered %" PRIu64 " duplicated %" PRIu64 "\n",
               seed, x.ab.rcvd, x.ba.rcvd, secs, secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0, st[0].frames,
               st[0].lost, st[0].reordered, st[0].duplicated, st[1].frames, st[1].lost, st[1].reordered,
               st[1].duplicated);
        fflush(stdout);
        if (!done || !xfer_ok(&x))
            fail_msg("seed %" PRIu64 ": %s (error %d); a->b %" PRIu64 "/%" PRIu64 " hash %s, b->a %" PRIu64
                     "/%" PRIu64 " hash %s",
                     seed, done ? "finished" : "did not finish in 24 h of virtual time", x.error, x.ab.rcvd, bytes,
                     memcmp(x.ab.tx_digest, x.ab.rx_digest, 32) ? "differs" : "matches", x.ba.rcvd, bytes,
                     memcmp(x.ba.tx_digest, x.ba.rx_digest, 32) ? "differs" : "matches");
        for (int end = 0; end < 2; end++) {
            check_rate("lost", st[end].lost, st[end].frames, 0.05);
            check_rate("reordered", st[end].reordered, st[end].frames - st[end].lost, 0.05);
            check_rate("duplicated", st[end].duplicated, st[end].frames - st[end].lost, 0.01);
        }
        sim_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sixty_four_mib_each_way_over_a_faulty_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
