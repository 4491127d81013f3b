/* IPv4 header codec (RFC 791). A parse yields a view into the caller's
 * buffer; nothing is copied and nothing is kept. */
#ifndef SYNACK_WIRE_IPV4_H
#define SYNACK_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_IPV4_HDR_MIN 20
#define WIRE_IPV4_HDR_MAX 60

#define WIRE_IPPROTO_ICMP 1
#define WIRE_IPPROTO_TCP 6
#define WIRE_IPPROTO_UDP 17
#define WIRE_IPPROTO_ICMPV6 58

/* parse flags */
#define WIRE_IPV4_VERIFY_CSUM 0x1u /* reject a header whose checksum fails */
#define WIRE_IPV4_ALLOW_TRUNC 0x2u /* captures: accept total_len > buffer, mark truncated */

struct wire_ipv4 {
    uint8_t hdr_len; /* bytes, 20..60 */
    uint8_t tos;     /* DSCP << 2 | ECN */
    uint16_t total_len;
    uint16_t id;
    bool df, mf;
    uint16_t frag_off; /* in bytes */
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;
    uint32_t src, dst; /* host byte order */
    const uint8_t *options;
    size_t options_len;
    const uint8_t *payload;
    size_t payload_len; /* bytes present in the buffer, at most total_len - hdr_len */
    bool truncated;     /* buffer held less than total_len */
};

int wire_ipv4_parse(const uint8_t *buf, size_t len, unsigned flags, struct wire_ipv4 *out);

/* Writes a header without options for a payload of payload_len bytes and
 * fills in its checksum. Returns the header length (20) or WIRE_ESPACE. */
int wire_ipv4_emit(uint8_t *buf, size_t cap, const struct wire_ipv4 *h, size_t payload_len);

#endif
