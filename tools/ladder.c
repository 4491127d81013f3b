/* The seed's picture as text: one arrow per segment between two columns,
 * with absolute and relative seq/ack and the arithmetic of every ACK. */
#include "ladder.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "tcp/seq.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define MAX_SEGS 4096

struct lseg {
    double t;
    int from; /* 0: left host, 1: right host */
    uint16_t flags;
    uint32_t seq, ack;
    uint32_t len;
    uint16_t wnd;
};

struct side {
    uint32_t addr;
    uint16_t port;
    bool have_isn;
    uint32_t isn;
    bool acked;       /* has sent an ACK yet */
    uint32_t last_ack; /* highest ack it sent */
};

static void flags_text(uint16_t f, char *out, size_t n)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {{WIRE_TCP_SYN, "SYN"}, {WIRE_TCP_FIN, "FIN"}, {WIRE_TCP_RST, "RST"}, {WIRE_TCP_PSH, "PSH"},
                 {WIRE_TCP_ACK, "ACK"}, {WIRE_TCP_URG, "URG"}, {WIRE_TCP_ECE, "ECE"}, {WIRE_TCP_CWR, "CWR"}};
    out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (f & names[i].bit) {
            if (out[0])
                strncat(out, ",", n - strlen(out) - 1);
            strncat(out, names[i].name, n - strlen(out) - 1);
        }
}

static uint32_t rel(const struct side *s, uint32_t v)
{
    return s->have_isn ? v - s->isn : v;
}

/* "1 + 9+9+28+11": what the peer sent between the previous ACK and this
 * one, read off the segments themselves (each sequence range once). */
static void explain_ack(const struct lseg *segs, int n, int upto, const struct side *acker,
                        const struct side *peer, int peer_id, uint32_t ack, char *out, size_t cap)
{
    bool first = !acker->acked;
    uint32_t from = first ? peer->isn : acker->last_ack;
    char parts[256] = "";
    uint32_t covered = from;
    for (int i = 0; i < upto && i < n; i++) {
        const struct lseg *s = &segs[i];
        if (s->from != peer_id)
            continue;
        uint32_t start = s->seq;
        uint32_t slen = s->len + !!(s->flags & WIRE_TCP_SYN) + !!(s->flags & WIRE_TCP_FIN);
        if (slen == 0 || start != covered || seq_gt(start + slen, ack))
            continue;
        char piece[48];
        if (s->flags & WIRE_TCP_SYN)
            snprintf(piece, sizeof piece, "1 (SYN)");
        else if (s->len && (s->flags & WIRE_TCP_FIN))
            snprintf(piece, sizeof piece, "%u + 1 (FIN)", s->len);
        else if (s->flags & WIRE_TCP_FIN)
            snprintf(piece, sizeof piece, "1 (FIN)");
        else
            snprintf(piece, sizeof piece, "%u", s->len);
        bool data_run = parts[0] && !(s->flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)) &&
                        parts[strlen(parts) - 1] != ')';
        strncat(parts, parts[0] ? (data_run ? "+" : " + ") : "", sizeof parts - strlen(parts) - 1);
        strncat(parts, piece, sizeof parts - strlen(parts) - 1);
        covered += slen;
    }
    if (covered != ack || !parts[0]) {
        out[0] = 0; /* not explained by segments we saw: say nothing rather than guess */
        return;
    }
    if (first && peer->have_isn)
        snprintf(out, cap, "ack %u = ISN %u + %s", ack, from, parts);
    else
        snprintf(out, cap, "ack %u = %u + %s", rel(peer, ack), rel(peer, from), parts);
}

int ladder_print_pcap(const char *path, FILE *out)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) {
        fprintf(stderr, "ladder: %s\n", err);
        return -1;
    }
    int dlt = pcap_datalink(p);
    static struct lseg segs[MAX_SEGS];
    struct side side[2];
    memset(side, 0, sizeof side);
    int n = 0;
    double t0 = -1;
    struct pcap_pkthdr *h;
    const u_char *d;
    while (n < MAX_SEGS && pcap_next_ex(p, &h, &d) == 1) {
        if (dlt != DLT_RAW)
            break;
        struct wire_ipv4 ip;
        struct wire_tcp t;
        if (wire_ipv4_parse(d, h->caplen, WIRE_IPV4_ALLOW_TRUNC, &ip) != WIRE_OK || ip.proto != WIRE_IPPROTO_TCP ||
            wire_tcp_parse(ip.payload, ip.payload_len, &t) != WIRE_OK)
            continue;
        double ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
        if (t0 < 0) {
            t0 = ts;
            side[0].addr = ip.src;
            side[0].port = t.sport;
            side[1].addr = ip.dst;
            side[1].port = t.dport;
        }
        int from = (ip.src == side[0].addr && t.sport == side[0].port) ? 0 : 1;
        segs[n++] = (struct lseg){ts - t0, from, t.flags, t.seq, t.ack, (uint32_t)t.payload_len, t.wnd};
        if ((t.flags & WIRE_TCP_SYN) && !side[from].have_isn) {
            side[from].have_isn = true;
            side[from].isn = t.seq;
        }
    }
    pcap_close(p);
    if (dlt != DLT_RAW) {
        fprintf(stderr, "ladder: %s: link type %d is not raw IP\n", path, dlt);
        return -1;
    }
    if (n == 0)
        return 0;

    char l[64], r[64];
    snprintf(l, sizeof l, "%u.%u.%u.%u:%u", side[0].addr >> 24, (side[0].addr >> 16) & 255,
             (side[0].addr >> 8) & 255, side[0].addr & 255, side[0].port);
    snprintf(r, sizeof r, "%u.%u.%u.%u:%u", side[1].addr >> 24, (side[1].addr >> 16) & 255,
             (side[1].addr >> 8) & 255, side[1].addr & 255, side[1].port);
    fprintf(out, "  %9s  %-21s %32s   %-30s %-30s %s\n", "time(ms)", l, r, "seq (relative)", "ack (relative)",
            "len");
    for (int i = 0; i < n; i++) {
        const struct lseg *s = &segs[i];
        struct side *me = &side[s->from], *peer = &side[1 - s->from];
        char fl[40], label[64], arrow[64], seqs[48], acks[48], why[320] = "";
        flags_text(s->flags, fl, sizeof fl);
        if (s->len)
            snprintf(label, sizeof label, " %s %u bytes ", fl, s->len);
        else
            snprintf(label, sizeof label, " %s ", fl);
        size_t w = 52, ll = strlen(label);
        if (ll > w - 4)
            ll = w - 4;
        memset(arrow, '-', w);
        arrow[w] = 0;
        memcpy(arrow + 4, label, ll);
        if (s->from == 0)
            arrow[w - 1] = '>';
        else
            arrow[0] = '<';
        snprintf(seqs, sizeof seqs, "%u (%u)", s->seq, rel(me, s->seq));
        if (s->flags & WIRE_TCP_ACK) {
            snprintf(acks, sizeof acks, "%u (%u)", s->ack, rel(peer, s->ack));
            if (!me->acked || seq_gt(s->ack, me->last_ack)) {
                explain_ack(segs, n, i, me, peer, 1 - s->from, s->ack, why, sizeof why);
                me->acked = true;
                me->last_ack = s->ack;
            }
        } else {
            snprintf(acks, sizeof acks, "%u (ACK flag clear)", s->ack);
        }
        fprintf(out, "  %9.3f  |%s|   %-30s %-30s %-4u %s\n", s->t * 1000.0, arrow, seqs, acks, s->len, why);
    }
    return n;
}
