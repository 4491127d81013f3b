/* `synack sim`: runs the deterministic simulator over a range of seeds; on
 * the first failing seed, cuts its workload down to the fewest operations
 * that still break the same invariant (delta debugging, each trial replayed
 * from the seed) and writes the capture and state log of that minimal run.
 * docs/simulation.md has the model and the invariants. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "sim_world.h"

#define MIN_RUNS_MAX 400 /* trials the minimizer may spend */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(FILE *f)
{
    fprintf(f,
            "usage: synack sim [--seed S] [--seeds N] [--stacks K] [--time SECONDS] [--loss P] [--reorder P]\n"
            "                  [--dup P] [--corrupt P] [--vary] [--flaps] [--ops LIST] [--out DIR]\n"
            "                  [--ce P] [--trace] [--no-minimize] [--quiet]\n"
            "  runs K stacks (2..%d) joined pairwise by fault-injecting links under a random workload of\n"
            "  SECONDS of virtual time drawn from each seed S..S+N-1, checking the invariants all the time.\n"
            "  P: probability per frame and direction (0..1); --vary: each link draws its own in [0, P].\n"
            "  --ce P: every stack asks for ECN (RFC 3168) and links mark ECN-capable packets CE.\n"
            "  --flaps: links go down and up. A failing seed is minimized to the fewest operations that\n"
            "  still fail; its capture and state log go to DIR/sim-S.pcap and DIR/sim-S.log. --ops replays\n"
            "  only the listed operations (as the minimizer prints them); --trace writes the capture and\n"
            "  log of a passing run too.\n",
            SIM_MAX_STACKS);
    return f == stdout ? 0 : 2;
}

static int bad(const char *opt, const char *val, const char *want)
{
    fprintf(stderr, "synack sim: %s '%s': %s\n", opt, val, want);
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

static bool parse_prob(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= 0.0 && v <= 1.0))
        return false;
    *out = v;
    return true;
}

/* "3,17,40-42" into enabled[] over n ops. */
static bool parse_ops(const char *s, bool *enabled, int n)
{
    memset(enabled, 0, (size_t)n * sizeof *enabled);
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0)
            return false;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return false;
            p = end;
        }
        if (b >= n)
            return false;
        for (long i = a; i <= b; i++)
            enabled[i] = true;
        if (*p == ',')
            p++;
        else if (*p)
            return false;
    }
    return true;
}

static void print_ops(FILE *f, const bool *enabled, int n)
{
    bool first = true;
    for (int i = 0; i < n; i++)
        if (enabled[i]) {
            fprintf(f, "%s%d", first ? "" : ",", i);
            first = false;
        }
}

static void print_replay(FILE *f, const char *argv0, const struct sim_params *p, const bool *enabled, int n)
{
    fprintf(f, "%s sim --seed %" PRIu64 " --stacks %d --time %g", argv0, p->seed, p->stacks, (double)p->span / 1e6);
    if (p->loss)
        fprintf(f, " --loss %g", p->loss);
    if (p->reorder)
        fprintf(f, " --reorder %g", p->reorder);
    if (p->dup)
        fprintf(f, " --dup %g", p->dup);
    if (p->corrupt)
        fprintf(f, " --corrupt %g", p->corrupt);
    if (p->ce)
        fprintf(f, " --ce %g", p->ce);
    if (p->vary)
        fprintf(f, " --vary");
    if (p->flaps)
        fprintf(f, " --flaps");
    if (p->inject)
        fprintf(f, " --inject %s", p->inject == SIM_INJECT_DATA ? "data" : "leak");
    if (enabled) {
        fprintf(f, " --ops ");
        print_ops(f, enabled, n);
    }
}

static void log_ops(FILE *f, const struct sim_workload *wl, const bool *enabled)
{
    for (int i = 0; i < wl->n; i++) {
        if (enabled && !enabled[i])
            continue;
        const struct sim_op *o = &wl->ops[i];
        fprintf(f, "# op %d at %.6f: %s", i, (double)o->at / 1e6, sim_op_kind_name(o->kind));
        switch (o->kind) {
        case SIM_OP_LISTEN:
        case SIM_OP_UNLISTEN: fprintf(f, " stack %d port %u", o->a, o->port); break;
        case SIM_OP_CONNECT:
            fprintf(f, " conn %d: stack %d -> stack %d port %u, %" PRIu64 " bytes / %" PRIu64 " back, ends %d/%d",
                    o->conn, o->a, o->b, o->port, o->bytes[0], o->bytes[1], (int)o->end[0], (int)o->end[1]);
            break;
        case SIM_OP_STALL:
            fprintf(f, " conn %d side %d for %.3f s", o->conn, o->side, (double)o->dur / 1e6);
            break;
        case SIM_OP_ABORT: fprintf(f, " conn %d side %d", o->conn, o->side); break;
        case SIM_OP_FLAP: fprintf(f, " link %d-%d for %.3f s", o->a, o->b, (double)o->dur / 1e6); break;
        }
        fputc('\n', f);
    }
}

