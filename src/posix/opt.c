/* getsockopt, setsockopt, fcntl and ioctl, with Linux's lengths, units and
 * errno (net/core/sock.c sk_setsockopt/sk_getsockopt, net/ipv4/tcp.c
 * do_tcp_setsockopt/do_tcp_getsockopt, tcp_ioctl). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* Linux's defaults for net.core.{r,w}mem_max and the floors of
 * SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF on x86-64 (2048 + sk_buff, doubled for
 * the send side). setsockopt stores twice what it is given, for the
 * kernel's bookkeeping overhead, and getsockopt reports that. */
#define RMEM_MAX 212992
#define WMEM_MAX 212992
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF 4608
#define TCP_CA_NAME_MAX 16

static int fail_unlock(struct sxp *p, int err)
{
    sxp_unlock(p);
    return sxp_fail(err);
}

static const struct {
    int level, name;
    synack_opt opt;
} int_opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE, SYNACK_OPT_KEEPALIVE},
    {SOL_SOCKET, SO_REUSEADDR, SYNACK_OPT_REUSEADDR},
    {SOL_SOCKET, SO_OOBINLINE, SYNACK_OPT_OOBINLINE},
    {IPPROTO_TCP, TCP_NODELAY, SYNACK_OPT_NODELAY},
    {IPPROTO_TCP, TCP_CORK, SYNACK_OPT_CORK},
    {IPPROTO_TCP, TCP_MAXSEG, SYNACK_OPT_MAXSEG},
    {IPPROTO_TCP, TCP_KEEPIDLE, SYNACK_OPT_KEEPIDLE},
    {IPPROTO_TCP, TCP_KEEPINTVL, SYNACK_OPT_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT, SYNACK_OPT_KEEPCNT},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, SYNACK_OPT_USER_TIMEOUT},
    {IPPROTO_TCP, TCP_QUICKACK, SYNACK_OPT_QUICKACK},
    {IPPROTO_TCP, TCP_FASTOPEN, SYNACK_OPT_FASTOPEN},
    {IPPROTO_TCP, TCP_FASTOPEN_CONNECT, SYNACK_OPT_FASTOPEN_CONNECT},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT, SYNACK_OPT_NOTSENT_LOWAT},
    {IPPROTO_TCP, TCP_SYNCNT, SYNACK_OPT_SYNCNT},
};

static bool find_int_opt(int level, int name, synack_opt *out)
{
    for (size_t i = 0; i < sizeof int_opts / sizeof int_opts[0]; i++)
        if (int_opts[i].level == level && int_opts[i].name == name) {
            *out = int_opts[i].opt;
            return true;
        }
    return false;
}

static const char *const cc_names[] = {[SYNACK_CC_CUBIC] = "cubic", [SYNACK_CC_NEWRENO] = "reno"};

static int set_buf(struct sxp *p, struct sxp_file *f, bool rcv, int val)
{
    uint32_t v = (uint32_t)val; /* Linux compares as u32: -1 means "the maximum" */
    uint32_t max = rcv ? RMEM_MAX : WMEM_MAX;
    if (v > max)
        v = max;
    uint32_t reported = 2 * v;
    uint32_t floor = rcv ? SOCK_MIN_RCVBUF : SOCK_MIN_SNDBUF;
    if (reported < floor)
        reported = floor;
    /* The receive side: half of what Linux reports is what it lets data
     * use, and the stack's buffer holds data only. The send side: writes
     * are admitted by Linux's own accounting against the whole of it
     * (sxp_wmem_room), so the stack's buffer must hold that much. On a live
     * connection the stack grows the buffer and never shrinks it. */
    int r = synack_setopt(p->st, f->h, rcv ? SYNACK_OPT_RCVBUF : SYNACK_OPT_SNDBUF,
                          (int)(rcv ? reported / 2 : reported));
    if (r < 0)
        return -r;
    if (rcv)
        f->rcvbuf = (int)reported;
    else
        f->sndbuf = (int)reported;
    return 0;
}

