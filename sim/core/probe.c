/* probe: defaults, pose geometry and the beam model. */
#include "probe.h"
#include "limit.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define PI 3.14159265358979323846

/* Calibration of the PSF widths on the PyMUST SIMUS reference run of the L22-14v-like probe
 * (shared/reference/ultrasound.md section 2): at 3 mm the beamformed point target measured
 * 130 um axial (against 85 um for the ideal Gaussian pulse 0.441 c/B: DAS and the I/Q filter
 * widen it by 1.53) and 154 um lateral at receive f-number 1.35 (so FWHM = 1.33 lambda F#). */
#define AXIAL_BROADENING 1.53
#define LATERAL_K 1.33
/* Transmit focusing: scanners keep the transmit f-number near 2 (assumption; a smaller one
 * would give an unrealistically tight single focal zone). */
#define TX_FNUMBER_MIN 2.0

probe_def probe_default_def(void)
{
    probe_def p;
    memset(&p, 0, sizeof p);
    /* L22-14v-like (ultrasound.md section 2): 128 elements, 0.1 mm pitch, -6 dB band
     * 14-22 MHz (fc 18 MHz, 44 %), 1.6 mm elevation height focused at 8 mm. */
    p.freq_mhz = 18.0;
    p.bandwidth_frac = 0.444;
    p.pitch_mm = 0.1;
    p.n_elements = 128;
    p.n_lines = 256;
    p.rx_fnumber = 1.35;
    p.tx_focus_mm = 8.0;
    p.elev_focus_mm = 8.0;
    p.elev_height_mm = 1.6;
    p.depth_mm = 15.0;
    p.gain_db = 0.0;
    /* 50-60 dB log compression (ultrasound.md section 4). */
    p.dynamic_range_db = 60.0;
    p.tgc_on = true;
    /* Automatic TGC slope for skin: between fat (0.8) and dermis (1.06 dB/cm/MHz). */
    p.tgc_db_cm_mhz = 0.9;
    return p;
}

probe_pose probe_default_pose(void)
{
    probe_pose q;
    memset(&q, 0, sizeof q);
    return q;
}

/* The settings probe_check holds to the limits table (limit.h). */
#define ROW(lim, member) {lim, offsetof(probe_def, member), false, "probe." #member ": out of range"}
#define IROW(lim, member) {lim, offsetof(probe_def, member), true, "probe." #member ": out of range"}
static const struct probe_row {
    limit_id lim;
    size_t off;
    bool is_int;
    const char *msg; /* the limit's numbers are in the table, not in a static message */
} k_checked[] = {
    ROW(LIM_FREQ_MHZ, freq_mhz),
    ROW(LIM_BANDWIDTH_FRAC, bandwidth_frac),
    ROW(LIM_PITCH_MM, pitch_mm),
    IROW(LIM_N_ELEMENTS, n_elements),
    IROW(LIM_N_LINES, n_lines),
    ROW(LIM_RX_FNUMBER, rx_fnumber),
    ROW(LIM_FOCUS_MM, tx_focus_mm),
    ROW(LIM_FOCUS_MM, elev_focus_mm),
    ROW(LIM_ELEV_HEIGHT_MM, elev_height_mm),
    ROW(LIM_DEPTH_MM, depth_mm),
    ROW(LIM_GAIN_DB, gain_db),
    ROW(LIM_DYNAMIC_RANGE_DB, dynamic_range_db),
    ROW(LIM_TGC_DB_CM_MHZ, tgc_db_cm_mhz),
};
#undef ROW
#undef IROW

const char *probe_check(const probe_def *p)
{
    for (size_t i = 0; i < sizeof k_checked / sizeof k_checked[0]; i++) {
        const struct probe_row *r = &k_checked[i];
        const char *at = (const char *)p + r->off;
        double x = r->is_int ? *(const int *)(const void *)at : *(const double *)(const void *)at;
        if (!limit_ok(r->lim, x))
            return r->msg;
    }
    for (int i = 0; i < PROBE_TGC_ZONES; i++)
        if (!limit_ok(LIM_TGC_ZONE_DB, p->tgc_db[i]))
            return "probe.tgc_db: a zone is out of range";
    return NULL;
}

