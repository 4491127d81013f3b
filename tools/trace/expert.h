/* The TCP dissector's expert messages (tshark's _ws.expert.message, TCP
 * items only) and _ws.malformed, in the order tshark lists them. */
#ifndef SYNACK_TRACE_EXPERT_H
#define SYNACK_TRACE_EXPERT_H

#include "analysis.h"
#include "line.h"

/* Appends the comma-separated messages of one packet to l. */
void tr_expert_messages(struct tr_line *l, const struct tr_pkt *p, const struct tr_result *r);

/* Appends the _ws.malformed column: set for a short segment whose options
 * the dissector then reads past the IP length. */
void tr_expert_malformed(struct tr_line *l, const struct tr_pkt *p);

#endif
