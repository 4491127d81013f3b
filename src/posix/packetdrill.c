/* libsynack_packetdrill.so: packetdrill's shared-object interface over the
 * POSIX layer. packetdrill_interface_init is the one exported symbol; the
 * time contract is in packetdrill.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "packetdrill.h"
#include "posix.h"

#define UD(u) ((struct sxp *)(u))

static void pd_free(void *u) { sxp_free(UD(u)); }
static int pd_socket(void *u, int d, int t, int pr) { return sxp_socket(UD(u), d, t, pr); }
static int pd_bind(void *u, int fd, const struct sockaddr *a, socklen_t l) { return sxp_bind(UD(u), fd, a, l); }
static int pd_listen(void *u, int fd, int b) { return sxp_listen(UD(u), fd, b); }
static int pd_accept(void *u, int fd, struct sockaddr *a, socklen_t *l) { return sxp_accept(UD(u), fd, a, l); }
static int pd_connect(void *u, int fd, const struct sockaddr *a, socklen_t l)
{
    return sxp_connect(UD(u), fd, a, l);
}
static ssize_t pd_read(void *u, int fd, void *b, size_t n) { return sxp_read(UD(u), fd, b, n); }
static ssize_t pd_readv(void *u, int fd, const struct iovec *v, int n) { return sxp_readv(UD(u), fd, v, n); }

static ssize_t pd_recvfrom(void *u, int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *al)
{
    struct iovec v = {.iov_base = b, .iov_len = n};
    struct msghdr m = {.msg_name = a, .msg_namelen = al ? *al : 0, .msg_iov = &v, .msg_iovlen = 1};
    ssize_t r = sxp_recvmsg(UD(u), fd, &m, fl);
    if (r >= 0 && al)
        *al = m.msg_namelen;
    return r;
}
static ssize_t pd_recv(void *u, int fd, void *b, size_t n, int fl) { return pd_recvfrom(u, fd, b, n, fl, NULL, NULL); }
static ssize_t pd_recvmsg(void *u, int fd, struct msghdr *m, int fl) { return sxp_recvmsg(UD(u), fd, m, fl); }
static ssize_t pd_write(void *u, int fd, const void *b, size_t n) { return sxp_write(UD(u), fd, b, n); }
static ssize_t pd_writev(void *u, int fd, const struct iovec *v, int n) { return sxp_writev(UD(u), fd, v, n); }

static ssize_t pd_sendto(void *u, int fd, const void *b, size_t n, int fl, const struct sockaddr *a, socklen_t al)
{
    struct iovec v = {.iov_base = (void *)b, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)a, .msg_namelen = al, .msg_iov = &v, .msg_iovlen = 1};
    return sxp_sendmsg(UD(u), fd, &m, fl);
}
static ssize_t pd_send(void *u, int fd, const void *b, size_t n, int fl) { return pd_sendto(u, fd, b, n, fl, NULL, 0); }
static ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *m, int fl) { return sxp_sendmsg(UD(u), fd, m, fl); }

static int pd_fcntl(void *u, int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long); /* every command used here takes an int or none */
    va_end(ap);
    return sxp_fcntl(UD(u), fd, cmd, arg);
}

static int pd_ioctl(void *u, int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return sxp_ioctl(UD(u), fd, req, arg);
}

static int pd_close(void *u, int fd) { return sxp_close(UD(u), fd); }
static int pd_shutdown(void *u, int fd, int how) { return sxp_shutdown(UD(u), fd, how); }
static int pd_getsockopt(void *u, int fd, int lv, int nm, void *v, socklen_t *l)
{
    return sxp_getsockopt(UD(u), fd, lv, nm, v, l);
}
static int pd_setsockopt(void *u, int fd, int lv, int nm, const void *v, socklen_t l)
{
    return sxp_setsockopt(UD(u), fd, lv, nm, v, l);
}
static int pd_poll(void *u, struct pollfd *f, nfds_t n, int t) { return sxp_poll(UD(u), f, n, t); }
static int pd_netdev_send(void *u, const void *b, size_t n) { return sxp_input(UD(u), b, n); }
static int pd_netdev_receive(void *u, void *b, size_t *n, long long *t) { return sxp_output(UD(u), b, n, t); }

