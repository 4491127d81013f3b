/* `synack demo`: the seed's exchange, run for real and explained.
 *
 * The exchange: a three-way handshake with random ISNs; the server sends
 * 9, 9, 28 and 11 bytes, which the client acknowledges with one cumulative
 * ACK; the client shuts its sending side; the server, half-closed, still
 * sends, then closes: the four-way close, the client ending in TIME_WAIT.
 *
 * This file runs it between two synack stacks over the in-memory link on a
 * virtual clock, prints every state change as it happens and then the
 * ladder diagram of the capture. demo_kernel.c runs it against Linux. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "demo.h"
#include "ladder.h" /* tools/trace: the analyzer's ladder */
#include "synack.h"

#define CLIENT_ADDR 0xc6120001u /* 198.18.0.1 */
#define SERVER_ADDR 0xc6120002u /* 198.18.0.2 */
#define PORT 80

const char *const demo_parts[4] = {"HTTP/1.1 ", "200 OK.\r\n", "Content-Type: text/plain\r\n\r\n", "hello world"};
const char demo_tail[] = "...and more after your FIN\n";

void demo_print_state(void *ctx, const synack_endpoint *l, const synack_endpoint *r, synack_state from,
                      synack_state to, const char *why, synack_time now)
{
    const struct demo_role *role = ctx;
    char la[48];
    synack_addr_format(&l->addr, la, sizeof la);
    double ms = now >= role->origin ? (double)(now - role->origin) / 1000.0 : 0.0;
    printf("  %9.3f  %-7s %s:%u  %-12s -> %-12s  (%s)\n", ms, role->who, la, l->port, synack_state_name(from),
           synack_state_name(to), why);
    (void)r;
}

struct mem {
    synack_vclock clock;
    synack_memlink *link;
    synack_stack *cli, *srv;
};

static synack_time step(struct mem *m)
{
    synack_memlink_deliver(m->link, m->clock.now);
    synack_time a = synack_poll(m->cli), b = synack_poll(m->srv), l = synack_memlink_next(m->link);
    synack_time n = a < b ? a : b;
    return l < n ? l : n;
}

/* Runs until cond holds; false if the exchange stalls for 10 s of virtual time. */
static bool run_until(struct mem *m, bool (*cond)(struct mem *, void *), void *arg)
{
    synack_time limit = m->clock.now + SYNACK_SEC(10);
    for (;;) {
        synack_time next = step(m);
        if (cond(m, arg))
            return true;
        if (next == SYNACK_TIME_NEVER || next > limit)
            return false;
        m->clock.now = next > m->clock.now ? next : m->clock.now + 1;
    }
}

/* Runs exactly span of virtual time. */
static void run_for(struct mem *m, synack_time span)
{
    for (synack_time until = m->clock.now + span; m->clock.now < until;) {
        synack_time next = step(m);
        m->clock.now = next < until ? (next > m->clock.now ? next : m->clock.now + 1) : until;
    }
    step(m);
}

struct socks {
    synack_sock lsn, srv, cli;
    char got[256];
    size_t ngot;
    bool eof;
};

static bool connected(struct mem *m, void *arg)
{
    struct socks *k = arg;
    if (k->srv < 0)
        k->srv = synack_accept(m->srv, k->lsn, NULL);
    return k->srv >= 0 && (synack_events(m->cli, k->cli) & SYNACK_EV_OUT);
}

static bool drained(struct mem *m, void *arg)
{
    struct socks *k = arg;
    long n;
    while ((n = synack_recv(m->cli, k->cli, k->got + k->ngot, sizeof k->got - k->ngot)) > 0)
        k->ngot += (size_t)n;
    if (n == 0)
        k->eof = true;
    return k->ngot >= 57 && (k->ngot == 57 || k->eof);
}

static bool server_saw_fin(struct mem *m, void *arg)
{
    struct socks *k = arg;
    char b[8];
    return synack_recv(m->srv, k->srv, b, sizeof b) == 0;
}

static bool client_eof(struct mem *m, void *arg)
{
    drained(m, arg);
    return ((struct socks *)arg)->eof;
}

static int fail(const char *what)
{
    fprintf(stderr, "synack demo: %s\n", what);
    return 1;
}

