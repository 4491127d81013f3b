/* The instance: one stack on one interface whose link is a queue of
 * outbound datagrams, a virtual clock, and the machinery that lets a call
 * block on one thread while another drives time and the wire. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The stack clock starts here, not at 0, so no timer ever sits at time 0. */
#define SXP_CLOCK_BASE SYNACK_SEC(1)
/* Linux's default (tcp_rmem[1] / tcp_wmem[1]). */
#define SXP_RCVBUF_DEFAULT 131072
#define SXP_SNDBUF_DEFAULT 16384

void sxp_config_default(struct sxp_config *c)
{
    memset(c, 0, sizeof *c);
    c->local_ip = 192u << 24 | 168u << 16 | 1;      /* 192.168.0.1 */
    c->gateway_ip = 192u << 24 | 168u << 16 | 2;    /* 192.168.0.2 */
    c->prefix_len = 16;
    static const uint8_t v6[16] = {0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, [15] = 1};
    memcpy(c->local_ip6, v6, 16); /* fd3d:fa7b:d17d::1 */
    c->prefix6_len = 48;
    c->mtu = 1500;
    c->seed = 1;
    c->epoch_usecs = 1767225600000000LL; /* 2026-01-01T00:00:00Z */
    c->recv_wait_usecs = SYNACK_SEC(120);
}

int sxp_fail(int err)
{
    errno = err;
    return -1;
}

static int link_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct sxp *p = ctx;
    if (p->cfg.tx_refuse) /* a qdisc of limit 0 drops it before the device, and says so */
        return -ENOBUFS;
    struct sxp_pkt *k = malloc(sizeof *k + len);
    if (!k)
        return -ENOBUFS;
    k->next = NULL;
    k->time = sxp_now(p);
    k->len = len;
    memcpy(k->data, frame, len);
    if (p->out_tail)
        p->out_tail->next = k;
    else
        p->out_head = k;
    p->out_tail = k;
    return 0;
}

/* Counts, per socket, the wakeups Linux would deliver: new bytes or FIN
 * (rcv_nxt moves), a state change, an error, room after a send found none,
 * and anything on a listener. Edge-triggered epoll reports on these. */
static void on_event(void *ctx, synack_sock h, unsigned events)
{
    struct sxp *p = ctx;
    p->changed = true;
    for (int fd = 0; fd < p->n_files; fd++) {
        struct sxp_file *f = p->files[fd];
        if (!f || f->kind != SXF_SOCK || f->h != h)
            continue;
        synack_tcp_info ti;
        if (synack_tcp_info_get(p->st, h, &ti) < 0)
            return;
        bool wake = f->listening || (events & SYNACK_EV_ERR) || ti.rcv_nxt != f->last_rcv_nxt ||
                    (int)ti.state != f->last_state;
        bool out = events & SYNACK_EV_OUT;
        if (f->sndbuf) /* sk_stream_write_space */
            out = out && sxp_wmem_writeable(f, &ti);
        if (f->nospace && out) {
            f->nospace = false;
            wake = true;
        }
        uint32_t rep = synack_errqueue_reports(p->st, h); /* sk_error_report */
        if (rep != f->errq_reports) {
            f->errq_reports = rep;
            wake = true;
        }
        f->last_rcv_nxt = ti.rcv_nxt;
        f->last_state = (int)ti.state;
        f->wakeups += wake;
        return;
    }
}

struct sxp *sxp_new(const struct sxp_config *c)
{
    struct sxp *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (c)
        p->cfg = *c;
    else
        sxp_config_default(&p->cfg);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->quiet, NULL);
    p->clk.now = p->base = SXP_CLOCK_BASE;
    p->deadline = SYNACK_TIME_NEVER;
    p->next_port = (uint16_t)(32768 + p->cfg.seed % 28232);
    synack_config sc = {.seed = p->cfg.seed,
                        .clock = synack_vclock_read,
                        .clock_ctx = &p->clk,
                        .sndbuf = SXP_SNDBUF_DEFAULT,
                        .rcvbuf = SXP_RCVBUF_DEFAULT,
                        .fastopen = p->cfg.fastopen,
                        .no_timestamps = p->cfg.no_timestamps,
                        .fastopen_key_set = p->cfg.fastopen_key_set,
                        .notsent_lowat = p->cfg.notsent_lowat,
                        .ecn_set = p->cfg.ecn_set,
                        .ecn = p->cfg.ecn,
                        .min_tso_segs = p->cfg.min_tso_segs};
    memcpy(sc.fastopen_key, p->cfg.fastopen_key, sizeof sc.fastopen_key);
    p->st = synack_stack_new(&sc);
    if (p->st)
        synack_set_event_handler(p->st, on_event, p);
    synack_iface_config ic = {.ops = {.transmit = link_transmit},
                              .ctx = p,
                              .addr = synack_ipv4(p->cfg.local_ip),
                              .prefix_len = p->cfg.prefix_len,
                              .prefix6_len = p->cfg.prefix6_len,
                              .mtu = p->cfg.mtu};
    if (!p->cfg.no_ip6)
        ic.addr6 = synack_ipv6(p->cfg.local_ip6);
    /* The one interface is also the default route, so the gateway needs no
     * entry of its own: off-link remotes (192.0.2.1, 2001:db8::1) leave
     * through it. */
    if (!p->st || (p->ifindex = synack_iface_add(p->st, &ic)) < 0) {
        sxp_free(p);
        return NULL;
    }
    return p;
}

