#include "run.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "report.h"
#include "tsv.h"

struct run {
    const struct tr_opts *o;
    FILE *out;
    struct tr_counts *c;
    struct tr_table table;
    struct tr_report rep;
    int linktype;
    bool have_filter, have_raw_filter;
    struct bpf_program prog;
    struct bpf_program raw_prog; /* the filter for a reassembled IP datagram */
    struct tr_frags frags;
    int64_t t0;
    bool t0_set;
    bool failed;
};

static bool selected(const struct run *r, const struct pcap_pkthdr *h, const uint8_t *data,
                     const struct tr_result *res, bool reassembled)
{
    if (r->o->stream >= 0 && (!res->conv || res->conv->stream != (uint32_t)r->o->stream))
        return false;
    if (!r->have_filter)
        return true;
    if (reassembled && r->have_raw_filter) {
        /* tshark filters the reassembled segment, not the last fragment. */
        struct pcap_pkthdr rh = *h;
        rh.caplen = (bpf_u_int32)r->frags.out_caplen;
        rh.len = (bpf_u_int32)r->frags.out_len;
        return pcap_offline_filter(&r->raw_prog, &rh, r->frags.out);
    }
    return pcap_offline_filter(&r->prog, h, data);
}

static void one_packet(struct run *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
    struct tr_pkt p;
    memset(&p, 0, sizeof p);
    p.num = ++r->c->frames;
    p.ts_ns = tr_ts_ns((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec); /* nanosecond precision requested */
    if (!r->t0_set) {
        r->t0 = p.ts_ns;
        r->t0_set = true;
    }
    bool oom = false;
    enum tr_skip s = tr_decode_frags(&r->frags, p.ts_ns, r->linktype, data, h->caplen, h->len,
                                     r->table.want_stats ? TR_DECODE_CSUM : 0, &p, &oom);
    if (oom) {
        fprintf(stderr, "synack trace: out of memory at frame %llu\n", (unsigned long long)p.num);
        r->failed = true;
        return;
    }
    if (s != TR_DECODED) {
        r->c->skipped[s]++;
        return;
    }
    r->c->tcp++;
    struct tr_result res;
    if (tr_analyse(&r->table, &p, &res) < 0) {
        fprintf(stderr, "synack trace: out of memory at frame %llu\n", (unsigned long long)p.num);
        r->failed = true;
        return;
    }
    bool show = selected(r, h, data, &res, p.reassembled);
    if (show)
        r->c->shown++;
    switch (r->o->mode) {
    case TR_OUT_TSV:
        if (show)
            tr_tsv_row(r->out, &p, &res);
        break;
    case TR_OUT_EXT:
        if (show)
            tr_ext_row(r->out, &p, &res, r->t0);
        break;
    case TR_OUT_TEXT:
    case TR_OUT_JSON:
    case TR_OUT_ZEEK:
        if (tr_report_packet(&r->rep, &p, &res, show) < 0) {
            fprintf(stderr, "synack trace: out of memory at frame %llu\n", (unsigned long long)p.num);
            r->failed = true;
        }
        break;
    }
}

void tr_opts_timeouts(const struct tr_opts *o, struct tr_table *t)
{
    if (o->idle_timeout)
        t->idle_timeout = o->idle_timeout < 0 ? 0 : o->idle_timeout;
    if (o->closed_timeout)
        t->closed_timeout = o->closed_timeout < 0 ? 0 : o->closed_timeout;
}

int tr_run_file(const char *path, const struct tr_opts *o, FILE *out, struct tr_counts *counts, bool first_file)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) {
        fprintf(stderr, "synack trace: %s: %s\n", strcmp(path, "-") ? path : "standard input", err);
        return -1;
    }
    struct run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.out = out;
    r.c = counts;
    r.linktype = pcap_datalink(pc);
    tr_frags_init(&r.frags);
    if (tr_table_init(&r.table) == 0) {
        r.table.view_free = tr_view_free;
        /* The per-packet tables need no connection report or Zeek state. */
        r.table.want_stats = o->mode != TR_OUT_TSV && o->mode != TR_OUT_EXT;
        if (r.table.want_stats) {
            r.table.retire = tr_report_conv;
            r.table.retire_ctx = &r.rep;
        }
        tr_opts_timeouts(o, &r.table);
    }
    else {
        fprintf(stderr, "synack trace: out of memory\n");
        pcap_close(pc);
        return -1;
    }
    if (o->filter) {
        if (pcap_compile(pc, &r.prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            fprintf(stderr, "synack trace: filter '%s': %s\n", o->filter, pcap_geterr(pc));
            tr_table_free(&r.table);
            pcap_close(pc);
            return -1;
        }
        r.have_filter = true;
        /* The same expression over a bare IP datagram, for reassembled
         * fragments; an expression about the link layer cannot be one. */
        pcap_t *raw = pcap_open_dead(DLT_RAW, 65535);
        if (raw && pcap_compile(raw, &r.raw_prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) == 0)
            r.have_raw_filter = true;
        if (raw)
            pcap_close(raw);
    }
    if (tr_report_init(&r.rep, o, out, path) < 0) {
        fprintf(stderr, "synack trace: cannot create a temporary file for the JSON connections\n");
        r.failed = true;
    }
    if ((o->mode == TR_OUT_TSV || o->mode == TR_OUT_EXT) && first_file && !o->no_header)
        (o->mode == TR_OUT_TSV ? tr_tsv_header : tr_ext_header)(out);

    if (!tr_linktype_known(r.linktype)) {
        /* Every frame would be skipped for the same reason: count them. */
        struct pcap_pkthdr *h;
        const u_char *d;
        while (pcap_next_ex(pc, &h, &d) == 1) {
            counts->frames++;
            counts->skipped[TR_SKIP_LINKTYPE]++;
        }
        fprintf(stderr, "synack trace: %s: link type %d (%s) is not decoded; %llu frames skipped\n", path,
                r.linktype, pcap_datalink_val_to_name(r.linktype) ? pcap_datalink_val_to_name(r.linktype) : "?",
                (unsigned long long)counts->skipped[TR_SKIP_LINKTYPE]);
    } else {
        struct pcap_pkthdr *h;
        const u_char *d;
        int rc;
        while (!r.failed && (rc = pcap_next_ex(pc, &h, &d)) == 1)
            one_packet(&r, h, d);
        if (!r.failed && rc == PCAP_ERROR) {
            /* A damaged or cut-off record ends what libpcap can read. */
            counts->bad_records++;
            fprintf(stderr, "synack trace: %s: stopped after frame %llu: %s\n", path,
                    (unsigned long long)counts->frames, pcap_geterr(pc));
        }
    }
    counts->frags = r.frags.st;
    if (!r.failed && tr_table_flush(&r.table) < 0) {
        fprintf(stderr, "synack trace: out of memory\n");
        r.failed = true;
    }
    if (!r.failed)
        tr_report_finish(&r.rep, counts);
    tr_frags_free(&r.frags);
    if (r.have_raw_filter)
        pcap_freecode(&r.raw_prog);
    counts->conns = r.table.next_stream;
    counts->peak_open = r.table.peak_conv;
    tr_report_free(&r.rep);
    if (r.have_filter)
        pcap_freecode(&r.prog);
    tr_table_free(&r.table);
    pcap_close(pc);
    return r.failed ? -1 : 0;
}

int tr_ladder_file(const char *path, FILE *out)
{
    struct tr_opts o = {.mode = TR_OUT_TEXT, .stream = -1, .ladder_only = true};
    struct tr_counts c;
    memset(&c, 0, sizeof c);
    if (tr_run_file(path, &o, out, &c, true) < 0)
        return -1;
    return c.tcp > INT32_MAX ? INT32_MAX : (int)c.tcp;
}
