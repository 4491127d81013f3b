/* Shared by the link drivers; not for other layers. */
#ifndef SYNACK_LINK_LINK_H
#define SYNACK_LINK_LINK_H

#include <net/if.h>
#include <stdint.h>

/* Opens /dev/net/tun as the device `name` (NULL: the kernel names it) with
 * flags IFF_TUN or IFF_TAP (IFF_NO_PI is added), non-blocking, and sets the
 * MTU. The device's name goes to ifname. Returns 0 or -errno. */
int link_dev_open(const char *name, short flags, uint32_t mtu, int *fd, char ifname[IFNAMSIZ]);

#endif
