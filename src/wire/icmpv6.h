/* ICMPv6 codec (RFC 4443). Like ICMPv4 but its checksum covers the IPv6
 * pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1), and an error quotes as much
 * of the offending packet as fits in the minimum MTU of 1280. */
#ifndef SYNACK_WIRE_ICMPV6_H
#define SYNACK_WIRE_ICMPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_ICMPV6_HDR_LEN 8

/* Types (RFC 4443 §2.1, RFC 4861 §4) */
#define WIRE_ICMPV6_DEST_UNREACH 1
#define WIRE_ICMPV6_PKT_TOO_BIG 2
#define WIRE_ICMPV6_TIME_EXCEEDED 3
#define WIRE_ICMPV6_PARAM_PROBLEM 4
#define WIRE_ICMPV6_ECHO_REQUEST 128
#define WIRE_ICMPV6_ECHO_REPLY 129
#define WIRE_ICMPV6_NEIGH_SOLICIT 135
#define WIRE_ICMPV6_NEIGH_ADVERT 136

/* Destination-unreachable codes (RFC 4443 §3.1) */
#define WIRE_ICMPV6_NO_ROUTE 0
#define WIRE_ICMPV6_ADM_PROHIBITED 1
#define WIRE_ICMPV6_BEYOND_SCOPE 2
#define WIRE_ICMPV6_ADDR_UNREACH 3
#define WIRE_ICMPV6_PORT_UNREACH 4
#define WIRE_ICMPV6_POLICY_FAIL 5
#define WIRE_ICMPV6_REJECT_ROUTE 6
/* Parameter-problem codes (RFC 4443 §3.4) */
#define WIRE_ICMPV6_HDR_FIELD 0
#define WIRE_ICMPV6_UNK_NEXTHDR 1
#define WIRE_ICMPV6_UNK_OPTION 2

/* RFC 8200 §5: every link carries 1280 bytes; an error stays within it. */
#define WIRE_IPV6_MIN_MTU 1280

struct wire_icmpv6 {
    uint8_t type, code;
    uint16_t csum;
    uint32_t rest;       /* bytes 4..7: echo id/seq, MTU (packet too big), pointer */
    const uint8_t *body; /* after the 8-byte header */
    size_t body_len;
};

/* Parses a message of len bytes sent from src to dst and verifies its
 * checksum over the pseudo-header. */
int wire_icmpv6_parse(const uint8_t *buf, size_t len, const uint8_t src[16], const uint8_t dst[16],
                      struct wire_icmpv6 *out);

/* RFC 4443 §2.1: types below 128 are errors. */
static inline bool wire_icmpv6_is_error(uint8_t type) { return type < 128; }

/* The packet an error quotes: its addresses, the upper-layer protocol after
 * its extension headers, and the bytes of that header that came back. */
struct wire_icmpv6_quote {
    uint8_t proto;
    uint8_t src[16], dst[16];
    const uint8_t *payload;
    size_t payload_len;
};
/* Fails when fewer than 8 bytes of the upper-layer header came back. */
int wire_icmpv6_quote_parse(const struct wire_icmpv6 *m, struct wire_icmpv6_quote *out);

/* Writes a message from src to dst: header (type, code, rest), the body in up
 * to two pieces, and the checksum. Returns the length or WIRE_ESPACE. */
int wire_icmpv6_emit(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16], uint8_t type,
                     uint8_t code, uint32_t rest, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2);

#endif
