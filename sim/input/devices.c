/* devices: the registry of input devices, their settings file and the controller mappings. */
#include "devices.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "atomic_file.h"

/* ---- settings -------------------------------------------------------------------------------- */

/* SET_PORT: an int, `off` (-1) or 0..65535; SET_ADDR: text that must be an IPv4 address;
 * SET_PATH: text where `default` is the empty string. Text rows give their field's size. */
typedef enum setting_type { SET_NUMBER, SET_BOOL, SET_TEXT, SET_PORT, SET_ADDR, SET_PATH } setting_type;

typedef struct setting_row {
    const char *name;
    setting_type type;
    size_t offset;
    double min, max;
    const char *help;
    size_t size;
} setting_row;

#define PAD_F(f) offsetof(devices_settings, pad) + offsetof(pad_def, f)
#define PEN_F(f) offsetof(devices_settings, pen) + offsetof(pen_def, f)

static const setting_row k_settings[] = {
    {"pad.stick_dead_zone", SET_NUMBER, PAD_F(stick_dead_zone), 0, 0.9, "stick deflection ignored, 0..0.9", 0},
    {"pad.trigger_dead_zone", SET_NUMBER, PAD_F(trigger_dead_zone), 0, 0.9, "trigger pull ignored, 0..0.9", 0},
    {"pad.probe_mm_s", SET_NUMBER, PAD_F(probe_mm_s), 0, 50, "probe slide at full deflection", 0},
    {"pad.rotate_deg_s", SET_NUMBER, PAD_F(rotate_deg_s), 0, 360, "probe rotation at full deflection", 0},
    {"pad.tilt_deg_s", SET_NUMBER, PAD_F(tilt_deg_s), 0, 90, "probe tilt and rock at full deflection", 0},
    {"pad.pressure_n_s", SET_NUMBER, PAD_F(pressure_n_s), 0, 20, "probe pressure change while held", 0},
    {"pad.needle_max_mm_s", SET_NUMBER, PAD_F(needle_max_mm_s), 0.05, 20, "needle speed at a full trigger pull", 0},
    {"pad.rumble", SET_BOOL, PAD_F(rumble), 0, 1, "on or off", 0},
    {"pad.force_full_n", SET_NUMBER, PAD_F(force_full_n), 0.05, 20, "needle force felt as full rumble", 0},
    {"pad.pop_pulse_ms", SET_NUMBER, PAD_F(pop_pulse_ms), 0, 1000, "length of the pulse at a pop", 0},
    {"pen.device", SET_TEXT, offsetof(devices_settings, pen_device), 0, 0, "auto, off or /dev/input/eventN",
     sizeof(((devices_settings *)0)->pen_device)},
    {"pen.pressure_touch", SET_NUMBER, PEN_F(pressure_touch), 0, 0.9, "pressure fraction that is a touch", 0},
    {"pen.pressure_full", SET_NUMBER, PEN_F(pressure_full), 0.05, 1, "pressure fraction for the deepest travel", 0},
    {"pen.insert_max_mm", SET_NUMBER, PEN_F(insert_max_mm), 0, 50, "needle travel at pressure_full", 0},
    {"pen.dist_min_mm", SET_NUMBER, PEN_F(dist_min_mm), 0, 30, "entry distance from the plane at the top edge", 0},
    {"pen.dist_max_mm", SET_NUMBER, PEN_F(dist_max_mm), 0, 30, "... at the bottom edge", 0},
    {"pen.angle_no_tilt_deg", SET_NUMBER, PEN_F(angle_no_tilt_deg), 5, 85, "needle angle when the pen has no tilt", 0},
    {"igtl.port", SET_PORT, offsetof(devices_settings, igtl_port), 0, 65535,
     "the window's OpenIGTLink server: off, 0 (a free port) or a TCP port (18944 is usual)", 0},
    {"igtl.bind", SET_ADDR, offsetof(devices_settings, igtl_bind), 0, 0,
     "its IPv4 address; 0.0.0.0 listens on every interface (the protocol has no authentication)",
     sizeof(((devices_settings *)0)->igtl_bind)},
    {"igtl.calibration", SET_PATH, offsetof(devices_settings, igtl_calibration), 0, 0,
     "the device-to-phantom map: default ($XDG_CONFIG_HOME/mesosim/igtl_calibration.json) or a path",
     sizeof(((devices_settings *)0)->igtl_calibration)},
};
#define N_SETTINGS (sizeof k_settings / sizeof k_settings[0])

