/* What the connection benchmarks (connrate, pingpong, memory, pktcost)
 * share: two synack stacks joined by the in-memory link, K connections
 * established between them, a network namespace of the process's own for
 * Linux's figure, one CPU, the clock and the process's memory. */
#ifndef SYNACK_BENCH_COMMON_H
#define SYNACK_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack.h"

#define BENCH_CLI_ADDR 0xc6120001u /* 198.18.0.1 */
#define BENCH_SRV_ADDR 0xc6120002u /* 198.18.0.2 */
#define BENCH_PORT0 5000           /* listeners on BENCH_PORT0 .. + ports - 1 */

double bench_now(void);

/* The client stack and the server stack, back to back on a memlink with no
 * delay, both on the monotonic clock. cfg gives the socket buffers and
 * timeouts (NULL: the stack's defaults). Returns 0 or -ENOMEM. */
struct bench_pair {
    synack_stack *cli, *srv;
    synack_memlink *link;
    synack_time now; /* the current turn's time */
};
int bench_pair_new(struct bench_pair *p, const synack_config *cfg);
void bench_pair_free(struct bench_pair *p);
/* One turn of the event loop: deliver what the link holds, then poll both
 * stacks (which sends what the input asked for). Returns frames delivered. */
size_t bench_pair_step(struct bench_pair *p);
/* The same turn in two halves, for a loop that runs its application between
 * them, as an event loop does (input, the ready sockets' handlers, then the
 * poll): an ACK the input owes then rides on the handlers' reply instead of
 * going alone. bench_pair_deliver returns frames delivered; bench_pair_poll
 * takes the time the delivery read. */
size_t bench_pair_deliver(struct bench_pair *p);
void bench_pair_poll(struct bench_pair *p);

/* The same two stacks on the ring link (synack_ringlink, `bytes` a
 * direction), each to be driven by a thread of its own. Returns 0 or
 * -ENOMEM. */
struct bench_ring {
    synack_stack *cli, *srv;
    synack_ringlink *link;
};
int bench_ring_new(struct bench_ring *p, const synack_config *cfg, size_t bytes);
void bench_ring_free(struct bench_ring *p);

/* One stack on one end of an AF_UNIX SOCK_SEQPACKET socketpair
 * (synack_tun_adopt), with an event loop: the peer stack runs in another
 * process, so each process holds only its own ends (bench/memory's server
 * ends). */
struct bench_end {
    synack_stack *s;
    synack_tun *t;
    synack_loop *loop;
};
/* The socketpair, each end's send buffer raised to `bytes` (SO_SNDBUFFORCE
 * when root, else SO_SNDBUF up to net.core.wmem_max): an AF_UNIX datagram
 * is charged to its sender's buffer until read. Returns the buffer the
 * kernel gave (its own accounting, twice what was asked) or -errno. */
int bench_seqpacket_pair(int sv[2], int bytes);
/* The stack (cfg's buffers and timeouts, seed, the monotonic clock) on fd,
 * at addr/24, its loop watching the link. Returns 0 or a negative errno. */
int bench_end_new(struct bench_end *e, int fd, uint32_t addr, uint64_t seed, const synack_config *cfg);
void bench_end_free(struct bench_end *e);

/* Listeners on the server stack at BENCH_PORT0 .. BENCH_PORT0 + n - 1
 * (each client address and server port gives 28232 ephemeral ports).
 * Writes the handles into out. Returns 0 or a negative errno. */
int bench_listen(synack_stack *s, synack_sock *out, int n, int backlog);

/* Establishes k connections from cli to srv, spread over the nports
 * listeners (ls), at most `batch` handshakes in flight. Client handles go to
 * c[], accepted server handles to v[] (either may be NULL: then the handles
 * are kept by the stack and stay open). Returns how many were established
 * (fewer than k when out of memory or ports), and stops early when the
 * process's RSS passes rss_limit bytes (0: no limit). */
size_t bench_establish(struct bench_pair *p, const synack_sock *ls, int nports, size_t k, size_t batch,
                       synack_sock *c, synack_sock *v, uint64_t rss_limit);

/* Linux's side: unshare a network namespace for this process, bring its
 * lo up, and write sysctls in it (NULL-terminated "path=value" pairs under
 * /proc/sys). Returns 0 or -errno (not root). */
int bench_netns(const char *const *sysctls);
/* Pins the process to the CPU it runs on now. Returns 0 or -errno. */
int bench_pin_cpu(void);
/* Pins the calling thread to CPU cpu. Returns 0 or -errno. */
int bench_pin_thread(int cpu);
/* Raises RLIMIT_NOFILE as far as allowed towards want; returns the limit. */
uint64_t bench_raise_nofile(uint64_t want);

/* The process's resident set (VmRSS) in bytes, 0 if unreadable. */
uint64_t bench_rss(void);
/* Bytes the allocator has handed out and not had back (mallinfo2). */
uint64_t bench_heap(void);
/* A /proc/meminfo field in bytes (e.g. "Slab"), 0 if absent. */
uint64_t bench_meminfo(const char *field);

/* "1.23 M" style for rates. */
const char *bench_si(double v, char *buf, size_t len);

#endif

/* Linux: k idle established loopback connections (both ends), held by
 * child processes of ours (each within its RLIMIT_NOFILE) on listeners at
 * port_base and up (64 per child), so k is not bounded by one process's
 * descriptor limit. Returns how many were established; *h keeps what
 * bench_linux_release needs. Call inside bench_netns. */
struct bench_linux_hold {
    int *pids;
    int n;
};
size_t bench_linux_hold(size_t k, int port_base, struct bench_linux_hold *h);
void bench_linux_release(struct bench_linux_hold *h);

/* Opens `batch` connections and aborts them (SO_LINGER 0: nothing stays
 * behind), so that the in-memory link's frame pool, which keeps the most
 * frames ever in flight, is already that large before a memory baseline is
 * taken; bench_establish with the same batch then adds no link memory to
 * the per-connection figures. Returns 0 or a negative errno. */
int bench_prime(struct bench_pair *p, const synack_sock *ls, int nports, size_t batch);
