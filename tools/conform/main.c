/* synack-conform: run packetdrill scripts against libsynack_packetdrill.so
 * in virtual time, one forked child per script (a crash or a call stuck in
 * the library costs that script only), and print packetdrill-style results
 * or a table for a whole list (core.txt) checked against expected results. */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errata.h"
#include "modes.h"
#include "run.h"
#include "script.h"
#include "suite.h"
#include "sysctl.h"

static const char usage[] =
    "usage: synack-conform [options] SCRIPT.pkt...\n"
    "       synack-conform [options] --list=core.txt [--expected=expected.tsv] [--markdown=F]\n"
    "  --so=LIB          the stack (default $SYNACK_PD_SO, else the one built with this\n"
    "                    program, else libsynack_packetdrill.so next to it)\n"
    "  --so_flags=STR    extra flags for packetdrill_interface_init\n"
    "  --root=DIR        where list entries live (default: the list file's folder)\n"
    "  --parse-only      parse the scripts, run nothing\n"
    "  --sysctls         pass the sysctls the script sets in backquotes (and in the\n"
    "                    defaults.sh it names) to the library as sysctl:NAME=VALUE words;\n"
    "                    a later command at its time, where the library exports\n"
    "                    synack_packetdrill_command\n"
    "  --timeout=SECS    wall-clock limit per script (default 60)\n"
    "  --ip_version=M[,M...]  ipv4, ipv6, ipv4-mapped-ipv6: the mode(s) to run in (a list\n"
    "                    runs each script in each); a script that pins another, or\n"
    "                    an IPv4-only one in an ipv6 run, is SKIP, with the reason\n"
    "  -D NAME=VALUE, --define=NAME=VALUE  a symbol the scripts use (packetdrill's\n"
    "                    --define); TFO_COOKIE, when not given and --sysctls is on, is\n"
    "                    Linux's cookie for the script's tcp_fastopen_key and addresses\n"
    "  --errata=FILE     apply the corrections FILE lists (script, line, as shipped,\n"
    "                    as corrected, source: tests/conformance/errata.tsv); a list\n"
    "                    run also shows each corrected script's result as shipped\n"
    "  -v                print every script's full error\n"
    "  --NAME=VALUE      any packetdrill option (--tolerance_usecs=...), overriding the script's\n";

static char *default_so(const char *argv0)
{
    const char *env = getenv("SYNACK_PD_SO");
    if (env && *env)
        return strdup(env);
#ifdef SYNACK_PD_SO_DEFAULT
    if (access(SYNACK_PD_SO_DEFAULT, R_OK) == 0)
        return strdup(SYNACK_PD_SO_DEFAULT);
#endif
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(self, sizeof self, "%s", argv0);
    } else {
        self[n] = 0;
    }
    char out[PATH_MAX + 64];
    snprintf(out, sizeof out, "%s/libsynack_packetdrill.so", dirname(self));
    return strdup(out);
}

/* Load path with defs, the errata and the command line's options; the mode
 * of the run. note gets the errata applied, if any. */
static const char *load(const struct suite_cfg *cfg, const char *path,
                        const struct script_defs *defs, struct script *s, char *note,
                        size_t notelen, char *err, size_t len)
{
    memset(s, 0, sizeof *s);
    note[0] = 0;
    char *text = script_read(path, err, len);
    if (!text)
        return "PARSE";
    if (cfg->errata) {
        char *shipped = text;
        int n = errata_apply(cfg->errata, path, &text, note, notelen, err, len);
        if (n < 0) {
            free(text);
            return "ERROR";
        }
        if (n > 0)
            free(shipped);
    }
    int rc = script_load_text(path, text, defs, s, err, len);
    free(text);
    if (rc)
        return "PARSE";
    for (int i = 0; i < cfg->noverride; i++)
        if (script_set_option(&s->opts, cfg->override[i].name, cfg->override[i].value, err,
                              len)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", err);
            snprintf(err, len, "command line: %s", msg);
            return "PARSE";
        }
    if (cfg->ip_version && script_mode_refusal(s, cfg->ip_version, err, len))
        return "SKIP";
    if (cfg->ip_version)
        s->opts.ip_version = cfg->ip_version;
    return NULL;
}

static bool uses_symbol(const struct script *s, const char *name)
{
    for (int i = 0; i < s->nev; i++)
        if (s->ev[i].kind == EV_PACKET && !strcmp(s->ev[i].pkt.undefined, name))
            return true;
    return false;
}

