/* The interpreter: packetdrill's run.c semantics (relative times, anchored
 * inbound packets, tolerance = max(--tolerance_usecs, 12.5 % of the gap
 * since the previous event), outbound packets sniffed before their time so
 * early ones are caught), but every wait is a step of the library's virtual
 * clock: nothing here sleeps for script time to pass. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "sysctl.h"
#include "symbols.h"
#include "syscall.h"

enum { W_IDLE, W_JOB, W_RUNNING, W_DONE, W_QUIT };

#define SNIFF_STEP_FINE 100      /* usecs of virtual time per poll near an expected packet */
#define SNIFF_STEP_COARSE 1000
#define BLOCKED_STEP 1000        /* resolution of a blocking call's return time */
#define ANY_TIME_WAIT 10000000   /* how long '*' waits for a packet */
#define LATE_WAIT 10000000       /* past its window, how long we wait to say how late a packet was */

int64_t run_now(struct runner *r)
{
    struct timeval tv;
    if (r->ifc->gettimeofday(r->ifc->userdata, &tv, NULL) < 0)
        return 0;
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec - r->live_start;
}

int run_fail(struct runner *r, const struct event *ev, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = true;
    char msg[RUN_ERR_LEN - 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ev)
        snprintf(r->res->error, sizeof r->res->error, "%s:%d: %s", r->s->path, ev->line, msg);
    else
        snprintf(r->res->error, sizeof r->res->error, "%s: %s", r->s->path, msg);
    return -1;
}

int run_live_fd(struct runner *r, int script_fd)
{
    for (int i = 0; i < r->nfd; i++)
        if (r->fd[i].script == script_fd)
            return r->fd[i].live;
    return script_fd; /* unknown descriptors pass through, as in packetdrill */
}

void run_map_fd(struct runner *r, int script_fd, int live_fd)
{
    for (int i = 0; i < r->nfd; i++)
        if (r->fd[i].script == script_fd) {
            r->fd[i].live = live_fd;
            return;
        }
    if (r->nfd < RUN_MAX_FDS) {
        r->fd[r->nfd].script = script_fd;
        r->fd[r->nfd].live = live_fd;
        r->nfd++;
    }
}

void run_unmap_fd(struct runner *r, int script_fd)
{
    for (int i = 0; i < r->nfd; i++)
        if (r->fd[i].script == script_fd) {
            r->fd[i] = r->fd[--r->nfd];
            return;
        }
}

/* ---- the worker thread ---- */

static void *worker_main(void *arg)
{
    struct runner *r = arg;
    pthread_mutex_lock(&r->mu);
    r->wtid = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&r->cv);
    for (;;) {
        while (r->wstate != W_JOB && r->wstate != W_QUIT)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->wstate == W_QUIT)
            break;
        r->wstate = W_RUNNING;
        struct sc_call *c = r->job;
        pthread_mutex_unlock(&r->mu);
        sc_invoke(r, c);
        pthread_mutex_lock(&r->mu);
        r->wstate = W_DONE;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int wstate(struct runner *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->wstate;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* The worker's scheduler state and voluntary context switches, from /proc
 * (packetdrill watches its syscall thread the same way). */
static bool thread_sleeping(pid_t tid, long *switches)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    bool sleeping = p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    f = fopen(path, "r");
    *switches = -1;
    if (f) {
        char line[128];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "voluntary_ctxt_switches: %ld", switches) == 1)
                break;
        fclose(f);
    }
    return sleeping;
}

