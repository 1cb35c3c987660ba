#include "textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

textfile_status textfile_read(const char *path, size_t max_bytes, char **out, size_t *len, int *sys_errno)
{
    *out = NULL;
    *len = 0;
    *sys_errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *sys_errno = errno;
        return TEXTFILE_OPEN;
    }
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap + 1);
    textfile_status st = buf ? TEXTFILE_OK : TEXTFILE_NOMEM;
    while (st == TEXTFILE_OK) {
        if (n == cap) {
            if (cap > max_bytes) {
                st = TEXTFILE_TOO_LARGE;
                break;
            }
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                st = TEXTFILE_NOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (st == TEXTFILE_OK && ferror(f)) {
        *sys_errno = errno;
        st = TEXTFILE_READ;
    }
    fclose(f);
    if (st == TEXTFILE_OK && n > max_bytes)
        st = TEXTFILE_TOO_LARGE;
    if (st != TEXTFILE_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TEXTFILE_OK;
}