void sxp_free(struct sxp *p)
{
    if (!p)
        return;
    for (int fd = 0; fd < p->n_files; fd++) {
        struct sxp_file *f = p->files[fd];
        if (!f)
            continue;
        /* The host may have closed the descriptor already (packetdrill
         * closes leftovers itself) and even handed the number to someone
         * else: closing it again would close theirs. Only the eventfd we
         * can still identify as ours is closed. */
        sxp_file_drop(p, f, true);
    }
    free(p->files);
    while (p->out_head) {
        struct sxp_pkt *k = p->out_head;
        p->out_head = k->next;
        free(k);
    }
    synack_stack_free(p->st);
    pthread_cond_destroy(&p->quiet);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

synack_stack *sxp_stack(struct sxp *p)
{
    return p->st;
}

int64_t sxp_now(struct sxp *p)
{
    return p->cfg.epoch_usecs + (int64_t)(p->clk.now - p->base);
}

/* When a call that slept returns, the driver may move the clock on before
 * the caller reads it; the caller's next clock read still gives the instant
 * its call returned (packetdrill's syscall thread stamps the end of a
 * blocking call that way). Its next call into the layer thaws it. */
static _Thread_local struct sxp *frozen_p;
static _Thread_local int64_t frozen_at;

void sxp_lock(struct sxp *p)
{
    pthread_mutex_lock(&p->mu);
    if (frozen_p == p)
        frozen_p = NULL;
}

int64_t sxp_clock(struct sxp *p)
{
    if (frozen_p == p)
        return frozen_at;
    pthread_mutex_lock(&p->mu);
    int64_t t = sxp_now(p);
    pthread_mutex_unlock(&p->mu);
    return t;
}

static void kick(struct sxp *p)
{
    p->changed = false;
    for (struct sxp_waiter *w = p->waiters; w; w = w->next)
        if (!w->kicked) {
            w->kicked = true;
            p->pending++;
        }
    if (p->pending) {
        pthread_cond_broadcast(&p->cv);
        pthread_cond_broadcast(&p->quiet); /* a waiter settling others looks again too */
    }
}

/* A kicked waiter has looked again (or is about to, holding the lock). */
static void consume(struct sxp *p, struct sxp_waiter *w)
{
    w->kicked = false;
    if (--p->pending == 0)
        pthread_cond_broadcast(&p->quiet);
}

void sxp_run(struct sxp *p)
{
    p->deadline = synack_poll(p->st);
    kick(p);
    /* Quiescence: every woken call has finished or sleeps again before
     * time moves on, so what it does happens at this instant, every run. */
    while (p->pending)
        pthread_cond_wait(&p->quiet, &p->mu);
}

void sxp_unlock(struct sxp *p)
{
    sxp_run(p);
    pthread_mutex_unlock(&p->mu);
}

void sxp_unlock_quiet(struct sxp *p)
{
    pthread_mutex_unlock(&p->mu);
}

void sxp_wait_begin(struct sxp *p, struct sxp_waiter *w, synack_time deadline)
{
    w->deadline = deadline;
    w->kicked = false;
    w->slept = false;
    w->next = p->waiters;
    p->waiters = w;
}

void sxp_wait(struct sxp *p, struct sxp_waiter *w)
{
    /* Before sleeping, let the stack send what this call queued. Others are
     * woken only when the stack reported a change: two blocked calls
     * waking each other for nothing would never rest. */
    p->deadline = synack_poll(p->st);
    if (p->changed)
        kick(p);
    if (w->kicked) { /* something changed: look again before sleeping */
        consume(p, w);
        return;
    }
    while (p->pending) {
        pthread_cond_wait(&p->quiet, &p->mu);
        if (w->kicked) {
            consume(p, w);
            return;
        }
    }
    w->slept = true;
    while (!w->kicked)
        pthread_cond_wait(&p->cv, &p->mu);
    consume(p, w);
}

void sxp_wait_end(struct sxp *p, struct sxp_waiter *w)
{
    struct sxp_waiter **pp = &p->waiters;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp)
        *pp = w->next;
    if (w->kicked)
        consume(p, w);
    if (w->slept) {
        frozen_p = p;
        frozen_at = sxp_now(p);
    }
}

