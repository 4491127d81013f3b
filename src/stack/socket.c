/* Socket objects and the socket calls of the public API, and the hand-off
 * of arriving segments to connections and listeners. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "tcp/seq.h"
#include "tcp/syncookie.h"
#include "wire/bytes.h"
#include "wire/siphash.h"

#define PORT_WALKS 4096 /* RFC 6056 Algorithm 4's table (32 KiB, at the first connect) */

static void handle_release(synack_stack *s, struct sock *k);

struct sock *sock_new(synack_stack *s)
{
    struct sock *k = pool_sock_get(s);
    if (!k)
        return NULL;
    memset(k, 0, sizeof *k);
    s->n_socks++;
    k->handle = -1;
    k->sndcap = s->cfg.sndbuf;
    k->rcvcap = s->cfg.rcvbuf;
    k->tcb.state = TCP_CLOSED;
    tcp_opts_default(&k->tcb.o);
    ipopt_init(k);
    k->tcb.t_rtx = k->tcb.t_wait = k->tcb.t_delack = k->tcb.t_keep = TCP_TIME_NEVER;
    wheel_node_init(&k->tn);
    return k;
}

static void unlink_child(struct sock *child)
{
    struct sock *p = child->parent;
    if (!p)
        return;
    if (child->queued) {
        struct sock **pp = &p->lq->acc_head;
        while (*pp && *pp != child)
            pp = &(*pp)->acc_next;
        if (*pp)
            *pp = child->acc_next;
        p->lq->acc_tail = NULL;
        for (struct sock *c = p->lq->acc_head; c; c = c->acc_next)
            p->lq->acc_tail = c;
        p->lq->acc_count--;
    } else {
        p->lq->syn_count--;
    }
    child->parent = NULL;
    child->queued = false;
    child->acc_next = NULL;
}

void sock_free(synack_stack *s, struct sock *k)
{
    if (k->listener) {
        demux_remove_listener(s, k);
        /* Connections nobody accepted are reset, as Linux does on close of
         * a listener (inet_csk_listen_stop). */
        while (k->lq->acc_head) {
            struct sock *c = k->lq->acc_head;
            unlink_child(c);
            if (c->tcb.state != TCP_CLOSED && stack_attach(s, c, 0, 0) == 0)
                tcp_abort(&s->tcp, &c->tcb, 0, "listener closed");
            sock_free(s, c);
        }
        /* So are the children still in its SYN queue: left alone they would
         * finish the handshake as ESTABLISHED orphans nobody can accept, and
         * their peers would wait for good (found by synack sim --seed 170).
         * A scan of the table, but only when a listener goes. */
        for (size_t i = 0; k->lq->syn_count > 0 && i < s->n_buckets; i++)
            for (struct hnode *x = s->buckets[i], *after; x; x = after) {
                after = x->next;
                struct sock *c = hnode_sock(x);
                if (x->tw || c->parent != k)
                    continue;
                unlink_child(c);
                if (c->tcb.state != TCP_CLOSED && stack_attach(s, c, 0, 0) == 0)
                    tcp_abort(&s->tcp, &c->tcb, 0, "listener closed");
                sock_closed(s, c);
            }
    }
    unlink_child(k);
    demux_remove(s, k);
    wheel_cancel(&s->wheel, &k->tn);
    if (k->dirty) { /* rare: unlink from the flush list */
        struct sock **pp = &s->dirty;
        while (*pp && *pp != k)
            pp = &(*pp)->dirty_next;
        if (*pp)
            *pp = k->dirty_next;
    }
    if (k->handle >= 0 && k->handle < s->n_handles)
        handle_release(s, k);
    stack_release_idle(s, k, true);
    s->n_socks--;
    free(k->tcb.a6);
    free(k->lq);
    errq_free(k);
    pool_sock_put(s, k);
}

void sock_closed(synack_stack *s, struct sock *k)
{
    demux_remove(s, k);
    wheel_cancel(&s->wheel, &k->tn);
    stack_release_idle(s, k, false); /* unread data stays readable */
    if (k->handle >= 0 || k->queued) {
        if (k->eq) /* zerocopy sends freed unacknowledged complete now */
            errq_settle(s, k);
        return; /* the user, or an accept queue, still holds it */
    }
    sock_free(s, k);
}


/* Ports held by bound sockets that have a handle: a count per port
 * (allocated at the first bind), so that checking one is O(1). */
static void port_hold(synack_stack *s, const struct sock *k, int d)
{
    if (s->port_refs && k->bound && k->local.port && k->handle >= 0) {
        s->port_refs[k->local.port] = (uint16_t)(s->port_refs[k->local.port] + d);
        if (k->v6only)
            s->n_v6only += d;
    }
}

static void handle_release(synack_stack *s, struct sock *k)
{
    port_hold(s, k, -1);
    s->handles[k->handle] = NULL;
    if (k->handle < s->handle_lo)
        s->handle_lo = k->handle;
    k->handle = -1;
}

static synack_sock assign_handle(synack_stack *s, struct sock *k)
{
    /* lowest free number, as file descriptors are; none is free below
     * handle_lo, so this is O(1) but for the holes left by closes */
    for (int i = s->handle_lo; i < s->n_handles; i++)
        if (!s->handles[i]) {
            s->handles[i] = k;
            s->handle_lo = i + 1;
            return k->handle = i;
        }
    int n = s->n_handles ? 2 * s->n_handles : 16;
    struct sock **h = realloc(s->handles, (size_t)n * sizeof *h);
    if (!h)
        return -ENOMEM;
    memset(h + s->n_handles, 0, (size_t)(n - s->n_handles) * sizeof *h);
    s->handles = h;
    int i = s->n_handles;
    s->n_handles = n;
    s->handles[i] = k;
    s->handle_lo = i + 1;
    return k->handle = i;
}

synack_sock synack_socket(synack_stack *s)
{
    if (!s)
        return -EINVAL;
    struct sock *k = sock_new(s);
    if (!k)
        return -ENOMEM;
    synack_sock h = assign_handle(s, k);
    if (h < 0)
        sock_free(s, k);
    return h;
}

/* RFC 9293 §3.7.1: the MTU less the fixed IP and TCP headers (RFC 8200: 40
 * bytes of IPv6 header). */
static uint16_t mss_for(synack_stack *s, const struct tcp_tuple *t)
{
    struct iface *f = ip_route_any(s, t->family, t->raddr);
    uint32_t mtu = f ? f->cfg.mtu : 1500;
    uint32_t mss = mtu - (t->family == SYNACK_AF_INET6 ? 60 : 40);
    return (uint16_t)(mss > 0xffff ? 0xffff : mss);
}

/* Algorithm 4's two functions from one SipHash under the stack's key: F,
 * the destination's offset (low half), and G, its slot in the table of
 * walks (high half). A tag byte keeps it apart from the 4-tuple hash. */
