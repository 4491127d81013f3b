/* From a captured frame of a given link type to a TCP packet, or a reason
 * why the frame holds none. */
#ifndef SYNACK_TRACE_DECODE_H
#define SYNACK_TRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "frag.h"
#include "packet.h"

enum tr_skip {
    TR_DECODED = 0,
    TR_SKIP_NOT_IP,        /* ARP, LLC without SNAP, other EtherTypes */
    TR_SKIP_NOT_TCP,       /* UDP, ICMP... */
    TR_SKIP_FRAGMENT,      /* an IP fragment that did not complete a TCP datagram */
    TR_SKIP_LINK_TRUNC,    /* link header cut short */
    TR_SKIP_IP_BAD,        /* IP header malformed or truncated */
    TR_SKIP_TCP_TRUNC,     /* fewer than 4 bytes of TCP header: not even ports */
    TR_SKIP_LINKTYPE,      /* link type this tool does not decode */
    TR_SKIP_COUNT
};

const char *tr_skip_reason(enum tr_skip s);

/* True when the link type (a LINKTYPE_/DLT_ value from libpcap) is one the
 * decoder knows. */
int tr_linktype_known(int linktype);

/* tr_decode flags */
#define TR_DECODE_CSUM 0x1u /* verify the TCP checksum (only Zeek's history needs it) */

/* Fills p (except num and ts_ns) from the frame; wirelen is its length on
 * the wire, caplen what was captured. */
enum tr_skip tr_decode(int linktype, const uint8_t *frame, size_t caplen, size_t wirelen, unsigned flags,
                       struct tr_pkt *p);

/* The same, reassembling IP fragments in fr (frame captured at ts): the
 * frame that completes a datagram decodes as its TCP segment, with
 * p->reassembled set and the datagram in fr->out. Returns TR_SKIP_FRAGMENT
 * for the others; *oom is set when memory ran out. */
enum tr_skip tr_decode_frags(struct tr_frags *fr, int64_t ts, int linktype, const uint8_t *frame, size_t caplen,
                             size_t wirelen, unsigned flags, struct tr_pkt *p, bool *oom);

#endif
