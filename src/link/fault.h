/* The random decisions of the fault-injecting link, one direction each: a
 * seeded generator of its own (xoshiro256**), so a run replays from its seed.
 * mem.c owns the queues and the clock; this decides what happens to a frame. */
#ifndef SYNACK_LINK_FAULT_H
#define SYNACK_LINK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack.h"

struct link_fault {
    synack_link_faults cfg;
    uint64_t rng[4];
    bool bad; /* Gilbert-Elliott channel state */
    uint64_t loss_t, reorder_t, dup_t, corrupt_t; /* probabilities as 2^64 thresholds */
    uint64_t enter_t, leave_t, loss_good_t, loss_bad_t;
    uint64_t ce_t;
    bool any; /* some fault configured: without one, a frame skips every draw */
};

/* Validates and installs cfg for direction `dir`; returns 0 or -EINVAL. */
int link_fault_set(struct link_fault *f, const synack_link_faults *cfg, int dir);
/* 0 keep, 1 lost (Bernoulli), 2 lost (Gilbert-Elliott). */
int link_fault_lose(struct link_fault *f);
synack_time link_fault_jitter(struct link_fault *f);
bool link_fault_reorder(struct link_fault *f);
bool link_fault_duplicate(struct link_fault *f);
/* Flips the configured number of distinct bits when the frame is to be
 * corrupted; returns how many were flipped (0: untouched). */
unsigned link_fault_corrupt(struct link_fault *f, uint8_t *frame, size_t len);
/* RFC 3168 §5: marks an ECT IP packet CE when its turn comes (mark_ce);
 * true when it did. Draws only for ECT packets. */
bool link_fault_mark_ce(struct link_fault *f, uint8_t *frame, size_t len);

#endif
