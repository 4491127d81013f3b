/* A socket's error queue (Linux's sk_error_queue) as MSG_ZEROCOPY and
 * SO_TIMESTAMPING fill it.
 *
 * Nothing here is decided at send time. A zerocopy send is remembered as
 * (end of its data, id) and completes when SND.UNA reaches that end, that
 * is when the core has dropped its last byte from the send ring (Linux:
 * when the last skb holding the user's pages is freed), or when the
 * connection dies with it unacknowledged (Linux frees the write queue:
 * tcp_write_queue_purge). A stamped write is remembered as the sequence
 * number of its last byte (Linux tcp_tx_timestamp: shinfo->tskey), stamped
 * SCHED and SND when SND.MAX first passes it and ACK when SND.UNA does.
 * errq_settle reads SND.UNA and SND.MAX after every call into the core
 * (stack_settle), so the core carries no hook and no clock of its own: the
 * time is the stack's (ctx->now) at the call that moved them.
 *
 * Storage is one block per socket that turned either option on, fixed
 * size: SYNACK_ZEROCOPY_MAX zerocopy sends in flight or unread (-ENOBUFS
 * beyond, as Linux's optmem_max), ERRQ_TS_MAX stamped writes awaiting
 * their ACK (a write beyond is not stamped) and SYNACK_ERRQUEUE_MAX
 * timestamps unread (a stamp beyond is dropped, as Linux drops at the
 * receive buffer); both counted in errqueue_dropped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "tcp/seq.h"

#define ERRQ_TS_MAX 64
#define ERRQ_CAP (SYNACK_ERRQUEUE_MAX + SYNACK_ZEROCOPY_MAX)

#define TS_TX (SYNACK_TS_TX_SCHED | SYNACK_TS_TX_SOFTWARE | SYNACK_TS_TX_ACK)

struct errq_zc {
    uint32_t end; /* sequence number after the send's last byte */
    uint32_t id;
};

struct errq_ts {
    uint32_t last; /* the write's last byte */
    bool sent;     /* SCHED and SND reported */
};

struct errq {
    bool zerocopy;    /* SO_ZEROCOPY */
    uint32_t tsflags; /* SO_TIMESTAMPING */
    uint32_t tskey;   /* OPT_ID: the sequence number keyed 0 (Linux sk_tskey) */
    uint32_t zckey;   /* the next zerocopy id (Linux sk_zckey) */
    uint32_t reports;
    /* the user call in progress (SYNACK_SEND_PART writes until synack_send_end) */
    bool call_open, call_zc, call_took;
    uint16_t zc_n, ts_n;
    uint16_t zc_unread; /* zerocopy notifications in q */
    struct errq_zc zc[SYNACK_ZEROCOPY_MAX];
    struct errq_ts ts[ERRQ_TS_MAX];
    uint16_t q_head, q_n;
    synack_errmsg q[ERRQ_CAP];
};

static struct errq *errq_get(struct sock *k)
{
    if (!k->eq)
        k->eq = calloc(1, sizeof *k->eq);
    return k->eq;
}

void errq_free(struct sock *k)
{
    if (!k->eq)
        return;
    free(k->eq);
    k->eq = NULL;
}

/* Linux sk_clone_lock copies SOCK_ZEROCOPY and sk_tsflags to the child. */
void errq_inherit(synack_stack *s, struct sock *child, const struct sock *l)
{
    (void)s;
    if (!l->eq || !errq_get(child))
        return;
    child->eq->zerocopy = l->eq->zerocopy;
    child->eq->tsflags = l->eq->tsflags;
}

bool errq_pending(const struct sock *k)
{
    return k->eq->q_n != 0;
}

static uint32_t ring_end(const struct sock *k)
{
    return k->tcb.snd_data + k->tcb.snd.len;
}

static void report(synack_stack *s, struct sock *k)
{
    k->eq->reports++;
    stack_notify(s, k);
}

