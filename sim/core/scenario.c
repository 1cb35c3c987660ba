/* scenario: JSON scenario files (version 1), validated all-or-nothing.
 *
 * Loading runs in four passes over one text: a byte check (UTF-8, no NUL), jansson's parse
 * (syntax, duplicate keys), a position index built by a small tokenizer of our own, then a
 * walk of the parsed tree that checks every key, type and range against k_fields and fills a
 * private copy of the defaults. Jansson keeps no positions for values, hence the index: it maps
 * the hash of each JSON path ("phantom.layers[2].thickness_mm") to the line and column where
 * the member's key and its value start, so every diagnostic can point at the offending text.
 * Only when no problem was found is the copy put through check_all, the checks of a scenario
 * in memory that scenario_check and the setters share (ranges, kinds, geometry, then the
 * models' own phantom_create, probe_check, ...), and handed to the caller.
 *
 * Writing (scenario_save_string) walks the same table, so the canonical key order is the
 * table's order and a new row is written without further code. The content hash reads the
 * same writer's text with every key at its default left out (scenario_hash_string), so a new
 * row with a default leaves the hash of every case that does not set it as it was. */
#include "scenario.h"
#include "suggest.h"
#include "textfile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* A scenario is a few kilobytes; anything this large is a wrong file, and the cap bounds the
 * work and memory of the position index. */
#define MAX_FILE_BYTES (4u * 1024u * 1024u)
/* Beyond this many problems more lines only bury the first ones. */
#define MAX_DIAGS 100
/* JSON paths longer than this are not indexed; diagnostics then point at the nearest
 * indexed ancestor. */
#define PATH_CAP 256
/* Jansson refuses deeper nesting (JSON_PARSER_MAX_DEPTH 2048), so the tokenizer never needs
 * more frames on text that jansson accepted; on other text it just stops. */
#define WALK_MAX_DEPTH 2050

/* ------------------------------------------------------------------------------------------ */
/* Field table: every number a file may hold, its range and where it is stored. */

enum field_store { ST_NONE, ST_DOUBLE, ST_INT, ST_U32 };
/* Which struct a stored field's offset is relative to. */
enum field_base { B_SCENARIO, B_PATIENT, B_PHANTOM, B_LAYER, B_FEATURE, B_VESSEL, B_INCLUSION,
                  B_TISSUE, B_PROBE, B_POSE, B_NEEDLE, B_MECH, B_DRUG, B_PLAN, B_PLAN_POINT,
                  B_RULES, B_GUIDANCE, B_BONE };

/* One planned injection point as the file holds it. */
typedef struct plan_point {
    double x_mm, y_mm;
} plan_point;

typedef struct field {
    scenario_range r;
    enum field_store store; /* ST_NONE: read by the section code (vectors, radius_mm) */
    enum field_base base;
    size_t off;
} field;

#define NUM(path, lim, base, type, member)                                                   \
    {{path, lim, false}, ST_DOUBLE, base, offsetof(type, member)}
#define INT(path, lim, base, type, member)                                                   \
    {{path, lim, true}, ST_INT, base, offsetof(type, member)}
#define CODE(path, lim) {{path, lim, false}, ST_NONE, B_SCENARIO, 0}

/* Every range is a row of the one limits table (limit.c, with the reasons), which is never
 * wider than what phantom_create and probe_check accept, so a value that passes here is also
 * accepted there and the message can name the exact key. */
static const field k_fields[] = {
    {{"version", LIM_VERSION, true}, ST_NONE, B_SCENARIO, 0},
    {{"seed", LIM_SEED, true}, ST_U32, B_SCENARIO, offsetof(scenario, seed)},
    INT("level", LIM_CASE_LEVEL, B_SCENARIO, scenario, level),
    NUM("patient.age_years", LIM_AGE_YEARS, B_PATIENT, scenario_patient, age_years),

    NUM("phantom.width_mm", LIM_PATCH_MM, B_PHANTOM, phantom_def, width_mm),
    NUM("phantom.length_mm", LIM_PATCH_MM, B_PHANTOM, phantom_def, length_mm),
    NUM("phantom.layers[].thickness_mm", LIM_LAYER_THICKNESS_MM, B_LAYER, phantom_layer_def,
        thickness_mm),
    NUM("phantom.layers[].variation", LIM_LAYER_VARIATION, B_LAYER, phantom_layer_def,
        variation),
    NUM("phantom.layers[].variation_wavelength_mm", LIM_LAYER_WAVELENGTH_MM, B_LAYER,
        phantom_layer_def, variation_wavelength_mm),
    /* Optional overrides: stored 0 means "the tissue's own", never written. */
    NUM("phantom.layers[].acoustic.backscatter", LIM_LAYER_BACKSCATTER, B_LAYER,
        phantom_layer_def, acoustic.backscatter),
    NUM("phantom.layers[].acoustic.speed_m_s", LIM_LAYER_SPEED_M_S, B_LAYER, phantom_layer_def,
        acoustic.speed_m_s),
    NUM("phantom.layers[].acoustic.density_kg_m3", LIM_LAYER_DENSITY_KG_M3, B_LAYER,
        phantom_layer_def, acoustic.density_kg_m3),
    NUM("phantom.layers[].acoustic.atten_db_cm_mhz", LIM_LAYER_ATTEN_DB_CM_MHZ, B_LAYER,
        phantom_layer_def, acoustic.atten_db_cm_mhz),
    NUM("phantom.surface[].x_mm", LIM_POSITION_MM, B_FEATURE, phantom_feature_def, x_mm),
    NUM("phantom.surface[].y_mm", LIM_POSITION_MM, B_FEATURE, phantom_feature_def, y_mm),
    NUM("phantom.surface[].height_mm", LIM_FEATURE_HEIGHT_MM, B_FEATURE, phantom_feature_def,
        height_mm),
    NUM("phantom.surface[].width_mm", LIM_FEATURE_WIDTH_MM, B_FEATURE, phantom_feature_def,
        width_mm),
    NUM("phantom.surface[].angle_deg", LIM_ROTATION_DEG, B_FEATURE, phantom_feature_def,
        angle_deg),
    CODE("phantom.vessels[].a_mm[]", LIM_POSITION_MM),
    CODE("phantom.vessels[].b_mm[]", LIM_POSITION_MM),
    NUM("phantom.vessels[].radius_mm", LIM_VESSEL_RADIUS_MM, B_VESSEL, phantom_vessel_def,
        radius_mm),
    NUM("phantom.vessels[].wall_mm", LIM_VESSEL_WALL_MM, B_VESSEL, phantom_vessel_def, wall_mm),
    CODE("phantom.inclusions[].c_mm[]", LIM_POSITION_MM),
    CODE("phantom.inclusions[].radius_mm", LIM_INCLUSION_RADIUS_MM),
    CODE("phantom.inclusions[].radii_mm[]", LIM_INCLUSION_RADIUS_MM),
    NUM("phantom.inclusions[].amplitude", LIM_INCLUSION_AMPLITUDE, B_INCLUSION,
        phantom_inclusion, amplitude),
    NUM("phantom.bones[].x_mm", LIM_POSITION_MM, B_BONE, phantom_bone_def, x_mm),
    NUM("phantom.bones[].y_mm", LIM_POSITION_MM, B_BONE, phantom_bone_def, y_mm),
    NUM("phantom.bones[].depth_mm", LIM_BONE_DEPTH_MM, B_BONE, phantom_bone_def, depth_mm),
    NUM("phantom.bones[].width_mm", LIM_BONE_SIZE_MM, B_BONE, phantom_bone_def, width_mm),
    NUM("phantom.bones[].length_mm", LIM_BONE_SIZE_MM, B_BONE, phantom_bone_def, length_mm),
    NUM("phantom.bones[].height_mm", LIM_BONE_SIZE_MM, B_BONE, phantom_bone_def, height_mm),
    NUM("phantom.bones[].angle_deg", LIM_ROTATION_DEG, B_BONE, phantom_bone_def, angle_deg),
    NUM("phantom.tissues.*.speed_m_s", LIM_TISSUE_SPEED_M_S, B_TISSUE, tissue_props, speed_m_s),
    NUM("phantom.tissues.*.density_kg_m3", LIM_TISSUE_DENSITY_KG_M3, B_TISSUE, tissue_props,
        density_kg_m3),
    NUM("phantom.tissues.*.atten_db_cm_mhz", LIM_TISSUE_ATTEN_DB_CM_MHZ, B_TISSUE, tissue_props,
        atten_db_cm_mhz),
    NUM("phantom.tissues.*.atten_exponent", LIM_TISSUE_ATTEN_EXPONENT, B_TISSUE, tissue_props,
        atten_exponent),
    NUM("phantom.tissues.*.backscatter", LIM_TISSUE_BACKSCATTER, B_TISSUE, tissue_props,
        backscatter),
    NUM("phantom.mechanics.fat_strain_per_n", LIM_FAT_STRAIN_PER_N, B_PHANTOM, phantom_def,
        fat_strain_per_n),
    NUM("phantom.mechanics.fat_max_strain", LIM_FAT_MAX_STRAIN, B_PHANTOM, phantom_def,
        fat_max_strain),
    NUM("phantom.mechanics.vein_collapse_n", LIM_VEIN_COLLAPSE_N, B_PHANTOM, phantom_def,
        vein_collapse_n),
    NUM("phantom.texture.septa_spacing_mm", LIM_SEPTA_SPACING_MM, B_PHANTOM, phantom_def,
        septa_spacing_mm),
    NUM("phantom.texture.muscle_fibre_angle_deg", LIM_FIBRE_ANGLE_DEG, B_PHANTOM, phantom_def,
        muscle_fibre_angle_deg),
    NUM("phantom.texture.muscle_pennation_deg", LIM_PENNATION_DEG, B_PHANTOM, phantom_def,
        muscle_pennation_deg),
    NUM("phantom.texture.perimysium_spacing_mm", LIM_PERIMYSIUM_SPACING_MM, B_PHANTOM,
        phantom_def, perimysium_spacing_mm),

    NUM("probe.freq_mhz", LIM_FREQ_MHZ, B_PROBE, probe_def, freq_mhz),
    NUM("probe.bandwidth_frac", LIM_BANDWIDTH_FRAC, B_PROBE, probe_def, bandwidth_frac),
    NUM("probe.pitch_mm", LIM_PITCH_MM, B_PROBE, probe_def, pitch_mm),
    INT("probe.n_elements", LIM_N_ELEMENTS, B_PROBE, probe_def, n_elements),
    INT("probe.n_lines", LIM_N_LINES, B_PROBE, probe_def, n_lines),
    NUM("probe.rx_fnumber", LIM_RX_FNUMBER, B_PROBE, probe_def, rx_fnumber),
    NUM("probe.tx_focus_mm", LIM_FOCUS_MM, B_PROBE, probe_def, tx_focus_mm),
    NUM("probe.elev_focus_mm", LIM_FOCUS_MM, B_PROBE, probe_def, elev_focus_mm),
    NUM("probe.elev_height_mm", LIM_ELEV_HEIGHT_MM, B_PROBE, probe_def, elev_height_mm),
    NUM("probe.depth_mm", LIM_DEPTH_MM, B_PROBE, probe_def, depth_mm),
    NUM("probe.gain_db", LIM_GAIN_DB, B_PROBE, probe_def, gain_db),
    NUM("probe.dynamic_range_db", LIM_DYNAMIC_RANGE_DB, B_PROBE, probe_def, dynamic_range_db),
    NUM("probe.tgc_db_cm_mhz", LIM_TGC_DB_CM_MHZ, B_PROBE, probe_def, tgc_db_cm_mhz),
    CODE("probe.tgc_db[]", LIM_TGC_ZONE_DB),
    NUM("probe.pose.x_mm", LIM_POSITION_MM, B_POSE, probe_pose, x_mm),
    NUM("probe.pose.y_mm", LIM_POSITION_MM, B_POSE, probe_pose, y_mm),
    NUM("probe.pose.rot_deg", LIM_ROTATION_DEG, B_POSE, probe_pose, rot_deg),
    NUM("probe.pose.tilt_deg", LIM_TILT_DEG, B_POSE, probe_pose, tilt_deg),
    NUM("probe.pose.rock_deg", LIM_ROCK_DEG, B_POSE, probe_pose, rock_deg),
    NUM("probe.pose.pressure_n", LIM_PRESSURE_N, B_POSE, probe_pose, pressure_n),

    INT("needle.gauge", LIM_NEEDLE_GAUGE, B_NEEDLE, needle_def, gauge),
    NUM("needle.length_mm", LIM_NEEDLE_LENGTH_MM, B_NEEDLE, needle_def, length_mm),
    NUM("needle.dimple_residual_frac", LIM_DIMPLE_RESIDUAL_FRAC, B_NEEDLE, needle_def,
        dimple_residual_frac),
    NUM("needle.haematoma_radius_mm", LIM_HAEMATOMA_RADIUS_MM, B_NEEDLE, needle_def,
        haematoma_radius_mm),
    INT("needle.count", LIM_NEEDLE_COUNT, B_NEEDLE, needle_def, count),
    NUM("needle.spacing_mm", LIM_NEEDLE_SPACING_MM, B_NEEDLE, needle_def, spacing_mm),
    NUM("needle.haematoma_growth_s", LIM_HAEMATOMA_GROWTH_S, B_NEEDLE, needle_def,
        haematoma_growth_s),
    NUM("needle.tissues.*.puncture_n", LIM_PUNCTURE_N, B_MECH, needle_tissue_mech, puncture_n),
    NUM("needle.tissues.*.stiffness_n_mm", LIM_INTERFACE_STIFFNESS_N_MM, B_MECH,
        needle_tissue_mech, stiffness_n_mm),
    NUM("needle.tissues.*.friction_n_mm", LIM_FRICTION_N_MM, B_MECH, needle_tissue_mech,
        friction_n_mm),
    NUM("needle.tissues.*.cutting_n", LIM_CUTTING_N, B_MECH, needle_tissue_mech, cutting_n),
    NUM("drug.volume_ml", LIM_DRUG_VOLUME_ML, B_DRUG, drug_def, volume_ml),
    NUM("drug.rate_ml_s", LIM_INJECT_RATE_ML_S, B_DRUG, drug_def, rate_ml_s),
    NUM("drug.bleb_ref_ml", LIM_BLEB_REF_ML, B_DRUG, drug_def, bleb_ref_ml),
    NUM("drug.bleb_ref_mm", LIM_BLEB_REF_MM, B_DRUG, drug_def, bleb_ref_mm),
    NUM("drug.wheal_frac", LIM_FRACTION, B_DRUG, drug_def, wheal_frac),
    NUM("drug.fat_sheet_mm", LIM_FAT_SHEET_MM, B_DRUG, drug_def, fat_sheet_mm),
    NUM("drug.gas_fill", LIM_GAS_FILL, B_DRUG, drug_def, gas_fill),
    NUM("drug.gas_fade_s", LIM_GAS_FADE_S, B_DRUG, drug_def, gas_fade_s),
    NUM("plan.points[].x_mm", LIM_POSITION_MM, B_PLAN_POINT, plan_point, x_mm),
    NUM("plan.points[].y_mm", LIM_POSITION_MM, B_PLAN_POINT, plan_point, y_mm),
    NUM("plan.spacing_mm", LIM_PLAN_SPACING_MM, B_PLAN, score_plan, spacing_mm),
    NUM("plan.angle_deg", LIM_NEEDLE_ANGLE_DEG, B_PLAN, score_plan, angle_deg),
    NUM("scoring.pass_mark", LIM_PASS_MARK, B_RULES, score_rules, pass_mark),
    NUM("scoring.assessment_tol_mm", LIM_ASSESSMENT_TOL_MM, B_RULES, score_rules,
        assessment_tol_mm),
    NUM("scoring.depth_sd_tol_mm", LIM_DEPTH_SD_TOL_MM, B_RULES, score_rules, depth_sd_tol_mm),
    NUM("scoring.spacing_tol_mm", LIM_SPACING_TOL_MM, B_RULES, score_rules, spacing_tol_mm),
    NUM("scoring.time_limit_s", LIM_TIME_LIMIT_S, B_RULES, score_rules, time_limit_s),
    NUM("scoring.superficial_margin_mm", LIM_SUPERFICIAL_MARGIN_MM, B_RULES, score_rules,
        superficial_margin_mm),
    NUM("scoring.undo_window_s", LIM_UNDO_WINDOW_S, B_RULES, score_rules, undo_window_s),
    NUM("scoring.weights.placement", LIM_WEIGHT, B_RULES, score_rules, weights[PART_PLACEMENT]),
    NUM("scoring.weights.visibility", LIM_WEIGHT, B_RULES, score_rules,
        weights[PART_VISIBILITY]),
    NUM("scoring.weights.safety", LIM_WEIGHT, B_RULES, score_rules, weights[PART_SAFETY]),
    NUM("scoring.weights.procedure", LIM_WEIGHT, B_RULES, score_rules, weights[PART_PROCEDURE]),
    NUM("scoring.weights.assessment", LIM_WEIGHT, B_RULES, score_rules,
        weights[PART_ASSESSMENT]),
    NUM("scoring.weights.technique", LIM_WEIGHT, B_RULES, score_rules, weights[PART_TECHNIQUE]),
    INT("scoring.critical.asepsis", LIM_SWITCH, B_RULES, score_rules, critical.asepsis),
    INT("scoring.critical.assessment", LIM_SWITCH, B_RULES, score_rules, critical.assessment),
    INT("scoring.critical.intravascular", LIM_SWITCH, B_RULES, score_rules,
        critical.intravascular),
    INT("scoring.critical.min_points", LIM_REQUIRED_POINTS, B_RULES, score_rules,
        critical.min_points),
    NUM("scoring.critical.point_tol_mm", LIM_POINT_TOL_MM, B_RULES, score_rules,
        critical.point_tol_mm),
    NUM("scoring.critical.outside_dermis_tol_mm", LIM_OUTSIDE_DERMIS_TOL_MM, B_RULES, score_rules,
        critical.outside_dermis_tol_mm),
    INT("guidance.hint_injections", LIM_HINT_INJECTIONS, B_GUIDANCE, scenario_guidance,
        hint_injections),
};
#define N_FIELDS ((int)(sizeof k_fields / sizeof k_fields[0]))

