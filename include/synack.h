/* synack: a TCP/IP stack in user space.
 *
 * The one public header. Everything here starts with synack_ / SYNACK_.
 *
 * A stack instance owns its interfaces, sockets and timers. It never reads a
 * clock of its own: time comes from the clock source given at creation (the
 * wall clock, or a virtual clock in tests and simulation), and randomness
 * (ISNs, ephemeral ports) comes from the seed, so a run can be replayed.
 * Nothing in a stack is global: any number of stacks can live in one process.
 *
 * Sockets are small integer handles owned by one stack. Every call is
 * non-blocking; readiness is reported through synack_events() and an optional
 * callback, and synack_poll() runs timers and returns the next deadline.
 * Errors are negative errno values (-EAGAIN, -ECONNREFUSED, ...), readable
 * with synack_strerror().
 */
#ifndef SYNACK_H
#define SYNACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- time ------------------------------------------------------------ */

/* Microseconds on a monotonic clock. */
typedef uint64_t synack_time;
#define SYNACK_TIME_NEVER UINT64_MAX
#define SYNACK_MS(ms) ((synack_time)(ms) * 1000u)
#define SYNACK_SEC(s) ((synack_time)(s) * 1000000u)

typedef synack_time (*synack_clock_fn)(void *ctx);

/* A virtual clock: it moves only when told to. */
typedef struct synack_vclock {
    synack_time now;
} synack_vclock;
synack_time synack_vclock_read(void *vclock);

/* CLOCK_MONOTONIC, for stacks on real links. */
synack_time synack_monotonic_now(void *unused);

/* ---- addresses ------------------------------------------------------- */

typedef struct synack_addr {
    uint8_t family; /* SYNACK_AF_INET or SYNACK_AF_INET6 */
    uint8_t bytes[16];
} synack_addr;
#define SYNACK_AF_INET 4
#define SYNACK_AF_INET6 6

typedef struct synack_endpoint {
    synack_addr addr;
    uint16_t port;
} synack_endpoint;

/* Host-order IPv4 address (a<<24|b<<16|c<<8|d) to synack_addr. */
synack_addr synack_ipv4(uint32_t host_order);
uint32_t synack_addr_ipv4(const synack_addr *a);
/* The 16 bytes of an IPv6 address, network order, to synack_addr. */
synack_addr synack_ipv6(const uint8_t bytes[16]);
/* Parses dotted-quad or IPv6 text (RFC 4291 §2.2); returns 0 or -EINVAL. */
int synack_addr_parse(const char *text, synack_addr *out);
/* Formats into buf (at least 46 bytes); returns buf. */
char *synack_addr_format(const synack_addr *a, char *buf, size_t len);

/* ---- stack ----------------------------------------------------------- */

typedef struct synack_stack synack_stack;

/* Connection states of RFC 9293 §3.3.2. */
typedef enum synack_state {
    SYNACK_CLOSED,
    SYNACK_LISTEN,
    SYNACK_SYN_SENT,
    SYNACK_SYN_RECEIVED,
    SYNACK_ESTABLISHED,
    SYNACK_FIN_WAIT_1,
    SYNACK_FIN_WAIT_2,
    SYNACK_CLOSE_WAIT,
    SYNACK_CLOSING,
    SYNACK_LAST_ACK,
    SYNACK_TIME_WAIT,
} synack_state;
const char *synack_state_name(synack_state s);

/* Called on every state change of every connection in the stack, with the
 * connection's 4-tuple and a short reason ("rcv SYN,ACK", "close()", ...). */
typedef void (*synack_state_fn)(void *ctx, const synack_endpoint *local, const synack_endpoint *remote,
                                synack_state from, synack_state to, const char *why, synack_time now);

/* synack_config.fastopen bits (Linux's net.ipv4.tcp_fastopen) */
#define SYNACK_FASTOPEN_CLIENT 0x1
#define SYNACK_FASTOPEN_SERVER 0x2
#define SYNACK_FASTOPEN_CLIENT_NO_COOKIE 0x4
#define SYNACK_FASTOPEN_SERVER_NO_COOKIE 0x200
#define SYNACK_FASTOPEN_SERVER_ALL 0x400

typedef struct synack_config {
    uint64_t seed;               /* ISN key, ephemeral ports; same seed, same run */
    synack_clock_fn clock;       /* required */
    void *clock_ctx;
    synack_time time_wait;       /* 2*MSL; 0 means Linux's 60 s */
    synack_time fin_wait2_timeout; /* orphaned FIN_WAIT_2; 0 means Linux's 60 s */
    uint32_t challenge_ack_limit; /* RFC 5961 §7 challenge ACKs per second; 0: 1000 */
    uint8_t syn_retries;         /* 0: Linux's 6 */
    uint8_t synack_retries;      /* 0: Linux's 5 */
    uint8_t data_retries;        /* 0: Linux's 15 (tcp_retries2) */
    uint32_t sndbuf, rcvbuf;     /* default socket buffer sizes; 0: 16 KiB / 128 KiB */
    bool no_tlp;                 /* no RFC 8985 tail loss probes (Linux tcp_early_retrans 0) */
    bool no_rack;                /* no RFC 8985 §6 RACK loss detection, RFC 6675 alone (Linux tcp_recovery 0) */
    bool no_timestamps;          /* never offer RFC 7323 timestamps (Linux tcp_timestamps 0) */
    bool tw_reuse;               /* connect() may take a TIME_WAIT 4-tuple whose peer's last timestamp
                                    is 1 s old (Linux tcp_tw_reuse 1; Linux's default 2 means loopback
                                    only, and synack has no loopback: off unless set) */
    uint16_t port_lo, port_hi;   /* connect()'s ephemeral ports, inclusive (Linux ip_local_port_range);
                                    both 0: Linux's 32768-60999; else 1 <= port_lo <= port_hi, or
                                    synack_stack_new fails */
    synack_state_fn on_state;    /* optional */
    void *on_state_ctx;
    /* RFC 7413 TCP Fast Open, as Linux's net.ipv4.tcp_fastopen bits: 0x1 client, 0x2 server,
     * 0x4 client without a cookie, 0x200 server takes data without a cookie, 0x400 every
     * listener (queue = backlog) without SYNACK_OPT_FASTOPEN. 0: off (Linux's default is 0x1;
     * synack keeps Fast Open off unless asked, so nothing changes for those who do not) */
    uint32_t fastopen;
    bool fastopen_key_set;       /* else the cookie key is derived from the seed */
    uint8_t fastopen_key[16];    /* Linux tcp_fastopen_key as bytes (its four words little-endian) */
    /* Linux net.ipv4.tcp_notsent_lowat: bytes, the default of SYNACK_OPT_NOTSENT_LOWAT for every
     * socket that does not set its own; 0: no limit (Linux's default, UINT_MAX) */
    uint32_t notsent_lowat;
    /* RFC 3168 Explicit Congestion Notification, as Linux's net.ipv4.tcp_ecn: SYNACK_ECN_OFF,
     * SYNACK_ECN_ON (ask on connect() and agree when asked), SYNACK_ECN_PASSIVE (agree when
     * asked only). Read only when ecn_set (else Linux's default, SYNACK_ECN_PASSIVE); any other
     * value makes synack_stack_new fail. */
    bool ecn_set;
    uint8_t ecn;
    /* Linux net.ipv4.tcp_min_tso_segs: the fewest segments in the GSO packets Linux would cut a
     * burst into (the last of each carries PSH, and the link's GSO batches end there). 0: Linux's
     * default, 2 */
    uint8_t min_tso_segs;
    /* How long an ACK of data may wait for more data or a reply to ride on (RFC 1122 §4.2.3.2:
     * under 500 ms; smoltcp's ack_delay). 0: Linux's 40 ms; 500 ms or more and synack_stack_new
     * fails. Timers run in 1 ms ticks. */
    synack_time ack_delay;
} synack_config;

