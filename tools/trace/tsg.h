/* Stevens/tcptrace time-sequence graph of one stream as SVG: data segments
 * as vertical bars, the peer's ACK line, its window edge, retransmissions
 * and SACK blocks marked. */
#ifndef SYNACK_TRACE_TSG_H
#define SYNACK_TRACE_TSG_H

#include "run.h"

/* Reads the capture again and writes o->tsg_path for stream o->stream (or
 * the stream carrying the most data). Returns 0 or -1 with a message. */
int tr_tsg_file(const char *path, const struct tr_opts *o);

#endif
