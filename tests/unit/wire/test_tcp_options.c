/* TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): parsing, the malformed
 * length rules, Linux's wrong-length behaviour, and emitting in the byte
 * layout Linux's tcp_options_write produces, checked against real SYNs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire/bytes.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#include "real_packets.h"
#include "wire_test_util.h"

/* The option bytes of a real IPv4 packet (option-less IP header). */
static const uint8_t *real_opts(const uint8_t *pkt, size_t *len)
{
    assert_int_equal(pkt[0], 0x45);
    size_t hl = (size_t)(pkt[20 + 12] >> 4) * 4;
    *len = hl - 20;
    return pkt + 40;
}

/* Parses a block given as bytes, from an exactly-sized heap copy. */
static int parse_block(const uint8_t *p, size_t len, struct wire_tcp_opts *o)
{
    uint8_t *b = exact_copy(p, len);
    assert_non_null(b);
    int r = wire_tcp_parse_opts(b, len, o);
    free(b);
    return r;
}

/* Builds a 20-byte header followed by the given option bytes, padded with
 * EOL to a multiple of 4, and parses it as a whole segment. */
static int parse_segment_with(const uint8_t *opts, size_t olen, struct wire_tcp *t)
{
    uint8_t seg[60] = {0};
    size_t padded = (olen + 3) & ~(size_t)3;
    assert_true(padded <= 40);
    memcpy(seg + 20, opts, olen);
    seg[12] = (uint8_t)((20 + padded) / 4 << 4);
    seg[13] = WIRE_TCP_ACK;
    uint8_t *b = exact_copy(seg, 20 + padded);
    int r = wire_tcp_parse(b, 20 + padded, t);
    free(b);
    return r;
}

static void test_opt_real_syn_without_timestamps(void **state)
{
    (void)state;
    /* tshark: MSS 1460, NOP, WS 2, NOP, NOP, SACK_PERM. */
    size_t len;
    const uint8_t *p = real_opts(pkt_hs_syn, &len);
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(p, len, &o), WIRE_OK);
    assert_true(o.has_mss && o.has_wscale && o.sack_perm);
    assert_false(o.has_ts);
    assert_int_equal(o.mss, 1460);
    assert_int_equal(o.wscale, 2);
    static const uint8_t kinds[] = {2, 1, 3, 1, 1, 4};
    assert_int_equal(o.nkinds, sizeof kinds);
    assert_memory_equal(o.kinds, kinds, sizeof kinds);
    assert_int_equal(o.unknown, 0);
    assert_int_equal(o.bad_len, 0);
}

static void test_opt_real_syn_with_timestamps(void **state)
{
    (void)state;
    /* tshark: MSS 1460, SACK_PERM, TSval 417031 TSecr 0, NOP, WS 7. */
    size_t len;
    const uint8_t *p = real_opts(pkt_linux_syn, &len);
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(p, len, &o), WIRE_OK);
    assert_int_equal(o.mss, 1460);
    assert_true(o.sack_perm);
    assert_true(o.has_ts);
    assert_int_equal(o.ts_val, 417031);
    assert_int_equal(o.ts_ecr, 0);
    assert_int_equal(o.wscale, 7);
    static const uint8_t kinds[] = {2, 4, 8, 1, 3};
    assert_int_equal(o.nkinds, sizeof kinds);
    assert_memory_equal(o.kinds, kinds, sizeof kinds);
}

static void test_opt_timestamps_on_data_segment(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *p = real_opts(pkt_linux_get, &len);
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(p, len, &o), WIRE_OK);
    assert_true(o.has_ts);
    assert_int_equal(o.ts_val, 417031);
    assert_int_equal(o.ts_ecr, 269260);
    assert_false(o.has_mss || o.has_wscale || o.sack_perm);
    assert_int_equal(o.sack_count, 0);
}

/* The aligned block (NOP NOP TS) read at once gives what the general walk
 * gives for the same option in another layout, with the kinds in order, and
 * a parse that leaves nothing from the one before. */
