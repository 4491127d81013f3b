/* The attack tests' well-behaved peer, on top of tests/support/harness: it
 * opens a connection to the stack's listener (with options), sends a byte
 * stream in MSS-sized segments within the stack's window, takes the stack's
 * in-order data and acknowledges it. Both streams are pseudo-random bytes
 * from a seed and are hashed (SHA-256) on both ends, so a test can say
 * "the transfer arrived intact" whatever else it throws at the connection.
 * Header only: each tests/attack/test_*.c is its own program. Include after
 * <cmocka.h>. */
#ifndef SYNACK_TEST_ATTACK_PEER_H
#define SYNACK_TEST_ATTACK_PEER_H

#include <sodium.h>
#include <string.h>

#include "harness.h"
#include "tcp/seq.h"
#include "wire/ipv4.h"

/* A byte stream: byte i of stream `seed` (xorshift-mixed, no period that
 * a misplaced segment could hide in). */
static inline uint8_t stream_byte(uint64_t seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return (uint8_t)(x >> 24);
}

struct peer {
    struct harness *h;    /* the stack, shared by every peer of a test */
    synack_sock lst, s;   /* the stack's listener and accepted socket */
    uint16_t port;        /* the peer's port */
    uint32_t isn, iss;    /* the peer's ISN, the stack's */
    uint32_t snd_nxt;     /* the peer's next sequence number */
    uint32_t snd_una;     /* the highest ACK from the stack */
    uint32_t rcv_nxt;     /* the next byte expected from the stack */
    uint32_t stack_wnd;   /* the window the stack last advertised (scaled) */
    uint8_t stack_wscale; /* the stack's window scale, if negotiated */
    uint8_t wscale;       /* ours, offered in the SYN (0: none) */
    bool ts;              /* timestamps on */
    uint32_t ts_recent;
    uint16_t mss;
    uint16_t wnd;         /* the window we advertise (unscaled field) */
    /* stream peer -> stack */
    uint64_t up_seed, up_sent, up_total, up_read;
    uint64_t up_hashed;   /* bytes of the up stream hashed (a resend is not hashed again) */
    uint32_t last_una;
    int stall;            /* steps without progress of SND.UNA while data is out */
    crypto_hash_sha256_state up_tx, up_rx;
    /* stream stack -> peer */
    uint64_t down_seed, down_written, down_total, down_got;
    crypto_hash_sha256_state down_tx, down_rx;
    uint64_t segs_from_stack;
};

static inline void peer_inject(struct peer *p, uint16_t flags, uint32_t seq, uint32_t ack, const void *data,
                               size_t len)
{
    struct wire_tcp_opts o;
    memset(&o, 0, sizeof o);
    if (p->ts) {
        o.has_ts = true;
        o.ts_val = (uint32_t)(p->h->clock.now / 1000);
        o.ts_ecr = p->ts_recent;
    }
    h_inject(p->h, &(struct h_seg){.flags = flags, .seq = seq, .ack = ack, .data = data, .len = len,
                                     .sport = p->port, .opts = &o, .wnd = p->wnd, .zero_wnd = p->wnd == 0});
}

/* A listener on H_LPORT with this backlog. */
static inline synack_sock peer_listen(struct harness *h, int backlog)
{
    synack_sock l = synack_socket(h->s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h->s, l, &e), 0);
    assert_int_equal(synack_listen(h->s, l, backlog), 0);
    return l;
}

/* A connection from the peer's port with ISN isn to listener lst, accepted
 * by the application; ts/wscale choose the SYN's options. up/down: sizes
 * of the two streams. Other traffic the stack sends meanwhile is dropped. */
static inline void peer_connect(struct peer *p, struct harness *h, synack_sock lst, uint16_t port, uint32_t isn,
                                bool ts, uint8_t wscale, uint64_t up, uint64_t down)
{
    memset(p, 0, sizeof *p);
    p->h = h;
    p->lst = lst;
    p->port = port;
    p->isn = isn;
    p->ts = ts;
    p->wscale = wscale;
    p->mss = 1460;
    p->wnd = 65535;
    struct wire_tcp_opts o = {.has_mss = true, .mss = p->mss, .has_ts = ts, .ts_val = 1, .sack_perm = true,
                              .has_wscale = wscale != 0, .wscale = wscale};
    h_drain(h);
    h_inject(h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = isn, .sport = port, .opts = &o});
    struct wire_tcp t;
    bool got = false;
    while (!got && h_next(h, &t))
        got = t.dport == port;
    assert_true(got);
    assert_int_equal(t.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
    assert_int_equal(t.ack, isn + 1);
    h_drain(h);
    p->iss = t.seq;
    p->snd_nxt = isn + 1;
    p->snd_una = isn + 1;
    p->last_una = p->snd_una;
    p->rcv_nxt = p->iss + 1;
    p->stack_wscale = (wscale && t.opt.has_wscale) ? t.opt.wscale : 0;
    p->stack_wnd = t.wnd;
    if (!(ts && t.opt.has_ts))
        p->ts = false;
    else
        p->ts_recent = t.opt.ts_val;
    peer_inject(p, WIRE_TCP_ACK, p->snd_nxt, p->rcv_nxt, NULL, 0);
    p->s = synack_accept(h->s, lst, NULL);
    assert_true(p->s >= 0);
    p->up_seed = 0x5eed0001ull ^ isn ^ ((uint64_t)port << 32);
    p->down_seed = 0x5eed0002ull ^ isn ^ ((uint64_t)port << 32);
    p->up_total = up;
    p->down_total = down;
    crypto_hash_sha256_init(&p->up_tx);
    crypto_hash_sha256_init(&p->up_rx);
    crypto_hash_sha256_init(&p->down_tx);
    crypto_hash_sha256_init(&p->down_rx);
}

