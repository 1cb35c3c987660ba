/* atomic_file: see atomic_file.h. Linux specifics (O_TMPFILE, /proc/self/fd) with a portable
 * fallback (mkstemp + rename). */
#define _GNU_SOURCE
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h> /* PATH_MAX; a plain <limits.h> finds sim/core/limits.h first */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

/* The fallback's named temporary, for the signal handler. */
static char g_tmp[PATH_MAX];
static volatile sig_atomic_t g_tmp_live;

static void on_signal(int sig)
{
    if (g_tmp_live)
        unlink(g_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Follows symlinks at path into out (the file to replace, which may not exist yet). */
static int resolve(const char *path, char *out, size_t cap, char *err, size_t n)
{
    if (snprintf(out, cap, "%s", path) >= (int)cap) {
        snprintf(err, n, "%s: path too long", path);
        return -1;
    }
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return 0;
        if (hops == MAX_LINKS) {
            snprintf(err, n, "%s: too many levels of symbolic links", path);
            return -1;
        }
        char target[PATH_MAX];
        ssize_t len = readlink(out, target, sizeof target - 1);
        if (len < 0) {
            snprintf(err, n, "%s: %s", out, strerror(errno));
            return -1;
        }
        target[len] = '\0';
        char next[PATH_MAX];
        const char *slash = strrchr(out, '/');
        int w;
        if (target[0] == '/' || !slash)
            w = snprintf(next, sizeof next, "%s", target);
        else
            w = snprintf(next, sizeof next, "%.*s/%s", (int)(slash - out), out, target);
        if (w < 0 || (size_t)w >= sizeof next || (size_t)w >= cap) {
            snprintf(err, n, "%s: path too long", path);
            return -1;
        }
        memcpy(out, next, (size_t)w + 1);
    }
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return fsync(fd);
}

/* Keeps the permission bits of the file being replaced (0666 & ~umask for a new one). */
static void keep_mode(int fd, const char *target)
{
    struct stat st;
    if (stat(target, &st) == 0)
        (void)fchmod(fd, st.st_mode & 07777);
}

/* While a temporary has a name, SIGINT, SIGTERM and SIGHUP remove it before they end the
 * program. */
typedef struct guard {
    struct sigaction old[3];
} guard;

static const int k_sigs[3] = {SIGINT, SIGTERM, SIGHUP};

static void guard_begin(guard *g, const char *tmp)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    snprintf(g_tmp, sizeof g_tmp, "%s", tmp);
    g_tmp_live = 1;
    for (int i = 0; i < 3; i++)
        sigaction(k_sigs[i], &sa, &g->old[i]);
}

static void guard_end(guard *g)
{
    g_tmp_live = 0;
    for (int i = 0; i < 3; i++)
        sigaction(k_sigs[i], &g->old[i], NULL);
}

/* O_TMPFILE: 0 done, -1 failed (err set), 1 not supported here (use the fallback). */
static int write_unnamed(const char *dir, const char *target, const char *tmp, const void *data,
                         size_t len, char *err, size_t n)
{
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) {
        /* EISDIR: a kernel older than O_TMPFILE took it for O_DIRECTORY. */
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
            return 1;
        snprintf(err, n, "%s: %s", target, strerror(errno));
        return -1;
    }
    keep_mode(fd, target);
    if (write_all(fd, data, len) != 0) {
        snprintf(err, n, "%s: %s", target, strerror(errno));
        close(fd);
        return -1;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    guard g;
    guard_begin(&g, tmp);
    unlink(tmp); /* a stale one from an earlier process with this pid */
    int rc = 0;
    if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0) {
        rc = errno == ENOENT ? 1 : -1; /* ENOENT: no /proc */
        if (rc < 0)
            snprintf(err, n, "%s: %s", target, strerror(errno));
    } else if (rename(tmp, target) != 0) {
        snprintf(err, n, "%s: %s", target, strerror(errno));
        unlink(tmp);
        rc = -1;
    }
    guard_end(&g);
    close(fd);
    return rc;
}

static int write_named(const char *target, const char *tmp, const void *data, size_t len,
                       char *err, size_t n)
{
    guard g;
    guard_begin(&g, tmp);
    int status = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd >= 0) {
        keep_mode(fd, target);
        int ok = write_all(fd, data, len) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && rename(tmp, target) == 0)
            status = 0;
    }
    if (status != 0) {
        snprintf(err, n, "%s: %s", target, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    guard_end(&g);
    return status;
}

int atomic_file_write(const char *path, const void *data, size_t len, char *err, size_t n)
{
    char target[PATH_MAX];
    if (resolve(path, target, sizeof target, err, n) != 0)
        return -1;
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == target ? 1 : (int)(slash - target), target);
    else
        snprintf(dir, sizeof dir, ".");
    if (!*base) {
        snprintf(err, n, "%s: is a directory", path);
        return -1;
    }
    /* Hidden, beside the target (same filesystem, so rename is atomic), one per process. */
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp%ld", dir, base, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(err, n, "%s: path too long", path);
        return -1;
    }
    int rc = write_unnamed(dir, target, tmp, data, len, err, n);
    if (rc == 1)
        rc = write_named(target, tmp, data, len, err, n);
    return rc;
}
