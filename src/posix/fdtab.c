/* The descriptor table: every socket and epoll instance is named by a real
 * host descriptor (an eventfd the layer owns), so a program, or packetdrill
 * cleaning up, may close it with the host's close() without harm. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

struct sxp_file *sxp_file_get(struct sxp *p, int fd)
{
    if (fd < 0 || fd >= p->n_files)
        return NULL;
    return p->files[fd];
}

struct sxp_file *sxp_sock_get(struct sxp *p, int fd, int *err)
{
    struct sxp_file *f = sxp_file_get(p, fd);
    if (!f) {
        *err = EBADF;
        return NULL;
    }
    if (f->kind != SXF_SOCK) {
        *err = ENOTSOCK;
        return NULL;
    }
    return f;
}

static void forget(struct sxp *p, struct sxp_file *f, int fd)
{
    if (f->kind == SXF_SOCK)
        synack_close(p->st, f->h);
    while (f->items) {
        struct sxp_epitem *it = f->items;
        f->items = it->next;
        free(it);
    }
    if (p->files[fd] == f)
        p->files[fd] = NULL;
    f->closed = true;
    sxp_file_release(f);
}

struct sxp_file *sxp_file_new(struct sxp *p, enum sxp_kind kind)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fd >= p->n_files) {
        int n = p->n_files ? p->n_files : 16;
        while (n <= fd)
            n *= 2;
        struct sxp_file **t = realloc(p->files, (size_t)n * sizeof *t);
        if (!t) {
            close(fd);
            errno = ENOMEM;
            return NULL;
        }
        memset(t + p->n_files, 0, (size_t)(n - p->n_files) * sizeof *t);
        p->files = t;
        p->n_files = n;
    }
    /* The host handed out a number we still map: its owner closed it with
     * the host's close(), so our entry is stale. */
    if (p->files[fd])
        forget(p, p->files[fd], fd);
    struct sxp_file *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    /* A tag in the eventfd's counter tells our descriptor from one the
     * host gave the same number after someone closed ours. */
    f->tag = ((uint64_t)(uintptr_t)f << 8) | 0x5a;
    if (eventfd_write(fd, f->tag) < 0) {
        free(f);
        close(fd);
        return NULL;
    }
    f->kind = kind;
    f->fd = fd;
    f->refs = 1;
    f->h = -1;
    p->files[fd] = f;
    return f;
}

void sxp_file_release(struct sxp_file *f)
{
    if (--f->refs == 0)
        free(f);
}

bool sxp_file_is_host_ours(const struct sxp_file *f)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", f->fd);
    FILE *in = fopen(path, "r");
    if (!in)
        return false;
    char line[128];
    bool ours = false;
    while (fgets(line, sizeof line, in)) {
        uint64_t v;
        if (sscanf(line, "eventfd-count: %" SCNx64, &v) == 1) {
            ours = v == f->tag;
            break;
        }
    }
    fclose(in);
    return ours;
}

void sxp_file_drop(struct sxp *p, struct sxp_file *f, bool check_host)
{
    int fd = f->fd;
    if (p->files[fd] != f)
        return;
    bool close_host = !check_host || sxp_file_is_host_ours(f);
    forget(p, f, fd);
    if (close_host)
        close(fd);
}