static void test_opt_aligned_timestamps_read_as_the_general_walk(void **state)
{
    (void)state;
    const uint8_t aligned[12] = {1, 1, 8, 10, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0};
    const uint8_t trailing[12] = {8, 10, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0, 1, 1};
    const uint8_t syn[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7};
    struct wire_tcp_opts a, b;
    assert_int_equal(parse_block(syn, sizeof syn, &a), WIRE_OK); /* leaves mss, wscale, sackOK */
    assert_int_equal(parse_block(aligned, sizeof aligned, &a), WIRE_OK);
    assert_int_equal(parse_block(trailing, sizeof trailing, &b), WIRE_OK);
    assert_true(a.has_ts && b.has_ts);
    assert_int_equal(a.ts_val, 0x01020304);
    assert_int_equal(a.ts_ecr, 0xa0b0c0d0u);
    assert_int_equal(a.ts_val, b.ts_val);
    assert_int_equal(a.ts_ecr, b.ts_ecr);
    assert_false(a.has_mss || a.has_wscale || a.sack_perm);
    assert_int_equal(a.sack_count, 0);
    assert_int_equal(a.unknown + a.bad_len, 0);
    assert_int_equal(a.nkinds, 3);
    assert_int_equal(a.kinds[0], WIRE_TCPOPT_NOP);
    assert_int_equal(a.kinds[1], WIRE_TCPOPT_NOP);
    assert_int_equal(a.kinds[2], WIRE_TCPOPT_TS);
    /* a 12-byte block that only starts like it takes the general walk */
    const uint8_t wrong_len[12] = {1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0, 1};
    assert_int_equal(parse_block(wrong_len, sizeof wrong_len, &a), WIRE_OK);
    assert_false(a.has_ts);
    assert_int_equal(a.bad_len, 1);
}

static void test_opt_sack_one_block_real(void **state)
{
    (void)state;
    /* tshark tcp_dupack frame 1: TSval 22247173 TSecr 1332354, SACK
     * 0x4e23f262-0x4e2407c2 (relative 5473-10945). */
    size_t len;
    const uint8_t *p = real_opts(pkt_dupack_sack1, &len);
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(p, len, &o), WIRE_OK);
    assert_int_equal(o.ts_val, 22247173);
    assert_int_equal(o.ts_ecr, 1332354);
    assert_int_equal(o.sack_count, 1);
    assert_int_equal(o.sack[0].left, 0x4e23f262u);
    assert_int_equal(o.sack[0].right, 0x4e2407c2u);
}

static void test_opt_sack_two_blocks_real(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *p = real_opts(pkt_sack2, &len);
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(p, len, &o), WIRE_OK);
    assert_int_equal(o.sack_count, 2);
    assert_int_equal(o.sack[0].left, 0xfd48cefau);
    assert_int_equal(o.sack[0].right, 0xfd48d490u);
    assert_int_equal(o.sack[1].left, 0xfd48b30cu);
    assert_int_equal(o.sack[1].right, 0xfd48c3ceu);
    assert_false(o.has_ts);
}

static void test_opt_sack_one_to_four_blocks(void **state)
{
    (void)state;
    for (unsigned nb = 1; nb <= 4; nb++) {
        uint8_t b[40] = {WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_SACK, (uint8_t)(2 + 8 * nb)};
        for (unsigned i = 0; i < nb; i++) {
            wire_put32(b + 4 + 8 * i, 1000 * (i + 1));
            wire_put32(b + 8 + 8 * i, 1000 * (i + 1) + 500);
        }
        struct wire_tcp_opts o;
        assert_int_equal(parse_block(b, 4 + 8 * nb, &o), WIRE_OK);
        assert_int_equal(o.sack_count, nb);
        assert_int_equal(o.bad_len, 0);
        for (unsigned i = 0; i < nb; i++) {
            assert_int_equal(o.sack[i].left, 1000 * (i + 1));
            assert_int_equal(o.sack[i].right, 1000 * (i + 1) + 500);
        }
    }
}

static void test_opt_eol_ends_the_list(void **state)
{
    (void)state;
    /* Whatever follows EOL is padding, even if it looks like an option. */
    static const uint8_t b[] = {WIRE_TCPOPT_NOP, WIRE_TCPOPT_EOL, WIRE_TCPOPT_MSS, 4, 0x05, 0xb4, 0, 1};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_false(o.has_mss);
    assert_int_equal(o.nkinds, 2);
    assert_int_equal(o.kinds[1], WIRE_TCPOPT_EOL);
    /* Even a malformed length after EOL does not reject the block. */
    static const uint8_t c[] = {WIRE_TCPOPT_EOL, 0x22, 0x00, 0x01};
    assert_int_equal(parse_block(c, sizeof c, &o), WIRE_OK);
}

