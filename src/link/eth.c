/* Ethernet framing, ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861
 * §7: solicitations and advertisements) for one interface of a stack: the
 * part of the TAP link that does not touch a device, so tests drive it with
 * frames in memory. One neighbour table serves both families.
 *
 * The neighbour table follows Linux's (net/core/neighbour.c) in its states
 * and defaults: INCOMPLETE while a broadcast request is outstanding (3 tries,
 * 1 s apart: mcast_solicit, retrans_time); REACHABLE for a random 15..45 s
 * after a reply (base_reachable_time 30 s); then STALE, still used; the first
 * use of a STALE entry starts DELAY (5 s: delay_first_probe_time), then
 * PROBE sends unicast requests (3: ucast_solicit) and the entry fails if none
 * is answered. The table is bounded: when it is full, the entry unused for
 * longest that is not being resolved makes room (Linux's forced gc).
 * Datagrams wait for resolution in a bounded queue per neighbour; when it is
 * full the oldest is dropped, as Linux's unres_qlen does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/ethernet.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

#define NEIGH_MAX 256
#define NEIGH_QUEUE_PKTS 32
#define NEIGH_QUEUE_BYTES (64u * 1024u)
#define MCAST_SOLICIT 3
#define UCAST_SOLICIT 3
#define RETRANS_TIME SYNACK_SEC(1)
#define BASE_REACHABLE SYNACK_SEC(30)
#define DELAY_FIRST_PROBE SYNACK_SEC(5)
#define ETH_FRAME_MAX (WIRE_ETH_HDR_LEN + 65535)

struct pending {
    struct pending *next;
    size_t len;
    uint8_t data[];
};

struct neigh {
    uint8_t fam;      /* SYNACK_AF_INET or SYNACK_AF_INET6 */
    uint8_t addr[16]; /* IPv4 in the first four bytes */
    synack_neigh_state state;
    uint8_t mac[6];
    uint8_t probes;
    synack_time timer;     /* next retry or state change (INCOMPLETE, DELAY, PROBE) */
    synack_time reachable_until;
    synack_time used;      /* last time a datagram went to it */
    struct pending *qhead, *qtail;
    size_t qlen, qbytes;
};

struct synack_eth {
    uint8_t mac[6];
    synack_frame_fn out;
    void *out_ctx;
    synack_stack *stack;
    int ifindex;
    struct neigh neigh[NEIGH_MAX];
    int n_neigh;
    uint8_t frame[ETH_FRAME_MAX];
};

static const uint8_t BROADCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int synack_eth_new(const uint8_t mac[6], synack_frame_fn out, void *out_ctx, synack_eth **res)
{
    *res = NULL;
    if (!mac || !out || (mac[0] & 1))
        return -EINVAL;
    synack_eth *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    memcpy(e->mac, mac, 6);
    e->out = out;
    e->out_ctx = out_ctx;
    e->ifindex = -1;
    *res = e;
    return 0;
}

static void queue_free(struct neigh *n)
{
    for (struct pending *p = n->qhead, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    n->qhead = n->qtail = NULL;
    n->qlen = n->qbytes = 0;
}

void synack_eth_free(synack_eth *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n_neigh; i++)
        queue_free(&e->neigh[i]);
    free(e);
}

void synack_eth_attach(synack_eth *e, synack_stack *s, int ifindex)
{
    e->stack = s;
    e->ifindex = ifindex;
}

const uint8_t *synack_eth_mac(const synack_eth *e)
{
    return e->mac;
}

static synack_time now_of(const synack_eth *e)
{
    return e->stack->cfg.clock(e->stack->cfg.clock_ctx);
}

static uint32_t our_ip(const synack_eth *e)
{
    return e->stack->ifaces[e->ifindex].addr;
}

static const uint8_t *our_ip6(const synack_eth *e)
{
    const struct iface *f = &e->stack->ifaces[e->ifindex];
    return f->has6 ? f->addr6 : NULL;
}

static int send_frame(synack_eth *e, const uint8_t dst[6], uint16_t type, const uint8_t *payload, size_t len)
{
    if (WIRE_ETH_HDR_LEN + len > sizeof e->frame)
        return -EMSGSIZE;
    wire_eth_emit(e->frame, sizeof e->frame, dst, e->mac, type);
    memcpy(e->frame + WIRE_ETH_HDR_LEN, payload, len);
    return e->out(e->out_ctx, e->frame, WIRE_ETH_HDR_LEN + len);
}

