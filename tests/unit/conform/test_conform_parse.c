/* The packetdrill-language parser of synack-conform: each test pins down a
 * construct the shared scripts use, and would fail if it were read wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform/script.h"

static char err[1024];

static void parse_ok(const char *text, struct script *s)
{
    int rc = script_parse("t.pkt", text, s, err, sizeof err);
    if (rc)
        fail_msg("unexpected parse error: %s", err);
}

static void parse_bad(const char *text, const char *want)
{
    struct script s;
    assert_int_equal(script_parse("t.pkt", text, &s, err, sizeof err), -1);
    script_free(&s);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
    assert_null(strchr(err, '\n')); /* one line */
}

static void test_seconds_are_exact_microseconds(void **state)
{
    assert_int_equal(script_usecs("0"), 0);
    assert_int_equal(script_usecs(".1"), 100000);
    assert_int_equal(script_usecs("0.100"), 100000);
    assert_int_equal(script_usecs("1.2"), 1200000);
    assert_int_equal(script_usecs(".001"), 1000);
    assert_int_equal(script_usecs("2.0000019"), 2000001); /* digits past usecs dropped */
    assert_int_equal(script_usecs("1.x"), -1);
    assert_int_equal(script_usecs(""), -1);
}

static void test_time_forms(void **state)
{
    struct script s;
    parse_ok("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
             "+.1...0.200 connect(3, ..., ...) = 0\n"
             "0.100...0.200 accept(3, ..., ...) = 4\n"
             "+0 ...0.010 read(4, ..., 10) = 10\n"
             "* > S 0:0(0) <...>\n"
             "+.3~+.400 > F. 1:1(0) ack 1\n"
             "0.5~0.6 > F. 1:1(0) ack 1\n",
             &s);
    assert_int_equal(s.nev, 7);
    assert_int_equal(s.ev[0].tkind, TM_ABS);
    assert_int_equal(s.ev[1].tkind, TM_REL);
    assert_int_equal(s.ev[1].t, 100000);
    assert_true(s.ev[1].blocking);
    assert_int_equal(s.ev[1].block_end, 200000);
    assert_int_equal(s.ev[2].tkind, TM_ABS);
    assert_int_equal(s.ev[2].block_end, 200000);
    assert_true(s.ev[3].blocking);
    assert_int_equal(s.ev[3].block_end, 10000);
    assert_int_equal(s.ev[4].tkind, TM_ANY);
    assert_int_equal(s.ev[5].tkind, TM_REL_RANGE);
    assert_int_equal(s.ev[5].t, 300000);
    assert_int_equal(s.ev[5].t_end, 400000);
    assert_int_equal(s.ev[6].tkind, TM_ABS_RANGE);
    script_free(&s);
}

