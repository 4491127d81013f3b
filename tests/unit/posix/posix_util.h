/* Two POSIX-layer instances back to back (192.168.0.1 and 192.168.0.2 on
 * one /16, fd3d:fa7b:d17d::1 and ::2 on one /48), moved in lockstep virtual time, for the socket-layer tests.
 * Header only; include after <cmocka.h>. */
#ifndef SYNACK_TEST_POSIX_UTIL_H
#define SYNACK_TEST_POSIX_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>

#include "posix.h"

#define IP_A (192u << 24 | 168u << 16 | 1)
#define IP_B (192u << 24 | 168u << 16 | 2)

struct pair {
    struct sxp *a, *b;
};

static inline void pair_init(struct pair *pr)
{
    struct sxp_config c;
    sxp_config_default(&c);
    c.recv_nowait = true;
    pr->a = sxp_new(&c);
    c.local_ip = IP_B;
    c.local_ip6[15] = 2; /* fd3d:fa7b:d17d::2 beside A's ::1 */
    c.seed = 2;
    pr->b = sxp_new(&c);
    assert_non_null(pr->a);
    assert_non_null(pr->b);
}

static inline void pair_free(struct pair *pr)
{
    sxp_free(pr->a);
    sxp_free(pr->b);
}

/* Delivers every queued datagram both ways until the wire is quiet;
 * returns how many moved. */
static inline int pump(struct pair *pr)
{
    int total = 0, moved;
    do {
        moved = 0;
        uint8_t buf[70000];
        size_t n = sizeof buf;
        long long t;
        while (sxp_output(pr->a, buf, &n, &t) == 0) {
            sxp_input(pr->b, buf, n);
            n = sizeof buf;
            moved++;
        }
        n = sizeof buf;
        while (sxp_output(pr->b, buf, &n, &t) == 0) {
            sxp_input(pr->a, buf, n);
            n = sizeof buf;
            moved++;
        }
        total += moved;
    } while (moved);
    return total;
}

/* Lets usecs of virtual time pass on both sides, a millisecond at a time,
 * with the wire delivering in between. */
static inline void run_for(struct pair *pr, uint64_t usecs)
{
    for (uint64_t t = 0; t < usecs; t += 1000) {
        uint64_t d = usecs - t < 1000 ? usecs - t : 1000;
        sxp_advance(pr->a, d);
        sxp_advance(pr->b, d);
        pump(pr);
    }
}

static inline struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = htonl(ip);
    return s;
}
#define SA(x) ((struct sockaddr *)&(x))

/* The call must fail with exactly this errno. */
#define assert_errno(call, err)                                                                              \
    do {                                                                                                     \
        errno = 0;                                                                                           \
        long r_ = (long)(call);                                                                              \
        if (r_ != -1 || errno != (err))                                                                      \
            fail_msg("%s: expected -1 %s, got %ld errno %d (%s)", #call, strerror(err), r_, errno,           \
                     strerror(errno));                                                                       \
    } while (0)

/* A listener on B:port, a connected socket on A, and the accepted one on B. */
static inline void connect_pair(struct pair *pr, uint16_t port, int *afd, int *bfd, int *lfd)
{
    int l = sxp_socket(pr->b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sb = sin_of(IP_B, port);
    assert_int_equal(sxp_bind(pr->b, l, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_listen(pr->b, l, 8), 0);
    int c = sxp_socket(pr->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_errno(sxp_connect(pr->a, c, SA(sb), sizeof sb), EINPROGRESS);
    pump(pr);
    assert_int_equal(sxp_connect(pr->a, c, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_fcntl(pr->a, c, F_SETFL, 0), 0);
    int s = sxp_accept(pr->b, l, NULL, NULL);
    assert_true(s >= 0);
    *afd = c;
    *bfd = s;
    if (lfd)
        *lfd = l;
}

#endif
