/* Builds the fuzzers' seed corpora:
 *   - pcaps made by simulator runs (two stacks on the in-memory link, seeded,
 *     with transfers both ways, a lost segment, a half-close and a close);
 *   - trace/: every capture (shared/captures and the simulator's), behind a
 *     few option bytes;
 *   - wire/: single frames cut out of those captures, behind the selector
 *     byte of their link type;
 *   - stack/: the client side of each simulator capture replayed as event
 *     sequences, plus a few hand-written scenarios.
 * Usage: mkcorpus CAPTURES_DIR OUT_DIR */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define PORT 8080
static const char *outdir;
static unsigned n_wire, n_trace, n_stack;

static void put_file(const char *sub, const char *name, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fwrite(a, 1, na, f);
    if (nb)
        fwrite(b, 1, nb, f);
    fclose(f);
}

/* ---- simulator captures ---------------------------------------------- */

struct xfer {
    struct sim sim;
    synack_sock lsn, srv, cli;
    size_t want_srv, want_cli, got_srv, got_cli;
};

static bool drain(void *ctx)
{
    struct xfer *x = ctx;
    uint8_t buf[65536];
    long n;
    if (x->srv < 0)
        x->srv = synack_accept(x->sim.b, x->lsn, NULL);
    if (x->srv >= 0)
        while ((n = synack_recv(x->sim.b, x->srv, buf, sizeof buf)) > 0)
            x->got_srv += (size_t)n;
    while ((n = synack_recv(x->sim.a, x->cli, buf, sizeof buf)) > 0)
        x->got_cli += (size_t)n;
    return x->got_srv >= x->want_srv && x->got_cli >= x->want_cli;
}

static void sim_capture(uint64_t seed, const char *path)
{
    struct xfer x;
    memset(&x, 0, sizeof x);
    x.srv = -1;
    sim_init(&x.sim, seed, SYNACK_MS(1 + seed % 20), NULL);
    if (synack_memlink_pcap(x.sim.link, path) != 0) {
        fprintf(stderr, "mkcorpus: cannot write %s\n", path);
        exit(1);
    }
    x.lsn = synack_socket(x.sim.b);
    synack_endpoint le = sim_ep(SIM_ADDR_B, PORT);
    synack_bind(x.sim.b, x.lsn, &le);
    synack_listen(x.sim.b, x.lsn, 8);
    x.cli = synack_socket(x.sim.a);
    synack_connect(x.sim.a, x.cli, &le);
    sim_run(&x.sim, drain, &x, SYNACK_SEC(5));
    static uint8_t data[20000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + seed);
    x.want_srv = 3000 + 1000 * (seed % 5);
    x.want_cli = 500 * (seed % 7);
    if (seed & 1)
        synack_memlink_drop_next(x.sim.link, 0, 1); /* one lost segment: a retransmission */
    size_t sent_c = 0, sent_s = 0;
    for (int round = 0; round < 50 && !drain(&x); round++) {
        if (sent_c < x.want_srv) {
            long n = synack_send(x.sim.a, x.cli, data + sent_c, x.want_srv - sent_c);
            if (n > 0)
                sent_c += (size_t)n;
        }
        if (x.srv >= 0 && sent_s < x.want_cli) {
            long n = synack_send(x.sim.b, x.srv, data + sent_s, x.want_cli - sent_s);
            if (n > 0)
                sent_s += (size_t)n;
        }
        sim_run(&x.sim, drain, &x, SYNACK_SEC(2));
    }
    synack_shutdown(x.sim.a, x.cli, SYNACK_SHUT_WR);
    sim_advance(&x.sim, SYNACK_MS(300));
    if (x.srv >= 0)
        synack_close(x.sim.b, x.srv);
    synack_close(x.sim.a, x.cli);
    sim_advance(&x.sim, SYNACK_SEC(2));
    sim_free(&x.sim);
}

/* ---- per-capture seeds ------------------------------------------------ */

static int wire_selector(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB: return 0;
    case DLT_LINUX_SLL: return 1;
    case 276: return 2; /* LINKTYPE_LINUX_SLL2 */
    case DLT_NULL: return 3;
    case 239: return 4; /* LINKTYPE_NFLOG */
    case DLT_RAW:
    case 228: return 6; /* LINKTYPE_IPV4 */
    case 229: return 9; /* LINKTYPE_IPV6 */
    default: return -1;
    }
}