static void test_packet_fields(void **state)
{
    struct script s;
    parse_ok("0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
             "+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n"
             "+0 < P. 1:1001(1000) ack 1 win 257 <sack 1001:2001 3001:4001,nop,nop>\n"
             "+0 < FP. 1001:2001(1000) ack 1 win 257\n"
             "+0 < - 0:0(0) win 100\n"
             "+0 < SR 0:0(0) win 100\n"
             "+0 > [ect0] SEW 0:0(0) <...>\n",
             &s);
    const struct pkt_spec *p = &s.ev[0].pkt;
    assert_int_equal(p->dir, '<');
    assert_int_equal(p->flags, TF_SYN);
    assert_false(p->has_ack);
    assert_int_equal(p->win, 32792);
    assert_int_equal(p->nopt, 6);
    assert_int_equal(p->opt[0].kind, OP_MSS);
    assert_int_equal(p->opt[0].val, 1000);
    assert_int_equal(p->opt[1].kind, OP_SACKOK);
    assert_int_equal(p->opt[5].kind, OP_WSCALE);
    assert_int_equal(p->opt[5].val, 7);
    p = &s.ev[1].pkt;
    assert_int_equal(p->dir, '>');
    assert_int_equal(p->flags, TF_SYN | TF_ACK);
    assert_true(p->has_ack);
    assert_int_equal(p->ack, 1);
    assert_false(p->has_win);
    assert_int_equal(p->opt[2].kind, OP_TS);
    assert_int_equal(p->opt[2].val, 100);
    assert_int_equal(p->opt[2].ecr, 0);
    p = &s.ev[2].pkt;
    assert_int_equal(p->flags, TF_PSH | TF_ACK);
    assert_int_equal(p->seq, 1);
    assert_int_equal(p->end, 1001);
    assert_int_equal(p->len, 1000);
    assert_int_equal(p->opt[0].kind, OP_SACK);
    assert_int_equal(p->opt[0].nsack, 2);
    assert_int_equal(p->opt[0].sack[1][0], 3001);
    assert_int_equal(p->opt[0].sack[1][1], 4001);
    assert_int_equal(s.ev[3].pkt.flags, TF_FIN | TF_PSH | TF_ACK);
    assert_int_equal(s.ev[4].pkt.flags, 0);
    assert_int_equal(s.ev[5].pkt.flags, TF_SYN | TF_RST);
    p = &s.ev[6].pkt;
    assert_int_equal(p->flags, TF_SYN | TF_ECE | TF_CWR);
    assert_int_equal(p->ecn, ECN_ECT0);
    assert_true(p->opts_nocheck);
    script_free(&s);
}

static void test_icmp_lines(void **state)
{
    struct script s;
    parse_ok("0 < icmp unreachable frag_needed mtu 1234\n"
             "+0 < icmp unreachable host_unreachable [0:10(10)]\n"
             "+0 < icmp type_255 code_7\n"
             "+0 < icmp echo_reply\n",
             &s);
    assert_true(s.ev[0].pkt.icmp);
    assert_int_equal(s.ev[0].pkt.icmp_type, 3);
    assert_int_equal(s.ev[0].pkt.icmp_code, 4);
    assert_true(s.ev[0].pkt.has_mtu);
    assert_int_equal(s.ev[0].pkt.mtu, 1234);
    assert_int_equal(s.ev[1].pkt.icmp_code, 1);
    assert_true(s.ev[1].pkt.has_echo);
    assert_int_equal(s.ev[1].pkt.echo_len, 10);
    assert_int_equal(s.ev[2].pkt.icmp_type, 255);
    assert_int_equal(s.ev[2].pkt.icmp_code, 7);
    assert_int_equal(s.ev[3].pkt.icmp_type, 0);
    script_free(&s);
}

static void test_syscall_arguments_and_results(void **state)
{
    struct script s;
    parse_ok("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
             "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
             "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
             "+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n"
             "+0 getsockopt(4, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0\n"
             "+0 write(4, NULL, 1000) = -1 EFAULT (Bad address)\n"
             "+0 setsockopt(4, SOL_TCP, TCP_CONGESTION, \"cubic\", 5) = 0\n"
             "+0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{iov_base=..., iov_len=10}],\n"
             "               msg_flags=0}, 0) = 10\n",
             &s);
    const struct syscall_spec *c = &s.ev[0].sc;
    assert_string_equal(c->name, "setsockopt");
    assert_int_equal(c->narg, 5);
    assert_int_equal(c->arg[3]->kind, EX_STRUCT);
    assert_int_equal(c->arg[3]->n, 2);
    assert_int_equal(c->arg[3]->item[0]->kind, EX_FIELD);
    assert_string_equal(c->arg[3]->item[0]->name, "onoff");
    assert_int_equal(c->arg[3]->item[0]->item[0]->num, 1);
    assert_int_equal(s.ev[1].sc.arg[2]->kind, EX_OR);
    c = &s.ev[2].sc;
    assert_int_equal(c->arg[1]->kind, EX_ELLIPSIS);
    assert_int_equal(c->result->num, -1);
    assert_string_equal(c->errno_name, "EINPROGRESS");
    assert_string_equal(c->note, "Operation now in progress");
    assert_int_equal(s.ev[3].sc.result->num, 2);
    assert_null(s.ev[3].sc.errno_name);
    assert_int_equal(s.ev[4].sc.arg[3]->kind, EX_LIST);
    assert_int_equal(s.ev[4].sc.arg[3]->item[0]->num, 1100);
    assert_int_equal(s.ev[5].sc.arg[1]->kind, EX_NULL);
    assert_int_equal(s.ev[6].sc.arg[3]->kind, EX_STRING);
    assert_string_equal(s.ev[6].sc.arg[3]->name, "cubic");
    c = &s.ev[7].sc;
    assert_int_equal(c->arg[1]->kind, EX_STRUCT);
    assert_string_equal(c->arg[1]->item[1]->name, "msg_iov");
    assert_int_equal(c->arg[1]->item[1]->item[0]->kind, EX_LIST);
    assert_int_equal(c->arg[1]->item[1]->n, 2); /* value, then the (1) */
    assert_int_equal(s.ev[7].line, 8);
    script_free(&s);
}

