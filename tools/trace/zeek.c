#include "zeek.h"

#include <ctype.h>
#include <string.h>

#include "packet.h"

/* History bits for letters recorded at most once per direction
 * (Connection::CheckHistory). */
enum {
    H_SYN = 1 << 0,
    H_FIN = 1 << 1,
    H_RST = 1 << 2,
    H_DATA = 1 << 3,
    H_ACK = 1 << 4,
    H_FIN_RST = 1 << 5,
    H_MULTI = 1 << 6,
};

/* Ports Zeek's analyzers register for (likely_server_ports), the ones its
 * WantConnection() uses to decide who the originator of a mid-stream
 * connection probably was. */
static bool likely_server_port(uint16_t port)
{
    static const uint16_t ports[] = {21,   22,   23,   25,   53,   80,   88,   110,  111,  135,  137,  139,
                                     143,  389,  443,  445,  465,  502,  513,  514,  587,  631,  636,  993,
                                     995,  1080, 1194, 1812, 1883, 2049, 3128, 3306, 3389, 5060, 5222, 5223,
                                     5432, 5900, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8081, 8443, 8888};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (ports[i] == port)
            return true;
    return false;
}

static void add_history(struct tr_zeek *z, char code, bool is_orig)
{
    if (z->hlen < TR_ZEEK_HIST_MAX)
        z->hist[z->hlen++] = is_orig ? code : (char)tolower((unsigned char)code);
    z->hist[z->hlen] = '\0';
}

/* Records the letter the first time only; true when it had been seen. */
static bool check_history(struct tr_zeek *z, struct tr_zeek_ep *e, uint32_t bit, char code, bool is_orig)
{
    if (e->seen & bit)
        return true;
    e->seen |= bit;
    add_history(z, code, is_orig);
    return false;
}

/* Letters for repeated events are logged on the 1st, 10th, 100th... */
static void scaled_history(struct tr_zeek *z, uint32_t *count, char code, bool is_orig)
{
    uint32_t n = ++*count;
    while (n % 10 == 0)
        n /= 10;
    if (n == 1)
        add_history(z, code, is_orig);
}

static void update_history(struct tr_zeek *z, struct tr_zeek_ep *e, uint16_t fl, uint64_t rel_seq, uint32_t len,
                           bool is_orig)
{
    bool syn = fl & WIRE_TCP_SYN, fin = fl & WIRE_TCP_FIN, rst = fl & WIRE_TCP_RST;
    int bits = syn + fin + rst;
    if (bits > 1) {
        if (fin && rst)
            check_history(z, e, H_FIN_RST, 'I', is_orig);
        else
            check_history(z, e, H_MULTI, 'Q', is_orig);
    } else if (bits == 1) {
        if (syn) {
            char code = (fl & WIRE_TCP_ACK) ? 'H' : 'S';
            if (check_history(z, e, H_SYN, code, is_orig) && rel_seq != e->hist_last_syn)
                add_history(z, code, is_orig);
            e->hist_last_syn = rel_seq;
        }
        if (fin) {
            if (check_history(z, e, H_FIN, 'F', is_orig) && rel_seq + len != e->hist_last_fin)
                add_history(z, 'F', is_orig);
            e->hist_last_fin = rel_seq + len;
        }
        if (rst) {
            if (check_history(z, e, H_RST, 'R', is_orig) && rel_seq != e->hist_last_rst)
                add_history(z, 'R', is_orig);
            e->hist_last_rst = rel_seq;
        }
    } else if (len) {
        check_history(z, e, H_DATA, 'D', is_orig);
    } else if (fl & WIRE_TCP_ACK) {
        check_history(z, e, H_ACK, 'A', is_orig);
    }
}

static void init_endpoint(struct tr_zeek_ep *e, uint16_t fl, uint32_t seq, uint32_t seg_end)
{
    bool syn = fl & WIRE_TCP_SYN;
    switch (e->state) {
    case ZK_INACTIVE:
        e->start_seq = syn ? seq : seq - 1;
        e->last_seq = syn ? seg_end : seq; /* a first non-SYN packet is never a retransmission */
        e->delivered = 1;
        break;
    case ZK_SYN_SENT: case ZK_SYN_ACK_SENT: case ZK_ESTABLISHED: case ZK_PARTIAL:
        if (syn && seq != e->start_seq) {
            e->start_seq = seq;
            e->last_seq = seg_end;
            e->delivered = 1;
        }
        break;
    default:
        break;
    }
}

