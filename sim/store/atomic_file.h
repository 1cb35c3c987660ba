/* atomic_file: writes a whole file so a reader sees the old content or the new, never a part,
 * and a killed program leaves no temporary file behind. One place for every file the program
 * writes for the user (reports, images; the window's session logs may follow).
 *
 * A symlink at path stays a symlink: the link is followed (relative targets from the link's
 * directory, up to 40 links deep) and the file it names is replaced, with its permission bits
 * kept. The data goes first to an unnamed file in the target's directory (O_TMPFILE), which
 * a kill at any point before it is complete simply discards; the complete file is then given
 * a temporary name with linkat and renamed over the target, so only the few microseconds
 * between those two calls leave a name that a SIGKILL could orphan. Where the filesystem
 * has no O_TMPFILE (or /proc is not mounted), a named temporary beside the target is used
 * instead and removed on SIGINT, SIGTERM and SIGHUP during the write.
 *
 * Owns nothing after it returns; the caller keeps data. Not thread-safe in the fallback (the
 * signal handler knows one temporary at a time). */
#ifndef MESOSIM_ATOMIC_FILE_H
#define MESOSIM_ATOMIC_FILE_H

#include <stddef.h>

/* Replaces the file at path (or the file a symlink at path names) with len bytes of data.
 * Returns 0, or -1 with a message naming the file in err. */
int atomic_file_write(const char *path, const void *data, size_t len, char *err, size_t err_len);

#endif
