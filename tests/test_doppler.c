/* Colour and power Doppler (sim/core/doppler.h), measured on rendered Doppler maps: the sign
 * and magnitude of a perforator's flow against v cos(angle), beam steering as cos predicts,
 * aliasing beyond the Nyquist limit, the wall filter, dermal vessels at published speeds,
 * a vein collapsing under the probe, an artery over the cardiac cycle, determinism and the
 * refusal of bad settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "doppler.h"
#include "physics_util.h"
#include "feedback.h"
#include "session.h"

#define PI 3.14159265358979323846

/* The adult back with flat layers and no vessels; the tests add their own. Dermis from 0.09
 * to 2.54 mm, fat 2.54 to 5.54 mm, deep fat from 5.84 mm. */
static phantom_def flat_def(void)
{
    phantom_def d = phantom_default_def();
    for (int i = 0; i < d.n_layers; i++)
        d.layers[i].variation = 0.0;
    d.n_features = 0;
    d.n_vessels = 0;
    d.n_inclusions = 0;
    return d;
}

static void add_vessel(phantom_def *d, double ax, double az, double bx, double bz, double r_mm,
                       bool vein)
{
    phantom_vessel_def v = {{ax, 0.0, az}, {bx, 0.0, bz}, r_mm, 0.03, vein};
    d->vessels[d->n_vessels++] = v;
}

typedef struct fixture {
    phantom *ph;
    doppler *dop;
    bmode_scene scene;
    doppler_settings set;
    doppler_image img;
} fixture;

static void fixture_make(fixture *f, const phantom_def *d, const doppler_def *dd)
{
    char err[256] = "";
    f->ph = phantom_create(d, err, sizeof err);
    if (!f->ph)
        fail_msg("phantom_create: %s", err);
    doppler_def def = dd ? *dd : doppler_default_def();
    f->dop = doppler_create(&def, err, sizeof err);
    if (!f->dop)
        fail_msg("doppler_create: %s", err);
    memset(&f->scene, 0, sizeof f->scene);
    f->scene.ph = f->ph;
    f->scene.probe = probe_default_def();
    f->scene.pose = probe_default_pose();
    f->set = doppler_default_settings();
    f->set.mode = DOPPLER_COLOR;
    f->set.box_mm[0] = -5.0;
    f->set.box_mm[1] = 0.5;
    f->set.box_mm[2] = 5.0;
    f->set.box_mm[3] = 10.0;
}

static void fixture_free(fixture *f)
{
    doppler_destroy(f->dop);
    phantom_destroy(f->ph);
}

static void render(fixture *f, double t_s)
{
    char err[256] = "";
    if (doppler_render(f->dop, &f->scene, &f->set, t_s, &f->img, err, sizeof err) != 0)
        fail_msg("doppler_render: %s", err);
}

/* Cells whose centre lies within tol_mm of the segment (ax, az)-(bx, bz) in the image plane,
 * away from its ends by 1.5 mm. */
static bool near_axis(const doppler_image *im, int r, int c, double ax, double az, double bx,
                      double bz, double tol_mm)
{
    double x = im->x0_mm + c * im->dx_mm, z = im->z0_mm + r * im->dz_mm;
    double ux = bx - ax, uz = bz - az, l = sqrt(ux * ux + uz * uz);
    ux /= l;
    uz /= l;
    double t = (x - ax) * ux + (z - az) * uz;
    if (t < 1.5 || t > l - 1.5)
        return false;
    double n = fabs(-(x - ax) * uz + (z - az) * ux);
    return n <= tol_mm;
}

typedef struct axis_stats {
    int n, shown, positive;
    double mean_v; /* mean velocity of the shown cells */
} axis_stats;

static axis_stats on_axis(const doppler_image *im, double ax, double az, double bx, double bz,
                          double tol_mm)
{
    axis_stats s = {0, 0, 0, 0.0};
    for (int r = 0; r < im->rows; r++)
        for (int c = 0; c < im->cols; c++) {
            if (!near_axis(im, r, c, ax, az, bx, bz, tol_mm))
                continue;
            s.n++;
            size_t k = (size_t)r * im->cols + c;
            if (im->shown[k]) {
                s.shown++;
                s.positive += im->velocity_cm_s[k] > 0.0f;
                s.mean_v += im->velocity_cm_s[k];
            }
        }
    if (s.shown)
        s.mean_v /= s.shown;
    return s;
}