/* synack_config.ecn: Linux's net.ipv4.tcp_ecn values */
#define SYNACK_ECN_OFF 0
#define SYNACK_ECN_ON 1
#define SYNACK_ECN_PASSIVE 2

/* Returns NULL on bad configuration or out of memory. */
synack_stack *synack_stack_new(const synack_config *cfg);
void synack_stack_free(synack_stack *s);
/* Changing Linux's run-time sysctls on a live stack, as writing /proc/sys does: what later
 * connections and decisions use (net.ipv4.tcp_fastopen bits as synack_config.fastopen;
 * tcp_timestamps), and `ip tcp_metrics flush`: forget every cached Fast Open cookie and
 * server MSS (RFC 7413 §4.1.3). */
void synack_set_fastopen(synack_stack *s, uint32_t bits);
void synack_set_timestamps(synack_stack *s, bool on);
void synack_fastopen_cache_flush(synack_stack *s);
/* net.ipv4.tcp_ecn for later connections: SYNACK_ECN_*; -EINVAL for another value. */
int synack_set_ecn(synack_stack *s, unsigned mode);

/* Runs what is due at the clock's current time: timers, retransmissions,
 * queued ACKs. Returns the time of the next deadline (SYNACK_TIME_NEVER when
 * nothing is pending): never later than the earliest timer, at times earlier
 * when a far timer was cancelled, in which case the poll at that time does
 * nothing but find the next. Call it after feeding input and whenever the
 * deadline passes. */
synack_time synack_poll(synack_stack *s);
/* The same at now, a time the caller has just read from the stack's clock
 * (an event loop reads it once per turn); a time behind the stack's own is
 * taken as the stack's. */
synack_time synack_poll_at(synack_stack *s, synack_time now);

/* ---- links and interfaces --------------------------------------------- */

/* A link driver delivers frames to the stack with synack_input() and takes
 * the stack's frames through transmit(). For an IP link (TUN, in-memory) a
 * frame is one IP datagram. transmit returns 0, or a negative errno when the
 * frame was dropped (the stack counts it). -ENOBUFS, -EAGAIN and -ENOMEM
 * say the host itself could not send it (a TUN write failing so, a queue
 * that drops: local congestion, Linux's NET_XMIT_DROP): TCP then counts
 * the segment as never sent and retries every 500 ms without backoff, as
 * Linux does (docs/architecture.md). Any other error is a loss like one on
 * the wire. */
typedef struct synack_link_ops {
    int (*transmit)(void *ctx, const uint8_t *frame, size_t len);
} synack_link_ops;

typedef struct synack_iface_config {
    synack_link_ops ops;
    void *ctx;
    synack_addr addr;   /* this interface's address (IPv4 or IPv6) */
    uint8_t prefix_len; /* on-link prefix */
    synack_addr addr6;  /* optional second address, IPv6, when addr is IPv4 (family 0: none) */
    uint8_t prefix6_len;
    uint32_t mtu;       /* 0: 1500 */
    unsigned offload;   /* SYNACK_OFFLOAD_*: what the link does for the stack */
} synack_iface_config;

/* The link computes the TCP checksum of every frame that needs one (Linux
 * NETIF_F_HW_CSUM; a frame on Linux's loopback never gets one): the stack
 * leaves the field zero, except while a tap is set, so that captures show
 * real checksums. The memory link sets it on the interfaces attached to it
 * and computes the checksum for its capture and before its fault model
 * corrupts a frame; the receiving stack is told the rest are intact
 * (SYNACK_RX_CSUM_OK). No other link offers it yet. */
#define SYNACK_OFFLOAD_TX_CSUM 1u

/* Returns the interface index (>= 0) or a negative errno. */
int synack_iface_add(synack_stack *s, const synack_iface_config *cfg);
/* Sets an interface's offloads (a link driver does, when it is attached):
 * 0, or -EINVAL for no such interface or an unknown flag. */
int synack_iface_set_offload(synack_stack *s, int ifindex, unsigned offload);

/* One frame received on interface ifindex. The stack does not keep the
 * buffer. Replies are sent at the next synack_poll(), so that a burst of
 * segments draws one cumulative ACK, and data the application sends before
 * that poll (from the event callback, or a ready list it drains first)
 * carries the ACK instead of a segment of its own. */
void synack_input(synack_stack *s, int ifindex, const uint8_t *frame, size_t len);
/* The same for a frame that arrived at now, a time the caller read from the
 * stack's clock once for a burst of frames (a link's delivery, a batch of
 * reads): one clock read per burst instead of one per frame. A time behind
 * the stack's own is taken as the stack's. flags: SYNACK_RX_*. */
void synack_input_at(synack_stack *s, int ifindex, const uint8_t *frame, size_t len, synack_time now,
                     unsigned flags);
/* The link vouches for the frame's TCP checksum, as Linux's
 * CHECKSUM_UNNECESSARY: a NIC verified it, or an in-process link carried
 * the frame untouched (the memory link sets it on every frame it did not
 * corrupt, as Linux's loopback does). The IPv4 header checksum is still
 * checked, as Linux does. */
#define SYNACK_RX_CSUM_OK 1u

/* Sees every frame the stack receives (SYNACK_TAP_IN, before any check) or
 * sends (SYNACK_TAP_OUT), stamped with the stack's clock: for captures. */
#define SYNACK_TAP_IN 0
#define SYNACK_TAP_OUT 1
typedef void (*synack_tap_fn)(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len,
                              synack_time now);
void synack_set_tap(synack_stack *s, synack_tap_fn fn, void *ctx);

