/* socket, bind, listen, accept, connect, shutdown, close: Linux's rules
 * (net/ipv4/af_inet.c, inet_connection_sock.c, tcp.c) over the public API. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define EPHEMERAL_LO 32768 /* Linux ip_local_port_range */
#define EPHEMERAL_HI 60999

static int fail_unlock(struct sxp *p, int err)
{
    sxp_unlock(p);
    return sxp_fail(err);
}

int sxp_socket(struct sxp *p, int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET && domain != AF_INET6)
        return sxp_fail(EAFNOSUPPORT);
    if (base != SOCK_STREAM)
        return sxp_fail(base == SOCK_DGRAM || base == SOCK_RAW ? EPROTONOSUPPORT : EINVAL);
    if (protocol != 0 && protocol != IPPROTO_TCP)
        return sxp_fail(EPROTONOSUPPORT);
    sxp_lock(p);
    synack_sock h = synack_socket(p->st);
    if (h < 0)
        return fail_unlock(p, -h);
    struct sxp_file *f = sxp_file_new(p, SXF_SOCK);
    if (!f) {
        int e = errno;
        synack_close(p->st, h);
        return fail_unlock(p, e == EMFILE ? EMFILE : ENFILE);
    }
    f->h = h;
    f->domain = domain;
    f->nonblock = (type & SOCK_NONBLOCK) != 0;
    f->ss = SS_UNCONN;
    int fd = f->fd;
    sxp_unlock(p);
    return fd;
}

bool sxp_had_conn(struct sxp *p, struct sxp_file *f)
{
    synack_endpoint e;
    return synack_remote(p->st, f->h, &e) == 0;
}

unsigned sxp_sk_shutdown(struct sxp *p, struct sxp_file *f, const synack_tcp_info *ti)
{
    unsigned m = f->shut;
    switch (ti->state) {
    case SYNACK_CLOSE_WAIT:
    case SYNACK_LAST_ACK:
    case SYNACK_CLOSING:
    case SYNACK_TIME_WAIT:
        m |= SXP_RCV_SHUT; /* tcp_fin */
        break;
    case SYNACK_CLOSED:
        if (sxp_had_conn(p, f))
            m |= SXP_RCV_SHUT | SXP_SEND_SHUT; /* tcp_done */
        break;
    default:
        break;
    }
    if (synack_events(p->st, f->h) & SYNACK_EV_RDHUP)
        m |= SXP_RCV_SHUT;
    return m;
}

static const synack_opt carried[] = {
    SYNACK_OPT_NODELAY,   SYNACK_OPT_CORK,         SYNACK_OPT_MAXSEG,     SYNACK_OPT_KEEPALIVE,
    SYNACK_OPT_KEEPIDLE,  SYNACK_OPT_KEEPINTVL,    SYNACK_OPT_KEEPCNT,    SYNACK_OPT_USER_TIMEOUT,
    SYNACK_OPT_CONGESTION, SYNACK_OPT_SNDBUF,      SYNACK_OPT_RCVBUF,     SYNACK_OPT_REUSEADDR,
    SYNACK_OPT_QUICKACK,  SYNACK_OPT_V6ONLY,       SYNACK_OPT_NOTSENT_LOWAT,
    /* IP level (Linux's tcp_disconnect keeps the inet part) */
    SYNACK_OPT_IP_TOS,    SYNACK_OPT_IPV6_TCLASS,  SYNACK_OPT_IP_TTL,     SYNACK_OPT_IPV6_UNICAST_HOPS,
    SYNACK_OPT_IP_MTU_DISCOVER, SYNACK_OPT_IPV6_MTU_DISCOVER, SYNACK_OPT_FREEBIND,
};

