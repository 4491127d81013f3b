#include "arp.h"

#include <string.h>

#include "bytes.h"
#include "ethernet.h"

#define ARP_HTYPE_ETHER 1

int wire_arp_parse(const uint8_t *buf, size_t len, struct wire_arp *out)
{
    if (len < WIRE_ARP_LEN)
        return WIRE_ETRUNC;
    if (wire_get16(buf) != ARP_HTYPE_ETHER || wire_get16(buf + 2) != WIRE_ETHERTYPE_IPV4 || buf[4] != 6 ||
        buf[5] != 4)
        return WIRE_EUNSUPP;
    out->op = wire_get16(buf + 6);
    memcpy(out->sha, buf + 8, 6);
    out->spa = wire_get32(buf + 14);
    memcpy(out->tha, buf + 18, 6);
    out->tpa = wire_get32(buf + 24);
    return WIRE_OK;
}

int wire_arp_emit(uint8_t *buf, size_t cap, const struct wire_arp *a)
{
    if (cap < WIRE_ARP_LEN)
        return WIRE_ESPACE;
    wire_put16(buf, ARP_HTYPE_ETHER);
    wire_put16(buf + 2, WIRE_ETHERTYPE_IPV4);
    buf[4] = 6;
    buf[5] = 4;
    wire_put16(buf + 6, a->op);
    memcpy(buf + 8, a->sha, 6);
    wire_put32(buf + 14, a->spa);
    memcpy(buf + 18, a->tha, 6);
    wire_put32(buf + 24, a->tpa);
    return WIRE_ARP_LEN;
}
