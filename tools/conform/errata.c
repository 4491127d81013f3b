/* Errata: a script line replaced by its upstream correction (errata.h). The
 * runner keeps them out of ../shared/conformance, which stays as taken, so
 * every amended line is listed in one file with where it came from. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errata.h"

#define FIELDS 5

/* A row's fields, split in place of a copy of the row. */
struct row {
    char *buf;
    char *f[FIELDS];
};

static int split_row(const char *l, size_t len, struct row *r)
{
    r->buf = malloc(len + 1);
    if (!r->buf)
        abort();
    memcpy(r->buf, l, len);
    r->buf[len] = 0;
    if (len && r->buf[len - 1] == '\r')
        r->buf[len - 1] = 0;
    char *q = r->buf;
    for (int i = 0; i < FIELDS; i++) {
        r->f[i] = q;
        q = strchr(q, '\t');
        if (i < FIELDS - 1) {
            if (!q)
                return -1;
            *q++ = 0;
        } else if (q) {
            return -1; /* a sixth field */
        }
    }
    return 0;
}

static bool applies(const char *script, const char *path)
{
    size_t ls = strlen(script), lp = strlen(path);
    if (!ls)
        return false;
    if (lp == ls)
        return !strcmp(script, path);
    return lp > ls && path[lp - ls - 1] == '/' && !strcmp(path + lp - ls, script);
}

/* Line n (1-based) of text: its start and length without the newline. */
static const char *nth_line(const char *text, long n, size_t *len)
{
    const char *l = text;
    for (long i = 1; i < n; i++) {
        l = strchr(l, '\n');
        if (!l)
            return NULL;
        l++;
    }
    if (!*l && n > 1 && l[-1] == '\n')
        return NULL; /* past the last line */
    const char *eol = strchr(l, '\n');
    *len = eol ? (size_t)(eol - l) : strlen(l);
    if (*len && l[*len - 1] == '\r')
        (*len)--;
    return l;
}

static int replace_line(char **text, const char *at, size_t oldlen, const char *with)
{
    size_t head = (size_t)(at - *text), wl = strlen(with), tail = strlen(at + oldlen);
    char *out = malloc(head + wl + tail + 1);
    if (!out)
        abort();
    memcpy(out, *text, head);
    memcpy(out + head, with, wl);
    memcpy(out + head + wl, at + oldlen, tail + 1);
    *text = out;
    return 0;
}

int errata_apply(const char *table, const char *path, char **text, char *note, size_t notelen,
                 char *err, size_t errlen)
{
    int applied = 0, rowno = 0;
    char *orig = *text;
    if (notelen)
        note[0] = 0;
    size_t used = 0;
    for (const char *l = table; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t len = eol ? (size_t)(eol - l) : strlen(l);
        const char *next = eol ? eol + 1 : NULL;
        rowno++;
        if (!len || l[0] == '#' || (len == 1 && l[0] == '\r')) {
            l = next;
            continue;
        }
        struct row r;
        if (split_row(l, len, &r)) {
            snprintf(err, errlen, "errata row %d: not 5 tab-separated fields", rowno);
            goto fail_row;
        }
        if (!applies(r.f[0], path)) {
            free(r.buf);
            l = next;
            continue;
        }
        char *end;
        long n = strtol(r.f[1], &end, 10);
        if (*end || n < 1 || !r.f[4][0]) {
            snprintf(err, errlen, "errata row %d: want a line number and a source", rowno);
            goto fail_row;
        }
        size_t have;
        const char *at = nth_line(*text, n, &have);
        if (!at || have != strlen(r.f[2]) || memcmp(at, r.f[2], have)) {
            snprintf(err, errlen,
                     "%s:%ld: the erratum of row %d does not apply: the line is not '%s' "
                     "as shipped", path, n, rowno, r.f[2]);
            goto fail_row;
        }
        char *before = *text;
        replace_line(text, at, have, r.f[3]);
        if (before != orig)
            free(before);
        applied++;
        if (used < notelen)
            used += (size_t)snprintf(note + used, notelen - used, "%sline %ld (%s)",
                                     applied > 1 ? "; " : "", n, r.f[4]);
        free(r.buf);
        l = next;
        continue;
    fail_row:
        free(r.buf);
        if (*text != orig)
            free(*text);
        *text = orig;
        return -1;
    }
    return applied;
}
