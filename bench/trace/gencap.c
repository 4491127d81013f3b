/* Writes a large Ethernet pcap of TCP bulk transfers with loss, for the
 * `synack trace` benchmark: several connections interleaved, each with a
 * handshake, MSS-sized data, delayed ACKs, segments lost before the capture
 * point, duplicate ACKs with SACK, fast retransmissions and a FIN close.
 * usage: gencap FILE MEGABYTES [CONNECTIONS] [LOSS_PER_MILLE]
 *        gencap --short FILE CONNECTIONS
 * The second form writes many short connections one after another, one
 * every 100 ms (handshake, a request, a response, four-way close): the
 * capture that shows whether memory follows the file or the live
 * connections. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define MSS 1448
#define FLIGHT 64

struct gen {
    pcap_dumper_t *d;
    uint64_t t_us, bytes_out, packets;
    uint32_t rng;
    uint8_t frame[2048];
};

struct conn {
    uint32_t cli, srv;
    uint16_t cport, sport;
    uint32_t cisn, sisn;
    uint64_t total, sent; /* payload bytes to send, sent in order so far */
    uint16_t ipid;
};

static uint32_t rnd(struct gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 17;
    g->rng ^= g->rng << 5;
    return g->rng;
}

static void emit(struct gen *g, struct conn *c, int from_server, uint16_t flags, uint32_t seq, uint32_t ack,
                 uint32_t len, const struct wire_tcp_sack_block *sack, unsigned nsack)
{
    static const uint8_t mac_c[6] = {2, 0, 0, 0, 0, 1}, mac_s[6] = {2, 0, 0, 0, 0, 2};
    uint8_t *f = g->frame;
    wire_eth_emit(f, 14, from_server ? mac_c : mac_s, from_server ? mac_s : mac_c, WIRE_ETHERTYPE_IPV4);
    struct wire_tcp_opts o;
    memset(&o, 0, sizeof o);
    if (flags & WIRE_TCP_SYN) {
        o.has_mss = true;
        o.mss = MSS;
        o.sack_perm = true;
        o.has_wscale = true;
        o.wscale = 7;
    }
    o.sack_count = (uint8_t)nsack;
    for (unsigned i = 0; i < nsack; i++)
        o.sack[i] = sack[i];
    uint8_t optbuf[WIRE_TCP_OPT_MAX];
    int olen = wire_tcp_opts_emit(optbuf, sizeof optbuf, &o);
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = from_server ? c->sport : c->cport;
    t.dport = from_server ? c->cport : c->sport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.wnd = 512; /* 64 KiB with the scale of 7 */
    t.opts_raw = optbuf;
    t.opts_len = (size_t)olen;
    uint8_t *seg = f + 14 + 20;
    int hl = wire_tcp_emit(seg, sizeof g->frame - 34, &t);
    memset(seg + hl, 'x', len);
    struct wire_ipv4 ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.proto = WIRE_IPPROTO_TCP;
    ip.df = true;
    ip.id = c->ipid++;
    ip.src = from_server ? c->srv : c->cli;
    ip.dst = from_server ? c->cli : c->srv;
    wire_ipv4_emit(f + 14, 20, &ip, (size_t)hl + len);
    wire_tcp_set_csum_ipv4(seg, (size_t)hl + len, ip.src, ip.dst);
    struct pcap_pkthdr h;
    g->t_us += 3 + rnd(g) % 5;
    h.ts.tv_sec = (time_t)(1700000000 + g->t_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(g->t_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)(34 + hl + len);
    pcap_dump((u_char *)g->d, &h, f);
    g->bytes_out += 16 + h.caplen;
    g->packets++;
}

/* One flight: up to FLIGHT segments from sent; lost ones are not captured,
 * the receiver answers each with a (dup) ACK carrying SACK, the sender
 * retransmits the first hole after three duplicates. */
static void flight(struct gen *g, struct conn *c, unsigned loss)
{
    uint32_t cs = c->cisn + 1, base = c->sisn + 1;
    uint64_t start = c->sent;
    unsigned n = 0;
    int64_t hole = -1;
    uint64_t hole_len = 0, highest = start;
    unsigned dups = 0, since_ack = 0;
    while (n < FLIGHT && c->sent < c->total) {
        uint32_t len = c->total - c->sent < MSS ? (uint32_t)(c->total - c->sent) : MSS;
        uint64_t off = c->sent;
        c->sent += len;
        n++;
        if (hole < 0 && rnd(g) % 1000 < loss) {
            hole = (int64_t)off; /* lost on the way: never reaches the capture */
            hole_len = len;
            continue;
        }
        emit(g, c, 1, WIRE_TCP_ACK | (c->sent == c->total ? WIRE_TCP_PSH : 0), base + (uint32_t)off, cs, len, NULL,
             0);
        highest = off + len;
        if (hole >= 0) {
            struct wire_tcp_sack_block b = {base + (uint32_t)(hole + (int64_t)hole_len), base + (uint32_t)highest};
            emit(g, c, 0, WIRE_TCP_ACK, cs, base + (uint32_t)hole, 0, &b, 1);
            if (++dups == 3) {
                emit(g, c, 1, WIRE_TCP_ACK, base + (uint32_t)hole, cs, (uint32_t)hole_len, NULL, 0);
                emit(g, c, 0, WIRE_TCP_ACK, cs, base + (uint32_t)highest, 0, NULL, 0);
                hole = -1;
                dups = 0;
                since_ack = 0;
            }
        } else if (++since_ack == 2) {
            emit(g, c, 0, WIRE_TCP_ACK, cs, base + (uint32_t)highest, 0, NULL, 0);
            since_ack = 0;
        }
    }
    if (hole >= 0) {
        /* Too few duplicates: the retransmission timer fires. */
        g->t_us += 200000;
        emit(g, c, 1, WIRE_TCP_ACK, base + (uint32_t)hole, cs, (uint32_t)hole_len, NULL, 0);
        emit(g, c, 0, WIRE_TCP_ACK, cs, base + (uint32_t)c->sent, 0, NULL, 0);
    } else if (since_ack) {
        emit(g, c, 0, WIRE_TCP_ACK, cs, base + (uint32_t)c->sent, 0, NULL, 0);
    }
    (void)start;
}

/* A client from 10.1.x.y: a new address every 50,000 ports, so no tuple is
 * reused however many connections. */
static void short_conns(struct gen *g, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct conn c = {.cli = 0x0a010000 + i / 50000, .srv = 0x0a000002, .sport = 80};
        c.cport = (uint16_t)(10000 + i % 50000);
        c.cisn = rnd(g);
        c.sisn = rnd(g);
        uint32_t cs = c.cisn + 1, ss = c.sisn + 1;
        emit(g, &c, 0, WIRE_TCP_SYN, c.cisn, 0, 0, NULL, 0);
        emit(g, &c, 1, WIRE_TCP_SYN | WIRE_TCP_ACK, c.sisn, cs, 0, NULL, 0);
        emit(g, &c, 0, WIRE_TCP_ACK, cs, ss, 0, NULL, 0);
        emit(g, &c, 0, WIRE_TCP_ACK | WIRE_TCP_PSH, cs, ss, 120, NULL, 0);
        emit(g, &c, 1, WIRE_TCP_ACK | WIRE_TCP_PSH, ss, cs + 120, 900, NULL, 0);
        emit(g, &c, 0, WIRE_TCP_ACK | WIRE_TCP_FIN, cs + 120, ss + 900, 0, NULL, 0);
        emit(g, &c, 1, WIRE_TCP_ACK | WIRE_TCP_FIN, ss + 900, cs + 121, 0, NULL, 0);
        emit(g, &c, 0, WIRE_TCP_ACK, cs + 121, ss + 901, 0, NULL, 0);
        g->t_us += 100000;
    }
}

