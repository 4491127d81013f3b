/* What a NIC with checksum offload does: the TCP checksum of an outgoing
 * datagram, for the links that compute it on the stack's behalf
 * (SYNACK_OFFLOAD_TX_CSUM). */
#include "link.h"

#include "wire/bytes.h"
#include "wire/tcp.h"

void link_tcp_csum_fill(uint8_t *frame, size_t len)
{
    if (len < 1)
        return;
    if (frame[0] >> 4 == 4) {
        size_t ihl = (size_t)(frame[0] & 0x0f) * 4;
        if (len < 20 || ihl < 20 || frame[9] != 6)
            return;
        size_t total = wire_get16(frame + 2);
        /* a fragment carries no whole segment to sum */
        if (total > len || total < ihl + 20 || (wire_get16(frame + 6) & 0x3fff))
            return;
        wire_tcp_set_csum_ipv4(frame + ihl, total - ihl, wire_get32(frame + 12), wire_get32(frame + 16));
    } else if (frame[0] >> 4 == 6) {
        /* the stack's segments carry no extension headers */
        if (len < 40 + 20 || frame[6] != 6)
            return;
        size_t plen = wire_get16(frame + 4);
        if (40 + plen > len || plen < 20)
            return;
        wire_tcp_set_csum_ipv6(frame + 40, plen, frame + 8, frame + 24);
    }
}
