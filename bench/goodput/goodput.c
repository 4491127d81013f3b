/* Goodput over a lossy path: one connection through the fault-injecting
 * link at a fixed RTT and bottleneck rate (queue of one bandwidth-delay
 * product), with random loss of 0, 1, 5 and 10 % on each direction, one
 * column per congestion-control algorithm. Runs in virtual time, so the
 * figures are the protocol's, not the machine's; each cell is the mean over
 * several seeds of the bytes the receiving application read, divided by the
 * run's duration.
 *
 * There is no Linux column: the kernel here has no netem to give Linux the
 * same path. As a yardstick the table carries the path's rate and the
 * Mathis et al. bound for Reno-style loss recovery, MSS/RTT * 1.22/sqrt(p).
 *
 * usage: bench-goodput [-r RTT_MS] [-b MBIT] [-t SECONDS] [-S SEEDS] [-n (no RACK: RFC 6675 loss detection)]
 *                      [-v (per-run link and TCP figures)] */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

/* One line per algorithm: the table gains a column. */
static const struct cc {
    const char *name;
    int value;
} ccs[] = {
    {"CUBIC", SYNACK_CC_CUBIC},
    {"NewReno", SYNACK_CC_NEWRENO},
};
#define NCC (sizeof ccs / sizeof ccs[0])

static const double losses[] = {0.0, 0.01, 0.05, 0.10};
#define NLOSS (sizeof losses / sizeof losses[0])

struct params {
    synack_time rtt, duration;
    uint64_t rate_bps;
    unsigned seeds;
    bool verbose;
    bool no_rack; /* RFC 8985 §6 off, as Linux's tcp_recovery 0 */
};

struct pump {
    struct sim *sim;
    synack_sock lsn, cli, srv;
    uint64_t rcvd;
    int err;
};

static uint8_t txbuf[65536], rxbuf[65536];

static bool accepted(void *ctx)
{
    struct pump *p = ctx;
    if (p->srv < 0)
        p->srv = synack_accept(p->sim->b, p->lsn, NULL);
    return p->srv >= 0 && (synack_events(p->sim->a, p->cli) & SYNACK_EV_OUT);
}

/* Keeps the sender's buffer full and the receiver's empty; never done, so
 * sim_run stops at the duration. */
static bool pump(void *ctx)
{
    struct pump *p = ctx;
    long n;
    while ((n = synack_send(p->sim->a, p->cli, txbuf, sizeof txbuf)) > 0)
        ;
    if (n < 0 && n != -EAGAIN && !p->err)
        p->err = (int)n;
    while ((n = synack_recv(p->sim->b, p->srv, rxbuf, sizeof rxbuf)) > 0)
        p->rcvd += (uint64_t)n;
    if (n < 0 && n != -EAGAIN && !p->err)
        p->err = (int)n;
    return false;
}

/* Goodput in bit/s, or a negative errno. */
static double run(const struct params *pp, const struct cc *cc, double loss, uint64_t seed)
{
    /* buffers of four bandwidth-delay products: the window, not the
     * buffer, limits the sender */
    uint64_t bdp = pp->rate_bps / 8 * pp->rtt / 1000000u;
    uint32_t buf = (uint32_t)(4 * bdp > 65536 ? 4 * bdp : 65536);
    synack_config base = {.sndbuf = buf, .rcvbuf = buf, .no_rack = pp->no_rack};
    struct sim s;
    sim_init(&s, seed, pp->rtt / 2, &base);
    synack_link_faults f = {.seed = seed, .loss = loss, .rate_bps = pp->rate_bps,
                            .queue_bytes = (uint32_t)(bdp > 3000 ? bdp : 3000)};
    sim_set_faults(&s, &f);
    struct pump p = {.sim = &s, .srv = -1};
    p.lsn = synack_socket(s.b);
    synack_endpoint ep = sim_ep(SIM_ADDR_B, 5001);
    synack_bind(s.b, p.lsn, &ep);
    synack_listen(s.b, p.lsn, 4);
    p.cli = synack_socket(s.a);
    int r = synack_setopt(s.a, p.cli, SYNACK_OPT_CONGESTION, cc->value);
    if (r < 0) {
        sim_free(&s);
        return r;
    }
    synack_connect(s.a, p.cli, &ep);
    if (!sim_run(&s, accepted, &p, SYNACK_SEC(120))) {
        sim_free(&s);
        return -ETIMEDOUT;
    }
    sim_run(&s, pump, &p, pp->duration);
    if (pp->verbose) {
        synack_link_stats st;
        synack_memlink_stats(s.link, 0, &st);
        synack_tcp_info ti;
        synack_tcp_info_get(s.a, p.cli, &ti);
        fprintf(stderr,
                "%s loss %g seed %llu: %llu bytes read; data path %llu frames, %llu lost, %llu queue drops, "
                "peak queue %u bytes; srtt %u us rto %u us; retransmitted %llu segments\n",
                cc->name, loss, (unsigned long long)seed, (unsigned long long)p.rcvd,
                (unsigned long long)st.frames, (unsigned long long)st.lost, (unsigned long long)st.queue_drops,
                st.queue_peak_bytes, ti.srtt_us, ti.rto_us,
                (unsigned long long)synack_counter(s.a, "tcp_retrans"));
    }
    sim_free(&s);
    if (p.err)
        return p.err;
    return (double)p.rcvd * 8 / ((double)pp->duration / 1e6);
}

