/* Fault decisions for one direction of the in-memory link. Probabilities are
 * kept as 64-bit thresholds so that a draw is one generator step and one
 * compare, and a probability of 0 costs no draw at all. */
#include "fault.h"

#include <errno.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman and Vigna): fast, 2^256 period, no global state. */
static uint64_t next(struct link_fault *f)
{
    uint64_t *s = f->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static bool valid_p(double p) { return p >= 0.0 && p <= 1.0; } /* false for NaN */

/* p as a threshold t with P(draw < t) = p; 1.0 saturates (a draw of
 * UINT64_MAX then still passes, through chance()'s own test). */
static uint64_t threshold(double p)
{
    if (p >= 1.0)
        return UINT64_MAX;
    return (uint64_t)(p * 18446744073709551616.0); /* p * 2^64 */
}

static bool chance(struct link_fault *f, uint64_t t)
{
    if (!t)
        return false;
    return t == UINT64_MAX || next(f) < t;
}

int link_fault_set(struct link_fault *f, const synack_link_faults *cfg, int dir)
{
    static const synack_link_faults none;
    if (!cfg)
        cfg = &none;
    if (!valid_p(cfg->loss) || !valid_p(cfg->burst_enter) || !valid_p(cfg->burst_leave) ||
        !valid_p(cfg->burst_loss_good) || !valid_p(cfg->burst_loss_bad) || !valid_p(cfg->reorder) ||
        !valid_p(cfg->duplicate) || !valid_p(cfg->corrupt) || !valid_p(cfg->mark_ce))
        return -EINVAL;
    if (cfg->reorder > 0 && !cfg->reorder_delay)
        return -EINVAL;
    if (cfg->burst_enter > 0 && cfg->burst_loss_bad == 0)
        return -EINVAL;
    if (cfg->corrupt_bits > SYNACK_LINK_MAX_CORRUPT_BITS)
        return -EINVAL;
    if (cfg->rate_bps > SYNACK_LINK_MAX_RATE)
        return -EINVAL; /* keeps mem.c's serialization arithmetic in 64 bits */
    memset(f, 0, sizeof *f);
    f->cfg = *cfg;
    if (!f->cfg.corrupt_bits)
        f->cfg.corrupt_bits = 1;
    /* the direction goes into the seed: one seed for both ends still gives
     * two independent patterns */
    uint64_t x = cfg->seed ^ (0xd1b54a32d192ed03ull * (uint64_t)(dir + 1));
    for (int i = 0; i < 4; i++)
        f->rng[i] = splitmix64(&x);
    f->loss_t = threshold(cfg->loss);
    f->reorder_t = threshold(cfg->reorder);
    f->dup_t = threshold(cfg->duplicate);
    f->corrupt_t = threshold(cfg->corrupt);
    f->enter_t = threshold(cfg->burst_enter);
    f->leave_t = threshold(cfg->burst_leave);
    f->loss_good_t = threshold(cfg->burst_loss_good);
    f->loss_bad_t = threshold(cfg->burst_loss_bad);
    f->ce_t = threshold(cfg->mark_ce);
    f->any = f->loss_t || f->reorder_t || f->dup_t || f->corrupt_t || f->enter_t || f->loss_good_t ||
             f->ce_t || cfg->jitter;
    return 0;
}

int link_fault_lose(struct link_fault *f)
{
    int r = chance(f, f->loss_t) ? 1 : 0;
    /* the burst channel steps on every frame, so its pattern does not
     * depend on what the Bernoulli draw decided */
    if (f->enter_t || f->bad) {
        if (f->bad ? chance(f, f->leave_t) : chance(f, f->enter_t))
            f->bad = !f->bad;
    }
    bool burst = chance(f, f->bad ? f->loss_bad_t : f->loss_good_t);
    return r ? r : burst ? 2 : 0;
}

synack_time link_fault_jitter(struct link_fault *f)
{
    if (!f->cfg.jitter)
        return 0;
    return next(f) % (f->cfg.jitter + 1);
}

bool link_fault_reorder(struct link_fault *f) { return chance(f, f->reorder_t); }

bool link_fault_duplicate(struct link_fault *f) { return chance(f, f->dup_t); }

unsigned link_fault_corrupt(struct link_fault *f, uint8_t *frame, size_t len)
{
    if (!len || !chance(f, f->corrupt_t))
        return 0;
    uint64_t bits = (uint64_t)len * 8;
    unsigned want = f->cfg.corrupt_bits < bits ? f->cfg.corrupt_bits : (unsigned)bits;
    /* distinct positions: two flips of one bit would cancel out */
    uint64_t chosen[SYNACK_LINK_MAX_CORRUPT_BITS];
    for (unsigned done = 0; done < want;) {
        uint64_t b = next(f) % bits;
        bool seen = false;
        for (unsigned i = 0; i < done; i++)
            seen |= chosen[i] == b;
        if (seen)
            continue;
        chosen[done++] = b;
        frame[b >> 3] ^= (uint8_t)(1u << (b & 7));
    }
    return want;
}

bool link_fault_mark_ce(struct link_fault *f, uint8_t *frame, size_t len)
{
    if (!f->ce_t || len < 2)
        return false;
    unsigned v = frame[0] >> 4;
    /* the ECN field: IPv4 TOS bits 0-1 (byte 1); IPv6 traffic class bits
     * 0-1 (byte 1, bits 4-5) */
    unsigned ecn = v == 4 ? frame[1] & 3u : v == 6 ? (frame[1] >> 4) & 3u : 0;
    if ((ecn != 1 && ecn != 2) || (v == 4 && len < 20) || !chance(f, f->ce_t))
        return false;
    if (v == 6) {
        frame[1] |= 0x30;
        return true;
    }
    /* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the word holding TOS */
    uint32_t m = (uint32_t)frame[0] << 8 | frame[1];
    frame[1] |= 3;
    uint32_t m2 = (uint32_t)frame[0] << 8 | frame[1];
    uint32_t sum = (~((uint32_t)frame[10] << 8 | frame[11]) & 0xffffu) + (~m & 0xffffu) + m2;
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    sum = ~sum & 0xffffu;
    frame[10] = (uint8_t)(sum >> 8);
    frame[11] = (uint8_t)sum;
    return true;
}
