/* Addresses and clocks: the small value types of the public API. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "synack.h"

synack_addr synack_ipv4(uint32_t host_order)
{
    synack_addr a;
    memset(&a, 0, sizeof a);
    a.family = SYNACK_AF_INET;
    a.bytes[0] = (uint8_t)(host_order >> 24);
    a.bytes[1] = (uint8_t)(host_order >> 16);
    a.bytes[2] = (uint8_t)(host_order >> 8);
    a.bytes[3] = (uint8_t)host_order;
    return a;
}

uint32_t synack_addr_ipv4(const synack_addr *a)
{
    return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 | (uint32_t)a->bytes[2] << 8 |
           a->bytes[3];
}

synack_addr synack_ipv6(const uint8_t bytes[16])
{
    synack_addr a;
    a.family = SYNACK_AF_INET6;
    memcpy(a.bytes, bytes, 16);
    return a;
}

int synack_addr_parse(const char *text, synack_addr *out)
{
    uint8_t b6[16];
    if (text && strchr(text, ':')) {
        if (inet_pton(AF_INET6, text, b6) != 1)
            return -EINVAL;
        *out = synack_ipv6(b6);
        return 0;
    }
    unsigned v[4];
    char tail;
    if (!text || sscanf(text, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
        return -EINVAL;
    for (int i = 0; i < 4; i++)
        if (v[i] > 255)
            return -EINVAL;
    *out = synack_ipv4(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
    return 0;
}

char *synack_addr_format(const synack_addr *a, char *buf, size_t len)
{
    if (a->family == SYNACK_AF_INET)
        snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
    else if (a->family == SYNACK_AF_INET6 && len >= INET6_ADDRSTRLEN)
        inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len);
    else
        snprintf(buf, len, "?");
    return buf;
}

synack_time synack_vclock_read(void *vclock)
{
    return ((synack_vclock *)vclock)->now;
}

synack_time synack_monotonic_now(void *unused)
{
    (void)unused;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (synack_time)ts.tv_sec * 1000000u + (synack_time)ts.tv_nsec / 1000u;
}
