#include "sim.h"

#include <stdlib.h>
#include <string.h>

static void log_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now)
{
    struct sim_log *log = ctx;
    if (log->n < 64)
        snprintf(log->lines[log->n++], sizeof log->lines[0], "%u:%u %s -> %s (%s)",
                 (unsigned)l->addr.bytes[3], (unsigned)l->port, synack_state_name(from), synack_state_name(to),
                 why);
    (void)r;
    (void)now;
}

synack_endpoint sim_ep(uint32_t addr, uint16_t port)
{
    synack_endpoint e = {.addr = synack_ipv4(addr), .port = port};
    return e;
}

synack_endpoint sim_ep6(uint8_t host, uint16_t port)
{
    uint8_t b[16] = {0x20, 0x01, 0x00, 0x02};
    b[15] = host;
    synack_endpoint e = {.addr = synack_ipv6(b), .port = port};
    return e;
}

void sim_init(struct sim *s, uint64_t seed, synack_time delay, const synack_config *base)
{
    memset(s, 0, sizeof *s);
    s->clock.now = SYNACK_SEC(1000);
    synack_config c;
    if (base)
        c = *base;
    else
        memset(&c, 0, sizeof c);
    c.clock = synack_vclock_read;
    c.clock_ctx = &s->clock;
    c.on_state = log_state;
    c.on_state_ctx = &s->log;
    c.seed = seed * 2 + 1;
    s->a = synack_stack_new(&c);
    c.seed = seed * 2 + 2;
    s->b = synack_stack_new(&c);
    s->link = synack_memlink_new(delay, synack_vclock_read, &s->clock);
    synack_iface_config ia = {.ops = synack_memlink_ops(), .ctx = synack_memlink_end(s->link, 0),
                              .addr = synack_ipv4(SIM_ADDR_A), .prefix_len = 24,
                              .addr6 = sim_ep6(SIM_ADDR6_A, 0).addr, .prefix6_len = 64};
    synack_iface_config ib = ia;
    ib.ctx = synack_memlink_end(s->link, 1);
    ib.addr = synack_ipv4(SIM_ADDR_B);
    ib.addr6 = sim_ep6(SIM_ADDR6_B, 0).addr;
    s->if_a = synack_iface_add(s->a, &ia);
    s->if_b = synack_iface_add(s->b, &ib);
    synack_memlink_attach(s->link, 0, s->a, s->if_a);
    synack_memlink_attach(s->link, 1, s->b, s->if_b);
}

void sim_free(struct sim *s)
{
    synack_stack_free(s->a);
    synack_stack_free(s->b);
    synack_memlink_free(s->link);
}

static synack_time step(struct sim *s)
{
    synack_memlink_deliver(s->link, s->clock.now);
    synack_time na = synack_poll(s->a);
    synack_time nb = synack_poll(s->b);
    synack_time nl = synack_memlink_next(s->link);
    synack_time n = na < nb ? na : nb;
    return nl < n ? nl : n;
}

bool sim_run(struct sim *s, bool (*done)(void *ctx), void *ctx, synack_time max_time)
{
    synack_time end = s->clock.now + max_time;
    for (;;) {
        synack_time next = step(s);
        if (done && done(ctx))
            return true;
        /* done() may have sent or read (a bulk pump does): what that
         * queued goes out now, and its timers count for the next step */
        if (done)
            next = step(s);
        if (next == SYNACK_TIME_NEVER || next > end) {
            s->clock.now = end;
            step(s);
            return done ? done(ctx) : true;
        }
        s->clock.now = next > s->clock.now ? next : s->clock.now + 1;
    }
}

void sim_advance(struct sim *s, synack_time span)
{
    sim_run(s, NULL, NULL, span);
}

int sim_set_faults(struct sim *s, const synack_link_faults *f)
{
    /* the link mixes the end into each direction's seed */
    int r = synack_memlink_set_faults(s->link, 0, f);
    return r ? r : synack_memlink_set_faults(s->link, 1, f);
}
