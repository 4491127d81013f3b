/* The stack instance: interfaces, the demultiplexing tables, sockets and
 * their timers. Internal to src/stack and src/link. */
#ifndef SYNACK_STACK_STACK_H
#define SYNACK_STACK_STACK_H

#include "synack.h"
#include "tcp/tcb.h"
#include "wire/ipv4.h"
#include "wheel.h"

#define STACK_MAX_IFACES 8

/* ---- ICMP and link-layer state (issue 4) ---- */

/* Counters of the stack outside the TCP core, after CORE_STATS in the
 * counter list (synack_counter). */
#define NET_STATS(X)                                                              \
    X(icmp_in, "ICMP messages received")                                          \
    X(icmp_drop_hdr, "ICMP messages dropped: short or bad checksum")              \
    X(icmp_echo_replies, "ICMP echo replies sent")                                \
    X(icmp_unreach_out, "ICMP destination-unreachable messages sent")             \
    X(icmp_ratelimited, "ICMP errors not sent: rate limit (icmp_ratelimit)")      \
    X(icmp_err_in, "ICMP errors received about our datagrams")                    \
    X(icmp_err_drop_quote, "ICMP errors dropped: quoted datagram unusable")       \
    X(icmp_err_noconn, "ICMP errors about no connection of ours")                 \
    X(icmp_err_outofwindow, "ICMP errors dropped: quoted seq outside SND.UNA..SND.NXT (RFC 5927)") \
    X(icmp_err_soft, "ICMP soft errors recorded on a connection")                 \
    X(icmp_err_abort, "connections aborted by an ICMP hard error")                \
    X(icmp_pmtu_lowered, "send MSS lowered by fragmentation needed (RFC 1191)")   \
    X(icmp_ignored, "ICMP messages ignored (source quench, redirect, other types)") \
    X(ip6_in, "IPv6 packets received")                                            \
    X(ip6_drop_hdr, "IPv6 packets dropped: bad header or extension chain")        \
    X(ip6_drop_addr, "IPv6 packets dropped: not for us")                          \
    X(ip6_drop_frag, "IPv6 packets dropped: fragments (not reassembled)")         \
    X(ip6_drop_proto, "IPv6 packets dropped: unknown next header")               \
    X(icmp6_in, "ICMPv6 messages received")                                       \
    X(icmp6_drop, "ICMPv6 messages dropped: short or bad checksum")               \
    X(icmp6_echo_replies, "ICMPv6 echo replies sent")                             \
    X(icmp6_errors_out, "ICMPv6 errors sent (unreachable, parameter problem)")    \
    X(icmp6_ignored, "ICMPv6 messages ignored (neighbour discovery, other types)") \
    X(errqueue_dropped, "timestamps not queued: the socket's error queue was full") \
    X(arp_in, "ARP packets received")                                             \
    X(arp_drop, "ARP packets dropped: malformed or not for us")                   \
    X(arp_requests_out, "ARP requests sent")                                      \
    X(arp_replies_out, "ARP replies sent")                                        \
    X(arp_unresolved, "datagrams dropped: neighbour never answered")              \
    X(arp_queue_full, "datagrams dropped: too many waiting for one neighbour")    \
    X(eth_drop, "Ethernet frames dropped: bad, foreign or unknown type")         \
    X(ndp_in, "IPv6 neighbour solicitations and advertisements received")      \
    X(ndp_drop, "neighbour messages dropped: invalid (RFC 4861 §7.1) or not for us") \
    X(ndp_ns_out, "neighbour solicitations sent")                                \
    X(ndp_na_out, "neighbour advertisements sent")                               \
    X(tcp_drop_nomem, "TCP segments dropped: no memory to attach to the connection")

struct net_stats {
#define NET_STATS_FIELD(name, text) uint64_t name;
    NET_STATS(NET_STATS_FIELD)
#undef NET_STATS_FIELD
};

