/* Prints a capture of one TCP connection (raw-IP pcap, as the in-memory
 * link and the TUN tee write) as the seed's ladder diagram. */
#ifndef SYNACK_TOOLS_LADDER_H
#define SYNACK_TOOLS_LADDER_H

#include <stdio.h>

/* Returns the number of segments printed, or -1 with a reason on stderr. */
int ladder_print_pcap(const char *path, FILE *out);

#endif