int scenario_range_count(void) { return N_FIELDS; }

const scenario_range *scenario_range_at(int i)
{
    return i >= 0 && i < N_FIELDS ? &k_fields[i].r : NULL;
}

/* True when x may stand at a row with range r; else the loader's message for it, the one
 * scenario_check and the setters give too. */
static bool range_check(const scenario_range *r, double x, char *msg, size_t n)
{
    const limit *l = limit_get(r->limit);
    const char *sep = l->unit[0] ? " " : "";
    if (r->integer && x != floor(x)) {
        snprintf(msg, n, "must be a whole number, got %.10g", x);
        return false;
    }
    if (limit_ok(r->limit, x))
        return true;
    if (l->min_exclusive)
        snprintf(msg, n, "must be > %.10g and <= %.10g%s%s, got %.10g", l->min, l->max, sep,
                 l->unit, x);
    else
        snprintf(msg, n, "must be within %.10g..%.10g%s%s, got %.10g", l->min, l->max, sep,
                 l->unit, x);
    return false;
}

/* The row "<pattern>.<key>" (or "<key>" at the top level), NULL if none. */
static const field *find_field(const char *pattern, const char *key)
{
    size_t n = strlen(pattern);
    for (int i = 0; i < N_FIELDS; i++) {
        const char *p = k_fields[i].r.path;
        if (n == 0) {
            if (strcmp(p, key) == 0)
                return &k_fields[i];
        } else if (strncmp(p, pattern, n) == 0 && p[n] == '.' && strcmp(p + n + 1, key) == 0) {
            return &k_fields[i];
        }
    }
    return NULL;
}

