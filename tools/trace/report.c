#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "ladder.h"
#include "summary.h"

static const struct {
    uint32_t bit;
    const char *name;
} flag_names[] = {
    {TR_A_RETRANS, "retransmission"},
    {TR_A_FAST_RETRANS, "fast retransmission"},
    {TR_A_SPURIOUS, "spurious retransmission"},
    {TR_A_OOO, "out-of-order"},
    {TR_A_LOST, "previous segment not captured"},
    {TR_A_ACK_LOST, "ACKed unseen segment"},
    {TR_A_DUPACK, "duplicate ACK"},
    {TR_A_ZEROWIN, "zero window"},
    {TR_A_ZWP, "zero-window probe"},
    {TR_A_ZWP_ACK, "zero-window probe ACK"},
    {TR_A_WIN_FULL, "window full"},
    {TR_A_WIN_UPDATE, "window update"},
    {TR_A_KEEPALIVE, "keep-alive"},
    {TR_A_KEEPALIVE_ACK, "keep-alive ACK"},
    {TR_A_REUSED, "port numbers reused"},
};

const char *tr_aflags_str(uint32_t aflags, int32_t dupnum, uint64_t dupframe, char *buf, unsigned size)
{
    unsigned n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0] && n < size; i++) {
        if (!(aflags & flag_names[i].bit))
            continue;
        int w;
        if (flag_names[i].bit == TR_A_DUPACK)
            w = snprintf(buf + n, size - n, "%sduplicate ACK #%" PRId32 " of frame %" PRIu64, n ? ", " : "", dupnum,
                         dupframe);
        else
            w = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", flag_names[i].name);
        if (w < 0)
            break;
        n += (unsigned)w;
    }
    return buf;
}

int tr_report_init(struct tr_report *r, const struct tr_opts *o, FILE *out, const char *path)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->out = out;
    r->path = path;
    r->svg_stream = o->stream;
    if (o->mode == TR_OUT_ZEEK)
        fputs("id.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\t"
              "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n",
              out);
    if (o->mode == TR_OUT_JSON) {
        /* The packets array comes first, so the connections finished in the
         * meantime wait on disk, not in memory. */
        if (!(r->spool = tmpfile()))
            return -1;
        fputs("{\"file\":\"", out);
        for (const char *s = path; *s; s++)
            fprintf(out, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s);
        fputs("\",\"packets\":[", out);
    }
    return 0;
}

static bool wants_ladder(const struct tr_report *r)
{
    return (r->o->mode == TR_OUT_TEXT && !r->o->quiet) || r->o->svg_path;
}

static void text_packet(struct tr_report *r, const struct tr_pkt *p, const struct tr_result *res, int client,
                        const char *math)
{
    FILE *f = r->out;
    char a[64], b[64], fl[16], opts[256], an[256];
    const struct tr_addr *ca = res->dir == client ? &p->src : &p->dst, *sa = res->dir == client ? &p->dst : &p->src;
    uint16_t cp = res->dir == client ? p->sport : p->dport, sp = res->dir == client ? p->dport : p->sport;
    fprintf(f, "%6" PRIu64 " %11.6f ", p->num, (double)(p->ts_ns - r->t0) / 1e9);
    if (res->conv)
        fprintf(f, "s%-3" PRIu32 " ", res->conv->stream);
    else
        fputs("s-   ", f);
    fprintf(f, "%s:%u %s %s:%u ", tr_addr_str(ca, a, sizeof a), cp, res->dir == client ? "->" : "<-",
            tr_addr_str(sa, b, sizeof b), sp);
    if (p->kind == TR_TCP_PORTS_ONLY) {
        fputs("[TCP header truncated]\n", f);
        return;
    }
    fprintf(f, "%-3s seq %" PRIu32 " (%" PRIu32 ")", tr_flags_short(p->flags, fl, sizeof fl), p->seq, res->rel_seq);
    if (p->flags & WIRE_TCP_ACK)
        fprintf(f, " ack %" PRIu32 " (%" PRIu32 ")", p->ack, res->rel_ack);
    if (p->kind == TR_TCP_SHORT)
        fputs(" [short segment: IP length below the TCP header]", f);
    else
        fprintf(f, " len %" PRIu32, p->len);
    fprintf(f, " win %" PRIu32, res->win);
    if (p->opt.nkinds || p->opts_bad)
        fprintf(f, " [%s]", tr_opts_str(p, opts, sizeof opts));
    if (p->reassembled)
        fputs(" [reassembled from IP fragments]", f);
    if (res->aflags)
        fprintf(f, " {%s}", tr_aflags_str(res->aflags, res->dupack_num, res->dupack_frame, an, sizeof an));
    if (res->acks_frame && res->ack_rtt)
        fprintf(f, " rtt %.3f ms (frame %" PRIu64 ")", (double)res->ack_rtt / 1e6, res->acks_frame);
    if (math[0])
        fprintf(f, "  %s", math);
    fputc('\n', f);
}