/* A script that leaves TFO_COOKIE to its harness gets what Linux's harness
 * gives it (run_all.py: the cookie Linux makes with defaults.sh's key for
 * the run's addresses, de4f234f0f433a55 for 192.0.2.1 -> 192.168.0.2):
 * computed here from the key the library is handed (--sysctls) and this
 * run's addresses, so it holds for any key and any --local_ip. 0 when the
 * script was reloaded with it, 1 when there is nothing to compute from. */
static int define_tfo_cookie(const struct suite_cfg *cfg, const char *path, const char *lip,
                             struct script *s, char *err, size_t len, const char **status)
{
    if (!cfg->pass_sysctls || !uses_symbol(s, "TFO_COOKIE"))
        return 1;
    struct sysctl_list sl;
    sysctl_collect(s, &sl);
    const char *key = NULL;
    for (int i = 0; i < sl.n; i++)
        if (!strcmp(sl.item[i].name, "net.ipv4.tcp_fastopen_key"))
            key = sl.item[i].value;
    bool v6 = s->opts.ip_version == 6;
    const char *rip = s->opts.remote_ip[0] ? s->opts.remote_ip : v6 ? RUN_V6_REMOTE : "192.0.2.1";
    char hex[17], nv[64];
    if (!key || defs_tfo_cookie(key, rip, lip, hex))
        return 1;
    struct script_defs defs = cfg->defs;
    snprintf(nv, sizeof nv, "TFO_COOKIE=%s", hex);
    if (defs_add(&defs, nv, err, len))
        return 1;
    script_free(s);
    char note[sizeof ((struct suite_result *)0)->erratum]; /* the same as the first load's */
    *status = load(cfg, path, &defs, s, note, sizeof note, err, len);
    return 0;
}

