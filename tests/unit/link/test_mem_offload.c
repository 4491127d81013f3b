/* Checksum offload on the memory link (SYNACK_OFFLOAD_TX_CSUM, as Linux's
 * loopback never computes one): a stack whose interface has it leaves the
 * TCP checksum zero unless a tap is set; the memory link sets it when a
 * stack is attached, fills the checksum in for its capture and before its
 * fault model may corrupt a frame, and tells the receiver the rest are
 * intact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim.h"
#include "wire/bytes.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "xfer.h"

/* A link that keeps the last frame the stack sent. */
struct keep {
    uint8_t f[2048];
    size_t len;
    int n;
};

static int keep_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct keep *k = ctx;
    if (len <= sizeof k->f) {
        memcpy(k->f, frame, len);
        k->len = len;
    }
    k->n++;
    return 0;
}

static void tap_nop(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now) {}

static bool tcp_csum_good(const uint8_t *f, size_t len)
{
    size_t ihl = (size_t)(f[0] & 0x0f) * 4;
    return wire_tcp_csum_ok_ipv4(f + ihl, len - ihl, wire_get32(f + 12), wire_get32(f + 16));
}

/* The stack's side: a SYN through an offloading interface leaves with the
 * checksum field zero; with a tap set, it leaves with the real checksum;
 * unknown flags are refused. */
static void stack_leaves_the_checksum_to_the_link(void **state)
{
    (void)state;
    synack_vclock clock = {SYNACK_SEC(1)};
    synack_stack *s = synack_stack_new(&(synack_config){.seed = 1, .clock = synack_vclock_read, .clock_ctx = &clock});
    struct keep k = {0};
    synack_iface_config ic = {.ops = {.transmit = keep_tx}, .ctx = &k, .addr = synack_ipv4(SIM_ADDR_A),
                              .prefix_len = 24, .offload = SYNACK_OFFLOAD_TX_CSUM};
    int ifx = synack_iface_add(s, &ic);
    assert_true(ifx >= 0);
    synack_endpoint peer = sim_ep(SIM_ADDR_B, 80);
    synack_sock a = synack_socket(s);
    assert_int_equal(synack_connect(s, a, &peer), -EINPROGRESS);
    assert_int_equal(k.n, 1);
    assert_int_equal(wire_get16(k.f + 20 + 16), 0);
    assert_false(tcp_csum_good(k.f, k.len));

    synack_set_tap(s, tap_nop, NULL);
    synack_sock b = synack_socket(s);
    assert_int_equal(synack_connect(s, b, &peer), -EINPROGRESS);
    assert_int_equal(k.n, 2);
    assert_true(tcp_csum_good(k.f, k.len));
    synack_set_tap(s, NULL, NULL);

    assert_int_equal(synack_iface_set_offload(s, ifx, 0), 0);
    synack_sock c = synack_socket(s);
    assert_int_equal(synack_connect(s, c, &peer), -EINPROGRESS);
    assert_true(tcp_csum_good(k.f, k.len));
    assert_int_equal(synack_iface_set_offload(s, ifx, 0x80), -EINVAL);
    assert_int_equal(synack_iface_set_offload(s, ifx + 1, 0), -EINVAL);
    ic.offload = 0x80;
    assert_int_equal(synack_iface_add(s, &ic), -EINVAL);
    synack_stack_free(s);
}

/* The capture file, made by the setup and removed by the teardown whether
 * the test passed or not; its name travels in the test's state. */
static int make_capture(void **state)
{
    char *path = strdup("/tmp/synack-offload-XXXXXX");
    int fd = path ? mkstemp(path) : -1;
    if (fd < 0) {
        free(path);
        return -1;
    }
    close(fd);
    *state = path;
    return 0;
}

static int remove_capture(void **state)
{
    unlink(*state);
    free(*state);
    return 0;
}

/* The link's capture holds real checksums, though no stack computed any. */
static void capture_gets_real_checksums(void **state)
{
    const char *path = *state;
    struct sim s;
    sim_init(&s, 7, SYNACK_MS(1), NULL);
    assert_int_equal(synack_memlink_pcap(s.link, path), 0);
    struct xfer x;
    assert_int_equal(xfer_start(&x, &s, 9000, 20000, 3000, 7, SYNACK_SEC(5)), 0);
    assert_true(sim_run(&s, xfer_pump, &x, SYNACK_SEC(60)));
    assert_true(xfer_ok(&x));
    assert_int_equal(synack_counter(s.b, "tcp_drop_csum"), 0);
    sim_free(&s); /* closes the capture */

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t gh[24], rh[16], pkt[70000];
    assert_int_equal(fread(gh, 1, sizeof gh, f), sizeof gh);
    int frames = 0;
    while (fread(rh, 1, sizeof rh, f) == sizeof rh) {
        uint32_t incl = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 | (uint32_t)rh[11] << 24;
        assert_true(incl <= sizeof pkt);
        assert_int_equal(fread(pkt, 1, incl, f), incl);
        if ((pkt[0] >> 4) == 4 && pkt[9] == WIRE_IPPROTO_TCP) {
            assert_true(tcp_csum_good(pkt, incl));
            frames++;
        }
    }
    fclose(f);
    assert_true(frames > 20);
}

/* The receiving side: every frame the link did not corrupt arrives with a
 * real checksum once the fault model may corrupt (so the receiver's check
 * means something), and every corrupted one is dropped and counted. */
struct rx_seen {
    int frames, good;
};

static void count_good(void *ctx, int dir, int ifindex, const uint8_t *frame, size_t len, synack_time now)
{
    struct rx_seen *r = ctx;
    if (dir != SYNACK_TAP_IN || (frame[0] >> 4) != 4 || frame[9] != WIRE_IPPROTO_TCP)
        return;
    r->frames++;
    r->good += tcp_csum_good(frame, len);
}

static void corrupting_link_checksums_first(void **state)
{
    (void)state;
    struct sim s;
    sim_init(&s, 9, SYNACK_MS(1), NULL);
    synack_link_faults fl = {.seed = 3, .corrupt = 0.02};
    assert_int_equal(sim_set_faults(&s, &fl), 0);
    struct rx_seen seen = {0};
    synack_set_tap(s.b, count_good, &seen); /* a tap on the receiver: the sender still offloads */
    struct xfer x;
    assert_int_equal(xfer_start(&x, &s, 9000, 200000, 0, 9, SYNACK_SEC(5)), 0);
    assert_true(sim_run(&s, xfer_pump, &x, SYNACK_SEC(600)));
    assert_true(xfer_ok(&x));
    synack_link_stats st;
    synack_memlink_stats(s.link, 0, &st);
    assert_true(st.corrupted > 0);
    assert_true(seen.frames > 100);
    /* the corrupted ones fail; each was dropped */
    assert_int_equal(seen.frames - seen.good, (int)synack_counter(s.b, "tcp_drop_csum") +
                                                   (int)synack_counter(s.b, "ip_drop_csum") +
                                                   (int)synack_counter(s.b, "ip_drop_hdr") +
                                                   (int)synack_counter(s.b, "tcp_drop_hdr"));
    assert_true(seen.good >= seen.frames - (int)st.corrupted);
    sim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stack_leaves_the_checksum_to_the_link),
        cmocka_unit_test_setup_teardown(capture_gets_real_checksums, make_capture, remove_capture),
        cmocka_unit_test(corrupting_link_checksums_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
