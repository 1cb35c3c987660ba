/* controls: the bindings model and its file, in plain C (devices live in their own sources). */
#include "controls.h"

#include "atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct binding_row {
    const char *name;
    const char *keys; /* defaults, in the file's syntax */
} binding_row;

static const binding_row k_axes[AXIS_COUNT] = {
    [AXIS_PROBE_LEFT] = {"probe_left", "Left"},
    [AXIS_PROBE_RIGHT] = {"probe_right", "Right"},
    [AXIS_PROBE_FORWARD] = {"probe_forward", "Up"},
    [AXIS_PROBE_BACK] = {"probe_back", "Down"},
    [AXIS_ROTATE_CCW] = {"probe_rotate_ccw", "Q"},
    [AXIS_ROTATE_CW] = {"probe_rotate_cw", "E"},
    [AXIS_TILT_DOWN] = {"probe_tilt_down", "S"},
    [AXIS_TILT_UP] = {"probe_tilt_up", "W"},
    [AXIS_ROCK_LEFT] = {"probe_rock_left", "A"},
    [AXIS_ROCK_RIGHT] = {"probe_rock_right", "D"},
    [AXIS_PRESS_MORE] = {"probe_press_more", "PageDown"},
    [AXIS_PRESS_LESS] = {"probe_press_less", "PageUp"},
    [AXIS_NEEDLE_ADVANCE] = {"needle_advance", "Space"},
    [AXIS_NEEDLE_RETRACT] = {"needle_retract", "Backspace, B"},
};

static const binding_row k_buttons[BTN_COUNT] = {
    [BTN_NEEDLE_ENTRY] = {"needle_entry", "N"},
    [BTN_NEEDLE_WITHDRAW] = {"needle_withdraw", "X"},
    [BTN_INJECT] = {"inject", "I"},
    [BTN_ANGLE_UP] = {"needle_angle_up", "R"},
    [BTN_ANGLE_DOWN] = {"needle_angle_down", "F"},
    [BTN_ENTRY_NEARER] = {"entry_nearer", "U"},
    [BTN_ENTRY_FARTHER] = {"entry_farther", "O"},
    [BTN_STEP] = {"tick_step", "C"},
    [BTN_STEP_POSITIONING] = {"step_positioning", "1"},
    [BTN_STEP_DISINFECTION] = {"step_disinfection", "2"},
    [BTN_STEP_STERILE_FIELD] = {"step_sterile_field", "3"},
    [BTN_STEP_DRESSING] = {"step_dressing", "4"},
    [BTN_UNDO_STEP] = {"undo_step", "Z"},
    [BTN_FOCUS_SHALLOWER] = {"focus_shallower", "K"},
    [BTN_FOCUS_DEEPER] = {"focus_deeper", "L"},
    [BTN_PRESET_SKIN] = {"preset_skin", "F2"},
    [BTN_PRESET_SUPERFICIAL] = {"preset_superficial", "F3"},
    [BTN_PRESET_DEEP] = {"preset_deep", "F4"},
    [BTN_FREEZE] = {"freeze", "Tab"},
    [BTN_CINE_BACK] = {"cine_back", "J"},
    [BTN_CINE_FORWARD] = {"cine_forward", ";"},
    [BTN_CALIPERS] = {"calipers", "/"},
    [BTN_PAUSE] = {"pause", "P, Pause"},
    [BTN_ZOOM_IN] = {"zoom_in", "Y"},
    [BTN_ZOOM_OUT] = {"zoom_out", "\\"},
    [BTN_DOPPLER_MODE] = {"doppler_mode", "5"},
    [BTN_DOPPLER_BOX] = {"doppler_box", "6"},
    [BTN_DOPPLER_PRF_DOWN] = {"doppler_prf_down", "7"},
    [BTN_DOPPLER_PRF_UP] = {"doppler_prf_up", "8"},
    [BTN_DOPPLER_STEER] = {"doppler_steer", "Home"},
    [BTN_DOPPLER_GAIN_DOWN] = {"doppler_gain_down", "F11"},
    [BTN_DOPPLER_GAIN_UP] = {"doppler_gain_up", "F12"},
    [BTN_CALIBRATE] = {"calibrate_tracker", "F9"},
    /* Every letter, digit and F-key is taken: the pair above Home and End. */
    [BTN_FNUMBER_DOWN] = {"rx_fnumber_down", "Insert"},
    [BTN_FNUMBER_UP] = {"rx_fnumber_up", "Delete"},
    [BTN_MARK_DERMIS] = {"mark_dermis", "M"},
    [BTN_FREQ_UP] = {"freq_up", "]"},
    [BTN_FREQ_DOWN] = {"freq_down", "["},
    [BTN_DEPTH_UP] = {"depth_deeper", "."},
    [BTN_DEPTH_DOWN] = {"depth_shallower", "Comma"},
    [BTN_GAIN_UP] = {"gain_up", "=, Keypad +"},
    [BTN_GAIN_DOWN] = {"gain_down", "-, Keypad -"},
    [BTN_DR_UP] = {"dynamic_range_up", "0"},
    [BTN_DR_DOWN] = {"dynamic_range_down", "9"},
    [BTN_TGC_UP] = {"tgc_up", "T"},
    [BTN_TGC_DOWN] = {"tgc_down", "G"},
    [BTN_TOGGLE_3D] = {"toggle_outside_view", "V"},
    [BTN_HELP] = {"help", "F1, H"},
    [BTN_CONFIRM] = {"confirm", "Return, Keypad Enter"},
    [BTN_BACK] = {"back", "Escape"},
    [BTN_END_SESSION] = {"end_session", "End, F10"},
    [BTN_MENU_UP] = {"menu_up", "Up"},
    [BTN_MENU_DOWN] = {"menu_down", "Down"},
    [BTN_PLAY_PAUSE] = {"replay_play_pause", "P"},
    [BTN_SEEK_BACK] = {"replay_back", "Left"},
    [BTN_SEEK_FORWARD] = {"replay_forward", "Right"},
    [BTN_MUTE] = {"sound_mute", "F6"},
    [BTN_VOLUME_DOWN] = {"sound_volume_down", "F7"},
    [BTN_VOLUME_UP] = {"sound_volume_up", "F8"},
    [BTN_RELOAD] = {"reload_cases", "F5"},
};