void devices_settings_default(devices_settings *out)
{
    memset(out, 0, sizeof *out);
    out->pad = pad_default_def();
    out->pen = pen_default_def();
    snprintf(out->pen_device, sizeof out->pen_device, "auto");
    out->igtl_port = -1;
    snprintf(out->igtl_bind, sizeof out->igtl_bind, "127.0.0.1");
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void add_error(char *err, size_t err_len, int line, const char *msg)
{
    if (!err || !err_len)
        return;
    size_t used = strnlen(err, err_len - 1);
    snprintf(err + used, err_len - used, "%s%d: %s", used ? "\n" : "", line, msg);
}

/* One value into its field; false with the reason in why. */
static bool set_value(const setting_row *r, const char *v, devices_settings *out, char *why, size_t why_len)
{
    char *field = (char *)out + r->offset;
    if (r->type == SET_TEXT || r->type == SET_ADDR || r->type == SET_PATH) {
        if (!*v) {
            snprintf(why, why_len, "empty (%s)", r->help);
            return false;
        }
        if (strlen(v) >= r->size) {
            snprintf(why, why_len, "at most %zu characters", r->size - 1);
            return false;
        }
        struct in_addr a;
        if (r->type == SET_ADDR && inet_pton(AF_INET, v, &a) != 1) {
            snprintf(why, why_len, "'%.60s' is not an IPv4 address such as 127.0.0.1", v);
            return false;
        }
        snprintf(field, r->size, "%s", r->type == SET_PATH && !strcmp(v, "default") ? "" : v);
        return true;
    }
    if (r->type == SET_PORT) {
        char *end = NULL;
        errno = 0;
        long port = strtol(v, &end, 10);
        if (!strcasecmp(v, "off")) {
            port = -1;
        } else if (!*v || *end || errno || port < 0 || port > 65535) {
            snprintf(why, why_len, "expected off or a port 0..65535 (0: a free one)");
            return false;
        }
        *(int *)(void *)field = (int)port;
        return true;
    }
    if (r->type == SET_BOOL) {
        bool on = !strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
        bool off = !strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no");
        if (!on && !off) {
            snprintf(why, why_len, "expected on or off");
            return false;
        }
        *(bool *)(void *)field = on;
        return true;
    }
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x)) {
        snprintf(why, why_len, "expected a number");
        return false;
    }
    if (x < r->min || x > r->max) {
        snprintf(why, why_len, "%g is outside %g..%g", x, r->min, r->max);
        return false;
    }
    *(double *)(void *)field = x;
    return true;
}