static int pd_usleep(void *u, useconds_t us)
{
    sxp_advance(UD(u), us);
    return 0;
}

static int pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
    if (!tv)
        return 0;
    int64_t now = sxp_clock(UD(u));
    tv->tv_sec = (time_t)(now / 1000000);
    tv->tv_usec = (suseconds_t)(now % 1000000);
    return 0;
}

static int pd_epoll_create(void *u, int size) { return sxp_epoll_create(UD(u), size); }
static int pd_epoll_ctl(void *u, int ep, int op, int fd, struct epoll_event *e)
{
    return sxp_epoll_ctl(UD(u), ep, op, fd, e);
}
static int pd_epoll_wait(void *u, int ep, struct epoll_event *e, int m, int t)
{
    return sxp_epoll_wait(UD(u), ep, e, m, t);
}
static int pd_pipe(void *u, int fds[2]) { return sxp_pipe(UD(u), fds); }
static int pd_splice(void *u, int in, loff_t *oi, int out, loff_t *oo, size_t len, unsigned int fl)
{
    return (int)sxp_splice(UD(u), in, oi, out, oo, len, fl);
}

static bool parse_ip(const char *v, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, v, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* Linux's tcp_fastopen_key text: four 32-bit hex words joined by '-' (a
 * second key after ',' is the backup, not modelled); the key's bytes are
 * the words little-endian (proc_tcp_fastopen_key), which is what makes
 * Linux's cookies. */
static bool parse_fo_key(const char *v, uint8_t key[16])
{
    unsigned int w[4];
    char tail;
    int n = sscanf(v, "%x-%x-%x-%x%c", &w[0], &w[1], &w[2], &w[3], &tail);
    if (n != 4 && !(n == 5 && (tail == ':' || tail == ',')))
        return false;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            key[4 * i + j] = (uint8_t)(w[i] >> (8 * j));
    return true;
}

