/* Capture pseudo link layers that carry IP: Linux cooked v1 and v2, BSD
 * null/loopback, NFLOG and IP-over-InfiniBand. Each parse yields the
 * network protocol as an EtherType and a view of the network packet. */
#ifndef SYNACK_WIRE_LINKLAYER_H
#define SYNACK_WIRE_LINKLAYER_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_SLL_HDR_LEN 16
#define WIRE_SLL2_HDR_LEN 20
#define WIRE_NULL_HDR_LEN 4
#define WIRE_NFLOG_HDR_LEN 4
#define WIRE_IPOIB_HDR_LEN 44

struct wire_link {
    uint16_t type; /* EtherType of the payload (0x0800 IPv4, 0x86dd IPv6) */
    const uint8_t *payload;
    size_t payload_len;
};

/* LINKTYPE_LINUX_SLL (113): packet type, ARPHRD, address, protocol. */
int wire_sll_parse(const uint8_t *buf, size_t len, struct wire_link *out);

/* LINKTYPE_LINUX_SLL2 (276): protocol first, then interface index. */
int wire_sll2_parse(const uint8_t *buf, size_t len, struct wire_link *out);

/* LINKTYPE_NULL (0) and LINKTYPE_LOOP (108): a 4-byte address family, in
 * the capturing host's byte order for NULL and big-endian for LOOP. The
 * BSDs disagree on AF_INET6 (24, 28, 30), so all three are accepted. */
int wire_null_parse(const uint8_t *buf, size_t len, struct wire_link *out);

/* LINKTYPE_NFLOG (239): a 4-byte header then TLVs whose lengths are in host
 * byte order; NFULA_PAYLOAD (9) holds the packet. */
int wire_nflog_parse(const uint8_t *buf, size_t len, struct wire_link *out);

/* LINKTYPE_IPOIB (242): 40 bytes of hardware addresses, EtherType, reserved. */
int wire_ipoib_parse(const uint8_t *buf, size_t len, struct wire_link *out);

#endif