/* Linux's ICMP output limits: a per-destination token bucket
 * (icmp_ratelimit, 1 s per message, burst 6) and a global one
 * (icmp_msgs_per_sec 1000, icmp_msgs_burst 50). */
#define ICMP_PEERS 64
struct icmp_peer {
    uint32_t addr;
    bool used;
    uint64_t tokens, last; /* microseconds of credit, time of last update */
};
struct icmp_state {
    struct icmp_peer peers[ICMP_PEERS];
    uint64_t global_tokens; /* in millionths of a message */
    uint64_t global_last;
    bool global_init;
};

struct iface {
    synack_iface_config cfg;
    uint32_t addr, mask; /* IPv4, host order */
    uint8_t addr6[16];   /* IPv6 (RFC 8200) */
    uint8_t plen6;
    bool has4, has6;
};

/* ---- memory a connection holds only while busy (pool.c) ---- */
struct chunk;
struct pool_bufs {
    uint32_t size; /* 0: unused */
    size_t n_free;
    struct chunk *free;
};
struct pool {
    struct chunk *ext_free, *tw_free, *sock_free;
    size_t n_ext_free, n_tw_free, n_sock_free;
    struct pool_bufs bufs[2]; /* the default send and receive sizes */
    size_t ext_live;          /* extensions attached now */
    size_t buf_bytes_live;    /* ring storage attached now */
};

/* A link in the connection table, which holds sockets and TIME_WAIT
 * records alike, as Linux's ehash does: a 4-tuple is found, or found free,
 * in one bucket. */
struct hnode {
    struct hnode *next;
    uint32_t hash; /* demux_hash of the 4-tuple (its low half) */
    bool tw;       /* in a struct tw_rec, else in a struct sock */
    /* In the link's padding (neither a sock nor a record grows), what the
     * IP header of the entry's segments carries (ipopt.c): the DS field of
     * its IPv4 and IPv6 packets (IP_TOS, IPV6_TCLASS: RFC 2474's DSCP, the
     * ECN bits being TCP's), which a TIME_WAIT record keeps for its ACKs as
     * Linux's tw_tos / tw_tclass; and a socket's IP_TTL (0: the default;
     * a record's ACKs go with the default, as from Linux's control socket).
     * Hashing an entry leaves them alone. */
    uint8_t tos, tclass, ttl;
};

/* Where a destination's ephemeral port walk stands (RFC 6056 Algorithm 4),
 * and the random skip its next step takes (drawn a connect early: socket.c
 * asks for the memory of the ports ahead). */
struct port_walk {
    uint32_t at;
    uint8_t skip;
};

/* A socket: the TCB and what the stack keeps around it. */
struct sock {
    struct tcb tcb; /* first: a tcb pointer is a sock pointer */
    struct hnode hn; /* in the connection table, while hashed */
    struct sock *dirty_next;  /* owes output at the next flush */
    struct wheel_node tn;     /* in the stack's timer wheel at tcp_next_deadline() */
    synack_endpoint local;
    synack_sock handle; /* -1 once the user closed it (here: it fills local's padding) */
    struct listener *lq; /* a listener's queues, from listen() on */
    /* child of a listener, until accepted */
    struct sock *parent;
    struct sock *acc_next;
    uint32_t sndcap, rcvcap; /* SO_SNDBUF, SO_RCVBUF: the rings' sizes (storage on demand, pool.c) */
    /* TCP_NOTSENT_LOWAT (0: the stack's default) and where the last
     * send-queue chunk began (socket.c, Linux's tail skb) */
    uint32_t notsent_lowat, chunk_seq;
    int32_t linger_sec;
    /* last ICMP soft error (RFC 1122 §4.2.3.9): reported if the connection
     * times out (a negative errno: ICMP's reach -EHOSTUNREACH, -113) */
    int8_t soft_err;
    bool hashed : 1, dirty : 1;
    bool listener : 1, bound : 1;
    bool queued : 1;
    /* options: the TCP ones live in tcb.o, the DS fields and IP_TTL in hn */
    bool reuseaddr : 1;
    bool linger_on : 1;
    bool v6only : 1; /* IPV6_V6ONLY: an IPv6 wildcard listener refuses IPv4 */
    /* IP-level options (ipopt.c): IPV6_UNICAST_HOPS (when hops_set), IP_ and
     * IPV6_MTU_DISCOVER (Linux's IP_PMTUDISC_* values), IP_FREEBIND (one
     * bit for IPV6_FREEBIND too, as in Linux) */
    uint8_t hops;
    uint8_t pmtud4 : 3, pmtud6 : 3;
    bool hops_set : 1, freebind : 1;
    struct errq *eq; /* SO_ZEROCOPY / SO_TIMESTAMPING (errqueue.c), on demand */
};

