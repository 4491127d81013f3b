/* The simulator's world: K stacks, a fault-injecting in-memory link between
 * every pair, applications that play the workload, and the invariants,
 * checked after every step of the virtual clock (docs/simulation.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim_world.h"

#define T0 SYNACK_SEC(1000)        /* virtual start, as the tests' sims */
#define DRAIN_MAX SYNACK_SEC(86400) /* after the workload: every application must be done by then */
/* An application still open whose connection moved no byte and changed
 * nothing for this long is stuck: a live connection delivers something, a
 * dead one is given up within GIVE_UP_MAX (then the peer's keepalive, 10 +
 * 9 x 2 s, draws a RST), and either way the application is told. Slow
 * progress is not stuck. */
#define STUCK_AFTER (GIVE_UP_MAX + SYNACK_SEC(480))
/* The longest a live connection may go without delivering anything before
 * it is given up: data_retries (15) retransmissions and the last wait, each
 * up to the 120 s RTO cap (an RTO already near the cap is legitimate under
 * heavy loss, since RTT samples then include timeouts, RFC 7323 §4.3). */
#define GIVE_UP_MAX SYNACK_SEC(16 * 120)
/* Once both applications have closed, each end must be CLOSED or in
 * TIME_WAIT within this: an orphan's FIN given up after GIVE_UP_MAX, then
 * FIN_WAIT_2's 60 s, with room to spare. */
#define CLOSE_BOUND (GIVE_UP_MAX + SYNACK_SEC(480))
#define CHUNK_MAX 65536

enum outcome { OUT_NONE, OUT_CLEAN, OUT_EARLY, OUT_ABORTED, OUT_ERROR, OUT_NEVER };

struct side {
    int node;
    synack_sock h;
    bool opened, connected, shut, eof, closed;
    enum outcome out;
    int err;
    uint64_t sent, rcvd;
    uint64_t rng;
    synack_time stall_until;
};

struct conn {
    const struct sim_op *op;
    struct side side[2];
    synack_endpoint cli, srv;
    bool started, accepted, bound_checked, no_conn;
    synack_time started_at;
    synack_time both_closed_at;
    synack_time progress_at; /* last byte moved, or event, of either application */
    uint64_t quiet_frames;   /* frames of this connection since then */
};

struct tracked {
    int node;
    synack_endpoint l, r;
    synack_state st;
};

struct world;
struct node {
    struct world *w;
    int idx;
    synack_stack *s;
    uint32_t sndbuf, rcvbuf;
    synack_addr addr_to[SIM_MAX_STACKS]; /* this stack's address on the link to each peer */
    synack_memlink *end_link[SIM_MAX_STACKS];
    int end_idx[SIM_MAX_STACKS];
    synack_sock lsn[SIM_PORTS];
};

struct world {
    const struct sim_params *p;
    const struct sim_workload *wl;
    synack_vclock clock;
    struct node nodes[SIM_MAX_STACKS];
    synack_memlink *links[SIM_MAX_STACKS][SIM_MAX_STACKS]; /* [a][b], a < b */
    synack_time link_up_at[SIM_MAX_STACKS][SIM_MAX_STACKS];
    struct conn *conns;
    int n_conns;
    struct tracked *tr;
    int n_tr, cap_tr;
    FILE *log;
    synack_pcap *pcap;
    struct sim_result *res;
    bool draining, injected;
    size_t ctr_idx[24];
    uint8_t buf[CHUNK_MAX];
};

/* ---- helpers ---------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t next_rand(uint64_t *st) { return mix64(*st += 0x9e3779b97f4a7c15ull); }

static double secs(const struct world *w) { return (double)(w->clock.now - T0) / 1e6; }

static void logf_(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct world *w, const char *fmt, ...)
{
    if (!w->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(w->log, "%12.6f ", secs(w));
    vfprintf(w->log, fmt, ap);
    fputc('\n', w->log);
    va_end(ap);
}

static void fail(struct world *w, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct world *w, const char *kind, const char *fmt, ...)
{
    struct sim_result *r = w->res;
    if (r->failed)
        return;
    r->failed = true;
    r->fail_at = w->clock.now - T0;
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof r->what, fmt, ap);
    va_end(ap);
    logf_(w, "INVARIANT BROKEN (%s): %s", kind, r->what);
}

static const char *ep_str(const synack_endpoint *e, char *buf, size_t len)
{
    char a[48];
    synack_addr_format(&e->addr, a, sizeof a);
    snprintf(buf, len, "%s:%u", a, e->port);
    return buf;
}

static bool ep_eq(const synack_endpoint *a, const synack_endpoint *b)
{
    return a->port == b->port && !memcmp(a->addr.bytes, b->addr.bytes, 4);
}

static void progress(struct world *w, struct conn *c)
{
    c->progress_at = w->clock.now;
    c->quiet_frames = 0;
}

/* The byte at offset off of the stream side `dir` of conn sends. */
static void stream_fill(uint64_t seed, int conn, int dir, uint64_t off, uint8_t *out, size_t n)
{
    uint64_t key = mix64(seed ^ ((uint64_t)conn << 33) ^ ((uint64_t)dir << 32) ^ 0xda7aull);
    uint64_t word = mix64(key ^ (off >> 3));
    for (size_t i = 0; i < n; i++) {
        uint64_t o = off + i;
        if (i && !(o & 7))
            word = mix64(key ^ (o >> 3));
        out[i] = (uint8_t)(word >> ((o & 7) * 8));
    }
}

/* ---- connection states, as the stacks report them ---------------------- */

static struct tracked *tr_find(struct world *w, int node, const synack_endpoint *l, const synack_endpoint *r)
{
    for (int i = 0; i < w->n_tr; i++)
        if (w->tr[i].node == node && ep_eq(&w->tr[i].l, l) && ep_eq(&w->tr[i].r, r))
            return &w->tr[i];
    return NULL;
}

