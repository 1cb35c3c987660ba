/* editor_fields: the scenario editor's field table. Every value a scenario holds, as one row
 * per JSON path, grouped by section in the order a case is read (the case and its briefing,
 * the patient, the skin layers, surface features, vessels, inclusions, the tissue and the
 * needle's per-tissue overrides, the phantom's mechanics, the probe defaults, the needle, the
 * drug, the plan, the scoring, the guidance).
 *
 * The numbers come from the scenario's range table (scenario_range_at), its patterns expanded
 * over the rows the scenario has now, so a field added to the loader shows in the editor
 * without a change here; the text and choice fields are listed here with their choices.
 * Values are read and formatted from a scenario and changed through a scenario_edit, so every
 * change is checked, undoable and autosaved. No SDL or GL: plain data the editor screen draws.
 * An editor_fields owns its rows; build and free are a pair. */
#ifndef MESOSIM_EDITOR_FIELDS_H
#define MESOSIM_EDITOR_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"
#include "scenario_edit.h"

typedef enum editor_field_kind {
    EF_NUMBER = 0, /* arrows, drag and typed entry */
    EF_INT,        /* whole numbers */
    EF_CHOICE,     /* arrows cycle through the choices */
    EF_TEXT,       /* typed entry */
    EF_ADD_ROW     /* the line after a list's rows: Enter or Insert adds one */
} editor_field_kind;

typedef struct editor_field {
    char path[96];     /* "phantom.layers[2].thickness_mm" */
    const char *section;  /* static: "Skin layers" */
    editor_field_kind kind;
    limit_id limit;    /* numbers: the range; LIM_COUNT otherwise */
    char list[32];     /* the list field the row belongs to ("phantom.layers"), "" none */
    int row;           /* its row in that list, -1 none */
} editor_field;

typedef struct editor_fields {
    editor_field *items;
    int count, cap;
} editor_fields;

/* Fills f with the rows of s (emptied first). False when out of memory. */
bool editor_fields_build(editor_fields *f, const scenario *s);
void editor_fields_free(editor_fields *f);

/* The value as shown: "2.5 mm", "vein", the text. */
void editor_field_format(const editor_field *f, const scenario *s, char *out, size_t n);
/* The value as typed entry starts: the number alone, the text. */
void editor_field_raw(const editor_field *f, const scenario *s, char *out, size_t n);

/* One step up (dir > 0) or down of a number (coarse: ten steps) or the next/previous choice;
 * clamped to the field's range so a held key stops at the end. False with the reason in err. */
bool editor_field_nudge(const editor_field *f, scenario_edit *e, int dir, bool coarse, char *err,
                        size_t n);
/* Typed entry: a number parsed whole, a choice by name, a text as it is. */
bool editor_field_enter(const editor_field *f, scenario_edit *e, const char *text, char *err,
                        size_t n);

#endif
