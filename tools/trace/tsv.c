#include "tsv.h"

#include <inttypes.h>

#include "format.h"

void tr_tsv_header(FILE *f)
{
    fputs("frame.number\ttcp.stream\tip.src\tipv6.src\ttcp.srcport\tip.dst\tipv6.dst\ttcp.dstport\t"
          "tcp.flags.str\ttcp.seq\ttcp.seq_raw\ttcp.ack\ttcp.ack_raw\ttcp.len\t"
          "tcp.analysis.retransmission\ttcp.analysis.fast_retransmission\ttcp.analysis.duplicate_ack\t"
          "tcp.analysis.out_of_order\ttcp.analysis.zero_window\ttcp.analysis.ack_rtt\ttcp.completeness\n",
          f);
}

static void flag(FILE *f, bool set)
{
    fputs(set ? "\t1" : "\t", f);
}

static void addrs(FILE *f, const struct tr_addr *a)
{
    char b[64];
    tr_addr_str(a, b, sizeof b);
    fprintf(f, a->af == 4 ? "\t%s\t" : "\t\t%s", b);
}

void tr_tsv_row(FILE *f, const struct tr_pkt *p, const struct tr_result *r)
{
    fprintf(f, "%" PRIu64 "\t", p->num);
    if (r->conv)
        fprintf(f, "%" PRIu32, r->conv->stream);
    addrs(f, &p->src);
    fprintf(f, "\t%u", p->sport);
    addrs(f, &p->dst);
    fprintf(f, "\t%u\t", p->dport);
    if (p->kind == TR_TCP_PORTS_ONLY) {
        fputs("\t\t\t\t\t\t\t\t\t\t\t\t\n", f);
        return;
    }
    tr_put_flags_str(f, p->flags);
    fprintf(f, "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t", r->rel_seq, p->seq, r->rel_ack, p->ack);
    if (p->kind == TR_TCP_OK)
        fprintf(f, "%" PRIu32, p->len);
    uint32_t a = r->aflags;
    /* Fast and spurious retransmissions also carry the generic field. */
    flag(f, a & (TR_A_RETRANS | TR_A_FAST_RETRANS | TR_A_SPURIOUS));
    flag(f, a & TR_A_FAST_RETRANS);
    /* The dissector adds the duplicate_ack item twice. */
    fputs(a & TR_A_DUPACK ? "\t1,1" : "\t", f);
    flag(f, a & TR_A_OOO);
    flag(f, a & TR_A_ZEROWIN);
    fputc('\t', f);
    if (r->acks_frame && r->ack_rtt)
        tr_put_secs(f, r->ack_rtt);
    fprintf(f, "\t%u\n", r->completeness);
}

void tr_ext_header(FILE *f)
{
    fputs("frame.number\tframe.time_relative\ttcp.stream\ttcp.flags.str\ttcp.seq\ttcp.nxtseq\ttcp.ack\ttcp.len\t"
          "tcp.window_size_value\ttcp.window_size\ttcp.window_size_scalefactor\t"
          "tcp.analysis.spurious_retransmission\ttcp.analysis.lost_segment\ttcp.analysis.ack_lost_segment\t"
          "tcp.analysis.duplicate_ack_num\ttcp.analysis.duplicate_ack_frame\ttcp.analysis.zero_window_probe\t"
          "tcp.analysis.zero_window_probe_ack\ttcp.analysis.window_full\ttcp.analysis.window_update\t"
          "tcp.analysis.keep_alive\ttcp.analysis.keep_alive_ack\ttcp.analysis.reused_ports\t"
          "tcp.analysis.acks_frame\ttcp.analysis.ack_rtt\ttcp.analysis.initial_rtt\t"
          "tcp.analysis.bytes_in_flight\ttcp.analysis.push_bytes_sent\ttcp.analysis.rto\ttcp.analysis.rto_frame\t"
          "tcp.options.sack_le\ttcp.options.sack_re\n",
          f);
}

static void sack_edges(FILE *f, const struct tr_pkt *p, const struct tr_result *r, bool right)
{
    fputc('\t', f);
    uint32_t base = r->conv ? r->conv->flow[1 - r->dir].base_seq : 0;
    for (unsigned i = 0; i < p->opt.sack_count; i++) {
        uint32_t v = right ? p->opt.sack[i].right : p->opt.sack[i].left;
        fprintf(f, "%s%" PRIu32, i ? "," : "", v - base);
    }
}

void tr_ext_row(FILE *f, const struct tr_pkt *p, const struct tr_result *r, int64_t t0)
{
    fprintf(f, "%" PRIu64 "\t", p->num);
    tr_put_secs(f, p->ts_ns - t0);
    fputc('\t', f);
    if (r->conv)
        fprintf(f, "%" PRIu32, r->conv->stream);
    fputc('\t', f);
    if (p->kind == TR_TCP_PORTS_ONLY) {
        fputs("\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", f);
        return;
    }
    tr_put_flags_str(f, p->flags);
    fprintf(f, "\t%" PRIu32 "\t", r->rel_seq);
    if (r->analysed)
        fprintf(f, "%" PRIu32, r->nxtseq);
    fprintf(f, "\t%" PRIu32 "\t", r->rel_ack);
    if (r->analysed)
        fprintf(f, "%" PRIu32, p->len);
    fprintf(f, "\t%u\t%" PRIu32 "\t", p->win, r->win);
    if (!(p->flags & WIRE_TCP_SYN))
        fprintf(f, "%d", r->win_scale >= 0 ? 1 << r->win_scale : r->win_scale);
    uint32_t a = r->aflags;
    flag(f, a & TR_A_SPURIOUS);
    flag(f, a & TR_A_LOST);
    flag(f, a & TR_A_ACK_LOST);
    if (a & TR_A_DUPACK)
        fprintf(f, "\t%" PRId32 "\t%" PRIu64, r->dupack_num, r->dupack_frame);
    else
        fputs("\t\t", f);
    flag(f, a & TR_A_ZWP);
    flag(f, a & TR_A_ZWP_ACK);
    flag(f, a & TR_A_WIN_FULL);
    flag(f, a & TR_A_WIN_UPDATE);
    flag(f, a & TR_A_KEEPALIVE);
    flag(f, a & TR_A_KEEPALIVE_ACK);
    flag(f, a & TR_A_REUSED);
    fputc('\t', f);
    if (r->acks_frame)
        fprintf(f, "%" PRIu64, r->acks_frame);
    fputc('\t', f);
    if (r->acks_frame && r->ack_rtt)
        tr_put_secs(f, r->ack_rtt);
    fputc('\t', f);
    if (r->irtt && r->has_ta)
        tr_put_secs(f, r->irtt);
    fputc('\t', f);
    if (r->has_bif)
        fprintf(f, "%" PRIu32, r->bif);
    fputc('\t', f);
    if (r->has_bif) /* printed beside bytes in flight only */
        fprintf(f, "%" PRIu32, r->push_bytes);
    fputc('\t', f);
    if ((a & TR_A_RETRANS) && r->rto) {
        tr_put_secs(f, r->rto);
        fprintf(f, "\t%" PRIu64, r->rto_frame);
    } else {
        fputc('\t', f);
    }
    sack_edges(f, p, r, false);
    sack_edges(f, p, r, true);
    fputc('\n', f);
}
