/* What a stack sent, as its tap saw it: every outgoing frame in order, its
 * first CAPTURE_SNAP bytes kept (headers and an MTU's worth of payload). */
#ifndef SYNACK_TEST_CAPTURE_H
#define SYNACK_TEST_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "synack.h"

#define CAPTURE_MAX 4096
#define CAPTURE_SNAP 1600

struct capture {
    uint8_t f[CAPTURE_MAX][CAPTURE_SNAP];
    size_t len[CAPTURE_MAX];    /* the frame's own length */
    size_t caplen[CAPTURE_MAX]; /* what f holds of it */
    int n;
};

/* A synack_tap_fn: ctx is a struct capture (calloc it: it is large).
 * Frames beyond CAPTURE_MAX are not kept. */
void capture_tap(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now);

#endif
