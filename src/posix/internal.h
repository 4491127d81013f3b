/* What the files of src/posix share: the instance, its descriptor table and
 * the blocking machinery. */
#ifndef SYNACK_POSIX_INTERNAL_H
#define SYNACK_POSIX_INTERNAL_H

#include "posix.h"

/* Linux's struct socket states (include/linux/net.h), which decide what a
 * second connect() or a listen() returns. */
enum sxp_ss { SS_UNCONN, SS_CONNECTING, SS_CONNECTED };

/* sk_shutdown bits, as Linux keeps them. */
#define SXP_RCV_SHUT 1u
#define SXP_SEND_SHUT 2u

enum sxp_kind { SXF_SOCK, SXF_EPOLL };

struct sxp_epitem {
    int fd;
    struct epoll_event ev;
    uint32_t last;  /* host descriptors: readiness when last looked at */
    uint64_t seen;  /* sockets: the wakeup count when last looked at */
    bool pending;   /* edge-triggered: on the ready list */
    bool disabled;  /* EPOLLONESHOT fired */
    struct sxp_epitem *next;
};

struct sxp_file {
    enum sxp_kind kind;
    int fd; /* the host descriptor (an eventfd) standing behind it */
    uint64_t tag; /* the eventfd's counter, to recognise it */
    int refs; /* blocked calls still using it after close() */
    bool closed;
    /* socket */
    synack_sock h;
    int domain; /* AF_INET or AF_INET6, as socket() was asked */
    bool nonblock, bound, listening;
    enum sxp_ss ss;
    unsigned shut; /* SXP_*_SHUT set by shutdown() */
    int sndbuf, rcvbuf; /* as getsockopt reports them (Linux doubles) */
    uint32_t pushed_seq; /* Linux tp->pushed_seq: where the last PSH was marked (forced_push) */
    bool pushed_known;
    bool linger_on;
    int linger_sec;
    /* Linux's wakeups (sk_data_ready, sk_state_change, sk_error_report,
     * sk_write_space after a send found no room): what EPOLLET reports on */
    uint64_t wakeups;
    uint32_t last_rcv_nxt;
    int last_state;
    bool nospace;
    bool cork_user; /* TCP_CORK as the user set it */
    /* TCP_INQ: recvmsg adds a TCP_CM_INQ control message */
    bool inq;
    uint32_t errq_reports; /* synack_errqueue_reports when last looked at */
    uint32_t mark; /* SO_MARK: kept and reported; synack has no policy routing to use it */
    /* epoll */
    struct sxp_epitem *items;
};

struct sxp_pkt {
    struct sxp_pkt *next;
    int64_t time; /* virtual microseconds since the Unix epoch */
    size_t len;
    uint8_t data[];
};

struct sxp_waiter {
    synack_time deadline; /* stack clock, SYNACK_TIME_NEVER for none */
    bool kicked;
    bool slept;
    struct sxp_waiter *next;
};

struct sxp {
    struct sxp_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* blocked calls sleep here */
    pthread_cond_t quiet; /* the driver waits here for woken calls to settle */
    synack_vclock clk;    /* the stack's clock */
    synack_time base;     /* clk.now at the epoch origin */
    synack_stack *st;
    int ifindex;
    synack_time deadline; /* what synack_poll last returned */
    struct sxp_pkt *out_head, *out_tail;
    struct sxp_file **files; /* by host descriptor */
    int n_files;
    struct sxp_waiter *waiters;
    int pending; /* kicked waiters that have not yet looked again */
    bool changed; /* the stack reported an event since the last kick */
    uint16_t next_port;
};

/* core.c */
void sxp_lock(struct sxp *p);
/* Runs the stack at the current instant, wakes blocked calls, waits until
 * they settle, and unlocks. Every call that may have changed anything ends
 * here. */
void sxp_unlock(struct sxp *p);
/* Unlocks without running anything (pure queries). */
void sxp_unlock_quiet(struct sxp *p);
void sxp_run(struct sxp *p);
void sxp_wait_begin(struct sxp *p, struct sxp_waiter *w, synack_time deadline);
/* Sleeps until woken (lock held on entry and return). */
void sxp_wait(struct sxp *p, struct sxp_waiter *w);
void sxp_wait_end(struct sxp *p, struct sxp_waiter *w);
/* Timeout in milliseconds (poll's convention, < 0 = none) to a deadline. */
synack_time sxp_deadline_ms(struct sxp *p, int timeout_ms);
/* Returns -1 with errno = err (positive). */
int sxp_fail(int err);

