#include "format.h"

#include "line.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "wire/bytes.h"

void tr_put_flags_str(FILE *f, uint16_t flags)
{
    static const char names[] = "RRRACEUAPRSF";
    char buf[12 * 2 + 1];
    size_t n = 0;
    for (int i = 0; i < 12; i++) {
        if (flags & (0x800u >> i)) {
            buf[n++] = names[i];
        } else {
            buf[n++] = (char)0xc2;
            buf[n++] = (char)0xb7;
        }
    }
    fwrite(buf, 1, n, f);
}

const char *tr_flags_short(uint16_t fl, char *buf, unsigned size)
{
    char t[16];
    unsigned n = 0;
    if (fl & WIRE_TCP_SYN)
        t[n++] = 'S';
    if (fl & WIRE_TCP_FIN)
        t[n++] = 'F';
    if (fl & WIRE_TCP_RST)
        t[n++] = 'R';
    if (fl & WIRE_TCP_PSH)
        t[n++] = 'P';
    if (fl & WIRE_TCP_URG)
        t[n++] = 'U';
    if (fl & WIRE_TCP_ECE)
        t[n++] = 'E';
    if (fl & WIRE_TCP_CWR)
        t[n++] = 'W';
    if (fl & WIRE_TCP_AE)
        t[n++] = 'e';
    if (fl & WIRE_TCP_ACK)
        t[n++] = '.';
    if (n == 0)
        t[n++] = '-';
    t[n] = '\0';
    snprintf(buf, size, "%s", t);
    return buf;
}

void tr_put_secs(FILE *f, int64_t ns)
{
    const char *sign = "";
    uint64_t v = (uint64_t)ns;
    if (ns < 0) {
        sign = "-";
        v = (uint64_t)0 - (uint64_t)ns;
    }
    fprintf(f, "%s%" PRIu64 ".%09" PRIu64, sign, v / 1000000000u, v % 1000000000u);
}

const char *tr_opts_str(const struct tr_pkt *p, char *buf, unsigned size)
{
    const struct wire_tcp_opts *o = &p->opt;
    size_t n = 0;
    buf[0] = '\0';
    unsigned sack_i = 0;
    for (unsigned i = 0; i < o->nkinds && n < size; i++) {
        const char *sep = i ? "," : "";
        int w = 0;
        switch (o->kinds[i]) {
        case WIRE_TCPOPT_EOL: w = snprintf(buf + n, size - n, "%seol", sep); break;
        case WIRE_TCPOPT_NOP: w = snprintf(buf + n, size - n, "%snop", sep); break;
        case WIRE_TCPOPT_MSS: w = snprintf(buf + n, size - n, "%smss %u", sep, o->mss); break;
        case WIRE_TCPOPT_WSCALE: w = snprintf(buf + n, size - n, "%swscale %u", sep, o->wscale); break;
        case WIRE_TCPOPT_SACK_PERM: w = snprintf(buf + n, size - n, "%ssackOK", sep); break;
        case WIRE_TCPOPT_TS:
            w = snprintf(buf + n, size - n, "%sTS val %" PRIu32 " ecr %" PRIu32, sep, o->ts_val, o->ts_ecr);
            break;
        case WIRE_TCPOPT_SACK:
            w = snprintf(buf + n, size - n, "%ssack %u", sep, o->sack_count);
            for (; sack_i < o->sack_count && w >= 0 && n + (size_t)w < size; sack_i++) {
                int k = snprintf(buf + n + w, size - n - (size_t)w, " {%" PRIu32 ":%" PRIu32 "}", o->sack[sack_i].left,
                                 o->sack[sack_i].right);
                if (k < 0)
                    break;
                w += k;
            }
            break;
        default: w = snprintf(buf + n, size - n, "%sopt-%u", sep, o->kinds[i]); break;
        }
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (p->opts_bad && n < size)
        snprintf(buf + n, size - n, "%s[bad options]", n ? "," : "");
    return buf;
}

const char *tr_addr_str(const struct tr_addr *a, char *buf, unsigned size)
{
    if (a->af == 4) {
        snprintf(buf, size, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2], a->a[3]);
        return buf;
    }
    /* RFC 5952: lower case, longest run of two or more zero groups as "::". */
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = wire_get16(a->a + 2 * i);
    int best = -1, bestlen = 1;
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !g[j])
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j;
    }
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 8 && n < size; i++) {
        if (i == best) {
            n += (size_t)snprintf(buf + n, size - n, "::");
            i += bestlen - 1;
            continue;
        }
        bool after_gap = best >= 0 && i == best + bestlen;
        n += (size_t)snprintf(buf + n, size - n, "%s%x", (i == 0 || after_gap) ? "" : ":", g[i]);
    }
    return buf;
}

void ln_addr(struct tr_line *l, const struct tr_addr *a)
{
    if (a->af == 4) {
        for (int i = 0; i < 4; i++) {
            if (i)
                ln_c(l, '.');
            ln_u64(l, a->a[i]);
        }
        return;
    }
    char b[64];
    ln_s(l, tr_addr_str(a, b, sizeof b));
}

void ln_flags_str(struct tr_line *l, uint16_t flags)
{
    static const char names[] = "RRRACEUAPRSF";
    for (int i = 0; i < 12; i++) {
        if (flags & (0x800u >> i))
            ln_c(l, names[i]);
        else
            ln_mem(l, "\xc2\xb7", 2);
    }
}
