/* Pieces shared by the two ways the demo runs (in memory, against Linux). */
#ifndef SYNACK_TOOLS_DEMO_H
#define SYNACK_TOOLS_DEMO_H

#include "synack.h"

#define DEMO_KERNEL_UNAVAILABLE (-100)

extern const char *const demo_parts[4];
extern const char demo_tail[];

/* The on_state context of one side: its name and when the run began, so
 * logged times line up with the ladder's. */
struct demo_role {
    const char *who;
    synack_time origin;
};
void demo_print_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now);

/* Runs the exchange against the Linux kernel over TUN in a namespace, in
 * both roles. Returns the exit code, or DEMO_KERNEL_UNAVAILABLE when this
 * process cannot (not root, no /dev/net/tun, no ip(8)). */
int demo_kernel(const char *pcap_path, uint64_t seed);

#endif
