/* A stack instance: configuration, randomness from the seed, the poll loop
 * that flushes output and runs timers, events and counters. */
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "wire/bytes.h"

/* splitmix64: a small, well-known generator; every random choice of the
 * stack flows from the seed through it, so runs replay exactly. */
uint64_t stack_random(synack_stack *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void stack_now(synack_stack *s)
{
    stack_now_at(s, s->cfg.clock(s->cfg.clock_ctx));
}

/* Time given by a caller that read the same clock earlier (synack_input_at,
 * synack_poll_at) may be behind a read made since: time never goes back. */
void stack_now_at(synack_stack *s, synack_time now)
{
    if (now > s->tcp.now)
        s->tcp.now = now;
}

static void endpoints(const struct tcp_tuple *t, synack_endpoint *l, synack_endpoint *r)
{
    memset(l, 0, sizeof *l);
    memset(r, 0, sizeof *r);
    l->addr.family = r->addr.family = t->family;
    memcpy(l->addr.bytes, t->laddr, 16);
    memcpy(r->addr.bytes, t->raddr, 16);
    l->port = t->lport;
    r->port = t->rport;
}

static void on_state(void *cb, struct tcb *tcb, enum tcp_state from, enum tcp_state to, const char *why)
{
    synack_stack *s = cb;
    if (!s->cfg.on_state)
        return;
    synack_endpoint l, r;
    endpoints(TCP_TUPLE(tcb), &l, &r);
    s->cfg.on_state(s->cfg.on_state_ctx, &l, &r, (synack_state)from, (synack_state)to, why, s->tcp.now);
}

synack_stack *synack_stack_new(const synack_config *cfg)
{
    if (!cfg || !cfg->clock || sodium_init() < 0)
        return NULL;
    bool range = cfg->port_lo || cfg->port_hi;
    if (range && (!cfg->port_lo || cfg->port_lo > cfg->port_hi))
        return NULL;
    if (cfg->ecn_set && cfg->ecn > SYNACK_ECN_PASSIVE)
        return NULL;
    if (cfg->ack_delay >= SYNACK_MS(500)) /* RFC 1122 §4.2.3.2: "MUST be less than 0.5 seconds" */
        return NULL;
    synack_stack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->rng = cfg->seed;
    if (!range) { /* Linux's ip_local_port_range */
        s->cfg.port_lo = 32768;
        s->cfg.port_hi = 60999;
    }
    struct tcp_params *p = &s->tcp.p;
    p->msl2 = cfg->time_wait ? cfg->time_wait : SYNACK_SEC(60);
    p->fin_wait2 = cfg->fin_wait2_timeout ? cfg->fin_wait2_timeout : SYNACK_SEC(60);
    p->rto_initial = SYNACK_SEC(1);
    p->rto_min = SYNACK_MS(200);
    p->rto_max = SYNACK_SEC(120);
    p->delack = cfg->ack_delay ? cfg->ack_delay : SYNACK_MS(40);
    p->challenge_limit = cfg->challenge_ack_limit ? cfg->challenge_ack_limit : 1000;
    p->syn_retries = cfg->syn_retries ? cfg->syn_retries : 6;
    p->synack_retries = cfg->synack_retries ? cfg->synack_retries : 5;
    p->data_retries = cfg->data_retries ? cfg->data_retries : 15;
    p->use_ts = p->use_sack = p->use_wscale = true;
    p->use_ts = !cfg->no_timestamps;
    p->use_tlp = !cfg->no_tlp;
    p->use_rack = !cfg->no_rack;
    p->fastopen = cfg->fastopen;
    p->min_tso_segs = cfg->min_tso_segs ? cfg->min_tso_segs : 2;
    synack_set_ecn(s, cfg->ecn_set ? cfg->ecn : SYNACK_ECN_PASSIVE); /* Linux's default tcp_ecn */
    if (!s->cfg.sndbuf)
        s->cfg.sndbuf = 16 * 1024;
    if (!s->cfg.rcvbuf)
        s->cfg.rcvbuf = 128 * 1024;
    s->tcp.st = &s->st;
    s->tcp.cb = s;
    s->tcp.output = ip_output_tcp;
    s->tcp.state_change = on_state;
    s->tcp.fo_listener_key = stack_fo_listener_key;
    for (size_t i = 0; i < 16; i += 8) {
        uint64_t r = stack_random(s);
        memcpy(s->tcp.isn_key + i, &r, 8);
        r = stack_random(s);
        memcpy(s->hash_key + i, &r, 8);
    }
    s->ip_id = (uint16_t)stack_random(s);
    /* RFC 7413 §4.1.2 cookie key: the configured one, else derived from the
     * ISN secret (not drawn from the generator, so that turning Fast Open
     * on changes nothing else in a seeded run) */
    if (cfg->fastopen_key_set) {
        memcpy(s->tcp.fo_key, cfg->fastopen_key, sizeof s->tcp.fo_key);
    } else {
        static const uint8_t dom[2][4] = {"TFO0", "TFO1"};
        for (int i = 0; i < 2; i++)
            crypto_shorthash_siphash24(s->tcp.fo_key + 8 * i, dom[i], sizeof dom[i], s->tcp.isn_key);
    }
    stack_now(s);
    wheel_init(&s->wheel, s->tcp.now);
    wheel_init(&s->tw_wheel, s->tcp.now);
    pool_init(s);
    return s;
}

/* net.ipv4.tcp_timestamps written on a live stack: later SYNs and SYN-ACKs */
void synack_set_timestamps(synack_stack *s, bool on)
{
    s->cfg.no_timestamps = !on;
    s->tcp.p.use_ts = on;
}

int synack_set_ecn(synack_stack *s, unsigned mode)
{
    if (mode > SYNACK_ECN_PASSIVE)
        return -EINVAL;
    s->cfg.ecn_set = true;
    s->cfg.ecn = (uint8_t)mode;
    s->tcp.p.ecn = (uint8_t)mode; /* the same numbering: TCP_ECN_MODE_* */
    return 0;
}

void synack_stack_free(synack_stack *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_handles; i++)
        if (s->handles[i])
            sock_free(s, s->handles[i]);
    tw_free_all(s); /* the records, out of the connection table first */
    for (size_t i = 0; i < s->n_buckets; i++)
        while (s->buckets[i])
            sock_free(s, hnode_sock(s->buckets[i]));
    /* children still in accept queues of listeners freed above are gone
     * with them (sock_free releases a listener's queue) */
    stack_fo_free(s);
    free(s->handles);
    free(s->port_refs);
    free(s->port_walks);
    free(s->buckets);
    free(s->listeners);
    pool_free(s);
    free(s);
}

