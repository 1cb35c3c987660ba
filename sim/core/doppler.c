/* doppler: colour and power Doppler estimated per cell from the vessel model (doppler.h).
 *
 * Sources (shared/reference/anatomy.md section 5, tissue.md section 7):
 * - normal dermal vessels are small and slow (<= 2 cm/s) and mostly invisible on colour and
 *   power Doppler (J Clin Ultrasound 2022;50:121; J Ultrasound 2023, PMC10063712);
 * - the largest thigh perforators peak at 30-47 cm/s (12 MHz colour Doppler, PSJD 2012);
 *   colour duplex is unreliable below 0.5 mm (Plast Reconstr Surg 1994;94:644);
 * - posterior intercostal perforators are 0.7 +- 0.24 mm (Schmidt et al. 2019);
 * - skin Doppler at low PRF, about 750 Hz; perforator veins at 500-1000 Hz (ecocutanea "Ten
 *   tips"; veinpracticeexpert, both weak); no probe pressure or the vessels collapse.
 * Not found, so assumptions: the speed-diameter line between the dermal and the perforator
 * figures, the heart rate (70 bpm), the diastolic ratio (0.3), the venous speed (a quarter of
 * an artery's peak), the sensitivity and threshold (chosen so that noise shows only above
 * about +6 dB of colour gain, as a scanner's does when the gain is set just below noise). */
#include "doppler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "limit.h"

#define PI 3.14159265358979323846
/* Elevation samples across the slice: spaced at most half the thinnest lumen radius so that a
 * 0.2 mm dermal vessel is integrated over its chord rather than hit or missed by one sample. */
#define ELEV_MIN 7
#define ELEV_MAX 65

doppler_settings doppler_default_settings(void)
{
    doppler_settings s;
    s.mode = DOPPLER_OFF;
    s.box_mm[0] = -5.0;
    s.box_mm[1] = 1.0;
    s.box_mm[2] = 5.0;
    s.box_mm[3] = 9.0;
    s.prf_hz = 1000.0;
    s.steer_deg = 0.0;
    s.gain_db = 0.0;
    return s;
}

static const char *const k_mode_names[DOPPLER_MODE_COUNT] = {"off", "color", "power"};

const char *doppler_mode_name(doppler_mode m)
{
    return (int)m >= 0 && m < DOPPLER_MODE_COUNT ? k_mode_names[m] : "unknown";
}

doppler_mode doppler_mode_from_name(const char *name)
{
    for (int i = 0; i < DOPPLER_MODE_COUNT; i++)
        if (name && strcmp(name, k_mode_names[i]) == 0)
            return (doppler_mode)i;
    return DOPPLER_MODE_COUNT;
}

const char *doppler_settings_check(const doppler_settings *s)
{
    if ((int)s->mode < 0 || s->mode >= DOPPLER_MODE_COUNT)
        return "doppler mode: must be off, color or power";
    for (int k = 0; k < 4; k++)
        if (!isfinite(s->box_mm[k]))
            return "doppler box: the corners must be finite numbers";
    if (!limit_ok(LIM_CALIPER_X_MM, s->box_mm[0]) || !limit_ok(LIM_CALIPER_X_MM, s->box_mm[2]))
        return "doppler box: the lateral corners must be within -128..128 mm";
    if (!limit_ok(LIM_CALIPER_Z_MM, s->box_mm[1]) || !limit_ok(LIM_CALIPER_Z_MM, s->box_mm[3]))
        return "doppler box: the depths must be within 0..40 mm";
    if (!limit_ok(LIM_DOPPLER_PRF_HZ, s->prf_hz))
        return "doppler prf_hz: must be within 100..20000 Hz";
    if (!limit_ok(LIM_DOPPLER_STEER_DEG, s->steer_deg))
        return "doppler steer_deg: must be within -30..30 degrees";
    if (!limit_ok(LIM_DOPPLER_GAIN_DB, s->gain_db))
        return "doppler gain_db: must be within -30..30 dB";
    if (!(s->box_mm[2] - s->box_mm[0] >= 0.5) || !(s->box_mm[3] - s->box_mm[1] >= 0.5))
        return "doppler box: x1 must exceed x0 and z1 exceed z0 by at least 0.5 mm";
    return NULL;
}

double doppler_nyquist_cm_s(const doppler_settings *s, const probe_def *p)
{
    /* v = PRF * c / (4 f0): the phase between pulses reaches pi. c in cm/s, f0 in Hz. */
    return s->prf_hz * (PROBE_SPEED_M_S * 100.0) / (4.0 * p->freq_mhz * 1e6);
}

