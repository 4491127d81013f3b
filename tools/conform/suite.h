/* Running many scripts: per-script results, the table, expected results. */
#ifndef CONFORM_SUITE_H
#define CONFORM_SUITE_H

#include <stdbool.h>

#include "define.h"
#include "modes.h"
#include "run.h"

#define SUITE_MAX_OVERRIDE 16

struct suite_cfg {
    const char *so, *so_flags;
    bool verbose, parse_only;
    bool pass_sysctls;        /* hand the script's sysctls to the library as sysctl: words */
    int timeout_secs;
    /* --ip_version: the mode of this run (4, 6, 46; 0 = the script's own,
     * default ipv4); a script that pins another mode is SKIPped. For a list,
     * every mode in modes[] is run (default: ipv4 only). */
    int ip_version;
    int modes[3], nmodes;
    struct { const char *name, *value; } override[SUITE_MAX_OVERRIDE];
    int noverride;
    struct script_defs defs;  /* -D / --define NAME=VALUE */
    const char *errata;       /* --errata: the file's text (errata.h), or NULL */
};

struct suite_result {
    char status[16];          /* PASS FAIL PARSE SKIP ERROR CRASH TIMEOUT */
    int skipped;
    char skipped_lines[512];
    char unhonoured[256];
    char erratum[256];        /* the errata applied: "line N (source)", or "" */
    char error[RUN_ERR_LEN];
};

/* One script in a child process (main.c). */
int suite_run_one(const struct suite_cfg *cfg, const char *path, struct suite_result *out);

/* Scripts named on the command line: packetdrill-style output; exit status 0 if all passed. */
int suite_scripts(const struct suite_cfg *cfg, char **paths, int n);

/* A list file (one path per line, relative to root): a table, and with an
 * expected-results file, exit 1 on any regression (expected pass, now not).
 * With markdown, also write the table there. */
int suite_main(const struct suite_cfg *cfg, const char *list, const char *root,
               const char *expected, const char *markdown);

/* Expected-results file: "path<TAB>pass|fail|skip[<TAB>comment]" lines for the
 * ipv4 runs, "MODE<TAB>path<TAB>pass|fail" for the others (MODE ipv6 or
 * ipv4-mapped-ipv6), '#' comments. Returns the status recorded for key (the
 * path, or "MODE<TAB>path"): 1 pass, 0 fail, 2 skip (the script does not
 * allow that mode: a run that neither skips nor passes is a regression), -1
 * not listed. */
int expected_lookup(const char *text, const char *path);

#endif
