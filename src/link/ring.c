/* The ring link: two interfaces back to back for two stacks that run in two
 * threads, as a veth pair joins two namespaces. Each direction is a
 * single-producer single-consumer byte ring in shared memory: the sending
 * end's thread writes a frame and publishes it with one release store, the
 * receiving end's thread takes every published frame in one pass and hands
 * back the space with one release store. No lock and no system call on the
 * way; frames of a burst lie next to each other, so the receiver's reads
 * walk cache lines the sender just wrote.
 *
 * Each side keeps a private copy of the other's index and reads the shared
 * one only when its copy says the ring is full (sender) or empty (receiver),
 * the usual SPSC queue arrangement (DPDK's rte_ring, Linux's ptr_ring): the
 * tail crosses between the cores once per burst the receiver takes. The
 * head crosses once per frame, or with SYNACK_RING_BATCH once per flush: the
 * frames of one poll published by one store.
 *
 * A record is an 8-byte header (the frame's length) and the frame, padded
 * to 8 bytes. A frame never wraps: when it does not fit before the end of
 * the buffer a pad record fills the rest and the frame starts at 0.
 *
 * Waking a sleeping receiver (SYNACK_RING_WAKEUP) is Dekker's pattern: the
 * receiver announces it sleeps and then looks at the ring once more; the
 * sender publishes and then looks at the announcement; sequentially
 * consistent ordering on both sides means at least one of them sees the
 * other, so a frame is never left behind a sleeping receiver. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "synack.h"

#define REC_HDR 8u
#define REC_PAD UINT32_MAX
#define LINE 64
#define RING_BATCH_MAX 32 /* frames written before a batching sender publishes anyway */

/* Each index has a line to itself, apart from the fields only its writer
 * uses: a receiver with nothing to do reads head on every turn, and the
 * sender's next write to a field beside it would wait for the line to come
 * back (bench/connrate -2: 8 % of the client's time, in ring_transmit). */
struct ring_dir {
    _Alignas(LINE) _Atomic uint64_t head; /* bytes ever published */
    /* the sender's own */
    _Alignas(LINE) uint64_t written; /* bytes ever written: head, or ahead of it while batching */
    unsigned unpublished;            /* frames written since head was last stored */
    uint64_t tail_seen;              /* the sender's copy of tail */
    uint64_t frames, bytes, refused, oversize;
    _Alignas(LINE) _Atomic uint64_t tail; /* bytes ever given back */
    /* the receiver's own */
    _Alignas(LINE) uint64_t head_seen; /* the receiver's copy of head */
    uint64_t delivered;
    /* set by a receiver about to sleep, read by the sender after each
     * publish (SYNACK_RING_WAKEUP) */
    _Alignas(LINE) _Atomic int sleeping;
    /* read by both on every frame, written once */
    _Alignas(LINE) uint8_t *buf;
    int efd;
};

struct ring_end {
    synack_ringlink *link;
    struct ring_dir *out, *in;
    synack_stack *stack;
    int ifindex;
};

struct synack_ringlink {
    struct ring_dir dir[2]; /* dir[i]: from end i to end 1 - i */
    struct ring_end ends[2];
    size_t size, mask;
    uint32_t mtu;
    unsigned flags;
};

static size_t rec_len(size_t len) { return REC_HDR + ((len + 7u) & ~(size_t)7u); }

synack_ringlink *synack_ringlink_new(size_t bytes, uint32_t mtu, unsigned flags)
{
    if (mtu == 0)
        mtu = 1500;
    /* room for a few largest frames at any time, and a power of two so that
     * a position is an index by masking */
    if ((flags & ~(SYNACK_RING_WAKEUP | SYNACK_RING_BATCH)) || bytes < 4 * rec_len(mtu) || (bytes & (bytes - 1)) || mtu > 65535)
        return NULL;
    synack_ringlink *l = aligned_alloc(LINE, (sizeof *l + LINE - 1) / LINE * LINE);
    if (!l)
        return NULL;
    memset(l, 0, sizeof *l);
    l->size = bytes;
    l->mask = bytes - 1;
    l->mtu = mtu;
    l->flags = flags;
    for (int i = 0; i < 2; i++) {
        l->dir[i].efd = -1;
        l->ends[i] = (struct ring_end){.link = l, .out = &l->dir[i], .in = &l->dir[1 - i], .ifindex = -1};
    }
    for (int i = 0; i < 2; i++) {
        l->dir[i].buf = aligned_alloc(LINE, bytes);
        if (!l->dir[i].buf)
            goto fail;
        if ((flags & SYNACK_RING_WAKEUP) && (l->dir[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
            goto fail;
    }
    return l;
fail:
    synack_ringlink_free(l);
    return NULL;
}

void synack_ringlink_free(synack_ringlink *l)
{
    if (!l)
        return;
    for (int i = 0; i < 2; i++) {
        free(l->dir[i].buf);
        if (l->dir[i].efd >= 0)
            close(l->dir[i].efd);
    }
    free(l);
}

static void wake(struct ring_dir *d)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&d->sleeping, memory_order_relaxed) &&
        atomic_exchange_explicit(&d->sleeping, 0, memory_order_relaxed)) {
        uint64_t one = 1;
        /* the counter cannot overflow before the receiver reads it (2^64 - 2) */
        (void)!write(d->efd, &one, sizeof one);
    }
}

