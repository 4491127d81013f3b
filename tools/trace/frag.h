/* IP fragment reassembly for the capture analyzer (IPv4, RFC 791 §3.2;
 * IPv6 Fragment header, RFC 8200 §4.5), so a TCP segment sent in fragments
 * is analysed at the frame that completes it, as Wireshark does.
 *
 * Hostile input is expected: memory is bounded (TR_FRAG_MEM_MAX bytes and
 * TR_FRAG_DGRAM_MAX datagrams in progress, the oldest evicted first), a
 * datagram not complete within its timeout is dropped, and a datagram with
 * overlapping fragments is dropped whole (RFC 5722 for IPv6; Linux does the
 * same for IPv4 since 4.19), except that an exact duplicate of a fragment
 * already held is ignored. */
#ifndef SYNACK_TRACE_FRAG_H
#define SYNACK_TRACE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TR_FRAG_MEM_MAX (4u << 20)  /* Linux's ipfrag_high_thresh */
#define TR_FRAG_DGRAM_MAX 1024      /* datagrams being reassembled at once */
#define TR_FRAG_PIECES_MAX 64       /* fragments per datagram */
#define TR_FRAG_TIMEOUT4_NS (30 * 1000000000ll) /* Linux ipfrag_time */
#define TR_FRAG_TIMEOUT6_NS (60 * 1000000000ll) /* RFC 8200 §4.5 */
#define TR_FRAG_OUT_MAX (65535u + 60u)

struct tr_frag_stats {
    uint64_t fragments;   /* fragments received */
    uint64_t reassembled; /* datagrams completed */
    uint64_t duplicates;  /* exact copies of a fragment already held, ignored */
    uint64_t overlaps;    /* datagrams dropped for overlapping or conflicting fragments */
    uint64_t too_big;     /* datagrams dropped for reaching past 65535 bytes */
    uint64_t malformed;   /* fragments dropped: not a multiple of 8 bytes, empty, too many */
    uint64_t timeouts;    /* datagrams dropped incomplete after their timeout */
    uint64_t evicted;     /* datagrams dropped incomplete to stay within the memory bound */
};

struct tr_frag_dgram;

struct tr_frags {
    struct tr_frag_dgram *head, *tail; /* oldest first */
    size_t ndgram, mem;
    int64_t now;
    bool now_set;
    uint8_t *out; /* the last reassembled datagram */
    size_t out_caplen, out_len;
    struct tr_frag_stats st;
};

/* One fragment as the IP decoder saw it. */
struct tr_frag_in {
    uint8_t af;            /* 4 or 6 */
    const uint8_t *hdr;    /* IPv4 header with options, or the IPv6 fixed header */
    size_t hdr_len;        /* 20..60, or 40 */
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t proto;         /* IPv4 protocol, or the Fragment header's next header */
    uint32_t off;          /* fragment offset in bytes */
    bool mf;               /* more fragments */
    const uint8_t *data;   /* the fragment's payload */
    size_t len;            /* its length per the IP header */
    size_t caplen;         /* the bytes of it that were captured (<= len) */
};

void tr_frags_init(struct tr_frags *f);
void tr_frags_free(struct tr_frags *f);

/* Takes one fragment at capture time now. Returns 1 when it completed a
 * datagram: *dgram then points at a whole unfragmented IP datagram (valid
 * until the next call), *caplen bytes of it captured and *len its length.
 * Returns 0 when the fragment is held or dropped (counted in f->st), -1 when
 * out of memory. */
int tr_frags_add(struct tr_frags *f, int64_t now, const struct tr_frag_in *in, const uint8_t **dgram,
                 size_t *caplen, size_t *len);

#endif
