/* A tiny scripted TCP endpoint behind packetdrill's shared-object interface,
 * so the runner's own logic (sequence mapping, TS ecr mapping, timing,
 * blocking calls, descriptor mapping) is tested without the real stack.
 * Its ISNs are far from 0 and its descriptors are not the script's
 * numbers, so a runner that skipped a mapping would fail. */
#ifndef FAKE_STACK_H
#define FAKE_STACK_H

#include "posix/packetdrill.h"

#define FAKE_PASSIVE_ISN 1000000u
#define FAKE_ACTIVE_ISN 5000000u
#define FAKE_TS_BASE 777u

void fake_init(struct packetdrill_interface *ifc);
/* every fake made, kept reachable (a stuck runner thread may still use one) */
extern void *volatile pd_fake_all[256];
/* wake blocked callers with EINTR so their threads end */
void fake_shutdown(struct packetdrill_interface *ifc);

#endif