/* Wait until the worker has finished its call or sleeps inside it. */
static void quiesce(struct runner *r)
{
    for (int spins = 0;; spins++) {
        pthread_mutex_lock(&r->mu);
        if (r->wstate == W_JOB) {
            /* not picked up yet */
            pthread_mutex_unlock(&r->mu);
            sched_yield();
            continue;
        }
        if (r->wstate != W_RUNNING) {
            pthread_mutex_unlock(&r->mu);
            return;
        }
        pthread_mutex_unlock(&r->mu);
        long s1, s2;
        if (thread_sleeping(r->wtid, &s1)) {
            nanosleep(&(struct timespec){0, 300000}, NULL);
            if (wstate(r) != W_RUNNING)
                return;
            if (thread_sleeping(r->wtid, &s2) && s1 == s2)
                return;
        } else if (spins > 100) {
            nanosleep(&(struct timespec){0, 50000}, NULL);
        } else {
            sched_yield();
        }
    }
}

static double secs(int64_t us) { return (double)us / 1e6; }

static long tolerance(const struct runner *r, int64_t expected, int64_t since)
{
    long tol = r->s->opts.tolerance_usecs;
    double dyn = r->s->opts.tolerance_pct / 100.0 * (double)(expected - since);
    if (dyn > tol)
        tol = (long)dyn;
    return tol;
}

/* If the call on the worker has returned: check it, at the time it returned. */
static int collect_job(struct runner *r)
{
    if (!r->job || wstate(r) != W_DONE)
        return 0;
    const struct event *ev = r->job_ev;
    struct sc_call *c = r->job;
    r->job = NULL;
    pthread_mutex_lock(&r->mu);
    r->wstate = W_IDLE;
    pthread_mutex_unlock(&r->mu);
    int rc = 0;
    if (r->job_blocking) {
        long tol = tolerance(r, r->job_end_expected, r->job_start);
        if (r->job_end < r->job_end_expected - tol || r->job_end > r->job_end_expected + tol)
            rc = run_fail(r, ev,
                          "timing error: expected system call return at %.6f sec but happened "
                          "at %.6f sec; tolerance %.6f sec",
                          secs(r->job_end_expected), secs(r->job_end), secs(tol));
    }
    if (!rc)
        rc = sc_check(r, ev, c);
    sc_release(c);
    free(c);
    return rc;
}

/* After the stack ran (a packet in, time moved): let a woken call settle
 * and check it if it returned. */
static int settle(struct runner *r)
{
    if (!r->job)
        return 0;
    quiesce(r);
    if (wstate(r) == W_DONE)
        r->job_end = run_now(r);
    return collect_job(r);
}

static int step(struct runner *r, int64_t usecs)
{
    if (usecs > 0 && r->ifc->usleep(r->ifc->userdata, (useconds_t)usecs) < 0)
        return run_fail(r, NULL, "usleep(%lld) failed: %s", (long long)usecs, strerror(errno));
    return settle(r);
}

/* Move the virtual clock to script time t; while a blocking call is out,
 * in BLOCKED_STEP pieces so its return time is known to that resolution. */
static int advance_to(struct runner *r, int64_t t)
{
    for (;;) {
        int64_t now = run_now(r);
        if (now >= t)
            return 0;
        int64_t d = t - now;
        if (r->job && d > BLOCKED_STEP)
            d = BLOCKED_STEP;
        if (step(r, d))
            return -1;
    }
}

static int check_event_time(struct runner *r, const struct event *ev, int64_t t,
                            const char *what)
{
    int64_t now = run_now(r);
    long tol = tolerance(r, t, r->last_event_time);
    if (now < t - tol || now > t + tol)
        return run_fail(r, ev,
                        "timing error: expected %s at %.6f sec but happened at %.6f sec; "
                        "tolerance %.6f sec",
                        what, secs(t), secs(now), secs(tol));
    return 0;
}

/* A blocking call still out when the next call starts or the script ends:
 * let time run until it returns or its window has passed. */
static int await_job(struct runner *r, const struct event *next)
{
    if (!r->job)
        return 0;
    int64_t limit = r->job_end_expected + tolerance(r, r->job_end_expected, r->job_start);
    while (r->job && !r->failed) {
        if (run_now(r) > limit) {
            const struct event *ev = r->job_ev;
            return run_fail(r, ev,
                            "runtime error in %s call: still blocked at %.6f sec, expected to "
                            "return at %.6f sec%s",
                            ev->sc.name, secs(run_now(r)), secs(r->job_end_expected),
                            next ? "" : " (end of script)");
        }
        if (step(r, BLOCKED_STEP))
            return -1;
    }
    return r->failed ? -1 : 0;
}

