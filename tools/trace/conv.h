/* TCP conversations keyed by address and port pairs, numbered as Wireshark
 * numbers tcp.stream, with the per-direction state of its analysis. */
#ifndef SYNACK_TRACE_CONV_H
#define SYNACK_TRACE_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "stats.h"

/* Wireshark stops remembering unacknowledged segments past this many. */
#define TR_MAX_UNACKED 10000

struct tr_unacked {
    uint64_t frame;
    uint32_t seq, nextseq;
    int64_t ts;
};

struct tr_flow {
    bool base_set;
    uint32_t base_seq;
    uint32_t nextseq; /* 0: none seen yet (Wireshark's convention) */
    uint64_t nextseq_frame;
    int64_t nextseq_time;
    uint32_t maxseqtobeacked;
    uint32_t lastack;
    int64_t lastack_time;
    int64_t window;       /* last raw window; -1 before the first packet */
    int win_scale;        /* -1 unknown, -2 no scaling, else shift */
    bool is_first_ack;    /* no ACK without SYN sent yet */
    int32_t dupacknum;
    uint64_t lastnondupack;
    uint32_t lastsegflags;
    bool valid_bif;
    bool push_set_last;
    uint32_t push_bytes;
    uint8_t nsack;
    struct wire_tcp_sack_block sack[WIRE_TCP_SACK_MAX];
    /* unacknowledged segments, oldest first */
    struct tr_unacked *ua;
    size_t ua_len, ua_cap;
};

struct tr_conv {
    uint32_t stream;
    /* flow[0] is the endpoint that sorts first (address, then port), as
     * Wireshark's flow1; which side is which does not change analysis. */
    struct tr_addr addr[2];
    uint16_t port[2];
    struct tr_flow flow[2];
    uint8_t completeness;
    int64_t mru_syn;   /* time of the latest pure SYN, 0 = none */
    int64_t first_rtt; /* iRTT, 0 = unknown */
    struct tr_conn_stats st;
    void *view;             /* owned by the report (ladder, ack arithmetic) */
    struct tr_conv *hnext;  /* hash chain; only the newest conversation per tuple is chained */
    struct tr_conv *lnext;  /* all conversations in stream order */
};

struct tr_table {
    struct tr_conv **bucket;
    size_t nbucket, nconv;
    struct tr_conv *head, *tail;
    uint32_t next_stream;
    void (*view_free)(void *view);
    bool want_stats; /* keep the per-connection report (default true) */
};

int tr_table_init(struct tr_table *t);
void tr_table_free(struct tr_table *t);

/* Finds the conversation of a packet, or NULL. *dir gets the sender's flow. */
struct tr_conv *tr_table_find(struct tr_table *t, const struct tr_pkt *p, int *dir);

/* Creates a conversation for the packet's tuple with the next stream number;
 * it replaces any older one for the same tuple in lookups. */
struct tr_conv *tr_table_new(struct tr_table *t, const struct tr_pkt *p, int *dir);

void tr_flow_free(struct tr_flow *f);

#endif
