/* Which of packetdrill's modes a script allows: the "IPv6 where the
 * script allows" made a rule, so that an IPv4-only script is SKIP in an IPv6
 * run with the line that makes it so, never a failure of the stack. */
#include <stdio.h>
#include <string.h>

#include "modes.h"

const char *ip_mode_name(int mode)
{
    return mode == 6 ? "ipv6" : mode == 46 ? "ipv4-mapped-ipv6" : "ipv4";
}

int ip_mode_parse(const char *name)
{
    if (!strcmp(name, "ipv4"))
        return 4;
    if (!strcmp(name, "ipv6"))
        return 6;
    if (!strcmp(name, "ipv4-mapped-ipv6"))
        return 46;
    return 0;
}

static bool ipv4_literal(const char *ip)
{
    return ip[0] && !strchr(ip, ':');
}

const char *script_mode_refusal(const struct script *s, int mode, char *why, size_t len)
{
    if (s->opts.ip_version_set && s->opts.ip_version != mode) {
        snprintf(why, len, "%s: the script pins --ip_version=%s", s->path,
                 ip_mode_name(s->opts.ip_version));
        return why;
    }
    if (mode != 6)
        return NULL;
    const char *fixed = ipv4_literal(s->opts.local_ip)    ? "--local_ip"
                        : ipv4_literal(s->opts.remote_ip) ? "--remote_ip"
                                                          : NULL;
    if (fixed) {
        snprintf(why, len, "%s: IPv4-only: the script sets %s=%s", s->path, fixed,
                 !strcmp(fixed, "--local_ip") ? s->opts.local_ip : s->opts.remote_ip);
        return why;
    }
    for (int i = 0; i < s->nev; i++) {
        const struct event *e = &s->ev[i];
        if (e->kind != EV_PACKET || !e->pkt.icmp)
            continue;
        int type, code;
        char err[128];
        if (script_icmp6_resolve(&e->pkt, &type, &code, err, sizeof err)) {
            snprintf(why, len, "%s:%d: IPv4-only: ICMP %s %s has no ICMPv6 counterpart (%s)",
                     s->path, e->line, e->pkt.icmp_type_name, e->pkt.icmp_code_name, err);
            return why;
        }
    }
    return NULL;
}