static uint64_t ephemeral_hash(const synack_stack *s, const struct tcp_tuple *t)
{
    /* the tag, both addresses, the peer's port (big-endian); IPv4 addresses
     * take their 4 bytes only (SipHash costs per 8 bytes) */
    if (t->family == 6) {
        uint8_t msg[1 + 16 + 16 + 2];
        msg[0] = 'p';
        memcpy(msg + 1, t->laddr, 16);
        memcpy(msg + 17, t->raddr, 16);
        msg[33] = (uint8_t)(t->rport >> 8);
        msg[34] = (uint8_t)t->rport;
        return wire_siphash24(s->hash_key, msg, 35);
    }
    /* IPv4, the same 11 bytes as words from registers (wire/siphash.h):
     * 'P', laddr, raddr[0..2] | raddr[3], the port */
    struct wire_sip h;
    wire_sip_init(&h, s->hash_key);
    uint32_t ra = wire_sip_le32(t->raddr);
    wire_sip_word(&h, (uint64_t)'P' | (uint64_t)wire_sip_le32(t->laddr) << 8 | (uint64_t)ra << 40);
    return wire_sip_final(&h, (uint64_t)(ra >> 24) | (uint64_t)(t->rport >> 8) << 8 | (uint64_t)(t->rport & 0xff) << 16,
                          11);
}

/* The walk counter of the destination hashed to dh; the table comes at the
 * first connect (NULL without memory: a random start instead). */
static struct port_walk *ephemeral_walk(synack_stack *s, uint64_t dh)
{
    if (!s->port_walks && !(s->port_walks = calloc(PORT_WALKS, sizeof *s->port_walks)))
        return NULL;
    return &s->port_walks[(dh >> 32) % PORT_WALKS];
}

/* The next connects to a destination look at ports known now: where its
 * walk stands, and a few past it (a port in TIME_WAIT for under a second
 * is passed over, tcp_tw_reusable). In a table holding every TIME_WAIT of
 * the last minute, their buckets and records are cache misses by then
 * (bench/connrate: a third of a client's time was connect() waiting for
 * them), and the record's address is in the bucket. So two steps, each a
 * connect to that destination ahead of its use: the records in the buckets
 * of the ports the next connect looks at (buckets asked for at the last
 * connect), and the buckets of those the connect after it starts at. A
 * port's bucket is its neighbour's plus one (demux_hash): one or two lines
 * hold them all. Only hints: those connects hash and look up as usual. */
/* ports looked at per connect in bench/connrate -2: 1.3 at 1.1 M/s (32
 * server ports), 1.9 at 715 k/s and 3.4 at 975 k/s with 16 */
#define WALK_AHEAD_RECORDS 3
#define WALK_AHEAD_BUCKETS 8 /* the next start moves by the ports looked at */

/* Past the port taken (the i-th looked at), plus a small random skip
 * (Linux since 5.18: a counter moving by exactly one tells an observer how
 * many connections went to that destination in between), drawn a connect
 * early for the prefetch. (The prefetches live in the function that moves
 * the walk: GCC takes a function that only prefetches for pure, and drops
 * the call.) */
static void walk_advance(synack_stack *s, struct port_walk *walk, uint32_t i, uint64_t dh, uint64_t base,
                         uint32_t span)
{
    walk->at += i + 1 + walk->skip;
    walk->skip = (uint8_t)(stack_random(s) & 3);
    if (!s->n_buckets)
        return;
    uint64_t next = (uint64_t)(uint32_t)dh + walk->at;
    for (uint32_t j = 0; j < WALK_AHEAD_RECORDS; j++) {
        const struct hnode *x = *demux_chain(s, base + s->cfg.port_lo + (next + j) % span);
        if (x) { /* the record's lines up to its tuple and timestamps (tcb.h) */
            __builtin_prefetch(x);
            __builtin_prefetch((const char *)x + 64);
            __builtin_prefetch((const char *)x + 127);
        }
    }
    uint64_t after = next + 1 + walk->skip;
    __builtin_prefetch(demux_chain(s, base + s->cfg.port_lo + after % span));
    __builtin_prefetch(demux_chain(s, base + s->cfg.port_lo + (after + WALK_AHEAD_BUCKETS - 1) % span));
}

static bool port_in_use(synack_stack *s, const synack_endpoint *e, const struct sock *self)
{
    if (!s->port_refs)
        return false;
    unsigned mine = self->bound && self->handle >= 0 && self->local.port == e->port;
    if (s->port_refs[e->port] <= mine)
        return false;
    if (!self->v6only && !s->n_v6only)
        return true;
    /* Linux inet_bind_conflict: an IPV6_V6ONLY socket shares its port
     * with IPv4 sockets (dual stack otherwise claims both families); only
     * then are the holders looked at */
    for (int i = 0; i < s->n_handles; i++) {
        struct sock *k = s->handles[i];
        if (!k || k == self || !k->bound || k->local.port != e->port)
            continue;
        if (k->local.addr.family != e->addr.family && (k->v6only || self->v6only))
            continue;
        return true;
    }
    return false;
}

int synack_bind(synack_stack *s, synack_sock h, const synack_endpoint *local)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!local || (local->addr.family != SYNACK_AF_INET && local->addr.family != SYNACK_AF_INET6))
        return -EINVAL;
    if (k->bound || k->tcb.state != TCP_CLOSED)
        return -EINVAL;
    static const uint8_t any[16];
    if (memcmp(local->addr.bytes, any, 16)) {
        /* Linux inet_bind: IP_FREEBIND takes an address no interface has */
        if (!k->freebind && !ip_is_local_any(s, local->addr.family, local->addr.bytes))
            return -EADDRNOTAVAIL;
    }
    if (local->port && port_in_use(s, local, k))
        return -EADDRINUSE;
    if (!s->port_refs && !(s->port_refs = calloc(65536, sizeof *s->port_refs)))
        return -ENOMEM;
    k->local = *local;
    k->bound = true;
    port_hold(s, k, +1);
    return 0;
}

/* An IPv6 connection keeps its addresses beside the TCB (tcb.h). */
static int sock_addr6(struct sock *k, int family)
{
    if (family == 6 && !k->tcb.a6 && !(k->tcb.a6 = calloc(1, sizeof *k->tcb.a6)))
        return -ENOMEM;
    return 0;
}

int synack_listen(synack_stack *s, synack_sock h, int backlog)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (k->tcb.state == TCP_LISTEN) {
        k->lq->backlog = backlog > 0 ? backlog : 1;
        return 0;
    }
    if (k->tcb.state != TCP_CLOSED || !k->bound || !k->local.port)
        return -EINVAL;
    if (!k->lq && !(k->lq = calloc(1, sizeof *k->lq)))
        return -ENOMEM;
    int r = demux_add_listener(s, k);
    if (r < 0)
        return r;
    k->lq->backlog = backlog > 0 ? backlog : 1;
    k->listener = true;
    struct tcp_tuple t;
    memset(&t, 0, sizeof t);
    t.family = k->local.addr.family;
    memcpy(t.laddr, k->local.addr.bytes, 16);
    t.lport = k->local.port;
    if (sock_addr6(k, t.family) < 0)
        return -ENOMEM;
    tcp_tuple_set(&k->tcb, &t);
    stack_now(s);
    tcp_set_state(&s->tcp, &k->tcb, TCP_LISTEN, "listen()");
    return 0;
}