/* Linux's tcp_wmem[2] and the sizes tcp_sndbuf_expand counts per segment
 * on x86-64: MAX_TCP_HEADER and the aligned skb_shared_info beside the
 * payload (rounded up to a power of two), and the aligned sk_buff. */
#define TCP_WMEM_MAX 4194304u
#define MAX_TCP_HEADER 320u
#define SKB_SHINFO 320u
#define SKB_HEAD_EXTRA (MAX_TCP_HEADER + SKB_SHINFO)
#define SKB_STRUCT 256u

static uint32_t size_goal(const synack_tcp_info *ti);

void sxp_sndbuf_expand(struct sxp *p, struct sxp_file *f, const synack_tcp_info *ti)
{
    if (!ti->mss)
        return; /* no connection yet */
    if (f->sndbuf) {
        /* SO_SNDBUF set (SOCK_SNDBUF_LOCK): no autotuning, but the stack's
         * buffer must hold what Linux's accounting admits, up to a skb of
         * size_goal begun just under sk_sndbuf (sxp_wmem_room) */
        uint64_t need = (uint64_t)f->sndbuf + size_goal(ti);
        if (need > ti->snd_cap && need <= INT32_MAX)
            synack_setopt(p->st, f->h, SYNACK_OPT_SNDBUF, (int)need);
        return;
    }
    uint32_t seg = ti->mss + (ti->ts_ok ? 12u : 0u) + SKB_HEAD_EXTRA; /* mss_clamp: the MSS option */
    uint32_t per_mss = 1;
    while (per_mss < seg)
        per_mss <<= 1;
    per_mss += SKB_STRUCT;
    uint32_t segs = ti->cwnd / ti->mss;
    if (segs < 10) /* TCP_INIT_CWND, and above tp->reordering + 1 */
        segs = 10;
    uint64_t want = 2ull * segs * per_mss;
    if (want > TCP_WMEM_MAX)
        want = TCP_WMEM_MAX;
    /* Linux counts skb truesize against it; the stack's ring holds data
     * alone, so this lets through a little more than Linux, never less. */
    if (want > ti->snd_cap)
        synack_setopt(p->st, f->h, SYNACK_OPT_SNDBUF, (int)want);
}

/* Linux's send memory once SO_SNDBUF is set (SOCK_SNDBUF_LOCK: no autotuning).
 * sk_wmem_queued counts each skb of the write and retransmit queues at its
 * truesize: the head from skb_small_head_cache (SKB_TRUESIZE of
 * SKB_HEAD_ALIGN(MAX_TCP_HEADER) less skb_shared_info: the headroom, the
 * sk_buff and the skb_shared_info, 896 bytes on x86-64) plus the payload in
 * page fragments. tcp_sendmsg_locked appends to
 * the unsent tail skb up to size_goal, and takes a new skb only while
 * sk_wmem_queued < sk_sndbuf (sk_stream_memory_free); tcp_xmit_size_goal
 * makes size_goal the MSS times as many as fit in half the largest window the
 * peer offered (tcp_bound_to_half_wnd), within GSO's 64 KiB less the header.
 * The stack's buffer holds bytes, not skbs; they are counted as the skbs of
 * size_goal a writer fills. */
#define SKB_HEAD_TRUESIZE (MAX_TCP_HEADER + SKB_STRUCT + SKB_SHINFO)
#define GSO_GOAL_MAX (65536u - 1u - MAX_TCP_HEADER)
#define MSS_DEFAULT 536u /* TCP_MSS_DEFAULT */

static uint32_t size_goal(const synack_tcp_info *ti)
{
    uint32_t mss = ti->mss ? ti->mss : MSS_DEFAULT;
    uint32_t goal = GSO_GOAL_MAX, w = ti->max_snd_wnd;
    uint32_t cutoff = w > MSS_DEFAULT ? w / 2 : w;
    if (cutoff && goal > cutoff)
        goal = cutoff;
    goal -= goal % mss;
    return goal < mss ? mss : goal;
}

