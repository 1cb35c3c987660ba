/* probe: defaults, pose geometry and the beam model. */
#include "probe.h"
#include "limit.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define PI 3.14159265358979323846

/* The point-spread function is derived from the pulse and the aperture, then calibrated on
 * the PyMUST SIMUS reference run of the L22-14v-like probe (shared/reference/ultrasound.md
 * section 2, data/pymust_psf_L22-14V.npz: a point at 3 mm, one 0-degree plane wave, DAS
 * receive at f-number 1.35).
 *
 * Pulse: the pulse-echo spectrum is a generalised normal window around fc, the transducer
 * model of MUST/SIMUS (Garcia, CMPB 2022). Its shape exponent sets the axial side lobes: 5
 * (flat-topped) gives the reference's first lobes, -18 dB at 1.17 -6 dB widths from the
 * peak, with the null between them at 0.87 widths (a Gaussian, exponent 2, has none). The
 * beamformed band is narrower than the probe's nominal -6 dB band (DAS interpolation and the
 * I/Q filter): 0.85 of it gives the reference's 130 um at 18 MHz, 44 %. */
#define PULSE_SHAPE_EXP 5.0
#define PULSE_BAND_EFFECTIVE 0.85
/* Aperture: a Tukey apodisation with tapered edges over 20 % of its width (the elements'
 * directivity weights the edge elements down; calibrated: 0.2 gives the reference's lateral
 * -6 dB width 154 um at f-number 1.35 and its first lobes, -15 dB at 0.18 mm). */
#define APOD_TUKEY 0.2
/* Transmit focusing: scanners keep the transmit f-number near 2 (assumption; a smaller one
 * would give an unrealistically tight single focal zone). */
#define TX_FNUMBER_MIN 2.0
/* Frequencies sampled across the band (out to 0.75 B from fc, where the spectrum is below
 * 0.5 %), elements sampled across the aperture for the lateral sums. */
#define PSF_N_FREQ 16
#define PSF_N_APERTURE 32
/* The Fresnel transmit sum needs some distance from the face. */
#define PSF_MIN_Z_MM 0.2

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

static double band_mhz(const probe_def *p)
{
    return PULSE_BAND_EFFECTIVE * p->bandwidth_frac * p->freq_mhz;
}

double probe_pulse_spectrum(const probe_def *p, double f_mhz)
{
    /* Half amplitude at fc +- B/2, whatever the exponent. */
    double u = fabs(f_mhz - p->freq_mhz) / (0.5 * band_mhz(p));
    return exp(-log(2.0) * pow(u, PULSE_SHAPE_EXP));
}

/* Frequency i of the band sums, and its spectral weight. */
static double band_freq(const probe_def *p, int i, double *w)
{
    double half = 0.75 * band_mhz(p);
    double f = p->freq_mhz - half + 2.0 * half * (i + 0.5) / PSF_N_FREQ;
    *w = probe_pulse_spectrum(p, f);
    return f;
}

double probe_axial_profile(const probe_def *p, double dz_mm)
{
    /* Baseband pulse-echo envelope: the spectrum is symmetric about fc, so the demodulated
     * pulse is real (signed: its side lobes alternate). Depth offset dz is a delay 2 dz / c. */
    double c_mm_us = PROBE_SPEED_M_S * 1e-3;
    double half = 0.75 * band_mhz(p);
    int n = 4 * PSF_N_FREQ;
    double sum = 0.0, norm = 0.0;
    for (int i = 0; i < n; i++) {
        double df = -half + 2.0 * half * (i + 0.5) / n;
        double w = probe_pulse_spectrum(p, p->freq_mhz + df);
        sum += w * cos(2.0 * PI * df * 2.0 * dz_mm / c_mm_us);
        norm += w;
    }
    return sum / norm;
}

static double tukey(double a) /* a = |u| / (D/2) in [0, 1] */
{
    if (a <= 1.0 - APOD_TUKEY)
        return 1.0;
    return 0.5 * (1.0 + cos(PI * (a - 1.0 + APOD_TUKEY) / APOD_TUKEY));
}