int sxp_sock_reset(struct sxp *p, struct sxp_file *f)
{
    synack_endpoint local;
    bool rebind = f->bound && synack_local(p->st, f->h, &local) == 0;
    synack_sock h = synack_socket(p->st);
    if (h < 0)
        return h;
    for (size_t i = 0; i < sizeof carried / sizeof carried[0]; i++) {
        int v;
        if (carried[i] == SYNACK_OPT_MAXSEG)
            continue; /* getopt reports the live MSS, not the cap */
        if (synack_getopt(p->st, f->h, carried[i], &v) == 0)
            synack_setopt(p->st, h, carried[i], v);
    }
    /* SO_ZEROCOPY and SO_TIMESTAMPING stay (sock flags); what the old
     * connection's error queue held and the zerocopy ids start over */
    bool zc = false;
    uint32_t tsf = 0;
    if (synack_get_zerocopy(p->st, f->h, &zc) == 0 && zc)
        synack_set_zerocopy(p->st, h, true);
    if (synack_get_timestamping(p->st, f->h, &tsf) == 0 && tsf)
        synack_set_timestamping(p->st, h, tsf & ~(SYNACK_TS_OPT_ID | SYNACK_TS_OPT_ID_TCP));
    /* Linux tcp_disconnect: a RST to a peer that holds state, then CLOSE. */
    synack_setopt(p->st, f->h, SYNACK_OPT_LINGER, 0);
    synack_close(p->st, f->h);
    f->h = h;
    f->listening = false;
    f->shut = 0;
    f->ss = SS_UNCONN;
    if (f->linger_on)
        synack_setopt(p->st, h, SYNACK_OPT_LINGER, f->linger_sec);
    if (rebind && synack_bind(p->st, h, &local) < 0)
        f->bound = false;
    return 0;
}

/* SIN6_LEN_RFC2133: Linux takes a sockaddr_in6 without sin6_scope_id. */
#define SIN6_LEN_MIN 24

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int sxp_sockaddr_in(const struct sxp_file *f, const struct sockaddr *addr, socklen_t len,
                    synack_endpoint *e)
{
    memset(e, 0, sizeof *e);
    if (f->domain == AF_INET6) {
        if (len < SIN6_LEN_MIN)
            return EINVAL;
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
        e->port = ntohs(s6->sin6_port);
        /* RFC 4291 §2.5.5.2: ::ffff:a.b.c.d names an IPv4 peer (Linux
         * tcp_v6_connect hands it to tcp_v4_connect) */
        if (!memcmp(s6->sin6_addr.s6_addr, v4mapped_prefix, 12)) {
            e->addr.family = SYNACK_AF_INET;
            memcpy(e->addr.bytes, s6->sin6_addr.s6_addr + 12, 4);
        } else {
            e->addr = synack_ipv6(s6->sin6_addr.s6_addr);
        }
        return 0;
    }
    if (len < (socklen_t)sizeof(struct sockaddr_in))
        return EINVAL;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    e->addr = synack_ipv4(ntohl(sin->sin_addr.s_addr));
    e->port = ntohs(sin->sin_port);
    return 0;
}

void sxp_sockaddr_out(const struct sxp_file *f, const synack_endpoint *e, struct sockaddr *addr,
                      socklen_t *len)
{
    if (!addr || !len)
        return;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
    memset(&u, 0, sizeof u);
    socklen_t full;
    if (f->domain == AF_INET6) {
        u.v6.sin6_family = AF_INET6;
        u.v6.sin6_port = htons(e->port);
        if (e->addr.family == SYNACK_AF_INET) {
            memcpy(u.v6.sin6_addr.s6_addr, v4mapped_prefix, 12);
            memcpy(u.v6.sin6_addr.s6_addr + 12, e->addr.bytes, 4);
        } else if (e->addr.family == SYNACK_AF_INET6) {
            memcpy(u.v6.sin6_addr.s6_addr, e->addr.bytes, 16);
        }
        full = sizeof u.v6;
    } else {
        u.v4.sin_family = AF_INET;
        u.v4.sin_port = htons(e->port);
        u.v4.sin_addr.s_addr = htonl(synack_addr_ipv4(&e->addr));
        full = sizeof u.v4;
    }
    socklen_t n = *len < full ? *len : full;
    memcpy(addr, &u, n);
    *len = full; /* the real size, even when truncated */
}

/* Linux inet_csk_get_port with port 0: a free ephemeral port. */
static int bind_ephemeral(struct sxp *p, struct sxp_file *f, synack_endpoint *e)
{
    int span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    for (int i = 0; i < span; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_LO + (p->next_port - EPHEMERAL_LO + i) % span);
        e->port = port;
        int r = synack_bind(p->st, f->h, e);
        if (r == 0) {
            p->next_port = (uint16_t)(EPHEMERAL_LO + (port - EPHEMERAL_LO + 1) % span);
            return 0;
        }
        if (r != -EADDRINUSE)
            return r;
    }
    return -EADDRINUSE;
}