static void send_arp(synack_eth *e, uint16_t op, const uint8_t dst[6], const uint8_t tha[6], uint32_t tpa,
                     uint32_t spa)
{
    struct wire_arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, e->mac, 6);
    memcpy(a.tha, tha, 6);
    uint8_t pkt[WIRE_ARP_LEN];
    wire_arp_emit(pkt, sizeof pkt, &a);
    send_frame(e, dst, WIRE_ETHERTYPE_ARP, pkt, sizeof pkt);
    if (op == WIRE_ARP_REQUEST)
        e->stack->nst.arp_requests_out++;
    else
        e->stack->nst.arp_replies_out++;
}

/* RFC 4861 §4.6.1 link-layer address option: type 1 (source) or 2 (target). */
static void put_lla(uint8_t *o, uint8_t type, const uint8_t mac[6])
{
    o[0] = type;
    o[1] = 1; /* in units of 8 bytes */
    memcpy(o + 2, mac, 6);
}

/* An ICMPv6 neighbour message (135/136) from our address to dst, hop limit
 * 255 (RFC 4861 §7.1: receivers drop anything less). */
static void send_nd(synack_eth *e, const uint8_t mac_dst[6], const uint8_t dst[16], uint8_t type, uint32_t flags,
                    const uint8_t target[16], uint8_t opt_type)
{
    const uint8_t *src = our_ip6(e);
    if (!src)
        return;
    uint8_t body[16 + 8], pkt[WIRE_IPV6_HDR_LEN + WIRE_ICMPV6_HDR_LEN + sizeof body];
    memcpy(body, target, 16);
    put_lla(body + 16, opt_type, e->mac);
    int n = wire_icmpv6_emit(pkt + WIRE_IPV6_HDR_LEN, sizeof pkt - WIRE_IPV6_HDR_LEN, src, dst, type, 0, flags,
                             body, sizeof body, NULL, 0);
    struct wire_ipv6 ip;
    memset(&ip, 0, sizeof ip);
    ip.hop_limit = 255;
    ip.proto = WIRE_IPPROTO_ICMPV6;
    memcpy(ip.src, src, 16);
    memcpy(ip.dst, dst, 16);
    wire_ipv6_emit(pkt, sizeof pkt, &ip, (size_t)n);
    send_frame(e, mac_dst, WIRE_ETHERTYPE_IPV6, pkt, WIRE_IPV6_HDR_LEN + (size_t)n);
    if (type == WIRE_ICMPV6_NEIGH_SOLICIT)
        e->stack->nst.ndp_ns_out++;
    else
        e->stack->nst.ndp_na_out++;
}

/* RFC 2464 §7: an IPv6 multicast address maps onto 33:33 + its low 32 bits. */
static void mcast_mac6(const uint8_t a[16], uint8_t mac[6])
{
    mac[0] = mac[1] = 0x33;
    memcpy(mac + 2, a + 12, 4);
}

