/* packetdrill's script language, recursive descent over a character cursor.
 * Whitespace (newlines included) separates tokens; an event ends where the
 * next time begins. Every error is one line "path:line: message"; nothing in
 * here aborts. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "define.h"
#include "script.h"

struct parser {
    const char *path;
    const char *p;   /* cursor */
    int line;
    char *err;
    size_t errlen;
    bool failed;
    int depth;       /* nesting of [ { ( in an argument, bounded */
};

#define MAX_NESTING 32

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return -1;
    ps->failed = true;
    int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->path, ps->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* What is at the cursor, for messages: the rest of the word, at most 24 chars. */
static const char *near(struct parser *ps)
{
    static _Thread_local char buf[32];
    if (!*ps->p)
        return "end of file";
    size_t i = 0;
    while (ps->p[i] && !isspace((unsigned char)ps->p[i]) && i < 24) {
        buf[i] = ps->p[i];
        i++;
    }
    if (i == 0) {
        buf[0] = *ps->p;
        i = 1;
    }
    buf[i] = 0;
    return buf;
}

static void skip_ws(struct parser *ps)
{
    for (;;) {
        char c = *ps->p;
        if (c == '\n') {
            ps->line++;
            ps->p++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ps->p++;
        } else if (c == '/' && ps->p[1] == '/') {
            while (*ps->p && *ps->p != '\n')
                ps->p++;
        } else if (c == '/' && ps->p[1] == '*') {
            ps->p += 2;
            while (*ps->p && !(ps->p[0] == '*' && ps->p[1] == '/')) {
                if (*ps->p == '\n')
                    ps->line++;
                ps->p++;
            }
            if (*ps->p)
                ps->p += 2;
        } else {
            return;
        }
    }
}

