/* Writes captures for tests/trace to compare with tshark:
 *   gentcp frag FILE     IPv4 and IPv6 connections whose data segments are
 *                        fragmented (in order, reversed, a tiny first
 *                        fragment, one fragment lost and the segment
 *                        retransmitted);
 *   gentcp hostile FILE  the same with hostile fragments mixed in: overlaps,
 *                        a datagram past 65535 bytes, odd sizes, a flood of
 *                        incomplete datagrams larger than the reassembly
 *                        memory bound;
 *   gentcp flags FILE    connections that raise every analysis flag and TCP
 *                        expert message the shared captures do not: out of
 *                        order, zero-window probe and its ACK, keep-alive
 *                        ACK, window full, ACKed unseen, TFO data ignored,
 *                        urgent pointer without URG, a SYN without MSS,
 *                        reused ports. */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

struct gen {
    pcap_dumper_t *d;
    uint64_t t_us;
    /* The next segment's window (0: 65535), urgent pointer and options;
     * segment() uses them once. */
    uint16_t win, urg;
    bool zero_win;
    const uint8_t *opts;
    size_t optlen;
    uint16_t ipid;
    uint32_t frag_id6;
    uint8_t frame[70000];
};

struct conn {
    int af;
    uint8_t a[2][16]; /* client, server */
    uint16_t port[2];
};