/* Cos of the angle between the flow a->b and the beam steered by steer_deg, as seen from the
 * probe (positive: flow towards it). The default pose's image axes are +x and +z. */
static double toward_cos(double ax, double az, double bx, double bz, double steer_deg)
{
    double s = steer_deg * PI / 180.0, ux = bx - ax, uz = bz - az, l = sqrt(ux * ux + uz * uz);
    return -(ux / l * sin(s) + uz / l * cos(s));
}

/* A 1.2 mm perforator climbing through the fat towards the skin. A vein, so its speed is
 * steady; radius 0.6 mm. */
#define PA_X -4.0
#define PA_Z 8.0
#define PB_X 4.0
#define PB_Z 3.0

/* The flat back with one vessel of radius r_mm along the perforator's axis PA -> PB, in colour
 * mode at prf_hz. */
static void fixture_perforator(fixture *f, double r_mm, bool vein, double prf_hz)
{
    phantom_def d = flat_def();
    add_vessel(&d, PA_X, PA_Z, PB_X, PB_Z, r_mm, vein);
    fixture_make(f, &d, NULL);
    f->set.prf_hz = prf_hz;
}

/* The map at t_s, counted along the perforator's axis within tol_mm of it. */
static axis_stats render_axis(fixture *f, double t_s, double tol_mm)
{
    render(f, t_s);
    return on_axis(&f->img, PA_X, PA_Z, PB_X, PB_Z, tol_mm);
}

static void test_perforator_sign_and_magnitude(void **state)
{
    (void)state;
    fixture f;
    fixture_perforator(&f, 0.6, true, 5000.0);
    double v = doppler_vessel_speed_cm_s(f.dop, f.ph, 0, 0.0, 0.0);
    double expect = v * toward_cos(PA_X, PA_Z, PB_X, PB_Z, 0.0);
    axis_stats s = render_axis(&f, 0.0, 0.1);
    /* Read after the render: the image's velocity scale is set by it. */
    assert_true(expect > 3.0 && expect < 0.8 * f.img.nyquist_cm_s);
    printf("perforator: v %.2f cm/s, v cos %.2f, measured %.2f on the axis (%d/%d shown)\n", v,
           expect, s.mean_v, s.shown, s.n);
    assert_true(s.n > 50);
    assert_true(s.shown >= 0.9 * s.n);
    assert_int_equal(s.positive, s.shown); /* towards the probe: red */
    /* The parabolic profile averaged over the elevation slice (0.66 mm wide at 5.5 mm) reads
     * below the centreline value, never above it. */
    assert_true(s.mean_v > 0.7 * expect && s.mean_v < 1.02 * expect);
    /* Far from the vessel there is no colour. */
    int stray = 0, far = 0;
    for (int r = 0; r < f.img.rows; r++)
        for (int c = 0; c < f.img.cols; c++) {
            double x = f.img.x0_mm + c * f.img.dx_mm, z = f.img.z0_mm + r * f.img.dz_mm;
            if (fabs(z - (PA_Z + (x - PA_X) * (PB_Z - PA_Z) / (PB_X - PA_X))) > 2.0) {
                far++;
                stray += f.img.shown[(size_t)r * f.img.cols + c];
            }
        }
    assert_true(stray <= far / 100);
    fixture_free(&f);

    /* The same vessel with its flow reversed (away from the probe): blue, same magnitude. */
    phantom_def d2 = flat_def();
    add_vessel(&d2, PB_X, PB_Z, PA_X, PA_Z, 0.6, true);
    fixture_make(&f, &d2, NULL);
    f.set.prf_hz = 5000.0;
    axis_stats s2 = render_axis(&f, 0.0, 0.1);
    assert_true(s2.shown >= 0.9 * s2.n);
    assert_int_equal(s2.positive, 0);
    assert_true(fabs(s2.mean_v + s.mean_v) < 0.05 * s.mean_v);
    fixture_free(&f);
}

