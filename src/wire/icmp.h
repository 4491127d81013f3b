/* ICMPv4 codec (RFC 792, RFC 1191 §4 for the next-hop MTU). A parse yields
 * a view into the caller's buffer; for an error message it also locates the
 * quoted datagram (the offending IP header and the first bytes after it). */
#ifndef SYNACK_WIRE_ICMP_H
#define SYNACK_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_ICMP_HDR_LEN 8

#define WIRE_ICMP_ECHO_REPLY 0
#define WIRE_ICMP_DEST_UNREACH 3
#define WIRE_ICMP_SOURCE_QUENCH 4
#define WIRE_ICMP_REDIRECT 5
#define WIRE_ICMP_ECHO 8
#define WIRE_ICMP_TIME_EXCEEDED 11
#define WIRE_ICMP_PARAM_PROBLEM 12

/* Destination-unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1) */
#define WIRE_ICMP_NET_UNREACH 0
#define WIRE_ICMP_HOST_UNREACH 1
#define WIRE_ICMP_PROT_UNREACH 2
#define WIRE_ICMP_PORT_UNREACH 3
#define WIRE_ICMP_FRAG_NEEDED 4
#define WIRE_ICMP_SR_FAILED 5
#define WIRE_ICMP_NET_UNKNOWN 6
#define WIRE_ICMP_HOST_UNKNOWN 7
#define WIRE_ICMP_HOST_ISOLATED 8
#define WIRE_ICMP_NET_ANO 9
#define WIRE_ICMP_HOST_ANO 10
#define WIRE_ICMP_NET_UNR_TOS 11
#define WIRE_ICMP_HOST_UNR_TOS 12
#define WIRE_ICMP_PKT_FILTERED 13
#define WIRE_ICMP_PREC_VIOLATION 14
#define WIRE_ICMP_PREC_CUTOFF 15

struct wire_icmp {
    uint8_t type, code;
    uint16_t csum;
    uint32_t rest;           /* bytes 4..7: id/seq of an echo, next-hop MTU, pointer */
    const uint8_t *body;     /* after the 8-byte header */
    size_t body_len;
};

/* Parses the header of an ICMP message of len bytes and verifies its
 * checksum (RFC 792: over the whole message). */
int wire_icmp_parse(const uint8_t *buf, size_t len, struct wire_icmp *out);

/* True for the types that carry a quoted datagram (RFC 1122 §3.2.2). */
bool wire_icmp_is_error(uint8_t type);

/* Echo id and sequence number (RFC 792). */
static inline uint16_t wire_icmp_echo_id(const struct wire_icmp *m) { return (uint16_t)(m->rest >> 16); }
static inline uint16_t wire_icmp_echo_seq(const struct wire_icmp *m) { return (uint16_t)m->rest; }
/* RFC 1191 §4: the next-hop MTU in the low 16 bits of a fragmentation-needed message. */
static inline uint16_t wire_icmp_next_mtu(const struct wire_icmp *m) { return (uint16_t)m->rest; }

/* The datagram an error message quotes: its IP header fields and the bytes of
 * its payload that came back (RFC 792 guarantees 8; RFC 1812 routers send more). */
struct wire_icmp_quote {
    uint8_t proto;
    uint16_t total_len;      /* as the original datagram stated it */
    uint32_t src, dst;       /* host order */
    const uint8_t *payload;  /* the start of the original transport header */
    size_t payload_len;
};
/* Parses the quoted IP header of an error message; fails when fewer than
 * 8 bytes of the original payload came back. */
int wire_icmp_quote_parse(const struct wire_icmp *m, struct wire_icmp_quote *out);

/* Writes an ICMP header (type, code, rest) with a zero checksum, then the
 * body in up to two pieces: the layout ICMPv6 shares (RFC 4443 §2.1).
 * Returns the length or WIRE_ESPACE. */
int wire_icmp_put(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *p1,
                  size_t n1, const uint8_t *p2, size_t n2);
/* The same, and the checksum. */
int wire_icmp_emit(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *p1,
                   size_t n1, const uint8_t *p2, size_t n2);

#endif
