/* The Linux TUN link: one IP datagram per read(2) and per write(2).
 *
 * IFF_NO_PI keeps the 4-byte packet-information header off the wire, so a
 * frame is exactly the datagram the stack parses or emits. The descriptor is
 * non-blocking: the event loop decides when to read, and a transmit never
 * stalls the stack (the kernel drops instead, and the stack counts it).
 *
 * The same driver runs on an adopted descriptor that keeps datagram
 * boundaries: a TUN fd opened elsewhere (handed over SCM_RIGHTS), or one end
 * of an AF_UNIX SOCK_SEQPACKET socketpair joining two stacks in two
 * processes. On a socket a write is send(MSG_NOSIGNAL), so a peer that has
 * gone is -EPIPE rather than SIGPIPE, and a read of nothing after the peer
 * hung up ends the link (-EPIPE). */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "wire/checksum.h"
#include "synack.h"

#define TUN_MAX_MTU 65535u
#define TUN_VNET_HDR 10 /* struct virtio_net_hdr */
/* Datagrams a pump takes before it returns, as a NAPI poll has a budget
 * (Linux netdev_budget 300): each one marks its connection as owing an ACK,
 * which the stack's next poll flushes, and a peer that writes as fast as we
 * read (a stack in another process on a socketpair) would otherwise keep the
 * poll from ever running, every marked connection holding its extension. */
#define TUN_PUMP_BUDGET 256

struct synack_tun {
    int fd;
    uint32_t mtu;
    char name[IFNAMSIZ];
    synack_stack *stack;
    int ifindex;
    /* With offload, every read and write starts with a virtio-net header,
     * and consecutive segments of one flow leave as one GSO write. */
    bool vnet;
    bool sock; /* an adopted socket, not a TUN device */
    struct gso_batch gso;
    /* One datagram at a time goes to the stack, which does not keep it, so a
     * single buffer of the largest possible datagram serves every read. */
    uint8_t buf[TUN_VNET_HDR + TUN_MAX_MTU];
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

/* The driver around a descriptor that is open and non-blocking; takes the
 * descriptor (closes it on failure). */
static int tun_new(int fd, uint32_t mtu, bool vnet, bool sock, const char *name, synack_tun **out)
{
    synack_tun *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    t->fd = fd;
    t->ifindex = -1;
    t->vnet = vnet;
    t->sock = sock;
    t->mtu = mtu;
    memcpy(t->name, name, strnlen(name, IFNAMSIZ - 1));
    *out = t;
    return 0;
}

static int tun_open(const char *name, uint32_t mtu, bool offload, synack_tun **out)
{
    *out = NULL;
    if (mtu == 0)
        mtu = 1500;
    if (mtu > TUN_MAX_MTU || (name && strlen(name) >= IFNAMSIZ))
        return -EINVAL;
    int fd;
    char ifname[IFNAMSIZ];
    int rc = link_dev_open(name, (short)(IFF_TUN | (offload ? IFF_VNET_HDR : 0)), mtu, &fd, ifname);
    if (rc < 0)
        return rc;
    /* TUN_F_CSUM: the kernel may hand over segments whose TCP checksum is
     * left for us to finish; TUN_F_TSO4: it may hand over one TCP segment
     * of up to 64 KiB where the wire would carry MTU-sized ones (its GSO
     * skips the segmentation, as towards a virtio NIC). */
    if (offload && ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return tun_new(fd, mtu, offload, false, ifname, out);
}

/* What an adopted descriptor carries: a socket must keep datagram
 * boundaries (not SOCK_STREAM); a TUN fd must be IFF_TUN | IFF_NO_PI (a TAP
 * fd carries Ethernet frames, and without IFF_NO_PI each datagram follows a
 * 4-byte header), and one opened with IFF_VNET_HDR has the virtio-net header
 * on every read and write whether we like it or not, so the driver speaks
 * it. Anything else (a pipe in packet mode, say) is taken as it is. */
static int adopt_kind(int fd, bool *sock, bool *vnet, char name[IFNAMSIZ])
{
    int type;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
        *sock = true;
        return type == SOCK_STREAM ? -EPROTOTYPE : 0;
    }
    if (errno != ENOTSOCK)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(fd, TUNGETIFF, &ifr) < 0)
        return 0; /* not a TUN device: ENOTTY, or EBADFD for one never attached */
    if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TUN || !(ifr.ifr_flags & IFF_NO_PI))
        return -EPROTOTYPE;
    *vnet = ifr.ifr_flags & IFF_VNET_HDR;
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = '\0';
    return 0;
}

