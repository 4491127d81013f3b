/* synack-kpeer: the Linux kernel's TCP as the peer of synack.
 *
 *   synack-kpeer server PORT            the seed's server: 9, 9, 28, 11 bytes,
 *                                       then, after the client's FIN, 12 more
 *   synack-kpeer client ADDR PORT       the seed's client: reads the 57 bytes,
 *                                       half-closes, reads to the end
 *   synack-kpeer sink PORT [--no-hash]  accepts one connection, reads to EOF
 *   synack-kpeer source ADDR PORT BYTES [--no-hash]
 *                                       sends BYTES of a fixed pattern
 *
 * Every mode prints what it did, gives up after 10 s without progress, and
 * exits non-zero on any failure. Sink and source print the SHA-256 of the
 * bytes so a test can compare the two ends; --no-hash leaves it out for
 * benchmarks, where hashing would cost more than the transfer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KPEER_TIMEOUT_S 10
#define KPEER_BUF (256u * 1024u)

/* The seed's four server segments, 57 bytes in all, and the data the server
 * sends after the client's FIN (the half-close). */
#define SEG1 "Hello, 1\n"
#define SEG2 "Hello, 2\n"
#define SEG3 "This is segment three of 4.\n"
#define SEG4 "That's all\n"
#define AFTER_FIN "Half-closed\n"
_Static_assert(sizeof SEG1 - 1 == 9 && sizeof SEG2 - 1 == 9, "seed segment sizes");
_Static_assert(sizeof SEG3 - 1 == 28 && sizeof SEG4 - 1 == 11, "seed segment sizes");
#define SEED_TOTAL 57u

static int fail(const char *what)
{
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK)
        fprintf(stderr, "kpeer: %s: timed out after %d s\n", what, KPEER_TIMEOUT_S);
    else
        fprintf(stderr, "kpeer: %s: %s\n", what, strerror(err));
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Without progress for this long, a blocking call fails with EAGAIN, so a
 * peer that stalls makes the test fail instead of hang. */
static int set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = KPEER_TIMEOUT_S};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return -1;
    return 0;
}

static int parse_port(const char *text, uint16_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v == 0 || v > 65535) {
        fprintf(stderr, "kpeer: bad port '%s'\n", text);
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

/* Test traffic stays in the benchmarking range (and loopback), so a typo can
 * never aim it at a real network. */
static int parse_addr(const char *text, struct in_addr *out)
{
    if (inet_pton(AF_INET, text, out) != 1) {
        fprintf(stderr, "kpeer: bad IPv4 address '%s'\n", text);
        return -1;
    }
    uint32_t a = ntohl(out->s_addr);
    if ((a & 0xfffe0000u) != 0xc6120000u && (a >> 24) != 127) {
        fprintf(stderr, "kpeer: %s is outside 198.18.0.0/15 and 127.0.0.0/8; refusing\n", text);
        return -1;
    }
    return 0;
}

static const char *peer_text(const struct sockaddr_in *sin, char *buf, size_t len)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
    return buf;
}

/* Listens on PORT (any address of this namespace) and accepts one connection. */
static int accept_one(const char *mode, uint16_t port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0)
        return fail("socket");
    int one = 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || set_timeouts(ls) < 0 ||
        bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 1) < 0) {
        fail("listen");
        close(ls);
        return -1;
    }
    printf("kpeer %s: listening on port %u\n", mode, port);
    fflush(stdout);
    socklen_t slen = sizeof sin;
    int fd = accept(ls, (struct sockaddr *)&sin, &slen);
    close(ls);
    if (fd < 0) {
        fail("accept");
        return -1;
    }
    char text[48];
    printf("kpeer %s: accepted %s\n", mode, peer_text(&sin, text, sizeof text));
    if (set_timeouts(fd) < 0) {
        fail("setsockopt");
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_to(const char *mode, const char *addr, const char *port_text)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    uint16_t port;
    if (parse_addr(addr, &sin.sin_addr) < 0 || parse_port(port_text, &port) < 0)
        return -1;
    sin.sin_port = htons(port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail("socket");
        return -1;
    }
    /* SO_SNDTIMEO bounds connect() too. */
    if (set_timeouts(fd) < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        fail("connect");
        close(fd);
        return -1;
    }
    char text[48];
    printf("kpeer %s: connected to %s\n", mode, peer_text(&sin, text, sizeof text));
    return fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until EOF; returns the byte count, or -1 (errno set). */
static long long drain(int fd, crypto_hash_sha256_state *hash)
{
    static const size_t cap = KPEER_BUF;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return -1;
    long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return n < 0 ? -1 : total;
        }
        if (hash)
            crypto_hash_sha256_update(hash, buf, (unsigned long long)n);
        total += n;
    }
}