static void on_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                     synack_state to, const char *why, synack_time now)
{
    struct node *n = ctx;
    struct world *w = n->w;
    char lb[64], rb[64];
    logf_(w, "stack %d %s <> %s %s -> %s (%s)", n->idx, ep_str(l, lb, sizeof lb), ep_str(r, rb, sizeof rb),
          synack_state_name(from), synack_state_name(to), why);
    (void)now;
    struct tracked *t = tr_find(w, n->idx, l, r);
    synack_state was = t ? t->st : SYNACK_CLOSED;
    if (from != was && !(t == NULL && from == SYNACK_LISTEN))
        fail(w, "state", "stack %d %s <> %s: change from %s, but its last state was %s", n->idx, lb, rb,
             synack_state_name(from), synack_state_name(was));
    if (to == SYNACK_CLOSED) {
        if (t)
            *t = w->tr[--w->n_tr];
        return;
    }
    if (!t) {
        if (w->n_tr == w->cap_tr) {
            int cap = w->cap_tr ? 2 * w->cap_tr : 64;
            struct tracked *nt = realloc(w->tr, (size_t)cap * sizeof *nt);
            if (!nt) {
                fail(w, "oom", "out of memory tracking states");
                return;
            }
            w->tr = nt;
            w->cap_tr = cap;
        }
        t = &w->tr[w->n_tr++];
        *t = (struct tracked){.node = n->idx, .l = *l, .r = *r};
    }
    t->st = to;
}

/* Every frame a stack sends: into the capture, and counted against its
 * connection. A connection that sends STORM_FRAMES frames while neither
 * application moves a byte is in a storm (an ACK war, a retransmission
 * loop): timers and retries account for a few dozen. */
#define STORM_FRAMES 5000
static void tap_out(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now)
{
    struct world *w = ctx;
    (void)ifindex;
    if (dir != SYNACK_TAP_OUT)
        return;
    if (w->pcap)
        synack_pcap_write(w->pcap, frame, len, now);
    size_t ihl = len ? (size_t)(frame[0] & 15) * 4 : 0;
    if (len < ihl + 20 || frame[9] != 6)
        return;
    uint16_t sport = (uint16_t)(frame[ihl] << 8 | frame[ihl + 1]), dport = (uint16_t)(frame[ihl + 2] << 8 | frame[ihl + 3]);
    for (int i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];
        if (!c->started || c->no_conn)
            continue;
        bool fwd = c->cli.port == sport && c->srv.port == dport && !memcmp(frame + 12, c->cli.addr.bytes, 4) &&
                   !memcmp(frame + 16, c->srv.addr.bytes, 4);
        bool rev = c->srv.port == sport && c->cli.port == dport && !memcmp(frame + 12, c->srv.addr.bytes, 4) &&
                   !memcmp(frame + 16, c->cli.addr.bytes, 4);
        if (!fwd && !rev)
            continue;
        if (++c->quiet_frames == STORM_FRAMES) {
            char lb[64], rb[64];
            fail(w, "storm", "conn %d (%s <> %s): %d frames sent while neither application moved a byte for "
                 "%.3f s", c->op->conn, ep_str(&c->cli, lb, sizeof lb), ep_str(&c->srv, rb, sizeof rb),
                 STORM_FRAMES, (double)(w->clock.now - c->progress_at) / 1e6);
        }
        break;
    }
}

/* ---- building the world ------------------------------------------------ */

static double vary(uint64_t *st, bool on, double p) { return on ? p * (double)(next_rand(st) >> 11) / 9007199254740992.0 : p; }

static int build(struct world *w)
{
    const struct sim_params *p = w->p;
    uint64_t st = p->seed ^ 0xb011dull;
    static const uint32_t sndbufs[] = {4096, 16384, 65536}, rcvbufs[] = {4096, 32768, 131072};
    for (int i = 0; i < p->stacks; i++) {
        struct node *n = &w->nodes[i];
        n->w = w;
        n->idx = i;
        n->sndbuf = sndbufs[next_rand(&st) % 3];
        n->rcvbuf = rcvbufs[next_rand(&st) % 3];
        for (int k = 0; k < SIM_PORTS; k++)
            n->lsn[k] = -1;
        synack_config c = {.seed = mix64(p->seed * 131 + (uint64_t)i + 1), .clock = synack_vclock_read,
                           .clock_ctx = &w->clock, .sndbuf = n->sndbuf, .rcvbuf = n->rcvbuf,
                           .on_state = on_state, .on_state_ctx = n};
        if (p->ce > 0) { /* RFC 3168 on every connection (no draw: other seeds' worlds stay as they were) */
            c.ecn_set = true;
            c.ecn = SYNACK_ECN_ON;
        }
        n->s = synack_stack_new(&c);
        if (!n->s)
            return -ENOMEM;
        synack_set_tap(n->s, tap_out, w);
    }
    /* one /24 per pair of stacks: 198.18.P.1 (lower index) and .2 */
    int pair = 0;
    for (int a = 0; a < p->stacks; a++)
        for (int b = a + 1; b < p->stacks; b++, pair++) {
            synack_time delay = SYNACK_MS(1) + next_rand(&st) % SYNACK_MS(40);
            synack_memlink *l = synack_memlink_new(delay, synack_vclock_read, &w->clock);
            if (!l)
                return -ENOMEM;
            w->links[a][b] = l;
            w->link_up_at[a][b] = SYNACK_TIME_NEVER;
            for (int e = 0; e < 2; e++) {
                synack_link_faults f = {.seed = mix64(p->seed ^ ((uint64_t)pair << 8) ^ (uint64_t)e),
                                        .loss = vary(&st, p->vary, p->loss),
                                        .reorder = vary(&st, p->vary, p->reorder),
                                        .reorder_delay = SYNACK_MS(1) + next_rand(&st) % SYNACK_MS(20),
                                        .duplicate = vary(&st, p->vary, p->dup),
                                        .corrupt = vary(&st, p->vary, p->corrupt),
                                        .jitter = next_rand(&st) % SYNACK_MS(5)};
                if (p->ce > 0)
                    f.mark_ce = vary(&st, p->vary, p->ce);
                if (synack_memlink_set_faults(l, e, &f) < 0)
                    return -EINVAL;
            }
            int ends[2] = {a, b};
            for (int e = 0; e < 2; e++) {
                struct node *n = &w->nodes[ends[e]];
                int peer = ends[1 - e];
                n->addr_to[peer] = synack_ipv4(0xc6120000u | (uint32_t)pair << 8 | (uint32_t)(e + 1));
                synack_iface_config ic = {.ops = synack_memlink_ops(), .ctx = synack_memlink_end(l, e),
                                          .addr = n->addr_to[peer], .prefix_len = 24};
                int ifx = synack_iface_add(n->s, &ic);
                if (ifx < 0)
                    return ifx;
                synack_memlink_attach(l, e, n->s, ifx);
                n->end_link[peer] = l;
                n->end_idx[peer] = e;
            }
        }
    w->n_conns = w->wl->conns;
    w->conns = calloc((size_t)(w->n_conns ? w->n_conns : 1), sizeof *w->conns);
    if (!w->conns)
        return -ENOMEM;
    for (int c = 0; c < w->n_conns; c++) {
        w->conns[c].both_closed_at = SYNACK_TIME_NEVER;
        for (int s = 0; s < 2; s++) {
            w->conns[c].side[s].h = -1;
            w->conns[c].side[s].rng = mix64(p->seed ^ ((uint64_t)c << 20) ^ (uint64_t)s ^ 0xc4u);
        }
    }
    return 0;
}

