/* A bulk transfer between the two stacks of a sim, both ways at once: each
 * side sends a seeded pseudo-random stream of a given length, then shuts
 * down its sending side; each side reads until end of stream. SHA-256 of
 * what was sent and what arrived, per direction, tell byte-exactness. */
#ifndef SYNACK_TEST_XFER_H
#define SYNACK_TEST_XFER_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define XFER_CHUNK 65536

struct xfer_dir {
    uint64_t total, sent, rcvd;
    uint64_t rng;
    crypto_hash_sha256_state tx_hash, rx_hash;
    uint8_t tx_digest[32], rx_digest[32];
    uint8_t buf[XFER_CHUNK];
    size_t buf_len, buf_off;
    bool shut, eof;
};

struct xfer {
    struct sim *sim;
    synack_sock lsn, a, b; /* a on sim->a (client), b on sim->b (server) */
    struct xfer_dir ab, ba;
    int error; /* first socket error seen, as -errno */
    uint8_t rbuf[XFER_CHUNK];
};

/* Connects a (client) to b (server) on port and prepares bytes_ab from a to
 * b and bytes_ba from b to a. Returns 0, or -ETIMEDOUT when the handshake
 * did not finish within timeout of virtual time. */
int xfer_start(struct xfer *x, struct sim *s, uint16_t port, uint64_t bytes_ab, uint64_t bytes_ba,
               uint64_t seed, synack_time timeout);
/* A sim_run() done-callback: moves data both ways; true once both streams
 * have arrived up to end of stream (or a socket failed: see x->error). */
bool xfer_pump(void *x);
/* Both directions complete and byte-exact. */
bool xfer_ok(const struct xfer *x);

#endif
