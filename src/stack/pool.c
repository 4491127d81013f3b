/* Memory a connection holds only while busy (docs/architecture.md,
 * "Memory"): the TCB extension (struct tcp_ext) and the storage of its send
 * and receive rings. Each comes from a per-stack free list, so attaching
 * and taking back is a pointer move on the fast path; malloc is called only
 * when a list is empty, and a bounded number of spares is kept so a burst
 * does not pin its peak. */
#include <errno.h>
#include <stdlib.h>

#include "stack.h"

#define SPARE_EXT 4096          /* about 2 MiB of extensions */
#define SPARE_TW 16384          /* 2 MiB of TIME_WAIT records */
#define SPARE_SOCK 1024         /* 384 KiB of sockets */
#define SPARE_BUF_BYTES (8u << 20) /* per buffer size */

struct chunk {
    struct chunk *next;
};

/* A free list of objects of one size, keeping at most max spares. */
static void *chunk_get(struct chunk **list, size_t *n, size_t size)
{
    struct chunk *c = *list;
    if (!c)
        return malloc(size);
    *list = c->next;
    (*n)--;
    return c;
}

static void chunk_put(struct chunk **list, size_t *n, size_t max, void *m)
{
    if (*n >= max) {
        free(m);
        return;
    }
    struct chunk *c = m;
    c->next = *list;
    *list = c;
    (*n)++;
}

static void chunks_free(struct chunk **list)
{
    while (*list) {
        struct chunk *c = *list;
        *list = c->next;
        free(c);
    }
}

static struct tcp_ext *ext_get(synack_stack *s)
{
    struct tcp_ext *x = chunk_get(&s->pool.ext_free, &s->pool.n_ext_free, sizeof *x);
    if (x)
        s->pool.ext_live++;
    return x;
}

static void ext_put(synack_stack *s, struct tcp_ext *x)
{
    s->pool.ext_live--;
    chunk_put(&s->pool.ext_free, &s->pool.n_ext_free, SPARE_EXT, x);
}

struct tw_rec *pool_tw_get(synack_stack *s)
{
    return chunk_get(&s->pool.tw_free, &s->pool.n_tw_free, sizeof(struct tw_rec));
}

void pool_tw_put(synack_stack *s, struct tw_rec *w)
{
    chunk_put(&s->pool.tw_free, &s->pool.n_tw_free, SPARE_TW, w);
}

/* Sockets come and go at every connection: malloc and free of them were
 * 3 % of bench/connrate (glibc's small bins), a list pop is not. */
struct sock *pool_sock_get(synack_stack *s)
{
    return chunk_get(&s->pool.sock_free, &s->pool.n_sock_free, sizeof(struct sock));
}

void pool_sock_put(synack_stack *s, struct sock *k)
{
    chunk_put(&s->pool.sock_free, &s->pool.n_sock_free, SPARE_SOCK, k);
}

/* The free list for buffers of size n: one per size the stack hands out by
 * default (the configured send and receive sizes); NULL for another size. */
static struct pool_bufs *bufs_of(synack_stack *s, uint32_t n)
{
    for (int i = 0; i < 2; i++)
        if (s->pool.bufs[i].size == n)
            return &s->pool.bufs[i];
    return NULL;
}

static uint8_t *buf_get(synack_stack *s, uint32_t n)
{
    struct pool_bufs *b = bufs_of(s, n);
    size_t size = n < sizeof(struct chunk) ? sizeof(struct chunk) : n;
    uint8_t *m = b ? chunk_get(&b->free, &b->n_free, size) : malloc(size);
    if (m)
        s->pool.buf_bytes_live += n;
    return m;
}

static void buf_put(synack_stack *s, uint8_t *m, uint32_t n)
{
    struct pool_bufs *b = bufs_of(s, n);
    s->pool.buf_bytes_live -= n;
    if (!b)
        free(m);
    else
        chunk_put(&b->free, &b->n_free, SPARE_BUF_BYTES / (n ? n : 1), m);
}

/* The core's hooks for receive storage of another size (tcp_ctx
 * rbuf_alloc / rbuf_free: a segment taken whole beyond the window, input.c):
 * the same lists, so a buffer-sized request is a pool hit and a larger one
 * a malloc, counted in buf_bytes_live like any attached storage. */
