/* libFuzzer target: the stack's input path, fuzzed together with its state.
 *
 * One stack (tests/support/harness) with a listener on port 8080 (backlog
 * 2), one connection it accepted and one it opened. The input is read as a
 * sequence of events:
 *   - a TCP segment for one of the tracked 4-tuples, its sequence and
 *     acknowledgment numbers given as small offsets from the connection's
 *     current numbers (so the segments land in the window and reach deep
 *     states), with arbitrary flags, window, raw options and data;
 *   - a SYN or other segment to the listener from a new port;
 *   - a raw IPv4 datagram;
 *   - a time step (then a poll);
 *   - a user call (send, recv, shutdown, close, accept, linger, options);
 *   - a well-behaved peer step that acknowledges everything sent.
 * Checksums are fixed up so the segments get past verification.
 *
 * Oracles besides ASan/UBSan: every byte the application reads is the byte
 * the peer sent at that stream offset (payload bytes are a function of their
 * sequence number; URG segments carry a pointer from the input, and an
 * urgent byte out of band may leave the stream, but only at the read
 * position and only once urgent data came); recv(MSG_OOB) answers one of
 * Linux's results; every byte the stack sends or resends is the byte the
 * application wrote at that offset; no deadline stays in the past after a
 * poll (no busy loop); SND.UNA <= SND.NXT; buffers never hold more than
 * their size. */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "harness.h"
#include "tcp/seq.h"
#include "wire/ipv4.h"

#define NSLOT 5

struct slot {
    bool used;
    uint16_t lport, rport;
    uint32_t irs;      /* the peer's (our) ISN: payload = pattern(seq - irs - 1) */
    uint32_t iss;      /* the stack's ISN, from its SYN or SYN-ACK */
    bool iss_known, verify_out;
    uint32_t stack_nxt; /* highest sequence the stack sent, + length */
    uint32_t stack_ack; /* last ACK number the stack sent: our next sequence */
    uint32_t peer_nxt;  /* highest sequence we sent, + length */
    synack_sock h;      /* the application's handle, -1 if none */
    uint64_t rd_off, wr_off;
    bool urg_in; /* urgent data may have left the stream at the read position since the last read */
    int rcvbuf_max, sndbuf_max; /* largest SO_RCVBUF / SO_SNDBUF the socket had */
};

struct fz {
    struct harness h;
    const uint8_t *p, *end;
    struct slot sl[NSLOT];
    synack_sock lst;
};

static uint8_t pat_in(uint32_t off) { return (uint8_t)((off * 2654435761u) >> 24); }
static uint8_t pat_out(uint64_t off) { return (uint8_t)(((uint32_t)off * 2246822519u + 7u) >> 24); }

/* Whether the n bytes read are the peer's from offset off. */
static bool pat_in_at(const uint8_t *b, long n, uint64_t off)
{
    for (long i = 0; i < n; i++)
        if (b[i] != pat_in((uint32_t)(off + (uint64_t)i)))
            return false;
    return true;
}

static uint8_t u8(struct fz *f) { return f->p < f->end ? *f->p++ : 0; }
static uint16_t u16(struct fz *f)
{
    uint16_t hi = u8(f);
    return (uint16_t)(hi << 8 | u8(f));
}

static struct slot *slot_for(struct fz *f, uint16_t lport, uint16_t rport, bool add)
{
    for (int i = 0; i < NSLOT; i++)
        if (f->sl[i].used && f->sl[i].lport == lport && f->sl[i].rport == rport)
            return &f->sl[i];
    if (!add)
        return NULL;
    for (int i = 0; i < NSLOT; i++)
        if (!f->sl[i].used) {
            memset(&f->sl[i], 0, sizeof f->sl[i]);
            f->sl[i].used = true;
            f->sl[i].lport = lport;
            f->sl[i].rport = rport;
            f->sl[i].h = -1;
            return &f->sl[i];
        }
    return NULL;
}