/* The game controller's defaults (docs/devices.md): the left stick slides the probe, the right
 * stick rotates (x) and tilts (y) it, the triggers advance (right) and retract (left) the
 * needle at a speed proportional to the pull; A puts the needle in, B withdraws it, X injects,
 * Y ticks the next step, the shoulders set the needle angle, the d-pad rocks the probe
 * (left/right) and sets the depth (up/down), the stick clicks press the probe less (left) and
 * more (right), Back toggles the outside view, Guide the help, Start ends the session. On the
 * menus A and Start confirm, B goes back and the d-pad moves; in the debrief's replay X plays
 * and pauses and the shoulders seek. A binding missing here (a new one) is off the pad. */
static const char *const k_pad_axes[AXIS_COUNT] = {
    [AXIS_PROBE_LEFT] = "leftx-", [AXIS_PROBE_RIGHT] = "leftx+",
    [AXIS_PROBE_FORWARD] = "lefty-", [AXIS_PROBE_BACK] = "lefty+",
    [AXIS_ROTATE_CCW] = "rightx-", [AXIS_ROTATE_CW] = "rightx+",
    [AXIS_TILT_DOWN] = "righty+", [AXIS_TILT_UP] = "righty-",
    [AXIS_ROCK_LEFT] = "dpleft", [AXIS_ROCK_RIGHT] = "dpright",
    [AXIS_PRESS_MORE] = "rightstick", [AXIS_PRESS_LESS] = "leftstick",
    [AXIS_NEEDLE_ADVANCE] = "righttrigger", [AXIS_NEEDLE_RETRACT] = "lefttrigger",
};

static const char *const k_pad_buttons[BTN_COUNT] = {
    [BTN_NEEDLE_ENTRY] = "a", [BTN_NEEDLE_WITHDRAW] = "b", [BTN_INJECT] = "x",
    [BTN_ANGLE_UP] = "rightshoulder", [BTN_ANGLE_DOWN] = "leftshoulder",
    [BTN_ENTRY_NEARER] = "", [BTN_ENTRY_FARTHER] = "", [BTN_STEP] = "y", [BTN_MARK_DERMIS] = "",
    [BTN_FREQ_UP] = "", [BTN_FREQ_DOWN] = "", [BTN_DEPTH_UP] = "dpdown", [BTN_DEPTH_DOWN] = "dpup",
    [BTN_GAIN_UP] = "", [BTN_GAIN_DOWN] = "", [BTN_DR_UP] = "", [BTN_DR_DOWN] = "",
    [BTN_TGC_UP] = "", [BTN_TGC_DOWN] = "", [BTN_TOGGLE_3D] = "back", [BTN_HELP] = "guide",
    [BTN_CONFIRM] = "a, start", [BTN_BACK] = "b", [BTN_END_SESSION] = "start",
    [BTN_MENU_UP] = "dpup", [BTN_MENU_DOWN] = "dpdown",
    [BTN_PLAY_PAUSE] = "x", [BTN_SEEK_BACK] = "leftshoulder", [BTN_SEEK_FORWARD] = "rightshoulder",
    [BTN_MUTE] = "", [BTN_VOLUME_DOWN] = "", [BTN_VOLUME_UP] = "", [BTN_RELOAD] = "",
};

