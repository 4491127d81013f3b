#include "conv.h"

#include <stdlib.h>
#include <string.h>

int tr_addr_cmp(const struct tr_addr *a, const struct tr_addr *b)
{
    if (a->af != b->af)
        return a->af < b->af ? -1 : 1;
    return memcmp(a->a, b->a, a->af == 4 ? 4 : 16);
}

/* Wireshark's flow1 is the side whose address compares greater or equal
 * (ports break ties); it does not depend on who spoke first. */
static int sender_index(const struct tr_pkt *p)
{
    int c = tr_addr_cmp(&p->src, &p->dst);
    if (c == 0)
        c = p->sport > p->dport ? 1 : -1;
    return c >= 0 ? 0 : 1;
}

static uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const uint8_t *d = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x100000001b3ull;
    return h;
}

static size_t tuple_hash(const struct tr_pkt *p, size_t nbucket)
{
    /* Order-independent: hash the two endpoints sorted. */
    int s = sender_index(p);
    const struct tr_addr *a0 = s == 0 ? &p->src : &p->dst, *a1 = s == 0 ? &p->dst : &p->src;
    uint16_t p0 = s == 0 ? p->sport : p->dport, p1 = s == 0 ? p->dport : p->sport;
    uint64_t h = 0xcbf29ce484222325ull;
    h = mix(h, a0->a, 16);
    h = mix(h, a1->a, 16);
    h = mix(h, &p0, 2);
    h = mix(h, &p1, 2);
    return (size_t)(h ^ (h >> 29)) & (nbucket - 1);
}

int tr_table_init(struct tr_table *t)
{
    memset(t, 0, sizeof *t);
    t->nbucket = 1024;
    t->want_stats = true;
    t->closed_timeout = TR_CLOSED_TIMEOUT_NS;
    t->idle_timeout = TR_IDLE_TIMEOUT_NS;
    t->bucket = calloc(t->nbucket, sizeof *t->bucket);
    return t->bucket ? 0 : -1;
}

void tr_flow_free(struct tr_flow *f)
{
    free(f->ua);
    f->ua = NULL;
    f->ua_len = f->ua_cap = 0;
}

static void conv_free(struct tr_table *t, struct tr_conv *c)
{
    tr_flow_free(&c->flow[0]);
    tr_flow_free(&c->flow[1]);
    if (c->view && t->view_free)
        t->view_free(c->view);
    free(c);
}

void tr_table_free(struct tr_table *t)
{
    for (int l = 0; l < 2; l++) {
        struct tr_conv *c = t->live[l].head;
        while (c) {
            struct tr_conv *n = c->next;
            conv_free(t, c);
            c = n;
        }
    }
    free(t->bucket);
    memset(t, 0, sizeof *t);
}

static void live_unlink(struct tr_table *t, struct tr_conv *c)
{
    struct tr_live *l = &t->live[c->list];
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
}