struct minimizer {
    const struct sim_params *p;
    const struct sim_workload *wl;
    const char *kind;
    bool *trial;
    int runs;
};

/* Does the run with only the ops in set[0..k) still break the same kind of
 * invariant? */
static bool still_fails(struct minimizer *m, const int *set, int k)
{
    if (m->runs >= MIN_RUNS_MAX)
        return false;
    m->runs++;
    memset(m->trial, 0, (size_t)m->wl->n * sizeof *m->trial);
    for (int i = 0; i < k; i++)
        m->trial[set[i]] = true;
    struct sim_result r;
    if (sim_world_run(m->p, m->wl, m->trial, NULL, NULL, &r) < 0)
        return false;
    return r.failed && !strcmp(r.kind, m->kind);
}

/* Zeller's ddmin over the enabled ops: try each of n parts alone, then each
 * complement; on success keep it and refine, else split finer. The result
 * fails, and removing any one op of it passes (when the budget allows). */
static int ddmin(struct minimizer *m, int *cur, int len)
{
    int *tmp = malloc((size_t)(len ? len : 1) * sizeof *tmp);
    if (!tmp)
        return len;
    int n = 2;
    while (len >= 2 && m->runs < MIN_RUNS_MAX) {
        int chunk = (len + n - 1) / n;
        bool reduced = false;
        for (int i = 0; i < n && !reduced; i++) {
            int lo = i * chunk, hi = lo + chunk < len ? lo + chunk : len;
            if (lo >= hi)
                continue;
            if (still_fails(m, cur + lo, hi - lo)) {
                memmove(cur, cur + lo, (size_t)(hi - lo) * sizeof *cur);
                len = hi - lo;
                n = 2;
                reduced = true;
            }
        }
        for (int i = 0; i < n && !reduced && n > 2; i++) {
            int lo = i * chunk, hi = lo + chunk < len ? lo + chunk : len, k = 0;
            for (int j = 0; j < len; j++)
                if (j < lo || j >= hi)
                    tmp[k++] = cur[j];
            if (k < len && still_fails(m, tmp, k)) {
                memcpy(cur, tmp, (size_t)k * sizeof *cur);
                len = k;
                n = n - 1 > 2 ? n - 1 : 2;
                reduced = true;
            }
        }
        if (!reduced) {
            if (n >= len)
                break;
            n = 2 * n < len ? 2 * n : len;
        }
    }
    free(tmp);
    return len;
}

static int report_failure(const char *argv0, const struct sim_params *p, const struct sim_workload *wl,
                          const bool *enabled, const struct sim_result *first, const char *out_dir, bool minimize)
{
    printf("synack sim: seed %" PRIu64 ": FAILED at %.6f s of virtual time (%s): %s\n", p->seed,
           (double)first->fail_at / 1e6, first->kind, first->what);
    printf("  replay: ");
    print_replay(stdout, argv0, p, enabled, wl->n);
    printf("\n");
    fflush(stdout);
    bool *keep = calloc((size_t)wl->n + 1, sizeof *keep);
    int *cur = malloc(((size_t)wl->n + 1) * sizeof *cur);
    if (!keep || !cur) {
        free(keep);
        free(cur);
        return 1;
    }
    int len = 0;
    for (int i = 0; i < wl->n; i++)
        if (!enabled || enabled[i])
            cur[len++] = i;
    int before = len;
    struct minimizer m = {.p = p, .wl = wl, .kind = first->kind, .trial = keep};
    double t0 = wall_now();
    if (minimize)
        len = ddmin(&m, cur, len);
    memset(keep, 0, (size_t)wl->n * sizeof *keep);
    for (int i = 0; i < len; i++)
        keep[cur[i]] = true;
    /* the minimal run, once more, with its capture and state log */
    char pcap[4096], logp[4096];
    snprintf(pcap, sizeof pcap, "%s/sim-%" PRIu64 ".pcap", out_dir, p->seed);
    snprintf(logp, sizeof logp, "%s/sim-%" PRIu64 ".log", out_dir, p->seed);
    FILE *log = fopen(logp, "w");
    struct sim_result r;
    if (log) {
        fprintf(log, "# synack sim state log: ");
        print_replay(log, argv0, p, keep, wl->n);
        fprintf(log, "\n");
        log_ops(log, wl, keep);
    }
    int rc = sim_world_run(p, wl, keep, log, pcap, &r);
    if (log)
        fclose(log);
    if (rc < 0) {
        fprintf(stderr, "synack sim: cannot write %s: %s\n", pcap, synack_strerror(rc));
    } else if (!r.failed) {
        printf("  the minimal run did not fail again: the simulator is not deterministic (a bug)\n");
    } else {
        if (minimize)
            printf("  minimized: %d of %d operations still fail (%d runs, %.1f s): %s\n", len, before, m.runs,
                   wall_now() - t0, r.what);
        printf("  failure at %.6f s of virtual time; replay the minimal run: ", (double)r.fail_at / 1e6);
        print_replay(stdout, argv0, p, keep, wl->n);
        printf("\n  trace: %s (every frame sent), %s (operations, state changes, events)\n", pcap, logp);
    }
    free(keep);
    free(cur);
    return 1;
}

