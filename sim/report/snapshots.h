/* snapshots: the B-mode image at each injection of a recorded session, for the debrief.
 *
 * The session's actions are replayed through a fresh driver (driver.h) on its scenario, the
 * way `mesosim replay` does; right after each inject action is applied the snapshot's scene
 * is rendered with the B-mode synthesis (bmode.h) and the true tip's image position kept, so
 * the PDF can mark where the tip really was, whatever the trainee saw.
 *
 * report_snapshots_render allocates the array and each image; report_snapshots_free frees
 * them. Pure: no files, no global state. */
#ifndef MESOSIM_SNAPSHOTS_H
#define MESOSIM_SNAPSHOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "scenario.h"

typedef struct report_snapshot {
    double t_s;               /* the inject action's time */
    int rows, cols;           /* rows: depth (row 0 at the probe face) */
    double dz_mm, dx_mm;      /* mm per row, per column */
    uint8_t *pixels;          /* rows*cols grey levels */
    bool tip_in_image;        /* the tip is in the field of view */
    double tip_row, tip_col;  /* the true tip in pixel coordinates (fractional) */
    double tip_to_plane_mm;   /* distance of the tip from the image plane */
} report_snapshot;

/* One snapshot per inject action of al (at most max_snapshots). False with a message when the
 * scenario makes no session, an action is refused or rendering fails. */
bool report_snapshots_render(const scenario *sc, const action_list *al, int max_snapshots,
                             report_snapshot **out, int *count, char *err, size_t err_len);
void report_snapshots_free(report_snapshot *s, int count);

#endif
