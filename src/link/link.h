/* Shared by the link drivers; not for other layers. */
#ifndef SYNACK_LINK_LINK_H
#define SYNACK_LINK_LINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens /dev/net/tun as the device `name` (NULL: the kernel names it) with
 * flags IFF_TUN or IFF_TAP (IFF_NO_PI is added), non-blocking, and sets the
 * MTU. The device's name goes to ifname. Returns 0 or -errno. */
int link_dev_open(const char *name, short flags, uint32_t mtu, int *fd, char ifname[IFNAMSIZ]);

/* Software GSO for the TUN link: consecutive TCP data segments of one flow,
 * as the stack emits them (contiguous, equal headers but for the sequence
 * number, full-sized but the last), joined into one datagram that the kernel
 * segments again (a virtio-net header with GSO_TCPV4), so a burst costs one
 * write instead of one per segment. */
#define GSO_VNET_HDR 10
#define GSO_MAX 65535u
struct gso_batch {
    uint8_t pkt[GSO_MAX];
    size_t len;      /* bytes in pkt */
    size_t hl;       /* IP + TCP header bytes */
    size_t mss;      /* payload of the first segment: the GSO size */
    uint32_t next_seq;
    int nseg;
    bool closed;     /* a short or PSH segment ended it */
};
/* Starts a batch with this datagram if it can begin one (TCP data, only
 * ACK and PSH set, no IP options or fragments). */
bool gso_start(struct gso_batch *b, const uint8_t *frame, size_t len);
/* Appends the datagram if it continues the batch. */
bool gso_append(struct gso_batch *b, const uint8_t *frame, size_t len);
/* Fixes the joined datagram's headers, writes the virtio-net header for it
 * into vh, empties the batch and returns the datagram's length (pkt). */
size_t gso_finish(struct gso_batch *b, uint8_t vh[GSO_VNET_HDR]);

/* Writes the TCP checksum into an IPv4 or IPv6 datagram carrying a TCP
 * segment (whatever the field held), as a NIC with checksum offload does;
 * anything else is left alone. */
void link_tcp_csum_fill(uint8_t *frame, size_t len);

#endif
