/* Two stacks joined by the in-memory link, on one virtual clock: the way
 * most tests run a whole exchange in microseconds of real time. */
#ifndef SYNACK_TEST_SIM_H
#define SYNACK_TEST_SIM_H

#include <stdbool.h>
#include <stdio.h>

#include "synack.h"

#define SIM_ADDR_A 0xc6120001u /* 198.18.0.1 */
#define SIM_ADDR_B 0xc6120002u /* 198.18.0.2 */
/* Each stack also has an IPv6 address in 2001:2::/48 (RFC 5180, the
 * benchmarking prefix): 2001:2::1 and 2001:2::2, prefix 64. */
#define SIM_ADDR6_A 1
#define SIM_ADDR6_B 2

struct sim_log {
    char lines[64][160];
    int n;
};

struct sim {
    synack_vclock clock;
    synack_memlink *link;
    synack_stack *a, *b;
    int if_a, if_b;
    struct sim_log log; /* state changes of both stacks, in order */
};

/* seed: both stacks' seeds derive from it; delay: one-way link delay. */
void sim_init(struct sim *s, uint64_t seed, synack_time delay, const synack_config *base);
void sim_free(struct sim *s);
/* Runs deliveries and timers until done(ctx) or until max_time of virtual
 * time has passed; returns done(ctx) at the end. */
bool sim_run(struct sim *s, bool (*done)(void *ctx), void *ctx, synack_time max_time);
/* Runs for exactly span of virtual time. */
void sim_advance(struct sim *s, synack_time span);
synack_endpoint sim_ep(uint32_t addr, uint16_t port);
/* 2001:2::host, port */
synack_endpoint sim_ep6(uint8_t host, uint16_t port);
/* The same faults on both directions of the link, each direction seeded
 * from f->seed on its own (docs/fault-link.md). Returns 0 or -EINVAL. */
int sim_set_faults(struct sim *s, const synack_link_faults *f);

#endif