/* --so_flags: words separated by spaces or commas; see packetdrill.h. */
static void parse_flags(const char *flags, struct sxp_config *c)
{
    if (!flags)
        return;
    char *copy = strdup(flags);
    if (!copy)
        return;
    char *save = NULL;
    for (char *w = strtok_r(copy, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
        char *eq = strchr(w, '=');
        char *v = eq ? eq + 1 : NULL;
        if (eq)
            *eq = 0;
        bool ok = true;
        if (!strcmp(w, "nowait") && !v)
            c->recv_nowait = true;
        else if ((!strcmp(w, "local_ip6") || !strcmp(w, "local_ip")) && v && strchr(v, ':'))
            ok = inet_pton(AF_INET6, v, c->local_ip6) == 1; /* the IPv6 address */
        else if (!strcmp(w, "local_ip") && v)
            ok = parse_ip(v, &c->local_ip);
        else if (!strcmp(w, "prefix6_len") && v)
            c->prefix6_len = (uint8_t)strtoul(v, NULL, 10), ok = c->prefix6_len <= 128;
        else if (!strcmp(w, "no_ip6") && !v)
            c->no_ip6 = true;
        else if (!strcmp(w, "gateway_ip") && v)
            ok = parse_ip(v, &c->gateway_ip);
        else if (!strcmp(w, "prefix_len") && v)
            c->prefix_len = (uint8_t)strtoul(v, NULL, 10), ok = c->prefix_len <= 32;
        else if (!strcmp(w, "mtu") && v)
            c->mtu = (uint32_t)strtoul(v, NULL, 10), ok = c->mtu >= 68;
        else if (!strcmp(w, "seed") && v)
            c->seed = strtoull(v, NULL, 0);
        else if (!strcmp(w, "recv_wait_usecs") && v)
            c->recv_wait_usecs = strtoull(v, NULL, 10);
        else if (!strcmp(w, "sysctl:net.ipv4.tcp_fastopen") && v)
            c->fastopen = (uint32_t)strtoul(v, NULL, 0);
        else if (!strcmp(w, "sysctl:net.ipv4.tcp_notsent_lowat") && v)
            c->notsent_lowat = (uint32_t)strtoul(v, NULL, 0); /* Linux's default UINT_MAX: no mark */
        else if (!strcmp(w, "sysctl:net.ipv4.tcp_timestamps") && v)
            c->no_timestamps = strtoul(v, NULL, 0) == 0;
        else if (!strcmp(w, "sysctl:net.ipv4.tcp_ecn") && v) { /* RFC 3168: 0 off, 1 on, 2 passive */
            unsigned long e = strtoul(v, NULL, 0);
            ok = c->ecn_set = e <= SYNACK_ECN_PASSIVE;
            c->ecn = (uint8_t)e;
        }
        else if (!strcmp(w, "sysctl:net.ipv4.tcp_min_tso_segs") && v) { /* Linux: 1..255 */
            unsigned long m = strtoul(v, NULL, 0);
            ok = m >= 1 && m <= 255;
            c->min_tso_segs = ok ? (uint8_t)m : 0;
        }
        else if (!strcmp(w, "sysctl:net.ipv4.tcp_fastopen_key") && v)
            ok = c->fastopen_key_set = parse_fo_key(v, c->fastopen_key);
        else if (!strcmp(w, "qdisc:drop") || !strcmp(w, "qdisc:none"))
            c->tx_refuse = !strcmp(w, "qdisc:drop");
        else
            fprintf(stderr, "libsynack_packetdrill: ignoring unknown so_flag '%s'%s\n", w,
                    strcmp(w, "realtime") ? "" : " (real-time mode is not implemented; time stays virtual)");
        if (!ok)
            fprintf(stderr, "libsynack_packetdrill: bad value for so_flag '%s'; default kept\n", w);
    }
    free(copy);
}

/* synack's one addition to packetdrill's interface, for a runner that finds
 * it with dlsym: what a script's timed backquoted command would have changed
 * had the stack under test been the kernel (`sysctl -q net.ipv4.tcp_fastopen=0`
 * mid-script, `ip tcp_metrics flush`). words: "sysctl:NAME=VALUE" as in
 * --so_flags, "tcp_metrics:flush", and "qdisc:drop" / "qdisc:none" (`tc qdisc
 * add dev tun0 root pfifo limit 0` / `tc qdisc delete dev tun0 root`: the
 * device refuses every outgoing packet with ENOBUFS, so netdev_receive sees
 * none, and TCP learns of it as Linux's does from NET_XMIT_DROP). Returns how
 * many it applied; a word it does not take is named on stderr. */
__attribute__((visibility("default"))) int synack_packetdrill_command(void *userdata, const char *words);

int synack_packetdrill_command(void *userdata, const char *words)
{
    if (!userdata || !words)
        return 0;
    char *copy = strdup(words);
    if (!copy)
        return 0;
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        const char *name = !strncmp(w, "sysctl:", 7) ? w + 7 : w;
        const char *v = NULL;
        if (eq) {
            *eq = 0;
            v = eq + 1;
        } else if (!strcmp(w, "tcp_metrics:flush")) {
            name = "tcp_metrics", v = "flush";
        } else if (!strncmp(w, "qdisc:", 6)) {
            name = "qdisc", v = w + 6;
        }
        if (sxp_sysctl(UD(userdata), name, v) == 0)
            n++;
        else
            fprintf(stderr, "libsynack_packetdrill: command '%s' not applied\n", w);
    }
    free(copy);
    return n;
}

__attribute__((visibility("default"))) void packetdrill_interface_init(const char *flags,
                                                                       struct packetdrill_interface *ifc);

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    if (!ifc)
        return;
    struct sxp_config c;
    sxp_config_default(&c);
    parse_flags(flags, &c);
    memset(ifc, 0, sizeof *ifc);
    ifc->userdata = sxp_new(&c);
    if (!ifc->userdata) {
        fprintf(stderr, "libsynack_packetdrill: cannot create the stack\n");
        return;
    }
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
