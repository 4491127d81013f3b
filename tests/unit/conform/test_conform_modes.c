/* Which modes a script allows (tools/conform/modes.h): an explicit
 * --ip_version pins one, and an IPv4-only script (IPv4 addresses, ICMP names
 * ICMPv6 lacks) is refused in an IPv6 run with the line that makes it so,
 * while the ipv4 and ipv4-mapped-ipv6 runs keep it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conform/modes.h"
#include "conform/script.h"

static const char head[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                           "+0 bind(3, ..., ...) = 0\n"
                           "+0 listen(3, 1) = 0\n"
                           "+0 < S 0:0(0) win 32792 <mss 1460>\n"
                           "+0 > S. 0:0(0) ack 1 <mss 1460>\n"
                           "+0 < . 1:1(0) ack 1 win 257\n";

/* opts: option lines, which come first; tail: events after the handshake */
static const char *refusal2(const char *opts, const char *tail, int mode, char *why, size_t len)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s%s", opts, head, tail);
    struct script s;
    char err[256];
    assert_int_equal(script_parse("t.pkt", text, &s, err, sizeof err), 0);
    const char *r = script_mode_refusal(&s, mode, why, len);
    script_free(&s);
    return r;
}

static const char *refusal(const char *tail, int mode, char *why, size_t len)
{
    return refusal2("", tail, mode, why, len);
}

static void test_icmp_names_icmpv6_lacks_make_a_script_ipv4_only(void **state)
{
    (void)state;
    char why[256];
    const char *tail = "+0 < icmp unreachable port_unreachable\n"
                       "+0 < icmp unreachable host_unreachable\n";
    assert_null(refusal(tail, 4, why, sizeof why));
    assert_null(refusal(tail, 46, why, sizeof why));
    assert_non_null(refusal(tail, 6, why, sizeof why));
    assert_non_null(strstr(why, "t.pkt:8: IPv4-only: ICMP unreachable host_unreachable"));
    assert_non_null(refusal("+0 < icmp source_quench\n", 6, why, sizeof why));
    assert_non_null(refusal("+0 < icmp unreachable frag_needed mtu 1234\n", 6, why, sizeof why));
}

static void test_icmp_names_both_families_have_run_over_ipv6(void **state)
{
    (void)state;
    char why[256];
    assert_null(refusal("+0 < icmp unreachable port_unreachable\n"
                        "+0 < icmp unreachable net_unreachable\n"
                        "+0 < icmp time_exceeded\n"
                        "+0 < icmp unreachable code_1\n",
                        6, why, sizeof why));
}

static void test_ipv4_addresses_make_a_script_ipv4_only(void **state)
{
    (void)state;
    char why[256];
    assert_non_null(refusal2("--local_ip=192.168.0.1\n", "", 6, why, sizeof why));
    assert_non_null(strstr(why, "IPv4-only: the script sets --local_ip=192.168.0.1"));
    assert_non_null(refusal2("--remote_ip=192.0.2.1\n", "", 6, why, sizeof why));
    assert_null(refusal2("--remote_ip=192.0.2.1\n", "", 46, why, sizeof why));
    assert_null(refusal2("--local_ip=fd3d:fa7b:d17d::1\n", "", 6, why, sizeof why));
}

static void test_pinned_mode(void **state)
{
    (void)state;
    char why[256];
    assert_null(refusal2("--ip_version=ipv6\n", "", 6, why, sizeof why));
    assert_non_null(refusal2("--ip_version=ipv6\n", "", 4, why, sizeof why));
    assert_non_null(strstr(why, "pins --ip_version=ipv6"));
    assert_null(refusal("", 6, why, sizeof why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icmp_names_icmpv6_lacks_make_a_script_ipv4_only),
        cmocka_unit_test(test_icmp_names_both_families_have_run_over_ipv6),
        cmocka_unit_test(test_ipv4_addresses_make_a_script_ipv4_only),
        cmocka_unit_test(test_pinned_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