/* Forget the connection under test; ephemeral ports keep counting so a new
 * connection never reuses an old 4-tuple. */
static void new_socket_under_test(struct runner *r)
{
    uint16_t eph = r->conn.next_ephemeral;
    struct conn old = r->conn;
    conn_init(&r->conn, old.ipv, old.local_ip, old.remote_ip, old.bind_port, old.connect_port);
    r->conn.next_ephemeral = eph;
}

/* Does this flags argument have MSG_FASTOPEN's bit, by name or by number
 * (valid-cookie-format.pkt writes 0x20000000), alone or in an a|b? */
bool run_names_fastopen(const struct expr *e)
{
    if (!e)
        return false;
    long long v = 0, fo = 0;
    if (!symbol_value("MSG_FASTOPEN", &fo))
        return false;
    if (e->kind == EX_INT)
        return (e->num & fo) != 0;
    if (e->kind == EX_SYMBOL)
        return e->name && symbol_value(e->name, &v) && (v & fo);
    if (e->kind == EX_OR)
        return e->n == 2 && (run_names_fastopen(e->item[0]) || run_names_fastopen(e->item[1]));
    return false;
}

/* packetdrill: sendto/sendmsg with MSG_FASTOPEN on a socket not yet
 * connecting opens it actively (RFC 7413), as connect() does. */
static bool fastopen_connect(const struct runner *r, const struct syscall_spec *sc)
{
    int flags_arg = !strcmp(sc->name, "sendto") ? 3 : !strcmp(sc->name, "sendmsg") ? 2 : -1;
    return flags_arg >= 0 && sc->narg > flags_arg && run_names_fastopen(sc->arg[flags_arg]) &&
           (r->conn.st == CS_NONE || r->conn.st == CS_CONNECTING) && !r->conn.local_port;
}

static int start_call(struct runner *r, const struct event *ev, int64_t t, int64_t block_end)
{
    struct sc_call *c = calloc(1, sizeof *c);
    if (!c)
        return run_fail(r, ev, "out of memory");
    if (sc_prepare(r, ev, c)) {
        sc_release(c);
        free(c);
        return -1;
    }
    /* packetdrill: socket() makes a new socket under test, connect() makes
     * it an active opener, listen() a passive one */
    if (!strcmp(ev->sc.name, "socket")) {
        new_socket_under_test(r);
    } else if (!strcmp(ev->sc.name, "connect")) {
        new_socket_under_test(r);
        r->conn.st = CS_CONNECTING;
    } else if (fastopen_connect(r, &ev->sc)) {
        new_socket_under_test(r);
        r->conn.st = CS_CONNECTING;
    } else if (!strcmp(ev->sc.name, "listen") &&
               (r->conn.st == CS_NONE || r->conn.st == CS_LISTENING)) {
        r->conn.st = CS_LISTENING;
    }
    r->job = c;
    r->job_ev = ev;
    r->job_start = t;
    r->job_blocking = ev->blocking;
    r->job_end_expected = ev->blocking ? block_end : t;
    pthread_mutex_lock(&r->mu);
    r->wstate = W_JOB;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    quiesce(r);
    if (wstate(r) == W_DONE) {
        r->job_end = run_now(r);
        return collect_job(r);
    }
    if (!ev->blocking)
        return run_fail(r, ev,
                        "runtime error in %s call: expected a non-blocking call, but it "
                        "blocked (write it as t...end if it should block)",
                        ev->sc.name);
    return 0;
}

