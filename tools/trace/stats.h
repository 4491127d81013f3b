/* What the per-connection report needs, gathered packet by packet so the
 * capture itself is never kept. */
#ifndef SYNACK_TRACE_STATS_H
#define SYNACK_TRACE_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "zeek.h"

struct tr_dir_stats {
    uint64_t pkts, bytes, retrans_bytes, retrans_pkts;
    uint64_t ip_bytes;
    bool syn, synack, fin, rst;
    uint64_t syn_frame, fin_frame, rst_frame;
    int64_t fin_ts;
    uint32_t fin_seq;   /* raw seq of the first FIN */
    uint64_t bytes_after_peer_fin; /* payload sent once the peer had closed */
    bool acked_synack;             /* an ACK answered the peer's SYN-ACK */
    bool fin_acked_peer_fin;       /* our FIN already acknowledged the peer's */
};

struct tr_conn_stats {
    uint64_t first_frame, last_frame;
    int64_t first_ts, last_ts;
    struct tr_dir_stats d[2];  /* indexed like tr_conv.flow */
    int first_dir;             /* who sent the first packet */
    int syn_dir;               /* sender of the first pure SYN, -1 none */
    uint64_t rtt_n;
    int64_t rtt_min, rtt_max, rtt_sum;
    struct tr_zeek zk;
};

#endif
