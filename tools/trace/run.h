/* Reading one capture through libpcap and driving the analysis and the
 * chosen output packet by packet. */
#ifndef SYNACK_TRACE_RUN_H
#define SYNACK_TRACE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "decode.h"
#include "frag.h"

enum tr_mode { TR_OUT_TEXT, TR_OUT_TSV, TR_OUT_EXT, TR_OUT_JSON, TR_OUT_ZEEK };

struct tr_opts {
    enum tr_mode mode;
    long stream;          /* -1: every stream */
    const char *filter;   /* BPF expression selecting the packets shown */
    const char *svg_path; /* ladder picture */
    const char *tsg_path; /* time-sequence graph */
    bool no_header;       /* --tsv without the header line */
    bool quiet;           /* text: connections only, no per-packet lines */
    bool ladder_only;     /* text: the ladders alone (tr_ladder_file) */
    bool stats;           /* --stats: connection and memory figures on stderr */
    int64_t idle_timeout;   /* ns; 0 = default, -1 = never */
    int64_t closed_timeout; /* ns; 0 = default, -1 = never */
};

struct tr_counts {
    uint64_t frames, tcp, shown;
    uint64_t skipped[TR_SKIP_COUNT];
    uint64_t bad_records; /* libpcap reported a damaged record */
    struct tr_frag_stats frags;
    uint64_t conns;       /* TCP conversations (streams) */
    uint64_t peak_open;   /* most conversations live at once */
};

/* Sets the table's retirement timeouts from the options (every pass over a
 * file must number streams alike). */
void tr_opts_timeouts(const struct tr_opts *o, struct tr_table *t);

/* Runs one capture ("-" is standard input). Returns 0, or -1 after printing
 * a one-line reason to stderr when the file cannot be read at all. */
int tr_run_file(const char *path, const struct tr_opts *o, FILE *out, struct tr_counts *counts, bool first_file);

#endif
