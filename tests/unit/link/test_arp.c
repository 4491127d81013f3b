/* Ethernet and ARP (RFC 826) over an in-memory frame path: the test is the
 * wire, reading every frame the stack's synack_eth sends and crafting the
 * neighbours' frames. Linux's neighbour-table behaviour is the reference. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define ME 0xc6120002u   /* 198.18.0.2 */
#define PEER 0xc6120001u /* 198.18.0.1 */
#define MAXF 512

static const uint8_t MY_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct wire {
    synack_vclock clock;
    synack_stack *s;
    synack_eth *eth;
    int ifx;
    uint8_t f[MAXF][1600];
    size_t len[MAXF];
    int n, rd;
};

static int capture(void *ctx, const uint8_t *frame, size_t len)
{
    struct wire *w = ctx;
    assert_true(w->n < MAXF);
    assert_true(len <= sizeof w->f[0]);
    memcpy(w->f[w->n], frame, len);
    w->len[w->n++] = len;
    return 0;
}

static struct wire *wire_new(void)
{
    struct wire *w = calloc(1, sizeof *w);
    w->clock.now = SYNACK_SEC(1000);
    synack_config c = {.seed = 9, .clock = synack_vclock_read, .clock_ctx = &w->clock};
    w->s = synack_stack_new(&c);
    assert_int_equal(synack_eth_new(MY_MAC, capture, w, &w->eth), 0);
    synack_iface_config ic = {.ops = synack_eth_ops(), .ctx = w->eth, .addr = synack_ipv4(ME), .prefix_len = 24};
    w->ifx = synack_iface_add(w->s, &ic);
    synack_eth_attach(w->eth, w->s, w->ifx);
    return w;
}

static void wire_free(struct wire *w)
{
    synack_eth_free(w->eth);
    synack_stack_free(w->s);
    free(w);
}

static uint64_t ctr(struct wire *w, const char *name)
{
    return synack_counter(w->s, name);
}

static void advance(struct wire *w, synack_time dt)
{
    w->clock.now += dt;
    synack_eth_poll(w->eth);
    synack_poll(w->s);
}

/* The next frame sent, parsed; false when there is none. */
static bool next_frame(struct wire *w, struct wire_eth *h)
{
    if (w->rd == w->n)
        return false;
    assert_int_equal(wire_eth_parse(w->f[w->rd], w->len[w->rd], h), WIRE_OK);
    w->rd++;
    return true;
}

static struct wire_arp expect_arp(struct wire *w, uint16_t op, const uint8_t dst[6])
{
    struct wire_eth h;
    assert_true(next_frame(w, &h));
    assert_int_equal(h.type, WIRE_ETHERTYPE_ARP);
    assert_memory_equal(h.dst, dst, 6);
    assert_memory_equal(h.src, MY_MAC, 6);
    struct wire_arp a;
    assert_int_equal(wire_arp_parse(h.payload, h.payload_len, &a), WIRE_OK);
    assert_int_equal(a.op, op);
    assert_memory_equal(a.sha, MY_MAC, 6);
    assert_int_equal(a.spa, ME);
    return a;
}

static void expect_nothing(struct wire *w)
{
    assert_int_equal(w->n - w->rd, 0);
}

static void arp_in(struct wire *w, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6], uint32_t spa,
                   const uint8_t tha[6], uint32_t tpa)
{
    uint8_t f[64] = {0}; /* padded to Ethernet's minimum, as on a real wire */
    wire_eth_emit(f, sizeof f, eth_dst, sha, WIRE_ETHERTYPE_ARP);
    struct wire_arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, sha, 6);
    memcpy(a.tha, tha, 6);
    wire_arp_emit(f + 14, sizeof f - 14, &a);
    synack_eth_input(w->eth, f, 60);
    synack_poll(w->s);
}

/* An echo request from PEER, as an Ethernet frame to us. */
static void ping_in(struct wire *w, uint16_t seq)
{
    uint8_t f[128];
    wire_eth_emit(f, sizeof f, MY_MAC, PEER_MAC, WIRE_ETHERTYPE_IPV4);
    int n = wire_icmp_emit(f + 34, sizeof f - 34, WIRE_ICMP_ECHO, 0, seq, (const uint8_t *)"ping", 4, NULL, 0);
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_ICMP, .src = PEER, .dst = ME};
    wire_ipv4_emit(f + 14, sizeof f - 14, &ip, (size_t)n);
    synack_eth_input(w->eth, f, 34 + (size_t)n);
    synack_poll(w->s);
}