int sxp_bind(struct sxp *p, int fd, const struct sockaddr *addr, socklen_t len)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (!addr)
        return fail_unlock(p, EINVAL);
    synack_endpoint e;
    int bad = sxp_sockaddr_in(f, addr, len, &e);
    if (bad)
        return fail_unlock(p, bad);
    if (f->domain == AF_INET6) {
        /* Linux __inet6_bind: AF_INET6 only; a v4-mapped address on an
         * IPV6_V6ONLY socket makes no sense (EINVAL) */
        if (addr->sa_family != AF_INET6)
            return fail_unlock(p, EAFNOSUPPORT);
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
        if (s6->sin6_addr.s6_addr[0] == 0xff) /* multicast */
            return fail_unlock(p, EINVAL);
        int only = 0;
        synack_getopt(p->st, f->h, SYNACK_OPT_V6ONLY, &only);
        if (only && e.addr.family == SYNACK_AF_INET)
            return fail_unlock(p, EINVAL);
    } else {
        /* Linux inet_bind_sk: AF_UNSPEC is tolerated for INADDR_ANY only. */
        const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
        if (sin->sin_family != AF_INET &&
            (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != INADDR_ANY))
            return fail_unlock(p, EAFNOSUPPORT);
    }
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    if (f->bound || ti.state != SYNACK_CLOSED || sxp_had_conn(p, f))
        return fail_unlock(p, EINVAL);
    int r = e.port ? synack_bind(p->st, f->h, &e) : bind_ephemeral(p, f, &e);
    if (r < 0)
        return fail_unlock(p, -r);
    f->bound = true;
    sxp_unlock(p);
    return 0;
}

int sxp_listen(struct sxp *p, int fd, int backlog)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    /* Linux inet_listen: only an unconnected socket in CLOSE or LISTEN. */
    if (f->ss != SS_UNCONN || (ti.state != SYNACK_CLOSED && ti.state != SYNACK_LISTEN))
        return fail_unlock(p, EINVAL);
    if (ti.state == SYNACK_CLOSED && sxp_had_conn(p, f)) {
        int r = sxp_sock_reset(p, f);
        if (r < 0)
            return fail_unlock(p, -r);
    }
    if (backlog > 4096) /* net.core.somaxconn */
        backlog = 4096;
    if (!f->bound) { /* Linux binds an unbound listener to an ephemeral port */
        synack_endpoint e;
        memset(&e, 0, sizeof e);
        e.addr.family = f->domain == AF_INET6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
        int r = bind_ephemeral(p, f, &e);
        if (r < 0)
            return fail_unlock(p, -r);
        f->bound = true;
    }
    /* Linux keeps backlog 0 as "one connection may wait"; so does the stack. */
    int r = synack_listen(p->st, f->h, backlog < 0 ? 0 : backlog);
    if (r < 0)
        return fail_unlock(p, -r);
    f->listening = true;
    sxp_unlock(p);
    return 0;
}

int sxp_accept(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (!f->listening)
        return fail_unlock(p, EINVAL);
    if (addr && !len)
        return fail_unlock(p, EFAULT);
    if (len && (int)*len < 0)
        return fail_unlock(p, EINVAL);
    f->refs++;
    struct sxp_waiter w;
    sxp_wait_begin(p, &w, SYNACK_TIME_NEVER);
    synack_endpoint remote;
    synack_sock h;
    for (;;) {
        if (f->closed || !f->listening) {
            h = -EBADF;
            if (!f->closed)
                h = -EINVAL; /* shutdown() stopped the listener */
            break;
        }
        h = synack_accept(p->st, f->h, &remote);
        if (h != -EAGAIN || f->nonblock)
            break;
        sxp_wait(p, &w);
    }
    sxp_wait_end(p, &w);
    sxp_file_release(f);
    if (h < 0)
        return fail_unlock(p, -h);
    struct sxp_file *c = sxp_file_new(p, SXF_SOCK);
    if (!c) {
        synack_close(p->st, h);
        return fail_unlock(p, EMFILE);
    }
    c->h = h;
    c->domain = f->domain;
    c->ss = SS_CONNECTED;
    c->bound = true;
    c->sndbuf = f->sndbuf;
    c->rcvbuf = f->rcvbuf;
    c->linger_on = f->linger_on;
    c->linger_sec = f->linger_sec;
    c->cork_user = f->cork_user;
    c->inq = f->inq; /* tcp_sock is cloned whole (sk_clone_lock) */
    sxp_sockaddr_out(c, &remote, addr, len);
    int nfd = c->fd;
    sxp_unlock(p);
    return nfd;
}

