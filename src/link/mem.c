/* The in-memory link: two interfaces back to back, with a one-way delay, an
 * optional pcap tee of everything sent, and per direction the faults of
 * fault.c (loss, reordering, duplication, corruption, jitter, a serialization
 * rate and a queue limit).
 *
 * A direction's frames leave in the order they entered (jitter is clamped so
 * that it never reorders), so each direction keeps a FIFO ring: O(1) per
 * frame. Only frames that the reorder fault holds back go to a binary heap
 * ordered by (due time, send order), O(log n). Delivery takes the earliest
 * of the two ring heads and the heap top, so frames due at the same time
 * arrive in the order they were sent, both directions interleaved. Frame
 * buffers are recycled through free lists by size class, so a steady
 * transfer allocates nothing per frame; rings and heap grow by doubling and
 * stay grown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "link.h"
#include "synack.h"

#define CLASS_MIN_SHIFT 11 /* 2 KiB: a 1500-byte frame */
#define CLASS_COUNT 7      /* up to 128 KiB, above any IP datagram */

struct frame {
    struct frame *next; /* free list */
    size_t len;
    uint8_t cls;
    bool corrupted; /* by the fault model: the receiver must check the checksum */
    uint8_t data[];
};

struct slot {
    synack_time due;
    uint64_t order;
    struct frame *f;
    int from;
};

/* A frame in the rate-limited queue: when its serialization ends. */
struct queued {
    uint64_t done_ns;
    uint32_t len;
};

struct mem_end {
    struct synack_memlink *link;
    int idx;
    synack_stack *stack; /* receives what the other end sends */
    int ifindex;
    unsigned drop_next;
    bool down; /* synack_memlink_set_down */
    struct link_fault fault;
    synack_time last_due;    /* jitter never lets a frame pass an earlier one */
    uint64_t free_ns;        /* when the transmitter finishes what it has */
    uint64_t free_rem;       /* and the fraction of a ns, in 1/rate_bps */
    struct queued *q;        /* ring of frames not yet serialized */
    size_t q_cap, q_head, q_len;
    uint64_t q_bytes;
    struct slot *fifo;       /* frames in flight in send order */
    size_t f_cap, f_head, f_len;
    uint64_t held, held_bytes; /* frames of this direction on the link */
    synack_link_stats st;
};

struct synack_memlink {
    synack_time delay;
    synack_clock_fn clock;
    void *clock_ctx;
    struct mem_end ends[2];
    synack_pcap *tee;
    struct slot *heap; /* held-back (reordered) frames */
    size_t n, cap;
    uint64_t order;
    struct frame *pool[CLASS_COUNT];
};

synack_memlink *synack_memlink_new(synack_time delay, synack_clock_fn clock, void *clock_ctx)
{
    if (!clock)
        return NULL;
    synack_memlink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->delay = delay;
    l->clock = clock;
    l->clock_ctx = clock_ctx;
    for (int i = 0; i < 2; i++) {
        l->ends[i].link = l;
        l->ends[i].idx = i;
        l->ends[i].ifindex = -1;
        link_fault_set(&l->ends[i].fault, NULL, i);
    }
    return l;
}

void synack_memlink_free(synack_memlink *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->heap[i].f);
    for (int i = 0; i < 2; i++) {
        struct mem_end *e = &l->ends[i];
        for (size_t k = 0; k < e->f_len; k++)
            free(e->fifo[(e->f_head + k) % e->f_cap].f);
        free(e->fifo);
    }
    for (int c = 0; c < CLASS_COUNT; c++)
        while (l->pool[c]) {
            struct frame *f = l->pool[c];
            l->pool[c] = f->next;
            free(f);
        }
    for (int i = 0; i < 2; i++)
        free(l->ends[i].q);
    free(l->heap);
    synack_pcap_close(l->tee);
    free(l);
}

/* ---- frame pool ---- */

static struct frame *frame_get(synack_memlink *l, struct mem_end *e, size_t len)
{
    int c = 0;
    while (c < CLASS_COUNT - 1 && len > ((size_t)1 << (CLASS_MIN_SHIFT + c)))
        c++;
    size_t cap = (size_t)1 << (CLASS_MIN_SHIFT + c);
    if (len > cap)
        return NULL;
    struct frame *f = l->pool[c];
    if (f)
        l->pool[c] = f->next;
    else if ((f = malloc(sizeof *f + cap)))
        e->st.allocs++;
    else
        return NULL;
    f->cls = (uint8_t)c;
    f->len = len;
    f->corrupted = false;
    return f;
}

