#include "summary.h"

#include <inttypes.h>
#include <string.h>

#include "format.h"

int tr_conv_client(const struct tr_conv *c)
{
    if (c->st.syn_dir >= 0)
        return c->st.syn_dir;
    return c->st.zk.started ? c->st.zk.orig : c->st.first_dir;
}

const char *tr_open_name(const struct tr_conv *c, int client)
{
    const struct tr_dir_stats *a = &c->st.d[client], *b = &c->st.d[1 - client];
    if (a->syn && b->syn)
        return "simultaneous open (both sides sent SYN)";
    if (a->syn && b->synack && a->acked_synack)
        return "three-way handshake";
    if (a->syn && b->synack)
        return "half-open (the SYN-ACK was never acknowledged)";
    if (a->syn && b->rst)
        return "refused (the SYN was answered with RST)";
    if (a->syn)
        return b->pkts ? "SYN seen, no SYN-ACK" : "attempt with no answer";
    if (b->synack)
        return a->acked_synack ? "handshake without its SYN (capture began at the SYN-ACK)"
                               : "SYN-ACK only (half-open)";
    return "no handshake captured (the capture began mid-connection)";
}

static const char *side(const struct tr_conv *c, int d, char *buf, unsigned size)
{
    char a[64];
    snprintf(buf, size, "%s:%u", tr_addr_str(&c->addr[d], a, sizeof a), c->port[d]);
    return buf;
}

const char *tr_close_name(const struct tr_conv *c, int client, char *buf, unsigned size)
{
    const struct tr_dir_stats *d = c->st.d;
    char s1[80], s2[80];
    int first_fin = -1;
    if (d[0].fin && d[1].fin)
        first_fin = d[0].fin_frame < d[1].fin_frame ? 0 : 1;
    else if (d[0].fin || d[1].fin)
        first_fin = d[0].fin ? 0 : 1;
    int rst = d[0].rst && d[1].rst ? (d[0].rst_frame < d[1].rst_frame ? 0 : 1) : d[0].rst ? 0 : d[1].rst ? 1 : -1;
    bool refused = rst >= 0 && d[client].syn && !d[1 - client].synack && rst == 1 - client;

    if (first_fin >= 0 && d[1 - first_fin].fin) {
        int second = 1 - first_fin;
        uint64_t after = d[second].bytes_after_peer_fin;
        const char *kind = d[second].fin_acked_peer_fin ? "four-way close" : "simultaneous close (FINs crossed)";
        if (after)
            snprintf(buf, size, "half-close: %s sent %" PRIu64 " bytes after %s's FIN, then %s",
                     side(c, second, s1, sizeof s1), after, side(c, first_fin, s2, sizeof s2), kind);
        else
            snprintf(buf, size, "%s, first FIN from %s", kind, side(c, first_fin, s1, sizeof s1));
        if (rst >= 0) {
            size_t n = strlen(buf);
            snprintf(buf + n, size - n, ", then RST from %s", side(c, rst, s2, sizeof s2));
        }
        return buf;
    }
    if (refused) {
        snprintf(buf, size, "refused");
        return buf;
    }
    if (rst >= 0) {
        snprintf(buf, size, "RST abort by %s (frame %" PRIu64 ")%s", side(c, rst, s1, sizeof s1), d[rst].rst_frame,
                 first_fin >= 0 ? " after a half-close" : "");
        return buf;
    }
    if (first_fin >= 0) {
        uint64_t after = d[1 - first_fin].bytes_after_peer_fin;
        snprintf(buf, size, "half-closed: %s sent FIN, %s never did (%" PRIu64 " bytes sent after the FIN)",
                 side(c, first_fin, s1, sizeof s1), side(c, 1 - first_fin, s2, sizeof s2), after);
        return buf;
    }
    snprintf(buf, size, "not closed within the capture");
    return buf;
}

static void ms(FILE *f, int64_t ns)
{
    fprintf(f, "%.3f ms", (double)ns / 1e6);
}