static void teardown(struct world *w)
{
    for (int i = 0; i < w->p->stacks; i++)
        synack_stack_free(w->nodes[i].s);
    for (int a = 0; a < w->p->stacks; a++)
        for (int b = a + 1; b < w->p->stacks; b++)
            synack_memlink_free(w->links[a][b]);
    free(w->conns);
    free(w->tr);
}

/* ---- applications ------------------------------------------------------ */

/* Keepalive on every socket, so that a side whose peer vanished (its RST
 * lost, the link down) learns it in bounded time, as an application
 * would configure it. */
static void sock_opts(synack_stack *s, synack_sock h, bool nodelay)
{
    synack_setopt(s, h, SYNACK_OPT_KEEPALIVE, 1);
    synack_setopt(s, h, SYNACK_OPT_KEEPIDLE, 10);
    synack_setopt(s, h, SYNACK_OPT_KEEPINTVL, 2);
    synack_setopt(s, h, SYNACK_OPT_KEEPCNT, 9);
    if (nodelay)
        synack_setopt(s, h, SYNACK_OPT_NODELAY, 1);
}

static const char *out_name(enum outcome o)
{
    static const char *const n[] = {"running", "clean", "closed early", "aborted", "error", "never opened"};
    return n[o];
}

static void side_close(struct world *w, struct conn *c, int s, enum outcome out, int err)
{
    struct side *d = &c->side[s];
    struct node *n = &w->nodes[d->node];
    d->out = out;
    d->err = err;
    d->closed = true;
    progress(w, c);
    logf_(w, "conn %d %s: %s%s%s (sent %llu, read %llu)", c->op->conn, s ? "server" : "client", out_name(out),
          err ? ": " : "", err ? synack_strerror(err) : "", (unsigned long long)d->sent, (unsigned long long)d->rcvd);
    if (w->p->inject == SIM_INJECT_LEAK && !w->injected) {
        w->injected = true; /* the application forgets the socket */
        d->h = -1;
        return;
    }
    if (synack_close(n->s, d->h) < 0)
        fail(w, "api", "conn %d: close() of an open handle failed", c->op->conn);
    d->h = -1;
    struct side *o = &c->side[1 - s];
    if (o->closed || !o->opened)
        c->both_closed_at = w->clock.now;
}

/* The application's view of the stream it reads: every byte exactly once, in
 * order, and nothing the peer did not send. */
static bool check_data(struct world *w, struct conn *c, int s, uint8_t *data, size_t n)
{
    struct side *d = &c->side[s], *peer = &c->side[1 - s];
    if (w->p->inject == SIM_INJECT_DATA && !w->injected) {
        w->injected = true;
        data[0] ^= 0x40;
    }
    uint8_t want[CHUNK_MAX];
    stream_fill(w->p->seed, c->op->conn, 1 - s, d->rcvd, want, n);
    if (d->rcvd + n > peer->sent) {
        fail(w, "data", "conn %d %s: read %llu bytes, but the peer's application sent only %llu", c->op->conn,
             s ? "server" : "client", (unsigned long long)(d->rcvd + n), (unsigned long long)peer->sent);
        return false;
    }
    if (memcmp(want, data, n)) {
        size_t i = 0;
        while (want[i] == data[i])
            i++;
        fail(w, "data", "conn %d %s: byte %llu of the stream is 0x%02x, the peer sent 0x%02x", c->op->conn,
             s ? "server" : "client", (unsigned long long)(d->rcvd + i), data[i], want[i]);
        return false;
    }
    d->rcvd += n;
    progress(w, c);
    return true;
}