static void solicit(synack_eth *e, struct neigh *n, bool unicast)
{
    if (n->fam == SYNACK_AF_INET6) {
        /* RFC 4861 §7.2.2: to the solicited-node multicast address
         * ff02::1:ffXX:XXXX of the target, or unicast when probing. */
        uint8_t dst[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
        uint8_t mac[6];
        if (unicast) {
            memcpy(dst, n->addr, 16);
            memcpy(mac, n->mac, 6);
        } else {
            memcpy(dst + 13, n->addr + 13, 3);
            mcast_mac6(dst, mac);
        }
        send_nd(e, mac, dst, WIRE_ICMPV6_NEIGH_SOLICIT, 0, n->addr, 1);
    } else {
        static const uint8_t zero[6];
        send_arp(e, WIRE_ARP_REQUEST, unicast ? n->mac : BROADCAST, zero, wire_get32(n->addr), our_ip(e));
    }
    n->probes++;
    n->timer = now_of(e) + RETRANS_TIME;
}

int synack_eth_announce(synack_eth *e)
{
    if (!e->stack)
        return -ENOTCONN;
    /* A gratuitous ARP request (RFC 5227 §3): sender and target both our
     * address, so neighbours that know us update their caches. */
    static const uint8_t zero[6];
    uint32_t ip = our_ip(e);
    send_arp(e, WIRE_ARP_REQUEST, BROADCAST, zero, ip, ip);
    return 0;
}

static struct neigh *neigh_find(synack_eth *e, uint8_t fam, const uint8_t addr[16])
{
    size_t n = fam == SYNACK_AF_INET6 ? 16 : 4;
    for (int i = 0; i < e->n_neigh; i++)
        if (e->neigh[i].fam == fam && !memcmp(e->neigh[i].addr, addr, n))
            return &e->neigh[i];
    return NULL;
}

static struct neigh *neigh_find4(synack_eth *e, uint32_t ip)
{
    uint8_t a[16] = {0};
    wire_put32(a, ip);
    return neigh_find(e, SYNACK_AF_INET, a);
}

static void neigh_remove(synack_eth *e, struct neigh *n)
{
    queue_free(n);
    *n = e->neigh[--e->n_neigh];
    memset(&e->neigh[e->n_neigh], 0, sizeof e->neigh[0]);
}

/* A new entry; when the table is full, the entry unused for longest that is
 * not being resolved gives its place. NULL if every entry is resolving. */
static struct neigh *neigh_new(synack_eth *e, uint8_t fam, const uint8_t addr[16])
{
    if (e->n_neigh == NEIGH_MAX) {
        struct neigh *victim = NULL;
        for (int i = 0; i < e->n_neigh; i++) {
            struct neigh *n = &e->neigh[i];
            if (n->state != SYNACK_NEIGH_INCOMPLETE && (!victim || n->used < victim->used))
                victim = n;
        }
        if (!victim)
            return NULL;
        neigh_remove(e, victim);
    }
    struct neigh *n = &e->neigh[e->n_neigh++];
    memset(n, 0, sizeof *n);
    n->fam = fam;
    memcpy(n->addr, addr, fam == SYNACK_AF_INET6 ? 16 : 4);
    n->used = now_of(e);
    return n;
}

static struct neigh *neigh_new4(synack_eth *e, uint32_t ip)
{
    uint8_t a[16] = {0};
    wire_put32(a, ip);
    return neigh_new(e, SYNACK_AF_INET, a);
}

static void set_reachable(synack_eth *e, struct neigh *n, const uint8_t mac[6])
{
    memcpy(n->mac, mac, 6);
    n->state = SYNACK_NEIGH_REACHABLE;
    n->probes = 0;
    /* Linux neigh_rand_reach_time: uniformly in [base/2, 3*base/2). */
    n->reachable_until = now_of(e) + BASE_REACHABLE / 2 + stack_random(e->stack) % BASE_REACHABLE;
    n->timer = SYNACK_TIME_NEVER;
}

static void flush_queue(synack_eth *e, struct neigh *n)
{
    struct pending *p = n->qhead;
    n->qhead = n->qtail = NULL;
    n->qlen = n->qbytes = 0;
    while (p) {
        struct pending *next = p->next;
        send_frame(e, n->mac, n->fam == SYNACK_AF_INET6 ? WIRE_ETHERTYPE_IPV6 : WIRE_ETHERTYPE_IPV4, p->data,
                   p->len);
        free(p);
        p = next;
    }
}

static void enqueue(synack_eth *e, struct neigh *n, const uint8_t *dgram, size_t len)
{
    while (n->qhead && (n->qlen >= NEIGH_QUEUE_PKTS || n->qbytes + len > NEIGH_QUEUE_BYTES)) {
        struct pending *old = n->qhead;
        n->qhead = old->next;
        if (!n->qhead)
            n->qtail = NULL;
        n->qlen--;
        n->qbytes -= old->len;
        free(old);
        e->stack->nst.arp_queue_full++;
    }
    struct pending *p = malloc(sizeof *p + len);
    if (!p) {
        e->stack->nst.arp_queue_full++;
        return;
    }
    p->next = NULL;
    p->len = len;
    memcpy(p->data, dgram, len);
    if (n->qtail)
        n->qtail->next = p;
    else
        n->qhead = p;
    n->qtail = p;
    n->qlen++;
    n->qbytes += len;
}

/* RFC 1112 §6.4: an IPv4 multicast group maps onto 01:00:5e + low 23 bits. */
static bool link_dst_without_arp(const synack_eth *e, uint32_t dst, uint8_t mac[6])
{
    const struct iface *f = &e->stack->ifaces[e->ifindex];
    if (dst == 0xffffffffu || (f->mask < 0xfffffffeu && (dst & ~f->mask) == ~f->mask)) {
        memcpy(mac, BROADCAST, 6);
        return true;
    }
    if ((dst >> 28) == 0xe) {
        const uint8_t m[6] = {0x01, 0x00, 0x5e, (uint8_t)((dst >> 16) & 0x7f), (uint8_t)(dst >> 8), (uint8_t)dst};
        memcpy(mac, m, 6);
        return true;
    }
    return false;
}

static int eth_transmit(void *ctx, const uint8_t *dgram, size_t len)
{
    synack_eth *e = ctx;
    if (!e->stack || len < 20)
        return -ENOTCONN;
    /* Every destination is on the link: the stack's routes are its
     * interfaces' prefixes, and there are no gateways. */
    bool v6 = dgram[0] >> 4 == 6;
    uint16_t type = v6 ? WIRE_ETHERTYPE_IPV6 : WIRE_ETHERTYPE_IPV4;
    uint8_t key[16] = {0};
    uint8_t mac[6];
    if (v6) {
        if (len < WIRE_IPV6_HDR_LEN)
            return -EINVAL;
        memcpy(key, dgram + 24, 16);
        if (key[0] == 0xff) {
            mcast_mac6(key, mac);
            return send_frame(e, mac, type, dgram, len);
        }
    } else {
        uint32_t dst = wire_get32(dgram + 16);
        if (link_dst_without_arp(e, dst, mac))
            return send_frame(e, mac, type, dgram, len);
        wire_put32(key, dst);
    }
    uint8_t fam = v6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
    struct neigh *n = neigh_find(e, fam, key);
    synack_time now = now_of(e);
    if (!n) {
        n = neigh_new(e, fam, key);
        if (!n)
            return -ENOBUFS;
        n->state = SYNACK_NEIGH_INCOMPLETE;
        enqueue(e, n, dgram, len);
        solicit(e, n, false);
        return 0;
    }
    n->used = now;
    switch (n->state) {
    case SYNACK_NEIGH_INCOMPLETE:
        enqueue(e, n, dgram, len);
        return 0;
    case SYNACK_NEIGH_REACHABLE:
    case SYNACK_NEIGH_STALE:
        /* the first use of an entry no longer confirmed starts DELAY */
        if (n->state == SYNACK_NEIGH_STALE || now >= n->reachable_until) {
            n->state = SYNACK_NEIGH_DELAY;
            n->timer = now + DELAY_FIRST_PROBE;
        }
        break;
    default: /* DELAY, PROBE: the address is still believed */
        break;
    }
    return send_frame(e, n->mac, type, dgram, len);
}

synack_link_ops synack_eth_ops(void)
{
    return (synack_link_ops){.transmit = eth_transmit};
}

/* RFC 826 "Packet Reception", with Linux's choices: a request for our
 * address creates (STALE) or updates the sender's entry; a reply makes it
 * REACHABLE; other traffic only refreshes an entry that exists. */
static void arp_input(synack_eth *e, const uint8_t *pkt, size_t len)
{
    synack_stack *s = e->stack;
    s->nst.arp_in++;
    struct wire_arp a;
    if (wire_arp_parse(pkt, len, &a) != WIRE_OK || (a.op != WIRE_ARP_REQUEST && a.op != WIRE_ARP_REPLY) ||
        (a.sha[0] & 1)) {
        s->nst.arp_drop++;
        return;
    }
    uint32_t me = our_ip(e);
    if (a.spa == me) {
        /* someone else claims our address (or our own frame came back) */
        s->nst.arp_drop++;
        return;
    }
    bool for_us = a.tpa == me;
    struct neigh *n = a.spa ? neigh_find4(e, a.spa) : NULL;
    if (n) {
        bool changed = memcmp(n->mac, a.sha, 6) != 0;
        if (a.op == WIRE_ARP_REPLY && for_us) {
            set_reachable(e, n, a.sha);
            flush_queue(e, n);
        } else if (n->state == SYNACK_NEIGH_INCOMPLETE) {
            /* a request from the very host we are resolving answers us too */
            set_reachable(e, n, a.sha);
            n->state = SYNACK_NEIGH_STALE;
            flush_queue(e, n);
        } else if (changed) {
            memcpy(n->mac, a.sha, 6);
            n->state = SYNACK_NEIGH_STALE;
            n->timer = SYNACK_TIME_NEVER;
        }
    } else if (for_us && a.spa && a.op == WIRE_ARP_REQUEST) {
        n = neigh_new4(e, a.spa);
        if (n) {
            memcpy(n->mac, a.sha, 6);
            n->state = SYNACK_NEIGH_STALE;
            n->timer = SYNACK_TIME_NEVER;
        }
    }
    if (!for_us) {
        if (!n)
            s->nst.arp_drop++;
        return;
    }
    if (a.op == WIRE_ARP_REQUEST)
        /* An RFC 5227 probe (sender 0.0.0.0) is answered too, so a host
         * checking for a duplicate of our address learns it is taken. */
        send_arp(e, WIRE_ARP_REPLY, a.sha, a.sha, a.spa, me);
}

/* The link-layer address option of type want among a neighbour message's
 * options; false if absent. A zero-length option makes the message invalid
 * (RFC 4861 §4.6), reported through *bad. */
static bool find_lla(const uint8_t *o, size_t n, uint8_t want, uint8_t mac[6], bool *bad)
{
    bool found = false;
    while (n >= 2) {
        size_t l = (size_t)o[1] * 8;
        if (l == 0 || l > n) {
            *bad = true;
            return false;
        }
        if (o[0] == want && l >= 8) {
            memcpy(mac, o + 2, 6);
            found = true;
        }
        o += l;
        n -= l;
    }
    return found;
}

/* RFC 4861 §7.1 validation, then §7.2.3 (a solicitation for our address:
 * learn the sender, STALE, and advertise) and §7.2.5 (an advertisement:
 * complete or confirm the entry, as for an ARP reply). Returns false when
 * the packet is not a neighbour message, for the stack to take. */
static bool ndp_input(synack_eth *e, const uint8_t src_mac[6], const uint8_t *pkt, size_t len)
{
    struct wire_ipv6 ip;
    if (wire_ipv6_parse(pkt, len, 0, &ip) != WIRE_OK || ip.proto != WIRE_IPPROTO_ICMPV6 || ip.n_ext ||
        ip.payload_len < 1 ||
        (ip.payload[0] != WIRE_ICMPV6_NEIGH_SOLICIT && ip.payload[0] != WIRE_ICMPV6_NEIGH_ADVERT))
        return false;
    synack_stack *s = e->stack;
    s->nst.ndp_in++;
    struct wire_icmpv6 m;
    const uint8_t *me = our_ip6(e);
    if (!me || ip.hop_limit != 255 || wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m) != WIRE_OK ||
        m.code != 0 || m.body_len < 16 || m.body[0] == 0xff) {
        s->nst.ndp_drop++;
        return true;
    }
    const uint8_t *target = m.body;
    uint8_t mac[6];
    bool bad = false;
    static const uint8_t unspec[16];
    bool dad = !memcmp(ip.src, unspec, 16);
    if (m.type == WIRE_ICMPV6_NEIGH_SOLICIT) {
        bool has = find_lla(m.body + 16, m.body_len - 16, 1, mac, &bad);
        if (bad || (dad && (has || ip.dst[0] != 0xff)) || memcmp(target, me, 16)) {
            s->nst.ndp_drop++;
            return true;
        }
        if (has && !(mac[0] & 1)) {
            struct neigh *n = neigh_find(e, SYNACK_AF_INET6, ip.src);
            if (!n && (n = neigh_new(e, SYNACK_AF_INET6, ip.src)))
                n->state = SYNACK_NEIGH_INCOMPLETE; /* filled just below */
            if (n && (n->state == SYNACK_NEIGH_INCOMPLETE || memcmp(n->mac, mac, 6))) {
                bool waiting = n->state == SYNACK_NEIGH_INCOMPLETE && n->qhead;
                memcpy(n->mac, mac, 6);
                n->state = SYNACK_NEIGH_STALE;
                n->timer = SYNACK_TIME_NEVER;
                if (waiting)
                    flush_queue(e, n);
            }
        }
        /* §7.2.4: solicited and override, to the sender; a duplicate
         * address check (unspecified source) is answered to all nodes. */
        static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
        uint8_t dmac[6];
        if (dad) {
            mcast_mac6(all_nodes, dmac);
            send_nd(e, dmac, all_nodes, WIRE_ICMPV6_NEIGH_ADVERT, 0x20000000u, me, 2);
        } else {
            memcpy(dmac, has ? mac : src_mac, 6); /* no option: the frame's source */
            send_nd(e, dmac, ip.src, WIRE_ICMPV6_NEIGH_ADVERT, 0x60000000u, me, 2);
        }
        return true;
    }
    /* advertisement: R S O flags in the top bits of rest */
    bool solicited = m.rest & 0x40000000u, override = m.rest & 0x20000000u;
    bool has = find_lla(m.body + 16, m.body_len - 16, 2, mac, &bad);
    if (bad || (solicited && ip.dst[0] == 0xff) || !memcmp(target, me, 16)) {
        s->nst.ndp_drop++;
        return true;
    }
    struct neigh *n = neigh_find(e, SYNACK_AF_INET6, target);
    if (!n)
        return true; /* §7.2.5: unsolicited news of a stranger is dropped */
    if (n->state == SYNACK_NEIGH_INCOMPLETE) {
        if (!has)
            return true;
        set_reachable(e, n, mac);
        if (!solicited)
            n->state = SYNACK_NEIGH_STALE;
        flush_queue(e, n);
    } else if (has && memcmp(n->mac, mac, 6)) {
        if (override) {
            memcpy(n->mac, mac, 6);
            if (solicited)
                set_reachable(e, n, mac);
            else
                n->state = SYNACK_NEIGH_STALE;
        } else if (n->state == SYNACK_NEIGH_REACHABLE) {
            n->state = SYNACK_NEIGH_STALE;
        }
    } else if (solicited) {
        set_reachable(e, n, n->mac);
    }
    return true;
}