/* Pulse-echo lateral field at offset x, depth z, complex (the transmit beam's defocus gives
 * it a phase). */
static void lateral_field(const probe_def *p, double z, double x, double *re, double *im)
{
    double c_mm_us = PROBE_SPEED_M_S * 1e-3;
    double d = probe_fov_mm(p);
    z = z > PSF_MIN_Z_MM ? z : PSF_MIN_Z_MM;
    /* Dynamic receive: aperture z / F#, capped by the array; in focus at every depth. */
    double d_rx = z / p->rx_fnumber < d ? z / p->rx_fnumber : d;
    /* Transmit: one focus at tx_focus_mm, aperture z_f / F#tx, capped by the array. */
    double zf = p->tx_focus_mm;
    double d_tx = zf / TX_FNUMBER_MIN < d ? zf / TX_FNUMBER_MIN : d;
    /* Far from the focus the transmit beam is geometric (several Fresnel zones of defocus
     * across its aperture, more than the aperture sum can sample), far wider than the
     * receive beam: it is flat across the PSF. */
    double k_max = 2.0 * PI * (p->freq_mhz + 0.75 * band_mhz(p)) / c_mm_us;
    bool tx_flat = k_max * fabs(1.0 / z - 1.0 / zf) * 0.5 * d_tx * (d_tx / PSF_N_APERTURE) > 0.5 * PI;
    *re = *im = 0.0;
    for (int i = 0; i < PSF_N_FREQ; i++) {
        double w;
        double f = band_freq(p, i, &w);
        double k = 2.0 * PI * f / c_mm_us;
        double rx = 0.0, tr = 0.0, ti = 0.0, an = 0.0;
        for (int j = 0; j < PSF_N_APERTURE; j++) {
            double s = -1.0 + 2.0 * (j + 0.5) / PSF_N_APERTURE;
            double a = tukey(fabs(s));
            /* Receive, Fraunhofer at its focus: phase k u x / z. */
            double ur = 0.5 * d_rx * s;
            rx += a * cos(k * ur * x / z);
            /* Transmit, Fresnel: path (x - u)^2 / 2z less the focusing delay u^2 / 2 z_f; the
             * common x^2 / 2z is the arrival time, which the beamformer follows. */
            double ut = 0.5 * d_tx * s;
            double ph = k * (0.5 * ut * ut * (1.0 / z - 1.0 / zf) - ut * x / z);
            tr += a * cos(ph);
            ti += a * sin(ph);
            an += a;
        }
        rx /= an;
        tr = tx_flat ? 1.0 : tr / an;
        ti = tx_flat ? 0.0 : ti / an;
        *re += w * rx * tr;
        *im += w * rx * ti;
    }
}

double probe_lateral_profile(const probe_def *p, double z_mm, double x_mm)
{
    double r0, i0, r, i;
    lateral_field(p, z_mm, 0.0, &r0, &i0);
    lateral_field(p, z_mm, x_mm, &r, &i);
    /* Real part in the on-axis phase: signed, so side lobes alternate as the field does. */
    return (r * r0 + i * i0) / (r0 * r0 + i0 * i0);
}

/* Offset where a profile (1 at 0, falling) first drops to half, by bisection after a scan. */
static double half_width(double (*f)(const probe_def *, double, double), const probe_def *p,
                         double z, double step)
{
    double a = 0.0, b = step;
    while (f(p, z, b) > 0.5 && b < 100.0 * step) {
        a = b;
        b += step;
    }
    for (int it = 0; it < 40; it++) {
        double m = 0.5 * (a + b);
        if (f(p, z, m) > 0.5)
            a = m;
        else
            b = m;
    }
    return 0.5 * (a + b);
}

static double axial_at(const probe_def *p, double z, double dz)
{
    (void)z;
    return probe_axial_profile(p, dz);
}

double probe_axial_fwhm_mm(const probe_def *p)
{
    return 2.0 * half_width(axial_at, p, 0.0, 0.1 * probe_wavelength_mm(p));
}

double probe_lateral_fwhm_mm(const probe_def *p, double z)
{
    return 2.0 * half_width(probe_lateral_profile, p, z, 0.1 * probe_wavelength_mm(p));
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