/* Keys of a section: the table's rows directly under pattern, then extra (NULL-ended). */
#define MAX_SECTION_KEYS 40
static int section_keys(const char *pattern, const char *const *extra, const char **out)
{
    int n = 0;
    size_t plen = strlen(pattern);
    for (int i = 0; i < N_FIELDS && n < MAX_SECTION_KEYS; i++) {
        const char *p = k_fields[i].r.path;
        const char *key;
        if (plen == 0)
            key = p;
        else if (strncmp(p, pattern, plen) == 0 && p[plen] == '.')
            key = p + plen + 1;
        else
            continue;
        if (strpbrk(key, ".[") == NULL && find_field(pattern, key) == &k_fields[i])
            out[n++] = key;
    }
    for (int i = 0; extra && extra[i] && n < MAX_SECTION_KEYS; i++)
        out[n++] = extra[i];
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Diagnostics. */

typedef struct text_pos {
    int line, col;
} text_pos;

/* Copies src into dst (cap bytes) with control characters replaced, so one problem always
 * prints as one line; cuts at a UTF-8 boundary and marks the cut with "...". */
static void copy_clean(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src), o = 0;
    bool cut = n >= cap;
    size_t keep = cut ? cap - 4 : n;
    while (keep > 0 && cut && ((unsigned char)src[keep] & 0xC0) == 0x80)
        keep--;
    for (size_t i = 0; i < keep; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static void diag_push(scenario_diags *d, text_pos at, const char *path, const char *msg)
{
    if (d->count == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        scenario_diag *items = realloc(d->items, (size_t)cap * sizeof *items);
        if (!items)
            return; /* the load still fails: errors are counted apart from the list */
        d->items = items;
        d->cap = cap;
    }
    scenario_diag *g = &d->items[d->count++];
    g->line = at.line;
    g->col = at.col;
    copy_clean(g->path, sizeof g->path, path);
    copy_clean(g->message, sizeof g->message, msg);
}

void scenario_diags_free(scenario_diags *d)
{
    if (!d)
        return;
    free(d->items);
    d->items = NULL;
    d->count = d->cap = 0;
}

/* A key quoted for a message, cut short when it is long. */
typedef struct quoted {
    char s[56];
} quoted;

static quoted quote(const char *key)
{
    quoted q;
    char body[48];
    copy_clean(body, sizeof body, key);
    snprintf(q.s, sizeof q.s, "\"%s\"", body);
    return q;
}

/* ------------------------------------------------------------------------------------------ */
/* Position index: a tokenizer that follows the JSON structure and reports, for every member
 * and array element, its path and where its key and value start. Lines and columns are
 * 1-based and count characters (UTF-8 sequences once), as jansson's error positions do. */

typedef struct pos_entry {
    uint64_t hash;
    size_t order; /* visiting order, i.e. text order */
    text_pos key; /* the key's opening quote; the value itself for elements and the root */
    text_pos value;
} pos_entry;

typedef struct pos_index {
    pos_entry *items;
    size_t count, cap;
} pos_index;

typedef void (*pos_visit)(void *ud, const char *path, text_pos key, text_pos value);

/* FNV-1a 64 of a string: the position index's path keys and scenario_content_hash. */
static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

typedef struct scan {
    const unsigned char *s;
    size_t n, i;
    text_pos at;
} scan;

static int peek(const scan *sc) { return sc->i < sc->n ? sc->s[sc->i] : -1; }

static void step(scan *sc)
{
    unsigned char ch = sc->s[sc->i++];
    if (ch == '\n') {
        sc->at.line++;
        sc->at.col = 1;
    } else if ((ch & 0xC0) != 0x80) {
        sc->at.col++;
    }
}

static void skip_ws(scan *sc)
{
    int c;
    while ((c = peek(sc)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        step(sc);
}

/* Appends a byte to a path whose logical length may outgrow cap (the path is then unusable
 * and not indexed). Returns the new logical length. */
static size_t path_put(char *path, size_t len, int byte)
{
    if (len + 1 < PATH_CAP) {
        path[len] = (char)byte;
        path[len + 1] = '\0';
    }
    return len + 1;
}

static size_t path_put_utf8(char *path, size_t len, uint32_t cp)
{
    if (cp < 0x80)
        return path_put(path, len, (int)cp);
    if (cp < 0x800) {
        len = path_put(path, len, (int)(0xC0 | (cp >> 6)));
    } else if (cp < 0x10000) {
        len = path_put(path, len, (int)(0xE0 | (cp >> 12)));
        len = path_put(path, len, (int)(0x80 | ((cp >> 6) & 0x3F)));
    } else {
        len = path_put(path, len, (int)(0xF0 | (cp >> 18)));
        len = path_put(path, len, (int)(0x80 | ((cp >> 12) & 0x3F)));
        len = path_put(path, len, (int)(0x80 | ((cp >> 6) & 0x3F)));
    }
    return path_put(path, len, (int)(0x80 | (cp & 0x3F)));
}

static size_t path_put_index(char *path, size_t len, size_t idx)
{
    char buf[32];
    snprintf(buf, sizeof buf, "[%zu]", idx);
    for (const char *p = buf; *p; p++)
        len = path_put(path, len, *p);
    return len;
}

static bool scan_hex4(scan *sc, uint32_t *out)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int c = peek(sc);
        int d = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v * 16 + (uint32_t)d;
        step(sc);
    }
    *out = v;
    return true;
}

/* Skips a string starting at its quote. With path given, appends the decoded text (escapes
 * resolved, as jansson stores keys) and updates *len. False on malformed text. */
static bool scan_string(scan *sc, char *path, size_t *len)
{
    step(sc);
    for (;;) {
        int c = peek(sc);
        if (c < 0)
            return false;
        step(sc);
        if (c == '"')
            return true;
        uint32_t cp = (uint32_t)c;
        if (c == '\\') {
            int e = peek(sc);
            if (e < 0)
                return false;
            step(sc);
            switch (e) {
            case '"': case '\\': case '/': cp = (uint32_t)e; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (!scan_hex4(sc, &cp))
                    return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (peek(sc) != '\\')
                        return false;
                    step(sc);
                    if (peek(sc) != 'u')
                        return false;
                    step(sc);
                    if (!scan_hex4(sc, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                break;
            default:
                return false;
            }
            if (path)
                *len = path_put_utf8(path, *len, cp);
        } else if (path) {
            *len = path_put(path, *len, c);
        }
    }
}

static bool is_literal_char(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '+' || c == '-' || c == '.';
}

typedef struct walk_frame {
    bool is_obj;
    size_t path_len; /* logical length of the container's own path */
    size_t idx;      /* current element of an array */
} walk_frame;

/* Visits the root, every object member and every array element in text order. Stops quietly
 * at anything that is not JSON: positions are a help for messages, never a second parser. */
static void pos_walk(const char *text, size_t n, pos_visit visit, void *ud)
{
    walk_frame *st = malloc(WALK_MAX_DEPTH * sizeof *st);
    if (!st)
        return;
    scan sc = {(const unsigned char *)text, n, 0, {1, 1}};
    char path[PATH_CAP] = "";
    size_t len = 0;
    int depth = 0;
    enum { AT_VALUE, AT_MEMBER, AFTER_VALUE } state = AT_VALUE;
    bool ok = true;

    skip_ws(&sc);
    if (peek(&sc) < 0) {
        free(st);
        return;
    }
    visit(ud, path, sc.at, sc.at);
    while (ok) {
        if (state == AT_VALUE) {
            skip_ws(&sc);
            int c = peek(&sc);
            if (c == '{' || c == '[') {
                if (depth == WALK_MAX_DEPTH)
                    break;
                walk_frame *f = &st[depth++];
                f->is_obj = c == '{';
                f->path_len = len;
                f->idx = 0;
                step(&sc);
                skip_ws(&sc);
                if (peek(&sc) == (f->is_obj ? '}' : ']')) {
                    step(&sc);
                    depth--;
                    state = AFTER_VALUE;
                } else if (f->is_obj) {
                    state = AT_MEMBER;
                } else {
                    len = path_put_index(path, len, 0);
                    if (len < PATH_CAP)
                        visit(ud, path, sc.at, sc.at);
                }
            } else if (c == '"') {
                ok = scan_string(&sc, NULL, NULL);
                state = AFTER_VALUE;
            } else {
                size_t start = sc.i;
                while (is_literal_char(peek(&sc)))
                    step(&sc);
                ok = sc.i > start;
                state = AFTER_VALUE;
            }
        } else if (state == AT_MEMBER) {
            skip_ws(&sc);
            if (peek(&sc) != '"')
                break;
            text_pos key_at = sc.at;
            len = st[depth - 1].path_len;
            if (len > 0 && len < PATH_CAP)
                path[len] = '\0';
            if (len > 0)
                len = path_put(path, len, '.');
            else
                path[0] = '\0';
            if (!scan_string(&sc, path, &len))
                break;
            skip_ws(&sc);
            if (peek(&sc) != ':')
                break;
            step(&sc);
            skip_ws(&sc);
            if (len < PATH_CAP)
                visit(ud, path, key_at, sc.at);
            state = AT_VALUE;
        } else {
            if (depth == 0)
                break;
            skip_ws(&sc);
            walk_frame *f = &st[depth - 1];
            int c = peek(&sc);
            if (c == ',') {
                step(&sc);
                skip_ws(&sc);
                if (f->is_obj) {
                    state = AT_MEMBER;
                } else {
                    f->idx++;
                    len = f->path_len;
                    if (len < PATH_CAP)
                        path[len] = '\0';
                    len = path_put_index(path, len, f->idx);
                    if (len < PATH_CAP)
                        visit(ud, path, sc.at, sc.at);
                    state = AT_VALUE;
                }
            } else if (c == (f->is_obj ? '}' : ']')) {
                step(&sc);
                len = f->path_len;
                if (len < PATH_CAP)
                    path[len] = '\0';
                depth--;
            } else {
                break;
            }
        }
    }
    free(st);
}

static void index_visit(void *ud, const char *path, text_pos key, text_pos value)
{
    pos_index *ix = ud;
    if (ix->count == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 256;
        pos_entry *items = realloc(ix->items, cap * sizeof *items);
        if (!items)
            return; /* positions are a courtesy: messages fall back to line 0 */
        ix->items = items;
        ix->cap = cap;
    }
    ix->items[ix->count] = (pos_entry){fnv1a64(path), ix->count, key, value};
    ix->count++;
}

static int entry_cmp(const void *a, const void *b)
{
    const pos_entry *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void index_build(pos_index *ix, const char *text, size_t n)
{
    pos_walk(text, n, index_visit, ix);
    if (ix->count > 1)
        qsort(ix->items, ix->count, sizeof *ix->items, entry_cmp);
}

/* First (in text order) entry for path, NULL when the path was not indexed. */
static const pos_entry *index_find(const pos_index *ix, const char *path)
{
    uint64_t h = fnv1a64(path);
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->items[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->count && ix->items[lo].hash == h ? &ix->items[lo] : NULL;
}

/* The path and key position of the earliest second occurrence of a path: the member that
 * jansson rejected as a duplicate key. */
typedef struct dup_search {
    size_t target, seen;
    char path[PATH_CAP];
} dup_search;

static void dup_visit(void *ud, const char *path, text_pos key, text_pos value)
{
    (void)key;
    (void)value;
    dup_search *ds = ud;
    if (ds->seen++ == ds->target)
        snprintf(ds->path, sizeof ds->path, "%s", path);
}

static bool index_first_duplicate(const pos_index *ix, const char *text, size_t n,
                                  char *path, text_pos *at)
{
    const pos_entry *best = NULL;
    for (size_t i = 1; i < ix->count; i++) {
        const pos_entry *e = &ix->items[i];
        if (e->hash == ix->items[i - 1].hash && (i < 2 || ix->items[i - 2].hash != e->hash) &&
            (!best || e->order < best->order))
            best = e;
    }
    if (!best)
        return false;
    dup_search ds = {best->order, 0, ""};
    pos_walk(text, n, dup_visit, &ds);
    snprintf(path, PATH_CAP, "%s", ds.path);
    *at = best->key;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation context. */

typedef struct ctx {
    scenario_diags *d;
    int first;   /* index in d of this load's first diagnostic */
    int errors;  /* every problem, listed or not */
    pos_index ix;
} ctx;

static void add_at(ctx *c, text_pos at, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->errors++;
    if (c->errors <= MAX_DIAGS)
        diag_push(c->d, at, path, msg);
}

/* Where path's key (at_key) or value starts; unknown paths fall back to the nearest indexed
 * ancestor's value (a missing key points at the object that lacks it). */
static text_pos locate(const ctx *c, const char *path, bool at_key)
{
    char buf[PATH_CAP];
    snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        const pos_entry *e = index_find(&c->ix, buf);
        if (e)
            return at_key ? e->key : e->value;
        if (!buf[0])
            return (text_pos){0, 0};
        at_key = false;
        char *dot = strrchr(buf, '.'), *br = strrchr(buf, '[');
        char *cut = dot > br ? dot : br;
        if (cut)
            *cut = '\0';
        else
            buf[0] = '\0';
    }
}

static void vreport(ctx *c, const char *path, bool at_key, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    add_at(c, locate(c, path, at_key), path, "%s", msg);
}

/* A problem with the value at path. */
static void report(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, path, false, fmt, ap);
    va_end(ap);
}

/* A problem with the key at path (unknown or misplaced keys). */
static void report_key(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, path, true, fmt, ap);
    va_end(ap);
}

/* Child paths, cut at PATH_CAP; locate() then finds the nearest ancestor. */
static void path_cat(char *out, size_t len, const char *tail)
{
    size_t n = strlen(tail);
    if (len + n >= PATH_CAP)
        n = len < PATH_CAP - 1 ? PATH_CAP - 1 - len : 0;
    memcpy(out + len, tail, n);
    out[len + n] = '\0';
}

static void path_key(char *out, const char *parent, const char *key)
{
    size_t len = strlen(parent);
    if (out != parent)
        memmove(out, parent, len + 1);
    if (len > 0) {
        path_cat(out, len, ".");
        len = strlen(out);
    }
    path_cat(out, len, key);
}

static void path_elem(char *out, const char *parent, size_t i)
{
    char idx[32];
    snprintf(idx, sizeof idx, "[%zu]", i);
    size_t len = strlen(parent);
    if (out != parent)
        memmove(out, parent, len + 1);
    path_cat(out, len, idx);
}


/* " (did you mean "x"?)" or "". */
typedef struct hint {
    char s[96];
} hint;

static hint suggest(const char *word, const char *const *cands, int n)
{
    hint h = {""};
    const char *best = suggest_closest(word, cands, n);
    if (best)
        snprintf(h.s, sizeof h.s, " (did you mean \"%s\"?)", best);
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* Typed readers. Each reports its own problem and returns false when the value is unusable. */

static bool read_number(ctx *c, const json_t *v, const char *path, const scenario_range *r,
                        double *out)
{
    if (!json_is_number(v)) {
        const limit *l = limit_get(r->limit);
        if (l->unit[0])
            report(c, path, "expected a number (%s), got %s", l->unit, suggest_json_type(v));
        else
            report(c, path, "expected a number, got %s", suggest_json_type(v));
        return false;
    }
    double x = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
    char msg[256];
    if (!range_check(r, x, msg, sizeof msg)) {
        report(c, path, "%s", msg);
        return false;
    }
    *out = x;
    return true;
}

static void store_field(const field *f, void *base, double x)
{
    char *p = (char *)base + f->off;
    switch (f->store) {
    case ST_DOUBLE: *(double *)(void *)p = x; break;
    case ST_INT: *(int *)(void *)p = (int)x; break;
    case ST_U32: *(uint32_t *)(void *)p = (uint32_t)x; break;
    case ST_NONE: break;
    }
}

static double load_field(const field *f, const void *base)
{
    const char *p = (const char *)base + f->off;
    switch (f->store) {
    case ST_DOUBLE: return *(const double *)(const void *)p;
    case ST_INT: return *(const int *)(const void *)p;
    case ST_U32: return *(const uint32_t *)(const void *)p;
    case ST_NONE: break;
    }
    return 0.0;
}

/* Reads every member of obj that has a stored row "<pattern>.<key>" into base. */
static void read_fields(ctx *c, json_t *obj, const char *path, const char *pattern, void *base)
{
    const char *key;
    json_t *v;
    char p[PATH_CAP];
    json_object_foreach(obj, key, v) {
        const field *f = find_field(pattern, key);
        if (!f || f->store == ST_NONE)
            continue;
        double x;
        path_key(p, path, key);
        if (read_number(c, v, p, &f->r, &x))
            store_field(f, base, x);
    }
}

/* Reports every member of obj whose key is not among allowed, with the closest allowed key. */
static void check_keys(ctx *c, json_t *obj, const char *path, const char *const *allowed, int n)
{
    const char *key;
    json_t *v;
    char p[PATH_CAP];
    json_object_foreach(obj, key, v) {
        bool known = false;
        for (int i = 0; i < n && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (known)
            continue;
        path_key(p, path, key);
        report_key(c, p, "unknown key %s%s", quote(key).s, suggest(key, allowed, n).s);
    }
}

/* A section: an object whose numbers are table rows under pattern and whose other keys the
 * caller reads (extra). Returns false when v is not an object. */
static bool read_section(ctx *c, json_t *v, const char *path, const char *pattern, void *base,
                         const char *const *extra)
{
    if (!json_is_object(v)) {
        report(c, path, "expected an object, got %s", suggest_json_type(v));
        return false;
    }
    const char *keys[MAX_SECTION_KEYS];
    int n = section_keys(pattern, extra, keys);
    check_keys(c, v, path, keys, n);
    read_fields(c, v, path, pattern, base);
    return true;
}

static void read_string(ctx *c, json_t *obj, const char *path, const char *key, char *dst,
                        size_t cap)
{
    json_t *v = json_object_get(obj, key);
    char p[PATH_CAP];
    if (!v)
        return;
    path_key(p, path, key);
    if (!json_is_string(v)) {
        report(c, p, "expected a string, got %s", suggest_json_type(v));
        return;
    }
    size_t n = json_string_length(v);
    if (n >= cap) {
        report(c, p, "too long: %zu bytes, at most %zu", n, cap - 1);
        return;
    }
    memcpy(dst, json_string_value(v), n + 1);
}

/* A string that must be one of names; *out gets its index. */
static bool read_enum(ctx *c, const json_t *v, const char *path, const char *const *names,
                      int n, int *out)
{
    if (!json_is_string(v)) {
        report(c, path, "expected a string, got %s", suggest_json_type(v));
        return false;
    }
    const char *s = json_string_value(v);
    for (int i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "",
                                 names[i]);
    report(c, path, "unknown value %s%s; expected one of %s", quote(s).s,
           suggest(s, names, n).s, list);
    return false;
}

static bool read_tissue(ctx *c, const json_t *v, const char *path, tissue_id *out)
{
    const char *names[TISSUE_COUNT];
    for (int i = 0; i < TISSUE_COUNT; i++)
        names[i] = tissue_name((tissue_id)i);
    if (!json_is_string(v)) {
        report(c, path, "expected a tissue name, got %s", suggest_json_type(v));
        return false;
    }
    const char *s = json_string_value(v);
    if (tissue_from_name(s, out))
        return true;
    report(c, path, "unknown tissue %s%s", quote(s).s, suggest(s, names, TISSUE_COUNT).s);
    return false;
}

/* An array of exactly n numbers, each checked against the row "<pattern>". */
static bool read_vec(ctx *c, const json_t *v, const char *path, const char *pattern, int n,
                     double *out)
{
    const field *f = NULL;
    for (int i = 0; i < N_FIELDS && !f; i++)
        if (strcmp(k_fields[i].r.path, pattern) == 0)
            f = &k_fields[i];
    if (!json_is_array(v) || json_array_size(v) != (size_t)n) {
        if (json_is_array(v))
            report(c, path, "expected an array of %d numbers, got %zu", n, json_array_size(v));
        else
            report(c, path, "expected an array of %d numbers, got %s", n, suggest_json_type(v));
        return false;
    }
    bool ok = true;
    char p[PATH_CAP];
    for (int i = 0; i < n; i++) {
        path_elem(p, path, (size_t)i);
        ok &= read_number(c, json_array_get(v, (size_t)i), p, &f->r, &out[i]);
    }
    return ok;
}

/* An array of at most max objects. Returns how many elements to read (all, or the first max
 * when there are too many: those are still checked), -1 when v is not an array. */
static int read_array(ctx *c, const json_t *v, const char *path, int max, const char *what)
{
    if (!json_is_array(v)) {
        report(c, path, "expected an array, got %s", suggest_json_type(v));
        return -1;
    }
    size_t n = json_array_size(v);
    if (n > (size_t)max) {
        report(c, path, "too many %s: %zu given, at most %d", what, n, max);
        return max;
    }
    return (int)n;
}

/* A required member: reports its absence at the object that lacks it. */
static json_t *require(ctx *c, json_t *obj, const char *path, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        report(c, path, "missing required key %s", quote(key).s);
    return v;
}

/* ------------------------------------------------------------------------------------------ */
/* Sections. */

static void read_patient(ctx *c, json_t *v, scenario_patient *pt)
{
    static const char *const extra[] = {"sex", "region", "skin", NULL};
    static const char *const sexes[] = {"female", "male", "unspecified"};
    if (!read_section(c, v, "patient", "patient", pt, extra))
        return;
    json_t *sex = json_object_get(v, "sex");
    int k;
    if (sex && read_enum(c, sex, "patient.sex", sexes, 3, &k))
        snprintf(pt->sex, sizeof pt->sex, "%s", sexes[k]);
    read_string(c, v, "patient", "region", pt->region, sizeof pt->region);
    read_string(c, v, "patient", "skin", pt->skin, sizeof pt->skin);
}

/* A row of a layer's acoustic overrides: 0 there is "not overridden", not a value. */
static bool is_override_row(const field *f)
{
    return f->base == B_LAYER && f->off >= offsetof(phantom_layer_def, acoustic);
}

static void read_layer_acoustic(ctx *c, json_t *v, const char *path, phantom_layer_def *l)
{
    static const char *const extra[] = {"texture", NULL};
    if (!read_section(c, v, path, "phantom.layers[].acoustic", l, extra))
        return;
    json_t *t = json_object_get(v, "texture");
    char q[PATH_CAP];
    path_key(q, path, "texture");
    if (t && !json_is_boolean(t))
        report(c, q, "expected true or false (the tissue's texture or plain speckle), got %s",
               suggest_json_type(t));
    else if (t)
        l->acoustic.texture = json_is_true(t) ? PHANTOM_TEXTURE_ON : PHANTOM_TEXTURE_OFF;
}

/* What a layer, surface feature or vessel of a file holds where it leaves a key out; the hash
 * leaves out what equals these (scenario_hash_string). */
static phantom_layer_def layer_default(void)
{
    /* Uniform thickness; 20 mm undulation scale as the default stack. */
    return (phantom_layer_def){TISSUE_DERMIS, 0.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
}

static phantom_feature_def feature_default(void)
{
    /* A 1 mm high bump of 4 mm sigma at the centre, a gentle spinous process. */
    return (phantom_feature_def){PHANTOM_PROMINENCE, 0.0, 0.0, 1.0, 4.0, 0.0};
}

static phantom_vessel_def vessel_default(void)
{
    /* A 0.7 mm perforator (Schmidt 2019, tissue.md section 7) with a thin wall. */
    return (phantom_vessel_def){{0, 0, 0}, {0, 0, 0}, 0.35, 0.05, false};
}

static void read_layers(ctx *c, json_t *arr, phantom_def *ph,
                        char (*sources)[SCENARIO_SOURCE_CAP])
{
    static const char *const extra[] = {"tissue", "source", "acoustic", NULL};
    int n = read_array(c, arr, "phantom.layers", PHANTOM_MAX_LAYERS, "layers");
    if (n < 0)
        return;
    if (n == 0)
        report(c, "phantom.layers", "at least one layer is needed");
    size_t last = json_array_size(arr) - 1;
    char p[PATH_CAP], q[PATH_CAP];
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, (size_t)i);
        path_elem(p, "phantom.layers", (size_t)i);
        sources[i][0] = '\0';
        phantom_layer_def l = layer_default();
        if (read_section(c, e, p, "phantom.layers[]", &l, extra)) {
            json_t *t = require(c, e, p, "tissue");
            path_key(q, p, "tissue");
            if (t)
                read_tissue(c, t, q, &l.tissue);
            json_t *ac = json_object_get(e, "acoustic");
            path_key(q, p, "acoustic");
            if (ac)
                read_layer_acoustic(c, ac, q, &l);
            json_t *src = json_object_get(e, "source");
            path_key(q, p, "source");
            if (src && !json_is_string(src))
                report(c, q, "expected a string (the citation), got %s", suggest_json_type(src));
            else
                read_string(c, e, p, "source", sources[i], SCENARIO_SOURCE_CAP);
            if (!json_object_get(e, "thickness_mm") && (size_t)i != last)
                report(c, p, "missing required key \"thickness_mm\" (only the bottom layer "
                             "may leave it out)");
        }
        ph->layers[i] = l;
    }
    ph->n_layers = n;
}

static void read_surface(ctx *c, const json_t *arr, phantom_def *ph)
{
    static const char *const extra[] = {"kind", NULL};
    static const char *const kinds[] = {"prominence", "depression", "fold"};
    int n = read_array(c, arr, "phantom.surface", PHANTOM_MAX_FEATURES, "surface features");
    if (n < 0)
        return;
    char p[PATH_CAP], q[PATH_CAP];
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, (size_t)i);
        path_elem(p, "phantom.surface", (size_t)i);
        phantom_feature_def f = feature_default();
        if (read_section(c, e, p, "phantom.surface[]", &f, extra)) {
            json_t *kind = require(c, e, p, "kind");
            int k;
            path_key(q, p, "kind");
            if (kind && read_enum(c, kind, q, kinds, 3, &k))
                f.kind = (phantom_feature_kind)k;
        }
        ph->features[i] = f;
    }
    ph->n_features = n;
}

static const char *const k_bone_kinds[] = {"spinous_process", "transverse_process", "rib"};
#define N_BONE_KINDS 3

/* Shape of a bone of each kind when the file gives only its place. Assumptions (no sizes in
 * shared/reference): a spinous process tip 6 mm wide running 20 mm along the spine (+y), a
 * transverse process 8 mm wide across it, a rib 12 mm wide running 60 mm across the back. */
static phantom_bone_def bone_default(phantom_bone_kind k)
{
    switch (k) {
    case PHANTOM_BONE_TRANSVERSE:
        return (phantom_bone_def){k, 0.0, 0.0, 20.0, 8.0, 20.0, 6.0, 0.0};
    case PHANTOM_BONE_RIB:
        return (phantom_bone_def){k, 0.0, 0.0, 20.0, 12.0, 60.0, 8.0, 0.0};
    default:
        return (phantom_bone_def){PHANTOM_BONE_SPINOUS, 0.0, 0.0, 20.0, 6.0, 20.0, 10.0, 90.0};
    }
}

static void read_bones(ctx *c, const json_t *arr, phantom_def *ph)
{
    static const char *const extra[] = {"kind", NULL};
    int n = read_array(c, arr, "phantom.bones", PHANTOM_MAX_BONES, "bones");
    if (n < 0)
        return;
    char p[PATH_CAP], q[PATH_CAP];
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, (size_t)i);
        path_elem(p, "phantom.bones", (size_t)i);
        phantom_bone_def b = bone_default(PHANTOM_BONE_SPINOUS);
        json_t *kind = json_is_object(e) ? json_object_get(e, "kind") : NULL;
        int k;
        path_key(q, p, "kind");
        if (kind && read_enum(c, kind, q, k_bone_kinds, N_BONE_KINDS, &k))
            b = bone_default((phantom_bone_kind)k);
        if (read_section(c, e, p, "phantom.bones[]", &b, extra))
            require(c, e, p, "kind");
        ph->bones[i] = b;
    }
    ph->n_bones = n;
}

static void read_vessels(ctx *c, const json_t *arr, phantom_def *ph)
{
    static const char *const extra[] = {"a_mm", "b_mm", "kind", NULL};
    static const char *const kinds[] = {"artery", "vein"};
    int n = read_array(c, arr, "phantom.vessels", PHANTOM_MAX_VESSELS, "vessels");
    if (n < 0)
        return;
    char p[PATH_CAP], q[PATH_CAP];
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, (size_t)i);
        path_elem(p, "phantom.vessels", (size_t)i);
        phantom_vessel_def vs = vessel_default();
        if (read_section(c, e, p, "phantom.vessels[]", &vs, extra)) {
            json_t *a = require(c, e, p, "a_mm"), *b = require(c, e, p, "b_mm");
            bool ok = a && b;
            path_key(q, p, "a_mm");
            ok &= a && read_vec(c, a, q, "phantom.vessels[].a_mm[]", 3, vs.a_mm);
            path_key(q, p, "b_mm");
            ok &= b && read_vec(c, b, q, "phantom.vessels[].b_mm[]", 3, vs.b_mm);
            if (ok && vs.a_mm[0] == vs.b_mm[0] && vs.a_mm[1] == vs.b_mm[1] &&
                vs.a_mm[2] == vs.b_mm[2])
                report(c, q, "b_mm equals a_mm: a vessel's ends must differ");
            json_t *kind = json_object_get(e, "kind");
            int k;
            path_key(q, p, "kind");
            if (kind && read_enum(c, kind, q, kinds, 2, &k))
                vs.is_vein = k == 1;
        }
        ph->vessels[i] = vs;
    }
    ph->n_vessels = n;
}