void synack_eth_input(synack_eth *e, const uint8_t *frame, size_t len)
{
    if (!e->stack)
        return;
    struct wire_eth h;
    if (wire_eth_parse(frame, len, &h) != WIRE_OK || h.nvlan ||
        (memcmp(h.dst, e->mac, 6) != 0 && memcmp(h.dst, BROADCAST, 6) != 0 &&
         !(h.type == WIRE_ETHERTYPE_IPV4 && h.dst[0] == 0x01 && h.dst[1] == 0 && h.dst[2] == 0x5e) &&
         !(h.type == WIRE_ETHERTYPE_IPV6 && h.dst[0] == 0x33 && h.dst[1] == 0x33))) {
        e->stack->nst.eth_drop++;
        return;
    }
    if (h.type == WIRE_ETHERTYPE_IPV4)
        synack_input(e->stack, e->ifindex, h.payload, h.payload_len);
    else if (h.type == WIRE_ETHERTYPE_IPV6) {
        if (!ndp_input(e, h.src, h.payload, h.payload_len))
            synack_input(e->stack, e->ifindex, h.payload, h.payload_len);
    }
    else if (h.type == WIRE_ETHERTYPE_ARP)
        arp_input(e, h.payload, h.payload_len);
    else
        e->stack->nst.eth_drop++;
}