static void state_inactive(struct tr_zeek_ep *e, struct tr_zeek_ep *peer, struct tr_zeek *z, uint16_t fl, uint32_t len,
                           bool is_orig)
{
    if (fl & WIRE_TCP_SYN) {
        if (is_orig) {
            e->state = (fl & WIRE_TCP_ACK) ? ZK_SYN_ACK_SENT : ZK_SYN_SENT;
        } else {
            if (peer->state == ZK_SYN_SENT)
                peer->state = ZK_ESTABLISHED;
            e->state = ZK_ESTABLISHED;
        }
    }
    if (fl & WIRE_TCP_FIN)
        e->state = ZK_CLOSED;
    if (fl & WIRE_TCP_RST)
        e->state = ZK_RESET;
    if (e->state == ZK_INACTIVE) {
        /* Some stacks ACK a SYN before answering it; that ACK does not
         * make the connection partial. */
        if (!(!is_orig && len == 0 && z->ep[0].state == ZK_SYN_SENT))
            e->state = ZK_PARTIAL;
    }
}

static void state_machine(struct tr_zeek *z, struct tr_zeek_ep *e, struct tr_zeek_ep *peer, uint16_t fl, uint32_t len,
                          bool is_orig)
{
    bool fin = fl & WIRE_TCP_FIN, rst = fl & WIRE_TCP_RST;
    enum tr_zeek_state before = e->state;
    switch (e->state) {
    case ZK_INACTIVE:
        state_inactive(e, peer, z, fl, len, is_orig);
        break;
    case ZK_SYN_SENT: case ZK_SYN_ACK_SENT:
        if (fin)
            e->state = ZK_CLOSED;
        if (rst)
            e->state = ZK_RESET;
        break;
    case ZK_PARTIAL: case ZK_ESTABLISHED:
        if ((fl & WIRE_TCP_SYN) && e->state == ZK_PARTIAL && peer->state == ZK_INACTIVE && !(fl & WIRE_TCP_ACK))
            e->state = ZK_SYN_SENT;
        if (fin && !rst) {
            e->state = ZK_CLOSED;
            if (peer->state == ZK_RESET && peer->prev_state == ZK_CLOSED)
                peer->state = ZK_CLOSED; /* FIN then RST from the peer was a normal close */
        }
        if (rst)
            e->state = ZK_RESET;
        break;
    case ZK_CLOSED:
        if (rst && peer->state != ZK_CLOSED)
            e->state = ZK_RESET;
        break;
    case ZK_RESET:
        break;
    }
    if (e->state != before)
        e->prev_state = before;
}

static bool closed(enum tr_zeek_state s)
{
    return s == ZK_CLOSED || s == ZK_RESET;
}

int64_t tr_zeek_duration(const struct tr_zeek *z)
{
    return z->last_ts - z->first_ts;
}

/* TCP_Reassembler::AckReceived: an ACK above what was delivered means
 * content the capture never had. */
static void ack_received(struct tr_zeek *z, struct tr_zeek_ep *e, bool e_is_orig, uint64_t rel_ack, bool partial)
{
    if (e->fin_rel && rel_ack > e->fin_rel)
        rel_ack = e->fin_rel;
    if (rel_ack <= e->delivered)
        return;
    bool active = z->ep[0].state == ZK_ESTABLISHED && z->ep[1].state == ZK_ESTABLISHED;
    if (!(rel_ack <= 2 && partial) && active)
        scaled_history(z, &e->gap_count, 'G', e_is_orig);
    e->delivered = rel_ack;
}