/* A capture tee: a pcap file (LINKTYPE_RAW) that a tap writes into. */
typedef struct synack_pcap synack_pcap;
/* Returns 0 or -errno. */
int synack_pcap_open(const char *path, synack_pcap **out);
/* Flushes and closes; NULL is ignored. */
void synack_pcap_close(synack_pcap *p);
/* A synack_tap_fn whose ctx is a synack_pcap. */
void synack_pcap_tap(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now);
/* Writes one raw-IP frame stamped at now. */
void synack_pcap_write(synack_pcap *p, const uint8_t *frame, size_t len, synack_time now);

/* ---- sockets --------------------------------------------------------- */

typedef int synack_sock;

#define SYNACK_SHUT_RD 0
#define SYNACK_SHUT_WR 1
#define SYNACK_SHUT_RDWR 2

/* Readiness, as in poll(2). */
#define SYNACK_EV_IN 0x001u  /* data, EOF, or a connection to accept */
#define SYNACK_EV_OUT 0x004u /* room in the send buffer; connected */
#define SYNACK_EV_ERR 0x008u /* an error is pending (SO_ERROR) */
#define SYNACK_EV_HUP 0x010u /* both directions closed */
#define SYNACK_EV_RDHUP 0x2000u /* the peer closed its sending side */
#define SYNACK_EV_PRI 0x002u /* an urgent byte waits for synack_recv_flags(SYNACK_RECV_OOB) (POLLPRI) */

typedef void (*synack_event_fn)(void *ctx, synack_sock sock, unsigned events);
/* Called when a socket's readiness may have changed. */
void synack_set_event_handler(synack_stack *s, synack_event_fn fn, void *ctx);

synack_sock synack_socket(synack_stack *s);
int synack_bind(synack_stack *s, synack_sock h, const synack_endpoint *local);
int synack_listen(synack_stack *s, synack_sock h, int backlog);
/* Returns a new socket, or -EAGAIN when no connection is waiting. */
synack_sock synack_accept(synack_stack *s, synack_sock h, synack_endpoint *remote);
/* Starts an active open; returns -EINPROGRESS, then EV_OUT (connected) or
 * EV_ERR (see synack_sock_error). With SYNACK_OPT_FASTOPEN_CONNECT and a
 * cached cookie it returns 0: nothing is sent until the first synack_send. */
int synack_connect(synack_stack *s, synack_sock h, const synack_endpoint *remote);
/* Bytes queued, or -EAGAIN (buffer full), -EPIPE (write side shut), ... */
long synack_send(synack_stack *s, synack_sock h, const void *buf, size_t len);
/* RFC 7413 TCP Fast Open connect (synack_config.fastopen bit 0x1, else -EOPNOTSUPP): with a
 * cookie cached for the server, the SYN carries it and the first bytes of buf (up to the
 * server's MSS less 40, as Linux); without one, it asks for a cookie and carries no data.
 * Returns the bytes that went into the SYN (0: none; send them once connected), or the
 * errors of synack_connect (-EALREADY, -EISCONN, ...). The connection completes as with
 * synack_connect. flags: 0 or SYNACK_SEND_FO_WAIT. */
long synack_connect_fastopen(synack_stack *s, synack_sock h, const synack_endpoint *remote, const void *buf,
                             size_t len, int flags);
/* TCP_FASTOPEN_KEY: the RFC 7413 cookie key of one listener (before or after listen()), 16
 * bytes (32: a backup key follows, not kept); -EINVAL for another length. The get gives the
 * socket's key, else the stack's. */
int synack_set_fastopen_key(synack_stack *s, synack_sock h, const uint8_t *key, size_t len);
int synack_get_fastopen_key(synack_stack *s, synack_sock h, uint8_t key[16]);
/* synack_send with flags: SYNACK_SEND_MORE says more data follows at once
 * (MSG_MORE), so the end of this write carries no PSH. */
#define SYNACK_SEND_MORE 1
/* RFC 7413: on a TCP_FASTOPEN_CONNECT socket whose SYN waits for data (and for
 * synack_connect_fastopen): the caller will wait for the handshake to send what the SYN
 * could not carry (Linux's waiting writer: the SYN-ACK's ACK rides on that data) */
#define SYNACK_SEND_FO_WAIT 2
/* MSG_EOR: the write ends a record; no segment, sent or resent, joins its last byte to data
 * written later (Linux TCPCB_EOR), and that segment carries PSH. Marks the record only when
 * the whole write is taken; at most 32 record ends wait for their ACK (older marks lapse) */
#define SYNACK_SEND_EOR 4
long synack_send_flags(synack_stack *s, synack_sock h, const void *buf, size_t len, int flags);
/* Bytes read, 0 at end of stream, or -EAGAIN, -ECONNRESET, ... */
long synack_recv(synack_stack *s, synack_sock h, void *buf, size_t len);
int synack_shutdown(synack_stack *s, synack_sock h, int how);
/* Releases the handle. Unread data or SO_LINGER 0 abort with RST; otherwise
 * the connection closes gracefully in the background. */
int synack_close(synack_stack *s, synack_sock h);

unsigned synack_events(synack_stack *s, synack_sock h);
/* Returns and clears the pending error (0 if none), as SO_ERROR. */
int synack_sock_error(synack_stack *s, synack_sock h);
/* SO_LINGER: on with 0 seconds makes close() abort with RST. */
int synack_set_linger(synack_stack *s, synack_sock h, bool on, int seconds);
/* On a connection that has buffers already, they only grow (POSIX layer). */
int synack_set_bufsize(synack_stack *s, synack_sock h, uint32_t sndbuf, uint32_t rcvbuf);
/* Socket options, with Linux's meaning and units (see socket(7), tcp(7)).
 * A listener's options are inherited by the connections it accepts. */
