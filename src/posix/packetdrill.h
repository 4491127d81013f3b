/* packetdrill's shared-object interface, as synack implements it.
 *
 * packetdrill (google/packetdrill, so_testing.h) can test a stack that lives
 * in a shared object: `packetdrill --so_filename=libsynack_packetdrill.so
 * --so_flags=STRING script.pkt`. It dlopen()s the library, calls the one
 * exported symbol packetdrill_interface_init(flags, &ifc) and from then on
 * drives the stack only through the function pointers below. The member
 * order and the signatures are packetdrill's ABI: do not reorder.
 *
 * Every call takes the `userdata` the init function stored, then the
 * arguments of the libc call of the same name; it returns what libc would
 * and sets errno as Linux would.
 *
 * ---------------------------------------------------------------------------
 * Virtual time (how a runner drives libsynack_packetdrill.so)
 * ---------------------------------------------------------------------------
 * The library owns a VIRTUAL clock in microseconds. It starts at
 * SYNACK_PD_EPOCH_USECS (2026-01-01T00:00:00Z, so timestamps look sane) and
 * only moves when the runner says so. Nothing in the library ever reads the
 * host clock or really sleeps for time to pass (unless --so_flags has
 * `realtime`, see below).
 *
 *  - gettimeofday(ud, tv, tz): returns the virtual clock. Callable from any
 *    thread. tz is ignored (may be NULL). One refinement: on a thread whose
 *    blocking call slept and has just returned, gettimeofday returns the
 *    virtual instant that call returned, until that thread next calls into
 *    the library. The driver may have advanced the clock further in the
 *    meantime; this way the syscall thread stamps the end of a blocking
 *    call (`+0...0.2 read(...)`) with the instant it really ended.
 *
 *  - usleep(ud, d): advances the virtual clock by d microseconds. On the way
 *    it stops at every stack timer deadline (retransmission, delayed ACK,
 *    TIME_WAIT, keepalive, persist, ...) and at every deadline of a blocked
 *    call (poll/epoll_wait timeout, SO_LINGER), sets the clock to that
 *    instant, runs the stack there, and wakes blocked callers. Before
 *    moving on it waits until every woken caller has either returned or gone
 *    back to sleep ("quiescence"), so what a woken caller does happens at the
 *    right virtual instant and every run is the same. usleep(ud, 0) runs the
 *    stack at the current instant and settles woken callers.
 *    Call usleep from the driving thread (packetdrill's main thread), never
 *    from the thread that is blocked in a socket call.
 *
 *  - netdev_send(ud, buf, n): one raw IPv4 or IPv6 datagram (no link header)
 *    into the stack at the current virtual instant. Like usleep, it settles
 *    woken callers before returning (a blocked accept() that this SYN-ACK's
 *    ACK completes has returned, or is asleep again, when netdev_send
 *    returns). Returns 0, or -1 with errno EINVAL for a datagram that is not
 *    IPv4/IPv6 (the stack counts and drops bad packets silently otherwise).
 *
 *  - netdev_receive(ud, buf, &n, &t): the oldest datagram the stack sent and
 *    the runner has not read yet. On entry *n is the size of buf. Returns 0
 *    with *n = its length and *t = the VIRTUAL time (microseconds, same
 *    origin as gettimeofday: tv_sec * 1000000 + tv_usec) at which the stack
 *    sent it; a datagram longer than buf is truncated to *n bytes.
 *    When nothing is queued:
 *      default ("wait" mode): the call behaves like packetdrill's sniffer
 *        waiting on a wire. It advances the virtual clock to the next stack
 *        or blocked-call deadline (exactly as usleep would), and again, until
 *        a datagram appears or the clock has moved `recv_wait_usecs` (default
 *        120 s) past where it was; then it returns -1, errno EAGAIN, *n = 0.
 *        The returned *t then tells the runner WHEN the datagram left, which
 *        is what packetdrill compares against the script's time window.
 *      `--so_flags=nowait`: never moves the clock; returns -1, errno EAGAIN,
 *        *n = 0 at once when nothing is queued. A runner that wants to check
 *        "nothing was sent by now" uses this mode and drives time with
 *        usleep itself.
 *
 *  - Blocking calls (accept, connect, read/recv*, write/send* into a full
 *    buffer, poll/epoll_wait with a timeout, close with SO_LINGER) run on a
 *    second thread. They sleep on a condition variable (never spin) until
 *    a stack event or the virtual clock satisfies them; only usleep,
 *    netdev_send and netdev_receive (on the driving thread) make either
 *    happen. A blocking call made on the driving thread with nothing else
 *    driving time therefore blocks forever, as it would on a stalled wire.
 *
 *  - Thread safety: one mutex guards the stack and the descriptor table;
 *    every entry point may be called from any thread.
 *
 * ---------------------------------------------------------------------------
 * Descriptors
 * ---------------------------------------------------------------------------
 * socket()/accept()/epoll_create() return a real host descriptor (an
 * eventfd the library owns) so packetdrill can close leftovers with the
 * host's close(); the library recognises a descriptor as its own only while
 * its table maps it. Calls on a descriptor that is not the library's pass
 * through to the host (read/write/close/fcntl/poll of a pipe, say) where
 * that is meaningful, else fail with EBADF.
 *
 * ---------------------------------------------------------------------------
 * --so_flags (space- or comma-separated, all optional)
 * ---------------------------------------------------------------------------
 *   local_ip=A       the stack's IPv4 address       (default 192.168.0.1)
 *   gateway_ip=A     next hop for off-link remotes   (default 192.168.0.2)
 *   local_ip6=A      the stack's IPv6 address        (default fd3d:fa7b:d17d::1;
 *                    local_ip= with an IPv6 address sets it too)
 *   prefix_len=N     IPv4 prefix length              (default 16)
 *   prefix6_len=N    IPv6 prefix length              (default 48; 2001:db8::1 is off-link)
 *   no_ip6           an IPv4-only interface
 *   mtu=N            interface MTU                   (default 1500)
 *   seed=N           seed for ISNs and ports         (default 1)
 *   nowait           see netdev_receive above
 *   recv_wait_usecs=N  see netdev_receive above
 *   sysctl:net.ipv4.tcp_fastopen=N      RFC 7413 Fast Open, Linux's bits (default 0: off)
 *   sysctl:net.ipv4.tcp_timestamps=0    no RFC 7323 timestamps (default: offered)
 *   sysctl:net.ipv4.tcp_fastopen_key=K  Linux's key text a-b-c-d (hex words; default:
 *                    derived from the seed). synack-conform --sysctls passes both
 *                    from the script's defaults.sh and header.
 *   qdisc:drop       the tun device refuses every outgoing packet (ENOBUFS),
 *                    as under `tc qdisc add dev tun0 root pfifo limit 0`
 *   realtime         NOT IMPLEMENTED: refused with a message, time stays
 *                    virtual (packetdrill in SO mode needs no wall clock)
 * Unknown words are ignored with a line on stderr.
 *
 * One export beyond packetdrill's interface, found with dlsym:
 *   int synack_packetdrill_command(void *userdata, const char *words)
 * applies sysctl:net.ipv4.tcp_fastopen=N, sysctl:net.ipv4.tcp_timestamps=N,
 * tcp_metrics:flush (forget cached Fast Open cookies) and qdisc:drop /
 * qdisc:none (the tun device drops every outgoing packet and reports it,
 * as `tc qdisc add dev tun0 root pfifo limit 0` makes it; and no more, as
 * after `tc qdisc delete dev tun0 root`) to the running stack, as a
 * script's timed `sysctl -q` / `ip tcp_metrics flush` / `tc qdisc` would
 * change the kernel; returns how many words it applied.
 */