static void test_opt_nop_is_one_byte(void **state)
{
    (void)state;
    uint8_t b[40];
    memset(b, WIRE_TCPOPT_NOP, sizeof b);
    b[36] = WIRE_TCPOPT_WSCALE;
    b[37] = 3;
    b[38] = 14;
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, 39, &o), WIRE_OK);
    assert_true(o.has_wscale);
    assert_int_equal(o.wscale, 14);
    assert_int_equal(o.nkinds, 37);
}

static void test_opt_wscale_above_14_reported_as_sent(void **state)
{
    (void)state;
    /* RFC 7323 §2.3: the receiver clamps to 14 and logs; the codec reports
     * what was on the wire so that decision stays in one place. */
    static const uint8_t b[] = {WIRE_TCPOPT_WSCALE, 3, 200, WIRE_TCPOPT_NOP};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.wscale, 200);
}

static void test_opt_unknown_skipped_by_length(void **state)
{
    (void)state;
    /* Kind 30 (MPTCP) with 6 bytes of body, then MSS. */
    static const uint8_t b[] = {30, 8, 1, 2, 3, 4, 5, 6, WIRE_TCPOPT_MSS, 4, 0x02, 0x18};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.unknown, 1);
    assert_true(o.has_mss);
    assert_int_equal(o.mss, 536);
    assert_int_equal(o.nkinds, 2);
}

static void test_rfc7413_real_experimental_cookie_request(void **state)
{
    (void)state;
    /* zeek tcp-fast-open frame 1: MSS, SACK_PERM, TS, NOP, WS, then the
     * experimental TFO option (kind 254, length 4, magic f989): a cookie
     * request in the pre-RFC form. */
    size_t len;
    const uint8_t *p = real_opts(pkt_tfo_syn, &len);
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(p, len, &o), WIRE_OK);
    assert_int_equal(o.unknown, 0);
    assert_int_equal(o.fo_kind, WIRE_TCPOPT_EXP);
    assert_int_equal(o.fo_len, 0);
    assert_int_equal(o.kinds[o.nkinds - 1], 254);
    assert_int_equal(o.mss, 1460);
    assert_int_equal(o.ts_val, 14248099);
    assert_int_equal(o.wscale, 7);
}