typedef enum synack_opt {
    SYNACK_OPT_NODELAY,      /* TCP_NODELAY: 1 turns Nagle (RFC 896) off */
    SYNACK_OPT_CORK,         /* TCP_CORK: 1 holds partial segments (200 ms at most) */
    SYNACK_OPT_MAXSEG,       /* TCP_MAXSEG: bytes, caps the MSS; 0 = no cap */
    SYNACK_OPT_KEEPALIVE,    /* SO_KEEPALIVE: RFC 1122 §4.2.3.6 */
    SYNACK_OPT_KEEPIDLE,     /* TCP_KEEPIDLE: seconds (Linux default 7200) */
    SYNACK_OPT_KEEPINTVL,    /* TCP_KEEPINTVL: seconds (75) */
    SYNACK_OPT_KEEPCNT,      /* TCP_KEEPCNT: probes (9) */
    SYNACK_OPT_USER_TIMEOUT, /* TCP_USER_TIMEOUT: milliseconds, RFC 5482; 0 = system default */
    SYNACK_OPT_CONGESTION,   /* TCP_CONGESTION: a SYNACK_CC_* value */
    SYNACK_OPT_SNDBUF,       /* SO_SNDBUF: bytes (before the connection has buffers) */
    SYNACK_OPT_RCVBUF,       /* SO_RCVBUF: bytes */
    SYNACK_OPT_REUSEADDR,    /* SO_REUSEADDR: bind over TIME_WAIT */
    SYNACK_OPT_LINGER,       /* SO_LINGER: -1 off, else seconds (0 = close aborts with RST) */
    SYNACK_OPT_QUICKACK,     /* TCP_QUICKACK, a switch as in Linux: 1 = ACK at once now (leave
                              * interactive mode), 0 = delay ACKs (enter it) */
    SYNACK_OPT_V6ONLY,       /* IPV6_V6ONLY: 1 = a socket bound to the IPv6 wildcard takes IPv6 only
                              * (no IPv4 connections, no port conflict with IPv4); Linux default 0.
                              * Set before bind (else -EINVAL) */
    SYNACK_OPT_FASTOPEN,     /* TCP_FASTOPEN: RFC 7413 server, the most Fast Open children awaiting
                              * their third ACK (0 off); in CLOSED or LISTEN only (else -EINVAL) */
    SYNACK_OPT_FASTOPEN_CONNECT, /* TCP_FASTOPEN_CONNECT: 1 = synack_connect with a cached cookie
                              * returns 0 at once and the first synack_send carries the SYN, the
                              * cookie and the data (returns what the SYN took); without a cookie
                              * the SYN asks for one. -EOPNOTSUPP when the client bit is off */
    /* IP level (ip(7), ipv6(7)). An IPv6 socket's IPv4 (mapped) packets take the IP_ ones, its
     * IPv6 packets the IPV6_ ones, as in Linux; a listener's pass to what it accepts. */
    SYNACK_OPT_IP_TOS,       /* IP_TOS: the TOS byte of every IPv4 packet the socket sends (SYN,
                              * SYN-ACK, data, ACK, RST, its TIME_WAIT ACKs); TCP owns the ECN bits
                              * (RFC 3168): the get gives v & 0xfc */
    SYNACK_OPT_IPV6_TCLASS,  /* IPV6_TCLASS: the same for the traffic class of IPv6 packets;
                              * -1..255 (-1: 0), else -EINVAL */
    SYNACK_OPT_IP_TTL,       /* IP_TTL: 1..255, -1 = the default (64), else -EINVAL; the get gives
                              * what packets carry */
    SYNACK_OPT_IPV6_UNICAST_HOPS, /* IPV6_UNICAST_HOPS: 0..255, -1 = the default (64) */
    SYNACK_OPT_IP_MTU_DISCOVER, /* IP_MTU_DISCOVER: a SYNACK_PMTUDISC_* (else -EINVAL): DF on
                              * IPv4 packets with WANT (the default) and DO, and ICMP
                              * fragmentation-needed lowers the MSS with WANT, DO and PROBE */
    SYNACK_OPT_IPV6_MTU_DISCOVER, /* IPV6_MTU_DISCOVER: a SYNACK_PMTUDISC_*; packet-too-big
                              * lowers the MSS except with INTERFACE and OMIT */
    SYNACK_OPT_FREEBIND,     /* IP_FREEBIND, IPV6_FREEBIND (one switch, as in Linux): 1 = bind to
                              * an address no interface has */
    SYNACK_OPT_MTU,          /* IP_MTU, IPV6_MTU (get only): the MTU of the interface towards
                              * the peer; -ENOTCONN before connect and on a listener */
    SYNACK_OPT_NOTSENT_LOWAT, /* TCP_NOTSENT_LOWAT: bytes; 0 = synack_config.notsent_lowat. As Linux
                              * (tcp_stream_memory_free): SYNACK_EV_OUT only while twice the unsent
                              * bytes stay below it, and a send takes more only while the unsent
                              * bytes are below it, a send-queue chunk at a time (Linux's skb:
                              * half the peer's largest window, whole segments, at most 64 KiB) */
    SYNACK_OPT_SYNCNT,       /* TCP_SYNCNT: SYN retransmissions before connect fails (1..127, Linux
                              * MAX_TCP_SYNCNT); the get gives the stack's (syn_retries) when unset */
    SYNACK_OPT_OOBINLINE,    /* SO_OOBINLINE: 1 = the urgent byte stays in the stream (only the mark
                              * is kept); 0 (default) = it is out of band (see "urgent data") */
} synack_opt;

#define SYNACK_CC_CUBIC 0   /* RFC 9438, the default as in Linux */
#define SYNACK_CC_NEWRENO 1 /* RFC 5681 + RFC 6582 */

/* IP_PMTUDISC_* / IPV6_PMTUDISC_*, Linux's numbers */
#define SYNACK_PMTUDISC_DONT 0
#define SYNACK_PMTUDISC_WANT 1
#define SYNACK_PMTUDISC_DO 2
#define SYNACK_PMTUDISC_PROBE 3
#define SYNACK_PMTUDISC_INTERFACE 4
#define SYNACK_PMTUDISC_OMIT 5

/* 0, or -EBADF (no such socket), -ENOPROTOOPT (unknown option), -EINVAL
 * (value out of range). */
int synack_setopt(synack_stack *s, synack_sock h, synack_opt opt, int value);
int synack_getopt(synack_stack *s, synack_sock h, synack_opt opt, int *value);
int synack_local(synack_stack *s, synack_sock h, synack_endpoint *out);
int synack_remote(synack_stack *s, synack_sock h, synack_endpoint *out);

typedef struct synack_tcp_info {
    synack_state state;
    uint32_t iss, irs;           /* initial sequence numbers, ours and the peer's */
    uint32_t snd_una, snd_nxt, snd_wnd;
    uint32_t rcv_nxt, rcv_wnd;
    uint16_t mss;                /* effective send MSS */
    uint8_t snd_wscale, rcv_wscale;
    bool ts_ok, sack_ok;
    uint32_t rto_us, srtt_us;
    uint32_t unread, unsent;     /* bytes in the receive / send buffer */
    /* ---- added for the POSIX layer (src/posix) ---- */
    uint32_t snd_queued;         /* bytes in the send buffer not yet acknowledged (SIOCOUTQ) */
    uint32_t snd_cap;            /* send buffer capacity */
    uint32_t cwnd, ssthresh;     /* bytes (RFC 5681) */
    uint32_t rttvar_us;
    uint8_t backoff;             /* consecutive retransmission timeouts */
    uint8_t ca_state;            /* 0 open, 1 disorder, 2 cwr (ECN), 3 recovery, 4 loss (Linux's numbering) */
    bool fastopen;               /* RFC 7413: a Fast Open connection still in its handshake may send */
    bool syn_data;               /* data in a SYN was acknowledged (Linux TCPI_OPT_SYN_DATA) */
    bool fo_deferred;            /* TCP_FASTOPEN_CONNECT: connected in name, the SYN waits for a send */
    uint32_t notsent_lowat;      /* the TCP_NOTSENT_LOWAT in force (the socket's, else the stack's); 0: none */
    bool ecn;                    /* RFC 3168 ECN agreed (Linux TCPI_OPT_ECN) */
    bool ecn_seen;               /* an ECT or CE data segment arrived (TCPI_OPT_ECN_SEEN) */
    uint8_t probes;              /* persist probes since the last ACK, refused ones included (tcpi_probes) */
    uint32_t max_snd_wnd;        /* the largest window the peer has offered (Linux tp->max_window) */
} synack_tcp_info;
int synack_tcp_info_get(synack_stack *s, synack_sock h, synack_tcp_info *out);

