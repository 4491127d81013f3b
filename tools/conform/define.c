/* packetdrill's --define, and TFO_COOKIE computed for a run.
 *
 * packetdrill substitutes a defined symbol at lex time (lexer.l, word()):
 * any [a-zA-Z0-9_]+ token that is not a keyword becomes the value. Doing it
 * on the text before parsing is the same for every script here: keywords
 * (FO, ack, mss...) are never define names, and the value is re-read as the
 * token it spells (a hex cookie, a number, "a string"). */
#include <arpa/inet.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "define.h"

static bool word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

int defs_add(struct script_defs *d, const char *nv, char *err, size_t errlen)
{
    const char *eq = strchr(nv, '=');
    size_t nlen = eq ? (size_t)(eq - nv) : 0;
    if (!eq || !nlen) {
        snprintf(err, errlen, "--define wants NAME=VALUE, not '%s'", nv);
        return -1;
    }
    for (size_t i = 0; i < nlen; i++)
        if (!word_char(nv[i])) {
            snprintf(err, errlen, "--define: '%.*s' is not a symbol name", (int)nlen, nv);
            return -1;
        }
    if (nlen >= sizeof d->d[0].name || strlen(eq + 1) >= sizeof d->d[0].value) {
        snprintf(err, errlen, "--define: '%s' is too long", nv);
        return -1;
    }
    int i = 0;
    while (i < d->n && !(strlen(d->d[i].name) == nlen && !strncmp(d->d[i].name, nv, nlen)))
        i++;
    if (i == DEFINE_MAX) {
        snprintf(err, errlen, "--define: more than %d symbols", DEFINE_MAX);
        return -1;
    }
    snprintf(d->d[i].name, sizeof d->d[i].name, "%.*s", (int)nlen, nv);
    snprintf(d->d[i].value, sizeof d->d[i].value, "%s", eq + 1);
    if (i == d->n)
        d->n++;
    return 0;
}

static const char *lookup(const struct script_defs *d, const char *w, size_t len)
{
    for (int i = 0; d && i < d->n; i++)
        if (strlen(d->d[i].name) == len && !strncmp(d->d[i].name, w, len))
            return d->d[i].value;
    return NULL;
}

const char *defs_get(const struct script_defs *d, const char *name)
{
    return lookup(d, name, strlen(name));
}

/* the end of the span that starts at p and is never substituted (comment,
 * string, command, code block), or p when none starts there */
static const char *opaque_end(const char *p)
{
    const char *e = NULL;
    if (p[0] == '/' && p[1] == '/')
        e = strchr(p, '\n');
    else if (p[0] == '/' && p[1] == '*')
        e = (e = strstr(p + 2, "*/")) ? e + 2 : NULL;
    else if (p[0] == '%' && p[1] == '{')
        e = (e = strstr(p + 2, "}%")) ? e + 2 : NULL;
    else if (p[0] == '"' || p[0] == '`') {
        e = p + 1;
        while (*e && *e != p[0])
            e += e[0] == '\\' && e[1] ? 2 : 1;
        e = *e ? e + 1 : NULL;
    } else if (p[0] == '-' && p[1] == '-') {
        e = p + 2;
        while (word_char(*e))
            e++;
    } else {
        return p;
    }
    return e ? e : p + strlen(p);
}

char *defs_apply(const struct script_defs *d, const char *text)
{
    size_t cap = strlen(text) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        const char *end = opaque_end(p);
        const char *val = NULL;
        if (end == p && word_char(*p)) {
            end = p;
            while (word_char(*end))
                end++;
            val = lookup(d, p, (size_t)(end - p));
        } else if (end == p) {
            end = p + 1;
        }
        const char *src = val ? val : p;
        size_t len = val ? strlen(val) : (size_t)(end - p);
        if (n + len + 1 > cap) {
            cap = 2 * (n + len + 1);
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
        }
        memcpy(out + n, src, len);
        n += len;
        p = end;
    }
    out[n] = 0;
    return out;
}

/* Linux's proc_tcp_fastopen_key: four hex words, each stored little-endian
 * (a backup key after ',' does not make cookies) */
static int key_bytes(const char *text, uint8_t key[16])
{
    unsigned int w[4];
    char tail;
    int n = sscanf(text, "%8x-%8x-%8x-%8x%c", &w[0], &w[1], &w[2], &w[3], &tail);
    if (n != 4 && !(n == 5 && (tail == ',' || tail == ':')))
        return -1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            key[4 * i + j] = (uint8_t)(w[i] >> (8 * j));
    return 0;
}

static int addr_bytes(const char *text, uint8_t out[16])
{
    if (inet_pton(AF_INET, text, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, text, out) == 1)
        return 16;
    return -1;
}

int defs_tfo_cookie(const char *key_text, const char *remote_ip, const char *local_ip,
                    char hex[17])
{
    uint8_t key[16], msg[32], mac[crypto_shorthash_siphash24_BYTES];
    if (key_bytes(key_text, key))
        return -1;
    int rl = addr_bytes(remote_ip, msg);
    int ll = rl < 0 ? -1 : addr_bytes(local_ip, msg + rl);
    if (rl < 0 || ll != rl)
        return -1;
    crypto_shorthash_siphash24(mac, msg, (unsigned long long)(rl + ll), key);
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return 0;
}
