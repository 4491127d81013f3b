/* Ethernet framing and ARP (RFC 826) for one interface of a stack: the part
 * of the TAP link that does not touch a device, so tests drive it with
 * frames in memory.
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
    uint32_t ip;
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

static void solicit(synack_eth *e, struct neigh *n, bool unicast)
{
    static const uint8_t zero[6];
    send_arp(e, WIRE_ARP_REQUEST, unicast ? n->mac : BROADCAST, zero, n->ip, our_ip(e));
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

static struct neigh *neigh_find(synack_eth *e, uint32_t ip)
{
    for (int i = 0; i < e->n_neigh; i++)
        if (e->neigh[i].ip == ip)
            return &e->neigh[i];
    return NULL;
}

static void neigh_remove(synack_eth *e, struct neigh *n)
{
    queue_free(n);
    *n = e->neigh[--e->n_neigh];
    memset(&e->neigh[e->n_neigh], 0, sizeof e->neigh[0]);
}

/* A new entry; when the table is full, the entry unused for longest that is
 * not being resolved gives its place. NULL if every entry is resolving. */
static struct neigh *neigh_new(synack_eth *e, uint32_t ip)
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
    n->ip = ip;
    n->used = now_of(e);
    return n;
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
        send_frame(e, n->mac, WIRE_ETHERTYPE_IPV4, p->data, p->len);
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
    uint32_t dst = wire_get32(dgram + 16);
    uint8_t mac[6];
    if (link_dst_without_arp(e, dst, mac))
        return send_frame(e, mac, WIRE_ETHERTYPE_IPV4, dgram, len);
    struct neigh *n = neigh_find(e, dst);
    synack_time now = now_of(e);
    if (!n) {
        n = neigh_new(e, dst);
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
    return send_frame(e, n->mac, WIRE_ETHERTYPE_IPV4, dgram, len);
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
    struct neigh *n = a.spa ? neigh_find(e, a.spa) : NULL;
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
        n = neigh_new(e, a.spa);
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

void synack_eth_input(synack_eth *e, const uint8_t *frame, size_t len)
{
    if (!e->stack)
        return;
    struct wire_eth h;
    if (wire_eth_parse(frame, len, &h) != WIRE_OK || h.nvlan ||
        (memcmp(h.dst, e->mac, 6) != 0 && memcmp(h.dst, BROADCAST, 6) != 0 &&
         !(h.type == WIRE_ETHERTYPE_IPV4 && h.dst[0] == 0x01 && h.dst[1] == 0 && h.dst[2] == 0x5e))) {
        e->stack->nst.eth_drop++;
        return;
    }
    if (h.type == WIRE_ETHERTYPE_IPV4)
        synack_input(e->stack, e->ifindex, h.payload, h.payload_len);
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
    uint32_t ip = synack_addr_ipv4(addr);
    for (int i = 0; i < e->n_neigh; i++) {
        const struct neigh *n = &e->neigh[i];
        if (n->ip != ip)
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
