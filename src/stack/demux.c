/* Finding the connection a segment belongs to: a chained hash table on the
 * 4-tuple, keyed with a per-stack secret so peers cannot aim collisions,
 * and a short list of listeners. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "wire/siphash.h"

/* SipHash-2-4 under the per-stack key of the message laddr, raddr, the
 * peer's port (big-endian) and a tag; our own port is added to it, not
 * hashed (demux_hash in stack.h). An IPv4 tuple hashes its 11 bytes only
 * (SipHash's cost grows with the input). The words go to the hash from
 * registers (wire/siphash.h). Every caller on the path of one segment
 * hashes once and hands the value on; a hashed sock keeps its own. */
uint64_t demux_base(const synack_stack *s, const struct tcp_tuple *t)
{
    /* 'D': a domain of its own, so that this hash and the port walk's
     * (socket.c), under the same key, tell nothing of each other */
    struct wire_sip h;
    wire_sip_init(&h, s->hash_key);
    uint64_t tail = (uint64_t)(t->rport >> 8) | (uint64_t)(t->rport & 0xff) << 8;
    if (t->family == 6) {
        wire_sip_word(&h, wire_sip_le64(t->laddr));
        wire_sip_word(&h, wire_sip_le64(t->laddr + 8));
        wire_sip_word(&h, wire_sip_le64(t->raddr));
        wire_sip_word(&h, wire_sip_le64(t->raddr + 8));
        return wire_sip_final(&h, tail | (uint64_t)'d' << 16, 35);
    }
    wire_sip_word(&h, wire_sip_le32(t->laddr) | (uint64_t)wire_sip_le32(t->raddr) << 32);
    return wire_sip_final(&h, tail | (uint64_t)'D' << 16, 11);
}

/* IPv4 addresses are in the TCB, IPv6 ones beside it (tcb.h). */
static bool tuple_eq(const struct tcb *a, const struct tcp_tuple *b)
{
    if (a->lport != b->lport || a->rport != b->rport || a->family != b->family)
        return false;
    if (a->family == 6 && a->a6)
        return !memcmp(a->a6->laddr, b->laddr, 16) && !memcmp(a->a6->raddr, b->raddr, 16);
    return !memcmp(a->laddr, b->laddr, 4) && !memcmp(a->raddr, b->raddr, 4);
}

/* Doubles the table: every node keeps its hash, so nothing is hashed
 * again (TIME_WAIT records included: they share this table). */
static int grow(synack_stack *s)
{
    size_t n = s->n_buckets ? s->n_buckets * 2 : 64;
    struct hnode **b = calloc(n, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < s->n_buckets; i++)
        for (struct hnode *x = s->buckets[i], *next; x; x = next) {
            next = x->next;
            size_t j = x->hash & (n - 1);
            x->next = b[j];
            b[j] = x;
        }
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = n;
    return 0;
}

int demux_reserve(synack_stack *s)
{
    return s->n_hashed + s->n_tw >= s->n_buckets ? grow(s) : 0;
}

void demux_link(synack_stack *s, struct hnode *x, uint64_t h, bool tw)
{
    struct hnode **c = demux_chain(s, h);
    x->next = *c; /* the entry's IP fields stay (stack.h) */
    x->hash = (uint32_t)h;
    x->tw = tw;
    *c = x;
}

void demux_unlink(synack_stack *s, struct hnode *x)
{
    struct hnode **pp = demux_chain(s, x->hash);
    while (*pp && *pp != x)
        pp = &(*pp)->next;
    if (*pp)
        *pp = x->next;
    x->next = NULL;
}

int demux_insert(synack_stack *s, struct sock *k, uint64_t h)
{
    if (demux_reserve(s) < 0)
        return -ENOMEM;
    /* Both callers have just found the tuple free (connect()'s port walk,
     * the segment path before a listener); looking again walked the rest of
     * a cold chain at every connection (bench/connrate). */
    assert(h == demux_hash(s, TCP_TUPLE(&k->tcb)));
    assert(!demux_find(s, TCP_TUPLE(&k->tcb), h));
    demux_link(s, &k->hn, h, false);
    k->hashed = true;
    s->n_hashed++;
    return 0;
}

void demux_remove(synack_stack *s, struct sock *k)
{
    if (!k->hashed)
        return;
    demux_unlink(s, &k->hn);
    k->hashed = false;
    s->n_hashed--;
}

struct hnode *demux_find(synack_stack *s, const struct tcp_tuple *t, uint64_t h)
{
    if (!s->n_buckets)
        return NULL;
    for (struct hnode *x = *demux_chain(s, h); x; x = x->next)
        if (x->hash == (uint32_t)h &&
            (x->tw ? tw_tuple_eq(&hnode_tw(x)->tw, t) : tuple_eq(&hnode_sock(x)->tcb, t)))
            return x;
    return NULL;
}

struct sock *demux_lookup_h(synack_stack *s, const struct tcp_tuple *t, uint64_t h)
{
    struct hnode *x = demux_find(s, t, h);
    return x && !x->tw ? hnode_sock(x) : NULL;
}

struct sock *demux_lookup(synack_stack *s, const struct tcp_tuple *t)
{
    return s->n_buckets ? demux_lookup_h(s, t, demux_hash(s, t)) : NULL;
}

/* An exact address first, then a wildcard of the segment's family, then an
 * IPv6 wildcard for IPv4 (dual stack, Linux's default bindv6only 0), as
 * Linux's listener scores rank them. */
struct sock *demux_listener(synack_stack *s, const struct tcp_tuple *t)
{
    static const uint8_t any[16];
    struct sock *wild = NULL, *dual = NULL;
    for (int i = 0; i < s->n_listeners; i++) {
        struct sock *k = s->listeners[i];
        if (k->local.port != t->lport)
            continue;
        bool is_any = !memcmp(k->local.addr.bytes, any, 16);
        if (k->local.addr.family == t->family) {
            if (!is_any && !memcmp(k->local.addr.bytes, t->laddr, 16))
                return k;
            if (is_any)
                wild = k;
        } else if (is_any && !k->v6only && k->local.addr.family == SYNACK_AF_INET6 &&
                   t->family == SYNACK_AF_INET) {
            dual = k;
        }
    }
    return wild ? wild : dual;
}

int demux_add_listener(synack_stack *s, struct sock *k)
{
    if (s->n_listeners == s->cap_listeners) {
        int cap = s->cap_listeners ? 2 * s->cap_listeners : 8;
        struct sock **n = realloc(s->listeners, (size_t)cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        s->listeners = n;
        s->cap_listeners = cap;
    }
    s->listeners[s->n_listeners++] = k;
    return 0;
}

void demux_remove_listener(synack_stack *s, struct sock *k)
{
    for (int i = 0; i < s->n_listeners; i++)
        if (s->listeners[i] == k) {
            s->listeners[i] = s->listeners[--s->n_listeners];
            return;
        }
}