synack_sock synack_accept(synack_stack *s, synack_sock h, synack_endpoint *remote)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (k->tcb.state != TCP_LISTEN)
        return -EINVAL;
    struct sock *c = k->lq->acc_head;
    if (!c)
        return -EAGAIN;
    synack_sock nh = assign_handle(s, c);
    if (nh < 0)
        return nh;
    unlink_child(c);
    if (remote)
        synack_remote(s, nh, remote);
    if (c->tcb.state == TCP_CLOSED) /* reset while queued: Linux still hands it out */
        demux_remove(s, c);
    return nh;
}

static int init_tcb(synack_stack *s, struct sock *k, const struct tcp_tuple *t)
{
    if (sock_addr6(k, t->family) < 0)
        return -ENOMEM;
    struct tcp_opts o = k->tcb.o;
    tcp_tcb_init(&k->tcb, t, mss_for(s, t), k->sndcap, k->rcvcap);
    k->tcb.o = o;
    /* TCP_MAXSEG set before the handshake caps the MSS we announce (Linux
     * tcp_connect_init / tcp_openreq_init: user_mss) */
    if (o.maxseg && o.maxseg < k->tcb.mss_local)
        k->tcb.mss_local = o.maxseg;
    return 0;
}

/* Everything of connect() up to the SYN: checks, route, local port, TCB.
 * *reused says whether old holds a TIME_WAIT connection being taken over. */
static int connect_setup(synack_stack *s, struct sock *k, const synack_endpoint *remote, struct tcp_tw *old,
                         bool *reused)
{
    if (!remote || (remote->addr.family != SYNACK_AF_INET && remote->addr.family != SYNACK_AF_INET6) ||
        !remote->port)
        return -EINVAL;
    switch (k->tcb.state) {
    case TCP_CLOSED:
        if (k->hashed || k->tcb.iss) /* a connection already ran on this socket */
            return k->tcb.err ? -ECONNABORTED : -EISCONN;
        break;
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
        return -EALREADY;
    case TCP_LISTEN:
        return -EINVAL;
    default:
        return -EISCONN;
    }
    uint8_t fam = remote->addr.family;
    static const uint8_t any[16];
    bool bound_addr = k->bound && memcmp(k->local.addr.bytes, any, 16);
    if (bound_addr && k->local.addr.family != fam)
        return -EAFNOSUPPORT;
    struct iface *f = ip_route_any(s, fam, remote->addr.bytes);
    if (!f)
        return -ENETUNREACH;
    struct tcp_tuple t;
    memset(&t, 0, sizeof t);
    t.family = fam;
    if (bound_addr)
        memcpy(t.laddr, k->local.addr.bytes, 16);
    else if (fam == SYNACK_AF_INET6)
        memcpy(t.laddr, f->addr6, 16);
    else
        wire_put32(t.laddr, f->addr);
    memcpy(t.raddr, remote->addr.bytes, 16);
    t.rport = remote->port;
    int r;
    *reused = false; /* (Linux tcp_tw_reuse, synack_config.tw_reuse) */
    struct tw_rec *taken = NULL; /* the record reused, reaped at the end */
    stack_now(s);
    uint64_t th;
    if (k->bound && k->local.port) {
        t.lport = k->local.port;
        th = demux_hash(s, &t);
        struct hnode *x = demux_find(s, &t, th);
        struct tw_rec *w = x && x->tw ? hnode_tw(x) : NULL;
        if (w && s->cfg.tw_reuse && tcp_tw_reusable(&s->tcp, &w->tw)) {
            tw_reuse(s, w, old);
            taken = w;
            *reused = true;
        } else if (x) {
            return -EADDRNOTAVAIL;
        }
    } else {
        /* RFC 6056 §3.3.4 Algorithm 4 (double-hash), as Linux's
         * __inet_hash_connect: each destination (our address, the peer's
         * address and port) starts at a secret offset of its own and walks
         * on from where its last connect stopped, so a busy client finds the
         * next port free instead of probing the ones it left in TIME_WAIT
         * (random ports, RFC 6056 Algorithm 1, did: bench/connrate), and
         * nobody learns one destination's ports from another's. */
        uint32_t span = (uint32_t)s->cfg.port_hi - s->cfg.port_lo + 1;
        struct tw_rec *reuse = NULL;
        uint64_t dh = ephemeral_hash(s, &t);
        uint64_t base = demux_base(s, &t); /* a port's hash is base + port */
        struct port_walk *walk = ephemeral_walk(s, dh);
        uint64_t start = (uint64_t)(uint32_t)dh + (walk ? walk->at : (uint32_t)stack_random(s));
        uint32_t i;
        for (i = 0; i < span; i++) {
            t.lport = (uint16_t)(s->cfg.port_lo + (start + i) % span);
            synack_endpoint e = {.port = t.lport};
            th = base + t.lport;
            struct hnode *x = demux_find(s, &t, th); /* one walk: a connection or a record */
            if ((x && !x->tw) || port_in_use(s, &e, k))
                continue;
            if (!x)
                break;
            struct tw_rec *w = hnode_tw(x);
            if (s->cfg.tw_reuse && tcp_tw_reusable(&s->tcp, &w->tw)) {
                reuse = w;
                break;
            }
        }
        if (i == span)
            return -EADDRNOTAVAIL;
        if (reuse) {
            tw_reuse(s, reuse, old);
            taken = reuse;
            *reused = true;
        }
        if (walk)
            walk_advance(s, walk, i, dh, base, span);
    }
    if ((r = init_tcb(s, k, &t)) < 0 || (r = demux_insert(s, k, th)) < 0)
        goto out;
    if ((r = stack_attach(s, k, 0, 0)) < 0) {
        demux_remove(s, k);
        goto out;
    }
    port_hold(s, k, -1);
    k->local.addr.family = fam;
    memcpy(k->local.addr.bytes, t.laddr, 16);
    k->local.port = t.lport;
    port_hold(s, k, +1);
out:
    tw_reap(s, taken); /* by now its timer's neighbours are in cache */
    return r;
}

int synack_connect(synack_stack *s, synack_sock h, const synack_endpoint *remote)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    struct tcp_tw old; /* a TIME_WAIT connection whose 4-tuple this one takes */
    bool reused;
    int r = connect_setup(s, k, remote, &old, &reused);
    if (r < 0)
        return r;
    if (k->tcb.o.fastopen_connect && !reused && (s->tcp.p.fastopen & TCP_FO_CLIENT)) {
        /* TCP_FASTOPEN_CONNECT (Linux tcp_fastopen_defer_connect): with a
         * cookie the SYN waits for the data of the first send; without
         * one it goes now, asking for a cookie */
        if (stack_fo_ready(s, k)) {
            tcp_connect_defer(&s->tcp, &k->tcb);
            stack_settle(s, k);
            return 0;
        }
        struct tcp_fo_syn fo;
        stack_fo_syn(s, k, NULL, 0, &fo);
        tcp_connect_fo(&s->tcp, &k->tcb, &fo);
    } else {
        tcp_connect_over(&s->tcp, &k->tcb, reused ? &old : NULL);
    }
    stack_settle(s, k);
    return -EINPROGRESS;
}

