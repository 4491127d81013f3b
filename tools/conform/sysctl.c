/* Linux sysctls a script sets in its backquoted commands (directly, or in
 * the defaults.sh it runs), collected as configuration hints for the
 * library: `sysctl -q a=b c="x y"`, `set_sysctls.py /proc/sys/a/b=v`. The
 * commands themselves are never run. */
#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysctl.h"

static void put(struct sysctl_list *l, const char *name, const char *value)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->item[i].name, name)) {
            snprintf(l->item[i].value, sizeof l->item[i].value, "%s", value);
            return;
        }
    if (l->n == SYSCTL_MAX)
        return;
    snprintf(l->item[l->n].name, sizeof l->item[l->n].name, "%s", name);
    snprintf(l->item[l->n].value, sizeof l->item[l->n].value, "%s", value);
    l->n++;
}

/* "$((15*1024*1024))" -> "15728640"; other text is kept as written. */
static void expand(const char *in, char *out, size_t len)
{
    size_t o = 0;
    while (*in && o + 1 < len) {
        if (!strncmp(in, "$((", 3)) {
            const char *end = strstr(in, "))");
            if (end) {
                unsigned long long v = 1;
                const char *p = in + 3;
                bool ok = true;
                while (p < end && ok) {
                    char *e;
                    unsigned long long f = strtoull(p, &e, 10);
                    ok = e != p;
                    v *= f;
                    p = e;
                    while (p < end && (*p == ' ' || *p == '*'))
                        p++;
                }
                if (ok) {
                    o += (size_t)snprintf(out + o, len - o, "%llu", v);
                    in = end + 2;
                    continue;
                }
            }
        }
        out[o++] = *in++;
    }
    out[o < len ? o : len - 1] = 0;
}

/* Split a command line into words, honouring "..." and '...'. */
static int words(const char *line, char w[][160], int max)
{
    int n = 0;
    while (*line && n < max) {
        while (isspace((unsigned char)*line) || *line == '\\')
            line++;
        if (!*line)
            break;
        size_t k = 0;
        while (*line && !isspace((unsigned char)*line)) {
            if (*line == '"' || *line == '\'') {
                char q = *line++;
                while (*line && *line != q) {
                    if (k + 1 < 160)
                        w[n][k++] = *line;
                    line++;
                }
                if (*line)
                    line++;
                continue;
            }
            if (k + 1 < 160)
                w[n][k++] = *line;
            line++;
        }
        w[n][k] = 0;
        n++;
    }
    return n;
}

static void scan_text(const char *text, const char *dir, struct sysctl_list *l, int depth);

static void scan_line(const char *line, const char *dir, struct sysctl_list *l, int depth)
{
    /* `a || b`, `a && b`, `a; b`: each command on its own (the settings of
     * every one are taken: a failing `sysctl` before `|| ip tcp_metrics
     * flush` is one the library skips by name) */
    for (const char *c = line; *c; c++)
        if (*c == ';' || ((c[0] == '|' || c[0] == '&') && c[1] == c[0])) {
            char head[2048];
            snprintf(head, sizeof head, "%.*s", (int)(c - line), line);
            scan_line(head, dir, l, depth);
            scan_line(c + (*c == ';' ? 1 : 2), dir, l, depth);
            return;
        }
    char w[24][160];
    int n = words(line, w, 24);
    if (!n)
        return;
    const char *cmd = strrchr(w[0], '/') ? strrchr(w[0], '/') + 1 : w[0];
    while (n > 1 && strchr(w[n - 1], '>')) /* 2>/dev/null */
        n--;
    if (!strcmp(cmd, "tc")) {
        /* `tc qdisc add|replace dev D root pfifo limit 0`: the device drops
         * every packet sent, and says so; `tc qdisc del[ete] dev D root`
         * puts back the default. No other qdisc is modelled. */
        bool root = n >= 6 && !strcmp(w[1], "qdisc") && !strcmp(w[3], "dev") && !strcmp(w[5], "root");
        if (root && n == 9 && (!strcmp(w[2], "add") || !strcmp(w[2], "replace")) && !strcmp(w[6], "pfifo") &&
            !strcmp(w[7], "limit") && !strcmp(w[8], "0"))
            put(l, SYSCTL_QDISC, "drop");
        else if (root && n == 6 && (!strcmp(w[2], "delete") || !strcmp(w[2], "del")))
            put(l, SYSCTL_QDISC, "none");
    } else if (!strcmp(cmd, "ip") && n >= 3 && !strcmp(w[1], "tcp_metrics") &&
        (!strcmp(w[2], "flush") || !strcmp(w[2], "delete"))) {
        put(l, SYSCTL_METRICS_FLUSH, "flush"); /* Fast Open cookies are tcp_metrics */
    } else if (!strcmp(cmd, "sysctl")) {
        for (int i = 1; i < n; i++) {
            char *eq = strchr(w[i], '=');
            if (w[i][0] == '-' || !eq)
                continue;
            *eq = 0;
            char v[160];
            expand(eq + 1, v, sizeof v);
            put(l, w[i], v);
        }
    } else if (!strcmp(cmd, "set_sysctls.py")) {
        for (int i = 1; i < n; i++) {
            char *eq = strchr(w[i], '=');
            const char *pre = "/proc/sys/";
            if (!eq || strncmp(w[i], pre, strlen(pre)))
                continue;
            *eq = 0;
            char name[160];
            snprintf(name, sizeof name, "%s", w[i] + strlen(pre));
            for (char *c = name; *c; c++)
                if (*c == '/')
                    *c = '.';
            char v[160];
            expand(eq + 1, v, sizeof v);
            put(l, name, v);
        }
    } else if (depth < 3 && strlen(w[0]) > 3 && !strcmp(w[0] + strlen(w[0]) - 3, ".sh") &&
               w[0][0] != '/') {
        /* ../common/defaults.sh: read it, never run it. The runner the
         * scripts came with starts them from their folder or one above, so
         * look from both and above. A git symlink checked out as a file
         * holds just its target's path: that is followed the same way. */
        char path[4096];
        FILE *f = NULL;
        for (int up = 0; up < (depth ? 1 : 3) && !f; up++) {
            snprintf(path, sizeof path, "%s/%s%s", dir, up == 0 ? "" : up == 1 ? "../" : "../../",
                     w[0]);
            f = fopen(path, "r");
        }
        if (!f)
            return;
        char *buf = calloc(1, 65536);
        if (buf) {
            size_t r = fread(buf, 1, 65535, f);
            buf[r] = 0;
            char fdir[4096];
            snprintf(fdir, sizeof fdir, "%s", path);
            scan_text(buf, dirname(fdir), l, depth + 1);
            free(buf);
        }
        fclose(f);
    }
}

