/* Which of packetdrill's modes a script allows. */
#ifndef CONFORM_MODES_H
#define CONFORM_MODES_H

#include <stddef.h>

#include "script.h"

/* "ipv4", "ipv6", "ipv4-mapped-ipv6" for 4, 6, 46; 0 from a name it does not know. */
const char *ip_mode_name(int mode);
int ip_mode_parse(const char *name);

/* NULL when s can run in mode (4, 6, 46), else a one-line reason in why.
 * A script that pins another mode with --ip_version does not run in this one,
 * as in packetdrill. Nor does an IPv4-only script in an IPv6 run: one that
 * sets an IPv4 --local_ip or --remote_ip, or names an ICMP type or code that
 * ICMPv6 lacks (packetdrill stops at such a line in an IPv6 run; its author
 * wrote the script for IPv4, and the ipv4 and mapped runs cover it). */
const char *script_mode_refusal(const struct script *s, int mode, char *why, size_t len);

#endif
