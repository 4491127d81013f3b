#include "checksum.h"

#include "bytes.h"

uint32_t wire_csum_add(uint32_t acc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t sum = acc;
    while (len >= 8) {
        sum += (uint64_t)wire_get32(p) + wire_get32(p + 4);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        sum += wire_get16(p);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)p[0] << 8;
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
