/* synack_stack_usage: what a stack holds, for the simulator's invariants
 * (docs/simulation.md). Sockets, extensions, buffer bytes and TIME_WAIT
 * records come from counters kept where they are allocated and freed
 * (socket.c, pool.c, timewait.c), so they check the bookkeeping rather than
 * repeat it; timers are read through the core's tcp_next_deadline. The
 * walk is O(connections): a diagnostic, never on the fast path. */
#include <string.h>

#include "stack.h"

static void count_timers(const struct sock *k, synack_stack_usage *u)
{
    if (tcp_next_deadline(&k->tcb) == TCP_TIME_NEVER)
        return;
    u->timers_armed++;
    if (k->tcb.state == TCP_CLOSED || k->tcb.state == TCP_LISTEN)
        u->closed_armed++;
}

void synack_stack_usage_get(const synack_stack *s, synack_stack_usage *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return;
    out->socks = (uint32_t)s->n_socks;
    out->timewait = (uint32_t)s->n_tw;
    out->conns = (uint32_t)(s->n_hashed + s->n_tw);
    out->exts = (uint32_t)s->pool.ext_live;
    out->buf_bytes = s->pool.buf_bytes_live;
    out->bytes = s->pool.buf_bytes_live + s->n_socks * sizeof(struct sock) +
                 s->pool.ext_live * sizeof(struct tcp_ext) + s->n_tw * sizeof(struct tw_rec);
    /* Every TCB is demultiplexed, held by a handle, or queued at a listener
     * held by a handle; a TCB may be in several, so each is counted where
     * it is first met. */
    for (size_t i = 0; i < s->n_buckets; i++)
        for (struct hnode *x = s->buckets[i]; x; x = x->next) {
            if (x->tw)
                continue;
            const struct sock *k = hnode_sock(x);
            count_timers(k, out);
            if (k->tcb.state == TCP_CLOSED)
                out->closed_listed++;
        }
    out->timers_armed += (uint32_t)s->n_tw; /* each record waits on its 2MSL timer */
    for (int i = 0; i < s->n_handles; i++) {
        const struct sock *k = s->handles[i];
        if (!k)
            continue;
        out->handles++;
        if (!k->hashed) {
            count_timers(k, out);
            if (k->tcb.state == TCP_CLOSED && wheel_armed(&k->tn))
                out->closed_listed++;
        }
        for (const struct sock *c = k->lq ? k->lq->acc_head : NULL; c; c = c->acc_next)
            if (!c->hashed && c->handle < 0)
                count_timers(c, out);
    }
}