bool devices_settings_parse(const char *text, size_t len, devices_settings *out, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    bool ok = true;
    size_t pos = 0;
    int last_line = 0;
    for (int ln = 1; pos < len; ln++) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        char buf[400];
        if (n >= sizeof buf) {
            add_error(err, err_len, ln, "line too long (kept the defaults)");
            ok = false;
            continue;
        }
        memcpy(buf, line, n);
        buf[n] = '\0';
        if (strlen(buf) != n) {
            add_error(err, err_len, ln, "a NUL byte in the line");
            ok = false;
            continue;
        }
        char *s = buf;
        while (is_space(*s))
            s++;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            add_error(err, err_len, ln, "expected NAME = VALUE");
            ok = false;
            continue;
        }
        char *ne = eq;
        while (ne > s && is_space(ne[-1]))
            ne--;
        *ne = '\0';
        char *v = eq + 1;
        while (is_space(*v))
            v++;
        char *hash = strchr(v, '#'); /* a comment after the value */
        if (hash)
            *hash = '\0';
        char *ve = v + strlen(v);
        while (ve > v && is_space(ve[-1]))
            ve--;
        *ve = '\0';
        const setting_row *r = NULL;
        for (size_t i = 0; i < N_SETTINGS && !r; i++)
            if (!strcmp(k_settings[i].name, s))
                r = &k_settings[i];
        char msg[300], why[120];
        for (char *c = s; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = '?';
        if (!r) {
            snprintf(msg, sizeof msg, "unknown setting '%.60s' (kept the defaults)", s);
            add_error(err, err_len, ln, msg);
            ok = false;
            continue;
        }
        if (!set_value(r, v, out, why, sizeof why)) {
            snprintf(msg, sizeof msg, "%s: %s (kept the default)", r->name, why);
            add_error(err, err_len, ln, msg);
            ok = false;
        }
        last_line = ln;
    }
    /* Pairs that only make sense one way round: both back to their defaults otherwise. */
    pen_def pd = pen_default_def();
    if (out->pen.pressure_touch >= out->pen.pressure_full) {
        add_error(err, err_len, last_line, "pen.pressure_touch must be below pen.pressure_full (kept the defaults)");
        out->pen.pressure_touch = pd.pressure_touch;
        out->pen.pressure_full = pd.pressure_full;
        ok = false;
    }
    if (out->pen.dist_min_mm > out->pen.dist_max_mm) {
        add_error(err, err_len, last_line, "pen.dist_min_mm must not exceed pen.dist_max_mm (kept the defaults)");
        out->pen.dist_min_mm = pd.dist_min_mm;
        out->pen.dist_max_mm = pd.dist_max_mm;
        ok = false;
    }
    return ok;
}

size_t devices_settings_format(const devices_settings *s, char *buf, size_t len)
{
    size_t used = 0;
#define PUT(...)                                                                        \
    do {                                                                                \
        int w_ = snprintf(buf ? buf + (used < len ? used : len) : NULL,                 \
                          buf && used < len ? len - used : 0, __VA_ARGS__);             \
        used += w_ > 0 ? (size_t)w_ : 0;                                                \
    } while (0)
    PUT("# mesosim input devices (docs/devices.md): NAME = VALUE. Delete this file to get the\n"
        "# defaults back. Controller buttons and axes are bound in bindings.conf (pad.NAME lines);\n"
        "# extra controller mappings go in gamecontrollerdb.txt beside this file (SDL's format).\n\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting_row *r = &k_settings[i];
        const char *field = (const char *)s + r->offset;
        if (r->type == SET_TEXT || r->type == SET_ADDR)
            PUT("%s = %s", r->name, field);
        else if (r->type == SET_PATH)
            PUT("%s = %s", r->name, *field ? field : "default");
        else if (r->type == SET_PORT && *(const int *)(const void *)field < 0)
            PUT("%s = off", r->name);
        else if (r->type == SET_PORT)
            PUT("%s = %d", r->name, *(const int *)(const void *)field);
        else if (r->type == SET_BOOL)
            PUT("%s = %s", r->name, *(const bool *)(const void *)field ? "on" : "off");
        else
            PUT("%s = %g", r->name, *(const double *)(const void *)field);
        PUT("    # %s\n", r->help);
    }
#undef PUT
    return used;
}

static void config_dir(const char *given, char *out, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (given)
        snprintf(out, len, "%s", given);
    else if (xdg && xdg[0] == '/')
        snprintf(out, len, "%s/mesosim", xdg);
    else
        snprintf(out, len, "%s/.config/mesosim", home && *home ? home : ".");
}

static void make_dirs(const char *dir)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

/* Settings and mapping files are a few kB; anything past this is not one. */
#define DEVICES_FILE_MAX (1024 * 1024)

/* The whole file, malloc'ed, or NULL (errno set; EFBIG when too large). */
static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(DEVICES_FILE_MAX + 1);
    *n = text ? fread(text, 1, DEVICES_FILE_MAX, f) : 0;
    bool too_big = text && *n == DEVICES_FILE_MAX && fgetc(f) != EOF;
    fclose(f);
    if (!text || too_big) {
        free(text);
        errno = text ? EFBIG : ENOMEM;
        return NULL;
    }
    text[*n] = '\0';
    return text;
}

