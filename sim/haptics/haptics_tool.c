/* haptics_tool: see haptics_tool.h. */
#include "haptics_tool.h"

#include <math.h>
#include <string.h>

#include "needle.h"
#include "phantom.h"

#define PI 3.14159265358979323846
#define DEG (180.0 / PI)

haptics_tool_def haptics_tool_default_def(void)
{
    return (haptics_tool_def){
        /* A rigid flat punch on an elastic half-space (Sneddon): k = 2 E a / (1 - nu^2). The
         * probe face, 12.8 x 4 mm, is a punch of equivalent radius a = 4 mm; skin and fat in
         * vivo E ~ 40 kPa (Zheng & Mak 1999 measured 10-90 kPa in limb soft tissue by
         * ultrasound indentation), nu = 0.45: k = 0.40 N/mm. An assumption for a back. */
        .skin_stiffness_n_mm = 0.40,
        .redirect_tol_deg = 3.0,
        .redirect_min_s = 0.1,
        .lift_off_mm = 0.5,
        .velocity_tau_s = 0.01,
    };
}

void haptics_tool_init(haptics_tool *t, const haptics_tool_def *def)
{
    memset(t, 0, sizeof *t);
    t->def = def ? *def : haptics_tool_default_def();
    t->last_redirect_t_s = -1e9;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static bool unit(const double v[3], double out[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (!(n > 1e-9) || !isfinite(n))
        return false;
    for (int i = 0; i < 3; i++)
        out[i] = v[i] / n;
    return true;
}

static void set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= 1u << k;
}

/* Angle to the skin plane and azimuth of a direction into the body. */
static void angles(const double dir[3], double *angle_deg, double *azimuth_deg)
{
    *angle_deg = clampd(asin(clampd(dir[2], -1.0, 1.0)) * DEG, 1.0, 90.0);
    *azimuth_deg = atan2(dir[1], dir[0]) * DEG;
}

static void push_verb(driver *d, double t_s, action_verb v)
{
    action a = {.t_s = t_s, .verb = v};
    driver_push(d, &a);
}

void haptics_tool_needle(haptics_tool *t, driver *d, double t_s, const double tip_mm[3], const double dir_in[3])
{
    double dir[3];
    if (!unit(dir_in, dir))
        return;
    for (int i = 0; i < 3; i++)
        if (!isfinite(tip_mm[i]))
            return;
    const driver_snapshot *snap = driver_acquire(d);
    double surface = phantom_surface_mm(snap->anatomy, tip_mm[0], tip_mm[1]);
    bool placed = needle_placed(snap->needle);
    driver_release(d, snap);

    if (t->entered && !placed && t_s - t->entered_t_s > 0.5) {
        /* The session's needle is out (its entry was refused, or it was pulled all the way). */
        t->entered = false;
        t->withdraws++;
    }
    if (!t->entered) {
        double sin_min = sin(1.0 / DEG);
        if (dir[2] > sin_min && tip_mm[2] >= surface) {
            double angle, az;
            angles(dir, &angle, &az);
            action a = {.t_s = t_s, .verb = ACT_NEEDLE_ENTRY};
            set_key(&a, AK_X, tip_mm[0]);
            set_key(&a, AK_Y, tip_mm[1]);
            set_key(&a, AK_ANGLE, angle);
            set_key(&a, AK_AZIMUTH, az);
            driver_push(d, &a);
            t->entered = true;
            t->entered_t_s = t_s;
            t->entry_mm[0] = tip_mm[0], t->entry_mm[1] = tip_mm[1], t->entry_mm[2] = surface;
            memcpy(t->axis, dir, sizeof dir);
            t->s_mm = 0.0;
            t->have_last = false;
            t->entries++;
        }
    }
    double s = 0.0;
    if (t->entered) {
        for (int i = 0; i < 3; i++)
            s += (tip_mm[i] - t->entry_mm[i]) * t->axis[i];
        if (s < -t->def.lift_off_mm) {
            push_verb(d, t_s, ACT_WITHDRAW);
            t->entered = false;
            t->withdraws++;
        } else {
            /* Travel waits until the session has applied the entry: the driver applies motion
             * before the step's actions, so travel pushed with the entry would be lost. */
            double ds = s - t->s_mm;
            if (placed && ds != 0.0) {
                driver_push_needle_motion(d, t_s, ds);
                t->s_mm = s;
            }
            double c = dir[0] * t->axis[0] + dir[1] * t->axis[1] + dir[2] * t->axis[2];
            double turn = acos(clampd(c, -1.0, 1.0)) * DEG;
            if (turn > t->def.redirect_tol_deg && t_s - t->last_redirect_t_s >= t->def.redirect_min_s &&
                dir[2] > sin(1.0 / DEG)) {
                double angle, az;
                angles(dir, &angle, &az);
                action a = {.t_s = t_s, .verb = ACT_REDIRECT};
                set_key(&a, AK_ANGLE, angle);
                set_key(&a, AK_AZIMUTH, az);
                driver_push(d, &a);
                memcpy(t->axis, dir, sizeof dir);
                t->last_redirect_t_s = t_s;
                t->redirects++;
                /* The travel is measured along the new axis from now on. */
                s = 0.0;
                for (int i = 0; i < 3; i++)
                    s += (tip_mm[i] - t->entry_mm[i]) * t->axis[i];
                t->s_mm = s;
                t->have_last = false;
            }
        }
    }
    /* The hand's speed along the needle, low-passed (tracker samples jitter). */
    double v = 0.0;
    if (t->entered && t->have_last && t_s > t->last_t_s) {
        double dt = t_s - t->last_t_s;
        double raw = (s - t->last_s_mm) / dt;
        double k = dt / (t->def.velocity_tau_s + dt);
        v = t->pose.velocity_mm_s + k * (raw - t->pose.velocity_mm_s);
    }
    t->have_last = t->entered;
    t->last_t_s = t_s;
    t->last_s_mm = s;
    t->pose.t_s = t_s;
    t->pose.has_needle = true;
    memcpy(t->pose.tip_mm, tip_mm, sizeof t->pose.tip_mm);
    memcpy(t->pose.dir, dir, sizeof dir);
    t->pose.velocity_mm_s = v;
}

void haptics_tool_probe(haptics_tool *t, driver *d, double t_s, const double face_mm[3], const double r[3][3])
{
    for (int i = 0; i < 3; i++)
        if (!isfinite(face_mm[i]))
            return;
    double u[3] = {r[0][0], r[1][0], 0.0}, w[3] = {r[0][2], r[1][2], r[2][2]};
    double uu[3], ww[3];
    const driver_snapshot *snap = driver_acquire(d);
    double surface = phantom_surface_mm(snap->anatomy, face_mm[0], face_mm[1]);
    probe_pose p = snap->pose;
    driver_release(d, snap);
    p.x_mm = face_mm[0];
    p.y_mm = face_mm[1];
    if (unit(u, uu)) {
        p.rot_deg = atan2(uu[1], uu[0]) * DEG;
        if (unit(w, ww) && ww[2] > 1e-6) {
            /* Components of the beam along the long axis (rock) and across it (tilt). */
            double along = ww[0] * uu[0] + ww[1] * uu[1];
            double across = -ww[0] * uu[1] + ww[1] * uu[0];
            p.rock_deg = clampd(atan2(along, ww[2]) * DEG, -30.0, 30.0);
            p.tilt_deg = clampd(atan2(across, ww[2]) * DEG, -30.0, 30.0);
        }
    }
    p.pressure_n = clampd(t->def.skin_stiffness_n_mm * (face_mm[2] - surface), 0.0, 50.0);
    driver_push_probe_pose(d, t_s, &p,
                           (1u << AK_X) | (1u << AK_Y) | (1u << AK_ROT) | (1u << AK_TILT) | (1u << AK_ROCK) |
                               (1u << AK_PRESSURE));
    t->pose.t_s = t_s;
    t->pose.has_probe = true;
    memcpy(t->pose.probe_mm, face_mm, sizeof t->pose.probe_mm);
}