int synack_set_fastopen_key(synack_stack *s, synack_sock h, const uint8_t *key, size_t len)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    /* Linux tcp_setsockopt: a primary key, or primary and backup (the
     * backup, for checking cookies during a rotation, is not kept) */
    if (!key || (len != 16 && len != 32))
        return -EINVAL;
    if (!k->lq && !(k->lq = calloc(1, sizeof *k->lq))) /* listen() keeps it */
        return -ENOMEM;
    memcpy(k->lq->fo_key, key, 16);
    k->lq->fo_key_set = true;
    return 0;
}

int synack_get_fastopen_key(synack_stack *s, synack_sock h, uint8_t key[16])
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    memcpy(key, k->lq && k->lq->fo_key_set ? k->lq->fo_key : s->tcp.fo_key, 16);
    return 0;
}

long synack_connect_fastopen(synack_stack *s, synack_sock h, const synack_endpoint *remote, const void *buf,
                             size_t len, int flags)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!buf && len)
        return -EINVAL;
    if (!(s->tcp.p.fastopen & TCP_FO_CLIENT))
        return -EOPNOTSUPP;
    struct tcp_tw old;
    bool reused;
    int r = connect_setup(s, k, remote, &old, &reused);
    if (r < 0)
        return r;
    if (reused) { /* taking over TIME_WAIT has its own ISN rule: no Fast Open */
        tcp_connect_over(&s->tcp, &k->tcb, &old);
    } else {
        struct tcp_fo_syn fo;
        stack_fo_syn(s, k, buf, len, &fo);
        fo.wait = (flags & SYNACK_SEND_FO_WAIT) && fo.data < len;
        tcp_connect_fo(&s->tcp, &k->tcb, &fo);
        r = (int)fo.data;
    }
    stack_settle(s, k);
    if (k->eq)
        errq_wrote(s, k, flags, r);
    return r;
}

long synack_send(synack_stack *s, synack_sock h, const void *buf, size_t len)
{
    return synack_send_flags(s, h, buf, len, 0);
}

/* ---- TCP_NOTSENT_LOWAT (Linux tcp_stream_memory_free) ------------------ */
static uint32_t notsent_lowat(const synack_stack *s, const struct sock *k)
{
    return k->notsent_lowat ? k->notsent_lowat : s->cfg.notsent_lowat;
}

/* Whether the unsent bytes are below the mark: for writability (wake)
 * Linux wants twice them below it, so a writer wakes with room to fill. */
static bool notsent_below(const synack_stack *s, const struct sock *k, bool wake)
{
    uint32_t lowat = notsent_lowat(s, k);
    return !lowat || ((uint64_t)tcp_unsent(&k->tcb) << wake) < lowat;
}

/* Linux tcp_xmit_size_goal: a send-queue skb holds up to 64 KiB less
 * headers (GSO), at most half the largest window the peer offered, in
 * whole segments. */
static uint32_t chunk_goal(const struct tcb *b)
{
    uint32_t mss = tcp_eff_mss(b), goal = 65536 - 1 - 320; /* GSO_MAX_SIZE - 1 - MAX_TCP_HEADER */
    uint32_t cut = b->max_snd_wnd > 536 ? b->max_snd_wnd / 2 : b->max_snd_wnd;
    if (cut && goal > cut)
        goal = cut;
    goal -= goal % mss;
    return goal > mss ? goal : mss;
}

/* How much of a send the queue takes, as Linux's tcp_sendmsg_locked does
 * with a TCP_NOTSENT_LOWAT: data first fills the unsent tail chunk (what
 * is left unsent of the last skb, from SND.NXT on), and a new chunk starts
 * only while the unsent bytes are below the mark. Returns the bytes the
 * next piece may hold (0: none) and moves chunk_seq when it starts one. */
static uint32_t notsent_room(const synack_stack *s, struct sock *k)
{
    const struct tcb *b = &k->tcb;
    uint32_t unsent = tcp_unsent(b), goal = chunk_goal(b);
    if (unsent && !tcp_eor_at(b, b->snd_data + b->snd.len)) { /* a record's end starts a new chunk */
        uint32_t end = b->snd_data + b->snd.len;
        uint32_t start = seq_gt(k->chunk_seq, b->snd_nxt) ? k->chunk_seq : b->snd_nxt;
        uint32_t tail = end - start;
        if (tail < goal)
            return goal - tail;
    }
    if (!notsent_below(s, k, false))
        return 0;
    k->chunk_seq = b->snd_data + b->snd.len;
    return goal;
}
/* ---- end TCP_NOTSENT_LOWAT ---------------------------------------------- */

long synack_send_flags(synack_stack *s, synack_sock h, const void *buf, size_t len, int flags)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!buf && len)
        return -EINVAL;
    stack_now(s);
    if (flags & ~(SYNACK_SEND_MORE | SYNACK_SEND_FO_WAIT | SYNACK_SEND_EOR | SYNACK_SEND_ZEROCOPY | SYNACK_SEND_PART |
                  SYNACK_SEND_OOB))
        return -EINVAL;
    if (k->eq) { /* MSG_ZEROCOPY: room to track one more send (errqueue.c) */
        int zr = errq_room(k, flags);
        if (zr < 0)
            return zr;
    }
    if (k->tcb.flags & TCB_FO_DEFER) { /* TCP_FASTOPEN_CONNECT: now the SYN, with this data */
        /* the connect() that deferred the SYN left nothing pending, so its
         * extension may have gone back to the pool since */
        long a = stack_attach(s, k, len, 0);
        if (a < 0)
            return a;
        struct tcp_fo_syn fo;
        stack_fo_syn(s, k, buf, len, &fo);
        fo.wait = (flags & SYNACK_SEND_FO_WAIT) && fo.data < len;
        tcp_connect_fo(&s->tcp, &k->tcb, &fo);
        stack_settle(s, k);
        if (k->eq)
            errq_wrote(s, k, flags, (long)fo.data);
        return fo.data;
    }
    const struct tcb *b = &k->tcb;
    bool can = (b->state == TCP_ESTABLISHED || b->state == TCP_CLOSE_WAIT ||
                (b->state == TCP_SYN_RECEIVED && (b->flags & TCB_FASTOPEN))) &&
               !(b->flags & TCB_FIN_QUEUED);
    long r = stack_attach(s, k, can ? len : 0, 0);
    if (r == 0 && can && len && notsent_lowat(s, k)) {
        /* a chunk at a time: what the last one sent changes the next */
        const uint8_t *p = buf;
        size_t done = 0;
        uint32_t room;
        while (done < len && (room = notsent_room(s, k)) > 0) {
            size_t n = len - done < room ? len - done : room;
            r = tcp_user_send(&s->tcp, &k->tcb, p + done, n, (flags & SYNACK_SEND_MORE) != 0,
                              (flags & SYNACK_SEND_EOR) && done + n == len,
                              (flags & SYNACK_SEND_OOB) != 0); /* the mark follows the end taken */
            if (r <= 0)
                break;
            done += (size_t)r;
        }
        r = done ? (long)done : r ? r : -EAGAIN;
    } else if (r == 0) {
        r = tcp_user_send(&s->tcp, &k->tcb, buf, len, (flags & SYNACK_SEND_MORE) != 0, (flags & SYNACK_SEND_EOR) != 0,
                          (flags & SYNACK_SEND_OOB) != 0);
    }
    stack_settle(s, k);
    if (k->eq)
        errq_wrote(s, k, flags, r);
    return r;
}

