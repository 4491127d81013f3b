/* synack_stack_usage: what a stack holds, for the simulator's invariants
 * (docs/simulation.md). Sockets and buffer bytes come from counters kept
 * where they are allocated and freed (socket.c) and the timer list's length
 * from list_add/list_remove (demux.c), so they check the bookkeeping rather
 * than repeat it; timers are read through the core's tcp_next_deadline. */
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
    out->socks = s->n_socks;
    out->conns = s->n_listed;
    out->buf_bytes = s->buf_bytes;
    out->bytes = s->buf_bytes + (uint64_t)s->n_socks * sizeof(struct sock);
    /* Every TCB is in the timer list, held by a handle, or queued at a
     * listener held by a handle; a TCB may be in several of these, so each
     * is counted where it is first met. */
    for (const struct sock *k = s->all; k; k = k->next) {
        count_timers(k, out);
        if (k->tcb.state == TCP_CLOSED)
            out->closed_listed++;
    }
    for (int i = 0; i < s->n_handles; i++) {
        const struct sock *k = s->handles[i];
        if (!k)
            continue;
        out->handles++;
        if (!k->listed)
            count_timers(k, out);
        for (const struct sock *c = k->acc_head; c; c = c->acc_next)
            if (!c->listed && c->handle < 0)
                count_timers(c, out);
    }
}
