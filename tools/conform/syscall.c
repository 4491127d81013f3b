/* Socket calls of a script, with packetdrill's conventions: `...` fills in
 * the obvious (the stack's address for bind, the peer's for connect, a
 * zero-filled buffer), `[n]` is an int (or socklen_t) pointer whose value
 * is checked after the call, descriptors are the script's numbers mapped to
 * the live ones the library returned. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>

#include "symbols.h"
#include "syscall.h"

enum {
    SC_SOCKET, SC_BIND, SC_LISTEN, SC_ACCEPT, SC_CONNECT, SC_READ, SC_READV, SC_RECV,
    SC_RECVFROM, SC_RECVMSG, SC_WRITE, SC_WRITEV, SC_SEND, SC_SENDTO, SC_SENDMSG, SC_FCNTL,
    SC_IOCTL, SC_CLOSE, SC_SHUTDOWN, SC_GETSOCKOPT, SC_SETSOCKOPT, SC_POLL, SC_EPOLL_CREATE,
    SC_EPOLL_CTL, SC_EPOLL_WAIT, SC_PIPE, SC_SPLICE,
};

static const struct { const char *name; int which, nargs; } calls[] = {
    {"socket", SC_SOCKET, 3}, {"bind", SC_BIND, 3}, {"listen", SC_LISTEN, 2},
    {"accept", SC_ACCEPT, 3}, {"connect", SC_CONNECT, 3}, {"read", SC_READ, 3},
    {"readv", SC_READV, 3}, {"recv", SC_RECV, 4}, {"recvfrom", SC_RECVFROM, 6},
    {"recvmsg", SC_RECVMSG, 3}, {"write", SC_WRITE, 3}, {"writev", SC_WRITEV, 3},
    {"send", SC_SEND, 4}, {"sendto", SC_SENDTO, 6}, {"sendmsg", SC_SENDMSG, 3},
    {"fcntl", SC_FCNTL, -1}, {"ioctl", SC_IOCTL, 3}, {"close", SC_CLOSE, 1},
    {"shutdown", SC_SHUTDOWN, 2}, {"getsockopt", SC_GETSOCKOPT, 5},
    {"setsockopt", SC_SETSOCKOPT, 5}, {"poll", SC_POLL, 3}, {"epoll_create", SC_EPOLL_CREATE, 1},
    {"epoll_ctl", SC_EPOLL_CTL, 4}, {"epoll_wait", SC_EPOLL_WAIT, 4}, {"pipe", SC_PIPE, 1},
    {"splice", SC_SPLICE, 6}, {NULL, 0, 0},
};

/* ---- evaluation ---- */

static bool harness_symbol(const struct runner *r, const char *name, long long *v);

static int eval_int(struct runner *r, const struct event *ev, const struct expr *e, long long *v)
{
    long long a, b;
    switch (e->kind) {
    case EX_INT:
        *v = e->num;
        return 0;
    case EX_SYMBOL:
        if (symbol_value(e->name, v) || harness_symbol(r, e->name, v))
            return 0;
        return run_fail(r, ev, "unknown symbol '%s'", e->name);
    case EX_OR:
        if (eval_int(r, ev, e->item[0], &a) || eval_int(r, ev, e->item[1], &b))
            return -1;
        *v = a | b;
        return 0;
    case EX_CALL:
        if ((!strcmp(e->name, "htons") || !strcmp(e->name, "ntohs")) && e->n == 1) {
            if (eval_int(r, ev, e->item[0], &a))
                return -1;
            *v = htons((uint16_t)a);
            return 0;
        }
        if ((!strcmp(e->name, "htonl") || !strcmp(e->name, "ntohl")) && e->n == 1) {
            if (eval_int(r, ev, e->item[0], &a))
                return -1;
            *v = htonl((uint32_t)a);
            return 0;
        }
        return run_fail(r, ev, "unsupported function '%s' in an integer argument", e->name);
    default:
        return run_fail(r, ev, "expected an integer argument");
    }
}

static int eval_fd(struct runner *r, const struct event *ev, const struct expr *e, long long *v)
{
    if (eval_int(r, ev, e, v))
        return -1;
    *v = run_live_fd(r, (int)*v);
    return 0;
}

/* [n]: the int a pointer argument points at */
static int eval_ptr_int(struct runner *r, const struct event *ev, const struct expr *e,
                        long long *v)
{
    if (e->kind != EX_LIST || e->n != 1)
        return run_fail(r, ev, "expected [value] for a pointer argument");
    return eval_int(r, ev, e->item[0], v);
}

static const struct expr *field(const struct expr *st, const char *name)
{
    for (int i = 0; i < st->n; i++)
        if (st->item[i]->kind == EX_FIELD && !strcmp(st->item[i]->name, name))
            return st->item[i]->item[0];
    return NULL;
}

/* The family of the run's sockets: AF_INET6 in the ipv6 and
 * ipv4-mapped-ipv6 modes (packetdrill's socket_domain). */
static int sc_domain(const struct runner *r)
{
    return r->s->opts.ip_version == 4 ? AF_INET : AF_INET6;
}