#define PAD_PREFIX "pad."

typedef char key_slots[CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN];

const char *controls_axis_name(ctl_axis a) { return k_axes[a].name; }
const char *controls_button_name(ctl_button b) { return k_buttons[b].name; }

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Parses "A, Keypad +" (n bytes) into key names; false with the reason in err. */
static bool parse_keys(const char *text, size_t n, bool allow_empty, key_slots out, char *err, size_t err_len)
{
    key_slots keys;
    memset(keys, 0, sizeof keys);
    size_t a = 0, b = n;
    while (a < b && is_space(text[a]))
        a++;
    while (b > a && is_space(text[b - 1]))
        b--;
    int count = 0;
    if (b - a == 1 && text[a] == ',') {
        /* The comma key alone, as versions that wrote "depth_shallower = ," left it. */
        keys[count++][0] = ',';
        a = b;
    }
    while (a < b) {
        size_t e = a;
        while (e < b && text[e] != ',')
            e++;
        size_t s = a, t = e;
        while (s < t && is_space(text[s]))
            s++;
        while (t > s && is_space(text[t - 1]))
            t--;
        a = e + 1;
        if (s == t)
            continue;
        if (count == CONTROLS_MAX_KEYS) {
            snprintf(err, err_len, "at most %d keys per binding", CONTROLS_MAX_KEYS);
            return false;
        }
        if (t - s >= CONTROLS_KEY_NAME_LEN) {
            snprintf(err, err_len, "a key name of at most %d characters", CONTROLS_KEY_NAME_LEN - 1);
            return false;
        }
        if (memchr(text + s, '\0', t - s)) {
            snprintf(err, err_len, "a NUL byte in a key name");
            return false;
        }
        memcpy(keys[count], text + s, t - s);
        if (!strcasecmp(keys[count], "Comma"))
            snprintf(keys[count], CONTROLS_KEY_NAME_LEN, ",");
        count++;
    }
    if (count == 0 && !allow_empty) {
        snprintf(err, err_len, "no key given (the comma key is written Comma)");
        return false;
    }
    memcpy(out, keys, sizeof keys);
    return true;
}

void controls_axis_reset(controls_bindings *b, ctl_axis a)
{
    char err[96];
    parse_keys(k_axes[a].keys, strlen(k_axes[a].keys), false, b->axis_keys[a], err, sizeof err);
}

void controls_button_reset(controls_bindings *b, ctl_button bt)
{
    char err[96];
    parse_keys(k_buttons[bt].keys, strlen(k_buttons[bt].keys), false, b->button_keys[bt], err, sizeof err);
}

void controls_pad_axis_reset(controls_bindings *b, ctl_axis a)
{
    char err[96];
    const char *keys = k_pad_axes[a] ? k_pad_axes[a] : "";
    parse_keys(keys, strlen(keys), true, b->pad_axis[a], err, sizeof err);
}

void controls_pad_button_reset(controls_bindings *b, ctl_button bt)
{
    char err[96];
    const char *keys = k_pad_buttons[bt] ? k_pad_buttons[bt] : "";
    parse_keys(keys, strlen(keys), true, b->pad_button[bt], err, sizeof err);
}

void controls_bindings_default(controls_bindings *out)
{
    for (int a = 0; a < AXIS_COUNT; a++)
        controls_axis_reset(out, (ctl_axis)a);
    for (int b = 0; b < BTN_COUNT; b++)
        controls_button_reset(out, (ctl_button)b);
    for (int a = 0; a < AXIS_COUNT; a++)
        controls_pad_axis_reset(out, (ctl_axis)a);
    for (int b = 0; b < BTN_COUNT; b++)
        controls_pad_button_reset(out, (ctl_button)b);
}

/* Appends "LINE: message" to err (newline separated), as much as fits. */
static void add_error(char *err, size_t err_len, int line, const char *msg)
{
    if (!err || !err_len)
        return;
    size_t used = strnlen(err, err_len - 1);
    snprintf(err + used, err_len - used, "%s%d: %s", used ? "\n" : "", line, msg);
}