/* The next frame is an echo reply to PEER_MAC with this sequence number. */
static void expect_pong(struct wire *w, uint16_t seq)
{
    struct wire_eth h;
    assert_true(next_frame(w, &h));
    assert_int_equal(h.type, WIRE_ETHERTYPE_IPV4);
    assert_memory_equal(h.dst, PEER_MAC, 6);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(h.payload, h.payload_len, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    struct wire_icmp m;
    assert_int_equal(wire_icmp_parse(ip.payload, ip.payload_len, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMP_ECHO_REPLY);
    assert_int_equal(wire_icmp_echo_seq(&m), seq);
}

static synack_neigh_state neigh_state(struct wire *w, uint32_t ip)
{
    synack_addr a = synack_ipv4(ip);
    synack_neigh_state st;
    assert_int_equal(synack_eth_neigh(w->eth, &a, NULL, &st), 0);
    return st;
}

static bool neigh_known(struct wire *w, uint32_t ip)
{
    synack_addr a = synack_ipv4(ip);
    return synack_eth_neigh(w->eth, &a, NULL, NULL) == 0;
}

static void rfc826_request_for_our_address_draws_reply_and_teaches_sender(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    static const uint8_t zero[6];
    arp_in(w, WIRE_ARP_REQUEST, BCAST, PEER_MAC, PEER, zero, ME);
    struct wire_arp a = expect_arp(w, WIRE_ARP_REPLY, PEER_MAC);
    assert_memory_equal(a.tha, PEER_MAC, 6);
    assert_int_equal(a.tpa, PEER);
    /* Linux neigh_event_ns: the requester is learned, STALE until confirmed */
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_STALE);
    /* so the echo reply goes out at once, without a request of ours */
    ping_in(w, 1);
    expect_pong(w, 1);
    expect_nothing(w);
    wire_free(w);
}

static void rfc826_request_for_another_address_is_not_answered(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    static const uint8_t zero[6];
    arp_in(w, WIRE_ARP_REQUEST, BCAST, PEER_MAC, PEER, zero, ME + 7);
    expect_nothing(w);
    assert_false(neigh_known(w, PEER));
    wire_free(w);
}

static void rfc826_unresolved_datagrams_wait_for_the_reply(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    ping_in(w, 1);
    ping_in(w, 2);
    /* one broadcast request, not one per datagram */
    struct wire_arp req = expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    assert_int_equal(req.tpa, PEER);
    expect_nothing(w);
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_INCOMPLETE);
    arp_in(w, WIRE_ARP_REPLY, MY_MAC, PEER_MAC, PEER, MY_MAC, ME);
    expect_pong(w, 1);
    expect_pong(w, 2);
    expect_nothing(w);
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_REACHABLE);
    wire_free(w);
}

static void linux_mcast_solicit_3_requests_1s_apart_then_failed(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    ping_in(w, 1);
    expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    advance(w, SYNACK_MS(999));
    expect_nothing(w);
    advance(w, SYNACK_MS(1));
    expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    advance(w, SYNACK_SEC(1));
    expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    advance(w, SYNACK_SEC(1));
    expect_nothing(w);
    assert_false(neigh_known(w, PEER));
    assert_int_equal(ctr(w, "arp_unresolved"), 1);
    /* the next datagram starts over */
    ping_in(w, 2);
    expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    wire_free(w);
}

static void linux_unres_qlen_bounded_queue_drops_oldest(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    for (uint16_t i = 0; i < 40; i++)
        ping_in(w, i);
    expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    assert_int_equal(ctr(w, "arp_queue_full"), 8);
    arp_in(w, WIRE_ARP_REPLY, MY_MAC, PEER_MAC, PEER, MY_MAC, ME);
    for (uint16_t i = 8; i < 40; i++)
        expect_pong(w, i);
    expect_nothing(w);
    wire_free(w);
}

static void linux_reachable_then_stale_delay_probe(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    ping_in(w, 1);
    expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    arp_in(w, WIRE_ARP_REPLY, MY_MAC, PEER_MAC, PEER, MY_MAC, ME);
    expect_pong(w, 1);
    /* reachable_time is random in [15 s, 45 s): certainly stale after 45 s */
    advance(w, SYNACK_SEC(45));
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_STALE);
    /* a stale entry is still used; its use starts DELAY */
    ping_in(w, 2);
    expect_pong(w, 2);
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_DELAY);
    advance(w, SYNACK_SEC(5));
    /* PROBE: unicast requests to the address we believe */
    struct wire_arp p = expect_arp(w, WIRE_ARP_REQUEST, PEER_MAC);
    assert_int_equal(p.tpa, PEER);
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_PROBE);
    arp_in(w, WIRE_ARP_REPLY, MY_MAC, PEER_MAC, PEER, MY_MAC, ME);
    assert_int_equal(neigh_state(w, PEER), SYNACK_NEIGH_REACHABLE);
    /* next time nobody answers the probes: the entry goes after three */
    advance(w, SYNACK_SEC(45));
    ping_in(w, 3);
    expect_pong(w, 3);
    advance(w, SYNACK_SEC(5));
    for (int i = 0; i < 3; i++) {
        expect_arp(w, WIRE_ARP_REQUEST, PEER_MAC);
        advance(w, SYNACK_SEC(1));
    }
    expect_nothing(w);
    assert_false(neigh_known(w, PEER));
    wire_free(w);
}

