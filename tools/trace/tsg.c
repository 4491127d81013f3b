#include "tsg.h"

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "decode.h"

/* Points kept for the picture; a longer stream is drawn up to here. */
#define TSG_MAX_POINTS 200000

enum tsg_kind { PT_DATA, PT_RETRANS, PT_ACK, PT_SACK };

struct tsg_pt {
    int64_t t;
    uint32_t lo, hi; /* relative sequence range, or ack and window edge */
    uint8_t kind;
    uint8_t dir;
};

struct tsg {
    struct tsg_pt *pt;
    size_t n, cap;
    uint64_t bytes[2];
};

static int add(struct tsg *g, struct tsg_pt p)
{
    if (g->n == TSG_MAX_POINTS)
        return 0;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 1024;
        struct tsg_pt *np = realloc(g->pt, nc * sizeof *np);
        if (!np)
            return -1;
        g->pt = np;
        g->cap = nc;
    }
    g->pt[g->n++] = p;
    return 0;
}

struct busiest {
    long stream;
    uint64_t bytes;
};

/* Keeps the stream with the most payload (the lowest number on a tie) as
 * conversations finish, for when none was asked for. */
static void busiest(void *ctx, struct tr_conv *c)
{
    struct busiest *b = ctx;
    uint64_t n = c->st.d[0].bytes + c->st.d[1].bytes;
    if (b->stream < 0 || n > b->bytes || (n == b->bytes && (long)c->stream < b->stream)) {
        b->stream = c->stream;
        b->bytes = n;
    }
}

static int collect(const char *path, const struct tr_opts *o, long stream, struct tsg *g, long *chosen)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) {
        fprintf(stderr, "synack trace: %s: %s\n", path, err);
        return -1;
    }
    struct tr_table t;
    struct busiest best = {-1, 0};
    if (tr_table_init(&t) < 0) {
        pcap_close(pc);
        return -1;
    }
    t.retire = busiest;
    tr_opts_timeouts(o, &t);
    struct tr_frags fr;
    tr_frags_init(&fr);
    t.retire_ctx = &best;
    int lt = pcap_datalink(pc), rc = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t num = 0;
    while (rc == 0 && pcap_next_ex(pc, &h, &d) == 1) {
        struct tr_pkt p;
        memset(&p, 0, sizeof p);
        p.num = ++num;
        p.ts_ns = tr_ts_ns((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec);
        bool oom = false;
        if (tr_decode_frags(&fr, p.ts_ns, lt, d, h->caplen, h->len, 0, &p, &oom) != TR_DECODED) {
            if (oom)
                rc = -1;
            continue;
        }
        struct tr_result r;
        if (tr_analyse(&t, &p, &r) < 0) {
            rc = -1;
            break;
        }
        if (!r.conv || !r.analysed || stream < 0 || r.conv->stream != (uint32_t)stream)
            continue;
        g->bytes[r.dir] += p.len;
        if (p.len || (p.flags & (WIRE_TCP_SYN | WIRE_TCP_FIN))) {
            bool re = r.aflags & (TR_A_RETRANS | TR_A_FAST_RETRANS | TR_A_SPURIOUS);
            uint32_t span = p.len + ((p.flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)) ? 1 : 0);
            rc = add(g, (struct tsg_pt){p.ts_ns, r.rel_seq, r.rel_seq + span, re ? PT_RETRANS : PT_DATA,
                                        (uint8_t)r.dir});
        }
        if (rc == 0 && (p.flags & WIRE_TCP_ACK))
            rc = add(g, (struct tsg_pt){p.ts_ns, r.rel_ack, r.rel_ack + r.win, PT_ACK, (uint8_t)r.dir});
        uint32_t base = r.conv->flow[1 - r.dir].base_seq;
        for (unsigned i = 0; rc == 0 && i < p.opt.sack_count; i++)
            rc = add(g, (struct tsg_pt){p.ts_ns, p.opt.sack[i].left - base, p.opt.sack[i].right - base, PT_SACK,
                                        (uint8_t)r.dir});
    }
    if (rc == 0 && tr_table_flush(&t) < 0)
        rc = -1;
    *chosen = stream < 0 ? best.stream : stream;
    tr_frags_free(&fr);
    tr_table_free(&t);
    pcap_close(pc);
    return rc;
}