int synack_tun_adopt(int fd, uint32_t mtu, synack_tun **out)
{
    *out = NULL;
    if (mtu == 0)
        mtu = 1500;
    if (fd < 0)
        return -EBADF;
    if (mtu > TUN_MAX_MTU)
        return -EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    bool sock = false, vnet = false;
    char name[IFNAMSIZ] = "";
    int rc = adopt_kind(fd, &sock, &vnet, name);
    if (rc < 0)
        return rc;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return tun_new(fd, mtu, vnet, sock, name, out);
}

int synack_tun_open(const char *name, uint32_t mtu, synack_tun **out)
{
    return tun_open(name, mtu, false, out);
}

int synack_tun_open_offload(const char *name, uint32_t mtu, synack_tun **out)
{
    return tun_open(name, mtu, true, out);
}

void synack_tun_close(synack_tun *t)
{
    if (!t)
        return;
    synack_tun_flush(t);
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

static int tun_write(synack_tun *t, const uint8_t *vh, const uint8_t *frame, size_t len)
{
    struct iovec iov[2] = {{(void *)vh, TUN_VNET_HDR}, {(void *)frame, len}};
    size_t want = len + (t->vnet ? TUN_VNET_HDR : 0);
    for (;;) {
        ssize_t n = t->vnet ? writev(t->fd, iov, 2)
                    : t->sock ? send(t->fd, frame, len, MSG_NOSIGNAL)
                              : write(t->fd, frame, len);
        if (n >= 0)
            return (size_t)n == want ? 0 : -EIO;
        if (errno != EINTR)
            return -errno;
    }
}

int synack_tun_flush(synack_tun *t)
{
    if (!t->vnet || !t->gso.nseg)
        return 0;
    uint8_t vh[TUN_VNET_HDR];
    size_t len = gso_finish(&t->gso, vh);
    return tun_write(t, vh, t->gso.pkt, len);
}

static int tun_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    synack_tun *t = ctx;
    /* A datagram that is whole and checksummed: an all-zero header
     * (GSO_NONE, no flags) says so. */
    static const uint8_t plain[TUN_VNET_HDR];
    if (!t->vnet)
        return tun_write(t, plain, frame, len);
    if (gso_append(&t->gso, frame, len))
        return 0;
    int rc = synack_tun_flush(t);
    if (gso_start(&t->gso, frame, len))
        return rc;
    int rc2 = tun_write(t, plain, frame, len);
    return rc ? rc : rc2;
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

/* A datagram read with a virtio-net header. With NEEDS_CSUM the transport
 * checksum field holds only the pseudo-header sum, and the sum over
 * [csum_start, end) completes it (the work a NIC would do). A GSO segment
 * (TCPV4) is delivered as it is: one TCP segment longer than the MSS, whose
 * IP total length covers all of it, which the stack takes like any other.
 * The header's 16-bit fields are little-endian (legacy virtio on x86). */
static bool vnet_finish(uint8_t *buf, size_t n)
{
    if (n < TUN_VNET_HDR + 20)
        return false;
    uint8_t flags = buf[0];
    size_t start = (size_t)buf[6] | (size_t)buf[7] << 8;
    size_t off = (size_t)buf[8] | (size_t)buf[9] << 8;
    uint8_t *ip = buf + TUN_VNET_HDR;
    size_t len = n - TUN_VNET_HDR;
    if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        return true;
    if (start >= len || off + 2 > len - start)
        return false;
    uint8_t *field = ip + start + off;
    uint16_t sum = wire_csum_fold(wire_csum_add(0, ip + start, len - start));
    field[0] = (uint8_t)(sum >> 8);
    field[1] = (uint8_t)sum;
    return true;
}

/* A read of nothing: the end of the descriptor, unless it is a socket whose
 * peer is still there (then it was an empty datagram, which the stack drops
 * and counts like any datagram that is not IP). */
static bool tun_hung_up(const synack_tun *t)
{
    if (!t->sock)
        return true;
    struct pollfd p = {.fd = t->fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

long synack_tun_pump(synack_tun *t)
{
    /* Without a stack the datagrams would be read and lost; leaving them
     * queued lets the caller attach first and lose nothing. */
    if (!t->stack)
        return -ENOTCONN;
    long count = 0;
    while (count < TUN_PUMP_BUDGET) {
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
        if (n == 0 && tun_hung_up(t))
            return count ? count : -EPIPE;
        if (t->vnet) {
            if (!vnet_finish(t->buf, (size_t)n))
                continue; /* malformed header: nothing the stack could use */
            synack_input(t->stack, t->ifindex, t->buf + TUN_VNET_HDR, (size_t)n - TUN_VNET_HDR);
        } else {
            synack_input(t->stack, t->ifindex, t->buf, (size_t)n);
        }
        count++;
    }
    return count;
}
