/* Naming what happened to a connection: how it opened and how it closed. */
#ifndef SYNACK_TRACE_SUMMARY_H
#define SYNACK_TRACE_SUMMARY_H

#include <stdio.h>

#include "conv.h"

/* The flow drawn on the left: the side that opened the connection. */
int tr_conv_client(const struct tr_conv *c);

/* "three-way handshake", "simultaneous open", "refused", ... */
const char *tr_open_name(const struct tr_conv *c, int client);

/* "four-way close", "simultaneous close", "RST abort by ...", ...; may
 * mention endpoints, so it is written into buf. */
const char *tr_close_name(const struct tr_conv *c, int client, char *buf, unsigned size);

/* The per-connection block of the human output. */
void tr_summary_print(FILE *f, const struct tr_conv *c, int64_t t0);

/* One conn.log-style line: Zeek's originator first, conn_state, history,
 * payload bytes, packets and IP bytes each way. */
void tr_summary_zeek(FILE *f, const struct tr_conv *c);

/* The same facts as a JSON object. */
void tr_summary_json(FILE *f, const struct tr_conv *c);

#endif
