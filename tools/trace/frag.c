#include "frag.h"

#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"

struct piece {
    uint32_t lo, hi; /* payload range the IP header states */
    uint32_t cap_hi; /* end of the bytes actually captured (lo..hi) */
};

struct tr_frag_dgram {
    struct tr_frag_dgram *prev, *next;
    uint8_t af, proto;
    uint8_t src[16], dst[16];
    uint32_t id;
    int64_t first_ts; /* the timeout runs from the first fragment (RFC 791) */
    uint8_t hdr[60];
    uint8_t hdr_len; /* 0 until the fragment at offset 0 arrives */
    bool have_last;
    uint32_t total; /* payload length, known from the last fragment */
    struct piece piece[TR_FRAG_PIECES_MAX];
    unsigned npiece;
    uint8_t *buf;
    size_t cap;
};

void tr_frags_init(struct tr_frags *f)
{
    memset(f, 0, sizeof *f);
}

static void dgram_drop(struct tr_frags *f, struct tr_frag_dgram *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        f->head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        f->tail = d->prev;
    f->mem -= sizeof *d + d->cap;
    f->ndgram--;
    free(d->buf);
    free(d);
}

void tr_frags_free(struct tr_frags *f)
{
    while (f->head)
        dgram_drop(f, f->head);
    free(f->out);
    f->out = NULL;
}

static int64_t timeout(const struct tr_frag_dgram *d)
{
    return d->af == 4 ? TR_FRAG_TIMEOUT4_NS : TR_FRAG_TIMEOUT6_NS;
}

static void expire(struct tr_frags *f)
{
    /* Oldest first, but the two timeouts differ: look at every one. */
    for (struct tr_frag_dgram *d = f->head, *n; d; d = n) {
        n = d->next;
        if (f->now - d->first_ts > timeout(d)) {
            f->st.timeouts++;
            dgram_drop(f, d);
        }
    }
}

/* Makes room for `need` more bytes by evicting the oldest datagrams other
 * than keep. Returns false when even that is not enough. */
static bool make_room(struct tr_frags *f, size_t need, const struct tr_frag_dgram *keep)
{
    while (f->mem + need > TR_FRAG_MEM_MAX) {
        struct tr_frag_dgram *victim = f->head == keep ? (keep ? keep->next : NULL) : f->head;
        if (!victim)
            return false;
        f->st.evicted++;
        dgram_drop(f, victim);
    }
    return true;
}

static bool same_key(const struct tr_frag_dgram *d, const struct tr_frag_in *in)
{
    size_t n = in->af == 4 ? 4 : 16;
    /* RFC 791: source, destination, protocol and identification; RFC 8200:
     * source, destination and identification. */
    return d->af == in->af && d->id == in->id && (in->af == 6 || d->proto == in->proto) &&
           !memcmp(d->src, in->src, n) && !memcmp(d->dst, in->dst, n);
}

static struct tr_frag_dgram *lookup(struct tr_frags *f, const struct tr_frag_in *in)
{
    for (struct tr_frag_dgram *d = f->head; d; d = d->next)
        if (same_key(d, in))
            return d;
    if (f->ndgram >= TR_FRAG_DGRAM_MAX) {
        f->st.evicted++;
        dgram_drop(f, f->head);
    }
    if (!make_room(f, sizeof(struct tr_frag_dgram), NULL))
        return NULL;
    struct tr_frag_dgram *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->af = in->af;
    d->proto = in->proto;
    memcpy(d->src, in->src, 16);
    memcpy(d->dst, in->dst, 16);
    d->id = in->id;
    d->first_ts = f->now;
    d->prev = f->tail;
    if (f->tail)
        f->tail->next = d;
    else
        f->head = d;
    f->tail = d;
    f->ndgram++;
    f->mem += sizeof *d;
    return d;
}

/* Builds the unfragmented datagram when every byte from 0 to the end has
 * arrived; returns false while a hole remains. */
