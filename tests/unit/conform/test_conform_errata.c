/* The runner's errata (tools/conform/errata.h): a row replaces one line of
 * the script it names, only where that line reads as shipped, and a stale or
 * malformed row is an error, never a silent no-op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform/errata.h"

static const char script[] = "// a test\n"
                             "   +0 < F. 1:1(0) ack 9999 win 20000\n"
                             "\n"
                             "   +0 > . 1:1(0) ack 1001\n";

/* Applies table to a copy of script for path; returns the count, with the
 * result text in *out (the caller frees it). */
static int apply(const char *table, const char *path, char **out, char *note, size_t nlen,
                 char *err, size_t elen)
{
    char *orig = strdup(script);
    char *text = orig;
    int n = errata_apply(table, path, &text, note, nlen, err, elen);
    if (n > 0)
        free(orig);
    *out = text;
    return n;
}

static void test_replaces_the_line_as_shipped(void **state)
{
    (void)state;
    const char table[] = "# comment\n\n"
                         "dir/x.pkt\t3\t\t   +0 > . 1:1(0) ack 1\tupstream 123\n";
    char *out, note[128], err[256];
    assert_int_equal(apply(table, "/root/dir/x.pkt", &out, note, sizeof note, err, sizeof err), 1);
    assert_string_equal(out, "// a test\n"
                             "   +0 < F. 1:1(0) ack 9999 win 20000\n"
                             "   +0 > . 1:1(0) ack 1\n"
                             "   +0 > . 1:1(0) ack 1001\n");
    assert_string_equal(note, "line 3 (upstream 123)");
    free(out);
}

static void test_other_scripts_untouched(void **state)
{
    (void)state;
    const char table[] = "dir/x.pkt\t3\t\tnew\tsrc\n";
    char *out, note[64], err[256];
    /* a path that only ends like the script is not it */
    assert_int_equal(apply(table, "/root/otherdir/x.pkt", &out, note, sizeof note, err,
                           sizeof err), 0);
    assert_string_equal(out, script);
    free(out);
    assert_int_equal(apply(table, "/root/dir/y.pkt", &out, note, sizeof note, err, sizeof err), 0);
    assert_string_equal(note, "");
    free(out);
}

static void test_stale_row_is_an_error(void **state)
{
    (void)state;
    /* line 2 is not what the row says was shipped: the script changed */
    const char table[] = "x.pkt\t2\t   +0 < F. 1:1(0) ack 8888 win 20000\tnew\tsrc\n";
    char *out, note[64], err[256];
    assert_int_equal(apply(table, "x.pkt", &out, note, sizeof note, err, sizeof err), -1);
    assert_non_null(strstr(err, "x.pkt:2: the erratum of row 1 does not apply"));
    assert_string_equal(out, script);
    free(out);
    /* a line past the end */
    const char past[] = "x.pkt\t9\t\tnew\tsrc\n";
    assert_int_equal(apply(past, "x.pkt", &out, note, sizeof note, err, sizeof err), -1);
    assert_string_equal(out, script);
    free(out);
}

static void test_malformed_rows_are_errors(void **state)
{
    (void)state;
    char *out, note[64], err[256];
    const char *const bad[] = {
        "x.pkt\t3\t\tnew\n",              /* four fields */
        "x.pkt\t3\t\tnew\tsrc\textra\n",  /* six */
        "x.pkt\tthree\t\tnew\tsrc\n",     /* no line number */
        "x.pkt\t0\t\tnew\tsrc\n",         /* lines count from 1 */
        "x.pkt\t3\t\tnew\t\n",            /* no source */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(apply(bad[i], "x.pkt", &out, note, sizeof note, err, sizeof err), -1);
        assert_string_equal(out, script);
        free(out);
    }
}

static void test_two_rows_one_script(void **state)
{
    (void)state;
    /* a row keeps the line count, so the next row's number still holds */
    const char table[] = "x.pkt\t1\t// a test\t// corrected\tA\r\n"
                         "x.pkt\t3\t\t   +0 > . 1:1(0) ack 1\tB\n";
    char *out, note[64], err[256];
    assert_int_equal(apply(table, "x.pkt", &out, note, sizeof note, err, sizeof err), 2);
    assert_true(!strncmp(out, "// corrected\n", 13));
    assert_non_null(strstr(out, "\n   +0 > . 1:1(0) ack 1\n"));
    assert_string_equal(note, "line 1 (A); line 3 (B)");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replaces_the_line_as_shipped),
        cmocka_unit_test(test_other_scripts_untouched),
        cmocka_unit_test(test_stale_row_is_an_error),
        cmocka_unit_test(test_malformed_rows_are_errors),
        cmocka_unit_test(test_two_rows_one_script),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