static void linux_gc_bounded_table_evicts_least_recently_used(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    static const uint8_t zero[6];
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0};
    for (uint32_t i = 0; i < 300; i++) {
        mac[4] = (uint8_t)(i >> 8);
        mac[5] = (uint8_t)i;
        arp_in(w, WIRE_ARP_REQUEST, BCAST, mac, 0xc6130000u + i, zero, ME);
        w->clock.now += 1000;
    }
    assert_int_equal(synack_eth_neigh_count(w->eth), 256);
    assert_false(neigh_known(w, 0xc6130000u));
    assert_true(neigh_known(w, 0xc6130000u + 299));
    wire_free(w);
}

static void rfc826_gratuitous_arp_updates_known_entry_only(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    static const uint8_t zero[6];
    const uint8_t moved[6] = {0x02, 0xaa, 0, 0, 0, 1};
    /* unknown sender announcing itself: not learned (Linux arp_accept 0) */
    arp_in(w, WIRE_ARP_REQUEST, BCAST, PEER_MAC, PEER, zero, PEER);
    assert_false(neigh_known(w, PEER));
    arp_in(w, WIRE_ARP_REQUEST, BCAST, PEER_MAC, PEER, zero, ME);
    w->rd = w->n;
    /* RFC 826 merge: a known sender's new address replaces the old one */
    arp_in(w, WIRE_ARP_REQUEST, BCAST, moved, PEER, zero, PEER);
    synack_addr a = synack_ipv4(PEER);
    uint8_t mac[6];
    assert_int_equal(synack_eth_neigh(w->eth, &a, mac, NULL), 0);
    assert_memory_equal(mac, moved, 6);
    expect_nothing(w);
    wire_free(w);
}

static void announce_sends_gratuitous_request(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    assert_int_equal(synack_eth_announce(w->eth), 0);
    struct wire_arp a = expect_arp(w, WIRE_ARP_REQUEST, BCAST);
    assert_int_equal(a.tpa, ME);
    wire_free(w);
}

static void bad_frames_are_dropped_and_counted(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    static const uint8_t zero[6];
    /* someone claims our address */
    arp_in(w, WIRE_ARP_REQUEST, BCAST, PEER_MAC, ME, zero, ME);
    expect_nothing(w);
    assert_int_equal(ctr(w, "arp_drop"), 1);
    /* hardware type 6 (IEEE 802), not Ethernet */
    uint8_t f[60] = {0};
    wire_eth_emit(f, sizeof f, BCAST, PEER_MAC, WIRE_ETHERTYPE_ARP);
    struct wire_arp a = {.op = 1, .spa = PEER, .tpa = ME};
    wire_arp_emit(f + 14, sizeof f - 14, &a);
    f[15] = 6;
    synack_eth_input(w->eth, f, sizeof f);
    assert_int_equal(ctr(w, "arp_drop"), 2);
    /* an ARP packet cut short */
    synack_eth_input(w->eth, f, 14 + 20);
    assert_int_equal(ctr(w, "arp_drop"), 3);
    /* a frame for another station; a frame of an unknown type; a runt */
    const uint8_t other[6] = {0x02, 9, 9, 9, 9, 9};
    wire_eth_emit(f, sizeof f, other, PEER_MAC, WIRE_ETHERTYPE_IPV4);
    synack_eth_input(w->eth, f, sizeof f);
    wire_eth_emit(f, sizeof f, MY_MAC, PEER_MAC, 0x88cc);
    synack_eth_input(w->eth, f, sizeof f);
    synack_eth_input(w->eth, f, 10);
    assert_int_equal(ctr(w, "eth_drop"), 3);
    expect_nothing(w);
    wire_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc826_request_for_our_address_draws_reply_and_teaches_sender),
        cmocka_unit_test(rfc826_request_for_another_address_is_not_answered),
        cmocka_unit_test(rfc826_unresolved_datagrams_wait_for_the_reply),
        cmocka_unit_test(linux_mcast_solicit_3_requests_1s_apart_then_failed),
        cmocka_unit_test(linux_unres_qlen_bounded_queue_drops_oldest),
        cmocka_unit_test(linux_reachable_then_stale_delay_probe),
        cmocka_unit_test(linux_gc_bounded_table_evicts_least_recently_used),
        cmocka_unit_test(rfc826_gratuitous_arp_updates_known_entry_only),
        cmocka_unit_test(announce_sends_gratuitous_request),
        cmocka_unit_test(bad_frames_are_dropped_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