uint64_t sxp_wmem_queued(const synack_tcp_info *ti)
{
    uint32_t goal = size_goal(ti);
    uint64_t skbs = ((uint64_t)ti->snd_queued + goal - 1) / goal;
    return skbs * SKB_HEAD_TRUESIZE + ti->snd_queued;
}

bool sxp_wmem_writeable(const struct sxp_file *f, const synack_tcp_info *ti)
{
    /* __sk_stream_is_writeable: free memory at least half of what is
     * queued, counted as skbs once SO_SNDBUF is set, else as the stack's
     * bytes against its (autotuned) buffer */
    uint64_t q = f->sndbuf ? sxp_wmem_queued(ti) : ti->snd_queued;
    uint64_t cap = f->sndbuf ? (uint64_t)f->sndbuf : ti->snd_cap;
    return cap > q && cap - q >= q / 2;
}

size_t sxp_wmem_room(const struct sxp_file *f, const synack_tcp_info *ti)
{
    uint32_t goal = size_goal(ti);
    size_t room = ti->unsent % goal ? goal - ti->unsent % goal : 0; /* the tail skb */
    if (sxp_wmem_queued(ti) < (uint64_t)f->sndbuf)
        room += goal;
    return room;
}

int sxp_setsockopt(struct sxp *p, int fd, int level, int name, const void *val, socklen_t len)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    if (sxp_errq_opt(level, name)) {
        int r = sxp_errq_setsockopt(p, f, name, val, len);
        if (r)
            return fail_unlock(p, r);
        sxp_unlock(p);
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_MARK) {
        /* Linux sk_setsockopt: CAP_NET_ADMIN or CAP_NET_RAW (a library in
         * user space has the host's permission model, not the kernel's:
         * taken as the packetdrill harness, root, has them) */
        if (!val || len < (socklen_t)sizeof f->mark)
            return fail_unlock(p, EINVAL);
        memcpy(&f->mark, val, sizeof f->mark);
        sxp_unlock(p);
        return 0;
    }
    if (level == IPPROTO_TCP && name == TCP_FASTOPEN_KEY) {
        if (len && !val)
            return fail_unlock(p, EFAULT);
        int r = synack_set_fastopen_key(p->st, f->h, val, len);
        if (r < 0)
            return fail_unlock(p, -r);
        sxp_unlock(p);
        return 0;
    }
    if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
        if (!val || (int)len < 1)
            return fail_unlock(p, EINVAL);
        char want[TCP_CA_NAME_MAX];
        size_t n = len < sizeof want - 1 ? len : sizeof want - 1;
        memcpy(want, val, n);
        want[n] = 0;
        for (int i = 0; i < (int)(sizeof cc_names / sizeof cc_names[0]); i++)
            if (!strcmp(want, cc_names[i])) {
                synack_setopt(p->st, f->h, SYNACK_OPT_CONGESTION, i);
                sxp_unlock(p);
                return 0;
            }
        return fail_unlock(p, ENOENT);
    }
    if (level == IPPROTO_TCP && name == TCP_INQ) {
        /* Linux do_tcp_setsockopt: 0 or 1, anything else EINVAL */
        int v;
        if (!val || len < (socklen_t)sizeof v)
            return fail_unlock(p, EINVAL);
        memcpy(&v, val, sizeof v);
        if (v < 0 || v > 1)
            return fail_unlock(p, EINVAL);
        f->inq = v;
        sxp_unlock(p);
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_LINGER) {
        if (!val || len < (socklen_t)sizeof(struct linger))
            return fail_unlock(p, EINVAL);
        struct linger l;
        memcpy(&l, val, sizeof l);
        f->linger_on = l.l_onoff != 0;
        f->linger_sec = l.l_linger < 0 ? 0 : l.l_linger;
        synack_setopt(p->st, f->h, SYNACK_OPT_LINGER, f->linger_on ? f->linger_sec : -1);
        sxp_unlock(p);
        return 0;
    }
    if (level == IPPROTO_IP || level == IPPROTO_IPV6) {
        /* Linux: tcp_setsockopt passes other levels to the family's handler (ipopt.c) */
        int r = sxp_ip_setsockopt(p, f, level, name, val, len);
        if (r)
            return fail_unlock(p, r);
        sxp_unlock(p);
        return 0;
    }
    if (level != SOL_SOCKET && level != IPPROTO_TCP)
        return fail_unlock(p, ENOPROTOOPT);
    synack_opt o;
    bool is_buf = level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF);
    if (!is_buf && !find_int_opt(level, name, &o))
        return fail_unlock(p, ENOPROTOOPT);
    if (!val || len < (socklen_t)sizeof(int))
        return fail_unlock(p, EINVAL);
    int v;
    memcpy(&v, val, sizeof v);
    if (is_buf) {
        int r = set_buf(p, f, name == SO_RCVBUF, v);
        if (r)
            return fail_unlock(p, r);
        sxp_unlock(p);
        return 0;
    }
    if (o == SYNACK_OPT_CORK)
        f->cork_user = v != 0;
    int r = synack_setopt(p->st, f->h, o, v);
    if (r < 0)
        return fail_unlock(p, -r);
    if (o == SYNACK_OPT_NODELAY && v && f->cork_user) {
        /* tcp(7): setting TCP_NODELAY flushes pending output even while
         * TCP_CORK is set (TCP_NAGLE_PUSH); the cork stays for later data. */
        synack_setopt(p->st, f->h, SYNACK_OPT_CORK, 0);
        p->deadline = synack_poll(p->st);
        synack_setopt(p->st, f->h, SYNACK_OPT_CORK, 1);
    }
    sxp_unlock(p);
    return 0;
}

