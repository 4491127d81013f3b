/* Every frame of every shared capture, cut at every length and with random
 * bytes changed, goes through the decoder and the analysis: nothing may read
 * outside the frame (ASan/valgrind watch that) and what comes out must be
 * self-consistent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <pcap/pcap.h>

#include "analysis.h"
#include "decode.h"

struct fuzz {
    struct tr_table t;
    struct tr_frags frags;
    uint64_t num, decoded, skipped;
    uint32_t rng;
};

static uint32_t next_rand(uint32_t *s)
{
    /* xorshift32: deterministic, so a failure can be replayed */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void feed(struct fuzz *f, int lt, const uint8_t *frame, size_t caplen, size_t wirelen)
{
    /* A heap copy of exactly caplen bytes, so a read past it is caught. */
    uint8_t *copy = malloc(caplen ? caplen : 1);
    assert_non_null(copy);
    memcpy(copy, frame, caplen);
    struct tr_pkt p;
    memset(&p, 0, sizeof p);
    p.num = ++f->num;
    p.ts_ns = (int64_t)f->num * 1000;
    /* Through the reassembler: flipped bits make fragments of all shapes. */
    bool oom = false;
    enum tr_skip s = tr_decode_frags(&f->frags, p.ts_ns, lt, copy, caplen, wirelen, TR_DECODE_CSUM, &p, &oom);
    free(copy);
    assert_false(oom);
    assert_true(f->frags.mem <= TR_FRAG_MEM_MAX);
    if (s != TR_DECODED) {
        assert_true(s > TR_DECODED && s < TR_SKIP_COUNT);
        f->skipped++;
        return;
    }
    f->decoded++;
    if (p.kind != TR_TCP_PORTS_ONLY)
        assert_true(p.hdr_len >= 20 && p.hdr_len <= 60);
    if (p.kind == TR_TCP_OK)
        assert_true(p.captured_len <= p.len);
    assert_true(p.opt.sack_count <= WIRE_TCP_SACK_MAX);
    struct tr_result r;
    assert_int_equal(tr_analyse(&f->t, &p, &r), 0);
    if (p.kind != TR_TCP_PORTS_ONLY)
        assert_non_null(r.conv);
}

static void fuzz_file(struct fuzz *f, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    assert_non_null(pc);
    int lt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint8_t buf[65536];
    while (pcap_next_ex(pc, &h, &d) == 1) {
        size_t n = h->caplen < sizeof buf ? h->caplen : sizeof buf;
        feed(f, lt, d, n, h->len);
        for (size_t cut = 0; cut < n && cut < 128; cut++)
            feed(f, lt, d, cut, h->len);
        for (int k = 0; k < 8 && n; k++) {
            memcpy(buf, d, n);
            int flips = 1 + (int)(next_rand(&f->rng) % 4);
            for (int j = 0; j < flips; j++)
                buf[next_rand(&f->rng) % (n < 80 ? n : 80)] = (uint8_t)next_rand(&f->rng);
            feed(f, lt, buf, n, next_rand(&f->rng) % 2 ? h->len : n);
        }
    }
    pcap_close(pc);
}

static void test_fuzzed_frames(void **state)
{
    (void)state;
    const char *shared = getenv("SYNACK_SHARED");
    if (!shared)
        skip();
    const char *dirs[] = {"chrissanders-packets", "zeek", "tcpdump", "PcapPlusPlus", "suricata-verify"};
    struct fuzz f;
    memset(&f, 0, sizeof f);
    f.rng = 0x5eed1234u;
    assert_int_equal(tr_table_init(&f.t), 0);
    tr_frags_init(&f.frags);
    unsigned files = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/captures/%s", shared, dirs[i]);
        DIR *dir = opendir(path);
        if (!dir)
            continue;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (!strstr(e->d_name, ".pcap"))
                continue;
            char file[4352];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            fuzz_file(&f, file);
            files++;
        }
        closedir(dir);
    }
    if (files == 0)
        skip();
    printf("fuzzed %u captures: %llu frames decoded, %llu skipped with a reason\n", files,
           (unsigned long long)f.decoded, (unsigned long long)f.skipped);
    printf("the reassembler saw %llu fragments and completed %llu datagrams\n",
           (unsigned long long)f.frags.st.fragments, (unsigned long long)f.frags.st.reassembled);
    assert_true(f.decoded > 0 && f.skipped > 0 && f.frags.st.fragments > 0);
    tr_frags_free(&f.frags);
    tr_table_free(&f.t);
}

static void test_unknown_linktype_is_skipped(void **state)
{
    (void)state;
    static const uint8_t frame[64] = {0x45};
    struct tr_pkt p;
    memset(&p, 0, sizeof p);
    assert_false(tr_linktype_known(147));
    assert_int_equal(tr_decode(147, frame, sizeof frame, sizeof frame, 0, &p), TR_SKIP_LINKTYPE);
    assert_string_equal(tr_skip_reason(TR_SKIP_LINKTYPE), "unknown link type");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_linktype_is_skipped),
        cmocka_unit_test(test_fuzzed_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