static void json_packet(struct tr_report *r, const struct tr_pkt *p, const struct tr_result *res, const char *math)
{
    FILE *f = r->out;
    char a[64], b[64], fl[16], opts[256];
    fprintf(f, "%s\n{\"frame\":%" PRIu64 ",\"time\":%.9f", r->npackets_json++ ? "," : "", p->num,
            (double)(p->ts_ns - r->t0) / 1e9);
    if (res->conv)
        fprintf(f, ",\"stream\":%" PRIu32, res->conv->stream);
    fprintf(f, ",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u", tr_addr_str(&p->src, a, sizeof a),
            p->sport, tr_addr_str(&p->dst, b, sizeof b), p->dport);
    if (p->kind == TR_TCP_PORTS_ONLY) {
        fputs(",\"truncated\":true}", f);
        return;
    }
    fprintf(f, ",\"flags\":\"%s\",\"seq\":%" PRIu32 ",\"rel_seq\":%" PRIu32 ",\"ack\":%" PRIu32,
            tr_flags_short(p->flags, fl, sizeof fl), p->seq, res->rel_seq, p->ack);
    if (p->flags & WIRE_TCP_ACK)
        fprintf(f, ",\"rel_ack\":%" PRIu32, res->rel_ack);
    if (p->kind == TR_TCP_OK)
        fprintf(f, ",\"len\":%" PRIu32, p->len);
    if (p->reassembled)
        fputs(",\"reassembled\":true", f);
    fprintf(f, ",\"win\":%" PRIu32 ",\"options\":\"%s\",\"analysis\":[", res->win, tr_opts_str(p, opts, sizeof opts));
    unsigned k = 0;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (res->aflags & flag_names[i].bit)
            fprintf(f, "%s\"%s\"", k++ ? "," : "", flag_names[i].name);
    fputc(']', f);
    if (res->aflags & TR_A_DUPACK)
        fprintf(f, ",\"dup_ack_num\":%" PRId32 ",\"dup_ack_frame\":%" PRIu64, res->dupack_num, res->dupack_frame);
    if (res->acks_frame)
        fprintf(f, ",\"acks_frame\":%" PRIu64 ",\"ack_rtt\":%.9f", res->acks_frame, (double)res->ack_rtt / 1e9);
    if (math[0])
        fprintf(f, ",\"ack_math\":\"%s\"", math);
    fputc('}', f);
}

