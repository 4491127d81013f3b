/* TCP header and option codec (RFC 9293 §3.1, RFC 7323, RFC 2018). */
#ifndef SYNACK_WIRE_TCP_H
#define SYNACK_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "wire.h"

#define WIRE_TCP_HDR_MIN 20
#define WIRE_TCP_HDR_MAX 60
#define WIRE_TCP_OPT_MAX 40

/* Flag bits as they sit in the low 12 bits of header bytes 12-13. */
#define WIRE_TCP_FIN 0x001u
#define WIRE_TCP_SYN 0x002u
#define WIRE_TCP_RST 0x004u
#define WIRE_TCP_PSH 0x008u
#define WIRE_TCP_ACK 0x010u
#define WIRE_TCP_URG 0x020u
#define WIRE_TCP_ECE 0x040u
#define WIRE_TCP_CWR 0x080u
#define WIRE_TCP_AE 0x100u  /* RFC 9768 Accurate ECN, formerly NS */
#define WIRE_TCP_RES 0xe00u /* reserved bits */

#define WIRE_TCPOPT_EOL 0
#define WIRE_TCPOPT_NOP 1
#define WIRE_TCPOPT_MSS 2
#define WIRE_TCPOPT_WSCALE 3
#define WIRE_TCPOPT_SACK_PERM 4
#define WIRE_TCPOPT_SACK 5
#define WIRE_TCPOPT_TS 8
#define WIRE_TCPOPT_FASTOPEN 34 /* RFC 7413 §4.1.1 */
#define WIRE_TCPOPT_EXP 254     /* RFC 6994 experimental; Fast Open's magic is 0xF989 */
#define WIRE_TCPOPT_FASTOPEN_MAGIC 0xF989u
#define WIRE_TCP_FO_COOKIE_MIN 4  /* RFC 7413 §4.1.1: 4..16 bytes */
#define WIRE_TCP_FO_COOKIE_MAX 16

#define WIRE_TCP_SACK_MAX 4

struct wire_tcp_sack_block {
    uint32_t left, right;
};

/* The arrays (sack, fo_cookie, kinds) hold something only below their
 * counts (sack_count, fo_len, nkinds); the parser and the emitters' reset
 * leave the rest as it was. */
struct wire_tcp_opts {
    bool has_mss, has_wscale, sack_perm, has_ts;
    uint16_t mss;
    uint8_t wscale; /* as sent; RFC 7323 §2.3 clamps use to 14 */
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;
    struct wire_tcp_sack_block sack[WIRE_TCP_SACK_MAX];
    /* RFC 7413 Fast Open: fo_kind is 0 (absent), WIRE_TCPOPT_FASTOPEN or
     * WIRE_TCPOPT_EXP (the pre-RFC form, kind 254 + magic 0xF989). fo_len 0
     * with a kind is a cookie request; a cookie of a length outside 4..16
     * is ignored (counted in bad_len). Emitted after wscale, padded with
     * NOPs to a 4-byte boundary (Linux tcp_options_write). */
    uint8_t fo_kind, fo_len;
    uint8_t fo_cookie[WIRE_TCP_FO_COOKIE_MAX];
    uint8_t unknown; /* options skipped by their length (saturates at 255) */
    uint8_t bad_len; /* known kinds with the wrong fixed length, ignored (saturates) */
    uint8_t nkinds;  /* kinds in the order they appeared, NOP and EOL included */
    uint8_t kinds[WIRE_TCP_OPT_MAX];
};

struct wire_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hdr_len; /* data offset in bytes, 20..60 */
    uint16_t flags;  /* WIRE_TCP_* */
    uint16_t wnd;    /* unscaled, as on the wire */
    uint16_t csum;
    uint16_t urg;
    const uint8_t *opts_raw;
    size_t opts_len;
    /* Not in the TCP header: the ECN field of the IP header around it
     * (WIRE_ECN_*, RFC 3168 §5). The IP layer fills it on receipt (the
     * parser clears it) and writes it on send, so the TCP core sees CE
     * and says which segments are ECT without knowing the IP version. */
    uint8_t ecn;
    struct wire_tcp_opts opt;
    const uint8_t *payload;
    size_t payload_len;
};

