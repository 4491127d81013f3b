/* The human (default) and JSON outputs: packet lines as they come, then one
 * report per connection. */
#ifndef SYNACK_TRACE_REPORT_H
#define SYNACK_TRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "run.h"

struct tr_report {
    const struct tr_opts *o;
    FILE *out;
    const char *path;
    int64_t t0;
    bool t0_set;
    uint64_t npackets_json;
    FILE *spool;         /* JSON: connection objects until the packets are done */
    uint64_t nconn_json;
    long svg_stream;     /* stream drawn by --svg, -1 until known */
    bool svg_done;
};

int tr_report_init(struct tr_report *r, const struct tr_opts *o, FILE *out, const char *path);
int tr_report_packet(struct tr_report *r, const struct tr_pkt *p, const struct tr_result *res, bool show);

/* The conversation is finished (expired, its ports reused, or the capture
 * ended): prints its report, or spools it for JSON. It is freed next. */
void tr_report_conv(void *report, struct tr_conv *c);

/* After the table was flushed: closes the JSON object. */
void tr_report_finish(struct tr_report *r, const struct tr_counts *counts);
void tr_report_free(struct tr_report *r);

/* Names of the analysis flags set in aflags, comma separated. */
const char *tr_aflags_str(uint32_t aflags, int32_t dupnum, uint64_t dupframe, char *buf, unsigned size);

#endif
