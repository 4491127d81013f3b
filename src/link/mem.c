/* The in-memory link: two interfaces back to back, a FIFO each way with a
 * fixed one-way delay, and an optional pcap tee of everything sent. Frames
 * are copied in (the stack reuses its transmit buffer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"

struct frame {
    struct frame *next;
    synack_time due;
    size_t len;
    uint8_t data[];
};

struct mem_end {
    struct synack_memlink *link;
    int idx;
    synack_stack *stack; /* receives what the other end sends */
    int ifindex;
    unsigned drop_next;
    struct frame *head, *tail; /* frames sent from this end */
};

struct synack_memlink {
    synack_time delay;
    synack_clock_fn clock;
    void *clock_ctx;
    struct mem_end ends[2];
    synack_pcap *tee;
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
    }
    return l;
}

void synack_memlink_free(synack_memlink *l)
{
    if (!l)
        return;
    for (int i = 0; i < 2; i++)
        while (l->ends[i].head) {
            struct frame *f = l->ends[i].head;
            l->ends[i].head = f->next;
            free(f);
        }
    synack_pcap_close(l->tee);
    free(l);
}

static int mem_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct mem_end *e = ctx;
    synack_memlink *l = e->link;
    synack_time now = l->clock(l->clock_ctx);
    if (e->drop_next) {
        /* lost on the wire: the capture never sees it either */
        e->drop_next--;
        return 0;
    }
    if (l->tee)
        synack_pcap_write(l->tee, frame, len, now);
    struct frame *f = malloc(sizeof *f + len);
    if (!f)
        return -ENOMEM;
    f->next = NULL;
    f->due = now + l->delay;
    f->len = len;
    memcpy(f->data, frame, len);
    if (e->tail)
        e->tail->next = f;
    else
        e->head = f;
    e->tail = f;
    return 0;
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
}

synack_time synack_memlink_next(const synack_memlink *l)
{
    synack_time t = SYNACK_TIME_NEVER;
    for (int i = 0; i < 2; i++)
        if (l->ends[i].head && l->ends[i].head->due < t)
            t = l->ends[i].head->due;
    return t;
}

size_t synack_memlink_deliver(synack_memlink *l, synack_time now)
{
    size_t n = 0;
    for (;;) {
        /* the earlier of the two heads, so both directions interleave in
         * the order they were sent */
        struct mem_end *from = NULL;
        for (int i = 0; i < 2; i++) {
            struct frame *f = l->ends[i].head;
            if (f && f->due <= now && (!from || f->due < from->head->due))
                from = &l->ends[i];
        }
        if (!from)
            return n;
        struct frame *f = from->head;
        from->head = f->next;
        if (!from->head)
            from->tail = NULL;
        struct mem_end *to = &l->ends[1 - from->idx];
        if (to->stack)
            synack_input(to->stack, to->ifindex, f->data, f->len);
        free(f);
        n++;
    }
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