static int inject(struct runner *r, const struct event *ev)
{
    uint8_t buf[70000];
    char err[512];
    int n = conn_build_inbound(&r->conn, &ev->pkt, &r->s->opts, buf, sizeof buf, err, sizeof err);
    if (n < 0)
        return run_fail(r, ev, "error handling packet: %s", err);
    if (r->ifc->netdev_send(r->ifc->userdata, buf, (size_t)n) < 0)
        return run_fail(r, ev, "error handling packet: netdev_send failed: %s", strerror(errno));
    return settle(r);
}

#define MAX_FRAGS 64

static int sniff(struct runner *r, const struct event *ev, int64_t t, int64_t t_end)
{
    const struct pkt_spec *pk = &ev->pkt;
    struct live_pkt lp[MAX_FRAGS];
    int n = 0;
    uint32_t got = 0;
    bool any = ev->tkind == TM_ANY;
    bool range = ev->tkind == TM_ABS_RANGE || ev->tkind == TM_REL_RANGE;
    int64_t last = r->last_event_time;
    long tol = tolerance(r, t, last);
    int64_t window_end = any ? run_now(r) + ANY_TIME_WAIT : (range ? t_end : t) + tol;
    /* like packetdrill, keep listening past the window, so a late packet
     * is reported with the time it did leave */
    int64_t deadline = any ? window_end : window_end + LATE_WAIT;
    conn_outbound_prepare(&r->conn, pk);
    static uint8_t buf[70000];
    char err[768];
    for (;;) {
        size_t cnt = sizeof buf;
        long long when = 0;
        int rc = r->ifc->netdev_receive(r->ifc->userdata, buf, &cnt, &when);
        if (rc == 0 && cnt > 0) {
            struct live_pkt p;
            if (live_decode(buf, cnt, &p, err, sizeof err))
                return run_fail(r, ev, "error handling packet: %s", err);
            p.time = when - r->live_start;
            if (!conn_claims(&r->conn, &p, pk->icmp))
                continue; /* not the connection under test */
            /* An ICMP message the script does not expect here (the echo
             * reply to an injected echo request) is not about the
             * connection; packetdrill skips what does not match the
             * socket's 4-tuple, and Linux answers pings too. */
            if ((p.proto == 1 || p.proto == 58) && !pk->icmp)
                continue;
            if (n == 0)
                conn_outbound_learn(&r->conn, pk, &p);
            conn_to_script(&r->conn, &p);
            lp[n++] = p;
            got += p.paylen;
            /* a first segment outside the window is a timing failure whatever
             * follows it: say so rather than gather retransmissions into it */
            bool outside = !any && n == 1 && (p.time < t - tol || p.time > window_end);
            if (got >= pk->len || pk->icmp || r->s->opts.strict_segments || n == MAX_FRAGS ||
                outside)
                break;
            continue;
        }
        int64_t now = run_now(r);
        if (now >= deadline) {
            if (n)
                break;
            char want[400];
            fmt_script_pkt(pk, want, sizeof want);
            if (any)
                return run_fail(r, ev,
                                "error handling packet: expected an outbound packet (at any time) "
                                "but none was sent by %.6f sec\nscript packet: %s",
                                secs(window_end), want);
            return run_fail(r, ev,
                            "error handling packet: timing error: expected outbound packet at "
                            "%.6f sec but none was sent by %.6f sec; tolerance %.6f sec\n"
                            "script packet: %9.6f %s",
                            secs(t), secs(window_end), secs(tol), secs(t), want);
        }
        /* jump straight to the start of the window; then small steps so
         * the clock does not run far past the packet */
        int64_t d = now < t - tol   ? t - tol - now
                    : now - t < 50000 ? SNIFF_STEP_FINE
                                      : SNIFF_STEP_COARSE;
        if (d > deadline - now)
            d = deadline - now;
        if (r->job && d > BLOCKED_STEP)
            d = BLOCKED_STEP;
        if (step(r, d))
            return -1;
    }
    /* timing first: a segment outside its window fails whatever it holds,
     * and saying when it left explains the rest */
    if (!any && (lp[0].time < t - tol || lp[0].time > window_end)) {
        char want[400], have[400];
        fmt_script_pkt(pk, want, sizeof want);
        fmt_live_pkt(&lp[0], have, sizeof have);
        if (range)
            return run_fail(r, ev,
                            "error handling packet: timing error: expected outbound packet in "
                            "time range %.6f~%.6f sec but happened at %.6f sec\n"
                            "script packet: %9.6f %s\nactual packet: %9.6f %s",
                            secs(t), secs(t_end), secs(lp[0].time), secs(t), want,
                            secs(lp[0].time), have);
        return run_fail(r, ev,
                        "error handling packet: timing error: expected outbound packet at %.6f "
                        "sec but happened at %.6f sec; tolerance %.6f sec\n"
                        "script packet: %9.6f %s\nactual packet: %9.6f %s",
                        secs(t), secs(lp[0].time), secs(tol), secs(t), want, secs(lp[0].time),
                        have);
    }
    struct live_pkt agg;
    if (conn_check_outbound(&r->conn, pk, &r->s->opts, t, lp, n, &agg, err, sizeof err)) {
        char want[400], have[400], pieces[48] = "";
        fmt_script_pkt(pk, want, sizeof want);
        fmt_live_pkt(&agg, have, sizeof have);
        if (n > 1)
            snprintf(pieces, sizeof pieces, " (%d segments of %u..%u bytes)", n, lp[n - 1].paylen,
                     lp[0].paylen);
        return run_fail(r, ev, "error handling packet: %s\nscript packet: %9.6f %s\n"
                               "actual packet: %9.6f %s%s",
                        err, secs(t), want, secs(agg.time), have, pieces);
    }
    return 0;
}

