/* bmode_model: frame set-up and line classification shared by the fast and reference paths. */
#include "bmode_model.h"
#include "hash.h"
#include "lobules.h"
#include "texture_math.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define FWHM_TO_SIGMA (1.0 / 2.3548200450309493)

void bmode_geometry(const probe_def *p, int *rows, int *cols, double *dz, double *dx, double *x0)
{
    /* Depth sampled at lambda/4 (ultrasound.md section 3: ~700 rows for 15 mm at 18 MHz), one
     * column per image line across the aperture. */
    double d_z = probe_wavelength_mm(p) / 4.0;
    double d_x = probe_fov_mm(p) / p->n_lines;
    if (rows)
        *rows = (int)ceil(p->depth_mm / d_z);
    if (cols)
        *cols = p->n_lines;
    if (dz)
        *dz = d_z;
    if (dx)
        *dx = d_x;
    if (x0)
        *x0 = -0.5 * (p->n_lines - 1) * d_x;
}

static void to_image(const probe_frame *f, const double p[3], double out[3])
{
    probe_phantom_to_image(f, p, out);
}

/* Kernel extent: the PSF is kept out to its second null (main lobe and first side lobes, the
 * reference's visible ones), or to where it falls below 1 %, whichever comes first. */
#define PSF_FLOOR 0.01
#define PSF_MAX_TAPS 64
/* The lateral PSF is computed on depth nodes this far apart and interpolated between them
 * (it changes over millimetres: the transmit beam's defocus). */
#define LAT_NODE_MM 0.5

static int psf_extent(const double *v, int n)
{
    int minima = 0;
    for (int k = 1; k < n; k++) {
        if (fabs(v[k]) < PSF_FLOOR)
            return k;
        if (k + 1 < n && fabs(v[k]) <= fabs(v[k - 1]) && fabs(v[k]) < fabs(v[k + 1]) && ++minima == 2)
            return k;
    }
    return n - 1;
}

/* Lateral profile at node depth z, columns 0..PSF_MAX_TAPS-1, computed out to its extent
 * (psf_extent) and zero beyond; returns the extent. */
static int lateral_taps(const probe_def *p, double z, double dx, double *v)
{
    int ext = PSF_MAX_TAPS - 1;
    for (int k = 0; k < PSF_MAX_TAPS; k++) {
        v[k] = k <= ext ? probe_lateral_profile(p, z, k * dx) : 0.0;
        /* The extent of v[0..k] is settled once a later tap exists to confirm a minimum. */
        if (k >= 2 && ext == PSF_MAX_TAPS - 1) {
            int e = psf_extent(v, k + 1);
            if (e < k)
                ext = e;
            else if (fabs(v[k]) < PSF_FLOOR)
                ext = k;
        }
    }
    for (int k = ext + 1; k < PSF_MAX_TAPS; k++)
        v[k] = 0.0;
    return ext;
}

/* Gain and TGC per row: the only per-row table the display settings change. */
static void setup_gains(bm_setup *s)
{
    for (int r = 0; r < s->rows; r++)
        s->gain_db[r] = s->p.gain_db + probe_tgc_db(&s->p, r * s->dz) + BM_REF_LEVEL_DB;
}