bool controls_bindings_parse(const char *text, size_t len, controls_bindings *out, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    bool ok = true;
    size_t pos = 0;
    for (int ln = 1; pos < len; ln++) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        size_t s = 0;
        while (s < n && is_space(line[s]))
            s++;
        if (s == n || line[s] == '#')
            continue;
        /* "gain_up = =" has the key '=' after the separator: split at the first '='. */
        const char *eq = memchr(line + s, '=', n - s);
        char msg[200];
        if (!eq) {
            add_error(err, err_len, ln, "expected NAME = KEYS");
            ok = false;
            continue;
        }
        size_t name_len = (size_t)(eq - (line + s));
        while (name_len && is_space(line[s + name_len - 1]))
            name_len--;
        char (*dst)[CONTROLS_KEY_NAME_LEN] = NULL;
        /* "pad.NAME" binds the game controller's inputs to binding NAME. */
        const size_t plen = strlen(PAD_PREFIX);
        bool pad = name_len > plen && !memcmp(line + s, PAD_PREFIX, plen);
        const char *bname = line + s + (pad ? plen : 0);
        size_t blen = name_len - (pad ? plen : 0);
        for (int a = 0; a < AXIS_COUNT && !dst; a++)
            if (strlen(k_axes[a].name) == blen && !memcmp(bname, k_axes[a].name, blen))
                dst = pad ? out->pad_axis[a] : out->axis_keys[a];
        for (int b = 0; b < BTN_COUNT && !dst; b++)
            if (strlen(k_buttons[b].name) == blen && !memcmp(bname, k_buttons[b].name, blen))
                dst = pad ? out->pad_button[b] : out->button_keys[b];
        if (!dst) {
            char name[64];
            size_t shown = name_len < sizeof name - 1 ? name_len : sizeof name - 1;
            memcpy(name, line + s, shown);
            name[shown] = '\0';
            for (size_t i = 0; i < shown; i++)
                if ((unsigned char)name[i] < 0x20)
                    name[i] = '?';
            snprintf(msg, sizeof msg, "unknown binding '%s' (kept the defaults)", name);
            add_error(err, err_len, ln, msg);
            ok = false;
            continue;
        }
        char why[96];
        size_t after = (size_t)(eq + 1 - line);
        if (!parse_keys(eq + 1, n - after, pad, dst, why, sizeof why)) {
            snprintf(msg, sizeof msg, "%.*s: %s (kept the default)", (int)name_len, line + s, why);
            add_error(err, err_len, ln, msg);
            ok = false;
        }
    }
    return ok;
}