/* ---- added for the POSIX layer (src/posix) ---- */
/* Copies up to len bytes from the head of the receive buffer without
 * consuming them (MSG_PEEK). Returns bytes copied (0 when the buffer is
 * empty; use synack_recv() for EOF and errors) or -EBADF. */
long synack_peek(synack_stack *s, synack_sock h, void *buf, size_t len);

/* ---- urgent data (TCP's URG, RFC 9293 §3.8.5), as Linux -------------- */
/* synack_send_flags: MSG_OOB, the last byte of the write is urgent: the
 * urgent pointer (one past it, the Linux/BSD convention) rides on every
 * segment below it, retransmissions included, until it is acknowledged;
 * Nagle and cork do not hold it. */
#define SYNACK_SEND_OOB 32
/* A peer's urgent byte: without SYNACK_OPT_OOBINLINE it is taken out of the
 * stream (synack_recv steps over it and never reads across the mark in one
 * call; synack_peek likewise), SYNACK_EV_PRI says it is here, and
 * synack_recv_flags(SYNACK_RECV_OOB) returns it once: 1 with the byte,
 * -EINVAL when there is none (never sent, already read, or OOBINLINE on),
 * -EAGAIN when the pointer came ahead of its byte, 0 at the end of stream.
 * A later urgent pointer replaces an earlier one. SIGURG is not raised: a
 * library has no process to signal; poll for SYNACK_EV_PRI instead. */
#define SYNACK_RECV_OOB 1
#define SYNACK_RECV_PEEK 2 /* with SYNACK_RECV_OOB: leave the byte to be read again (MSG_PEEK) */
long synack_recv_flags(synack_stack *s, synack_sock h, void *buf, size_t len, int flags);
/* SIOCATMARK: 1 when the next byte read is the one at the urgent mark
 * (until the read position passes it), 0 otherwise, or -EBADF. */
int synack_atmark(synack_stack *s, synack_sock h);

/* ---- the error queue: MSG_ZEROCOPY and SO_TIMESTAMPING ---------------- */

/* What Linux reports through a socket's error queue (recvmsg MSG_ERRQUEUE):
 * completions of zerocopy sends and transmit timestamps, in the order they
 * happened. Nothing here touches SO_ERROR (synack_sock_error). */
#define SYNACK_EE_ORIGIN_TIMESTAMPING 4 /* Linux SO_EE_ORIGIN_TIMESTAMPING */
#define SYNACK_EE_ORIGIN_ZEROCOPY 5     /* Linux SO_EE_ORIGIN_ZEROCOPY */
#define SYNACK_EE_CODE_ZEROCOPY_COPIED 1 /* the data was copied (synack always copies) */
#define SYNACK_TSTAMP_SND 0   /* Linux SCM_TSTAMP_SND: the segment left for the link */
#define SYNACK_TSTAMP_SCHED 1 /* SCM_TSTAMP_SCHED: handed to the link's queue */
#define SYNACK_TSTAMP_ACK 2   /* SCM_TSTAMP_ACK: the byte was acknowledged */
typedef struct synack_errmsg {
    int err;          /* positive errno: 0 for zerocopy, ENOMSG for timestamps */
    uint8_t origin;   /* SYNACK_EE_ORIGIN_* */
    uint8_t code;     /* SYNACK_EE_CODE_* */
    uint32_t info;    /* zerocopy: the first id; timestamps: SYNACK_TSTAMP_* */
    uint32_t data;    /* zerocopy: the last id; timestamps: the byte's key (SOF_TIMESTAMPING_OPT_ID) */
    synack_time when; /* the stack's clock when it happened (timestamps) */
} synack_errmsg;

/* SO_ZEROCOPY: lets writes with SYNACK_SEND_ZEROCOPY ask for a completion
 * (accepted sockets inherit it). 0 or -EBADF, -ENOMEM. */
int synack_set_zerocopy(synack_stack *s, synack_sock h, bool on);
int synack_get_zerocopy(synack_stack *s, synack_sock h, bool *on);
/* synack_send_flags: with SO_ZEROCOPY on, the write is one MSG_ZEROCOPY
 * send: it takes the next 32-bit id (Linux sk_zckey) when it queues bytes
 * (a write that queues none takes none), and a completion [id, id] is queued
 * once every byte of it is acknowledged, or the connection dies with it
 * unacknowledged. A completion that continues the one at the tail of the
 * queue, still unread, is merged into it ([lo, hi+1]), as Linux does. At
 * most SYNACK_ZEROCOPY_MAX sends wait for completion or to be read:
 * -ENOBUFS beyond (Linux: optmem_max). Without SO_ZEROCOPY the flag is
 * ignored, as Linux ignores MSG_ZEROCOPY. */
#define SYNACK_SEND_ZEROCOPY 8
#define SYNACK_ZEROCOPY_MAX 128
/* The write is part of one larger user call (a sendmsg the POSIX layer
 * makes of several writes): the call's zerocopy id and its timestamp key
 * are settled by synack_send_end(), not by this write. */
#define SYNACK_SEND_PART 16
void synack_send_end(synack_stack *s, synack_sock h);

/* SO_TIMESTAMPING, Linux's SOF_TIMESTAMPING_* bits (the same values): the
 * last byte of every write (send call) is stamped SCHED and SND when first
 * sent, ACK when acknowledged, as TX_SCHED, TX_SOFTWARE and TX_ACK ask.
 * OPT_ID keys them by byte offset from SND.UNA when it was turned on
 * (-EINVAL in CLOSED or LISTEN). At most SYNACK_ERRQUEUE_MAX notifications
 * wait to be read: a timestamp beyond that is dropped (Linux: the receive
 * buffer) and counted (errqueue_dropped). */
