#include "expert.h"

static void msg(struct tr_line *l, bool *first, const char *s)
{
    if (!*first)
        ln_c(l, ',');
    *first = false;
    ln_s(l, s);
}

static bool short_with_options(const struct tr_pkt *p)
{
    return p->kind == TR_TCP_SHORT && p->hdr_len > WIRE_TCP_HDR_MIN;
}

/* The analysis flags in the order tshark's printer visits them: ports
 * reused, the retransmission family (a fast or spurious one also gets the
 * generic message), lost and ACKed-unseen segments, window, keep-alive,
 * duplicate ACK, zero window. */
static void analysis(struct tr_line *l, bool *first, const struct tr_result *r)
{
    uint32_t a = r->aflags;
    if (a & TR_A_REUSED)
        msg(l, first, "A new tcp session is started with the same ports as an earlier session in this trace");
    if (a & TR_A_RETRANS)
        msg(l, first, "This frame is a (suspected) retransmission");
    if (a & TR_A_FAST_RETRANS) {
        msg(l, first, "This frame is a (suspected) fast retransmission");
        msg(l, first, "This frame is a (suspected) retransmission");
    }
    if (a & TR_A_SPURIOUS) {
        msg(l, first, "This frame is a (suspected) spurious retransmission");
        msg(l, first, "This frame is a (suspected) retransmission");
    }
    if (a & TR_A_OOO)
        msg(l, first, "This frame is a (suspected) out-of-order segment");
    if (a & TR_A_LOST)
        msg(l, first, "Previous segment(s) not captured (common at capture start)");
    if (a & TR_A_ACK_LOST)
        msg(l, first, "ACKed segment that wasn't captured (common at capture start)");
    if (a & TR_A_WIN_UPDATE)
        msg(l, first, "TCP window update");
    if (a & TR_A_WIN_FULL)
        msg(l, first, "TCP window specified by the receiver is now completely full");
    if (a & TR_A_KEEPALIVE)
        msg(l, first, "TCP keep-alive segment");
    if (a & TR_A_KEEPALIVE_ACK)
        msg(l, first, "ACK to a TCP keep-alive segment");
    if (a & TR_A_DUPACK) {
        msg(l, first, "Duplicate ACK (#");
        ln_u64(l, (uint32_t)r->dupack_num);
        ln_c(l, ')');
    }
    if (a & TR_A_ZWP)
        msg(l, first, "TCP Zero Window Probe");
    if (a & TR_A_ZEROWIN)
        msg(l, first, "TCP Zero Window segment");
    if (a & TR_A_ZWP_ACK)
        msg(l, first, "ACK to a TCP Zero Window Probe");
}

void tr_expert_messages(struct tr_line *l, const struct tr_pkt *p, const struct tr_result *r)
{
    bool first = true;
    uint16_t fl = p->flags;
    /* Header fields first, in header order: ack, flags, urgent pointer,
     * options; then the sequence analysis. */
    if (!(fl & WIRE_TCP_ACK) && p->ack)
        msg(l, &first, "The acknowledgment number field is nonzero while the ACK flag is not set");
    if (r->tfo_ack)
        msg(l, &first, r->tfo_ack == TR_TFO_ACCEPTS ? "TCP SYN-ACK accepting TFO data" : "TCP SYN-ACK ignoring TFO data");
    if (p->kind == TR_TCP_SHORT)
        msg(l, &first, "Short segment. Segment/fragment does not contain a full TCP header (might be NMAP or someone "
                       "else deliberately sending unusual packets)");
    if (fl & WIRE_TCP_SYN) {
        msg(l, &first, (fl & WIRE_TCP_ACK) ? "Connection establish acknowledge (SYN+ACK): server port "
                                           : "Connection establish request (SYN): server port ");
        ln_u64(l, (fl & WIRE_TCP_ACK) ? p->sport : p->dport);
    }
    if (fl & WIRE_TCP_FIN) {
        msg(l, &first, "Connection finish (FIN)");
        if (r->fin_role)
            msg(l, &first, r->fin_role == TR_FIN_INITIATES ? "This frame initiates the connection closing"
                                                           : "This frame undergoes the connection closing");
    }
    if (fl & WIRE_TCP_RST)
        msg(l, &first, "Connection reset (RST)");
    if (!(fl & WIRE_TCP_URG) && p->urg)
        msg(l, &first, "The urgent pointer field is nonzero while the URG flag is not set");
    if (short_with_options(p)) {
        msg(l, &first, "Malformed Packet (Exception occurred)");
        return;
    }
    /* The cookie is reported while the options are read, the missing MSS
     * once they all were. */
    if ((fl & (WIRE_TCP_SYN | WIRE_TCP_ACK)) == WIRE_TCP_SYN && p->tfo_len > 2)
        msg(l, &first, "TCP SYN with TFO Cookie");
    if ((fl & WIRE_TCP_SYN) && p->hdr_len > WIRE_TCP_HDR_MIN && !p->opt.has_mss)
        msg(l, &first, "The SYN packet does not contain a MSS option");
    analysis(l, &first, r);
}

void tr_expert_malformed(struct tr_line *l, const struct tr_pkt *p)
{
    /* tshark prints the field once per occurrence in its tree. */
    if (short_with_options(p))
        ln_s(l, "_ws.malformed,[Malformed Packet: TCP],_ws.malformed");
}