static uint8_t *rbuf_alloc(void *cb, uint32_t size)
{
    return buf_get(cb, size);
}

static void rbuf_free(void *cb, uint8_t *buf, uint32_t size)
{
    buf_put(cb, buf, size);
}

void pool_init(synack_stack *s)
{
    s->pool.bufs[0].size = s->cfg.sndbuf;
    s->pool.bufs[1].size = s->cfg.rcvbuf != s->cfg.sndbuf ? s->cfg.rcvbuf : 0;
    s->tcp.rbuf_alloc = rbuf_alloc;
    s->tcp.rbuf_free = rbuf_free;
}

void pool_free(synack_stack *s)
{
    struct pool *p = &s->pool;
    chunks_free(&p->ext_free);
    chunks_free(&p->tw_free);
    chunks_free(&p->sock_free);
    for (int i = 0; i < 2; i++)
        chunks_free(&p->bufs[i].free);
}

int stack_attach(synack_stack *s, struct sock *k, size_t snd_payload, size_t rcv_payload)
{
    struct tcb *b = &k->tcb;
    if (!b->x) {
        struct tcp_ext *x = ext_get(s);
        if (!x)
            return -ENOMEM;
        tcp_ext_init(b, x);
    }
    bool snd, rcv;
    tcp_ext_wants(b, snd_payload, rcv_payload, &snd, &rcv);
    if (snd && !(b->x->sbuf = buf_get(s, b->snd.cap)))
        return -ENOMEM;
    if (rcv && !(b->x->rbuf = buf_get(s, b->rcv.cap)))
        return -ENOMEM;
    return 0;
}

void stack_release_idle(synack_stack *s, struct sock *k, bool all)
{
    struct tcb *b = &k->tcb;
    struct tcp_ext *x = b->x;
    if (!x)
        return;
    if (x->sbuf && (all || tcp_sbuf_idle(b))) {
        buf_put(s, x->sbuf, b->snd.cap);
        x->sbuf = NULL;
    }
    if (x->rbuf && (all || tcp_rbuf_idle(b))) {
        uint32_t size;
        uint8_t *m = tcp_rbuf_detach(b, &size);
        buf_put(s, m, size);
    }
    if (all || tcp_ext_idle(b)) {
        tcp_ext_release(b);
        ext_put(s, x);
    }
}

/* SO_SNDBUF / SO_RCVBUF on a live connection: storage attached at the old
 * size moves to a buffer of the new one (contents at their offsets). */
int stack_resize_bufs(synack_stack *s, struct sock *k, uint32_t ns, uint32_t nr)
{
    struct tcb *b = &k->tcb;
    struct tcp_ext *x = b->x;
    uint8_t *sb = NULL, *rb = NULL;
    /* receive storage grown past the buffer (input.c rcv_grow) that still
     * holds the new size stays: only the buffer's size changes */
    bool keep_rb = x && x->rbuf && x->rcv_bufsize && nr <= b->rcv.cap;
    if (x && x->sbuf && ns != b->snd.cap && !(sb = buf_get(s, ns)))
        return -ENOMEM;
    if (x && x->rbuf && !keep_rb && nr != b->rcv.cap && !(rb = buf_get(s, nr))) {
        if (sb)
            buf_put(s, sb, ns);
        return -ENOMEM;
    }
    if (sb) {
        ring_peek(&b->snd, x->sbuf, 0, sb, b->snd.cap);
        buf_put(s, x->sbuf, b->snd.cap);
        x->sbuf = sb;
        b->snd.head = 0;
    }
    if (rb) {
        ring_peek(&b->rcv, x->rbuf, 0, rb, b->rcv.cap);
        buf_put(s, x->rbuf, b->rcv.cap);
        x->rbuf = rb;
        b->rcv.head = 0;
        x->rcv_bufsize = 0;
    }
    b->snd.cap = ns;
    if (keep_rb)
        x->rcv_bufsize = nr < b->rcv.cap ? nr : 0;
    else
        b->rcv.cap = nr;
    return 0;
}
