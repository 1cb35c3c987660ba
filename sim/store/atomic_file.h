/* atomic_file: writing a whole file so that readers see the old bytes or the new, never half.
 *
 * The bytes go to an unnamed file in the target's directory (O_TMPFILE), which gets its name
 * only once complete and synced, and is then renamed over the target: a process killed at
 * any point leaves no temporary file behind (an unnamed file vanishes with its descriptor).
 * Where the file system has no O_TMPFILE a named temporary is used instead. A target that is
 * a symbolic link is written through: the link stays and its target gets the new bytes. */
#ifndef MESOSIM_ATOMIC_FILE_H
#define MESOSIM_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* False with the reason (path and system message) in err. */
bool store_write_atomic(const char *path, const void *data, size_t len, char *err, size_t err_len);

#endif
