/* MSG_MORE as Linux gives it: tcp_push ends the write with TCP_NAGLE_CORK
 * for that push only, so the partial segment waits, but the next output
 * the ACK clock makes (tcp_data_snd_check) follows the socket's own rules
 * and sends it, without PSH (google/net/tcp/nagle/sendmsg_msg_more.pkt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define MSS 1000

static void linux_msg_more_holds_until_the_next_ack(void **state)
{
    (void)state;
    struct xconn x;
    synack_config cfg = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20};
    x_open(&x, &cfg, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    h_advance(&c->h, 0); /* the option's push is done */
    static uint8_t d[3100];
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, sizeof d, SYNACK_SEND_MORE), 3100);
    uint32_t seqs[8];
    assert_int_equal(x_data_segs(&x, seqs, 8), 3); /* the 100 bytes wait, TCP_NODELAY notwithstanding */
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, 50, SYNACK_SEND_MORE), 50);
    assert_int_equal(x_data_segs(&x, seqs, 8), 0);
    x_ack(&x, c->ours + 2000, NULL, 0);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 3000);
    assert_int_equal(t.payload_len, 150);
    assert_false(t.flags & WIRE_TCP_PSH); /* the data ends a MSG_MORE write */
    /* in flight again: more MSG_MORE writes wait for the ACK, then go */
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, 7, SYNACK_SEND_MORE), 7);
    assert_int_equal(x_data_segs(&x, seqs, 8), 0);
    x_ack(&x, c->ours + 3150, NULL, 0);
    t = x_next(&x);
    assert_int_equal(t.payload_len, 7);
    h_free(&c->h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_msg_more_holds_until_the_next_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
