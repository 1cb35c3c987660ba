/* scenario: a training case as a file (JSON, version 1), loaded all-or-nothing.
 *
 * A scenario names the patient, builds the phantom (layers, surface features, vessels,
 * inclusions, tissue overrides), sets the probe defaults and pose, and the seed. Loading either
 * fills a complete scenario or returns every problem found, each with the file, line, column,
 * a JSON path such as "phantom.layers[2].thickness_mm" and a message; unknown keys are named
 * with the closest known key. Nothing half-built is ever returned.
 *
 * For an editor: scenario_check runs the loader's checks on a scenario in memory, the
 * setters change one value by its JSON path and refuse what the loader would refuse, and
 * scenario_save_string / scenario_save_file write the one canonical text (`mesosim format`).
 * Every range is a row of the limits table (limit.h).
 *
 * Format: scenarios/scenario.schema.json and docs/scenarios.md. The diagnostics list owns its
 * memory (scenario_diags_free); scenario_save_string's text is the caller's to free. The
 * scenario itself is plain data. */
#ifndef MESOSIM_SCENARIO_H
#define MESOSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drug.h"
#include "limit.h"
#include "needle.h"
#include "phantom.h"
#include "probe.h"
#include "score.h"

#define SCENARIO_VERSION 1

typedef struct scenario_patient {
    double age_years;
    char sex[16];          /* "female", "male", "unspecified" */
    char region[64];       /* e.g. "thoracolumbar" */
    char skin[64];         /* e.g. "normal", "hyperkeratosis", "thin", "excess_adipose" */
} scenario_patient;

/* Teaching aids the instructor allows for this case. */
typedef struct scenario_guidance {
    int hint_injections; /* 0: no hints; N: the window shows the tip's depth and layer, fading
                            out over the first N injections placed intradermally in view */
    /* guidance.ultrasound false: a blind case. The window hides the ultrasound during the
     * injection (landmarks and feel only), the report marks the session "blind", the debrief
     * shows the truth. The file holds the key only when false (the guided default), so every
     * guided case keeps its text and hash. */
    bool blind;
} scenario_guidance;

/* Free text the file keeps for its readers and the program ignores: kept so that writing a
 * scenario back (scenario_save_string) loses none of the author's citations. */
#define SCENARIO_SOURCE_CAP 256

/* What a case teaches, one line each, shown in the case picker (docs/authoring.md). */
#define SCENARIO_MAX_GOALS 6
#define SCENARIO_GOAL_CAP 160

typedef struct scenario {
    int version;
    char schema[128]; /* "$schema": where editors find scenario.schema.json, "" when absent */
    char name[128];
    char description[512]; /* the briefing the resident reads before the case */
    int level;             /* 1 (guided first session) .. 5 (traps for the experienced) */
    char goals[SCENARIO_MAX_GOALS][SCENARIO_GOAL_CAP]; /* learning goals, n_goals of them */
    int n_goals;
    scenario_patient patient;
    phantom_def phantom;
    probe_def probe;
    probe_pose pose;
    uint32_t seed;
    /* The procedure (docs/scenarios.md "needle", "drug", "plan", "scoring"). */
    needle_def needle;
    drug_def drug;
    score_plan plan;
    score_rules scoring;
    scenario_guidance guidance;
    char layer_source[PHANTOM_MAX_LAYERS][SCENARIO_SOURCE_CAP]; /* phantom.layers[].source */
} scenario;

typedef struct scenario_diag {
    int line, col;        /* 1-based; 0 when not known */
    char path[128];       /* JSON path of the offending value, "" for the whole file */
    char message[256];
} scenario_diag;

typedef struct scenario_diags {
    scenario_diag *items;
    int count, cap;
} scenario_diags;

/* Defaults: adult back phantom, default probe and pose, seed 1, the default needle, drug,
 * plan and scoring rules. */
scenario scenario_default(void);

/* Parses text. On success fills *out and returns true; on failure leaves *out untouched,
 * appends every problem to diags (up to 100, then a note; earlier entries are kept, so one
 * list can gather several loads) and returns false. Start diags zeroed. */
bool scenario_load_string(const char *text, scenario *out, scenario_diags *diags);
/* Same from a file of at most 4 MiB of UTF-8 (read errors become a diagnostic with line 0). */
bool scenario_load_file(const char *path, scenario *out, scenario_diags *diags);

/* A draft: as scenario_load_file, but a file whose every value reads (types, names, ranges)
 * loads even when the rules between fields fail (a plan point off the patch), those problems
 * appended to diags. What an editor's autosave holds (scenario_edit.h); never a case to run. */
bool scenario_load_draft_file(const char *path, scenario *out, scenario_diags *diags);

void scenario_diags_free(scenario_diags *d);

/* Every number a scenario file may hold: its JSON path pattern ("[]" stands for any array
 * index, "*" for any tissue key: "phantom.tissues.*.speed_m_s") and its row of the limits
 * table (limit.h), one table shared by the loader, the schema test and the docs. */
