/* Running a parsed script against a stack behind packetdrill's shared-object
 * interface, in the library's virtual time. */
#ifndef CONFORM_RUN_H
#define CONFORM_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "packet.h"
#include "posix/packetdrill.h"
#include "script.h"

#define RUN_ERR_LEN 2048
/* packetdrill's IPv6 addresses (its README): the stack in fd3d:fa7b:d17d::/48,
 * the remote 2001:db8::1 off-link */
#define RUN_V6_LOCAL "fd3d:fa7b:d17d::1"
#define RUN_V6_REMOTE "2001:db8::1"
/* The IPv6 runs' MTU when the script sets none: packetdrill's harnesses
 * (Linux selftests ksft_runner.sh, google's run_all.py) pass --mtu=1520 so
 * that MSS = MTU - 60 is the 1460 the shared scripts expect */
#define RUN_V6_MTU 1520
#define RUN_MAX_FDS 64

struct run_result {
    bool passed;
    char error[RUN_ERR_LEN];   /* packetdrill-style, first line is the summary */
    int skipped;               /* backquoted commands and %{ }% blocks not run */
    char skipped_lines[512];   /* "3 5 27" */
    int events_run;
    bool worker_stuck;         /* a call never returned: the library must not be freed */
};

struct sc_call; /* syscall.c */

/* synack_packetdrill_command (src/posix/packetdrill.c): a library's way to
 * take a timed command's sysctls; returns how many words it applied. */
typedef int (*run_command_fn)(void *userdata, const char *words);

struct runner {
    struct packetdrill_interface *ifc;
    run_command_fn command;    /* NULL: timed commands are skipped */
    const struct script *s;
    struct conn conn;
    struct { int script, live; } fd[RUN_MAX_FDS];
    int nfd;
    int64_t live_start;        /* ifc clock at script time 0 */
    int64_t last_event_time;   /* adjusted script time of the previous event */
    const struct event *last_event;
    struct run_result *res;
    bool failed;
    int nev_run;

    /* the thread that makes socket calls, so a blocking call can sleep
     * while this thread keeps injecting packets and moving the clock */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wstate;                /* W_* in run.c */
    pid_t wtid;
    struct sc_call *job;
    const struct event *job_ev;
    int64_t job_start, job_end_expected, job_end;
    bool job_blocking;
};

/* Run `s` against the stack behind `ifc` (initialized by its init function).
 * Returns 0 when the script passed. Never aborts; a stuck blocking call is
 * reported and left on its thread (run each script in its own process). */
int run_script(const struct script *s, struct packetdrill_interface *ifc, struct run_result *res);
/* The same, handing every timed command that sets sysctls to command. */
int run_script_ext(const struct script *s, struct packetdrill_interface *ifc, run_command_fn command,
                   struct run_result *res);

/* Internal, shared with syscall.c and the tests */
/* Whether a send call's flags argument has MSG_FASTOPEN's bit, by name or number. */
bool run_names_fastopen(const struct expr *e);
int64_t run_now(struct runner *r);
int run_fail(struct runner *r, const struct event *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int run_live_fd(struct runner *r, int script_fd);
void run_map_fd(struct runner *r, int script_fd, int live_fd);
void run_unmap_fd(struct runner *r, int script_fd);

#endif
