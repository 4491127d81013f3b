/* `synack demo` against the Linux kernel: the seed's exchange over a TUN
 * device in a network namespace of its own (tools/netns/tun-run.sh makes it,
 * with addresses in 198.18.0.0/15, and deletes it), in both roles: synack
 * as the client of a kernel server, then synack as the server of a kernel
 * client. The kernel side is synack-kpeer, plain Linux sockets.
 *
 * The outer run re-executes this binary inside the namespace with
 * SYNACK_DEMO_ROLE set; the inner run is the synack side. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"
#include "ladder.h" /* tools/trace: the analyzer's ladder */

#define DEMO_PORT 80

struct role {
    struct demo_role print;
    synack_stack *s;
    synack_sock lsn, sock;
    int phase;
    char got[256];
    size_t ngot;
    bool eof, closed, failed;
};

/* The client's side of the seed, one step per wake-up of the loop. */
static bool client_step(void *ctx)
{
    struct role *r = ctx;
    long n;
    switch (r->phase) {
    case 0: /* connecting */
        if (synack_events(r->s, r->sock) & SYNACK_EV_ERR) {
            r->failed = true;
            return true;
        }
        if (synack_events(r->s, r->sock) & SYNACK_EV_OUT) {
            /* Delayed ACKs from the start (TCP_QUICKACK off, as a Linux
             * client may set it): one ACK covers the four segments, as in
             * the article, instead of Linux's quick ACK of each. */
            synack_setopt(r->s, r->sock, SYNACK_OPT_QUICKACK, 0);
            r->phase = 1;
        }
        return false;
    case 1: /* the server's 57 bytes, then let our ACK of them go out */
        while ((n = synack_recv(r->s, r->sock, r->got + r->ngot, sizeof r->got - r->ngot)) > 0)
            r->ngot += (size_t)n;
        if (r->ngot >= 57) {
            r->phase = 2;
            return true; /* the caller lets our ACK go, then half-closes */
        }
        return false;
    default: /* read what the server sends after our FIN, until its FIN */
        while ((n = synack_recv(r->s, r->sock, r->got + r->ngot, sizeof r->got - r->ngot)) > 0)
            r->ngot += (size_t)n;
        if (n == 0 || (n < 0 && n != -EAGAIN)) {
            r->eof = n == 0;
            r->failed = n != 0;
            return true;
        }
        return false;
    }
}

static void on_state(void *ctx, const synack_endpoint *l, const synack_endpoint *rem, synack_state from,
                     synack_state to, const char *why, synack_time now)
{
    struct role *r = ctx;
    demo_print_state(&r->print, l, rem, from, to, why, now);
    if (to == SYNACK_CLOSED && from != SYNACK_LISTEN)
        r->closed = true;
}

/* The server's side of the seed. */
static bool server_step(void *ctx)
{
    struct role *r = ctx;
    char b[64];
    switch (r->phase) {
    case 0:
        r->sock = synack_accept(r->s, r->lsn, NULL);
        if (r->sock < 0)
            return false;
        synack_setopt(r->s, r->sock, SYNACK_OPT_NODELAY, 1); /* four writes, four segments */
        for (int i = 0; i < 4; i++)
            synack_send(r->s, r->sock, demo_parts[i], strlen(demo_parts[i]));
        r->phase = 1;
        return false;
    case 1: { /* wait for the client's FIN, then keep sending: half-close */
        long n = synack_recv(r->s, r->sock, b, sizeof b);
        if (n > 0 || n == -EAGAIN)
            return false;
        if (n < 0) {
            r->failed = true;
            return true;
        }
        synack_send(r->s, r->sock, demo_tail, strlen(demo_tail));
        synack_close(r->s, r->sock);
        r->phase = 2;
        return false;
    }
    default:
        return r->closed;
    }
}

