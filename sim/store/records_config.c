/* records_config: the records' settings file (records_config.h). */
#include "records_config.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool records_config_default_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int w;
    if (xdg && xdg[0] == '/')
        w = snprintf(out, cap, "%s/mesosim/records.conf", xdg);
    else if (home && home[0])
        w = snprintf(out, cap, "%s/.config/mesosim/records.conf", home);
    else
        return false;
    return w > 0 && (size_t)w < cap;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

static bool set_value(char *dst, size_t cap, const char *v, const char *file, int line, const char *key, char *err,
                      size_t n)
{
    if (strlen(v) >= cap) {
        snprintf(err, n, "%s, line %d: the %s is too long (at most %zu characters)", file, line, key, cap - 1);
        return false;
    }
    snprintf(dst, cap, "%s", v);
    return true;
}

static bool parse_line(records_config *c, char *text, int line, char *err, size_t n)
{
    char *s = trim(text);
    if (!*s || *s == '#')
        return true;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, n, "%s, line %d: expected 'key = value' (keys: db, trainee), got '%.60s'", c->path, line, s);
        return false;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    if (!*val) {
        snprintf(err, n, "%s, line %d: '%s' has no value", c->path, line, key);
        return false;
    }
    if (!strcmp(key, "db")) {
        char shown[4096];
        records_redact(val, shown, sizeof shown);
        if (strcmp(shown, val)) {
            snprintf(err, n, "%s, line %d: the URL %.200s holds a password; a settings file is no place for one: "
                             "put it in PGPASSFILE (~/.pgpass, mode 0600), which the server's client reads",
                     c->path, line, shown);
            return false;
        }
        return set_value(c->db, sizeof c->db, val, c->path, line, "db", err, n);
    }
    if (!strcmp(key, "trainee"))
        return set_value(c->trainee, sizeof c->trainee, val, c->path, line, "trainee's name", err, n);
    snprintf(err, n, "%s, line %d: unknown setting '%.60s' (known: db, trainee)", c->path, line, key);
    return false;
}

bool records_config_load(const char *path, records_config *c, char *err, size_t n)
{
    memset(c, 0, sizeof *c);
    if (path)
        snprintf(c->path, sizeof c->path, "%s", path);
    else if (!records_config_default_path(c->path, sizeof c->path))
        return true; /* no HOME: no settings file either */
    FILE *f = fopen(c->path, "r");
    if (!f) {
        if (errno == ENOENT)
            return true;
        snprintf(err, n, "cannot read the records settings %s: %s", c->path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        snprintf(err, n, "the records settings %s is not a plain file", c->path);
        return false;
    }
    if (st.st_mode & 077) {
        fclose(f);
        snprintf(err, n, "the records settings %s can be read or changed by other users (mode %04o): it says where "
                         "trainees' records go, so make it private with: chmod 600 %s",
                 c->path, (unsigned)(st.st_mode & 07777), c->path);
        return false;
    }
    char buf[8192];
    int line = 0;
    bool ok = true;
    while (ok && fgets(buf, sizeof buf, f)) {
        line++;
        if (!strchr(buf, '\n') && !feof(f)) {
            snprintf(err, n, "%s, line %d: a line too long", c->path, line);
            ok = false;
        } else {
            ok = parse_line(c, buf, line, err, n);
        }
    }
    fclose(f);
    c->found = ok;
    return ok;
}