synack_time sxp_deadline_ms(struct sxp *p, int timeout_ms)
{
    if (timeout_ms < 0)
        return SYNACK_TIME_NEVER;
    return p->clk.now + SYNACK_MS(timeout_ms);
}

/* The next instant something is due: a stack timer or a blocked call's
 * timeout. */
static synack_time next_due(struct sxp *p)
{
    synack_time t = p->deadline;
    for (struct sxp_waiter *w = p->waiters; w; w = w->next)
        if (w->deadline < t)
            t = w->deadline;
    return t;
}

/* Moves the clock to t (never backwards) and runs everything due there. */
static void step_to(struct sxp *p, synack_time t)
{
    if (t > p->clk.now)
        p->clk.now = t;
    sxp_run(p);
}

static void advance_locked(struct sxp *p, synack_time target)
{
    int same = 0;
    for (;;) {
        synack_time due = next_due(p);
        if (due > target)
            break;
        /* A deadline that does not move after running at its instant would
         * spin: after a few tries, let one microsecond pass. */
        if (due <= p->clk.now && ++same > 16) {
            due = p->clk.now + 1;
            same = 0;
            if (due > target)
                break;
        } else if (due > p->clk.now) {
            same = 0;
        }
        step_to(p, due);
    }
    step_to(p, target);
}

void sxp_advance(struct sxp *p, uint64_t d)
{
    sxp_lock(p);
    advance_locked(p, p->clk.now + d);
    pthread_mutex_unlock(&p->mu);
}

int sxp_input(struct sxp *p, const void *buf, size_t len)
{
    if (!buf || len < 20)
        return sxp_fail(EINVAL);
    unsigned v = ((const uint8_t *)buf)[0] >> 4;
    if (v != 4 && v != 6)
        return sxp_fail(EINVAL);
    sxp_lock(p);
    synack_input(p->st, p->ifindex, buf, len);
    sxp_unlock(p);
    return 0;
}

int sxp_output(struct sxp *p, void *buf, size_t *len, long long *time_usecs)
{
    if (!len)
        return sxp_fail(EINVAL);
    sxp_lock(p);
    synack_time limit = p->clk.now + p->cfg.recv_wait_usecs;
    while (!p->out_head && !p->cfg.recv_nowait) {
        synack_time due = next_due(p);
        if (due == SYNACK_TIME_NEVER || due > limit)
            break;
        step_to(p, due);
    }
    struct sxp_pkt *k = p->out_head;
    if (!k) {
        pthread_mutex_unlock(&p->mu);
        *len = 0;
        return sxp_fail(EAGAIN);
    }
    p->out_head = k->next;
    if (!p->out_head)
        p->out_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    size_t n = k->len < *len ? k->len : *len;
    if (buf && n)
        memcpy(buf, k->data, n);
    *len = n;
    if (time_usecs)
        *time_usecs = k->time;
    free(k);
    return 0;
}

int sxp_sysctl(struct sxp *p, const char *name, const char *value)
{
    char *end = NULL;
    unsigned long v = value ? strtoul(value, &end, 0) : 0;
    bool num = value && *value && end && !*end;
    int rc = 0;
    sxp_lock(p);
    if (!strcmp(name, "net.ipv4.tcp_fastopen") && num)
        synack_set_fastopen(p->st, (uint32_t)v);
    else if (!strcmp(name, "net.ipv4.tcp_timestamps") && num)
        synack_set_timestamps(p->st, v != 0);
    else if (!strcmp(name, "net.ipv4.tcp_ecn") && num)
        rc = synack_set_ecn(p->st, v > SYNACK_ECN_PASSIVE ? ~0u : (unsigned)v) < 0 ? -1 : 0;
    else if (!strcmp(name, "tcp_metrics") && value && !strcmp(value, "flush"))
        synack_fastopen_cache_flush(p->st);
    else if (!strcmp(name, "qdisc") && value && (!strcmp(value, "drop") || !strcmp(value, "none")))
        p->cfg.tx_refuse = !strcmp(value, "drop");
    else
        rc = -1;
    sxp_unlock(p);
    return rc;
}
