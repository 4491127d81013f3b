/* ARP codec for IPv4 over Ethernet (RFC 826): the 28-byte packet after the
 * Ethernet header. */
#ifndef SYNACK_WIRE_ARP_H
#define SYNACK_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_ARP_LEN 28
#define WIRE_ARP_REQUEST 1
#define WIRE_ARP_REPLY 2

struct wire_arp {
    uint16_t op;
    uint8_t sha[6];  /* sender hardware address */
    uint32_t spa;    /* sender protocol address, host order */
    uint8_t tha[6];
    uint32_t tpa;
};

/* Accepts only hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and 4:
 * anything else is WIRE_EUNSUPP (RFC 826: "if not, discard"). */
int wire_arp_parse(const uint8_t *buf, size_t len, struct wire_arp *out);
/* Writes the 28-byte packet. Returns 28 or WIRE_ESPACE. */
int wire_arp_emit(uint8_t *buf, size_t cap, const struct wire_arp *a);

#endif