static void test_steering_follows_cos(void **state)
{
    (void)state;
    fixture f;
    fixture_perforator(&f, 0.6, true, 5000.0);
    double v0 = render_axis(&f, 0.0, 0.1).mean_v;
    const double steers[] = {-20.0, 20.0};
    for (int i = 0; i < 2; i++) {
        f.set.steer_deg = steers[i];
        axis_stats s = render_axis(&f, 0.0, 0.1);
        double want = toward_cos(PA_X, PA_Z, PB_X, PB_Z, steers[i]) /
                      toward_cos(PA_X, PA_Z, PB_X, PB_Z, 0.0);
        printf("steer %+.0f deg: measured ratio %.3f, cos predicts %.3f\n", steers[i],
               s.mean_v / v0, want);
        assert_true(s.shown >= 0.8 * s.n);
        assert_true(fabs(s.mean_v / v0 - want) < 0.05 * want);
    }
    fixture_free(&f);
}

static void test_aliasing_wraps_the_sign(void **state)
{
    (void)state;
    fixture f;
    fixture_perforator(&f, 0.6, true, 5000.0);
    axis_stats clean = render_axis(&f, 0.0, 0.1);
    /* Lower the PRF until the axis speed exceeds the Nyquist limit: it wraps to the other sign
     * at v - 2 v_N. */
    f.set.prf_hz = 1500.0;
    axis_stats al = render_axis(&f, 0.0, 0.1);
    double vn = f.img.nyquist_cm_s;
    assert_true(clean.mean_v > vn && clean.mean_v < 2.0 * vn);
    printf("aliasing: axis %.2f cm/s, Nyquist %.2f, shown %.2f (wrap predicts %.2f)\n",
           clean.mean_v, vn, al.mean_v, clean.mean_v - 2.0 * vn);
    assert_true(al.shown >= 0.8 * al.n);
    assert_true(al.positive <= al.shown / 10);
    assert_true(fabs(al.mean_v - (clean.mean_v - 2.0 * vn)) < 0.25 * vn);
    fixture_free(&f);
}

static void test_wall_filter_hides_slow_flow(void **state)
{
    (void)state;
    /* A 0.5 mm vein: about 3 cm/s at the centre, 1.7 cm/s along the beam. */
    fixture f;
    fixture_perforator(&f, 0.25, true, 2000.0);
    axis_stats low = render_axis(&f, 0.0, 0.05);
    /* At 10 kHz the wall filter (a tenth of the 21 cm/s scale) cuts at 2.1 cm/s. */
    f.set.prf_hz = 10000.0;
    axis_stats high = render_axis(&f, 0.0, 0.05);
    printf("wall filter: shown %d/%d at 2 kHz, %d/%d at 10 kHz (cut %.2f cm/s)\n", low.shown,
           low.n, high.shown, high.n, 0.1 * f.img.nyquist_cm_s);
    assert_true(low.shown >= 0.8 * low.n);
    assert_true(high.shown <= low.shown / 10);
    fixture_free(&f);
}

/* A 0.2 mm dermal arteriole running in the image plane at 1.5 mm depth, at its published
 * speed (<= 2 cm/s), beside a 0.7 mm perforator climbing through the fat. Over a second of
 * frames at the default (skin) settings the dermal vessel stays dark, with the beam straight
 * or steered 20 degrees; the perforator shows. */
static void test_dermal_vessel_invisible_perforator_shows(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    add_vessel(&d, -8.0, 1.5, 8.0, 1.5, 0.1, false);
    add_vessel(&d, PA_X, PA_Z, PB_X, PB_Z, 0.35, false);
    fixture f;
    fixture_make(&f, &d, NULL);
    double vd = doppler_vessel_speed_cm_s(f.dop, f.ph, 0, 0.0, 0.15);
    assert_true(vd <= 2.0 && vd > 1.0);
    const double steers[] = {0.0, 20.0};
    for (int i = 0; i < 2; i++) {
        f.set.steer_deg = steers[i];
        f.set.prf_hz = 1000.0;
        int dermal = 0, dermal_n = 0;
        for (int k = 0; k < 15; k++) {
            render(&f, k / 15.0);
            axis_stats s = on_axis(&f.img, -8.0, 1.5, 8.0, 1.5, 0.05);
            dermal += s.shown;
            dermal_n += s.n;
        }
        printf("dermal vessel, steer %.0f: shown in %.1f %% of its cells over 15 frames\n",
               steers[i], 100.0 * dermal / dermal_n);
        assert_true(dermal_n > 0);
        assert_true(dermal <= dermal_n / 5);
    }
    /* The perforator at a scale that fits its systolic speed. */
    f.set.steer_deg = 0.0;
    f.set.prf_hz = 8000.0;
    axis_stats p = render_axis(&f, 0.15, 0.1);
    printf("perforator 0.7 mm: shown %d/%d\n", p.shown, p.n);
    assert_true(p.shown >= 0.8 * p.n);
    fixture_free(&f);
}