/* The per-row tables that depend only on the probe and its settings. */
static int setup_probe(bm_setup *s, const probe_def *p, char *err, size_t err_len)
{
    s->p = *p;
    bmode_geometry(&s->p, &s->rows, &s->cols, &s->dz, &s->dx, &s->x0);
    s->k2 = 4.0 * PI / probe_wavelength_mm(&s->p);

    double ax[PSF_MAX_TAPS];
    for (int k = 0; k < PSF_MAX_TAPS; k++)
        ax[k] = probe_axial_profile(&s->p, k * s->dz);
    s->ka = psf_extent(ax, PSF_MAX_TAPS);
    int n_nodes = (int)ceil((s->rows - 1) * s->dz / LAT_NODE_MM) + 1;
    double *lat = malloc(sizeof(double) * (size_t)n_nodes * PSF_MAX_TAPS);
    int *ext = malloc(sizeof(int) * (size_t)n_nodes);
    if (!lat || !ext) {
        free(lat);
        free(ext);
        if (err)
            snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->kl = 1;
    for (int i = 0; i < n_nodes; i++) {
        ext[i] = lateral_taps(&s->p, i * LAT_NODE_MM, s->dx, &lat[(size_t)i * PSF_MAX_TAPS]);
        if (ext[i] > s->kl)
            s->kl = ext[i];
    }
    s->margin = s->kl;
    s->lines = s->cols + 2 * s->margin;
    int nl = 2 * s->kl + 1;
    s->g_ax = malloc(sizeof(double) * (size_t)(2 * s->ka + 1));
    s->h_lat = malloc(sizeof(double) * (size_t)s->rows * (size_t)nl);
    s->sig_el = malloc(sizeof(double) * (size_t)s->rows);
    s->elev_norm = malloc(sizeof(double) * (size_t)s->rows);
    s->spec_norm = malloc(sizeof(double) * (size_t)s->rows);
    s->gain_db = malloc(sizeof(double) * (size_t)s->rows);
    s->noise_amp = malloc(sizeof(float) * (size_t)s->rows);
    if (!s->g_ax || !s->h_lat || !s->sig_el || !s->elev_norm || !s->spec_norm || !s->gain_db || !s->noise_amp) {
        free(lat);
        free(ext);
        bm_setup_free(s);
        if (err)
            snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* Unit-energy kernels keep the mean speckle level independent of the PSF size. */
    double e = 0;
    for (int k = -s->ka; k <= s->ka; k++) {
        double g = ax[abs(k)];
        s->g_ax[k + s->ka] = g;
        e += g * g;
    }
    for (int k = 0; k <= 2 * s->ka; k++)
        s->g_ax[k] /= sqrt(e);
    s->sig_el_max = 0.0;
    for (int r = 0; r < s->rows; r++) {
        double z = r * s->dz;
        double t = z / LAT_NODE_MM;
        int i0 = (int)t < n_nodes - 1 ? (int)t : n_nodes - 2;
        i0 = i0 > 0 ? i0 : 0;
        int i1 = i0 + 1 < n_nodes ? i0 + 1 : i0;
        double ft = t - i0 < 1.0 ? t - i0 : 1.0;
        int kx = ext[i0] > ext[i1] ? ext[i0] : ext[i1];
        double *h = &s->h_lat[(size_t)r * nl];
        double el = 0, sum = 0;
        for (int k = -s->kl; k <= s->kl; k++) {
            int a = abs(k);
            double v = a <= kx ? lat[(size_t)i0 * PSF_MAX_TAPS + a] * (1.0 - ft) +
                                     lat[(size_t)i1 * PSF_MAX_TAPS + a] * ft
                               : 0.0;
            h[k + s->kl] = v;
            el += v * v;
        }
        for (int k = 0; k < nl; k++) {
            h[k] /= sqrt(el);
            sum += h[k];
        }
        s->sig_el[r] = probe_elevation_fwhm_mm(&s->p, z) * FWHM_TO_SIGMA;
        double sg = s->sig_el[r], energy = 0;
        int ne = (int)floor(BM_ELEV_SIGMAS * sg / BM_ELEV_STEP_MM);
        for (int ie = -ne; ie <= ne; ie++) {
            double y = ie * BM_ELEV_STEP_MM;
            if (fabs(y) <= BM_ELEV_SIGMAS * sg)
                energy += exp(-y * y / (sg * sg));
        }
        s->elev_norm[r] = 1.0 / sqrt(energy);
        if (sg > s->sig_el_max)
            s->sig_el_max = sg;
        /* A full-line impulse of 1 ends as g0 * sum(h) after both convolutions. */
        s->spec_norm[r] = 1.0 / (s->g_ax[s->ka] * sum);
        s->noise_amp[r] = (float)(BM_NOISE_REL + BM_CLUTTER_REL * exp(-z / BM_CLUTTER_MM));
    }
    free(lat);
    free(ext);
    setup_gains(s);
    return 0;
}

/* What depends on the scene: phantom, pose, world objects. */
static void setup_vessel_chords(bm_setup *s);

static int setup_scene(bm_setup *s, const bmode_scene *sc, char *err, size_t err_len)
{
    if (sc->n_dyn < 0 || sc->n_dyn > BMODE_MAX_DYN || (sc->n_dyn > 0 && !sc->dyn)) {
        if (err)
            snprintf(err, err_len, "dynamic inclusions: 0..%d expected", BMODE_MAX_DYN);
        return -1;
    }
    s->ph = sc->ph;
    s->d = phantom_get_def(sc->ph);
    s->pose = sc->pose;
    s->dyn = sc->dyn;
    s->n_dyn = sc->n_dyn;
    s->fr = probe_frame_make(sc->ph, &s->p, &sc->pose);
    for (int t = 0; t < TISSUE_COUNT; t++) {
        s->att_db[t] = tissue_atten_db_mm(&s->d->tissues.t[t], s->p.freq_mhz) * s->dz;
        s->att_step[t] = pow(10.0, -s->att_db[t] / 10.0); /* 20 log10 of it is -2 att_db */
        s->att_ln[t] = log(s->att_step[t]);
        s->z_mrayl[t] = tissue_impedance_mrayl(&s->d->tissues.t[t]);
        s->bs[t] = s->d->tissues.t[t].backscatter;
    }
    s->n_layers = s->d->n_layers;
    for (int i = 0; i < s->n_layers; i++) {
        const phantom_layer_def *l = &s->d->layers[i];
        tissue_id t = l->tissue;
        s->layer_tissue[i] = t;
        /* The same arithmetic as the tissue's, so a layer without overrides renders the
         * same bytes. */
        tissue_props lp = phantom_layer_props(&s->d->tissues, l);
        double att_db = tissue_atten_db_mm(&lp, s->p.freq_mhz) * s->dz;
        s->layer_att_step[i] = pow(10.0, -att_db / 10.0);
        s->layer_att_ln[i] = log(s->layer_att_step[i]);
        s->layer_z_mrayl[i] = tissue_impedance_mrayl(&lp);
        s->layer_bs[i] = lp.backscatter;
        s->layer_textured[i] = l->acoustic.texture != PHANTOM_TEXTURE_OFF &&
                               (t == TISSUE_FAT || t == TISSUE_DEEP_FAT || t == TISSUE_MUSCLE || t == TISSUE_TENDON);
    }
    s->n_caps = 0;
    for (int i = 0; i < s->d->n_inclusions + s->n_dyn; i++) {
        const phantom_inclusion *c =
            i < s->d->n_inclusions ? &s->d->inclusions[i] : &s->dyn[i - s->d->n_inclusions];
        if (c->kind != PHANTOM_CAPSULE || s->n_caps >= BM_MAX_CAPSULES)
            continue;
        bm_capsule *k = &s->caps[s->n_caps++];
        to_image(&s->fr, c->a_mm, k->a);
        to_image(&s->fr, c->b_mm, k->b);
        k->radius = c->radius_mm;
        k->len = sqrt((k->b[0] - k->a[0]) * (k->b[0] - k->a[0]) + (k->b[1] - k->a[1]) * (k->b[1] - k->a[1]) +
                      (k->b[2] - k->a[2]) * (k->b[2] - k->a[2]));
    }
    setup_vessel_chords(s);
    return 0;
}

static int check_scene(const bmode_scene *sc, char *err, size_t err_len)
{
    if (!sc || !sc->ph) {
        if (err)
            snprintf(err, err_len, "no phantom");
        return -1;
    }
    const char *perr = probe_check(&sc->probe);
    if (perr) {
        if (err)
            snprintf(err, err_len, "%s", perr);
        return -1;
    }
    return 0;
}

int bm_setup_init(bm_setup *s, const bmode_scene *sc, char *err, size_t err_len)
{
    memset(s, 0, sizeof *s);
    if (check_scene(sc, err, err_len) != 0 || setup_probe(s, &sc->probe, err, err_len) != 0)
        return -1;
    if (setup_scene(s, sc, err, err_len) != 0) {
        bm_setup_free(s);
        return -1;
    }
    return 0;
}

/* Field by field: padding bytes make memcmp on structs unreliable. */
static bool probe_same(const probe_def *a, const probe_def *b)
{
    if (a->freq_mhz != b->freq_mhz || a->bandwidth_frac != b->bandwidth_frac || a->pitch_mm != b->pitch_mm ||
        a->n_elements != b->n_elements || a->n_lines != b->n_lines || a->rx_fnumber != b->rx_fnumber ||
        a->tx_focus_mm != b->tx_focus_mm || a->elev_focus_mm != b->elev_focus_mm ||
        a->elev_height_mm != b->elev_height_mm || a->depth_mm != b->depth_mm || a->gain_db != b->gain_db ||
        a->dynamic_range_db != b->dynamic_range_db || a->tgc_on != b->tgc_on || a->tgc_db_cm_mhz != b->tgc_db_cm_mhz)
        return false;
    for (int i = 0; i < PROBE_TGC_ZONES; i++)
        if (a->tgc_db[i] != b->tgc_db[i])
            return false;
    return true;
}

/* Same beam (PSF, geometry, elevation): everything but gain, TGC and dynamic range. */
static bool beam_same(const probe_def *a, const probe_def *b)
{
    probe_def c = *b;
    c.gain_db = a->gain_db;
    c.dynamic_range_db = a->dynamic_range_db;
    c.tgc_on = a->tgc_on;
    c.tgc_db_cm_mhz = a->tgc_db_cm_mhz;
    memcpy(c.tgc_db, a->tgc_db, sizeof c.tgc_db);
    return probe_same(a, &c);
}

int bm_setup_update(bm_setup *s, int have, const bmode_scene *sc, bool *probe_changed, char *err, size_t err_len)
{
    if (check_scene(sc, err, err_len) != 0)
        return -1;
    *probe_changed = !have || !probe_same(&s->p, &sc->probe);
    if (*probe_changed && have && beam_same(&s->p, &sc->probe)) {
        /* A gain, TGC or dynamic-range change (the window's sliders): the PSF stays. */
        s->p = sc->probe;
        setup_gains(s);
    } else if (*probe_changed) {
        if (have)
            bm_setup_free(s);
        memset(s, 0, sizeof *s);
        if (setup_probe(s, &sc->probe, err, err_len) != 0)
            return -1;
    }
    if (setup_scene(s, sc, err, err_len) != 0) {
        bm_setup_free(s);
        return -1;
    }
    return 0;
}

void bm_setup_free(bm_setup *s)
{
    free(s->g_ax);
    free(s->h_lat);
    free(s->sig_el);
    free(s->elev_norm);
    free(s->spec_norm);
    free(s->gain_db);
    free(s->noise_amp);
    s->noise_amp = NULL;
    s->g_ax = NULL;
    s->h_lat = s->sig_el = s->elev_norm = s->spec_norm = s->gain_db = NULL;
}

double bm_elev_weight(const bm_setup *s, int row, double y)
{
    if (row < 0)
        row = 0;
    if (row >= s->rows)
        row = s->rows - 1;
    double sg = s->sig_el[row];
    return exp(-0.5 * y * y / (sg * sg));
}

int bm_elev_planes(const bm_setup *s)
{
    double smax = 0;
    for (int r = 0; r < s->rows; r++)
        if (s->sig_el[r] > smax)
            smax = s->sig_el[r];
    /* A voxel centre is within half a pitch of its sample: one more plane each side. */
    return (int)floor((BM_ELEV_SIGMAS * smax + 0.5 * BM_ELEV_STEP_MM) / BM_ELEV_STEP_MM);
}

int bm_elev_k(double d)
{
    return (int)(fabs(d) / BM_ELEV_DQ_MM + 0.5);
}

double bm_elev_voxel_weight(const bm_setup *s, int row, int k)
{
    double d = k * BM_ELEV_DQ_MM, sg = s->sig_el[row];
    if (d > BM_ELEV_SIGMAS * sg)
        return 0.0;
    return exp(-0.5 * d * d / (sg * sg)) * s->elev_norm[row];
}

void bm_voxel_centre(int32_t ix, int32_t iy, int32_t iz, double c[3])
{
    c[0] = ((ix - BM_VOX_OFFSET) + 0.5 - BM_VOX_BIAS) / BM_VOX_PER_MM_XY;
    c[1] = ((iy - BM_VOX_OFFSET) + 0.5 - BM_VOX_BIAS) / BM_VOX_PER_MM_XY;
    c[2] = ((iz - BM_VOX_OFFSET) + 0.5 - BM_VOX_BIAS) / BM_VOX_PER_MM_Z;
}

int bm_line_alloc(bm_line *l, int rows)
{
    memset(l, 0, sizeof *l);
    l->tissue = malloc((size_t)rows);
    l->amp = malloc(sizeof(float) * (size_t)rows);
    l->loss = malloc(sizeof(float) * (size_t)rows);
    l->htop = malloc(sizeof(float) * (size_t)rows);
    l->layer = malloc((size_t)rows);
    l->objid = malloc(sizeof(int16_t) * (size_t)rows);
    l->frac = malloc(sizeof(float) * (size_t)rows);
    l->cap_ev = 64;
    l->ev = malloc(sizeof(bm_event) * (size_t)l->cap_ev);
    l->lobules = malloc(sizeof *l->lobules);
    if (l->lobules)
        lobule_cache_clear(l->lobules);
    if (!l->tissue || !l->amp || !l->loss || !l->ev || !l->htop || !l->layer || !l->objid || !l->frac ||
        !l->lobules) {
        bm_line_free(l);
        return -1;
    }
    return 0;
}

void bm_line_free(bm_line *l)
{
    free(l->tissue);
    free(l->amp);
    free(l->loss);
    free(l->htop);
    free(l->layer);
    free(l->objid);
    free(l->frac);
    free(l->ev);
    free(l->hits);
    free(l->lobules);
    memset(l, 0, sizeof *l);
}

static void push_event_phase(bm_line *l, double z, double amp, double weight, double phase)
{
    if (l->n_ev == l->cap_ev) {
        int cap = l->cap_ev * 2;
        bm_event *ev = realloc(l->ev, sizeof(bm_event) * (size_t)cap);
        if (!ev)
            return; /* out of memory: drop the echo rather than crash */
        l->ev = ev;
        l->cap_ev = cap;
    }
    l->ev[l->n_ev++] = (bm_event){z, amp, weight, phase};
}

static void push_event(bm_line *l, double z, double amp, double weight)
{
    push_event_phase(l, z, amp, weight, 0.0);
}

void bm_line_point(const bm_setup *s, int li, double z, double out[3])
{
    double x = s->x0 + (li - s->margin) * s->dx;
    probe_image_to_phantom(&s->fr, x, 0.0, z, out);
}

static double specular_lobe(double cos_theta, double floor_v)
{
    double c = fabs(cos_theta);
    if (c > 1.0)
        c = 1.0;
    double th = acos(c) * 180.0 / PI / BM_SPEC_THETA0_DEG;
    return floor_v + (1.0 - floor_v) * exp(-th * th);
}

/* The narrower lobe of tendon's aligned fascicles (BM_TENDON_THETA0_DEG). */
static double tendon_lobe(double cos_theta)
{
    double c = fabs(cos_theta);
    if (c > 1.0)
        c = 1.0;
    double th = acos(c) * 180.0 / PI / BM_TENDON_THETA0_DEG;
    return BM_TENDON_FLOOR + (1.0 - BM_TENDON_FLOOR) * exp(-th * th);
}

/* Pending needle-shaft echoes and shadows on this line, sorted by depth. */
typedef struct shaft_hit {
    double z;        /* top surface of the shaft along the beam */
    double echo;     /* specular amplitude before losses (0: shadow only) */
    double diffuse;  /* off-specular amplitude before losses */
    double phase;    /* phase of the diffuse part, fixed to this point of the shaft */
    double shadow;   /* fraction of the beam energy this shaft has blocked down to here */
    double step;     /* ring-down spacing (shaft diameter) */
    int steel_label; /* mark the label image */
    int cap;         /* which shaft */
} shaft_hit;

static int cmp_hit(const void *a, const void *b)
{
    double d = ((const shaft_hit *)a)->z - ((const shaft_hit *)b)->z;
    return d < 0 ? -1 : (d > 0 ? 1 : 0);
}

/* Rows of t in [0, 1] where the shaft's lateral coordinate is within reach of the line. */
static int shaft_t_range(const bm_capsule *k, double xl, double reach, double *t0, double *t1)
{
    double ax = k->a[0], bx = k->b[0];
    if (fabs(bx - ax) < 1e-12) {
        if (fabs(ax - xl) >= reach)
            return 0;
        *t0 = 0.0;
        *t1 = 1.0;
        return 1;
    }
    double ta = (xl - reach - ax) / (bx - ax), tb = (xl + reach - ax) / (bx - ax);
    *t0 = ta < tb ? ta : tb;
    *t1 = ta < tb ? tb : ta;
    if (*t0 < 0.0)
        *t0 = 0.0;
    if (*t1 > 1.0)
        *t1 = 1.0;
    return *t0 < *t1;
}

static shaft_hit *push_hit(shaft_hit **out, int *cap, int *n)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 256;
        shaft_hit *h = realloc(*out, sizeof(shaft_hit) * (size_t)nc);
        if (!h)
            return NULL; /* out of memory: drop the echo rather than crash */
        *out = h;
        *cap = nc;
    }
    return &(*out)[(*n)++];
}

