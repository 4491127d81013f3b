/* The simulator's workload: a list of timed operations drawn from the seed
 * alone (not from what happens in the run), so that a subset of it (the
 * minimizer's) replays the same way. Each connection's bytes and chunk
 * sizes are drawn later from the connection's own generator, so removing one
 * operation does not change what the others do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_world.h"

static uint64_t mix(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *st, uint64_t n) { return n ? mix(st) % n : 0; }
static double unit(uint64_t *st) { return (double)(mix(st) >> 11) / 9007199254740992.0; }
static synack_time between(uint64_t *st, synack_time lo, synack_time hi)
{
    return hi > lo ? lo + below(st, hi - lo) : lo;
}

static struct sim_op *push(struct sim_workload *w)
{
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        struct sim_op *o = realloc(w->ops, (size_t)cap * sizeof *o);
        if (!o)
            return NULL;
        w->ops = o;
        w->cap = cap;
    }
    struct sim_op *o = &w->ops[w->n++];
    memset(o, 0, sizeof *o);
    return o;
}

/* Mostly small exchanges, some a window or two, a few long enough for
 * congestion control and recovery to matter. */
static uint64_t draw_bytes(uint64_t *st)
{
    double u = unit(st);
    if (u < 0.15)
        return 0;
    if (u < 0.55)
        return 1 + below(st, 4096);
    if (u < 0.9)
        return 4096 + below(st, 60 * 1024);
    return 64 * 1024 + below(st, 192 * 1024);
}

static enum sim_end draw_end(uint64_t *st)
{
    double u = unit(st);
    return u < 0.6 ? SIM_END_HALF : u < 0.85 ? SIM_END_READ : SIM_END_CLOSE;
}

static int by_time(const void *x, const void *y)
{
    const struct sim_op *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    /* ties keep the order of creation (conn ids rise with it) */
    return a->conn != b->conn ? (a->conn < b->conn ? -1 : 1) : (int)a->kind - (int)b->kind;
}

