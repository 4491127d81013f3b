/* SO_ZEROCOPY, SO_TIMESTAMPING and recvmsg(MSG_ERRQUEUE): Linux's socket
 * options (net/core/sock.c sk_setsockopt, sock_set_timestamping) and its
 * error-queue reads (ip_recv_error, ipv6_recv_error), over the stack's
 * error queue (src/stack/errqueue.c). */
#include <errno.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <string.h>

#include "internal.h"

/* Linux 6.18's SOF_TIMESTAMPING_MASK (up to SOF_TIMESTAMPING_TX_COMPLETION,
 * 1 << 18; the system's header may be older). Bits synack has no source
 * for (hardware, completion) are taken and never stamp, as on Linux with a
 * device that lacks them. */
#define SXP_SOF_MASK 0x7ffffu

bool sxp_errq_opt(int level, int name)
{
    return level == SOL_SOCKET &&
           (name == SO_ZEROCOPY || name == SO_TIMESTAMPING_OLD || name == SO_TIMESTAMPING_NEW);
}

/* Lock held; 0 or a positive errno. */
int sxp_errq_setsockopt(struct sxp *p, struct sxp_file *f, int name, const void *val, socklen_t len)
{
    int v;
    if (!val || len < (socklen_t)sizeof v)
        return EINVAL;
    memcpy(&v, val, sizeof v); /* struct so_timestamping starts with the flags */
    if (name == SO_ZEROCOPY) {
        if (v < 0 || v > 1)
            return EINVAL;
        int r = synack_set_zerocopy(p->st, f->h, v != 0);
        return r < 0 ? -r : 0;
    }
    if ((unsigned)v & ~SXP_SOF_MASK)
        return EINVAL;
    int r = synack_set_timestamping(p->st, f->h, (uint32_t)v);
    return r < 0 ? -r : 0;
}

/* Lock held; 0 or a positive errno. *v gets the value. */
int sxp_errq_getsockopt(struct sxp *p, struct sxp_file *f, int name, int *v)
{
    if (name == SO_ZEROCOPY) {
        bool on = false;
        synack_get_zerocopy(p->st, f->h, &on);
        *v = on;
        return 0;
    }
    uint32_t fl = 0;
    synack_get_timestamping(p->st, f->h, &fl);
    *v = (int)fl;
    return 0;
}

/* Linux put_cmsg: appends at *used; what does not fit is cut and flagged
 * MSG_CTRUNC. */
static void put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data, size_t len)
{
    size_t room = msg->msg_control && msg->msg_controllen > *used ? msg->msg_controllen - *used : 0;
    if (room < sizeof(struct cmsghdr)) {
        msg->msg_flags |= MSG_CTRUNC;
        return;
    }
    size_t cmlen = CMSG_LEN(len);
    if (room < cmlen) {
        msg->msg_flags |= MSG_CTRUNC;
        cmlen = room;
    }
    uint8_t *at = (uint8_t *)msg->msg_control + *used;
    struct cmsghdr h = {.cmsg_len = cmlen, .cmsg_level = level, .cmsg_type = type};
    memcpy(at, &h, sizeof h);
    memcpy(at + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
    size_t step = CMSG_SPACE(len) < room ? CMSG_SPACE(len) : room;
    *used += step;
}

/* recvmsg(MSG_ERRQUEUE), Linux inet_recv_error: one notification, 0 bytes
 * of data, its control messages; -EAGAIN when the queue is empty. Lock
 * held. A timestamp carries no packet: Linux loops the sent packet back
 * unless OPT_TSONLY, synack keeps none, so such a read says MSG_TRUNC and
 * returns nothing. */
ssize_t sxp_errq_recv(struct sxp *p, struct sxp_file *f, struct msghdr *msg)
{
    synack_errmsg m;
    int r = synack_errqueue_pop(p->st, f->h, &m);
    if (r < 0)
        return r;
    uint32_t rep = synack_errqueue_reports(p->st, f->h); /* more left: sk_error_report again */
    if (rep != f->errq_reports) {
        f->errq_reports = rep;
        f->wakeups++;
    }
    uint32_t tsflags = 0;
    synack_get_timestamping(p->st, f->h, &tsflags);
    msg->msg_flags = MSG_ERRQUEUE;
    msg->msg_namelen = 0; /* an offender address only for ICMP and local errors */
    size_t used = 0;
    if (m.origin == SYNACK_EE_ORIGIN_TIMESTAMPING) {
        if (!(tsflags & SOF_TIMESTAMPING_OPT_TSONLY))
            msg->msg_flags |= MSG_TRUNC;
        if (tsflags & SOF_TIMESTAMPING_SOFTWARE) { /* __sock_recv_timestamp: ts[0], CLOCK_REALTIME */
            struct scm_timestamping ts;
            memset(&ts, 0, sizeof ts);
            int64_t us = p->cfg.epoch_usecs + (int64_t)(m.when - p->base);
            ts.ts[0].tv_sec = (time_t)(us / 1000000);
            ts.ts[0].tv_nsec = (long)(us % 1000000) * 1000;
            put_cmsg(msg, &used, SOL_SOCKET, SO_TIMESTAMPING_OLD, &ts, sizeof ts);
        }
    }
    /* ip_recv_error / ipv6_recv_error: the error and an offender address
     * (zero: none), per the socket's family */
    struct {
        struct sock_extended_err ee;
        struct sockaddr_in6 offender;
    } e;
    memset(&e, 0, sizeof e);
    e.ee.ee_errno = (uint32_t)m.err;
    e.ee.ee_origin = m.origin;
    e.ee.ee_code = m.code;
    e.ee.ee_info = m.info;
    e.ee.ee_data = m.data;
    bool v6 = f->domain == AF_INET6;
    size_t n = sizeof e.ee + (v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    put_cmsg(msg, &used, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &e, n);
    msg->msg_controllen = used;
    return 0;
}
