/* Script packets <-> live IPv4 / IPv6 datagrams, with packetdrill's sequence-number
 * mapping: like tcpdump, numbers in SYN segments are absolute and all others
 * are relative to the sender's ISN. The script's ISN is used for what the
 * runner injects; the stack's ISN is learned from its SYN or SYN-ACK. */
#ifndef CONFORM_PACKET_H
#define CONFORM_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"

enum conn_state {
    CS_NONE,           /* no socket under test yet */
    CS_LISTENING,      /* listen() was called */
    CS_CONNECTING,     /* connect() was called, SYN not yet seen */
    CS_SYN_SENT,       /* the stack's SYN was seen */
    CS_PASSIVE_RCVD,   /* the first inbound packet for a listener was injected */
    CS_SYNACK_SENT,    /* the stack's SYN-ACK was seen */
    CS_ESTABLISHED,
};

#define CONN_TS_MAP 512

/* The one connection a script tests (packetdrill's "socket under test"). */
struct conn {
    enum conn_state st;
    int ipv;                          /* 4 or 6: the family of the datagrams */
    uint8_t local_ip[16], remote_ip[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t local_port, remote_port; /* live ports */
    uint16_t bind_port, connect_port;
    uint16_t next_ephemeral;
    uint32_t script_local_isn, live_local_isn, remote_isn;
    /* TS val: script -> live, for mapping the ecr of injected segments */
    struct { uint32_t script, live; } ts[CONN_TS_MAP];
    int nts, ts_next;
    bool ts_found;
    uint32_t first_script_val, first_live_val;
};

void conn_init(struct conn *c, int ipv, const uint8_t local_ip[16], const uint8_t remote_ip[16],
               uint16_t bind_port, uint16_t connect_port);

/* A datagram the stack sent, decoded. */
struct live_pkt {
    int64_t time;          /* virtual send time, usecs since the script started */
    int ipv;               /* 4 or 6 */
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint8_t proto, tos;    /* proto: 6 TCP, 1 ICMP, 58 ICMPv6; tos: IPv6 traffic class too */
    bool ip_csum_ok;
    /* TCP */
    uint16_t sport, dport, win, urg;
    uint32_t seq, ack;     /* live, or script space after conn_to_script() */
    uint8_t flags;
    uint8_t opt[40];
    int optlen;
    uint32_t paylen;
    bool payload_zero;
    /* ICMP */
    int icmp_type, icmp_code;
};

/* Decode an IPv4 or IPv6 datagram; -1 with a message if it is not TCP,
 * ICMP or ICMPv6. */
int live_decode(const uint8_t *buf, size_t len, struct live_pkt *out, char *err, size_t errlen);

/* Build the datagram for an inbound script packet into buf (at least 1600
 * bytes + payload); updates the connection state as packetdrill does.
 * Returns the length, or -1 with a message. */
int conn_build_inbound(struct conn *c, const struct pkt_spec *pk, const struct script_opts *o,
                       uint8_t *buf, size_t cap, char *err, size_t errlen);

/* Is this live packet from the connection under test (learning the stack's
 * port and ISN from its SYN when a connect() is pending)? ICMP is claimed
 * only when the script line expects ICMP (want_icmp), TCP only when not. */
bool conn_claims(struct conn *c, const struct live_pkt *lp, bool want_icmp);

/* Before an outbound script packet is matched: learn the script's ISN from a
 * SYN-ACK or SYN; after its first live segment arrived: the live ISN. */
void conn_outbound_prepare(struct conn *c, const struct pkt_spec *pk);
void conn_outbound_learn(struct conn *c, const struct pkt_spec *pk, const struct live_pkt *first);

/* Map a live packet's seq/ack/SACK into script space (in place). */
void conn_to_script(const struct conn *c, struct live_pkt *lp);

/* Compare live packets (already in script space; several when the stack
 * sent in MSS-sized pieces what the script writes as one TSO segment)
 * against an outbound script packet, except timing. Returns 0, or -1 with
 * packetdrill's wording in err. *agg gets the live packets merged into one. */
int conn_check_outbound(struct conn *c, const struct pkt_spec *pk, const struct script_opts *o,
                        int64_t script_time_since_start, struct live_pkt *lp, int n,
                        struct live_pkt *agg, char *err, size_t errlen);

/* "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 8>" for messages. */
void fmt_script_pkt(const struct pkt_spec *pk, char *buf, size_t len);
void fmt_live_pkt(const struct live_pkt *lp, char *buf, size_t len);

/* Encode script options into bytes (inbound); -1 if they do not fit. */
int encode_options(const struct pkt_spec *pk, uint8_t *out, size_t cap);

#endif