static int mode_server(const char *port_text)
{
    uint16_t port;
    if (parse_port(port_text, &port) < 0)
        return 2;
    int fd = accept_one("server", port);
    if (fd < 0)
        return 1;
    int rc = 1;
    /* One write per segment and no Nagle, so the four writes leave as four
     * segments, as in the seed's capture. */
    int one = 1;
    static const char *const segs[] = {SEG1, SEG2, SEG3, SEG4};
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        fail("TCP_NODELAY");
        goto out;
    }
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
        if (write_all(fd, segs[i], strlen(segs[i])) < 0) {
            fail("write");
            goto out;
        }
        printf("kpeer server: sent %zu bytes\n", strlen(segs[i]));
    }
    long long got = drain(fd, NULL);
    if (got < 0) {
        fail("waiting for the client's FIN");
        goto out;
    }
    printf("kpeer server: client half-closed (FIN) after sending %lld bytes\n", got);
    if (write_all(fd, AFTER_FIN, strlen(AFTER_FIN)) < 0) {
        fail("write after the client's FIN");
        goto out;
    }
    printf("kpeer server: sent %zu bytes on the half-closed connection\n", strlen(AFTER_FIN));
    rc = 0;
out:
    if (close(fd) < 0 && rc == 0)
        rc = fail("close");
    if (rc == 0)
        printf("kpeer server: closed\n");
    return rc;
}

static int mode_client(const char *addr, const char *port_text)
{
    int fd = connect_to("client", addr, port_text);
    if (fd < 0)
        return 1;
    int rc = 1;
    char buf[SEED_TOTAL];
    size_t have = 0;
    while (have < SEED_TOTAL) {
        ssize_t n = read(fd, buf + have, SEED_TOTAL - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail("read");
            goto out;
        }
        if (n == 0) {
            fprintf(stderr, "kpeer client: end of stream after %zu of %u bytes\n", have, SEED_TOTAL);
            goto out;
        }
        printf("kpeer client: received %zd bytes\n", n);
        have += (size_t)n;
    }
    if (shutdown(fd, SHUT_WR) < 0) {
        fail("shutdown");
        goto out;
    }
    printf("kpeer client: received all %u bytes; sent FIN (shutdown of the write side)\n", SEED_TOTAL);
    long long more = drain(fd, NULL);
    if (more < 0) {
        fail("reading after the half-close");
        goto out;
    }
    printf("kpeer client: received %lld more bytes, then the server's FIN\n", more);
    rc = 0;
out:
    if (close(fd) < 0 && rc == 0)
        rc = fail("close");
    if (rc == 0)
        printf("kpeer client: closed\n");
    return rc;
}

static void print_result(const char *mode, const char *verb, long long bytes, double secs,
                         crypto_hash_sha256_state *hash)
{
    printf("kpeer %s: %s %lld bytes in %.3f s (%.2f Gbit/s)", mode, verb, bytes, secs,
           secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0);
    if (hash) {
        unsigned char digest[crypto_hash_sha256_BYTES];
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        crypto_hash_sha256_final(hash, digest);
        printf(" sha256 %s", sodium_bin2hex(hex, sizeof hex, digest, sizeof digest));
    }
    printf("\n");
}