static bool accept_ch(struct parser *ps, char c)
{
    skip_ws(ps);
    if (*ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static int expect_ch(struct parser *ps, char c, const char *what)
{
    if (accept_ch(ps, c))
        return 0;
    return fail(ps, "expected '%c' %s, found '%s'", c, what, near(ps));
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* CODE, TFO_COOKIE: all capitals, what scripts use for --define symbols */
static bool is_define_name(const char *id)
{
    for (const char *c = id; *c; c++)
        if (!(isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
            return false;
    return true;
}


/* An identifier at the cursor (after whitespace), copied into buf; false if none. */
static bool read_ident(struct parser *ps, char *buf, size_t len)
{
    skip_ws(ps);
    if (!is_ident_start(*ps->p))
        return false;
    size_t i = 0;
    while (is_ident_char(*ps->p)) {
        if (i + 1 < len)
            buf[i++] = *ps->p;
        ps->p++;
    }
    buf[i] = 0;
    return true;
}

static bool peek_word(struct parser *ps, const char *w)
{
    skip_ws(ps);
    size_t n = strlen(w);
    return strncmp(ps->p, w, n) == 0 && !is_ident_char(ps->p[n]);
}

static bool accept_word(struct parser *ps, const char *w)
{
    if (!peek_word(ps, w))
        return false;
    ps->p += strlen(w);
    return true;
}

/* An unsigned integer (decimal or 0x hex) at the cursor. */
static int read_uint(struct parser *ps, unsigned long long *v, const char *what)
{
    skip_ws(ps);
    if (!isdigit((unsigned char)*ps->p))
        return fail(ps, "expected a number for %s, found '%s'", what, near(ps));
    char *end;
    errno = 0;
    *v = strtoull(ps->p, &end, 0);
    if (errno || is_ident_char(*end))
        return fail(ps, "bad number for %s: '%s'", what, near(ps));
    ps->p = end;
    return 0;
}

static int read_u32(struct parser *ps, uint32_t *v, const char *what)
{
    unsigned long long x;
    if (read_uint(ps, &x, what))
        return -1;
    if (x > 0xffffffffULL)
        return fail(ps, "%s out of range: %llu", what, x);
    *v = (uint32_t)x;
    return 0;
}

int64_t script_usecs(const char *s)
{
    int64_t sec = 0, frac = 0;
    int digits = 0, fd = 0;
    while (isdigit((unsigned char)*s)) {
        if (sec > 100000000)
            return -1;
        sec = sec * 10 + (*s++ - '0');
        digits++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (fd < 6) {
                frac = frac * 10 + (*s - '0');
                fd++;
            }
            s++;
            digits++;
        }
    }
    if (!digits || *s)
        return -1;
    while (fd++ < 6)
        frac *= 10;
    return sec * 1000000 + frac;
}

/* Seconds as written at the cursor: digits with at most one '.', where a
 * '.' is part of the number only if a digit follows ("0...0.2" is 0 then ...). */
static int read_seconds(struct parser *ps, int64_t *us)
{
    skip_ws(ps);
    const char *s = ps->p;
    char buf[40];
    size_t i = 0;
    while (isdigit((unsigned char)*s) && i < sizeof buf - 1)
        buf[i++] = *s++;
    if (*s == '.' && isdigit((unsigned char)s[1])) {
        buf[i++] = *s++;
        while (isdigit((unsigned char)*s) && i < sizeof buf - 1)
            buf[i++] = *s++;
    }
    buf[i] = 0;
    if (i == 0 || is_ident_char(*s))
        return fail(ps, "expected a time in seconds, found '%s'", near(ps));
    *us = script_usecs(buf);
    if (*us < 0)
        return fail(ps, "bad time '%s'", buf);
    ps->p = s;
    return 0;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ------------------------------------------------------------------ */
/* expressions                                                         */
/* ------------------------------------------------------------------ */

static struct expr *expr_new(enum expr_kind k)
{
    struct expr *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->kind = k;
    return e;
}

static void expr_push(struct expr *e, struct expr *child)
{
    struct expr **n = realloc(e->item, sizeof *n * (size_t)(e->n + 1));
    if (!n)
        abort();
    e->item = n;
    e->item[e->n++] = child;
}

static void expr_free(struct expr *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n; i++)
        expr_free(e->item[i]);
    free(e->item);
    free(e->name);
    free(e);
}

static struct expr *parse_expr(struct parser *ps);

/* C escapes in place (\xHH, \ooo, \n, \t, \r, \0, \\, \"); returns the
 * decoded length, which may hold NUL bytes. */
static size_t unescape(char *t)
{
    size_t o = 0;
    for (const char *p = t; *p;) {
        if (*p != '\\' || !p[1]) {
            t[o++] = *p++;
            continue;
        }
        p++;
        char c = *p++;
        if (c == 'x') {
            unsigned v = 0;
            for (int k = 0; k < 2 && isxdigit((unsigned char)*p); k++, p++)
                v = v * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
            t[o++] = (char)v;
        } else if (c >= '0' && c <= '7') {
            unsigned v = (unsigned)(c - '0');
            for (int k = 0; k < 2 && *p >= '0' && *p <= '7'; k++, p++)
                v = v * 8 + (unsigned)(*p - '0');
            t[o++] = (char)v;
        } else {
            t[o++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
    }
    t[o] = 0;
    return o;
}

/* Comma-separated expressions up to `close`; the opener is already consumed. */
static int parse_list(struct parser *ps, struct expr *into, char close)
{
    if (accept_ch(ps, close))
        return 0;
    for (;;) {
        struct expr *x = parse_expr(ps);
        if (!x)
            return -1;
        expr_push(into, x);
        if (accept_ch(ps, close))
            return 0;
        if (expect_ch(ps, ',', "between list items"))
            return -1;
    }
}

static struct expr *parse_primary(struct parser *ps)
{
    skip_ws(ps);
    const char *s = ps->p;
    if (s[0] == '.' && s[1] == '.' && s[2] == '.') {
        ps->p += 3;
        return expr_new(EX_ELLIPSIS);
    }
    if (*s == '-' || isdigit((unsigned char)*s)) {
        bool neg = *s == '-';
        if (neg)
            ps->p++;
        unsigned long long v;
        if (read_uint(ps, &v, "a value"))
            return NULL;
        struct expr *e = expr_new(EX_INT);
        e->num = neg ? -(long long)v : (long long)v;
        return e;
    }
    if (*s == '"') {
        const char *q = s + 1;
        while (*q && *q != '"' && *q != '\n')
            q += (*q == '\\' && q[1] && q[1] != '\n') ? 2 : 1;
        if (*q != '"') {
            fail(ps, "unterminated string");
            return NULL;
        }
        struct expr *e = expr_new(EX_STRING);
        e->name = xstrndup(s + 1, (size_t)(q - s - 1));
        e->num = (long long)unescape(e->name); /* packetdrill reads C escapes: "\xf7\x63..." */
        ps->p = q + 1;
        return e;
    }
    if (*s == '[') {
        ps->p++;
        struct expr *e = expr_new(EX_LIST);
        if (parse_list(ps, e, ']')) {
            expr_free(e);
            return NULL;
        }
        return e;
    }
    if (*s == '{') {
        ps->p++;
        struct expr *e = expr_new(EX_STRUCT);
        if (parse_list(ps, e, '}')) {
            expr_free(e);
            return NULL;
        }
        return e;
    }
    char id[128];
    if (read_ident(ps, id, sizeof id)) {
        if (strcmp(id, "NULL") == 0)
            return expr_new(EX_NULL);
        struct expr *arg = NULL;
        if (accept_ch(ps, '(')) {
            /* htons(8080), or a field's size argument: msg_iov(1)=... */
            struct expr *call = expr_new(EX_CALL);
            call->name = strdup(id);
            if (parse_list(ps, call, ')')) {
                expr_free(call);
                return NULL;
            }
            skip_ws(ps);
            if (*ps->p != '=' || ps->p[1] == '=')
                return call;
            arg = call;
        }
        skip_ws(ps);
        if (*ps->p == '=' && ps->p[1] != '=') {
            ps->p++;
            struct expr *f = expr_new(EX_FIELD);
            f->name = strdup(id);
            struct expr *v = parse_expr(ps);
            if (!v) {
                expr_free(f);
                expr_free(arg);
                return NULL;
            }
            expr_push(f, v);
            if (arg)
                expr_push(f, arg);
            return f;
        }
        struct expr *e = expr_new(EX_SYMBOL);
        e->name = strdup(id);
        return e;
    }
    fail(ps, "expected an argument, found '%s'", near(ps));
    return NULL;
}

static struct expr *parse_expr(struct parser *ps)
{
    if (ps->depth >= MAX_NESTING) {
        fail(ps, "arguments nested more than %d deep", MAX_NESTING);
        return NULL;
    }
    ps->depth++;
    struct expr *l = parse_primary(ps);
    while (l && accept_ch(ps, '|')) {
        struct expr *r = parse_primary(ps);
        if (!r) {
            expr_free(l);
            return NULL;
        }
        struct expr *o = expr_new(EX_OR);
        expr_push(o, l);
        expr_push(o, r);
        l = o;
    }
    ps->depth--;
    return l;
}

/* ------------------------------------------------------------------ */
/* packets                                                             */
/* ------------------------------------------------------------------ */

static int parse_hex_bytes(struct parser *ps, struct tcp_opt *o)
{
    skip_ws(ps);
    const char *s = ps->p;
    size_t n = 0;
    while (isxdigit((unsigned char)s[n]))
        n++;
    if (n % 2)
        return fail(ps, "odd number of hex digits in option data '%s'", near(ps));
    if (n / 2 > sizeof o->data)
        return fail(ps, "option data too long");
    for (size_t i = 0; i < n / 2; i++) {
        char b[3] = {s[2 * i], s[2 * i + 1], 0};
        o->data[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    o->ndata = (int)(n / 2);
    ps->p += n;
    return 0;
}

static int parse_sack_block(struct parser *ps, uint32_t blk[2])
{
    if (read_u32(ps, &blk[0], "a SACK block start") || expect_ch(ps, ':', "in a SACK block") ||
        read_u32(ps, &blk[1], "a SACK block end"))
        return -1;
    return 0;
}

static int parse_one_option(struct parser *ps, struct pkt_spec *pk)
{
    if (pk->nopt >= SCRIPT_MAX_OPTS)
        return fail(ps, "too many TCP options");
    struct tcp_opt *o = &pk->opt[pk->nopt];
    memset(o, 0, sizeof *o);
    char id[32];
    if (!read_ident(ps, id, sizeof id))
        return fail(ps, "expected a TCP option, found '%s'", near(ps));
    if (!strcmp(id, "nop")) {
        o->kind = OP_NOP;
    } else if (!strcmp(id, "eol")) {
        o->kind = OP_EOL;
    } else if (!strcmp(id, "mss")) {
        o->kind = OP_MSS;
        if (read_u32(ps, &o->val, "mss"))
            return -1;
        if (o->val > 0xffff)
            return fail(ps, "mss %u out of range", o->val);
    } else if (!strcmp(id, "wscale")) {
        o->kind = OP_WSCALE;
        if (read_u32(ps, &o->val, "wscale"))
            return -1;
        if (o->val > 255)
            return fail(ps, "wscale %u out of range", o->val);
    } else if (!strcmp(id, "sackOK")) {
        o->kind = OP_SACKOK;
    } else if (!strcmp(id, "sack")) {
        o->kind = OP_SACK;
        skip_ws(ps);
        while (isdigit((unsigned char)*ps->p)) {
            if (o->nsack >= SCRIPT_MAX_SACK)
                return fail(ps, "more than %d SACK blocks", SCRIPT_MAX_SACK);
            if (parse_sack_block(ps, o->sack[o->nsack++]))
                return -1;
            skip_ws(ps);
        }
        if (!o->nsack)
            return fail(ps, "sack option without blocks");
    } else if (!strcmp(id, "TS")) {
        o->kind = OP_TS;
        if (!accept_word(ps, "val"))
            return fail(ps, "expected 'val' after TS, found '%s'", near(ps));
        if (read_u32(ps, &o->val, "TS val"))
            return -1;
        if (!accept_word(ps, "ecr"))
            return fail(ps, "expected 'ecr' in TS option, found '%s'", near(ps));
        if (read_u32(ps, &o->ecr, "TS ecr"))
            return -1;
    } else if (!strcmp(id, "FO") || !strcmp(id, "FOEXP")) {
        o->kind = id[2] ? OP_FOEXP : OP_FO;
        skip_ws(ps);
        char sym[32];
        const char *save = ps->p;
        if (read_ident(ps, sym, sizeof sym) && is_define_name(sym) && !isxdigit((unsigned char)sym[0]))
            snprintf(pk->undefined, sizeof pk->undefined, "%s", sym);
        else {
            ps->p = save;
            if (isxdigit((unsigned char)*ps->p) && parse_hex_bytes(ps, o))
                return -1;
        }
    } else if (!strcmp(id, "md5")) {
        o->kind = OP_MD5;
        if (parse_hex_bytes(ps, o))
            return -1;
    } else {
        return fail(ps, "unknown TCP option '%s'", id);
    }
    pk->nopt++;
    return 0;
}

static int option_bytes(const struct tcp_opt *o)
{
    switch (o->kind) {
    case OP_EOL: case OP_NOP: return 1;
    case OP_MSS: return 4;
    case OP_WSCALE: return 3;
    case OP_SACKOK: return 2;
    case OP_SACK: return 2 + 8 * o->nsack;
    case OP_TS: return 10;
    case OP_MD5: return 18;
    case OP_FO: return 2 + o->ndata;
    case OP_FOEXP: return 4 + o->ndata;
    }
    return 0;
}

static int parse_options(struct parser *ps, struct pkt_spec *pk)
{
    /* '<' already consumed */
    skip_ws(ps);
    if (ps->p[0] == '.' && ps->p[1] == '.' && ps->p[2] == '.') {
        ps->p += 3;
        pk->opts_nocheck = true;
        return expect_ch(ps, '>', "after <...");
    }
    if (accept_ch(ps, '>'))
        return 0;
    for (;;) {
        if (parse_one_option(ps, pk))
            return -1;
        if (accept_ch(ps, '>'))
            break;
        if (expect_ch(ps, ',', "between TCP options"))
            return -1;
    }
    int total = 0;
    for (int i = 0; i < pk->nopt; i++)
        total += option_bytes(&pk->opt[i]);
    if (total > 40)
        return fail(ps, "TCP options take %d bytes, more than 40", total);
    if (total % 4)
        return fail(ps, "TCP options take %d bytes, not a multiple of 4", total);
    return 0;
}

struct name_val { const char *name; int val; };

static const struct name_val icmp_types[] = {
    {"echo_reply", 0}, {"unreachable", 3}, {"source_quench", 4}, {"redirect", 5},
    {"echo_request", 8}, {"time_exceeded", 11}, {"parameter_problem", 12},
    {"timestamp_request", 13}, {"timestamp_reply", 14}, {"information_request", 15},
    {"information_reply", 16}, {"address_mask_request", 17}, {"address_mask_reply", 18},
    {NULL, 0},
};
/* ICMPv6 (RFC 4443): parsed so IPv6 scripts read, reported as not run */
static const struct name_val icmp6_types[] = {
    {"destination_unreachable", 1}, {"packet_too_big", 2}, {"time_exceeded_v6", 3},
    {"parameter_problem_v6", 4}, {NULL, 0},
};
static const struct name_val icmp_unreach_codes[] = {
    {"net_unreachable", 0}, {"host_unreachable", 1}, {"protocol_unreachable", 2},
    {"port_unreachable", 3}, {"frag_needed", 4}, {"source_route_failed", 5},
    {"net_unknown", 6}, {"host_unknown", 7}, {"source_host_isolated", 8},
    {"net_prohibited", 9}, {"host_prohibited", 10}, {"net_unreachable_for_tos", 11},
    {"host_unreachable_for_tos", 12}, {"packet_filtered", 13}, {"precedence_violation", 14},
    {"precedence_cutoff", 15}, {NULL, 0},
};

/* packetdrill's ICMPv6 tables (RFC 4443 types, Linux's code names) */
static const struct name_val icmp6_unreach_codes[] = {
    {"net_unreachable", 0}, {"no_route", 0}, {"admin_prohibited", 1}, {"not_neighbour", 2},
    {"address_unreachable", 3}, {"port_unreachable", 4}, {NULL, 0},
};
static const struct name_val icmp6_time_codes[] = {
    {"exceeded_hop_limit", 0}, {"exceeded_frag_time", 1}, {NULL, 0},
};
static const struct name_val icmp6_param_codes[] = {
    {"header_field", 0}, {"unknown_next_header", 1}, {"unknown_option", 2}, {NULL, 0},
};
static const struct {
    const char *name;
    int val;
    const struct name_val *codes;
} icmp6_by_name[] = {
    {"unreachable", 1, icmp6_unreach_codes}, {"packet_too_big", 2, NULL},
    {"time_exceeded", 3, icmp6_time_codes},  {"parameter_problem", 4, icmp6_param_codes},
    {"echo_request", 128, NULL},             {"echo_reply", 129, NULL},
};

static int lookup(const struct name_val *t, const char *name)
{
    for (; t->name; t++)
        if (!strcmp(t->name, name))
            return t->val;
    return -1;
}

/* type_N / code_N */
static int numbered(const char *id, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(id, prefix, n) || !id[n])
        return -1;
    char *end;
    long v = strtol(id + n, &end, 10);
    if (*end || v < 0 || v > 255)
        return -1;
    return (int)v;
}

static int parse_echo(struct parser *ps, struct pkt_spec *pk)
{
    /* [start:end(len)] of the TCP segment the ICMP message quotes */
    uint32_t end = 0, len = 0;
    if (read_u32(ps, &pk->echo_seq, "echoed seq") || expect_ch(ps, ':', "in echoed segment") ||
        read_u32(ps, &end, "echoed end") || expect_ch(ps, '(', "in echoed segment") ||
        read_u32(ps, &len, "echoed length") || expect_ch(ps, ')', "in echoed segment") ||
        expect_ch(ps, ']', "after echoed segment"))
        return -1;
    pk->has_echo = true;
    pk->echo_len = len;
    return 0;
}

static int parse_icmp(struct parser *ps, struct pkt_spec *pk)
{
    pk->icmp = true;
    char id[48];
    if (!read_ident(ps, id, sizeof id))
        return fail(ps, "expected an ICMP type, found '%s'", near(ps));
    pk->icmp_type = lookup(icmp_types, id);
    if (pk->icmp_type < 0)
        pk->icmp_type = numbered(id, "type_");
    if (pk->icmp_type < 0 && (pk->icmp_type = lookup(icmp6_types, id)) >= 0)
        pk->icmpv6 = true;
    if (pk->icmp_type < 0)
        return fail(ps, "unknown ICMP type '%s'", id);
    snprintf(pk->icmp_type_name, sizeof pk->icmp_type_name, "%s", id);
    pk->icmp_code = 0;
    for (;;) {
        skip_ws(ps);
        if (*ps->p == '[') {
            ps->p++;
            if (parse_echo(ps, pk))
                return -1;
            continue;
        }
        if (peek_word(ps, "mtu")) {
            accept_word(ps, "mtu");
            if (read_u32(ps, &pk->mtu, "mtu"))
                return -1;
            pk->has_mtu = true;
            continue;
        }
        const char *save = ps->p;
        int save_line = ps->line;
        if (!read_ident(ps, id, sizeof id))
            return 0;
        int c = pk->icmp_type == 3 ? lookup(icmp_unreach_codes, id) : -1;
        if (c < 0)
            c = numbered(id, "code_");
        bool v6_code = false;
        for (size_t k = 0; c < 0 && k < sizeof icmp6_by_name / sizeof icmp6_by_name[0]; k++)
            v6_code |= icmp6_by_name[k].codes && lookup(icmp6_by_name[k].codes, id) >= 0;
        if (v6_code) { /* an ICMPv6 code name: an IPv6 run resolves it */
            snprintf(pk->icmp_code_name, sizeof pk->icmp_code_name, "%s", id);
            pk->icmp_code = -1;
            continue;
        }
        if (c < 0 && !strcmp(id, "mtu")) {
            ps->p = save;
            ps->line = save_line;
            return 0;
        }
        if (c < 0 && is_define_name(id)) {
            /* a --define'd name: packetdrill substitutes it; we cannot */
            snprintf(pk->undefined, sizeof pk->undefined, "%.31s", id);
            continue;
        }
        if (c < 0) {
            ps->p = save;
            ps->line = save_line;
            return fail(ps, "unknown ICMP code '%s'", id);
        }
        pk->icmp_code = c;
        snprintf(pk->icmp_code_name, sizeof pk->icmp_code_name, "%s", id);
    }
}

int script_icmp6_resolve(const struct pkt_spec *pk, int *type, int *code, char *err, size_t errlen)
{
    if (pk->icmpv6) { /* written with an ICMPv6-only name */
        *type = pk->icmp_type;
        *code = pk->icmp_code < 0 ? 0 : pk->icmp_code;
        return 0;
    }
    const struct name_val *codes = NULL;
    int t = numbered(pk->icmp_type_name, "type_");
    for (size_t k = 0; t < 0 && k < sizeof icmp6_by_name / sizeof icmp6_by_name[0]; k++)
        if (!strcmp(pk->icmp_type_name, icmp6_by_name[k].name)) {
            t = icmp6_by_name[k].val;
            codes = icmp6_by_name[k].codes;
        }
    if (t < 0) {
        snprintf(err, errlen, "bad ICMP type %s", pk->icmp_type_name);
        return -1;
    }
    int c = 0;
    if (pk->icmp_code_name[0]) {
        c = numbered(pk->icmp_code_name, "code_");
        if (c < 0 && codes)
            c = lookup(codes, pk->icmp_code_name);
        if (c < 0) {
            snprintf(err, errlen, "bad ICMP code %s", pk->icmp_code_name);
            return -1;
        }
    }
    *type = t;
    *code = c;
    return 0;
}

static int parse_packet(struct parser *ps, struct event *ev, char dir)
{
    struct pkt_spec *pk = &ev->pkt;
    ev->kind = EV_PACKET;
    pk->dir = dir;
    pk->ecn = ECN_UNSET;
    skip_ws(ps);
    if (*ps->p == '[') {
        ps->p++;
        char id[16];
        if (!read_ident(ps, id, sizeof id))
            return fail(ps, "expected an ECN mark in [...], found '%s'", near(ps));
        if (!strcmp(id, "noecn")) pk->ecn = ECN_NOT;
        else if (!strcmp(id, "ect0")) pk->ecn = ECN_ECT0;
        else if (!strcmp(id, "ect1")) pk->ecn = ECN_ECT1;
        else if (!strcmp(id, "ce")) pk->ecn = ECN_CE;
        else if (!strcmp(id, "ect01")) pk->ecn = ECN_ECT01;
        else return fail(ps, "unknown ECN mark '%s'", id);
        if (expect_ch(ps, ']', "after the ECN mark"))
            return -1;
        skip_ws(ps);
    }
    if (peek_word(ps, "icmp")) {
        accept_word(ps, "icmp");
        return parse_icmp(ps, pk);
    }
    if (peek_word(ps, "udp"))
        return fail(ps, "UDP packets are not supported (synack speaks TCP)");
    /* flags: a run of S F R P . E W U - */
    const char *f = ps->p;
    bool any = false;
    for (; *f && !isspace((unsigned char)*f); f++) {
        switch (*f) {
        case 'S': pk->flags |= TF_SYN; break;
        case 'F': pk->flags |= TF_FIN; break;
        case 'R': pk->flags |= TF_RST; break;
        case 'P': pk->flags |= TF_PSH; break;
        case '.': pk->flags |= TF_ACK; break;
        case 'E': pk->flags |= TF_ECE; break;
        case 'W': pk->flags |= TF_CWR; break;
        case 'U': pk->flags |= TF_URG; break;
        case '-': break;
        default:
            return fail(ps, "bad TCP flag '%c' in '%s'", *f, near(ps));
        }
        any = true;
    }
    if (!any)
        return fail(ps, "expected TCP flags, found '%s'", near(ps));
    ps->p = f;
    if (read_u32(ps, &pk->seq, "the start sequence number") ||
        expect_ch(ps, ':', "between start and end sequence numbers") ||
        read_u32(ps, &pk->end, "the end sequence number") ||
        expect_ch(ps, '(', "before the payload length") ||
        read_u32(ps, &pk->len, "the payload length") || expect_ch(ps, ')', "after the payload length"))
        return -1;
    if ((uint32_t)(pk->end - pk->seq) != pk->len)
        return fail(ps, "inconsistent sequence range %u:%u(%u)", pk->seq, pk->end, pk->len);
    for (;;) {
        if (accept_word(ps, "ack")) {
            if (read_u32(ps, &pk->ack, "ack"))
                return -1;
            pk->has_ack = true;
        } else if (accept_word(ps, "win")) {
            if (read_u32(ps, &pk->win, "win"))
                return -1;
            if (pk->win > 0xffff)
                return fail(ps, "win %u out of range", pk->win);
            pk->has_win = true;
        } else if (accept_word(ps, "urg")) {
            if (read_u32(ps, &pk->urg, "urg"))
                return -1;
            pk->has_urg = true;
        } else {
            break;
        }
    }
    if (accept_ch(ps, '<'))
        return parse_options(ps, pk);
    return 0;
}

/* ------------------------------------------------------------------ */
/* socket calls                                                        */
/* ------------------------------------------------------------------ */

static int parse_syscall(struct parser *ps, struct event *ev, const char *name)
{
    struct syscall_spec *sc = &ev->sc;
    ev->kind = EV_SYSCALL;
    sc->name = strdup(name);
    struct expr holder = {.kind = EX_LIST};
    if (parse_list(ps, &holder, ')')) {
        sc->arg = holder.item;
        sc->narg = holder.n;
        return -1;
    }
    sc->arg = holder.item;
    sc->narg = holder.n;
    if (expect_ch(ps, '=', "before the expected result"))
        return -1;
    sc->result = parse_expr(ps);
    if (!sc->result)
        return -1;
    char id[64];
    skip_ws(ps);
    const char *save = ps->p;
    if (read_ident(ps, id, sizeof id)) {
        if (id[0] != 'E') {
            ps->p = save;
            return fail(ps, "expected an errno name after the result, found '%s'", near(ps));
        }
        sc->errno_name = strdup(id);
    }
    skip_ws(ps);
    if (*ps->p == '(') {
        /* "(Operation now in progress)" or "(flags O_RDWR)": a note, not checked */
        const char *q = ps->p + 1;
        int depth = 1;
        while (*q && depth) {
            if (*q == '(') depth++;
            else if (*q == ')') depth--;
            else if (*q == '\n') break;
            q++;
        }
        if (depth)
            return fail(ps, "unterminated '(' after the result");
        sc->note = xstrndup(ps->p + 1, (size_t)(q - ps->p - 2));
        ps->p = q;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* script                                                              */
/* ------------------------------------------------------------------ */

void script_default_opts(struct script_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tolerance_usecs = 4000;
    o->tolerance_pct = 12.5;
    o->ip_version = 4;
    o->bind_port = 8080;
    o->connect_port = 8080;
}

static int parse_int_opt(const char *v, long lo, long hi, long *out)
{
    if (!v || !*v)
        return -1;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int script_set_option(struct script_opts *o, const char *name, const char *value, char *err,
                      size_t errlen)
{
    long x;
    if (!strcmp(name, "tolerance_usecs")) {
        if (parse_int_opt(value, 1, 100000000, &x))
            goto bad;
        o->tolerance_usecs = x;
    } else if (!strcmp(name, "tolerance_percent")) {
        char *end;
        double d = value ? strtod(value, &end) : -1;
        if (!value || *end || d < 0 || d > 100)
            goto bad;
        o->tolerance_pct = d;
    } else if (!strcmp(name, "tcp_ts_tick_usecs")) {
        if (parse_int_opt(value, 0, 1000000, &x))
            goto bad;
        o->tcp_ts_tick_usecs = (int)x;
    } else if (!strcmp(name, "tcp_ts_ecr_scaled")) {
        o->ts_ecr_scaled = true;
    } else if (!strcmp(name, "strict_segments")) {
        o->strict_segments = true;
    } else if (!strcmp(name, "mss")) {
        if (parse_int_opt(value, 1, 65535, &x))
            goto bad;
        o->mss = (int)x;
        /* packetdrill hands large injected segments to TUN as GSO with this
         * MSS; the library gets them whole (see docs/conformance.md) */
        size_t used = strlen(o->unknown);
        snprintf(o->unknown + used, sizeof o->unknown - used, "%s--mss", used ? " " : "");
    } else if (!strcmp(name, "mtu")) {
        if (parse_int_opt(value, 68, 65535, &x))
            goto bad;
        o->mtu = (int)x;
    } else if (!strcmp(name, "bind_port") || !strcmp(name, "connect_port")) {
        if (parse_int_opt(value, 1, 65535, &x))
            goto bad;
        *(name[0] == 'b' ? &o->bind_port : &o->connect_port) = (int)x;
    } else if (!strcmp(name, "ip_version")) {
        if (value && !strcmp(value, "ipv4"))
            o->ip_version = 4;
        else if (value && !strcmp(value, "ipv6"))
            o->ip_version = 6;
        else if (value && !strcmp(value, "ipv4-mapped-ipv6"))
            o->ip_version = 46;
        else
            goto bad;
        o->ip_version_set = true;
    } else if (!strcmp(name, "local_ip") || !strcmp(name, "remote_ip")) {
        if (!value || strlen(value) >= sizeof o->local_ip)
            goto bad;
        /* "192.0.2.1/24": the prefix length does not matter to a raw-IP netdev */
        char *dst = name[0] == 'l' ? o->local_ip : o->remote_ip;
        snprintf(dst, sizeof o->local_ip, "%s", value);
        char *slash = strchr(dst, '/');
        if (slash)
            *slash = 0;
    } else if (!strcmp(name, "gateway_ip") || !strcmp(name, "netmask_ip") ||
               !strcmp(name, "so_flags") || !strcmp(name, "define") || !strcmp(name, "speed") ||
               !strcmp(name, "init_scripts") || !strcmp(name, "non_fatal") ||
               !strcmp(name, "send_omit_free") || !strcmp(name, "is_anyip")) {
        /* understood by packetdrill; recorded so the report can say it was not honoured */
        size_t used = strlen(o->unknown);
        snprintf(o->unknown + used, sizeof o->unknown - used, "%s--%s", used ? " " : "", name);
    } else {
        snprintf(err, errlen, "option '--%s' unknown", name);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "bad value for --%s: '%s'", name, value ? value : "");
    return -1;
}

static int parse_time(struct parser *ps, struct event *ev)
{
    skip_ws(ps);
    if (*ps->p == '*') {
        ps->p++;
        ev->tkind = TM_ANY;
        return 0;
    }
    bool rel = false;
    if (*ps->p == '+') {
        rel = true;
        ps->p++;
    }
    if (read_seconds(ps, &ev->t))
        return -1;
    ev->tkind = rel ? TM_REL : TM_ABS;
    const char *after = ps->p;
    int after_line = ps->line;
    skip_ws(ps);
    if (ps->p[0] != '~' && !(ps->p[0] == '.' && ps->p[1] == '.' && ps->p[2] == '.')) {
        ps->p = after;
        ps->line = after_line;
    }
    if (ps->p[0] == '~') {
        ps->p++;
        bool rel2 = false;
        skip_ws(ps);
        if (*ps->p == '+') {
            rel2 = true;
            ps->p++;
        }
        if (rel2 != rel)
            return fail(ps, "a time range must be both absolute or both relative");
        if (read_seconds(ps, &ev->t_end))
            return -1;
        if (ev->t_end < ev->t)
            return fail(ps, "time range ends before it starts");
        ev->tkind = rel ? TM_REL_RANGE : TM_ABS_RANGE;
    } else if (ps->p[0] == '.' && ps->p[1] == '.' && ps->p[2] == '.') {
        ps->p += 3;
        if (read_seconds(ps, &ev->block_end))
            return -1;
        ev->blocking = true;
    }
    return 0;
}

static struct event *new_event(struct script *s, int line)
{
    if (s->nev == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        struct event *n = realloc(s->ev, sizeof *n * (size_t)cap);
        if (!n)
            abort();
        s->ev = n;
        s->cap = cap;
    }
    struct event *e = &s->ev[s->nev++];
    memset(e, 0, sizeof *e);
    e->line = line;
    return e;
}

/* `...` (may span lines) at the cursor. */
static int read_backquoted(struct parser *ps, char **out)
{
    const char *q = ps->p + 1;
    int lines = 0;
    while (*q && *q != '`') {
        if (*q == '\n')
            lines++;
        q++;
    }
    if (!*q)
        return fail(ps, "unterminated `command`");
    *out = xstrndup(ps->p + 1, (size_t)(q - ps->p - 1));
    ps->line += lines;
    ps->p = q + 1;
    return 0;
}

static int read_code(struct parser *ps, char **out)
{
    const char *q = strstr(ps->p, "}%");
    if (!q)
        return fail(ps, "unterminated %%{ code block");
    for (const char *c = ps->p; c < q; c++)
        if (*c == '\n')
            ps->line++;
    *out = xstrndup(ps->p + 2, (size_t)(q - ps->p - 2));
    ps->p = q + 2;
    return 0;
}

static int parse_event(struct parser *ps, struct script *s)
{
    struct event *ev = new_event(s, ps->line);
    if (parse_time(ps, ev))
        return -1;
    skip_ws(ps);
    ev->line = ps->line; /* the line the action sits on */
    char c = *ps->p;
    if (c == '<' || c == '>') {
        ps->p++;
        if (ev->blocking)
            return fail(ps, "a packet cannot have a blocking time (...)");
        return parse_packet(ps, ev, c);
    }
    if (ev->tkind == TM_ANY || ev->tkind == TM_ABS_RANGE || ev->tkind == TM_REL_RANGE)
        return fail(ps, "only outbound packets may use '*' or a time range");
    if (c == '`') {
        ev->kind = EV_SHELL;
        return read_backquoted(ps, &ev->text);
    }
    if (c == '%' && ps->p[1] == '{') {
        ev->kind = EV_CODE;
        return read_code(ps, &ev->text);
    }
    char id[64];
    if (read_ident(ps, id, sizeof id)) {
        if (!accept_ch(ps, '(')) {
            ps->line = ev->line;
            return fail(ps, "expected '(' after '%s'", id);
        }
        return parse_syscall(ps, ev, id);
    }
    return fail(ps, "expected a packet, a socket call, `command` or %%{code}%% after the time, "
                    "found '%s'",
                near(ps));
}

static int parse_option_line(struct parser *ps, struct script *s)
{
    const char *q = ps->p + 2;
    const char *start = q;
    while (*q && !isspace((unsigned char)*q))
        q++;
    char buf[512];
    size_t n = (size_t)(q - start);
    if (n >= sizeof buf)
        return fail(ps, "option too long");
    memcpy(buf, start, n);
    buf[n] = 0;
    ps->p = q;
    char *eq = strchr(buf, '=');
    if (eq)
        *eq++ = 0;
    char msg[256];
    if (script_set_option(&s->opts, buf, eq, msg, sizeof msg))
        return fail(ps, "%s", msg);
    return 0;
}

int script_parse(const char *path, const char *text, struct script *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->path = strdup(path);
    script_default_opts(&out->opts);
    struct parser ps = {.path = path, .p = text, .line = 1, .err = err, .errlen = errlen};
    if (errlen)
        err[0] = 0;
    for (;;) {
        skip_ws(&ps);
        char c = *ps.p;
        if (!c)
            break;
        int rc;
        if (c == '-' && ps.p[1] == '-') {
            if (out->nev)
                return fail(&ps, "options must come before the first event");
            rc = parse_option_line(&ps, out);
        } else if (c == '`') {
            struct event *ev = new_event(out, ps.line);
            ev->kind = EV_SHELL;
            ev->tkind = TM_NONE;
            rc = read_backquoted(&ps, &ev->text);
        } else if (c == '+' || c == '*' || c == '.' || isdigit((unsigned char)c)) {
            rc = parse_event(&ps, out);
        } else {
            rc = fail(&ps, "expected a time, an --option or a `command`, found '%s'", near(&ps));
        }
        if (rc)
            return -1;
        if (memchr(text, 0, (size_t)(ps.p - text)))
            return fail(&ps, "NUL byte in script");
    }
    /* packetdrill: the first timed event is at time 0 */
    for (int i = 0; i < out->nev; i++) {
        struct event *e = &out->ev[i];
        if (e->tkind == TM_NONE)
            continue;
        if (e->tkind != TM_REL && e->tkind != TM_ABS)
            break;
        if (e->t != 0) {
            ps.line = e->line;
            return fail(&ps, "first event should be at time 0");
        }
        break;
    }
    return 0;
}

int script_load(const char *path, struct script *out, char *err, size_t errlen)
{
    return script_load_defs(path, NULL, out, err, errlen);
}

char *script_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            if (cap > (64u << 20)) {
                fclose(f);
                free(buf);
                snprintf(err, errlen, "%s: file too large", path);
                return NULL;
            }
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
    }
    fclose(f);
    buf[n] = 0;
    if (strlen(buf) != n) {
        free(buf);
        snprintf(err, errlen, "%s:1: NUL byte in script", path);
        return NULL;
    }
    return buf;
}

int script_load_text(const char *path, const char *buf, const struct script_defs *defs,
                     struct script *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *text = defs && defs->n ? defs_apply(defs, buf) : NULL;
    if (defs && defs->n && !text)
        abort();
    int rc = script_parse(path, text ? text : buf, out, err, errlen);
    free(text);
    return rc;
}

int script_load_defs(const char *path, const struct script_defs *defs, struct script *out,
                     char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *buf = script_read(path, err, errlen);
    if (!buf)
        return -1;
    int rc = script_load_text(path, buf, defs, out, err, errlen);
    free(buf);
    return rc;
}

void script_free(struct script *s)
{
    for (int i = 0; i < s->nev; i++) {
        struct event *e = &s->ev[i];
        free(e->text);
        free(e->sc.name);
        for (int a = 0; a < e->sc.narg; a++)
            expr_free(e->sc.arg[a]);
        free(e->sc.arg);
        expr_free(e->sc.result);
        free(e->sc.errno_name);
        free(e->sc.note);
    }
    free(s->ev);
    free(s->path);
    memset(s, 0, sizeof *s);
}