long synack_recv(synack_stack *s, synack_sock h, void *buf, size_t len)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!buf && len)
        return -EINVAL;
    /* Nothing to read (EAGAIN, the end of stream, an error): the core
     * touches neither the extension nor the clock then, so neither is
     * fetched (an event loop polls many sockets with nothing). A read
     * reads the clock only if it sends a window update. */
    bool update;
    if (k->tcb.rcv.len == 0)
        return tcp_user_recv(&s->tcp, &k->tcb, buf, len, &update);
    long r = stack_attach(s, k, 0, 0);
    if (r == 0)
        r = tcp_user_recv(&s->tcp, &k->tcb, buf, len, &update);
    if (r > 0 && update) {
        stack_now(s);
        tcp_user_window_update(&s->tcp, &k->tcb);
    }
    stack_settle(s, k);
    return r;
}

int synack_shutdown(synack_stack *s, synack_sock h, int how)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (how < SYNACK_SHUT_RD || how > SYNACK_SHUT_RDWR)
        return -EINVAL;
    stack_now(s);
    int r = stack_attach(s, k, 0, 0);
    if (r == 0)
        r = tcp_user_shutdown(&s->tcp, &k->tcb, how != SYNACK_SHUT_WR, how != SYNACK_SHUT_RD);
    stack_settle(s, k);
    return r;
}

int synack_close(synack_stack *s, synack_sock h)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    stack_now(s);
    handle_release(s, k);
    errq_free(k); /* Linux SOCK_DEAD: nothing more is queued for no one */
    if (k->listener) {
        tcp_set_state(&s->tcp, &k->tcb, TCP_CLOSED, "close()");
        sock_free(s, k);
        return 0;
    }
    if (k->tcb.state == TCP_CLOSED) {
        sock_free(s, k);
        return 0;
    }
    if (stack_attach(s, k, 0, 0) < 0) {
        /* no memory to say goodbye: drop the connection silently */
        tcp_set_state(&s->tcp, &k->tcb, TCP_CLOSED, "close() without memory");
        sock_closed(s, k);
        return 0;
    }
    enum tcp_verdict v = tcp_user_close(&s->tcp, &k->tcb, k->linger_on && k->linger_sec == 0);
    if (v == TCP_FREE) {
        sock_closed(s, k);
    } else {
        stack_settle(s, k);
        if (k->tcb.state == TCP_TIME_WAIT)
            stack_mark_dirty(s, k); /* the flush makes it a record */
    }
    return 0;
}

unsigned synack_events(synack_stack *s, synack_sock h)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return SYNACK_EV_ERR;
    const struct tcb *b = &k->tcb;
    unsigned ev = 0;
    if (b->state == TCP_LISTEN)
        return k->lq->acc_head ? SYNACK_EV_IN : 0;
    if (tcp_urg_readable(b) || (b->flags & TCB_FIN_RCVD)) /* an urgent byte at the mark is not data */
        ev |= SYNACK_EV_IN;
    if (b->x && (b->x->urg_data & TCP_URG_VALID)) /* Linux tcp_poll: EPOLLPRI */
        ev |= SYNACK_EV_PRI;
    if (b->flags & TCB_FIN_RCVD)
        ev |= SYNACK_EV_RDHUP;
    if ((b->state == TCP_ESTABLISHED || b->state == TCP_CLOSE_WAIT) && !(b->flags & TCB_FIN_QUEUED) &&
        ring_free(&b->snd) && notsent_below(s, k, true))
        ev |= SYNACK_EV_OUT;
    if (b->err)
        ev |= SYNACK_EV_ERR;
    if (k->eq && errq_pending(k))
        ev |= SYNACK_EV_ERRQUEUE;
    if (b->state == TCP_CLOSED && (b->iss || b->err))
        ev |= SYNACK_EV_HUP | SYNACK_EV_IN;
    return ev;
}

int synack_sock_error(synack_stack *s, synack_sock h)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    int e = k->tcb.err;
    k->tcb.err = 0;
    return e;
}

int synack_set_linger(synack_stack *s, synack_sock h, bool on, int seconds)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (seconds < 0)
        return -EINVAL;
    k->linger_on = on;
    k->linger_sec = seconds;
    return 0;
}

/* ---- added for the POSIX layer (src/posix): SO_SNDBUF/SO_RCVBUF on a
 * live connection, as Linux allows. The buffers grow (contents, and the
 * out-of-order bytes held past the receive ring's length, move over at
 * their offsets); a smaller size is kept as is, since bytes already queued
 * or a window already advertised cannot be taken back. ---- */
static int grow_live_bufs(synack_stack *s, struct sock *k, uint32_t sndbuf, uint32_t rcvbuf)
{
    if ((sndbuf && sndbuf < 1024) || (rcvbuf && rcvbuf < 1024))
        return -EINVAL;
    uint32_t ns = sndbuf > k->sndcap ? sndbuf : k->sndcap;
    uint32_t nr = rcvbuf > k->rcvcap ? rcvbuf : k->rcvcap;
    if (ns == k->sndcap && nr == k->rcvcap)
        return 0;
    int r = stack_resize_bufs(s, k, ns, nr);
    if (r == 0) {
        k->sndcap = ns;
        k->rcvcap = nr;
    }
    return r;
}

int synack_set_bufsize(synack_stack *s, synack_sock h, uint32_t sndbuf, uint32_t rcvbuf)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (k->tcb.snd.cap || k->tcb.rcv.cap) /* a connection was set up */
        return grow_live_bufs(s, k, sndbuf, rcvbuf);
    if ((sndbuf && sndbuf < 1024) || (rcvbuf && rcvbuf < 1024))
        return -EINVAL;
    if (sndbuf)
        k->sndcap = sndbuf;
    if (rcvbuf)
        k->rcvcap = rcvbuf;
    return 0;
}

/* A live TCB follows its socket's options at once. */
static bool tcb_live(const struct sock *k)
{
    return k->tcb.state != TCP_CLOSED;
}

