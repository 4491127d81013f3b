/* IPv6 neighbour discovery (RFC 4861 §7) over an in-memory frame path: the
 * test is the wire, reading every frame the stack's synack_eth sends and
 * crafting the neighbour's solicitations and advertisements. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"
#include "wire/bytes.h"
#include "wire/ethernet.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

#define MAXF 256

static const uint8_t MY_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t ME6[16] = {0x20, 0x01, 0x00, 0x02, [15] = 2};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x00, 0x02, [13] = 0xab, [14] = 0xcd, [15] = 1};

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
    assert_true(w->n < MAXF && len <= sizeof w->f[0]);
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
    synack_iface_config ic = {.ops = synack_eth_ops(), .ctx = w->eth, .addr = synack_ipv6(ME6), .prefix_len = 64};
    w->ifx = synack_iface_add(w->s, &ic);
    assert_true(w->ifx >= 0);
    synack_eth_attach(w->eth, w->s, w->ifx);
    return w;
}

static void wire_free(struct wire *w)
{
    synack_eth_free(w->eth);
    synack_stack_free(w->s);
    free(w);
}

static void advance(struct wire *w, synack_time dt)
{
    w->clock.now += dt;
    synack_eth_poll(w->eth);
    synack_poll(w->s);
}

/* A neighbour message from PEER to dst: type, flags (R S O), target, and a
 * link-layer address option of opt_type carrying PEER_MAC (0: none). */
static void nd_in(struct wire *w, const uint8_t src[16], const uint8_t dst[16], uint8_t hop, uint8_t type,
                  uint32_t flags, const uint8_t target[16], uint8_t opt_type)
{
    uint8_t body[24], f[128];
    memcpy(body, target, 16);
    body[16] = opt_type;
    body[17] = 1;
    memcpy(body + 18, PEER_MAC, 6);
    uint8_t mac_dst[6] = {0x33, 0x33, dst[12], dst[13], dst[14], dst[15]};
    wire_eth_emit(f, sizeof f, dst[0] == 0xff ? mac_dst : MY_MAC, PEER_MAC, WIRE_ETHERTYPE_IPV6);
    int n = wire_icmpv6_emit(f + 54, sizeof f - 54, src, dst, type, 0, flags, body, opt_type ? 24 : 16, NULL, 0);
    struct wire_ipv6 ip;
    memset(&ip, 0, sizeof ip);
    ip.hop_limit = hop;
    ip.proto = WIRE_IPPROTO_ICMPV6;
    memcpy(ip.src, src, 16);
    memcpy(ip.dst, dst, 16);
    wire_ipv6_emit(f + 14, sizeof f - 14, &ip, (size_t)n);
    synack_eth_input(w->eth, f, 54 + (size_t)n);
    synack_poll(w->s);
}

/* The next frame: an ICMPv6 neighbour message of this type to eth_dst,
 * hop limit 255, with a valid checksum; returns it. */
static struct wire_icmpv6 expect_nd(struct wire *w, uint8_t type, const uint8_t eth_dst[6], struct wire_ipv6 *ip)
{
    assert_true(w->rd < w->n);
    struct wire_eth h;
    assert_int_equal(wire_eth_parse(w->f[w->rd], w->len[w->rd], &h), WIRE_OK);
    w->rd++;
    assert_int_equal(h.type, WIRE_ETHERTYPE_IPV6);
    assert_memory_equal(h.dst, eth_dst, 6);
    assert_memory_equal(h.src, MY_MAC, 6);
    assert_int_equal(wire_ipv6_parse(h.payload, h.payload_len, 0, ip), WIRE_OK);
    assert_int_equal(ip->hop_limit, 255);
    struct wire_icmpv6 m;
    assert_int_equal(wire_icmpv6_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &m), WIRE_OK);
    assert_int_equal(m.type, type);
    assert_int_equal(m.code, 0);
    assert_memory_equal(ip->src, ME6, 16);
    return m;
}

static synack_neigh_state state_of(struct wire *w, const uint8_t a[16], uint8_t mac[6])
{
    synack_addr ad = synack_ipv6(a);
    synack_neigh_state st;
    assert_int_equal(synack_eth_neigh(w->eth, &ad, mac, &st), 0);
    return st;
}

/* RFC 4861 §7.2.3/§7.2.4: a solicitation for our address draws a solicited,
 * override advertisement to the sender with our link-layer address, and
 * the sender is learned, STALE. */
static void rfc4861_7_2_4_solicitation_draws_advertisement(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    uint8_t sn[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 2}; /* solicited-node of ME6 */
    nd_in(w, PEER6, sn, 255, WIRE_ICMPV6_NEIGH_SOLICIT, 0, ME6, 1);
    struct wire_ipv6 ip;
    struct wire_icmpv6 m = expect_nd(w, WIRE_ICMPV6_NEIGH_ADVERT, PEER_MAC, &ip);
    assert_memory_equal(ip.dst, PEER6, 16);
    assert_int_equal(m.rest, 0x60000000u); /* S and O */
    assert_memory_equal(m.body, ME6, 16);
    assert_int_equal(m.body[16], 2); /* target link-layer address */
    assert_memory_equal(m.body + 18, MY_MAC, 6);
    uint8_t mac[6];
    assert_int_equal(state_of(w, PEER6, mac), SYNACK_NEIGH_STALE);
    assert_memory_equal(mac, PEER_MAC, 6);
    assert_int_equal(synack_counter(w->s, "ndp_na_out"), 1);
    wire_free(w);
}

/* RFC 4861 §7.1.1: a hop limit below 255 (it crossed a router) or a target
 * that is not ours draws nothing; §7.2.4: a duplicate-address check (source
 * ::) is answered to all nodes, not solicited. */
