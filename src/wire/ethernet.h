/* Ethernet II and IEEE 802.3 framing (IEEE 802.3 §3.2, 802.1Q, 802.1ad,
 * RFC 1042 LLC/SNAP). A parse yields the network-layer type and a view of
 * its payload inside the caller's buffer. */
#ifndef SYNACK_WIRE_ETHERNET_H
#define SYNACK_WIRE_ETHERNET_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_ETH_HDR_LEN 14
#define WIRE_ETH_VLAN_MAX 4 /* tags followed before giving up */

#define WIRE_ETHERTYPE_IPV4 0x0800
#define WIRE_ETHERTYPE_ARP 0x0806
#define WIRE_ETHERTYPE_VLAN 0x8100  /* 802.1Q C-tag */
#define WIRE_ETHERTYPE_QINQ 0x88a8  /* 802.1ad S-tag */
#define WIRE_ETHERTYPE_QINQ_OLD 0x9100
#define WIRE_ETHERTYPE_IPV6 0x86dd

struct wire_eth {
    uint8_t dst[6], src[6];
    uint16_t type;         /* after tags and LLC/SNAP: the payload's EtherType */
    uint8_t nvlan;         /* tags seen, outermost first */
    uint16_t vlan[WIRE_ETH_VLAN_MAX];
    uint8_t llc_snap;      /* 1 when the frame was 802.3 length + LLC/SNAP */
    const uint8_t *payload;
    size_t payload_len;
};

/* Parses the MAC header, any VLAN tags and, for 802.3 frames, the LLC/SNAP
 * header. An 802.3 frame whose LLC is not SNAP yields WIRE_EUNSUPP. */
int wire_eth_parse(const uint8_t *buf, size_t len, struct wire_eth *out);

/* Writes a 14-byte Ethernet II header (no tags). Returns 14 or WIRE_ESPACE. */
int wire_eth_emit(uint8_t *buf, size_t cap, const uint8_t dst[6], const uint8_t src[6], uint16_t type);

#endif
