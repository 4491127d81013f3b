#include "checksum.h"

#include <string.h>

#include "bytes.h"

/* Sums in the machine's own byte order, eight bytes a load, two running
 * sums, and swaps the folded 16-bit result once at the end: the
 * one's-complement sum does not depend on byte order (RFC 1071 §2(B)).
 * Each step adds at most 2^33 to a 64-bit sum, so nothing is lost to
 * carries for any buffer that fits in memory. */
uint32_t wire_csum_add(uint32_t acc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s0 = 0, s1 = 0;
    while (len >= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        s0 += (a & 0xffffffffu) + (a >> 32);
        s1 += (b & 0xffffffffu) + (b >> 32);
        p += 16;
        len -= 16;
    }
    uint64_t sum = s0 + s1;
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        sum += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        sum += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* the last odd byte is the first byte of a word padded with zero */
        uint16_t h = 0;
        memcpy(&h, p, 1);
        sum += h;
    }
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    sum = ((sum & 0xffu) << 8) | (sum >> 8);
#endif
    sum += acc;
    while (sum >> 32)
        sum = (sum & 0xffffffffu) + (sum >> 32);
    return (uint32_t)sum;
}

uint16_t wire_csum_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

uint32_t wire_csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
    uint64_t sum = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + (len >> 16) +
                   (len & 0xffffu);
    while (sum >> 32)
        sum = (sum & 0xffffffffu) + (sum >> 32);
    return (uint32_t)sum;
}

uint32_t wire_csum_pseudo_ipv6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                               uint32_t len)
{
    uint8_t tail[8] = {0};
    wire_put32(tail, len);
    tail[7] = next_header;
    uint32_t acc = wire_csum_add(0, src, 16);
    acc = wire_csum_add(acc, dst, 16);
    return wire_csum_add(acc, tail, sizeof tail);
}
