/* wire/siphash.h against libsodium's crypto_shorthash_siphash24: the
 * inline hash must be the library's function bit for bit (the ISNs, ports
 * and table buckets it picks are replayed from seeds), at every length
 * around the 8-byte blocks and under many keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "wire/siphash.h"

static uint64_t sodium_sip(const uint8_t key[16], const uint8_t *msg, size_t len)
{
    uint8_t out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, msg, len, key);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | out[i];
    return h;
}

/* n bytes from a 64-bit LCG (its top byte) at *x */
static void fill(uint8_t *p, size_t n, uint64_t *x)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((*x = *x * 6364136223846793005ull + 1442695040888963407ull) >> 56);
}

static void test_paper_vector(void **state)
{
    (void)state;
    /* The SipHash paper, Appendix A: key 00..0f, message 00..0e */
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_true(wire_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
}

static void test_matches_libsodium_every_length(void **state)
{
    (void)state;
    uint8_t key[16], msg[64];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 200; round++) {
        fill(key, sizeof key, &x);
        fill(msg, sizeof msg, &x);
        for (size_t len = 0; len <= sizeof msg; len++)
            assert_true(wire_siphash24(key, msg, len) == sodium_sip(key, msg, len));
    }
}

/* The word interface hashes the little-endian bytes of its words and then
 * the tail's low bytes: what src/stack/demux.c and socket.c rely on to
 * give the same value as a byte buffer. */
static void test_words_match_bytes(void **state)
{
    (void)state;
    uint8_t key[16], msg[40];
    uint64_t x = 0x243f6a8885a308d3ull;
    for (int round = 0; round < 200; round++) {
        fill(key, sizeof key, &x);
        fill(msg, sizeof msg, &x);
        for (size_t len = 0; len <= sizeof msg; len++) {
            struct wire_sip s;
            wire_sip_init(&s, key);
            size_t w = 0;
            for (; w + 8 <= len; w += 8) {
                uint64_t m = 0;
                for (int b = 7; b >= 0; b--)
                    m = m << 8 | msg[w + (size_t)b];
                wire_sip_word(&s, m);
            }
            uint64_t tail = 0;
            for (size_t b = len; b > w; b--)
                tail = tail << 8 | msg[b - 1];
            assert_true(wire_sip_final(&s, tail, len) == sodium_sip(key, msg, len));
        }
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_vector),
        cmocka_unit_test(test_matches_libsodium_every_length),
        cmocka_unit_test(test_words_match_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