static int put(void *val, socklen_t *len, const void *src, size_t n)
{
    if (!len)
        return EFAULT;
    if ((int)*len < 0)
        return EINVAL;
    size_t m = *len < n ? *len : n;
    if (m && !val)
        return EFAULT;
    memcpy(val, src, m);
    *len = (socklen_t)m;
    return 0;
}

/* Linux's numbering of TCP states (include/net/tcp_states.h). */
static uint8_t linux_state(synack_state st)
{
    static const uint8_t map[] = {
        [SYNACK_CLOSED] = 7,    [SYNACK_LISTEN] = 10,    [SYNACK_SYN_SENT] = 2,   [SYNACK_SYN_RECEIVED] = 3,
        [SYNACK_ESTABLISHED] = 1, [SYNACK_FIN_WAIT_1] = 4, [SYNACK_FIN_WAIT_2] = 5, [SYNACK_CLOSE_WAIT] = 8,
        [SYNACK_CLOSING] = 11,  [SYNACK_LAST_ACK] = 9,   [SYNACK_TIME_WAIT] = 6,
    };
    return (unsigned)st < sizeof map ? map[st] : 7;
}

/* TCP_INFO: Linux's struct tcp_info for the fields synack models (the
 * rest read 0). Segment counts are bytes over the MSS, as Linux counts
 * packets; an unset ssthresh is TCP_INFINITE_SSTHRESH. */
