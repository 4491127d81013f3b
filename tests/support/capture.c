#include "capture.h"

#include <string.h>

void capture_tap(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now)
{
    (void)ifindex;
    (void)now;
    struct capture *c = ctx;
    if (dir != SYNACK_TAP_OUT || c->n == CAPTURE_MAX)
        return;
    size_t n = len < CAPTURE_SNAP ? len : CAPTURE_SNAP;
    memcpy(c->f[c->n], frame, n);
    c->caplen[c->n] = n;
    c->len[c->n++] = len;
}