/* Prepares h for wire_tcp_emit: zeroes what the emitter reads (the fixed
 * fields, opts_raw/opts_len, payload) and leaves opt, the parser's record
 * of options (about 110 bytes, unread by the emitter) as it is; clearing
 * whole structs was 5 % of bench/connrate. */
static inline void wire_tcp_reset_emit(struct wire_tcp *h)
{
    memset(h, 0, offsetof(struct wire_tcp, opt));
    h->payload = NULL;
    h->payload_len = 0;
}

/* Parses a header and its options. A segment whose data offset is below 20
 * or past the buffer, or whose options are malformed, is rejected. */
int wire_tcp_parse(const uint8_t *seg, size_t len, struct wire_tcp *out);

/* Parses an option block (the bytes between the fixed header and the data).
 * EOL ends it; unknown kinds are skipped by their length; a length of 0 or 1,
 * or one running past the block, rejects it (WIRE_EOPTLEN). */
int wire_tcp_parse_opts(const uint8_t *p, size_t len, struct wire_tcp_opts *out);

/* Writes options in the layout Linux uses (tcp_options_write): MSS; SACK-
 * permitted and timestamps together, or each behind two NOPs; NOP+wscale;
 * two NOPs and SACK blocks. Returns bytes written (a multiple of 4). */
int wire_tcp_opts_emit(uint8_t *buf, size_t cap, const struct wire_tcp_opts *o);

/* The timestamp option as wire_tcp_opts_emit lays it out without
 * SACK-permitted: NOP, NOP, TS (RFC 7323 Appendix A), 12 bytes. Alone it
 * is the option block of nearly every segment of a connection, which a
 * sender may write with this directly. */
static inline void wire_tcp_ts_emit(uint8_t buf[12], uint32_t ts_val, uint32_t ts_ecr)
{
    buf[0] = buf[1] = WIRE_TCPOPT_NOP;
    buf[2] = WIRE_TCPOPT_TS;
    buf[3] = 10;
    wire_put32(buf + 4, ts_val);
    wire_put32(buf + 8, ts_ecr);
}

/* No option: the scalars cleared, the arrays (read only below their
 * counts) left as they are. For wire_tcp_opts_emit, and the parser's start
 * (which also clears its own counters). */
static inline void wire_tcp_opts_clear(struct wire_tcp_opts *o)
{
    o->has_mss = o->has_wscale = o->sack_perm = o->has_ts = false;
    o->mss = 0;
    o->wscale = 0;
    o->ts_val = o->ts_ecr = 0;
    o->sack_count = 0;
    o->fo_kind = o->fo_len = 0;
}

/* Bytes wire_tcp_opts_emit would write, so a sender can size its segments. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *o);

/* Writes the fixed header followed by h->opts_raw (h->opts_len bytes, a
 * multiple of 4). The checksum field is written as h->csum; fill it in with
 * wire_tcp_csum_* once the payload is in place. Returns the header length. */
int wire_tcp_emit(uint8_t *buf, size_t cap, const struct wire_tcp *h);

/* Checksum of a whole segment (header with csum field as is, plus payload). */
uint16_t wire_tcp_csum_ipv4(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst);
uint16_t wire_tcp_csum_ipv6(const uint8_t *seg, size_t len, const uint8_t src[16], const uint8_t dst[16]);

/* Stores the checksum into a finished segment. */
void wire_tcp_set_csum_ipv4(uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

/* True when the stored checksum verifies. */
bool wire_tcp_csum_ok_ipv4(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

/* The same two for a segment carried over IPv6 (RFC 8200 §8.1 pseudo-header). */
void wire_tcp_set_csum_ipv6(uint8_t *seg, size_t len, const uint8_t src[16], const uint8_t dst[16]);
bool wire_tcp_csum_ok_ipv6(const uint8_t *seg, size_t len, const uint8_t src[16], const uint8_t dst[16]);

#endif