static void rfc4861_7_1_1_invalid_solicitations_and_dad(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    uint8_t sn[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 2};
    nd_in(w, PEER6, sn, 64, WIRE_ICMPV6_NEIGH_SOLICIT, 0, ME6, 1);
    uint8_t other[16];
    memcpy(other, ME6, 16);
    other[15] = 7;
    nd_in(w, PEER6, sn, 255, WIRE_ICMPV6_NEIGH_SOLICIT, 0, other, 1);
    assert_int_equal(w->n, 0);
    assert_int_equal(synack_counter(w->s, "ndp_drop"), 2);
    static const uint8_t unspec[16];
    nd_in(w, unspec, sn, 255, WIRE_ICMPV6_NEIGH_SOLICIT, 0, ME6, 0);
    const uint8_t all_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    struct wire_ipv6 ip;
    struct wire_icmpv6 m = expect_nd(w, WIRE_ICMPV6_NEIGH_ADVERT, all_mac, &ip);
    assert_int_equal(ip.dst[0], 0xff);
    assert_int_equal(ip.dst[15], 1);
    assert_int_equal(m.rest, 0x20000000u); /* O only */
    wire_free(w);
}

/* RFC 4861 §7.2.2: a packet for an unknown neighbour waits while a
 * solicitation goes to its solicited-node group (ff02::1:ffXX:XXXX, MAC
 * 33:33:ff:XX:XX:XX); §7.2.5: the solicited advertisement makes it
 * REACHABLE and releases what waited. */
static void rfc4861_7_2_2_resolution_then_queue_flushed(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    synack_sock c = synack_socket(w->s);
    synack_endpoint to = {.addr = synack_ipv6(PEER6), .port = 80};
    assert_int_equal(synack_connect(w->s, c, &to), -EINPROGRESS);
    synack_poll(w->s);
    const uint8_t sn_mac[6] = {0x33, 0x33, 0xff, 0xab, 0xcd, 0x01};
    struct wire_ipv6 ip;
    struct wire_icmpv6 m = expect_nd(w, WIRE_ICMPV6_NEIGH_SOLICIT, sn_mac, &ip);
    const uint8_t sn[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [13] = 0xab, [14] = 0xcd, [15] = 1};
    assert_memory_equal(ip.dst, sn, 16);
    assert_memory_equal(m.body, PEER6, 16);
    assert_int_equal(m.body[16], 1); /* source link-layer address */
    assert_int_equal(w->n, 1);        /* the SYN waits */
    nd_in(w, PEER6, ME6, 255, WIRE_ICMPV6_NEIGH_ADVERT, 0x60000000u, PEER6, 2);
    assert_int_equal(state_of(w, PEER6, NULL), SYNACK_NEIGH_REACHABLE);
    assert_int_equal(w->n, 2);
    struct wire_eth h;
    assert_int_equal(wire_eth_parse(w->f[1], w->len[1], &h), WIRE_OK);
    assert_memory_equal(h.dst, PEER_MAC, 6);
    assert_int_equal(h.type, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(wire_ipv6_parse(h.payload, h.payload_len, 0, &ip), WIRE_OK);
    assert_int_equal(ip.proto, WIRE_IPPROTO_TCP);
    wire_free(w);
}

/* RFC 4861 §7.2.2 / Linux mcast_solicit: 3 solicitations 1 s apart, then
 * the entry fails and what waited is counted lost. */
static void rfc4861_7_2_2_three_solicitations_then_failed(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    synack_sock c = synack_socket(w->s);
    synack_endpoint to = {.addr = synack_ipv6(PEER6), .port = 80};
    assert_int_equal(synack_connect(w->s, c, &to), -EINPROGRESS);
    synack_poll(w->s);
    advance(w, SYNACK_MS(999));
    assert_int_equal(synack_counter(w->s, "ndp_ns_out"), 1);
    advance(w, SYNACK_MS(1));
    advance(w, SYNACK_SEC(1));
    assert_int_equal(synack_counter(w->s, "ndp_ns_out"), 3);
    assert_int_equal(synack_counter(w->s, "arp_unresolved"), 0);
    advance(w, SYNACK_SEC(1)); /* the third went unanswered: FAILED, the SYN lost */
    assert_true(synack_counter(w->s, "arp_unresolved") >= 1);
    wire_free(w);
}

/* §7.2.5: an advertisement about a neighbour we never asked about is
 * dropped; one without a solicitation flag leaves an entry STALE. */
static void rfc4861_7_2_5_unsolicited_advertisements(void **state)
{
    (void)state;
    struct wire *w = wire_new();
    nd_in(w, PEER6, ME6, 255, WIRE_ICMPV6_NEIGH_ADVERT, 0x20000000u, PEER6, 2);
    synack_addr a = synack_ipv6(PEER6);
    assert_int_equal(synack_eth_neigh(w->eth, &a, NULL, NULL), -ENOENT);
    synack_sock c = synack_socket(w->s);
    synack_endpoint to = {.addr = synack_ipv6(PEER6), .port = 80};
    assert_int_equal(synack_connect(w->s, c, &to), -EINPROGRESS);
    synack_poll(w->s);
    nd_in(w, PEER6, ME6, 255, WIRE_ICMPV6_NEIGH_ADVERT, 0x20000000u, PEER6, 2);
    assert_int_equal(state_of(w, PEER6, NULL), SYNACK_NEIGH_STALE);
    wire_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4861_7_2_4_solicitation_draws_advertisement),
        cmocka_unit_test(rfc4861_7_1_1_invalid_solicitations_and_dad),
        cmocka_unit_test(rfc4861_7_2_2_resolution_then_queue_flushed),
        cmocka_unit_test(rfc4861_7_2_2_three_solicitations_then_failed),
        cmocka_unit_test(rfc4861_7_2_5_unsolicited_advertisements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