/* Six cache lines: an idle connection's whole state (docs/benchmarks.md,
 * memory); a field that would cross this belongs in the on-demand parts. */
_Static_assert(sizeof(struct sock) <= 384, "a socket fits in 384 bytes (issue 8)");

/* What only a listening socket needs (kept out of every connection). */
struct listener {
    int backlog;
    int syn_count, acc_count;
    struct sock *acc_head, *acc_tail;
    synack_time syncookie_at; /* last cookie SYN-ACK sent (SYN queue full); 0: never */
    bool fo_key_set;          /* TCP_FASTOPEN_KEY: this listener's RFC 7413 cookie key */
    uint8_t fo_key[16];
};

struct synack_stack {
    synack_config cfg;
    struct tcp_ctx tcp;
    struct core_stats st;
    struct net_stats nst;
    struct icmp_state icmp;
    struct iface ifaces[STACK_MAX_IFACES];
    int n_ifaces;
    uint64_t rng; /* splitmix64 state, from the seed */
    uint8_t hash_key[16];
    uint16_t ip_id;

    struct sock **handles;
    int n_handles;
    int handle_lo;         /* no free handle below this */
    uint16_t *port_refs;   /* per port: bound sockets with a handle on it */
    int n_v6only;          /* of those, IPV6_V6ONLY ones (ports shared across families) */
    struct port_walk *port_walks; /* RFC 6056 Algorithm 4: where each destination's port walk stands */

    struct hnode **buckets; /* the connection table: 4-tuple hash, chained */
    size_t n_buckets, n_hashed; /* n_hashed: socks in it (n_tw: records) */
    size_t n_socks;        /* struct sock alive (synack_stack_usage_get) */
    struct sock *dirty;
    struct wheel wheel; /* every connection with a timer running */
    struct pool pool;
    /* TIME_WAIT records (timewait.c): in the connection table, with a wheel
     * of their own */
    size_t n_tw;
    struct wheel tw_wheel;
    struct sock **listeners;
    int n_listeners, cap_listeners;

    struct fo_entry *fo_cache; /* RFC 7413 cookies per server (fastopen.c), on first use */

    /* Whose IP-level options the segments take while the core runs for a
     * TCB that no sock holds: a TIME_WAIT record, or the listener of a SYN
     * cookie (ipopt_out); NULL otherwise */
    const struct hnode *out_entry;
    /* The DS field (ECN bits off) of the TCP segment being handled: a RST
     * that answers it carries it back (ipopt_out) */
    uint8_t rx_ds;

    synack_tap_fn tap;
    void *tap_ctx;
    synack_event_fn on_event;
    void *on_event_ctx;

    uint8_t tx[65536 + 64];
};

/* stack.c */
uint64_t stack_random(synack_stack *s);
void stack_now(synack_stack *s);
void stack_now_at(synack_stack *s, synack_time now);
void stack_mark_dirty(synack_stack *s, struct sock *k);
void stack_notify(synack_stack *s, struct sock *k);
/* After every call into the core for k: gives back what k no longer
 * needs (pool.c) and files it in the timer wheel at its next deadline
 * (free when the deadline did not move). */
void stack_settle(synack_stack *s, struct sock *k);