/* Needle shafts on line li: a partial-volume echo from every shaft point near the line inside
 * the elevation beam (each point splatted at its own depth and phase, so the coherent sum
 * along the shaft is the model's), and one shadow where the shaft crosses the line. */
static int shaft_hits(const bm_setup *s, int li, shaft_hit **out, int *cap)
{
    double xl = s->x0 + (li - s->margin) * s->dx;
    int n = 0;
    for (int c = 0; c < s->n_caps; c++) {
        const bm_capsule *k = &s->caps[c];
        double len = k->len > 0 ? k->len : 1.0;
        double dir[3] = {(k->b[0] - k->a[0]) / len, (k->b[1] - k->a[1]) / len, (k->b[2] - k->a[2]) / len};
        /* Specular lobe of a cylinder: some surface normal faces the beam only when the beam
         * is perpendicular to the axis; the beam is +z in image coordinates. */
        double lobe = specular_lobe(sqrt(1.0 - dir[2] * dir[2]), 0.0);
        double t0, t1;
        if (shaft_t_range(k, xl, s->dx, &t0, &t1)) {
            /* Sample i sits i steps from the tip: t = 1 - i * step / len. */
            double step = BM_SHAFT_STEP_MM;
            int i0 = (int)floor((1.0 - t1) * len / step), i1 = (int)ceil((1.0 - t0) * len / step);
            if (i0 < 0)
                i0 = 0;
            for (int i = i0; i <= i1; i++) {
                double t = 1.0 - i * step / len;
                if (t < 0.0)
                    break;
                double x = k->a[0] + t * (k->b[0] - k->a[0]);
                double y = k->a[1] + t * (k->b[1] - k->a[1]);
                double z = k->a[2] + t * (k->b[2] - k->a[2]) - k->radius;
                double dxl = fabs(x - xl);
                /* Written so a NaN depth is skipped too: it must never become a row. */
                if (dxl >= s->dx || !(z >= 0 && z < s->rows * s->dz))
                    continue;
                int row = (int)(z / s->dz);
                double we = bm_elev_weight(s, row, y);
                if (we < 1e-3)
                    continue;
                double tent = 1.0 - dxl / s->dx;
                shaft_hit *h = push_hit(out, cap, &n);
                if (!h)
                    break;
                /* Each sample stands for `step` mm of shaft; dividing by the column pitch keeps a
                 * shaft lying in the plane as bright per column whatever the sampling. */
                double a = BM_SPEC_GAIN * we * tent * (step / s->dx);
                double ph = 2.0 * PI * (hash_mix32((uint32_t)i * 0x9E3779B1U ^ (uint32_t)c * 0x85EBCA77U) >> 8) / 16777216.0;
                *h = (shaft_hit){z, a * lobe, a * BM_STEEL_DIFFUSE, ph, 0.0, 2.0 * k->radius,
                                 we > 0.5 && tent > 0.5, c};
            }
        }
        /* Shadow: the beam below the shaft loses the part of the elevation profile's energy
         * (profile squared, integral sqrt(pi) sigma) that the shaft has crossed above that
         * depth. An oblique shaft sweeps elevation as it descends, so the shadow deepens
         * piece by piece: each piece adds the new elevation it covers (the first also the
         * radius either side) at its depth. shadow holds the running total. */
        if (shaft_t_range(k, xl, k->radius, &t0, &t1)) {
            const int pieces = 32;
            double ymin = 0, ymax = 0, cover = 0;
            const int down = k->b[2] >= k->a[2]; /* walk the pieces from the top down */
            for (int i = 0; i <= pieces; i++) {
                double f = (double)i / pieces;
                double t = down ? t0 + (t1 - t0) * f : t1 - (t1 - t0) * f;
                double y = k->a[1] + t * (k->b[1] - k->a[1]);
                double z = k->a[2] + t * (k->b[2] - k->a[2]) - k->radius;
                if (i == 0) {
                    ymin = y - k->radius;
                    ymax = y + k->radius;
                } else {
                    ymin = y - k->radius < ymin ? y - k->radius : ymin;
                    ymax = y + k->radius > ymax ? y + k->radius : ymax;
                }
                if (!(z >= 0 && z < s->rows * s->dz))
                    continue;
                double sg = s->sig_el[(int)(z / s->dz)];
                double cv = 0.5 * (erf(ymax / sg) - erf(ymin / sg));
                if (cv > cover + 1e-4) {
                    cover = cv;
                    shaft_hit *h = push_hit(out, cap, &n);
                    if (!h)
                        break;
                    *h = (shaft_hit){z, 0.0, 0.0, 0.0, cover, 0.0, 0, c};
                }
            }
        }
    }
    if (n > 1)
        qsort(*out, (size_t)n, sizeof(shaft_hit), cmp_hit);
    return n;
}

/* Normal of a vessel or inclusion surface at p (for the specular lobe). */
static void object_normal(const bm_setup *s, int vessel, int incl, const double p[3], double n[3])
{
    n[0] = 0;
    n[1] = 0;
    n[2] = 1;
    if (vessel >= 0) {
        /* As for an ellipsoid: the wall facing the probe across the elevation span, where the
         * elevation line through p passes closest to the axis (a vessel beside the plane
         * shows its crown, not a flank). */
        const phantom_vessel_def *v = &s->d->vessels[vessel];
        double dir[3] = {v->b_mm[0] - v->a_mm[0], v->b_mm[1] - v->a_mm[1], v->b_mm[2] - v->a_mm[2]};
        double l = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
        double q[3], u[3];
        for (int k = 0; k < 3; k++)
            dir[k] /= l;
        double qd = 0.0, vd = 0.0;
        for (int k = 0; k < 3; k++) {
            q[k] = p[k] - v->a_mm[k];
            qd += q[k] * dir[k];
            vd += s->fr.v[k] * dir[k];
        }
        double qu = 0.0, uu = 0.0;
        for (int k = 0; k < 3; k++) {
            q[k] -= qd * dir[k];
            u[k] = s->fr.v[k] - vd * dir[k];
            qu += q[k] * u[k];
            uu += u[k] * u[k];
        }
        double t = uu > 1e-12 ? -qu / uu : 0.0;
        for (int k = 0; k < 3; k++)
            n[k] = q[k] + t * u[k];
    } else if (incl >= 0) {
        const phantom_inclusion *c =
            incl < s->d->n_inclusions ? &s->d->inclusions[incl] : &s->dyn[incl - s->d->n_inclusions];
        if (c->kind == PHANTOM_ELLIPSOID) {
            /* The beam spans the elevation: the surface that sends the specular echo back is
             * the one facing the probe across that span, taken where the elevation line through
             * p passes closest to the centre (for an object off the plane, its crown). */
            const double *v = s->fr.v;
            double t = (c->c_mm[0] - p[0]) * v[0] + (c->c_mm[1] - p[1]) * v[1] + (c->c_mm[2] - p[2]) * v[2];
            for (int k = 0; k < 3; k++)
                n[k] = (p[k] + t * v[k] - c->c_mm[k]) / (c->radii_mm[k] * c->radii_mm[k]);
        }
    }
    double l = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (l < 1e-12) {
        n[0] = 0;
        n[1] = 0;
        n[2] = 1;
        return;
    }
    for (int k = 0; k < 3; k++)
        n[k] /= l;
}

/* Normal of bone i's surface facing the probe near p: the gradient of its ellipsoid taken
 * where the elevation line through p passes closest to the centre, as for an inclusion. */
static void bone_normal(const bm_setup *s, int i, const double p[3], double n[3])
{
    const phantom_bone_shape *b = phantom_bone_get_shape(s->ph, i);
    const double *v = s->fr.v;
    double t = (b->c_mm[0] - p[0]) * v[0] + (b->c_mm[1] - p[1]) * v[1] + (b->c_mm[2] - p[2]) * v[2];
    double d[3], sl[3];
    for (int k = 0; k < 3; k++)
        d[k] = p[k] + t * v[k] - b->c_mm[k];
    for (int k = 0; k < 3; k++)
        sl[k] = b->axes[k][0] * d[0] + b->axes[k][1] * d[1] + b->axes[k][2] * d[2];
    double l = 0.0;
    for (int j = 0; j < 3; j++) {
        n[j] = sl[0] * b->axes[0][j] + sl[1] * b->axes[1][j] + sl[2] * b->axes[2][j];
        l += n[j] * n[j];
    }
    l = sqrt(l);
    if (l < 1e-12) {
        n[0] = 0;
        n[1] = 0;
        n[2] = 1;
        return;
    }
    for (int j = 0; j < 3; j++)
        n[j] /= l;
}

/* Depth range [z0, z1] where the line o + z w comes within radius R of the infinite line
 * through a with unit direction d (|A + z B|^2 <= R^2). Returns 0 when it never does. */
