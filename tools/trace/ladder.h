/* The seed's picture: one arrow per segment between two columns, with the
 * arithmetic behind each acknowledgement number. */
#ifndef SYNACK_TRACE_LADDER_H
#define SYNACK_TRACE_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"

/* Segments kept per direction to explain ACKs, and rungs per ladder. */
#define TR_SEGLOG_MAX 64
#define TR_LADDER_MAX 400

struct tr_seglog_ent {
    uint32_t seq, len; /* raw seq; len in sequence space */
    uint8_t syn, fin;
};

struct tr_rung {
    uint64_t frame;
    int64_t ts;
    uint8_t dir;
    uint16_t flags;
    uint32_t seq, ack, rel_seq, rel_ack, len, win;
    uint32_t aflags;
    int32_t dupnum;
    uint64_t dupframe;
    char math[96];
};

struct tr_view {
    struct tr_seglog_ent log[2][TR_SEGLOG_MAX];
    unsigned nlog[2];
    bool have_ack[2];
    uint32_t last_ack[2];
    struct tr_rung *rung;
    size_t nrung, caprung;
    uint64_t dropped; /* rungs past TR_LADDER_MAX */
};

void tr_view_free(void *v);

/* Explains the ACK of this packet ("ack 58 = 1 + 9+9+28+11") into out
 * (empty when the ACK did not move) and records the segment. */
void tr_ackmath(struct tr_view *v, const struct tr_conv *c, const struct tr_pkt *p, const struct tr_result *r,
                char *out, unsigned size);

/* Appends a rung; returns -1 when out of memory. */
int tr_ladder_add(struct tr_view *v, const struct tr_pkt *p, const struct tr_result *r, const char *math);

/* Prints the ladder of one conversation; `left` is the flow drawn on the left. */
void tr_ladder_print(FILE *f, const struct tr_conv *c, const struct tr_view *v, int left, int64_t t0);

/* Prints the ladder of every connection in a capture, client on the left,
 * and nothing else (the demo's picture). Returns the number of TCP
 * segments, or -1 with a reason on stderr. */
int tr_ladder_file(const char *path, FILE *out);

/* The same ladder as an SVG picture. */
void tr_ladder_svg(FILE *f, const struct tr_conv *c, const struct tr_view *v, int left, int64_t t0);

#endif