static void stack_seed_from(pcap_t *p, const char *name)
{
    /* The client's segments of a simulator capture (LINKTYPE_RAW, client
     * 198.18.0.1) as seg_event()s on the accepted connection (slot 0):
     * sequence and acknowledgment at the connection's current numbers, the
     * capture's flags, window, options and length. Between them, time
     * steps and reads by the application; the server's data becomes sends. */
    uint8_t ev[16384];
    size_t n = 0;
    ev[n++] = 0x03; /* timestamps, SACK, window scale */
    struct pcap_pkthdr *h;
    const u_char *d;
    bool first = true;
    while (pcap_next_ex(p, &h, &d) == 1 && n + 80 < sizeof ev) {
        struct wire_ipv4 ip;
        struct wire_tcp t;
        if (wire_ipv4_parse(d, h->caplen, 0, &ip) != WIRE_OK || ip.proto != WIRE_IPPROTO_TCP ||
            wire_tcp_parse(ip.payload, ip.payload_len, &t) != WIRE_OK)
            continue;
        if (t.flags & WIRE_TCP_SYN) {
            first = false;
            continue; /* the harness did the handshake */
        }
        if (first)
            continue;
        if (ip.src != SIM_ADDR_A) {
            if (t.payload_len) { /* the server wrote this: a send of that size */
                ev[n++] = 0xa0;
                ev[n++] = 0x00;
                ev[n++] = (uint8_t)(t.payload_len > 255 ? 255 : t.payload_len);
            }
            continue;
        }
        ev[n++] = 0x00;                       /* segment, slot 0 */
        ev[n++] = (uint8_t)(0x02 | 0x04 | (t.opts_len ? 0x08 : 0) | (t.payload_len ? 0x10 : 0));
        ev[n++] = (uint8_t)t.flags;
        ev[n++] = 0, ev[n++] = 0;             /* at our next sequence number */
        ev[n++] = 0, ev[n++] = 0;             /* acknowledging all sent */
        ev[n++] = (uint8_t)(t.wnd >> 8), ev[n++] = (uint8_t)t.wnd;
        if (t.opts_len) {
            ev[n++] = (uint8_t)t.opts_len;
            memcpy(ev + n, t.opts_raw, t.opts_len);
            n += t.opts_len;
        }
        if (t.payload_len)
            ev[n++] = (uint8_t)(t.payload_len > 127 ? 0x80 | ((t.payload_len / 16) & 0x7f) : t.payload_len);
        ev[n++] = 0x80, ev[n++] = 0x01;       /* 1 ms */
        ev[n++] = 0xa5, ev[n++] = 0xff;       /* recv */
    }
    char nm[512];
    snprintf(nm, sizeof nm, "replay-%s", name);
    put_file("stack", nm, ev, n, NULL, 0);
    n_stack++;
}

static void seeds_from_capture(const char *path, const char *name, bool from_sim)
{
    char err[PCAP_ERRBUF_SIZE];
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    static uint8_t file[8 << 20];
    size_t len = fread(file, 1, sizeof file, f);
    fclose(f);
    if (len == sizeof file) /* too large for a useful seed */
        return;
    pcap_t *p = pcap_open_offline(path, err);
    if (!p)
        return;
    static const uint8_t trace_sel[] = {0x00, 0x01, 0x03, 0x04, 0x1a, 0x62};
    if (len <= (1u << 20)) {
        for (size_t i = 0; i < sizeof trace_sel; i++) {
            char nm[512];
            snprintf(nm, sizeof nm, "%s.%02x", name, trace_sel[i]);
            put_file("trace", nm, &trace_sel[i], 1, file, len);
            n_trace++;
        }
    }
    int sel = wire_selector(pcap_datalink(p));
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned k = 0;
    while (sel >= 0 && pcap_next_ex(p, &h, &d) == 1 && k < 40) {
        char nm[512];
        snprintf(nm, sizeof nm, "%s.%u", name, k++);
        uint8_t s = (uint8_t)sel;
        if (h->caplen < h->len)
            s |= 0x80; /* cut short by the capture: parse as a capture reader */
        put_file("wire", nm, &s, 1, d, h->caplen);
        n_wire++;
    }
    pcap_close(p);
    if (from_sim) {
        p = pcap_open_offline(path, err);
        if (p) {
            stack_seed_from(p, name);
            pcap_close(p);
        }
    }
}