#define SYNACK_TS_TX_SOFTWARE 0x2u
#define SYNACK_TS_SOFTWARE 0x10u
#define SYNACK_TS_OPT_ID 0x80u
#define SYNACK_TS_TX_SCHED 0x100u
#define SYNACK_TS_TX_ACK 0x200u
#define SYNACK_TS_OPT_TSONLY 0x800u
#define SYNACK_TS_OPT_ID_TCP 0x10000u
#define SYNACK_ERRQUEUE_MAX 256
int synack_set_timestamping(synack_stack *s, synack_sock h, uint32_t flags);
int synack_get_timestamping(synack_stack *s, synack_sock h, uint32_t *flags);

/* The oldest notification: 0, or -EAGAIN when the queue is empty, -EBADF. */
int synack_errqueue_pop(synack_stack *s, synack_sock h, synack_errmsg *out);
/* synack_events() adds this while the queue is not empty (Linux's POLLERR). */
#define SYNACK_EV_ERRQUEUE 0x8000u
/* How many times the queue grew, merged, or was read with more left:
 * Linux's sk_error_report wakeups (what edge-triggered epoll reports on). */
uint32_t synack_errqueue_reports(synack_stack *s, synack_sock h);

/* ---- counters -------------------------------------------------------- */

/* Like `netstat -s`: every dropped segment increments one named counter.
 * Counters are numbered 0..synack_counter_count()-1. */
size_t synack_counter_count(void);
const char *synack_counter_name(size_t i);
const char *synack_counter_help(size_t i);
uint64_t synack_counter_value(const synack_stack *s, size_t i);
/* By name; UINT64_MAX when there is no such counter. */
uint64_t synack_counter(const synack_stack *s, const char *name);
/* Writes "name value  # help" lines to a FILE * (void * keeps stdio out of
 * this header): every counter with all=true, else the non-zero ones. */
void synack_counters_print(const synack_stack *s, void *file, bool all);

/* ---- in-memory link -------------------------------------------------- */

/* Two interfaces joined back to back: a queue each way, an optional one-way
 * delay, and a pcap tee. Frames handed over at time t arrive at t + delay. */
typedef struct synack_memlink synack_memlink;

/* The link reads the clock to stamp frames (the stacks' clock). */
synack_memlink *synack_memlink_new(synack_time delay, synack_clock_fn clock, void *clock_ctx);
void synack_memlink_free(synack_memlink *l);
/* Ops and ctx for end 0 or 1, to put in a synack_iface_config. */
synack_link_ops synack_memlink_ops(void);
void *synack_memlink_end(synack_memlink *l, int end);
/* Binds an end to the stack and interface behind it: that stack transmits
 * through this end (ctx synack_memlink_end(l, end)) and receives what the
 * other end sends. */
void synack_memlink_attach(synack_memlink *l, int end, synack_stack *s, int ifindex);
/* Delivers every frame due at or before now; returns how many. */
size_t synack_memlink_deliver(synack_memlink *l, synack_time now);
/* Time the next queued frame is due, or SYNACK_TIME_NEVER. */
synack_time synack_memlink_next(const synack_memlink *l);
/* Writes every frame that enters the link to a pcap file (LINKTYPE_RAW),
 * stamped with the time it was sent. Returns 0 or -errno. */
int synack_memlink_pcap(synack_memlink *l, const char *path);
/* Drops the next n frames sent from end `end` (for loss tests). */
void synack_memlink_drop_next(synack_memlink *l, int end, unsigned n);

/* Faults injected on the frames sent from one end (one direction), for
 * tests, benchmarks and simulation. All zero: a perfect link. Each direction
 * draws from its own random generator seeded here, so the same seed and the
 * same traffic give the same faults, frame for frame. Per frame, in order:
 * loss (Bernoulli, then Gilbert-Elliott), the queue limit (tail drop),
 * serialization at the rate, delay and jitter, reordering, corruption; a
 * duplicate goes through the same steps from the queue on. */
#define SYNACK_LINK_MAX_CORRUPT_BITS 64
#define SYNACK_LINK_MAX_RATE 1000000000000000ull /* 1 Pbit/s */
typedef struct synack_link_faults {
    uint64_t seed;
    double loss; /* each frame lost with this probability */
    /* Gilbert-Elliott burst loss: before each frame the channel moves Good
     * to Bad with burst_enter, Bad to Good with burst_leave; a frame is lost
     * with burst_loss_good or burst_loss_bad by state (1.0 in Bad is the
     * classic Gilbert model; 0 there with burst_enter set is an error). */
    double burst_enter, burst_leave;
    double burst_loss_good, burst_loss_bad;
    double reorder;            /* fraction of frames held back ... */
    synack_time reorder_delay; /* ... by this much more (required if reorder) */
    double duplicate;          /* a second copy follows the frame */
    double corrupt;            /* frame gets corrupt_bits distinct bits flipped */
    uint32_t corrupt_bits;     /* 0: 1; at most SYNACK_LINK_MAX_CORRUPT_BITS */
    synack_time delay;         /* one-way, added to the link's own delay */
    synack_time jitter;        /* uniform 0..jitter more; never reorders */
    uint64_t rate_bps;         /* serialization rate; 0: infinite; at most
                                  SYNACK_LINK_MAX_RATE */
    /* Tail drop when the queue is full; 0: unlimited. With a rate the queue
     * is the frames waiting for (or in) serialization; without one, every
     * frame on the link not yet delivered (as netem's limit). */
    uint32_t queue_frames, queue_bytes;
    /* An ECN-capable IP packet (ECT(0) or ECT(1)) is marked Congestion Experienced with this
     * probability, as an AQM router does instead of dropping it (RFC 3168 §5); the IPv4
     * header checksum is kept right. Not-ECT and CE packets are left alone. */
    double mark_ce;
} synack_link_faults;

/* What the link did to the frames sent from one end. */
typedef struct synack_link_stats {
    uint64_t frames, bytes;               /* handed to the link */
    uint64_t delivered, delivered_bytes;  /* given to the other end */
    uint64_t lost;                        /* Bernoulli loss */
    uint64_t burst_lost;                  /* Gilbert-Elliott loss */
    uint64_t dropped;                     /* synack_memlink_drop_next */
    uint64_t queue_drops;                 /* tail drops */
    uint64_t duplicated, reordered, corrupted, bits_flipped;
    uint32_t queue_peak_frames, queue_peak_bytes;
    uint64_t allocs; /* frame buffers and ring/heap growth: flat once warm */
    uint64_t down_drops; /* sent while the end was down (synack_memlink_set_down) */
    uint64_t ce_marked;  /* ECT packets marked CE (mark_ce) */
} synack_link_stats;

/* Sets the faults of frames sent from end `end` (replacing any before and
 * restarting its random generator). Returns 0, or -EINVAL for a probability
 * outside [0, 1], reorder without reorder_delay, a Bad state that loses
 * nothing, too many corrupt_bits or too high a rate. */
