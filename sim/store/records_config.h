/* records_config: the records' settings file, $XDG_CONFIG_HOME/mesosim/records.conf
 * (~/.config/mesosim/records.conf), read by the window, mesosim run, history and replay when
 * no --db is given (docs/records.md).
 *
 *   # a skills lab's server
 *   db = postgresql://station@lab-server/records
 *   trainee = Dr Ada
 *
 * One "key = value" a line, '#' starts a comment line, blanks around keys and values are
 * dropped. Keys: db (a path or postgresql:// URL, as --db), trainee (the window's trainee
 * when --trainee is not given). The file says where a trainee's personal records go, so it
 * must be private: a file others can read or write (any of mode 077) is refused, as is a URL
 * holding a password (it belongs in PGPASSFILE, which libpq reads itself). Everything is
 * copied into the caller's struct; nothing is allocated. */
#ifndef MESOSIM_RECORDS_CONFIG_H
#define MESOSIM_RECORDS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "records.h"

typedef struct records_config {
    bool found;                       /* the file exists (and was read) */
    char path[4096];                  /* the file read */
    char db[4096];                    /* "": not set */
    char trainee[RECORDS_NAME_MAX];   /* "": not set */
} records_config;

/* The default file: $XDG_CONFIG_HOME/mesosim/records.conf, else ~/.config/... False when
 * neither is set. */
bool records_config_default_path(char *out, size_t cap);
/* Reads path (NULL: the default) into *out. A missing file is no error (found stays false).
 * False with a plain message on a file that is unsafe or does not read. */
bool records_config_load(const char *path, records_config *out, char *err, size_t err_len);

#endif
