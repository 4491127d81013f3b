/* Zeek's view of a TCP connection: endpoint states, conn_state and history
 * (scripts/base/protocols/conn/main.zeek and the TCP analyzer). */
#ifndef SYNACK_TRACE_ZEEK_H
#define SYNACK_TRACE_ZEEK_H

#include <stdbool.h>
#include <stdint.h>

#define TR_ZEEK_HIST_MAX 64

enum tr_zeek_state {
    ZK_INACTIVE,
    ZK_SYN_SENT,
    ZK_SYN_ACK_SENT,
    ZK_PARTIAL,
    ZK_ESTABLISHED,
    ZK_CLOSED,
    ZK_RESET,
};

struct tr_zeek_ep {
    enum tr_zeek_state state, prev_state;
    uint32_t start_seq;  /* raw seq Zeek's relative numbers count from */
    uint32_t last_seq;   /* highest raw end of a segment seen */
    uint64_t delivered;  /* relative end of contiguous captured payload */
    uint64_t fin_rel;    /* relative seq of the FIN, 0 none */
    uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
    uint32_t seen;       /* history letters already recorded once */
    uint32_t rxmit_count, gap_count, win0_count, csum_count;
    uint64_t pkts, ip_bytes;
};

struct tr_zeek {
    bool started;
    int orig;            /* index into tr_conv.flow of the originator */
    bool flipped;
    bool partial;        /* did not start with a SYN */
    int64_t first_ts, last_ts; /* last_ts stops once both sides closed */
    struct tr_zeek_ep ep[2]; /* [0] originator, [1] responder */
    char hist[TR_ZEEK_HIST_MAX + 1];
    unsigned hlen;
};

struct tr_pkt;

/* Zeek's duration: 0 for a connection it saw at one instant only. */
int64_t tr_zeek_duration(const struct tr_zeek *z);

/* Feeds one packet sent from flow index `dir`. */
void tr_zeek_packet(struct tr_zeek *z, const struct tr_pkt *p, int dir);

/* conn_state of the finished connection ("SF", "S0", ...). */
const char *tr_zeek_conn_state(const struct tr_zeek *z);

/* Payload bytes by sequence space of the originator (1) or responder (0). */
uint64_t tr_zeek_size(const struct tr_zeek *z, int orig_side);

#endif