static void draw(FILE *f, const struct tsg *g, long stream)
{
    int sender = g->bytes[1] > g->bytes[0] ? 1 : 0;
    int64_t t0 = 0, t1 = 1;
    uint32_t s0 = UINT32_MAX, s1 = 0;
    bool first = true;
    for (size_t i = 0; i < g->n; i++) {
        const struct tsg_pt *p = &g->pt[i];
        bool mine = (p->kind == PT_ACK || p->kind == PT_SACK) ? p->dir != sender : p->dir == sender;
        if (!mine)
            continue;
        if (first || p->t < t0)
            t0 = p->t;
        if (first || p->t > t1)
            t1 = p->t;
        first = false;
        uint32_t hi = p->kind == PT_ACK ? p->lo : p->hi;
        if (p->lo < s0)
            s0 = p->lo;
        if (hi > s1)
            s1 = hi;
    }
    if (first || s1 <= s0)
        s0 = 0, s1 = s1 > 0 ? s1 : 1;
    if (t1 <= t0)
        t1 = t0 + 1;
    const double W = 1000, H = 700, L = 80, B = 50;
    double xs = (W - L - 20) / (double)(t1 - t0), ys = (H - B - 30) / (double)(s1 - s0);
#define X(t) (L + (double)((t) - t0) * xs)
#define Y(s) (H - B - (double)((s) - s0) * ys)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"monospace\" "
               "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"18\">time-sequence graph, stream %ld (sender: flow %d); black data, red "
               "retransmission, green ACK, yellow window, purple SACK</text>\n", L, stream, sender);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, H - B, W - 10, H - B);
    fprintf(f, "<line x1=\"%.0f\" y1=\"30\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, L, H - B);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%.6f s</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.6f s</text>\n",
            L, H - B + 15, 0.0, W - 10, H - B + 15, (double)(t1 - t0) / 1e9);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%" PRIu32 "</text>\n", L - 4, H - B, s0);
    fprintf(f, "<text x=\"%.0f\" y=\"34\" text-anchor=\"end\">%" PRIu32 "</text>\n", L - 4, s1);
    double ax = 0, ay = 0, wy = 0;
    bool have_ack = false;
    for (size_t i = 0; i < g->n; i++) {
        const struct tsg_pt *p = &g->pt[i];
        if (p->kind == PT_DATA || p->kind == PT_RETRANS) {
            if (p->dir != sender)
                continue;
            const char *col = p->kind == PT_RETRANS ? "red" : "black";
            double x = X(p->t);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x, Y(p->lo), x,
                    Y(p->hi), col);
            if (p->kind == PT_RETRANS)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"red\" font-size=\"9\">R</text>\n", x + 2, Y(p->hi));
        } else if (p->dir != sender) {
            double x = X(p->t);
            if (p->kind == PT_SACK) {
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"purple\"/>\n", x, Y(p->lo),
                        x, Y(p->hi));
                continue;
            }
            double y = Y(p->lo), w = Y(p->hi > s1 ? s1 : p->hi);
            if (have_ack) {
                fprintf(f, "<polyline points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"green\"/>\n", ax,
                        ay, x, ay, x, y);
                fprintf(f, "<polyline points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"#cc0\"/>\n", ax,
                        wy, x, wy, x, w);
            }
            ax = x, ay = y, wy = w;
            have_ack = true;
        }
    }
#undef X
#undef Y
    fputs("</svg>\n", f);
}

int tr_tsg_file(const char *path, const struct tr_opts *o)
{
    struct tsg g;
    memset(&g, 0, sizeof g);
    long stream = o->stream;
    if (stream < 0) {
        /* First pass picks the busiest stream, second collects it. */
        if (collect(path, o, -1, &g, &stream) < 0)
            return -1;
        memset(&g.bytes, 0, sizeof g.bytes);
    }
    long unused;
    if (stream < 0 || collect(path, o, stream, &g, &unused) < 0) {
        free(g.pt);
        fprintf(stderr, "synack trace: no TCP stream to graph in %s\n", path);
        return -1;
    }
    FILE *f = fopen(o->tsg_path, "w");
    if (!f) {
        fprintf(stderr, "synack trace: cannot write %s\n", o->tsg_path);
        free(g.pt);
        return -1;
    }
    draw(f, &g, stream);
    fclose(f);
    free(g.pt);
    return 0;
}
