/* The POSIX socket layer: Linux's socket calls, semantics and errno on top
 * of the public API (include/synack.h).
 *
 * One `struct sxp` is one stack with one IP interface whose link is a queue
 * of outbound datagrams, a virtual clock, and a descriptor table keyed by
 * real host descriptors (an eventfd stands behind every socket). Every call
 * returns what libc would and sets errno; blocking calls sleep on a
 * condition variable until the driver (sxp_advance, sxp_input, or any call
 * on another thread) changes something they wait for. See packetdrill.h for
 * the time contract. Internal to src/posix. */
#ifndef SYNACK_POSIX_POSIX_H
#define SYNACK_POSIX_POSIX_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "synack.h"

struct sxp_config {
    uint32_t local_ip;   /* host order */
    uint32_t gateway_ip; /* informational: every off-link address goes out of the one interface */
    uint8_t prefix_len;
    /* The interface's IPv6 address beside the IPv4 one (packetdrill's
     * fd3d:fa7b:d17d::1/48 by default; the remote 2001:db8::1 is off-link) */
    uint8_t local_ip6[16];
    uint8_t prefix6_len;
    bool no_ip6;          /* an IPv4-only interface */
    uint32_t mtu;
    uint64_t seed;
    int64_t epoch_usecs;  /* virtual clock origin, as gettimeofday reports it */
    bool recv_nowait;     /* sxp_output never advances the clock */
    uint64_t recv_wait_usecs;
    /* RFC 7413: Linux's net.ipv4.tcp_fastopen bits and tcp_fastopen_key
     * (synack_config.fastopen*) */
    uint32_t fastopen;
    bool no_timestamps; /* net.ipv4.tcp_timestamps=0 */
    bool fastopen_key_set;
    uint8_t fastopen_key[16];
    uint32_t notsent_lowat; /* net.ipv4.tcp_notsent_lowat (synack_config.notsent_lowat) */
    bool ecn_set;           /* net.ipv4.tcp_ecn (synack_config.ecn) */
    uint8_t ecn;
    uint8_t min_tso_segs;   /* net.ipv4.tcp_min_tso_segs (synack_config.min_tso_segs) */
    /* `tc qdisc add dev tun0 root pfifo limit 0`: the device drops every
     * outgoing packet and says so (ENOBUFS, Linux's NET_XMIT_DROP) */
    bool tx_refuse;
};
void sxp_config_default(struct sxp_config *c);

struct sxp;

struct sxp *sxp_new(const struct sxp_config *c);
void sxp_free(struct sxp *p);
synack_stack *sxp_stack(struct sxp *p);
/* A Linux sysctl written while the stack runs (as a script's timed `sysctl -q`
 * does to the kernel): net.ipv4.tcp_fastopen, net.ipv4.tcp_timestamps,
 * net.ipv4.tcp_ecn,
 * "tcp_metrics" = "flush" for `ip tcp_metrics flush`, and "qdisc" = "drop"
 * or "none" for `tc qdisc add dev tun0 root pfifo limit 0` and its delete
 * (sxp_config.tx_refuse). 0, or -1 for a name or value it does not take. */
int sxp_sysctl(struct sxp *p, const char *name, const char *value);

/* ---- driving: time and the wire ---------------------------------------- */
/* Virtual microseconds since the Unix epoch (lock held, or from the
 * driving thread). */
int64_t sxp_now(struct sxp *p);
/* The clock as a caller sees it (gettimeofday): from any thread; a thread
 * whose blocking call just returned sees the instant it returned until its
 * next call into the layer. */
int64_t sxp_clock(struct sxp *p);
/* Advances the clock by d microseconds, stopping at every deadline. */
void sxp_advance(struct sxp *p, uint64_t d);
/* One raw IP datagram into the stack; 0 or -1/EINVAL. */
int sxp_input(struct sxp *p, const void *buf, size_t len);
/* The next datagram the stack sent; see packetdrill.h netdev_receive. */
int sxp_output(struct sxp *p, void *buf, size_t *len, long long *time_usecs);

/* ---- socket calls (libc conventions) ------------------------------------ */
int sxp_socket(struct sxp *p, int domain, int type, int protocol);
int sxp_bind(struct sxp *p, int fd, const struct sockaddr *addr, socklen_t len);
int sxp_listen(struct sxp *p, int fd, int backlog);
int sxp_accept(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len);
int sxp_connect(struct sxp *p, int fd, const struct sockaddr *addr, socklen_t len);
ssize_t sxp_recvmsg(struct sxp *p, int fd, struct msghdr *msg, int flags);
ssize_t sxp_sendmsg(struct sxp *p, int fd, const struct msghdr *msg, int flags);
ssize_t sxp_read(struct sxp *p, int fd, void *buf, size_t n);
ssize_t sxp_write(struct sxp *p, int fd, const void *buf, size_t n);
ssize_t sxp_readv(struct sxp *p, int fd, const struct iovec *iov, int iovcnt);
ssize_t sxp_writev(struct sxp *p, int fd, const struct iovec *iov, int iovcnt);
int sxp_shutdown(struct sxp *p, int fd, int how);
int sxp_close(struct sxp *p, int fd);
int sxp_fcntl(struct sxp *p, int fd, int cmd, long arg);
int sxp_ioctl(struct sxp *p, int fd, unsigned long req, void *arg);
int sxp_getsockopt(struct sxp *p, int fd, int level, int name, void *val, socklen_t *len);
int sxp_setsockopt(struct sxp *p, int fd, int level, int name, const void *val, socklen_t len);
int sxp_getsockname(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len);
int sxp_getpeername(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len);
int sxp_poll(struct sxp *p, struct pollfd *fds, nfds_t n, int timeout_ms);
int sxp_epoll_create(struct sxp *p, int size);
int sxp_epoll_ctl(struct sxp *p, int epfd, int op, int fd, struct epoll_event *ev);
int sxp_epoll_wait(struct sxp *p, int epfd, struct epoll_event *evs, int max, int timeout_ms);
int sxp_pipe(struct sxp *p, int fds[2]);
ssize_t sxp_splice(struct sxp *p, int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
                   unsigned flags);

#endif
