/* Names the scripts use for constants and errno values, with Linux's values
 * (the scripts are Linux's; the library under test follows Linux's ABI). */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "symbols.h"

#define S(x) {#x, (long long)(x)}

static const struct { const char *name; long long val; } consts[] = {
    S(AF_INET), S(AF_INET6), S(AF_UNSPEC), S(PF_INET), S(PF_INET6),
    S(SOCK_STREAM), S(SOCK_DGRAM), S(SOCK_NONBLOCK), S(SOCK_CLOEXEC),
    S(IPPROTO_TCP), S(IPPROTO_UDP), S(IPPROTO_IP), S(IPPROTO_IPV6), S(IPPROTO_ICMP),
    S(SOL_SOCKET), {"SOL_TCP", IPPROTO_TCP}, {"SOL_IP", IPPROTO_IP}, {"SOL_IPV6", IPPROTO_IPV6},
    S(SO_REUSEADDR), S(SO_REUSEPORT), S(SO_ERROR), S(SO_LINGER), S(SO_RCVBUF), S(SO_SNDBUF),
    S(SO_KEEPALIVE), S(SO_RCVLOWAT), S(SO_SNDLOWAT), S(SO_RCVTIMEO), S(SO_SNDTIMEO), S(SO_TYPE),
    S(SO_DEBUG), S(SO_OOBINLINE), S(SO_MARK), S(SO_TIMESTAMPING), S(SO_ZEROCOPY),
    S(TCP_NODELAY), S(TCP_MAXSEG), S(TCP_CORK), S(TCP_KEEPIDLE), S(TCP_KEEPINTVL),
    S(TCP_KEEPCNT), S(TCP_SYNCNT), S(TCP_LINGER2), S(TCP_DEFER_ACCEPT), S(TCP_WINDOW_CLAMP),
    S(TCP_INFO), S(TCP_QUICKACK), S(TCP_CONGESTION), S(TCP_USER_TIMEOUT),
    S(TCP_NOTSENT_LOWAT), S(TCP_FASTOPEN), S(TCP_FASTOPEN_CONNECT), S(TCP_INQ), S(TCP_CM_INQ),
    S(TCP_FASTOPEN_KEY), S(TCP_REPAIR), S(TCP_THIN_LINEAR_TIMEOUTS),
    S(IP_TOS), S(IP_TTL), S(IP_MTU_DISCOVER), S(IP_PMTUDISC_DONT), S(IP_PMTUDISC_DO),
    S(IP_PMTUDISC_WANT), S(IP_PMTUDISC_PROBE), {"IP_PMTUDISC_INTERFACE", 4}, {"IP_PMTUDISC_OMIT", 5},
    S(IP_MTU), S(IP_FREEBIND), S(IP_TRANSPARENT), S(IP_RECVERR),
    S(IPV6_TCLASS), S(IPV6_UNICAST_HOPS), S(IPV6_MTU_DISCOVER), S(IPV6_MTU), S(IPV6_V6ONLY),
    {"IPV6_FREEBIND", 78}, S(IPV6_PMTUDISC_DONT), S(IPV6_PMTUDISC_WANT), S(IPV6_PMTUDISC_DO),
    S(IPV6_PMTUDISC_PROBE), {"IPV6_PMTUDISC_INTERFACE", 4}, {"IPV6_PMTUDISC_OMIT", 5},
    S(O_RDONLY), S(O_WRONLY), S(O_RDWR), S(O_NONBLOCK), S(O_CLOEXEC),
    S(F_GETFL), S(F_SETFL), S(F_GETFD), S(F_SETFD), S(FD_CLOEXEC),
    S(SHUT_RD), S(SHUT_WR), S(SHUT_RDWR),
    S(MSG_OOB), S(MSG_PEEK), S(MSG_DONTWAIT), S(MSG_WAITALL), S(MSG_MORE), S(MSG_NOSIGNAL),
    S(MSG_TRUNC), S(MSG_EOR), S(MSG_ERRQUEUE), S(MSG_FASTOPEN), S(MSG_ZEROCOPY), S(MSG_CTRUNC),
    S(SIOCINQ), S(SIOCOUTQ), S(FIONREAD), S(FIONBIO), S(SIOCOUTQNSD), S(SIOCATMARK),
    S(POLLIN), S(POLLOUT), S(POLLERR), S(POLLHUP), S(POLLNVAL), S(POLLPRI), {"POLLRDHUP", 0x2000},
    S(POLLRDNORM), S(POLLWRNORM),
    S(EPOLLIN), S(EPOLLOUT), S(EPOLLERR), S(EPOLLHUP), S(EPOLLRDHUP), S(EPOLLPRI),
    S(EPOLLET), S(EPOLLONESHOT), S(EPOLLEXCLUSIVE),
    S(EPOLL_CTL_ADD), S(EPOLL_CTL_MOD), S(EPOLL_CTL_DEL),
    S(SOF_TIMESTAMPING_TX_HARDWARE), S(SOF_TIMESTAMPING_TX_SOFTWARE),
    S(SOF_TIMESTAMPING_RX_HARDWARE), S(SOF_TIMESTAMPING_RX_SOFTWARE),
    S(SOF_TIMESTAMPING_SOFTWARE), S(SOF_TIMESTAMPING_RAW_HARDWARE), S(SOF_TIMESTAMPING_OPT_ID),
    S(SOF_TIMESTAMPING_TX_SCHED), S(SOF_TIMESTAMPING_TX_ACK), S(SOF_TIMESTAMPING_OPT_TSONLY),
    S(SCM_TSTAMP_SND), S(SCM_TSTAMP_SCHED), S(SCM_TSTAMP_ACK), S(SCM_TIMESTAMPING),
    S(SO_EE_ORIGIN_TIMESTAMPING), S(SO_EE_ORIGIN_ZEROCOPY), S(SO_EE_CODE_ZEROCOPY_COPIED),
    {NULL, 0},
};

#define E(x) {#x, x}
static const struct { const char *name; int val; } errnos[] = {
    E(EPERM), E(ENOENT), E(EINTR), E(EIO), E(EBADF), E(EAGAIN), E(ENOMEM), E(EACCES),
    E(EFAULT), E(EBUSY), E(EEXIST), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOSPC), E(EPIPE),
    E(ERANGE), E(ENOSYS), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE),
    E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EAFNOSUPPORT),
    E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ENETRESET),
    E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ESHUTDOWN),
    E(ETIMEDOUT), E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY),
    E(EINPROGRESS), E(ENOMSG), E(EWOULDBLOCK), E(ENOTSUP), E(ESPIPE), E(ENOTTY), E(E2BIG),
    {NULL, 0},
};

/* Constants, and errno names, which packetdrill's table also holds (a
 * sock_extended_err's ee_errno=ENOMSG). */
bool symbol_value(const char *name, long long *val)
{
    for (int i = 0; consts[i].name; i++)
        if (!strcmp(consts[i].name, name)) {
            *val = consts[i].val;
            return true;
        }
    for (int i = 0; errnos[i].name; i++)
        if (!strcmp(errnos[i].name, name)) {
            *val = errnos[i].val;
            return true;
        }
    return false;
}

int errno_value(const char *name)
{
    for (int i = 0; errnos[i].name; i++)
        if (!strcmp(errnos[i].name, name))
            return errnos[i].val;
    return -1;
}

const char *errno_name(int e)
{
    for (int i = 0; errnos[i].name; i++)
        if (errnos[i].val == e)
            return errnos[i].name;
    return e == 0 ? "0" : "E?";
}