static void live_append(struct tr_table *t, struct tr_conv *c)
{
    struct tr_live *l = &t->live[c->list];
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static size_t tuple_hash_conv(const struct tr_conv *c, size_t nbucket);

/* Reports the conversation (through the retire callback) and frees it. */
static void retire(struct tr_table *t, struct tr_conv *c)
{
    for (struct tr_conv **pp = &t->bucket[tuple_hash_conv(c, t->nbucket)]; *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    live_unlink(t, c);
    t->nconv--;
    t->retired++;
    if (t->retire)
        t->retire(t->retire_ctx, c);
    conv_free(t, c);
}

void tr_table_touch(struct tr_table *t, struct tr_conv *c, int64_t ts)
{
    live_unlink(t, c);
    if (ts > c->last_ts)
        c->last_ts = ts;
    c->list = c->rst || c->fin_mask == 3 || !c->past_syn ? TR_LIVE_CLOSED : TR_LIVE_OPEN;
    live_append(t, c);
}

void tr_table_expire(struct tr_table *t, int64_t now)
{
    if (!t->now_set || now > t->now) {
        t->now = now;
        t->now_set = true;
    }
    const int64_t timeout[2] = {[TR_LIVE_OPEN] = t->idle_timeout, [TR_LIVE_CLOSED] = t->closed_timeout};
    for (int l = 0; l < 2; l++) {
        if (timeout[l] <= 0)
            continue;
        while (t->live[l].head && t->now - t->live[l].head->last_ts > timeout[l])
            retire(t, t->live[l].head);
    }
}

static int by_stream(const void *a, const void *b)
{
    const struct tr_conv *x = *(const struct tr_conv *const *)a, *y = *(const struct tr_conv *const *)b;
    return x->stream < y->stream ? -1 : x->stream > y->stream;
}

int tr_table_flush(struct tr_table *t)
{
    size_t n = 0;
    struct tr_conv **all = t->nconv ? malloc(t->nconv * sizeof *all) : NULL;
    if (t->nconv && !all)
        return -1;
    for (int l = 0; l < 2; l++)
        for (struct tr_conv *c = t->live[l].head; c; c = c->next)
            all[n++] = c;
    if (n)
        qsort(all, n, sizeof *all, by_stream);
    for (size_t i = 0; i < n; i++)
        retire(t, all[i]);
    free(all);
    return 0;
}

static bool same_tuple(const struct tr_conv *c, const struct tr_pkt *p, int *dir)
{
    for (int d = 0; d < 2; d++) {
        if (c->port[d] == p->sport && c->port[1 - d] == p->dport && !tr_addr_cmp(&c->addr[d], &p->src) &&
            !tr_addr_cmp(&c->addr[1 - d], &p->dst)) {
            *dir = d;
            return true;
        }
    }
    return false;
}

struct tr_conv *tr_table_find(struct tr_table *t, const struct tr_pkt *p, int *dir)
{
    for (struct tr_conv *c = t->bucket[tuple_hash(p, t->nbucket)]; c; c = c->hnext)
        if (same_tuple(c, p, dir))
            return c;
    return NULL;
}

static size_t tuple_hash_conv(const struct tr_conv *c, size_t nbucket)
{
    struct tr_pkt k;
    k.src = c->addr[0];
    k.dst = c->addr[1];
    k.sport = c->port[0];
    k.dport = c->port[1];
    return tuple_hash(&k, nbucket);
}

static int grow(struct tr_table *t)
{
    size_t nb = t->nbucket * 2;
    struct tr_conv **b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < t->nbucket; i++) {
        struct tr_conv *c = t->bucket[i];
        while (c) {
            struct tr_conv *n = c->hnext;
            size_t h = tuple_hash_conv(c, nb);
            c->hnext = b[h];
            b[h] = c;
            c = n;
        }
    }
    free(t->bucket);
    t->bucket = b;
    t->nbucket = nb;
    return 0;
}

static void flow_init(struct tr_flow *f)
{
    memset(f, 0, sizeof *f);
    f->window = -1;
    f->win_scale = -1;
    f->is_first_ack = true;
    f->valid_bif = true;
}

struct tr_conv *tr_table_new(struct tr_table *t, const struct tr_pkt *p, int *dir)
{
    if (t->nconv + 1 > t->nbucket && grow(t) < 0)
        return NULL;
    struct tr_conv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int s = sender_index(p);
    c->addr[s] = p->src;
    c->addr[1 - s] = p->dst;
    c->port[s] = p->sport;
    c->port[1 - s] = p->dport;
    *dir = s;
    flow_init(&c->flow[0]);
    flow_init(&c->flow[1]);
    c->stream = t->next_stream++;

    /* An older conversation with this tuple can get no more packets: a
     * new one (ports reused) takes its place, so it is reported now. */
    size_t h = tuple_hash(p, t->nbucket);
    for (struct tr_conv *o = t->bucket[h]; o; o = o->hnext) {
        int d;
        if (same_tuple(o, p, &d)) {
            retire(t, o);
            break;
        }
    }
    c->hnext = t->bucket[h];
    t->bucket[h] = c;
    if (++t->nconv > t->peak_conv)
        t->peak_conv = t->nconv;
    c->list = TR_LIVE_OPEN;
    c->last_ts = p->ts_ns;
    live_append(t, c);
    return c;
}
