/* A hierarchical timer wheel (Varghese and Lauck, "Hashed and hierarchical
 * timing wheels", 1987) holding one node per connection: the earliest of
 * its timers (tcp_next_deadline). Setting, moving and cancelling a node is
 * O(1); the poll touches only slots that are due, so the work per poll and
 * per packet does not grow with the number of connections.
 *
 * Deadlines stay exact: a node keeps its deadline in microseconds and is
 * only handed out once that time has come (never early); the tick (1 ms)
 * only decides the slot it waits in. Nodes whose tick has come but whose
 * deadline is later in that millisecond wait on the due list, which the
 * poll checks one by one. */
#ifndef SYNACK_STACK_WHEEL_H
#define SYNACK_STACK_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEEL_TICK_US 1000u /* see docs/architecture.md, "Timer wheel" */
#define WHEEL_BITS 6
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_LEVELS 10 /* 60 bits of ticks: any 64-bit microsecond time */
#define WHEEL_NEVER UINT64_MAX

struct wheel_node {
    struct wheel_node *next, **pprev; /* pprev NULL: not in the wheel */
    uint64_t when;                    /* microseconds */
};

struct wheel {
    uint64_t cur; /* current tick: nodes with a tick up to it are on the due list */
    struct wheel_node *due;
    struct wheel_node *firing; /* taken out by wheel_expire, handed out one at a time */
    struct wheel_node *slot[WHEEL_LEVELS][WHEEL_SLOTS];
    uint64_t occupied[WHEEL_LEVELS]; /* a hint: a set bit may name an emptied slot */
    /* Each slot's earliest deadline, so that wheel_next never scans a slot
     * (a far one can hold every TIME_WAIT of a busy minute). Inserting keeps
     * it exact; taking out the earliest node marks it stale (a lower bound)
     * until the slot cascades, or, at level 0, the next wheel_next rescans
     * it. */
    uint64_t min[WHEEL_LEVELS][WHEEL_SLOTS];
    uint64_t stale[WHEEL_LEVELS];
    uint64_t next;                   /* cached wheel_next, valid when next_ok */
    bool next_ok;
    size_t count;
};

void wheel_init(struct wheel *w, uint64_t now);
static inline void wheel_node_init(struct wheel_node *n)
{
    n->next = NULL;
    n->pprev = NULL;
    n->when = WHEEL_NEVER;
}
static inline bool wheel_armed(const struct wheel_node *n) { return n->pprev != NULL; }
/* Files n to fire at when (microseconds); WHEEL_NEVER takes it out. Free
 * when n is already filed at that time. */
void wheel_set(struct wheel *w, struct wheel_node *n, uint64_t when);
static inline void wheel_cancel(struct wheel *w, struct wheel_node *n) { wheel_set(w, n, WHEEL_NEVER); }
/* Moves the wheel to now and sets aside every node due by then; they come
 * out of wheel_next_expired one by one, out of the wheel (refile them with
 * wheel_set). A node cancelled meanwhile is simply not handed out. */
void wheel_advance_expire(struct wheel *w, uint64_t now);
static inline void wheel_expire(struct wheel *w, uint64_t now)
{
    /* The common poll, inline: the tick has not moved and nothing waits on
     * the due list, so there is nothing to cascade or hand out (two
     * wheels polled twice a segment in bench/connrate). The rest is
     * wheel_advance_expire's last step. */
    if (now / WHEEL_TICK_US <= w->cur && !w->due) {
        if (w->next_ok && w->next <= now)
            w->next_ok = false;
        return;
    }
    wheel_advance_expire(w, now);
}
struct wheel_node *wheel_next_expired(struct wheel *w);
/* The earliest deadline filed, or WHEEL_NEVER. Never later than the
 * earliest; earlier only when the earliest node of a slot above level 0
 * was moved or cancelled since: a wheel_expire at that time hands out
 * nothing and cascades that slot, so the answers after it move forward. */
uint64_t wheel_next(struct wheel *w);

#endif
