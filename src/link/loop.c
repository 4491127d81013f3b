/* The event loop for a stack on real links.
 *
 * One epoll set watches the TUN descriptors, the application's descriptors
 * and a timerfd. The timerfd is armed with an absolute CLOCK_MONOTONIC time
 * because synack_monotonic_now() reads the same clock, so the deadline the
 * stack returns can be handed to the kernel without conversion or drift.
 * After every wake-up the stack is polled, which is what sends the ACKs and
 * data queued by input and by the application's callbacks. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "synack.h"

#define LOOP_MAX_EVENTS 64
#define LOOP_RING_BUDGET 256 /* frames a ring end's pump hands over at a time, as the TUN pump */

enum loop_kind { LOOP_TIMER, LOOP_TUN, LOOP_TAP, LOOP_RING, LOOP_FD };

struct loop_entry {
    enum loop_kind kind;
    int fd;
    synack_tun *tun;
    synack_tap *tap;
    synack_ringlink *ring;
    int ring_end;
    synack_fd_fn fn;
    void *ctx;
    /* A callback may remove an entry whose event is still in the batch being
     * dispatched; it is only marked then, and freed after the batch. */
    bool dead;
    struct loop_entry *next;
};

struct synack_loop {
    synack_stack *stack;
    int epfd;
    struct loop_entry timer;
    struct loop_entry *entries;
    bool dispatching;
};

synack_loop *synack_loop_new(synack_stack *s)
{
    if (!s)
        return NULL;
    synack_loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->stack = s;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->timer.kind = LOOP_TIMER;
    l->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->timer};
    if (l->epfd < 0 || l->timer.fd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timer.fd, &ev) < 0) {
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->timer.fd >= 0)
            close(l->timer.fd);
        free(l);
        return NULL;
    }
    return l;
}

void synack_loop_free(synack_loop *l)
{
    if (!l)
        return;
    for (struct loop_entry *e = l->entries, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    close(l->timer.fd);
    close(l->epfd);
    free(l);
}

static int loop_add(synack_loop *l, struct loop_entry *proto, unsigned events)
{
    for (struct loop_entry *e = l->entries; e; e = e->next)
        if (!e->dead && e->fd == proto->fd)
            return -EEXIST;
    struct loop_entry *e = malloc(sizeof *e);
    if (!e)
        return -ENOMEM;
    *e = *proto;
    struct epoll_event ev = {.events = events, .data.ptr = e};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, e->fd, &ev) < 0) {
        int err = -errno;
        free(e);
        return err;
    }
    e->next = l->entries;
    l->entries = e;
    return 0;
}

int synack_loop_add_tun(synack_loop *l, synack_tun *t)
{
    struct loop_entry e = {.kind = LOOP_TUN, .fd = synack_tun_fd(t), .tun = t};
    return loop_add(l, &e, EPOLLIN);
}

int synack_loop_add_tap(synack_loop *l, synack_tap *t)
{
    struct loop_entry e = {.kind = LOOP_TAP, .fd = synack_tap_fd(t), .tap = t};
    return loop_add(l, &e, EPOLLIN);
}

int synack_loop_add_ringlink(synack_loop *l, synack_ringlink *r, int end)
{
    int fd = synack_ringlink_fd(r, end);
    if (fd < 0)
        return fd;
    struct loop_entry e = {.kind = LOOP_RING, .fd = fd, .ring = r, .ring_end = end};
    return loop_add(l, &e, EPOLLIN);
}

/* Before the loop sleeps, every ring end is armed; an end whose frames came
 * meanwhile is pumped instead, and then the loop must not sleep. */
static bool loop_arm_rings(synack_loop *l)
{
    bool pending = false;
    for (struct loop_entry *e = l->entries; e; e = e->next)
        if (e->kind == LOOP_RING && !e->dead && synack_ringlink_arm(e->ring, e->ring_end) == 0) {
            synack_ringlink_pump(e->ring, e->ring_end, synack_monotonic_now(NULL), LOOP_RING_BUDGET);
            pending = true;
        }
    return pending;
}

int synack_loop_add_fd(synack_loop *l, int fd, unsigned epoll_events, synack_fd_fn fn, void *ctx)
{
    if (!fn)
        return -EINVAL;
    struct loop_entry e = {.kind = LOOP_FD, .fd = fd, .fn = fn, .ctx = ctx};
    return loop_add(l, &e, epoll_events);
}