/* RFC 7413 §4.1.1: kind 34 carries an empty request or a 4..16 byte cookie. */
static void test_rfc7413_4_1_1_cookie_parsed(void **state)
{
    (void)state;
    static const uint8_t b[] = {34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(o.fo_len, 8);
    assert_memory_equal(o.fo_cookie, b + 2, 8);
    assert_int_equal(o.bad_len, 0);
    static const uint8_t req[] = {34, 2, 1, 1};
    assert_int_equal(parse_block(req, sizeof req, &o), WIRE_OK);
    assert_int_equal(o.fo_kind, WIRE_TCPOPT_FASTOPEN);
    assert_int_equal(o.fo_len, 0);
}

/* RFC 7413 §4.1.1: a cookie shorter than 4, longer than 16, or (Linux) odd
 * is ignored and counted; the segment stays good. */
static void test_rfc7413_4_1_1_bad_cookie_length_ignored(void **state)
{
    (void)state;
    static const uint8_t shortc[] = {34, 4, 1, 2};
    static const uint8_t odd[] = {34, 7, 1, 2, 3, 4, 5, 1};
    static const uint8_t longc[] = {34, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    const uint8_t *blocks[] = {shortc, odd, longc};
    size_t lens[] = {sizeof shortc, sizeof odd, sizeof longc};
    for (int i = 0; i < 3; i++) {
        struct wire_tcp_opts o;
        assert_int_equal(parse_block(blocks[i], lens[i], &o), WIRE_OK);
        assert_int_equal(o.fo_kind, 0);
        assert_int_equal(o.bad_len, 1);
    }
}

/* RFC 6994: kind 254 is Fast Open only with the magic 0xF989. */
static void test_rfc7413_experimental_needs_magic(void **state)
{
    (void)state;
    static const uint8_t good[] = {254, 8, 0xf9, 0x89, 0xaa, 0xbb, 0xcc, 0xdd};
    static const uint8_t other[] = {254, 8, 0x12, 0x34, 0xaa, 0xbb, 0xcc, 0xdd};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(good, sizeof good, &o), WIRE_OK);
    assert_int_equal(o.fo_kind, WIRE_TCPOPT_EXP);
    assert_int_equal(o.fo_len, 4);
    assert_memory_equal(o.fo_cookie, good + 4, 4);
    assert_int_equal(parse_block(other, sizeof other, &o), WIRE_OK);
    assert_int_equal(o.fo_kind, 0);
    assert_int_equal(o.unknown, 1);
}

/* Linux's SYN-ACK with a cookie: mss, sackOK, TS, nop, wscale, FO cookie,
 * nop, nop (packetdrill fastopen/server/simple1.pkt); and the client's
 * request: FO, nop, nop after wscale. Both round-trip. */
static void test_rfc7413_emit_linux_layout(void **state)
{
    (void)state;
    struct wire_tcp_opts o = {0};
    o.has_mss = true, o.mss = 1460, o.sack_perm = true, o.has_ts = true, o.ts_val = 10000, o.ts_ecr = 1;
    o.has_wscale = true, o.wscale = 8;
    o.fo_kind = WIRE_TCPOPT_FASTOPEN, o.fo_len = 8;
    static const uint8_t ck[8] = {0x00, 0xab, 0xaa, 0xab, 0xe8, 0xe9, 0x54, 0xc2};
    memcpy(o.fo_cookie, ck, 8);
    uint8_t buf[40];
    assert_int_equal(wire_tcp_opts_len(&o), 32);
    assert_int_equal(wire_tcp_opts_emit(buf, sizeof buf, &o), 32);
    static const uint8_t tail[] = {34, 10, 0x00, 0xab, 0xaa, 0xab, 0xe8, 0xe9, 0x54, 0xc2, 1, 1};
    assert_memory_equal(buf + 20, tail, sizeof tail);
    struct wire_tcp_opts back;
    assert_int_equal(parse_block(buf, 32, &back), WIRE_OK);
    assert_int_equal(back.fo_len, 8);
    assert_memory_equal(back.fo_cookie, ck, 8);

    struct wire_tcp_opts r = {0};
    r.fo_kind = WIRE_TCPOPT_EXP; /* experimental request: 254, 4, f9 89 */
    assert_int_equal(wire_tcp_opts_emit(buf, sizeof buf, &r), 4);
    static const uint8_t exp_req[] = {254, 4, 0xf9, 0x89};
    assert_memory_equal(buf, exp_req, 4);
    r.fo_kind = WIRE_TCPOPT_FASTOPEN;
    assert_int_equal(wire_tcp_opts_emit(buf, sizeof buf, &r), 4);
    static const uint8_t req[] = {34, 2, 1, 1};
    assert_memory_equal(buf, req, 4);
    r.fo_len = 17;
    assert_int_equal(wire_tcp_opts_emit(buf, sizeof buf, &r), WIRE_ESPACE);
}

static void test_opt_unknown_count_saturates(void **state)
{
    (void)state;
    /* A block longer than any TCP header (callers may parse other
     * containers): 300 unknown options must not wrap the counter to 44. */
    uint8_t b[600];
    for (size_t i = 0; i < sizeof b; i += 2) {
        b[i] = 99;
        b[i + 1] = 2;
    }
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.unknown, 255);
    assert_int_equal(o.nkinds, WIRE_TCP_OPT_MAX);
    for (size_t i = 0; i < sizeof b; i += 2)
        b[i] = WIRE_TCPOPT_MSS; /* length 2: wrong for MSS */
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.bad_len, 255);
}

static void test_opt_len_zero_rejects_segment(void **state)
{
    (void)state;
    static const uint8_t known[] = {WIRE_TCPOPT_MSS, 0, 0x05, 0xb4};
    static const uint8_t unknown[] = {77, 0, 0, 0};
    struct wire_tcp_opts o;
    struct wire_tcp t;
    assert_int_equal(parse_block(known, sizeof known, &o), WIRE_EOPTLEN);
    assert_int_equal(parse_block(unknown, sizeof unknown, &o), WIRE_EOPTLEN);
    assert_int_equal(parse_segment_with(known, sizeof known, &t), WIRE_EOPTLEN);
    assert_int_equal(parse_segment_with(unknown, sizeof unknown, &t), WIRE_EOPTLEN);
}

static void test_opt_len_one_rejects_segment(void **state)
{
    (void)state;
    static const uint8_t known[] = {WIRE_TCPOPT_NOP, WIRE_TCPOPT_TS, 1, 0};
    static const uint8_t unknown[] = {200, 1, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP};
    struct wire_tcp_opts o;
    struct wire_tcp t;
    assert_int_equal(parse_block(known, sizeof known, &o), WIRE_EOPTLEN);
    assert_int_equal(parse_block(unknown, sizeof unknown, &o), WIRE_EOPTLEN);
    assert_int_equal(parse_segment_with(known, sizeof known, &t), WIRE_EOPTLEN);
    assert_int_equal(parse_segment_with(unknown, sizeof unknown, &t), WIRE_EOPTLEN);
}