void stack_mark_dirty(synack_stack *s, struct sock *k)
{
    if (k->dirty)
        return;
    k->dirty = true;
    k->dirty_next = s->dirty;
    s->dirty = k;
}

void stack_settle(synack_stack *s, struct sock *k)
{
    /* A sock on the flush list keeps its extension until the flush (at the
     * next poll) settles it: every segment in marks its sock, and releasing
     * here only for the flush to attach and clear another cost an
     * extension cycle per segment (bench/connrate). */
    if (!k->dirty)
        stack_release_idle(s, k, false);
    wheel_set(&s->wheel, &k->tn, k->tcb.state == TCP_CLOSED ? WHEEL_NEVER : tcp_next_deadline(&k->tcb));
    if (k->eq) /* MSG_ZEROCOPY, SO_TIMESTAMPING: what SND.UNA and SND.MAX did */
        errq_settle(s, k);
}

void stack_notify(synack_stack *s, struct sock *k)
{
    if (s->on_event && k->handle >= 0)
        s->on_event(s->on_event_ctx, k->handle, synack_events(s, k->handle));
    else if (s->on_event && k->parent && k->parent->handle >= 0)
        s->on_event(s->on_event_ctx, k->parent->handle, synack_events(s, k->parent->handle));
}

void synack_set_tap(synack_stack *s, synack_tap_fn fn, void *ctx)
{
    s->tap = fn;
    s->tap_ctx = ctx;
}

void synack_set_event_handler(synack_stack *s, synack_event_fn fn, void *ctx)
{
    s->on_event = fn;
    s->on_event_ctx = ctx;
}

static void flush(synack_stack *s)
{
    while (s->dirty) {
        struct sock *k = s->dirty;
        s->dirty = k->dirty_next;
        k->dirty = false;
        k->dirty_next = NULL;
        if (k->tcb.state != TCP_CLOSED && stack_attach(s, k, 0, 0) == 0) {
            tcp_output(&s->tcp, &k->tcb);
            stack_settle(s, k);
        }
        /* off the flush list, so freeing it costs no search */
        tw_maybe_enter(s, k);
    }
}

/* Only the connections whose deadline has come are touched: the wheel
 * hands them out (src/stack/wheel.c), and gives the next deadline. */
