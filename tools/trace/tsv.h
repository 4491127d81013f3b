/* Tab-separated output with exactly the columns of tshark -T fields used
 * for shared/captures/truth/ (the single-pass .tsv and the .ext.tsv). */
#ifndef SYNACK_TRACE_TSV_H
#define SYNACK_TRACE_TSV_H

#include <stdio.h>

#include "analysis.h"

void tr_tsv_header(FILE *f);
void tr_tsv_row(FILE *f, const struct tr_pkt *p, const struct tr_result *r);

void tr_ext_header(FILE *f);
void tr_ext_row(FILE *f, const struct tr_pkt *p, const struct tr_result *r, int64_t t0);

#endif
