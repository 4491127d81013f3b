#include "stats_update.h"

#include "analysis.h"

void tr_stats_update(struct tr_conv *c, int dir, const struct tr_pkt *p, const struct tr_result *r)
{
    struct tr_conn_stats *s = &c->st;
    struct tr_dir_stats *d = &s->d[dir], *o = &s->d[1 - dir];
    if (s->first_frame == 0) {
        s->first_frame = p->num;
        s->first_ts = p->ts_ns;
        s->first_dir = dir;
        s->syn_dir = -1;
    }
    s->last_frame = p->num;
    s->last_ts = p->ts_ns;
    d->pkts++;
    d->ip_bytes += p->ip_len;
    tr_zeek_packet(&s->zk, p, dir);
    if (!r->analysed)
        return;
    d->bytes += p->len;
    if (r->aflags & (TR_A_RETRANS | TR_A_FAST_RETRANS | TR_A_SPURIOUS) && p->len) {
        d->retrans_bytes += p->len;
        d->retrans_pkts++;
    }
    if (o->fin && p->len)
        d->bytes_after_peer_fin += p->len;
    uint16_t fl = p->flags;
    if ((fl & (WIRE_TCP_SYN | WIRE_TCP_ACK)) == WIRE_TCP_SYN && !d->syn) {
        d->syn = true;
        d->syn_frame = p->num;
        if (s->syn_dir < 0)
            s->syn_dir = dir;
    }
    if ((fl & (WIRE_TCP_SYN | WIRE_TCP_ACK)) == (WIRE_TCP_SYN | WIRE_TCP_ACK) && !d->synack) {
        d->synack = true;
        d->syn_frame = d->syn_frame ? d->syn_frame : p->num;
    }
    if ((fl & (WIRE_TCP_SYN | WIRE_TCP_ACK)) == WIRE_TCP_ACK && o->synack)
        d->acked_synack = true;
    if ((fl & WIRE_TCP_FIN) && !d->fin && o->fin)
        d->fin_acked_peer_fin = (fl & WIRE_TCP_ACK) && (int32_t)(p->ack - (o->fin_seq + 1)) >= 0;
    if ((fl & WIRE_TCP_FIN) && !d->fin) {
        d->fin = true;
        d->fin_frame = p->num;
        d->fin_ts = p->ts_ns;
        d->fin_seq = p->seq + p->len;
    }
    if ((fl & WIRE_TCP_RST) && !d->rst) {
        d->rst = true;
        d->rst_frame = p->num;
    }
    if (r->acks_frame && r->ack_rtt > 0) {
        if (s->rtt_n == 0 || r->ack_rtt < s->rtt_min)
            s->rtt_min = r->ack_rtt;
        if (s->rtt_n == 0 || r->ack_rtt > s->rtt_max)
            s->rtt_max = r->ack_rtt;
        s->rtt_sum += r->ack_rtt;
        s->rtt_n++;
    }
}