static int sockaddr_for(struct runner *r, const struct event *ev, const struct expr *e, bool local,
                        struct sc_call *c)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&c->addr;
    memset(&c->addr, 0, sizeof c->addr);
    c->addrlen = sizeof *sin;
    if (e->kind == EX_NULL) {
        c->addr_null = true;
        return 0;
    }
    sin->sin_family = AF_INET;
    if (e->kind == EX_SYMBOL || e->kind == EX_INT) {
        /* a bare family (AF_UNSPEC): the rest zero */
        long long fam;
        if (eval_int(r, ev, e, &fam))
            return -1;
        sin->sin_family = (sa_family_t)fam;
        return 0;
    }
    if (e->kind == EX_ELLIPSIS) {
        uint16_t port = htons((uint16_t)(local ? r->conn.bind_port : r->conn.connect_port));
        const uint8_t *ip = local ? r->conn.local_ip : r->conn.remote_ip;
        if (sc_domain(r) == AF_INET6) {
            /* packetdrill's IPv6 and ipv4-mapped-ipv6 runs: a sockaddr_in6,
             * IPv4 addresses as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) */
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->addr;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = port;
            if (r->conn.ipv == 6) {
                memcpy(s6->sin6_addr.s6_addr, ip, 16);
            } else {
                s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
                memcpy(s6->sin6_addr.s6_addr + 12, ip, 4);
            }
            c->addrlen = sizeof *s6;
            return 0;
        }
        sin->sin_port = port;
        memcpy(&sin->sin_addr.s_addr, ip, 4);
        return 0;
    }
    if (e->kind != EX_STRUCT)
        return run_fail(r, ev, "expected ... or {sa_family=..., sin_port=..., sin_addr=...}");
    long long v;
    const struct expr *f;
    if ((f = field(e, "sa_family")) || (f = field(e, "sin_family"))) {
        if (eval_int(r, ev, f, &v))
            return -1;
        sin->sin_family = (sa_family_t)v;
    }
    if ((f = field(e, "sin_port"))) {
        if (eval_int(r, ev, f, &v))
            return -1;
        sin->sin_port = (in_port_t)v;
    }
    if ((f = field(e, "sin_addr"))) {
        if (f->kind == EX_CALL && !strcmp(f->name, "inet_addr") && f->n == 1 &&
            f->item[0]->kind == EX_STRING) {
            if (inet_pton(AF_INET, f->item[0]->name, &sin->sin_addr) != 1)
                return run_fail(r, ev, "bad address \"%s\"", f->item[0]->name);
        } else {
            if (eval_int(r, ev, f, &v))
                return -1;
            sin->sin_addr.s_addr = (in_addr_t)v;
        }
    }
    return 0;
}

static int buffer_for(struct runner *r, const struct event *ev, const struct expr *e, size_t len,
                      struct sc_call *c)
{
    if (e->kind == EX_NULL) {
        c->buf = NULL;
        return 0;
    }
    if (e->kind != EX_ELLIPSIS)
        return run_fail(r, ev, "expected ... or NULL for a buffer");
    if (len > (64u << 20))
        return run_fail(r, ev, "buffer of %zu bytes is too large", len);
    c->buf = calloc(1, len ? len : 1);
    if (!c->buf)
        return run_fail(r, ev, "out of memory");
    c->buflen = len;
    return 0;
}

/* [{iov_base=..., iov_len=N}, ...] */
static int iov_for(struct runner *r, const struct event *ev, const struct expr *e,
                   struct sc_call *c)
{
    if (e->kind == EX_NULL)
        return 0;
    if (e->kind != EX_LIST || e->n > SC_MAX_IOV)
        return run_fail(r, ev, "expected [{iov_base=..., iov_len=N}, ...] (at most %d)",
                        SC_MAX_IOV);
    size_t total = 0;
    long long lens[SC_MAX_IOV];
    for (int i = 0; i < e->n; i++) {
        const struct expr *it = e->item[i];
        const struct expr *l = it->kind == EX_STRUCT ? field(it, "iov_len") : NULL;
        /* positional {base, len}, as in [{..., 40}] */
        if (!l && it->kind == EX_STRUCT && it->n == 2 && it->item[1]->kind != EX_FIELD)
            l = it->item[1];
        if (!l)
            return run_fail(r, ev, "iovec without iov_len");
        if (eval_int(r, ev, l, &lens[i]) || lens[i] < 0)
            return -1;
        total += (size_t)lens[i];
    }
    if (buffer_for(r, ev, &(struct expr){.kind = EX_ELLIPSIS}, total, c))
        return -1;
    size_t off = 0;
    for (int i = 0; i < e->n; i++) {
        c->iov[i].iov_base = (char *)c->buf + off;
        c->iov[i].iov_len = (size_t)lens[i];
        off += (size_t)lens[i];
    }
    c->iovcnt = e->n;
    return 0;
}

/* The harness's per-family symbols (google/packetdrill run_all.py passes
 * them with -D): the level and type of the error queue's control message,
 * IP's over IPv4, IPv6's over IPv6 and ipv4-mapped-ipv6 (an AF_INET6
 * socket reads IPV6_RECVERR: ipv6_recv_error). A -D of the same name wins,
 * being substituted before the script is parsed. */