static int line_cylinder_range(const double o[3], const double w[3], const double a[3], const double d[3],
                               double R, double *z0, double *z1)
{
    double oa[3] = {o[0] - a[0], o[1] - a[1], o[2] - a[2]};
    double od = oa[0] * d[0] + oa[1] * d[1] + oa[2] * d[2];
    double wd = w[0] * d[0] + w[1] * d[1] + w[2] * d[2];
    double A[3], B[3];
    for (int k = 0; k < 3; k++) {
        A[k] = oa[k] - od * d[k];
        B[k] = w[k] - wd * d[k];
    }
    double qa = B[0] * B[0] + B[1] * B[1] + B[2] * B[2];
    double qb = 2 * (A[0] * B[0] + A[1] * B[1] + A[2] * B[2]);
    double qc = A[0] * A[0] + A[1] * A[1] + A[2] * A[2] - R * R;
    if (qa < 1e-12) { /* line parallel to the axis */
        if (qc > 0)
            return 0;
        *z0 = -1e30;
        *z1 = 1e30;
        return 1;
    }
    double disc = qb * qb - 4 * qa * qc;
    if (disc < 0)
        return 0;
    double sq = sqrt(disc);
    *z0 = (-qb - sq) / (2 * qa);
    *z1 = (-qb + sq) / (2 * qa);
    return 1;
}

/* Rows of a line that vessels and volume inclusions can touch: everything else skips them. */
typedef struct obj_range {
    int vessel, incl; /* one of them >= 0, or both -1 for bone */
    int r0, r1;       /* rows [r0, r1) */
    int bone;         /* bone index, -1 otherwise */
} obj_range;

/* Vector d in the unit-sphere coordinates of bone b grown by grow_mm all round. */
static void bone_local(const phantom_bone_shape *b, const double d[3], double grow_mm, double out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = (b->axes[k][0] * d[0] + b->axes[k][1] * d[1] + b->axes[k][2] * d[2]) * b->semi_mm[k] /
                 (b->semi_mm[k] + grow_mm);
}

/* Roots of |A + t B|^2 = 1; 0 when the line misses the unit sphere. */
static int unit_sphere_hit(const double A[3], const double B[3], double *t0, double *t1)
{
    double qa = B[0] * B[0] + B[1] * B[1] + B[2] * B[2];
    double qb = 2 * (A[0] * B[0] + A[1] * B[1] + A[2] * B[2]);
    double qc = A[0] * A[0] + A[1] * A[1] + A[2] * A[2] - 1.0;
    double disc = qb * qb - 4 * qa * qc;
    if (disc <= 0 || qa < 1e-18)
        return 0;
    double sq = sqrt(disc);
    *t0 = (-qb - sq) / (2 * qa);
    *t1 = (-qb + sq) / (2 * qa);
    return 1;
}

static void clamp_rows(const bm_setup *s, double z0, double z1, int *r0, int *r1)
{
    double pad = s->dz; /* one row of slack each side */
    double a = (z0 - pad) / s->dz, b = (z1 + pad) / s->dz + 1.0;
    /* Clamped so that NaN (from a degenerate object) becomes row 0, not an int cast of NaN. */
    a = a > 0 ? (a < s->rows ? a : s->rows) : 0;
    b = b > 0 ? (b < s->rows ? b : s->rows) : 0;
    *r0 = (int)floor(a);
    *r1 = (int)ceil(b);
}

static int object_ranges(const bm_setup *s, const double o[3], obj_range *out)
{
    const phantom_def *d = s->d;
    const double *w = s->fr.w;
    int n = 0;
    for (int i = 0; i < d->n_vessels; i++) {
        const phantom_vessel_def *v = &d->vessels[i];
        double dir[3] = {v->b_mm[0] - v->a_mm[0], v->b_mm[1] - v->a_mm[1], v->b_mm[2] - v->a_mm[2]};
        double l = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
        for (int k = 0; k < 3; k++)
            dir[k] /= l;
        double z0, z1;
        /* Grown by the elevation beam's reach across the axis (the vessel is seen by partial
         * volume from that far; a vessel along the elevation gains nothing). */
        double vd = s->fr.v[0] * dir[0] + s->fr.v[1] * dir[1] + s->fr.v[2] * dir[2];
        double reach = BM_ELEV_SIGMAS * s->sig_el_max * sqrt(fmax(0.0, 1.0 - vd * vd));
        if (!line_cylinder_range(o, w, v->a_mm, dir, v->radius_mm + v->wall_mm + reach, &z0, &z1))
            continue;
        int r0, r1;
        clamp_rows(s, z0, z1, &r0, &r1);
        if (r1 > r0)
            out[n++] = (obj_range){i, -1, r0, r1, -1};
    }
    for (int i = 0; i < d->n_inclusions + s->n_dyn; i++) {
        const phantom_inclusion *c = i < d->n_inclusions ? &d->inclusions[i] : &s->dyn[i - d->n_inclusions];
        if (c->kind != PHANTOM_ELLIPSOID)
            continue;
        /* Ray against the ellipsoid grown by the elevation beam's reach (it is seen by partial
         * volume from that far), as a unit sphere in scaled coordinates. */
        double reach = BM_ELEV_SIGMAS * s->sig_el_max, grow = phantom_inclusion_border_max(c);
        double A[3], B[3];
        for (int k = 0; k < 3; k++) {
            double rk = c->radii_mm[k] * (k < 2 ? grow : (c->follows_lobules ? BM_LOBULE_SPREAD : 1.0)) + reach;
            A[k] = (o[k] - c->c_mm[k]) / rk;
            B[k] = w[k] / rk;
        }
        double qa = B[0] * B[0] + B[1] * B[1] + B[2] * B[2];
        double qb = 2 * (A[0] * B[0] + A[1] * B[1] + A[2] * B[2]);
        double qc = A[0] * A[0] + A[1] * A[1] + A[2] * A[2] - 1.0;
        double disc = qb * qb - 4 * qa * qc;
        if (disc < 0)
            continue;
        double sq = sqrt(disc);
        int r0, r1;
        clamp_rows(s, (-qb - sq) / (2 * qa), (-qb + sq) / (2 * qa), &r0, &r1);
        if (r1 > r0)
            out[n++] = (obj_range){-1, i, r0, r1, -1};
    }
    for (int i = 0; i < d->n_bones; i++) {
        const phantom_bone_shape *b = phantom_bone_get_shape(s->ph, i);
        double oc[3] = {o[0] - b->c_mm[0], o[1] - b->c_mm[1], o[2] - b->c_mm[2]}, A[3], B[3], z0, z1;
        double reach = BM_ELEV_SIGMAS * s->sig_el_max;
        bone_local(b, oc, reach, A);
        bone_local(b, w, reach, B);
        if (!unit_sphere_hit(A, B, &z0, &z1))
            continue;
        int r0, r1;
        clamp_rows(s, z0, z1, &r0, &r1);
        if (r1 > r0)
            out[n++] = (obj_range){-1, -1, r0, r1, i};
    }
    return n;
}

/* Share of the elevation profile's energy (profile squared, integral sqrt(pi) sigma) that lies
 * inside ellipsoid c along the elevation line through p: the chord [y1, y2] from a quadratic. */
static double ellipsoid_fraction(const phantom_inclusion *c, const double p[3], const double v[3], double sg)
{
    /* An irregular border: the radii across the skin at the azimuth of the elevation line's
     * point nearest the centre (where the chord is). */
    double rad[3] = {c->radii_mm[0], c->radii_mm[1], c->radii_mm[2]};
    if (c->border_irregularity > 0.0) {
        double t = (c->c_mm[0] - p[0]) * v[0] + (c->c_mm[1] - p[1]) * v[1] + (c->c_mm[2] - p[2]) * v[2];
        double q[3] = {p[0] + t * v[0], p[1] + t * v[1], p[2] + t * v[2]};
        double f = phantom_inclusion_border_scale(c, q);
        rad[0] *= f;
        rad[1] *= f;
    }
    if (c->follows_lobules)
        rad[2] *= BM_LOBULE_SPREAD;
    double A[3], B[3];
    for (int k = 0; k < 3; k++) {
        A[k] = (p[k] - c->c_mm[k]) / rad[k];
        B[k] = v[k] / rad[k];
    }
    double qa = B[0] * B[0] + B[1] * B[1] + B[2] * B[2];
    double qb = 2 * (A[0] * B[0] + A[1] * B[1] + A[2] * B[2]);
    double qc = A[0] * A[0] + A[1] * A[1] + A[2] * A[2] - 1.0;
    double disc = qb * qb - 4 * qa * qc;
    if (disc <= 0)
        return 0.0;
    double sq = sqrt(disc);
    double y1 = (-qb - sq) / (2 * qa), y2 = (-qb + sq) / (2 * qa);
    return 0.5 * (erf(y2 / sg) - erf(y1 / sg));
}

/* Interval [*y1, *y2] of y where the elevation line p + y v lies inside vessel i's tube of
 * radii (rh + grow, rv + grow) across the axis, between its end planes moved out by grow (the
 * same tube and caps as phantom_vessel_region); tube 0 is the wall's outside (grow = the
 * wall's thickness), 1 the lumen (grow 0). Returns 0 when the line misses it. */