static int mode_sink(const char *port_text, bool hashing)
{
    uint16_t port;
    if (parse_port(port_text, &port) < 0)
        return 2;
    int fd = accept_one("sink", port);
    if (fd < 0)
        return 1;
    crypto_hash_sha256_state hash;
    crypto_hash_sha256_init(&hash);
    double t0 = now_s();
    long long got = drain(fd, hashing ? &hash : NULL);
    double secs = now_s() - t0;
    if (got < 0) {
        fail("read");
        close(fd);
        return 1;
    }
    if (close(fd) < 0)
        return fail("close");
    print_result("sink", "received", got, secs, hashing ? &hash : NULL);
    return 0;
}

/* The data is a fixed pseudo-random block repeated, so any other program can
 * produce the same bytes, and generating them costs nothing per byte. */
static void fill_pattern(unsigned char *buf, size_t len)
{
    static const unsigned char seed[randombytes_SEEDBYTES] = "synack-kpeer source pattern";
    randombytes_buf_deterministic(buf, len, seed);
}

static int mode_source(const char *addr, const char *port_text, const char *bytes_text, bool hashing)
{
    char *end;
    errno = 0;
    unsigned long long want = strtoull(bytes_text, &end, 10);
    if (errno || *end || bytes_text[0] == '-') {
        fprintf(stderr, "kpeer: bad byte count '%s'\n", bytes_text);
        return 2;
    }
    int fd = connect_to("source", addr, port_text);
    if (fd < 0)
        return 1;
    unsigned char *buf = malloc(KPEER_BUF);
    if (!buf) {
        close(fd);
        return 1;
    }
    fill_pattern(buf, KPEER_BUF);
    crypto_hash_sha256_state hash;
    crypto_hash_sha256_init(&hash);
    int rc = 1;
    double t0 = now_s();
    for (unsigned long long sent = 0; sent < want;) {
        size_t n = want - sent < KPEER_BUF ? (size_t)(want - sent) : KPEER_BUF;
        if (hashing)
            crypto_hash_sha256_update(&hash, buf, n);
        if (write_all(fd, buf, n) < 0) {
            fail("write");
            goto out;
        }
        sent += n;
    }
    if (shutdown(fd, SHUT_WR) < 0) {
        fail("shutdown");
        goto out;
    }
    /* Waiting for the sink's FIN means every byte was received and the close
     * completed, so the time covers the whole transfer. */
    long long back = drain(fd, NULL);
    double secs = now_s() - t0;
    if (back < 0) {
        fail("waiting for the sink to close");
        goto out;
    }
    if (back > 0) {
        fprintf(stderr, "kpeer source: the sink sent %lld unexpected bytes\n", back);
        goto out;
    }
    print_result("source", "sent", (long long)want, secs, hashing ? &hash : NULL);
    rc = 0;
out:
    free(buf);
    if (close(fd) < 0 && rc == 0)
        rc = fail("close");
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: synack-kpeer server PORT\n"
                    "       synack-kpeer client ADDR PORT\n"
                    "       synack-kpeer sink PORT [--no-hash]\n"
                    "       synack-kpeer source ADDR PORT BYTES [--no-hash]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "kpeer: libsodium failed to initialise\n");
        return 1;
    }
    /* Progress lines must come out in order with the other end's when both
     * write to one log. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return usage();
    const char *mode = argv[1];
    bool hashing = !(argc > 2 && !strcmp(argv[argc - 1], "--no-hash"));
    int nargs = argc - 2 - !hashing;
    if (!strcmp(mode, "server") && nargs == 1)
        return mode_server(argv[2]);
    if (!strcmp(mode, "client") && nargs == 2)
        return mode_client(argv[2], argv[3]);
    if (!strcmp(mode, "sink") && nargs == 1)
        return mode_sink(argv[2], hashing);
    if (!strcmp(mode, "source") && nargs == 3)
        return mode_source(argv[2], argv[3], argv[4], hashing);
    return usage();
}
