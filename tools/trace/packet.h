/* One captured frame reduced to what the TCP analysis needs. */
#ifndef SYNACK_TRACE_PACKET_H
#define SYNACK_TRACE_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/tcp.h"

/* A capture timestamp (seconds, and nanoseconds as libpcap gives them with
 * nanosecond precision) in nanoseconds, held within +-2^62 so that the
 * difference of any two stays representable: a damaged or hostile file can
 * carry any 32- or 64-bit seconds value. */
#define TR_TS_LIMIT ((int64_t)1 << 62)
static inline int64_t tr_ts_ns(int64_t sec, int64_t nsec)
{
    const int64_t lim_sec = TR_TS_LIMIT / 1000000000;
    if (sec >= lim_sec)
        return TR_TS_LIMIT - 1;
    if (sec <= -lim_sec)
        return -(TR_TS_LIMIT - 1);
    return sec * 1000000000 + nsec;
}

struct tr_addr {
    uint8_t af; /* 4 or 6 */
    uint8_t a[16];
};

enum tr_tcp_kind {
    TR_TCP_PORTS_ONLY, /* header cut short by the snaplen: only ports are known */
    TR_TCP_SHORT,      /* IP length below the data offset: no segment length */
    TR_TCP_OK,
};

enum tr_csum { TR_CSUM_UNKNOWN, TR_CSUM_OK, TR_CSUM_BAD };

struct tr_pkt {
    uint64_t num;  /* 1-based frame number in the capture */
    int64_t ts_ns; /* capture timestamp */
    struct tr_addr src, dst;
    enum tr_tcp_kind kind;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t flags, win, urg;
    uint8_t hdr_len;
    bool opts_bad;          /* options malformed; opt holds those before the fault */
    struct wire_tcp_opts opt;
    uint32_t len;           /* payload length from the IP length (TR_TCP_OK only) */
    uint32_t ip_len;        /* IP datagram length as stated by the header */
    uint32_t captured_len;  /* payload bytes actually captured */
    enum tr_csum csum;      /* TCP checksum, when the whole segment was captured */
    bool reassembled;       /* from IP fragments completed by this frame */
    uint8_t tfo_len;        /* length of a TCP Fast Open option (RFC 7413), 0 = none */
};

int tr_addr_cmp(const struct tr_addr *a, const struct tr_addr *b);

/* Writes the address in its usual text form; buf needs 46 bytes. */
const char *tr_addr_str(const struct tr_addr *a, char *buf, unsigned size);

#endif