static bool harness_symbol(const struct runner *r, const char *name, long long *v)
{
    bool v4 = r->s->opts.ip_version == 4;
    if (!strcmp(name, "CMSG_LEVEL_IP")) {
        *v = v4 ? IPPROTO_IP : IPPROTO_IPV6;
        return true;
    }
    if (!strcmp(name, "CMSG_TYPE_RECVERR")) {
        *v = v4 ? IP_RECVERR : IPV6_RECVERR;
        return true;
    }
    return false;
}

static const char *const ee_fields[6] = {"ee_errno", "ee_origin", "ee_type", "ee_code", "ee_info", "ee_data"};

/* cmsg_data={ee_errno=..., ..., ee_data=...} (struct sock_extended_err, which
 * ip(v6)_recv_error follows with the offender's sockaddr: packetdrill sizes
 * it by cmsg_level) or {scm_sec=S, scm_nsec=N} (ts[0] of struct
 * scm_timestamping, in script time). */
static int cmsg_data_for(struct runner *r, const struct event *ev, const struct expr *da, struct sc_cmsg_expect *x)
{
    if (da->kind == EX_STRUCT && field(da, "ee_errno")) {
        x->kind = SC_CMSG_EE;
        for (int k = 0; k < 6; k++) {
            const struct expr *fe = field(da, ee_fields[k]);
            if (!fe)
                return run_fail(r, ev, "sock_extended_err without %s", ee_fields[k]);
            if (eval_int(r, ev, fe, &x->ee[k]))
                return -1;
        }
        x->len = sizeof(struct sock_extended_err) +
                 (x->level == IPPROTO_IP ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
        return 0;
    }
    if (da->kind == EX_STRUCT && (field(da, "scm_sec") || field(da, "scm_nsec"))) {
        long long sec = 0, nsec = 0;
        x->kind = SC_CMSG_TS;
        if ((field(da, "scm_sec") && eval_int(r, ev, field(da, "scm_sec"), &sec)) ||
            (field(da, "scm_nsec") && eval_int(r, ev, field(da, "scm_nsec"), &nsec)))
            return -1;
        x->ts_usecs = sec * 1000000 + nsec / 1000;
        x->len = sizeof(struct scm_timestamping);
        return 0;
    }
    long long d;
    if (eval_int(r, ev, da, &d))
        return -1;
    x->kind = SC_CMSG_INT;
    x->data = (int)d;
    x->len = sizeof(int);
    return 0;
}

/* msg_control=[{cmsg_level=L, cmsg_type=T, cmsg_data=D}, ...]. recvmsg gets
 * room for exactly these (packetdrill sizes the buffer from the script) and
 * sc_check compares what comes back; sendmsg passes them (ints only). */
static int cmsgs_for(struct runner *r, const struct event *ev, const struct expr *e, bool out,
                     struct sc_call *c)
{
    if (e->n > SC_MAX_VEC)
        return run_fail(r, ev, "at most %d control messages", SC_MAX_VEC);
    memset(&c->ctl, 0, sizeof c->ctl);
    c->msg.msg_control = c->ctl.b;
    c->msg.msg_controllen = sizeof c->ctl.b;
    struct cmsghdr *cm = e->n ? CMSG_FIRSTHDR(&c->msg) : NULL;
    size_t room = 0;
    for (int i = 0; i < e->n; i++) {
        const struct expr *it = e->item[i];
        const struct expr *lv = it->kind == EX_STRUCT ? field(it, "cmsg_level") : NULL;
        const struct expr *ty = it->kind == EX_STRUCT ? field(it, "cmsg_type") : NULL;
        const struct expr *da = it->kind == EX_STRUCT ? field(it, "cmsg_data") : NULL;
        long long l, t;
        if (!lv || !ty || !da)
            return run_fail(r, ev, "expected {cmsg_level=..., cmsg_type=..., cmsg_data=...}");
        if (eval_int(r, ev, lv, &l) || eval_int(r, ev, ty, &t))
            return -1;
        struct sc_cmsg_expect *x = &c->cmsg_expect[i];
        memset(x, 0, sizeof *x);
        x->level = (int)l;
        x->type = (int)t;
        if (cmsg_data_for(r, ev, da, x))
            return -1;
        room += CMSG_SPACE(x->len);
        if (!out) {
            if (x->kind != SC_CMSG_INT)
                return run_fail(r, ev, "sendmsg passes int control messages only");
            int v = x->data;
            cm->cmsg_level = (int)l;
            cm->cmsg_type = (int)t;
            cm->cmsg_len = CMSG_LEN(sizeof v);
            memcpy(CMSG_DATA(cm), &v, sizeof v);
            cm = CMSG_NXTHDR(&c->msg, cm);
        }
    }
    c->msg.msg_controllen = room;
    c->ncmsg = out ? e->n : 0;
    return 0;
}

static int msghdr_for(struct runner *r, const struct event *ev, const struct expr *e, bool out,
                      struct sc_call *c)
{
    if (e->kind != EX_STRUCT)
        return run_fail(r, ev, "expected {msg_name(...)=..., msg_iov(N)=[...], msg_flags=0}");
    for (int i = 0; i < e->n; i++) {
        const struct expr *f = e->item[i];
        if (f->kind != EX_FIELD)
            return run_fail(r, ev, "expected name=value in a msghdr");
        if (!strcmp(f->name, "msg_name")) {
            if (sockaddr_for(r, ev, f->item[0], false, c))
                return -1;
            if (!c->addr_null) {
                c->msg.msg_name = &c->addr;
                c->msg.msg_namelen = c->addrlen;
            }
        } else if (!strcmp(f->name, "msg_iov")) {
            if (iov_for(r, ev, f->item[0], c))
                return -1;
            c->msg.msg_iov = c->iov;
            c->msg.msg_iovlen = (size_t)c->iovcnt;
        } else if (!strcmp(f->name, "msg_flags")) {
            long long v;
            if (eval_int(r, ev, f->item[0], &v))
                return -1;
            c->msg_flags_check = out;
            c->msg_flags_expect = (int)v;
        } else if (!strcmp(f->name, "msg_control") && f->item[0]->kind == EX_LIST) {
            if (cmsgs_for(r, ev, f->item[0], out, c))
                return -1;
        } else if (!strcmp(f->name, "msg_control") || !strcmp(f->name, "msg_controllen")) {
            if (f->item[0]->kind != EX_ELLIPSIS && f->item[0]->kind != EX_NULL &&
                !(f->item[0]->kind == EX_INT && f->item[0]->num == 0))
                return run_fail(r, ev, "msghdr control messages are not supported");
        } else {
            return run_fail(r, ev, "unsupported msghdr field '%s'", f->name);
        }
    }
    return 0;
}

static int optval_for(struct runner *r, const struct event *ev, const struct expr *e, bool get,
                      struct sc_call *c)
{
    long long v;
    if (e->kind == EX_LIST && e->n == 1) {
        if (eval_int(r, ev, e->item[0], &v))
            return -1;
        c->ival = get ? 0 : (int)v;
        c->ival_expect = (int)v;
        c->ival_check = get;
        c->buf = &c->ival;
        return 0;
    }
    if (e->kind == EX_STRUCT && field(e, "onoff")) {
        long long on, lg = 0;
        if (eval_int(r, ev, field(e, "onoff"), &on) ||
            (field(e, "linger") && eval_int(r, ev, field(e, "linger"), &lg)))
            return -1;
        c->lg_expect.onoff = (int)on;
        c->lg_expect.linger = (int)lg;
        if (!get)
            c->lg = c->lg_expect;
        c->lg_check = get;
        c->buf = &c->lg;
        return 0;
    }
    if (e->kind == EX_STRING) {
        /* the decoded bytes (NULs too: a TCP_FASTOPEN_KEY is binary) */
        size_t n = e->num > 0 && (size_t)e->num < sizeof c->str ? (size_t)e->num : strlen(e->name);
        if (n >= sizeof c->str)
            n = sizeof c->str - 1;
        memset(c->str_expect, 0, sizeof c->str_expect);
        memcpy(c->str_expect, e->name, n);
        if (!get)
            memcpy(c->str, c->str_expect, sizeof c->str);
        c->str_check = get;
        c->buf = c->str;
        return 0;
    }
    if (e->kind == EX_NULL) {
        c->buf = NULL;
        return 0;
    }
    return run_fail(r, ev, "unsupported socket option value (expected [n], {onoff=..,linger=..} "
                           "or \"string\")");
}

static int epoll_event_for(struct runner *r, const struct event *ev, const struct expr *e,
                           struct epoll_event *out)
{
    if (e->kind != EX_STRUCT)
        return run_fail(r, ev, "expected {events=..., fd=...}");
    long long v = 0;
    const struct expr *f;
    memset(out, 0, sizeof *out);
    if ((f = field(e, "events"))) {
        if (eval_int(r, ev, f, &v))
            return -1;
        out->events = (uint32_t)v;
    }
    /* the data word is opaque to the stack: keep the script's numbers */
    if ((f = field(e, "fd"))) {
        if (eval_int(r, ev, f, &v))
            return -1;
        out->data.fd = (int)v;
    } else if ((f = field(e, "ptr")) || (f = field(e, "u64"))) {
        if (eval_int(r, ev, f, &v))
            return -1;
        out->data.u64 = (uint64_t)v;
    } else if ((f = field(e, "u32"))) {
        if (eval_int(r, ev, f, &v))
            return -1;
        out->data.u32 = (uint32_t)v;
    }
    return 0;
}

int sc_prepare(struct runner *r, const struct event *ev, struct sc_call *c)
{
    const struct syscall_spec *sc = &ev->sc;
    memset(c, 0, sizeof *c);
    c->which = -1;
    for (int i = 0; calls[i].name; i++)
        if (!strcmp(calls[i].name, sc->name)) {
            c->which = calls[i].which;
            if (calls[i].nargs >= 0 && calls[i].nargs != sc->narg)
                return run_fail(r, ev, "%s takes %d arguments, the script gives %d", sc->name,
                                calls[i].nargs, sc->narg);
        }
    if (c->which < 0)
        return run_fail(r, ev, "unsupported system call '%s'", sc->name);
    if (eval_int(r, ev, sc->result, &c->expect_ret))
        return -1;
    c->expect_errno = -1;
    if (sc->errno_name) {
        c->expect_errno = errno_value(sc->errno_name);
        if (c->expect_errno < 0)
            return run_fail(r, ev, "unknown errno name '%s'", sc->errno_name);
    }
    struct expr *const *a = sc->arg;
    long long v;
    switch (c->which) {
    case SC_SOCKET:
        if (a[0]->kind == EX_ELLIPSIS)
            c->a[0] = sc_domain(r);
        else if (eval_int(r, ev, a[0], &c->a[0]))
            return -1;
        if (eval_int(r, ev, a[1], &c->a[1]) || eval_int(r, ev, a[2], &c->a[2]))
            return -1;
        return 0;
    case SC_BIND:
    case SC_CONNECT:
        if (eval_fd(r, ev, a[0], &c->a[0]) ||
            sockaddr_for(r, ev, a[1], c->which == SC_BIND, c))
            return -1;
        if (a[2]->kind != EX_ELLIPSIS) {
            if (eval_int(r, ev, a[2], &v))
                return -1;
            c->addrlen = (socklen_t)v;
        }
        return 0;
    case SC_LISTEN:
    case SC_SHUTDOWN:
        return eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[1], &c->a[1]) ? -1 : 0;
    case SC_ACCEPT:
        if (eval_fd(r, ev, a[0], &c->a[0]))
            return -1;
        c->addr_null = a[1]->kind == EX_NULL;
        c->addrlen_null = a[2]->kind == EX_NULL;
        c->addrlen_out = sizeof c->addr;
        return 0;
    case SC_READ:
    case SC_WRITE:
    case SC_RECV:
    case SC_SEND:
    case SC_RECVFROM:
    case SC_SENDTO:
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[2], &c->a[2]))
            return -1;
        if (c->a[2] < 0)
            return run_fail(r, ev, "negative length");
        if (buffer_for(r, ev, a[1], (size_t)c->a[2], c))
            return -1;
        if (c->which != SC_READ && c->which != SC_WRITE && eval_int(r, ev, a[3], &c->a[3]))
            return -1;
        if (c->which == SC_SENDTO) {
            if (sockaddr_for(r, ev, a[4], false, c))
                return -1;
            if (a[5]->kind != EX_ELLIPSIS) {
                if (eval_int(r, ev, a[5], &v))
                    return -1;
                c->addrlen = (socklen_t)v;
            }
        }
        if (c->which == SC_RECVFROM) {
            c->addr_null = a[4]->kind == EX_NULL;
            c->addrlen_null = a[5]->kind == EX_NULL;
            c->addrlen_out = sizeof c->addr;
        }
        return 0;
    case SC_READV:
    case SC_WRITEV:
        if (eval_fd(r, ev, a[0], &c->a[0]) || iov_for(r, ev, a[1], c) ||
            eval_int(r, ev, a[2], &c->a[2]))
            return -1;
        return 0;
    case SC_SENDMSG:
    case SC_RECVMSG:
        if (eval_fd(r, ev, a[0], &c->a[0]) ||
            msghdr_for(r, ev, a[1], c->which == SC_RECVMSG, c) ||
            eval_int(r, ev, a[2], &c->a[2]))
            return -1;
        return 0;
    case SC_FCNTL:
        if (sc->narg < 2 || sc->narg > 3)
            return run_fail(r, ev, "fcntl takes 2 or 3 arguments");
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[1], &c->a[1]) ||
            (sc->narg == 3 && eval_int(r, ev, a[2], &c->a[2])))
            return -1;
        c->a[3] = sc->narg;
        return 0;
    case SC_IOCTL:
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[1], &c->a[1]))
            return -1;
        if (a[2]->kind == EX_LIST) {
            if (eval_ptr_int(r, ev, a[2], &v))
                return -1;
            c->ival_expect = (int)v;
            c->ival_check = c->a[1] != FIONBIO;
            c->ival = c->ival_check ? -1 : (int)v;
        } else {
            return run_fail(r, ev, "ioctl: expected [n] as the third argument");
        }
        return 0;
    case SC_CLOSE:
        if (eval_int(r, ev, a[0], &c->a[5]))
            return -1;
        c->a[0] = run_live_fd(r, (int)c->a[5]);
        return 0;
    case SC_GETSOCKOPT:
    case SC_SETSOCKOPT:
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[1], &c->a[1]) ||
            eval_int(r, ev, a[2], &c->a[2]) ||
            optval_for(r, ev, a[3], c->which == SC_GETSOCKOPT, c))
            return -1;
        if (c->which == SC_GETSOCKOPT) {
            if (a[4]->kind == EX_LIST) {
                if (eval_ptr_int(r, ev, a[4], &v))
                    return -1;
                c->optlen = c->optlen_expect = (socklen_t)v;
                c->optlen_check = true;
                if (c->str_check || (c->buf == c->str))
                    c->optlen = sizeof c->str; /* room for the answer */
            } else if (a[4]->kind == EX_NULL) {
                c->optlen = 0;
            } else {
                return run_fail(r, ev, "getsockopt: expected [len] as the optlen argument");
            }
        } else {
            if (eval_int(r, ev, a[4], &v))
                return -1;
            c->optlen = (socklen_t)v;
        }
        return 0;
    case SC_POLL:
        if (a[0]->kind != EX_LIST || a[0]->n > SC_MAX_VEC)
            return run_fail(r, ev, "poll: expected [{fd=..., events=..., revents=...}, ...]");
        for (int i = 0; i < a[0]->n; i++) {
            const struct expr *p = a[0]->item[i];
            if (p->kind != EX_STRUCT || !field(p, "fd"))
                return run_fail(r, ev, "poll: each entry needs fd=");
            if (eval_fd(r, ev, field(p, "fd"), &v))
                return -1;
            c->pfd[i].fd = (int)v;
            if (field(p, "events")) {
                if (eval_int(r, ev, field(p, "events"), &v))
                    return -1;
                c->pfd[i].events = (short)v;
            }
            c->revents_expect[i] = -1;
            if (field(p, "revents")) {
                if (eval_int(r, ev, field(p, "revents"), &v))
                    return -1;
                c->revents_expect[i] = (short)v;
            }
        }
        c->npfd = a[0]->n;
        return eval_int(r, ev, a[1], &c->a[1]) || eval_int(r, ev, a[2], &c->a[2]) ? -1 : 0;
    case SC_EPOLL_CREATE:
        return eval_int(r, ev, a[0], &c->a[0]);
    case SC_EPOLL_CTL:
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[1], &c->a[1]) ||
            eval_fd(r, ev, a[2], &c->a[2]))
            return -1;
        if (a[3]->kind == EX_NULL) {
            c->ev_null = true;
            return 0;
        }
        return epoll_event_for(r, ev, a[3], &c->ev[0]);
    case SC_EPOLL_WAIT:
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_int(r, ev, a[2], &c->a[2]) ||
            eval_int(r, ev, a[3], &c->a[3]))
            return -1;
        if (c->a[2] < 0 || c->a[2] > SC_MAX_VEC)
            return run_fail(r, ev, "epoll_wait: maxevents %lld not supported (1..%d)", c->a[2],
                            SC_MAX_VEC);
        if (a[1]->kind == EX_STRUCT) {
            if (epoll_event_for(r, ev, a[1], &c->ev_expect[0]))
                return -1;
            c->nev_expect = 1;
        } else if (a[1]->kind == EX_LIST && a[1]->n <= SC_MAX_VEC) {
            for (int i = 0; i < a[1]->n; i++)
                if (epoll_event_for(r, ev, a[1]->item[i], &c->ev_expect[i]))
                    return -1;
            c->nev_expect = a[1]->n;
        } else if (a[1]->kind != EX_ELLIPSIS) {
            return run_fail(r, ev, "epoll_wait: expected {events=..., fd=...} or [...]");
        }
        return 0;
    case SC_SPLICE: /* splice(in, NULL, out, NULL, len, flags): no offsets (sockets and pipes take none) */
        if (a[1]->kind != EX_NULL || a[3]->kind != EX_NULL)
            return run_fail(r, ev, "splice: only NULL offsets are supported");
        if (eval_fd(r, ev, a[0], &c->a[0]) || eval_fd(r, ev, a[2], &c->a[1]) || eval_int(r, ev, a[4], &c->a[2]) ||
            eval_int(r, ev, a[5], &c->a[3]))
            return -1;
        if (c->a[2] < 0)
            return run_fail(r, ev, "negative length");
        return 0;
    case SC_PIPE:
        if (a[0]->kind != EX_LIST || a[0]->n != 2)
            return run_fail(r, ev, "pipe: expected [rfd, wfd]");
        for (int i = 0; i < 2; i++) {
            if (eval_int(r, ev, a[0]->item[i], &v))
                return -1;
            c->pipe_expect[i] = (int)v;
        }
        return 0;
    }
    return run_fail(r, ev, "unsupported system call '%s'", sc->name);
}