static void test_opt_len_past_header_rejects_segment(void **state)
{
    (void)state;
    struct wire_tcp_opts o;
    struct wire_tcp t;
    /* Timestamps claiming 10 bytes in an 8-byte option area. */
    static const uint8_t ts[] = {WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_TS, 10, 0, 0, 0, 1};
    assert_int_equal(parse_block(ts, sizeof ts, &o), WIRE_EOPTLEN);
    assert_int_equal(parse_segment_with(ts, sizeof ts, &t), WIRE_EOPTLEN);
    /* One byte too long, for every length an unknown option could have. */
    for (size_t olen = 2; olen <= 40; olen++) {
        uint8_t b[40] = {0};
        b[0] = 99;
        b[1] = (uint8_t)(olen + 1);
        assert_int_equal(parse_block(b, olen, &o), WIRE_EOPTLEN);
        b[1] = (uint8_t)olen;
        assert_int_equal(parse_block(b, olen, &o), WIRE_OK);
    }
    /* The segment's option area ends at the data offset even though the
     * buffer goes on: the payload is not option space. */
    uint8_t seg[32] = {0};
    seg[12] = 6 << 4;
    seg[20] = WIRE_TCPOPT_NOP;
    seg[21] = WIRE_TCPOPT_NOP;
    seg[22] = 99;
    seg[23] = 4; /* would end inside the payload */
    assert_int_equal(wire_tcp_parse(seg, sizeof seg, &t), WIRE_EOPTLEN);
}

static void test_opt_kind_without_length_byte_rejects_segment(void **state)
{
    (void)state;
    /* A non-NOP, non-EOL kind in the last byte has no room for a length. */
    static const uint8_t b[] = {WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_WSCALE};
    struct wire_tcp_opts o;
    struct wire_tcp t;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_EOPTLEN);
    assert_int_equal(parse_segment_with(b, sizeof b, &t), WIRE_EOPTLEN);
}

static void test_opt_known_wrong_length_ignored_and_counted(void **state)
{
    (void)state;
    /* Linux's tcp_parse_options accepts each kind only at its own length and
     * otherwise skips it; the segment stays valid. */
    static const struct {
        uint8_t bytes[12];
        size_t len;
    } cases[] = {
        {{WIRE_TCPOPT_MSS, 3, 5}, 3},
        {{WIRE_TCPOPT_MSS, 5, 5, 0xb4, 0}, 5},
        {{WIRE_TCPOPT_WSCALE, 2}, 2},
        {{WIRE_TCPOPT_WSCALE, 4, 7, 0}, 4},
        {{WIRE_TCPOPT_SACK_PERM, 3, 0}, 3},
        {{WIRE_TCPOPT_TS, 8, 0, 0, 0, 1, 0, 0}, 8},
        {{WIRE_TCPOPT_TS, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        {{WIRE_TCPOPT_SACK, 2}, 2},                            /* no blocks */
        {{WIRE_TCPOPT_SACK, 9, 0, 0, 0, 1, 0, 0, 0}, 9},        /* not whole blocks */
        {{WIRE_TCPOPT_SACK, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0}, 11}, /* 1.125 blocks */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct wire_tcp_opts o;
        struct wire_tcp t;
        assert_int_equal(parse_block(cases[i].bytes, cases[i].len, &o), WIRE_OK);
        assert_int_equal(o.bad_len, 1);
        assert_false(o.has_mss || o.has_wscale || o.sack_perm || o.has_ts);
        assert_int_equal(o.sack_count, 0);
        assert_int_equal(o.unknown, 0);
        assert_int_equal(parse_segment_with(cases[i].bytes, cases[i].len, &t), WIRE_OK);
        assert_int_equal(t.opt.bad_len, 1);
    }
    /* A bad one does not hide a good one after it. */
    static const uint8_t b[] = {WIRE_TCPOPT_MSS, 3, 5, WIRE_TCPOPT_MSS, 4, 0x05, 0x78};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.bad_len, 1);
    assert_true(o.has_mss);
    assert_int_equal(o.mss, 1400);
}

static void test_opt_five_sack_blocks_cannot_fit(void **state)
{
    (void)state;
    /* 2 + 5*8 = 42 bytes is more than a header holds; in a longer block it
     * is a wrong length, never a fifth block. */
    uint8_t b[42] = {WIRE_TCPOPT_SACK, 42};
    struct wire_tcp_opts o;
    assert_int_equal(parse_block(b, sizeof b, &o), WIRE_OK);
    assert_int_equal(o.sack_count, 0);
    assert_int_equal(o.bad_len, 1);
}

/* ---- emitting ---- */

static void emit_and_compare(const struct wire_tcp_opts *o, const uint8_t *want, size_t want_len)
{
    uint8_t out[40];
    assert_int_equal(wire_tcp_opts_len(o), want_len);
    assert_int_equal(wire_tcp_opts_emit(out, sizeof out, o), (int)want_len);
    assert_memory_equal(out, want, want_len);
    /* An exactly-sized buffer is enough and is not overrun. */
    uint8_t *exact = exact_copy(out, want_len);
    assert_int_equal(wire_tcp_opts_emit(exact, want_len, o), (int)want_len);
    assert_memory_equal(exact, want, want_len);
    free(exact);
    if (want_len)
        assert_int_equal(wire_tcp_opts_emit(out, want_len - 1, o), WIRE_ESPACE);
}

static void test_syn_options_linux_order(void **state)
{
    (void)state;
    /* Linux SYN (http_ip4and6 frame 1): mss, sackOK, TS, nop, wscale. */
    size_t len;
    const uint8_t *want = real_opts(pkt_linux_syn, &len);
    assert_int_equal(len, 20);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_perm = true, .has_ts = true,
                              .ts_val = 417031, .ts_ecr = 0, .has_wscale = true, .wscale = 7};
    emit_and_compare(&o, want, len);
    /* A second Linux SYN, with ECN setup and a loopback-sized MSS. */
    want = real_opts(pkt_ecn_syn, &len);
    struct wire_tcp_opts e = {.has_mss = true, .mss = 65480, .sack_perm = true, .has_ts = true,
                              .ts_val = 62202209, .has_wscale = true, .wscale = 8};
    emit_and_compare(&e, want, len);
}

