#include "xfer.h"

#include <errno.h>
#include <string.h>

/* xorshift64*: a stream that costs next to nothing to make, so the hashes
 * and the stacks dominate the time of a bulk test */
static uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void dir_init(struct xfer_dir *d, uint64_t total, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->total = total;
    d->rng = seed | 1;
    crypto_hash_sha256_init(&d->tx_hash);
    crypto_hash_sha256_init(&d->rx_hash);
}

static void refill(struct xfer_dir *d)
{
    uint64_t left = d->total - d->sent;
    size_t n = left < XFER_CHUNK ? (size_t)left : XFER_CHUNK;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = xs(&d->rng);
        memcpy(d->buf + i, &v, n - i < 8 ? n - i : 8);
    }
    crypto_hash_sha256_update(&d->tx_hash, d->buf, n);
    d->buf_len = n;
    d->buf_off = 0;
}

static void note_error(struct xfer *x, long r)
{
    if (r < 0 && r != -EAGAIN && !x->error)
        x->error = (int)r;
}

static void push(struct xfer *x, synack_stack *s, synack_sock h, struct xfer_dir *d)
{
    while (!d->shut) {
        if (d->buf_off == d->buf_len) {
            if (d->sent == d->total) {
                note_error(x, synack_shutdown(s, h, SYNACK_SHUT_WR));
                d->shut = true;
                crypto_hash_sha256_final(&d->tx_hash, d->tx_digest);
                return;
            }
            refill(d);
        }
        long n = synack_send(s, h, d->buf + d->buf_off, d->buf_len - d->buf_off);
        if (n <= 0) {
            note_error(x, n);
            return;
        }
        d->buf_off += (size_t)n;
        d->sent += (uint64_t)n;
    }
}

static void pull(struct xfer *x, synack_stack *s, synack_sock h, struct xfer_dir *d)
{
    while (!d->eof) {
        long n = synack_recv(s, h, x->rbuf, sizeof x->rbuf);
        if (n < 0) {
            note_error(x, n);
            return;
        }
        if (n == 0) {
            d->eof = true;
            crypto_hash_sha256_final(&d->rx_hash, d->rx_digest);
            return;
        }
        crypto_hash_sha256_update(&d->rx_hash, x->rbuf, (size_t)n);
        d->rcvd += (uint64_t)n;
    }
}

static bool accepted(void *ctx)
{
    struct xfer *x = ctx;
    if (x->b < 0)
        x->b = synack_accept(x->sim->b, x->lsn, NULL);
    return x->b >= 0 && (synack_events(x->sim->a, x->a) & SYNACK_EV_OUT);
}

int xfer_start(struct xfer *x, struct sim *s, uint16_t port, uint64_t bytes_ab, uint64_t bytes_ba,
               uint64_t seed, synack_time timeout)
{
    memset(x, 0, sizeof *x);
    if (sodium_init() < 0)
        return -ENOSYS;
    x->sim = s;
    x->b = -1;
    dir_init(&x->ab, bytes_ab, seed * 0x9e3779b97f4a7c15ull + 1);
    dir_init(&x->ba, bytes_ba, seed * 0xc2b2ae3d27d4eb4full + 2);
    x->lsn = synack_socket(s->b);
    synack_endpoint le = sim_ep(SIM_ADDR_B, port);
    int r;
    if ((r = synack_bind(s->b, x->lsn, &le)) < 0 || (r = synack_listen(s->b, x->lsn, 4)) < 0)
        return r;
    x->a = synack_socket(s->a);
    r = synack_connect(s->a, x->a, &le);
    if (r < 0 && r != -EINPROGRESS)
        return r;
    return sim_run(s, accepted, x, timeout) ? 0 : -ETIMEDOUT;
}

bool xfer_pump(void *ctx)
{
    struct xfer *x = ctx;
    push(x, x->sim->a, x->a, &x->ab);
    push(x, x->sim->b, x->b, &x->ba);
    pull(x, x->sim->b, x->b, &x->ab);
    pull(x, x->sim->a, x->a, &x->ba);
    return x->error || (x->ab.eof && x->ba.eof);
}

bool xfer_ok(const struct xfer *x)
{
    const struct xfer_dir *d[2] = {&x->ab, &x->ba};
    for (int i = 0; i < 2; i++)
        if (!d[i]->shut || !d[i]->eof || d[i]->rcvd != d[i]->total ||
            memcmp(d[i]->tx_digest, d[i]->rx_digest, 32) != 0)
            return false;
    return !x->error;
}
