/* Sysctls a script sets in backquotes, as configuration hints (never run). */
#ifndef CONFORM_SYSCTL_H
#define CONFORM_SYSCTL_H

#include <stddef.h>

#include "script.h"

#define SYSCTL_MAX 64

struct sysctl_list {
    struct { char name[96], value[160]; } item[SYSCTL_MAX];
    int n;
};

/* From every backquoted command of s, and the .sh files they name (read
 * relative to the script's folder, never run); the last setting wins. */
void sysctl_collect(const struct script *s, struct sysctl_list *out);

/* One command run at its time in the script (`sysctl -q ...` mid-script): what
 * it sets, as sysctl_collect reads the setup. `ip tcp_metrics flush` (which
 * drops Linux's Fast Open cookie cache) is the item SYSCTL_METRICS_FLUSH. */
void sysctl_scan(const struct script *s, const char *text, struct sysctl_list *out);
#define SYSCTL_METRICS_FLUSH "tcp_metrics"
/* `tc qdisc add dev D root pfifo limit 0` ("drop": the device refuses every
 * packet, as Linux's NET_XMIT_DROP) and `tc qdisc delete dev D root`
 * ("none"): the item SYSCTL_QDISC, the word "qdisc:drop" / "qdisc:none". */
#define SYSCTL_QDISC "tc_qdisc"

/* "sysctl:net.ipv4.tcp_sack=1 sysctl:net.ipv4.tcp_wmem=4096:262144:4194304":
 * words for --so_flags (blanks and commas in values become ':'; the
 * metrics flush is "tcp_metrics:flush"). -1 if buf is too small. */
int sysctl_flags(const struct sysctl_list *l, char *buf, size_t len);

#endif