void devices_settings_load(const char *path, devices_settings *out, char *path_out, size_t path_len)
{
    char where[1100], dir[1024];
    config_dir(NULL, dir, sizeof dir);
    if (path)
        snprintf(where, sizeof where, "%s", path);
    else
        snprintf(where, sizeof where, "%s/devices.conf", dir);
    if (path_out && path_len)
        snprintf(path_out, path_len, "%s", where);
    devices_settings_default(out);
    size_t n = 0;
    char *text = read_file(where, &n);
    if (!text) {
        if (errno == ENOENT) {
            size_t need = devices_settings_format(out, NULL, 0);
            char *def = malloc(need + 1);
            char err[600];
            if (def) {
                devices_settings_format(out, def, need + 1);
                char parent[1100];
                snprintf(parent, sizeof parent, "%s", where);
                char *slash = strrchr(parent, '/');
                if (slash) {
                    *slash = '\0';
                    make_dirs(parent);
                }
                if (atomic_file_write(where, def, need, err, sizeof err) != 0)
                    fprintf(stderr, "mesosim: cannot write the default device settings: %s\n", err);
            }
            free(def);
        } else {
            fprintf(stderr, "mesosim: cannot read %s: %s (using the default device settings)\n", where,
                    strerror(errno));
        }
        return;
    }
    char err[4096];
    if (!devices_settings_parse(text, n, out, err, sizeof err))
        for (char *save = NULL, *l = strtok_r(err, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            fprintf(stderr, "%s:%s\n", where, l);
    free(text);
}

/* ---- the registry ------------------------------------------------------------------------------ */

/* While no pen is connected, /dev/input (or pen.device) is looked at again this often (a
 * tablet plugged in, or back). */
#define PEN_RESCAN_S 3.0

struct devices {
    devices_def def;
    devices_settings set;
    char settings_path[1100];
    bool have_pads;            /* SDL's game-controller subsystem is up */
    char pad_problem[160];
    kbm_state *kbm;
    pad_state *pads[DEVICES_MAX_PADS];
    int n_pads;
    pen_state *pen;
    char pen_status[160];
    double pen_rescan_s;
    pen_skin skin;
    devices_kind driving;
    SDL_JoystickID driving_pad;
    devices_news news;
};

devices_def devices_default_def(void) { return (devices_def){.find_pen = true}; }

/* SDL's mapping lines from a user file. The GUID's hex characters 4-7 hold a CRC of the name
 * in SDL 2.26's GUIDs (SDL_JoystickGetGUIDString prints it), but a mapping only matches with
 * them zero (shared/reference/stack.md): a GUID copied from SDL's output would never match. */
static void add_user_mappings(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/gamecontrollerdb.txt", dir);
    size_t n = 0;
    char *text = read_file(path, &n);
    if (!text) {
        if (errno != ENOENT)
            fprintf(stderr, "mesosim: cannot read %s: %s\n", path, strerror(errno));
        return;
    }
    int ln = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        ln++;
        size_t len = strlen(l);
        while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
            l[--len] = '\0';
        if (!len || l[0] == '#')
            continue;
        bool guid = len > 33 && l[32] == ',' && strspn(l, "0123456789abcdefABCDEF") == 32;
        if (guid)
            memcpy(l + 4, "0000", 4);
        if (!guid || SDL_GameControllerAddMapping(l) < 0) {
            fprintf(stderr, "%s:%d: not a controller mapping (GUID,name,a:b0,...): %s\n", path, ln,
                    guid ? SDL_GetError() : "no 32-digit GUID first");
        }
    }
    free(text);
}

static void print_lines(const char *where, const char *text)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "%s: %s\n", where, l);
}

static int pad_slot(const devices *d, SDL_JoystickID id)
{
    for (int i = 0; i < d->n_pads; i++)
        if (pad_instance(d->pads[i]) == id)
            return i;
    return -1;
}