void sc_invoke(struct runner *r, struct sc_call *c)
{
    struct packetdrill_interface *f = r->ifc;
    void *u = f->userdata;
    int fd = (int)c->a[0];
    struct sockaddr *sa = (struct sockaddr *)&c->addr;
    errno = 0;
    long long ret = -1;
    switch (c->which) {
    case SC_SOCKET: ret = f->socket(u, (int)c->a[0], (int)c->a[1], (int)c->a[2]); break;
    case SC_BIND: ret = f->bind(u, fd, c->addr_null ? NULL : sa, c->addrlen); break;
    case SC_CONNECT: ret = f->connect(u, fd, c->addr_null ? NULL : sa, c->addrlen); break;
    case SC_LISTEN: ret = f->listen(u, fd, (int)c->a[1]); break;
    case SC_ACCEPT:
        ret = f->accept(u, fd, c->addr_null ? NULL : sa, c->addrlen_null ? NULL : &c->addrlen_out);
        break;
    case SC_READ: ret = f->read(u, fd, c->buf, (size_t)c->a[2]); break;
    case SC_WRITE: ret = f->write(u, fd, c->buf, (size_t)c->a[2]); break;
    case SC_RECV: ret = f->recv(u, fd, c->buf, (size_t)c->a[2], (int)c->a[3]); break;
    case SC_SEND: ret = f->send(u, fd, c->buf, (size_t)c->a[2], (int)c->a[3]); break;
    case SC_RECVFROM:
        ret = f->recvfrom(u, fd, c->buf, (size_t)c->a[2], (int)c->a[3], c->addr_null ? NULL : sa,
                          c->addrlen_null ? NULL : &c->addrlen_out);
        break;
    case SC_SENDTO:
        ret = f->sendto(u, fd, c->buf, (size_t)c->a[2], (int)c->a[3], c->addr_null ? NULL : sa,
                        c->addrlen);
        break;
    case SC_READV: ret = f->readv(u, fd, c->iov, (int)c->a[2]); break;
    case SC_WRITEV: ret = f->writev(u, fd, c->iov, (int)c->a[2]); break;
    case SC_RECVMSG: ret = f->recvmsg(u, fd, &c->msg, (int)c->a[2]); break;
    case SC_SENDMSG: ret = f->sendmsg(u, fd, &c->msg, (int)c->a[2]); break;
    case SC_FCNTL:
        ret = c->a[3] == 3 ? f->fcntl(u, fd, (int)c->a[1], (int)c->a[2])
                           : f->fcntl(u, fd, (int)c->a[1]);
        break;
    case SC_IOCTL: ret = f->ioctl(u, fd, (unsigned long)c->a[1], &c->ival); break;
    case SC_CLOSE: ret = f->close(u, fd); break;
    case SC_SHUTDOWN: ret = f->shutdown(u, fd, (int)c->a[1]); break;
    case SC_GETSOCKOPT:
        ret = f->getsockopt(u, fd, (int)c->a[1], (int)c->a[2], c->buf, &c->optlen);
        break;
    case SC_SETSOCKOPT:
        ret = f->setsockopt(u, fd, (int)c->a[1], (int)c->a[2], c->buf, c->optlen);
        break;
    case SC_POLL: ret = f->poll(u, c->pfd, (nfds_t)c->npfd, (int)c->a[2]); break;
    case SC_EPOLL_CREATE: ret = f->epoll_create(u, (int)c->a[0]); break;
    case SC_EPOLL_CTL:
        ret = f->epoll_ctl(u, fd, (int)c->a[1], (int)c->a[2], c->ev_null ? NULL : &c->ev[0]);
        break;
    case SC_EPOLL_WAIT: ret = f->epoll_wait(u, fd, c->ev, (int)c->a[2], (int)c->a[3]); break;
    case SC_PIPE: ret = f->pipe(u, c->pipefd); break;
    case SC_SPLICE:
        ret = f->splice(u, fd, NULL, (int)c->a[1], NULL, (size_t)c->a[2], (unsigned)c->a[3]);
        break;
    }
    c->ret = ret;
    c->err = ret < 0 ? errno : 0;
}

