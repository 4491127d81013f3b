/* Result codes shared by every wire codec. Parsers return WIRE_OK or one of
 * these; they never read outside the buffer they are given. */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

enum wire_result {
    WIRE_OK = 0,
    WIRE_ETRUNC = -1,   /* buffer shorter than the header or stated length */
    WIRE_EVERSION = -2, /* IP version field does not match */
    WIRE_EHDRLEN = -3,  /* header length field below minimum or past buffer */
    WIRE_ETOTLEN = -4,  /* IP total length inconsistent with header length */
    WIRE_ECSUM = -5,    /* checksum does not verify */
    WIRE_EOPTLEN = -6,  /* option with length 0, 1 or running past the header */
    WIRE_ESPACE = -7,   /* emit: output buffer too small */
    WIRE_EUNSUPP = -8,  /* valid but not something this codec handles */
};

const char *wire_strerror(int result);

/* RFC 3168 §5: the ECN field, the low two bits of the IPv4 TOS octet and
 * of the IPv6 traffic class. */
#define WIRE_ECN_MASK 0x3u
#define WIRE_ECN_NOT_ECT 0x0u
#define WIRE_ECN_ECT1 0x1u
#define WIRE_ECN_ECT0 0x2u
#define WIRE_ECN_CE 0x3u

#endif