synack_time synack_eth_poll(synack_eth *e)
{
    if (!e->stack)
        return SYNACK_TIME_NEVER;
    synack_time now = now_of(e), next = SYNACK_TIME_NEVER;
    for (int i = 0; i < e->n_neigh;) {
        struct neigh *n = &e->neigh[i];
        if (n->timer <= now) {
            if (n->state == SYNACK_NEIGH_DELAY) {
                n->state = SYNACK_NEIGH_PROBE;
                n->probes = 0;
            }
            unsigned limit = n->state == SYNACK_NEIGH_INCOMPLETE ? MCAST_SOLICIT : UCAST_SOLICIT;
            if (n->probes >= limit) {
                /* FAILED: what waited is lost, and the next datagram starts
                 * over with a broadcast request. */
                e->stack->nst.arp_unresolved += n->qlen;
                neigh_remove(e, n);
                continue;
            }
            solicit(e, n, n->state == SYNACK_NEIGH_PROBE);
        }
        if (n->state == SYNACK_NEIGH_REACHABLE && n->reachable_until <= now)
            n->state = SYNACK_NEIGH_STALE;
        if (n->timer < next)
            next = n->timer;
        if (n->state == SYNACK_NEIGH_REACHABLE && n->reachable_until < next)
            next = n->reachable_until;
        i++;
    }
    return next;
}

int synack_eth_neigh(const synack_eth *e, const synack_addr *addr, uint8_t mac[6], synack_neigh_state *state)
{
    size_t len = addr->family == SYNACK_AF_INET6 ? 16 : 4;
    for (int i = 0; i < e->n_neigh; i++) {
        const struct neigh *n = &e->neigh[i];
        if (n->fam != addr->family || memcmp(n->addr, addr->bytes, len))
            continue;
        if (mac)
            memcpy(mac, n->mac, 6);
        if (state)
            *state = n->state == SYNACK_NEIGH_REACHABLE && n->reachable_until <= now_of(e)
                         ? SYNACK_NEIGH_STALE
                         : n->state;
        return 0;
    }
    return -ENOENT;
}

size_t synack_eth_neigh_count(const synack_eth *e)
{
    return (size_t)e->n_neigh;
}