static void side_step(struct world *w, struct conn *c, int s)
{
    struct side *d = &c->side[s];
    if (!d->opened || d->closed)
        return;
    struct node *n = &w->nodes[d->node];
    synack_stack *st = n->s;
    const struct sim_op *op = c->op;
    if (!d->connected) {
        synack_tcp_info ti;
        synack_tcp_info_get(st, d->h, &ti);
        if (ti.state >= SYNACK_ESTABLISHED) {
            d->connected = true;
            progress(w, c);
        } else if (ti.state == SYNACK_CLOSED) {
            int e = synack_sock_error(st, d->h);
            if (!e)
                fail(w, "told", "conn %d %s: the connection closed before it opened, and the application "
                     "was told no error", op->conn, s ? "server" : "client");
            side_close(w, c, s, OUT_ERROR, e);
            return;
        } else {
            return;
        }
    }
    /* write */
    uint64_t total = op->bytes[s];
    while (d->sent < total) {
        synack_tcp_info ti;
        synack_tcp_info_get(st, d->h, &ti);
        if (ti.snd_queued >= ti.snd_cap)
            break; /* no room: send() would say EAGAIN */
        uint64_t left = total - d->sent;
        size_t chunk = 1 + (size_t)(next_rand(&d->rng) % (left < CHUNK_MAX ? left : CHUNK_MAX));
        if (chunk > ti.snd_cap - ti.snd_queued)
            chunk = ti.snd_cap - ti.snd_queued;
        stream_fill(w->p->seed, op->conn, s, d->sent, w->buf, chunk);
        long r = synack_send(st, d->h, w->buf, chunk);
        if (r == -EAGAIN)
            break;
        if (r <= 0) {
            side_close(w, c, s, OUT_ERROR, r ? (int)r : -EIO);
            return;
        }
        d->sent += (uint64_t)r;
        progress(w, c);
    }
    if (d->sent == total && !d->shut) {
        if (op->end[s] == SIM_END_CLOSE) {
            side_close(w, c, s, OUT_EARLY, 0);
            return;
        }
        if (op->end[s] == SIM_END_HALF) {
            d->shut = true;
            synack_shutdown(st, d->h, SYNACK_SHUT_WR);
        }
    }
    /* read */
    if (w->clock.now < d->stall_until)
        return;
    while (!d->eof) {
        long r = synack_recv(st, d->h, w->buf, sizeof w->buf);
        if (r == -EAGAIN)
            break;
        if (r < 0) {
            side_close(w, c, s, OUT_ERROR, (int)r);
            return;
        }
        if (r == 0) {
            struct side *peer = &c->side[1 - s];
            d->eof = true;
            progress(w, c);
            /* a FIN comes only from shutdown() or a graceful close(): never
             * from an abort, nor from a connection already dead */
            bool peer_done = peer->shut || (peer->closed && (peer->out == OUT_CLEAN || peer->out == OUT_EARLY));
            if (d->rcvd != peer->sent || !peer_done)
                fail(w, "data", "conn %d %s: end of stream after %llu bytes, but the peer's application sent "
                     "%llu%s", op->conn, s ? "server" : "client", (unsigned long long)d->rcvd,
                     (unsigned long long)peer->sent, peer_done ? "" : " and had not closed");
            break;
        }
        if (!check_data(w, c, s, w->buf, (size_t)r))
            return;
    }
    if (d->eof && d->sent == total && (d->shut || op->end[s] == SIM_END_READ))
        side_close(w, c, s, OUT_CLEAN, 0);
}

static void accept_all(struct world *w, struct node *n, int port)
{
    synack_endpoint remote;
    synack_sock h;
    while ((h = synack_accept(n->s, n->lsn[port], &remote)) >= 0) {
        /* the latest connect from that address and port: a bound client
         * port makes a 4-tuple recur once the one before is over */
        struct conn *c = NULL;
        for (int i = 0; i < w->n_conns; i++) {
            struct conn *k = &w->conns[i];
            if (k->started && !k->no_conn && k->op->b == n->idx && k->op->port == SIM_PORT_BASE + port &&
                ep_eq(&k->cli, &remote) && (!c || k->started_at > c->started_at))
                c = k;
        }
        char rb[64];
        if (c && c->accepted) {
            /* A copy of the handshake's last ACK, arriving once that
             * connection is gone, passes as a SYN cookie still inside its
             * two minutes and opens the connection again (Linux does the
             * same, cookie_v4_check): the application closes it. */
            logf_(w, "conn %d: stack %d accepted %s again (a copy of its cookie ACK); closed", c->op->conn, n->idx,
                  ep_str(&remote, rb, sizeof rb));
            synack_close(n->s, h);
            continue;
        }
        if (!c) {
            fail(w, "accept", "stack %d port %d accepted %s, which no application connected from", n->idx,
                 SIM_PORT_BASE + port, ep_str(&remote, rb, sizeof rb));
            synack_close(n->s, h);
            continue;
        }
        c->accepted = true;
        progress(w, c);
        c->both_closed_at = SYNACK_TIME_NEVER; /* the server side is open after all */
        struct side *d = &c->side[1];
        d->h = h;
        d->opened = true;
        if (c->op->nodelay[1])
            synack_setopt(n->s, h, SYNACK_OPT_NODELAY, 1);
        logf_(w, "conn %d: stack %d accepted %s", c->op->conn, n->idx, ep_str(&remote, rb, sizeof rb));
    }
}

static void apps_step(struct world *w)
{
    for (int i = 0; i < w->p->stacks; i++)
        for (int port = 0; port < SIM_PORTS; port++)
            if (w->nodes[i].lsn[port] >= 0)
                accept_all(w, &w->nodes[i], port);
    for (int i = 0; i < w->n_conns; i++)
        if (w->conns[i].started)
            for (int s = 0; s < 2; s++)
                side_step(w, &w->conns[i], s);
}

/* ---- operations -------------------------------------------------------- */

static void do_listen(struct world *w, const struct sim_op *op, bool on)
{
    struct node *n = &w->nodes[op->a];
    int k = op->port - SIM_PORT_BASE;
    if (!on) {
        if (n->lsn[k] >= 0) {
            synack_close(n->s, n->lsn[k]);
            n->lsn[k] = -1;
            logf_(w, "stack %d stops listening on %d", n->idx, op->port);
        }
        return;
    }
    if (n->lsn[k] >= 0)
        return;
    synack_sock h = synack_socket(n->s);
    synack_endpoint e = {.addr = synack_ipv4(0), .port = op->port};
    sock_opts(n->s, h, false);
    int r = synack_bind(n->s, h, &e);
    if (r == 0)
        r = synack_listen(n->s, h, 4);
    if (r < 0) {
        fail(w, "api", "stack %d: listen on %d: %s", n->idx, op->port, synack_strerror(r));
        synack_close(n->s, h);
        return;
    }
    n->lsn[k] = h;
    logf_(w, "stack %d listens on %d", n->idx, op->port);
}

