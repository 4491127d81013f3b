/* ECN across the IP layer (RFC 3168 §5): the ECN field the TCP core chose
 * leaves in the IPv4 TOS or the IPv6 traffic class, and a CE mark a router
 * set reaches the core, both families. Two stacks over the in-memory link,
 * whose mark_ce plays the router: congestion is signalled and answered
 * with no packet lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/sim.h"
#include "../../support/xfer.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

#include "capture.h"

/* The ECN field and TCP header of a captured frame (its length untruncated). */
static uint8_t frame_tcp(const struct capture *c, int i, struct wire_tcp *t, size_t *payload)
{
    uint8_t ecn;
    const uint8_t *tcp;
    size_t tcplen;
    if (c->f[i][0] >> 4 == 6) {
        ecn = (c->f[i][1] >> 4) & 3;
        tcp = c->f[i] + 40;
        tcplen = c->len[i] - 40;
    } else {
        ecn = c->f[i][1] & 3;
        tcp = c->f[i] + (c->f[i][0] & 15) * 4;
        tcplen = c->len[i] - (size_t)(c->f[i][0] & 15) * 4;
    }
    size_t hl = (size_t)(tcp[12] >> 4) * 4;
    assert_int_equal(wire_tcp_parse(tcp, hl, t), WIRE_OK);
    *payload = tcplen - hl;
    return ecn;
}

/* What stack a sent: SYN Not-ECT with ECE|CWR; data ECT(0); pure ACKs
 * Not-ECT. Returns how many data segments carried CWR. */
static int check_sent(const struct capture *c, int family)
{
    int cwr = 0, data = 0, ect = 0;
    for (int i = 0; i < c->n; i++) {
        assert_int_equal(c->f[i][0] >> 4, family);
        struct wire_tcp t;
        size_t payload;
        uint8_t ecn = frame_tcp(c, i, &t, &payload);
        if (t.flags & WIRE_TCP_SYN) {
            assert_int_equal(t.flags & (WIRE_TCP_ECE | WIRE_TCP_CWR), WIRE_TCP_ECE | WIRE_TCP_CWR);
            assert_int_equal(ecn, WIRE_ECN_NOT_ECT);
        } else if (payload) {
            /* new data ECT(0); anything else here would be a retransmission */
            data++;
            ect += ecn == WIRE_ECN_ECT0;
            if (ecn != WIRE_ECN_ECT0)
                assert_int_equal(ecn, WIRE_ECN_NOT_ECT);
            cwr += (t.flags & WIRE_TCP_CWR) != 0;
        } else {
            assert_int_equal(ecn, WIRE_ECN_NOT_ECT);
            assert_int_equal(t.flags & WIRE_TCP_CWR, 0);
        }
    }
    assert_true(data > 100);
    assert_true(ect * 10 >= data * 9); /* retransmissions are few, if any */
    return cwr;
}

static uint64_t ctr(synack_stack *s, const char *name)
{
    uint64_t v = synack_counter(s, name);
    assert_true(v != UINT64_MAX);
    return v;
}

struct one_way {
    struct sim *sim;
    synack_sock lsn, cli, srv;
    uint8_t *out, *in;
    size_t n, sent, rcvd;
};

static bool pump(void *ctx)
{
    struct one_way *w = ctx;
    if (w->srv < 0)
        w->srv = synack_accept(w->sim->b, w->lsn, NULL);
    long r;
    if (w->sent < w->n && (r = synack_send(w->sim->a, w->cli, w->out + w->sent, w->n - w->sent)) > 0)
        w->sent += (size_t)r;
    if (w->srv >= 0 && (r = synack_recv(w->sim->b, w->srv, w->in + w->rcvd, w->n - w->rcvd)) > 0)
        w->rcvd += (size_t)r;
    return w->rcvd == w->n;
}

/* a (tcp_ecn 1) sends n bytes to b (Linux's default, 2) over family 4 or 6
 * with CE marks on a fraction of a's packets; checks what a sent. */
