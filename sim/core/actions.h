/* actions: the session action log, JSON Lines, one timed action per line.
 *
 * The one format the window, the controllers and replay record and `mesosim run` reads:
 *   {"t":1.5,"do":"advance","mm":0.5}
 * `t` is seconds since the session began (non-decreasing), `do` the verb, the other keys its
 * arguments with their units in their names. Blank lines and lines starting with '#' are
 * skipped. Each verb takes its own keys; unknown or misplaced keys, missing required keys,
 * out-of-range numbers and wrong types are refused with the line number and the reason.
 * docs/actions.md lists every verb and key.
 *
 * action_format writes an action back in canonical form (keys in table order, numbers in
 * the shortest form that reads back to the same double), so a recorded log replays exactly.
 * actions_load returns an array the caller frees with actions_free. */
#ifndef MESOSIM_ACTIONS_H
#define MESOSIM_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACTIONS_MAX_LINE 4096
#define ACTIONS_MAX_ERRORS 100

typedef enum action_verb {
    ACT_PROBE = 0,
    ACT_NEEDLE_ENTRY,
    ACT_ADVANCE,
    ACT_RETRACT,
    ACT_WITHDRAW,
    ACT_REDIRECT,
    ACT_INJECT,
    ACT_STEP,
    ACT_MARK_DERMIS,
    ACT_MEASURE,
    ACT_WAIT,
    ACT_END,
    ACT_UNDO_STEP,           /* takes back the last step tick (name), within the undo window */
    ACT_DOPPLER,             /* colour / power Doppler: mode, box, PRF, steering, colour gain */
    ACT_VERB_COUNT
} action_verb;

/* Numeric keys; an action stores those it was given (has bit set). */
typedef enum action_key {
    AK_X = 0, AK_Y, AK_ROT, AK_TILT, AK_ROCK, AK_PRESSURE,
    AK_FREQ, AK_DEPTH, AK_GAIN, AK_DR, AK_TGC,
    AK_ANGLE, AK_AZIMUTH, AK_MM, AK_ML, AK_RATE, AK_TOP, AK_BOTTOM,
    AK_FOCUS,                              /* probe: transmit focus depth */
    AK_TGC0, AK_TGC1, AK_TGC2, AK_TGC3,    /* probe: the 8 TGC sliders, shallow to deep */
    AK_TGC4, AK_TGC5, AK_TGC6, AK_TGC7,
    AK_X0, AK_Z0, AK_X1, AK_Z1,            /* measure: the two caliper points, image mm */
    AK_LINES,                              /* probe: image lines across the field (zoom) */
    AK_PRF, AK_STEER,                      /* doppler: PRF and beam steering (gain_db: colour gain,
                                              x0_mm..z1_mm: the box) */
    AK_RX_FNUMBER,                         /* probe: receive F-number (aperture grows with depth) */
    AK_COUNT
} action_key;

typedef struct action {
    double t_s;
    action_verb verb;
    uint64_t has;            /* bit k: key k given */
    double v[AK_COUNT];
    char name[32];           /* step name (step, undo_step) */
    bool skin_check;         /* step "disinfection": the skin was checked for lesions */
    bool has_skin_check;
    int mode;                /* doppler: doppler_mode (doppler.h) when has_mode */
    bool has_mode;
    int line;                /* line in the file it came from, 0 when built in code */
} action;

typedef struct action_error {
    int line;
    char message[200];
} action_error;

/* Format version 2 opens the log with one header line naming who recorded it:
 *   {"mesosim_log":2,"simulator":"0.1.0","scenario":"Adult back",
 *    "scenario_hash":"0123456789abcdef","seed":1}
 * A log without it is version 1 (the window and scripts before the header) and still
 * replays; replay checks the hash against the scenario it is given. A session practised blind
 * by option (`mesosim run --blind`, the window's --blind or B) adds "blind":true; the hash stays
 * the case file's as loaded, and replay runs the session blind again. Readers before the key
 * ignore it, as every reader ignores keys it does not know. */
#define ACTIONS_LOG_VERSION 2

typedef struct action_log_header {
    int version;             /* 1: no header line; 2 */
    char simulator[32];      /* simulator version that recorded it */
    char scenario[128];      /* the scenario's name */
    char scenario_hash[17];  /* 16 hex digits (scenario_content_hash) */
    uint32_t seed;
    bool blind;              /* run blind by option (the file's own guidance.ultrasound aside) */
} action_log_header;

typedef struct action_list {
    action_log_header header;
    action *items;
    int count;
    action_error errors[ACTIONS_MAX_ERRORS];
    int n_errors;            /* listed */
    int total_errors;        /* all, listed or not */
} action_list;

const char *action_verb_name(action_verb v);
const char *action_key_name(action_key k);
/* Step names the "step" and "undo_step" verbs accept. */
int action_step_count(void);
const char *action_step_name(int i);

static inline bool action_has(const action *a, action_key k) { return (a->has >> k) & 1u; }
/* Marks key k as given with value v. */
static inline void action_set(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= (uint64_t)1 << k;
}

/* Parses one line (len bytes, no newline needed). prev_t is the previous action's time
 * (t must not go back), -1 for the first. Returns true and fills out, or false with the
 * reason in err. A blank or comment line returns false with err "" (skip it). */
bool action_parse_line(const char *line, size_t len, double prev_t, action *out, char *err,
                       size_t err_len);
/* Parses a whole text; lines end at LF, CRLF or a bare CR. Every bad line is listed (up to
 * ACTIONS_MAX_ERRORS). Returns true when there was no error; on failure out holds only the
 * errors (items NULL, count 0). out->items is malloc'ed; free with actions_free. */
bool actions_load_string(const char *text, size_t len, action_list *out);
bool actions_load_file(const char *path, action_list *out);
void actions_free(action_list *l);

/* Canonical JSON line without the newline; returns the length snprintf would. */
int action_format(const action *a, char *buf, size_t cap);
/* The header line (version 2) without the newline; returns the length snprintf would. */
int action_format_header(const action_log_header *h, char *buf, size_t cap);
/* Whether a line (len bytes) is a header line; parses it into out, or false with the reason in
 * err ("" when the line is no header at all). */
bool action_parse_header(const char *line, size_t len, action_log_header *out, char *err,
                         size_t err_len);

#endif
