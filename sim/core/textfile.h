/* textfile: reads a whole text file into memory, with a size limit, for the files people hand
 * the program (scenario files, action logs). The caller words the messages.
 *
 * The buffer is malloc'ed, NUL-terminated and owned by the caller (free). */
#ifndef MESOSIM_TEXTFILE_H
#define MESOSIM_TEXTFILE_H

#include <stddef.h>

typedef enum textfile_status {
    TEXTFILE_OK = 0,
    TEXTFILE_OPEN,      /* cannot open (errno in *sys_errno) */
    TEXTFILE_READ,      /* read error (errno in *sys_errno) */
    TEXTFILE_NOMEM,
    TEXTFILE_TOO_LARGE  /* more than max_bytes */
} textfile_status;

/* On TEXTFILE_OK, *buf holds *len bytes plus a NUL; otherwise *buf is NULL. */
textfile_status textfile_read(const char *path, size_t max_bytes, char **buf, size_t *len, int *sys_errno);

#endif
