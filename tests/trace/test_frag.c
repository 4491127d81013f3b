/* IP fragment reassembly (tools/trace/frag.c): RFC 791 §3.2 and RFC 8200
 * §4.5 reassembly, with the defences a capture of hostile traffic needs:
 * RFC 5722 (overlaps drop the datagram), the 65535-byte bound, timeouts and
 * a memory bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frag.h"
#include "wire/bytes.h"

#define SEC 1000000000ll

static uint8_t payload[70000];
static uint8_t hdr4[20] = {0x45, 0, 0, 0, 0, 7, 0x20, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};

/* An IPv4 fragment of payload bytes [lo, hi) of datagram `id`. */
static struct tr_frag_in v4(uint32_t id, uint32_t lo, uint32_t hi, int mf)
{
    struct tr_frag_in in;
    memset(&in, 0, sizeof in);
    in.af = 4;
    in.hdr = hdr4;
    in.hdr_len = 20;
    in.src[0] = 10, in.src[3] = 1;
    in.dst[0] = 10, in.dst[3] = 2;
    in.id = id;
    in.proto = 6;
    in.off = lo;
    in.mf = mf;
    in.data = payload + lo;
    in.len = in.caplen = hi - lo;
    return in;
}

static int add(struct tr_frags *f, int64_t t, struct tr_frag_in in, size_t *caplen, size_t *len,
               const uint8_t **out)
{
    const uint8_t *o = NULL;
    size_t c = 0, l = 0;
    int r = tr_frags_add(f, t, &in, &o, &c, &l);
    if (caplen)
        *caplen = c;
    if (len)
        *len = l;
    if (out)
        *out = o;
    return r;
}

static void setup_payload(void)
{
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
}

static void test_out_of_order_fragments_reassemble(void **state)
{
    struct tr_frags *fp = *state, f = *fp;
    size_t c, l;
    const uint8_t *o;
    assert_int_equal(add(&f, 0, v4(1, 2000, 2100, 0), NULL, NULL, NULL), 0); /* the last first */
    assert_int_equal(add(&f, 0, v4(1, 8, 2000, 1), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(1, 0, 8, 1), &c, &l, &o), 1); /* a tiny first fragment completes it */
    assert_int_equal(l, 20 + 2100);
    assert_int_equal(c, 20 + 2100);
    assert_int_equal(wire_get16(o + 2), 2120);     /* total length */
    assert_int_equal(wire_get16(o + 6) & 0x3fff, 0); /* no MF, no offset */
    assert_memory_equal(o + 20, payload, 2100);
    assert_int_equal(f.st.reassembled, 1);
    assert_int_equal(f.ndgram, 0);
    assert_int_equal(f.mem, 0);
    tr_frags_free(&f);
}