enum { INC_POINT, INC_CYST, INC_GAS, INC_ELLIPSOID, INC_KINDS };
/* Defaults: a 1 mm cyst or gas pocket; a point as strong as ten dermis cells. */
#define INCLUSION_AMPLITUDE_DEFAULT 10.0
#define INCLUSION_RADIUS_DEFAULT_MM 1.0

static void read_inclusion(ctx *c, json_t *e, const char *p, phantom_inclusion *inc)
{
    static const char *const kinds[] = {"point", "cyst", "gas", "ellipsoid"};
    static const char *const keys[INC_KINDS][4] = {
        [INC_POINT] = {"kind", "c_mm", "amplitude", NULL},
        [INC_CYST] = {"kind", "c_mm", "radius_mm", NULL},
        [INC_GAS] = {"kind", "c_mm", "radius_mm", NULL},
        [INC_ELLIPSOID] = {"kind", "c_mm", "tissue", "radii_mm"},
    };
    static const char *const all[] = {"kind", "c_mm", "amplitude", "radius_mm", "tissue",
                                      "radii_mm"};
    char q[PATH_CAP];
    if (!json_is_object(e)) {
        report(c, p, "expected an object, got %s", suggest_json_type(e));
        return;
    }
    json_t *kind = require(c, e, p, "kind");
    int k = -1;
    path_key(q, p, "kind");
    if (kind && !read_enum(c, kind, q, kinds, INC_KINDS, &k))
        k = -1;
    /* Keys: those of the kind; a key of another kind is named as such, not as unknown. */
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v) {
        const char *const *mine = k >= 0 ? keys[k] : all;
        int nmine = k >= 0 ? 4 : 6;
        bool ok = false, other = false;
        for (int i = 0; i < nmine && !ok; i++)
            ok = mine[i] && strcmp(key, mine[i]) == 0;
        for (int i = 0; i < 6 && !ok && !other; i++)
            other = strcmp(key, all[i]) == 0;
        path_key(q, p, key);
        if (other)
            report_key(c, q, "key %s does not apply to a %s inclusion", quote(key).s,
                       kinds[k]);
        else if (!ok)
            report_key(c, q, "unknown key %s%s", quote(key).s,
                       suggest(key, mine, mine[nmine - 1] ? nmine : nmine - 1).s);
    }
    if (k < 0)
        return;
    inc->kind = k == INC_POINT ? PHANTOM_POINT : PHANTOM_ELLIPSOID;
    inc->tissue = k == INC_GAS ? TISSUE_GAS : TISSUE_FLUID;
    inc->amplitude = INCLUSION_AMPLITUDE_DEFAULT;
    inc->radii_mm[0] = inc->radii_mm[1] = inc->radii_mm[2] = INCLUSION_RADIUS_DEFAULT_MM;
    json_t *cv = require(c, e, p, "c_mm");
    path_key(q, p, "c_mm");
    if (cv)
        read_vec(c, cv, q, "phantom.inclusions[].c_mm[]", 3, inc->c_mm);
    if (k == INC_POINT) {
        read_fields(c, e, p, "phantom.inclusions[]", inc);
    } else if (k == INC_CYST || k == INC_GAS) {
        json_t *r = json_object_get(e, "radius_mm");
        double x;
        path_key(q, p, "radius_mm");
        if (r && read_number(c, r, q, &find_field("phantom.inclusions[]", "radius_mm")->r, &x))
            inc->radii_mm[0] = inc->radii_mm[1] = inc->radii_mm[2] = x;
    } else {
        json_t *t = require(c, e, p, "tissue"), *r = require(c, e, p, "radii_mm");
        path_key(q, p, "tissue");
        if (t)
            read_tissue(c, t, q, &inc->tissue);
        path_key(q, p, "radii_mm");
        if (r)
            read_vec(c, r, q, "phantom.inclusions[].radii_mm[]", 3, inc->radii_mm);
    }
}

static void read_inclusions(ctx *c, const json_t *arr, phantom_def *ph)
{
    int n = read_array(c, arr, "phantom.inclusions", PHANTOM_MAX_INCLUSIONS, "inclusions");
    if (n < 0)
        return;
    char p[PATH_CAP];
    for (int i = 0; i < n; i++) {
        phantom_inclusion inc;
        memset(&inc, 0, sizeof inc);
        path_elem(p, "phantom.inclusions", (size_t)i);
        read_inclusion(c, json_array_get(arr, (size_t)i), p, &inc);
        ph->inclusions[i] = inc;
    }
    ph->n_inclusions = n;
}

/* Overrides merge field by field onto the default table. */
static void read_tissues(ctx *c, json_t *obj, phantom_def *ph)
{
    if (!json_is_object(obj)) {
        report(c, "phantom.tissues", "expected an object, got %s", suggest_json_type(obj));
        return;
    }
    const char *names[TISSUE_COUNT];
    for (int i = 0; i < TISSUE_COUNT; i++)
        names[i] = tissue_name((tissue_id)i);
    const char *key;
    json_t *v;
    char p[PATH_CAP];
    json_object_foreach(obj, key, v) {
        tissue_id t;
        path_key(p, "phantom.tissues", key);
        if (!tissue_from_name(key, &t)) {
            report_key(c, p, "unknown tissue %s%s", quote(key).s,
                       suggest(key, names, TISSUE_COUNT).s);
            continue;
        }
        read_section(c, v, p, "phantom.tissues.*", &ph->tissues.t[t], NULL);
    }
}

static void read_phantom(ctx *c, json_t *v, phantom_def *ph,
                         char (*sources)[SCENARIO_SOURCE_CAP])
{
    static const char *const extra[] = {"layers", "surface", "vessels", "inclusions",
                                        "tissues", "mechanics", "texture", "bones", NULL};
    if (!read_section(c, v, "phantom", "phantom", ph, extra))
        return;
    json_t *x;
    if ((x = json_object_get(v, "mechanics")))
        read_section(c, x, "phantom.mechanics", "phantom.mechanics", ph, NULL);
    if ((x = json_object_get(v, "texture")))
        read_section(c, x, "phantom.texture", "phantom.texture", ph, NULL);
    if ((x = json_object_get(v, "layers")))
        read_layers(c, x, ph, sources);
    if ((x = json_object_get(v, "surface")))
        read_surface(c, x, ph);
    if ((x = json_object_get(v, "vessels")))
        read_vessels(c, x, ph);
    if ((x = json_object_get(v, "inclusions")))
        read_inclusions(c, x, ph);
    if ((x = json_object_get(v, "tissues")))
        read_tissues(c, x, ph);
    if ((x = json_object_get(v, "bones")))
        read_bones(c, x, ph);
}

static void read_probe(ctx *c, json_t *v, probe_def *pr, probe_pose *pose)
{
    static const char *const extra[] = {"tgc", "tgc_db", "pose", NULL};
    static const char *const onoff[] = {"on", "off"};
    if (!read_section(c, v, "probe", "probe", pr, extra))
        return;
    json_t *x;
    int k;
    if ((x = json_object_get(v, "tgc")) && read_enum(c, x, "probe.tgc", onoff, 2, &k))
        pr->tgc_on = k == 0;
    if ((x = json_object_get(v, "tgc_db")))
        read_vec(c, x, "probe.tgc_db", "probe.tgc_db[]", PROBE_TGC_ZONES, pr->tgc_db);
    if ((x = json_object_get(v, "pose")))
        read_section(c, x, "probe.pose", "probe.pose", pose, NULL);
}

static void read_needle(ctx *c, json_t *v, needle_def *nd)
{
    static const char *const extra[] = {"bevel", "tissues", NULL};
    static const char *const bevels[] = {"up", "down"};
    if (!read_section(c, v, "needle", "needle", nd, extra))
        return;
    json_t *x;
    int k;
    if ((x = json_object_get(v, "bevel")) && read_enum(c, x, "needle.bevel", bevels, 2, &k))
        nd->bevel_up = k == 0;
    if (!(x = json_object_get(v, "tissues")))
        return;
    if (!json_is_object(x)) {
        report(c, "needle.tissues", "expected an object, got %s", suggest_json_type(x));
        return;
    }
    const char *names[TISSUE_COUNT];
    for (int i = 0; i < TISSUE_COUNT; i++)
        names[i] = tissue_name((tissue_id)i);
    const char *key;
    json_t *tv;
    char p[PATH_CAP];
    json_object_foreach(x, key, tv) {
        tissue_id t;
        path_key(p, "needle.tissues", key);
        if (!tissue_from_name(key, &t)) {
            report_key(c, p, "unknown tissue %s%s", quote(key).s,
                       suggest(key, names, TISSUE_COUNT).s);
            continue;
        }
        read_section(c, tv, p, "needle.tissues.*", &nd->mech[t], NULL);
    }
}

static void read_drug(ctx *c, json_t *v, drug_def *d)
{
    static const char *const extra[] = {"kind", NULL};
    if (!read_section(c, v, "drug", "drug", d, extra))
        return;
    const char *names[DRUG_KIND_COUNT];
    for (int i = 0; i < DRUG_KIND_COUNT; i++)
        names[i] = drug_kind_name((drug_kind)i);
    json_t *x;
    int k;
    if ((x = json_object_get(v, "kind")) &&
        read_enum(c, x, "drug.kind", names, DRUG_KIND_COUNT, &k))
        d->kind = (drug_kind)k;
}

static void read_plan(ctx *c, json_t *v, score_plan *pl)
{
    static const char *const extra[] = {"points", NULL};
    if (!read_section(c, v, "plan", "plan", pl, extra))
        return;
    json_t *arr = json_object_get(v, "points");
    if (!arr)
        return;
    int n = read_array(c, arr, "plan.points", SCORE_MAX_PLAN_POINTS, "plan points");
    if (n < 0)
        return;
    char p[PATH_CAP];
    for (int i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, (size_t)i);
        path_elem(p, "plan.points", (size_t)i);
        plan_point pt = {0.0, 0.0};
        if (read_section(c, e, p, "plan.points[]", &pt, NULL)) {
            require(c, e, p, "x_mm");
            require(c, e, p, "y_mm");
        }
        pl->points_mm[i][0] = pt.x_mm;
        pl->points_mm[i][1] = pt.y_mm;
    }
    pl->n_points = n;
}

/* scoring.required_steps: the names of the steps the case asks for, each once, at least one. */
static void read_required_steps(ctx *c, json_t *v, score_rules *r)
{
    const char *names[STEP_COUNT];
    for (int k = 0; k < STEP_COUNT; k++)
        names[k] = score_step_name((score_step)k);
    int n = read_array(c, v, "scoring.required_steps", STEP_COUNT, "steps");
    if (n < 0)
        return;
    if (n == 0) {
        report(c, "scoring.required_steps", "at least one step is required (leave the key out "
                                            "to require them all)");
        return;
    }
    uint32_t bits = 0;
    char p[PATH_CAP];
    for (int i = 0; i < n; i++) {
        path_elem(p, "scoring.required_steps", (size_t)i);
        int k;
        if (!read_enum(c, json_array_get(v, (size_t)i), p, names, STEP_COUNT, &k))
            continue;
        if ((bits >> k) & 1u)
            report(c, p, "step \"%s\" is listed twice", names[k]);
        bits |= 1u << k;
    }
    if (bits)
        r->required_steps = bits;
}

static void read_scoring(ctx *c, json_t *v, score_rules *r)
{
    static const char *const extra[] = {"weights", "critical", "measure_dermis",
                                        "require_doppler_check", "required_steps", NULL};
    if (!read_section(c, v, "scoring", "scoring", r, extra))
        return;
    json_t *x;
    if ((x = json_object_get(v, "measure_dermis"))) {
        if (json_is_boolean(x))
            r->measure_dermis = json_is_true(x);
        else
            report(c, "scoring.measure_dermis", "expected true or false, got %s", suggest_json_type(x));
    }
    if ((x = json_object_get(v, "require_doppler_check"))) {
        if (json_is_boolean(x))
            r->require_doppler_check = json_is_true(x);
        else
            report(c, "scoring.require_doppler_check", "expected true or false, got %s",
                   suggest_json_type(x));
    }
    if ((x = json_object_get(v, "required_steps")))
        read_required_steps(c, x, r);
    if ((x = json_object_get(v, "weights")))
        read_section(c, x, "scoring.weights", "scoring.weights", r, NULL);
    if ((x = json_object_get(v, "critical")))
        read_section(c, x, "scoring.critical", "scoring.critical", r, NULL);
}

static void read_guidance(ctx *c, json_t *v, scenario_guidance *g)
{
    static const char *const extra[] = {"ultrasound", NULL};
    if (!read_section(c, v, "guidance", "guidance", g, extra))
        return;
    json_t *x = json_object_get(v, "ultrasound");
    if (!x)
        return;
    if (!json_is_boolean(x))
        report(c, "guidance.ultrasound",
               "expected true (the ultrasound shown) or false (a blind case), got %s",
               suggest_json_type(x));
    else
        g->blind = !json_is_true(x);
}

static void read_goals(ctx *c, json_t *v, scenario *s)
{
    int n = read_array(c, v, "goals", SCENARIO_MAX_GOALS, "learning goals");
    for (int i = 0; i < n; i++) {
        char p[PATH_CAP];
        path_elem(p, "goals", (size_t)i);
        json_t *g = json_array_get(v, (size_t)i);
        if (!json_is_string(g)) {
            report(c, p, "expected a string, got %s", suggest_json_type(g));
            continue;
        }
        size_t len = json_string_length(g);
        if (len >= SCENARIO_GOAL_CAP)
            report(c, p, "too long: %zu bytes, at most %d", len, SCENARIO_GOAL_CAP - 1);
        else
            memcpy(s->goals[i], json_string_value(g), len + 1);
    }
    if (n > 0)
        s->n_goals = n;
}

static void read_scenario(ctx *c, json_t *root, scenario *s)
{
    /* "$schema" lets editors find scenario.schema.json. */
    static const char *const extra[] = {"$schema", "name", "description", "goals", "patient",
                                        "phantom",
                                        "probe", "needle", "drug", "plan", "scoring", "guidance",
                                        NULL};
    if (!json_is_object(root)) {
        report(c, "", "a scenario is a JSON object, got %s", suggest_json_type(root));
        return;
    }
    json_t *ver = json_object_get(root, "version");
    if (!ver) {
        report(c, "version", "missing required key \"version\" (this program reads version %d)",
               SCENARIO_VERSION);
    } else if (!json_is_integer(ver) || json_integer_value(ver) != SCENARIO_VERSION) {
        /* Another version's keys would only produce noise: stop here. */
        if (json_is_integer(ver))
            report(c, "version", "unsupported version %lld: this program reads version %d",
                   (long long)json_integer_value(ver), SCENARIO_VERSION);
        else if (json_is_number(ver))
            report(c, "version", "expected the integer %d, got %g", SCENARIO_VERSION,
                   json_number_value(ver));
        else
            report(c, "version", "expected the integer %d, got %s", SCENARIO_VERSION,
                   suggest_json_type(ver));
        return;
    }
    const char *keys[MAX_SECTION_KEYS];
    int n = section_keys("", extra, keys);
    check_keys(c, root, "", keys, n);
    read_fields(c, root, "", "", s);

    json_t *x;
    read_string(c, root, "", "$schema", s->schema, sizeof s->schema);
    read_string(c, root, "", "name", s->name, sizeof s->name);
    read_string(c, root, "", "description", s->description, sizeof s->description);
    if ((x = json_object_get(root, "goals")))
        read_goals(c, x, s);
    if ((x = json_object_get(root, "patient")))
        read_patient(c, x, &s->patient);
    if ((x = json_object_get(root, "phantom")))
        read_phantom(c, x, &s->phantom, s->layer_source);
    if ((x = json_object_get(root, "probe")))
        read_probe(c, x, &s->probe, &s->pose);
    if ((x = json_object_get(root, "needle")))
        read_needle(c, x, &s->needle);
    if ((x = json_object_get(root, "drug")))
        read_drug(c, x, &s->drug);
    if ((x = json_object_get(root, "plan")))
        read_plan(c, x, &s->plan);
    if ((x = json_object_get(root, "scoring")))
        read_scoring(c, x, &s->scoring);
    if ((x = json_object_get(root, "guidance")))
        read_guidance(c, x, &s->guidance);
    s->phantom.seed = s->seed;
}

