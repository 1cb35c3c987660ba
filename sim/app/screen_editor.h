/* screen_editor: the scenario editor, a screen of the trainer window (`mesosim edit [FILE]`, or
 * E on a case in the picker).
 *
 * Left, every field of the case grouped by section (editor_fields.h), each with its value and,
 * in red under it, the problem `mesosim validate` would report there. Right, the live preview:
 * the case's B-mode at the preview probe (drag on the image to slide it, as in training), the
 * outside view, and a skin map of the patch where vessel ends, plan points and the probe are
 * dragged. Every change goes through a scenario_edit (undo, redo, autosave beside the file;
 * scenario_edit.h) and the preview rebuilds the phantom and renders again the same frame.
 *
 * Keys: Up/Down choose a field (PageUp/PageDown a screen), Left/Right nudge it (Shift: ten
 * steps) or cycle a choice, Enter types a value (Enter commits, Esc cancels), Insert adds a
 * row to the field's list, Delete removes the field's row, Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y
 * redo, Ctrl+S save, Esc or the window's close leaves (asking first when there are unsaved
 * changes). An autosave left by a crash is offered when the file is opened. docs/editor.md. */
#ifndef MESOSIM_SCREEN_EDITOR_H
#define MESOSIM_SCREEN_EDITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario_edit.h"
#include "trainer.h"

/* Opens path in the editor screen (NULL or a file that does not exist yet: the default case,
 * saved to path or asked for at the first save). False with every problem in err when the
 * file does not load. An autosave beside it is offered first. */
bool trainer_open_editor(trainer *t, const char *path, char *err, size_t err_len);
/* A new untitled case (the picker's N): the editor first asks which case of the picker's
 * library it starts from (asking 3), then for the file name it is saved to, and names the case
 * after that file. False with a message in err when out of memory. */
bool trainer_new_case(trainer *t, char *err, size_t err_len);
/* The editing session (NULL off the editor screen). */
const scenario_edit *trainer_editor(const trainer *t);
/* The selected field's JSON path ("" when none). */
const char *trainer_editor_selected(const trainer *t);
/* Where the preview's B-mode and the skin map are drawn (framebuffer px, x y w h). */
void trainer_editor_rects(const trainer *t, float image[4], float map[4]);
/* Whether the editor asks now: 1 recover the autosave?, 2 unsaved changes on leaving, 3 which
 * preset a new case starts from; 0 not. */
int trainer_editor_asking(const trainer *t);

#endif