static bool inbound_packet(const struct event *e)
{
    return e && e->kind == EV_PACKET && e->pkt.dir == '<';
}

static void note_skipped(struct runner *r, const struct event *ev)
{
    r->res->skipped++;
    size_t used = strlen(r->res->skipped_lines);
    if (used + 12 < sizeof r->res->skipped_lines)
        snprintf(r->res->skipped_lines + used, sizeof r->res->skipped_lines - used, "%s%d",
                 used ? " " : "", ev->line);
}

/* A timed command that sets sysctls (or flushes tcp_metrics): handed to the
 * library at its time, as packetdrill's shell would change the kernel then.
 * False when there is no one to hand it to or nothing in it to hand. */
static bool run_command(struct runner *r, const struct event *ev)
{
    if (!r->command || !ev->text)
        return false;
    struct sysctl_list l;
    sysctl_scan(r->s, ev->text, &l);
    char words[4096];
    if (!l.n || sysctl_flags(&l, words, sizeof words))
        return false;
    return r->command(r->ifc->userdata, words) > 0;
}

static int run_event(struct runner *r, const struct event *ev)
{
    if (ev->kind == EV_PACKET && ev->pkt.undefined[0])
        return run_fail(r, ev, "packet uses '%s', a --define'd symbol left undefined (give -D %s=VALUE)",
                        ev->pkt.undefined, ev->pkt.undefined);
    if (ev->tkind == TM_NONE) {
        note_skipped(r, ev);
        return 0;
    }
    int64_t off = 0;
    if (ev->tkind == TM_REL || ev->tkind == TM_REL_RANGE || ev->tkind == TM_ANY)
        off = inbound_packet(r->last_event) && inbound_packet(ev) ? r->last_event_time
                                                                  : run_now(r);
    int64_t t = ev->t + off, t_end = ev->t_end + off;
    int64_t block_end = ev->block_end + (ev->tkind == TM_REL ? off : 0);
    int rc = 0;
    if (ev->kind == EV_PACKET && ev->pkt.dir == '>') {
        rc = sniff(r, ev, t, t_end);
    } else {
        const char *what = ev->kind == EV_PACKET ? "inbound packet"
                           : ev->kind == EV_SYSCALL ? "system call start"
                                                    : "command";
        if (ev->kind == EV_SYSCALL && await_job(r, ev))
            return -1;
        if (advance_to(r, t) || (r->nev_run > 0 && check_event_time(r, ev, t, what)))
            return -1;
        if (ev->kind == EV_PACKET)
            rc = inject(r, ev);
        else if (ev->kind == EV_SYSCALL)
            rc = start_call(r, ev, t, block_end);
        else if (ev->kind != EV_SHELL || !run_command(r, ev))
            note_skipped(r, ev);
    }
    r->last_event = ev;
    r->last_event_time = t;
    r->nev_run++;
    return rc;
}

