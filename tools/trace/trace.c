/* `synack trace`: explains every TCP connection in pcap/pcapng captures. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "commands.h"
#include "decode.h"
#include "run.h"
#include "tsg.h"

static int usage(FILE *f)
{
    fputs("usage: synack trace [OPTIONS] FILE... [BPF FILTER]\n"
          "  FILE is a pcap or pcapng capture; '-' reads standard input.\n"
          "  --tsv          one row per TCP packet, the columns of tshark -T fields (truth/*.tsv)\n"
          "  --ext          the extended analysis columns and expert messages (truth/*.ext.tsv)\n"
          "  --json         packets and connections as JSON\n"
          "  --zeek         one conn.log-style line per connection (conn_state, history, sizes)\n"
          "  --no-header    leave out the TSV header line\n"
          "  --stream N     show only TCP stream N (Wireshark's tcp.stream)\n"
          "  -f EXPR        show only packets matching the BPF expression (analysis still sees all)\n"
          "  --svg FILE     write the ladder diagram of the shown stream as SVG\n"
          "  --tsg FILE     write the time-sequence graph of the shown stream as SVG\n"
          "  -q, --quiet    connections only, no packet lines or ladders\n"
          "  --idle-timeout S   report and forget an open connection after S seconds\n"
          "                     without packets (default 10800; 0: never)\n"
          "  --close-timeout S  the same for a closed one (FIN both ways or RST) or\n"
          "                     one of SYNs only (default 240, i.e. 2 MSL; 0: never)\n"
          "  --stats        connections, most live at once and peak memory on stderr\n"
          "Any argument after the files that is not a readable file is taken as the BPF filter.\n",
          f);
    return f == stdout ? 0 : 2;
}

static int parse_stream(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || end == s)
        return -1;
    *out = v;
    return 0;
}

static int fopen_check(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fclose(f);
    return 0;
}

static bool is_option_with_arg(const char *a)
{
    return !strcmp(a, "--stream") || !strcmp(a, "-f") || !strcmp(a, "--filter") || !strcmp(a, "--svg") ||
           !strcmp(a, "--tsg") || !strcmp(a, "--idle-timeout") || !strcmp(a, "--close-timeout");
}

/* Seconds as a timeout in ns; 0 means never (-1 in tr_opts). */
static int parse_timeout(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= 0) || v > 1e9)
        return -1;
    *out = v == 0 ? -1 : (int64_t)(v * 1e9);
    return 0;
}

int synack_cmd_trace(int argc, char **argv)
{
    struct tr_opts o = {.mode = TR_OUT_TEXT, .stream = -1};
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    char filter_buf[1024] = "";
    size_t nfiles = 0;
    if (!files) {
        fputs("synack trace: out of memory\n", stderr);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_option_with_arg(a) && i + 1 >= argc) {
            fprintf(stderr, "synack trace: %s needs a value\n", a);
            free(files);
            return 2;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            free(files);
            return usage(stdout);
        } else if (!strcmp(a, "--tsv")) {
            o.mode = TR_OUT_TSV;
        } else if (!strcmp(a, "--ext")) {
            o.mode = TR_OUT_EXT;
        } else if (!strcmp(a, "--zeek")) {
            o.mode = TR_OUT_ZEEK;
        } else if (!strcmp(a, "--json")) {
            o.mode = TR_OUT_JSON;
        } else if (!strcmp(a, "--no-header")) {
            o.no_header = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.quiet = true;
        } else if (!strcmp(a, "--stream")) {
            if (parse_stream(argv[++i], &o.stream) < 0) {
                fprintf(stderr, "synack trace: --stream wants a stream number, not '%s'\n", argv[i]);
                free(files);
                return 2;
            }
        } else if (!strcmp(a, "--idle-timeout") || !strcmp(a, "--close-timeout")) {
            if (parse_timeout(argv[++i], a[2] == 'i' ? &o.idle_timeout : &o.closed_timeout) < 0) {
                fprintf(stderr, "synack trace: %s wants seconds, not '%s'\n", a, argv[i]);
                free(files);
                return 2;
            }
        } else if (!strcmp(a, "--stats")) {
            o.stats = true;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--filter")) {
            o.filter = argv[++i];
        } else if (!strcmp(a, "--svg")) {
            o.svg_path = argv[++i];
        } else if (!strcmp(a, "--tsg")) {
            o.tsg_path = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "synack trace: unknown option '%s'\n", a);
            free(files);
            return usage(stderr);
        } else if (!o.filter && nfiles > 0 && strcmp(a, "-") && fopen_check(a) != 0) {
            /* tcpdump style: the words after the files form the filter. */
            size_t n = strlen(filter_buf);
            snprintf(filter_buf + n, sizeof filter_buf - n, "%s%s", n ? " " : "", a);
        } else {
            files[nfiles++] = a;
        }
    }
    if (filter_buf[0] && !o.filter)
        o.filter = filter_buf;
    if (nfiles == 0) {
        free(files);
        return usage(stderr);
    }
    struct tr_counts counts;
    int rc = 0;
    for (size_t i = 0; i < nfiles; i++) {
        memset(&counts, 0, sizeof counts);
        if (nfiles > 1 && o.mode == TR_OUT_TEXT)
            printf("==> %s <==\n", files[i]);
        if (tr_run_file(files[i], &o, stdout, &counts, i == 0) < 0) {
            rc = 1;
            continue;
        }
        if (o.tsg_path && tr_tsg_file(files[i], &o) < 0)
            rc = 1;
        const struct tr_frag_stats *fs = &counts.frags;
        if (fs->fragments)
            fprintf(stderr,
                    "synack trace: %s: %" PRIu64 " IP fragments, %" PRIu64 " datagrams reassembled; dropped: %" PRIu64
                    " with overlapping fragments, %" PRIu64 " over 65535 bytes, %" PRIu64 " timed out, %" PRIu64
                    " evicted (memory bound), %" PRIu64 " malformed fragments, %" PRIu64 " duplicates ignored\n",
                    files[i], fs->fragments, fs->reassembled, fs->overlaps, fs->too_big, fs->timeouts, fs->evicted,
                    fs->malformed, fs->duplicates);
        if (o.stats) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            fprintf(stderr,
                    "synack trace: %s: %" PRIu64 " TCP connections, at most %" PRIu64
                    " live at once; peak RSS %ld KiB\n",
                    files[i], counts.conns, counts.peak_open, ru.ru_maxrss);
        }
        uint64_t skipped = 0;
        for (int s = 1; s < TR_SKIP_COUNT; s++)
            skipped += counts.skipped[s];
        if (skipped || counts.bad_records) {
            fprintf(stderr, "synack trace: %s: %" PRIu64 " frames, %" PRIu64 " TCP, %" PRIu64 " skipped:", files[i],
                    counts.frames, counts.tcp, skipped);
            for (int s = 1; s < TR_SKIP_COUNT; s++)
                if (counts.skipped[s])
                    fprintf(stderr, " %" PRIu64 " %s;", counts.skipped[s], tr_skip_reason((enum tr_skip)s));
            if (counts.bad_records)
                fputs(" capture damaged at the end;", stderr);
            fputc('\n', stderr);
        }
    }
    fflush(stdout);
    free(files);
    return rc;
}