int synack_memlink_set_faults(synack_memlink *l, int end, const synack_link_faults *f);
/* Counters of frames sent from end `end`; zeros for a bad end. */
void synack_memlink_stats(const synack_memlink *l, int end, synack_link_stats *out);

/* ---- TUN link and event loop ----------------------------------------- */

/* A Linux TUN device (IFF_TUN | IFF_NO_PI): one IP datagram per read/write. */
typedef struct synack_tun synack_tun;

/* Opens (creating if needed) the TUN device `name` (NULL: the kernel picks
 * tunN) with the given MTU (0: 1500; up to 65535). Returns 0 or -errno. The
 * device is left down; configure it with ip(8) or from a test script. */
int synack_tun_open(const char *name, uint32_t mtu, synack_tun **out);
/* The same with offloads both ways (a virtio-net header on every read and
 * write, TUN_F_CSUM | TUN_F_TSO4): the kernel may hand over one TCP segment
 * of up to 64 KiB where the wire would carry MTU-sized ones, and leave its
 * checksum to the reader (which completes it); synack's segments of one
 * burst go to the kernel as one GSO datagram, cut by the kernel. */
int synack_tun_open_offload(const char *name, uint32_t mtu, synack_tun **out);
/* The link on a descriptor already open that carries one IP datagram per
 * read and per write: a TUN fd (IFF_TUN | IFF_NO_PI) opened by a privileged
 * process and handed over SCM_RIGHTS, or one end of an AF_UNIX
 * SOCK_SEQPACKET (or SOCK_DGRAM) socketpair joining two stacks, in one
 * process or two. The descriptor is made non-blocking and belongs to the
 * synack_tun from then on: synack_tun_close closes it (on failure it is
 * left to the caller, untouched but perhaps non-blocking). mtu as for
 * synack_tun_open; nothing is configured on a device. No virtio-net header
 * is used unless the TUN fd was opened with IFF_VNET_HDR. On a socket, a
 * full send buffer (EAGAIN) is local congestion (TCP retries), and a peer
 * that is gone makes transmits fail with -EPIPE and synack_tun_pump return
 * -EPIPE (SOCK_SEQPACKET; a SOCK_DGRAM peer's end cannot be seen on read).
 * Returns 0, -EBADF, -EINVAL (mtu), -EPROTOTYPE (a SOCK_STREAM socket, a
 * TAP fd or one without IFF_NO_PI) or another -errno. */
int synack_tun_adopt(int fd, uint32_t mtu, synack_tun **out);
/* With offload, consecutive TCP segments of one flow are held and leave as
 * one GSO write (the kernel cuts them back to MTU size): synack_loop flushes
 * them before it sleeps; a program without the loop calls this after
 * synack_poll(). Returns 0 or -errno. */
int synack_tun_flush(synack_tun *t);
/* Flushes, closes the descriptor (an adopted one too) and frees the link. */
void synack_tun_close(synack_tun *t);
int synack_tun_fd(const synack_tun *t);
/* The device's name; for an adopted descriptor the name the kernel reports
 * for a TUN fd, or "" (never NULL) for a socket. */
const char *synack_tun_name(const synack_tun *t);
uint32_t synack_tun_mtu(const synack_tun *t);
/* Ops and ctx (the synack_tun itself) for a synack_iface_config. */
synack_link_ops synack_tun_ops(void);
/* Frames read from the device go to this stack and interface. */
void synack_tun_attach(synack_tun *t, synack_stack *s, int ifindex);
/* Reads the datagrams waiting on the (non-blocking) device into the stack,
 * at most 256 a call (a NAPI-like budget, so that synack_poll's ACK flush
 * and timers run between bursts; the loop's epoll is level-triggered and
 * calls again); returns how many, or -errno (-EPIPE: the descriptor's other
 * end is gone). */
long synack_tun_pump(synack_tun *t);

/* An event loop for a stack on real links: epoll over the link descriptors
 * and any descriptors the application adds, and a timerfd armed for the
 * deadline synack_poll() returns. */
typedef struct synack_loop synack_loop;
typedef void (*synack_fd_fn)(void *ctx, int fd, unsigned epoll_events);

synack_loop *synack_loop_new(synack_stack *s);
void synack_loop_free(synack_loop *l);
int synack_loop_add_tun(synack_loop *l, synack_tun *t);
int synack_loop_add_fd(synack_loop *l, int fd, unsigned epoll_events, synack_fd_fn fn, void *ctx);
typedef struct synack_ringlink synack_ringlink; /* the ring link, below */
/* End `end` of a ring link made with SYNACK_RING_WAKEUP (else -EINVAL): the
 * loop pumps it when frames arrive and arms it before it sleeps. */
int synack_loop_add_ringlink(synack_loop *l, synack_ringlink *r, int end);
int synack_loop_del_fd(synack_loop *l, int fd);
/* Runs until done(ctx) returns true (checked after every wake-up) or until
 * timeout (microseconds of the stack's clock; SYNACK_TIME_NEVER for none).
 * Returns 0 when done, -ETIMEDOUT on timeout, -errno on failure. */
int synack_loop_run(synack_loop *l, bool (*done)(void *ctx), void *ctx, synack_time timeout);

/* ---- Ethernet, ARP and the TAP link ----------------------------------- */

/* Ethernet framing and ARP (RFC 826) for one interface: the stack hands it
 * IP datagrams (synack_eth_ops, ctx the synack_eth), it resolves the next
 * hop and hands Ethernet frames to out(); frames from the wire go in through
 * synack_eth_input(). The neighbour table has Linux's states and timeouts,
 * a bounded size, and a bounded queue per neighbour being resolved. */
typedef struct synack_eth synack_eth;
typedef int (*synack_frame_fn)(void *ctx, const uint8_t *frame, size_t len);

typedef enum synack_neigh_state {
    SYNACK_NEIGH_INCOMPLETE, /* a request is out; datagrams wait */
    SYNACK_NEIGH_REACHABLE,  /* confirmed by a reply recently */
    SYNACK_NEIGH_STALE,      /* not confirmed lately; still used */
    SYNACK_NEIGH_DELAY,      /* used while stale: a probe follows unless confirmed */
    SYNACK_NEIGH_PROBE,      /* unicast requests are out */
} synack_neigh_state;

/* mac: this interface's unicast address. Returns 0 or -errno. */
int synack_eth_new(const uint8_t mac[6], synack_frame_fn out, void *out_ctx, synack_eth **res);
void synack_eth_free(synack_eth *e);
synack_link_ops synack_eth_ops(void);
/* The stack and interface behind it (the interface's address is the one ARP
 * answers for). Frames before this are dropped. */