static void do_connect(struct world *w, const struct sim_op *op)
{
    struct conn *c = &w->conns[op->conn];
    struct node *a = &w->nodes[op->a], *b = &w->nodes[op->b];
    c->op = op;
    synack_sock h = synack_socket(a->s);
    if (h < 0) {
        fail(w, "api", "conn %d: socket(): %s", op->conn, synack_strerror(h));
        return;
    }
    sock_opts(a->s, h, op->nodelay[0]);
    if (op->maxseg)
        synack_setopt(a->s, h, SYNACK_OPT_MAXSEG, op->maxseg);
    if (op->newreno)
        synack_setopt(a->s, h, SYNACK_OPT_CONGESTION, SYNACK_CC_NEWRENO);
    if (op->cork)
        synack_setopt(a->s, h, SYNACK_OPT_CORK, 1);
    if (op->bind_port) {
        synack_endpoint local = {.addr = a->addr_to[op->b], .port = op->bind_port};
        synack_setopt(a->s, h, SYNACK_OPT_REUSEADDR, 1);
        int br = synack_bind(a->s, h, &local);
        if (br < 0) { /* another socket of this application holds it: ephemeral then */
            logf_(w, "conn %d: bind to port %u: %s", op->conn, op->bind_port, synack_strerror(br));
        }
    }
    c->srv = (synack_endpoint){.addr = b->addr_to[op->a], .port = op->port};
    int r = synack_connect(a->s, h, &c->srv);
    c->started = true;
    c->started_at = w->clock.now;
    progress(w, c);
    c->side[0] = (struct side){.node = op->a, .h = h, .opened = true, .rng = c->side[0].rng};
    c->side[1].node = op->b;
    c->side[1].out = OUT_NEVER;
    synack_local(a->s, h, &c->cli);

    char lb[64], rb[64];
    logf_(w, "conn %d: stack %d %s connects to stack %d %s (%llu bytes, %llu back)", op->conn, op->a,
          ep_str(&c->cli, lb, sizeof lb), op->b, ep_str(&c->srv, rb, sizeof rb), (unsigned long long)op->bytes[0],
          (unsigned long long)op->bytes[1]);
    if (op->simopen && r == -EINPROGRESS) {
        /* the other side connects back from the port it was called on, at
         * the same instant: the SYNs cross on the link */
        synack_sock h2 = synack_socket(b->s);
        sock_opts(b->s, h2, op->nodelay[1]);
        synack_setopt(b->s, h2, SYNACK_OPT_REUSEADDR, 1);
        int r2 = synack_bind(b->s, h2, &c->srv);
        if (r2 == 0)
            r2 = synack_connect(b->s, h2, &c->cli);
        c->accepted = true;
        c->side[1].h = h2;
        c->side[1].opened = true;
        c->side[1].out = OUT_NONE;
        logf_(w, "conn %d: stack %d connects back (simultaneous open): %s", op->conn, op->b,
              synack_strerror(r2 == -EINPROGRESS ? 0 : r2));
        if (r2 != -EINPROGRESS)
            side_close(w, c, 1, OUT_ERROR, r2);
    }
    if (r != -EINPROGRESS) { /* no connection: the 4-tuple, if any, is another's */
        c->bound_checked = c->no_conn = true;
        side_close(w, c, 0, OUT_ERROR, r);
        return;
    }
    /* a 4-tuple used again: what the stacks hold for it is this
     * connection's now, and the bound of the one before is moot */
    for (int i = 0; i < w->n_conns; i++) {
        struct conn *k = &w->conns[i];
        if (k != c && k->started && k->op->a == op->a && ep_eq(&k->cli, &c->cli) && ep_eq(&k->srv, &c->srv))
            k->bound_checked = true;
    }
}

static void set_link(struct world *w, int a, int b, bool down)
{
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    synack_memlink_set_down(w->links[a][b], 0, down);
    synack_memlink_set_down(w->links[a][b], 1, down);
    logf_(w, "link %d-%d %s", a, b, down ? "down" : "up");
}

static void run_op(struct world *w, const struct sim_op *op)
{
    struct conn *c = op->conn >= 0 ? &w->conns[op->conn] : NULL;
    switch (op->kind) {
    case SIM_OP_LISTEN: do_listen(w, op, true); break;
    case SIM_OP_UNLISTEN: do_listen(w, op, false); break;
    case SIM_OP_CONNECT: do_connect(w, op); break;
    case SIM_OP_STALL:
        if (c->started && c->side[op->side].opened && !c->side[op->side].closed) {
            c->side[op->side].stall_until = w->clock.now + op->dur;
            logf_(w, "conn %d %s stops reading for %.3f s", op->conn, op->side ? "server" : "client",
                  (double)op->dur / 1e6);
        }
        break;
    case SIM_OP_ABORT:
        if (c->started && c->side[op->side].opened && !c->side[op->side].closed) {
            synack_set_linger(w->nodes[c->side[op->side].node].s, c->side[op->side].h, true, 0);
            side_close(w, c, op->side, OUT_ABORTED, 0);
        }
        break;
    case SIM_OP_FLAP: {
        int a = op->a < op->b ? op->a : op->b, b = op->a < op->b ? op->b : op->a;
        if (w->link_up_at[a][b] == SYNACK_TIME_NEVER)
            set_link(w, a, b, true);
        synack_time up = w->clock.now + op->dur;
        if (w->link_up_at[a][b] == SYNACK_TIME_NEVER || up > w->link_up_at[a][b])
            w->link_up_at[a][b] = up;
        break;
    }
    }
}

/* ---- invariants -------------------------------------------------------- */

/* Counter indices, looked up by name once per run. */
enum { C_IP_OUT, C_IP_OUT_DROP, C_TCP_OUT, C_ECHO, C_UNREACH, C_IP_IN, C_IP_HDR, C_IP_CSUM, C_IP_ADDR, C_IP_FRAG,
       C_IP_PROTO, C_ICMP_IN, C_TCP_IN, C_TCP_CSUM, C_TCP_HDR, C_TCP_OPTS, C_IP6_HDR, C_IP6_ADDR, C_IP6_FRAG,
       C_IP6_PROTO, C_ICMP6_IN, C_ICMP6_DROP, C_ICMP6_ECHO, C_ICMP6_ERR, C_COUNT };
