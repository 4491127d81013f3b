/* Sysctls collected from a script's backquoted commands as configuration
 * hints: direct `sysctl -q`, set_sysctls.py with /proc/sys paths and
 * continuation lines, $((a*b)) arithmetic, and the defaults.sh a script names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform/script.h"
#include "conform/sysctl.h"

static const char *value_of(const struct sysctl_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->item[i].name, name))
            return l->item[i].value;
    return NULL;
}

static void test_inline_commands(void **state)
{
    struct script s;
    char err[256];
    const char *text = "`sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_rmem=\"4096 $((2*1024)) 9\"\n"
                       "../x/set_sysctls.py /proc/sys/net/ipv4/tcp_slow_start_after_idle=1 \\\n"
                       "   /proc/sys/net/ipv4/tcp_min_tso_segs=10`\n"
                       "0 close(3) = 0\n"
                       "+0 `sysctl -q net.ipv4.tcp_sack=1`\n"
                       "+0 `echo hello; /tmp/sysctl_restore_${PPID}.sh`\n";
    if (script_parse("dir/t.pkt", text, &s, err, sizeof err))
        fail_msg("%s", err);
    struct sysctl_list l;
    sysctl_collect(&s, &l);
    assert_int_equal(l.n, 4);
    /* the setup's value: a command after the first call is not taken */
    assert_string_equal(value_of(&l, "net.ipv4.tcp_sack"), "0");
    assert_string_equal(value_of(&l, "net.ipv4.tcp_rmem"), "4096 2048 9");
    assert_string_equal(value_of(&l, "net.ipv4.tcp_slow_start_after_idle"), "1");
    assert_string_equal(value_of(&l, "net.ipv4.tcp_min_tso_segs"), "10");
    char flags[1024];
    assert_int_equal(sysctl_flags(&l, flags, sizeof flags), 0);
    assert_non_null(strstr(flags, "sysctl:net.ipv4.tcp_rmem=4096:2048:9"));
    assert_non_null(strstr(flags, "sysctl:net.ipv4.tcp_sack=0"));
    assert_int_equal(sysctl_flags(&l, flags, 10), -1);
    script_free(&s);
}

/* `tc qdisc add dev tun0 root pfifo limit 0` (the device drops every
 * packet and says so) and its delete, at their time in the script: the
 * word qdisc:drop / qdisc:none; the last command of a line wins; any
 * other qdisc (defaults.sh's pfifo, fq) is no command. */
static void test_tc_qdisc_commands(void **state)
{
    (void)state;
    struct script s;
    char err[256];
    const char *text = "0 close(3) = 0\n"
                       "+0 `tc qdisc delete dev tun0 root 2>/dev/null ; tc qdisc add dev tun0 root pfifo limit 0`\n"
                       "+0 `tc qdisc del dev tun0 root`\n"
                       "+0 `tc qdisc replace dev tun0 root pfifo limit 0`\n"
                       "+0 `tc qdisc add dev tun0 root pfifo`\n"
                       "+0 `tc qdisc replace dev tun0 root fq`\n"
                       "+0 `tc qdisc add dev tun0 root pfifo limit 10`\n";
    if (script_parse("dir/t.pkt", text, &s, err, sizeof err))
        fail_msg("%s", err);
    static const char *want[] = {"qdisc:drop", "qdisc:none", "qdisc:drop", NULL, NULL, NULL};
    int k = 0;
    for (int i = 0; i < s.nev; i++) {
        if (s.ev[i].kind != EV_SHELL)
            continue;
        struct sysctl_list l;
        sysctl_scan(&s, s.ev[i].text, &l);
        char flags[256];
        assert_int_equal(sysctl_flags(&l, flags, sizeof flags), 0);
        if (want[k])
            assert_string_equal(flags, want[k]);
        else
            assert_int_equal(l.n, 0);
        k++;
    }
    assert_int_equal(k, 6);
    script_free(&s);
}

static void test_defaults_sh_of_the_shared_scripts(void **state)
{
    const char *shared = getenv("SYNACK_SHARED");
    if (!shared)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/conformance/google/net/tcp/slow_start/slow-start-after-win-update.pkt",
             shared);
    struct script s;
    char err[512];
    if (script_load(path, &s, err, sizeof err))
        skip();
    struct sysctl_list l;
    sysctl_collect(&s, &l);
    assert_string_equal(value_of(&l, "net.ipv4.tcp_wmem"), "4096 262144 4194304");
    assert_string_equal(value_of(&l, "net.ipv4.tcp_rmem"), "4096 540000 15728640");
    assert_string_equal(value_of(&l, "net.ipv4.tcp_timestamps"), "1");
    /* the script's own line overrides defaults.sh */
    assert_string_equal(value_of(&l, "net.ipv4.tcp_slow_start_after_idle"), "1");
    assert_string_equal(value_of(&l, "net.ipv4.tcp_min_tso_segs"), "10");
    script_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline_commands),
        cmocka_unit_test(test_tc_qdisc_commands),
        cmocka_unit_test(test_defaults_sh_of_the_shared_scripts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