static bool connecting(synack_state s)
{
    return s == SYNACK_SYN_SENT || s == SYNACK_SYN_RECEIVED;
}

/* Linux __inet_stream_connect, including its answers to a second call. */
int sxp_connect(struct sxp *p, int fd, const struct sockaddr *addr, socklen_t len)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (!addr || len < (socklen_t)sizeof(sa_family_t))
        return fail_unlock(p, EINVAL);
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    if (addr->sa_family == AF_UNSPEC) {
        /* tcp_disconnect: abort whatever is there, be unconnected again */
        if (ti.state != SYNACK_CLOSED || sxp_had_conn(p, f)) {
            int r = sxp_sock_reset(p, f);
            if (r < 0)
                return fail_unlock(p, -r);
        }
        f->ss = SS_UNCONN;
        sxp_unlock(p);
        return 0;
    }
    int r = sxp_connect_start(p, f, addr, len, NULL, 0, NULL, 0);
    if (r == 0) {
        sxp_unlock(p);
        return 0;
    }
    if (r != -EINPROGRESS && r != -EALREADY)
        return fail_unlock(p, -r);
    r = sxp_connect_wait(p, f, f->nonblock, r);
    if (r < 0)
        return fail_unlock(p, -r);
    sxp_unlock(p);
    return 0;
}

int sxp_connect_start(struct sxp *p, struct sxp_file *f, const struct sockaddr *addr, socklen_t len, const void *buf,
                      size_t n, long *queued, int fo_flags)
{
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    int r;
    switch (f->ss) {
    case SS_CONNECTED:
        return -EISCONN;
    case SS_CONNECTING:
        /* Linux __inet_stream_connect: while TCP_FASTOPEN_CONNECT still
         * holds the SYN back for data, connecting again is EISCONN */
        return ti.fo_deferred ? -EISCONN : -EALREADY;
    case SS_UNCONN:
    default:
        if (ti.state != SYNACK_CLOSED)
            return -EISCONN;
        synack_endpoint e;
        int bad = sxp_sockaddr_in(f, addr, len, &e);
        if (bad)
            return -bad;
        if (addr->sa_family != f->domain)
            return -EAFNOSUPPORT;
        if (f->domain == AF_INET6 && e.addr.family == SYNACK_AF_INET) {
            int only = 0; /* Linux tcp_v6_connect: no IPv4 peer for a v6-only socket */
            synack_getopt(p->st, f->h, SYNACK_OPT_V6ONLY, &only);
            if (only)
                return -ENETUNREACH;
        }
        if (sxp_had_conn(p, f) && (r = sxp_sock_reset(p, f)) < 0)
            return r;
        if (queued) { /* RFC 7413: sendto(MSG_FASTOPEN) */
            long q = synack_connect_fastopen(p->st, f->h, &e, buf, n, fo_flags);
            if (q < 0)
                return (int)q;
            *queued = q;
        } else {
            r = synack_connect(p->st, f->h, &e);
            if (r != -EINPROGRESS && r < 0)
                return r;
        }
        f->ss = SS_CONNECTING;
        f->bound = true;
        /* TCP_FASTOPEN_CONNECT deferred the SYN: connect() says 0 (Linux
         * __inet_stream_connect with DEFER_CONNECT) */
        return r == 0 && !queued ? 0 : -EINPROGRESS;
    }
}

int sxp_connect_wait(struct sxp *p, struct sxp_file *f, bool nonblock, int r)
{
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    if (connecting(ti.state)) {
        if (nonblock)
            return r;
        f->refs++;
        struct sxp_waiter w;
        sxp_wait_begin(p, &w, SYNACK_TIME_NEVER);
        while (!f->closed && synack_tcp_info_get(p->st, f->h, &ti) == 0 && connecting(ti.state))
            sxp_wait(p, &w);
        sxp_wait_end(p, &w);
        bool gone = f->closed;
        sxp_file_release(f);
        if (gone)
            return -EBADF;
    }
    if (ti.state == SYNACK_CLOSED) {
        int e = -synack_sock_error(p->st, f->h);
        f->ss = SS_UNCONN;
        return -(e > 0 ? e : ECONNABORTED);
    }
    f->ss = SS_CONNECTED;
    return 0;
}