int synack_setopt(synack_stack *s, synack_sock h, synack_opt opt, int v)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (ipopt_owns(opt)) /* IP level (ipopt.c) */
        return ipopt_set(s, k, opt, v);
    struct tcp_opts *o = &k->tcb.o;
    switch (opt) {
    case SYNACK_OPT_NODELAY:
    case SYNACK_OPT_CORK:
        if (opt == SYNACK_OPT_NODELAY)
            o->nodelay = v != 0;
        else
            o->cork = v != 0;
        /* Linux: setting TCP_NODELAY, or taking the cork out, pushes what
         * waits, even past a cork still in place (TCP_NAGLE_PUSH) */
        if (tcb_live(k) && ((opt == SYNACK_OPT_NODELAY) == (v != 0)))
            k->tcb.flags |= TCB_PUSH_ONCE;
        break;
    case SYNACK_OPT_QUICKACK:
        o->quickack = v != 0;
        if (tcb_live(k))
            tcp_set_quickack(&k->tcb, v != 0);
        break;
    case SYNACK_OPT_KEEPALIVE: o->keepalive = v != 0; break;
    case SYNACK_OPT_MAXSEG:
        /* Linux: TCP_MAXSEG accepts 0 (no cap) or 88..65535 (tcp_setsockopt). */
        if (v != 0 && (v < 88 || v > 65535))
            return -EINVAL;
        o->maxseg = (uint16_t)v;
        break;
    case SYNACK_OPT_KEEPIDLE:
    case SYNACK_OPT_KEEPINTVL:
        /* Linux: 1..MAX_TCP_KEEPIDLE (32767 s) */
        if (v < 1 || v > 32767)
            return -EINVAL;
        if (opt == SYNACK_OPT_KEEPIDLE)
            o->keepidle_s = (uint16_t)v;
        else
            o->keepintvl_s = (uint16_t)v;
        break;
    case SYNACK_OPT_KEEPCNT:
        if (v < 1 || v > 127)
            return -EINVAL;
        o->keepcnt = (uint8_t)v;
        break;
    case SYNACK_OPT_USER_TIMEOUT:
        if (v < 0)
            return -EINVAL;
        o->user_timeout_ms = (uint32_t)v;
        break;
    case SYNACK_OPT_CONGESTION:
        if (v != SYNACK_CC_CUBIC && v != SYNACK_CC_NEWRENO)
            return -ENOENT; /* Linux: unknown algorithm name */
        o->cc = (uint8_t)v;
        break;
    case SYNACK_OPT_SNDBUF:
    case SYNACK_OPT_RCVBUF:
        if (v < 0)
            return -EINVAL;
        {
            int r = synack_set_bufsize(s, h, opt == SYNACK_OPT_SNDBUF ? (uint32_t)v : 0,
                                       opt == SYNACK_OPT_RCVBUF ? (uint32_t)v : 0);
            if (r == 0 && opt == SYNACK_OPT_RCVBUF)
                o->rcvbuf_locked = true;
            return r;
        }
    case SYNACK_OPT_SYNCNT: /* Linux do_tcp_setsockopt: 1..MAX_TCP_SYNCNT */
        if (v < 1 || v > 127)
            return -EINVAL;
        o->syncnt = (uint8_t)v;
        return 0;
    case SYNACK_OPT_FASTOPEN_CONNECT:
        /* Linux tcp_setsockopt: 0 or 1, the client bit on, before connect */
        if (v < 0 || v > 1)
            return -EINVAL;
        if (!(s->tcp.p.fastopen & TCP_FO_CLIENT))
            return -EOPNOTSUPP;
        if (k->tcb.state != TCP_CLOSED)
            return -EINVAL;
        o->fastopen_connect = v != 0;
        return 0;
    case SYNACK_OPT_FASTOPEN:
        /* Linux tcp_setsockopt: CLOSE or LISTEN only; capped at somaxconn */
        if (v < 0 || (k->tcb.state != TCP_CLOSED && k->tcb.state != TCP_LISTEN))
            return -EINVAL;
        o->fastopen_qlen = (uint16_t)(v > 4096 ? 4096 : v);
        return 0;
    case SYNACK_OPT_REUSEADDR: k->reuseaddr = v != 0; return 0;
    case SYNACK_OPT_V6ONLY:
        if (k->bound) /* Linux do_ipv6_setsockopt: EINVAL once inet_num is set */
            return -EINVAL;
        k->v6only = v != 0;
        return 0;
    case SYNACK_OPT_LINGER: return synack_set_linger(s, h, v >= 0, v >= 0 ? v : 0);
    case SYNACK_OPT_OOBINLINE: o->oobinline = v != 0; return 0; /* Linux: any time */
    case SYNACK_OPT_NOTSENT_LOWAT:
        /* Linux takes any int, kept as u32, and signals sk_write_space */
        k->notsent_lowat = (uint32_t)v;
        stack_settle(s, k);
        return 0;
    default: return -ENOPROTOOPT;
    }
    if (tcb_live(k)) {
        stack_mark_dirty(s, k); /* e.g. NODELAY or un-CORK releases held data */
        stack_settle(s, k);
    }
    return 0;
}

int synack_getopt(synack_stack *s, synack_sock h, synack_opt opt, int *v)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!v)
        return -EINVAL;
    if (ipopt_owns(opt)) /* IP level (ipopt.c) */
        return ipopt_get(s, k, opt, v);
    const struct tcp_opts *o = &k->tcb.o;
    switch (opt) {
    case SYNACK_OPT_NODELAY: *v = o->nodelay; break;
    case SYNACK_OPT_CORK: *v = o->cork; break;
    case SYNACK_OPT_QUICKACK: *v = o->quickack; break;
    case SYNACK_OPT_KEEPALIVE: *v = o->keepalive; break;
    case SYNACK_OPT_MAXSEG:
        /* Linux reports the current MSS once connected, else the cap or 536 */
        *v = tcb_live(k) && k->tcb.state != TCP_LISTEN ? tcp_eff_mss(&k->tcb) : (o->maxseg ? o->maxseg : 536);
        break;
    case SYNACK_OPT_KEEPIDLE: *v = o->keepidle_s; break;
    case SYNACK_OPT_KEEPINTVL: *v = o->keepintvl_s; break;
    case SYNACK_OPT_KEEPCNT: *v = o->keepcnt; break;
    case SYNACK_OPT_USER_TIMEOUT: *v = (int)o->user_timeout_ms; break;
    case SYNACK_OPT_CONGESTION: *v = o->cc; break;
    case SYNACK_OPT_SNDBUF: *v = (int)k->sndcap; break;
    case SYNACK_OPT_RCVBUF: *v = (int)k->rcvcap; break;
    case SYNACK_OPT_REUSEADDR: *v = k->reuseaddr; break;
    case SYNACK_OPT_FASTOPEN: *v = k->tcb.o.fastopen_qlen; break;
    case SYNACK_OPT_FASTOPEN_CONNECT: *v = k->tcb.o.fastopen_connect; break;
    case SYNACK_OPT_SYNCNT: *v = o->syncnt ? o->syncnt : s->tcp.p.syn_retries; break;
    case SYNACK_OPT_V6ONLY: *v = k->v6only; break;
    case SYNACK_OPT_LINGER: *v = k->linger_on ? k->linger_sec : -1; break;
    case SYNACK_OPT_NOTSENT_LOWAT: *v = (int)k->notsent_lowat; break;
    case SYNACK_OPT_OOBINLINE: *v = o->oobinline; break;
    default: return -ENOPROTOOPT;
    }
    return 0;
}

static void tuple_endpoint(const struct tcp_tuple *t, bool local, synack_endpoint *out)
{
    memset(out, 0, sizeof *out);
    out->addr.family = t->family;
    memcpy(out->addr.bytes, local ? t->laddr : t->raddr, 16);
    out->port = local ? t->lport : t->rport;
}

int synack_local(synack_stack *s, synack_sock h, synack_endpoint *out)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (k->tcb.iss || k->tcb.state != TCP_CLOSED)
        tuple_endpoint(TCP_TUPLE(&k->tcb), true, out);
    else
        *out = k->local;
    return 0;
}