static bool open_pad(devices *d, int index)
{
    if (d->n_pads == DEVICES_MAX_PADS || !SDL_IsGameController(index) ||
        pad_slot(d, SDL_JoystickGetDeviceInstanceID(index)) >= 0)
        return false;
    char err[2048];
    pad_state *p = pad_open(index, &d->set.pad, d->def.bindings, err, sizeof err);
    if (!p) {
        fprintf(stderr, "mesosim: %s\n", err);
        return false;
    }
    if (err[0])
        print_lines("bindings", err);
    d->pads[d->n_pads++] = p;
    return true;
}

static void close_pad(devices *d, int slot)
{
    pad_state *p = d->pads[slot];
    if (d->driving == DEVICES_PAD && d->driving_pad == pad_instance(p)) {
        d->news.lost = true;
        snprintf(d->news.lost_message, sizeof d->news.lost_message,
                 "Controller disconnected: the session is paused; reconnect it or press a key to continue "
                 "with the keyboard");
        d->driving = DEVICES_KBM;
    }
    pad_close(p);
    d->pads[slot] = d->pads[--d->n_pads];
}

static void find_pen(devices *d)
{
    if (!strcmp(d->set.pen_device, "off")) {
        snprintf(d->pen_status, sizeof d->pen_status, "off (devices.conf)");
        return;
    }
    char why[300];
    if (!strcmp(d->set.pen_device, "auto")) {
        if (!d->def.find_pen) {
            snprintf(d->pen_status, sizeof d->pen_status, "not looked for");
            return;
        }
        d->pen = pen_find(&d->set.pen, why, sizeof why);
    } else {
        d->pen = pen_open_evdev(&d->set.pen, d->set.pen_device, why, sizeof why);
    }
    if (d->pen) {
        d->news.device_added = true;
        d->pen_status[0] = '\0';
    } else {
        snprintf(d->pen_status, sizeof d->pen_status, "%.150s", why);
    }
}

devices *devices_create(const devices_def *def)
{
    devices *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->def = *def;
    char dir[1024];
    config_dir(def->config_dir, dir, sizeof dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/devices.conf", dir);
    devices_settings_load(path, &d->set, d->settings_path, sizeof d->settings_path);
    char bad[2048];
    d->kbm = kbm_create(def->bindings, bad, sizeof bad);
    if (!d->kbm) {
        free(d);
        return NULL;
    }
    if (bad[0])
        print_lines("bindings", bad);
    if (SDL_InitSubSystem(SDL_INIT_GAMECONTROLLER) == 0) {
        d->have_pads = true;
        /* Mappings first: a controller already open keeps the mapping it was opened with. */
        add_user_mappings(dir);
        for (int i = 0; i < SDL_NumJoysticks(); i++)
            open_pad(d, i);
    } else {
        snprintf(d->pad_problem, sizeof d->pad_problem, "controllers unavailable (%.100s)", SDL_GetError());
    }
    find_pen(d);
    memset(&d->news, 0, sizeof d->news);
    return d;
}

void devices_destroy(devices *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_pads; i++)
        pad_close(d->pads[i]);
    pen_destroy(d->pen);
    kbm_destroy(d->kbm);
    if (d->have_pads)
        SDL_QuitSubSystem(SDL_INIT_GAMECONTROLLER);
    free(d);
}

void devices_set_layout(devices *d, const kbm_layout *l) { kbm_set_layout(d->kbm, l); }
void devices_set_skin(devices *d, const pen_skin *s) { d->skin = *s; }

void devices_begin(devices *d, controls *out) { kbm_begin(d->kbm, out); }