static void test_vein_collapses_under_pressure(void **state)
{
    (void)state;
    fixture f;
    fixture_perforator(&f, 0.5, true, 3000.0);
    int shown[3];
    const double force[] = {0.0, 1.0, 1.95};
    for (int i = 0; i < 3; i++) {
        f.scene.pose.pressure_n = force[i];
        shown[i] = render_axis(&f, 0.0, 0.3).shown;
        printf("vein at %.2f N: %d cells of colour along it, centre speed %.2f cm/s\n", force[i],
               shown[i], doppler_vessel_speed_cm_s(f.dop, f.ph, 0, force[i], 0.0));
    }
    assert_true(shown[0] > 150);
    assert_true(shown[1] < shown[0]);
    assert_true(shown[2] <= shown[0] / 50);
    assert_true(doppler_vessel_speed_cm_s(f.dop, f.ph, 0, 1.95, 0.0) == 0.0);
    fixture_free(&f);
}

static void test_artery_pulsates(void **state)
{
    (void)state;
    doppler_def dd = doppler_default_def();
    fixture f;
    fixture_perforator(&f, 0.6, false, 10000.0);
    double period = 60.0 / dd.heart_rate_bpm;
    double peak = 0.0, low = 1e9;
    for (int k = 0; k < 20; k++) {
        axis_stats s = render_axis(&f, period * k / 20.0, 0.1);
        assert_true(s.shown >= 0.8 * s.n);
        peak = fmax(peak, s.mean_v);
        low = fmin(low, s.mean_v);
    }
    printf("artery over a beat: %.2f .. %.2f cm/s on the axis (diastolic ratio %.2f)\n", low,
           peak, dd.diastolic_ratio);
    assert_true(low / peak > 0.5 * dd.diastolic_ratio && low / peak < 1.5 * dd.diastolic_ratio);
    /* One period later the same phase gives the same map. */
    render(&f, 0.1);
    float a = f.img.velocity_cm_s[f.img.rows / 2 * f.img.cols + f.img.cols / 2];
    double sa = doppler_vessel_speed_cm_s(f.dop, f.ph, 0, 0.0, 0.1);
    double sb = doppler_vessel_speed_cm_s(f.dop, f.ph, 0, 0.0, 0.1 + period);
    assert_true(fabs(sa - sb) < 1e-9 * sa);
    assert_true(isfinite(a));
    fixture_free(&f);
}

static void test_power_mode_and_determinism(void **state)
{
    (void)state;
    fixture f;
    fixture_perforator(&f, 0.35, false, 8000.0);
    f.set.mode = DOPPLER_POWER;
    render(&f, 0.2);
    size_t n = (size_t)f.img.rows * f.img.cols;
    uint8_t *first = malloc(n);
    float *pw = malloc(n * sizeof *pw);
    memcpy(first, f.img.shown, n);
    memcpy(pw, f.img.power_db, n * sizeof *pw);
    render(&f, 0.2);
    assert_memory_equal(first, f.img.shown, n);
    assert_memory_equal(pw, f.img.power_db, n * sizeof *pw);
    /* The next colour frame draws new noise: the power differs somewhere. */
    render(&f, 0.2 + 1.0 / doppler_default_def().frame_rate_hz);
    assert_true(memcmp(pw, f.img.power_db, n * sizeof *pw) != 0);
    /* Colour gain: +12 dB paints noise over much of the box (as a scanner does). */
    int base = 0, loud = 0;
    for (size_t k = 0; k < n; k++)
        base += f.img.shown[k];
    f.set.gain_db = 12.0;
    render(&f, 0.2);
    for (size_t k = 0; k < n; k++)
        loud += f.img.shown[k];
    printf("power mode: %d cells at 0 dB gain, %d at +12 dB\n", base, loud);
    assert_true(loud > 3 * base);
    free(first);
    free(pw);
    fixture_free(&f);
}