static const char *const ctr_names[C_COUNT] = {
    "ip_out", "ip_out_drop", "tcp_out", "icmp_echo_replies", "icmp_unreach_out", "ip_in", "ip_drop_hdr",
    "ip_drop_csum", "ip_drop_addr", "ip_drop_frag", "ip_drop_proto", "icmp_in", "tcp_in", "tcp_drop_csum",
    "tcp_drop_hdr", "tcp_drop_opts", "ip6_drop_hdr", "ip6_drop_addr", "ip6_drop_frag", "ip6_drop_proto",
    "icmp6_in", "icmp6_drop", "icmp6_echo_replies", "icmp6_errors_out"};
_Static_assert(C_COUNT <= sizeof ((struct world *)0)->ctr_idx / sizeof(size_t), "ctr_idx too small");

static void ctr_init(struct world *w)
{
    for (int i = 0; i < C_COUNT; i++) {
        w->ctr_idx[i] = SIZE_MAX;
        for (size_t k = 0; k < synack_counter_count(); k++)
            if (!strcmp(synack_counter_name(k), ctr_names[i]))
                w->ctr_idx[i] = k;
    }
}

#define ctr(s, c) synack_counter_value(s, w->ctr_idx[c])

/* Link stats of the frames that stack i sends to / receives from stack j. */
static void link_dir(const struct world *w, int from, int to, synack_link_stats *st)
{
    const struct node *n = &w->nodes[from];
    synack_memlink_stats(n->end_link[to], n->end_idx[to], st);
}

/* The counters add up. exact: nothing is left on the links. */
static void check_counters(struct world *w, bool exact)
{
    for (int i = 0; i < w->p->stacks; i++) {
        const synack_stack *s = w->nodes[i].s;
        uint64_t frames_out = 0, delivered_in = 0, corrupt_in = 0;
        for (int j = 0; j < w->p->stacks; j++) {
            if (j == i)
                continue;
            synack_link_stats o, in;
            link_dir(w, i, j, &o);
            link_dir(w, j, i, &in);
            frames_out += o.frames;
            delivered_in += in.delivered;
            corrupt_in += in.corrupted;
            /* every frame handed to a link is delivered, lost, dropped, or on it */
            uint64_t gone = o.delivered + o.lost + o.burst_lost + o.dropped + o.queue_drops + o.down_drops;
            if (exact ? gone != o.frames + o.duplicated : gone > o.frames + o.duplicated)
                fail(w, "counters", "link %d->%d: %llu frames + %llu duplicates, but %llu delivered + %llu lost + "
                     "%llu queue drops + %llu down", i, j, (unsigned long long)o.frames,
                     (unsigned long long)o.duplicated, (unsigned long long)o.delivered,
                     (unsigned long long)(o.lost + o.burst_lost + o.dropped), (unsigned long long)o.queue_drops,
                     (unsigned long long)o.down_drops);
        }
        uint64_t ip_out = ctr(s, C_IP_OUT), ip_out_drop = ctr(s, C_IP_OUT_DROP);
        if (frames_out < ip_out || frames_out > ip_out + ip_out_drop)
            fail(w, "counters", "stack %d: ip_out %llu (+%llu refused) but its links took %llu frames", i,
                 (unsigned long long)ip_out, (unsigned long long)ip_out_drop, (unsigned long long)frames_out);
        uint64_t out_parts = ctr(s, C_TCP_OUT) + ctr(s, C_ECHO) + ctr(s, C_UNREACH) + ctr(s, C_ICMP6_ECHO) +
                             ctr(s, C_ICMP6_ERR);
        if (out_parts != ip_out + ip_out_drop)
            fail(w, "counters", "stack %d: tcp_out + ICMP sent = %llu, ip_out + ip_out_drop = %llu", i,
                 (unsigned long long)out_parts, (unsigned long long)(ip_out + ip_out_drop));
        uint64_t ip_in = ctr(s, C_IP_IN);
        if (ip_in != delivered_in)
            fail(w, "counters", "stack %d: ip_in %llu, but its links delivered %llu", i, (unsigned long long)ip_in,
                 (unsigned long long)delivered_in);
        /* a flipped version bit sends an IPv4 frame down the IPv6 path */
        uint64_t ip6_drops = ctr(s, C_IP6_HDR) + ctr(s, C_IP6_ADDR) + ctr(s, C_IP6_FRAG) + ctr(s, C_IP6_PROTO);
        uint64_t in_parts = ctr(s, C_IP_HDR) + ctr(s, C_IP_CSUM) + ctr(s, C_IP_ADDR) + ctr(s, C_IP_FRAG) +
                            ctr(s, C_IP_PROTO) + ctr(s, C_ICMP_IN) + ip6_drops + ctr(s, C_ICMP6_IN) + ctr(s, C_TCP_IN);
        if (in_parts != ip_in)
            fail(w, "counters", "stack %d: ip_in %llu, but drops + icmp_in + tcp_in = %llu", i,
                 (unsigned long long)ip_in, (unsigned long long)in_parts);
        /* one flipped bit always changes the Internet checksum: every corrupted
         * frame, and no other, is dropped by a header or checksum check */
        uint64_t caught = ctr(s, C_IP_HDR) + ctr(s, C_IP_CSUM) + ctr(s, C_TCP_CSUM) + ctr(s, C_TCP_HDR) +
                          ctr(s, C_TCP_OPTS) + ip6_drops + ctr(s, C_ICMP6_DROP);
        if (exact ? caught != corrupt_in : caught > corrupt_in)
            fail(w, "counters", "stack %d: %llu frames corrupted on the way in, %llu dropped by header or "
                 "checksum checks", i, (unsigned long long)corrupt_in, (unsigned long long)caught);
    }
}

