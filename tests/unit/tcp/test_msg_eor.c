/* MSG_EOR as Linux gives it (tcp_sendmsg_locked sets TCPCB_EOR on the last
 * skb of the write; tcp_skb_can_collapse_to and the retransmit collapse
 * refuse to join data past it): the end of a record never shares a
 * segment with later data, on the first transmission or a resend, and the
 * segment that ends a record carries PSH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define MSS 1000

static void open_conn(struct xconn *x)
{
    synack_config cfg = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20};
    x_open(x, &cfg, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
}

/* google/net/tcp/eor/no-coalesce-small.pkt: 400 bytes wait behind a full
 * initial window; a 400-byte record joins them (they carry no mark), and
 * the next write starts a segment of its own. */
static void linux_eor_record_end_splits_segments(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x);
    struct conn *c = &x.c;
    static uint8_t d[20000];
    assert_int_equal(synack_send(c->h.s, c->s, d, 10400), 10400);
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, 400, SYNACK_SEND_EOR), 400);
    assert_int_equal(synack_send(c->h.s, c->s, d, 2000), 2000);
    uint32_t seqs[32];
    assert_int_equal(x_data_segs(&x, seqs, 32), 10); /* IW10 */
    x_ack(&x, c->ours + 10 * MSS, NULL, 0);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 10 * MSS);
    assert_int_equal(t.payload_len, 800); /* not 1000: the record ends here */
    assert_true(t.flags & WIRE_TCP_PSH);
    t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 10 * MSS + 800);
    assert_int_equal(t.payload_len, 1000);
    h_free(&c->h);
}

/* no-coalesce-retrans.pkt: records sent alone are resent alone. Three
 * 300-byte records are lost; the timeout resends the first by itself,
 * where a resend without marks would carry all 900 bytes. */
static void linux_eor_retransmission_keeps_records(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x);
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    static uint8_t d[300];
    for (int i = 0; i < 3; i++)
        assert_int_equal(synack_send_flags(c->h.s, c->s, d, sizeof d, SYNACK_SEND_EOR), 300);
    uint32_t seqs[8];
    assert_int_equal(x_data_segs(&x, seqs, 8), 3);
    /* the tail loss probe (the last record), then the timeout's resends */
    struct wire_tcp t;
    bool head = false;
    int n = 0;
    for (int ms = 0; ms < 3000; ms += 10) {
        h_advance(&c->h, 10 * 1000);
        while (h_next(&c->h, &t)) {
            if (!t.payload_len)
                continue;
            n++;
            assert_int_equal((t.seq - c->ours) % 300, 0);
            assert_int_equal(t.payload_len, 300);
            assert_true(t.flags & WIRE_TCP_PSH);
            head |= t.seq == c->ours;
        }
    }
    assert_true(n >= 2);
    assert_true(head);
    h_free(&c->h);
}

/* Linux tcp_write_xmit: Nagle (and cork) hold only the last skb; a short
 * record with data behind it goes at once although data is in flight. */
static void linux_eor_short_record_not_held_by_nagle(void **state)
{
    (void)state;
    struct xconn x;
    open_conn(&x);
    struct conn *c = &x.c;
    static uint8_t d[3000];
    assert_int_equal(synack_send(c->h.s, c->s, d, 500), 500); /* a small segment in flight */
    uint32_t seqs[8];
    assert_int_equal(x_data_segs(&x, seqs, 8), 1);
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, 200, SYNACK_SEND_EOR), 200);
    assert_int_equal(x_data_segs(&x, seqs, 8), 0); /* the last of the queue: Nagle holds it */
    assert_int_equal(synack_send(c->h.s, c->s, d, 3000), 3000);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 500);
    assert_int_equal(t.payload_len, 200);
    h_free(&c->h);
}

/* A record's mark counts only when the whole write was taken. */
static void linux_eor_only_when_whole_write_taken(void **state)
{
    (void)state;
    struct xconn x;
    synack_config cfg = {.sndbuf = 4096, .rcvbuf = 1 << 20};
    x_open(&x, &cfg, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    struct conn *c = &x.c;
    static uint8_t d[8000];
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, 8000, SYNACK_SEND_EOR), 4096);
    uint32_t seqs[8];
    assert_int_equal(x_data_segs(&x, seqs, 8), 5); /* 4 x 1000 and 96 */
    x_ack(&x, c->ours + 4096, NULL, 0);
    assert_int_equal(synack_send(c->h.s, c->s, d, 1500), 1500);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 1000); /* no mark at 4096 to stop at */
    h_free(&c->h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_eor_record_end_splits_segments),
        cmocka_unit_test(linux_eor_retransmission_keeps_records),
        cmocka_unit_test(linux_eor_short_record_not_held_by_nagle),
        cmocka_unit_test(linux_eor_only_when_whole_write_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