void devices_event(devices *d, const SDL_Event *e, controls *out)
{
    switch (e->type) {
    case SDL_CONTROLLERDEVICEADDED:
        if (open_pad(d, e->cdevice.which))
            d->news.device_added = true;
        return;
    case SDL_CONTROLLERDEVICEREMOVED: {
        int slot = pad_slot(d, e->cdevice.which);
        if (slot >= 0)
            close_pad(d, slot);
        return;
    }
    case SDL_KEYDOWN:
        if (!e->key.repeat) {
            d->news.key_pressed = true;
            d->driving = DEVICES_KBM;
        }
        break;
    case SDL_MOUSEBUTTONDOWN:
        d->driving = DEVICES_KBM;
        break;
    default:
        break;
    }
    for (int i = 0; i < d->n_pads; i++)
        if (pad_event(d->pads[i], e, out)) {
            d->driving = DEVICES_PAD;
            d->driving_pad = pad_instance(d->pads[i]);
        }
    kbm_event(d->kbm, e, out);
}

void devices_end(devices *d, double dt_s, controls *out)
{
    kbm_end(d->kbm, dt_s, out);
    for (int i = 0; i < d->n_pads; i++)
        if (pad_end(d->pads[i], dt_s, out)) {
            d->driving = DEVICES_PAD;
            d->driving_pad = pad_instance(d->pads[i]);
        }
    if (!d->pen && d->def.find_pen && strcmp(d->set.pen_device, "off")) {
        d->pen_rescan_s -= dt_s;
        if (d->pen_rescan_s <= 0) {
            d->pen_rescan_s = PEN_RESCAN_S;
            find_pen(d);
        }
    }
    if (d->pen && pen_poll(d->pen) < 0) {
        devices_set_pen(d, NULL);
        snprintf(d->pen_status, sizeof d->pen_status, "disconnected");
    }
    if (d->pen && pen_end(d->pen, &d->skin, out))
        d->driving = DEVICES_PEN;
}

void devices_feedback(devices *d, const controls_feedback *fb, double dt_s)
{
    for (int i = 0; i < d->n_pads; i++)
        pad_feedback(d->pads[i], fb, dt_s);
}

void devices_set_pen(devices *d, pen_state *p)
{
    if (d->pen && d->driving == DEVICES_PEN) {
        d->news.lost = true;
        snprintf(d->news.lost_message, sizeof d->news.lost_message,
                 "Pen disconnected: the session is paused; reconnect it or press a key to continue with the "
                 "keyboard");
        d->driving = DEVICES_KBM;
    }
    pen_destroy(d->pen);
    d->pen = p;
    if (p)
        d->news.device_added = true;
    d->pen_rescan_s = PEN_RESCAN_S;
}

devices_news devices_take_news(devices *d)
{
    devices_news n = d->news;
    memset(&d->news, 0, sizeof d->news);
    return n;
}
devices_kind devices_driving(const devices *d) { return d->driving; }
const devices_settings *devices_get_settings(const devices *d) { return &d->set; }
const char *devices_settings_path(const devices *d) { return d->settings_path; }
int devices_pad_count(const devices *d) { return d->n_pads; }

void devices_status(const devices *d, char *buf, size_t len)
{
    if (!len)
        return;
    size_t used = 0;
#define ADD(...)                                                                        \
    do {                                                                                \
        int w_ = snprintf(buf + used, len - used, __VA_ARGS__);                         \
        used = w_ < 0 ? used : used + (size_t)w_ >= len ? len - 1 : used + (size_t)w_;  \
    } while (0)
    ADD("Devices: keyboard and mouse%s", d->driving == DEVICES_KBM ? " (driving)" : "");
    for (int i = 0; i < d->n_pads; i++)
        ADD(", %s%s", pad_name(d->pads[i]),
            d->driving == DEVICES_PAD && d->driving_pad == pad_instance(d->pads[i]) ? " (driving)" : "");
    if (!d->have_pads)
        ADD(", %s", d->pad_problem);
    else if (d->n_pads == 0)
        ADD(", no controller");
    if (d->pen)
        ADD(", pen %s%s%s", pen_name(d->pen), pen_has_tilt(d->pen) ? "" : " (no tilt)",
            d->driving == DEVICES_PEN ? " (driving)" : "");
    else
        ADD(", pen: %s", d->pen_status);
#undef ADD
}
