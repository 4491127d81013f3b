#include "tsv.h"

#include "expert.h"
#include "format.h"
#include "line.h"

void tr_tsv_header(FILE *f)
{
    fputs("frame.number\ttcp.stream\tip.src\tipv6.src\ttcp.srcport\tip.dst\tipv6.dst\ttcp.dstport\t"
          "tcp.flags.str\ttcp.seq\ttcp.seq_raw\ttcp.ack\ttcp.ack_raw\ttcp.len\t"
          "tcp.analysis.retransmission\ttcp.analysis.fast_retransmission\ttcp.analysis.duplicate_ack\t"
          "tcp.analysis.out_of_order\ttcp.analysis.zero_window\ttcp.analysis.ack_rtt\ttcp.completeness\n",
          f);
}

static void flag(struct tr_line *l, bool set)
{
    ln_mem(l, "\t1", set ? 2 : 1);
}

/* ip.src and ipv6.src are separate columns: one of the two stays empty. */
static void addr_cols(struct tr_line *l, const struct tr_addr *a)
{
    ln_c(l, '\t');
    if (a->af == 6)
        ln_c(l, '\t');
    ln_addr(l, a);
    if (a->af == 4)
        ln_c(l, '\t');
}

static void tab_u64(struct tr_line *l, uint64_t v)
{
    ln_c(l, '\t');
    ln_u64(l, v);
}

void tr_tsv_row(FILE *f, const struct tr_pkt *p, const struct tr_result *r)
{
    struct tr_line l;
    l.n = 0;
    ln_u64(&l, p->num);
    ln_c(&l, '\t');
    if (r->conv)
        ln_u64(&l, r->conv->stream);
    addr_cols(&l, &p->src);
    tab_u64(&l, p->sport);
    addr_cols(&l, &p->dst);
    tab_u64(&l, p->dport);
    ln_c(&l, '\t');
    if (p->kind == TR_TCP_PORTS_ONLY) {
        ln_s(&l, "\t\t\t\t\t\t\t\t\t\t\t\t\n");
        ln_flush(&l, f);
        return;
    }
    ln_flags_str(&l, p->flags);
    tab_u64(&l, r->rel_seq);
    tab_u64(&l, p->seq);
    tab_u64(&l, r->rel_ack);
    tab_u64(&l, p->ack);
    ln_c(&l, '\t');
    if (p->kind == TR_TCP_OK)
        ln_u64(&l, p->len);
    uint32_t a = r->aflags;
    /* Fast and spurious retransmissions also carry the generic field. */
    flag(&l, a & (TR_A_RETRANS | TR_A_FAST_RETRANS | TR_A_SPURIOUS));
    flag(&l, a & TR_A_FAST_RETRANS);
    /* The dissector adds the duplicate_ack item twice. */
    if (a & TR_A_DUPACK)
        ln_s(&l, "\t1,1");
    else
        ln_c(&l, '\t');
    flag(&l, a & TR_A_OOO);
    flag(&l, a & TR_A_ZEROWIN);
    ln_c(&l, '\t');
    if (r->acks_frame && r->ack_rtt)
        ln_secs(&l, r->ack_rtt);
    tab_u64(&l, r->completeness);
    ln_c(&l, '\n');
    ln_flush(&l, f);
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
          "tcp.options.sack_le\ttcp.options.sack_re\t_ws.malformed\t_ws.expert.message\n",
          f);
}

static void sack_edges(struct tr_line *l, const struct tr_pkt *p, const struct tr_result *r, bool right)
{
    ln_c(l, '\t');
    uint32_t base = r->conv ? r->conv->flow[1 - r->dir].base_seq : 0;
    for (unsigned i = 0; i < p->opt.sack_count; i++) {
        if (i)
            ln_c(l, ',');
        ln_u64(l, (uint32_t)((right ? p->opt.sack[i].right : p->opt.sack[i].left) - base));
    }
}

void tr_ext_row(FILE *f, const struct tr_pkt *p, const struct tr_result *r, int64_t t0)
{
    struct tr_line l;
    l.n = 0;
    ln_u64(&l, p->num);
    ln_c(&l, '\t');
    ln_secs(&l, p->ts_ns - t0);
    ln_c(&l, '\t');
    if (r->conv)
        ln_u64(&l, r->conv->stream);
    ln_c(&l, '\t');
    if (p->kind == TR_TCP_PORTS_ONLY) {
        ln_s(&l, "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n");
        ln_flush(&l, f);
        return;
    }
    ln_flags_str(&l, p->flags);
    tab_u64(&l, r->rel_seq);
    ln_c(&l, '\t');
    if (r->analysed)
        ln_u64(&l, r->nxtseq);
    tab_u64(&l, r->rel_ack);
    ln_c(&l, '\t');
    if (r->analysed)
        ln_u64(&l, p->len);
    tab_u64(&l, p->win);
    tab_u64(&l, r->win);
    ln_c(&l, '\t');
    if (!(p->flags & WIRE_TCP_SYN)) {
        if (r->win_scale >= 0)
            ln_u64(&l, 1u << r->win_scale);
        else
            ln_s(&l, r->win_scale == -1 ? "-1" : "-2");
    }
    uint32_t a = r->aflags;
    flag(&l, a & TR_A_SPURIOUS);
    flag(&l, a & TR_A_LOST);
    flag(&l, a & TR_A_ACK_LOST);
    if (a & TR_A_DUPACK) {
        tab_u64(&l, (uint32_t)r->dupack_num);
        tab_u64(&l, r->dupack_frame);
    } else {
        ln_s(&l, "\t\t");
    }
    flag(&l, a & TR_A_ZWP);
    flag(&l, a & TR_A_ZWP_ACK);
    flag(&l, a & TR_A_WIN_FULL);
    flag(&l, a & TR_A_WIN_UPDATE);
    flag(&l, a & TR_A_KEEPALIVE);
    flag(&l, a & TR_A_KEEPALIVE_ACK);
    flag(&l, a & TR_A_REUSED);
    ln_c(&l, '\t');
    if (r->acks_frame)
        ln_u64(&l, r->acks_frame);
    ln_c(&l, '\t');
    if (r->acks_frame && r->ack_rtt)
        ln_secs(&l, r->ack_rtt);
    ln_c(&l, '\t');
    /* Wireshark prints the iRTT only with its per-frame analysis record. */
    if (r->irtt && r->has_ta)
        ln_secs(&l, r->irtt);
    ln_c(&l, '\t');
    if (r->has_bif)
        ln_u64(&l, r->bif);
    ln_c(&l, '\t');
    if (r->has_bif) /* printed beside bytes in flight only */
        ln_u64(&l, r->push_bytes);
    ln_c(&l, '\t');
    if ((a & TR_A_RETRANS) && r->rto) {
        ln_secs(&l, r->rto);
        tab_u64(&l, r->rto_frame);
    } else {
        ln_c(&l, '\t');
    }
    sack_edges(&l, p, r, false);
    sack_edges(&l, p, r, true);
    ln_c(&l, '\t');
    tr_expert_malformed(&l, p);
    ln_c(&l, '\t');
    tr_expert_messages(&l, p, r);
    ln_c(&l, '\n');
    ln_flush(&l, f);
}