static int mismatch(struct runner *r, const struct event *ev, const char *what, long long exp,
                    long long act)
{
    return run_fail(r, ev, "runtime error in %s call: Bad %s: expected: %lld actual: %lld",
                    ev->sc.name, what, exp, act);
}

static int cmsg_ee_check(struct runner *r, const struct event *ev, const struct sc_cmsg_expect *x,
                         const struct cmsghdr *cm)
{
    struct sock_extended_err ee;
    memset(&ee, 0, sizeof ee);
    memcpy(&ee, CMSG_DATA(cm), cm->cmsg_len >= CMSG_LEN(sizeof ee) ? sizeof ee : 0);
    long long act[6] = {ee.ee_errno, ee.ee_origin, ee.ee_type, ee.ee_code, ee.ee_info, ee.ee_data};
    for (int k = 0; k < 6; k++)
        if ((long long)(x->ee[k] & (k == 0 || k >= 4 ? 0xffffffffll : 0xffll)) != act[k])
            return run_fail(r, ev, "runtime error in recvmsg call: Bad %s in sock_extended_err: expected: %lld actual: %lld",
                            ee_fields[k], x->ee[k], act[k]);
    return 0;
}

/* packetdrill scm_timestamping_expect_eq: a non-zero expected time is
 * script time; the stamp must be within --tolerance_usecs of it. */
