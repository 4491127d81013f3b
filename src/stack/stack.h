/* The stack instance: interfaces, the demultiplexing tables, sockets and
 * their timers. Internal to src/stack and src/link. */
#ifndef SYNACK_STACK_STACK_H
#define SYNACK_STACK_STACK_H

#include "synack.h"
#include "tcp/tcb.h"

#define STACK_MAX_IFACES 8

struct iface {
    synack_iface_config cfg;
    uint32_t addr, mask; /* IPv4, host order */
};

/* A socket: the TCB and what the stack keeps around it. */
struct sock {
    struct tcb tcb; /* first: a tcb pointer is a sock pointer */
    synack_sock handle; /* -1 once the user closed it */
    struct sock *hnext; /* connection hash chain */
    struct sock *prev, *next; /* every connection, for timers */
    struct sock *dirty_next;  /* owes output at the next flush */
    bool hashed, listed, dirty;
    /* listener */
    bool listener, bound;
    synack_endpoint local;
    int backlog;
    int syn_count, acc_count;
    struct sock *acc_head, *acc_tail;
    synack_time syncookie_at; /* last cookie SYN-ACK sent (SYN queue full); 0: never */
    /* child of a listener, until accepted */
    struct sock *parent;
    struct sock *acc_next;
    bool queued;
    /* options */
    struct tcp_opts opt; /* copied into the TCB when it is set up */
    bool reuseaddr;
    bool linger_on;
    int linger_sec;
    uint32_t sndcap, rcvcap;
    uint8_t *bufs;
};

struct synack_stack {
    synack_config cfg;
    struct tcp_ctx tcp;
    struct core_stats st;
    struct iface ifaces[STACK_MAX_IFACES];
    int n_ifaces;
    uint64_t rng; /* splitmix64 state, from the seed */
    uint8_t hash_key[16];
    uint16_t ip_id;

    struct sock **handles;
    int n_handles;

    struct sock **buckets; /* 4-tuple hash, chained */
    size_t n_buckets, n_hashed;
    struct sock *all; /* every connection with a TCB outside LISTEN/CLOSED */
    struct sock *dirty;
    struct sock **listeners;
    int n_listeners, cap_listeners;

    synack_tap_fn tap;
    void *tap_ctx;
    synack_event_fn on_event;
    void *on_event_ctx;

    uint8_t tx[65536 + 64];
};

/* stack.c */
uint64_t stack_random(synack_stack *s);
void stack_now(synack_stack *s);
void stack_mark_dirty(synack_stack *s, struct sock *k);
void stack_notify(synack_stack *s, struct sock *k);

/* demux.c */
int demux_insert(synack_stack *s, struct sock *k);
void demux_remove(synack_stack *s, struct sock *k);
struct sock *demux_lookup(synack_stack *s, const struct tcp_tuple *t);
struct sock *demux_listener(synack_stack *s, const struct tcp_tuple *t);
int demux_add_listener(synack_stack *s, struct sock *k);
void demux_remove_listener(synack_stack *s, struct sock *k);
void list_add(synack_stack *s, struct sock *k);
void list_remove(synack_stack *s, struct sock *k);

/* ip.c */
void ip_output_tcp(void *stack, const struct tcp_tuple *t, const struct wire_tcp *hdr, const uint8_t *p1,
                   size_t n1, const uint8_t *p2, size_t n2);
struct iface *ip_route(synack_stack *s, uint32_t dst);

/* socket.c */
struct sock *sock_new(synack_stack *s);
int sock_alloc_bufs(struct sock *k);
void sock_free(synack_stack *s, struct sock *k);
/* A TCB reached CLOSED: unhash it; free the sock unless a user or an
 * accept queue still holds it. */
void sock_closed(synack_stack *s, struct sock *k);
void tcp_segment_in(synack_stack *s, const struct tcp_tuple *t, const struct wire_tcp *seg);

#endif