static void fill_tcp_info(const synack_tcp_info *ti, struct tcp_info *out)
{
    memset(out, 0, sizeof *out);
    uint32_t mss = ti->mss ? ti->mss : 536;
    out->tcpi_state = linux_state(ti->state);
    out->tcpi_ca_state = ti->ca_state;
    out->tcpi_backoff = ti->backoff;
    out->tcpi_probes = ti->probes;
    out->tcpi_retransmits = ti->backoff;
    out->tcpi_options = (uint8_t)((ti->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (ti->sack_ok ? TCPI_OPT_SACK : 0) |
                                  (ti->snd_wscale || ti->rcv_wscale ? TCPI_OPT_WSCALE : 0) |
                                  (ti->syn_data ? TCPI_OPT_SYN_DATA : 0) | (ti->ecn ? TCPI_OPT_ECN : 0) |
                                  (ti->ecn_seen ? TCPI_OPT_ECN_SEEN : 0));
    out->tcpi_snd_wscale = ti->snd_wscale & 15;
    out->tcpi_rcv_wscale = ti->rcv_wscale & 15;
    out->tcpi_rto = ti->rto_us;
    out->tcpi_snd_mss = mss;
    out->tcpi_rcv_mss = mss;
    out->tcpi_advmss = mss;
    out->tcpi_unacked = (ti->snd_nxt - ti->snd_una + mss - 1) / mss;
    out->tcpi_rtt = ti->srtt_us;
    out->tcpi_rttvar = ti->rttvar_us;
    out->tcpi_snd_cwnd = ti->cwnd / mss;
    out->tcpi_snd_ssthresh = ti->ssthresh >= UINT32_MAX / 2 ? 0x7fffffff : ti->ssthresh / mss;
    out->tcpi_rcv_space = ti->rcv_wnd;
}

int sxp_getsockopt(struct sxp *p, int fd, int level, int name, void *val, socklen_t *len)
{
    int err;
    sxp_lock(p);
    struct sxp_file *f = sxp_sock_get(p, fd, &err);
    if (!f)
        return fail_unlock(p, err);
    int v = 0, r = 0;
    synack_opt o;
    if (sxp_errq_opt(level, name)) {
        r = sxp_errq_getsockopt(p, f, name, &v);
    } else if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR: {
            int e = synack_sock_error(p->st, f->h);
            v = e < 0 ? -e : e;
            break;
        }
        case SO_TYPE: v = SOCK_STREAM; break;
        case SO_DOMAIN: v = f->domain; break;
        case SO_PROTOCOL: v = IPPROTO_TCP; break;
        case SO_ACCEPTCONN: v = f->listening; break;
        case SO_MARK: v = (int)f->mark; break;
        case SO_RCVBUF:
        case SO_SNDBUF: {
            int set = name == SO_RCVBUF ? f->rcvbuf : f->sndbuf;
            if (!set && name == SO_SNDBUF) {
                /* Linux expands it when the connection is established
                 * (tcp_init_buffer_space), before any write */
                synack_tcp_info ti;
                if (synack_tcp_info_get(p->st, f->h, &ti) == 0 &&
                    (ti.state == SYNACK_ESTABLISHED || ti.state == SYNACK_CLOSE_WAIT))
                    sxp_sndbuf_expand(p, f, &ti);
            }
            if (set) {
                v = set;
            } else {
                r = synack_getopt(p->st, f->h, name == SO_RCVBUF ? SYNACK_OPT_RCVBUF : SYNACK_OPT_SNDBUF, &v);
            }
            break;
        }
        case SO_LINGER: {
            struct linger l = {.l_onoff = f->linger_on, .l_linger = f->linger_sec};
            r = put(val, len, &l, sizeof l);
            if (r)
                return fail_unlock(p, r);
            sxp_unlock(p);
            return 0;
        }
        default:
            if (!find_int_opt(level, name, &o))
                return fail_unlock(p, ENOPROTOOPT);
            r = synack_getopt(p->st, f->h, o, &v);
        }
    } else if (level == IPPROTO_TCP) {
        if (name == TCP_FASTOPEN_KEY) {
            uint8_t key[16];
            synack_get_fastopen_key(p->st, f->h, key);
            r = put(val, len, key, sizeof key);
            if (r)
                return fail_unlock(p, r);
            sxp_unlock(p);
            return 0;
        }
        if (name == TCP_CONGESTION) {
            int cc = 0;
            synack_getopt(p->st, f->h, SYNACK_OPT_CONGESTION, &cc);
            char name_buf[TCP_CA_NAME_MAX] = {0};
            if (cc >= 0 && cc < (int)(sizeof cc_names / sizeof cc_names[0]))
                strcpy(name_buf, cc_names[cc]);
            r = put(val, len, name_buf, sizeof name_buf);
            if (r)
                return fail_unlock(p, r);
            sxp_unlock(p);
            return 0;
        }
        if (name == TCP_INFO) {
            synack_tcp_info ti;
            struct tcp_info info;
            synack_tcp_info_get(p->st, f->h, &ti);
            fill_tcp_info(&ti, &info);
            r = put(val, len, &info, sizeof info);
            if (r)
                return fail_unlock(p, r);
            sxp_unlock_quiet(p);
            return 0;
        }
        if (name == TCP_INQ) {
            v = f->inq;
        } else if (!find_int_opt(level, name, &o)) {
            return fail_unlock(p, ENOPROTOOPT);
        } else {
            r = synack_getopt(p->st, f->h, o, &v);
        }
        if (name == TCP_CORK)
            v = f->cork_user;
    } else if (level == IPPROTO_IP || level == IPPROTO_IPV6) {
        r = sxp_ip_getsockopt(p, f, level, name, val, len); /* ipopt.c */
        if (r)
            return fail_unlock(p, r);
        sxp_unlock(p);
        return 0;
    } else {
        return fail_unlock(p, ENOPROTOOPT);
    }
    if (r < 0)
        return fail_unlock(p, -r);
    r = put(val, len, &v, sizeof v);
    if (r)
        return fail_unlock(p, r);
    sxp_unlock(p);
    return 0;
}