static void test_synack_options_linux_order(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *want = real_opts(pkt_linux_synack, &len);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_perm = true, .has_ts = true,
                              .ts_val = 269260, .ts_ecr = 417031, .has_wscale = true, .wscale = 7};
    emit_and_compare(&o, want, len);
}

static void test_syn_options_without_timestamps_linux_order(void **state)
{
    (void)state;
    /* Linux SYN-ACK without TS (tcp_handshake frame 2): mss, nop, nop,
     * sackOK, nop, wscale. */
    size_t len;
    const uint8_t *want = real_opts(pkt_hs_synack, &len);
    static const uint8_t spelled[] = {2, 4, 0x05, 0x7e, 1, 1, 4, 2, 1, 3, 3, 7};
    assert_int_equal(len, sizeof spelled);
    assert_memory_equal(want, spelled, len);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1406, .sack_perm = true, .has_wscale = true, .wscale = 7};
    emit_and_compare(&o, want, len);
}

static void test_data_options_nop_nop_timestamps(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *want = real_opts(pkt_linux_get, &len);
    struct wire_tcp_opts o = {.has_ts = true, .ts_val = 417031, .ts_ecr = 269260};
    emit_and_compare(&o, want, len);
}

static void test_sack_options_nop_nop_sack(void **state)
{
    (void)state;
    /* With timestamps (tcp_dupack frame 1): nop nop TS nop nop SACK. */
    size_t len;
    const uint8_t *want = real_opts(pkt_dupack_sack1, &len);
    struct wire_tcp_opts o = {.has_ts = true, .ts_val = 22247173, .ts_ecr = 1332354, .sack_count = 1};
    o.sack[0] = (struct wire_tcp_sack_block){0x4e23f262u, 0x4e2407c2u};
    emit_and_compare(&o, want, len);
    /* Without (retransmit-fast009 frame 33): nop nop SACK with two blocks. */
    want = real_opts(pkt_sack2, &len);
    struct wire_tcp_opts s = {.sack_count = 2};
    s.sack[0] = (struct wire_tcp_sack_block){0xfd48cefau, 0xfd48d490u};
    s.sack[1] = (struct wire_tcp_sack_block){0xfd48b30cu, 0xfd48c3ceu};
    emit_and_compare(&s, want, len);
}