static const char *const k_feature_kinds[] = {"prominence", "depression", "fold"};
#define N_FEATURE_KINDS 3

/* ------------------------------------------------------------------------------------------ */
/* Checks of an in-memory scenario: the loader's last pass, scenario_check and the setters. */

/* Where a check's problem goes: the loader locates it in the text, scenario_check lists it. */
typedef void (*check_sink)(void *ud, const char *path, const char *msg);

/* A concrete path from a row's pattern: "[]" takes the indices in turn, "*" the tissue. */
static void path_fill(char *out, size_t cap, const char *pattern, const int *idx, int nidx,
                      const char *tissue)
{
    size_t o = 0;
    int k = 0;
    for (const char *p = pattern; *p && o + 1 < cap; p++) {
        char buf[24];
        const char *put = NULL;
        if (p[0] == '[' && p[1] == ']' && k < nidx) {
            snprintf(buf, sizeof buf, "[%d]", idx[k++]);
            put = buf;
            p++;
        } else if (*p == '*' && tissue) {
            put = tissue;
        }
        if (put) {
            size_t n = strlen(put);
            if (o + n >= cap)
                break;
            memcpy(out + o, put, n);
            o += n;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static const field *row_of(const char *pattern)
{
    for (int i = 0; i < N_FIELDS; i++)
        if (strcmp(k_fields[i].r.path, pattern) == 0)
            return &k_fields[i];
    return NULL;
}

static void check_value(check_sink sink, void *ud, const field *f, double x, const int *idx,
                        int nidx, const char *tissue)
{
    char msg[256], path[PATH_CAP];
    if (range_check(&f->r, x, msg, sizeof msg))
        return;
    path_fill(path, sizeof path, f->r.path, idx, nidx, tissue);
    sink(ud, path, msg);
}

/* Every stored row of one base struct (elements: their index in idx). */
static void check_rows(check_sink sink, void *ud, enum field_base b, const void *base,
                       const int *idx, int nidx, const char *tissue, bool bottom_layer)
{
    for (int i = 0; i < N_FIELDS; i++) {
        const field *f = &k_fields[i];
        if (f->base != b || f->store == ST_NONE)
            continue;
        double x = load_field(f, base);
        /* The bottom layer has no thickness of its own: 0 there means "to the floor". */
        if (bottom_layer && x == 0.0 && f->off == offsetof(phantom_layer_def, thickness_mm))
            continue;
        if (x == 0.0 && is_override_row(f))
            continue;
        check_value(sink, ud, f, x, idx, nidx, tissue);
    }
}

static void check_vec(check_sink sink, void *ud, const char *pattern, const double *v, int n,
                      int elem)
{
    const field *f = row_of(pattern);
    for (int k = 0; k < n; k++) {
        int idx[2] = {elem, k};
        check_value(sink, ud, f, v[k], elem >= 0 ? idx : idx + 1, elem >= 0 ? 2 : 1, NULL);
    }
}

static void sinkf(check_sink sink, void *ud, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sink(ud, path, msg);
}

static size_t utf8_invalid_at(const unsigned char *s, size_t n);

/* A text field: terminated within its array and valid UTF-8 (it is written back as is). */
static void check_text(check_sink sink, void *ud, const char *path, const char *s, size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    if (!end)
        sinkf(sink, ud, path, "too long: at most %zu bytes", cap - 1);
    else if (utf8_invalid_at((const unsigned char *)s, (size_t)(end - s)) < (size_t)(end - s))
        sinkf(sink, ud, path, "not valid UTF-8");
}

static const char *const k_sexes[] = {"female", "male", "unspecified"};
/* The needle lengths needle_check accepts (needle.c): 4, 6 and 13 mm as sold. */
static const double k_needle_lengths_mm[] = {4.0, 6.0, 13.0};

static bool valid_tissue(tissue_id t) { return (int)t >= 0 && t < TISSUE_COUNT; }

/* The phantom's arrays: counts, kinds and every element's numbers. */
static void check_phantom(check_sink sink, void *ud, const scenario *s)
{
    const phantom_def *ph = &s->phantom;
    char p[PATH_CAP];
    check_rows(sink, ud, B_PHANTOM, ph, NULL, 0, NULL, false);
    if (ph->n_layers < 1 || ph->n_layers > PHANTOM_MAX_LAYERS)
        sinkf(sink, ud, "phantom.layers", "1 to %d layers are needed, got %d",
              PHANTOM_MAX_LAYERS, ph->n_layers);
    for (int i = 0; i < ph->n_layers && i < PHANTOM_MAX_LAYERS; i++) {
        const phantom_layer_def *l = &ph->layers[i];
        snprintf(p, sizeof p, "phantom.layers[%d].tissue", i);
        if (!valid_tissue(l->tissue))
            sinkf(sink, ud, p, "unknown tissue");
        snprintf(p, sizeof p, "phantom.layers[%d].source", i);
        check_text(sink, ud, p, s->layer_source[i], SCENARIO_SOURCE_CAP);
        check_rows(sink, ud, B_LAYER, l, &i, 1, NULL, i == ph->n_layers - 1);
        snprintf(p, sizeof p, "phantom.layers[%d].acoustic.texture", i);
        if ((int)l->acoustic.texture < 0 || l->acoustic.texture > PHANTOM_TEXTURE_OFF)
            sinkf(sink, ud, p, "unknown texture choice (true: the tissue's, false: none)");
    }
    if (ph->n_features < 0 || ph->n_features > PHANTOM_MAX_FEATURES)
        sinkf(sink, ud, "phantom.surface", "0 to %d surface features, got %d",
              PHANTOM_MAX_FEATURES, ph->n_features);
    for (int i = 0; i < ph->n_features && i < PHANTOM_MAX_FEATURES; i++) {
        const phantom_feature_def *f = &ph->features[i];
        snprintf(p, sizeof p, "phantom.surface[%d].kind", i);
        if ((int)f->kind < 0 || (int)f->kind >= N_FEATURE_KINDS)
            sinkf(sink, ud, p, "a case's surface feature is a prominence, depression or fold "
                               "(wheals come from injections)");
        check_rows(sink, ud, B_FEATURE, f, &i, 1, NULL, false);
    }
    if (ph->n_vessels < 0 || ph->n_vessels > PHANTOM_MAX_VESSELS)
        sinkf(sink, ud, "phantom.vessels", "0 to %d vessels, got %d", PHANTOM_MAX_VESSELS,
              ph->n_vessels);
    for (int i = 0; i < ph->n_vessels && i < PHANTOM_MAX_VESSELS; i++) {
        const phantom_vessel_def *v = &ph->vessels[i];
        check_vec(sink, ud, "phantom.vessels[].a_mm[]", v->a_mm, 3, i);
        check_vec(sink, ud, "phantom.vessels[].b_mm[]", v->b_mm, 3, i);
        if (memcmp(v->a_mm, v->b_mm, sizeof v->a_mm) == 0) {
            snprintf(p, sizeof p, "phantom.vessels[%d].b_mm", i);
            sinkf(sink, ud, p, "b_mm equals a_mm: a vessel's ends must differ");
        }
        check_rows(sink, ud, B_VESSEL, v, &i, 1, NULL, false);
    }
    if (ph->n_bones < 0 || ph->n_bones > PHANTOM_MAX_BONES)
        sinkf(sink, ud, "phantom.bones", "0 to %d bones, got %d", PHANTOM_MAX_BONES, ph->n_bones);
    for (int i = 0; i < ph->n_bones && i < PHANTOM_MAX_BONES; i++) {
        const phantom_bone_def *b = &ph->bones[i];
        snprintf(p, sizeof p, "phantom.bones[%d].kind", i);
        if ((int)b->kind < 0 || (int)b->kind >= N_BONE_KINDS)
            sinkf(sink, ud, p, "a bone is a spinous_process, transverse_process or rib");
        check_rows(sink, ud, B_BONE, b, &i, 1, NULL, false);
    }
    if (ph->n_inclusions < 0 || ph->n_inclusions > PHANTOM_MAX_INCLUSIONS)
        sinkf(sink, ud, "phantom.inclusions", "0 to %d inclusions, got %d",
              PHANTOM_MAX_INCLUSIONS, ph->n_inclusions);
    for (int i = 0; i < ph->n_inclusions && i < PHANTOM_MAX_INCLUSIONS; i++) {
        const phantom_inclusion *inc = &ph->inclusions[i];
        const double *r = inc->radii_mm;
        check_vec(sink, ud, "phantom.inclusions[].c_mm[]", inc->c_mm, 3, i);
        snprintf(p, sizeof p, "phantom.inclusions[%d].kind", i);
        if (inc->kind == PHANTOM_POINT) {
            check_rows(sink, ud, B_INCLUSION, inc, &i, 1, NULL, false);
        } else if (inc->kind != PHANTOM_ELLIPSOID) {
            sinkf(sink, ud, p, "a case's inclusion is a point, cyst, gas pocket or ellipsoid");
        } else if (!valid_tissue(inc->tissue)) {
            snprintf(p, sizeof p, "phantom.inclusions[%d].tissue", i);
            sinkf(sink, ud, p, "unknown tissue");
        } else if (r[0] == r[1] && r[1] == r[2] &&
                   (inc->tissue == TISSUE_FLUID || inc->tissue == TISSUE_GAS)) {
            check_value(sink, ud, row_of("phantom.inclusions[].radius_mm"), r[0], &i, 1, NULL);
        } else {
            check_vec(sink, ud, "phantom.inclusions[].radii_mm[]", r, 3, i);
        }
    }
    for (int t = 0; t < TISSUE_COUNT; t++)
        check_rows(sink, ud, B_TISSUE, &ph->tissues.t[t], NULL, 0, tissue_name((tissue_id)t),
                   false);
}

static void check_procedure(check_sink sink, void *ud, const scenario *s)
{
    char p[PATH_CAP];
    check_rows(sink, ud, B_PROBE, &s->probe, NULL, 0, NULL, false);
    check_vec(sink, ud, "probe.tgc_db[]", s->probe.tgc_db, PROBE_TGC_ZONES, -1);
    check_rows(sink, ud, B_POSE, &s->pose, NULL, 0, NULL, false);
    check_rows(sink, ud, B_NEEDLE, &s->needle, NULL, 0, NULL, false);
    if (needle_gauge_od_mm(s->needle.gauge) <= 0.0)
        sinkf(sink, ud, "needle.gauge", "must be 27, 30 or 32, got %d", s->needle.gauge);
    bool sold = false;
    for (size_t i = 0; i < sizeof k_needle_lengths_mm / sizeof k_needle_lengths_mm[0]; i++)
        sold |= s->needle.length_mm == k_needle_lengths_mm[i];
    if (!sold)
        sinkf(sink, ud, "needle.length_mm", "must be 4, 6 or 13 mm, got %.10g",
              s->needle.length_mm);
    if (s->needle.count != 1 && s->needle.count != 3 && s->needle.count != 5)
        sinkf(sink, ud, "needle.count", "must be 1, 3 or 5 needles, got %d", s->needle.count);
    for (int t = 0; t < TISSUE_COUNT; t++)
        check_rows(sink, ud, B_MECH, &s->needle.mech[t], NULL, 0, tissue_name((tissue_id)t),
                   false);
    if ((int)s->drug.kind < 0 || s->drug.kind >= DRUG_KIND_COUNT)
        sinkf(sink, ud, "drug.kind", "unknown drug");
    check_rows(sink, ud, B_DRUG, &s->drug, NULL, 0, NULL, false);
    if (s->plan.n_points < 0 || s->plan.n_points > SCORE_MAX_PLAN_POINTS)
        sinkf(sink, ud, "plan.points", "0 to %d plan points, got %d", SCORE_MAX_PLAN_POINTS,
              s->plan.n_points);
    for (int i = 0; i < s->plan.n_points && i < SCORE_MAX_PLAN_POINTS; i++) {
        plan_point pt = {s->plan.points_mm[i][0], s->plan.points_mm[i][1]};
        check_rows(sink, ud, B_PLAN_POINT, &pt, &i, 1, NULL, false);
        if (fabs(pt.x_mm) > 0.5 * s->phantom.width_mm ||
            fabs(pt.y_mm) > 0.5 * s->phantom.length_mm) {
            snprintf(p, sizeof p, "plan.points[%d]", i);
            sinkf(sink, ud, p, "(%g, %g) mm is outside the %g x %g mm patch", pt.x_mm, pt.y_mm,
                  s->phantom.width_mm, s->phantom.length_mm);
        }
    }
    check_rows(sink, ud, B_PLAN, &s->plan, NULL, 0, NULL, false);
    check_rows(sink, ud, B_RULES, &s->scoring, NULL, 0, NULL, false);
    double sum = 0.0;
    for (int i = 0; i < PART_COUNT; i++)
        sum += s->scoring.weights[i];
    if (!(sum > 0.0))
        sinkf(sink, ud, "scoring.weights", "at least one weight must be > 0");
    check_rows(sink, ud, B_GUIDANCE, &s->guidance, NULL, 0, NULL, false);
}

/* Counts the problems it passes on, so the last pass can run only on a clean scenario. */
typedef struct count_sink {
    check_sink sink;
    void *ud;
    int n;
} count_sink;

static void count_one(void *ud, const char *path, const char *msg)
{
    count_sink *c = ud;
    c->n++;
    c->sink(c->ud, path, msg);
}

static void check_all(const scenario *s, check_sink sink, void *ud)
{
    count_sink cs = {sink, ud, 0};
    if (s->version != SCENARIO_VERSION)
        sinkf(count_one, &cs, "version", "unsupported version %d: this program reads version %d",
              s->version, SCENARIO_VERSION);
    check_text(count_one, &cs, "$schema", s->schema, sizeof s->schema);
    check_text(count_one, &cs, "name", s->name, sizeof s->name);
    check_text(count_one, &cs, "description", s->description, sizeof s->description);
    if (s->n_goals < 0 || s->n_goals > SCENARIO_MAX_GOALS)
        sinkf(count_one, &cs, "goals", "0 to %d learning goals, got %d", SCENARIO_MAX_GOALS,
              s->n_goals);
    for (int i = 0; i < s->n_goals && i < SCENARIO_MAX_GOALS; i++) {
        char p[PATH_CAP];
        path_elem(p, "goals", (size_t)i);
        check_text(count_one, &cs, p, s->goals[i], sizeof s->goals[i]);
    }
    check_rows(count_one, &cs, B_SCENARIO, s, NULL, 0, NULL, false);
    check_rows(count_one, &cs, B_PATIENT, &s->patient, NULL, 0, NULL, false);
    bool sex = false;
    for (int i = 0; i < 3; i++)
        sex |= strncmp(s->patient.sex, k_sexes[i], sizeof s->patient.sex) == 0;
    if (!sex)
        sinkf(count_one, &cs, "patient.sex", "expected one of \"female\", \"male\", "
                                             "\"unspecified\"");
    check_text(count_one, &cs, "patient.region", s->patient.region, sizeof s->patient.region);
    check_text(count_one, &cs, "patient.skin", s->patient.skin, sizeof s->patient.skin);
    check_phantom(count_one, &cs, s);
    check_procedure(count_one, &cs, s);
    if (s->seed != s->phantom.seed)
        sinkf(count_one, &cs, "seed", "the phantom's seed (%u) differs from the scenario's (%u)",
              s->phantom.seed, s->seed);
    if (fabs(s->pose.x_mm) > 0.5 * s->phantom.width_mm)
        sinkf(count_one, &cs, "probe.pose.x_mm",
              "%g mm is outside the %g mm wide patch (phantom.width_mm)", s->pose.x_mm,
              s->phantom.width_mm);
    if (fabs(s->pose.y_mm) > 0.5 * s->phantom.length_mm)
        sinkf(count_one, &cs, "probe.pose.y_mm",
              "%g mm is outside the %g mm long patch (phantom.length_mm)", s->pose.y_mm,
              s->phantom.length_mm);
    if (cs.n)
        return;
    /* What the models themselves refuse, whole sections at a time: the checks above are
     * at least as strict, so this only speaks when a model grows a rule they lack. */
    const char *e;
    if ((e = probe_check(&s->probe)))
        sink(ud, "probe", e);
    char err[256] = "";
    phantom *ph = phantom_create(&s->phantom, err, sizeof err);
    if (ph)
        phantom_destroy(ph);
    else
        sink(ud, "phantom", err);
    if ((e = needle_check(&s->needle)))
        sink(ud, "needle", e);
    if ((e = drug_check(&s->drug)))
        sink(ud, "drug", e);
    if ((e = score_check(&s->scoring)))
        sink(ud, "scoring", e);
}

static void loader_sink(void *ud, const char *path, const char *msg)
{
    report(ud, path, "%s", msg);
}

static void diag_sink(void *ud, const char *path, const char *msg)
{
    diag_push(ud, (text_pos){0, 0}, path, msg);
}

int scenario_check(const scenario *s, scenario_diags *out)
{
    int before = out->count;
    check_all(s, diag_sink, out);
    return out->count - before;
}

/* ------------------------------------------------------------------------------------------ */
/* Values by path, for the editor. */

/* A number's place in a scenario: the row and where its value is stored. */
typedef struct number_ref {
    const field *f;
    void *base;        /* with f->off: a stored row */
    double *direct;    /* vectors, a sphere's radius (all three radii), plan points */
    bool all_radii;
} number_ref;

/* Splits "phantom.layers[2].thickness_mm" into the pattern "phantom.layers[].thickness_mm",
 * its indices and its tissue. False on malformed paths. */
static bool parse_path(const char *path, char *pattern, size_t cap, int *idx, int *nidx,
                       tissue_id *tissue, bool *has_tissue)
{
    static const char *const tissue_sections[] = {"phantom.tissues.", "needle.tissues."};
    size_t o = 0;
    *nidx = 0;
    *has_tissue = false;
    const char *p = path;
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(tissue_sections[i]);
        if (strncmp(path, tissue_sections[i], n) != 0)
            continue;
        const char *dot = strchr(path + n, '.');
        char name[64];
        if (!dot || (size_t)(dot - path - n) >= sizeof name)
            return false;
        snprintf(name, sizeof name, "%.*s", (int)(dot - path - n), path + n);
        if (!tissue_from_name(name, tissue))
            return false;
        *has_tissue = true;
        if (n + 2 > cap)
            return false;
        memcpy(pattern, path, n);
        pattern[n] = '*';
        o = n + 1;
        p = dot;
    }
    for (; *p; p++) {
        if (o + 3 > cap)
            return false;
        if (*p == '[') {
            char *end;
            long v = strtol(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || v < 0 || v > 1000 || *nidx == 2)
                return false;
            idx[(*nidx)++] = (int)v;
            pattern[o++] = '[';
            pattern[o++] = ']';
            p = end;
        } else {
            pattern[o++] = *p;
        }
    }
    pattern[o] = '\0';
    return true;
}

static bool resolve_number(const scenario *cs, const char *path, number_ref *ref, char *err,
                           size_t n)
{
    scenario *s = (scenario *)(uintptr_t)cs; /* the setters write through ref; getters only read */
    char pattern[PATH_CAP];
    int idx[2], nidx;
    tissue_id t = TISSUE_DERMIS;
    bool has_t;
    memset(ref, 0, sizeof *ref);
    if (!parse_path(path, pattern, sizeof pattern, idx, &nidx, &t, &has_t) ||
        !(ref->f = row_of(pattern))) {
        snprintf(err, n, "no number at %s", path);
        return false;
    }
    const phantom_def *ph = &s->phantom;
    int need = 0;
    for (const char *q = pattern; (q = strstr(q, "[]")); q += 2)
        need++;
    if (need != nidx)
        return snprintf(err, n, "no number at %s", path), false;
    int i = nidx ? idx[0] : 0, k = nidx > 1 ? idx[1] : 0;
#define ELEM(count, what)                                                                      \
    if (i >= (count))                                                                          \
        return snprintf(err, n, "no %s %d: there are %d", what, i, (count)), false
    if (ref->f->store == ST_NONE) {
        /* The rows the section code reads: vectors, a sphere's radius, the TGC zones. */
        if (strcmp(pattern, "probe.tgc_db[]") == 0) {
            if (i >= PROBE_TGC_ZONES)
                return snprintf(err, n, "no TGC zone %d: there are %d", i, PROBE_TGC_ZONES),
                       false;
            ref->direct = &s->probe.tgc_db[i];
        } else if (strncmp(pattern, "phantom.vessels[]", 17) == 0) {
            ELEM(ph->n_vessels, "vessel");
            if (k > 2)
                return snprintf(err, n, "no coordinate %d: a point has 3", k), false;
            ref->direct = pattern[18] == 'a' ? &s->phantom.vessels[i].a_mm[k]
                                             : &s->phantom.vessels[i].b_mm[k];
        } else if (strncmp(pattern, "phantom.inclusions[]", 20) == 0) {
            ELEM(ph->n_inclusions, "inclusion");
            phantom_inclusion *inc = &s->phantom.inclusions[i];
            if (k > 2)
                return snprintf(err, n, "no coordinate %d: a point has 3", k), false;
            if (strcmp(pattern + 21, "c_mm[]") == 0)
                ref->direct = &inc->c_mm[k];
            else if (strcmp(pattern + 21, "radii_mm[]") == 0)
                ref->direct = &inc->radii_mm[k];
            else
                ref->direct = &inc->radii_mm[0], ref->all_radii = true;
        } else {
            return snprintf(err, n, "%s is not an editable number", path), false;
        }
        return true;
    }
    switch (ref->f->base) {
    case B_SCENARIO: ref->base = s; break;
    case B_PATIENT: ref->base = &s->patient; break;
    case B_PHANTOM: ref->base = &s->phantom; break;
    case B_PROBE: ref->base = &s->probe; break;
    case B_POSE: ref->base = &s->pose; break;
    case B_NEEDLE: ref->base = &s->needle; break;
    case B_DRUG: ref->base = &s->drug; break;
    case B_PLAN: ref->base = &s->plan; break;
    case B_RULES: ref->base = &s->scoring; break;
    case B_GUIDANCE: ref->base = &s->guidance; break;
    case B_TISSUE: ref->base = &s->phantom.tissues.t[t]; break;
    case B_MECH: ref->base = &s->needle.mech[t]; break;
    case B_LAYER: ELEM(ph->n_layers, "layer"); ref->base = &s->phantom.layers[i]; break;
    case B_FEATURE:
        ELEM(ph->n_features, "surface feature");
        ref->base = &s->phantom.features[i];
        break;
    case B_VESSEL: ELEM(ph->n_vessels, "vessel"); ref->base = &s->phantom.vessels[i]; break;
    case B_BONE: ELEM(ph->n_bones, "bone"); ref->base = &s->phantom.bones[i]; break;
    case B_INCLUSION:
        ELEM(ph->n_inclusions, "inclusion");
        ref->base = &s->phantom.inclusions[i];
        break;
    case B_PLAN_POINT:
        ELEM(s->plan.n_points, "plan point");
        ref->direct = &s->plan.points_mm[i][strcmp(pattern, "plan.points[].y_mm") == 0];
        break;
    }
#undef ELEM
    return true;
}

bool scenario_get_number(const scenario *s, const char *path, double *out)
{
    number_ref ref;
    char err[128];
    if (!resolve_number(s, path, &ref, err, sizeof err))
        return false;
    *out = ref.direct ? *ref.direct : load_field(ref.f, ref.base);
    return true;
}

bool scenario_set_number(scenario *s, const char *path, double v, char *err, size_t n)
{
    number_ref ref;
    char msg[256];
    if (!resolve_number(s, path, &ref, err, n))
        return false;
    /* 0 clears a layer's override: the layer takes its tissue's value again. */
    bool clear = v == 0.0 && is_override_row(ref.f);
    if (!clear && !range_check(&ref.f->r, v, msg, sizeof msg)) {
        snprintf(err, n, "%s", msg);
        return false;
    }
    if (ref.all_radii)
        ref.direct[0] = ref.direct[1] = ref.direct[2] = v;
    else if (ref.direct)
        *ref.direct = v;
    else
        store_field(ref.f, ref.base, v);
    if (ref.f->base == B_SCENARIO)
        s->phantom.seed = s->seed;
    return true;
}

bool scenario_set_int(scenario *s, const char *path, long long v, char *err, size_t n)
{
    number_ref ref;
    if (!resolve_number(s, path, &ref, err, n))
        return false;
    if (!ref.f->r.integer) {
        snprintf(err, n, "%s is not a whole-number field", path);
        return false;
    }
    return scenario_set_number(s, path, (double)v, err, n);
}

/* One of names, or the loader's message for another value. */
static int pick(const char *v, const char *const *names, int count, char *err, size_t n)
{
    for (int i = 0; i < count; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; i < count && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "",
                                 names[i]);
    snprintf(err, n, "unknown value %s%s; expected one of %s", quote(v).s,
             suggest(v, names, count).s, list);
    return -1;
}

static bool set_text(char *dst, size_t cap, const char *v, char *err, size_t n)
{
    size_t len = strlen(v);
    if (len >= cap) {
        snprintf(err, n, "too long: %zu bytes, at most %zu", len, cap - 1);
        return false;
    }
    if (utf8_invalid_at((const unsigned char *)v, len) < len) {
        snprintf(err, n, "not valid UTF-8");
        return false;
    }
    memcpy(dst, v, len + 1);
    return true;
}

bool scenario_set_string(scenario *s, const char *path, const char *v, char *err, size_t n)
{
    static const char *const onoff[] = {"on", "off"}, *const bevels[] = {"up", "down"},
                             *const vkinds[] = {"artery", "vein"},
                             *const ikinds[] = {"point", "cyst", "gas", "ellipsoid"};
    const char *tissues[TISSUE_COUNT], *drugs[DRUG_KIND_COUNT];
    for (int i = 0; i < TISSUE_COUNT; i++)
        tissues[i] = tissue_name((tissue_id)i);
    for (int i = 0; i < DRUG_KIND_COUNT; i++)
        drugs[i] = drug_kind_name((drug_kind)i);
    phantom_def *ph = &s->phantom;
    int i = -1, k;
    char rest[64] = "";
    if (strcmp(path, "$schema") == 0)
        return set_text(s->schema, sizeof s->schema, v, err, n);
    if (strcmp(path, "name") == 0)
        return set_text(s->name, sizeof s->name, v, err, n);
    if (strcmp(path, "description") == 0)
        return set_text(s->description, sizeof s->description, v, err, n);
    int gi, used = 0;
    if (sscanf(path, "goals[%d]%n", &gi, &used) == 1 && used > 0 && path[used] == '\0') {
        if (gi < 0 || gi > s->n_goals || gi >= SCENARIO_MAX_GOALS) {
            snprintf(err, n, "goals[%d]: there are %d learning goals (at most %d)", gi,
                     s->n_goals, SCENARIO_MAX_GOALS);
            return false;
        }
        if (!set_text(s->goals[gi], sizeof s->goals[gi], v, err, n))
            return false;
        if (gi == s->n_goals)
            s->n_goals++;
        return true;
    }
    if (strcmp(path, "guidance.ultrasound") == 0) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            snprintf(err, n, "guidance.ultrasound: must be true or false, got %s", v);
            return false;
        }
        s->guidance.blind = v[0] == 'f';
        return true;
    }
    if (strcmp(path, "patient.region") == 0)
        return set_text(s->patient.region, sizeof s->patient.region, v, err, n);
    if (strcmp(path, "patient.skin") == 0)
        return set_text(s->patient.skin, sizeof s->patient.skin, v, err, n);
    if (strcmp(path, "patient.sex") == 0)
        return (k = pick(v, k_sexes, 3, err, n)) >= 0 &&
               set_text(s->patient.sex, sizeof s->patient.sex, v, err, n);
    if (strcmp(path, "probe.tgc") == 0)
        return (k = pick(v, onoff, 2, err, n)) >= 0 && ((s->probe.tgc_on = k == 0), true);
    if (strcmp(path, "needle.bevel") == 0)
        return (k = pick(v, bevels, 2, err, n)) >= 0 && ((s->needle.bevel_up = k == 0), true);
    if (strcmp(path, "drug.kind") == 0)
        return (k = pick(v, drugs, DRUG_KIND_COUNT, err, n)) >= 0 &&
               ((s->drug.kind = (drug_kind)k), true);
    if (sscanf(path, "phantom.layers[%d].%63s", &i, rest) == 2 && i >= 0) {
        if (i >= ph->n_layers)
            return snprintf(err, n, "no layer %d: there are %d", i, ph->n_layers), false;
        if (strcmp(rest, "source") == 0)
            return set_text(s->layer_source[i], SCENARIO_SOURCE_CAP, v, err, n);
        if (strcmp(rest, "tissue") == 0)
            return (k = pick(v, tissues, TISSUE_COUNT, err, n)) >= 0 &&
                   ((ph->layers[i].tissue = (tissue_id)k), true);
    } else if (sscanf(path, "phantom.surface[%d].%63s", &i, rest) == 2 && i >= 0 &&
               strcmp(rest, "kind") == 0) {
        if (i >= ph->n_features)
            return snprintf(err, n, "no surface feature %d: there are %d", i, ph->n_features),
                   false;
        return (k = pick(v, k_feature_kinds, N_FEATURE_KINDS, err, n)) >= 0 &&
               ((ph->features[i].kind = (phantom_feature_kind)k), true);
    } else if (sscanf(path, "phantom.bones[%d].%63s", &i, rest) == 2 && i >= 0 &&
               strcmp(rest, "kind") == 0) {
        if (i >= ph->n_bones)
            return snprintf(err, n, "no bone %d: there are %d", i, ph->n_bones), false;
        return (k = pick(v, k_bone_kinds, N_BONE_KINDS, err, n)) >= 0 &&
               ((ph->bones[i].kind = (phantom_bone_kind)k), true);
    } else if (sscanf(path, "phantom.vessels[%d].%63s", &i, rest) == 2 && i >= 0 &&
               strcmp(rest, "kind") == 0) {
        if (i >= ph->n_vessels)
            return snprintf(err, n, "no vessel %d: there are %d", i, ph->n_vessels), false;
        return (k = pick(v, vkinds, 2, err, n)) >= 0 && ((ph->vessels[i].is_vein = k == 1), true);
    } else if (sscanf(path, "phantom.inclusions[%d].%63s", &i, rest) == 2 && i >= 0) {
        if (i >= ph->n_inclusions)
            return snprintf(err, n, "no inclusion %d: there are %d", i, ph->n_inclusions), false;
        phantom_inclusion *inc = &ph->inclusions[i];
        if (strcmp(rest, "tissue") == 0)
            return (k = pick(v, tissues, TISSUE_COUNT, err, n)) >= 0 &&
                   ((inc->tissue = (tissue_id)k), true);
        if (strcmp(rest, "kind") == 0) {
            if ((k = pick(v, ikinds, 4, err, n)) < 0)
                return false;
            /* As the loader builds each kind; an ellipsoid keeps its tissue and radii. */
            inc->kind = k == INC_POINT ? PHANTOM_POINT : PHANTOM_ELLIPSOID;
            if (k == INC_CYST || k == INC_GAS) {
                inc->tissue = k == INC_GAS ? TISSUE_GAS : TISSUE_FLUID;
                inc->radii_mm[1] = inc->radii_mm[2] = inc->radii_mm[0];
            }
            return true;
        }
    }
    snprintf(err, n, "no text at %s", path);
    return false;
}

