#include "ladder.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "report.h"

void tr_view_free(void *v)
{
    struct tr_view *w = v;
    if (!w)
        return;
    free(w->rung);
    free(w);
}

static void log_segment(struct tr_view *v, int dir, const struct tr_pkt *p)
{
    uint8_t syn = (p->flags & WIRE_TCP_SYN) != 0, fin = (p->flags & WIRE_TCP_FIN) != 0;
    if (p->len == 0 && !syn && !fin)
        return;
    struct tr_seglog_ent e = {p->seq, p->len, syn, fin};
    unsigned n = v->nlog[dir];
    for (unsigned i = 0; i < n; i++)
        if (v->log[dir][i].seq == e.seq && v->log[dir][i].len == e.len && v->log[dir][i].syn == syn &&
            v->log[dir][i].fin == fin)
            return; /* a retransmission adds nothing to explain */
    if (n == TR_SEGLOG_MAX) {
        memmove(&v->log[dir][0], &v->log[dir][1], (n - 1) * sizeof e);
        n--;
    }
    v->log[dir][n] = e;
    v->nlog[dir] = n + 1;
}

static int by_seq(const void *a, const void *b)
{
    const struct tr_seglog_ent *x = a, *y = b;
    int32_t d = (int32_t)(x->seq - y->seq);
    return d < 0 ? -1 : d > 0;
}

static uint32_t seg_span(const struct tr_seglog_ent *e)
{
    return e->len + e->syn + e->fin;
}

static void put_s(char *out, unsigned size, unsigned *n, const char *s)
{
    if (*n >= size)
        return;
    int w = snprintf(out + *n, size - *n, "%s", s);
    if (w > 0)
        *n += (unsigned)w;
}

static void put_u(char *out, unsigned size, unsigned *n, uint32_t v)
{
    char b[16];
    snprintf(b, sizeof b, "%" PRIu32, v);
    put_s(out, size, n, b);
}

void tr_ackmath(struct tr_view *v, const struct tr_conv *c, const struct tr_pkt *p, const struct tr_result *r,
                char *out, unsigned size)
{
    int d = r->dir, peer = 1 - d;
    out[0] = '\0';
    if (p->flags & WIRE_TCP_ACK) {
        bool have = v->have_ack[d];
        uint32_t prev = v->last_ack[d];
        if (!have) {
            /* The first ACK from this side: count from the peer's ISN when
             * its SYN was seen, else we cannot explain it. */
            const struct tr_seglog_ent *syn = NULL;
            for (unsigned i = 0; i < v->nlog[peer]; i++)
                if (v->log[peer][i].syn)
                    syn = &v->log[peer][i];
            if (syn) {
                prev = syn->seq;
                have = true;
            }
        }
        if (have && p->ack != prev && (int32_t)(p->ack - prev) > 0) {
            struct tr_seglog_ent terms[TR_SEGLOG_MAX];
            unsigned nt = 0;
            for (unsigned i = 0; i < v->nlog[peer]; i++) {
                const struct tr_seglog_ent *e = &v->log[peer][i];
                if ((int32_t)(e->seq - prev) >= 0 && (int32_t)(e->seq + seg_span(e) - p->ack) <= 0)
                    terms[nt++] = *e;
            }
            qsort(terms, nt, sizeof terms[0], by_seq);
            uint32_t sum = 0, at = prev;
            bool contiguous = true;
            for (unsigned i = 0; i < nt; i++) {
                if (terms[i].seq != at)
                    contiguous = false;
                at = terms[i].seq + seg_span(&terms[i]);
                sum += seg_span(&terms[i]);
            }
            bool abs = nt > 0 && terms[0].syn;
            uint32_t base = c->flow[peer].base_seq;
            uint32_t shown_ack = abs ? p->ack : p->ack - base, shown_prev = abs ? prev : prev - base;
            unsigned n = 0;
            put_s(out, size, &n, "ack ");
            put_u(out, size, &n, shown_ack);
            put_s(out, size, &n, " = ");
            put_u(out, size, &n, shown_prev);
            put_s(out, size, &n, " + ");
            if (contiguous && nt > 0 && sum == p->ack - prev) {
                for (unsigned i = 0; i < nt; i++) {
                    if (i)
                        put_s(out, size, &n, "+");
                    if (terms[i].len)
                        put_u(out, size, &n, terms[i].len);
                    if (terms[i].syn)
                        put_s(out, size, &n, terms[i].len ? "+1 (SYN)" : "1 (SYN)");
                    if (terms[i].fin)
                        put_s(out, size, &n, terms[i].len ? "+1 (FIN)" : "1 (FIN)");
                }
            } else {
                put_u(out, size, &n, p->ack - prev);
                put_s(out, size, &n, " (");
                put_u(out, size, &n, p->ack - prev - (contiguous ? sum : 0));
                put_s(out, size, &n, " not in the capture)");
            }
            /* Forget what this ACK covered. */
            unsigned w = 0;
            for (unsigned i = 0; i < v->nlog[peer]; i++) {
                const struct tr_seglog_ent *e = &v->log[peer][i];
                if ((int32_t)(e->seq + seg_span(e) - p->ack) > 0)
                    v->log[peer][w++] = *e;
            }
            v->nlog[peer] = w;
        }
        if (!v->have_ack[d] || (int32_t)(p->ack - v->last_ack[d]) > 0) {
            v->last_ack[d] = p->ack;
            v->have_ack[d] = true;
        }
    }
    log_segment(v, d, p);
}