static void test_emit_nothing_for_no_options(void **state)
{
    (void)state;
    struct wire_tcp_opts o = {0};
    uint8_t out[1] = {0xaa};
    assert_int_equal(wire_tcp_opts_len(&o), 0);
    assert_int_equal(wire_tcp_opts_emit(out, 0, &o), 0);
    assert_int_equal(out[0], 0xaa);
}

static void test_emit_parse_round_trip_every_combination(void **state)
{
    (void)state;
    struct test_rng r = {7323};
    int emitted = 0, refused = 0;
    for (unsigned mask = 0; mask < 16; mask++) {
        for (unsigned nb = 0; nb <= 5; nb++) {
            struct wire_tcp_opts o = {
                .has_mss = mask & 1, .sack_perm = mask & 2, .has_ts = mask & 4, .has_wscale = mask & 8,
                .mss = (uint16_t)rng_next(&r), .wscale = (uint8_t)rng_below(&r, 15),
                .ts_val = (uint32_t)rng_next(&r), .ts_ecr = (uint32_t)rng_next(&r), .sack_count = (uint8_t)nb,
            };
            for (unsigned i = 0; i < nb && i < WIRE_TCP_SACK_MAX; i++)
                o.sack[i] = (struct wire_tcp_sack_block){(uint32_t)rng_next(&r), (uint32_t)rng_next(&r)};
            /* Room to spare, so only the 40-byte option limit can refuse. */
            uint8_t out[64];
            size_t need = wire_tcp_opts_len(&o);
            int n = wire_tcp_opts_emit(out, sizeof out, &o);
            if (need > 40 || nb > WIRE_TCP_SACK_MAX) {
                assert_int_equal(n, WIRE_ESPACE);
                refused++;
                continue;
            }
            assert_int_equal(n, (int)need);
            assert_int_equal(n % 4, 0);
            struct wire_tcp_opts p;
            assert_int_equal(parse_block(out, (size_t)n, &p), WIRE_OK);
            assert_int_equal(p.has_mss, o.has_mss);
            assert_int_equal(p.sack_perm, o.sack_perm);
            assert_int_equal(p.has_ts, o.has_ts);
            assert_int_equal(p.has_wscale, o.has_wscale);
            if (o.has_mss)
                assert_int_equal(p.mss, o.mss);
            if (o.has_wscale)
                assert_int_equal(p.wscale, o.wscale);
            if (o.has_ts) {
                assert_int_equal(p.ts_val, o.ts_val);
                assert_int_equal(p.ts_ecr, o.ts_ecr);
            }
            assert_int_equal(p.sack_count, o.sack_count);
            assert_memory_equal(p.sack, o.sack, sizeof o.sack[0] * o.sack_count);
            assert_int_equal(p.unknown + p.bad_len, 0);
            emitted++;
        }
    }
    /* TS + 4 SACK blocks (48 bytes) and 5 blocks must be among the refused;
     * TS + 3 blocks (40) among the emitted, as in Linux. */
    assert_true(refused > 0 && emitted > 0);
    struct wire_tcp_opts ts3 = {.has_ts = true, .sack_count = 3};
    uint8_t out[64];
    assert_int_equal(wire_tcp_opts_emit(out, sizeof out, &ts3), 40);
    struct wire_tcp_opts ts4 = {.has_ts = true, .sack_count = 4};
    assert_int_equal(wire_tcp_opts_emit(out, sizeof out, &ts4), WIRE_ESPACE);
}

static void test_opt_every_truncation_of_real_blocks(void **state)
{
    (void)state;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        if (pk->ipv6 || pk->len < 40 || pk->bytes[0] != 0x45)
            continue;
        size_t len = (size_t)(pk->bytes[32] >> 4) * 4 - 20;
        if (len > pk->len - 40)
            continue;
        struct wire_tcp_opts full;
        assert_int_equal(parse_block(pk->bytes + 40, len, &full), WIRE_OK);
        for (size_t n = 0; n <= len; n++) {
            struct wire_tcp_opts o;
            int r = parse_block(pk->bytes + 40, n, &o);
            assert_true(r == WIRE_OK || r == WIRE_EOPTLEN);
            assert_true(o.nkinds <= n);
            assert_true(o.sack_count == 0 || 2u + 8u * o.sack_count <= n);
            /* A cut that falls between options parses; inside one does not. */
            if (r == WIRE_OK)
                assert_true(o.nkinds <= full.nkinds);
        }
    }
}