static int inner(const char *role_name, const char *pcap_path, uint64_t seed)
{
    const char *dev = getenv("SYNACK_TUN_DEV");
    const char *kaddr = getenv("SYNACK_KERNEL_ADDR");
    const char *saddr = getenv("SYNACK_STACK_ADDR");
    const char *kpeer = getenv("SYNACK_KPEER");
    bool client = !strcmp(role_name, "client");
    struct role r = {.print = {client ? "synack" : "synack", synack_monotonic_now(NULL)}, .sock = -1};
    synack_addr ka, sa;
    if (!dev || !kaddr || !saddr || synack_addr_parse(kaddr, &ka) || synack_addr_parse(saddr, &sa)) {
        fprintf(stderr, "synack demo: run inside tools/netns/tun-run.sh\n");
        return 1;
    }
    /* ACKs wait 1 ms, not Linux's 40: on this 0.1 ms path the kernel's tail
     * loss probe (RFC 8985 §7, 2 SRTT and a floor of a few ms) would resend
     * the last of its four segments before a 40 ms delayed ACK went, and the
     * article's one cumulative ACK is what the client role shows. */
    synack_config c = {.seed = seed,
                       .clock = synack_monotonic_now,
                       .on_state = on_state,
                       .on_state_ctx = &r,
                       .ack_delay = SYNACK_MS(1)};
    r.s = synack_stack_new(&c);
    synack_tun *tun = NULL;
    int e = synack_tun_open(dev, 1500, &tun);
    if (!r.s || e < 0) {
        fprintf(stderr, "synack demo: cannot open %s: %s\n", dev, strerror(-e));
        return 1;
    }
    synack_pcap *pc = NULL;
    if (synack_pcap_open(pcap_path, &pc) == 0)
        synack_set_tap(r.s, synack_pcap_tap, pc);
    synack_iface_config ic = {.ops = synack_tun_ops(), .ctx = tun, .addr = sa, .prefix_len = 24, .mtu = 1500};
    synack_tun_attach(tun, r.s, synack_iface_add(r.s, &ic));
    synack_loop *loop = synack_loop_new(r.s);
    synack_loop_add_tun(loop, tun);

    pid_t kpid = -1;
    int rc;
    if (client) {
        printf("synack (%s) is the client; the Linux kernel (%s:%d) is the server.\n\n", saddr, kaddr, DEMO_PORT);
        r.sock = synack_socket(r.s);
        synack_endpoint ke = {.addr = ka, .port = DEMO_PORT};
        synack_connect(r.s, r.sock, &ke);
        rc = synack_loop_run(loop, client_step, &r, SYNACK_SEC(15));
        if (rc == 0 && !r.failed) {
            /* the cumulative ACK leaves within the delayed-ACK time; then,
             * done sending, synack half-closes */
            synack_loop_run(loop, NULL, NULL, SYNACK_MS(100));
            synack_shutdown(r.s, r.sock, SYNACK_SHUT_WR);
            r.phase = 3;
            rc = synack_loop_run(loop, client_step, &r, SYNACK_SEC(15));
        }
        if (rc == 0 && !r.failed)
            synack_loop_run(loop, NULL, NULL, SYNACK_MS(200)); /* our last ACK leaves */
        if (rc == 0 && !r.failed)
            printf("\n  synack received %zu bytes: 57 before its FIN and %zu after (half-close);\n"
                   "  it stays in TIME_WAIT for 2MSL (60 s), which the demo does not wait out.\n",
                   r.ngot, r.ngot - 57);
    } else {
        printf("synack (%s:%d) is the server; a Linux kernel client (%s) connects.\n\n", saddr, DEMO_PORT, kaddr);
        r.lsn = synack_socket(r.s);
        synack_endpoint se = {.addr = sa, .port = DEMO_PORT};
        synack_bind(r.s, r.lsn, &se);
        synack_listen(r.s, r.lsn, 8);
        kpid = fork();
        if (kpid == 0) {
            char port[8];
            snprintf(port, sizeof port, "%d", DEMO_PORT);
            execl(kpeer, kpeer, "client", saddr, port, (char *)NULL);
            _exit(127);
        }
        rc = synack_loop_run(loop, server_step, &r, SYNACK_SEC(15));
    }
    if (kpid > 0) {
        int st = 0;
        if (rc != 0)
            kill(kpid, SIGTERM);
        waitpid(kpid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = rc ? rc : -EPROTO;
    }
    synack_loop_free(loop);
    synack_stack_free(r.s);
    synack_tun_close(tun);
    synack_pcap_close(pc);
    if (rc != 0 || r.failed) {
        fprintf(stderr, "synack demo: the exchange with the kernel failed (%s)\n",
                rc ? synack_strerror(rc) : "connection error");
        return 1;
    }
    printf("\nLadder (left: first sender; relative numbers count from each side's ISN):\n");
    return tr_ladder_file(pcap_path, stdout) < 0;
}

int demo_kernel(const char *pcap_path, uint64_t seed)
{
    const char *role = getenv("SYNACK_DEMO_ROLE");
    if (role)
        return inner(role, pcap_path, seed);
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0 || system("command -v ip >/dev/null 2>&1"))
        return DEMO_KERNEL_UNAVAILABLE;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return DEMO_KERNEL_UNAVAILABLE;
    self[n] = 0;
    const char *kpeer = SYNACK_BUILD_DIR "/synack-kpeer";
    const char *run = SYNACK_SOURCE_DIR "/tools/netns/tun-run.sh";
    if (access(kpeer, X_OK) || access(run, R_OK))
        return DEMO_KERNEL_UNAVAILABLE;
    char base[4096];
    snprintf(base, sizeof base, "%s", pcap_path);
    char *dot = strrchr(base, '.');
    if (dot && !strcmp(dot, ".pcap"))
        *dot = 0;
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        const char *r = i == 0 ? "client" : "server";
        char cmd[16384];
        if (i == 0)
            snprintf(cmd, sizeof cmd,
                     "SYNACK_DEMO_ROLE=client SYNACK_KPEER='%s' bash '%s' --kernel '%s server %d' --port %d -- "
                     "'%s' demo --seed %llu --pcap '%s-%s.pcap'",
                     kpeer, run, kpeer, DEMO_PORT, DEMO_PORT, self, (unsigned long long)seed, base, r);
        else
            snprintf(cmd, sizeof cmd,
                     "SYNACK_DEMO_ROLE=server SYNACK_KPEER='%s' bash '%s' -- '%s' demo --seed %llu --pcap "
                     "'%s-%s.pcap'",
                     kpeer, run, self, (unsigned long long)seed + 1, base, r);
        printf("=== Role %d of 2: synack as the %s, over TUN in a network namespace\n", i + 1, r);
        fflush(stdout);
        int st = system(cmd);
        if (st != 0)
            rc = 1;
        printf("\nCapture: %s-%s.pcap\n\n", base, r);
        fflush(stdout);
    }
    return rc;
}