bool scenario_set_bool(scenario *s, const char *path, bool v, char *err, size_t n)
{
    if (strcmp(path, "probe.tgc") == 0)
        return scenario_set_string(s, path, v ? "on" : "off", err, n);
    if (strcmp(path, "needle.bevel") == 0)
        return scenario_set_string(s, path, v ? "up" : "down", err, n);
    if (strcmp(path, "guidance.ultrasound") == 0) {
        s->guidance.blind = !v;
        return true;
    }
    if (strcmp(path, "scoring.measure_dermis") == 0) {
        s->scoring.measure_dermis = v;
        return true;
    }
    int li, used = 0;
    if (sscanf(path, "phantom.layers[%d].acoustic.texture%n", &li, &used) == 1 &&
        path[used] == '\0') {
        if (li < 0 || li >= s->phantom.n_layers) {
            snprintf(err, n, "no layer %d: there are %d", li, s->phantom.n_layers);
            return false;
        }
        s->phantom.layers[li].acoustic.texture = v ? PHANTOM_TEXTURE_ON : PHANTOM_TEXTURE_OFF;
        return true;
    }
    if (strcmp(path, "scoring.require_doppler_check") == 0) {
        s->scoring.require_doppler_check = v;
        return true;
    }
    static const char steps[] = "scoring.required_steps.";
    if (strncmp(path, steps, sizeof steps - 1) == 0) {
        for (int k = 0; k < STEP_COUNT; k++) {
            if (strcmp(path + sizeof steps - 1, score_step_name((score_step)k)) != 0)
                continue;
            uint32_t bits = v ? s->scoring.required_steps | 1u << k
                              : s->scoring.required_steps & ~(1u << k);
            if (!(bits & SCORE_ALL_STEPS)) {
                snprintf(err, n, "a case requires at least one step");
                return false;
            }
            s->scoring.required_steps = bits;
            return true;
        }
        snprintf(err, n, "no step named \"%s\" (steps: positioning, disinfection, "
                         "sterile_field, assessment, injection, spread_check, dressing)",
                 path + sizeof steps - 1);
        return false;
    }
    snprintf(err, n, "no on/off choice at %s", path);
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading. */

scenario scenario_default(void)
{
    scenario s;
    memset(&s, 0, sizeof s);
    s.version = SCENARIO_VERSION;
    s.level = 1; /* a case that says nothing of its place in the progression: the first */
    snprintf(s.name, sizeof s.name, "default");
    /* The case report's adults treated for thoracolumbar muscle pain (seed-case-report.txt). */
    s.patient.age_years = 45.0;
    snprintf(s.patient.sex, sizeof s.patient.sex, "unspecified");
    snprintf(s.patient.region, sizeof s.patient.region, "thoracolumbar");
    snprintf(s.patient.skin, sizeof s.patient.skin, "normal");
    s.phantom = phantom_default_def();
    s.probe = probe_default_def();
    s.pose = probe_default_pose();
    s.seed = 1;
    s.phantom.seed = s.seed;
    s.needle = needle_default_def();
    s.drug = drug_default_def();
    s.plan = score_default_plan();
    s.scoring = score_default_rules();
    s.guidance.hint_injections = 0; /* hints are the instructor's choice, per case */
    return s;
}

static text_pos pos_of(const char *text, size_t off)
{
    scan sc = {(const unsigned char *)text, off, 0, {1, 1}};
    while (sc.i < off)
        step(&sc);
    return sc.at;
}

/* Offset of the first byte that breaks UTF-8 (overlong forms, surrogates and code points past
 * U+10FFFF included), or n when the text is valid. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t len;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

static void sort_diags(scenario_diags *d, int first)
{
    /* Insertion sort: stable, and the list is short (MAX_DIAGS). */
    for (int i = first + 1; i < d->count; i++) {
        scenario_diag g = d->items[i];
        int j = i - 1;
        while (j >= first && (d->items[j].line > g.line ||
                              (d->items[j].line == g.line && d->items[j].col > g.col))) {
            d->items[j + 1] = d->items[j];
            j--;
        }
        d->items[j + 1] = g;
    }
}