static int cmsg_ts_check(struct runner *r, const struct event *ev, const struct sc_cmsg_expect *x,
                         const struct cmsghdr *cm)
{
    struct scm_timestamping ts;
    memset(&ts, 0, sizeof ts);
    memcpy(&ts, CMSG_DATA(cm), cm->cmsg_len >= CMSG_LEN(sizeof ts) ? sizeof ts : 0);
    if (!x->ts_usecs)
        return 0;
    long long exp = r->live_start + x->ts_usecs;
    long long act = (long long)ts.ts[0].tv_sec * 1000000 + ts.ts[0].tv_nsec / 1000;
    if (llabs(exp - act) > r->s->opts.tolerance_usecs)
        return run_fail(r, ev,
                        "runtime error in recvmsg call: Bad timestamp 0 in scm_timestamping: expected: %.6f "
                        "actual: %.6f sec",
                        x->ts_usecs / 1e6, (act - r->live_start) / 1e6);
    return 0;
}

static int cmsgs_check(struct runner *r, const struct event *ev, struct sc_call *c)
{
    struct cmsghdr *cm = c->msg.msg_controllen ? CMSG_FIRSTHDR(&c->msg) : NULL;
    for (int i = 0; i < c->ncmsg; i++, cm = cm ? CMSG_NXTHDR(&c->msg, cm) : NULL) {
        const struct sc_cmsg_expect *x = &c->cmsg_expect[i];
        if (!cm)
            return run_fail(r, ev, "runtime error in recvmsg call: expected %d control messages, got %d", c->ncmsg, i);
        if (cm->cmsg_level != x->level)
            return mismatch(r, ev, "recvmsg cmsg_level", x->level, cm->cmsg_level);
        if (cm->cmsg_type != x->type)
            return mismatch(r, ev, "recvmsg cmsg_type", x->type, cm->cmsg_type);
        if (x->kind != SC_CMSG_INT && cm->cmsg_len != CMSG_LEN(x->len))
            return mismatch(r, ev, "recvmsg cmsg_len", (long long)CMSG_LEN(x->len), (long long)cm->cmsg_len);
        if (x->kind == SC_CMSG_EE) {
            if (cmsg_ee_check(r, ev, x, cm))
                return -1;
            continue;
        }
        if (x->kind == SC_CMSG_TS) {
            if (cmsg_ts_check(r, ev, x, cm))
                return -1;
            continue;
        }
        int v = 0;
        if (cm->cmsg_len >= CMSG_LEN(sizeof v))
            memcpy(&v, CMSG_DATA(cm), sizeof v);
        if (v != x->data)
            return mismatch(r, ev, "recvmsg cmsg_data", x->data, v);
    }
    return 0;
}