int synack_remote(synack_stack *s, synack_sock h, synack_endpoint *out)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (k->tcb.state == TCP_LISTEN || (k->tcb.state == TCP_CLOSED && !k->tcb.iss))
        return -ENOTCONN;
    tuple_endpoint(TCP_TUPLE(&k->tcb), false, out);
    return 0;
}

int synack_tcp_info_get(synack_stack *s, synack_sock h, synack_tcp_info *out)
{
    struct sock *k = stack_sock(s, h);
    if (!k || !out)
        return -EBADF;
    const struct tcb *b = &k->tcb;
    memset(out, 0, sizeof *out);
    out->state = (synack_state)b->state;
    out->iss = b->iss;
    out->irs = b->irs;
    out->snd_una = b->snd_una;
    out->snd_nxt = b->snd_nxt;
    out->snd_wnd = b->snd_wnd;
    out->rcv_nxt = b->rcv_nxt;
    out->rcv_wnd = tcp_rcv_window(b);
    out->mss = tcp_eff_mss(b);
    out->snd_wscale = b->snd_wscale;
    out->rcv_wscale = b->rcv_wscale;
    out->ts_ok = (b->flags & TCB_TS_OK) != 0;
    out->sack_ok = (b->flags & TCB_SACK_OK) != 0;
    out->rto_us = (uint32_t)(b->rto ? b->rto : s->tcp.p.rto_initial);
    out->srtt_us = b->srtt;
    out->unread = b->rcv.len;
    out->unsent = tcp_unsent(b);
    out->snd_queued = b->snd.len;
    out->snd_cap = b->snd.cap ? b->snd.cap : k->sndcap;
    out->cwnd = b->cwnd;
    out->ssthresh = b->ssthresh;
    out->rttvar_us = b->rttvar;
    out->backoff = b->backoff;
    out->ca_state = b->ca_state;
    out->fastopen = (b->flags & TCB_FASTOPEN) != 0;
    out->syn_data = (b->flags & TCB_SYN_DATA) != 0;
    out->fo_deferred = (b->flags & TCB_FO_DEFER) != 0;
    out->notsent_lowat = notsent_lowat(s, k);
    out->ecn = (b->ecn & TCP_ECN_OK) != 0;
    out->ecn_seen = (b->ecn & TCP_ECN_SEEN) != 0;
    out->probes = b->x ? b->x->probes : 0; /* an idle TCB has sent no probe since an ACK */
    out->max_snd_wnd = b->max_snd_wnd;
    return 0;
}

/* ---- added for the POSIX layer (src/posix) ---- */
long synack_peek(synack_stack *s, synack_sock h, void *buf, size_t len)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (!buf && len)
        return -EINVAL;
    /* as a read would (urg.c): over an urgent byte at the read position
     * that is not data, and up to the mark */
    const struct tcb *b = &k->tcb;
    bool skip = false;
    uint32_t off = 0;
    if (len && b->rcv.len)
        tcp_urg_clip(b, 0, 1, &skip);
    if (skip)
        off = 1;
    uint32_t n = len < b->rcv.len - off ? (uint32_t)len : b->rcv.len - off;
    n = tcp_urg_clip(b, off, n, &skip);
    if (n)
        ring_peek(&b->rcv, b->x->rbuf, off, buf, n);
    return n;
}

/* ---- urgent data (src/tcp/urg.c) ------------------------------------------ */
long synack_recv_flags(synack_stack *s, synack_sock h, void *buf, size_t len, int flags)
{
    if (!(flags & SYNACK_RECV_OOB)) {
        if (flags)
            return -EINVAL;
        return synack_recv(s, h, buf, len);
    }
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    if (flags & ~(SYNACK_RECV_OOB | SYNACK_RECV_PEEK) || (!buf && len))
        return -EINVAL;
    if (k->listener)
        return -ENOTCONN;
    uint8_t c;
    long r = tcp_urg_recv(&k->tcb, &c, (flags & SYNACK_RECV_PEEK) != 0);
    if (r == 1 && len)
        *(uint8_t *)buf = c;
    else if (r == 1)
        r = 0; /* no room: Linux reports MSG_TRUNC and the byte is gone (unless peeked) */
    if (k->tcb.x)
        stack_settle(s, k);
    return r;
}

int synack_atmark(synack_stack *s, synack_sock h)
{
    struct sock *k = stack_sock(s, h);
    if (!k)
        return -EBADF;
    return tcp_urg_atmark(&k->tcb);
}

/* ---- arriving segments ---------------------------------------------- */

/* ---- SYN cookies (RFC 4987 §3.6; src/tcp/syncookie.c) --------------------
 * A full SYN queue answers with a cookie SYN-ACK instead of dropping the SYN
 * (a full accept queue still drops it, as Linux does); an ACK that matches no
 * connection, at a listener that sent cookies in the last 2 minutes, is
 * checked as a cookie and, if good, becomes a child in SYN_RECEIVED that
 * the ACK then completes through the normal path. */
static struct sock *make_child(synack_stack *s, struct sock *l, const struct tcp_tuple *t, uint64_t h);

static bool syncookie_recent(synack_stack *s, const struct sock *l)
{
    return l->lq->syncookie_at &&
           s->tcp.now - l->lq->syncookie_at < (synack_time)TCP_SYNCOOKIE_MAX_AGE * TCP_SYNCOOKIE_PERIOD;
}

static bool syncookie_ack(synack_stack *s, struct sock *l, const struct tcp_tuple *t, uint64_t h,
                          const struct wire_tcp *seg)
{
    if ((seg->flags & (WIRE_TCP_SYN | WIRE_TCP_RST | WIRE_TCP_ACK)) != WIRE_TCP_ACK || !syncookie_recent(s, l))
        return false;
    struct tcp_syncookie ck;
    if (!tcp_syncookie_check(&s->tcp, t, seg, &ck))
        return false;
    if (l->lq->acc_count >= l->lq->backlog) {
        s->st.tcp_drop_backlog++;
        return true; /* dropped: the peer retransmits, the cookie stays good */
    }
    struct sock *c = make_child(s, l, t, h);
    if (!c)
        return true;
    tcp_syncookie_child(&s->tcp, &c->tcb, seg, &ck);
    tcp_segment_in(s, t, seg); /* the ACK completes the handshake */
    return true;
}
/* ---- end SYN cookies ---------------------------------------------------- */

static struct sock *make_child(synack_stack *s, struct sock *l, const struct tcp_tuple *t, uint64_t h)
{
    struct sock *c = sock_new(s);
    if (!c) {
        s->st.tcp_drop_backlog++;
        return NULL;
    }
    c->sndcap = l->sndcap;
    c->rcvcap = l->rcvcap;
    c->tcb.o = l->tcb.o; /* Linux: an accepted socket inherits the listener's options */
    c->v6only = l->v6only;
    c->linger_on = l->linger_on;
    c->linger_sec = l->linger_sec;
    c->notsent_lowat = l->notsent_lowat;
    ipopt_inherit(c, l);
    errq_inherit(s, c, l);
    if (init_tcb(s, c, t) < 0 || stack_attach(s, c, 0, 0) < 0 || demux_insert(s, c, h) < 0) {
        sock_free(s, c);
        s->st.tcp_drop_backlog++;
        return NULL;
    }
    c->parent = l;
    l->lq->syn_count++;
    return c;
}

