/* TIME_WAIT records (Linux's tcp_timewait_sock): when an orphaned
 * connection enters TIME_WAIT, its sock, TCB and storage are freed and a
 * struct tcp_tw stays in a hash table of its own, with its 2MSL timer in a
 * wheel of its own. A segment for it, or the timer, loads it into a TCB on
 * the C stack and runs the core as for any connection (src/tcp/timewait.c),
 * so TIME_WAIT answers the same: a retransmitted FIN is acknowledged and
 * restarts 2MSL, PAWS drops old duplicates, an RST ends it, a newer SYN
 * reopens it (RFC 9293 §3.10.7.4, RFC 7323 §5, RFC 6191). */
#include <stdlib.h>
#include <string.h>

#include "stack.h"

static const uint8_t *laddr(const struct tcp_tw *w)
{
    return w->family == 6 && w->a6 ? w->a6->laddr : w->laddr;
}

static const uint8_t *raddr(const struct tcp_tw *w)
{
    return w->family == 6 && w->a6 ? w->a6->raddr : w->raddr;
}

static bool tw_eq(const struct tcp_tw *w, const struct tcp_tuple *t)
{
    size_t n = w->family == 6 ? 16 : 4;
    return w->lport == t->lport && w->rport == t->rport && w->family == t->family &&
           !memcmp(laddr(w), t->laddr, n) && !memcmp(raddr(w), t->raddr, n);
}

static struct tcp_tuple *tw_tuple(const struct tcp_tw *w, struct tcp_tuple *t)
{
    memset(t, 0, sizeof *t);
    t->family = w->family;
    size_t n = w->family == 6 ? 16 : 4;
    memcpy(t->laddr, laddr(w), n);
    memcpy(t->raddr, raddr(w), n);
    t->lport = w->lport;
    t->rport = w->rport;
    return t;
}

static struct tw_rec **slot_of(synack_stack *s, uint64_t h)
{
    return &s->tw_buckets[h & (s->n_tw_buckets - 1)];
}

struct tw_rec *tw_lookup_h(synack_stack *s, const struct tcp_tuple *t, uint64_t h)
{
    if (!s->n_tw)
        return NULL;
    for (struct tw_rec *w = *slot_of(s, h); w; w = w->hnext)
        if (tw_eq(&w->tw, t))
            return w;
    return NULL;
}

struct tw_rec *tw_lookup(synack_stack *s, const struct tcp_tuple *t)
{
    return s->n_tw ? tw_lookup_h(s, t, demux_hash(s, t)) : NULL;
}

static bool grow(synack_stack *s)
{
    size_t n = s->n_tw_buckets ? 2 * s->n_tw_buckets : 64;
    struct tw_rec **b = calloc(n, sizeof *b);
    if (!b)
        return false;
    struct tcp_tuple t;
    for (size_t i = 0; i < s->n_tw_buckets; i++)
        for (struct tw_rec *w = s->tw_buckets[i], *next; w; w = next) {
            next = w->hnext;
            size_t j = demux_hash(s, tw_tuple(&w->tw, &t)) & (n - 1);
            w->hnext = b[j];
            b[j] = w;
        }
    free(s->tw_buckets);
    s->tw_buckets = b;
    s->n_tw_buckets = n;
    return true;
}

/* h: the demux_hash of w's 4-tuple, when the caller has it */
static void tw_remove_h(synack_stack *s, struct tw_rec *w, uint64_t h)
{
    struct tw_rec **pp = slot_of(s, h);
    while (*pp != w)
        pp = &(*pp)->hnext;
    *pp = w->hnext;
    s->n_tw--;
    wheel_cancel(&s->tw_wheel, &w->tn);
    free(w->tw.a6);
    pool_tw_put(s, w);
}

static void tw_remove(synack_stack *s, struct tw_rec *w)
{
    struct tcp_tuple t;
    tw_remove_h(s, w, demux_hash(s, tw_tuple(&w->tw, &t)));
}

