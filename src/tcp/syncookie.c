/* SYN cookies: see syncookie.h for the layout and the rules. */
#include "syncookie.h"

#include <sodium.h>
#include <string.h>

#include "internal.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define TS_OPT_BITS 6 /* Linux TSBITS */
#define TS_OPT_MASK ((1u << TS_OPT_BITS) - 1)
#define TS_WSCALE_NONE 0xfu
#define TS_OPT_SACK 0x10u
#define TS_OPT_ECN 0x20u /* Linux TS_OPT_ECN */

/* Linux msstab (IPv4): the common MSS values, so two bits lose little. */
static const uint16_t msstab[] = {536, 1300, 1440, 1460};
#define MSSTAB_N (sizeof msstab / sizeof msstab[0])

static uint32_t cookie_hash(const struct tcp_ctx *ctx, const struct tcp_tuple *t, uint8_t which, uint32_t count)
{
    uint8_t msg[2 + 32 + 4 + 4];
    msg[0] = which; /* 'C': H1, 'D': H2 - distinct from the ISN and TS hashes */
    msg[1] = t->family;
    memcpy(msg + 2, t->laddr, 16);
    memcpy(msg + 18, t->raddr, 16);
    msg[34] = (uint8_t)(t->lport >> 8);
    msg[35] = (uint8_t)t->lport;
    msg[36] = (uint8_t)(t->rport >> 8);
    msg[37] = (uint8_t)t->rport;
    memcpy(msg + 38, &count, 4);
    uint8_t out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, msg, sizeof msg, ctx->isn_key);
    uint32_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

static uint32_t cookie_count(const struct tcp_ctx *ctx)
{
    return (uint32_t)(ctx->now / TCP_SYNCOOKIE_PERIOD);
}

static unsigned mss_index(uint16_t mss)
{
    unsigned i = MSSTAB_N - 1;
    while (i > 0 && mss < msstab[i])
        i--;
    return i;
}

static uint32_t encode(const struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t peer_isn, uint32_t count,
                       unsigned data)
{
    return cookie_hash(ctx, t, 'C', 0) + peer_isn + (count << COOKIE_BITS) +
           ((cookie_hash(ctx, t, 'D', count) + data) & COOKIE_MASK);
}

uint32_t tcp_syncookie_make(const struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t peer_isn,
                            uint16_t peer_mss)
{
    return encode(ctx, t, peer_isn, cookie_count(ctx), mss_index(peer_mss));
}

void tcp_syncookie_send(struct tcp_ctx *ctx, const struct tcp_tuple *t, const struct wire_tcp *syn,
                        uint16_t mss_local, uint32_t rcvcap)
{
    /* A TCB that lives for this one segment: it holds what tcp_emit reads
     * (tuple, options offered, windows), and no buffer. */
    struct tcb tmp;
    struct tcp_ext tx = {0};
    struct tcp_addr6 a6;
    tmp.x = &tx;
    tmp.a6 = &a6;
    tcp_tcb_init(&tmp, t, mss_local, 0, rcvcap);
    tcp_offer_options(ctx, &tmp);
    tcp_ecn_accept_syn(ctx, &tmp, syn); /* RFC 3168 §6.1.1: ECE on the SYN-ACK as for any */
    const struct wire_tcp_opts *o = &syn->opt;
    bool ts = (tmp.flags & TCB_TS_OK) && o->has_ts;
    if (!ts) { /* nowhere to keep window scale and SACK: offer neither */
        tmp.flags &= ~(TCB_TS_OK | TCB_SACK_OK | TCB_WSCALE_OK);
        tmp.rcv_wscale = 0;
    }
    if (!o->has_wscale) {
        tmp.flags &= ~TCB_WSCALE_OK;
        tmp.rcv_wscale = 0;
    }
    if (!o->sack_perm)
        tmp.flags &= ~TCB_SACK_OK;
    if (ts) {
        /* Linux cookie_init_timestamp: the options in the low bits of a
         * TSval never above the connection's clock. */
        uint32_t opts = TS_WSCALE_NONE;
        if (tmp.flags & TCB_WSCALE_OK)
            opts = o->wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o->wscale;
        if (tmp.flags & TCB_SACK_OK)
            opts |= TS_OPT_SACK;
        if (tmp.ecn & TCP_ECN_OK)
            opts |= TS_OPT_ECN;
        uint32_t now = tcp_ts_now(ctx, &tmp);
        uint32_t val = (now & ~TS_OPT_MASK) | opts;
        if (seq_gt(val, now))
            val -= TS_OPT_MASK + 1;
        tmp.ts_offset += val - now;
        tmp.ts_recent = o->ts_val;
    }
    tmp.state = TCP_SYN_RECEIVED;
    tmp.rcv_nxt = syn->seq + 1;
    tmp.rcv_adv = tmp.rcv_nxt;
    uint16_t mss = o->has_mss && o->mss ? o->mss : TCP_MSS_DEFAULT;
    ctx->st->tcp_syncookies_sent++;
    tcp_emit(ctx, &tmp, WIRE_TCP_SYN | WIRE_TCP_ACK, tcp_syncookie_make(ctx, t, syn->seq, mss), 0, 0);
}