/* RFC 7413 §5.1: a listener takes Fast Open with a bounded number of
 * children still in SYN_RECEIVED (Linux's fastopenq: the TCP_FASTOPEN
 * length, or the backlog with tcp_fastopen's 0x400 bit). */
static bool fastopen_ready(synack_stack *s, const struct sock *l)
{
    uint32_t bits = s->tcp.p.fastopen;
    if (!(bits & TCP_FO_SERVER))
        return false;
    int qlen = l->tcb.o.fastopen_qlen;
    if (!qlen && (bits & TCP_FO_SERVER_ALL))
        qlen = l->lq->backlog;
    int pending = 0;
    for (const struct sock *c = l->lq->acc_head; c; c = c->acc_next)
        if ((c->tcb.flags & TCB_FASTOPEN) && c->tcb.state == TCP_SYN_RECEIVED)
            pending++;
    return pending < qlen;
}

static void enqueue_child(struct sock *parent, struct sock *k)
{
    parent->lq->syn_count--;
    k->queued = true;
    k->acc_next = NULL;
    if (parent->lq->acc_tail)
        parent->lq->acc_tail->acc_next = k;
    else
        parent->lq->acc_head = k;
    parent->lq->acc_tail = k;
    parent->lq->acc_count++;
}

static void new_child(synack_stack *s, struct sock *l, const struct tcp_tuple *t, uint64_t h,
                      const struct wire_tcp *seg, uint32_t iss_hint)
{
    /* A SYN queue and an accept queue, each bounded by the backlog. */
    if (l->lq->acc_count >= l->lq->backlog) {
        s->st.tcp_drop_backlog++;
        return;
    }
    if (l->lq->syn_count >= l->lq->backlog) { /* SYN cookies (see above) */
        s->out_entry = &l->hn; /* the SYN-ACK takes the listener's IP options */
        tcp_syncookie_send(&s->tcp, t, seg, mss_for(s, t), l->rcvcap);
        s->out_entry = NULL;
        l->lq->syncookie_at = s->tcp.now ? s->tcp.now : 1;
        return;
    }
    struct sock *c = make_child(s, l, t, h);
    if (c) {
        if ((seg->opt.fo_kind || seg->payload_len) && fastopen_ready(s, l)) {
            c->tcb.flags |= TCB_FO_LISTEN;
            stack_attach(s, c, 0, seg->payload_len); /* room for the SYN's data */
        }
        tcp_accept_syn(&s->tcp, &c->tcb, seg, iss_hint);
        if (c->tcb.flags & TCB_FASTOPEN) /* RFC 7413 §4.2.2: acceptable at once */
            enqueue_child(l, c);
        stack_settle(s, c);
        if (c->tcb.flags & TCB_FASTOPEN)
            stack_notify(s, l);
    }
}

/* h: demux_hash(t) */
static void to_listener(synack_stack *s, const struct tcp_tuple *t, uint64_t h, const struct wire_tcp *seg,
                        uint32_t iss_hint)
{
    struct sock *l = demux_listener(s, t);
    if (!l) {
        s->st.tcp_drop_noport++;
        tcp_reset_closed(&s->tcp, t, seg);
        return;
    }
    if (syncookie_ack(s, l, t, h, seg))
        return;
    if (tcp_listen_input(&s->tcp, t, seg) == TCP_LISTEN_SYN)
        new_child(s, l, t, h, seg, iss_hint);
}

void tcp_segment_in(synack_stack *s, const struct tcp_tuple *t, const struct wire_tcp *seg)
{
    uint64_t h = demux_hash(s, t);
    struct hnode *x = demux_find(s, t, h);
    if (!x || x->tw) {
        struct tw_rec *w = x ? hnode_tw(x) : NULL;
        uint32_t iss_hint = 0;
        if (!w || tw_input(s, w, seg, &iss_hint))
            to_listener(s, t, h, seg, iss_hint);
        return;
    }
    struct sock *k = hnode_sock(x);
    struct sock *parent = k->parent;
    if (parent && !k->queued && k->tcb.state == TCP_SYN_RECEIVED && (seg->flags & WIRE_TCP_ACK) &&
        !(seg->flags & (WIRE_TCP_RST | WIRE_TCP_SYN)) && parent->lq->acc_count >= parent->lq->backlog) {
        /* Accept queue full: Linux drops the handshake's ACK and lets the
         * SYN-ACK be retransmitted, so the connection completes later. */
        s->st.tcp_drop_backlog++;
        return;
    }
    /* Without ring storage the core treats the receive ring as full (the
     * data is dropped and the ACK says so); without the extension at all
     * the segment cannot be handled. */
    if (stack_attach(s, k, 0, seg->payload_len) < 0 && !k->tcb.x) {
        s->nst.tcp_drop_nomem++;
        return;
    }
    uint32_t tw_next = k->tcb.snd_nxt;
    /* a Fast Open SYN: with its option (a cookie or a request), or data
     * alone (TFO_CLIENT_NO_COOKIE), whose SYN-ACK teaches the MSS only */
    bool fo_option = (k->tcb.flags & TCB_FO_SYN) != 0;
    bool fo_open = k->tcb.state == TCP_SYN_SENT && (fo_option || k->tcb.snd_max != k->tcb.iss + 1);
    bool syn_resent = k->tcb.backoff != 0;
    enum tcp_verdict v = tcp_input(&s->tcp, &k->tcb, seg);
    if (fo_open && v == TCP_KEEP && k->tcb.state != TCP_SYN_SENT && k->tcb.state != TCP_CLOSED &&
        (seg->flags & WIRE_TCP_SYN))
        stack_fo_learn(s, k, seg, syn_resent, fo_option);
    if (v == TCP_TW_REOPEN) {
        /* The old connection is over: CLOSED with no timer, so that a
         * handle the user still holds on it is released by close()
         * (found by fuzz/fuzz_stack: it leaked, orphaned in TIME_WAIT). */
        k->tcb.t_rtx = k->tcb.t_wait = k->tcb.t_delack = TCP_TIME_NEVER;
        tcp_set_state(&s->tcp, &k->tcb, TCP_CLOSED, "TIME_WAIT reused by a new SYN");
        sock_closed(s, k);
        /* Linux starts the new ISN beyond the old connection's space */
        to_listener(s, t, h, seg, tw_next + 65535 + 2);
        return;
    }
    if (parent && k->parent && !k->queued && k->tcb.state != TCP_SYN_RECEIVED &&
        k->tcb.state != TCP_CLOSED)
        enqueue_child(parent, k);
    if (v == TCP_FREE) {
        sock_released(s, k);
        return;
    }
    stack_mark_dirty(s, k); /* the flush also turns an orphan in TIME_WAIT into a record */
    stack_settle(s, k);
    stack_notify(s, k);
}

void sock_released(synack_stack *s, struct sock *k)
{
    struct sock *parent = k->parent;
    bool held = k->handle >= 0 || k->queued;
    sock_closed(s, k); /* frees k unless held */
    if (held)
        stack_notify(s, k);
    else if (parent)
        stack_notify(s, parent);
}