/* packetdrill reads C escapes in strings: a TCP_FASTOPEN_KEY is 16 raw
 * bytes, NULs included (fastopen/server/sockopt-fastopen-key.pkt). */
static void test_string_escapes_decoded(void **state)
{
    (void)state;
    struct script s;
    const char *text = "0 setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, \"\\xf7\\x63\\x00a\\\"\\101\\n\", 7) = 0\n";
    parse_ok(text, &s);
    const struct expr *e = s.ev[0].sc.arg[3];
    assert_int_equal(e->kind, EX_STRING);
    assert_int_equal(e->num, 7);
    static const char want[7] = {(char)0xf7, 0x63, 0, 'a', '"', 'A', '\n'};
    assert_memory_equal(e->name, want, 7);
    script_free(&s);
}

static void test_commands_code_options_and_line_numbers(void **state)
{
    struct script s;
    parse_ok("// comment\n"
             "--tolerance_usecs=10000\n"
             "--tcp_ts_tick_usecs=1000\n"
             "`../common/defaults.sh\n"
             "../common/set_sysctls.py a=1`\n"
             "/* block\n comment */\n"
             "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
             "+.1 %{ assert tcpi_snd_cwnd == 10\n}%\n"
             "+0 close(3) = 0\n",
             &s);
    assert_int_equal(s.opts.tolerance_usecs, 10000);
    assert_int_equal(s.opts.tcp_ts_tick_usecs, 1000);
    assert_int_equal(s.nev, 4);
    assert_int_equal(s.ev[0].kind, EV_SHELL);
    assert_int_equal(s.ev[0].tkind, TM_NONE);
    assert_int_equal(s.ev[0].line, 4);
    assert_int_equal(s.ev[1].line, 8);
    assert_int_equal(s.ev[2].kind, EV_CODE);
    assert_int_equal(s.ev[2].line, 9);
    assert_int_equal(s.ev[3].line, 11);
    script_free(&s);
}

static void test_defaults(void **state)
{
    struct script s;
    parse_ok("0 close(3) = 0\n", &s);
    assert_int_equal(s.opts.tolerance_usecs, 4000);
    assert_true(s.opts.tolerance_pct > 12.49 && s.opts.tolerance_pct < 12.51);
    assert_int_equal(s.opts.tcp_ts_tick_usecs, 0); /* TS val unchecked, as packetdrill */
    assert_int_equal(s.opts.bind_port, 8080);
    script_free(&s);
}