/* Linux inet_shutdown. */
int sxp_shutdown(struct sxp *p, int fd, int how)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (how < SHUT_RD || how > SHUT_RDWR)
        return fail_unlock(p, EINVAL);
    unsigned mask = (unsigned)how + 1; /* SHUT_RD -> RCV, SHUT_WR -> SEND */
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    if (f->ss == SS_CONNECTING && !connecting(ti.state) && ti.state != SYNACK_CLOSED)
        f->ss = SS_CONNECTED;
    int r = 0;
    switch (ti.state) {
    case SYNACK_CLOSED:
        r = -ENOTCONN;
        f->shut |= mask; /* Linux records it all the same */
        break;
    case SYNACK_LISTEN:
        if (!(mask & SXP_RCV_SHUT))
            break;
        /* shutdown(SHUT_RD) stops a listener (tcp_disconnect) */
        r = sxp_sock_reset(p, f);
        break;
    case SYNACK_SYN_SENT:
        r = sxp_sock_reset(p, f);
        break;
    default:
        f->shut |= mask;
        r = synack_shutdown(p->st, f->h, how);
        break;
    }
    if (r < 0)
        return fail_unlock(p, -r);
    sxp_unlock(p);
    return 0;
}

static bool closing(synack_state s)
{
    return s == SYNACK_FIN_WAIT_1 || s == SYNACK_CLOSING || s == SYNACK_LAST_ACK;
}

/* SO_LINGER with a time on a blocking socket: Linux tcp_close sends the FIN
 * and waits (sk_stream_wait_close) until the peer acknowledged it or the
 * time ran out. Unread data means a RST instead, and no wait. */
static void linger_wait(struct sxp *p, struct sxp_file *f)
{
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    bool open = ti.state == SYNACK_ESTABLISHED || ti.state == SYNACK_CLOSE_WAIT ||
                ti.state == SYNACK_SYN_RECEIVED;
    if (!open || ti.unread)
        return;
    if (synack_shutdown(p->st, f->h, SYNACK_SHUT_WR) < 0)
        return;
    struct sxp_waiter w;
    sxp_wait_begin(p, &w, p->clk.now + SYNACK_SEC(f->linger_sec));
    f->refs++;
    while (!f->closed && synack_tcp_info_get(p->st, f->h, &ti) == 0 && closing(ti.state) &&
           p->clk.now < w.deadline)
        sxp_wait(p, &w);
    sxp_wait_end(p, &w);
    sxp_file_release(f);
}

int sxp_close(struct sxp *p, int fd)
{
    sxp_lock(p);
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f) {
        sxp_unlock_quiet(p);
        return close(fd); /* not ours: the host's */
    }
    if (f->kind == SXF_SOCK && f->linger_on && f->linger_sec > 0 && !f->nonblock) {
        f->refs++;
        linger_wait(p, f);
        bool gone = f->closed; /* another thread closed it meanwhile */
        sxp_file_release(f);
        if (gone) {
            sxp_unlock(p);
            return 0;
        }
    }
    sxp_file_drop(p, f, false);
    sxp_unlock(p);
    return 0;
}

static int name_of(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (!addr || !len)
        return fail_unlock(p, EFAULT);
    synack_endpoint e;
    int r = peer ? synack_remote(p->st, f->h, &e) : synack_local(p->st, f->h, &e);
    if (r < 0)
        return fail_unlock(p, -r);
    if (peer && f->ss != SS_CONNECTED) {
        synack_tcp_info ti;
        synack_tcp_info_get(p->st, f->h, &ti);
        if (ti.state != SYNACK_ESTABLISHED && ti.state != SYNACK_CLOSE_WAIT)
            return fail_unlock(p, ENOTCONN);
    }
    sxp_sockaddr_out(f, &e, addr, len);
    sxp_unlock_quiet(p);
    return 0;
}

int sxp_getsockname(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len)
{
    return name_of(p, fd, addr, len, false);
}

int sxp_getpeername(struct sxp *p, int fd, struct sockaddr *addr, socklen_t *len)
{
    return name_of(p, fd, addr, len, true);
}
