/* The TCP core's reaction to an ICMP error about one of its connections
 * (RFC 1122 §4.2.3.9, RFC 5927, RFC 1191). The stack decodes the ICMP
 * message, finds the connection from the quoted header, classifies the error
 * and calls in here; the core decides what it does to the TCB. */
#ifndef SYNACK_TCP_ICMP_H
#define SYNACK_TCP_ICMP_H

#include <stdint.h>

#include "tcb.h"

enum tcp_icmp_kind {
    /* RFC 1122 §4.2.3.9: net/host unreachable, source route failed, time
     * exceeded, parameter problem. Never abort; the error is kept to
     * explain a later timeout. */
    TCP_ICMP_SOFT,
    /* Protocol or port unreachable, administratively prohibited. */
    TCP_ICMP_HARD,
    /* RFC 1191: fragmentation needed and DF set; mtu is the next-hop MTU. */
    TCP_ICMP_FRAG_NEEDED,
};

struct tcp_icmp_err {
    enum tcp_icmp_kind kind;
    int err;      /* negative errno the error maps to (-EHOSTUNREACH, -ECONNREFUSED, ...) */
    uint32_t seq; /* sequence number in the quoted TCP header */
    uint32_t mtu; /* FRAG_NEEDED: the path MTU to use from now on */
    /* Linux tcp_v4_err on a request sock (tcp_req_err): IPv4 net or host
     * unreachable, time exceeded and parameter problem drop a passive
     * connection still in SYN_RECEIVED, soft though they are */
    bool drops_embryo;
};

enum tcp_icmp_verdict {
    TCP_ICMP_IGNORED,     /* quoted sequence number outside SND.UNA..SND.NXT: counted, nothing done */
    TCP_ICMP_SOFT_ERROR,  /* keep e->err as the connection's soft error */
    TCP_ICMP_ABORTED,     /* the connection is CLOSED with e->err: the stack releases it */
    TCP_ICMP_MSS_LOWERED, /* the send MSS now fits the new path MTU */
    TCP_ICMP_NO_CHANGE,   /* a valid message that changed nothing (MTU not lower) */
};

/* Smallest path MTU a fragmentation-needed message can set (Linux
 * ip_rt_min_pmtu: 512 + 20 + 20); smaller claims are raised to it. */
#define TCP_ICMP_MIN_PMTU 552u
/* RFC 8200 §5: no IPv6 path is below 1280; a smaller claim (RFC 8021
 * deprecates the fragment header it once asked for) is raised to it. */
#define TCP_ICMP_MIN_PMTU6 1280u

enum tcp_icmp_verdict tcp_icmp_error(struct tcp_ctx *ctx, struct tcb *tcb, const struct tcp_icmp_err *e);

#endif