int tr_report_packet(struct tr_report *r, const struct tr_pkt *p, const struct tr_result *res, bool show)
{
    if (!r->t0_set) {
        r->t0 = p->ts_ns;
        r->t0_set = true;
    }
    char math[96] = "";
    struct tr_conv *c = res->conv;
    int client = res->dir;
    if (c && res->analysed) {
        if (!c->view && !(c->view = calloc(1, sizeof(struct tr_view))))
            return -1;
        if (r->svg_stream < 0 && show)
            r->svg_stream = c->stream; /* no --stream: the first stream shown */
        tr_ackmath(c->view, c, p, res, math, sizeof math);
        if (show && wants_ladder(r) && tr_ladder_add(c->view, p, res, math) < 0)
            return -1;
    }
    if (c)
        client = tr_conv_client(c);
    if (!show || r->o->mode == TR_OUT_ZEEK)
        return 0;
    if (r->o->mode == TR_OUT_JSON)
        json_packet(r, p, res, math);
    else if (!r->o->quiet && !r->o->ladder_only)
        text_packet(r, p, res, client, math);
    return 0;
}

static bool conv_selected(const struct tr_report *r, const struct tr_conv *c)
{
    return r->o->stream < 0 || c->stream == (uint32_t)r->o->stream;
}

static void write_svg(struct tr_report *r, const struct tr_conv *c)
{
    r->svg_done = true;
    FILE *f = fopen(r->o->svg_path, "w");
    if (!f) {
        fprintf(stderr, "synack trace: cannot write %s\n", r->o->svg_path);
        return;
    }
    tr_ladder_svg(f, c, c->view, tr_conv_client(c), r->t0);
    fclose(f);
}

void tr_report_conv(void *report, struct tr_conv *c)
{
    struct tr_report *r = report;
    if (r->o->svg_path && !r->svg_done && c->view && (long)c->stream == r->svg_stream)
        write_svg(r, c);
    if (!conv_selected(r, c))
        return;
    switch (r->o->mode) {
    case TR_OUT_JSON:
        fputs(r->nconn_json++ ? ",\n" : "\n", r->spool);
        tr_summary_json(r->spool, c);
        break;
    case TR_OUT_ZEEK:
        tr_summary_zeek(r->out, c);
        break;
    case TR_OUT_TEXT:
        if (r->o->ladder_only) {
            if (c->view)
                tr_ladder_print(r->out, c, c->view, tr_conv_client(c), r->t0);
            break;
        }
        fputc('\n', r->out);
        tr_summary_print(r->out, c, r->t0);
        if (c->view && !r->o->quiet && ((const struct tr_view *)c->view)->nrung) {
            fputs("  ladder:\n", r->out);
            tr_ladder_print(r->out, c, c->view, tr_conv_client(c), r->t0);
        }
        break;
    default:
        break;
    }
}

void tr_report_finish(struct tr_report *r, const struct tr_counts *counts)
{
    FILE *f = r->out;
    if (r->o->mode != TR_OUT_JSON || !r->spool)
        return;
    fputs("\n],\"connections\":[", f);
    rewind(r->spool);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, r->spool)) > 0)
        fwrite(buf, 1, n, f);
    fprintf(f, "\n],\"frames\":%" PRIu64 ",\"tcp_packets\":%" PRIu64 ",\"skipped\":{", counts->frames, counts->tcp);
    unsigned k = 0;
    for (int s = 1; s < TR_SKIP_COUNT; s++)
        if (counts->skipped[s])
            fprintf(f, "%s\"%s\":%" PRIu64, k++ ? "," : "", tr_skip_reason((enum tr_skip)s), counts->skipped[s]);
    fputc('}', f);
    const struct tr_frag_stats *fs = &counts->frags;
    if (fs->fragments)
        fprintf(f,
                ",\"ip_fragments\":{\"fragments\":%" PRIu64 ",\"reassembled\":%" PRIu64 ",\"overlapping\":%" PRIu64
                ",\"too_big\":%" PRIu64 ",\"timed_out\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"malformed\":%" PRIu64
                ",\"duplicates\":%" PRIu64 "}",
                fs->fragments, fs->reassembled, fs->overlaps, fs->too_big, fs->timeouts, fs->evicted, fs->malformed,
                fs->duplicates);
    fputs("}\n", f);
}

void tr_report_free(struct tr_report *r)
{
    if (r->spool)
        fclose(r->spool);
    r->spool = NULL;
}