static int run_memory(const char *pcap_path, uint64_t seed)
{
    struct mem m;
    memset(&m, 0, sizeof m);
    m.clock.now = SYNACK_SEC(1);
    struct demo_role rc = {"client", m.clock.now}, rs = {"server", m.clock.now};
    synack_config c = {.clock = synack_vclock_read, .clock_ctx = &m.clock, .on_state = demo_print_state};
    c.seed = seed;
    c.on_state_ctx = &rc;
    m.cli = synack_stack_new(&c);
    c.seed = seed ^ 0x5eed5eed5eedull;
    c.on_state_ctx = &rs;
    m.srv = synack_stack_new(&c);
    m.link = synack_memlink_new(SYNACK_MS(5), synack_vclock_read, &m.clock);
    if (!m.cli || !m.srv || !m.link)
        return fail("out of memory");
    if (synack_memlink_pcap(m.link, pcap_path) < 0)
        return fail("cannot write the pcap file");
    synack_iface_config ic = {.ops = synack_memlink_ops(), .ctx = synack_memlink_end(m.link, 0),
                              .addr = synack_ipv4(CLIENT_ADDR), .prefix_len = 24};
    synack_memlink_attach(m.link, 0, m.cli, synack_iface_add(m.cli, &ic));
    ic.ctx = synack_memlink_end(m.link, 1);
    ic.addr = synack_ipv4(SERVER_ADDR);
    synack_memlink_attach(m.link, 1, m.srv, synack_iface_add(m.srv, &ic));

    printf("State changes (virtual time; 5 ms each way):\n");
    struct socks k = {.srv = -1};
    synack_endpoint se = {.addr = synack_ipv4(SERVER_ADDR), .port = PORT};
    k.lsn = synack_socket(m.srv);
    if (synack_bind(m.srv, k.lsn, &se) || synack_listen(m.srv, k.lsn, 8))
        return fail("listen failed");
    k.cli = synack_socket(m.cli);
    synack_connect(m.cli, k.cli, &se);
    if (!run_until(&m, connected, &k))
        return fail("the handshake did not complete");
    /* four writes, four segments, as in the article: no Nagle */
    synack_setopt(m.srv, k.srv, SYNACK_OPT_NODELAY, 1);
    for (int i = 0; i < 4; i++)
        synack_send(m.srv, k.srv, demo_parts[i], strlen(demo_parts[i]));
    if (!run_until(&m, drained, &k) || k.ngot != 57)
        return fail("the 57 bytes did not arrive");
    /* the cumulative ACK leaves within the delayed-ACK time; then the client,
     * done sending, half-closes */
    run_for(&m, SYNACK_MS(100));
    synack_shutdown(m.cli, k.cli, SYNACK_SHUT_WR);
    if (!run_until(&m, server_saw_fin, &k))
        return fail("the server did not see the client's FIN");
    /* the server writes after its delayed ACK of the FIN has gone (Linux
     * delays it, hoping to carry it on a reply), so the ACK goes alone,
     * as in the article's capture */
    run_for(&m, SYNACK_MS(100));
    synack_send(m.srv, k.srv, demo_tail, strlen(demo_tail));
    synack_close(m.srv, k.srv);
    if (!run_until(&m, client_eof, &k))
        return fail("the client did not see the server's FIN");
    synack_tcp_info ci;
    synack_tcp_info_get(m.cli, k.cli, &ci);
    synack_close(m.cli, k.cli);
    synack_close(m.srv, k.lsn);
    /* deliver what is in flight, then let TIME_WAIT run out, so the log
     * shows the whole life of both ends */
    while (m.clock.now < SYNACK_SEC(75)) {
        synack_time next = step(&m);
        if (next == SYNACK_TIME_NEVER)
            break;
        m.clock.now = next > m.clock.now ? next : m.clock.now + 1;
    }

    printf("\nClient received %zu bytes: 57 before its FIN, %zu after (half-close).\n", k.ngot, k.ngot - 57);
    printf("Client ISN a = %u, server ISN b = %u.\n\n", ci.iss, ci.irs);
    printf("Ladder (left: client, right: server; relative numbers count from each side's ISN):\n");
    synack_stack_free(m.cli);
    synack_stack_free(m.srv);
    synack_memlink_free(m.link); /* closes the pcap */
    if (tr_ladder_file(pcap_path, stdout) < 0)
        return fail("cannot read back the pcap");
    printf("\nCapture written to %s (tshark -r %s; synack trace %s).\n", pcap_path, pcap_path, pcap_path);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: synack demo [--memory] [--pcap FILE] [--seed N]\n"
                    "  as root, runs the seed's exchange against the Linux kernel over TUN in a\n"
                    "  network namespace; otherwise (or with --memory) between two synack stacks.\n");
    return 2;
}

int synack_cmd_demo(int argc, char **argv)
{
    const char *pcap = "synack-demo.pcap";
    bool memory = false;
    uint64_t seed = 0;
    bool seeded = false;
    static const struct option opts[] = {{"memory", no_argument, 0, 'm'},
                                         {"pcap", required_argument, 0, 'p'},
                                         {"seed", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "mp:s:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'm': memory = true; break;
        case 'p': pcap = optarg; break;
        case 's':
            seed = strtoull(optarg, NULL, 0);
            seeded = true;
            break;
        default: return usage();
        }
    }
    if (!seeded)
        seed = synack_monotonic_now(NULL) ^ ((uint64_t)getpid() << 32);
    printf("synack demo: the three-way handshake, 9+9+28+11 bytes with one cumulative ACK,\n"
           "a half-close and the four-way close (seed %llu).\n\n",
           (unsigned long long)seed);
    if (!memory) {
        int r = demo_kernel(pcap, seed);
        if (r != DEMO_KERNEL_UNAVAILABLE)
            return r;
    }
    printf("Running between two synack stacks in memory%s.\n\n",
           memory ? "" : " (the kernel peer needs root and /dev/net/tun)");
    return run_memory(pcap, seed);
}