void tw_maybe_enter(synack_stack *s, struct sock *k)
{
    struct tcb *b = &k->tcb;
    if (b->state != TCP_TIME_WAIT || k->handle >= 0 || k->queued || k->parent || b->rcv.len)
        return;
    if (s->n_tw >= s->n_tw_buckets && !grow(s))
        return; /* no memory: the full TCB serves TIME_WAIT */
    struct tw_rec *w = pool_tw_get(s);
    if (!w)
        return;
    /* an ACK still owed (the one for the peer's FIN) leaves now */
    if ((b->flags & TCB_ACK_PENDING) && stack_attach(s, k, 0, 0) == 0)
        tcp_output(&s->tcp, b);
    tcp_tw_save(b, &w->tw);
    uint64_t h = k->hashed ? k->hash : demux_hash(s, TCP_TUPLE(b)); /* the same tuple */
    demux_remove(s, k);
    b->a6 = NULL;       /* the record owns the IPv6 addresses now */
    wheel_node_init(&w->tn);
    uint64_t at = b->t_wait;
    sock_free(s, k);
    struct tw_rec **slot = slot_of(s, h);
    w->hnext = *slot;
    *slot = w;
    s->n_tw++;
    wheel_set(&s->tw_wheel, &w->tn, at);
}

void tw_reuse(synack_stack *s, struct tw_rec *w, uint64_t h, struct tcp_tw *old)
{
    struct tcb b;
    struct tcp_ext x;
    tcp_tw_load(&w->tw, w->tn.when, &b, &x);
    tcp_set_state(&s->tcp, &b, TCP_CLOSED, "TIME_WAIT reused by connect()");
    *old = w->tw;
    old->a6 = NULL; /* freed with the record */
    tw_remove_h(s, w, h);
}

bool tw_input(synack_stack *s, struct tw_rec *w, uint64_t h, const struct wire_tcp *seg, uint32_t *iss_hint)
{
    struct tcb b;
    struct tcp_ext x;
    tcp_tw_load(&w->tw, w->tn.when, &b, &x);
    enum tcp_verdict v = tcp_input(&s->tcp, &b, seg);
    if (v == TCP_TW_REOPEN) {
        tcp_set_state(&s->tcp, &b, TCP_CLOSED, "TIME_WAIT reused by a new SYN");
        /* Linux starts the new ISN beyond the old connection's space */
        *iss_hint = w->tw.snd_nxt + 65535 + 2;
        tw_remove_h(s, w, h);
        return true;
    }
    if (v == TCP_FREE) { /* an RST ended it */
        tw_remove_h(s, w, h);
        return false;
    }
    tcp_output(&s->tcp, &b); /* the ACK it drew, at once: there is no later flush for a record */
    tcp_tw_save(&b, &w->tw);
    wheel_set(&s->tw_wheel, &w->tn, b.t_wait);
    return false;
}

void tw_expire(synack_stack *s)
{
    wheel_expire(&s->tw_wheel, s->tcp.now);
    struct wheel_node *n;
    while ((n = wheel_next_expired(&s->tw_wheel))) {
        struct tw_rec *w = (struct tw_rec *)((char *)n - offsetof(struct tw_rec, tn));
        struct tcb b;
        struct tcp_ext x;
        tcp_tw_load(&w->tw, n->when, &b, &x);
        if (tcp_timers(&s->tcp, &b) == TCP_FREE) { /* 2MSL timeout */
            tw_remove(s, w);
            continue;
        }
        tcp_tw_save(&b, &w->tw);
        wheel_set(&s->tw_wheel, &w->tn, b.t_wait);
    }
}

void tw_free_all(synack_stack *s)
{
    for (size_t i = 0; i < s->n_tw_buckets; i++)
        for (struct tw_rec *w = s->tw_buckets[i], *next; w; w = next) {
            next = w->hnext;
            free(w->tw.a6);
            free(w);
        }
    free(s->tw_buckets);
}
