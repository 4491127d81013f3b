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
    int64_t last_ts;        /* capture time of its latest packet */
    uint8_t fin_mask;       /* bit per flow that sent a FIN */
    uint8_t closer_mask;    /* flows that started the close (Wireshark's closing initiator) */
    bool syn_data;          /* a pure SYN carried data (TCP Fast Open) */
    bool rst;               /* an RST was seen */
    bool past_syn;          /* a packet other than a SYN or SYN-ACK was seen */
    uint8_t list;           /* TR_LIVE_OPEN or TR_LIVE_CLOSED */
    struct tr_conv *hnext;  /* hash chain */
    struct tr_conv *prev, *next; /* its live list, least recently active first */
};

/* Live conversations in two lists, each ordered by last activity, so the
 * oldest of each is at its head and expiry costs O(1) per packet. */
enum { TR_LIVE_OPEN, TR_LIVE_CLOSED };

struct tr_live {
    struct tr_conv *head, *tail;
};

/* How long a conversation stays live without packets. A closed one (FIN
 * both ways, or RST) waits 2 MSL (RFC 9293 §3.4.2: MSL is 2 minutes), so
 * late retransmissions and the last ACK still join it; so does one that
 * never got past its SYNs (a scan, an unanswered SYN: Linux gives up after
 * 127 s of SYN retransmissions, tcp_syn_retries 6). An open one waits
 * longer than Linux's 2-hour keep-alive time, so an idle connection kept
 * alive stays one stream. */
#define TR_CLOSED_TIMEOUT_NS (240 * 1000000000ll)
#define TR_IDLE_TIMEOUT_NS (3 * 3600 * 1000000000ll)

struct tr_table {
    struct tr_conv **bucket;
    size_t nbucket, nconv; /* nconv: live conversations */
    size_t peak_conv;      /* most live at once */
    uint64_t retired;      /* conversations reported and freed */
    struct tr_live live[2];
    int64_t now; /* latest capture time seen */
    bool now_set;
    int64_t closed_timeout, idle_timeout; /* ns; 0 = never expire */
    uint32_t next_stream;
    void (*view_free)(void *view);
    /* Called once per conversation just before it is freed: when it
     * expires, when its tuple is reused by a new SYN, or at the end. */
    void (*retire)(void *ctx, struct tr_conv *c);
    void *retire_ctx;
    bool want_stats; /* keep the per-connection report (default true) */
};

int tr_table_init(struct tr_table *t);

/* Frees every conversation without reporting it. */
void tr_table_free(struct tr_table *t);

/* Retires the conversations whose time is up at capture time `now`. */
void tr_table_expire(struct tr_table *t, int64_t now);

/* Retires every live conversation, in stream order (end of the capture).
 * Returns -1 when out of memory (the conversations are then freed
 * unreported). */
int tr_table_flush(struct tr_table *t);

/* Records a packet of c at time ts: moves it to the end of its live list. */
void tr_table_touch(struct tr_table *t, struct tr_conv *c, int64_t ts);

/* Finds the conversation of a packet, or NULL. *dir gets the sender's flow. */
struct tr_conv *tr_table_find(struct tr_table *t, const struct tr_pkt *p, int *dir);

/* Creates a conversation for the packet's tuple with the next stream number;
 * an older one for the same tuple can get no more packets and is retired. */
struct tr_conv *tr_table_new(struct tr_table *t, const struct tr_pkt *p, int *dir);

void tr_flow_free(struct tr_flow *f);

#endif