typedef struct scenario_range {
    const char *path;
    limit_id limit;
    bool integer; /* whole numbers only */
} scenario_range;

int scenario_range_count(void);
/* NULL when i is out of 0..count-1. */
const scenario_range *scenario_range_at(int i);

/* Checks a scenario in memory (one an editor is changing, or built in code) with the
 * loader's own checks: every number against its range, names and kinds, counts, geometry
 * (vessel ends, plan points and the probe on the patch), then the models' own checks.
 * Appends each problem to out with its JSON path ("phantom.layers[2].thickness_mm", a
 * section such as "phantom" for what only a model refuses) and the loader's message, line
 * and column 0. Returns how many it appended (0: the scenario loads as it is). */
int scenario_check(const scenario *s, scenario_diags *out);

/* Values by JSON path, as the file spells them, array elements included:
 * "probe.freq_mhz", "phantom.layers[2].thickness_mm", "phantom.vessels[0].a_mm[2]",
 * "phantom.tissues.dermis.backscatter", "probe.tgc_db[3]", "plan.points[1].x_mm". Patterns
 * ("[]", "*") and elements past an array's count name no value. */
bool scenario_get_number(const scenario *s, const char *path, double *out);

/* Setters for the editor: each refuses a value the loader would refuse, with the loader's
 * message in err (e.g. "must be within 10..22 MHz, got 30"), or says that path names no such
 * value; on refusal the scenario is unchanged. A set value may still break a rule between
 * fields (a plan point off a narrower patch): scenario_check says. Whole numbers (seed,
 * gauge, n_elements, ...) take scenario_set_number or scenario_set_int; setting an
 * inclusion's "radius_mm" sets all three radii. */
bool scenario_set_number(scenario *s, const char *path, double v, char *err, size_t err_len);
bool scenario_set_int(scenario *s, const char *path, long long v, char *err, size_t err_len);
/* Text and choices: "name", "description", "goals[i]" (i up to n_goals: i == n_goals adds
 * one), "$schema", "patient.sex|region|skin",
 * "probe.tgc" ("on"/"off"), "needle.bevel", "drug.kind", "phantom.layers[i].tissue|source",
 * "phantom.surface[i].kind", "phantom.vessels[i].kind", "phantom.inclusions[i].kind|tissue",
 * "guidance.ultrasound" ("true"/"false"). */
bool scenario_set_string(scenario *s, const char *path, const char *v, char *err,
                         size_t err_len);
/* The on/off choices: "probe.tgc" (true: on), "needle.bevel" (true: up),
 * "guidance.ultrasound" (true: guided, false: blind), "scoring.measure_dermis",
 * "scoring.require_doppler_check" and "scoring.required_steps.<step>" (true: the case asks
 * for that step; at least one stays). */
bool scenario_set_bool(scenario *s, const char *path, bool v, char *err, size_t err_len);

/* The canonical text of a scenario, the form `mesosim format` writes: every value spelled
 * out (tissue tables: only what differs from the defaults), keys in the range table's order,
 * units in the key names, numbers in the shortest form that reads back identical, 2-space
 * indent, one member per line, a trailing newline. Loading the text gives back the same
 * scenario, and saving that gives the same bytes. malloc'ed (the caller frees); NULL when out
 * of memory. */
char *scenario_save_string(const scenario *s);

/* What the content hash reads: the canonical text less every key whose value equals the
 * default a file gets when it leaves the key out (scenario_default(), and each array
 * element's own defaults), less sections and empty arrays left with nothing, and less
 * "$schema". So what the case means decides the hash, and a key the format gains with a
 * default leaves every older case's hash as it was. Not meant to be loaded (a required key
 * at the default's value is left out too). malloc'ed; NULL when out of memory. */
char *scenario_hash_string(const scenario *s);

/* FNV-1a 64 over scenario_hash_string's bytes: one number for "the same case", printed as 16
 * hex digits in action logs, reports and the records. 0 only when out of memory. */
uint64_t scenario_content_hash(const scenario *s);

/* The hash's first definition, FNV-1a 64 over scenario_save_string's bytes, which logs and
 * records made before the hash left defaults out carry. It holds for them as long as the
 * canonical text writes a new key only when it is set (docs/scenarios.md). */
uint64_t scenario_legacy_hash(const scenario *s);

/* Whether hex (16 hex digits, as a log's header or a record holds it) names this case under
 * either definition: what `mesosim run`, `replay` and `report` check before replaying. */
bool scenario_hash_matches(const scenario *s, const char *hex);

/* Writes scenario_save_string's text to path atomically: a temporary file in the same
 * folder, flushed, then renamed over path, so a reader never sees half a file. False with a
 * message in err when it cannot. */
bool scenario_save_file(const scenario *s, const char *path, char *err, size_t err_len);

#endif