static int short_main(const char *path, unsigned n)
{
    struct gen g;
    memset(&g, 0, sizeof g);
    g.rng = 0x9e3779b9;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    g.d = pcap_dump_open(dead, path);
    if (!g.d) {
        fprintf(stderr, "gencap: %s: %s\n", path, pcap_geterr(dead));
        return 1;
    }
    short_conns(&g, n);
    pcap_dump_close(g.d);
    pcap_close(dead);
    printf("%llu packets, %llu bytes\n", (unsigned long long)g.packets, (unsigned long long)g.bytes_out + 24);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--short"))
        return short_main(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
    if (argc < 3) {
        fprintf(stderr, "usage: gencap FILE MEGABYTES [CONNECTIONS] [LOSS_PER_MILLE]\n");
        return 2;
    }
    uint64_t mb = strtoull(argv[2], NULL, 10);
    unsigned nconn = argc > 3 ? (unsigned)atoi(argv[3]) : 16;
    unsigned loss = argc > 4 ? (unsigned)atoi(argv[4]) : 10;
    if (nconn == 0 || nconn > 60000)
        nconn = 16;
    struct gen g;
    memset(&g, 0, sizeof g);
    g.rng = 0x12345678;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    g.d = pcap_dump_open(dead, argv[1]);
    if (!g.d) {
        fprintf(stderr, "gencap: %s: %s\n", argv[1], pcap_geterr(dead));
        return 1;
    }
    struct conn *c = calloc(nconn, sizeof *c);
    if (!c)
        return 1;
    uint64_t per = mb * 1000000 / nconn;
    for (unsigned i = 0; i < nconn; i++) {
        c[i].cli = 0x0a000001;
        c[i].srv = 0x0a000002 + (i % 4);
        c[i].cport = (uint16_t)(40000 + i);
        c[i].sport = 5001;
        c[i].cisn = rnd(&g);
        c[i].sisn = rnd(&g);
        c[i].total = per;
        emit(&g, &c[i], 0, WIRE_TCP_SYN, c[i].cisn, 0, 0, NULL, 0);
        emit(&g, &c[i], 1, WIRE_TCP_SYN | WIRE_TCP_ACK, c[i].sisn, c[i].cisn + 1, 0, NULL, 0);
        emit(&g, &c[i], 0, WIRE_TCP_ACK, c[i].cisn + 1, c[i].sisn + 1, 0, NULL, 0);
    }
    for (unsigned left = nconn; left;) {
        left = 0;
        for (unsigned i = 0; i < nconn; i++) {
            if (c[i].sent >= c[i].total)
                continue;
            flight(&g, &c[i], loss);
            left += c[i].sent < c[i].total;
        }
    }
    for (unsigned i = 0; i < nconn; i++) {
        uint32_t s = c[i].sisn + 1 + (uint32_t)c[i].total, cs = c[i].cisn + 1;
        emit(&g, &c[i], 1, WIRE_TCP_FIN | WIRE_TCP_ACK, s, cs, 0, NULL, 0);
        emit(&g, &c[i], 0, WIRE_TCP_FIN | WIRE_TCP_ACK, cs, s + 1, 0, NULL, 0);
        emit(&g, &c[i], 1, WIRE_TCP_ACK, s + 1, cs + 1, 0, NULL, 0);
    }
    pcap_dump_close(g.d);
    pcap_close(dead);
    free(c);
    printf("%llu packets, %llu bytes\n", (unsigned long long)g.packets, (unsigned long long)g.bytes_out + 24);
    return 0;
}