void synack_eth_attach(synack_eth *e, synack_stack *s, int ifindex);
void synack_eth_input(synack_eth *e, const uint8_t *frame, size_t len);
/* Runs ARP's timers at the stack clock's time; returns the next deadline. */
synack_time synack_eth_poll(synack_eth *e);
/* Broadcasts a gratuitous ARP request for the interface's address. */
int synack_eth_announce(synack_eth *e);
const uint8_t *synack_eth_mac(const synack_eth *e);
/* The neighbour entry for addr: 0, or -ENOENT when there is none. */
int synack_eth_neigh(const synack_eth *e, const synack_addr *addr, uint8_t mac[6], synack_neigh_state *state);
size_t synack_eth_neigh_count(const synack_eth *e);

/* A Linux TAP device (IFF_TAP | IFF_NO_PI) with a synack_eth on it. mac NULL
 * picks a random locally administered address. */
typedef struct synack_tap synack_tap;
int synack_tap_open(const char *name, uint32_t mtu, const uint8_t mac[6], synack_tap **out);
void synack_tap_close(synack_tap *t);
int synack_tap_fd(const synack_tap *t);
const char *synack_tap_name(const synack_tap *t);
uint32_t synack_tap_mtu(const synack_tap *t);
/* For a synack_iface_config: synack_eth_ops() with this as ctx. */
synack_eth *synack_tap_eth(synack_tap *t);
void synack_tap_attach(synack_tap *t, synack_stack *s, int ifindex);
/* Reads every frame waiting on the device; returns how many, or -errno. */
long synack_tap_pump(synack_tap *t);
/* The loop reads the device and runs ARP's timers. */
int synack_loop_add_tap(synack_loop *l, synack_tap *t);

/* ---- added for the simulator (synack sim, docs/simulation.md) -------- */

/* What a stack holds, from counters kept where sockets and buffers are
 * allocated and freed, and from a walk of its timers: the simulator checks
 * that every connection gives back what it took. */
typedef struct synack_stack_usage {
    uint32_t socks;        /* socket objects alive: handles, orphans, unaccepted children */
    uint32_t handles;      /* of those, held by the application (handles not closed) */
    uint32_t timewait;     /* orphans in TIME_WAIT, kept as small records instead of sockets */
    uint32_t conns;        /* connections demultiplexed: a TCB outside CLOSED and LISTEN, records included */
    uint32_t exts;         /* busy-connection extensions attached (struct tcp_ext) */
    uint64_t buf_bytes;    /* socket buffer bytes attached: only connections with bytes to hold have any */
    uint64_t bytes;        /* buf_bytes plus the sockets, extensions and records themselves */
    uint32_t timers_armed; /* connections with at least one timer armed */
    uint32_t closed_armed; /* of those, connections in CLOSED or LISTEN: always 0 when sound */
    uint32_t closed_listed; /* CLOSED connections still demultiplexed or in the timer wheel: always 0 when sound */
} synack_stack_usage;
void synack_stack_usage_get(const synack_stack *s, synack_stack_usage *out);

/* Takes one end of a link down (true) or up: frames sent from that end
 * while it is down are lost and counted (synack_link_stats.down_drops);
 * frames already on the link still arrive. */
void synack_memlink_set_down(synack_memlink *l, int end, bool down);

/* ---- the ring link: two stacks in two threads ------------------------- */

/* Two interfaces back to back for two stacks that each run in a thread of
 * their own (a veth pair inside one process): per direction a
 * single-producer single-consumer ring of `bytes` bytes in shared memory,
 * no lock and no system call per frame. End i belongs to one thread: its
 * stack's transmits (from that thread's synack_poll and socket calls),
 * synack_ringlink_pump, _pending, _arm and _stats for end i run there only.
 * Frames have no delay and no faults, and the link vouches for checksums
 * as the memory link does (SYNACK_OFFLOAD_TX_CSUM set on attach,
 * SYNACK_RX_CSUM_OK on delivery). A frame that does not fit in the ring is
 * refused with -ENOBUFS (local congestion: TCP retries it); one over the
 * MTU with -EMSGSIZE.
 *
 * bytes: a power of two of at least four largest records (mtu + 8 rounded
 * up to 8); mtu 0: 1500. flags: SYNACK_RING_WAKEUP gives each end an
 * eventfd that a sleeping receiver is woken through (synack_ringlink_arm);
 * without it the receivers poll and the sender pays no fence per frame.
 * SYNACK_RING_BATCH: a frame sent is published to the receiver at
 * synack_ringlink_flush (or once 32 wait), so that the frames of one poll
 * cross to the other core together; the end's thread then calls
 * synack_ringlink_flush after synack_poll (synack_loop does it before it
 * sleeps). Returns NULL on bad arguments or no memory. */
#define SYNACK_RING_WAKEUP 1u
#define SYNACK_RING_BATCH 2u
synack_ringlink *synack_ringlink_new(size_t bytes, uint32_t mtu, unsigned flags);
/* Both threads must be done with the link. */
void synack_ringlink_free(synack_ringlink *l);
/* Ops, and the ctx of end 0 or 1, for a synack_iface_config. */
synack_link_ops synack_ringlink_ops(void);
void *synack_ringlink_end(synack_ringlink *l, int end);
/* Frames sent to this end go to stack s, interface ifindex. */
void synack_ringlink_attach(synack_ringlink *l, int end, synack_stack *s, int ifindex);
/* Hands at most budget frames waiting for this end to its stack
 * (synack_input_at with now, read once for the burst); returns how many. */
size_t synack_ringlink_pump(synack_ringlink *l, int end, synack_time now, size_t budget);
/* Publishes what this end sent (SYNACK_RING_BATCH; else nothing waits). */
void synack_ringlink_flush(synack_ringlink *l, int end);
/* Whether frames wait for this end. */
bool synack_ringlink_pending(const synack_ringlink *l, int end);
/* With SYNACK_RING_WAKEUP: the descriptor that turns readable when a frame
 * arrives for a receiver that armed it (else -EINVAL). Before sleeping on
 * it, the receiver calls synack_ringlink_arm: 1, sleep (the next frame
 * wakes it); 0, frames came meanwhile, pump instead; -EINVAL. */
int synack_ringlink_fd(const synack_ringlink *l, int end);
int synack_ringlink_arm(synack_ringlink *l, int end);
typedef struct synack_ring_stats {
    uint64_t frames, bytes; /* sent from this end */
    uint64_t refused;       /* the ring was full: -ENOBUFS */
    uint64_t oversize;      /* over the MTU: -EMSGSIZE */
    uint64_t delivered;     /* frames this end's pump handed to its stack */
} synack_ring_stats;
void synack_ringlink_stats(const synack_ringlink *l, int end, synack_ring_stats *out);

/* ---- errors ---------------------------------------------------------- */

const char *synack_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