static void test_bad_settings_are_refused(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    fixture f;
    fixture_make(&f, &d, NULL);
    char err[256] = "";
    f.set.prf_hz = NAN;
    assert_int_equal(doppler_render(f.dop, &f.scene, &f.set, 0.0, &f.img, err, sizeof err), -1);
    assert_non_null(strstr(err, "prf_hz"));
    f.set = doppler_default_settings();
    f.set.mode = DOPPLER_COLOR;
    f.set.box_mm[2] = f.set.box_mm[0];
    assert_int_equal(doppler_render(f.dop, &f.scene, &f.set, 0.0, &f.img, err, sizeof err), -1);
    assert_non_null(strstr(err, "box"));
    f.set = doppler_default_settings();
    f.set.steer_deg = 45.0;
    assert_non_null(doppler_settings_check(&f.set));
    f.set = doppler_default_settings();
    f.set.mode = DOPPLER_COLOR;
    assert_int_equal(doppler_render(f.dop, &f.scene, &f.set, 1e300, &f.img, err, sizeof err), -1);
    assert_non_null(strstr(err, "time"));
    /* A box beside the image gives no cells, not an error. */
    f.set = doppler_default_settings();
    f.set.mode = DOPPLER_COLOR;
    f.set.box_mm[0] = 20.0;
    f.set.box_mm[2] = 30.0;
    assert_int_equal(doppler_render(f.dop, &f.scene, &f.set, 0.0, &f.img, err, sizeof err), 0);
    assert_int_equal(f.img.rows * f.img.cols, 0);
    doppler_def bad = doppler_default_def();
    bad.ensemble = 1;
    assert_null(doppler_create(&bad, err, sizeof err));
    assert_non_null(strstr(err, "ensemble"));
    assert_int_equal(doppler_mode_from_name("color"), DOPPLER_COLOR);
    assert_int_equal(doppler_mode_from_name("colour"), DOPPLER_MODE_COUNT);
    fixture_free(&f);
}

static bool parse(const char *line, action *a, char *err, size_t n)
{
    return action_parse_line(line, strlen(line), -1.0, a, err, n);
}

/* The "doppler" verb: parsed with plain-word refusals, written back canonically, applied to the
 * session (keys left out keep their value), and the adult back's perforator shows in colour
 * through the session's scene. */