int tr_ladder_add(struct tr_view *v, const struct tr_pkt *p, const struct tr_result *r, const char *math)
{
    if (v->nrung >= TR_LADDER_MAX) {
        v->dropped++;
        return 0;
    }
    if (v->nrung == v->caprung) {
        size_t nc = v->caprung ? v->caprung * 2 : 16;
        struct tr_rung *n = realloc(v->rung, nc * sizeof *n);
        if (!n)
            return -1;
        v->rung = n;
        v->caprung = nc;
    }
    struct tr_rung *g = &v->rung[v->nrung++];
    g->frame = p->num;
    g->ts = p->ts_ns;
    g->dir = (uint8_t)r->dir;
    g->flags = p->flags;
    g->seq = p->seq;
    g->ack = p->ack;
    g->rel_seq = r->rel_seq;
    g->rel_ack = r->rel_ack;
    g->len = p->len;
    g->win = r->win;
    g->aflags = r->aflags;
    g->dupnum = r->dupack_num;
    g->dupframe = r->dupack_frame;
    snprintf(g->math, sizeof g->math, "%s", math);
    return 0;
}

static const char *flag_names(uint16_t fl, char *b, unsigned size)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {{WIRE_TCP_SYN, "SYN"}, {WIRE_TCP_FIN, "FIN"}, {WIRE_TCP_RST, "RST"}, {WIRE_TCP_PSH, "PSH"},
                 {WIRE_TCP_URG, "URG"}, {WIRE_TCP_ECE, "ECE"}, {WIRE_TCP_CWR, "CWR"}, {WIRE_TCP_ACK, "ACK"}};
    unsigned n = 0;
    b[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (fl & names[i].bit) {
            int w = snprintf(b + n, size - n, "%s%s", n ? "," : "", names[i].name);
            if (w < 0 || (unsigned)w >= size - n)
                break;
            n += (unsigned)w;
        }
    if (n == 0)
        snprintf(b, size, "none");
    return b;
}

static void rung_label(const struct tr_rung *g, char *b, unsigned size)
{
    char fl[48];
    int n = snprintf(b, size, "%s seq %" PRIu32, flag_names(g->flags, fl, sizeof fl), g->rel_seq);
    if (n >= 0 && (unsigned)n < size && (g->flags & WIRE_TCP_ACK))
        n += snprintf(b + n, size - (unsigned)n, " ack %" PRIu32, g->rel_ack);
    if (n >= 0 && (unsigned)n < size && g->len)
        snprintf(b + n, size - (unsigned)n, " len %" PRIu32, g->len);
}

#define LADDER_W 56