doppler_def doppler_default_def(void)
{
    doppler_def d;
    d.cell_lateral_mm = 0.2;
    d.cell_axial_mm = 0.1;
    d.max_cols = 128;
    d.max_rows = 200;
    d.wall_filter_frac = 0.1;
    d.ensemble = 10;
    d.heart_rate_bpm = 70.0;
    d.diastolic_ratio = 0.3;
    d.vein_speed_frac = 0.25;
    d.blood_snr_db = 15.0;
    d.threshold_db = 8.0;
    d.frame_rate_hz = 15.0;
    d.seed = 1;
    return d;
}

struct doppler {
    doppler_def def;
    float *velocity, *power;
    uint8_t *shown;
};

doppler *doppler_create(const doppler_def *def, char *err, size_t err_len)
{
    const char *bad = NULL;
    if (!(def->cell_lateral_mm >= 0.02 && def->cell_lateral_mm <= 2.0) ||
        !(def->cell_axial_mm >= 0.02 && def->cell_axial_mm <= 2.0))
        bad = "cell sizes must be within 0.02..2 mm";
    else if (def->max_cols < 1 || def->max_cols > 1024 || def->max_rows < 1 || def->max_rows > 1024)
        bad = "max_cols and max_rows must be within 1..1024";
    else if (!(def->wall_filter_frac >= 0.0 && def->wall_filter_frac < 1.0))
        bad = "wall_filter_frac must be within 0..1";
    else if (def->ensemble < 2 || def->ensemble > 64)
        bad = "ensemble must be within 2..64 pulses";
    else if (!(def->heart_rate_bpm >= 20.0 && def->heart_rate_bpm <= 250.0))
        bad = "heart_rate_bpm must be within 20..250";
    else if (!(def->diastolic_ratio >= 0.0 && def->diastolic_ratio <= 1.0))
        bad = "diastolic_ratio must be within 0..1";
    else if (!(def->vein_speed_frac >= 0.0 && def->vein_speed_frac <= 2.0))
        bad = "vein_speed_frac must be within 0..2";
    else if (!isfinite(def->blood_snr_db) || !isfinite(def->threshold_db))
        bad = "blood_snr_db and threshold_db must be finite";
    else if (!(def->frame_rate_hz > 0.0 && def->frame_rate_hz <= 200.0))
        bad = "frame_rate_hz must be within 0..200";
    if (bad) {
        if (err && err_len)
            snprintf(err, err_len, "doppler: %s", bad);
        return NULL;
    }
    doppler *d = calloc(1, sizeof *d);
    size_t n = (size_t)def->max_cols * (size_t)def->max_rows;
    if (d) {
        d->def = *def;
        d->velocity = malloc(n * sizeof *d->velocity);
        d->power = malloc(n * sizeof *d->power);
        d->shown = malloc(n);
    }
    if (!d || !d->velocity || !d->power || !d->shown) {
        doppler_destroy(d);
        if (err && err_len)
            snprintf(err, err_len, "doppler: out of memory");
        return NULL;
    }
    return d;
}

void doppler_destroy(doppler *d)
{
    if (!d)
        return;
    free(d->velocity);
    free(d->power);
    free(d->shown);
    free(d);
}

double doppler_peak_velocity_cm_s(double diameter_mm)
{
    /* A line through the two published anchors: dermal vessels (taken as 0.2 mm) at 2 cm/s
     * and large (> 1 mm) perforators at 38 cm/s (mid of 30-47), reached at 1.2 mm. */
    const double d0 = 0.2, v0 = 2.0, d1 = 1.2, v1 = 38.0;
    if (diameter_mm <= d0)
        return v0 * (diameter_mm > 0.0 ? diameter_mm / d0 : 0.0);
    if (diameter_mm >= d1)
        return v1;
    return v0 + (v1 - v0) * (diameter_mm - d0) / (d1 - d0);
}

/* Fraction of a vein's lumen left open: the collapsed slit (5 % of the radius) carries none. */
static double vein_open(const phantom *ph, int i, double pressure_n)
{
    const phantom_vessel_def *v = &phantom_get_def(ph)->vessels[i];
    double k = (phantom_vessel_vertical_radius(ph, i, pressure_n) / v->radius_mm - 0.05) / 0.95;
    return k < 0.0 ? 0.0 : (k > 1.0 ? 1.0 : k);
}