int sim_workload_make(const struct sim_params *p, struct sim_workload *w)
{
    memset(w, 0, sizeof *w);
    uint64_t st = p->seed ^ 0x5157a11ull;
    synack_time span = p->span ? p->span : 1;
    uint64_t secs = span / SYNACK_SEC(1) + 1;
    /* listeners: most ports listen from the start; some come and go */
    for (int s = 0; s < p->stacks; s++)
        for (int port = 0; port < SIM_PORTS; port++)
            if (unit(&st) < 0.75) {
                struct sim_op *o = push(w);
                if (!o)
                    return -ENOMEM;
                *o = (struct sim_op){.kind = SIM_OP_LISTEN, .a = s, .port = (uint16_t)(SIM_PORT_BASE + port),
                                     .conn = -1};
            }
    uint64_t toggles = (uint64_t)p->stacks * secs / 15 + 1;
    for (uint64_t i = 0; i < toggles; i++) {
        struct sim_op *o = push(w);
        if (!o)
            return -ENOMEM;
        *o = (struct sim_op){.at = between(&st, 0, span),
                             .kind = unit(&st) < 0.5 ? SIM_OP_UNLISTEN : SIM_OP_LISTEN,
                             .a = (int)below(&st, (uint64_t)p->stacks),
                             .port = (uint16_t)(SIM_PORT_BASE + below(&st, SIM_PORTS)),
                             .conn = -1};
    }
    /* connections, each with its stalls and aborts */
    uint64_t conns = secs / 2 + 2;
    for (uint64_t c = 0; c < conns; c++) {
        struct sim_op *o = push(w);
        if (!o)
            return -ENOMEM;
        int a = (int)below(&st, (uint64_t)p->stacks);
        int b = (a + 1 + (int)below(&st, (uint64_t)p->stacks - 1)) % p->stacks;
        *o = (struct sim_op){.at = between(&st, 0, span), .kind = SIM_OP_CONNECT, .a = a, .b = b,
                             .port = (uint16_t)(SIM_PORT_BASE + below(&st, SIM_PORTS)), .conn = (int)c};
        for (int side = 0; side < 2; side++) {
            o->bytes[side] = draw_bytes(&st);
            o->end[side] = draw_end(&st);
            o->nodelay[side] = unit(&st) < 0.3;
        }
        /* two applications that each wait for the other's end of stream
         * before closing would wait forever: one of them half-closes */
        if (o->end[0] == SIM_END_READ && o->end[1] == SIM_END_READ)
            o->end[1] = SIM_END_HALF;
        /* a few clients bind one of a handful of ports, so 4-tuples recur
         * and new SYNs meet old connections in TIME_WAIT (RFC 6191) */
        if (unit(&st) < 0.2)
            o->bind_port = (uint16_t)(6000 + below(&st, 4));
        if (unit(&st) < 0.2)
            o->maxseg = (uint16_t)(536 + below(&st, 1000));
        o->newreno = unit(&st) < 0.3;
        o->simopen = unit(&st) < 0.05;
        o->cork = unit(&st) < 0.1;
        /* some arrive in bursts at one listener: full SYN queues, cookies */
        if (c && unit(&st) < 0.15 && !o->simopen) {
            const struct sim_op *prev = NULL;
            for (int i = w->n - 2; i >= 0 && !prev; i--)
                if (w->ops[i].kind == SIM_OP_CONNECT)
                    prev = &w->ops[i];
            if (prev) {
                o->at = prev->at + below(&st, SYNACK_MS(2));
                o->b = prev->b;
                o->port = prev->port;
                if (o->a == o->b)
                    o->a = (o->b + 1) % p->stacks;
            }
        }
        if (o->simopen) /* ports of its own, called on both sides */
            o->bind_port = o->port = (uint16_t)(7000 + c % 20000);
        synack_time at = o->at;
        if (unit(&st) < 0.25) {
            struct sim_op *s2 = push(w);
            if (!s2)
                return -ENOMEM;
            *s2 = (struct sim_op){.at = at + between(&st, 0, SYNACK_SEC(5)), .kind = SIM_OP_STALL, .conn = (int)c,
                                  .side = (int)below(&st, 2), .dur = between(&st, SYNACK_MS(100), SYNACK_SEC(30))};
        }
        if (unit(&st) < 0.08) {
            struct sim_op *ab = push(w);
            if (!ab)
                return -ENOMEM;
            *ab = (struct sim_op){.at = at + between(&st, 0, SYNACK_SEC(10)), .kind = SIM_OP_ABORT,
                                  .conn = (int)c, .side = (int)below(&st, 2)};
        }
    }
    w->conns = (int)conns;
    if (p->flaps) {
        uint64_t flaps = secs / 10 + 1;
        for (uint64_t i = 0; i < flaps; i++) {
            struct sim_op *o = push(w);
            if (!o)
                return -ENOMEM;
            int a = (int)below(&st, (uint64_t)p->stacks);
            int b = (a + 1 + (int)below(&st, (uint64_t)p->stacks - 1)) % p->stacks;
            *o = (struct sim_op){.at = between(&st, 0, span), .kind = SIM_OP_FLAP, .a = a, .b = b, .conn = -1,
                                 .dur = between(&st, SYNACK_MS(100), SYNACK_SEC(20))};
        }
    }
    qsort(w->ops, (size_t)w->n, sizeof *w->ops, by_time);
    return 0;
}

void sim_workload_free(struct sim_workload *w)
{
    free(w->ops);
    memset(w, 0, sizeof *w);
}

const char *sim_op_kind_name(enum sim_op_kind k)
{
    switch (k) {
    case SIM_OP_LISTEN: return "listen";
    case SIM_OP_UNLISTEN: return "unlisten";
    case SIM_OP_CONNECT: return "connect";
    case SIM_OP_STALL: return "stall";
    case SIM_OP_ABORT: return "abort";
    case SIM_OP_FLAP: return "flap";
    }
    return "?";
}