/* fdtab.c */
struct sxp_file *sxp_file_get(struct sxp *p, int fd);
struct sxp_file *sxp_sock_get(struct sxp *p, int fd, int *err);
/* Opens an eventfd and enters a file for it; NULL and errno on failure. */
struct sxp_file *sxp_file_new(struct sxp *p, enum sxp_kind kind);
/* Forgets the file; closes the host descriptor too, after checking it is
 * still the eventfd we opened when check_host is set. */
void sxp_file_drop(struct sxp *p, struct sxp_file *f, bool check_host);
bool sxp_file_is_host_ours(const struct sxp_file *f);
void sxp_file_release(struct sxp_file *f);

/* sock.c */
/* Linux's sk_shutdown for this socket, from shutdown() and the stack. */
unsigned sxp_sk_shutdown(struct sxp *p, struct sxp_file *f, const synack_tcp_info *ti);
/* splice() from a socket: a blocking read that stops at the urgent mark
 * and returns 0 there (Linux tcp_splice_read over tcp_read_sock). */
ssize_t sxp_splice_read(struct sxp *p, struct sxp_file *f, void *buf, size_t len);
/* Whether the socket ever had a connection (Linux: it is not a fresh one). */
bool sxp_had_conn(struct sxp *p, struct sxp_file *f);
/* Aborts whatever the handle holds and gives the socket a fresh handle with
 * the same options (Linux tcp_disconnect). */
int sxp_sock_reset(struct sxp *p, struct sxp_file *f);

/* sock.c: addresses. A sockaddr of the socket's domain to a stack endpoint
 * (an IPv4-mapped address on an AF_INET6 socket becomes an IPv4 endpoint);
 * 0 or a positive errno. Family rules are left to the caller. */
/* connect() in two halves (__inet_stream_connect): start returns
 * -EINPROGRESS, -EALREADY or the error; with queued (sendto MSG_FASTOPEN,
 * RFC 7413) it opens with Fast Open and sets *queued to the bytes that went
 * into the SYN. wait blocks unless nonblock until the handshake ends: 0
 * connected, else -errno (r when still connecting). Lock held. */
int sxp_connect_start(struct sxp *p, struct sxp_file *f, const struct sockaddr *addr, socklen_t len, const void *buf,
                      size_t n, long *queued, int fo_flags);
int sxp_connect_wait(struct sxp *p, struct sxp_file *f, bool nonblock, int r);
int sxp_sockaddr_in(const struct sxp_file *f, const struct sockaddr *addr, socklen_t len,
                    synack_endpoint *e);
/* A stack endpoint to a sockaddr of the socket's domain (IPv4 endpoints of
 * an AF_INET6 socket as ::ffff:a.b.c.d), truncated to *len; *len gets the
 * full size. Nothing happens when addr or len is NULL. */
void sxp_sockaddr_out(const struct sxp_file *f, const synack_endpoint *e, struct sockaddr *addr,
                      socklen_t *len);

/* opt.c */
/* Linux tcp_sndbuf_expand: unless SO_SNDBUF was set, the send buffer
 * follows the congestion window (lock held). */
void sxp_sndbuf_expand(struct sxp *p, struct sxp_file *f, const synack_tcp_info *ti);
/* With SO_SNDBUF set, Linux's sk_wmem_queued for what the stack holds and
 * the bytes a write may add before it must wait; set or not, whether the
 * socket is writeable (__sk_stream_is_writeable: free memory at least half
 * of what is queued; what wakes a writer and sets POLLOUT) (opt.c). */
uint64_t sxp_wmem_queued(const synack_tcp_info *ti);
bool sxp_wmem_writeable(const struct sxp_file *f, const synack_tcp_info *ti);
size_t sxp_wmem_room(const struct sxp_file *f, const synack_tcp_info *ti);

/* errqueue.c: SO_ZEROCOPY, SO_TIMESTAMPING, recvmsg(MSG_ERRQUEUE); lock
 * held, positive errno (recv: -errno) */
bool sxp_errq_opt(int level, int name);
/* ipopt.c: IPPROTO_IP and IPPROTO_IPV6 options; lock held, 0 or a positive errno */
int sxp_ip_setsockopt(struct sxp *p, struct sxp_file *f, int level, int name, const void *val, socklen_t len);
int sxp_ip_getsockopt(struct sxp *p, struct sxp_file *f, int level, int name, void *val, socklen_t *len);
int sxp_errq_setsockopt(struct sxp *p, struct sxp_file *f, int name, const void *val, socklen_t len);
int sxp_errq_getsockopt(struct sxp *p, struct sxp_file *f, int name, int *v);
ssize_t sxp_errq_recv(struct sxp *p, struct sxp_file *f, struct msghdr *msg);

/* poll.c */
/* poll(2) bits for one descriptor, as Linux's tcp_poll computes them. */
short sxp_revents(struct sxp *p, int fd, short events);

#endif
