/* The timer wheel of wheel.h. A node waits at the level of the highest
 * 6-bit group in which its tick differs from the current tick, in the slot
 * that group names; so every slot lies ahead of the current tick, and the
 * lowest occupied level holds the earliest nodes. When the current tick
 * reaches a slot of level L > 0, its nodes are filed again, lower down
 * (a cascade): a node moves at most once per level. */
#include "wheel.h"

static unsigned digit(uint64_t tick, unsigned level)
{
    return (unsigned)(tick >> (level * WHEEL_BITS)) & (WHEEL_SLOTS - 1);
}

static void link_at(struct wheel_node **head, struct wheel_node *n)
{
    n->next = *head;
    if (*head)
        (*head)->pprev = &n->next;
    *head = n;
    n->pprev = head;
}

static void unlink_node(struct wheel_node *n)
{
    *n->pprev = n->next;
    if (n->next)
        n->next->pprev = n->pprev;
    n->next = NULL;
    n->pprev = NULL;
}

/* The slot a node with deadline when waits in: false for the due list.
 * A node is cascaded before the current tick enters its slot, so the slot
 * found from the current tick is the one it was filed in. */
static bool slot_of(const struct wheel *w, uint64_t when, unsigned *level, unsigned *idx)
{
    uint64_t t = when / WHEEL_TICK_US;
    if (t <= w->cur)
        return false;
    *level = (unsigned)(63 - __builtin_clzll(t ^ w->cur)) / WHEEL_BITS;
    *idx = digit(t, *level);
    return true;
}

static void place(struct wheel *w, struct wheel_node *n)
{
    unsigned level, i;
    if (!slot_of(w, n->when, &level, &i)) {
        link_at(&w->due, n);
        return;
    }
    uint64_t bit = 1ull << i;
    if (!w->slot[level][i]) {
        w->min[level][i] = n->when;
        w->stale[level] &= ~bit;
    } else if (n->when < w->min[level][i]) {
        w->min[level][i] = n->when;
    }
    w->occupied[level] |= bit;
    link_at(&w->slot[level][i], n);
}

/* n leaves its slot: if it was the earliest, the slot's minimum becomes a
 * lower bound only. */
static void forget(struct wheel *w, const struct wheel_node *n)
{
    unsigned level, i;
    if (slot_of(w, n->when, &level, &i) && n->when == w->min[level][i])
        w->stale[level] |= 1ull << i;
}

void wheel_init(struct wheel *w, uint64_t now)
{
    *w = (struct wheel){.cur = now / WHEEL_TICK_US, .next = WHEEL_NEVER, .next_ok = true};
}

void wheel_set(struct wheel *w, struct wheel_node *n, uint64_t when)
{
    if (n->pprev) {
        if (n->when == when)
            return;
        forget(w, n);
        unlink_node(n);
        w->count--;
        if (w->next_ok && n->when == w->next)
            w->next_ok = false;
    }
    n->when = when;
    if (when == WHEEL_NEVER)
        return;
    place(w, n);
    w->count++;
    if (w->next_ok && when < w->next)
        w->next = when;
}

/* The first occupied slot ahead of the current tick: its level and index,
 * and the tick it starts at. False when the wheel is empty. Stale bits of
 * emptied slots are cleared on the way. */
static bool first_slot(struct wheel *w, unsigned *level, unsigned *idx, uint64_t *start)
{
    for (unsigned l = 0; l < WHEEL_LEVELS; l++) {
        unsigned d = digit(w->cur, l);
        uint64_t ahead = d + 1 < WHEEL_SLOTS ? ~0ull << (d + 1) : 0;
        uint64_t bits = w->occupied[l] & ahead;
        while (bits) {
            unsigned i = (unsigned)__builtin_ctzll(bits);
            if (w->slot[l][i]) {
                unsigned shift = (l + 1) * WHEEL_BITS;
                uint64_t hi = shift < 64 ? w->cur >> shift << shift : 0;
                *level = l;
                *idx = i;
                *start = hi | (uint64_t)i << (l * WHEEL_BITS);
                return true;
            }
            w->occupied[l] &= ~(1ull << i);
            bits &= bits - 1;
        }
        /* bits at or behind the current digit are stale: those slots were
         * cascaded or emptied */
        w->occupied[l] &= ahead;
    }
    return false;
}

static void advance(struct wheel *w, uint64_t now)
{
    uint64_t target = now / WHEEL_TICK_US;
    while (w->cur < target) {
        unsigned l, i;
        uint64_t start;
        if (!first_slot(w, &l, &i, &start) || start > target) {
            w->cur = target;
            return;
        }
        w->cur = start;
        w->next_ok = false; /* the slot's minimum may have been a stale bound */
        struct wheel_node *n = w->slot[l][i];
        w->slot[l][i] = NULL;
        w->occupied[l] &= ~(1ull << i);
        while (n) {
            struct wheel_node *next = n->next;
            n->pprev = NULL;
            place(w, n);
            n = next;
        }
    }
}

void wheel_advance_expire(struct wheel *w, uint64_t now)
{
    advance(w, now);
    /* a stale bound whose slot emptied never cascades: drop it once passed */
    if (w->next_ok && w->next <= now)
        w->next_ok = false;
    struct wheel_node *n = w->due;
    while (n) {
        struct wheel_node *next = n->next;
        if (n->when <= now) {
            unlink_node(n);
            link_at(&w->firing, n);
            w->next_ok = false;
        }
        n = next;
    }
}

struct wheel_node *wheel_next_expired(struct wheel *w)
{
    struct wheel_node *n = w->firing;
    if (n) {
        unlink_node(n);
        w->count--;
        w->next_ok = false;
    }
    return n;
}

static uint64_t list_min(const struct wheel_node *n, uint64_t m)
{
    for (; n; n = n->next)
        if (n->when < m)
            m = n->when;
    return m;
}

uint64_t wheel_next(struct wheel *w)
{
    if (w->next_ok)
        return w->next;
    uint64_t m = list_min(w->firing, list_min(w->due, WHEEL_NEVER));
    unsigned l, i;
    uint64_t start;
    if (first_slot(w, &l, &i, &start)) {
        /* A level-0 slot holds one tick's nodes: rescanning it is cheap.
         * A higher slot can hold a minute of TIME_WAITs, and tw_reuse takes
         * out its earliest node again and again (bench/connrate rescanned
         * 120 nodes per connection, 5 % of its time), so its stale minimum
         * stands as a lower bound: a wake there cascades the slot, which
         * files its nodes below with exact minima. */
        if (l == 0 && (w->stale[0] & (1ull << i))) {
            w->min[0][i] = list_min(w->slot[0][i], WHEEL_NEVER);
            w->stale[0] &= ~(1ull << i);
        }
        m = w->min[l][i] < m ? w->min[l][i] : m;
    }
    w->next = m;
    w->next_ok = true;
    return m;
}
