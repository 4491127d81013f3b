/* Wireshark's TCP sequence analysis (packet-tcp.c, 4.0 behaviour, restated in
 * shared/captures/ANALYSIS-REFERENCE.md §1) over a stream of packets. */
#ifndef SYNACK_TRACE_ANALYSIS_H
#define SYNACK_TRACE_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "conv.h"
#include "packet.h"

/* Analysis flags, one bit per Wireshark tcp.analysis.* field. */
enum {
    TR_A_RETRANS = 0x0001,
    TR_A_LOST = 0x0002,     /* previous segment not captured */
    TR_A_ACK_LOST = 0x0004, /* ACKed unseen segment */
    TR_A_KEEPALIVE = 0x0008,
    TR_A_DUPACK = 0x0010,
    TR_A_ZEROWIN = 0x0020,
    TR_A_ZWP = 0x0040,
    TR_A_ZWP_ACK = 0x0080,
    TR_A_KEEPALIVE_ACK = 0x0100,
    TR_A_OOO = 0x0200,
    TR_A_FAST_RETRANS = 0x0400,
    TR_A_WIN_UPDATE = 0x0800,
    TR_A_WIN_FULL = 0x1000,
    TR_A_REUSED = 0x2000,
    TR_A_SPURIOUS = 0x4000,
};

enum { TR_FIN_INITIATES = 1, TR_FIN_UNDERGOES };
enum { TR_TFO_ACCEPTS = 1, TR_TFO_IGNORES };

struct tr_result {
    struct tr_conv *conv;  /* NULL when the packet had no usable TCP header */
    int dir;               /* index of the sending flow in conv->flow[] */
    bool analysed;         /* segment length known: relative numbers and flags valid */
    bool has_ta;           /* Wireshark kept per-frame analysis data (gates iRTT display) */
    uint32_t rel_seq, rel_ack, nxtseq;
    bool ack_relative;     /* rel_ack is relative (ACK flag set) */
    uint32_t aflags;
    int32_t dupack_num;
    uint64_t dupack_frame;
    uint64_t acks_frame;   /* 0: acknowledges nothing */
    int64_t ack_rtt;       /* ns; shown when acks_frame != 0 and non-zero */
    int64_t irtt;          /* ns; 0 = not yet known */
    bool has_bif;
    uint32_t bif, push_bytes;
    int64_t rto;           /* ns; shown with rto_frame when non-zero */
    uint64_t rto_frame;
    uint8_t completeness;  /* before this packet, as single-pass tshark prints it */
    int win_scale;         /* sender's shift: -1 unknown, -2 none, 0..14 */
    uint8_t fin_role;      /* FIN: TR_FIN_INITIATES or TR_FIN_UNDERGOES */
    uint8_t tfo_ack;       /* SYN-ACK after a SYN with data: TR_TFO_ACCEPTS or TR_TFO_IGNORES */
    uint32_t win;          /* scaled window as Wireshark shows it */
};

/* Runs the analysis for one packet. The conversation table owns the state.
 * Returns 0, or -1 when memory ran out. */
int tr_analyse(struct tr_table *t, const struct tr_pkt *p, struct tr_result *r);

#endif