static void loop_sweep(synack_loop *l)
{
    for (struct loop_entry **p = &l->entries; *p;) {
        struct loop_entry *e = *p;
        if (e->dead) {
            *p = e->next;
            free(e);
        } else {
            p = &e->next;
        }
    }
}

int synack_loop_del_fd(synack_loop *l, int fd)
{
    for (struct loop_entry *e = l->entries; e; e = e->next) {
        if (e->dead || e->fd != fd)
            continue;
        /* The descriptor may already be closed, which removed it from the
         * epoll set; the entry must go either way. */
        int rc = epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF && errno != ENOENT
                     ? -errno
                     : 0;
        e->dead = true;
        if (!l->dispatching)
            loop_sweep(l);
        return rc;
    }
    return -ENOENT;
}

/* Arms the timer for `when` (absolute, CLOCK_MONOTONIC microseconds), or
 * disarms it for SYNACK_TIME_NEVER. */
static int loop_arm(synack_loop *l, synack_time when)
{
    struct itimerspec its = {0};
    if (when != SYNACK_TIME_NEVER) {
        its.it_value.tv_sec = (time_t)(when / 1000000u);
        its.it_value.tv_nsec = (long)(when % 1000000u) * 1000;
        /* An all-zero value would disarm the timer instead of firing it. */
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
    }
    return timerfd_settime(l->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

static int loop_dispatch(synack_loop *l, const struct epoll_event *evs, int n)
{
    int rc = 0;
    l->dispatching = true;
    for (int i = 0; i < n && rc == 0; i++) {
        struct loop_entry *e = evs[i].data.ptr;
        if (e->dead)
            continue;
        if (e->kind == LOOP_TIMER) {
            uint64_t expirations;
            /* Only to clear readiness; the stack's poll decides what is due. */
            if (read(e->fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                rc = -errno;
        } else if (e->kind == LOOP_RING) {
            /* the eventfd is cleared when the end is armed again */
            synack_ringlink_pump(e->ring, e->ring_end, synack_monotonic_now(NULL), LOOP_RING_BUDGET);
        } else if (e->kind == LOOP_TUN || e->kind == LOOP_TAP) {
            long got = e->kind == LOOP_TUN ? synack_tun_pump(e->tun) : synack_tap_pump(e->tap);
            if (got < 0)
                rc = (int)got;
        } else {
            e->fn(e->ctx, e->fd, evs[i].events);
        }
    }
    l->dispatching = false;
    loop_sweep(l);
    return rc;
}

/* Segments held for one GSO write, and ring frames held for one publication
 * (SYNACK_RING_BATCH), leave before the loop sleeps or returns. */
static void loop_flush(synack_loop *l)
{
    for (struct loop_entry *e = l->entries; e; e = e->next) {
        if (e->kind == LOOP_TUN && !e->dead)
            synack_tun_flush(e->tun);
        if (e->kind == LOOP_RING && !e->dead)
            synack_ringlink_flush(e->ring, e->ring_end);
    }
}

static synack_time min_time(synack_time a, synack_time b)
{
    return a < b ? a : b;
}

int synack_loop_run(synack_loop *l, bool (*done)(void *ctx), void *ctx, synack_time timeout)
{
    synack_time start = synack_monotonic_now(NULL);
    synack_time end = timeout == SYNACK_TIME_NEVER || timeout > SYNACK_TIME_NEVER - start
                          ? SYNACK_TIME_NEVER
                          : start + timeout;
    struct epoll_event evs[LOOP_MAX_EVENTS];
    for (;;) {
        synack_time next = synack_poll(l->stack);
        /* ARP's retries and state changes have deadlines of their own. */
        for (struct loop_entry *e = l->entries; e; e = e->next)
            if (e->kind == LOOP_TAP && !e->dead)
                next = min_time(next, synack_eth_poll(synack_tap_eth(e->tap)));
        if (done && done(ctx)) {
            loop_flush(l); /* what done() sent, a FIN say, must not wait for a loop that has ended */
            return 0;
        }
        /* What the callback queued goes out now, and the deadline it set
         * (a retransmission timer for data it sent) is the one armed. */
        if (done)
            next = min_time(next, synack_poll(l->stack));
        loop_flush(l);
        if (synack_monotonic_now(NULL) >= end)
            return -ETIMEDOUT;
        int rc = loop_arm(l, min_time(next, end));
        if (rc < 0)
            return rc;
        int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, loop_arm_rings(l) ? 0 : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        rc = loop_dispatch(l, evs, n);
        if (rc < 0)
            return rc;
    }
}