static void publish(struct ring_dir *d)
{
    d->unpublished = 0;
    atomic_store_explicit(&d->head, d->written, memory_order_release);
    if (d->efd >= 0)
        wake(d);
}

static int ring_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct ring_end *e = ctx;
    synack_ringlink *l = e->link;
    struct ring_dir *d = e->out;
    if (len == 0 || len > l->mtu) {
        d->oversize++;
        return -EMSGSIZE;
    }
    uint64_t pos = d->written;
    size_t need = rec_len(len), off = pos & l->mask, contig = l->size - off;
    size_t total = need + (contig < need ? contig : 0);
    if (l->size - (pos - d->tail_seen) < total) {
        d->tail_seen = atomic_load_explicit(&d->tail, memory_order_acquire);
        if (l->size - (pos - d->tail_seen) < total) {
            d->refused++;
            return -ENOBUFS; /* local congestion: TCP retries */
        }
    }
    if (contig < need) {
        uint32_t pad = REC_PAD;
        memcpy(d->buf + off, &pad, sizeof pad);
        pos += contig;
        off = 0;
    }
    uint32_t n = (uint32_t)len;
    memcpy(d->buf + off, &n, sizeof n);
    memcpy(d->buf + off + REC_HDR, frame, len);
    d->written = pos + need;
    d->frames++;
    d->bytes += len;
    /* batching: the frames of one poll go out with one store (one move of
     * the index's line to the other core), unless a batch grows long */
    if (!(l->flags & SYNACK_RING_BATCH) || ++d->unpublished >= RING_BATCH_MAX)
        publish(d);
    return 0;
}

synack_link_ops synack_ringlink_ops(void) { return (synack_link_ops){.transmit = ring_transmit}; }

void *synack_ringlink_end(synack_ringlink *l, int end)
{
    return l && (end == 0 || end == 1) ? &l->ends[end] : NULL;
}

void synack_ringlink_attach(synack_ringlink *l, int end, synack_stack *s, int ifindex)
{
    if (!l || (end != 0 && end != 1))
        return;
    l->ends[end].stack = s;
    l->ends[end].ifindex = ifindex;
    /* the frames never leave this process's memory: checksums as on Linux's
     * loopback and veth (CHECKSUM_PARTIAL, never computed) */
    if (s)
        synack_iface_set_offload(s, ifindex, SYNACK_OFFLOAD_TX_CSUM);
}

void synack_ringlink_flush(synack_ringlink *l, int end)
{
    if (!l || (end != 0 && end != 1))
        return;
    struct ring_dir *d = l->ends[end].out;
    if (d->unpublished)
        publish(d);
}

size_t synack_ringlink_pump(synack_ringlink *l, int end, synack_time now, size_t budget)
{
    if (!l || (end != 0 && end != 1))
        return 0;
    struct ring_end *e = &l->ends[end];
    struct ring_dir *d = e->in;
    uint64_t t = atomic_load_explicit(&d->tail, memory_order_relaxed);
    if (t == d->head_seen) {
        d->head_seen = atomic_load_explicit(&d->head, memory_order_acquire);
        if (t == d->head_seen)
            return 0;
    }
    size_t n = 0;
    while (t != d->head_seen && n < budget) {
        size_t off = t & l->mask;
        uint32_t len;
        memcpy(&len, d->buf + off, sizeof len);
        if (len == REC_PAD) {
            t += l->size - off;
            continue;
        }
        if (e->stack)
            synack_input_at(e->stack, e->ifindex, d->buf + off + REC_HDR, len, now, SYNACK_RX_CSUM_OK);
        t += rec_len(len);
        n++;
    }
    d->delivered += n;
    /* the space goes back only now: the stack read the frames in place */
    atomic_store_explicit(&d->tail, t, memory_order_release);
    return n;
}

bool synack_ringlink_pending(const synack_ringlink *l, int end)
{
    if (!l || (end != 0 && end != 1))
        return false;
    struct ring_dir *d = l->ends[end].in;
    return atomic_load_explicit(&d->tail, memory_order_relaxed) !=
           atomic_load_explicit(&d->head, memory_order_acquire);
}

int synack_ringlink_fd(const synack_ringlink *l, int end)
{
    if (!l || (end != 0 && end != 1) || !(l->flags & SYNACK_RING_WAKEUP))
        return -EINVAL;
    return l->ends[end].in->efd;
}

int synack_ringlink_arm(synack_ringlink *l, int end)
{
    if (!l || (end != 0 && end != 1) || !(l->flags & SYNACK_RING_WAKEUP))
        return -EINVAL;
    struct ring_dir *d = l->ends[end].in;
    uint64_t drained;
    while (read(d->efd, &drained, sizeof drained) > 0)
        ;
    atomic_store_explicit(&d->sleeping, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&d->head, memory_order_relaxed) != atomic_load_explicit(&d->tail, memory_order_relaxed)) {
        atomic_store_explicit(&d->sleeping, 0, memory_order_relaxed);
        return 0; /* frames came in meanwhile: pump, do not sleep */
    }
    return 1;
}

void synack_ringlink_stats(const synack_ringlink *l, int end, synack_ring_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!l || (end != 0 && end != 1))
        return;
    /* each counter is written by this end's thread alone */
    const struct ring_dir *d = l->ends[end].out;
    out->frames = d->frames;
    out->bytes = d->bytes;
    out->refused = d->refused;
    out->oversize = d->oversize;
    out->delivered = l->ends[end].in->delivered;
}