/* What the stack sent: learn its numbers, check its data. */
static void observe(struct fz *f)
{
    struct wire_tcp t;
    while (h_next(&f->h, &t)) {
        struct slot *s = slot_for(f, t.sport, t.dport, false);
        if (!s)
            continue;
        if (t.flags & WIRE_TCP_SYN) {
            if (s->iss_known && s->iss != t.seq)
                s->verify_out = false; /* a new connection on this tuple */
            s->iss = t.seq;
            s->iss_known = true;
            s->stack_nxt = t.seq + 1;
        }
        uint32_t end = t.seq + (uint32_t)t.payload_len + !!(t.flags & WIRE_TCP_SYN) + !!(t.flags & WIRE_TCP_FIN);
        if (!s->iss_known || seq_gt(end, s->stack_nxt) || t.flags & WIRE_TCP_SYN)
            s->stack_nxt = end;
        if (t.flags & WIRE_TCP_ACK)
            s->stack_ack = t.ack;
        if (s->verify_out && s->iss_known && t.payload_len) {
            uint32_t off = t.seq - s->iss - 1;
            for (size_t i = 0; i < t.payload_len; i++)
                FUZZ_CHECK(t.payload[i] == pat_out((uint64_t)off + i));
            FUZZ_CHECK((uint64_t)off + t.payload_len <= s->wr_off); /* never data the app did not write */
        }
    }
    h_drain(&f->h);
}

static void inject(struct fz *f, uint16_t lport, uint16_t rport, uint16_t flags, uint32_t seq, uint32_t ack,
                   uint16_t wnd, const uint8_t *opts, size_t optlen, size_t paylen, uint32_t irs, bool bad_csum)
{
    uint8_t buf[WIRE_IPV4_HDR_MIN + WIRE_TCP_HDR_MAX + 2048];
    uint8_t ob[WIRE_TCP_OPT_MAX];
    memset(ob, 0, sizeof ob); /* EOL padding */
    if (optlen)
        memcpy(ob, opts, optlen);
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = rport;
    t.dport = lport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.wnd = wnd;
    /* an urgent pointer inside the segment or beyond it (urg.c) */
    t.urg = (flags & WIRE_TCP_URG) ? (uint16_t)((ack ^ wnd) % (paylen + 64u)) : 0;
    t.opts_raw = ob;
    t.opts_len = (optlen + 3) & ~(size_t)3;
    uint8_t *tcp = buf + WIRE_IPV4_HDR_MIN;
    int hl = wire_tcp_emit(tcp, sizeof buf - WIRE_IPV4_HDR_MIN, &t);
    FUZZ_CHECK(hl > 0);
    /* data bytes are a function of their sequence number */
    uint32_t first = seq + !!(flags & WIRE_TCP_SYN);
    for (size_t i = 0; i < paylen; i++)
        tcp[hl + i] = pat_in(first + (uint32_t)i - irs - 1);
    size_t seglen = (size_t)hl + paylen;
    wire_tcp_set_csum_ipv4(tcp, seglen, H_REMOTE, H_LOCAL);
    if (bad_csum)
        tcp[16] ^= 0x21;
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = H_REMOTE, .dst = H_LOCAL};
    wire_ipv4_emit(buf, sizeof buf, &ip, seglen);
    h_inject_raw(&f->h, buf, WIRE_IPV4_HDR_MIN + seglen);
}

static void seg_event(struct fz *f, struct slot *s)
{
    uint8_t ctl = u8(f);
    uint16_t flags = u8(f);
    if (ctl & 0x80u)
        flags |= (uint16_t)(u8(f) & 0x0fu) << 8; /* AE and reserved bits */
    int16_t dseq = (int16_t)u16(f);
    int16_t dack = (int16_t)u16(f);
    uint32_t seq_base = (ctl & 1u) ? s->peer_nxt : s->stack_ack;
    uint32_t ack_base = (ctl & 2u) ? s->stack_nxt : s->iss + 1;
    if (ctl & 0x40u) { /* far away: blind */
        dseq = (int16_t)(dseq * 4099);
        seq_base += (uint32_t)u16(f) << 16;
    }
    uint32_t seq = seq_base + (uint32_t)(int32_t)dseq;
    uint32_t ack = ack_base + (uint32_t)(int32_t)dack;
    uint16_t wnd = (ctl & 4u) ? u16(f) : 65535;
    uint8_t opts[WIRE_TCP_OPT_MAX];
    size_t optlen = 0;
    if (ctl & 8u) {
        optlen = u8(f) % (WIRE_TCP_OPT_MAX + 1);
        for (size_t i = 0; i < optlen; i++)
            opts[i] = u8(f);
    }
    size_t paylen = 0;
    if (ctl & 0x10u) {
        uint8_t n = u8(f);
        paylen = (n & 0x80u) ? (size_t)(n & 0x7fu) * 16u : n;
    }
    inject(f, s->lport, s->rport, flags, seq, ack, wnd, opts, optlen, paylen, s->irs, (ctl & 0x20u) && !(ctl & 1u));
    if (flags & WIRE_TCP_URG)
        s->urg_in = true;
    uint32_t end = seq + (uint32_t)paylen + !!(flags & WIRE_TCP_SYN) + !!(flags & WIRE_TCP_FIN);
    if (seq_gt(end, s->peer_nxt))
        s->peer_nxt = end;
}