static void frame_put(synack_memlink *l, struct frame *f)
{
    f->next = l->pool[f->cls];
    l->pool[f->cls] = f;
}

/* ---- heap of frames in flight ---- */

static bool before(const struct slot *a, const struct slot *b)
{
    return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static int heap_push(synack_memlink *l, struct slot s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct slot *h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        l->ends[s.from].st.allocs++;
        l->heap = h;
        l->cap = cap;
    }
    size_t i = l->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&s, &l->heap[p]))
            break;
        l->heap[i] = l->heap[p];
        i = p;
    }
    l->heap[i] = s;
    return 0;
}

static struct slot heap_pop(synack_memlink *l)
{
    struct slot top = l->heap[0], last = l->heap[--l->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->n)
            break;
        if (c + 1 < l->n && before(&l->heap[c + 1], &l->heap[c]))
            c++;
        if (!before(&l->heap[c], &last))
            break;
        l->heap[i] = l->heap[c];
        i = c;
    }
    if (l->n)
        l->heap[i] = last;
    return top;
}

/* ---- FIFO of frames in send order ---- */

static int fifo_push(struct mem_end *e, struct slot s)
{
    if (e->f_len == e->f_cap) {
        size_t cap = e->f_cap ? e->f_cap * 2 : 256;
        struct slot *r = malloc(cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        e->st.allocs++;
        for (size_t i = 0; i < e->f_len; i++)
            r[i] = e->fifo[(e->f_head + i) % e->f_cap];
        free(e->fifo);
        e->fifo = r;
        e->f_cap = cap;
        e->f_head = 0;
    }
    e->fifo[(e->f_head + e->f_len) % e->f_cap] = s;
    e->f_len++;
    return 0;
}

static const struct slot *fifo_head(const struct mem_end *e) { return e->f_len ? &e->fifo[e->f_head] : NULL; }

static struct slot fifo_pop(struct mem_end *e)
{
    struct slot s = e->fifo[e->f_head];
    e->f_head = e->f_head + 1 == e->f_cap ? 0 : e->f_head + 1;
    e->f_len--;
    return s;
}

/* The earliest frame on the link: 0 or 1 for a ring head, 2 for the heap
 * top, -1 for none. */
static int earliest(const synack_memlink *l, const struct slot **out)
{
    const struct slot *best = l->n ? &l->heap[0] : NULL;
    int which = best ? 2 : -1;
    for (int i = 0; i < 2; i++) {
        const struct slot *h = fifo_head(&l->ends[i]);
        if (h && (!best || before(h, best))) {
            best = h;
            which = i;
        }
    }
    *out = best;
    return which;
}

/* ---- the rate-limited queue ---- */

static void queue_expire(struct mem_end *e, uint64_t now_ns)
{
    while (e->q_len && e->q[e->q_head].done_ns <= now_ns) {
        e->q_bytes -= e->q[e->q_head].len;
        e->q_head = (e->q_head + 1) % e->q_cap;
        e->q_len--;
    }
}

static int queue_add(struct mem_end *e, uint64_t done_ns, size_t len)
{
    if (e->q_len == e->q_cap) {
        size_t cap = e->q_cap ? e->q_cap * 2 : 64;
        struct queued *q = malloc(cap * sizeof *q);
        if (!q)
            return -ENOMEM;
        e->st.allocs++;
        for (size_t i = 0; i < e->q_len; i++)
            q[i] = e->q[(e->q_head + i) % e->q_cap];
        free(e->q);
        e->q = q;
        e->q_cap = cap;
        e->q_head = 0;
    }
    e->q[(e->q_head + e->q_len) % e->q_cap] = (struct queued){done_ns, (uint32_t)len};
    e->q_len++;
    e->q_bytes += len;
    return 0;
}

/* ---- sending ---- */

/* One copy of a frame from the queue on: tail drop, serialization, delay,
 * reordering, corruption. */
static int enqueue(struct mem_end *e, const uint8_t *data, size_t len, synack_time now)
{
    synack_memlink *l = e->link;
    const synack_link_faults *c = &e->fault.cfg;
    uint64_t now_ns = now * 1000u;
    uint64_t qf, qb;
    if (c->rate_bps) {
        queue_expire(e, now_ns);
        qf = e->q_len;
        qb = e->q_bytes;
    } else {
        qf = e->held;
        qb = e->held_bytes;
    }
    if ((c->queue_frames && qf + 1 > c->queue_frames) || (c->queue_bytes && qb + len > c->queue_bytes)) {
        e->st.queue_drops++;
        return 0;
    }
    if (len > (size_t)1 << (CLASS_MIN_SHIFT + CLASS_COUNT - 1))
        return -EMSGSIZE;
    struct frame *f = frame_get(l, e, len);
    if (!f)
        return -ENOMEM;
    memcpy(f->data, data, len);
    /* the stack left the TCP checksum to the link (SYNACK_OFFLOAD_TX_CSUM):
     * a frame the fault model may corrupt gets a real one first, so that
     * the receiver's check catches the damage */
    if (c->corrupt > 0)
        link_tcp_csum_fill(f->data, len);

    synack_time depart = now;
    if (c->rate_bps) {
        if (e->free_ns <= now_ns) {
            e->free_ns = now_ns;
            e->free_rem = 0;
        }
        /* len * 8e9 + rem: len is at most 128 KiB and rem below the rate,
         * far inside 64 bits. The remainder carries the fraction of a
         * nanosecond, so back-to-back frames never drift from the rate. */
        uint64_t bits_ns = (uint64_t)len * 8u * 1000000000u + e->free_rem;
        e->free_ns += bits_ns / c->rate_bps;
        e->free_rem = bits_ns % c->rate_bps;
        if (queue_add(e, e->free_ns, len) < 0) {
            frame_put(l, f);
            return -ENOMEM;
        }
        depart = (e->free_ns + 999u) / 1000u;
        qf++;
        qb += len;
    } else {
        qf++;
        qb += len;
    }
    if (qf > e->st.queue_peak_frames)
        e->st.queue_peak_frames = (uint32_t)qf;
    if (qb > e->st.queue_peak_bytes)
        e->st.queue_peak_bytes = (uint32_t)(qb > UINT32_MAX ? UINT32_MAX : qb);

    /* a fault-free direction draws nothing: the same frames, fewer steps */
    bool faults = e->fault.any;
    synack_time due = depart + l->delay + c->delay + (faults ? link_fault_jitter(&e->fault) : 0);
    /* a frame never passes one sent before it, whatever the jitter (or a
     * delay lowered mid-run): that keeps the ring in due order */
    if (due < e->last_due)
        due = e->last_due;
    e->last_due = due;
    if (faults && link_fault_mark_ce(&e->fault, f->data, len))
        e->st.ce_marked++;
    unsigned flipped = faults ? link_fault_corrupt(&e->fault, f->data, len) : 0;
    if (flipped) {
        f->corrupted = true;
        e->st.corrupted++;
        e->st.bits_flipped += flipped;
    }
    int r;
    if (faults && link_fault_reorder(&e->fault)) {
        e->st.reordered++;
        r = heap_push(l, (struct slot){due + c->reorder_delay, l->order++, f, e->idx});
    } else {
        r = fifo_push(e, (struct slot){due, l->order++, f, e->idx});
    }
    if (r < 0) {
        frame_put(l, f);
        return r;
    }
    e->held++;
    e->held_bytes += len;
    return 0;
}

static int mem_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct mem_end *e = ctx;
    synack_memlink *l = e->link;
    const synack_link_faults *c = &e->fault.cfg;
    /* A frame is due when it is sent plus delays; with no delay, rate,
     * jitter, reordering or capture nothing depends on when, so the clock
     * is not read (10 reads a connection in bench/connrate): the frame is
     * due at once, behind the ones before it. */
    bool timeless = !l->tee && !l->delay && !c->delay && !c->jitter && !c->rate_bps && c->reorder == 0;
    synack_time now = timeless ? e->last_due : l->clock(l->clock_ctx);
    e->st.frames++;
    e->st.bytes += len;
    if (e->down) {
        /* a link that is down loses everything, before the capture and
         * before any fault draws (so the fault pattern is not shifted) */
        e->st.down_drops++;
        return 0;
    }
    if (e->drop_next) {
        /* lost on the wire: the capture never sees it either */
        e->drop_next--;
        e->st.dropped++;
        return 0;
    }
    /* the capture is taken where the frame enters the link, before faults,
     * with the checksum the stack left to the link filled in */
    if (l->tee) {
        uint8_t *copy = malloc(len);
        if (copy) {
            memcpy(copy, frame, len);
            link_tcp_csum_fill(copy, len);
            synack_pcap_write(l->tee, copy, len, now);
            free(copy);
        }
    }
    int lost = e->fault.any ? link_fault_lose(&e->fault) : 0;
    if (lost) {
        if (lost == 1)
            e->st.lost++;
        else
            e->st.burst_lost++;
        return 0;
    }
    int r = enqueue(e, frame, len, now);
    if (r == 0 && e->fault.any && link_fault_duplicate(&e->fault)) {
        e->st.duplicated++;
        r = enqueue(e, frame, len, now);
    }
    return r;
}

