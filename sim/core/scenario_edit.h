/* scenario_edit: an editing session over one scenario, for the scenario editor
 * (`mesosim edit`, sim/app/screen_editor.c) and anything else that changes a case step by step.
 *
 * Every change goes through the scenario's own setters (scenario_set_number and friends), so a
 * value the loader would refuse is refused here with the loader's message and the scenario is
 * left as it was. Rows of the list fields (layers, surface features, vessels, inclusions, plan
 * points) are added and removed with scenario_edit_add_row / _remove_row: those are the
 * structural changes.
 *
 * Undo and redo: each accepted change pushes the scenario as it was onto a bounded stack
 * (def.undo_depth steps; the oldest falls off). Consecutive changes of the same value (an arrow
 * key held, a drag, typing digits) merge into one step, as text editors merge typing, so one
 * undo takes the value back to where the gesture started. A new change after an undo drops
 * the redo steps.
 *
 * Validation: after each change scenario_check runs over the whole scenario; its problems (the
 * messages `mesosim validate` prints) are kept with the JSON path they concern, and
 * scenario_edit_problem finds the one for a field or its section.
 *
 * Files: the target path may be NULL (a case not yet saved). Saving writes the canonical text
 * (scenario_save_string), so load -> save -> load is exact. The autosave is the same text in
 * ".NAME.autosave" beside the target, written when dirty every def.autosave_interval_s (the
 * caller's clock: scenario_edit_tick) and at the first tick after every structural change
 * whatever the interval, and removed
 * by a save. A session that dies leaves it; scenario_edit_recover offers it on the next open.
 * The scenario may break a rule between fields while it is edited (a plan point off a
 * narrower patch): the autosave keeps it all the same, and recovery loads it as a draft
 * (scenario_load_draft_file), its problems shown again in the editor.
 *
 * The core writes no file itself: def.write_file is the caller's atomic writer
 * (sim/store/atomic_file.h's atomic_file_write has the signature), so a reader never sees half
 * a file. No clock, no globals. A scenario_edit owns its copies of the scenario (about 40 kB
 * each, undo_depth of them); create and destroy are a pair. */
#ifndef MESOSIM_SCENARIO_EDIT_H
#define MESOSIM_SCENARIO_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

/* Writes len bytes as the whole file at path, atomically; 0 or -1 with a message in err. */
typedef int (*scenario_edit_write_fn)(const char *path, const void *data, size_t len, char *err,
                                      size_t err_len);

typedef struct scenario_edit_def {
    int undo_depth;              /* steps kept; default 200 */
    double autosave_interval_s;  /* seconds between autosaves while dirty; default 5 */
    scenario_edit_write_fn write_file; /* required for saving and autosaving */
} scenario_edit_def;

typedef struct scenario_edit scenario_edit;

scenario_edit_def scenario_edit_default_def(void);

/* A session over a copy of s, saved to path (NULL: untitled until scenario_edit_save_as).
 * NULL when out of memory. */
scenario_edit *scenario_edit_create(const scenario_edit_def *def, const scenario *s,
                                    const char *path);
void scenario_edit_destroy(scenario_edit *e);

/* The scenario as edited now: valid until the next change, undo or redo. */
const scenario *scenario_edit_get(const scenario_edit *e);
/* "" when untitled. */
const char *scenario_edit_path(const scenario_edit *e);
/* Differs from the case as last saved (or as opened): undoing back to it is clean again. */
bool scenario_edit_dirty(const scenario_edit *e);
/* Bumped by every change, undo and redo: a preview rebuilds when it differs from its own. */
unsigned scenario_edit_revision(const scenario_edit *e);

/* The setters by JSON path (scenario.h): false with the loader's message in err, and nothing
 * changed, when refused. Setting the value it already has is accepted and changes nothing. */
bool scenario_edit_set_number(scenario_edit *e, const char *path, double v, char *err, size_t n);
bool scenario_edit_set_int(scenario_edit *e, const char *path, long long v, char *err, size_t n);
bool scenario_edit_set_string(scenario_edit *e, const char *path, const char *v, char *err,
                              size_t n);
bool scenario_edit_set_bool(scenario_edit *e, const char *path, bool v, char *err, size_t n);

/* The list fields: "phantom.layers", "phantom.surface", "phantom.vessels",
 * "phantom.inclusions", "plan.points", "phantom.bones", "goals". add_row appends a copy of the
 * last row (the default row when empty: a dermis layer, a prominence at the centre, a vein
 * 8 mm deep across the patch, a point reflector, a plan point at the centre, a spinous process
 * 10 mm under the centre, a placeholder goal); remove_row takes row i out. False with
 * a message when the list is full, empty, i is out of range, or the list is not one. */
bool scenario_edit_add_row(scenario_edit *e, const char *list, char *err, size_t n);
bool scenario_edit_remove_row(scenario_edit *e, const char *list, int i, char *err, size_t n);
/* Replaces the whole scenario as one structural step (a recovered autosave, a preset). */
void scenario_edit_replace(scenario_edit *e, const scenario *s);
/* Rows in a list field now (-1: not a list). */
int scenario_edit_rows(const scenario_edit *e, const char *list);

bool scenario_edit_can_undo(const scenario_edit *e);
bool scenario_edit_can_redo(const scenario_edit *e);
bool scenario_edit_undo(scenario_edit *e);
bool scenario_edit_redo(scenario_edit *e);
/* Ends the merging of same-path changes: the next change is a step of its own (a drag let go,
 * a field left). */
void scenario_edit_break_merge(scenario_edit *e);
/* Starts a gesture whose changes, whatever their paths, are one step until
 * scenario_edit_break_merge (a vessel end dragged on the skin map sets x and y). */
void scenario_edit_begin_group(scenario_edit *e);

/* scenario_check's problems with the scenario now. */
const scenario_diags *scenario_edit_problems(const scenario_edit *e);
/* The first problem whose path is path, or the section path is in ("phantom" for
 * "phantom.layers[1].tissue"), or inside path ("phantom.vessels[0].a_mm[2]" for
 * "phantom.vessels[0]"); NULL when none. */
const char *scenario_edit_problem(const scenario_edit *e, const char *path);

/* Writes the canonical text to the target (save_as: to path, which becomes the target) and
 * removes the autosave. Saves a scenario with problems too (the author may come back to
 * it): the caller shows scenario_edit_problems. False with a message in err. */
bool scenario_edit_save(scenario_edit *e, char *err, size_t n);
bool scenario_edit_save_as(scenario_edit *e, const char *path, char *err, size_t n);

/* The caller's clock: writes the autosave when dirty, changed since the last autosave, and
 * def.autosave_interval_s has passed since it. Returns true when it wrote; a failed write
 * is kept in err (the next tick tries again). */
bool scenario_edit_tick(scenario_edit *e, double now_s, char *err, size_t n);

/* ".NAME.autosave" beside path ("cases/a.json" -> "cases/.a.json.autosave"). False when it
 * does not fit in out. */
bool scenario_edit_autosave_path(const char *path, char *out, size_t out_len);
/* Whether an autosave is left beside path. */
bool scenario_edit_has_autosave(const char *path);
/* Loads the autosave left beside path into *out as a draft (true; the rules between fields it
 * breaks are appended to diags), or appends why not (false).
 * The file stays until a save or scenario_edit_discard_autosave. */
bool scenario_edit_recover(const char *path, scenario *out, scenario_diags *diags);
/* Removes the autosave beside path (the author declined it). */
void scenario_edit_discard_autosave(const char *path);

#endif
