/* SYN flood (RFC 4987): 1,000,000 SYNs from random sources (addresses in
 * the on-link 198.18.0.0/24, random ports, ISNs and options) at a listener
 * with a backlog of 128, spread over 100 s of virtual time. Memory stays
 * bounded (no more than the backlog of half-open connections ever exists;
 * the peak is reported from the stack's own tables and getrusage), and real
 * clients - with timestamps and without - still connect, through SYN
 * cookies, and move data both ways intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "peer.h"
#include "stack/stack.h"

#define FLOOD 1000000
#define BACKLOG 128
#define SPACING_US 100

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The stack's own count of what it holds: connections and their buffers. */
static size_t live_conns(synack_stack *s, size_t *bytes)
{
    size_t n = 0, b = 0;
    for (size_t i = 0; i < s->n_buckets; i++) {
        for (struct hnode *x = s->buckets[i]; x; x = x->next) {
            if (x->tw) /* no TIME_WAIT in a SYN flood; a record is not a socket */
                continue;
            struct sock *k = hnode_sock(x);
            n++;
            b += sizeof *k;
            if (k->tcb.x) /* the extension and ring storage attached while busy */
                b += sizeof *k->tcb.x + (k->tcb.x->sbuf ? k->tcb.snd.cap : 0) +
                     (k->tcb.x->rbuf ? k->tcb.rcv.cap : 0);
        }
    }
    *bytes = b;
    return n;
}

static void syn_from(struct harness *h, uint64_t r, uint64_t r2)
{
    uint8_t buf[128];
    struct wire_tcp_opts o = {.has_mss = true, .mss = (uint16_t)(536 + r2 % 1000)};
    if (r2 & 0x10000) {
        o.has_ts = o.sack_perm = o.has_wscale = true;
        o.ts_val = (uint32_t)(r2 >> 32);
        o.wscale = (uint8_t)((r2 >> 20) % 15);
    }
    struct h_seg seg = {.flags = WIRE_TCP_SYN, .seq = (uint32_t)(r >> 32), .sport = (uint16_t)(1024 + (r >> 8) % 64000),
                        .opts = &o};
    size_t n = h_build(&seg, buf, sizeof buf);
    assert_true(n > 0);
    /* a random source in 198.18.0.0/24 other than the stack's: new
     * address, then both checksums again */
    uint32_t src = 0xc6120000u | (uint32_t)(3 + (r & 0xff) % 252);
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = src, .dst = H_LOCAL};
    wire_ipv4_emit(buf, sizeof buf, &ip, n - WIRE_IPV4_HDR_MIN);
    wire_tcp_set_csum_ipv4(buf + WIRE_IPV4_HDR_MIN, n - WIRE_IPV4_HDR_MIN, src, H_LOCAL);
    synack_input(h->s, h->ifx, buf, n);
}

static void rfc4987_syn_flood_bounded_and_real_clients_connect(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 4987;
    h_init(&h, &cfg);
    synack_sock lst = peer_listen(&h, BACKLOG);
    /* one connection made before the flood, moving data all through it */
    struct peer p;
    peer_connect(&p, &h, lst, 40000, 77, true, 7, 256u << 10, 256u << 10);
    long rss0 = maxrss_kb();
    uint64_t rng = 4987;
    size_t peak = 0, peak_bytes = 0;
    for (int i = 0; i < FLOOD; i++) {
        syn_from(&h, atk_rand(&rng), atk_rand(&rng));
        if (i % 64 == 63) {
            h.clock.now += 64 * SPACING_US;
            peer_step(&p, 2); /* polls, takes the peer's share, drops the rest */
            size_t b, n = live_conns(h.s, &b);
            if (n > peak)
                peak = n, peak_bytes = b;
            assert_true(h.s->handles[lst]->lq->syn_count <= BACKLOG);
        }
    }
    long rss1 = maxrss_kb();
    uint64_t cookies = synack_counter(h.s, "tcp_syncookies_sent");
    print_message("%d SYNs: peak %zu connections held (%zu KiB with buffers; backlog %d), max RSS %ld -> %ld KiB, "
                  "%llu SYN cookies sent, %llu half-open connections timed out\n",
                  FLOOD, peak, peak_bytes / 1024, BACKLOG, rss0, rss1, (unsigned long long)cookies,
                  (unsigned long long)synack_counter(h.s, "tcp_timeouts"));
    /* bounded: the backlog's half-open connections and the established one */
    assert_true(peak <= BACKLOG + 1);
    assert_true(rss1 - rss0 < 64 * 1024);
    assert_true(cookies > FLOOD / 2);
    for (int i = 0; !peer_done(&p); i++) {
        assert_true(i < 100000);
        peer_step(&p, 8);
        h.clock.now += 1000;
    }
    peer_check_intact(&p);

    /* real clients connect during the flood, with and without timestamps,
     * through cookies (the SYN queue is full), and move data intact */
    for (int ts = 0; ts < 2; ts++) {
        for (int i = 0; i < 1000; i++)
            syn_from(&h, atk_rand(&rng), atk_rand(&rng)); /* keep the queue full */
        assert_int_equal(h.s->handles[lst]->lq->syn_count, BACKLOG);
        uint64_t recv0 = synack_counter(h.s, "tcp_syncookies_recv");
        struct peer c;
        peer_connect(&c, &h, lst, (uint16_t)(41000 + ts), 0xfffff000u + (uint32_t)ts, ts, ts ? 7 : 0, 300000,
                     300000);
        assert_int_equal(synack_counter(h.s, "tcp_syncookies_recv"), recv0 + 1);
        synack_tcp_info ti;
        assert_int_equal(synack_tcp_info_get(h.s, c.s, &ti), 0);
        assert_int_equal(ti.state, SYNACK_ESTABLISHED);
        assert_int_equal(ti.ts_ok, ts);
        assert_int_equal(ti.sack_ok, ts);
        assert_int_equal(ti.snd_wscale, ts ? 7 : 0);
        for (int i = 0; !peer_done(&c); i++) {
            assert_true(i < 100000);
            peer_step(&c, 8);
            h.clock.now += 1000;
        }
        peer_check_intact(&c);
    }
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(rfc4987_syn_flood_bounded_and_real_clients_connect)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