/* Linux __msg_zerocopy_callback and skb_zerocopy_notify_extend: a
 * completion continuing the unread one at the tail of the queue widens it
 * (while the range stays below 2^32 ids); otherwise it is queued. */
static void zc_complete(synack_stack *s, struct sock *k, uint32_t id)
{
    struct errq *q = k->eq;
    if (q->q_n) {
        synack_errmsg *t = &q->q[(q->q_head + q->q_n - 1) % ERRQ_CAP];
        if (t->origin == SYNACK_EE_ORIGIN_ZEROCOPY && id == t->data + 1 && t->data - t->info + 2ull < (1ull << 32)) {
            t->data++;
            report(s, k);
            return;
        }
    }
    synack_errmsg *m = &q->q[(q->q_head + q->q_n++) % ERRQ_CAP];
    q->zc_unread++;
    *m = (synack_errmsg){.origin = SYNACK_EE_ORIGIN_ZEROCOPY,
                         .code = SYNACK_EE_CODE_ZEROCOPY_COPIED,
                         .info = id,
                         .data = id,
                         .when = s->tcp.now};
    report(s, k);
}

static void ts_report(synack_stack *s, struct sock *k, uint32_t last, uint32_t what)
{
    struct errq *q = k->eq;
    if (q->q_n - q->zc_unread >= SYNACK_ERRQUEUE_MAX) {
        s->nst.errqueue_dropped++;
        return;
    }
    synack_errmsg *m = &q->q[(q->q_head + q->q_n++) % ERRQ_CAP];
    *m = (synack_errmsg){.err = ENOMSG,
                         .origin = SYNACK_EE_ORIGIN_TIMESTAMPING,
                         .info = what,
                         .data = (q->tsflags & SYNACK_TS_OPT_ID) ? last - q->tskey : 0,
                         .when = s->tcp.now};
    report(s, k);
}

void errq_settle(synack_stack *s, struct sock *k)
{
    struct errq *q = k->eq;
    const struct tcb *b = &k->tcb;
    bool dead = b->state == TCP_CLOSED;
    int i = 0;
    while (i < q->ts_n) {
        struct errq_ts *t = &q->ts[i];
        if (!dead && !t->sent && seq_gt(b->snd_max, t->last)) {
            t->sent = true;
            if (q->tsflags & SYNACK_TS_TX_SCHED)
                ts_report(s, k, t->last, SYNACK_TSTAMP_SCHED);
            if (q->tsflags & SYNACK_TS_TX_SOFTWARE)
                ts_report(s, k, t->last, SYNACK_TSTAMP_SND);
        }
        bool acked = !dead && seq_gt(b->snd_una, t->last);
        if (acked && (q->tsflags & SYNACK_TS_TX_ACK))
            ts_report(s, k, t->last, SYNACK_TSTAMP_ACK);
        if (!acked && !dead) {
            i++;
            continue;
        }
        memmove(t, t + 1, (size_t)(q->ts_n - i - 1) * sizeof *t);
        q->ts_n--;
    }
    /* sends complete in order: SND.UNA only moves forward */
    int done = 0;
    while (done < q->zc_n && (dead || seq_geq(b->snd_una, q->zc[done].end)))
        done++;
    for (int j = 0; j < done; j++)
        zc_complete(s, k, q->zc[j].id);
    if (done) {
        memmove(q->zc, q->zc + done, (size_t)(q->zc_n - done) * sizeof q->zc[0]);
        q->zc_n = (uint16_t)(q->zc_n - done);
    }
}

int errq_room(struct sock *k, int flags)
{
    struct errq *q = k->eq;
    if (!q || !q->zerocopy || !(flags & SYNACK_SEND_ZEROCOPY) || q->call_zc)
        return 0;
    return q->zc_n + q->zc_unread >= SYNACK_ZEROCOPY_MAX ? -ENOBUFS : 0;
}

/* Linux's end of tcp_sendmsg_locked: the call's zerocopy send holds its
 * id only if it queued bytes (msg_zerocopy_put_abort gives it back
 * otherwise), and its last byte gets the timestamp key. */
