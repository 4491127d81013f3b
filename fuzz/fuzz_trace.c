/* libFuzzer target: the capture analyzer (tools/trace, library synack_trace)
 * on arbitrary files.
 *
 * Input: one byte of options, then the file. The options pick the output
 * (text, TSV, extended TSV, JSON, Zeek), the ladder picture, the
 * time-sequence graph, one stream and a BPF filter, so every path the
 * `synack trace` command can take on a file is reached. The file is written
 * where libpcap reads it; output goes to /dev/null. A file libpcap refuses
 * must give -1 (with a one-line reason), never a crash. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "run.h"
#include "tsg.h"

static char fz_path[64];
static FILE *sink;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!sink) {
        snprintf(fz_path, sizeof fz_path, "/tmp/synack-fuzz-trace-%ld.pcap", (long)getpid());
        sink = fopen("/dev/null", "w");
        FUZZ_CHECK(sink);
    }
    FILE *f = fopen(fz_path, "wb");
    FUZZ_CHECK(f);
    FUZZ_CHECK(fwrite(data + 1, 1, size - 1, f) == size - 1);
    FUZZ_CHECK(fclose(f) == 0);

    unsigned sel = data[0];
    static const enum tr_mode modes[] = {TR_OUT_TEXT, TR_OUT_TSV, TR_OUT_EXT, TR_OUT_JSON, TR_OUT_ZEEK};
    struct tr_opts o;
    memset(&o, 0, sizeof o);
    o.mode = modes[(sel & 7u) % 5u];
    o.stream = (sel & 0x08u) ? (long)((sel >> 6) & 1u) : -1;
    o.filter = (sel & 0x10u) ? "tcp port 80 or tcp[13] & 2 != 0" : NULL;
    o.svg_path = (sel & 0x20u) ? "/dev/null" : NULL;
    o.tsg_path = (sel & 0x40u) ? "/dev/null" : NULL;
    o.quiet = (sel & 0x80u) != 0;
    o.no_header = (sel & 0x01u) != 0;

    struct tr_counts counts;
    memset(&counts, 0, sizeof counts);
    int rc = tr_run_file(fz_path, &o, sink, &counts, true);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        FUZZ_CHECK(counts.tcp <= counts.frames && counts.shown <= counts.tcp);
        uint64_t skipped = 0;
        for (int s = 1; s < TR_SKIP_COUNT; s++)
            skipped += counts.skipped[s];
        FUZZ_CHECK(counts.tcp + skipped == counts.frames);
        if (o.tsg_path)
            (void)tr_tsg_file(fz_path, &o);
    }
    unlink(fz_path);
    return 0;
}
