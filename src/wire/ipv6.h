/* IPv6 header codec (RFC 8200) with the extension-header chain walked to the
 * upper-layer header. A parse yields a view into the caller's buffer. */
#ifndef SYNACK_WIRE_IPV6_H
#define SYNACK_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_IPV6_HDR_LEN 40

#define WIRE_IPV6_HOPOPTS 0
#define WIRE_IPV6_ROUTING 43
#define WIRE_IPV6_FRAGMENT 44
#define WIRE_IPV6_ESP 50
#define WIRE_IPV6_AH 51
#define WIRE_IPV6_NONXT 59
#define WIRE_IPV6_DSTOPTS 60

/* parse flags */
#define WIRE_IPV6_ALLOW_TRUNC 0x2u /* captures: accept payload_len > buffer, mark truncated */

struct wire_ipv6 {
    uint8_t tclass;
    uint32_t flow;     /* 20-bit flow label */
    uint16_t plen;     /* payload length field (extension headers included) */
    uint8_t hop_limit;
    uint8_t src[16], dst[16];
    uint8_t proto;     /* upper-layer protocol after the extension headers */
    uint8_t n_ext;     /* extension headers skipped */
    bool has_frag;     /* a Fragment header was present */
    bool atomic;       /* ... with offset 0 and M=0 (RFC 6946): not really a fragment */
    uint16_t frag_off; /* bytes */
    bool mf;
    uint32_t frag_id;
    const uint8_t *payload; /* upper-layer header */
    size_t payload_len;     /* bytes present, at most what plen allows */
    size_t upper_len;       /* upper-layer length per plen (may exceed payload_len) */
    bool truncated;
};

/* Parses the fixed header and walks Hop-by-Hop, Routing, Fragment,
 * Destination Options and AH headers. A jumbogram (plen 0) is WIRE_EUNSUPP. */
int wire_ipv6_parse(const uint8_t *buf, size_t len, unsigned flags, struct wire_ipv6 *out);

/* Writes a 40-byte header without extensions for payload_len bytes of
 * h->proto. Returns 40 or WIRE_ESPACE. */
int wire_ipv6_emit(uint8_t *buf, size_t cap, const struct wire_ipv6 *h, size_t payload_len);

#endif