static double speed_def(const doppler_def *def, const phantom *ph, int i, double pressure_n,
                        double t_s)
{
    const phantom_vessel_def *v = &phantom_get_def(ph)->vessels[i];
    double peak = doppler_peak_velocity_cm_s(2.0 * v->radius_mm);
    if (v->is_vein)
        return def->vein_speed_frac * peak * vein_open(ph, i, pressure_n);
    /* A systolic upstroke and fall over the first 35 % of the beat, diastolic floor after. */
    double beats = t_s * def->heart_rate_bpm / 60.0;
    double phase = beats - floor(beats);
    double sys = phase < 0.35 ? sin(PI * phase / 0.35) : 0.0;
    return peak * (def->diastolic_ratio + (1.0 - def->diastolic_ratio) * sys * sys);
}

double doppler_vessel_speed_cm_s(const doppler *d, const phantom *ph, int vessel,
                                 double pressure_n, double t_s)
{
    if (vessel < 0 || vessel >= phantom_get_def(ph)->n_vessels)
        return 0.0;
    return speed_def(&d->def, ph, vessel, pressure_n, t_s);
}

/* A vessel's cross-section frame and flow for one render. */
typedef struct flow_vessel {
    double a[3], dir[3], ev[3], eh[3];
    double len, rh, rv, reach;
    double v_toward_cm_s; /* centreline velocity along the (steered) beam towards the probe */
} flow_vessel;

static void vessel_prepare(const phantom *ph, int i, double pressure_n, double speed_cm_s,
                           const double beam[3], double elev_reach, flow_vessel *f)
{
    const phantom_vessel_def *v = &phantom_get_def(ph)->vessels[i];
    double l2 = 0.0;
    for (int k = 0; k < 3; k++) {
        f->a[k] = v->a_mm[k];
        f->dir[k] = v->b_mm[k] - v->a_mm[k];
        l2 += f->dir[k] * f->dir[k];
    }
    f->len = sqrt(l2);
    for (int k = 0; k < 3; k++)
        f->dir[k] /= f->len;
    /* The same cross-section axes as phantom_vessel_region: ev is z with the axis removed. */
    double ev[3] = {-f->dir[2] * f->dir[0], -f->dir[2] * f->dir[1], 1.0 - f->dir[2] * f->dir[2]};
    double evl = sqrt(ev[0] * ev[0] + ev[1] * ev[1] + ev[2] * ev[2]);
    if (evl < 1e-9) {
        double x[3] = {1, 0, 0}, y[3] = {0, 1, 0};
        memcpy(f->ev, x, sizeof x);
        memcpy(f->eh, y, sizeof y);
    } else {
        for (int k = 0; k < 3; k++)
            f->ev[k] = ev[k] / evl;
        f->eh[0] = f->dir[1] * f->ev[2] - f->dir[2] * f->ev[1];
        f->eh[1] = f->dir[2] * f->ev[0] - f->dir[0] * f->ev[2];
        f->eh[2] = f->dir[0] * f->ev[1] - f->dir[1] * f->ev[0];
    }
    f->rh = v->radius_mm;
    f->rv = phantom_vessel_vertical_radius(ph, i, pressure_n);
    f->reach = v->radius_mm + elev_reach;
    double along = f->dir[0] * beam[0] + f->dir[1] * beam[1] + f->dir[2] * beam[2];
    f->v_toward_cm_s = -speed_cm_s * along; /* beam points into the body: flow along it recedes */
}

/* Squared normalised radius (<= 1 in the lumen) of p, or -1 outside the lumen. */
static double lumen_rho2(const flow_vessel *f, const double p[3])
{
    double ap[3] = {p[0] - f->a[0], p[1] - f->a[1], p[2] - f->a[2]};
    double t = ap[0] * f->dir[0] + ap[1] * f->dir[1] + ap[2] * f->dir[2];
    if (t < 0.0 || t > f->len)
        return -1.0;
    double q[3] = {ap[0] - t * f->dir[0], ap[1] - t * f->dir[1], ap[2] - t * f->dir[2]};
    double qv = q[0] * f->ev[0] + q[1] * f->ev[1] + q[2] * f->ev[2];
    double qh = q[0] * f->eh[0] + q[1] * f->eh[1] + q[2] * f->eh[2];
    double r2 = (qh / f->rh) * (qh / f->rh) + (qv / f->rv) * (qv / f->rv);
    return r2 <= 1.0 ? r2 : -1.0;
}

/* Distance of p from the vessel's axis segment. */
static double axis_distance(const flow_vessel *f, const double p[3])
{
    double ap[3] = {p[0] - f->a[0], p[1] - f->a[1], p[2] - f->a[2]};
    double t = ap[0] * f->dir[0] + ap[1] * f->dir[1] + ap[2] * f->dir[2];
    t = t < 0.0 ? 0.0 : (t > f->len ? f->len : t);
    double s = 0.0;
    for (int k = 0; k < 3; k++) {
        double q = ap[k] - t * f->dir[k];
        s += q * q;
    }
    return sqrt(s);
}