/* pool.c. Before every call into the core for k: the TCB extension, and
 * ring storage for snd_payload bytes to send or rcv_payload arriving.
 * -ENOMEM when memory ran out (the TCB is left usable). */
int stack_attach(synack_stack *s, struct sock *k, size_t snd_payload, size_t rcv_payload);
/* Gives back the idle parts of k's extension, or (all) everything. */
void stack_release_idle(synack_stack *s, struct sock *k, bool all);
int stack_resize_bufs(synack_stack *s, struct sock *k, uint32_t sndcap, uint32_t rcvcap);
struct tw_rec *pool_tw_get(synack_stack *s);
void pool_tw_put(synack_stack *s, struct tw_rec *w);
struct sock *pool_sock_get(synack_stack *s); /* uncleared */
void pool_sock_put(synack_stack *s, struct sock *k);
void pool_init(synack_stack *s);
void pool_free(synack_stack *s);

/* fastopen.c: RFC 7413 client cookie cache */
struct tcp_fo_syn;
void stack_fo_syn(synack_stack *s, struct sock *k, const void *buf, size_t len, struct tcp_fo_syn *fo);
bool stack_fo_ready(synack_stack *s, struct sock *k); /* a cookie (or none needed) for k's peer */
void stack_fo_learn(synack_stack *s, struct sock *k, const struct wire_tcp *seg, bool syn_resent, bool asked);
void stack_fo_free(synack_stack *s);
const uint8_t *stack_fo_listener_key(void *cb, const struct tcb *child);

/* demux.c */
/* The hash of a 4-tuple: a keyed hash of both addresses and the peer's
 * port, plus our own port. A table of n (a power of 2) buckets takes its
 * low bits. Hash once per segment and pass it to the _h lookups.
 * Why our port is added, not hashed: a client's connect() walks the ports
 * of one destination (socket.c), and finds each next port's hash by one
 * addition and its bucket beside the last one's, so it can ask for them
 * ahead. What a peer chooses (its address and port) still goes through the
 * secret hash, so no peer can aim collisions (Linux's inet_ehashfn keys
 * the same inputs); only our port is not secret, and a server's is its
 * listener's, the same for all its peers. */
uint64_t demux_base(const synack_stack *s, const struct tcp_tuple *t);
static inline uint64_t demux_hash(const synack_stack *s, const struct tcp_tuple *t)
{
    return demux_base(s, t) + t->lport;
}
/* A socket's or a record's link into, and out of, the chain for hash h
 * (the counts are the caller's). */
void demux_link(synack_stack *s, struct hnode *x, uint64_t h, bool tw);
void demux_unlink(synack_stack *s, struct hnode *x);
/* Room for one more entry (socket or record) in the connection table:
 * 0 or -ENOMEM. */
int demux_reserve(synack_stack *s);
/* The table's chain for hash h, and the sock or record a node is in. */
static inline struct hnode **demux_chain(synack_stack *s, uint64_t h)
{
    return &s->buckets[h & (s->n_buckets - 1)];
}
static inline struct sock *hnode_sock(struct hnode *n)
{
    return (struct sock *)((char *)n - offsetof(struct sock, hn));
}
static inline struct tw_rec *hnode_tw(struct hnode *n)
{
    return (struct tw_rec *)(void *)n; /* its first member */
}
/* Hashes k under h, the demux_hash of its 4-tuple, which the caller has
 * just found free (no connection, no TIME_WAIT record). 0 or -ENOMEM. */
int demux_insert(synack_stack *s, struct sock *k, uint64_t h);
void demux_remove(synack_stack *s, struct sock *k);
struct sock *demux_lookup(synack_stack *s, const struct tcp_tuple *t);
struct sock *demux_lookup_h(synack_stack *s, const struct tcp_tuple *t, uint64_t h);
/* The connection or the TIME_WAIT record of t (hash h), found in one walk of
 * its chain; NULL when the tuple is free. A tuple has at most one. */
