/* Software GSO for the TUN link (see link.h). The kernel's GSO rules decide
 * what may be joined (net/ipv4/tcp_offload.c): every segment but the last
 * carries exactly gso_size bytes, headers are equal but for the sequence
 * number, and flags like PSH belong to the last segment only, so a batch
 * ends after a short or PSH segment. */
#include <string.h>

#include "link.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10

/* TCP data with no IP options and no fragments; returns the header length
 * (IP + TCP) or 0. */
static size_t joinable(const uint8_t *f, size_t len)
{
    if (len < 40 || f[0] != 0x45 || f[9] != 6 || (wire_get16(f + 6) & 0x3fff) || wire_get16(f + 2) != len)
        return 0;
    size_t thl = (size_t)(f[32] >> 4) * 4;
    uint8_t flags = f[33];
    if (thl < 20 || 20 + thl >= len || (flags & ~(TCP_FLAG_ACK | TCP_FLAG_PSH)) || !(flags & TCP_FLAG_ACK))
        return 0;
    return 20 + thl;
}

bool gso_start(struct gso_batch *b, const uint8_t *frame, size_t len)
{
    size_t hl = joinable(frame, len);
    if (!hl)
        return false;
    memcpy(b->pkt, frame, len);
    b->len = len;
    b->hl = hl;
    b->mss = len - hl;
    b->next_seq = wire_get32(frame + 24) + (uint32_t)b->mss;
    b->nseg = 1;
    b->closed = (frame[33] & TCP_FLAG_PSH) != 0;
    return true;
}

bool gso_append(struct gso_batch *b, const uint8_t *f, size_t len)
{
    if (!b->nseg || b->closed || joinable(f, len) != b->hl || len - b->hl > b->mss ||
        b->len + (len - b->hl) > GSO_MAX || wire_get32(f + 24) != b->next_seq)
        return false;
    const uint8_t *h = b->pkt;
    /* IP: version to TOS, flags, TTL, protocol, addresses (not length, ID
     * or checksum); TCP: ports, ack, offset, window, urgent pointer and
     * options equal; flags equal but for PSH on the newcomer. */
    if (h[1] != f[1] || h[6] != f[6] || h[8] != f[8] || memcmp(h + 12, f + 12, 8) || memcmp(h + 20, f + 20, 4) ||
        memcmp(h + 28, f + 28, 5) || (h[33] | TCP_FLAG_PSH) != (f[33] | TCP_FLAG_PSH) ||
        memcmp(h + 34, f + 34, 2) || memcmp(h + 38, f + 38, b->hl - 38))
        return false;
    size_t pay = len - b->hl;
    memcpy(b->pkt + b->len, f + b->hl, pay);
    b->len += pay;
    b->next_seq += (uint32_t)pay;
    b->nseg++;
    b->pkt[33] |= f[33] & TCP_FLAG_PSH;
    b->closed = pay < b->mss || (f[33] & TCP_FLAG_PSH);
    return true;
}

size_t gso_finish(struct gso_batch *b, uint8_t vh[GSO_VNET_HDR])
{
    memset(vh, 0, GSO_VNET_HDR);
    size_t len = b->len;
    if (b->nseg > 1) {
        uint8_t *p = b->pkt;
        wire_put16(p + 2, (uint16_t)len);
        wire_put16(p + 10, 0);
        wire_put16(p + 10, wire_csum_fold(wire_csum_add(0, p, 20)));
        /* CHECKSUM_PARTIAL, as Linux's own TSO packets: the TCP checksum
         * field holds the pseudo-header sum (not complemented) and the
         * kernel completes each segment's sum after cutting it. */
        uint16_t pseudo = (uint16_t)~wire_csum_fold(
            wire_csum_pseudo_ipv4(wire_get32(p + 12), wire_get32(p + 16), 6, (uint32_t)(len - 20)));
        wire_put16(p + 36, pseudo);
        vh[0] = 1;                          /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
        vh[1] = 1;                          /* VIRTIO_NET_HDR_GSO_TCPV4 */
        vh[2] = (uint8_t)b->hl;             /* hdr_len, little-endian */
        vh[3] = (uint8_t)(b->hl >> 8);
        vh[4] = (uint8_t)b->mss;            /* gso_size */
        vh[5] = (uint8_t)(b->mss >> 8);
        vh[6] = 20;                         /* csum_start: the TCP header */
        vh[8] = 16;                         /* csum_offset: its checksum field */
    }
    b->nseg = 0;
    b->len = 0;
    return len;
}