static void walk(const char *dir, const char *prefix)
{
    DIR *dd = opendir(dir);
    if (!dd)
        return;
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096], name[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "_" : "", e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, name);
            continue;
        }
        size_t l = strlen(e->d_name);
        if ((l > 5 && !strcmp(e->d_name + l - 5, ".pcap")) || (l > 7 && !strcmp(e->d_name + l - 7, ".pcapng")) ||
            (l > 4 && !strcmp(e->d_name + l - 4, ".cap")))
            seeds_from_capture(path, name, false);
    }
    closedir(dd);
}

/* ---- hand-written stack scenarios -------------------------------------- */

static void scenario(const char *name, const uint8_t *ev, size_t n)
{
    put_file("stack", name, ev, n, NULL, 0);
    n_stack++;
}

static void scenarios(void)
{
    /* data both ways, acknowledged, then a close from each side */
    static const uint8_t a[] = {0x03, 0xa0, 0x00, 0xff, 0x80, 0x01, 0xe0,       /* send, 1 ms, ack all */
                                0x00, 0x16, 0x18, 0, 0, 0, 0, 0x80, 0x40,       /* data in (PSH|ACK) */
                                0xa5, 0xff, 0x80, 0x02, 0xe0,                   /* recv, 40 ms, ack */
                                0xa6, 0x01, 0x80, 0x01, 0xe0,                   /* shutdown(WR) */
                                0x00, 0x02, 0x11, 0, 0, 0, 0,                   /* FIN|ACK from the peer */
                                0x80, 0x06, 0xa7, 0x80, 0x87, 0x80, 0x80};     /* close, run timers */
    scenario("close-both", a, sizeof a);
    /* retransmissions: data sent, never acknowledged, timers run */
    static const uint8_t b[] = {0x00, 0xa1, 0x00, 0x40, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xe0};
    scenario("retransmit", b, sizeof b);
    /* zero window from the peer, then probes, then it opens */
    static const uint8_t c[] = {0x00, 0xa1, 0x00, 0x40, 0x00, 0x06, 0x10, 0, 0, 0, 0, 0, 0,
                                0x80, 0x80, 0x80, 0x80, 0xe0};
    scenario("zero-window", c, sizeof c);
    /* a new connection to the listener, accepted, then RST */
    static const uint8_t d[] = {0x00, 0x60, 0x02, 0x12, 0x34, 0x56, 0x78, 0x04, 0x02, 0x04, 0x05, 0xb4,
                                0x00, 0x00, 0x00, 0xff, 0xff, 0xe2, 0xa9, 0x60, 0x00, 0x04, 0x14,
                                0, 0, 0, 0};
    scenario("listener", d, sizeof d);
    /* out-of-order data, then the hole filled */
    static const uint8_t e[] = {0x03, 0x00, 0x10, 0x18, 0x00, 0x64, 0, 0, 0x40,
                                0x00, 0x10, 0x18, 0x00, 0x00, 0, 0, 0x64, 0xa5, 0xff, 0x80, 0x02};
    scenario("ooo", e, sizeof e);
    /* the accepted connection closed by the app while data is unread */
    static const uint8_t g[] = {0x00, 0x10, 0x18, 0, 0, 0, 0, 0x20, 0xa7, 0x80, 0x80};
    scenario("abort-unread", g, sizeof g);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkcorpus CAPTURES_DIR OUT_DIR\n");
        return 2;
    }
    outdir = argv[2];
    const char *subs[] = {"", "/wire", "/stack", "/trace", "/sim"};
    for (size_t i = 0; i < 5; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", outdir, subs[i]);
        mkdir(p, 0755);
    }
    for (uint64_t seed = 1; seed <= 8; seed++) {
        char path[4096], name[64];
        snprintf(path, sizeof path, "%s/sim/sim-%llu.pcap", outdir, (unsigned long long)seed);
        snprintf(name, sizeof name, "sim-%llu.pcap", (unsigned long long)seed);
        sim_capture(seed, path);
        seeds_from_capture(path, name, true);
    }
    walk(argv[1], "");
    scenarios();
    printf("mkcorpus: %u wire, %u stack, %u trace seeds in %s\n", n_wire, n_stack, n_trace, outdir);
    return 0;
}