bool tcp_syncookie_check(struct tcp_ctx *ctx, const struct tcp_tuple *t, const struct wire_tcp *ack,
                         struct tcp_syncookie *out)
{
    uint32_t peer_isn = ack->seq - 1;
    uint32_t cookie = ack->ack - 1;
    uint32_t count = cookie_count(ctx);
    /* Linux check_tcp_syn_cookie: the counter in the top 8 bits must be
     * this minute's or the last one's ... */
    uint32_t v = cookie - cookie_hash(ctx, t, 'C', 0) - peer_isn;
    uint32_t age = (count - (v >> COOKIE_BITS)) & 0xffu;
    if (age >= TCP_SYNCOOKIE_MAX_AGE) {
        ctx->st->tcp_syncookies_failed++;
        return false;
    }
    /* ... and the low 24 bits, less that minute's hash, an MSS index. */
    uint32_t data = (v - cookie_hash(ctx, t, 'D', count - age)) & COOKIE_MASK;
    if (data >= MSSTAB_N) {
        ctx->st->tcp_syncookies_failed++;
        return false;
    }
    memset(out, 0, sizeof *out);
    out->mss = msstab[data];
    /* Linux cookie_timestamp_decode: the options come back in TSecr. */
    if (ack->opt.has_ts && ctx->p.use_ts) {
        uint32_t opts = ack->opt.ts_ecr & TS_OPT_MASK;
        out->ts = true;
        out->sack = (opts & TS_OPT_SACK) && ctx->p.use_sack;
        /* Linux cookie_ecn_ok: agreed then, and ECN still on */
        out->ecn = (opts & TS_OPT_ECN) && ctx->p.ecn != TCP_ECN_MODE_OFF;
        uint32_t ws = opts & 0xfu;
        if (ws != TS_WSCALE_NONE) {
            if (ws > TCP_WSCALE_MAX || !ctx->p.use_wscale) {
                ctx->st->tcp_syncookies_failed++;
                return false;
            }
            out->wscale_ok = true;
            out->snd_wscale = (uint8_t)ws;
        }
    }
    ctx->st->tcp_syncookies_recv++;
    return true;
}

void tcp_syncookie_child(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *ack,
                         const struct tcp_syncookie *c)
{
    child->flags |= TCB_PASSIVE;
    tcp_offer_options(ctx, child);
    child->mss_peer = c->mss;
    if (c->wscale_ok && (child->flags & TCB_WSCALE_OK)) {
        child->snd_wscale = c->snd_wscale;
    } else {
        child->flags &= ~TCB_WSCALE_OK;
        child->snd_wscale = child->rcv_wscale = 0;
    }
    if (c->ts && (child->flags & TCB_TS_OK)) {
        child->ts_recent = ack->opt.ts_val;
        child->ts_recent_age = tcp_ts_now(ctx, child);
    } else
        child->flags &= ~TCB_TS_OK;
    if (!c->sack)
        child->flags &= ~TCB_SACK_OK;
    child->ecn = c->ecn ? TCP_ECN_OK : 0;
    child->irs = ack->seq - 1;
    child->rcv_nxt = ack->seq;
    child->rcv_adv = child->rcv_nxt;
    child->snd_wl1 = child->irs;
    child->iss = ack->ack - 1;
    child->snd_una = child->iss;
    child->snd_nxt = child->snd_max = child->snd_data = child->iss + 1;
    child->snd_sml = child->iss; /* no small segment sent yet (Nagle) */
    child->snd_wl2 = child->iss;
    child->last_rcv = ctx->now;
    child->flags |= TCB_NEW;
    tcp_cc_start(child);
    tcp_arm_rtx(ctx, child); /* the SYN-ACK is outstanding until the ACK is taken */
    child->state = TCP_LISTEN; /* record LISTEN -> SYN_RECEIVED, as tcp_accept_syn */
    tcp_set_state(ctx, child, TCP_SYN_RECEIVED, "rcv ACK of SYN cookie");
    ctx->st->tcp_passive_opens++;
}
