#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#include "stats_update.h"

#define F_FIN WIRE_TCP_FIN
#define F_SYN WIRE_TCP_SYN
#define F_RST WIRE_TCP_RST
#define F_PSH WIRE_TCP_PSH
#define F_ACK WIRE_TCP_ACK

/* Sequence comparisons modulo 2^32 (RFC 9293 §3.4). */
static bool gt_seq(uint32_t a, uint32_t b) { return (int32_t)(b - a) < 0; }
static bool lt_seq(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool le_seq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* Completeness bits (tcp.completeness). */
enum { C_SYN = 1, C_SYNACK = 2, C_ACK = 4, C_DATA = 8, C_FIN = 16, C_RST = 32 };

static int ua_push(struct tr_flow *f, uint64_t frame, uint32_t seq, uint32_t nextseq, int64_t ts)
{
    if (f->ua_len == f->ua_cap) {
        size_t nc = f->ua_cap ? f->ua_cap * 2 : 16;
        struct tr_unacked *n = realloc(f->ua, nc * sizeof *n);
        if (!n)
            return -1;
        f->ua = n;
        f->ua_cap = nc;
    }
    f->ua[f->ua_len++] = (struct tr_unacked){frame, seq, nextseq, ts};
    return 0;
}

/* Walks the reverse direction's unacknowledged segments newest first, as
 * Wireshark's list does: an exact match sets acks_frame/ack_rtt (the last
 * match, i.e. the oldest, wins), a partial one is trimmed, older ones go. */
static void take_acks(struct tr_flow *rev, uint32_t ack, int64_t now, struct tr_result *r)
{
    size_t keep = rev->ua_len;
    for (size_t k = rev->ua_len; k-- > 0;) {
        struct tr_unacked *u = &rev->ua[k];
        if (ack == u->nextseq) {
            r->acks_frame = u->frame;
            r->ack_rtt = now - u->ts;
        } else if (gt_seq(ack, u->seq) && le_seq(ack, u->nextseq)) {
            u->seq = ack;
            continue;
        } else if (gt_seq(u->nextseq, ack)) {
            continue;
        }
        u->frame = 0; /* mark for removal */
        keep--;
    }
    if (keep == rev->ua_len)
        return;
    size_t w = 0;
    for (size_t k = 0; k < rev->ua_len; k++)
        if (rev->ua[k].frame)
            rev->ua[w++] = rev->ua[k];
    rev->ua_len = w;
    /* Everything acknowledged: give a large list back, so an idle or closed
     * connection holds no memory for segments it once had in flight. */
    if (w == 0 && rev->ua_cap > 1024)
        tr_flow_free(rev);
}

static void retrans_family(struct tr_conv *c, struct tr_flow *fwd, struct tr_flow *rev, const struct tr_pkt *p,
                           struct tr_result *r)
{
    uint32_t seq = p->seq, len = p->len;
    bool not_adv = fwd->nextseq && lt_seq(seq, fwd->nextseq);
    if (r->aflags & TR_A_KEEPALIVE)
        return;
    /* Data after a zero-window probe starts one byte below nextseq and is new. */
    if (len > 1 && fwd->nextseq - 1 == seq)
        not_adv = false;
    if (len > 0 && rev->lastack && le_seq(seq + len, rev->lastack)) {
        r->aflags |= TR_A_SPURIOUS;
        return;
    }
    int64_t t = p->ts_ns - rev->lastack_time;
    /* Wireshark keeps dupacknum unsigned, so the -1 left by an ACKed-unseen
     * segment also counts as "two or more duplicate ACKs". */
    if (not_adv && (uint32_t)rev->dupacknum >= 2 && rev->lastack == seq && t < 20000000) {
        r->aflags |= TR_A_FAST_RETRANS;
        return;
    }
    t = p->ts_ns - fwd->nextseq_time;
    int64_t thres = c->first_rtt ? c->first_rtt : 3000000;
    uint32_t end = seq + len + ((p->flags & (F_SYN | F_FIN)) ? 1 : 0);
    if (not_adv && t < thres && fwd->nextseq != end) {
        r->aflags |= TR_A_OOO;
        return;
    }
    if (not_adv) {
        r->aflags |= TR_A_RETRANS;
        r->rto = p->ts_ns - fwd->nextseq_time;
        r->rto_frame = fwd->nextseq_frame;
        if (fwd->ua_len) {
            r->rto = p->ts_ns - fwd->ua[0].ts;
            r->rto_frame = fwd->ua[0].frame;
        }
    }
}

static void bytes_in_flight(struct tr_flow *fwd, const struct tr_flow *rev, const struct tr_pkt *p,
                            struct tr_result *r)
{
    if (p->len == 0 || !fwd->ua_len || !fwd->valid_bif)
        return;
    uint32_t first = fwd->ua[fwd->ua_len - 1].seq - fwd->base_seq;
    uint32_t last = fwd->ua[fwd->ua_len - 1].nextseq - fwd->base_seq;
    for (size_t k = 0; k < fwd->ua_len; k++) {
        uint32_t s = fwd->ua[k].seq - fwd->base_seq, e = fwd->ua[k].nextseq - fwd->base_seq;
        if (e > last)
            last = e;
        if (s < first)
            first = s;
    }
    uint32_t inflight = last - first;
    for (unsigned i = 0; i < rev->nsack; i++)
        inflight -= rev->sack[i].right - rev->sack[i].left;
    r->has_ta = true;
    if (inflight > 0 && inflight < 2000000000) {
        r->has_bif = true;
        r->bif = inflight - ((p->flags & (F_SYN | F_FIN)) ? 1 : 0);
    }
    bool psh = p->flags & F_PSH;
    if (psh && !fwd->push_set_last)
        fwd->push_bytes += p->len;
    else if (psh || fwd->push_set_last)
        fwd->push_bytes = p->len;
    else
        fwd->push_bytes += p->len;
    fwd->push_set_last = psh;
    r->push_bytes = fwd->push_bytes;
}

/* tcp_analyze_sequence_number(): steps 1-16 of the reference. */
static int sequence_analysis(struct tr_conv *c, int dir, const struct tr_pkt *p, struct tr_result *r)
{
    struct tr_flow *fwd = &c->flow[dir], *rev = &c->flow[1 - dir];
    uint32_t seq = p->seq, ack = p->ack, len = p->len;
    uint16_t fl = p->flags;
    int64_t win = p->win;
    bool sfr = fl & (F_SYN | F_FIN | F_RST);

    if (!fwd->base_set) {
        fwd->base_seq = (fl & F_SYN) ? seq : seq - 1;
        fwd->base_set = true;
    }
    if (!rev->base_set && (fl & F_ACK)) {
        rev->base_seq = ack - 1;
        rev->base_set = true;
    }
    if (fl & F_ACK)
        rev->valid_bif = true;

    if (len == 1 && seq == fwd->nextseq && rev->window == 0) {
        r->aflags |= TR_A_ZWP;
        goto finished_fwd;
    }
    if (win == 0 && !sfr)
        r->aflags |= TR_A_ZEROWIN;
    if (fwd->nextseq && gt_seq(seq, fwd->nextseq) && !(fl & F_RST)) {
        r->aflags |= TR_A_LOST;
        fwd->valid_bif = false;
    }
    if ((len == 0 || len == 1) && seq == fwd->nextseq - 1 && !sfr)
        r->aflags |= TR_A_KEEPALIVE;
    if (len == 0 && win && win != fwd->window && seq == fwd->nextseq && ack == fwd->lastack && !sfr)
        r->aflags |= TR_A_WIN_UPDATE;
    if (len > 0 && rev->win_scale != -1 && !sfr) {
        int s = (rev->is_first_ack || rev->win_scale == -2) ? 0 : rev->win_scale;
        if (seq + len == rev->lastack + ((uint32_t)rev->window << s))
            r->aflags |= TR_A_WIN_FULL;
    }
    if (len == 0 && win && win == fwd->window && seq == fwd->nextseq && ack == fwd->lastack &&
        (rev->lastsegflags & TR_A_KEEPALIVE) && !sfr) {
        r->aflags |= TR_A_KEEPALIVE_ACK;
        goto finished_fwd;
    }
    if (len == 0 && win == 0 && win == fwd->window && seq == fwd->nextseq && ack == fwd->lastack &&
        (rev->lastsegflags & TR_A_ZWP) && !sfr) {
        r->aflags |= TR_A_ZWP_ACK;
        goto finished_fwd;
    }
    if (len == 0 && win && win == fwd->window && seq == fwd->nextseq && ack == fwd->lastack && !sfr) {
        fwd->dupacknum = fwd->dupacknum == -1 ? 1 : fwd->dupacknum + 1;
        r->aflags |= TR_A_DUPACK;
        r->dupack_num = fwd->dupacknum;
        r->dupack_frame = fwd->lastnondupack;
    }
finished_fwd:
    if (ack != fwd->lastack) {
        fwd->lastnondupack = p->num;
        fwd->dupacknum = 0;
    }
    if (rev->maxseqtobeacked && gt_seq(ack, rev->maxseqtobeacked) && (fl & F_ACK)) {
        r->has_ta = true; /* created even when the flag is then suppressed */
        if (rev->maxseqtobeacked < rev->nextseq) {
            rev->maxseqtobeacked = rev->nextseq;
            r->aflags |= TR_A_ACK_LOST;
        } else {
            if (rev->dupacknum == 0)
                r->aflags |= TR_A_ACK_LOST;
            rev->dupacknum = -1;
        }
    }
    if (len > 0 || (fl & (F_SYN | F_FIN)))
        retrans_family(c, fwd, rev, p, r);

    uint32_t nextseq = seq + len;
    if ((len || (fl & (F_SYN | F_FIN)))) {
        if (fl & (F_SYN | F_FIN))
            nextseq++;
        if (fwd->ua_len < TR_MAX_UNACKED && ua_push(fwd, p->num, seq, nextseq, p->ts_ns) < 0)
            return -1;
    }
    bool zwp = r->aflags & TR_A_ZWP;
    if ((gt_seq(nextseq, fwd->nextseq) || !fwd->nextseq) && !zwp) {
        fwd->nextseq = nextseq;
        fwd->nextseq_frame = p->num;
        fwd->nextseq_time = p->ts_ns;
    }
    if ((seq == fwd->maxseqtobeacked || !fwd->maxseqtobeacked) && !zwp)
        fwd->maxseqtobeacked = fwd->nextseq;
    fwd->window = win;
    fwd->lastack = ack;
    fwd->lastack_time = p->ts_ns;
    fwd->lastsegflags = r->aflags;

    take_acks(rev, ack, p->ts_ns, r);
    bytes_in_flight(fwd, rev, p, r);
    if (r->aflags || r->acks_frame)
        r->has_ta = true;
    return 0;
}

static void window_scaling(struct tr_conv *c, int dir, const struct tr_pkt *p)
{
    struct tr_flow *fwd = &c->flow[dir], *rev = &c->flow[1 - dir];
    if (!(p->flags & F_SYN))
        return;
    if (p->opt.has_wscale)
        fwd->win_scale = p->opt.wscale > 14 ? 14 : p->opt.wscale;
    if (fwd->win_scale == -1) {
        /* A SYN without the option: neither side scales. */
        fwd->win_scale = -2;
        rev->win_scale = -2;
    } else if ((p->flags & F_ACK) && rev->win_scale == -2) {
        fwd->win_scale = -2;
    }
}

static void completeness(struct tr_conv *c, const struct tr_pkt *p, bool created)
{
    uint16_t fl = p->flags;
    bool pure_syn = (fl & (F_SYN | F_ACK)) == F_SYN;
    if (created) {
        /* Only a conversation that opens with a SYN starts counting. */
        if (pure_syn)
            c->completeness |= C_SYN | (p->len ? C_DATA : 0);
        return;
    }
    if ((fl & (F_SYN | F_ACK)) == (F_SYN | F_ACK))
        c->completeness |= C_SYNACK;
    if ((fl & F_ACK) && !(fl & F_SYN))
        c->completeness |= p->len ? C_DATA : C_ACK;
    if ((fl & (F_FIN | F_ACK)) == (F_FIN | F_ACK))
        c->completeness |= C_FIN;
    if (fl & F_RST)
        c->completeness |= C_RST;
}

int tr_analyse(struct tr_table *t, const struct tr_pkt *p, struct tr_result *r)
{
    memset(r, 0, sizeof *r);
    if (p->kind == TR_TCP_PORTS_ONLY)
        return 0;
    tr_table_expire(t, p->ts_ns);
    int dir;
    bool created = false;
    bool pure_syn = (p->flags & (F_SYN | F_ACK)) == F_SYN;
    struct tr_conv *c = tr_table_find(t, p, &dir);
    if (!c) {
        if (!(c = tr_table_new(t, p, &dir)))
            return -1;
        created = true;
    } else if (pure_syn && c->flow[dir].base_set && p->seq != c->flow[dir].base_seq) {
        /* A new ISN on a known tuple: the ports were reused. */
        if (!(c = tr_table_new(t, p, &dir)))
            return -1;
        c->completeness = C_SYN;
        r->aflags |= TR_A_REUSED;
    } else if ((p->flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) && c->flow[dir].base_set &&
               p->seq != c->flow[dir].base_seq) {
        r->aflags |= TR_A_REUSED;
        c->flow[dir].base_seq = p->seq;
    }
    r->conv = c;
    r->dir = dir;
    r->completeness = c->completeness;

    if (pure_syn)
        c->mru_syn = p->ts_ns;
    if ((p->flags & F_ACK) && !(p->flags & F_SYN) && c->first_rtt == 0 && c->mru_syn != 0)
        c->first_rtt = p->ts_ns - c->mru_syn;

    struct tr_flow *fwd = &c->flow[dir], *rev = &c->flow[1 - dir];
    if (p->kind == TR_TCP_OK) {
        r->analysed = true;
        if (sequence_analysis(c, dir, p, r) < 0)
            return -1;
        completeness(c, p, created);
        r->rel_seq = p->seq - fwd->base_seq;
        r->nxtseq = r->rel_seq + p->len + ((p->flags & (F_SYN | F_FIN)) ? 1 : 0);
        if (p->flags & F_ACK) {
            r->rel_ack = p->ack - rev->base_seq;
            r->ack_relative = true;
        } else {
            r->rel_ack = p->ack;
        }
    } else {
        r->rel_seq = p->seq;
        r->rel_ack = p->ack;
    }
    r->irtt = c->first_rtt;
    window_scaling(c, dir, p);
    if ((p->flags & F_ACK) && !(p->flags & F_SYN))
        fwd->is_first_ack = false;
    r->win_scale = fwd->win_scale;
    r->win = p->win;
    if (!(p->flags & F_SYN) && fwd->win_scale >= 0)
        r->win = (uint32_t)p->win << fwd->win_scale;
    fwd->nsack = p->opt.sack_count;
    memcpy(fwd->sack, p->opt.sack, sizeof fwd->sack);
    if (t->want_stats)
        tr_stats_update(c, dir, p, r);
    if (p->flags & F_FIN) {
        c->fin_mask |= (uint8_t)(1u << dir);
        /* The side whose FIN came first initiates the close; a FIN from
         * the other side then undergoes it (Wireshark's expert items). */
        if (c->closer_mask & (1u << (1 - dir))) {
            r->fin_role = TR_FIN_UNDERGOES;
        } else {
            c->closer_mask |= (uint8_t)(1u << dir);
            r->fin_role = TR_FIN_INITIATES;
        }
    }
    if (pure_syn && p->kind == TR_TCP_OK && p->len)
        c->syn_data = true;
    else if ((p->flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) && c->syn_data && r->analysed)
        r->tfo_ack = r->rel_ack == 1 ? TR_TFO_IGNORES : TR_TFO_ACCEPTS;
    if (p->flags & F_RST)
        c->rst = true;
    if (!(p->flags & (F_SYN | F_RST)))
        c->past_syn = true;
    tr_table_touch(t, c, p->ts_ns);
    return 0;
}
