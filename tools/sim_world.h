/* `synack sim`: the deterministic simulator (docs/simulation.md).
 *
 * sim_work.c draws a workload (a list of timed operations) from a seed;
 * sim_world.c builds K stacks joined pairwise by fault-injecting in-memory
 * links, plays the workload on one virtual clock and checks the invariants
 * after every step; sim.c is the command: seeds, minimization, the trace. */
#ifndef SYNACK_TOOLS_SIM_WORLD_H
#define SYNACK_TOOLS_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "synack.h"

#define SIM_MAX_STACKS 9 /* each stack has one interface per peer: STACK_MAX_IFACES is 8 */
#define SIM_PORTS 4      /* listening ports 5000..5003 on every stack */
#define SIM_PORT_BASE 5000

struct sim_params {
    uint64_t seed;
    int stacks;
    synack_time span;                  /* workload length; a drain follows */
    double loss, reorder, dup, corrupt; /* per frame, each direction */
    bool vary;                         /* each link draws each probability in [0, given] */
    double ce;                         /* > 0: stacks ask for ECN (tcp_ecn 1), links mark ECT packets CE */
    bool flaps;                        /* links go down and up */
    int inject;                        /* SIM_INJECT_*: break the application, to test the checker */
};
#define SIM_INJECT_NONE 0
#define SIM_INJECT_DATA 1 /* flip one byte an application receives */
#define SIM_INJECT_LEAK 2 /* one application never closes a socket */

enum sim_op_kind {
    SIM_OP_LISTEN,   /* a: stack, port */
    SIM_OP_UNLISTEN, /* a: stack, port */
    SIM_OP_CONNECT,  /* conn: a (client) -> b (server) port, bytes each way, how each side ends */
    SIM_OP_STALL,    /* conn, side: stop reading for dur */
    SIM_OP_ABORT,    /* conn, side: close with SO_LINGER 0 */
    SIM_OP_FLAP,     /* a, b: the link between them goes down for dur */
};

/* How one side of a connection ends once it has sent its bytes. */
enum sim_end {
    SIM_END_HALF,  /* shutdown(SHUT_WR), read to end of stream, close() */
    SIM_END_READ,  /* read to end of stream, then close() (its FIN after the peer's) */
    SIM_END_CLOSE, /* close() at once: unread or later data draws a RST */
};

struct sim_op {
    synack_time at;
    enum sim_op_kind kind;
    int a, b;
    uint16_t port;
    int conn, side;
    synack_time dur;
    /* SIM_OP_CONNECT */
    uint64_t bytes[2]; /* side 0 (client) sends bytes[0], side 1 bytes[1] */
    enum sim_end end[2];
    bool nodelay[2];
    uint16_t bind_port; /* 0: ephemeral; else the client binds this port (TIME_WAIT reuse) */
    uint16_t maxseg;    /* client's TCP_MAXSEG, 0: none */
    bool newreno;       /* client's TCP_CONGESTION: NewReno instead of CUBIC */
    bool simopen;       /* both sides connect to each other at once (RFC 9293 §3.5 Figure 7) */
    bool cork;          /* client's TCP_CORK (partial segments held, 200 ms at most) */
};

struct sim_workload {
    struct sim_op *ops;
    int n, cap;
    int conns;
};

int sim_workload_make(const struct sim_params *p, struct sim_workload *w);
void sim_workload_free(struct sim_workload *w);
const char *sim_op_kind_name(enum sim_op_kind k);

/* What one run found. */
struct sim_result {
    bool failed;
    char what[512];       /* the invariant broken, one line */
    char kind[32];        /* its class: minimization keeps failing runs of this class */
    synack_time fail_at;  /* virtual time from the start */
    synack_time end_at;   /* virtual time the run covered */
    uint64_t conns, clean, errors, refused, bytes;
    uint64_t frames, steps;
};

/* Runs the workload with only the ops whose enabled[i] is true (NULL: all).
 * log (may be NULL) receives the state log; pcap_path (may be NULL) a
 * capture of every frame sent. Returns 0, or -errno if the world could not be
 * built. */
int sim_world_run(const struct sim_params *p, const struct sim_workload *w, const bool *enabled, FILE *log,
                  const char *pcap_path, struct sim_result *res);

#endif