void tr_zeek_packet(struct tr_zeek *z, const struct tr_pkt *p, int dir)
{
    if (p->kind == TR_TCP_PORTS_ONLY)
        return;
    uint16_t fl = p->flags;
    if (!z->started) {
        z->started = true;
        z->orig = dir;
        bool flip = false;
        if ((fl & WIRE_TCP_SYN) && (fl & WIRE_TCP_ACK)) {
            flip = true; /* a SYN-ACK first: its receiver opened the connection */
        } else if (!(fl & WIRE_TCP_SYN) && likely_server_port(p->sport)) {
            flip = likely_server_port(p->dport) ? p->sport < p->dport : true;
        }
        if (flip) {
            z->orig = 1 - dir;
            z->flipped = true;
            add_history(z, '^', true);
        }
        z->partial = !((fl & WIRE_TCP_SYN) && !(fl & WIRE_TCP_ACK));
        z->first_ts = z->last_ts = p->ts_ns;
    }
    bool is_orig = dir == z->orig;
    struct tr_zeek_ep *e = &z->ep[is_orig ? 0 : 1], *peer = &z->ep[is_orig ? 1 : 0];
    e->pkts++;
    e->ip_bytes += p->ip_len;
    if (p->csum == TR_CSUM_BAD) {
        scaled_history(z, &e->csum_count, 'C', is_orig);
        return;
    }
    if (p->kind != TR_TCP_OK)
        return;
    uint32_t len = p->len;
    uint32_t seg_len = len + ((fl & WIRE_TCP_SYN) ? 1 : 0) + ((fl & WIRE_TCP_FIN) ? 1 : 0);
    init_endpoint(e, fl, p->seq, p->seq + seg_len);
    uint64_t rel_seq = (uint32_t)(p->seq - e->start_seq);
    update_history(z, e, fl, rel_seq, len, is_orig);

    if (!(fl & (WIRE_TCP_SYN | WIRE_TCP_FIN | WIRE_TCP_RST)) && e->state != ZK_CLOSED && e->state != ZK_RESET &&
        p->win == 0)
        scaled_history(z, &e->win0_count, 'W', is_orig);
    if (fl & WIRE_TCP_FIN)
        e->fin_rel = rel_seq + len;

    if ((fl & WIRE_TCP_ACK) && peer->state != ZK_INACTIVE)
        ack_received(z, peer, !is_orig, (uint32_t)(p->ack - peer->start_seq), z->partial);

    /* update_last_seq(): a segment that does not reach past the highest
     * end seen is a retransmission. */
    uint32_t end = p->seq + seg_len;
    int32_t delta = (int32_t)(end - e->last_seq);
    if ((fl & WIRE_TCP_FIN) && e->last_seq == e->start_seq + 1)
        e->last_seq = end;
    else if (e->state == ZK_RESET)
        ;
    else if (delta > 0)
        e->last_seq = end;
    else if (len > 0)
        scaled_history(z, &e->rxmit_count, 'T', is_orig);

    if (!closed(z->ep[0].state) || !closed(z->ep[1].state))
        z->last_ts = p->ts_ns;
    state_machine(z, e, peer, fl, len, is_orig);

    if (len > 0 && p->captured_len >= len && !(fl & WIRE_TCP_RST) && rel_seq <= e->delivered &&
        rel_seq + len > e->delivered)
        e->delivered = rel_seq + len;
}

static bool inactive(enum tr_zeek_state s)
{
    return s == ZK_INACTIVE || s == ZK_PARTIAL;
}

static uint64_t ep_size(const struct tr_zeek_ep *e)
{
    uint32_t span = e->last_seq - e->start_seq;
    return span > 1 ? span - 1 : 0;
}

/* RSTOS0 needs the history to read "S, anything but H/A/F/G/I/Q, then R". */
static bool rstos0_history(const char *h)
{
    if (*h == '^')
        h++;
    if (*h++ != 'S')
        return false;
    for (; *h && *h != 'R'; h++)
        if (strchr("HAFGIQ", *h))
            return false;
    return *h == 'R';
}

const char *tr_zeek_conn_state(const struct tr_zeek *z)
{
    enum tr_zeek_state os = z->ep[0].state, rs = z->ep[1].state;
    bool o_in = inactive(os), r_in = inactive(rs);
    if (rs == ZK_RESET) {
        if (os == ZK_SYN_SENT || os == ZK_SYN_ACK_SENT ||
            (os == ZK_RESET && ep_size(&z->ep[0]) == 0 && ep_size(&z->ep[1]) == 0))
            return "REJ";
        return o_in ? "RSTRH" : "RSTR";
    }
    if (os == ZK_RESET) {
        if (r_in)
            return rstos0_history(z->hist) ? "RSTOS0" : "OTH";
        return "RSTO";
    }
    if (rs == ZK_CLOSED && os == ZK_CLOSED)
        return "SF";
    if (os == ZK_CLOSED)
        return r_in ? "SH" : "S2";
    if (rs == ZK_CLOSED)
        return o_in ? "SHR" : "S3";
    if (os == ZK_SYN_SENT && rs == ZK_INACTIVE)
        return "S0";
    if (os == ZK_ESTABLISHED && rs == ZK_ESTABLISHED)
        return "S1";
    return "OTH";
}

uint64_t tr_zeek_size(const struct tr_zeek *z, int orig_side)
{
    const struct tr_zeek_ep *e = &z->ep[orig_side ? 0 : 1];
    if (e->state == ZK_INACTIVE && e->pkts == 0)
        return 0;
    uint64_t s = ep_size(e);
    if (e->fin_rel && s > 0)
        s--;
    return s;
}
