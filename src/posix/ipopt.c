/* IPPROTO_IP and IPPROTO_IPV6 socket options with Linux's lengths, values
 * and errno (net/ipv4/ip_sockglue.c do_ip_setsockopt/do_ip_getsockopt,
 * net/ipv6/ipv6_sockglue.c). As in Linux, an IPv6 socket takes the IPv4
 * level too (ipv6_setsockopt hands SOL_IP to ip_setsockopt: they govern
 * its IPv4-mapped packets), an IPv4 socket knows no IPv6 level. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "internal.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static const struct {
    int level, name;
    synack_opt opt;
} ip_opts[] = {
    {IPPROTO_IP, IP_TOS, SYNACK_OPT_IP_TOS},
    {IPPROTO_IP, IP_TTL, SYNACK_OPT_IP_TTL},
    {IPPROTO_IP, IP_MTU_DISCOVER, SYNACK_OPT_IP_MTU_DISCOVER},
    {IPPROTO_IP, IP_FREEBIND, SYNACK_OPT_FREEBIND},
    {IPPROTO_IP, IP_MTU, SYNACK_OPT_MTU},
    {IPPROTO_IPV6, IPV6_TCLASS, SYNACK_OPT_IPV6_TCLASS},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS, SYNACK_OPT_IPV6_UNICAST_HOPS},
    {IPPROTO_IPV6, IPV6_MTU_DISCOVER, SYNACK_OPT_IPV6_MTU_DISCOVER},
    {IPPROTO_IPV6, IPV6_FREEBIND, SYNACK_OPT_FREEBIND},
    {IPPROTO_IPV6, IPV6_MTU, SYNACK_OPT_MTU},
    {IPPROTO_IPV6, IPV6_V6ONLY, SYNACK_OPT_V6ONLY},
};

/* The option, or ENOPROTOOPT (an IPv4 socket has no IPv6 level). */
static int find(const struct sxp_file *f, int level, int name, synack_opt *out)
{
    if (level == IPPROTO_IPV6 && f->domain != AF_INET6)
        return ENOPROTOOPT;
    for (size_t i = 0; i < sizeof ip_opts / sizeof ip_opts[0]; i++)
        if (ip_opts[i].level == level && ip_opts[i].name == name) {
            *out = ip_opts[i].opt;
            return 0;
        }
    return ENOPROTOOPT;
}

int sxp_ip_setsockopt(struct sxp *p, struct sxp_file *f, int level, int name, const void *val, socklen_t len)
{
    synack_opt o;
    int err = find(f, level, name, &o);
    if (err)
        return err;
    int v = 0;
    if (level == IPPROTO_IP) {
        if (o == SYNACK_OPT_MTU)
            return ENOPROTOOPT; /* IP_MTU is read-only: ip_setsockopt does not know it */
        /* An int from 4 bytes or more, a byte from fewer, 0 from none
         * (IP_TOS [4], 1 as in the scripts); IP_TTL and IP_FREEBIND want
         * at least the byte. */
        if (len && !val)
            return EFAULT;
        if (len >= sizeof(int))
            memcpy(&v, val, sizeof v);
        else if (len >= 1)
            v = *(const unsigned char *)val;
        if ((o == SYNACK_OPT_IP_TTL || o == SYNACK_OPT_FREEBIND) && len < 1)
            return EINVAL;
    } else {
        /* An int, else 0 (a NULL pointer too); each option then wants a
         * whole int, IPV6_TCLASS exactly one. */
        if (val && len >= sizeof(int))
            memcpy(&v, val, sizeof v);
        if (len < sizeof(int) || (o == SYNACK_OPT_IPV6_TCLASS && len != sizeof(int)))
            return EINVAL;
        if (o == SYNACK_OPT_V6ONLY && f->bound)
            return EINVAL; /* once the socket has a port (inet_num) */
        if (o == SYNACK_OPT_MTU) {
            /* np->frag_size: where datagrams are fragmented (at least
             * the IPv6 minimum, 1280, or 0 for the path's); a TCP
             * segment is never fragmented, so it changes nothing here */
            return v && v < 1280 ? EINVAL : 0;
        }
    }
    int r = synack_setopt(p->st, f->h, o, v);
    return r < 0 ? -r : 0;
}

int sxp_ip_getsockopt(struct sxp *p, struct sxp_file *f, int level, int name, void *val, socklen_t *len)
{
    synack_opt o;
    int err = find(f, level, name, &o);
    if (err)
        return err;
    if (!len)
        return EFAULT;
    if ((int)*len < 0)
        return EINVAL;
    int v;
    int r = synack_getopt(p->st, f->h, o, &v);
    if (r < 0)
        return -r;
    if (level == IPPROTO_IP && *len > 0 && *len < sizeof(int) && v >= 0 && v <= 255) {
        /* do_ip_getsockopt: asked for less than an int, one byte */
        if (!val)
            return EFAULT;
        *(unsigned char *)val = (unsigned char)v;
        *len = 1;
        return 0;
    }
    size_t n = *len < sizeof v ? *len : sizeof v;
    if (n && !val)
        return EFAULT;
    memcpy(val, &v, n);
    *len = (socklen_t)n;
    return 0;
}