static void scan_text(const char *text, const char *dir, struct sysctl_list *l, int depth)
{
    const char *p = text;
    char line[2048];
    while (*p) {
        size_t k = 0;
        /* a line, with backslash-newline continuations joined */
        while (*p && *p != '\n') {
            if (p[0] == '\\' && p[1] == '\n') {
                p += 2;
                continue;
            }
            if (k + 1 < sizeof line)
                line[k++] = *p;
            p++;
        }
        line[k] = 0;
        if (*p)
            p++;
        char *hash = line[0] == '#' ? line : NULL;
        if (!hash)
            scan_line(line, dir, l, depth);
    }
}

void sysctl_collect(const struct script *s, struct sysctl_list *out)
{
    memset(out, 0, sizeof *out);
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", s->path ? s->path : ".");
    const char *dir = dirname(dirbuf);
    /* Only the setup: the commands before the first call or packet. The
     * library takes the values when it is made, at the script's start; a
     * command later in the script (run at its time by packetdrill, not by
     * synack-conform) would apply them too soon. */
    for (int i = 0; i < s->nev; i++) {
        if (s->ev[i].kind == EV_SYSCALL || s->ev[i].kind == EV_PACKET)
            break;
        if (s->ev[i].kind == EV_SHELL && s->ev[i].text)
            scan_text(s->ev[i].text, dir, out, 0);
    }
    /* a new stack has no metrics to flush */
    for (int i = 0; i < out->n; i++)
        if (!strcmp(out->item[i].name, SYSCTL_METRICS_FLUSH)) {
            out->item[i] = out->item[--out->n];
            break;
        }
}

void sysctl_scan(const struct script *s, const char *text, struct sysctl_list *out)
{
    memset(out, 0, sizeof *out);
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", s->path ? s->path : ".");
    scan_text(text, dirname(dirbuf), out, 0);
}

int sysctl_flags(const struct sysctl_list *l, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < l->n; i++) {
        char v[160];
        snprintf(v, sizeof v, "%s", l->item[i].value);
        for (char *c = v; *c; c++)
            if (isspace((unsigned char)*c) || *c == ',')
                *c = ':';
        int n = !strcmp(l->item[i].name, SYSCTL_METRICS_FLUSH)
                    ? snprintf(buf + o, len - o, "%stcp_metrics:flush", o ? " " : "")
                : !strcmp(l->item[i].name, SYSCTL_QDISC)
                    ? snprintf(buf + o, len - o, "%sqdisc:%s", o ? " " : "", v)
                    : snprintf(buf + o, len - o, "%ssysctl:%s=%s", o ? " " : "", l->item[i].name, v);
        if (n < 0 || (size_t)n >= len - o)
            return -1;
        o += (size_t)n;
    }
    return 0;
}
