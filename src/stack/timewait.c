/* TIME_WAIT records (Linux's tcp_timewait_sock): when an orphaned
 * connection enters TIME_WAIT, its sock, TCB and storage are freed and a
 * struct tcp_tw takes its place in the connection table (as in Linux's
 * ehash), with its 2MSL timer in a wheel of its own. A segment for it, or the timer, loads it into a TCB on
 * the C stack and runs the core as for any connection (src/tcp/timewait.c),
 * so TIME_WAIT answers the same: a retransmitted FIN is acknowledged and
 * restarts 2MSL, PAWS drops old duplicates, an RST ends it, a newer SYN
 * reopens it (RFC 9293 §3.10.7.4, RFC 7323 §5, RFC 6191). */
#include <stdlib.h>
#include <string.h>

#include "stack.h"

/* socket.c's walk asks for a record's first two lines (and the byte past
 * them) to find it and test it for reuse: tcb.h keeps those fields first */
_Static_assert(offsetof(struct tw_rec, tw) + offsetof(struct tcp_tw, family) < 128,
               "what a lookup reads lies in a record's first 128 bytes");

static const uint8_t *laddr(const struct tcp_tw *w)
{
    return w->family == 6 && w->a6 ? w->a6->laddr : w->laddr;
}

static const uint8_t *raddr(const struct tcp_tw *w)
{
    return w->family == 6 && w->a6 ? w->a6->raddr : w->raddr;
}

bool tw_tuple_eq(const struct tcp_tw *w, const struct tcp_tuple *t)
{
    size_t n = w->family == 6 ? 16 : 4;
    return w->lport == t->lport && w->rport == t->rport && w->family == t->family &&
           !memcmp(laddr(w), t->laddr, n) && !memcmp(raddr(w), t->raddr, n);
}

/* Records share the connection table with sockets (demux.c): the chain
 * for a tuple is the one its connection was in. */
struct tw_rec *tw_lookup(synack_stack *s, const struct tcp_tuple *t)
{
    struct hnode *x = s->n_tw ? demux_find(s, t, demux_hash(s, t)) : NULL;
    return x && x->tw ? hnode_tw(x) : NULL;
}

static void tw_remove(synack_stack *s, struct tw_rec *w)
{
    demux_unlink(s, &w->hn);
    s->n_tw--;
    tw_reap(s, w);
}

void tw_maybe_enter(synack_stack *s, struct sock *k)
{
    struct tcb *b = &k->tcb;
    if (b->state != TCP_TIME_WAIT || k->handle >= 0 || k->queued || k->parent || b->rcv.len)
        return;
    if (!k->hashed || demux_reserve(s) < 0)
        return; /* no memory: the full TCB serves TIME_WAIT */
    struct tw_rec *w = pool_tw_get(s);
    if (!w)
        return;
    /* an ACK still owed (the one for the peer's FIN) leaves now */
    if ((b->flags & TCB_ACK_PENDING) && stack_attach(s, k, 0, 0) == 0)
        tcp_output(&s->tcp, b);
    tcp_tw_save(b, &w->tw);
    uint32_t h = k->hn.hash; /* the same tuple */
    demux_remove(s, k);
    b->a6 = NULL;       /* the record owns the IPv6 addresses now */
    wheel_node_init(&w->tn);
    uint64_t at = b->t_wait;
    /* Linux tw_tos / tw_tclass: the record's ACKs keep the DS field */
    w->hn.tos = k->hn.tos;
    w->hn.tclass = k->hn.tclass;
    w->hn.ttl = 0;
    sock_free(s, k);
    demux_link(s, &w->hn, h, true);
    s->n_tw++;
    wheel_set(&s->tw_wheel, &w->tn, at);
}

void tw_reuse(synack_stack *s, struct tw_rec *w, struct tcp_tw *old)
{
    struct tcb b;
    struct tcp_ext x;
    tcp_tw_load(&w->tw, w->tn.when, &b, &x);
    tcp_set_state(&s->tcp, &b, TCP_CLOSED, "TIME_WAIT reused by connect()");
    *old = w->tw;
    old->a6 = NULL; /* freed with the record */
    /* Leaving the wheel writes to the timer's neighbours: the records of
     * the closes just before and after this one's, a second or more ago,
     * so cache misses (bench/connrate: 118 ns a reuse). Asked for now,
     * written at tw_reap, after the rest of connect(). */
    __builtin_prefetch(w->tn.next, 1);
    __builtin_prefetch(w->tn.pprev, 1);
    demux_unlink(s, &w->hn);
    s->n_tw--;
}

void tw_reap(synack_stack *s, struct tw_rec *w)
{
    if (!w)
        return;
    wheel_cancel(&s->tw_wheel, &w->tn);
    free(w->tw.a6);
    pool_tw_put(s, w);
}

bool tw_input(synack_stack *s, struct tw_rec *w, const struct wire_tcp *seg, uint32_t *iss_hint)
{
    struct tcb b;
    struct tcp_ext x;
    tcp_tw_load(&w->tw, w->tn.when, &b, &x);
    s->out_entry = &w->hn; /* what it sends takes the record's IP fields */
    enum tcp_verdict v = tcp_input(&s->tcp, &b, seg);
    if (v == TCP_KEEP)
        tcp_output(&s->tcp, &b); /* the ACK it drew, at once: there is no later flush for a record */
    s->out_entry = NULL;
    if (v == TCP_TW_REOPEN) {
        tcp_set_state(&s->tcp, &b, TCP_CLOSED, "TIME_WAIT reused by a new SYN");
        /* Linux starts the new ISN beyond the old connection's space */
        *iss_hint = w->tw.snd_nxt + 65535 + 2;
        tw_remove(s, w);
        return true;
    }
    if (v == TCP_FREE) { /* an RST ended it */
        tw_remove(s, w);
        return false;
    }
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
        s->out_entry = &w->hn;
        enum tcp_verdict v = tcp_timers(&s->tcp, &b);
        s->out_entry = NULL;
        if (v == TCP_FREE) { /* 2MSL timeout */
            tw_remove(s, w);
            continue;
        }
        tcp_tw_save(&b, &w->tw);
        wheel_set(&s->tw_wheel, &w->tn, b.t_wait);
    }
}

/* Records only: the stack frees its sockets after (stack.c). */
void tw_free_all(synack_stack *s)
{
    for (size_t i = 0; s->n_tw && i < s->n_buckets; i++)
        for (struct hnode **pp = &s->buckets[i]; *pp;) {
            struct hnode *x = *pp;
            if (!x->tw) {
                pp = &x->next;
                continue;
            }
            *pp = x->next;
            s->n_tw--;
            free(hnode_tw(x)->tw.a6);
            free(hnode_tw(x));
        }
}