/* Returns false when the worker is stuck in the library and was left behind. */
static bool stop_worker(struct runner *r)
{
    pthread_mutex_lock(&r->mu);
    bool idle = r->wstate == W_IDLE || r->wstate == W_DONE;
    if (idle) {
        r->wstate = W_QUIT;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    if (idle) {
        pthread_join(r->th, NULL);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
    } else {
        /* stuck inside the library: leave it; the process exits soon */
        pthread_detach(r->th);
    }
    if (r->job && idle) {
        sc_release(r->job);
        free(r->job);
        r->job = NULL;
    }
    return idle;
}

/* An address of the run's family, network order, IPv4 in the first 4
 * bytes; packetdrill's defaults when the script gives none. */
static int parse_ip(int ipv, const char *s, const char *dflt, uint8_t out[16])
{
    memset(out, 0, 16);
    return inet_pton(ipv == 6 ? AF_INET6 : AF_INET, s && *s ? s : dflt, out) == 1 ? 0 : -1;
}

int run_script(const struct script *s, struct packetdrill_interface *ifc, struct run_result *res)
{
    return run_script_ext(s, ifc, NULL, res);
}

int run_script_ext(const struct script *s, struct packetdrill_interface *ifc, run_command_fn command,
                   struct run_result *res)
{
    memset(res, 0, sizeof *res);
    struct runner *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(res->error, sizeof res->error, "%s: out of memory", s->path);
        return -1;
    }
    r->ifc = ifc;
    r->command = command;
    r->s = s;
    r->res = res;
    /* ipv4-mapped-ipv6: IPv4 on the wire, AF_INET6 sockets (syscall.c) */
    int ipv = s->opts.ip_version == 6 ? 6 : 4;
    uint8_t lip[16], rip[16];
    if (parse_ip(ipv, s->opts.local_ip, ipv == 6 ? RUN_V6_LOCAL : "192.168.0.1", lip) ||
        parse_ip(ipv, s->opts.remote_ip, ipv == 6 ? RUN_V6_REMOTE : "192.0.2.1", rip)) {
        run_fail(r, NULL, "bad --local_ip or --remote_ip for --ip_version");
        goto out;
    }
    conn_init(&r->conn, ipv, lip, rip, (uint16_t)s->opts.bind_port, (uint16_t)s->opts.connect_port);
    struct timeval tv;
    if (ifc->gettimeofday(ifc->userdata, &tv, NULL) < 0) {
        run_fail(r, NULL, "gettimeofday failed");
        goto out;
    }
    r->live_start = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->wstate = W_IDLE;
    if (pthread_create(&r->th, NULL, worker_main, r)) {
        run_fail(r, NULL, "cannot start the system call thread");
        goto out;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->wtid)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < s->nev && !r->failed; i++) {
        if (run_event(r, &s->ev[i]))
            break;
        res->events_run++;
    }
    if (!r->failed)
        await_job(r, NULL);
    bool stuck = !stop_worker(r);
    res->passed = !r->failed;
    res->worker_stuck = stuck;
    /* a call stuck in the library still uses *r; it stays until exit */
    if (!stuck)
        free(r);
    return res->passed ? 0 : -1;
out:
    res->passed = !r->failed;
    free(r);
    return res->passed ? 0 : -1;
}