static void check_stacks(struct world *w, bool final)
{
    for (int i = 0; i < w->p->stacks; i++) {
        struct node *n = &w->nodes[i];
        synack_stack_usage u;
        synack_stack_usage_get(n->s, &u);
        uint32_t live = 0, listening = 0;
        for (int k = 0; k < w->n_tr; k++)
            if (w->tr[k].node == i)
                w->tr[k].st == SYNACK_LISTEN ? listening++ : live++;
        uint32_t handles = 0, held_live = 0, listeners = 0;
        for (int port = 0; port < SIM_PORTS; port++)
            if (n->lsn[port] >= 0)
                listeners++;
        for (int c = 0; c < w->n_conns; c++)
            for (int s = 0; s < 2; s++) {
                struct side *d = &w->conns[c].side[s];
                if (d->node != i || !d->opened || d->h < 0)
                    continue;
                handles++;
                synack_tcp_info ti;
                synack_tcp_info_get(n->s, d->h, &ti);
                if (ti.state != SYNACK_CLOSED)
                    held_live++;
            }
        if (u.closed_armed)
            fail(w, "timers", "stack %d: %u closed connections have a timer armed", i, u.closed_armed);
        if (u.closed_listed)
            fail(w, "timers", "stack %d: %u CLOSED connections are still in the timer list", i, u.closed_listed);
        if (u.conns != live)
            fail(w, "state", "stack %d: %u connections in its timer list, but %u open by its state changes", i,
                 u.conns, live);
        if (listening != listeners)
            fail(w, "state", "stack %d: %u listeners open, %u in LISTEN by its state changes", i, listeners,
                 listening);
        /* every socket is the application's, or a connection nobody holds
         * (orphaned by close(), or not accepted yet) */
        if (u.handles != handles + listeners)
            fail(w, "memory", "stack %d: %u handles open, but the applications hold %u (+%u listeners)", i,
                 u.handles, handles, listeners);
        /* an orphan in TIME_WAIT is a record, not a socket */
        if (u.socks + u.timewait != handles + listeners + (live - held_live))
            fail(w, "memory", "stack %d: %u sockets and %u TIME_WAIT records; the applications hold %u (+%u "
                 "listeners) and %u connections are orphans", i, u.socks, u.timewait, handles, listeners,
                 live - held_live);
        /* ring storage is attached on demand: never more than every
         * connection's two buffers, and no extension without a socket */
        uint64_t per = (uint64_t)n->sndbuf + n->rcvbuf;
        if (u.buf_bytes > (uint64_t)(u.socks - listeners) * per)
            fail(w, "memory", "stack %d: %llu buffer bytes attached for %u sockets of %llu", i,
                 (unsigned long long)u.buf_bytes, u.socks - listeners, (unsigned long long)per);
        if (u.exts > u.socks)
            fail(w, "memory", "stack %d: %u extensions attached for %u sockets", i, u.exts, u.socks);
        if (final && (u.socks || u.bytes || u.conns || u.timers_armed || u.timewait || u.exts || w->n_tr))
            fail(w, "memory", "stack %d at the end: %u sockets, %llu bytes, %u connections, %u timers armed, %d "
                 "states open (started with none)", i, u.socks, (unsigned long long)u.bytes, u.conns,
                 u.timers_armed, w->n_tr);
    }
}

/* Once both applications closed, both ends reach CLOSED or TIME_WAIT within
 * CLOSE_BOUND. Returns the next time a bound falls due. */
static synack_time check_close_bound(struct world *w)
{
    synack_time next = SYNACK_TIME_NEVER;
    for (int i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];
        if (c->bound_checked || c->both_closed_at == SYNACK_TIME_NEVER)
            continue;
        synack_time due = c->both_closed_at + CLOSE_BOUND;
        if (w->clock.now < due) {
            next = due < next ? due : next;
            continue;
        }
        c->bound_checked = true;
        const struct tracked *t[2] = {tr_find(w, c->op->a, &c->cli, &c->srv),
                                      tr_find(w, c->op->b, &c->srv, &c->cli)};
        for (int s = 0; s < 2; s++)
            if (t[s] && t[s]->st != SYNACK_TIME_WAIT)
                fail(w, "close", "conn %d: both applications closed %.0f s ago, but stack %d is still in %s",
                     c->op->conn, (double)(w->clock.now - c->both_closed_at) / 1e6, t[s]->node,
                     synack_state_name(t[s]->st));
    }
    return next;
}

/* Every application still open has seen progress within STUCK_AFTER (or,
 * at the drain's end, at all). Returns when the next one falls due. */
static synack_time check_stuck(struct world *w, bool at_end)
{
    synack_time next = SYNACK_TIME_NEVER;
    for (int i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];
        if (!c->started)
            continue;
        for (int s = 0; s < 2; s++) {
            struct side *d = &c->side[s];
            if (!d->opened || d->closed)
                continue;
            synack_time due = c->progress_at + STUCK_AFTER;
            if (!at_end && w->clock.now < due) {
                next = due < next ? due : next;
                continue;
            }
            synack_tcp_info ti;
            synack_tcp_info_get(w->nodes[d->node].s, d->h, &ti);
            logf_(w, "conn %d %s: %s snd_una %u snd_nxt %u snd_wnd %u rcv_nxt %u rcv_wnd %u unread %u unsent %u "
                  "queued %u cwnd %u rto %u ms backoff %u ca_state %u", c->op->conn, s ? "server" : "client",
                  synack_state_name(ti.state), ti.snd_una - ti.iss, ti.snd_nxt - ti.iss, ti.snd_wnd,
                  ti.rcv_nxt - ti.irs, ti.rcv_wnd, ti.unread, ti.unsent, ti.snd_queued, ti.cwnd, ti.rto_us / 1000,
                  ti.backoff, ti.ca_state);
            fail(w, "stuck", "conn %d %s: no progress for %.0f s, and the application is neither done nor told "
                 "of an error (%s, sent %llu of %llu, read %llu of the peer's %llu)", c->op->conn,
                 s ? "server" : "client", (double)(w->clock.now - c->progress_at) / 1e6, synack_state_name(ti.state),
                 (unsigned long long)d->sent, (unsigned long long)c->op->bytes[s], (unsigned long long)d->rcvd,
                 (unsigned long long)c->side[1 - s].sent);
        }
    }
    return next;
}

static bool all_done(const struct world *w)
{
    for (int i = 0; i < w->n_conns; i++)
        for (int s = 0; s < 2; s++)
            if (w->conns[i].started && w->conns[i].side[s].opened && !w->conns[i].side[s].closed)
                return false;
    return true;
}