static void listener_event(struct fz *f)
{
    uint8_t which = u8(f);
    /* three new tuples: with the backlog of 2, the third SYN finds the SYN
     * queue full and draws a SYN cookie */
    uint16_t rport = (uint16_t)(40001 + (which & 1u) + ((which >> 4) & 1u));
    struct slot *s = slot_for(f, H_LPORT, rport, true);
    if (!s)
        return;
    if (which & 2u) { /* a fresh SYN opening a connection, options from the input */
        uint32_t isn = (uint32_t)u16(f) << 16 | u16(f);
        s->irs = isn;
        s->peer_nxt = isn + 1;
        s->stack_ack = isn + 1;
        uint8_t opts[WIRE_TCP_OPT_MAX];
        size_t optlen = u8(f) % (WIRE_TCP_OPT_MAX + 1);
        for (size_t i = 0; i < optlen; i++)
            opts[i] = u8(f);
        inject(f, H_LPORT, rport, WIRE_TCP_SYN | (u8(f) & ~WIRE_TCP_SYN & 0xffu), isn, u16(f), u16(f), opts,
               optlen, (which & 4u) ? u8(f) : 0, s->irs, false);
    } else {
        seg_event(f, s);
    }
}

static void raw_event(struct fz *f)
{
    uint8_t buf[1600];
    size_t n = u8(f) + 20u;
    for (size_t i = 0; i < n; i++)
        buf[i] = u8(f);
    uint8_t fix = u8(f);
    struct wire_ipv4 ip;
    if (fix & 1u) { /* make it ours: version, addresses, lengths and checksums right */
        buf[0] = (uint8_t)(0x40u | (buf[0] & 0x0fu));
        if ((buf[0] & 0x0fu) < 5)
            buf[0] = 0x45;
        size_t hl = (size_t)(buf[0] & 0x0fu) * 4;
        if (hl > n)
            hl = n - (n % 4), buf[0] = (uint8_t)(0x40u | (hl / 4));
        buf[2] = (uint8_t)(n >> 8);
        buf[3] = (uint8_t)n;
        buf[9] = (fix & 2u) ? WIRE_IPPROTO_TCP : buf[9];
        if (fix & 4u)
            buf[6] = buf[7] = 0; /* not a fragment */
        const uint32_t src = H_REMOTE, dst = H_LOCAL;
        for (int i = 0; i < 4; i++) {
            buf[12 + i] = (uint8_t)(src >> (24 - 8 * i));
            buf[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
        }
        buf[10] = buf[11] = 0;
        uint32_t acc = 0;
        for (size_t i = 0; i < hl; i += 2)
            acc += (uint32_t)buf[i] << 8 | buf[i + 1];
        while (acc >> 16)
            acc = (acc & 0xffffu) + (acc >> 16);
        buf[10] = (uint8_t)(~acc >> 8);
        buf[11] = (uint8_t)~acc;
        if (buf[9] == WIRE_IPPROTO_TCP && wire_ipv4_parse(buf, n, 0, &ip) == WIRE_OK && ip.payload_len >= 20)
            wire_tcp_set_csum_ipv4((uint8_t *)ip.payload, ip.payload_len, ip.src, ip.dst);
    }
    h_inject_raw(&f->h, buf, n);
}

static void user_event(struct fz *f)
{
    uint8_t op = u8(f);
    struct slot *s = &f->sl[(op >> 4) & 1u];
    static uint8_t io[70000];
    switch (op & 0x0fu) {
    case 0:
    case 1:
    case 2: { /* send */
        size_t n = (size_t)u8(f) << (op & 3u) * 4;
        if (s->h < 0)
            break;
        for (size_t i = 0; i < n; i++)
            io[i] = pat_out(s->wr_off + i);
        long r = synack_send_flags(f->h.s, s->h, io, n, (op & 0x40u) ? SYNACK_SEND_OOB : 0);
        FUZZ_CHECK(r <= (long)n);
        if (r > 0)
            s->wr_off += (uint64_t)r;
        break;
    }
    case 3:
    case 4:
    case 5: { /* recv: the bytes are the peer's bytes at this offset */
        size_t n = (size_t)u8(f) << (op & 7u) * 3;
        if (s->h < 0)
            break;
        if (n > sizeof io)
            n = sizeof io;
        if (synack_atmark(f->h.s, s->h) == 1)
            s->urg_in = true;
        long r = synack_recv(f->h.s, s->h, io, n);
        FUZZ_CHECK(r <= (long)n);
        /* Out-of-band urgent bytes leave the stream, only ever at the read
         * position (a read steps over one at the mark; a new mark drops
         * the old one under a reader there): when urgent data came, the
         * read may start past such bytes, never with a byte altered. */
        uint64_t k = 0;
        while (r > 0 && s->urg_in && k < 64 && !pat_in_at(io, r, s->rd_off + k))
            k++;
        for (long i = 0; i < r; i++)
            FUZZ_CHECK(io[i] == pat_in((uint32_t)(s->rd_off + k + (uint64_t)i)));
        if (r > 0) {
            s->rd_off += k + (uint64_t)r;
            s->urg_in = false;
        }
        if (op & 0x40u) { /* recv(MSG_OOB): never blocks, never fails otherwise */
            uint8_t b;
            long o = synack_recv_flags(f->h.s, s->h, &b, 1, SYNACK_RECV_OOB | ((op & 0x80u) ? SYNACK_RECV_PEEK : 0));
            FUZZ_CHECK(o == 1 || o == 0 || o == -EINVAL || o == -EAGAIN || o == -EBADF || o == -ENOTCONN);
        }
        break;
    }
    case 6:
        if (s->h >= 0)
            synack_shutdown(f->h.s, s->h, u8(f) % 3);
        break;
    case 7:
        if (s->h >= 0) {
            FUZZ_CHECK(synack_close(f->h.s, s->h) == 0);
            s->h = -1;
        }
        break;
    case 8:
        if (s->h >= 0)
            synack_set_linger(f->h.s, s->h, true, 0);
        break;
    case 9: {
        synack_sock c = synack_accept(f->h.s, f->lst, NULL);
        if (c >= 0)
            synack_close(f->h.s, c);
        break;
    }
    case 10:
        if (f->lst >= 0 && (op & 0x20u)) {
            synack_close(f->h.s, f->lst);
            f->lst = -1;
        } else if (f->lst >= 0) {
            synack_listen(f->h.s, f->lst, 1 + (u8(f) & 3));
        }
        break;
    case 11:
    case 12: { /* socket options, values from the input (ranges are checked) */
        uint8_t o = u8(f);
        int v = (int)(int8_t)u8(f);
        if (o & 0x80u)
            v *= 1000;
        synack_setopt(f->h.s, s->h, (o & 0x40u) ? SYNACK_OPT_OOBINLINE : (synack_opt)(o % (SYNACK_OPT_QUICKACK + 1)), v);
        break;
    }
    default: {
        unsigned ev = synack_events(f->h.s, s->h);
        (void)ev;
        synack_tcp_info ti;
        synack_tcp_info_get(f->h.s, s->h, &ti);
        break;
    }
    }
}

static void good_peer(struct fz *f, struct slot *s)
{
    /* acknowledge everything, with the window open */
    inject(f, s->lport, s->rport, WIRE_TCP_ACK, s->stack_ack, s->stack_nxt, 65535, NULL, 0, 0, s->irs, false);
}

static void time_event(struct fz *f)
{
    static const synack_time steps[] = {1,
                                        SYNACK_MS(1),
                                        SYNACK_MS(40),
                                        SYNACK_MS(200),
                                        SYNACK_SEC(1),
                                        SYNACK_SEC(3),
                                        SYNACK_SEC(30),
                                        SYNACK_SEC(130)};
    uint8_t b = u8(f);
    if (b & 0x80u) { /* to the next deadline */
        h_run_to_deadline(&f->h, SYNACK_SEC(600));
        return;
    }
    h_advance(&f->h, steps[b & 7u] * (1u + ((b >> 3) & 7u)));
}

static void check(struct fz *f)
{
    /* No busy loop: a poll leaves no deadline at or before now for long. */
    int spins = 0;
    while (synack_poll(f->h.s) <= f->h.clock.now) {
        FUZZ_CHECK(++spins < 64);
        observe(f);
    }
    for (int i = 0; i < 2; i++) {
        struct slot *s = &f->sl[i];
        synack_tcp_info ti;
        if (s->h < 0 || synack_tcp_info_get(f->h.s, s->h, &ti) != 0)
            continue;
        if (ti.state >= SYNACK_ESTABLISHED)
            FUZZ_CHECK(seq_leq(ti.snd_una, ti.snd_nxt));
        /* the buffers never hold more than the largest size the socket
         * had: the configured 8192 / 4096, or what SO_RCVBUF / SO_SNDBUF
         * set since (they may grow a live connection's buffers); the
         * receive side, plus at most one segment (64 KiB) taken whole past
         * the window into an empty queue, as Linux since 6.17 (tcp/input.c
         * take_whole): the bound a hostile peer gets */
        int rb = 0, sb = 0;
        synack_getopt(f->h.s, s->h, SYNACK_OPT_RCVBUF, &rb);
        synack_getopt(f->h.s, s->h, SYNACK_OPT_SNDBUF, &sb);
        s->rcvbuf_max = rb > s->rcvbuf_max ? rb : s->rcvbuf_max;
        s->sndbuf_max = sb > s->sndbuf_max ? sb : s->sndbuf_max;
        FUZZ_CHECK(ti.unread <= (uint32_t)(s->rcvbuf_max > 8192 ? s->rcvbuf_max : 8192) + 65535u);
        FUZZ_CHECK(ti.unsent <= (uint32_t)(s->sndbuf_max > 4096 ? s->sndbuf_max : 4096));
    }
}

static void setup(struct fz *f, uint8_t cfgb)
{
    synack_config c;
    memset(&c, 0, sizeof c);
    c.seed = 1 + (cfgb >> 4);
    c.sndbuf = 4096;
    c.rcvbuf = 8192;
    c.challenge_ack_limit = (cfgb & 8u) ? 2 : 0;
    c.time_wait = SYNACK_SEC(5);
    h_init(&f->h, &c);
    f->lst = synack_socket(f->h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    FUZZ_CHECK(synack_bind(f->h.s, f->lst, &e) == 0 && synack_listen(f->h.s, f->lst, 2) == 0);

    /* Passive open, with the SYN's options chosen by the first byte. */
    struct slot *s = slot_for(f, H_LPORT, H_RPORT, true);
    s->irs = 1000;
    struct wire_tcp_opts o = {.has_mss = true, .mss = (cfgb & 4u) ? 536 : 1460};
    o.has_ts = cfgb & 1u;
    o.ts_val = 77;
    o.sack_perm = cfgb & 2u;
    o.has_wscale = cfgb & 1u;
    o.wscale = 7;
    uint8_t ob[WIRE_TCP_OPT_MAX];
    int ol = wire_tcp_opts_emit(ob, sizeof ob, &o);
    inject(f, H_LPORT, H_RPORT, WIRE_TCP_SYN, s->irs, 0, 65535, ob, (size_t)ol, 0, s->irs, false);
    s->peer_nxt = s->stack_ack = s->irs + 1;
    s->verify_out = true;
    observe(f);
    inject(f, H_LPORT, H_RPORT, WIRE_TCP_ACK, s->irs + 1, s->iss + 1, 65535, NULL, 0, 0, s->irs, false);
    observe(f);
    s->h = synack_accept(f->h.s, f->lst, NULL);

    /* Active open to the peer's port. */
    synack_sock a = synack_socket(f->h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    synack_connect(f->h.s, a, &r);
    struct wire_tcp t;
    FUZZ_CHECK(h_next(&f->h, &t) && t.flags == WIRE_TCP_SYN);
    struct slot *b = slot_for(f, t.sport, H_RPORT, true);
    b->h = a;
    b->iss = t.seq;
    b->iss_known = b->verify_out = true;
    b->stack_nxt = t.seq + 1;
    b->irs = 5000;
    h_drain(&f->h);
    inject(f, b->lport, H_RPORT, WIRE_TCP_SYN | WIRE_TCP_ACK, b->irs, b->iss + 1, 65535, ob, (size_t)ol, 0,
           b->irs, false);
    b->peer_nxt = b->stack_ack = b->irs + 1;
    observe(f);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    struct fz *f = calloc(1, sizeof *f);
    FUZZ_CHECK(f);
    f->p = data + 1;
    f->end = data + size;
    setup(f, data[0]);
    int events = 0;
    while (f->p < f->end && events++ < 4096) {
        uint8_t ev = u8(f);
        switch (ev >> 5) {
        case 0:
        case 1:
        case 2: {
            struct slot *s = &f->sl[ev & 3u];
            if (s->used)
                seg_event(f, s);
            break;
        }
        case 3: listener_event(f); break;
        case 4: time_event(f); break;
        case 5: user_event(f); break;
        case 6: raw_event(f); break;
        default: {
            struct slot *s = &f->sl[ev & 3u];
            if (s->used)
                good_peer(f, s);
            break;
        }
        }
        observe(f);
        check(f);
    }
    h_free(&f->h);
    free(f);
    return 0;
}