void tr_summary_print(FILE *f, const struct tr_conv *c, int64_t t0)
{
    const struct tr_conn_stats *s = &c->st;
    int cl = tr_conv_client(c), sv = 1 - cl;
    char a[80], b[80], close[256];
    fprintf(f, "stream %" PRIu32 ": %s <-> %s\n", c->stream, side(c, cl, a, sizeof a), side(c, sv, b, sizeof b));
    fprintf(f, "  opened:   %s\n", tr_open_name(c, cl));
    fprintf(f, "  closed:   %s\n", tr_close_name(c, cl, close, sizeof close));
    fprintf(f, "  zeek:     conn_state %s, history %s\n", tr_zeek_conn_state(&s->zk), s->zk.hist);
    for (int k = 0; k < 2; k++) {
        int d = k == 0 ? cl : sv;
        fprintf(f, "  %s: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " retransmitted bytes (%" PRIu64
                   " segments)\n",
                k == 0 ? "client->server" : "server->client", s->d[d].pkts, s->d[d].bytes, s->d[d].retrans_bytes,
                s->d[d].retrans_pkts);
    }
    fputs("  RTT:      ", f);
    if (c->first_rtt) {
        fputs("iRTT ", f);
        ms(f, c->first_rtt);
    } else {
        fputs("iRTT unknown (no handshake)", f);
    }
    if (s->rtt_n) {
        fputs(", ack RTT min ", f);
        ms(f, s->rtt_min);
        fputs(" avg ", f);
        ms(f, s->rtt_sum / (int64_t)s->rtt_n);
        fputs(" max ", f);
        ms(f, s->rtt_max);
        fprintf(f, " (%" PRIu64 " samples)", s->rtt_n);
    }
    fputc('\n', f);
    fprintf(f, "  duration: %.6f s (frames %" PRIu64 "-%" PRIu64 ", from %.6f s)\n",
            (double)(s->last_ts - s->first_ts) / 1e9, s->first_frame, s->last_frame, (double)(s->first_ts - t0) / 1e9);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void tr_summary_json(FILE *f, const struct tr_conv *c)
{
    const struct tr_conn_stats *s = &c->st;
    int cl = tr_conv_client(c), sv = 1 - cl;
    char a[64], close[256];
    fprintf(f, "{\"stream\":%" PRIu32 ",\"client\":{\"addr\":\"%s\",\"port\":%u}", c->stream,
            tr_addr_str(&c->addr[cl], a, sizeof a), c->port[cl]);
    fprintf(f, ",\"server\":{\"addr\":\"%s\",\"port\":%u},\"opened\":", tr_addr_str(&c->addr[sv], a, sizeof a),
            c->port[sv]);
    json_str(f, tr_open_name(c, cl));
    fputs(",\"closed\":", f);
    json_str(f, tr_close_name(c, cl, close, sizeof close));
    fprintf(f, ",\"zeek_conn_state\":\"%s\",\"zeek_history\":", tr_zeek_conn_state(&s->zk));
    json_str(f, s->zk.hist);
    for (int k = 0; k < 2; k++) {
        int d = k == 0 ? cl : sv;
        fprintf(f,
                ",\"%s\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"retransmitted_bytes\":%" PRIu64
                ",\"retransmitted_segments\":%" PRIu64 "}",
                k == 0 ? "client_to_server" : "server_to_client", s->d[d].pkts, s->d[d].bytes, s->d[d].retrans_bytes,
                s->d[d].retrans_pkts);
    }
    fprintf(f, ",\"irtt\":%.9f,\"rtt_samples\":%" PRIu64, (double)c->first_rtt / 1e9, s->rtt_n);
    if (s->rtt_n)
        fprintf(f, ",\"rtt_min\":%.9f,\"rtt_avg\":%.9f,\"rtt_max\":%.9f", (double)s->rtt_min / 1e9,
                (double)s->rtt_sum / (double)s->rtt_n / 1e9, (double)s->rtt_max / 1e9);
    fprintf(f, ",\"duration\":%.9f,\"first_frame\":%" PRIu64 ",\"last_frame\":%" PRIu64 "}",
            (double)(s->last_ts - s->first_ts) / 1e9, s->first_frame, s->last_frame);
}

void tr_summary_zeek(FILE *f, const struct tr_conv *c)
{
    const struct tr_zeek *z = &c->st.zk;
    int o = z->started ? z->orig : c->st.first_dir, r = 1 - o;
    char a[64], b[64];
    fprintf(f, "%s\t%u\t%s\t%u\t", tr_addr_str(&c->addr[o], a, sizeof a), c->port[o],
            tr_addr_str(&c->addr[r], b, sizeof b), c->port[r]);
    /* Zeek leaves duration and sizes unset for a connection of no duration. */
    int64_t dur = tr_zeek_duration(z);
    if (dur > 0)
        fprintf(f, "%.6f\t%" PRIu64 "\t%" PRIu64, (double)dur / 1e9, tr_zeek_size(z, 1), tr_zeek_size(z, 0));
    else
        fputs("-\t-\t-", f);
    fprintf(f, "\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", tr_zeek_conn_state(z), z->hist,
            z->ep[0].pkts, z->ep[0].ip_bytes, z->ep[1].pkts, z->ep[1].ip_bytes);
}