static bool complete(struct tr_frags *f, struct tr_frag_dgram *d, size_t *caplen, size_t *len)
{
    if (!d->have_last || !d->hdr_len)
        return false;
    uint32_t at = 0, captured = 0;
    bool cap_ok = true;
    for (unsigned i = 0; i < d->npiece; i++) {
        if (d->piece[i].lo != at)
            return false;
        if (cap_ok) {
            captured = d->piece[i].cap_hi;
            cap_ok = d->piece[i].cap_hi == d->piece[i].hi;
        }
        at = d->piece[i].hi;
    }
    if (at != d->total)
        return false;
    uint8_t *o = f->out;
    memcpy(o, d->hdr, d->hdr_len);
    memcpy(o + d->hdr_len, d->buf, captured);
    if (d->af == 4) {
        wire_put16(o + 2, (uint16_t)(d->hdr_len + d->total));
        wire_put16(o + 6, (uint16_t)(wire_get16(o + 6) & 0x4000)); /* keep DF; MF and offset cleared */
    } else {
        wire_put16(o + 4, (uint16_t)d->total);
        o[6] = d->proto; /* the Fragment header is gone */
    }
    *caplen = d->hdr_len + (size_t)captured;
    *len = d->hdr_len + (size_t)d->total;
    return true;
}

static void drop(struct tr_frags *f, struct tr_frag_dgram *d, uint64_t *counter)
{
    (*counter)++;
    dgram_drop(f, d);
}

int tr_frags_add(struct tr_frags *f, int64_t now, const struct tr_frag_in *in, const uint8_t **dgram,
                 size_t *caplen, size_t *len)
{
    if (!f->now_set || now > f->now) {
        f->now = now;
        f->now_set = true;
    }
    f->st.fragments++;
    expire(f);
    if (!f->out && !(f->out = malloc(TR_FRAG_OUT_MAX)))
        return -1;
    /* Every fragment but the last carries a multiple of 8 bytes (the offset
     * unit); an empty one adds nothing. */
    if (in->len == 0 || (in->mf && in->len % 8) || in->caplen > in->len || in->hdr_len < 20 || in->hdr_len > 60) {
        f->st.malformed++;
        return 0;
    }
    struct tr_frag_dgram *d = lookup(f, in);
    if (!d)
        return -1;
    uint32_t lo = in->off, hi = in->off + (uint32_t)in->len;
    /* The reassembled datagram may not exceed 65535 bytes (the "ping of
     * death"); the IPv6 payload length has the same bound. */
    if (hi + (in->af == 4 ? in->hdr_len : 0) > 65535) {
        drop(f, d, &f->st.too_big);
        return 0;
    }
    unsigned at = 0;
    for (unsigned i = 0; i < d->npiece; i++) {
        const struct piece *p = &d->piece[i];
        if (p->lo == lo && p->hi == hi) {
            f->st.duplicates++; /* the first copy stands */
            return 0;
        }
        if (lo < p->hi && p->lo < hi) {
            drop(f, d, &f->st.overlaps);
            return 0;
        }
        if (p->lo < lo)
            at = i + 1;
    }
    if (!in->mf) {
        if ((d->have_last && d->total != hi) || (d->npiece && d->piece[d->npiece - 1].hi > hi)) {
            drop(f, d, &f->st.overlaps); /* two different ends */
            return 0;
        }
        d->have_last = true;
        d->total = hi;
    } else if (d->have_last && hi > d->total) {
        drop(f, d, &f->st.overlaps);
        return 0;
    }
    if (d->npiece == TR_FRAG_PIECES_MAX) {
        f->st.malformed++;
        dgram_drop(f, d);
        return 0;
    }
    if (hi > d->cap) {
        /* Doubling, within the 64 KiB a datagram can reach. */
        size_t nc = d->cap * 2 < 65536 ? d->cap * 2 : 65536;
        if (nc < 1024)
            nc = 1024;
        if (nc < hi)
            nc = hi;
        if (!make_room(f, nc - d->cap, d)) {
            drop(f, d, &f->st.evicted);
            return 0;
        }
        uint8_t *nb = realloc(d->buf, nc);
        if (!nb)
            return -1;
        f->mem += nc - d->cap;
        d->buf = nb;
        d->cap = nc;
    }
    memcpy(d->buf + lo, in->data, in->caplen);
    memmove(&d->piece[at + 1], &d->piece[at], (d->npiece - at) * sizeof d->piece[0]);
    d->piece[at] = (struct piece){lo, hi, lo + (uint32_t)in->caplen};
    d->npiece++;
    if (lo == 0) {
        memcpy(d->hdr, in->hdr, in->hdr_len);
        d->hdr_len = (uint8_t)in->hdr_len;
        d->proto = in->proto; /* RFC 8200 §4.5: the first fragment's Next Header */
    }
    if (!complete(f, d, caplen, len))
        return 0;
    *dgram = f->out;
    f->out_caplen = *caplen;
    f->out_len = *len;
    f->st.reassembled++;
    dgram_drop(f, d);
    return 1;
}