synack_time synack_poll(synack_stack *s)
{
    return synack_poll_at(s, s->cfg.clock(s->cfg.clock_ctx));
}

synack_time synack_poll_at(synack_stack *s, synack_time now)
{
    stack_now_at(s, now);
    flush(s);
    wheel_expire(&s->wheel, s->tcp.now);
    struct wheel_node *n;
    while ((n = wheel_next_expired(&s->wheel))) {
        struct sock *k = (struct sock *)((char *)n - offsetof(struct sock, tn));
        if (stack_attach(s, k, 0, 0) < 0) { /* out of memory: try again in a tick */
            wheel_set(&s->wheel, n, s->tcp.now + WHEEL_TICK_US);
            continue;
        }
        enum tcp_verdict v = tcp_timers(&s->tcp, &k->tcb);
        if (v == TCP_FREE) {
            /* Linux tcp_write_err: a timeout reports the soft error an
             * ICMP message left behind (RFC 1122 §4.2.3.9), if any. */
            if (k->tcb.err == -ETIMEDOUT && k->soft_err)
                k->tcb.err = k->soft_err;
            sock_released(s, k);
            continue;
        }
        stack_settle(s, k);
        stack_notify(s, k);
    }
    tw_expire(s);
    synack_time a = wheel_next(&s->wheel), b = wheel_next(&s->tw_wheel);
    return a < b ? a : b;
}

#define N_CORE (sizeof(struct core_stats) / sizeof(uint64_t))
#define N_NET (sizeof(struct net_stats) / sizeof(uint64_t))

size_t synack_counter_count(void)
{
    return N_CORE + N_NET;
}

/* The core's counters, then the stack's own (ICMP, ARP, Ethernet). */
static const char *const counter_names[] = {
#define NAME(n, t) #n,
    CORE_STATS(NAME) NET_STATS(NAME)
#undef NAME
};
static const char *const counter_help[] = {
#define HELP(n, t) t,
    CORE_STATS(HELP) NET_STATS(HELP)
#undef HELP
};

const char *synack_counter_name(size_t i)
{
    return i < synack_counter_count() ? counter_names[i] : NULL;
}

const char *synack_counter_help(size_t i)
{
    return i < synack_counter_count() ? counter_help[i] : NULL;
}

uint64_t synack_counter_value(const synack_stack *s, size_t i)
{
    if (i >= synack_counter_count())
        return UINT64_MAX;
    if (i < N_CORE)
        return ((const uint64_t *)&s->st)[i];
    return ((const uint64_t *)&s->nst)[i - N_CORE];
}

uint64_t synack_counter(const synack_stack *s, const char *name)
{
    for (size_t i = 0; i < synack_counter_count(); i++)
        if (!strcmp(counter_names[i], name))
            return synack_counter_value(s, i);
    return UINT64_MAX;
}

void synack_counters_print(const synack_stack *s, void *file, bool all)
{
    for (size_t i = 0; i < synack_counter_count(); i++) {
        uint64_t v = synack_counter_value(s, i);
        if (v || all)
            fprintf(file, "  %-28s %10llu  # %s\n", counter_names[i], (unsigned long long)v, counter_help[i]);
    }
}

const char *synack_state_name(synack_state st)
{
    return tcp_state_name((enum tcp_state)st);
}

const char *synack_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EAGAIN: return "would block (EAGAIN)";
    case -EINPROGRESS: return "connection in progress (EINPROGRESS)";
    case -ECONNREFUSED: return "connection refused (ECONNREFUSED)";
    case -ECONNRESET: return "connection reset by peer (ECONNRESET)";
    case -ETIMEDOUT: return "connection timed out (ETIMEDOUT)";
    case -EPIPE: return "broken pipe: write side closed (EPIPE)";
    case -ENOTCONN: return "not connected (ENOTCONN)";
    case -EISCONN: return "already connected (EISCONN)";
    case -EALREADY: return "connection already in progress (EALREADY)";
    case -EADDRINUSE: return "address in use (EADDRINUSE)";
    case -EADDRNOTAVAIL: return "address not available (EADDRNOTAVAIL)";
    case -EBADF: return "bad socket handle (EBADF)";
    case -EINVAL: return "invalid argument (EINVAL)";
    case -ENOMEM: return "out of memory (ENOMEM)";
    case -ENOSPC: return "no space left (ENOSPC)";
    case -EOPNOTSUPP: return "operation not supported (EOPNOTSUPP)";
    case -ENETUNREACH: return "network unreachable (ENETUNREACH)";
    }
    return "unknown error";
}
