/* One socket call of a script: arguments evaluated on the driving thread,
 * the call itself made on the worker thread, the outcome checked back on
 * the driving thread. */
#ifndef CONFORM_SYSCALL_H
#define CONFORM_SYSCALL_H

#include <poll.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "run.h"

#define SC_MAX_VEC 16
#define SC_MAX_IOV 1024 /* Linux's UIO_MAXIOV: zerocopy/maxfrags writes 64 */
#define SC_CMSG_DATA 64 /* the largest payload: scm_timestamping (48), sock_extended_err + sockaddr_in6 (44) */
enum { SC_CMSG_INT, SC_CMSG_EE, SC_CMSG_TS };

struct sc_call {
    int which;                    /* SC_* in syscall.c */
    long long a[6];               /* integer arguments, fds already live */
    void *buf;                    /* read/write buffer (NULL when the script says NULL) */
    size_t buflen;
    struct sockaddr_storage addr;
    socklen_t addrlen, addrlen_out;
    bool addr_null, addrlen_null;
    /* option values */
    int ival, ival_expect;
    bool ival_check;
    struct { int onoff, linger; } lg, lg_expect; /* struct linger layout */
    bool lg_check;
    char str[64], str_expect[64];
    bool str_check;
    socklen_t optlen;
    socklen_t optlen_expect;
    bool optlen_check;
    /* vectors */
    struct iovec iov[SC_MAX_IOV];
    int iovcnt;
    struct msghdr msg;
    bool msg_flags_check;
    int msg_flags_expect;
    /* control messages: what recvmsg must return, or what sendmsg passes.
     * Payloads: an int (TCP_CM_INQ), struct sock_extended_err with its
     * offender address (IP_RECVERR / IPV6_RECVERR), struct scm_timestamping */
    struct { _Alignas(size_t) unsigned char b[SC_MAX_VEC * CMSG_SPACE(SC_CMSG_DATA)]; } ctl;
    int ncmsg;
    struct sc_cmsg_expect {
        int level, type, data;
        int kind;                 /* SC_CMSG_* */
        size_t len;               /* payload bytes (cmsg_len is checked for EE and TS) */
        long long ee[6];          /* ee_errno, ee_origin, ee_type, ee_code, ee_info, ee_data */
        long long ts_usecs;       /* script time of ts[0]; 0: not checked (packetdrill) */
    } cmsg_expect[SC_MAX_VEC];
    struct pollfd pfd[SC_MAX_VEC];
    short revents_expect[SC_MAX_VEC];
    int npfd;
    struct epoll_event ev[SC_MAX_VEC], ev_expect[SC_MAX_VEC];
    int nev_expect;
    bool ev_null;
    int pipefd[2], pipe_expect[2];
    /* outcome */
    long long ret;
    int err;
    long long expect_ret;
    int expect_errno;             /* -1: any */
};

/* Evaluate the arguments of ev's call into c. 0, or -1 after run_fail(). */
int sc_prepare(struct runner *r, const struct event *ev, struct sc_call *c);
/* Make the call (worker thread). */
void sc_invoke(struct runner *r, struct sc_call *c);
/* Check result, errno and out-values; map new descriptors. 0 or -1 after run_fail(). */
int sc_check(struct runner *r, const struct event *ev, struct sc_call *c);
void sc_release(struct sc_call *c);

#endif