static void one_way_marked(int family, double mark)
{
    struct capture *cap = calloc(1, sizeof *cap);
    struct sim s;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sim_init(&s, 11, SYNACK_MS(5), &cfg);
    assert_int_equal(synack_set_ecn(s.a, SYNACK_ECN_ON), 0);
    synack_set_tap(s.a, capture_tap, cap);
    synack_link_faults f = {.seed = 9, .mark_ce = mark};
    assert_int_equal(synack_memlink_set_faults(s.link, 0, &f), 0);
    static struct one_way w;
    memset(&w, 0, sizeof w);
    w.sim = &s;
    w.srv = -1;
    w.n = 400000;
    w.out = malloc(w.n);
    w.in = malloc(w.n);
    for (size_t i = 0; i < w.n; i++)
        w.out[i] = (uint8_t)(i * 13 + (i >> 9));
    synack_endpoint ep = family == 6 ? sim_ep6(SIM_ADDR6_B, 7100) : sim_ep(SIM_ADDR_B, 7100);
    w.lsn = synack_socket(s.b);
    assert_int_equal(synack_bind(s.b, w.lsn, &ep), 0);
    assert_int_equal(synack_listen(s.b, w.lsn, 4), 0);
    w.cli = synack_socket(s.a);
    assert_int_equal(synack_connect(s.a, w.cli, &ep), -EINPROGRESS);
    assert_true(sim_run(&s, pump, &w, SYNACK_SEC(120)));
    assert_memory_equal(w.in, w.out, w.n);
    assert_int_equal(ctr(s.a, "tcp_ecn_estab"), 1);
    assert_int_equal(ctr(s.b, "tcp_ecn_estab"), 1);
    synack_link_stats ls;
    synack_memlink_stats(s.link, 0, &ls);
    int cwr = check_sent(cap, family);
    if (mark > 0) {
        /* every mark seen, echoed, and answered by a reduction and a CWR */
        assert_true(ls.ce_marked > 3);
        assert_int_equal(ctr(s.b, "tcp_ecn_ce_in"), ls.ce_marked);
        assert_true(ctr(s.a, "tcp_ecn_ece_in") > 0);
        assert_true(ctr(s.a, "tcp_ecn_cwr") > 0);
        assert_int_equal((uint64_t)cwr, ctr(s.a, "tcp_ecn_cwr_out"));
        assert_true(cwr > 0);
        /* no loss: no recovery, no timeout */
        assert_int_equal(ctr(s.a, "tcp_fast_retrans"), 0);
        assert_int_equal(ctr(s.a, "tcp_rto"), 0);
    } else {
        assert_int_equal(ls.ce_marked, 0);
        assert_int_equal(ctr(s.a, "tcp_ecn_ece_in"), 0);
        assert_int_equal(cwr, 0);
    }
    free(w.out);
    free(w.in);
    free(cap);
    sim_free(&s);
}

static void rfc3168_5_ipv4_tos_carries_ect_and_ce(void **state)
{
    (void)state;
    one_way_marked(4, 0.05);
}

static void rfc3168_5_ipv6_traffic_class_carries_ect_and_ce(void **state)
{
    (void)state;
    one_way_marked(6, 0.05);
}

static void rfc3168_5_no_congestion_no_echo(void **state)
{
    (void)state;
    one_way_marked(4, 0);
    one_way_marked(6, 0);
}

/* Both ways at once under marks both ways, byte-exact (xfer). */
static void rfc3168_both_directions_marked(void **state)
{
    (void)state;
    struct sim s;
    synack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ecn_set = true;
    cfg.ecn = SYNACK_ECN_ON;
    sim_init(&s, 5, SYNACK_MS(2), &cfg);
    synack_link_faults f = {.seed = 31, .mark_ce = 0.05};
    assert_int_equal(synack_memlink_set_faults(s.link, 0, &f), 0);
    f.seed = 32;
    assert_int_equal(synack_memlink_set_faults(s.link, 1, &f), 0);
    static struct xfer x;
    assert_int_equal(xfer_start(&x, &s, 7000, 300000, 300000, 1, SYNACK_SEC(60)), 0);
    assert_true(sim_run(&s, xfer_pump, &x, SYNACK_SEC(600)));
    assert_true(xfer_ok(&x));
    assert_true(ctr(s.a, "tcp_ecn_cwr") > 0 && ctr(s.b, "tcp_ecn_cwr") > 0);
    assert_true(ctr(s.a, "tcp_ecn_ce_in") > 0 && ctr(s.b, "tcp_ecn_ce_in") > 0);
    sim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3168_5_ipv4_tos_carries_ect_and_ce),
        cmocka_unit_test(rfc3168_5_ipv6_traffic_class_carries_ect_and_ce),
        cmocka_unit_test(rfc3168_5_no_congestion_no_echo),
        cmocka_unit_test(rfc3168_both_directions_marked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