static int vessel_chord(const bm_setup *s, int i, const double p[3], int tube, double *y1, double *y2)
{
    const struct bm_vessel_chord *c = &s->vchord[i];
    const double grow = tube == 0 ? s->d->vessels[i].wall_mm : 0.0;
    double q[3] = {p[0] - c->a[0], p[1] - c->a[1], p[2] - c->a[2]};
    /* Along the line: across-axis coordinates h0 + y h1, v0 + y v1; axial s0 + y s1. */
    double h0 = 0, v0 = 0, s0 = 0;
    for (int k = 0; k < 3; k++) {
        h0 += q[k] * c->eh[k];
        v0 += q[k] * c->ev[k];
        s0 += q[k] * c->dir[k];
    }
    h0 /= c->rh[tube];
    v0 /= c->rv[tube];
    const double h1 = c->h1[tube], v1 = c->v1[tube], s1 = c->s1, qa = c->qa[tube], len = c->len;
    double qb = 2 * (h0 * h1 + v0 * v1), qc = h0 * h0 + v0 * v0 - 1.0;
    double lo, hi;
    if (qa < 1e-12) { /* the line runs along the axis */
        if (qc > 0)
            return 0;
        lo = -1e30;
        hi = 1e30;
    } else {
        double disc = qb * qb - 4 * qa * qc;
        if (disc <= 0)
            return 0;
        double sq = sqrt(disc);
        lo = (-qb - sq) / (2 * qa);
        hi = (-qb + sq) / (2 * qa);
    }
    /* End planes: -grow <= s0 + y s1 <= len + grow. */
    if (fabs(s1) < 1e-12) {
        if (s0 < -grow || s0 > len + grow)
            return 0;
    } else {
        double ya = (-grow - s0) / s1, yb = (len + grow - s0) / s1;
        if (ya > yb) {
            double t = ya;
            ya = yb;
            yb = t;
        }
        lo = ya > lo ? ya : lo;
        hi = yb < hi ? yb : hi;
    }
    if (hi <= lo)
        return 0;
    *y1 = lo;
    *y2 = hi;
    return 1;
}

/* The frame-constant part of vessel_chord for every vessel: once per frame instead of at
 * every row of every line (it was 7 % of the standard frame). */
static void setup_vessel_chords(bm_setup *s)
{
    const double *e = s->fr.v;
    for (int i = 0; i < s->d->n_vessels; i++) {
        const phantom_vessel_def *v = &s->d->vessels[i];
        struct bm_vessel_chord *c = &s->vchord[i];
        double dir[3] = {v->b_mm[0] - v->a_mm[0], v->b_mm[1] - v->a_mm[1], v->b_mm[2] - v->a_mm[2]};
        double len = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
        for (int k = 0; k < 3; k++)
            dir[k] /= len;
        /* Cross-section axes as in phantom_vessel_region. */
        double ev[3] = {-dir[2] * dir[0], -dir[2] * dir[1], 1.0 - dir[2] * dir[2]}, eh[3];
        double evl = sqrt(ev[0] * ev[0] + ev[1] * ev[1] + ev[2] * ev[2]);
        if (evl < 1e-9) {
            ev[0] = 1.0, ev[1] = 0.0, ev[2] = 0.0;
            eh[0] = 0.0, eh[1] = 1.0, eh[2] = 0.0;
        } else {
            for (int k = 0; k < 3; k++)
                ev[k] /= evl;
            eh[0] = dir[1] * ev[2] - dir[2] * ev[1];
            eh[1] = dir[2] * ev[0] - dir[0] * ev[2];
            eh[2] = dir[0] * ev[1] - dir[1] * ev[0];
        }
        double rv = phantom_vessel_vertical_radius(s->ph, i, s->pose.pressure_n);
        double he = 0, ve = 0, se = 0;
        for (int k = 0; k < 3; k++) {
            c->a[k] = v->a_mm[k];
            c->dir[k] = dir[k];
            c->eh[k] = eh[k];
            c->ev[k] = ev[k];
            he += e[k] * eh[k];
            ve += e[k] * ev[k];
            se += e[k] * dir[k];
        }
        c->len = len;
        c->s1 = se;
        for (int t = 0; t < 2; t++) {
            double grow = t == 0 ? v->wall_mm : 0.0;
            c->rh[t] = v->radius_mm + grow;
            c->rv[t] = rv + grow;
            c->h1[t] = he / c->rh[t];
            c->v1[t] = ve / c->rv[t];
            c->qa[t] = c->h1[t] * c->h1[t] + c->v1[t] * c->v1[t];
        }
    }
}

/* Shares of the elevation beam's energy in vessel i's lumen and in its wall along the
 * elevation line through p, as ellipsoid_fraction does for an inclusion: a vessel beside the
 * slice, or one seen along its length in a slice thicker than it, fills only part of the
 * beam (before, it was taken on the slice-centre plane, all or nothing: a 0.8 mm vessel along
 * a 1.37 mm slice rendered pure black). */
static void vessel_fractions(const bm_setup *s, int i, const double p[3], double sg, double *f_lumen,
                             double *f_wall)
{
    double y1, y2, fo = 0.0, fl = 0.0;
    if (vessel_chord(s, i, p, 0, &y1, &y2)) {
        fo = 0.5 * (erf(y2 / sg) - erf(y1 / sg));
        if (vessel_chord(s, i, p, 1, &y1, &y2))
            fl = 0.5 * (erf(y2 / sg) - erf(y1 / sg));
    }
    *f_lumen = fl;
    *f_wall = fo - fl > 0.0 ? fo - fl : 0.0;
}

/* Share of the liquid of a deposit in fat that lies at p: all of it within BM_LOBULE_BAND_MM
 * of a lobule border, fading to none 0.1 mm further; outside fat (a fascia) all of it. */
static double lobule_share(const bm_setup *s, const double p[3], int layer, float htop)
{
    if (layer < 0 || !phantom_is_fat(s->layer_tissue[layer]))
        return 1.0;
    double q[3] = {p[0], p[1], p[2] - htop}, border;
    phantom_fat_lobule(s->ph, s->layer_tissue[layer], q, &border);
    double f = (BM_LOBULE_BAND_MM + 0.1 - border) / 0.1;
    return f > 1.0 ? 1.0 : (f < 0.0 ? 0.0 : f);
}

/* Vessel or volume inclusion at row r (point p) and the share of the beam it fills, by
 * partial volume (vessels, inclusions and bones alike). The object filling most of the beam
 * wins; on a tie the later one, as in phantom_at. Returns the object id (BM_OBJ_NONE when
 * none). */
static int object_fraction(const bm_setup *s, int r, const double p[3], int layer, float htop, const obj_range *rg,
                           int n_rg, double *frac)
{
    int id = BM_OBJ_NONE;
    double best = 0.0;
    for (int k = 0; k < n_rg; k++) {
        if (r < rg[k].r0 || r >= rg[k].r1)
            continue;
        double f;
        int cand;
        if (rg[k].bone >= 0) {
            /* Share of the elevation profile inside the bone, as for an ellipsoid. */
            const phantom_bone_shape *b = phantom_bone_get_shape(s->ph, rg[k].bone);
            double pc[3] = {p[0] - b->c_mm[0], p[1] - b->c_mm[1], p[2] - b->c_mm[2]}, A[3], B[3], y1, y2;
            bone_local(b, pc, 0.0, A);
            bone_local(b, s->fr.v, 0.0, B);
            double sg = s->sig_el[r];
            f = unit_sphere_hit(A, B, &y1, &y2) ? 0.5 * (erf(y2 / sg) - erf(y1 / sg)) : 0.0;
            cand = BM_OBJ_BONE + rg[k].bone;
        } else if (rg[k].vessel >= 0) {
            /* Lumen and wall are two objects: the larger share of the beam is taken. */
            double fl, fw;
            vessel_fractions(s, rg[k].vessel, p, s->sig_el[r], &fl, &fw);
            f = fl >= fw ? fl : fw;
            cand = 2 * rg[k].vessel + (fl >= fw);
        } else {
            int i = rg[k].incl;
            const phantom_inclusion *c = i < s->d->n_inclusions ? &s->d->inclusions[i] : &s->dyn[i - s->d->n_inclusions];
            f = ellipsoid_fraction(c, p, s->fr.v, s->sig_el[r]);
            if (c->follows_lobules && f > 1e-3)
                f *= lobule_share(s, p, layer, htop);
            cand = BM_OBJ_INCL + i;
        }
        if (f > 1e-3 && f >= best) {
            best = f;
            id = cand;
        }
    }
    *frac = id == BM_OBJ_NONE ? 0.0 : best;
    return id;
}

/* One object boundary crossed between two rows: the share of the beam df that goes from
 * tissue `from` into tissue `to`. */
typedef struct obj_step {
    int id;
    double df;
    tissue_id from, to;
} obj_step;

static tissue_id object_tissue(const bm_setup *s, int id)
{
    if (id >= BM_OBJ_BONE)
        return TISSUE_BONE;
    if (id >= BM_OBJ_INCL) {
        int i = id - BM_OBJ_INCL;
        return (i < s->d->n_inclusions ? &s->d->inclusions[i] : &s->dyn[i - s->d->n_inclusions])->tissue;
    }
    return (id & 1) ? TISSUE_BLOOD : TISSUE_VESSEL_WALL;
}

void bm_nodes_free(bm_nodes *nd)
{
    free(nd->h);
    free(nd->gx);
    free(nd->gy);
    free(nd->cell);
    memset(nd, 0, sizeof *nd);
}

int bm_nodes_fill(const bm_setup *s, int li, int per_row, bm_nodes *nd)
{
    const int n = s->n_layers;
    double depth = s->rows * s->dz;
    int k;
    nd->per_row = per_row;
    nd->n = n;
    if (per_row) {
        k = s->rows;
        nd->dz_node = s->dz;
    } else if (fabs(s->fr.w[0]) < 1e-12 && fabs(s->fr.w[1]) < 1e-12) {
        k = 1; /* the line stays at one (x, y): heights are constant along it */
        nd->dz_node = depth;
    } else {
        k = (int)ceil(depth / 0.5) + 1;
        nd->dz_node = depth / (k - 1);
    }
    if (k > nd->cap) {
        double *h = realloc(nd->h, sizeof(double) * (size_t)k * (size_t)PHANTOM_MAX_LAYERS);
        if (h) nd->h = h;
        double *gx = realloc(nd->gx, sizeof(double) * (size_t)k * (size_t)PHANTOM_MAX_LAYERS);
        if (gx) nd->gx = gx;
        double *gy = realloc(nd->gy, sizeof(double) * (size_t)k * (size_t)PHANTOM_MAX_LAYERS);
        if (gy) nd->gy = gy;
        phantom_texture_cell *c = realloc(nd->cell, sizeof(phantom_texture_cell) * (size_t)k);
        if (c) nd->cell = c;
        if (!h || !gx || !gy || !c)
            return -1;
        nd->cap = k;
    }
    nd->k = k;
    const double e = 0.05; /* finite-difference step for the interface slopes, mm */
    double hp[PHANTOM_MAX_LAYERS], hm[PHANTOM_MAX_LAYERS];
    for (int j = 0; j < k; j++) {
        double p[3];
        bm_line_point(s, li, j * nd->dz_node, p);
        double pr = s->pose.pressure_n;
        const phantom_contact *ct = &s->fr.contact;
        phantom_interfaces_contact(s->ph, p[0], p[1], pr, ct, &nd->h[(size_t)j * n]);
        phantom_interfaces_contact(s->ph, p[0] + e, p[1], pr, ct, hp);
        phantom_interfaces_contact(s->ph, p[0] - e, p[1], pr, ct, hm);
        for (int i = 0; i < n; i++)
            nd->gx[(size_t)j * n + i] = (hp[i] - hm[i]) / (2 * e);
        phantom_interfaces_contact(s->ph, p[0], p[1] + e, pr, ct, hp);
        phantom_interfaces_contact(s->ph, p[0], p[1] - e, pr, ct, hm);
        for (int i = 0; i < n; i++)
            nd->gy[(size_t)j * n + i] = (hp[i] - hm[i]) / (2 * e);
        nd->cell[j] = phantom_texture_cell_at(s->ph, p[0], p[1]);
    }
    return 0;
}

