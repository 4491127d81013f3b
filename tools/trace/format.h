/* Small formatting helpers shared by the outputs. */
#ifndef SYNACK_TRACE_FORMAT_H
#define SYNACK_TRACE_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "packet.h"

/* tcp.flags.str: 12 characters "RRRACEUAPRSF", U+00B7 for a clear bit. */
void tr_put_flags_str(FILE *f, uint16_t flags);

/* Short flag list as tcpdump prints it: "S", "S.", "P.", "F.", "R". */
const char *tr_flags_short(uint16_t flags, char *buf, unsigned size);

/* Seconds with nine decimals, as Wireshark prints time deltas. */
void tr_put_secs(FILE *f, int64_t ns);

/* Options in order: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7". */
const char *tr_opts_str(const struct tr_pkt *p, char *buf, unsigned size);

#endif