/* Joins a binding's keys with sep; the comma key as `comma` (the file says Comma). */
static void keys_text(const key_slots keys, const char *sep, const char *comma, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    size_t used = 0;
    for (int k = 0; k < CONTROLS_MAX_KEYS && keys[k][0]; k++) {
        const char *name = strcmp(keys[k], ",") ? keys[k] : comma;
        int w = snprintf(buf + used, len - used, "%s%s", k ? sep : "", name);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

size_t controls_bindings_format(const controls_bindings *b, char *buf, size_t len)
{
    size_t used = 0;
    char keys[CONTROLS_MAX_KEYS * (CONTROLS_KEY_NAME_LEN + 2)];
#define PUT(...)                                                                        \
    do {                                                                                \
        int w_ = snprintf(buf ? buf + (used < len ? used : len) : NULL,                 \
                          buf && used < len ? len - used : 0, __VA_ARGS__);             \
        used += w_ > 0 ? (size_t)w_ : 0;                                                \
    } while (0)
    PUT("# mesosim key bindings: NAME = KEY[, KEY...] (up to %d keys).\n"
        "# Key names as SDL writes them: Left, Space, Return, Keypad +, F1, A ...; the comma key is Comma.\n"
        "# Delete this file to get the defaults back. The mouse is not bound here:\n"
        "# drag on the image slides the probe, Ctrl+drag rotates, Shift+drag tilts and rocks,\n"
        "# the wheel sets the depth; drag or wheel over the outside view orbits and zooms.\n\n",
        CONTROLS_MAX_KEYS);
    for (int a = 0; a < AXIS_COUNT; a++) {
        keys_text(b->axis_keys[a], ", ", "Comma", keys, sizeof keys);
        PUT("%s = %s\n", k_axes[a].name, keys);
    }
    for (int k = 0; k < BTN_COUNT; k++) {
        keys_text(b->button_keys[k], ", ", "Comma", keys, sizeof keys);
        PUT("%s = %s\n", k_buttons[k].name, keys);
    }
    PUT("\n# Game controller: pad.NAME = INPUT[, INPUT...] with SDL's names: buttons a b x y back guide start\n"
        "# leftstick rightstick leftshoulder rightshoulder dpup dpdown dpleft dpright; for the held bindings\n"
        "# also leftx- leftx+ lefty- lefty+ rightx- rightx+ righty- righty+ lefttrigger righttrigger\n"
        "# (the deflection scales the rate). An empty value leaves the binding off the controller.\n");
    for (int a = 0; a < AXIS_COUNT; a++) {
        keys_text(b->pad_axis[a], ", ", "Comma", keys, sizeof keys);
        PUT("%s%s =%s%s\n", PAD_PREFIX, k_axes[a].name, keys[0] ? " " : "", keys);
    }
    for (int k = 0; k < BTN_COUNT; k++) {
        keys_text(b->pad_button[k], ", ", "Comma", keys, sizeof keys);
        PUT("%s%s =%s%s\n", PAD_PREFIX, k_buttons[k].name, keys[0] ? " " : "", keys);
    }
#undef PUT
    return used;
}

void controls_axis_keys(const controls_bindings *b, ctl_axis a, char *buf, size_t len)
{
    keys_text(b->axis_keys[a], " / ", ",", buf, len);
}

void controls_button_keys(const controls_bindings *b, ctl_button bt, char *buf, size_t len)
{
    keys_text(b->button_keys[bt], " / ", ",", buf, len);
}

/* The first key, short: arrows as arrows and Escape as Esc, as the screens have always
 * shown them. */
static void hint_text(const key_slots keys, char *buf, size_t len)
{
    static const char *const k_arrows[][2] = {{"Up", "\xe2\x86\x91"}, {"Down", "\xe2\x86\x93"},
                                              {"Left", "\xe2\x86\x90"}, {"Right", "\xe2\x86\x92"},
                                              {"Escape", "Esc"}};
    const char *name = keys[0][0] ? keys[0] : "(unbound)";
    for (size_t i = 0; i < sizeof k_arrows / sizeof k_arrows[0]; i++)
        if (!strcmp(name, k_arrows[i][0]))
            name = k_arrows[i][1];
    snprintf(buf, len, "%s", name);
}

void controls_axis_hint(const controls_bindings *b, ctl_axis a, char *buf, size_t len)
{
    hint_text(b->axis_keys[a], buf, len);
}

void controls_button_hint(const controls_bindings *b, ctl_button bt, char *buf, size_t len)
{
    hint_text(b->button_keys[bt], buf, len);
}

static void default_path(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, len, "%s/mesosim/bindings.conf", xdg);
    else
        snprintf(out, len, "%s/.config/mesosim/bindings.conf", home && *home ? home : ".");
}

/* mkdir -p of the directory holding path. */
static void make_parent_dirs(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    mkdir(dir, 0755);
}

static void write_defaults(const char *path)
{
    controls_bindings d;
    controls_bindings_default(&d);
    size_t n = controls_bindings_format(&d, NULL, 0);
    char *text = malloc(n + 1);
    if (!text)
        return;
    controls_bindings_format(&d, text, n + 1);
    make_parent_dirs(path);
    /* Whole or not at all: a half-written bindings file would lose keys at the next start. */
    char err[600];
    if (atomic_file_write(path, text, n, err, sizeof err) != 0)
        fprintf(stderr, "mesosim: cannot write the default key bindings: %s\n", err);
    free(text);
}

/* Bindings files are a few kB; anything past this is not one. */
#define BINDINGS_MAX_BYTES (256 * 1024)

void controls_bindings_load(const char *path, controls_bindings *out, char *path_out, size_t path_len)
{
    char where[1024];
    if (path)
        snprintf(where, sizeof where, "%s", path);
    else
        default_path(where, sizeof where);
    if (path_out && path_len)
        snprintf(path_out, path_len, "%s", where);
    controls_bindings_default(out);
    FILE *f = fopen(where, "rb");
    if (!f) {
        if (errno == ENOENT)
            write_defaults(where);
        else
            fprintf(stderr, "mesosim: cannot read %s: %s (using the default keys)\n", where, strerror(errno));
        return;
    }
    char *text = malloc(BINDINGS_MAX_BYTES);
    size_t n = text ? fread(text, 1, BINDINGS_MAX_BYTES, f) : 0;
    bool too_big = text && n == BINDINGS_MAX_BYTES && fgetc(f) != EOF;
    fclose(f);
    if (!text || too_big) {
        fprintf(stderr, "mesosim: %s: %s (using the default keys)\n", where,
                text ? "larger than any bindings file (256 kB)" : "out of memory");
        free(text);
        return;
    }
    char err[4096];
    if (!controls_bindings_parse(text, n, out, err, sizeof err))
        for (char *save = NULL, *l = strtok_r(err, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            fprintf(stderr, "%s:%s\n", where, l);
    free(text);
}