/* ---- the loop ---------------------------------------------------------- */

static synack_time poll_all(struct world *w)
{
    synack_time next = SYNACK_TIME_NEVER;
    for (int i = 0; i < w->p->stacks; i++) {
        synack_time t = synack_poll(w->nodes[i].s);
        next = t < next ? t : next;
    }
    return next;
}

static synack_time links_step(struct world *w)
{
    synack_time next = SYNACK_TIME_NEVER;
    for (int a = 0; a < w->p->stacks; a++)
        for (int b = a + 1; b < w->p->stacks; b++) {
            if (w->link_up_at[a][b] <= w->clock.now) {
                w->link_up_at[a][b] = SYNACK_TIME_NEVER;
                set_link(w, a, b, false);
            }
            w->res->frames += synack_memlink_deliver(w->links[a][b], w->clock.now);
            synack_time t = synack_memlink_next(w->links[a][b]);
            next = t < next ? t : next;
            next = w->link_up_at[a][b] < next ? w->link_up_at[a][b] : next;
        }
    return next;
}

static void start_drain(struct world *w)
{
    w->draining = true;
    logf_(w, "workload over: stalls end, links come up, applications finish");
    for (int a = 0; a < w->p->stacks; a++)
        for (int b = a + 1; b < w->p->stacks; b++)
            if (w->link_up_at[a][b] != SYNACK_TIME_NEVER) {
                w->link_up_at[a][b] = SYNACK_TIME_NEVER;
                set_link(w, a, b, false);
            }
    for (int i = 0; i < w->n_conns; i++)
        for (int s = 0; s < 2; s++)
            w->conns[i].side[s].stall_until = 0;
}

static synack_time min3(synack_time a, synack_time b, synack_time c)
{
    synack_time m = a < b ? a : b;
    return m < c ? m : c;
}

static void run(struct world *w, const bool *enabled)
{
    const struct sim_workload *wl = w->wl;
    synack_time work_end = T0 + w->p->span, drain_end = work_end + DRAIN_MAX;
    int next_op = 0;
    bool closing = false; /* after the drain: listeners closed, waiting out TIME_WAIT */
    synack_time closing_end = SYNACK_TIME_NEVER;
    for (;;) {
        w->res->steps++;
        synack_time next = links_step(w);
        while (next_op < wl->n && T0 + wl->ops[next_op].at <= w->clock.now) {
            const struct sim_op *op = &wl->ops[next_op];
            if (!enabled || enabled[next_op])
                run_op(w, op);
            next_op++;
        }
        if (!w->draining && w->clock.now >= work_end)
            start_drain(w);
        apps_step(w);
        poll_all(w);
        apps_step(w);
        next = min3(next, poll_all(w), links_step(w));
        if (w->res->failed)
            return;
        check_stacks(w, false);
        check_counters(w, false);
        next = min3(next, check_close_bound(w), check_stuck(w, false));
        if (w->res->failed)
            return;
        for (int i = 0; i < w->n_conns; i++)
            for (int s = 0; s < 2; s++) {
                synack_time t = w->conns[i].side[s].stall_until;
                if (t > w->clock.now && t < next && !w->conns[i].side[s].closed)
                    next = t;
            }
        if (next_op < wl->n)
            next = min3(next, T0 + wl->ops[next_op].at, SYNACK_TIME_NEVER);
        if (!w->draining)
            next = next < work_end ? next : work_end;
        if (w->draining && !closing && (all_done(w) || w->clock.now >= drain_end)) {
            if (!all_done(w)) {
                check_stuck(w, true);
                return;
            }
            /* every application is done: the listeners go, and the stacks
             * must give everything back once TIME_WAIT is over */
            closing = true;
            closing_end = w->clock.now + CLOSE_BOUND;
            for (int i = 0; i < w->p->stacks; i++)
                for (int k = 0; k < SIM_PORTS; k++)
                    if (w->nodes[i].lsn[k] >= 0) {
                        synack_close(w->nodes[i].s, w->nodes[i].lsn[k]);
                        w->nodes[i].lsn[k] = -1;
                    }
            logf_(w, "all applications done; listeners closed");
            continue;
        }
        if (w->draining && !closing)
            next = next < drain_end ? next : drain_end;
        if (closing && next > closing_end)
            break; /* something stays armed: the final check says what */
        if (next == SYNACK_TIME_NEVER)
            break;
        w->clock.now = next > w->clock.now ? next : w->clock.now + 1;
    }
    /* the end: nothing on the links, nothing in the stacks */
    w->res->end_at = w->clock.now - T0;
    logf_(w, "end: every stack idle");
    check_stacks(w, true);
    check_counters(w, true);
}

int sim_world_run(const struct sim_params *p, const struct sim_workload *wl, const bool *enabled, FILE *log,
                  const char *pcap_path, struct sim_result *res)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    memset(res, 0, sizeof *res);
    w->p = p;
    w->wl = wl;
    w->res = res;
    w->log = log;
    w->clock.now = T0;
    int r = 0;
    if (pcap_path && (r = synack_pcap_open(pcap_path, &w->pcap)) < 0) {
        free(w);
        return r;
    }
    r = build(w);
    if (r == 0) {
        ctr_init(w);
        run(w, enabled);
        if (!res->end_at)
            res->end_at = w->clock.now - T0;
        for (int i = 0; i < w->n_conns; i++) {
            struct conn *c = &w->conns[i];
            if (!c->started)
                continue;
            res->conns++;
            res->bytes += c->side[0].rcvd + c->side[1].rcvd;
            if (c->side[0].out == OUT_CLEAN && c->side[1].out == OUT_CLEAN)
                res->clean++;
            else if (c->side[0].err == -ECONNREFUSED)
                res->refused++;
            else if (c->side[0].out == OUT_ERROR || c->side[1].out == OUT_ERROR)
                res->errors++;
        }
    }
    teardown(w);
    synack_pcap_close(w->pcap);
    free(w);
    return r;
}
