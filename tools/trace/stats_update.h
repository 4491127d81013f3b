/* Folds one analysed packet into its connection's report. */
#ifndef SYNACK_TRACE_STATS_UPDATE_H
#define SYNACK_TRACE_STATS_UPDATE_H

#include "conv.h"

struct tr_result;

void tr_stats_update(struct tr_conv *c, int dir, const struct tr_pkt *p, const struct tr_result *r);

#endif