static void test_errors_are_one_line_with_file_and_line(void **state)
{
    parse_bad("0 close(3) = 0\n+0 > Q 0:0(0)\n", "t.pkt:2: bad TCP flag 'Q'");
    parse_bad("0 close(3) = 0\n\n+0 frobnicate\n", "t.pkt:3: expected '(' after 'frobnicate'");
    parse_bad("0.5 close(3) = 0\n", "t.pkt:1: first event should be at time 0");
    parse_bad("0 < S 0:0(0) win 1 <mss 1000,nop>\n", "not a multiple of 4");
    parse_bad("0 < S 0:5(0) win 1\n", "inconsistent sequence range");
    parse_bad("0 < S 0:0(0) win 1 <bogus 3>\n", "unknown TCP option 'bogus'");
    parse_bad("0 write(3, \"abc, 3) = 3\n", "unterminated string");
    parse_bad("0 close(3) = 0\n`echo\n", "unterminated `command`");
    parse_bad("--no_such_option=1\n0 close(3) = 0\n", "option '--no_such_option' unknown");
    parse_bad("--tolerance_usecs=abc\n", "bad value for --tolerance_usecs");
    parse_bad("0 close(3) = 0 EFOO junk\n", "t.pkt:1:");
    parse_bad("0 close(3) = 0\n+0~+1 close(3) = 0\n", "only outbound packets");
    parse_bad("0 close(3) = 0\n+0...1 > S 0:0(0)\n", "blocking time");
    parse_bad("0 < icmp unreachable nonsense_code\n", "unknown ICMP code");
    parse_bad("0 < S 0:0(0) win 99999\n", "win 99999 out of range");
    /* deep nesting is refused, not a stack overflow */
    static char deep[300000] = "0 close(";
    size_t n = strlen(deep);
    for (int i = 0; i < 100000; i++)
        deep[n++] = '[';
    deep[n] = 0;
    parse_bad(deep, "nested more than 32 deep");
}

/* Random corruption of a valid script: always a clean result, never a crash. */
static void test_mutated_scripts_never_crash(void **state)
{
    const char *base = "--tolerance_usecs=10000\n`x`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                       "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
                       "+.1...0.2 accept(3, ..., ...) = 4\n"
                       "+0 < S 0:0(0) win 1 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7>\n"
                       "* > S. 0:0(0) ack 1 <sack 1:2 3:4,nop,nop>\n"
                       "+0 < icmp unreachable frag_needed mtu 1 [1:2(1)]\n"
                       "+.3~+.4 > F. 1:1(0) ack 1\n+0 %{ x }%\n";
    size_t n = strlen(base);
    char *buf = malloc(n + 1);
    const char alphabet[] = "0123456789+-.*~<>[]{}()=,:|`%\"/ \nSFRPEWUabcx_";
    unsigned seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, base, n + 1);
        int edits = 1 + iter % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            buf[pos] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
        }
        struct script s;
        int rc = script_parse("m.pkt", buf, &s, err, sizeof err);
        if (rc)
            assert_non_null(strstr(err, "m.pkt:"));
        script_free(&s);
        /* truncations too */
        buf[(seed >> 4) % n] = 0;
        rc = script_parse("m.pkt", buf, &s, err, sizeof err);
        if (rc)
            assert_non_null(strstr(err, "m.pkt:"));
        script_free(&s);
    }
    free(buf);
}

/* Every script in the shared corpus parses (the runner may still fail it). */
static void test_shared_corpus_parses(void **state)
{
    const char *shared = getenv("SYNACK_SHARED");
    if (!shared)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/conformance/core.txt", shared);
    FILE *f = fopen(path, "r");
    if (!f)
        skip();
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        snprintf(path, sizeof path, "%s/conformance/%s", shared, line);
        struct script s;
        if (script_load(path, &s, err, sizeof err))
            fail_msg("%s", err);
        assert_true(s.nev > 0);
        script_free(&s);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 51);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds_are_exact_microseconds),
        cmocka_unit_test(test_time_forms),
        cmocka_unit_test(test_packet_fields),
        cmocka_unit_test(test_icmp_lines),
        cmocka_unit_test(test_syscall_arguments_and_results),
        cmocka_unit_test(test_commands_code_options_and_line_numbers),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors_are_one_line_with_file_and_line),
        cmocka_unit_test(test_mutated_scripts_never_crash),
        cmocka_unit_test(test_shared_corpus_parses),
        cmocka_unit_test(test_string_escapes_decoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
