/* packetdrill's --define (-D NAME=VALUE): symbols a script names and its
 * harness supplies (TFO_COOKIE, CMSG_LEVEL_IP, ...), and the one the runner
 * can supply itself, TFO_COOKIE, computed as Linux would for the run. */
#ifndef CONFORM_DEFINE_H
#define CONFORM_DEFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEFINE_MAX 16

struct script_defs {
    struct { char name[64], value[256]; } d[DEFINE_MAX];
    int n;
};

/* "NAME=VALUE" (a later NAME replaces an earlier one). Returns 0, or -1 with
 * a message in err (no '=', an empty or non-identifier NAME, too many). */
int defs_add(struct script_defs *d, const char *name_eq_value, char *err, size_t errlen);

/* NAME's value, or NULL. */
const char *defs_get(const struct script_defs *d, const char *name);

/* text with every defined word replaced by its value, as packetdrill's lexer
 * does: a whole [A-Za-z0-9_]+ word outside comments, "strings", `commands`,
 * %{ code }% and --option names. A malloc'd copy (the caller frees it);
 * NULL only when memory runs out. */
char *defs_apply(const struct script_defs *d, const char *text);

/* TFO_COOKIE as Linux's test harness defines it (google/packetdrill
 * run_all.py, the selftests' ksft_runner.sh): the RFC 7413 cookie Linux's
 * server makes for the script's client, i.e. SipHash-2-4 keyed with the
 * tcp_fastopen_key text ("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4", words
 * little-endian) over the SYN's source (remote) then destination (local)
 * address, both IPv4 or both IPv6. 16 hex digits into hex[17]; -1 if the
 * key or an address does not parse or the two families differ. */
int defs_tfo_cookie(const char *key_text, const char *remote_ip, const char *local_ip,
                    char hex[17]);

#endif