int main(int argc, char **argv)
{
    struct params pp = {.rtt = SYNACK_MS(40), .duration = SYNACK_SEC(60), .rate_bps = 50000000, .seeds = 5};
    int o;
    while ((o = getopt(argc, argv, "r:b:t:S:nv")) != -1) {
        switch (o) {
        case 'r':
            pp.rtt = SYNACK_MS(strtoull(optarg, NULL, 0));
            break;
        case 'b':
            pp.rate_bps = strtoull(optarg, NULL, 0) * 1000000u;
            break;
        case 't':
            pp.duration = SYNACK_SEC(strtoull(optarg, NULL, 0));
            break;
        case 'S':
            pp.seeds = (unsigned)strtoul(optarg, NULL, 0);
            break;
        case 'n':
            pp.no_rack = true;
            break;
        case 'v':
            pp.verbose = true;
            break;
        default:
            fprintf(stderr, "usage: %s [-r RTT_MS] [-b MBIT] [-t SECONDS] [-S SEEDS] [-n] [-v]\n", argv[0]);
            return 2;
        }
    }
    if (!pp.rtt || !pp.rate_bps || !pp.duration || !pp.seeds || pp.rate_bps > SYNACK_LINK_MAX_RATE) {
        fprintf(stderr, "bench-goodput: RTT, rate, duration and seeds must be positive\n");
        return 2;
    }
    printf("goodput: one connection, RTT %llu ms, bottleneck %.0f Mbit/s with a one-BDP queue, random loss on "
           "each direction, %llu s of virtual time, mean of %u seeds%s (Mbit/s)\n\n",
           (unsigned long long)(pp.rtt / 1000), (double)pp.rate_bps / 1e6,
           (unsigned long long)(pp.duration / 1000000), pp.seeds, pp.no_rack ? ", RACK off" : "");
    printf("| loss |");
    for (size_t c = 0; c < NCC; c++)
        printf(" %s |", ccs[c].name);
    printf(" link | Mathis bound |\n|---:|");
    for (size_t c = 0; c < NCC; c++)
        printf("---:|");
    printf("---:|---:|\n");
    int rc = 0;
    for (size_t i = 0; i < NLOSS; i++) {
        printf("| %g %% |", losses[i] * 100);
        for (size_t c = 0; c < NCC; c++) {
            double sum = 0;
            int err = 0;
            for (unsigned seed = 1; seed <= pp.seeds && !err; seed++) {
                double g = run(&pp, &ccs[c], losses[i], seed);
                if (g < 0)
                    err = (int)g;
                sum += g;
            }
            if (err) {
                printf(" %s |", synack_strerror(err));
                rc = 1;
            } else {
                printf(" %.2f |", sum / pp.seeds / 1e6);
            }
            fflush(stdout);
        }
        double mss_bits = 1448.0 * 8, rtt_s = (double)pp.rtt / 1e6;
        double link = (double)pp.rate_bps / 1e6;
        if (losses[i] > 0) {
            double m = mss_bits / rtt_s * 1.22 / sqrt(losses[i]) / 1e6;
            printf(" %.0f | %.2f |\n", link, m < link ? m : link);
        } else {
            printf(" %.0f | - |\n", link);
        }
    }
    return rc;
}
