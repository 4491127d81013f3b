#include "linklayer.h"

#include "bytes.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

/* NFLOG's TLV type for the captured packet, and the netfilter address
 * families of its header (AF_INET, AF_INET6). */
#define NFULA_PAYLOAD 9
#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10

int wire_sll_parse(const uint8_t *buf, size_t len, struct wire_link *out)
{
    if (len < WIRE_SLL_HDR_LEN)
        return WIRE_ETRUNC;
    out->type = wire_get16(buf + 14);
    out->payload = buf + WIRE_SLL_HDR_LEN;
    out->payload_len = len - WIRE_SLL_HDR_LEN;
    return WIRE_OK;
}

int wire_sll2_parse(const uint8_t *buf, size_t len, struct wire_link *out)
{
    if (len < WIRE_SLL2_HDR_LEN)
        return WIRE_ETRUNC;
    out->type = wire_get16(buf);
    out->payload = buf + WIRE_SLL2_HDR_LEN;
    out->payload_len = len - WIRE_SLL2_HDR_LEN;
    return WIRE_OK;
}

static int af_to_ethertype(uint32_t af)
{
    if (af == 2)
        return ETHERTYPE_IPV4;
    if (af == 24 || af == 28 || af == 30 || af == 10)
        return ETHERTYPE_IPV6;
    return -1;
}

int wire_null_parse(const uint8_t *buf, size_t len, struct wire_link *out)
{
    if (len < WIRE_NULL_HDR_LEN)
        return WIRE_ETRUNC;
    /* The family is small, so whichever byte order gives a value below
     * 65536 is the one the capturing host used. */
    uint32_t be = wire_get32(buf);
    uint32_t le = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
    int t = af_to_ethertype(be <= 0xffff ? be : le);
    if (t < 0)
        return WIRE_EUNSUPP;
    out->type = (uint16_t)t;
    out->payload = buf + WIRE_NULL_HDR_LEN;
    out->payload_len = len - WIRE_NULL_HDR_LEN;
    return WIRE_OK;
}

int wire_nflog_parse(const uint8_t *buf, size_t len, struct wire_link *out)
{
    if (len < WIRE_NFLOG_HDR_LEN)
        return WIRE_ETRUNC;
    if (buf[1] != 0)
        return WIRE_EVERSION;
    if (buf[0] == NFPROTO_IPV4)
        out->type = ETHERTYPE_IPV4;
    else if (buf[0] == NFPROTO_IPV6)
        out->type = ETHERTYPE_IPV6;
    else
        return WIRE_EUNSUPP;
    size_t off = WIRE_NFLOG_HDR_LEN;
    while (off + 4 <= len) {
        /* Lengths and types are host-endian on the capturing machine; the
         * tcpdump group's spec says little-endian in practice, and a
         * big-endian reading is tried when that one does not fit. */
        size_t tl = (size_t)buf[off] | (size_t)buf[off + 1] << 8;
        uint16_t tt = (uint16_t)(buf[off + 2] | buf[off + 3] << 8);
        if (tl < 4 || off + tl > len) {
            tl = wire_get16(buf + off);
            tt = wire_get16(buf + off + 2);
        }
        if (tl < 4 || off + tl > len)
            return WIRE_ETRUNC;
        if ((tt & 0x7fff) == NFULA_PAYLOAD) {
            out->payload = buf + off + 4;
            out->payload_len = tl - 4;
            return WIRE_OK;
        }
        off += (tl + 3) & ~(size_t)3;
    }
    return WIRE_ETRUNC;
}

int wire_ipoib_parse(const uint8_t *buf, size_t len, struct wire_link *out)
{
    if (len < WIRE_IPOIB_HDR_LEN)
        return WIRE_ETRUNC;
    out->type = wire_get16(buf + 40);
    out->payload = buf + WIRE_IPOIB_HDR_LEN;
    out->payload_len = len - WIRE_IPOIB_HDR_LEN;
    return WIRE_OK;
}
