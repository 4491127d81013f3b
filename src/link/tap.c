/* The Linux TAP link: one Ethernet frame per read(2) and write(2), with the
 * Ethernet and ARP work done by a synack_eth (eth.c). */
#include <errno.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "link.h"
#include "synack.h"

#define TAP_MAX_FRAME (14u + 65535u)

struct synack_tap {
    int fd;
    uint32_t mtu;
    char name[IFNAMSIZ];
    synack_eth *eth;
    uint8_t buf[TAP_MAX_FRAME];
};

static int tap_write(void *ctx, const uint8_t *frame, size_t len)
{
    synack_tap *t = ctx;
    for (;;) {
        ssize_t n = write(t->fd, frame, len);
        if (n >= 0)
            return (size_t)n == len ? 0 : -EIO;
        if (errno != EINTR)
            return -errno;
    }
}

int synack_tap_open(const char *name, uint32_t mtu, const uint8_t mac[6], synack_tap **out)
{
    *out = NULL;
    if (mtu == 0)
        mtu = 1500;
    synack_tap *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    uint8_t m[6];
    if (mac) {
        memcpy(m, mac, 6);
    } else {
        /* A locally administered unicast address (IEEE 802 U/L bit set, I/G
         * bit clear), random like the ones Linux gives new TAP devices. */
        if (getrandom(m, sizeof m, 0) != (ssize_t)sizeof m) {
            free(t);
            return -EIO;
        }
        m[0] = (uint8_t)((m[0] & 0xfe) | 0x02);
    }
    int rc = synack_eth_new(m, tap_write, t, &t->eth);
    if (rc == 0)
        rc = link_dev_open(name, IFF_TAP, mtu, &t->fd, t->name);
    if (rc < 0) {
        synack_eth_free(t->eth);
        free(t);
        return rc;
    }
    t->mtu = mtu;
    *out = t;
    return 0;
}

void synack_tap_close(synack_tap *t)
{
    if (!t)
        return;
    close(t->fd);
    synack_eth_free(t->eth);
    free(t);
}

int synack_tap_fd(const synack_tap *t)
{
    return t->fd;
}

const char *synack_tap_name(const synack_tap *t)
{
    return t->name;
}

uint32_t synack_tap_mtu(const synack_tap *t)
{
    return t->mtu;
}

synack_eth *synack_tap_eth(synack_tap *t)
{
    return t->eth;
}

void synack_tap_attach(synack_tap *t, synack_stack *s, int ifindex)
{
    synack_eth_attach(t->eth, s, ifindex);
}

long synack_tap_pump(synack_tap *t)
{
    long count = 0;
    for (;;) {
        ssize_t n = read(t->fd, t->buf, sizeof t->buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return count;
            return count ? count : -errno;
        }
        if (n == 0)
            return count;
        synack_eth_input(t->eth, t->buf, (size_t)n);
        count++;
    }
}