static void test_doppler_action_and_session(void **state)
{
    (void)state;
    char err[200];
    action a;
    assert_false(parse("{\"t\":1,\"do\":\"doppler\",\"mode\":\"colour\"}", &a, err, sizeof err));
    assert_non_null(strstr(err, "\"color\""));
    assert_false(parse("{\"t\":1,\"do\":\"doppler\",\"x0_mm\":1}", &a, err, sizeof err));
    assert_non_null(strstr(err, "all four corners"));
    assert_false(parse("{\"t\":1,\"do\":\"doppler\",\"x0_mm\":3,\"z0_mm\":1,\"x1_mm\":2,\"z1_mm\":5}",
                       &a, err, sizeof err));
    assert_non_null(strstr(err, "0.5 mm"));
    assert_false(parse("{\"t\":1,\"do\":\"doppler\",\"gain_db\":50}", &a, err, sizeof err));
    assert_non_null(strstr(err, "<= 30 dB"));
    assert_false(parse("{\"t\":1,\"do\":\"doppler\"}", &a, err, sizeof err));
    assert_non_null(strstr(err, "at least one"));
    assert_false(parse("{\"t\":1,\"do\":\"doppler\",\"prf\":1000}", &a, err, sizeof err));
    assert_non_null(strstr(err, "prf_hz"));

    const char *on = "{\"t\":1,\"do\":\"doppler\",\"mode\":\"color\",\"x0_mm\":-8,\"z0_mm\":3,"
                     "\"x1_mm\":0,\"z1_mm\":10,\"prf_hz\":8000}";
    assert_true(parse(on, &a, err, sizeof err));
    char line[ACTIONS_MAX_LINE];
    action_format(&a, line, sizeof line);
    action b;
    assert_true(parse(line, &b, err, sizeof err));
    assert_true(b.has_mode && b.mode == DOPPLER_COLOR && b.has == a.has);

    scenario sc = pu_load_preset("adult_back");
    session *s = session_create(&sc, err, sizeof err);
    assert_non_null(s);
    uint64_t h0 = session_hash(s);
    assert_int_equal(session_doppler(s).mode, DOPPLER_OFF);
    assert_true(session_apply(s, &a, err, sizeof err));
    assert_true(session_hash(s) != h0);
    doppler_settings d = session_doppler(s);
    assert_int_equal(d.mode, DOPPLER_COLOR);
    assert_true(d.box_mm[0] == -8.0 && d.box_mm[3] == 10.0 && d.prf_hz == 8000.0);
    assert_true(parse("{\"t\":2,\"do\":\"doppler\",\"steer_deg\":-20}", &a, err, sizeof err));
    assert_true(session_apply(s, &a, err, sizeof err));
    d = session_doppler(s);
    assert_true(d.steer_deg == -20.0 && d.prf_hz == 8000.0 && d.mode == DOPPLER_COLOR);

    bmode_scene scene;
    phantom_inclusion dyn[BMODE_MAX_DYN];
    session_scene(s, &scene, dyn);
    doppler_def dd = doppler_default_def();
    doppler *dop = doppler_create(&dd, err, sizeof err);
    assert_non_null(dop);
    doppler_image img;
    int shown = 0, near = 0;
    for (int k = 0; k < 10; k++) {
        assert_int_equal(doppler_render(dop, &scene, &d, 2.0 + 0.05 * k, &img, err, sizeof err), 0);
        for (int r = 0; r < img.rows; r++)
            for (int c = 0; c < img.cols; c++) {
                if (!img.shown[(size_t)r * img.cols + c])
                    continue;
                shown++;
                double x = img.x0_mm + c * img.dx_mm, z = img.z0_mm + r * img.dz_mm;
                near += fabs(x + 4.0) < 1.5 && fabs(z - 6.25) < 1.0;
            }
    }
    printf("adult back: %d cells of colour over 10 frames, %d at the perforator\n", shown, near);
    assert_true(near > 20);
    assert_true(near >= 0.8 * shown);
    doppler_destroy(dop);
    session_destroy(s);
}

static void apply_line(session *s, const char *line)
{
    char err[200];
    action a;
    if (!action_parse_line(line, strlen(line), -1.0, &a, err, sizeof err))
        fail_msg("%s: %s", line, err);
    if (!session_apply(s, &a, err, sizeof err))
        fail_msg("%s: %s", line, err);
}

static bool feedback_has(const session *s, const char *text)
{
    score_result r = session_score(s);
    const scenario *sc = session_scenario(s);
    feedback_item items[FEEDBACK_MAX];
    int n = feedback_generate(&sc->scoring, &sc->plan, session_metrics(s), &r, items, FEEDBACK_MAX);
    for (int i = 0; i < n && i < FEEDBACK_MAX; i++)
        if (strstr(items[i].message, text))
            return true;
    return false;
}

/* scoring.require_doppler_check: half the assessment is a Doppler look under each planned
 * point (-12, 0) and (8, -6) before the first needle entry. Skipped, it costs half the
 * assessment and the feedback says why; a point looked at after the entry does not count;
 * a case without the switch scores and reports as before. */