int sxp_fcntl(struct sxp *p, int fd, int cmd, long arg)
{
    sxp_lock(p);
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f) {
        sxp_unlock_quiet(p);
        return fcntl(fd, cmd, arg);
    }
    int r = 0;
    switch (cmd) {
    case F_GETFL:
        r = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
        break;
    case F_SETFL:
        f->nonblock = (arg & O_NONBLOCK) != 0;
        break;
    case F_GETFD:
    case F_SETFD:
        r = fcntl(f->fd, cmd, arg); /* close-on-exec lives on the host descriptor */
        break;
    default:
        return fail_unlock(p, EINVAL);
    }
    sxp_unlock(p);
    return r;
}

int sxp_ioctl(struct sxp *p, int fd, unsigned long req, void *arg)
{
    sxp_lock(p);
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f) {
        sxp_unlock_quiet(p);
        return ioctl(fd, req, arg);
    }
    if (f->kind != SXF_SOCK)
        return fail_unlock(p, ENOTTY);
    if (req == FIONBIO) {
        if (!arg)
            return fail_unlock(p, EFAULT);
        f->nonblock = *(int *)arg != 0;
        sxp_unlock(p);
        return 0;
    }
    if (req != SIOCATMARK && req != SIOCINQ && req != SIOCOUTQ && req != SIOCOUTQNSD)
        return fail_unlock(p, ENOTTY);
    if (!arg)
        return fail_unlock(p, EFAULT);
    synack_tcp_info ti;
    synack_tcp_info_get(p->st, f->h, &ti);
    /* Linux tcp_ioctl: a listener has no queues (nor an urgent mark) to report. */
    if (ti.state == SYNACK_LISTEN)
        return fail_unlock(p, EINVAL);
    if (req == SIOCATMARK) { /* Linux tcp_ioctl: urg_data and the read position at urg_seq */
        *(int *)arg = synack_atmark(p->st, f->h) == 1;
        sxp_unlock_quiet(p);
        return 0;
    }
    int v;
    if (req == SIOCINQ)
        v = (ti.state == SYNACK_SYN_SENT || ti.state == SYNACK_SYN_RECEIVED) ? 0 : (int)ti.unread;
    else if (req == SIOCOUTQ)
        v = (int)ti.snd_queued;
    else
        v = (int)ti.unsent;
    *(int *)arg = v;
    sxp_unlock_quiet(p);
    return 0;
}
