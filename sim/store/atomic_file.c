/* atomic_file: O_TMPFILE + linkat + rename, through symbolic links. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 16 /* a chain of links longer than this is a loop */

/* The file a path finally names: links followed, the last one may dangle. */
static bool resolve(const char *path, char *out, size_t cap, char *err, size_t n)
{
    if (snprintf(out, cap, "%s", path) >= (int)cap) {
        snprintf(err, n, "%s: path too long", path);
        return false;
    }
    for (int k = 0; k < MAX_LINKS; k++) {
        struct stat st;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return true;
        char link[PATH_MAX];
        ssize_t len = readlink(out, link, sizeof link - 1);
        if (len < 0) {
            snprintf(err, n, "%s: %s", out, strerror(errno));
            return false;
        }
        link[len] = '\0';
        if (link[0] == '/') {
            snprintf(out, cap, "%s", link);
        } else {
            char *slash = strrchr(out, '/');
            char dir[PATH_MAX];
            if (slash)
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
            else
                snprintf(dir, sizeof dir, ".");
            if (snprintf(out, cap, "%s/%s", dir, link) >= (int)cap) {
                snprintf(err, n, "%s: link target too long", path);
                return false;
            }
        }
    }
    snprintf(err, n, "%s: too many levels of symbolic links", path);
    return false;
}

static bool write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        len -= (size_t)w;
    }
    return true;
}

bool store_write_atomic(const char *path, const void *data, size_t len, char *err, size_t n)
{
    char target[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 32];
    if (!resolve(path, target, sizeof target, err, n))
        return false;
    const char *slash = strrchr(target, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == target ? 1 : (int)(slash - target), target);
    else
        snprintf(dir, sizeof dir, ".");
    /* Keep the mode of a file being replaced. */
    struct stat st;
    mode_t mode = stat(target, &st) == 0 ? (st.st_mode & 07777) : 0644;
    bool named = false;
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
#endif
    if (fd < 0) {
        /* No O_TMPFILE here: a named temporary, removed on any failure. */
        snprintf(tmp, sizeof tmp, "%s.XXXXXX.tmp", target);
        fd = mkstemps(tmp, 4);
        named = fd >= 0;
        if (fd >= 0)
            fchmod(fd, mode);
    }
    if (fd < 0) {
        snprintf(err, n, "%s: cannot write in %s: %s", path, dir, strerror(errno));
        return false;
    }
    bool ok = write_all(fd, data, len) && fsync(fd) == 0;
    int e = errno;
    if (ok && !named) {
        /* Name the finished file, then move the name over the target. */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        for (int k = 0; k < 100; k++) {
            snprintf(tmp, sizeof tmp, "%s.%ld.%d.tmp", target, (long)getpid(), k);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0) {
                named = true;
                break;
            }
            if (errno != EEXIST)
                break;
        }
        ok = named;
        e = errno;
    }
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, target) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        if (named)
            unlink(tmp);
        snprintf(err, n, "%s: %s", path, strerror(e));
    }
    return ok;
}