static void test_doppler_check_is_scored(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    char err[200];
    /* The switch reads from a scenario file, is written back only when set, and a wrong type
     * is refused in words. */
    scenario rd_sc;
    scenario_diags dg = {0};
    assert_true(scenario_load_string("{\"version\": 1, \"name\": \"D\", "
                                     "\"scoring\": {\"require_doppler_check\": true}}", &rd_sc, &dg));
    scenario_diags_free(&dg);
    assert_true(rd_sc.scoring.require_doppler_check);
    char *text = scenario_save_string(&rd_sc), *plain_text = scenario_save_string(&sc);
    assert_non_null(strstr(text, "\"require_doppler_check\": true"));
    assert_null(strstr(plain_text, "require_doppler_check"));
    free(text);
    free(plain_text);
    memset(&dg, 0, sizeof dg);
    assert_false(scenario_load_string("{\"version\": 1, \"name\": \"D\", "
                                      "\"scoring\": {\"require_doppler_check\": 1}}", &rd_sc, &dg));
    assert_true(dg.count > 0 && strstr(dg.items[0].message, "true or false"));
    scenario_diags_free(&dg);
    session *plain = session_create(&sc, err, sizeof err);
    sc.scoring.require_doppler_check = true;
    session *skip = session_create(&sc, err, sizeof err);
    session *done = session_create(&sc, err, sizeof err);
    assert_non_null(plain);
    assert_non_null(skip);
    assert_non_null(done);
    const char *mark = "{\"t\":1,\"do\":\"mark_dermis\",\"top_mm\":0.1,\"bottom_mm\":2.5}";
    apply_line(plain, mark);
    apply_line(skip, mark);
    apply_line(done, mark);
    /* The box over the first point: the probe on it, the box around the image centre. */
    apply_line(done, "{\"t\":2,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0}");
    apply_line(done, "{\"t\":3,\"do\":\"doppler\",\"mode\":\"color\",\"x0_mm\":-3,\"z0_mm\":1,"
                     "\"x1_mm\":3,\"z1_mm\":6}");
    assert_int_equal(session_metrics(done)->doppler_points, 1u);
    apply_line(done, "{\"t\":4,\"do\":\"probe\",\"x_mm\":8,\"y_mm\":-6}");
    assert_int_equal(session_metrics(done)->doppler_points, 3u);
    /* Needling, then Doppler over the first point on the skipping session: too late. */
    const char *entry = "{\"t\":5,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":3,"
                        "\"angle_deg\":30,\"azimuth_deg\":-90}";
    apply_line(skip, entry);
    apply_line(skip, "{\"t\":6,\"do\":\"doppler\",\"mode\":\"power\"}");
    apply_line(skip, "{\"t\":7,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0}");
    score_result rp = session_score(plain), rs = session_score(skip), rd = session_score(done);
    printf("assessment: %.3f without the switch, %.3f skipped, %.3f checked (%d/%d points)\n",
           rp.part[PART_ASSESSMENT], rs.part[PART_ASSESSMENT], rd.part[PART_ASSESSMENT],
           rd.doppler_checked, rd.doppler_required);
    assert_int_equal(rs.doppler_checked, 0);
    assert_int_equal(rd.doppler_checked, 2);
    assert_int_equal(rd.doppler_required, 2);
    assert_true(fabs(rs.part[PART_ASSESSMENT] - 0.5 * rp.part[PART_ASSESSMENT]) < 1e-9);
    assert_true(fabs(rd.part[PART_ASSESSMENT] - (0.5 * rp.part[PART_ASSESSMENT] + 0.5)) < 1e-9);
    assert_true(feedback_has(skip, "Doppler check: 0 of 2 planned points"));
    assert_true(feedback_has(skip, "shows only in Doppler"));
    assert_true(feedback_has(done, "Doppler check: 2 of 2"));
    assert_false(feedback_has(plain, "Doppler"));
    char *rep = session_report_json(done, NULL), *rep_plain = session_report_json(plain, NULL);
    assert_non_null(strstr(rep, "\"doppler_points_checked\": 2"));
    assert_null(strstr(rep_plain, "doppler"));
    free(rep);
    free(rep_plain);
    session_destroy(plain);
    session_destroy(skip);
    session_destroy(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perforator_sign_and_magnitude),
        cmocka_unit_test(test_steering_follows_cos),
        cmocka_unit_test(test_aliasing_wraps_the_sign),
        cmocka_unit_test(test_wall_filter_hides_slow_flow),
        cmocka_unit_test(test_dermal_vessel_invisible_perforator_shows),
        cmocka_unit_test(test_vein_collapses_under_pressure),
        cmocka_unit_test(test_artery_pulsates),
        cmocka_unit_test(test_power_mode_and_determinism),
        cmocka_unit_test(test_bad_settings_are_refused),
        cmocka_unit_test(test_doppler_action_and_session),
        cmocka_unit_test(test_doppler_check_is_scored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