int synack_cmd_sim(int argc, char **argv)
{
    struct sim_params p = {.seed = 1, .stacks = 3, .span = SYNACK_SEC(30)};
    uint64_t seeds = 1;
    const char *ops = NULL, *out_dir = ".";
    bool minimize = true, trace = false, quiet = false;
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},   {"seeds", required_argument, NULL, 'n'},
        {"stacks", required_argument, NULL, 'k'}, {"time", required_argument, NULL, 't'},
        {"loss", required_argument, NULL, 'l'},   {"reorder", required_argument, NULL, 'r'},
        {"dup", required_argument, NULL, 'd'},    {"corrupt", required_argument, NULL, 'c'},
        {"ce", required_argument, NULL, 'e'},
        {"vary", no_argument, NULL, 'V'},         {"flaps", no_argument, NULL, 'f'},
        {"ops", required_argument, NULL, 'o'},    {"out", required_argument, NULL, 'O'},
        {"trace", no_argument, NULL, 'T'},        {"no-minimize", no_argument, NULL, 'M'},
        {"inject", required_argument, NULL, 'i'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        uint64_t v;
        char *end;
        switch (ch) {
        case 's':
            if (!parse_u64(optarg, &p.seed))
                return bad("--seed", optarg, "want a number");
            break;
        case 'n':
            if (!parse_u64(optarg, &seeds) || !seeds)
                return bad("--seeds", optarg, "want a positive number");
            break;
        case 'k':
            if (!parse_u64(optarg, &v) || v < 2 || v > SIM_MAX_STACKS) {
                char want[64];
                snprintf(want, sizeof want, "want 2 to %d stacks", SIM_MAX_STACKS);
                return bad("--stacks", optarg, want);
            }
            p.stacks = (int)v;
            break;
        case 't': {
            double t = strtod(optarg, &end);
            if (!*optarg || *end || !(t > 0 && t <= 86400))
                return bad("--time", optarg, "want seconds of virtual time, more than 0 and at most 86400");
            p.span = (synack_time)(t * 1e6);
            if (!p.span)
                return bad("--time", optarg, "want at least a microsecond");
            break;
        }
        case 'l':
            if (!parse_prob(optarg, &p.loss))
                return bad("--loss", optarg, "want a probability from 0 to 1");
            break;
        case 'r':
            if (!parse_prob(optarg, &p.reorder))
                return bad("--reorder", optarg, "want a probability from 0 to 1");
            break;
        case 'd':
            if (!parse_prob(optarg, &p.dup))
                return bad("--dup", optarg, "want a probability from 0 to 1");
            break;
        case 'c':
            if (!parse_prob(optarg, &p.corrupt))
                return bad("--corrupt", optarg, "want a probability from 0 to 1");
            break;
        case 'e':
            if (!parse_prob(optarg, &p.ce))
                return bad("--ce", optarg, "want a probability from 0 to 1");
            break;
        case 'V': p.vary = true; break;
        case 'f': p.flaps = true; break;
        case 'o': ops = optarg; break;
        case 'O': out_dir = optarg; break;
        case 'T': trace = true; break;
        case 'M': minimize = false; break;
        case 'q': quiet = true; break;
        case 'i':
            if (!strcmp(optarg, "data"))
                p.inject = SIM_INJECT_DATA;
            else if (!strcmp(optarg, "leak"))
                p.inject = SIM_INJECT_LEAK;
            else
                return bad("--inject", optarg, "want data or leak");
            break;
        case 'h': return usage(stdout);
        default:
            fprintf(stderr, "synack sim: unknown or incomplete option '%s' (try 'synack sim --help')\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "synack sim: unexpected argument '%s' (try 'synack sim --help')\n", argv[optind]);
        return 2;
    }
    if (ops && seeds != 1) {
        fprintf(stderr, "synack sim: --ops replays one seed's workload: give no --seeds\n");
        return 2;
    }
    if (p.loss >= 1.0) {
        fprintf(stderr, "synack sim: --loss 1: no frame would ever arrive; want less than 1\n");
        return 2;
    }
    if (p.seed + seeds - 1 < p.seed) {
        fprintf(stderr, "synack sim: --seed %" PRIu64 " --seeds %" PRIu64 ": past the last seed\n", p.seed, seeds);
        return 2;
    }
    const char *argv0 = "synack";
    double t0 = wall_now();
    uint64_t first = p.seed, conns = 0, clean = 0, errors = 0, refused = 0, bytes = 0, frames = 0;
    synack_time virt = 0;
    for (uint64_t i = 0; i < seeds; i++) {
        p.seed = first + i;
        struct sim_workload wl;
        if (sim_workload_make(&p, &wl) < 0) {
            fprintf(stderr, "synack sim: out of memory\n");
            return 1;
        }
        bool *enabled = NULL;
        if (ops) {
            enabled = calloc((size_t)wl.n + 1, sizeof *enabled);
            if (!enabled || !parse_ops(ops, enabled, wl.n)) {
                fprintf(stderr, "synack sim: --ops '%s': want op numbers from 0 to %d, as 3,17,40-42\n", ops,
                        wl.n - 1);
                free(enabled);
                sim_workload_free(&wl);
                return 2;
            }
        }
        struct sim_result r;
        char pcap[4096], logp[4096];
        FILE *log = NULL;
        if (trace) {
            snprintf(pcap, sizeof pcap, "%s/sim-%" PRIu64 ".pcap", out_dir, p.seed);
            snprintf(logp, sizeof logp, "%s/sim-%" PRIu64 ".log", out_dir, p.seed);
            if (!(log = fopen(logp, "w"))) {
                fprintf(stderr, "synack sim: cannot write %s\n", logp);
                return 1;
            }
            fprintf(log, "# synack sim state log: ");
            print_replay(log, argv0, &p, enabled, wl.n);
            fprintf(log, "\n");
            log_ops(log, &wl, enabled);
        }
        int rc = sim_world_run(&p, &wl, enabled, log, trace ? pcap : NULL, &r);
        if (log)
            fclose(log);
        if (rc < 0) {
            fprintf(stderr, "synack sim: seed %" PRIu64 ": cannot build the world: %s\n", p.seed, synack_strerror(rc));
            free(enabled);
            sim_workload_free(&wl);
            return 1;
        }
        conns += r.conns;
        clean += r.clean;
        errors += r.errors;
        refused += r.refused;
        bytes += r.bytes;
        frames += r.frames;
        virt += r.end_at;
        if (r.failed) {
            int ret = report_failure(argv0, &p, &wl, enabled, &r, out_dir, minimize);
            free(enabled);
            sim_workload_free(&wl);
            return ret;
        }
        if (!quiet && seeds == 1)
            printf("seed %" PRIu64 ": %d ops, %" PRIu64 " connections (%" PRIu64 " clean, %" PRIu64
                   " reset or timed out, %" PRIu64 " refused), %" PRIu64 " bytes read, %" PRIu64
                   " frames, %.1f s virtual\n",
                   p.seed, wl.n, r.conns, r.clean, r.errors, r.refused, r.bytes, r.frames, (double)r.end_at / 1e6);
        free(enabled);
        sim_workload_free(&wl);
    }
    printf("synack sim: %" PRIu64 " seeds (%" PRIu64 "..%" PRIu64 "), %d stacks, all invariants held: %" PRIu64
           " connections (%" PRIu64 " clean, %" PRIu64 " reset or timed out, %" PRIu64 " refused), %.1f MB read, %"
           PRIu64 " frames, %.0f s of virtual time, %.1f s wall\n",
           seeds, first, first + seeds - 1, p.stacks, conns, clean, errors, refused, (double)bytes / 1e6, frames,
           (double)virt / 1e6, wall_now() - t0);
    return 0;
}