static void put(struct gen *g, uint16_t ethertype, const uint8_t *ip, size_t len)
{
    static const uint8_t m0[6] = {2, 0, 0, 0, 0, 1}, m1[6] = {2, 0, 0, 0, 0, 2};
    wire_eth_emit(g->frame, 14, m1, m0, ethertype);
    memcpy(g->frame + 14, ip, len);
    struct pcap_pkthdr h;
    g->t_us += 1000;
    h.ts.tv_sec = (time_t)(1700000000 + g->t_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(g->t_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)(14 + len);
    pcap_dump((u_char *)g->d, &h, g->frame);
}

/* A TCP segment from side `from` with len bytes of payload, checksummed. */
static size_t segment(struct gen *g, const struct conn *c, int from, uint16_t flags, uint32_t seq, uint32_t ack,
                      uint32_t len, uint8_t *out)
{
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = c->port[from];
    t.dport = c->port[1 - from];
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.wnd = g->zero_win ? 0 : g->win ? g->win : 65535;
    t.urg = g->urg;
    t.opts_raw = g->opts;
    t.opts_len = g->optlen;
    g->win = g->urg = 0;
    g->zero_win = false;
    g->opts = NULL;
    g->optlen = 0;
    int hl = wire_tcp_emit(out, 60, &t);
    for (uint32_t i = 0; i < len; i++)
        out[hl + i] = (uint8_t)('a' + (seq + i) % 26);
    size_t n = (size_t)hl + len;
    if (c->af == 4)
        wire_tcp_set_csum_ipv4(out, n, wire_get32(c->a[from]), wire_get32(c->a[1 - from]));
    else
        wire_tcp_set_csum_ipv6(out, n, c->a[from], c->a[1 - from]);
    return n;
}

/* An IP packet carrying payload bytes [lo, hi) of datagram `id`: a
 * fragment, or with whole set the unfragmented datagram (DF set on IPv4, no
 * Fragment header on IPv6). */
static void ip_packet(struct gen *g, const struct conn *c, int from, uint32_t id, const uint8_t *data, uint32_t lo,
                      uint32_t hi, bool mf, bool whole)
{
    uint8_t ip[70000];
    if (c->af == 4) {
        struct wire_ipv4 h;
        memset(&h, 0, sizeof h);
        h.ttl = 64;
        h.proto = WIRE_IPPROTO_TCP;
        h.id = (uint16_t)id;
        h.df = whole;
        h.mf = mf;
        h.frag_off = (uint16_t)lo;
        h.src = wire_get32(c->a[from]);
        h.dst = wire_get32(c->a[1 - from]);
        wire_ipv4_emit(ip, sizeof ip, &h, hi - lo);
        memcpy(ip + 20, data, hi - lo);
        put(g, WIRE_ETHERTYPE_IPV4, ip, 20 + (hi - lo));
        return;
    }
    struct wire_ipv6 h;
    memset(&h, 0, sizeof h);
    h.proto = whole ? WIRE_IPPROTO_TCP : WIRE_IPV6_FRAGMENT;
    h.hop_limit = 64;
    memcpy(h.src, c->a[from], 16);
    memcpy(h.dst, c->a[1 - from], 16);
    size_t fh = whole ? 0 : 8;
    wire_ipv6_emit(ip, sizeof ip, &h, fh + (hi - lo));
    if (!whole) {
        ip[40] = WIRE_IPPROTO_TCP;
        ip[41] = 0;
        wire_put16(ip + 42, (uint16_t)(lo | (mf ? 1 : 0)));
        wire_put32(ip + 44, id);
    }
    memcpy(ip + 40 + fh, data, hi - lo);
    put(g, WIRE_ETHERTYPE_IPV6, ip, 40 + fh + (hi - lo));
}

static void fragment(struct gen *g, const struct conn *c, int from, uint32_t id, const uint8_t *data, uint32_t lo,
                     uint32_t hi, bool mf)
{
    ip_packet(g, c, from, id, data, lo, hi, mf, false);
}

static uint32_t next_id(struct gen *g, const struct conn *c)
{
    return c->af == 4 ? ++g->ipid : ++g->frag_id6;
}

/* Sends a segment whole (ncut 0) or cut at the given payload offsets, the
 * pieces in the order given (indexes into the pieces), skipping `lose`. */
static void send_seg(struct gen *g, const struct conn *c, int from, uint16_t flags, uint32_t seq, uint32_t ack,
                 uint32_t len, const uint32_t *cut, unsigned ncut, const unsigned *order, int lose)
{
    uint8_t seg[70000];
    uint32_t n = (uint32_t)segment(g, c, from, flags, seq, ack, len, seg);
    uint32_t id = next_id(g, c);
    if (ncut == 0) {
        ip_packet(g, c, from, id, seg, 0, n, false, true);
        return;
    }
    for (unsigned k = 0; k <= ncut; k++) {
        unsigned i = order ? order[k] : k;
        if ((int)i == lose)
            continue;
        uint32_t lo = i == 0 ? 0 : cut[i - 1], hi = i == ncut ? n : cut[i];
        fragment(g, c, from, id, seg + lo, lo, hi, i != ncut);
    }
}

static void connection(struct gen *g, const struct conn *c, bool v4_extras)
{
    const uint16_t S = WIRE_TCP_SYN, A = WIRE_TCP_ACK, F = WIRE_TCP_FIN, P = WIRE_TCP_PSH;
    uint32_t ci = 1000, si = 5000000;
    send_seg(g, c, 0, S, ci, 0, 0, NULL, 0, NULL, -1);
    send_seg(g, c, 1, S | A, si, ci + 1, 0, NULL, 0, NULL, -1);
    send_seg(g, c, 0, A, ci + 1, si + 1, 0, NULL, 0, NULL, -1);
    send_seg(g, c, 0, P | A, ci + 1, si + 1, 100, NULL, 0, NULL, -1);
    uint32_t cs = ci + 101, ss = si + 1;
    static const uint32_t two[] = {1480}, three[] = {8, 1480}, mid[] = {1000, 2000};
    static const unsigned rev[] = {1, 0}, middle_first[] = {1, 0, 2};
    send_seg(g, c, 1, A, ss, cs, 2900, two, 1, NULL, -1); /* in order */
    ss += 2900;
    send_seg(g, c, 1, A, ss, cs, 2900, two, 1, rev, -1); /* last fragment first */
    ss += 2900;
    send_seg(g, c, 1, A, ss, cs, 2900, v4_extras ? three : mid, 2, middle_first, -1); /* tiny or middle first */
    ss += 2900;
    send_seg(g, c, 0, A, cs, ss, 0, NULL, 0, NULL, -1);
    if (v4_extras) {
        uint32_t lost = ss;
        send_seg(g, c, 1, A, ss, cs, 2900, two, 1, NULL, 1); /* a fragment lost: no segment */
        ss += 2900;
        send_seg(g, c, 1, P | A, ss, cs, 1000, NULL, 0, NULL, -1); /* "previous segment not captured" */
        send_seg(g, c, 0, A, cs, lost, 0, NULL, 0, NULL, -1);
        send_seg(g, c, 0, A, cs, lost, 0, NULL, 0, NULL, -1);
        send_seg(g, c, 1, A, lost, cs, 2900, two, 1, NULL, -1); /* retransmitted, new IP ID */
        ss += 1000;
        send_seg(g, c, 0, A, cs, ss, 0, NULL, 0, NULL, -1);
    }
    send_seg(g, c, 1, F | A, ss, cs, 0, NULL, 0, NULL, -1);
    send_seg(g, c, 0, F | A, cs, ss + 1, 0, NULL, 0, NULL, -1);
    send_seg(g, c, 1, A, ss + 1, cs + 1, 0, NULL, 0, NULL, -1);
}

/* Fragments that must not be reassembled, or not crash anything. */
static void hostile(struct gen *g, const struct conn *c)
{
    uint8_t junk[3000];
    memset(junk, 'x', sizeof junk);
    /* Overlap: [0,1480) then [1000,2480) then the end: dropped whole. */
    uint32_t id = next_id(g, c);
    uint8_t seg[3000];
    uint32_t n = (uint32_t)segment(g, c, 1, WIRE_TCP_ACK, 77, 1101, 2900, seg);
    fragment(g, c, 1, id, seg, 0, 1480, true);
    fragment(g, c, 1, id, seg + 1000, 1000, 2480, true);
    fragment(g, c, 1, id, seg + 2480, 2480, n, false);
    /* Past 65535 bytes (the ping of death). */
    id = next_id(g, c);
    fragment(g, c, 1, id, seg, 0, 1480, true);
    fragment(g, c, 1, id, junk, 65528, 65528 + 1000, false);
    /* A non-final fragment of 13 bytes, and an empty one. */
    id = next_id(g, c);
    fragment(g, c, 1, id, seg, 0, 13, true);
    fragment(g, c, 1, id, seg, 16, 16, true);
    /* Two different ends. */
    id = next_id(g, c);
    fragment(g, c, 1, id, seg + 1480, 1480, 2000, false);
    fragment(g, c, 1, id, seg + 1480, 1480, 2480, false);
    /* 5,000 first fragments that never complete: 7 MB, past the bound. */
    for (int i = 0; i < 5000; i++)
        fragment(g, c, 1, next_id(g, c), junk, 0, 1480, true);
}

/* Whole segments with the next one's window, urgent pointer or options. */
static void plain(struct gen *g, const struct conn *c, int from, uint16_t flags, uint32_t seq, uint32_t ack,
                  uint32_t len)
{
    send_seg(g, c, from, flags, seq, ack, len, NULL, 0, NULL, -1);
}

static void flags(struct gen *g)
{
    const uint16_t S = WIRE_TCP_SYN, A = WIRE_TCP_ACK, F = WIRE_TCP_FIN, R = WIRE_TCP_RST;
    static const uint8_t mss_ws[] = {2, 4, 5, 180, 1, 3, 3, 2};          /* MSS 1460, wscale 2 */
    static const uint8_t tfo_no_mss[] = {1, 1, 1, 3, 3, 2, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8}; /* no MSS; TFO cookie */
    struct conn a = {.af = 4, .port = {40010, 80}}, b = {.af = 4, .port = {40011, 80}}, c = {.af = 4, .port = {40012, 80}};
    wire_put32(a.a[0], 0x0a080001);
    wire_put32(a.a[1], 0x0a080002);
    memcpy(b.a, a.a, sizeof a.a);
    memcpy(c.a, a.a, sizeof a.a);
    uint32_t ci = 100, si = 900000;

    g->opts = mss_ws, g->optlen = sizeof mss_ws;
    plain(g, &a, 0, S, ci, 0, 0);
    g->opts = mss_ws, g->optlen = sizeof mss_ws;
    plain(g, &a, 1, S | A, si, ci + 1, 0);
    uint32_t cs = ci + 1, ss = si + 1;
    plain(g, &a, 0, A, cs, ss, 0);                /* iRTT 2 ms */
    plain(g, &a, 1, A, ss, cs, 1000);
    plain(g, &a, 1, A, ss + 2000, cs, 1000);      /* previous segment not captured */
    plain(g, &a, 1, A, ss + 1000, cs, 1000);      /* out of order: within the iRTT */
    plain(g, &a, 0, A, cs, ss + 3000, 0);
    plain(g, &a, 1, A, ss + 3000, cs, 1000);      /* "lost" after the capture point */
    for (int i = 0; i < 3; i++)
        plain(g, &a, 0, A, cs, ss + 3000, 0);     /* duplicate ACKs #1..#3 */
    plain(g, &a, 1, A, ss + 3000, cs, 1000);      /* fast retransmission */
    plain(g, &a, 0, A, cs, ss + 4000, 0);
    plain(g, &a, 1, A, ss + 3000, cs, 1000);      /* spurious retransmission */
    g->zero_win = true;
    plain(g, &a, 0, A, cs, ss + 4000, 0);         /* zero window */
    plain(g, &a, 1, A, ss + 4000, cs, 1);         /* zero-window probe */
    g->zero_win = true;
    plain(g, &a, 0, A, cs, ss + 4000, 0);         /* zero-window probe ACK */
    g->win = 1000;
    plain(g, &a, 0, A, cs, ss + 4000, 0);         /* window update (1000 << 2) */
    plain(g, &a, 1, A, ss + 3999, cs, 0);         /* keep-alive */
    g->win = 1000;
    plain(g, &a, 0, A, cs, ss + 4000, 0);         /* keep-alive ACK */
    plain(g, &a, 1, A, ss + 4000, cs, 4000);      /* window full: 4001 + 4000 */
    g->win = 1000;
    plain(g, &a, 0, A, cs, ss + 8000, 0);
    g->urg = 5;
    plain(g, &a, 1, A, ss + 8000, cs, 10);        /* urgent pointer without URG */
    g->win = 1000;
    plain(g, &a, 0, A, cs, ss + 9000, 0);         /* ACKed unseen segment */
    plain(g, &a, 0, R, cs, 12345, 0);             /* RST, ack field without ACK */

    /* A SYN with options but no MSS, carrying TFO data the server ignores;
     * the server closes first and retransmits its FIN. */
    g->opts = tfo_no_mss, g->optlen = sizeof tfo_no_mss;
    plain(g, &b, 0, S, ci, 0, 20);
    plain(g, &b, 1, S | A, si, ci + 1, 0);
    plain(g, &b, 0, A, ci + 1, si + 1, 0);
    plain(g, &b, 1, F | A, si + 1, ci + 1, 0);
    plain(g, &b, 1, F | A, si + 1, ci + 1, 0);
    plain(g, &b, 0, F | A, ci + 1, si + 2, 0);
    plain(g, &b, 1, A, si + 2, ci + 2, 0);

    /* A connection, then a new one on the same ports. */
    plain(g, &c, 0, S, ci, 0, 0);
    plain(g, &c, 1, S | A, si, ci + 1, 0);
    plain(g, &c, 0, A, ci + 1, si + 1, 0);
    plain(g, &c, 0, S, ci + 7777, 0, 0);
    plain(g, &c, 1, S | A, si + 7777, ci + 7778, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "frag") && strcmp(argv[1], "hostile") && strcmp(argv[1], "flags"))) {
        fprintf(stderr, "usage: gentcp frag|hostile|flags FILE\n");
        return 2;
    }
    bool bad = !strcmp(argv[1], "hostile");
    const char *path = argv[2];
    static struct gen g;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    g.d = pcap_dump_open(dead, path);
    if (!g.d) {
        fprintf(stderr, "gentcp: %s: %s\n", path, pcap_geterr(dead));
        return 1;
    }
    if (!strcmp(argv[1], "flags")) {
        flags(&g);
        pcap_dump_close(g.d);
        pcap_close(dead);
        return 0;
    }
    struct conn v4 = {.af = 4, .port = {40000, 80}}, v6 = {.af = 6, .port = {40001, 80}};
    wire_put32(v4.a[0], 0x0a090001);
    wire_put32(v4.a[1], 0x0a090002);
    static const uint8_t a6[2][16] = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
    memcpy(v6.a, a6, sizeof a6);
    if (bad)
        hostile(&g, &v4);
    connection(&g, &v4, true);
    if (bad)
        hostile(&g, &v6);
    connection(&g, &v6, false);
    pcap_dump_close(g.d);
    pcap_close(dead);
    return 0;
}