struct hnode *demux_find(synack_stack *s, const struct tcp_tuple *t, uint64_t h);
struct sock *demux_listener(synack_stack *s, const struct tcp_tuple *t);
int demux_add_listener(synack_stack *s, struct sock *k);
void demux_remove_listener(synack_stack *s, struct sock *k);

/* timewait.c: an orphaned connection in TIME_WAIT becomes a record of
 * struct tcp_tw (about 120 bytes) and its sock is freed. */
struct tw_rec {
    struct hnode hn;
    struct wheel_node tn; /* the 2MSL timer */
    struct tcp_tw tw;
};
/* If k is orphaned in TIME_WAIT, replaces it by a record (k is freed:
 * call last). The flush calls it, once k is off the flush list. */
void tw_maybe_enter(synack_stack *s, struct sock *k);
struct tw_rec *tw_lookup(synack_stack *s, const struct tcp_tuple *t);
bool tw_tuple_eq(const struct tcp_tw *w, const struct tcp_tuple *t);
/* A segment for a record. True when it was a SYN that ends TIME_WAIT
 * (RFC 6191): the record is gone and *iss_hint is the ISN to start above. */
bool tw_input(synack_stack *s, struct tw_rec *w, const struct wire_tcp *seg, uint32_t *iss_hint);
/* connect() takes w's 4-tuple (tcp_tw_reusable): ends the record, with
 * its state change reported, takes it out of the connection table, and
 * keeps in *old what the new connection starts from. The record stays in
 * its timer wheel until tw_reap, which the caller must call before anything
 * polls the stack. */
void tw_reuse(synack_stack *s, struct tw_rec *w, struct tcp_tw *old);
/* ... and frees it, leaving its timer: the caller's last step (NULL: none) */
void tw_reap(synack_stack *s, struct tw_rec *w);
/* The 2MSL timers due by now. */
void tw_expire(synack_stack *s);
void tw_free_all(synack_stack *s);

/* ip.c */
/* ctx->output of the core: 0, or TCP_XMIT_REFUSED (ip_send) */
int ip_output_tcp(void *stack, const struct tcb *tcb, const struct tcp_tuple *t, const struct wire_tcp *hdr,
                  const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2);
struct iface *ip_route(synack_stack *s, uint32_t dst);

/* A TCP segment whose checksum held, for the addresses in t (either
 * family): parse it, count a bad one, hand it to its connection. tos:
 * the IPv4 TOS or IPv6 traffic class around it (its ECN field, RFC 3168). */
void ip_tcp_deliver(synack_stack *s, struct tcp_tuple *t, const uint8_t *payload, size_t len, uint8_t tos);
bool ip_tx_csum_offloaded(const synack_stack *s, const struct iface *f);
/* s->tx, len bytes: tap, transmit, count; TCP_XMIT_REFUSED when the link
 * refused it locally (ENOBUFS, EAGAIN, ENOMEM), else 0 */
int ip_send(synack_stack *s, struct iface *f, size_t len);
bool ip_is_local(const synack_stack *s, uint32_t addr);

/* ipopt.c: the IP-level socket options (ip(7), ipv6(7)) and the IP header
 * fields they give a segment */
#define IP_DEFAULT_TTL 64 /* Linux's ip_default_ttl and IPv6 hop_limit */
struct ip_out {
    uint8_t ds;  /* DS field without the ECN bits (the core's) */
    uint8_t ttl; /* TTL or hop limit */
    bool df;     /* IPv4 don't-fragment */
};
/* The IP fields of a segment of tcb in family (4 or 6): tcb's sock's, or
 * s->out_entry's while the core runs for a TCB outside any sock; NULL: a
 * RST answering the segment being handled. */
void ipopt_out(const synack_stack *s, const struct tcb *tcb, uint8_t family, struct ip_out *o);
void ipopt_init(struct sock *k);
void ipopt_inherit(struct sock *child, const struct sock *l);
bool ipopt_owns(synack_opt opt); /* one of the IP-level options */
int ipopt_set(synack_stack *s, struct sock *k, synack_opt opt, int v);
int ipopt_get(synack_stack *s, struct sock *k, synack_opt opt, int *v);
/* Whether an ICMP fragmentation-needed (family 4) or packet-too-big (6)
 * may lower k's MSS (Linux tcp_v4_mtu_reduced, tcp_v6_err). */
