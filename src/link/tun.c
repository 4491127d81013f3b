/* The Linux TUN link: one IP datagram per read(2) and per write(2).
 *
 * IFF_NO_PI keeps the 4-byte packet-information header off the wire, so a
 * frame is exactly the datagram the stack parses or emits. The descriptor is
 * non-blocking: the event loop decides when to read, and a transmit never
 * stalls the stack (the kernel drops instead, and the stack counts it). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "synack.h"

#define TUN_MAX_MTU 65535u

struct synack_tun {
    int fd;
    uint32_t mtu;
    char name[IFNAMSIZ];
    synack_stack *stack;
    int ifindex;
    /* One datagram at a time goes to the stack, which does not keep it, so a
     * single buffer of the largest possible datagram serves every read. */
    uint8_t buf[TUN_MAX_MTU];
};

static void ifreq_named(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    memcpy(ifr->ifr_name, name, strnlen(name, IFNAMSIZ - 1));
}

/* Attaching to a device that is already up turns its carrier on, but the
 * kernel activates the device's queue a moment later, from its link-watch
 * work; until then whatever the kernel sends (the SYN-ACK to our first SYN)
 * is dropped. So when the device is up, wait (briefly) until the kernel
 * reports it running. A device still down is activated synchronously when
 * it is brought up, and needs no wait. */
static void tun_await_running(int sock, const char *name)
{
    const struct timespec tick = {.tv_nsec = 1000000};
    for (int ms = 0; ms < 1000; ms++) {
        struct ifreq ifr;
        ifreq_named(&ifr, name);
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP) ||
            (ifr.ifr_flags & IFF_RUNNING))
            return;
        nanosleep(&tick, NULL);
    }
}

/* The MTU belongs to the netdevice, not to the TUN descriptor, so it is set
 * through an ordinary socket in the same namespace. */
static int tun_configure(const char *name, uint32_t mtu)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -errno;
    tun_await_running(sock, name);
    struct ifreq ifr;
    ifreq_named(&ifr, name);
    ifr.ifr_mtu = (int)mtu;
    int rc = ioctl(sock, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
    close(sock);
    return rc;
}

int link_dev_open(const char *name, short flags, uint32_t mtu, int *fd, char ifname[IFNAMSIZ])
{
    if (mtu > TUN_MAX_MTU || (name && strlen(name) >= IFNAMSIZ))
        return -EINVAL;
    *fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)(flags | IFF_NO_PI);
    if (name)
        memcpy(ifr.ifr_name, name, strlen(name));
    int rc = ioctl(*fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
    if (rc == 0) {
        /* The kernel names the device when we did not (tun0, tap0, ...). */
        memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
        ifname[IFNAMSIZ - 1] = '\0';
        rc = tun_configure(ifname, mtu);
    }
    if (rc < 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int synack_tun_open(const char *name, uint32_t mtu, synack_tun **out)
{
    *out = NULL;
    if (mtu == 0)
        mtu = 1500;
    if (mtu > TUN_MAX_MTU || (name && strlen(name) >= IFNAMSIZ))
        return -EINVAL;
    synack_tun *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->ifindex = -1;
    int rc = link_dev_open(name, IFF_TUN, mtu, &t->fd, t->name);
    if (rc < 0) {
        free(t);
        return rc;
    }
    t->mtu = mtu;
    *out = t;
    return 0;
}

void synack_tun_close(synack_tun *t)
{
    if (!t)
        return;
    close(t->fd);
    free(t);
}

int synack_tun_fd(const synack_tun *t)
{
    return t->fd;
}

const char *synack_tun_name(const synack_tun *t)
{
    return t->name;
}

uint32_t synack_tun_mtu(const synack_tun *t)
{
    return t->mtu;
}

static int tun_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    synack_tun *t = ctx;
    for (;;) {
        ssize_t n = write(t->fd, frame, len);
        if (n >= 0)
            return (size_t)n == len ? 0 : -EIO;
        if (errno != EINTR)
            return -errno;
    }
}

synack_link_ops synack_tun_ops(void)
{
    return (synack_link_ops){.transmit = tun_transmit};
}

void synack_tun_attach(synack_tun *t, synack_stack *s, int ifindex)
{
    t->stack = s;
    t->ifindex = ifindex;
}

long synack_tun_pump(synack_tun *t)
{
    /* Without a stack the datagrams would be read and lost; leaving them
     * queued lets the caller attach first and lose nothing. */
    if (!t->stack)
        return -ENOTCONN;
    long count = 0;
    for (;;) {
        ssize_t n = read(t->fd, t->buf, sizeof t->buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return count;
            /* Report the error only when it is all there is to report; the
             * datagrams already handed over still count. */
            return count ? count : -errno;
        }
        if (n == 0)
            return count;
        synack_input(t->stack, t->ifindex, t->buf, (size_t)n);
        count++;
    }
}