#ifndef SYNACK_POSIX_PACKETDRILL_H
#define SYNACK_POSIX_PACKETDRILL_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define SYNACK_PD_EPOCH_USECS 1767225600000000LL

struct packetdrill_interface {
	void *userdata;
	void (*free)(void *userdata);

	int (*socket)(void *userdata, int domain, int type, int protocol);
	int (*bind)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);
	int (*listen)(void *userdata, int sockfd, int backlog);
	int (*accept)(void *userdata, int sockfd, struct sockaddr *addr, socklen_t *addrlen);
	int (*connect)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);

	ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
	ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*recv)(void *userdata, int sockfd, void *buf, size_t len, int flags);
	ssize_t (*recvfrom)(void *userdata, int sockfd, void *buf, size_t len, int flags,
			    struct sockaddr *src_addr, socklen_t *addrlen);
	ssize_t (*recvmsg)(void *userdata, int sockfd, struct msghdr *msg, int flags);

	ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
	ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
	ssize_t (*send)(void *userdata, int sockfd, const void *buf, size_t len, int flags);
	ssize_t (*sendto)(void *userdata, int sockfd, const void *buf, size_t len, int flags,
			  const struct sockaddr *dest_addr, socklen_t addrlen);
	ssize_t (*sendmsg)(void *userdata, int sockfd, const struct msghdr *msg, int flags);

	int (*fcntl)(void *userdata, int fd, int cmd, ...);
	int (*ioctl)(void *userdata, int fd, unsigned long request, ...);

	int (*close)(void *userdata, int fd);
	int (*shutdown)(void *userdata, int sockfd, int how);
	int (*getsockopt)(void *userdata, int sockfd, int level, int optname, void *optval,
			  socklen_t *optlen);
	int (*setsockopt)(void *userdata, int sockfd, int level, int optname, const void *optval,
			  socklen_t optlen);
	int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout);

	/* One raw IP datagram into the stack: 0, or -1 and errno. */
	int (*netdev_send)(void *userdata, const void *buf, size_t count);
	/* The next datagram the stack sent: 0 with *count = its length and
	 * *time_usecs = its virtual send time, or -1 (errno EAGAIN, *count = 0)
	 * when there is none; see "Virtual time" above. */
	int (*netdev_receive)(void *userdata, void *buf, size_t *count, long long *time_usecs);

	int (*usleep)(void *userdata, useconds_t usec);
	int (*gettimeofday)(void *userdata, struct timeval *tv, struct timezone *tz);

	int (*epoll_create)(void *userdata, int size);
	int (*epoll_ctl)(void *userdata, int epfd, int op, int fd, struct epoll_event *event);
	int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events, int maxevents,
			  int timeout);
	int (*pipe)(void *userdata, int pipefd[2]);
	int (*splice)(void *userdata, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
		      size_t len, unsigned int flags);
};

/* The type of the one symbol the library exports, packetdrill_interface_init. */
typedef void (*packetdrill_interface_init_t)(const char *flags, struct packetdrill_interface *ifc);

#endif
