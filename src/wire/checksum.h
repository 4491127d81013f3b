/* The Internet checksum (RFC 1071), computed incrementally so a header, a
 * pseudo-header and a payload in separate buffers fold into one sum. */
#ifndef SYNACK_WIRE_CHECKSUM_H
#define SYNACK_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes to a running 32-bit one's-complement accumulator. An odd
 * length is only allowed on the last call of a sum. */
uint32_t wire_csum_add(uint32_t acc, const void *data, size_t len);

/* Folds the accumulator to 16 bits and complements it: the value to store. */
uint16_t wire_csum_fold(uint32_t acc);

/* IPv4 pseudo-header (RFC 9293 §3.1) for TCP/UDP: addresses in host order. */
uint32_t wire_csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);

/* IPv6 pseudo-header (RFC 8200 §8.1). */
uint32_t wire_csum_pseudo_ipv6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                               uint32_t len);

#endif