static void call_end(synack_stack *s, struct sock *k)
{
    struct errq *q = k->eq;
    bool took = q->call_took, zc = q->call_zc;
    q->call_open = q->call_zc = q->call_took = false;
    if (!took)
        return;
    uint32_t end = ring_end(k);
    if (zc) {
        /* errq_room kept this below the limit when the call began */
        q->zc[q->zc_n++] = (struct errq_zc){.end = end, .id = q->zckey++};
    }
    if (q->tsflags & TS_TX) {
        if (q->ts_n < ERRQ_TS_MAX)
            q->ts[q->ts_n++] = (struct errq_ts){.last = end - 1};
        else
            s->nst.errqueue_dropped++;
    }
    errq_settle(s, k);
}

void errq_wrote(synack_stack *s, struct sock *k, int flags, long took)
{
    struct errq *q = k->eq;
    if (!q)
        return;
    q->call_open = true;
    if (took > 0) {
        q->call_took = true;
        if (q->zerocopy && (flags & SYNACK_SEND_ZEROCOPY))
            q->call_zc = true;
    }
    if (!(flags & SYNACK_SEND_PART))
        call_end(s, k);
}

void synack_send_end(synack_stack *s, synack_sock h)
{
    struct sock *k = stack_sock(s, h);
    if (k && k->eq && k->eq->call_open) {
        stack_now(s);
        call_end(s, k);
    }
}

int synack_set_zerocopy(synack_stack *s, synack_sock h, bool on)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!on && !k->eq)
        return 0;
    if (!errq_get(k))
        return -ENOMEM;
    k->eq->zerocopy = on;
    return 0;
}

int synack_get_zerocopy(synack_stack *s, synack_sock h, bool *on)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    *on = k->eq && k->eq->zerocopy;
    return 0;
}

/* Linux sock_set_timestamping: OPT_ID on TCP needs a connection, and
 * keys from SND.UNA (OPT_ID_TCP: from the next byte to be written) when
 * it is first turned on; OPT_ID_TCP alone is EINVAL. */
int synack_set_timestamping(synack_stack *s, synack_sock h, uint32_t flags)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if ((flags & SYNACK_TS_OPT_ID_TCP) && !(flags & SYNACK_TS_OPT_ID))
        return -EINVAL;
    uint32_t old = k->eq ? k->eq->tsflags : 0;
    if ((flags & SYNACK_TS_OPT_ID) && !(old & SYNACK_TS_OPT_ID)) {
        if (k->tcb.state == TCP_CLOSED || k->tcb.state == TCP_LISTEN)
            return -EINVAL;
    }
    if (!flags && !k->eq)
        return 0;
    if (!errq_get(k))
        return -ENOMEM;
    if ((flags & SYNACK_TS_OPT_ID) && !(old & SYNACK_TS_OPT_ID))
        k->eq->tskey = (flags & SYNACK_TS_OPT_ID_TCP) ? ring_end(k) : k->tcb.snd_una;
    k->eq->tsflags = flags;
    return 0;
}

int synack_get_timestamping(synack_stack *s, synack_sock h, uint32_t *flags)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    *flags = k->eq ? k->eq->tsflags : 0;
    return 0;
}

/* Linux sock_dequeue_err_skb: reading one with more behind wakes again. */
int synack_errqueue_pop(synack_stack *s, synack_sock h, synack_errmsg *out)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    struct errq *q = k->eq;
    if (!q || !q->q_n)
        return -EAGAIN;
    *out = q->q[q->q_head];
    q->q_head = (uint16_t)((q->q_head + 1) % ERRQ_CAP);
    q->q_n--;
    if (out->origin == SYNACK_EE_ORIGIN_ZEROCOPY)
        q->zc_unread--;
    if (q->q_n)
        q->reports++;
    return 0;
}

uint32_t synack_errqueue_reports(synack_stack *s, synack_sock h)
{
    struct sock *k = stack_sock(s, h);
    return k && k->eq ? k->eq->reports : 0;
}