probe_frame probe_frame_make(const phantom *ph, const probe_def *p, const probe_pose *pose)
{
    probe_frame f;
    double r = pose->rot_deg * PI / 180.0, t = pose->tilt_deg * PI / 180.0,
           k = pose->rock_deg * PI / 180.0;
    double u[3] = {cos(r), sin(r), 0.0};
    double v[3] = {-sin(r), cos(r), 0.0};
    double w[3] = {0.0, 0.0, 1.0};
    /* Tilt (fan) about u: w' = w cos t - v sin t, v' = v cos t + w sin t. */
    double w1[3], v1[3];
    for (int i = 0; i < 3; i++) {
        w1[i] = w[i] * cos(t) - v[i] * sin(t);
        v1[i] = v[i] * cos(t) + w[i] * sin(t);
    }
    /* Rock (heel-toe) about v': u'' = u cos k - w' sin k, w'' = w' cos k + u sin k. */
    for (int i = 0; i < 3; i++) {
        f.u[i] = u[i] * cos(k) - w1[i] * sin(k);
        f.w[i] = w1[i] * cos(k) + u[i] * sin(k);
        f.v[i] = v1[i];
    }
    f.origin[0] = pose->x_mm;
    f.origin[1] = pose->y_mm;
    f.origin[2] = 0.0;
    memset(&f.contact, 0, sizeof f.contact);
    if (ph) {
        /* Highest skin point (smallest z) along the face, sampled every 0.1 mm. */
        double half = p ? 0.5 * probe_fov_mm(p) : 0.0;
        int n = (int)ceil(half / 0.1);
        double top = phantom_surface_mm(ph, pose->x_mm, pose->y_mm);
        for (int i = -n; i <= n; i++) {
            double a = n ? half * i / n : 0.0;
            double h = phantom_surface_mm(ph, pose->x_mm + a * u[0], pose->y_mm + a * u[1]);
            if (h < top)
                top = h;
        }
        /* Pressed: the face sinks until the skin meets it everywhere, as far as the force
         * takes it, and stops where the soft tissue over bone or fascia has given all it can. */
        double sink = p && pose->pressure_n > 0.0 ? pose->pressure_n * PROBE_CONTACT_MM_PER_N : 0.0;
        if (sink > 0.0) {
            double need = 0.0, reach = INFINITY;
            for (int i = -n; i <= n; i++) {
                double a = n ? half * i / n : 0.0;
                double x = pose->x_mm + a * u[0], y = pose->y_mm + a * u[1];
                double h = phantom_surface_mm(ph, x, y);
                need = h - top > need ? h - top : need;
                double can = h - top + phantom_compressible_mm(ph, x, y, pose->pressure_n);
                reach = can < reach ? can : reach;
            }
            sink = sink < need ? sink : need;
            sink = sink < reach ? sink : reach;
        }
        f.origin[2] = top + sink;
        if (sink > 0.0) {
            phantom_contact *c = &f.contact;
            c->on = true;
            memcpy(c->c_mm, f.origin, sizeof c->c_mm);
            memcpy(c->u, f.u, sizeof c->u);
            memcpy(c->v, f.v, sizeof c->v);
            memcpy(c->n, f.w, sizeof c->n);
            /* The lens and housing reach past the array: 1 mm more each way (assumption), so
             * the image's edge lines, whose beams spill past the aperture, see pressed skin too. */
            c->half_len_mm = half + 1.0;
            c->half_wid_mm = 0.5 * p->elev_height_mm + 1.0;
        }
    }
    return f;
}

void probe_image_to_phantom(const probe_frame *f, double x, double y, double z, double out[3])
{
    for (int i = 0; i < 3; i++)
        out[i] = f->origin[i] + x * f->u[i] + y * f->v[i] + z * f->w[i];
}

void probe_phantom_to_image(const probe_frame *f, const double p[3], double out[3])
{
    double d[3] = {p[0] - f->origin[0], p[1] - f->origin[1], p[2] - f->origin[2]};
    out[0] = d[0] * f->u[0] + d[1] * f->u[1] + d[2] * f->u[2];
    out[1] = d[0] * f->v[0] + d[1] * f->v[1] + d[2] * f->v[2];
    out[2] = d[0] * f->w[0] + d[1] * f->w[1] + d[2] * f->w[2];
}

double probe_wavelength_mm(const probe_def *p) { return PROBE_SPEED_M_S * 1e-3 / p->freq_mhz; }

double probe_fov_mm(const probe_def *p) { return p->n_elements * p->pitch_mm; }

double probe_axial_fwhm_mm(const probe_def *p)
{
    double c_mm_us = PROBE_SPEED_M_S * 1e-3;
    double b_mhz = p->bandwidth_frac * p->freq_mhz;
    return AXIAL_BROADENING * 0.441 * c_mm_us / b_mhz;
}

double probe_lateral_fwhm_mm(const probe_def *p, double z)
{
    double lambda = probe_wavelength_mm(p);
    double d = probe_fov_mm(p);
    /* Dynamic receive focusing at a constant f-number, limited by the aperture. */
    double fn = z / d > p->rx_fnumber ? z / d : p->rx_fnumber;
    double w_rx = LATERAL_K * lambda * fn;
    /* Transmit beam: focused width at tx_focus, geometric cone away from it. */
    double zf = p->tx_focus_mm;
    double d_tx = zf / TX_FNUMBER_MIN < d ? zf / TX_FNUMBER_MIN : d;
    double w0 = LATERAL_K * lambda * zf / d_tx;
    double geo = d_tx * fabs(z - zf) / zf;
    double w_tx = sqrt(w0 * w0 + geo * geo);
    /* Two-way profile = product of Gaussian profiles. */
    return 1.0 / sqrt(1.0 / (w_rx * w_rx) + 1.0 / (w_tx * w_tx));
}

double probe_elevation_fwhm_mm(const probe_def *p, double z)
{
    /* Slice thickness lambda * z_f / h at the lens focus (ultrasound.md section 3: 0.43 mm at
     * 18 MHz for an 8 mm focus and 1.6 mm height), the element height at the face. */
    double lambda = probe_wavelength_mm(p);
    double focal = lambda * p->elev_focus_mm / p->elev_height_mm;
    double geo = p->elev_height_mm * fabs(1.0 - z / p->elev_focus_mm);
    return sqrt(focal * focal + geo * geo);
}

double probe_tgc_db(const probe_def *p, double z)
{
    if (!p->tgc_on)
        return 0.0;
    /* Two-way compensation of the nominal attenuation: 2 * alpha * f * depth. */
    double g = 2.0 * p->tgc_db_cm_mhz * p->freq_mhz * z * 0.1;
    /* Sliders: zone centres equally spaced over the depth, linear in between. */
    double zone = p->depth_mm / PROBE_TGC_ZONES;
    double pos = z / zone - 0.5;
    if (pos <= 0)
        return g + p->tgc_db[0];
    if (pos >= PROBE_TGC_ZONES - 1)
        return g + p->tgc_db[PROBE_TGC_ZONES - 1];
    int i = (int)pos;
    double f = pos - i;
    return g + p->tgc_db[i] * (1 - f) + p->tgc_db[i + 1] * f;
}