/* Takes what the stack sent on the peer's connection: in-order data is
 * hashed and acknowledged (one ACK for the lot); out-of-order data is
 * dropped (the stack resends it). Returns the number of segments seen. */
static inline int peer_take(struct peer *p)
{
    struct wire_tcp t;
    int n = 0;
    bool owe_ack = false;
    while (h_next(p->h, &t)) {
        if (t.dport != p->port)
            continue;
        n++;
        p->segs_from_stack++;
        if (t.flags & WIRE_TCP_RST)
            fail_msg("the stack reset the connection (seq %u ack %u)", t.seq, t.ack);
        if ((t.flags & WIRE_TCP_ACK) && seq_gt(t.ack, p->snd_una) && seq_leq(t.ack, p->snd_nxt))
            p->snd_una = t.ack;
        if (t.flags & WIRE_TCP_ACK)
            p->stack_wnd = (uint32_t)t.wnd << p->stack_wscale;
        if (p->ts && t.opt.has_ts && seq_leq(t.seq, p->rcv_nxt))
            p->ts_recent = t.opt.ts_val;
        if (t.payload_len) {
            if (t.seq == p->rcv_nxt && p->wnd) {
                crypto_hash_sha256_update(&p->down_rx, t.payload, t.payload_len);
                p->down_got += t.payload_len;
                p->rcv_nxt += (uint32_t)t.payload_len;
            }
            owe_ack = true;
        }
        if ((t.flags & WIRE_TCP_FIN) && t.seq + t.payload_len == p->rcv_nxt) {
            p->rcv_nxt++;
            owe_ack = true;
        }
    }
    h_drain(p->h);
    if (owe_ack)
        peer_inject(p, WIRE_TCP_ACK, p->snd_nxt, p->rcv_nxt, NULL, 0);
    return n;
}

/* One step of both transfers: the application writes what fits of the
 * down stream and reads what arrived of the up stream; the peer sends up
 * to `segs` segments of the up stream within the stack's window, then
 * takes the stack's output. Go-back-N: when the stack's ACK lags, the peer
 * resends from it. */
static inline void peer_step(struct peer *p, int segs)
{
    uint8_t buf[16384];
    /* the application */
    while (p->down_written < p->down_total) {
        size_t n = sizeof buf;
        if (n > p->down_total - p->down_written)
            n = (size_t)(p->down_total - p->down_written);
        for (size_t i = 0; i < n; i++)
            buf[i] = stream_byte(p->down_seed, p->down_written + i);
        long w = synack_send(p->h->s, p->s, buf, n);
        if (w <= 0)
            break;
        crypto_hash_sha256_update(&p->down_tx, buf, (size_t)w);
        p->down_written += (uint64_t)w;
    }
    long r;
    while ((r = synack_recv(p->h->s, p->s, buf, sizeof buf)) > 0) {
        crypto_hash_sha256_update(&p->up_rx, buf, (size_t)r);
        p->up_read += (uint64_t)r;
    }
    /* the peer: go back to the stack's last ACK when it stops moving */
    if (p->snd_una != p->snd_nxt && p->snd_una == p->last_una) {
        if (++p->stall >= 50) {
            p->up_sent -= (uint32_t)(p->snd_nxt - p->snd_una);
            p->snd_nxt = p->snd_una;
            p->stall = 0;
        }
    } else {
        p->stall = 0;
    }
    p->last_una = p->snd_una;
    for (int i = 0; i < segs && p->up_sent < p->up_total; i++) {
        uint32_t inflight = p->snd_nxt - p->snd_una;
        if (inflight >= p->stack_wnd)
            break;
        size_t n = p->mss - (p->ts ? 12u : 0u);
        if (n > p->stack_wnd - inflight)
            n = p->stack_wnd - inflight;
        if (n > p->up_total - p->up_sent)
            n = (size_t)(p->up_total - p->up_sent);
        for (size_t k = 0; k < n; k++)
            buf[k] = stream_byte(p->up_seed, p->up_sent + k);
        if (p->up_sent + n > p->up_hashed) {
            size_t skip = (size_t)(p->up_hashed - p->up_sent);
            crypto_hash_sha256_update(&p->up_tx, buf + skip, n - skip);
            p->up_hashed = p->up_sent + n;
        }
        peer_inject(p, WIRE_TCP_ACK | WIRE_TCP_PSH, p->snd_nxt, p->rcv_nxt, buf, n);
        p->snd_nxt += (uint32_t)n;
        p->up_sent += n;
    }
    synack_poll(p->h->s);
    peer_take(p);
}

static inline bool peer_done(const struct peer *p)
{
    return p->up_read == p->up_total && p->down_got == p->down_total && p->snd_una == p->snd_nxt;
}

/* Both streams' SHA-256 match end to end. */
static inline void peer_check_intact(struct peer *p)
{
    assert_int_equal(p->up_read, p->up_total);
    assert_int_equal(p->down_got, p->down_total);
    uint8_t a[32], b[32];
    crypto_hash_sha256_final(&p->up_tx, a);
    crypto_hash_sha256_final(&p->up_rx, b);
    assert_memory_equal(a, b, 32);
    crypto_hash_sha256_final(&p->down_tx, a);
    crypto_hash_sha256_final(&p->down_rx, b);
    assert_memory_equal(a, b, 32);
}

/* splitmix64, for the attackers' random numbers (seeded: runs replay). */
static inline uint64_t atk_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
