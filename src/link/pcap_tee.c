/* The capture tee: frames to a pcap file through libpcap's dump API, so
 * Wireshark, tshark and `synack trace` read what crossed a link. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#include "synack.h"

struct synack_pcap {
    pcap_t *dead;
    pcap_dumper_t *dumper;
};

int synack_pcap_open(const char *path, synack_pcap **out)
{
    if (!path || !out)
        return -EINVAL;
    synack_pcap *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->dead = pcap_open_dead(DLT_RAW, 65535);
    if (!p->dead) {
        free(p);
        return -ENOMEM;
    }
    p->dumper = pcap_dump_open(p->dead, path);
    if (!p->dumper) {
        pcap_close(p->dead);
        free(p);
        return -EIO;
    }
    *out = p;
    return 0;
}

void synack_pcap_close(synack_pcap *p)
{
    if (!p)
        return;
    pcap_dump_close(p->dumper);
    pcap_close(p->dead);
    free(p);
}

void synack_pcap_write(synack_pcap *p, const uint8_t *frame, size_t len, synack_time now)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(now / 1000000u);
    h.ts.tv_usec = (suseconds_t)(now % 1000000u);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)p->dumper, &h, frame);
}

void synack_pcap_tap(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now)
{
    (void)dir;
    (void)ifindex;
    synack_pcap_write(ctx, frame, len, now);
}