int sc_check(struct runner *r, const struct event *ev, struct sc_call *c)
{
    const char *name = ev->sc.name;
    /* a new descriptor: the script's number names whatever the library gave */
    bool new_fd = c->which == SC_SOCKET || c->which == SC_ACCEPT || c->which == SC_EPOLL_CREATE;
    if (new_fd && c->ret >= 0 && c->expect_ret >= 0) {
        run_map_fd(r, (int)c->expect_ret, (int)c->ret);
        return 0;
    }
    if (c->ret != c->expect_ret)
        return run_fail(r, ev,
                        "runtime error in %s call: Expected result %lld but got %lld with errno "
                        "%d (%s)",
                        name, c->expect_ret, c->ret, c->err, strerror(c->err));
    if (c->expect_errno >= 0 && c->err != c->expect_errno)
        return run_fail(r, ev, "runtime error in %s call: Expected errno %d (%s) but got %d (%s)",
                        name, c->expect_errno, strerror(c->expect_errno), c->err,
                        strerror(c->err));
    if (c->ret < 0)
        return 0;
    switch (c->which) {
    case SC_SOCKET:
    case SC_ACCEPT:
    case SC_EPOLL_CREATE:
        run_map_fd(r, (int)c->expect_ret, (int)c->ret);
        break;
    case SC_PIPE:
        run_map_fd(r, c->pipe_expect[0], c->pipefd[0]);
        run_map_fd(r, c->pipe_expect[1], c->pipefd[1]);
        break;
    case SC_CLOSE:
        run_unmap_fd(r, (int)c->a[5]);
        break;
    case SC_IOCTL:
    case SC_GETSOCKOPT:
        if (c->ival_check && c->ival != c->ival_expect)
            return mismatch(r, ev, c->which == SC_IOCTL ? "ioctl value" : "getsockopt optval",
                            c->ival_expect, c->ival);
        if (c->lg_check && (c->lg.onoff != c->lg_expect.onoff || c->lg.linger != c->lg_expect.linger))
            return run_fail(r, ev,
                            "runtime error in getsockopt call: Bad linger: expected: "
                            "{onoff=%d, linger=%d} actual: {onoff=%d, linger=%d}",
                            c->lg_expect.onoff, c->lg_expect.linger, c->lg.onoff, c->lg.linger);
        if (c->str_check && strncmp(c->str, c->str_expect, sizeof c->str))
            return run_fail(r, ev,
                            "runtime error in getsockopt call: Bad optval: expected: \"%s\" "
                            "actual: \"%.*s\"",
                            c->str_expect, (int)sizeof c->str, c->str);
        if (c->optlen_check && c->optlen != c->optlen_expect)
            return mismatch(r, ev, "getsockopt optlen", c->optlen_expect, c->optlen);
        break;
    case SC_RECVMSG:
        if (c->msg_flags_check && c->msg.msg_flags != c->msg_flags_expect)
            return mismatch(r, ev, "recvmsg msg_flags", c->msg_flags_expect, c->msg.msg_flags);
        if (cmsgs_check(r, ev, c))
            return -1;
        break;
    case SC_POLL:
        for (int i = 0; i < c->npfd; i++)
            if (c->revents_expect[i] >= 0 && c->pfd[i].revents != c->revents_expect[i])
                return mismatch(r, ev, "poll revents", c->revents_expect[i], c->pfd[i].revents);
        break;
    case SC_EPOLL_WAIT:
        for (int i = 0; i < c->nev_expect && i < c->ret; i++) {
            if (c->ev[i].events != c->ev_expect[i].events)
                return mismatch(r, ev, "epoll_wait events", c->ev_expect[i].events,
                                c->ev[i].events);
            if (c->ev[i].data.u64 != c->ev_expect[i].data.u64)
                return mismatch(r, ev, "epoll_wait data", (long long)c->ev_expect[i].data.u64,
                                (long long)c->ev[i].data.u64);
        }
        break;
    default:
        break;
    }
    return 0;
}

void sc_release(struct sc_call *c)
{
    bool owned = c->buf && c->buf != &c->ival && c->buf != &c->lg && c->buf != c->str;
    if (owned)
        free(c->buf);
    c->buf = NULL;
}