/* Value of node array arr (h, gx or gy) for layer i at row/depth: interpolated between nodes. */
static inline double node_val(const bm_nodes *nd, const double *arr, int row, double z, int i)
{
    if (nd->per_row)
        return arr[(size_t)row * nd->n + i];
    if (nd->k == 1)
        return arr[i];
    double pos = z / nd->dz_node;
    int j = (int)pos;
    if (j > nd->k - 2)
        j = nd->k - 2;
    if (j < 0)
        j = 0;
    double f = pos - j;
    const double *a = &arr[(size_t)j * nd->n + i];
    return a[0] + f * (a[nd->n] - a[0]);
}

static inline phantom_texture_cell node_cell(const bm_nodes *nd, int row, double z)
{
    if (nd->per_row)
        return nd->cell[row];
    if (nd->k == 1)
        return nd->cell[0];
    double pos = z / nd->dz_node;
    int j = (int)pos;
    if (j > nd->k - 2)
        j = nd->k - 2;
    if (j < 0)
        j = 0;
    double f = pos - j;
    const phantom_texture_cell *c0 = &nd->cell[j], *c1 = c0 + 1;
    phantom_texture_cell c = {c0->fibre_offset + f * (c1->fibre_offset - c0->fibre_offset)};
    return c;
}

static void ringdown(bm_line *out, double z, double a, double step, double phase)
{
    for (int k = 1; k <= BM_RINGDOWN_COPIES; k++) {
        a *= BM_RINGDOWN_DECAY;
        push_event_phase(out, z + k * step, a, 1.0, phase);
    }
}

/* Copies of the skin's entry echo (amplitude a at depth z, reflection r_skin) reverberating
 * in the gel gap between the probe face and the skin (BM_FACE_R). */
static void gel_reverb(const bm_setup *s, bm_line *out, double z, double a, double r_skin)
{
    int r1 = (int)(z / s->dz);
    if (z < 2.0 * s->dz || r1 >= s->rows)
        return;
    double c = a / s->spec_norm[r1];
    for (int k = 2; k <= BM_GEL_REVERB_COPIES + 1; k++) {
        int rk = (int)(k * z / s->dz);
        if (rk >= s->rows)
            break;
        c *= BM_FACE_R * r_skin;
        push_event(out, k * z, c * s->spec_norm[rk], 1.0);
    }
}

/* Pass 1: the layer of every row, and the depth of that layer's top there. */
static void line_layers(const bm_setup *s, const bm_nodes *nd, const double o[3], bm_line *out)
{
    const int n = s->n_layers, rows = s->rows;
    const double dz = s->dz, wz = s->fr.w[2];
    int8_t *layer_out = out->layer;
    float *htop = out->htop;
    if (nd->k == 1 && !nd->per_row && wz > 1e-9) {
        /* Heights constant along the line: each interface is crossed at one row. */
        int start[PHANTOM_MAX_LAYERS + 1];
        for (int i = 0; i < n; i++) {
            double rc = ceil((nd->h[i] - o[2]) / (dz * wz));
            start[i] = rc > 0 ? (rc < rows ? (int)rc : rows) : 0; /* NaN: 0 */
            /* Guard the rounding at the boundary exactly as the per-row test p >= h does. */
            while (start[i] > 0 && o[2] + (start[i] - 1) * dz * wz >= nd->h[i])
                start[i]--;
            while (start[i] < rows && o[2] + start[i] * dz * wz < nd->h[i])
                start[i]++;
            if (i > 0 && start[i] < start[i - 1])
                start[i] = start[i - 1];
        }
        start[n] = rows;
        for (int r = 0; r < start[0]; r++) {
            layer_out[r] = -1;
            htop[r] = 0.0f;
        }
        for (int i = 0; i < n; i++)
            for (int r = start[i]; r < start[i + 1]; r++) {
                layer_out[r] = (int8_t)i;
                htop[r] = (float)nd->h[i];
            }
        return;
    }
    int layer = -1;
    for (int r = 0; r < rows; r++) {
        double z = r * dz;
        double pz = o[2] + z * wz;
        while (layer + 1 < n && pz >= node_val(nd, nd->h, r, z, layer + 1))
            layer++;
        while (layer >= 0 && pz < node_val(nd, nd->h, r, z, layer))
            layer--;
        layer_out[r] = (int8_t)layer;
        htop[r] = layer >= 0 ? (float)node_val(nd, nd->h, r, z, layer) : 0.0f;
    }
}

/* Pass 2: vessels and volume inclusions override the layer tissue within their row ranges. */
/* Pass 2: vessels and volume inclusions within their row ranges; the label is the object's
 * tissue where it fills at least half the beam. */
static void line_objects(const bm_setup *s, const double o[3], const obj_range *rg, int n_rg, bm_line *out)
{
    const double *w = s->fr.w;
    for (int k = 0; k < n_rg; k++) {
        for (int r = rg[k].r0; r < rg[k].r1; r++) {
            if (out->objid[r] != BM_OBJ_UNSET || out->layer[r] < 0)
                continue;
            double z = r * s->dz;
            double p[3] = {o[0] + z * w[0], o[1] + z * w[1], o[2] + z * w[2]};
            double f;
            int id = object_fraction(s, r, p, out->layer[r], out->htop[r], rg, n_rg, &f);
            out->objid[r] = (int16_t)id;
            out->frac[r] = (float)f;
            if (id != BM_OBJ_NONE && f >= 0.5)
                out->tissue[r] = (uint8_t)object_tissue(s, id);
        }
    }
}

/* Where the line enters and leaves each object, for its boundary echoes. An object seen by
 * partial volume fills at most f_max of the beam on this line; its surfaces are placed where
 * the share first reaches, and last keeps, half of that, and echo with R times f_max: a small
 * bubble off the plane echoes weakly, a bleb across the plane fully, and a curved crown does
 * not cancel itself out row by row. */
typedef struct obj_cross {
    int row;      /* the boundary lies between row - 1 and row */
    int id;
    int entering;
    double fmax;
} obj_cross;

static int cmp_cross(const void *a, const void *b)
{
    const obj_cross *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->entering - y->entering; /* leave before entering at the same row */
}

static int line_crossings(const bm_setup *s, const bm_line *l, int r_lo, int r_hi, obj_cross *out, int cap)
{
    int ids[2 * BM_MAX_OBJECTS];
    double fmax[2 * BM_MAX_OBJECTS];
    int n_ids = 0;
    for (int r = r_lo; r < r_hi; r++) {
        int id = l->objid[r];
        if (id < 0)
            continue;
        int k = 0;
        while (k < n_ids && ids[k] != id)
            k++;
        if (k == n_ids) {
            if (n_ids == (int)(sizeof ids / sizeof ids[0]))
                continue;
            ids[n_ids] = id;
            fmax[n_ids++] = 0.0;
        }
        if (l->frac[r] > fmax[k])
            fmax[k] = l->frac[r];
    }
    int n = 0;
    for (int k = 0; k < n_ids && n + 2 <= cap; k++) {
        int first = -1, last = -1;
        for (int r = r_lo; r < r_hi; r++)
            if (l->objid[r] == ids[k] && l->frac[r] >= 0.5 * fmax[k]) {
                if (first < 0)
                    first = r;
                last = r;
            }
        if (first < 0)
            continue;
        out[n++] = (obj_cross){first, ids[k], 1, fmax[k]};
        if (last + 1 < s->rows)
            out[n++] = (obj_cross){last + 1, ids[k], 0, fmax[k]};
    }
    if (n > 1)
        qsort(out, (size_t)n, sizeof(obj_cross), cmp_cross);
    return n;
}

/* Texture of one run of rows of a single textured layer (no vessel or inclusion), applied to
 * amp. Fat: the lobule field at (x, y, depth below the layer top) along the line, which is
 * straight in those coordinates wherever the layer top is linear in the row: the whole run
 * for a line at one (x, y), each interval between nodes for a tilted line, each row on the
 * reference path. Muscle: when the layer heights are constant along the line (one node) the
 * texture phase is linear in the row and the run is one flat loop the compiler vectorises;
 * otherwise every row interpolates its own texture cell. */
__attribute__((target_clones("avx2", "default")))
static void tex_muscle_span(float *restrict amp, int n, float ph0, float dph, float ihw, float c1)
{
    for (int i = 0; i < n; i++)
        amp[i] *= tex_multiplier(TEX_MUSCLE_C0, c1, ph0 + dph * (float)i, ihw, 0.0f);
}

/* Perimysium is sheets of collagen between the fascicles: like fascia, a specular reflector
 * whose sheets are bright only while they face the beam (the reason a sonographer heel-toes
 * the probe until the fibres light up). Their share of the muscle texture (TEX_MUSCLE_C1)
 * follows the specular lobe down to BM_FASCIA_FLOOR, from the incidence on the sheets: their
 * normal is tilted by the pennation angle towards the fibre direction, and follows the
 * layer's top (slopes gx, gy). */