/* draft: a scenario whose every value reads is returned even when the rules between fields
 * (scenario_check's) fail, with those problems in diags: an editor's autosave. */
static bool load_text(const char *text, size_t n, scenario *out, scenario_diags *diags, bool draft)
{
    ctx c = {diags, diags->count, 0, {NULL, 0, 0}};
    /* A UTF-8 byte-order mark is legal in a text file though not in JSON; editors do not count
     * it as a column, so dropping it keeps positions right. */
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        n -= 3;
    }
    size_t bad = utf8_invalid_at((const unsigned char *)text, n);
    const char *nul = memchr(text, '\0', n);
    size_t k = 0;
    while (k < n && strchr(" \t\r\n", text[k]))
        k++;
    json_t *root = NULL;
    if (bad < n) {
        add_at(&c, pos_of(text, bad), "", "not valid UTF-8 (byte 0x%02X): save the file as UTF-8",
               (unsigned char)text[bad]);
    } else if (nul) {
        add_at(&c, pos_of(text, (size_t)(nul - text)), "", "contains a NUL byte: not a text file");
    } else if (k == n) {
        add_at(&c, (text_pos){0, 0}, "", "empty: a scenario is a JSON object, at least "
                                         "{\"version\": %d}", SCENARIO_VERSION);
    } else {
        json_error_t je;
        root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
            char path[PATH_CAP];
            text_pos at;
            if (json_error_code(&je) == json_error_duplicate_key) {
                index_build(&c.ix, text, n);
                if (index_first_duplicate(&c.ix, text, n, path, &at)) {
                    const char *dot = strrchr(path, '.');
                    add_at(&c, at, path, "duplicate key %s", quote(dot ? dot + 1 : path).s);
                } else {
                    add_at(&c, (text_pos){je.line, je.column}, "", "%s", je.text);
                }
            } else {
                /* Jansson's column counts the characters read on the line, 0 when the error
                 * comes at a line's very start (end of file after a newline). */
                int col = je.line > 0 && je.column < 1 ? 1 : je.column;
                add_at(&c, (text_pos){je.line, col}, "", "invalid JSON: %s", je.text);
            }
        }
    }
    scenario s;
    bool read_ok = false;
    if (root) {
        index_build(&c.ix, text, n);
        s = scenario_default();
        read_scenario(&c, root, &s);
        read_ok = c.errors == 0;
        if (read_ok)
            check_all(&s, loader_sink, &c);
        json_decref(root);
    }
    free(c.ix.items);
    sort_diags(diags, c.first);
    if (c.errors > MAX_DIAGS)
        diag_push(diags, (text_pos){0, 0}, "",
                  "too many problems: only the first 100 are listed");
    if (c.errors > 0 && !(draft && read_ok))
        return false;
    *out = s;
    return true;
}

bool scenario_load_string(const char *text, scenario *out, scenario_diags *diags)
{
    return load_text(text, strlen(text), out, diags, false);
}

static bool load_file(const char *path, scenario *out, scenario_diags *diags, bool draft)
{
    char *buf, msg[256];
    size_t n;
    int e;
    switch (textfile_read(path, MAX_FILE_BYTES, &buf, &n, &e)) {
    case TEXTFILE_OK: {
        bool loaded = load_text(buf, n, out, diags, draft);
        free(buf);
        return loaded;
    }
    case TEXTFILE_OPEN: snprintf(msg, sizeof msg, "cannot open: %s", strerror(e)); break;
    case TEXTFILE_READ: snprintf(msg, sizeof msg, "cannot read: %s", strerror(e)); break;
    case TEXTFILE_NOMEM: snprintf(msg, sizeof msg, "cannot read: out of memory"); break;
    default:
        snprintf(msg, sizeof msg, "too large: over %u bytes (4 MiB); a scenario is a few kB", MAX_FILE_BYTES);
        break;
    }
    diag_push(diags, (text_pos){0, 0}, "", msg);
    return false;
}

bool scenario_load_file(const char *path, scenario *out, scenario_diags *diags)
{
    return load_file(path, out, diags, false);
}

bool scenario_load_draft_file(const char *path, scenario *out, scenario_diags *diags)
{
    return load_file(path, out, diags, true);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing: the canonical form. */

/* A growing text buffer; on allocation failure it stays failed and the writer returns NULL. */
typedef struct wbuf {
    char *s;
    size_t len, cap;
    bool failed;
    /* Hashing (scenario_hash_string): the defaults, and every key whose value equals its
     * default is left out; NULL for the canonical file, which writes every key. */
    const scenario *def;
} wbuf;

static void w_put(wbuf *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *p = realloc(w->s, cap);
        if (!p) {
            w->failed = true;
            return;
        }
        w->s = p;
        w->cap = cap;
    }
    memcpy(w->s + w->len, s, n);
    w->len += n;
    w->s[w->len] = '\0';
}

static void w_str(wbuf *w, const char *s) { w_put(w, s, strlen(s)); }

static void w_indent(wbuf *w, int depth)
{
    for (int i = 0; i < depth; i++)
        w_put(w, "  ", 2);
}

/* The shortest decimal that strtod reads back as exactly x: "%.17g" always does, fewer
 * digits usually do. Plain notation is preferred where it is as exact ("100" rather than
 * "1e+02"), since people read these files. */
static void format_number(char *out, size_t cap, double x)
{
    char buf[64];
    if (x == 0.0 && signbit(x)) {
        /* "-0" reads back as the integer 0, losing the sign. */
        snprintf(out, cap, "-0.0");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, x);
        if (strtod(out, NULL) == x)
            break;
    }
    double a = fabs(x);
    if (strchr(out, 'e') && a >= 1e-6 && a < 1e17) {
        for (int p = 0; p <= 24; p++) {
            snprintf(buf, sizeof buf, "%.*f", p, x);
            if (strtod(buf, NULL) == x) {
                snprintf(out, cap, "%s", buf);
                break;
            }
        }
    }
}

static void w_number(wbuf *w, double x)
{
    char buf[64];
    format_number(buf, sizeof buf, x);
    w_str(w, buf);
}

/* A JSON string: quotes, backslashes and control characters escaped; UTF-8 as is (the
 * loader has checked it). */
static void w_string(wbuf *w, const char *s)
{
    w_put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': w_put(w, "\\\"", 2); break;
        case '\\': w_put(w, "\\\\", 2); break;
        case '\n': w_put(w, "\\n", 2); break;
        case '\t': w_put(w, "\\t", 2); break;
        case '\r': w_put(w, "\\r", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                w_str(w, esc);
            } else {
                w_put(w, (const char *)p, 1);
            }
        }
    }
    w_put(w, "\"", 1);
}

/* Objects write one member per line; *first tracks the comma. */
typedef struct wobj {
    wbuf *w;
    int depth; /* of the members */
    bool first;
    /* A member object (w_sub): its parent, the length before its key and the parent's first
     * then, to take it back when hashing leaves it empty. */
    struct wobj *parent;
    size_t mark;
    bool parent_first;
} wobj;

/* Whether a key is written: always in the canonical file; when hashing, only off its
 * default. */
static bool w_want(const wobj *o, bool at_default) { return !(o->w->def && at_default); }

static void w_key(wobj *o, const char *key)
{
    w_str(o->w, o->first ? "\n" : ",\n");
    o->first = false;
    w_indent(o->w, o->depth);
    w_string(o->w, key);
    w_put(o->w, ": ", 2);
}

static wobj w_open(wbuf *w, int depth)
{
    w_put(w, "{", 1);
    return (wobj){w, depth + 1, true, NULL, 0, false};
}

/* The object under key: when hashing, one that gets no member is taken back, key and all, so
 * a section at its defaults (one a newer format added, say) is no part of the hash. */
static wobj w_sub(wobj *parent, const char *key)
{
    size_t mark = parent->w->len;
    bool first = parent->first;
    w_key(parent, key);
    wobj o = w_open(parent->w, parent->depth);
    o.parent = parent;
    o.mark = mark;
    o.parent_first = first;
    return o;
}

static void w_close(wobj *o)
{
    if (o->first && o->parent && o->w->def && !o->w->failed) {
        o->w->len = o->mark;
        o->w->s[o->mark] = '\0';
        o->parent->first = o->parent_first;
        return;
    }
    if (o->first) {
        w_put(o->w, "}", 1);
        return;
    }
    w_put(o->w, "\n", 1);
    w_indent(o->w, o->depth - 1);
    w_put(o->w, "}", 1);
}

static void w_key_raw(wobj *o, const char *key, const char *json)
{
    w_key(o, key);
    w_str(o->w, json);
}

static void w_key_number(wobj *o, const char *key, double x)
{
    w_key(o, key);
    w_number(o->w, x);
}

static void w_key_string(wobj *o, const char *key, const char *s)
{
    w_key(o, key);
    w_string(o->w, s);
}

static void w_key_vec(wobj *o, const char *key, const double *v, int n)
{
    w_key(o, key);
    w_put(o->w, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            w_put(o->w, ", ", 2);
        w_number(o->w, v[i]);
    }
    w_put(o->w, "]", 1);
}

/* Every stored number of the rows directly under pattern, in table order, but the keys in
 * skip (NULL-terminated, or NULL); when hashing, but those equal to dbase's (the defaults of
 * that object, NULL: none). */
static void w_fields_except(wobj *o, const char *pattern, const void *base, const void *dbase,
                            const char *const *skip)
{
    size_t plen = strlen(pattern);
    for (int i = 0; i < N_FIELDS; i++) {
        const field *f = &k_fields[i];
        const char *key = f->r.path;
        if (f->store == ST_NONE)
            continue;
        if (plen) {
            if (strncmp(key, pattern, plen) != 0 || key[plen] != '.')
                continue;
            key += plen + 1;
        }
        if (strpbrk(key, ".[") != NULL)
            continue;
        bool skipped = false;
        for (int k = 0; skip && skip[k] && !skipped; k++)
            skipped = strcmp(key, skip[k]) == 0;
        double x = load_field(f, base);
        if (!skipped && w_want(o, dbase && x == load_field(f, dbase)))
            w_key_number(o, key, x);
    }
}

static void w_fields(wobj *o, const char *pattern, const void *base, const void *dbase)
{
    w_fields_except(o, pattern, base, dbase, NULL);
}