static void test_duplicate_is_ignored_overlap_drops_the_datagram(void **state)
{
    struct tr_frags *fp = *state, f = *fp;
    assert_int_equal(add(&f, 0, v4(1, 0, 1480, 1), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(1, 0, 1480, 1), NULL, NULL, NULL), 0); /* exact copy */
    assert_int_equal(f.st.duplicates, 1);
    assert_int_equal(add(&f, 0, v4(1, 1480, 2000, 0), NULL, NULL, NULL), 1);

    /* RFC 5722: an overlapping fragment discards the whole datagram, so the
     * later pieces cannot complete it. */
    assert_int_equal(add(&f, 0, v4(2, 0, 1480, 1), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(2, 1000, 2480, 1), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.overlaps, 1);
    assert_int_equal(f.ndgram, 0);
    assert_int_equal(add(&f, 0, v4(2, 2480, 3000, 0), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(2, 1480, 2480, 1), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.reassembled, 1);

    /* Two last fragments that end in different places. */
    assert_int_equal(add(&f, 0, v4(3, 1480, 2000, 0), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(3, 2000, 2480, 0), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.overlaps, 2);
    /* A middle fragment past the known end. */
    assert_int_equal(add(&f, 0, v4(4, 1480, 2000, 0), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(4, 2000, 2480, 1), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.overlaps, 3);
    tr_frags_free(&f);
}

static void test_bad_sizes_are_dropped(void **state)
{
    struct tr_frags *fp = *state, f = *fp;
    assert_int_equal(add(&f, 0, v4(1, 0, 13, 1), NULL, NULL, NULL), 0);  /* not a multiple of 8 */
    assert_int_equal(add(&f, 0, v4(1, 16, 16, 1), NULL, NULL, NULL), 0); /* empty */
    assert_int_equal(f.st.malformed, 2);
    /* Ping of death: the last fragment reaches past 65535 bytes. */
    assert_int_equal(add(&f, 0, v4(2, 0, 1480, 1), NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(2, 65528, 65528 + 100, 0), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.too_big, 1);
    assert_int_equal(f.ndgram, 0);
    /* 65 fragments of 8 bytes: more pieces than a datagram may have. */
    for (uint32_t i = 0; i < TR_FRAG_PIECES_MAX + 1; i++)
        assert_int_equal(add(&f, 0, v4(3, i * 8, i * 8 + 8, 1), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.malformed, 3);
    tr_frags_free(&f);
}

static void test_timeout_and_memory_bound(void **state)
{
    struct tr_frags *fp = *state, f = *fp;
    assert_int_equal(add(&f, 0, v4(1, 0, 1480, 1), NULL, NULL, NULL), 0);
    /* 30 s later (Linux's ipfrag_time) the first half is gone. */
    assert_int_equal(add(&f, 31 * SEC, v4(1, 1480, 2000, 0), NULL, NULL, NULL), 0);
    assert_int_equal(f.st.timeouts, 1);
    assert_int_equal(f.ndgram, 1);
    tr_frags_free(&f);

    /* A flood of incomplete 60 KB datagrams never holds more than the bound. */
    tr_frags_init(&f);
    for (uint32_t id = 0; id < 200; id++) {
        assert_int_equal(add(&f, 0, v4(id, 0, 1480, 1), NULL, NULL, NULL), 0);
        assert_int_equal(add(&f, 0, v4(id, 60000, 60008, 1), NULL, NULL, NULL), 0);
        assert_true(f.mem <= TR_FRAG_MEM_MAX);
    }
    assert_true(f.st.evicted > 100);
    /* The newest still completes. */
    size_t c, l;
    for (uint32_t lo = 1480; lo < 60000; lo += 1480)
        add(&f, 0, v4(199, lo, lo + 1480 < 60000 ? lo + 1480 : 60000, 1), NULL, NULL, NULL);
    assert_int_equal(add(&f, 0, v4(199, 60008, 60100, 0), &c, &l, NULL), 1);
    assert_int_equal(l, 20 + 60100);
    tr_frags_free(&f);
}

static void test_uncaptured_tail_and_ipv6(void **state)
{
    struct tr_frags *fp = *state, f = *fp;
    size_t c, l;
    const uint8_t *o;
    /* The snaplen kept 100 bytes of the second fragment: the datagram is
     * whole in length, captured up to there. */
    struct tr_frag_in in = v4(1, 1480, 3000, 0);
    in.caplen = 100;
    assert_int_equal(add(&f, 0, in, NULL, NULL, NULL), 0);
    assert_int_equal(add(&f, 0, v4(1, 0, 1480, 1), &c, &l, NULL), 1);
    assert_int_equal(l, 20 + 3000);
    assert_int_equal(c, 20 + 1580);

    /* IPv6: the key has no protocol, the Fragment header disappears. */
    uint8_t h6[40] = {0x60};
    h6[6] = 44;
    struct tr_frag_in a = v4(9, 0, 1448, 1), b = v4(9, 1448, 2000, 0);
    a.af = b.af = 6;
    a.hdr = b.hdr = h6;
    a.hdr_len = b.hdr_len = 40;
    b.proto = 99; /* only the first fragment's next header counts */
    assert_int_equal(add(&f, 7 * SEC, b, NULL, NULL, NULL), 0);
    /* 59 s later it is still within RFC 8200's 60 s. */
    assert_int_equal(add(&f, 66 * SEC, a, &c, &l, &o), 1);
    assert_int_equal(l, 40 + 2000);
    assert_int_equal(wire_get16(o + 4), 2000);
    assert_int_equal(o[6], 6);
    assert_memory_equal(o + 40, payload, 2000);
    tr_frags_free(&f);
}

static int setup(void **state)
{
    static struct tr_frags f;
    setup_payload();
    tr_frags_init(&f);
    *state = &f;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_out_of_order_fragments_reassemble, setup),
        cmocka_unit_test_setup(test_duplicate_is_ignored_overlap_drops_the_datagram, setup),
        cmocka_unit_test_setup(test_bad_sizes_are_dropped, setup),
        cmocka_unit_test_setup(test_timeout_and_memory_bound, setup),
        cmocka_unit_test_setup(test_uncaptured_tail_and_ipv6, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