static double perimysium_c1(const phantom_texture_params *tx, const double w[3], double gx, double gy)
{
    double n[3] = {tx->sin_pen * tx->cos_fibre - gx * tx->cos_pen, tx->sin_pen * tx->sin_fibre - gy * tx->cos_pen,
                   tx->cos_pen};
    double cn = (n[0] * w[0] + n[1] * w[1] + n[2] * w[2]) / sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    return TEX_MUSCLE_C1 * specular_lobe(cn, BM_FASCIA_FLOOR);
}

static void fat_run(const bm_setup *s, const bm_nodes *nd, const double o[3], int layer, tissue_id t, int r0,
                    int r1, float *amp, lobule_cache *lc)
{
    const double dz = s->dz, *w = s->fr.w;
    int r = r0;
    while (r < r1) {
        int end = r1;
        double din0, ddin;
        double z = r * dz;
        if (nd->per_row) {
            end = r + 1;
            din0 = o[2] + z * w[2] - node_val(nd, nd->h, r, z, layer);
            ddin = 0.0;
        } else if (nd->k == 1) {
            din0 = o[2] + z * w[2] - nd->h[layer];
            ddin = dz * w[2];
        } else {
            /* Up to the next node: the layer top is linear in the row in between. */
            int j = (int)(z / nd->dz_node);
            j = j > nd->k - 2 ? nd->k - 2 : (j < 0 ? 0 : j);
            if (j < nd->k - 2) {
                int e = (int)ceil((j + 1) * nd->dz_node / dz);
                end = e > r ? (e < r1 ? e : r1) : r + 1;
            }
            double h0 = node_val(nd, nd->h, r, z, layer);
            const double *a = &nd->h[(size_t)j * nd->n + layer];
            din0 = o[2] + z * w[2] - h0;
            ddin = dz * w[2] - (a[nd->n] - a[0]) * dz / nd->dz_node;
        }
        double q0[3] = {o[0] + z * w[0], o[1] + z * w[1], din0};
        double dq[3] = {dz * w[0], dz * w[1], ddin};
        phantom_fat_texture_span(s->ph, t, q0, dq, end - r, amp + r, lc);
        r = end;
    }
}

static void texture_run(const bm_setup *s, const bm_nodes *nd, const double o[3], int layer, tissue_id t,
                        int r0, int r1, float htop, float *amp, lobule_cache *lc)
{
    const double dz = s->dz, *w = s->fr.w;
    if (phantom_is_fat(t)) {
        fat_run(s, nd, o, layer, t, r0, r1, amp, lc);
        return;
    }
    const phantom_texture_params tx = phantom_get_texture_params(s->ph);
    if (t == TISSUE_MUSCLE && nd->k == 1 && !nd->per_row) {
        const phantom_texture_cell c = nd->cell[0];
        double din0 = o[2] + r0 * dz * w[2] - htop, ddin = dz * w[2];
        double along0 = (o[0] + r0 * dz * w[0]) * tx.cos_fibre + (o[1] + r0 * dz * w[1]) * tx.sin_fibre;
        double dalong = dz * (w[0] * tx.cos_fibre + w[1] * tx.sin_fibre);
        double ph0 = (din0 * tx.cos_pen + along0 * tx.sin_pen) * tx.inv_perimysium_mm + c.fibre_offset;
        double dph = (ddin * tx.cos_pen + dalong * tx.sin_pen) * tx.inv_perimysium_mm;
        double c1 = perimysium_c1(&tx, w, nd->gx[layer], nd->gy[layer]);
        tex_muscle_span(amp + r0, r1 - r0, (float)ph0, (float)dph, (float)tx.perimysium_inv_half_width, (float)c1);
        return;
    }
    for (int r = r0; r < r1; r++) {
        double z = r * dz;
        phantom_texture_cell c = node_cell(nd, r, z);
        double p[3] = {o[0] + z * w[0], o[1] + z * w[1], o[2] + z * w[2]};
        double din = p[2] - node_val(nd, nd->h, r, z, layer);
        /* The muscle texture of phantom_texture_eval, with the sheets' specular lobe. */
        double along = p[0] * tx.cos_fibre + p[1] * tx.sin_fibre;
        double phase = (din * tx.cos_pen + along * tx.sin_pen) * tx.inv_perimysium_mm + c.fibre_offset;
        double c1 = perimysium_c1(&tx, w, node_val(nd, nd->gx, r, z, layer), node_val(nd, nd->gy, r, z, layer));
        amp[r] *= tex_multiplier(TEX_MUSCLE_C0, (float)c1, (float)phase, (float)tx.perimysium_inv_half_width, 0.0f);
    }
}

