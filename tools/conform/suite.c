/* Many scripts at once: the pass/fail table, the expected-results gate. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            } else {
                b = nb;
            }
        }
    }
    fclose(f);
    if (b)
        b[n] = 0;
    return b;
}

int expected_lookup(const char *text, const char *path)
{
    size_t plen = strlen(path);
    for (const char *l = text; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t len = eol ? (size_t)(eol - l) : strlen(l);
        if (len > plen && l[0] != '#' && !strncmp(l, path, plen) && l[plen] == '\t') {
            const char *v = l + plen + 1;
            if (!strncmp(v, "pass", 4) && (v + 4 == l + len || v[4] == '\t'))
                return 1;
            if (!strncmp(v, "skip", 4) && (v + 4 == l + len || v[4] == '\t'))
                return 2;
            return 0;
        }
        l = eol ? eol + 1 : NULL;
    }
    return -1;
}

/* The first line of an error, without the "path:" prefix's directories. */
static void first_line(const char *err, char *out, size_t len)
{
    const char *nl = strchr(err, '\n');
    size_t n = nl ? (size_t)(nl - err) : strlen(err);
    if (n >= len)
        n = len - 1;
    memcpy(out, err, n);
    out[n] = 0;
}

int suite_scripts(const struct suite_cfg *cfg, char **paths, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        struct suite_result r;
        suite_run_one(cfg, paths[i], &r);
        bool ok = !strcmp(r.status, "PASS");
        if (!ok)
            bad++;
        if (ok)
            printf("%s: PASS%s\n", paths[i], cfg->parse_only ? " (parsed)" : "");
        else if (!strcmp(r.status, "SKIP"))
            printf("%s (SKIP)\n", r.error);
        else
            printf("%s\n", r.error[0] ? r.error : r.status);
        if (r.skipped)
            printf("%s: skipped %d command/code line(s) not run by synack: %s\n", paths[i],
                   r.skipped, r.skipped_lines);
        if (r.unhonoured[0])
            printf("%s: options not honoured: %s\n", paths[i], r.unhonoured);
        if (r.erratum[0])
            printf("%s: with the erratum of %s\n", paths[i], r.erratum);
    }
    return bad ? 1 : 0;
}

static void md_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 2 < len; in++) {
        if (*in == '|' || *in == '`') {
            out[o++] = '\\';
        }
        out[o++] = *in;
    }
    out[o] = 0;
}

/* Linux 6.18's result for a google/net/tcp script, from the reference TSV
 * beside the list ("rc<TAB>./dir/x.pkt<TAB>time<TAB>error"): "pass", "fail",
 * or "" when the file does not cover it. */
static const char *linux_result(const char *tsv, const char *entry)
{
    static const char prefix[] = "google/net/tcp/";
    if (!tsv || strncmp(entry, prefix, sizeof prefix - 1))
        return "";
    char key[1200];
    snprintf(key, sizeof key, "\t./%s\t", entry + sizeof prefix - 1);
    const char *hit = strstr(tsv, key);
    if (!hit)
        return "";
    const char *bol = hit;
    while (bol > tsv && bol[-1] != '\n')
        bol--;
    return bol[0] == '0' && bol[1] == '\t' ? "pass" : "fail";
}

/* A script that ran with errata, run again as shipped in the same mode: its
 * result is shown beside the corrected one's, so a table never hides what the
 * script's own text gives. Appends "as shipped: [mode ]STATUS[ at error]". */