static void test_opt_random_blocks_invariants(void **state)
{
    (void)state;
    struct test_rng r = {2018};
    static const uint8_t kinds[] = {0, 1, 2, 3, 4, 5, 8, 30, 34, 254};
    size_t accepted = 0, sacks = 0;
    for (int iter = 0; iter < 200000; iter++) {
        uint8_t b[40];
        size_t n = rng_below(&r, 41);
        /* Mostly well-formed options with plausible or nearly right
         * lengths, some raw noise. */
        size_t k = 0;
        while (k < n) {
            uint8_t kind = kinds[rng_below(&r, sizeof kinds)];
            b[k++] = kind;
            if (kind <= 1 || k >= n)
                continue;
            static const uint8_t right[] = {0, 0, 4, 3, 2, 10, 0, 0, 10};
            uint8_t l = kind == 5   ? (uint8_t)(2 + 8 * rng_below(&r, 6))
                        : kind <= 8 ? right[kind]
                                    : (uint8_t)rng_below(&r, 12);
            if (rng_below(&r, 8) == 0)
                l = (uint8_t)(l + rng_below(&r, 5) - 2);
            b[k++] = l;
            for (size_t j = 2; j < l && k < n; j++)
                b[k++] = rng_byte(&r);
        }
        if (rng_below(&r, 10) == 0)
            for (k = 0; k < n; k++)
                b[k] = rng_byte(&r);
        struct wire_tcp_opts o;
        int res = parse_block(b, n, &o);
        assert_true(res == WIRE_OK || res == WIRE_EOPTLEN);
        assert_true(o.nkinds <= n);
        assert_true(o.sack_count <= WIRE_TCP_SACK_MAX);
        assert_true(o.sack_count == 0 || 2u + 8u * o.sack_count <= n);
        if (res == WIRE_OK) {
            /* Every option counted took at least 2 bytes, every NOP one. */
            size_t parsed = (size_t)o.has_mss + o.has_wscale + o.sack_perm + o.has_ts + (o.sack_count > 0) +
                            o.unknown + o.bad_len;
            assert_true(2 * parsed <= n);
            accepted++;
            sacks += o.sack_count > 0;
        }
    }
    assert_true(accepted > 50000);
    assert_true(sacks > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opt_real_syn_without_timestamps),
        cmocka_unit_test(test_opt_real_syn_with_timestamps),
        cmocka_unit_test(test_opt_timestamps_on_data_segment),
        cmocka_unit_test(test_opt_aligned_timestamps_read_as_the_general_walk),
        cmocka_unit_test(test_opt_sack_one_block_real),
        cmocka_unit_test(test_opt_sack_two_blocks_real),
        cmocka_unit_test(test_opt_sack_one_to_four_blocks),
        cmocka_unit_test(test_opt_eol_ends_the_list),
        cmocka_unit_test(test_opt_nop_is_one_byte),
        cmocka_unit_test(test_opt_wscale_above_14_reported_as_sent),
        cmocka_unit_test(test_opt_unknown_skipped_by_length),
        cmocka_unit_test(test_rfc7413_real_experimental_cookie_request),
        cmocka_unit_test(test_rfc7413_4_1_1_cookie_parsed),
        cmocka_unit_test(test_rfc7413_4_1_1_bad_cookie_length_ignored),
        cmocka_unit_test(test_rfc7413_experimental_needs_magic),
        cmocka_unit_test(test_rfc7413_emit_linux_layout),
        cmocka_unit_test(test_opt_unknown_count_saturates),
        cmocka_unit_test(test_opt_len_zero_rejects_segment),
        cmocka_unit_test(test_opt_len_one_rejects_segment),
        cmocka_unit_test(test_opt_len_past_header_rejects_segment),
        cmocka_unit_test(test_opt_kind_without_length_byte_rejects_segment),
        cmocka_unit_test(test_opt_known_wrong_length_ignored_and_counted),
        cmocka_unit_test(test_opt_five_sack_blocks_cannot_fit),
        cmocka_unit_test(test_syn_options_linux_order),
        cmocka_unit_test(test_synack_options_linux_order),
        cmocka_unit_test(test_syn_options_without_timestamps_linux_order),
        cmocka_unit_test(test_data_options_nop_nop_timestamps),
        cmocka_unit_test(test_sack_options_nop_nop_sack),
        cmocka_unit_test(test_emit_nothing_for_no_options),
        cmocka_unit_test(test_emit_parse_round_trip_every_combination),
        cmocka_unit_test(test_opt_every_truncation_of_real_blocks),
        cmocka_unit_test(test_opt_random_blocks_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