void bm_classify_line(const bm_setup *s, int li, const bm_nodes *nd, bm_line *out)
{
    const int rows = s->rows;
    const phantom_def *d = s->d;
    const double *w = s->fr.w;
    const double dz = s->dz;
    out->n_ev = 0;

    double o[3];
    bm_line_point(s, li, 0.0, o);

    line_layers(s, nd, o, out);
    {
        uint8_t lt[PHANTOM_MAX_LAYERS + 1];
        lt[0] = TISSUE_GEL;
        for (int i = 0; i < s->n_layers; i++)
            lt[i + 1] = (uint8_t)s->layer_tissue[i];
        const int8_t *lay = out->layer;
        uint8_t *tis = out->tissue;
        int16_t *oid = out->objid;
        float *fr = out->frac;
        for (int r = 0; r < rows; r++) {
            tis[r] = lt[lay[r] + 1];
            oid[r] = BM_OBJ_UNSET;
            fr[r] = 0.0f;
        }
    }
    obj_range rg[BM_MAX_OBJECTS];
    int n_rg = object_ranges(s, o, rg);
    line_objects(s, o, rg, n_rg, out);

    shaft_hit *hits = out->hits;
    int cap_hits = out->cap_hits;
    int n_hits = s->n_caps ? shaft_hits(s, li, &hits, &cap_hits) : 0;
    out->hits = hits;
    out->cap_hits = cap_hits;
    int next_hit = 0;
    double shaft_cover[BM_MAX_CAPSULES] = {0};
    obj_cross cross[4 * BM_MAX_OBJECTS];
    /* Objects can only be in the rows of their ranges. */
    int r_lo = rows, r_hi = 0;
    for (int k = 0; k < n_rg; k++) {
        r_lo = rg[k].r0 < r_lo ? rg[k].r0 : r_lo;
        r_hi = rg[k].r1 > r_hi ? rg[k].r1 : r_hi;
    }
    int n_cross = r_lo < r_hi ? line_crossings(s, out, r_lo, r_hi, cross, (int)(sizeof cross / sizeof cross[0])) : 0;
    int next_cross = 0;

    /* Walk the line in runs of rows with one layer, object and object share: echo events where
     * a run starts, losses and texture along it. */
    const int8_t *lay = out->layer;
    const int16_t *oid = out->objid;
    const float *frac = out->frac;
    float *amp = out->amp, *loss_out = out->loss;
    double lin = 1.0;   /* two-way attenuation, amplitude */
    double trans = 1.0; /* two-way transmission through crossed interfaces, amplitude */
    tissue_id prev_t = TISSUE_GEL; /* label tissue of the previous run, for the needle's echo */
    int prev_layer = -1;
    int r = 0;
    while (r < rows) {
        int layer = lay[r];
        int obj = oid[r] >= 0 ? oid[r] : BM_OBJ_NONE;
        float fo = obj == BM_OBJ_NONE ? 0.0f : frac[r];
        tissue_id lt = layer < 0 ? TISSUE_GEL : s->layer_tissue[layer];
        tissue_id ot = obj == BM_OBJ_NONE ? lt : object_tissue(s, obj);
        int rb = r + 1;
        while (rb < rows && lay[rb] == layer && (oid[rb] >= 0 ? oid[rb] : BM_OBJ_NONE) == obj &&
               (obj == BM_OBJ_NONE || frac[rb] == fo))
            rb++;
        double z = r * dz;

        /* Needle shaft echoes and shadows above this row. */
        while (next_hit < n_hits && hits[next_hit].z < z) {
            const shaft_hit *hh = &hits[next_hit++];
            double zt = s->z_mrayl[prev_t], zs = s->z_mrayl[TISSUE_STEEL];
            double R = (zs - zt) / (zs + zt);
            int row = (int)(hh->z / dz);
            if (hh->echo > 0 || hh->diffuse > 0) {
                /* The shaft's own shadow lies at other elevations than the echoing point:
                 * leave it out of the echo's losses. */
                double own = 1.0 - shaft_cover[hh->cap] * R * R;
                double loss = R * lin * trans / own * s->spec_norm[row];
                push_event(out, hh->z, hh->echo * loss, 1.0);
                push_event_phase(out, hh->z, hh->diffuse * loss, 1.0, hh->phase);
                ringdown(out, hh->z, hh->echo * loss, hh->step, 0.0);
                ringdown(out, hh->z, hh->diffuse * loss, hh->step, hh->phase);
            }
            if (hh->steel_label && row >= 0 && row < r)
                out->tissue[row] = TISSUE_STEEL;
            if (hh->shadow > shaft_cover[hh->cap]) {
                trans *= (1.0 - hh->shadow * R * R) / (1.0 - shaft_cover[hh->cap] * R * R);
                shaft_cover[hh->cap] = hh->shadow;
            }
        }
        /* A run ends before the row that follows the next shaft hit, so it is applied in order,
         * and before an object boundary. */
        if (next_hit < n_hits) {
            int hr = (int)(hits[next_hit].z / dz) + 1;
            if (hr > r && hr < rb)
                rb = hr;
        }
        for (int k = next_cross; k < n_cross; k++)
            if (cross[k].row > r) {
                if (cross[k].row < rb)
                    rb = cross[k].row;
                break;
            }

        if (r > 0) {
            double p[3] = {o[0] + z * w[0], o[1] + z * w[1], o[2] + z * w[2]};
            if (layer != prev_layer) {
                /* Layer interfaces crossed between the previous sample and this one, each at
                 * its own sub-sample depth so the echo's phase follows the tissue, seen by the
                 * part of the beam no object fills. */
                double open = 1.0 - fo;
                double zp = z - dz, pz_prev = p[2] - dz * w[2];
                int lo = prev_layer < layer ? prev_layer + 1 : layer + 1;
                int hi = prev_layer < layer ? layer : prev_layer;
                for (int i = lo; i <= hi && open > 0.0; i++) {
                    tissue_id above = i == 0 ? TISSUE_GEL : s->layer_tissue[i - 1];
                    double z1 = i == 0 ? s->z_mrayl[TISSUE_GEL] : s->layer_z_mrayl[i - 1];
                    double z2 = s->layer_z_mrayl[i];
                    double R = (z2 - z1) / (z2 + z1);
                    if (prev_layer > layer)
                        R = -R;
                    double d0 = pz_prev - node_val(nd, nd->h, r - 1, zp, i);
                    double d1 = p[2] - node_val(nd, nd->h, r, z, i);
                    double f = (d0 != d1) ? d0 / (d0 - d1) : 0.5;
                    f = f < 0 ? 0 : (f > 1 ? 1 : f);
                    double zc = zp + f * dz;
                    /* Interface z = h(x, y): normal (gx, gy, -1); incidence against the beam. */
                    double nx = node_val(nd, nd->gx, r, z, i), ny = node_val(nd, nd->gy, r, z, i);
                    double cn = (nx * w[0] + ny * w[1] - w[2]) / sqrt(nx * nx + ny * ny + 1.0);
                    double a = BM_SPEC_GAIN * R * open * specular_lobe(cn, BM_SPEC_FLOOR) * lin * trans * s->spec_norm[r];
                    push_event(out, zc, a, 1.0);
                    if (i == 0 && prev_layer < layer)
                        gel_reverb(s, out, zc, a, R * specular_lobe(cn, BM_SPEC_FLOOR));
                    trans *= 1.0 - R * R * open;
                    /* Leaving a thickened scale downwards: its dorsal shadow. */
                    if (above == TISSUE_STRATUM_CORNEUM && i > 0 && prev_layer < layer) {
                        double sc = node_val(nd, nd->h, r, z, i) - node_val(nd, nd->h, r, z, i - 1);
                        trans *= phantom_scale_transmission(s->ph, p[0], p[1], sc);
                    }
                }
            }
        }
        /* Object boundaries at this row: R between what surrounds the object (the layer, or
         * for a vessel lumen its wall) and its content, times the share of the beam it fills. */
        while (next_cross < n_cross && cross[next_cross].row <= r) {
            const obj_cross *oc = &cross[next_cross++];
            if (oc->row < r)
                continue;
            tissue_id inside = object_tissue(s, oc->id);
            tissue_id around = (oc->id < BM_OBJ_INCL && (oc->id & 1)) ? TISSUE_VESSEL_WALL : lt;
            double z_around = around == lt && layer >= 0 ? s->layer_z_mrayl[layer] : s->z_mrayl[around];
            double z1 = oc->entering ? z_around : s->z_mrayl[inside];
            double z2 = oc->entering ? s->z_mrayl[inside] : z_around;
            double R = (z2 - z1) / (z2 + z1);
            double p[3] = {o[0] + z * w[0], o[1] + z * w[1], o[2] + z * w[2]};
            double mid[3] = {p[0] - 0.5 * dz * w[0], p[1] - 0.5 * dz * w[1], p[2] - 0.5 * dz * w[2]};
            double nrm[3];
            if (oc->id >= BM_OBJ_BONE)
                bone_normal(s, oc->id - BM_OBJ_BONE, mid, nrm);
            else
                object_normal(s, oc->id < BM_OBJ_INCL ? oc->id / 2 : -1, oc->id >= BM_OBJ_INCL ? oc->id - BM_OBJ_INCL : -1,
                              mid, nrm);
            double cn = nrm[0] * w[0] + nrm[1] * w[1] + nrm[2] * w[2];
            bool bone = oc->id >= BM_OBJ_BONE;
            double a = (bone ? BM_BONE_ECHO_GAIN : 1.0) * BM_SPEC_GAIN * R * oc->fmax *
                       specular_lobe(cn, bone ? BM_BONE_FLOOR : BM_SPEC_FLOOR) * lin * trans * s->spec_norm[r];
            double zc = z - 0.5 * dz;
            push_event(out, zc, a, 1.0);
            if (fabs(R) > 0.5)
                ringdown(out, zc, a, BM_GAS_RINGDOWN_MM, 0.0);
            trans *= 1.0 - R * R * oc->fmax;
        }

        /* Diffuse echo: the layer (with its texture) in the part of the beam no object fills,
         * the object in the rest; attenuation mixed the same way. */
        double bl = (layer >= 0 ? s->layer_bs[layer] : s->bs[lt]) * (1.0 - fo);
        const double bo = s->bs[ot] * fo;
        if (layer >= 0 && (lt == TISSUE_SUPERFICIAL_FASCIA || lt == TISSUE_DEEP_FASCIA)) {
            /* Fascia is sheets of collagen: a specular reflector, bright only while its normal
             * faces the beam (BM_FASCIA_FLOOR). Incidence from its top surface's normal. */
            double nx = node_val(nd, nd->gx, r, z, layer), ny = node_val(nd, nd->gy, r, z, layer);
            double cn = (nx * w[0] + ny * w[1] - w[2]) / sqrt(nx * nx + ny * ny + 1.0);
            bl *= specular_lobe(cn, BM_FASCIA_FLOOR);
        }
        if (layer >= 0 && lt == TISSUE_TENDON) {
            /* Tendon: fascicles parallel to its top surface, bright only near normal
             * incidence, and fibrillar (texture_run). */
            double nx = node_val(nd, nd->gx, r, z, layer), ny = node_val(nd, nd->gy, r, z, layer);
            double cn = (nx * w[0] + ny * w[1] - w[2]) / sqrt(nx * nx + ny * ny + 1.0);
            bl *= tendon_lobe(cn);
        }
        const double step_l = layer >= 0 ? s->layer_att_step[layer] : s->att_step[lt];
        const double ln_l = layer >= 0 ? s->layer_att_ln[layer] : s->att_ln[lt];
        const double stepv = fo == 0.0f ? step_l
                                        : (fo == 1.0f ? s->att_step[ot] : exp((1.0 - fo) * ln_l + fo * s->att_ln[ot]));
        for (int q = r; q < rb; q++) {
            float loss = (float)(lin * trans);
            loss_out[q] = loss;
            amp[q] = (float)bl * loss;
            lin *= stepv;
        }
        if (layer >= 0 && fo < 1.0f && s->layer_textured[layer])
            texture_run(s, nd, o, layer, lt, r, rb, out->htop[r], amp, out->lobules);
        if (bo > 0.0 && obj < BM_OBJ_INCL && !(obj & 1)) {
            /* A vessel wall is sheets of collagen like fascia: bright where it faces the beam
             * (crown and floor), dim on the flanks, or a 0.5 mm vein's flanks fill its lumen
             * with their lateral side lobes (BM_FASCIA_FLOOR). */
            for (int q = r; q < rb; q++) {
                double zq = q * dz, pq[3] = {o[0] + zq * w[0], o[1] + zq * w[1], o[2] + zq * w[2]}, nrm[3];
                object_normal(s, obj / 2, -1, pq, nrm);
                double cn = nrm[0] * w[0] + nrm[1] * w[1] + nrm[2] * w[2];
                amp[q] += (float)(bo * specular_lobe(cn, BM_FASCIA_FLOOR)) * loss_out[q];
            }
        } else if (bo > 0.0) {
            for (int q = r; q < rb; q++)
                amp[q] += (float)bo * loss_out[q];
        }
        prev_t = (tissue_id)out->tissue[rb - 1];
        prev_layer = layer;
        r = rb;
    }

    /* Point reflectors: a tent across the two nearest lines, the elevation profile, and the
     * losses down to their depth. */
    double xl = s->x0 + (li - s->margin) * s->dx;
    for (int i = 0; i < d->n_inclusions + s->n_dyn; i++) {
        const phantom_inclusion *c = i < d->n_inclusions ? &d->inclusions[i] : &s->dyn[i - d->n_inclusions];
        if (c->kind != PHANTOM_POINT)
            continue;
        double q[3];
        probe_phantom_to_image(&s->fr, c->c_mm, q);
        double dxl = fabs(q[0] - xl);
        if (dxl >= s->dx || !(q[2] >= 0 && q[2] < rows * dz))
            continue;
        int row = (int)(q[2] / dz);
        double a = c->amplitude * bm_elev_weight(s, row, q[1]) * out->loss[row];
        push_event(out, q[2], a, 1.0 - dxl / s->dx);
    }
}

void bm_splat(const bm_setup *s, const bm_event *e, float *re, float *im)
{
    double pos = e->z_mm / s->dz;
    int r0 = (int)floor(pos);
    double f = pos - r0;
    double ph = -s->k2 * e->z_mm + e->phase_rad;
    double a = e->amp * e->weight;
    double cr = a * cos(ph), ci = a * sin(ph);
    if (r0 >= 0 && r0 < s->rows) {
        re[r0] += (float)((1 - f) * cr);
        im[r0] += (float)((1 - f) * ci);
    }
    if (r0 + 1 >= 0 && r0 + 1 < s->rows) {
        re[r0 + 1] += (float)(f * cr);
        im[r0 + 1] += (float)(f * ci);
    }
}

void bm_add_noise(const bm_setup *s, int li, float *re, float *im)
{
    const uint32_t seed = hash_mix32(s->d->seed ^ 0x6a09e667U);
    for (int r = 0; r < s->rows; r++) {
        uint32_t h = hash_voxel(li, r, 0, seed);
        float a = s->noise_amp[r] * (1.0f / 32768.0f);
        re[r] += a * (float)(int16_t)(h & 0xFFFFU);
        im[r] += a * (float)(int16_t)(h >> 16);
    }
}
