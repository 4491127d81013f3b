/* packetdrill's --define (-D NAME=VALUE) as the runner applies it, and the
 * TFO_COOKIE it computes when a script leaves that symbol to its harness:
 * the values google/packetdrill's run_all.py passes for its addresses with
 * defaults.sh's key must come out of the same key and addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform/define.h"
#include "conform/script.h"

/* google/net/common/defaults.sh */
static const char *const key = "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4";

static void test_tfo_cookie_matches_run_all(void **state)
{
    char hex[17];
    /* run_all.py, ipv4 and ipv4-mapped-ipv6: --local_ip=192.168.0.2
     * --remote_ip=192.0.2.1 -D TFO_COOKIE=de4f234f0f433a55 */
    assert_int_equal(defs_tfo_cookie(key, "192.0.2.1", "192.168.0.2", hex), 0);
    assert_string_equal(hex, "de4f234f0f433a55");
    /* ipv6: --local_ip=fd3d:fa7b:d17d::0 --remote_ip=2001:DB8::1
     * -D TFO_COOKIE=6aa6ae70c288023b */
    assert_int_equal(defs_tfo_cookie(key, "2001:DB8::1", "fd3d:fa7b:d17d::0", hex), 0);
    assert_string_equal(hex, "6aa6ae70c288023b");
    /* the order is the SYN's: source (the remote client) first */
    assert_int_equal(defs_tfo_cookie(key, "192.168.0.2", "192.0.2.1", hex), 0);
    assert_string_not_equal(hex, "de4f234f0f433a55");
    /* simple1.pkt spells its cookie out: FO 00abaaabe8e954c2 for its key
     * and 10.248.0.2 -> 192.168.0.2 */
    assert_int_equal(defs_tfo_cookie("a0bf63f7-ed803d81-cd641d30-cebc4a90", "10.248.0.2",
                                     "192.168.0.2", hex), 0);
    assert_string_equal(hex, "00abaaabe8e954c2");
    (void)state;
}

static void test_tfo_cookie_rejects_bad_input(void **state)
{
    char hex[17];
    assert_int_equal(defs_tfo_cookie("a1a1a1a1-b2b2b2b2", "192.0.2.1", "192.168.0.2", hex), -1);
    assert_int_equal(defs_tfo_cookie(key, "192.0.2.1", "fd3d::1", hex), -1);
    assert_int_equal(defs_tfo_cookie(key, "host", "192.168.0.2", hex), -1);
    (void)state;
}

static void test_add_and_get(void **state)
{
    struct script_defs d = {0};
    char err[128];
    assert_int_equal(defs_add(&d, "TFO_COOKIE=0102", err, sizeof err), 0);
    assert_int_equal(defs_add(&d, "CODE=host_unreachable", err, sizeof err), 0);
    assert_int_equal(defs_add(&d, "TFO_COOKIE=0304", err, sizeof err), 0);
    assert_int_equal(d.n, 2);
    assert_string_equal(defs_get(&d, "TFO_COOKIE"), "0304");
    assert_null(defs_get(&d, "TFO"));
    assert_int_equal(defs_add(&d, "NOVALUE", err, sizeof err), -1);
    assert_int_equal(defs_add(&d, "=1", err, sizeof err), -1);
    assert_int_equal(defs_add(&d, "A-B=1", err, sizeof err), -1);
    (void)state;
}

/* packetdrill's lexer substitutes whole words only, and never inside a
 * comment, a "string", a `command`, a %{ code }% block or an --option name */
static void test_apply_whole_words_outside_opaque_text(void **state)
{
    struct script_defs d = {0};
    char err[128];
    assert_int_equal(defs_add(&d, "CODE=port_unreachable", err, sizeof err), 0);
    assert_int_equal(defs_add(&d, "X=7", err, sizeof err), 0);
    char *out = defs_apply(&d, "--X=X // CODE X\n+0 < icmp unreachable CODE /* X */ CODEX X_1 "
                               "\"X\" `echo X` %{ X }% f(X)\n");
    assert_non_null(out);
    assert_string_equal(out, "--X=7 // CODE X\n+0 < icmp unreachable port_unreachable /* X */ "
                             "CODEX X_1 \"X\" `echo X` %{ X }% f(7)\n");
    free(out);
    (void)state;
}

/* A defined TFO_COOKIE becomes the FO option's bytes; an undefined one
 * stays a symbol the run reports. */
static void test_cookie_reaches_the_option(void **state)
{
    const char *text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+0 < S 0:10(10) win 32792 <mss 1460,FOEXP TFO_COOKIE>\n";
    struct script s;
    char err[256];
    assert_int_equal(script_parse("t.pkt", text, &s, err, sizeof err), 0);
    assert_string_equal(s.ev[1].pkt.undefined, "TFO_COOKIE");
    script_free(&s);
    struct script_defs d = {0};
    assert_int_equal(defs_add(&d, "TFO_COOKIE=de4f234f0f433a55", err, sizeof err), 0);
    char *sub = defs_apply(&d, text);
    assert_int_equal(script_parse("t.pkt", sub, &s, err, sizeof err), 0);
    free(sub);
    const struct pkt_spec *pk = &s.ev[1].pkt;
    assert_string_equal(pk->undefined, "");
    assert_int_equal(pk->opt[1].kind, OP_FOEXP);
    assert_int_equal(pk->opt[1].ndata, 8);
    assert_int_equal(pk->opt[1].data[0], 0xde);
    assert_int_equal(pk->opt[1].data[7], 0x55);
    script_free(&s);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tfo_cookie_matches_run_all),
        cmocka_unit_test(test_tfo_cookie_rejects_bad_input),
        cmocka_unit_test(test_add_and_get),
        cmocka_unit_test(test_apply_whole_words_outside_opaque_text),
        cmocka_unit_test(test_cookie_reaches_the_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
