#include "ethernet.h"

#include <string.h>

#include "bytes.h"

/* Type/length values up to 1500 are 802.3 lengths, 1536 and above are
 * EtherTypes; the range between is undefined (IEEE 802.3 §3.2.6). */
#define ETH_MAX_LENGTH 1500
#define ETH_MIN_TYPE 1536

static int parse_llc_snap(const uint8_t *p, size_t len, struct wire_eth *out)
{
    /* RFC 1042: DSAP=SSAP=0xAA, control 0x03 (UI), then a 3-byte OUI and
     * the EtherType. Other LLC payloads (STP, NetBIOS...) carry no IP. */
    if (len < 3)
        return WIRE_ETRUNC;
    if (p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03)
        return WIRE_EUNSUPP;
    if (len < 8)
        return WIRE_ETRUNC;
    out->llc_snap = 1;
    out->type = wire_get16(p + 6);
    out->payload = p + 8;
    out->payload_len = len - 8;
    return WIRE_OK;
}

int wire_eth_parse(const uint8_t *buf, size_t len, struct wire_eth *out)
{
    if (len < WIRE_ETH_HDR_LEN)
        return WIRE_ETRUNC;
    memcpy(out->dst, buf, 6);
    memcpy(out->src, buf + 6, 6);
    out->nvlan = 0;
    out->llc_snap = 0;
    size_t off = 12;
    uint16_t type = wire_get16(buf + off);
    while (type == WIRE_ETHERTYPE_VLAN || type == WIRE_ETHERTYPE_QINQ || type == WIRE_ETHERTYPE_QINQ_OLD) {
        if (out->nvlan == WIRE_ETH_VLAN_MAX)
            return WIRE_EUNSUPP;
        if (len < off + 6)
            return WIRE_ETRUNC;
        out->vlan[out->nvlan++] = wire_get16(buf + off + 2) & 0x0fff;
        off += 4;
        type = wire_get16(buf + off);
    }
    off += 2;
    if (type <= ETH_MAX_LENGTH) {
        /* The length field bounds the LLC data; trailing bytes are padding. */
        size_t avail = len - off;
        return parse_llc_snap(buf + off, type < avail ? type : avail, out);
    }
    if (type < ETH_MIN_TYPE)
        return WIRE_EUNSUPP;
    out->type = type;
    out->payload = buf + off;
    out->payload_len = len - off;
    return WIRE_OK;
}

int wire_eth_emit(uint8_t *buf, size_t cap, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    if (cap < WIRE_ETH_HDR_LEN)
        return WIRE_ESPACE;
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    wire_put16(buf + 12, type);
    return WIRE_ETH_HDR_LEN;
}
