/* snapshots: B-mode at each injection (snapshots.h). */
#include "snapshots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmode.h"
#include "driver.h"

static bool grab(bmode *bm, driver *d, phantom_inclusion *dyn, double t_s, report_snapshot *out,
                 char *err, size_t err_len)
{
    const driver_snapshot *snap = driver_acquire(d);
    bmode_scene scene;
    driver_snapshot_scene(snap, &scene, dyn);
    bmode_image img;
    bool ok = bmode_render(bm, &scene, &img, err, err_len) == 0;
    if (ok) {
        memset(out, 0, sizeof *out);
        out->t_s = t_s;
        out->rows = img.rows;
        out->cols = img.cols;
        out->dz_mm = img.dz_mm;
        out->dx_mm = img.dx_mm;
        out->pixels = malloc((size_t)img.rows * (size_t)img.cols);
        if (!out->pixels) {
            snprintf(err, err_len, "out of memory keeping a %dx%d snapshot", img.rows, img.cols);
            ok = false;
        } else {
            memcpy(out->pixels, img.pixels, (size_t)img.rows * (size_t)img.cols);
            out->tip_in_image = snap->tip_in_image;
            out->tip_col = (snap->tip_img_mm[0] - img.x0_mm) / img.dx_mm;
            out->tip_row = (snap->tip_img_mm[2] - img.z0_mm) / img.dz_mm;
            out->tip_to_plane_mm = snap->tip_img_mm[1];
        }
    }
    driver_release(d, snap);
    return ok;
}

bool report_snapshots_render(const scenario *sc, const action_list *al, int max_snapshots,
                             report_snapshot **out, int *count, char *err, size_t err_len)
{
    *out = NULL;
    *count = 0;
    int want = 0;
    for (int i = 0; i < al->count; i++)
        want += al->items[i].verb == ACT_INJECT;
    if (want > max_snapshots)
        want = max_snapshots;
    driver_def dd = driver_default_def();
    dd.sc = sc;
    driver *d = driver_create(&dd, err, err_len);
    if (!d)
        return false;
    bmode_def bd = bmode_default_def();
    bd.display_only = true;
    bmode *bm = bmode_create(&bd);
    report_snapshot *shots = calloc(want > 0 ? (size_t)want : 1, sizeof *shots);
    phantom_inclusion *dyn = malloc(BMODE_MAX_DYN * sizeof *dyn);
    bool ok = bm && shots && dyn;
    if (!ok)
        snprintf(err, err_len, "out of memory preparing the snapshots");
    int n = 0;
    for (int i = 0; ok && i < al->count && !driver_finished(d); i++) {
        const action *a = &al->items[i];
        if (a->verb == ACT_END)
            break;
        driver_push(d, a);
        driver_step(d, a->t_s);
        int ne;
        const session_event *ev = driver_events(d, &ne);
        for (int k = 0; k < ne; k++)
            if (ev[k].kind == SEV_ACTION_REFUSED) {
                snprintf(err, err_len, "action %d (at %.2f s) is refused on replay: %s", i + 1,
                         a->t_s, ev[k].message);
                ok = false;
            }
        if (ok && a->verb == ACT_INJECT && n < want) {
            ok = grab(bm, d, dyn, a->t_s, &shots[n], err, err_len);
            n += ok;
        }
    }
    free(dyn);
    bmode_destroy(bm);
    driver_destroy(d);
    if (!ok) {
        report_snapshots_free(shots, n);
        return false;
    }
    *out = shots;
    *count = n;
    return true;
}

void report_snapshots_free(report_snapshot *s, int count)
{
    if (!s)
        return;
    for (int i = 0; i < count; i++)
        free(s[i].pixels);
    free(s);
}