static void as_shipped(const struct suite_cfg *cfg, int mode, const char *path, const char *root,
                       const char *col, char *out, size_t len)
{
    struct suite_cfg raw = *cfg;
    raw.ip_version = mode;
    raw.errata = NULL;
    struct suite_result r;
    suite_run_one(&raw, path, &r);
    char what[300] = "";
    /* lower case: an as-shipped failure is known (upper-case FAIL in a log is news) */
    for (char *c = r.status; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (strcmp(r.status, "pass")) {
        const char *e = r.error;
        size_t rl = strlen(root);
        if (!strncmp(e, root, rl) && e[rl] == '/')
            e += rl + 1;
        first_line(e, what, sizeof what);
    }
    size_t used = strlen(out);
    if (!used) {
        snprintf(out, len, "as shipped: %s %s%s%s", col, r.status, what[0] ? ", " : "", what);
        return;
    }
    /* later modes: the status only, unless the first error differs */
    bool same = what[0] && strstr(out, what);
    snprintf(out + used, len - used, "; %s %s%s%s", col, r.status,
             what[0] && !same ? ", " : "", what[0] && !same ? what : "");
}

int suite_main(const struct suite_cfg *cfg, const char *list, const char *root,
               const char *expected, const char *markdown)
{
    char *text = slurp(list);
    if (!text) {
        fprintf(stderr, "synack-conform: cannot read %s: %s\n", list, strerror(errno));
        return 2;
    }
    char *exp = NULL;
    if (expected) {
        exp = slurp(expected);
        if (!exp) {
            fprintf(stderr, "synack-conform: cannot read %s: %s\n", expected, strerror(errno));
            free(text);
            return 2;
        }
    }
    char rootbuf[4096];
    if (!root) {
        snprintf(rootbuf, sizeof rootbuf, "%s", list);
        root = dirname(rootbuf);
    }
    char tsvpath[4200];
    snprintf(tsvpath, sizeof tsvpath, "%s/linux-6.18-google-ipv4.tsv", root);
    char *linux_tsv = slurp(tsvpath); /* optional */
    FILE *md = NULL;
    if (markdown) {
        md = fopen(markdown, "w");
        if (!md) {
            fprintf(stderr, "synack-conform: cannot write %s: %s\n", markdown, strerror(errno));
            free(text);
            free(exp);
            return 2;
        }
    }
    /* each script in each mode: one row, a result column per mode */
    int modes[3] = {cfg->ip_version}, nmodes = 1;
    if (cfg->nmodes) {
        nmodes = cfg->nmodes;
        memcpy(modes, cfg->modes, sizeof modes);
    }
    static const char *const short_name[] = {"ipv4", "ipv6", "mapped"};
    const char *col[3];
    for (int m = 0; m < nmodes; m++)
        col[m] = short_name[modes[m] == 6 ? 1 : modes[m] == 46 ? 2 : 0];
    if (md) {
        fprintf(md, "| # | script |");
        for (int m = 0; m < nmodes; m++)
            fprintf(md, " %s |", nmodes == 1 ? "synack" : col[m]);
        fprintf(md, " Linux 6.18 | lines not run | first error |\n|---|---|");
        for (int m = 0; m < nmodes; m++)
            fprintf(md, "---|");
        fprintf(md, "---|---|---|\n");
    }
    int total = 0, passed[3] = {0}, skips[3] = {0}, with_errata[3] = {0}, regressions = 0, new_passes = 0,
        unlisted = 0;
    for (int m = 0; m < nmodes; m++)
        printf("%-7s ", nmodes == 1 ? "result" : col[m]);
    printf("%-60s %s\n", "script", "first error");
    if (exp)
        printf("(a failure the expected file lists is printed in lower case; one it does not, in capitals)\n");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = 0;
        if (!*line || *line == '#')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", root, line);
        total++;
        char status[3][16], shown[3][16];
        char first[720] = "", full[RUN_ERR_LEN] = "";
        bool first_is_skip = false;
        const char *mark = "";
        int skipped = 0;
        char skipped_lines[512] = "";
        char shipped[400] = ""; /* the as-shipped results of a script run with errata */
        for (int m = 0; m < nmodes; m++) {
            struct suite_cfg one = *cfg;
            one.ip_version = modes[m];
            struct suite_result r;
            suite_run_one(&one, path, &r);
            snprintf(status[m], sizeof status[m], "%s", r.status);
            snprintf(shown[m], sizeof shown[m], "%s", r.status);
            bool ok = !strcmp(r.status, "PASS");
            bool skip = !strcmp(r.status, "SKIP");
            passed[m] += ok;
            skips[m] += skip;
            if (r.erratum[0]) {
                as_shipped(cfg, modes[m], path, root, col[m], shipped, sizeof shipped);
                strcat(status[m], "*");
                strcat(shown[m], "*");
                with_errata[m] += ok;
            }
            if (m == 0 || !skipped) {
                skipped = r.skipped;
                snprintf(skipped_lines, sizeof skipped_lines, "%s", r.skipped_lines);
            }
            /* the first error of a run that ran wins over a SKIP's reason */
            if (!ok && (!first[0] || (first_is_skip && !skip))) {
                first_is_skip = skip;
                /* drop the root prefix so the table reads script:line */
                const char *e = r.error;
                size_t rl = strlen(root);
                if (!strncmp(e, root, rl) && e[rl] == '/')
                    e += rl + 1;
                char one_line[280];
                first_line(e, one_line, sizeof one_line);
                snprintf(first, sizeof first, "%s%s%s", m ? col[m] : "", m ? ": " : "", one_line);
                snprintf(full, sizeof full, "%s", r.error);
            }
            if (exp) {
                char key[8300];
                if (modes[m] == 6 || modes[m] == 46)
                    snprintf(key, sizeof key, "%s\t%s", ip_mode_name(modes[m]), line);
                else
                    snprintf(key, sizeof key, "%s", line);
                int want = expected_lookup(exp, key);
                if (want == 2 && skip) {
                    for (char *c = shown[m]; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                } else if (want == 2 && !ok) {
                    regressions++; /* a script that no longer reads as IPv4-only, say */
                    mark = " REGRESSION";
                } else if (want == 1 && !ok) {
                    regressions++;
                    mark = " REGRESSION";
                } else if (want == 0 && !ok) {
                    /* a known failure reads in lower case, so that upper-case
                     * FAIL in a log is always news (a regression, or a run
                     * without an expected file) */
                    for (char *c = shown[m]; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                } else if ((want == 0 || want == 2) && ok) {
                    new_passes++;
                    if (!*mark)
                        mark = " (new pass)";
                } else if (want < 0) {
                    unlisted++;
                    if (!*mark)
                        mark = " (not in expected file)";
                }
            }
        }
        if (shipped[0]) {
            size_t fl = strlen(first);
            snprintf(first + fl, sizeof first - fl, "%s%s", fl ? "; " : "", shipped);
        }
        for (int m = 0; m < nmodes; m++)
            printf("%-7s ", shown[m]);
        printf("%-60s %s%s\n", line, first, mark);
        if (cfg->verbose && full[0])
            printf("        %s\n", full);
        if (md) {
            char esc[1500];
            md_escape(first, esc, sizeof esc);
            fprintf(md, "| %d | %s |", total, line);
            for (int m = 0; m < nmodes; m++)
                fprintf(md, " %s |", status[m]);
            fprintf(md, " %s | %s | %s |\n", linux_result(linux_tsv, line),
                    skipped ? skipped_lines : "", esc);
        }
        fflush(stdout);
    }
    /* a SKIP is out of the count: the script does not allow that mode */
    for (int m = 0; m < nmodes; m++) {
        char skipped_note[48] = "";
        if (skips[m])
            snprintf(skipped_note, sizeof skipped_note, " (%d SKIP)", skips[m]);
        printf("%s%d/%d %s%s", m ? ", " : "", passed[m], total - skips[m],
               nmodes == 1 && !modes[0] ? "scripts passed" : ip_mode_name(modes[m]), skipped_note);
        if (md)
            fprintf(md, "%s%d/%d %s%s", m ? ", " : "\n", passed[m], total - skips[m],
                    nmodes == 1 && !modes[0] ? "scripts passed" : ip_mode_name(modes[m]),
                    skipped_note);
    }
    if (nmodes > 1 || modes[0])
        printf(" passed");
    int any_errata = 0;
    for (int m = 0; m < nmodes; m++)
        any_errata += with_errata[m];
    if (any_errata) {
        printf(" (* with an erratum:");
        for (int m = 0; m < nmodes; m++)
            printf("%s %d %s", m ? "," : "", with_errata[m], col[m]);
        printf(")");
    }
    if (exp)
        printf("; %d regression(s), %d new pass(es)%s", regressions, new_passes,
               new_passes ? " (update the expected-results file)" : "");
    if (unlisted)
        printf("; %d result(s) missing from the expected-results file", unlisted);
    printf("\n");
    if (md) {
        fprintf(md, "%s", nmodes > 1 || modes[0] ? " passed" : "");
        if (any_errata) {
            fprintf(md, " (* with an erratum:");
            for (int m = 0; m < nmodes; m++)
                fprintf(md, "%s %d %s", m ? "," : "", with_errata[m], col[m]);
            fprintf(md, ")");
        }
        fprintf(md, ".\n");
        fclose(md);
    }
    free(text);
    free(exp);
    free(linux_tsv);
    return regressions || unlisted ? 1 : 0;
}