void tr_ladder_print(FILE *f, const struct tr_conv *c, const struct tr_view *v, int left, int64_t t0)
{
    char a[64], b[64];
    fprintf(f, "  %-12s %-*s %s\n", "", LADDER_W / 2 + 1, tr_addr_str(&c->addr[left], a, sizeof a),
            tr_addr_str(&c->addr[1 - left], b, sizeof b));
    fprintf(f, "  %-12s port %-*u port %-*u%10s %10s\n", "time", LADDER_W / 2 - 4, c->port[left], LADDER_W / 2 - 4,
            c->port[1 - left], "seq", "ack");
    for (size_t i = 0; i < v->nrung; i++) {
        const struct tr_rung *g = &v->rung[i];
        char label[80], line[LADDER_W + 1], ack[16] = "-";
        rung_label(g, label, sizeof label);
        bool rightward = g->dir == left;
        size_t ll = strlen(label);
        if (ll > LADDER_W - 6)
            ll = LADDER_W - 6;
        memset(line, '-', LADDER_W);
        line[LADDER_W] = '\0';
        size_t start = (LADDER_W - ll) / 2;
        line[start - 1] = ' ';
        memcpy(line + start, label, ll);
        line[start + ll] = ' ';
        if (rightward)
            line[LADDER_W - 1] = '>';
        else
            line[0] = '<';
        /* The arrow carries the relative numbers, the columns the raw ones. */
        if (g->flags & WIRE_TCP_ACK)
            snprintf(ack, sizeof ack, "%" PRIu32, g->ack);
        fprintf(f, "  %12.6f |%s| %10" PRIu32 " %10s", (double)(g->ts - t0) / 1e9, line, g->seq, ack);
        if (g->math[0])
            fprintf(f, "  %s", g->math);
        if (g->aflags) {
            char an[256];
            fprintf(f, " [%s]", tr_aflags_str(g->aflags, g->dupnum, g->dupframe, an, sizeof an));
        }
        fputc('\n', f);
    }
    if (v->dropped)
        fprintf(f, "  ... %" PRIu64 " more segments not drawn\n", v->dropped);
}

void tr_ladder_svg(FILE *f, const struct tr_conv *c, const struct tr_view *v, int left, int64_t t0)
{
    const int w = 900, x0 = 150, x1 = 750, top = 70, step = 34;
    int h = top + (int)v->nrung * step + 40;
    char a[64], b[64];
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"monospace\" "
            "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            w, h);
    fprintf(f, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\">%s:%u</text>\n", x0,
            tr_addr_str(&c->addr[left], a, sizeof a), c->port[left]);
    fprintf(f, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\">%s:%u</text>\n", x1,
            tr_addr_str(&c->addr[1 - left], b, sizeof b), c->port[1 - left]);
    fprintf(f, "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", x0, x0, h - 20);
    fprintf(f, "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", x1, x1, h - 20);
    for (size_t i = 0; i < v->nrung; i++) {
        const struct tr_rung *g = &v->rung[i];
        int y = top + (int)i * step;
        bool right = g->dir == left;
        int xa = right ? x0 : x1, xb = right ? x1 : x0;
        const char *col = (g->aflags & (TR_A_RETRANS | TR_A_FAST_RETRANS | TR_A_SPURIOUS)) ? "red"
                          : (g->flags & WIRE_TCP_RST)                                       ? "purple"
                                                                                            : "black";
        char label[80];
        rung_label(g, label, sizeof label);
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/>\n", xa, y, xb, y + step / 2, col);
        fprintf(f, "<polygon points=\"%d,%d %d,%d %d,%d\" fill=\"%s\"/>\n", xb, y + step / 2, xb + (right ? -8 : 8),
                y + step / 2 - 4, xb + (right ? -8 : 8), y + step / 2 + 3, col);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%s</text>\n", (x0 + x1) / 2, y + 4,
                col, label);
        fprintf(f, "<text x=\"5\" y=\"%d\">%.6f</text>\n", y + 4, (double)(g->ts - t0) / 1e9);
        if (g->math[0])
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#555\">%s</text>\n", right ? x1 + 5 : 5,
                    y + 16, g->math);
    }
    fputs("</svg>\n", f);
}