synack_link_ops synack_memlink_ops(void)
{
    return (synack_link_ops){.transmit = mem_transmit};
}

void *synack_memlink_end(synack_memlink *l, int end)
{
    return (end == 0 || end == 1) ? &l->ends[end] : NULL;
}

void synack_memlink_attach(synack_memlink *l, int end, synack_stack *s, int ifindex)
{
    if (end != 0 && end != 1)
        return;
    l->ends[end].stack = s;
    l->ends[end].ifindex = ifindex;
    /* frames stay in this process: the checksum is computed only where a
     * capture or a corrupting fault needs it (link_tcp_csum_fill) */
    if (s)
        synack_iface_set_offload(s, ifindex, SYNACK_OFFLOAD_TX_CSUM);
}

synack_time synack_memlink_next(const synack_memlink *l)
{
    const struct slot *s;
    return earliest(l, &s) < 0 ? SYNACK_TIME_NEVER : s->due;
}

size_t synack_memlink_deliver(synack_memlink *l, synack_time now)
{
    size_t n = 0;
    const struct slot *top;
    int which = earliest(l, &top);
    while (which >= 0 && top->due <= now) {
        struct slot s = which == 2 ? heap_pop(l) : fifo_pop(&l->ends[which]);
        /* the next frame is found now, so that the stack's first read of
         * its headers, straight after this one, is already on its way (a
         * hint); only a frame sent meanwhile (l->order moves) can change
         * which one it is */
        which = earliest(l, &top);
        if (which >= 0)
            __builtin_prefetch(top->f->data);
        uint64_t order = l->order;
        struct mem_end *from = &l->ends[s.from], *to = &l->ends[1 - s.from];
        from->held--;
        from->held_bytes -= s.f->len;
        from->st.delivered++;
        from->st.delivered_bytes += s.f->len;
        if (to->stack)
            synack_input_at(to->stack, to->ifindex, s.f->data, s.f->len, now, /* arrived by now */
                            s.f->corrupted ? 0 : SYNACK_RX_CSUM_OK);
        frame_put(l, s.f);
        n++;
        if (l->order != order)
            which = earliest(l, &top);
    }
    return n;
}

int synack_memlink_pcap(synack_memlink *l, const char *path)
{
    if (!path)
        return -EINVAL;
    if (l->tee)
        return -EALREADY;
    return synack_pcap_open(path, &l->tee);
}

void synack_memlink_drop_next(synack_memlink *l, int end, unsigned n)
{
    if (end == 0 || end == 1)
        l->ends[end].drop_next = n;
}

int synack_memlink_set_faults(synack_memlink *l, int end, const synack_link_faults *f)
{
    if (!l || (end != 0 && end != 1))
        return -EINVAL;
    return link_fault_set(&l->ends[end].fault, f, end);
}

void synack_memlink_stats(const synack_memlink *l, int end, synack_link_stats *out)
{
    if (!out)
        return;
    if (!l || (end != 0 && end != 1)) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = l->ends[end].st;
}

void synack_memlink_set_down(synack_memlink *l, int end, bool down)
{
    if (l && (end == 0 || end == 1))
        l->ends[end].down = down;
}