/* In the child: load, run, report through fd. */
static void child_run(const struct suite_cfg *cfg, const char *path, int fd)
{
    struct run_result res;
    memset(&res, 0, sizeof res);
    struct script s;
    char err[RUN_ERR_LEN - 64];
    char erratum[sizeof ((struct suite_result *)0)->erratum];
    const char *status = load(cfg, path, &cfg->defs, &s, erratum, sizeof erratum, err,
                              sizeof err);
    if (status) {
        snprintf(res.error, sizeof res.error, "%s", err);
        goto report;
    }
    status = "PASS";
    if (cfg->parse_only)
        goto report;
    void *h = dlopen(cfg->so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        status = "ERROR";
        snprintf(res.error, sizeof res.error, "cannot load %s: %s", cfg->so, dlerror());
        goto report;
    }
    packetdrill_interface_init_t init;
    *(void **)&init = dlsym(h, "packetdrill_interface_init");
    if (!init) {
        status = "ERROR";
        snprintf(res.error, sizeof res.error, "%s does not export packetdrill_interface_init",
                 cfg->so);
        goto report;
    }
    char flags[512];
    bool v6 = s.opts.ip_version == 6;
    /* an IPv4 --local_ip in an IPv6 run is the runner's error (run.c), as
     * packetdrill's; the library keeps its default then */
    char lip[sizeof s.opts.local_ip];
    snprintf(lip, sizeof lip, "%s",
             s.opts.local_ip[0] && (!v6 || strchr(s.opts.local_ip, ':')) ? s.opts.local_ip
             : v6 ? RUN_V6_LOCAL : "192.168.0.1");
    const char *st = NULL;
    if (!define_tfo_cookie(cfg, path, lip, &s, err, sizeof err, &st) && st) {
        status = st;
        snprintf(res.error, sizeof res.error, "%s", err);
        goto report;
    }
    snprintf(flags, sizeof flags, "nowait seed=1 %s=%s", v6 ? "local_ip6" : "local_ip", lip);
    size_t used = strlen(flags);
    int mtu = s.opts.mtu ? s.opts.mtu : v6 ? RUN_V6_MTU : 0;
    if (mtu)
        used += (size_t)snprintf(flags + used, sizeof flags - used, " mtu=%d", mtu);
    if (cfg->so_flags && used < sizeof flags)
        used += (size_t)snprintf(flags + used, sizeof flags - used, " %s", cfg->so_flags);
    static char full[8192];
    snprintf(full, sizeof full, "%s", flags);
    if (cfg->pass_sysctls) {
        struct sysctl_list sl;
        sysctl_collect(&s, &sl);
        char words[6144];
        if (sl.n && sysctl_flags(&sl, words, sizeof words) == 0) {
            size_t fl = strlen(full);
            snprintf(full + fl, sizeof full - fl, " %s", words);
        }
    }
    struct packetdrill_interface ifc;
    memset(&ifc, 0, sizeof ifc);
    init(full, &ifc);
    if (!ifc.netdev_send || !ifc.netdev_receive || !ifc.usleep || !ifc.gettimeofday) {
        status = "ERROR";
        snprintf(res.error, sizeof res.error, "%s: interface incomplete after init", cfg->so);
        goto report;
    }
    /* --sysctls: timed commands too, where the library takes them */
    run_command_fn command = NULL;
    if (cfg->pass_sysctls)
        *(void **)&command = dlsym(h, "synack_packetdrill_command");
    if (run_script_ext(&s, &ifc, command, &res))
        status = "FAIL";
    /* with a call still blocked inside the library, freeing it would pull
     * the floor from under that thread: the process exits instead */
    if (!res.worker_stuck && ifc.free)
        ifc.free(ifc.userdata);
report:
    {
        char line[RUN_ERR_LEN + 1500];
        int n = snprintf(line, sizeof line, "%s\t%d\t%s\t%s\t%s\t%s", status, res.skipped,
                         res.skipped_lines, s.opts.unknown, erratum, res.error);
        if (n > 0) {
            ssize_t w = write(fd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
            (void)w;
        }
    }
    _exit(0);
}

int suite_run_one(const struct suite_cfg *cfg, const char *path, struct suite_result *out)
{
    memset(out, 0, sizeof *out);
    int p[2];
    if (pipe(p)) {
        snprintf(out->status, sizeof out->status, "ERROR");
        snprintf(out->error, sizeof out->error, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        snprintf(out->status, sizeof out->status, "ERROR");
        snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        alarm((unsigned)cfg->timeout_secs + 5);
        child_run(cfg, path, p[1]);
    }
    close(p[1]);
    char buf[RUN_ERR_LEN + 1500];
    size_t got = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool timed_out = false;
    for (;;) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long left = cfg->timeout_secs * 1000L - ((t1.tv_sec - t0.tv_sec) * 1000L +
                                                 (t1.tv_nsec - t0.tv_nsec) / 1000000L);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        int rc = poll(&pf, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            timed_out = rc == 0;
            break;
        }
        ssize_t n = read(p[0], buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof buf - 1)
            break;
    }
    close(p[0]);
    buf[got] = 0;
    if (timed_out)
        kill(pid, SIGKILL); /* our own child, by its pid */
    int st = 0;
    waitpid(pid, &st, 0);
    if (timed_out) {
        snprintf(out->status, sizeof out->status, "TIMEOUT");
        snprintf(out->error, sizeof out->error, "%s: no result after %d s of wall-clock time",
                 path, cfg->timeout_secs);
        return 0;
    }
    if (!got) {
        snprintf(out->status, sizeof out->status, "CRASH");
        if (WIFSIGNALED(st))
            snprintf(out->error, sizeof out->error, "%s: the run died of signal %d (%s)", path,
                     WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            snprintf(out->error, sizeof out->error, "%s: the run exited %d without a result",
                     path, WEXITSTATUS(st));
        return 0;
    }
    char *f[6] = {0};
    char *q = buf;
    for (int i = 0; i < 5; i++) {
        f[i] = q;
        q = strchr(q, '\t');
        if (!q)
            break;
        *q++ = 0;
    }
    f[5] = q;
    snprintf(out->status, sizeof out->status, "%s", f[0] ? f[0] : "ERROR");
    out->skipped = f[1] ? atoi(f[1]) : 0;
    snprintf(out->skipped_lines, sizeof out->skipped_lines, "%s", f[2] ? f[2] : "");
    snprintf(out->unhonoured, sizeof out->unhonoured, "%s", f[3] ? f[3] : "");
    snprintf(out->erratum, sizeof out->erratum, "%s", f[4] ? f[4] : "");
    snprintf(out->error, sizeof out->error, "%s", f[5] ? f[5] : "");
    return 0;
}

int main(int argc, char **argv)
{
    struct suite_cfg cfg = {.timeout_secs = 60};
    const char *list = NULL, *expected = NULL, *markdown = NULL, *root = NULL, *errata = NULL;
    /* argv[i] pointers, at most argc of them: no allocation, nothing to free */
    char **scripts = argv;
    int nscripts = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "-v")) {
            cfg.verbose = true;
        } else if (!strcmp(a, "-D") || !strcmp(a, "--define") || !strncmp(a, "-D", 2) ||
                   !strncmp(a, "--define=", 9)) {
            /* packetdrill's spellings: -D N=V, -DN=V, --define N=V, --define=N=V */
            const char *nv = !strncmp(a, "--define=", 9) ? a + 9
                             : (!strcmp(a, "-D") || !strcmp(a, "--define")) ? (i + 1 < argc ? argv[++i] : "")
                             : a + 2;
            char err[256];
            if (defs_add(&cfg.defs, nv, err, sizeof err)) {
                fprintf(stderr, "synack-conform: %s\n", err);
                return 2;
            }
        } else if (!strncmp(a, "--so=", 5)) {
            cfg.so = a + 5;
        } else if (!strncmp(a, "--so_flags=", 11)) {
            cfg.so_flags = a + 11;
        } else if (!strncmp(a, "--list=", 7)) {
            list = a + 7;
        } else if (!strncmp(a, "--expected=", 11)) {
            expected = a + 11;
        } else if (!strncmp(a, "--markdown=", 11)) {
            markdown = a + 11;
        } else if (!strncmp(a, "--root=", 7)) {
            root = a + 7;
        } else if (!strncmp(a, "--errata=", 9)) {
            errata = a + 9;
        } else if (!strcmp(a, "--sysctls")) {
            cfg.pass_sysctls = true;
        } else if (!strcmp(a, "--parse-only")) {
            cfg.parse_only = true;
        } else if (!strncmp(a, "--timeout=", 10)) {
            cfg.timeout_secs = atoi(a + 10);
            if (cfg.timeout_secs <= 0) {
                fprintf(stderr, "synack-conform: bad --timeout: %s\n", a + 10);
                return 2;
            }
        } else if (!strncmp(a, "--ip_version=", 13)) {
            /* a comma list for --list (each script in each mode) */
            cfg.nmodes = 0;
            char *save = NULL;
            for (char *w = strtok_r(a + 13, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                int m = ip_mode_parse(w);
                if (!m || cfg.nmodes == 3) {
                    fprintf(stderr, "synack-conform: bad --ip_version: %s\n", w);
                    return 2;
                }
                cfg.modes[cfg.nmodes++] = m;
            }
            cfg.ip_version = cfg.nmodes ? cfg.modes[0] : 0;
        } else if (!strncmp(a, "--", 2) && a[2]) {
            if (cfg.noverride == SUITE_MAX_OVERRIDE) {
                fprintf(stderr, "synack-conform: too many options\n");
                return 2;
            }
            char *eq = strchr(a, '=');
            if (eq)
                *eq = 0;
            cfg.override[cfg.noverride].name = a + 2;
            cfg.override[cfg.noverride].value = eq ? eq + 1 : NULL;
            struct script_opts probe;
            script_default_opts(&probe);
            char err[256];
            if (script_set_option(&probe, a + 2, eq ? eq + 1 : NULL, err, sizeof err)) {
                fprintf(stderr, "synack-conform: %s\n", err);
                return 2;
            }
            cfg.noverride++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "synack-conform: unknown option '%s' (try --help)\n", a);
            return 2;
        } else {
            scripts[nscripts++] = a; /* never runs ahead of i: argv is reused in place */
        }
    }
    char *errata_text = NULL;
    if (errata) {
        char err[512];
        errata_text = script_read(errata, err, sizeof err);
        if (!errata_text) {
            fprintf(stderr, "synack-conform: --errata: %s\n", err);
            return 2;
        }
        cfg.errata = errata_text;
    }
    char *so = NULL;
    if (!cfg.so) {
        so = default_so(argv[0]);
        cfg.so = so;
    }
    int rc;
    if (list)
        rc = suite_main(&cfg, list, root, expected, markdown);
    else if (!nscripts) {
        fputs(usage, stderr);
        rc = 2;
    } else
        rc = suite_scripts(&cfg, scripts, nscripts);
    free(so);
    free(errata_text);
    return rc;
}