static bool vec_equal(const double *a, const double *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Array of objects, one per element: [] when empty. */
static void w_array_open(wobj *o, const char *key, int n)
{
    w_key(o, key);
    w_put(o->w, n ? "[" : "[]", n ? 1 : 2);
}

static void w_array_elem(wobj *o, int i)
{
    w_str(o->w, i ? ",\n" : "\n");
    w_indent(o->w, o->depth + 1);
}

static void w_array_close(wobj *o, int n)
{
    if (!n)
        return;
    w_put(o->w, "\n", 1);
    w_indent(o->w, o->depth);
    w_put(o->w, "]", 1);
}

/* Arrays a file may leave out hold nothing by default: when hashing, an empty one is left out. */
static bool w_want_array(const wobj *o, int n, int n_default)
{
    return w_want(o, n == 0 && n_default == 0);
}

/* A file's stack as the default's, layer for layer and without citations: when hashing, the
 * stack is left out. */
static bool layers_default(const phantom_def *ph, const phantom_def *dph,
                           const char (*sources)[SCENARIO_SOURCE_CAP])
{
    if (ph->n_layers != dph->n_layers)
        return false;
    for (int i = 0; i < ph->n_layers; i++) {
        const phantom_layer_def *l = &ph->layers[i], *dl = &dph->layers[i];
        if (sources[i][0] || l->tissue != dl->tissue ||
            l->acoustic.texture != dl->acoustic.texture)
            return false;
        for (int k = 0; k < N_FIELDS; k++)
            if (k_fields[k].base == B_LAYER &&
                load_field(&k_fields[k], l) != load_field(&k_fields[k], dl))
                return false;
    }
    return true;
}

static void write_layers(wobj *o, const scenario *s, const phantom_layer_def *ldef)
{
    const phantom_def *ph = &s->phantom;
    w_array_open(o, "layers", ph->n_layers);
    for (int i = 0; i < ph->n_layers; i++) {
        const phantom_layer_def *l = &ph->layers[i];
        w_array_elem(o, i);
        wobj e = w_open(o->w, o->depth + 1);
        w_key_string(&e, "tissue", tissue_name(l->tissue));
        /* The bottom layer reaches to the patch's floor: a file may leave its thickness out,
         * and a 0 stays out (0 is no thickness a file may give). */
        bool bottom = i == ph->n_layers - 1;
        bool overridden = l->acoustic.texture != PHANTOM_TEXTURE_TISSUE;
        for (int k = 0; k < N_FIELDS; k++) {
            const field *f = &k_fields[k];
            if (f->base != B_LAYER)
                continue;
            double x = load_field(f, l);
            const char *key = f->r.path + strlen("phantom.layers[].");
            if (is_override_row(f)) {
                overridden |= x != 0.0;
                continue;
            }
            if (bottom && x == 0.0 && strcmp(key, "thickness_mm") == 0)
                continue;
            if (w_want(&e, x == load_field(f, ldef)))
                w_key_number(&e, key, x);
        }
        if (s->layer_source[i][0])
            w_key_string(&e, "source", s->layer_source[i]);
        /* Only what a file set, so a case without overrides keeps its canonical text. */
        if (overridden) {
            wobj a = w_sub(&e, "acoustic");
            for (int k = 0; k < N_FIELDS; k++) {
                const field *f = &k_fields[k];
                double x = is_override_row(f) ? load_field(f, l) : 0.0;
                if (x != 0.0)
                    w_key_number(&a, f->r.path + strlen("phantom.layers[].acoustic."), x);
            }
            if (l->acoustic.texture != PHANTOM_TEXTURE_TISSUE)
                w_key_raw(&a, "texture", l->acoustic.texture == PHANTOM_TEXTURE_ON ? "true" : "false");
            w_close(&a);
        }
        w_close(&e);
    }
    w_array_close(o, ph->n_layers);
}

static void write_phantom(wobj *top, const scenario *s)
{
    const phantom_def *ph = &s->phantom;
    const phantom_def *dph = top->w->def ? &top->w->def->phantom : NULL;
    wobj o = w_sub(top, "phantom");
    w_fields(&o, "phantom", ph, dph);

    const phantom_layer_def ldef = layer_default();
    if (w_want(&o, dph && layers_default(ph, dph, s->layer_source)))
        write_layers(&o, s, &ldef);

    const phantom_feature_def fdef = feature_default();
    if (w_want_array(&o, ph->n_features, dph ? dph->n_features : 0)) {
        w_array_open(&o, "surface", ph->n_features);
        for (int i = 0; i < ph->n_features; i++) {
            const phantom_feature_def *f = &ph->features[i];
            w_array_elem(&o, i);
            wobj e = w_open(o.w, o.depth + 1);
            int k = (int)f->kind;
            w_key_string(&e, "kind", k >= 0 && k < N_FEATURE_KINDS ? k_feature_kinds[k] : "wheal");
            w_fields(&e, "phantom.surface[]", f, &fdef);
            w_close(&e);
        }
        w_array_close(&o, ph->n_features);
    }

    const phantom_vessel_def vdef = vessel_default();
    if (w_want_array(&o, ph->n_vessels, dph ? dph->n_vessels : 0)) {
        w_array_open(&o, "vessels", ph->n_vessels);
        for (int i = 0; i < ph->n_vessels; i++) {
            const phantom_vessel_def *v = &ph->vessels[i];
            w_array_elem(&o, i);
            wobj e = w_open(o.w, o.depth + 1);
            if (w_want(&e, v->is_vein == vdef.is_vein))
                w_key_string(&e, "kind", v->is_vein ? "vein" : "artery");
            w_key_vec(&e, "a_mm", v->a_mm, 3);
            w_key_vec(&e, "b_mm", v->b_mm, 3);
            w_fields(&e, "phantom.vessels[]", v, &vdef);
            w_close(&e);
        }
        w_array_close(&o, ph->n_vessels);
    }

    if (w_want_array(&o, ph->n_inclusions, dph ? dph->n_inclusions : 0)) {
        w_array_open(&o, "inclusions", ph->n_inclusions);
        for (int i = 0; i < ph->n_inclusions; i++) {
            const phantom_inclusion *inc = &ph->inclusions[i];
            const double *r = inc->radii_mm;
            bool sphere = r[0] == r[1] && r[1] == r[2];
            w_array_elem(&o, i);
            wobj e = w_open(o.w, o.depth + 1);
            /* The file's kinds as the loader builds them: a point; a sphere of fluid (cyst) or
             * gas; any other ellipsoid names its tissue. */
            if (inc->kind == PHANTOM_POINT) {
                w_key_string(&e, "kind", "point");
                w_key_vec(&e, "c_mm", inc->c_mm, 3);
                if (w_want(&e, inc->amplitude == INCLUSION_AMPLITUDE_DEFAULT))
                    w_key_number(&e, "amplitude", inc->amplitude);
            } else if (sphere && (inc->tissue == TISSUE_FLUID || inc->tissue == TISSUE_GAS)) {
                w_key_string(&e, "kind", inc->tissue == TISSUE_GAS ? "gas" : "cyst");
                w_key_vec(&e, "c_mm", inc->c_mm, 3);
                if (w_want(&e, r[0] == INCLUSION_RADIUS_DEFAULT_MM))
                    w_key_number(&e, "radius_mm", r[0]);
            } else {
                w_key_string(&e, "kind", "ellipsoid");
                w_key_vec(&e, "c_mm", inc->c_mm, 3);
                w_key_string(&e, "tissue", tissue_name(inc->tissue));
                w_key_vec(&e, "radii_mm", r, 3);
            }
            w_close(&e);
        }
        w_array_close(&o, ph->n_inclusions);
    }

    /* Only cases with bones say so: files written before bones existed stay byte for byte. */
    if (ph->n_bones > 0) {
        w_array_open(&o, "bones", ph->n_bones);
        for (int i = 0; i < ph->n_bones; i++) {
            const phantom_bone_def *b = &ph->bones[i];
            w_array_elem(&o, i);
            wobj e = w_open(o.w, o.depth + 1);
            int k = (int)b->kind;
            w_key_string(&e, "kind", k >= 0 && k < N_BONE_KINDS ? k_bone_kinds[k] : "spinous_process");
            const phantom_bone_def bdef = bone_default(b->kind);
            w_fields(&e, "phantom.bones[]", b, &bdef);
            w_close(&e);
        }
        w_array_close(&o, ph->n_bones);
    }

    /* Tissue overrides: only the properties that differ from the default table, so the
     * case's own choices stand out (the loader merges them onto that table). */
    tissue_table def = tissue_default_table();
    wobj ts = w_sub(&o, "tissues");
    for (int t = 0; t < TISSUE_COUNT; t++) {
        if (memcmp(&ph->tissues.t[t], &def.t[t], sizeof def.t[t]) == 0)
            continue;
        wobj e = w_sub(&ts, tissue_name((tissue_id)t));
        for (int k = 0; k < N_FIELDS; k++) {
            const field *f = &k_fields[k];
            if (f->base != B_TISSUE)
                continue;
            double x = load_field(f, &ph->tissues.t[t]);
            if (x != load_field(f, &def.t[t]))
                w_key_number(&e, f->r.path + strlen("phantom.tissues.*."), x);
        }
        w_close(&e);
    }
    w_close(&ts);

    wobj m = w_sub(&o, "mechanics");
    w_fields(&m, "phantom.mechanics", ph, dph);
    w_close(&m);
    wobj tx = w_sub(&o, "texture");
    w_fields(&tx, "phantom.texture", ph, dph);
    w_close(&tx);
    w_close(&o);
}

static void write_probe(wobj *top, const scenario *s)
{
    const scenario *d = top->w->def;
    wobj o = w_sub(top, "probe");
    w_fields(&o, "probe", &s->probe, d ? &d->probe : NULL);
    if (w_want(&o, d && s->probe.tgc_on == d->probe.tgc_on))
        w_key_string(&o, "tgc", s->probe.tgc_on ? "on" : "off");
    if (w_want(&o, d && vec_equal(s->probe.tgc_db, d->probe.tgc_db, PROBE_TGC_ZONES)))
        w_key_vec(&o, "tgc_db", s->probe.tgc_db, PROBE_TGC_ZONES);
    wobj p = w_sub(&o, "pose");
    w_fields(&p, "probe.pose", &s->pose, d ? &d->pose : NULL);
    w_close(&p);
    w_close(&o);
}

static void write_needle(wobj *top, const scenario *s)
{
    needle_def def = needle_default_def();
    const scenario *d = top->w->def;
    wobj o = w_sub(top, "needle");
    /* A single needle writes no head keys, so the files written before heads stay the same. */
    static const char *const single[] = {"count", "spacing_mm", NULL};
    w_fields_except(&o, "needle", &s->needle, d ? &d->needle : NULL,
                    s->needle.count == 1 ? single : NULL);
    if (w_want(&o, d && s->needle.bevel_up == d->needle.bevel_up))
        w_key_string(&o, "bevel", s->needle.bevel_up ? "up" : "down");
    /* As the phantom's tissues: only what differs from the default mechanics. */
    wobj ts = w_sub(&o, "tissues");
    for (int t = 0; t < TISSUE_COUNT; t++) {
        const needle_tissue_mech *m = &s->needle.mech[t], *dm = &def.mech[t];
        if (memcmp(m, dm, sizeof *m) == 0)
            continue;
        wobj e = w_sub(&ts, tissue_name((tissue_id)t));
        for (int k = 0; k < N_FIELDS; k++) {
            const field *f = &k_fields[k];
            if (f->base == B_MECH && load_field(f, m) != load_field(f, dm))
                w_key_number(&e, f->r.path + strlen("needle.tissues.*."), load_field(f, m));
        }
        w_close(&e);
    }
    w_close(&ts);
    w_close(&o);
}

/* The canonical text, or with def the hash's input: the same text less every key at its
 * default (def: scenario_default()) and less "$schema", which only points editors at the
 * schema. */
static char *write_scenario(const scenario *s, const scenario *def)
{
    wbuf w = {NULL, 0, 0, false, def};
    const scenario *d = def;
    wobj top = w_open(&w, 0);
    if (s->schema[0] && !d)
        w_key_string(&top, "$schema", s->schema);
    w_key_number(&top, "version", s->version);
    if (w_want(&top, d && !strcmp(s->name, d->name)))
        w_key_string(&top, "name", s->name);
    if (w_want(&top, d && !strcmp(s->description, d->description)))
        w_key_string(&top, "description", s->description);
    if (w_want_array(&top, s->n_goals, d ? d->n_goals : 0)) {
        w_key(&top, "goals");
        w_put(&w, s->n_goals ? "[" : "[]", s->n_goals ? 1 : 2);
        for (int i = 0; i < s->n_goals; i++) {
            w_str(&w, i ? ",\n" : "\n");
            w_indent(&w, top.depth + 1);
            w_string(&w, s->goals[i]);
        }
        if (s->n_goals) {
            w_put(&w, "\n", 1);
            w_indent(&w, top.depth);
            w_put(&w, "]", 1);
        }
    }
    w_fields(&top, "", s, d);

    wobj pt = w_sub(&top, "patient");
    w_fields(&pt, "patient", &s->patient, d ? &d->patient : NULL);
    if (w_want(&pt, d && !strcmp(s->patient.sex, d->patient.sex)))
        w_key_string(&pt, "sex", s->patient.sex);
    if (w_want(&pt, d && !strcmp(s->patient.region, d->patient.region)))
        w_key_string(&pt, "region", s->patient.region);
    if (w_want(&pt, d && !strcmp(s->patient.skin, d->patient.skin)))
        w_key_string(&pt, "skin", s->patient.skin);
    w_close(&pt);

    write_phantom(&top, s);
    write_probe(&top, s);
    write_needle(&top, s);

    wobj dr = w_sub(&top, "drug");
    if (w_want(&dr, d && s->drug.kind == d->drug.kind))
        w_key_string(&dr, "kind", drug_kind_name(s->drug.kind));
    w_fields(&dr, "drug", &s->drug, d ? &d->drug : NULL);
    w_close(&dr);

    wobj pl = w_sub(&top, "plan");
    if (w_want_array(&pl, s->plan.n_points, d ? d->plan.n_points : 0)) {
        w_array_open(&pl, "points", s->plan.n_points);
        for (int i = 0; i < s->plan.n_points; i++) {
            w_array_elem(&pl, i);
            wobj e = w_open(&w, pl.depth + 1);
            w_key_number(&e, "x_mm", s->plan.points_mm[i][0]);
            w_key_number(&e, "y_mm", s->plan.points_mm[i][1]);
            w_close(&e);
        }
        w_array_close(&pl, s->plan.n_points);
    }
    w_fields(&pl, "plan", &s->plan, d ? &d->plan : NULL);
    w_close(&pl);

    wobj sc = w_sub(&top, "scoring");
    w_fields(&sc, "scoring", &s->scoring, d ? &d->scoring : NULL);
    /* Written only when set, so the cases without it keep their canonical text and hash. */
    if (s->scoring.measure_dermis) {
        w_key(&sc, "measure_dermis");
        w_put(&w, "true", 4);
    }
    if (s->scoring.require_doppler_check) {
        w_key(&sc, "require_doppler_check");
        w_put(&w, "true", 4);
    }
    if ((s->scoring.required_steps & SCORE_ALL_STEPS) != SCORE_ALL_STEPS) {
        w_key(&sc, "required_steps");
        w_put(&w, "[", 1);
        int n = 0;
        for (int k = 0; k < STEP_COUNT; k++) {
            if (!((s->scoring.required_steps >> k) & 1u))
                continue;
            if (n++)
                w_put(&w, ", ", 2);
            w_string(&w, score_step_name((score_step)k));
        }
        w_put(&w, "]", 1);
    }
    wobj wt = w_sub(&sc, "weights");
    w_fields(&wt, "scoring.weights", &s->scoring, d ? &d->scoring : NULL);
    w_close(&wt);
    wobj cr = w_sub(&sc, "critical");
    w_fields(&cr, "scoring.critical", &s->scoring, d ? &d->scoring : NULL);
    w_close(&cr);
    w_close(&sc);

    wobj g = w_sub(&top, "guidance");
    w_fields(&g, "guidance", &s->guidance, d ? &d->guidance : NULL);
    if (s->guidance.blind)
        w_key_raw(&g, "ultrasound", "false");
    w_close(&g);

    w_close(&top);
    w_put(&w, "\n", 1);
    if (w.failed) {
        free(w.s);
        return NULL;
    }
    return w.s;
}

char *scenario_save_string(const scenario *s) { return write_scenario(s, NULL); }

char *scenario_hash_string(const scenario *s)
{
    const scenario def = scenario_default();
    return write_scenario(s, &def);
}

static uint64_t text_hash(char *text)
{
    if (!text)
        return 0;
    uint64_t h = fnv1a64(text);
    free(text);
    return h;
}

uint64_t scenario_content_hash(const scenario *s) { return text_hash(scenario_hash_string(s)); }

uint64_t scenario_legacy_hash(const scenario *s) { return text_hash(scenario_save_string(s)); }

bool scenario_hash_matches(const scenario *s, const char *hex)
{
    char now[17];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(s));
    if (!strcmp(now, hex))
        return true;
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_legacy_hash(s));
    return !strcmp(now, hex);
}

bool scenario_save_file(const scenario *s, const char *path, char *err, size_t n)
{
    char *text = scenario_save_string(s);
    if (!text) {
        snprintf(err, n, "out of memory");
        return false;
    }
    /* The temporary name sits beside the file, so the rename stays on one file system and
     * replaces the file in one step. */
    size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) {
        free(text);
        snprintf(err, n, "out of memory");
        return false;
    }
    /* O_EXCL under a name of our own rather than mkstemp, whose file is private (0600):
     * open gives the usual mode under the umask, and a file that exists keeps its mode. */
    int fd = -1;
    for (unsigned k = 0; k < 100 && fd < 0; k++) {
        snprintf(tmp, len + 32, "%s.tmp%ld-%u", path, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    bool ok = fd >= 0;
    if (!ok)
        snprintf(err, n, "cannot create a file beside %s: %s", path, strerror(errno));
    struct stat st;
    if (ok && stat(path, &st) == 0 && fchmod(fd, st.st_mode & 07777) != 0) {
        snprintf(err, n, "cannot set the mode of %s: %s", tmp, strerror(errno));
        ok = false;
    }
    size_t size = strlen(text), done = 0;
    while (ok && done < size) {
        ssize_t w = write(fd, text + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, n, "cannot write %s: %s", tmp, strerror(errno));
            ok = false;
        } else {
            done += (size_t)w;
        }
    }
    if (ok && fsync(fd) != 0) {
        snprintf(err, n, "cannot write %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (fd >= 0 && close(fd) != 0 && ok) {
        snprintf(err, n, "cannot write %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (ok && rename(tmp, path) != 0) {
        snprintf(err, n, "cannot replace %s: %s", path, strerror(errno));
        ok = false;
    }
    if (!ok && fd >= 0)
        unlink(tmp);
    free(tmp);
    free(text);
    return ok;
}
