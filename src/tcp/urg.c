/* Urgent data: RFC 9293 §3.8.5 and §3.10.7.4 (sixth step), with the
 * semantics Linux gives it (tcp_urg, tcp_check_urg, tcp_recv_urg,
 * tcp_mark_urg). The urgent pointer points one past the urgent byte, the
 * Linux/BSD reading of RFC 6093 §4 (tcp_stdurg off). Without SO_OOBINLINE
 * the byte at the mark is out of band: it stays in the receive ring but a
 * read steps over it and recv(MSG_OOB) returns it; with SO_OOBINLINE it is
 * data and only the mark is kept. A read never crosses the mark: one that
 * has copied something stops there. */
#include <errno.h>

#include "internal.h"

/* Sequence number of the next byte the user reads (Linux copied_seq):
 * RCV.NXT less the unread bytes, and less the FIN when it counted. */
static uint32_t read_seq(const struct tcb *tcb)
{
    return tcb->rcv_nxt - tcb->rcv.len - ((tcb->flags & TCB_FIN_RCVD) ? 1u : 0u);
}

/* A segment with URG (Linux tcp_check_urg). */
static void check_urg(struct tcb *tcb, const struct wire_tcp *seg)
{
    struct tcp_ext *x = tcb->x;
    uint32_t ptr = seg->urg;
    if (ptr)
        ptr--; /* one past the urgent byte; 0 is read as the first byte, as Linux does */
    ptr += seg->seq;
    uint32_t rd = read_seq(tcb);
    if (seq_lt(ptr, rd))
        return; /* urgent data already seen and read */
    if (seq_lt(ptr, tcb->rcv_nxt))
        return; /* a pointer into data already in: never replayed */
    if (x->urg_data && !seq_gt(ptr, x->urg_seq))
        return; /* the same pointer again, or an older one */
    /* A new mark replaces the old one (RCV.UP <- max(RCV.UP, SEG.UP)). A
     * reader sitting at the old mark, out of band, would read the old byte
     * as data once the mark moves on: it leaves the stream (Linux advances
     * copied_seq over it). */
    if (x->urg_data && x->urg_seq == rd && !tcb->o.oobinline && tcb->rcv.len)
        ring_consume(&tcb->rcv, 1);
    x->urg_data = TCP_URG_NOTYET;
    x->urg_seq = ptr;
}

void tcp_urg_input(struct tcb *tcb, const struct wire_tcp *seg)
{
    struct tcp_ext *x = tcb->x;
    if (seg->flags & WIRE_TCP_URG)
        check_urg(tcb, seg);
    /* the byte at the mark, when this segment carries it (Linux takes it
     * from the segment as it comes, window or not) */
    if (x->urg_data == TCP_URG_NOTYET) {
        uint32_t off = x->urg_seq - seg->seq;
        if (off < seg->payload_len)
            x->urg_data = (uint16_t)(TCP_URG_VALID | seg->payload[off]);
    }
}

bool tcp_urg_atmark(const struct tcb *tcb)
{
    const struct tcp_ext *x = tcb->x;
    return x && x->urg_data && x->urg_seq == read_seq(tcb);
}

long tcp_urg_recv(struct tcb *tcb, uint8_t *c, bool peek)
{
    struct tcp_ext *x = tcb->x;
    /* Linux: EINVAL when there is nothing out of band to read */
    if (tcb->o.oobinline || !x || !x->urg_data || x->urg_data == TCP_URG_READ)
        return -EINVAL;
    if (x->urg_data & TCP_URG_VALID) {
        *c = (uint8_t)x->urg_data;
        if (!peek)
            x->urg_data = TCP_URG_READ;
        return 1;
    }
    /* the pointer came, its byte not yet: never blocks (BSD and Linux) */
    if (tcb->state == TCP_CLOSED || (tcb->flags & (TCB_FIN_RCVD | TCB_RD_SHUT)))
        return 0;
    return -EAGAIN;
}

uint32_t tcp_urg_clip(const struct tcb *tcb, uint32_t off, uint32_t n, bool *skip)
{
    const struct tcp_ext *x = tcb->x;
    *skip = false;
    if (!x || !x->urg_data)
        return n;
    uint32_t to_mark = x->urg_seq - (read_seq(tcb) + off);
    if (to_mark >= n)
        return n; /* the mark lies beyond (or behind: the subtraction wraps) */
    if (to_mark == 0) {
        *skip = !tcb->o.oobinline;
        return n;
    }
    return to_mark;
}

uint32_t tcp_urg_readable(const struct tcb *tcb)
{
    uint32_t n = tcb->rcv.len;
    if (n && !tcb->o.oobinline && tcp_urg_atmark(tcb))
        n--;
    return n;
}

/* After a read moved the read position: past the mark, it is forgotten
 * (Linux clears urg_data once copied_seq is after urg_seq). */
void tcp_urg_consumed(struct tcb *tcb)
{
    struct tcp_ext *x = tcb->x;
    if (x && x->urg_data && seq_gt(read_seq(tcb), x->urg_seq))
        x->urg_data = 0;
}

bool tcp_urg_mode(const struct tcb *tcb)
{
    const struct tcp_ext *x = tcb->x;
    return x && x->snd_urg && seq_gt(x->snd_up, tcb->snd_una);
}

void tcp_urg_mark(struct tcb *tcb)
{
    /* Linux tcp_mark_urg: SND.UP is the end of the write */
    tcb->x->snd_up = tcb->snd_data + tcb->snd.len;
    tcb->x->snd_urg = true;
}

void tcp_urg_out(struct tcb *tcb, struct wire_tcp *h)
{
    struct tcp_ext *x = tcb->x;
    if (!x || !x->snd_urg)
        return;
    if (!tcp_urg_mode(tcb)) {
        x->snd_urg = false; /* SND.UNA passed SND.UP: urgent mode is over */
        return;
    }
    /* RFC 9293 §3.8.5: every segment below SND.UP carries the pointer,
     * retransmissions and bare ACKs included (Linux __tcp_transmit_skb).
     * A pointer beyond 16 bits of offset is sent as 0xFFFF, "more urgent
     * data follows", while the segment is not far behind SND.NXT. */
    if (!seq_lt(h->seq, x->snd_up))
        return;
    if (seq_lt(x->snd_up, h->seq + 0x10000u)) {
        h->urg = (uint16_t)(x->snd_up - h->seq);
        h->flags |= WIRE_TCP_URG;
    } else if (seq_gt(h->seq + 0xFFFFu, tcb->snd_nxt)) {
        h->urg = 0xFFFF;
        h->flags |= WIRE_TCP_URG;
    }
}