/* Two standard normal deviates from a hash (Box-Muller). */
static void gauss2(uint32_t h, double out[2])
{
    uint32_t h2 = hash_mix32(h ^ 0x9e3779b9U);
    double u1 = ((double)(h >> 8) + 0.5) * (1.0 / 16777216.0);
    double u2 = (double)(h2 >> 8) * (1.0 / 16777216.0);
    double r = sqrt(-2.0 * log(u1));
    out[0] = r * cos(2.0 * PI * u2);
    out[1] = r * sin(2.0 * PI * u2);
}

int doppler_render(doppler *d, const bmode_scene *scene, const doppler_settings *s, double t_s,
                   doppler_image *out, char *err, size_t err_len)
{
    const doppler_def *def = &d->def;
    const char *bad = doppler_settings_check(s);
    if (!bad && !scene->ph)
        bad = "doppler: the scene has no phantom";
    if (!bad)
        bad = probe_check(&scene->probe);
    if (!bad && !(t_s >= 0.0 && t_s <= 1e7))
        bad = "doppler: the time must be within 0..1e7 s";
    if (bad) {
        if (err && err_len)
            snprintf(err, err_len, "%s", bad);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->mode = s->mode;
    out->nyquist_cm_s = doppler_nyquist_cm_s(s, &scene->probe);
    out->velocity_cm_s = d->velocity;
    out->power_db = d->power;
    out->shown = d->shown;
    if (s->mode == DOPPLER_OFF)
        return 0;

    int img_rows, img_cols;
    double dz, dx, x0;
    bmode_geometry(&scene->probe, &img_rows, &img_cols, &dz, &dx, &x0);
    double bx0 = fmax(s->box_mm[0], x0), bx1 = fmin(s->box_mm[2], x0 + (img_cols - 1) * dx);
    double bz0 = fmax(s->box_mm[1], 0.0), bz1 = fmin(s->box_mm[3], scene->probe.depth_mm);
    if (!(bx1 - bx0 > 0.0) || !(bz1 - bz0 > 0.0))
        return 0;
    int cols = (int)ceil((bx1 - bx0) / def->cell_lateral_mm);
    int rows = (int)ceil((bz1 - bz0) / def->cell_axial_mm);
    cols = cols < 1 ? 1 : (cols > def->max_cols ? def->max_cols : cols);
    rows = rows < 1 ? 1 : (rows > def->max_rows ? def->max_rows : rows);
    out->cols = cols;
    out->rows = rows;
    out->dx_mm = (bx1 - bx0) / cols;
    out->dz_mm = (bz1 - bz0) / rows;
    out->x0_mm = bx0 + 0.5 * out->dx_mm;
    out->z0_mm = bz0 + 0.5 * out->dz_mm;

    const phantom *ph = scene->ph;
    const phantom_def *pd = phantom_get_def(ph);
    double pressure = scene->pose.pressure_n;
    probe_frame fr = probe_frame_make(ph, &scene->probe, &scene->pose);
    double st = s->steer_deg * PI / 180.0;
    double beam[3];
    for (int k = 0; k < 3; k++)
        beam[k] = cos(st) * fr.w[k] + sin(st) * fr.u[k];
    /* The elevation slice is sampled out to one -6 dB width either side of the plane. */
    double max_elev = 0.0;
    for (double z = bz0; z <= bz1 + 1e-9; z += 0.5 * (bz1 - bz0))
        max_elev = fmax(max_elev, probe_elevation_fwhm_mm(&scene->probe, z));
    flow_vessel fv[PHANTOM_MAX_VESSELS];
    int nv = 0;
    double r_min = 1e9;
    for (int i = 0; i < pd->n_vessels; i++) {
        r_min = fmin(r_min, pd->vessels[i].radius_mm);
        double speed = speed_def(def, ph, i, pressure, t_s);
        vessel_prepare(ph, i, pressure, speed, beam, max_elev + out->dx_mm + out->dz_mm, &fv[nv++]);
    }

    double vn = out->nyquist_cm_s, vw = def->wall_filter_frac * vn;
    double snr = pow(10.0, def->blood_snr_db / 10.0), thr = pow(10.0, def->threshold_db / 10.0);
    double gain = pow(10.0, s->gain_db / 10.0);
    double noise_sd = sqrt(1.0 / (2.0 * def->ensemble));
    uint32_t frame = (uint32_t)(int64_t)floor(t_s * def->frame_rate_hz);
    uint32_t seed = hash_mix32(def->seed ^ pd->seed * 0x27d4eb2dU);

    int n_elev = nv ? (int)ceil(2.0 * max_elev / (0.5 * r_min)) + 1 : ELEV_MIN;
    n_elev = n_elev < ELEV_MIN ? ELEV_MIN : (n_elev > ELEV_MAX ? ELEV_MAX : n_elev);
    for (int r = 0; r < rows; r++) {
        double z = out->z0_mm + r * out->dz_mm;
        double fwhm = probe_elevation_fwhm_mm(&scene->probe, z);
        double ys[ELEV_MAX], ws[ELEV_MAX], wsum = 0.0;
        for (int e = 0; e < n_elev; e++) {
            ys[e] = fwhm * (2.0 * e / (n_elev - 1) - 1.0);
            ws[e] = exp(-4.0 * log(2.0) * ys[e] * ys[e] / (fwhm * fwhm));
            wsum += ws[e];
        }
        for (int c = 0; c < cols; c++) {
            double x = out->x0_mm + c * out->dx_mm;
            double p0[3];
            probe_image_to_phantom(&fr, x, 0.0, z, p0);
            double re = 0.0, im = 0.0, pw = 0.0;
            for (int i = 0; i < nv; i++) {
                const flow_vessel *f = &fv[i];
                if (axis_distance(f, p0) > f->reach)
                    continue;
                for (int e = 0; e < n_elev; e++) {
                    double p[3];
                    for (int k = 0; k < 3; k++)
                        p[k] = p0[k] + ys[e] * fr.v[k];
                    double rho2 = lumen_rho2(f, p);
                    if (rho2 < 0.0)
                        continue;
                    /* Laminar: parabolic profile, the centreline speed at rho = 0. */
                    double v = f->v_toward_cm_s * (1.0 - rho2);
                    /* The wall filter acts on the pulse-to-pulse phase, so on the wrapped
                     * velocity: flow near twice the Nyquist limit is filtered like slow flow. */
                    double vwrap = v - 2.0 * vn * floor(v / (2.0 * vn) + 0.5);
                    double q = vw > 0.0 ? (vwrap / vw) * (vwrap / vw) : 1e30;
                    double h = q * q / (1.0 + q * q); /* wall filter power response */
                    double w = ws[e] * h;
                    double ph_rad = PI * v / vn;
                    re += w * cos(ph_rad);
                    im += w * sin(ph_rad);
                    pw += w;
                }
            }
            uint32_t hc = hash_voxel(c, r, (int32_t)frame, seed);
            double g[2];
            gauss2(hc, g);
            double u = ((double)(hash_mix32(hc ^ 0x85ebca6bU) >> 8) + 0.5) * (1.0 / 16777216.0);
            /* Signal and noise powers at the cell, both scaled by the colour gain. */
            double sig = snr * pw / wsum;
            double p_est = gain * (sig - log(u));
            double r1re = snr * re / wsum + noise_sd * g[0];
            double r1im = snr * im / wsum + noise_sd * g[1];
            size_t k = (size_t)r * cols + c;
            d->power[k] = (float)(10.0 * log10(p_est / thr));
            d->shown[k] = p_est > thr;
            d->velocity[k] = d->shown[k] ? (float)(atan2(r1im, r1re) / PI * vn) : 0.0f;
        }
    }
    return 0;
}

void doppler_colour_rgb(doppler_mode mode, double velocity_frac, double power_db, uint8_t rgb[3])
{
    if (mode == DOPPLER_POWER) {
        /* Dark amber to bright yellow-orange over 0..30 dB. */
        double k = power_db / 30.0;
        k = k < 0.0 ? 0.0 : (k > 1.0 ? 1.0 : k);
        rgb[0] = (uint8_t)(140.0 + 115.0 * k);
        rgb[1] = (uint8_t)(50.0 + 150.0 * k);
        rgb[2] = (uint8_t)(10.0 + 40.0 * k);
        return;
    }
    double a = fabs(velocity_frac);
    a = a > 1.0 ? 1.0 : a;
    /* Dark red (blue) at slow flow, bright and towards yellow (cyan) near the Nyquist limit. */
    uint8_t main = (uint8_t)(110.0 + 145.0 * a), tint = (uint8_t)(200.0 * a * a);
    if (velocity_frac >= 0.0) {
        rgb[0] = main;
        rgb[1] = tint;
        rgb[2] = 0;
    } else {
        rgb[0] = 0;
        rgb[1] = tint;
        rgb[2] = main;
    }
}