bool ipopt_accept_pmtu(const struct sock *k, uint8_t family);

/* ip6.c: IPv6 (RFC 8200) receive and send, ICMPv6 (RFC 4443) in icmp6.c */
/* flags: SYNACK_RX_* */
void ip6_input(synack_stack *s, int ifindex, const uint8_t *frame, size_t len, unsigned flags);
int ip6_output_tcp(synack_stack *s, const struct ip_out *o, const struct tcp_tuple *t, const struct wire_tcp *hdr,
                   const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2);
struct iface *ip6_route(synack_stack *s, const uint8_t dst[16]);
bool ip6_is_local(const synack_stack *s, const uint8_t addr[16]);
/* Either family: the interface towards addr, and whether addr is ours. */
struct iface *ip_route_any(synack_stack *s, uint8_t family, const uint8_t addr[16]);
bool ip_is_local_any(const synack_stack *s, uint8_t family, const uint8_t addr[16]);
struct wire_ipv6;
void icmp6_input(synack_stack *s, const struct wire_ipv6 *ip);
/* ICMPv6 error about the packet dgram of len bytes (RFC 4443 §2.4). */
void icmp6_send_error(synack_stack *s, const struct wire_ipv6 *ip, const uint8_t *dgram, size_t len, uint8_t type,
                      uint8_t code, uint32_t rest);

/* icmp.c */
/* Linux's ICMP error rate limits (per peer, then global), for both families. */
bool icmp_rate_allow(synack_stack *s, uint32_t peer_key);
struct tcp_icmp_err;
/* An ICMP or ICMPv6 error about the connection t: hands it to the core. */
void icmp_conn_error(synack_stack *s, const struct tcp_tuple *t, struct tcp_icmp_err *e);
void icmp_input(synack_stack *s, const struct wire_ipv4 *ip);
/* Destination unreachable about the datagram dgram (RFC 1122 §3.2.2.1),
 * unless the rules of §3.2.2 or the rate limit forbid it. */
void icmp_send_unreach(synack_stack *s, const struct wire_ipv4 *ip, const uint8_t *dgram, uint8_t code);

/* errqueue.c: MSG_ZEROCOPY completions and SO_TIMESTAMPING stamps, from
 * what the core did to SND.UNA and SND.MAX, read after every call into it */
void errq_settle(synack_stack *s, struct sock *k);
/* A write of k took `took` bytes (>= 0) with SYNACK_SEND_* flags: before
 * it, errq_room says whether a zerocopy send may start (0 or -ENOBUFS). */
int errq_room(struct sock *k, int flags);
void errq_wrote(synack_stack *s, struct sock *k, int flags, long took);
void errq_inherit(synack_stack *s, struct sock *child, const struct sock *l);
void errq_free(struct sock *k);
bool errq_pending(const struct sock *k); /* notifications wait to be read */

/* socket.c */
/* The sock behind a handle, NULL for none (closed or never made). */
static inline struct sock *stack_sock(synack_stack *s, synack_sock h)
{
    if (!s || h < 0 || h >= s->n_handles)
        return NULL;
    return s->handles[h];
}
struct sock *sock_new(synack_stack *s);
void sock_free(synack_stack *s, struct sock *k);
/* A TCB reached CLOSED: unhash it; free the sock unless a user or an
 * accept queue still holds it. */
void sock_closed(synack_stack *s, struct sock *k);
/* The core released k (TCP_FREE) outside synack_poll(): close it and tell
 * whoever still holds it, or its listener. */
void sock_released(synack_stack *s, struct sock *k);
void tcp_segment_in(synack_stack *s, const struct tcp_tuple *t, const struct wire_tcp *seg);

#endif
