/* session: world state, clock, actions, score figures, state hash and the report. */
#include "session.h"
#include "array.h"
#include "feedback.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define PI 3.14159265358979323846
#define MAX_NEEDLE_EVENTS 64
/* A redirect with more than this share of the needle inside and no retract since the last
 * advance is flagged (redirects_without_retract). */
#define SESSION_REDIRECT_DEEP_FRAC 0.5

struct session {
    scenario sc;
    phantom *anat, *disp;
    bool disp_dirty;
    int wheals_hidden;
    probe_def probe;
    probe_pose pose;
    doppler_settings dop;  /* colour / power Doppler as the trainee set it */
    bool dop_used;         /* a doppler action was applied (only then is it in the hash) */
    needle *nd;
    drug_deposit *dep;    /* parallel to m.inj */
    int n_dep, cap_dep;
    int active;           /* deposit being delivered, -1 when none */
    double target_ml, rate_ml_s;
    drug_bleed *bleed;
    int n_bleed, cap_bleed;
    unsigned pass_vessels; /* vessels bled on this pass (bit per vessel; PHANTOM_MAX_VESSELS <= 32) */
    bool pass_vessel_hit;
    bool pass_dented;      /* SKIN_DENTED told on this pass */
    bool redirect_open;    /* the last needle move was a counted redirect: a pivot continues it */
    bool retracted;        /* a retract since the last advance */
    score_step ticks[STEP_COUNT]; /* steps ticked, oldest first (each at most once) */
    int n_ticks;
    score_session m;
    session_event *ev;
    int n_ev, cap_ev;
    session_measurement *meas; /* the calipers, in the order taken */
    int n_meas, cap_meas;
    double t;
    bool ended;
};

static bool refresh_display(session *s);

const char *session_event_name(session_event_kind k)
{
    static const char *const k_names[SEV_COUNT] = {
        "action_refused", "probe_off_patch", "needle_placed", "skin_dented", "skin_popped",
        "layer_entered", "vessel_entered", "hub_on_skin", "needle_out", "redirected",
        "injection_started", "injection_ended", "adverse", "step_done", "dermis_marked",
        "session_ended", "step_undone"};
    return (unsigned)k < SEV_COUNT ? k_names[k] : "unknown";
}

/* Appends an event at the session's time; the fields not given are "none". An event that
 * cannot be stored (out of memory) is dropped: the world itself is unaffected. */
static session_event *emit(session *s, session_event_kind kind)
{
    if (!array_grow((void **)&s->ev, &s->cap_ev, s->n_ev + 1, sizeof *s->ev))
        return NULL;
    session_event *e = &s->ev[s->n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->t_s = s->t;
    e->injection = e->layer = e->vessel = -1;
    return e;
}

const session_event *session_events(const session *s, int *count)
{
    *count = s->n_ev;
    return s->ev;
}

void session_clear_events(session *s) { s->n_ev = 0; }

/* The probe face on the anatomy (the image's deformed tissue), for the verdicts. */
static phantom_contact anat_contact(const session *s)
{
    return probe_frame_make(s->anat, &s->probe, &s->pose).contact;
}

session *session_create(const scenario *sc, char *err, size_t err_len)
{
    const char *e = needle_check(&sc->needle);
    if (!e)
        e = drug_check(&sc->drug);
    if (!e)
        e = score_check(&sc->scoring);
    if (e) {
        snprintf(err, err_len, "%s", e);
        return NULL;
    }
    session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->sc = *sc;
    s->probe = sc->probe;
    s->pose = sc->pose;
    s->dop = doppler_default_settings();
    s->active = -1;
    s->anat = phantom_create(&sc->phantom, err, err_len);
    s->nd = needle_create(&sc->needle);
    if (!s->anat || !s->nd) {
        if (s->anat && !s->nd)
            snprintf(err, err_len, "out of memory");
        session_destroy(s);
        return NULL;
    }
    phantom_contact contact = anat_contact(s);
    needle_set_contact(s->nd, &contact);
    s->disp_dirty = true;
    if (!refresh_display(s)) {
        snprintf(err, err_len, "out of memory");
        session_destroy(s);
        return NULL;
    }
    return s;
}

void session_destroy(session *s)
{
    if (!s)
        return;
    phantom_destroy(s->anat);
    phantom_destroy(s->disp);
    needle_destroy(s->nd);
    free(s->dep);
    free(s->bleed);
    free(s->ev);
    free(s->meas);
    score_session_free(&s->m);
    free(s);
}

const scenario *session_scenario(const session *s) { return &s->sc; }
double session_time_s(const session *s) { return s->t; }
const phantom *session_display(const session *s) { return s->disp; }
int session_wheals_hidden(const session *s) { return s->wheals_hidden; }

const session_measurement *session_measurements(const session *s, int *count)
{
    *count = s->n_meas;
    return s->meas;
}

const drug_bleed *session_bleed(const session *s, int i)
{
    return i >= 0 && i < s->n_bleed ? &s->bleed[i] : NULL;
}
bool session_ended(const session *s) { return s->ended; }
const phantom *session_anatomy(const session *s) { return s->anat; }
const needle *session_needle(const session *s) { return s->nd; }
const score_session *session_metrics(const session *s) { return &s->m; }
int session_deposit_count(const session *s) { return s->n_dep; }
int session_bleed_count(const session *s) { return s->n_bleed; }
probe_pose session_pose(const session *s) { return s->pose; }
probe_def session_probe(const session *s) { return s->probe; }
doppler_settings session_doppler(const session *s) { return s->dop; }

const drug_deposit *session_deposit(const session *s, int i)
{
    return i >= 0 && i < s->n_dep ? &s->dep[i] : NULL;
}

bool session_injecting(const session *s, double *end_s)
{
    if (s->active < 0)
        return false;
    if (end_s)
        *end_s = s->dep[s->active].t_start_s + s->target_ml / s->rate_ml_s;
    return true;
}

/* vessel: the vessel bled (haematoma), else -1. */
static void add_adverse(session *s, score_adverse kind, const double p[3], int inj, int vessel)
{
    score_event *e = score_session_add_event(&s->m);
    if (e) {
        e->t_s = s->t;
        e->kind = kind;
        memcpy(e->p_mm, p, sizeof e->p_mm);
        e->injection = inj;
        phantom_contact c = anat_contact(s);
        e->depth_mm = phantom_at_contact(s->anat, p, s->pose.pressure_n, &c, NULL, 0).depth_mm;
        e->vein = vessel >= 0 && phantom_get_def(s->anat)->vessels[vessel].is_vein;
    }
    session_event *v = emit(s, SEV_ADVERSE);
    if (v) {
        v->adverse = kind;
        v->injection = inj;
        memcpy(v->p_mm, p, sizeof v->p_mm);
    }
}

static void mark_step(session *s, score_step k)
{
    if (!s->m.step_done[k]) {
        s->m.step_done[k] = true;
        s->m.step_t_s[k] = s->t;
        if (s->n_ticks < STEP_COUNT)
            s->ticks[s->n_ticks++] = k;
        session_event *v = emit(s, SEV_STEP_DONE);
        if (v)
            v->step = k;
    }
}

/* ---- display phantom ----------------------------------------------------------------------- */

/* The deposits of injection i: the one at the tip, or for a multi-injector head one per
 * needle, volume / count at its own tip, each in the tissue its tip is in (an intradermal bleb
 * beside a subcutaneous sheet), so every needle's verdict follows its own deposit. */
static int injection_deposits(const session *s, int i, drug_deposit out[NEEDLE_HEAD_MAX])
{
    const drug_deposit *d = &s->dep[i];
    const score_injection *j = &s->m.inj[i];
    if (j->n_needles <= 1) {
        out[0] = *d;
        return 1;
    }
    for (int k = 0; k < j->n_needles; k++) {
        out[k] = *d;
        memcpy(out[k].c_mm, j->needles[k].tip_mm, sizeof out[k].c_mm);
        out[k].site = drug_site_of(j->needles[k].tissue);
        out[k].volume_ml = d->volume_ml / j->n_needles;
    }
    return j->n_needles;
}

/* Rebuilds the display phantom when the wheals changed. Called at the end of everything that
 * changes the world, so getters never rebuild. False when out of memory (the old copy stays). */
static bool refresh_display(session *s)
{
    if (!s->disp_dirty && s->disp)
        return true;
    phantom_def d = s->sc.phantom;
    /* Wheals of the most recent blebs, as many as the feature table has room for; the rest
     * are counted and reported (session_wheals_hidden). */
    s->wheals_hidden = 0;
    for (int i = s->n_dep - 1; i >= 0; i--) {
        drug_deposit dep[NEEDLE_HEAD_MAX];
        int nd = injection_deposits(s, i, dep);
        for (int q = 0; q < nd; q++) {
            double h, sig;
            if (!drug_wheal(&s->sc.drug, &dep[q], &h, &sig))
                continue;
            if (d.n_features >= PHANTOM_MAX_FEATURES) {
                s->wheals_hidden++;
                continue;
            }
            phantom_feature_def *f = &d.features[d.n_features++];
            memset(f, 0, sizeof *f);
            f->kind = PHANTOM_WHEAL;
            f->x_mm = dep[q].c_mm[0];
            f->y_mm = dep[q].c_mm[1];
            f->height_mm = h < 20.0 ? h : 20.0;
            f->width_mm = sig;
        }
    }
    phantom *p = phantom_create(&d, NULL, 0);
    if (!p)
        return false;
    phantom_destroy(s->disp);
    s->disp = p;
    s->disp_dirty = false;
    return true;
}

/* Display shift of a tissue point: the raised skin carries what lies under it. */
static void to_display(const session *s, const double p[3], double out[3])
{
    double dz = phantom_surface_mm(s->disp, p[0], p[1]) - phantom_surface_mm(s->anat, p[0], p[1]);
    out[0] = p[0];
    out[1] = p[1];
    out[2] = p[2] + dz;
}

static probe_frame display_frame(const session *s)
{
    return probe_frame_make(s->disp, &s->probe, &s->pose);
}

bool session_tip_image(const session *s, double img[3])
{
    if (!needle_placed(s->nd))
        return false;
    probe_frame f = display_frame(s);
    double tip[3], d[3];
    needle_tip_mm(s->nd, tip);
    to_display(s, tip, d);
    probe_phantom_to_image(&f, d, img);
    return true;
}

/* Whether image point img lies in the imaged slice: in the field of view and depth, and
 * within half the elevation beam width (plus extra_mm for a body's own size). */
static bool in_slice(const session *s, const double img[3], double extra_mm)
{
    double half_fov = 0.5 * probe_fov_mm(&s->probe);
    double half_el = 0.5 * probe_elevation_fwhm_mm(&s->probe, img[2] > 0 ? img[2] : 0.0);
    return fabs(img[0]) <= half_fov + extra_mm && img[2] >= -extra_mm &&
           img[2] <= s->probe.depth_mm + extra_mm && fabs(img[1]) <= half_el + extra_mm;
}

/* How far from the image plane the needle tip's echo still shows at depth z_mm, in elevation
 * FWHMs (probe_elevation_fwhm_mm). Measured on rendered images (tests/test_judging.c: the
 * needle's echo at the tip against the same image without the needle, adult back, tips 1.2 to
 * 3 mm deep at 30 and 60 deg): with the tip short of the plane the echo falls 6 dB below its
 * in-plane value at 0.41-0.60 FWHM (mean 0.50), the beam's own -6 dB half width; with the
 * tip past the plane the shaft crossing the slice fills the tip's spot and stays within 6 dB
 * out to 0.58-0.82 FWHM (mean 0.69). */
#define TIP_SHORT_FWHM 0.5
#define TIP_PAST_FWHM 0.7

/* Whether the tip has passed through the plane: entry and tip on opposite sides of it. */
static bool tip_past_plane(const session *s, const double tip_img[3])
{
    probe_frame f = display_frame(s);
    double e[3], d[3], img[3];
    needle_entry_mm(s->nd, e);
    to_display(s, e, d);
    probe_phantom_to_image(&f, d, img);
    return img[1] * tip_img[1] < 0.0;
}

static double tip_slice_half_mm(const session *s, const double tip_img[3])
{
    double z = tip_img[2] > 0 ? tip_img[2] : 0.0;
    double k = tip_past_plane(s, tip_img) ? TIP_PAST_FWHM : TIP_SHORT_FWHM;
    return k * probe_elevation_fwhm_mm(&s->probe, z);
}

/* The tip is in view: in the field of view and depth, and within tip_slice_half_mm of the
 * plane. */
static bool tip_in_view(const session *s, const double img[3])
{
    return fabs(img[0]) <= 0.5 * probe_fov_mm(&s->probe) && img[2] >= 0.0 &&
           img[2] <= s->probe.depth_mm && fabs(img[1]) <= tip_slice_half_mm(s, img);
}

/* The other needles of a multi-injector head, as steel capsules from where each crosses the
 * skin to its tip (needle_head_place with the needle's entry, angle and inserted length): each
 * one crossing the slice makes its own dot. The middle needle is the session's needle. */
static int head_shafts(const session *s, phantom_inclusion *out, int cap)
{
    int count = s->sc.needle.count;
    if (count <= 1 || !needle_in_skin(s->nd))
        return 0;
    double e[3];
    needle_entry_mm(s->nd, e);
    needle_head_tip tips[NEEDLE_HEAD_MAX];
    char err[128];
    if (needle_head_place(s->anat, s->pose.pressure_n, count, s->sc.needle.spacing_mm, e[0], e[1],
                          needle_angle_deg(s->nd), needle_azimuth_deg(s->nd), needle_inserted_mm(s->nd),
                          tips, err, sizeof err) != count)
        return 0;
    int n = 0;
    double r = 0.5 * needle_gauge_od_mm(s->sc.needle.gauge);
    for (int k = 0; k < count; k++) {
        if (k == count / 2 || tips[k].inserted_mm <= 0.0)
            continue;
        if (n < cap) {
            phantom_inclusion *c = &out[n];
            memset(c, 0, sizeof *c);
            c->kind = PHANTOM_CAPSULE;
            c->tissue = TISSUE_STEEL;
            to_display(s, tips[k].entry_mm, c->a_mm);
            to_display(s, tips[k].tip_mm, c->b_mm);
            c->radius_mm = r;
            c->amplitude = 1.0;
        }
        n++;
    }
    return n;
}

int session_dynamic(const session *s, phantom_inclusion *out, int cap)
{
    int n = 0;
    phantom_inclusion sh;
    if (needle_shaft(s->nd, &sh)) {
        if (n < cap) {
            double a[3], b[3];
            to_display(s, sh.a_mm, a);
            to_display(s, sh.b_mm, b);
            memcpy(sh.a_mm, a, sizeof a);
            memcpy(sh.b_mm, b, sizeof b);
            out[n] = sh;
        }
        n++;
    }
    for (int i = 0; i < s->n_bleed; i++) {
        double r = drug_bleed_radius_mm(&s->bleed[i], s->sc.needle.haematoma_radius_mm,
                                        s->sc.needle.haematoma_growth_s, s->t);
        if (r < 0.02)
            continue;
        if (n < cap) {
            phantom_inclusion *h = &out[n];
            memset(h, 0, sizeof *h);
            h->kind = PHANTOM_ELLIPSOID;
            h->tissue = TISSUE_HAEMATOMA;
            to_display(s, s->bleed[i].c_mm, h->c_mm);
            /* Blood tracks along the tissue planes: flatter than wide. */
            h->radii_mm[0] = h->radii_mm[1] = r;
            h->radii_mm[2] = 0.6 * r;
            h->amplitude = 1.0;
        }
        n++;
    }
    n += head_shafts(s, n < cap ? out + n : NULL, n < cap ? cap - n : 0);
    for (int i = s->n_dep - 1; i >= 0; i--) {
        drug_deposit dep[NEEDLE_HEAD_MAX];
        int nd = injection_deposits(s, i, dep);
        for (int q = 0; q < nd; q++) {
            phantom_inclusion shapes[DRUG_MAX_SHAPES];
            int k = drug_shapes(&s->sc.drug, &dep[q], s->t, shapes, DRUG_MAX_SHAPES);
            for (int j = 0; j < k; j++, n++) {
                if (n < cap) {
                    to_display(s, shapes[j].c_mm, shapes[j].c_mm);
                    out[n] = shapes[j];
                }
            }
        }
    }
    return n;
}

/* Distance (mm) by which an object misses the imaged slab, 0 or less when it reaches it: the
 * image plane's half elevation width at the object's depth, the field of view and the depth,
 * widened by the object's own half size. */
static double slab_miss_mm(const probe_def *p, const probe_frame *f, const phantom_inclusion *c)
{
    double centre[3], half;
    if (c->kind == PHANTOM_CAPSULE) {
        for (int k = 0; k < 3; k++)
            centre[k] = 0.5 * (c->a_mm[k] + c->b_mm[k]);
        double dx = c->b_mm[0] - c->a_mm[0], dy = c->b_mm[1] - c->a_mm[1], dz = c->b_mm[2] - c->a_mm[2];
        half = 0.5 * sqrt(dx * dx + dy * dy + dz * dz) + c->radius_mm;
    } else {
        memcpy(centre, c->c_mm, sizeof centre);
        half = fmax(c->radii_mm[0], fmax(c->radii_mm[1], c->radii_mm[2]));
    }
    double img[3];
    probe_phantom_to_image(f, centre, img);
    double z = img[2] > 0 ? img[2] : 0.0;
    /* Two elevation widths: the beam's skirt still weighs scatterers there (bmode.md). */
    double el = probe_elevation_fwhm_mm(p, z > p->depth_mm ? p->depth_mm : z);
    double miss_el = fabs(img[1]) - el - half;
    double miss_lat = fabs(img[0]) - 0.5 * probe_fov_mm(p) - half;
    double miss_z = fmax(-img[2] - half, img[2] - p->depth_mm - half);
    return fmax(miss_el, fmax(miss_lat, miss_z));
}

typedef struct ranked {
    double miss;
    int i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->miss != y->miss)
        return x->miss < y->miss ? -1 : 1;
    return x->i - y->i;
}

int session_cull_dynamic(bmode_scene *scene, const phantom_inclusion *all, int n,
                         phantom_inclusion *dyn)
{
    scene->dyn = dyn;
    scene->n_dyn = 0;
    if (n <= 0)
        return 0;
    ranked *rk = malloc((size_t)n * sizeof *rk);
    if (!rk)
        return n;
    probe_frame f = probe_frame_make(scene->ph, &scene->probe, &scene->pose);
    int m = 0;
    for (int i = 0; i < n; i++) {
        double miss = slab_miss_mm(&scene->probe, &f, &all[i]);
        if (miss <= 0.0)
            rk[m++] = (ranked){miss, i};
    }
    int hidden = 0;
    if (m > BMODE_MAX_DYN) {
        qsort(rk, (size_t)m, sizeof *rk, cmp_ranked);
        hidden = m - BMODE_MAX_DYN;
        m = BMODE_MAX_DYN;
    }
    /* Keep the session's own order among those shown: the same bytes whatever was culled. */
    int keep[BMODE_MAX_DYN];
    for (int i = 0; i < m; i++)
        keep[i] = rk[i].i;
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    for (int i = 0; i < m; i++)
        dyn[i] = all[keep[i]];
    scene->n_dyn = m;
    free(rk);
    return hidden;
}

int session_scene(const session *s, bmode_scene *scene, phantom_inclusion *dyn)
{
    scene->ph = s->disp;
    scene->probe = s->probe;
    scene->pose = s->pose;
    scene->dyn = dyn;
    scene->n_dyn = 0;
    int n = session_dynamic(s, NULL, 0);
    if (n == 0)
        return 0;
    phantom_inclusion *all = malloc((size_t)n * sizeof *all);
    if (!all)
        return n;
    session_dynamic(s, all, n);
    int hidden = session_cull_dynamic(scene, all, n, dyn);
    free(all);
    return hidden;
}

/* ---- clock --------------------------------------------------------------------------------- */

static void finish_injection(session *s, double t_end)
{
    drug_deposit *d = &s->dep[s->active];
    score_injection *j = &s->m.inj[s->active];
    d->volume_ml = s->target_ml;
    d->t_end_s = t_end;
    j->end_s = t_end;
    j->volume_ml = d->volume_ml;
    j->done = true;
    drug_deposit dep[NEEDLE_HEAD_MAX];
    int nd = injection_deposits(s, s->active, dep);
    if (j->n_needles <= 1) {
        j->dermis_fraction = drug_dermis_fraction(&s->sc.drug, d, s->anat, s->pose.pressure_n);
        double h, sig;
        j->wheal = drug_wheal(&s->sc.drug, d, &h, &sig);
        j->bleb_mm = drug_bleb_diameter_mm(&s->sc.drug, d);
    } else {
        /* A head: each needle's share where its tip is; the injection's fraction is their
         * mean (the shares are equal), its wheal any needle's, its bleb the largest. */
        j->dermis_fraction = 0.0;
        j->wheal = false;
        j->bleb_mm = 0.0;
        for (int k = 0; k < nd; k++) {
            score_needle *q = &j->needles[k];
            q->dermis_fraction = q->verdict == VERDICT_OUTSIDE
                                     ? 0.0
                                     : drug_dermis_fraction(&s->sc.drug, &dep[k], s->anat, s->pose.pressure_n);
            j->dermis_fraction += q->dermis_fraction / nd;
            double h, sig;
            j->wheal = drug_wheal(&s->sc.drug, &dep[k], &h, &sig) || j->wheal;
            j->bleb_mm = fmax(j->bleb_mm, drug_bleb_diameter_mm(&s->sc.drug, &dep[k]));
        }
    }
    s->disp_dirty = true;
    /* Real-time check of the spread: the deposit in the slice when delivery ends. */
    double t_now = s->t;
    s->t = t_end;
    refresh_display(s);
    probe_frame f = display_frame(s);
    for (int q = 0; q < nd && !j->spread_seen; q++) {
        phantom_inclusion sh[DRUG_MAX_SHAPES];
        int k = drug_shapes(&s->sc.drug, &dep[q], t_end, sh, DRUG_MAX_SHAPES);
        for (int i = 0; i < k && !j->spread_seen; i++) {
            double p[3], img[3];
            to_display(s, sh[i].c_mm, p);
            probe_phantom_to_image(&f, p, img);
            double r = fmax(sh[i].radii_mm[0], sh[i].radii_mm[1]);
            j->spread_seen = in_slice(s, img, r);
        }
    }
    session_event *v = emit(s, SEV_INJECTION_ENDED);
    if (v) {
        v->injection = s->active;
        v->verdict = j->verdict;
        v->tissue = j->tissue;
        v->value = j->volume_ml;
        memcpy(v->p_mm, j->tip_mm, sizeof v->p_mm);
    }
    if (j->spread_seen)
        mark_step(s, STEP_SPREAD_CHECK);
    s->t = t_now;
    s->active = -1;
}

/* Stops an injection early (the needle moved): what was delivered stays. */
static void stop_injection(session *s)
{
    if (s->active < 0)
        return;
    double delivered = s->dep[s->active].volume_ml;
    s->target_ml = delivered > 1e-9 ? delivered : 1e-9;
    finish_injection(s, s->t);
}

void session_advance_to(session *s, double t_s)
{
    if (!(t_s > s->t))
        return;
    if (s->active >= 0) {
        drug_deposit *d = &s->dep[s->active];
        double end = d->t_start_s + s->target_ml / s->rate_ml_s;
        if (end <= t_s) {
            s->t = end;
            finish_injection(s, end);
        } else {
            d->volume_ml = s->rate_ml_s * (t_s - d->t_start_s);
            s->disp_dirty = true;
        }
    }
    s->t = t_s;
    s->m.time_s = s->t;
    refresh_display(s);
}

void session_finish(session *s)
{
    double end;
    if (session_injecting(s, &end))
        session_advance_to(s, end);
    if (!s->ended)
        emit(s, SEV_SESSION_ENDED);
    s->ended = true;
}

/* ---- actions ------------------------------------------------------------------------------- */

static void handle_needle_events(session *s, const needle_event *ev, int n)
{
    for (int i = 0; i < n && i < MAX_NEEDLE_EVENTS; i++) {
        if (ev[i].kind == NEEDLE_EV_POP) {
            s->m.pops++;
        } else if (ev[i].kind == NEEDLE_EV_HUB) {
            s->m.hub_stops++;
            session_event *v = emit(s, SEV_HUB_ON_SKIN);
            if (v)
                memcpy(v->p_mm, ev[i].p_mm, sizeof v->p_mm);
        } else if (ev[i].kind == NEEDLE_EV_VESSEL && ev[i].vessel >= 0) {
            s->m.vessel_punctures++;
            s->pass_vessel_hit = true;
            session_event *v = emit(s, SEV_VESSEL_ENTERED);
            if (v) {
                v->vessel = ev[i].vessel;
                v->tissue = ev[i].tissue;
                memcpy(v->p_mm, ev[i].p_mm, sizeof v->p_mm);
            }
            unsigned bit = 1u << (ev[i].vessel & 31);
            if (!(s->pass_vessels & bit) &&
                array_grow((void **)&s->bleed, &s->cap_bleed, s->n_bleed + 1, sizeof *s->bleed)) {
                s->pass_vessels |= bit;
                drug_bleed *b = &s->bleed[s->n_bleed++];
                memcpy(b->c_mm, ev[i].p_mm, sizeof b->c_mm);
                b->t_start_s = s->t;
                b->vessel = ev[i].vessel;
                add_adverse(s, ADVERSE_HAEMATOMA, ev[i].p_mm, -1, ev[i].vessel);
            }
        }
    }
}

/* Where the tip is, to tell what a needle move changed. */
typedef struct tip_state {
    bool placed, in_skin;
    int layer;
    double dimple_mm;
} tip_state;

static tip_state tip_now(const session *s)
{
    tip_state t = {needle_placed(s->nd), needle_in_skin(s->nd), -1, needle_dimple_mm(s->nd)};
    if (t.in_skin)
        needle_tissue_at(s->nd, needle_inserted_mm(s->nd), &t.layer, NULL);
    return t;
}

/* Events of a needle move: the dent, the puncture, each layer broken into (one per pop),
 * a layer reached without a pop (cut track, retraction), leaving the skin. */
static void tell_needle_move(session *s, tip_state was, const needle_event *nev, int n_nev)
{
    tip_state now = tip_now(s);
    double tip[3];
    needle_tip_mm(s->nd, tip);
    /* The skin always gives before it is punctured, also when one move does both. */
    if (now.placed && !was.in_skin && needle_travel_mm(s->nd) > 0.0 && !s->pass_dented) {
        s->pass_dented = true;
        session_event *v = emit(s, SEV_SKIN_DENTED);
        if (v) {
            v->value = now.in_skin ? needle_dimple_mm(s->nd) : now.dimple_mm;
            memcpy(v->p_mm, tip, sizeof v->p_mm);
        }
    }
    if (now.in_skin && !was.in_skin) {
        session_event *v = emit(s, SEV_SKIN_POPPED);
        if (v)
            memcpy(v->p_mm, tip, sizeof v->p_mm);
    }
    int last_pop_layer = was.layer;
    for (int i = 0; i < n_nev && i < MAX_NEEDLE_EVENTS; i++) {
        if (nev[i].kind != NEEDLE_EV_POP)
            continue;
        session_event *v = emit(s, SEV_LAYER_ENTERED);
        if (v) {
            v->layer = nev[i].layer;
            v->tissue = nev[i].tissue;
            v->vessel = nev[i].vessel;
            v->value = 1.0;
            memcpy(v->p_mm, nev[i].p_mm, sizeof v->p_mm);
        }
        last_pop_layer = nev[i].layer;
    }
    if (now.in_skin && now.layer != last_pop_layer) {
        session_event *v = emit(s, SEV_LAYER_ENTERED);
        if (v) {
            v->layer = now.layer;
            v->tissue = needle_tissue_at(s->nd, needle_inserted_mm(s->nd), NULL, &v->vessel);
            memcpy(v->p_mm, tip, sizeof v->p_mm);
        }
    }
    if (was.in_skin && !now.in_skin)
        emit(s, SEV_NEEDLE_OUT);
}

/* Margin to the nearest dermis boundary (vertical, mm): > 0 inside, < 0 outside; *from_top
 * gets the depth below the dermis top. */
static double dermis_margin(const session *s, const double p[3], double *from_top)
{
    *from_top = 0.0;
    double h[PHANTOM_MAX_LAYERS];
    phantom_contact c = anat_contact(s);
    int n = phantom_interfaces_contact(s->anat, p[0], p[1], s->pose.pressure_n, &c, h);
    const phantom_def *d = phantom_get_def(s->anat);
    for (int k = 0; k + 1 < n; k++) {
        if (d->layers[k].tissue != TISSUE_DERMIS)
            continue;
        double top = h[k], bot = h[k + 1];
        *from_top = p[2] - top;
        if (p[2] < top)
            return p[2] - top;
        if (p[2] > bot)
            return bot - p[2];
        return fmin(p[2] - top, bot - p[2]);
    }
    return 0.0;
}

/* A multi-injector head is rigid: every needle has the main needle's entry line, angle and
 * inserted length (needle_head_place), so on curved skin their tips lie at other depths. */
static void head_needles(const session *s, score_injection *j)
{
    int count = s->sc.needle.count;
    if (count <= 1 || !needle_in_skin(s->nd))
        return;
    double e[3];
    needle_entry_mm(s->nd, e);
    needle_head_tip tips[NEEDLE_HEAD_MAX];
    char err[128];
    if (needle_head_place(s->anat, s->pose.pressure_n, count, s->sc.needle.spacing_mm, e[0], e[1],
                          needle_angle_deg(s->nd), needle_azimuth_deg(s->nd), needle_inserted_mm(s->nd),
                          tips, err, sizeof err) != count)
        return;
    j->n_needles = count;
    for (int k = 0; k < count; k++) {
        score_needle *q = &j->needles[k];
        memcpy(q->tip_mm, tips[k].tip_mm, sizeof q->tip_mm);
        q->tip_depth_mm = tips[k].depth_mm;
        q->tissue = tips[k].inserted_mm > 0.0 ? tips[k].at.tissue : TISSUE_GEL;
        q->verdict = score_verdict_of(q->tissue);
        double from_top;
        q->margin_mm = dermis_margin(s, tips[k].tip_mm, &from_top);
    }
}

static bool start_injection(session *s, const action *a, char *err, size_t n)
{
    if (s->n_dep >= SESSION_MAX_INJECTIONS) {
        snprintf(err, n, "too many injections: at most %d per session", SESSION_MAX_INJECTIONS);
        return false;
    }
    if (!needle_placed(s->nd)) {
        snprintf(err, n, "inject needs the needle on the skin (needle_entry first)");
        return false;
    }
    if (!array_grow((void **)&s->dep, &s->cap_dep, s->n_dep + 1, sizeof *s->dep)) {
        snprintf(err, n, "out of memory");
        return false;
    }
    score_injection *j = score_session_add_injection(&s->m);
    if (!j) {
        snprintf(err, n, "out of memory");
        return false;
    }
    int i = s->n_dep++;
    drug_deposit *d = &s->dep[i];
    memset(d, 0, sizeof *d);
    double tip[3];
    needle_tip_mm(s->nd, tip);
    phantom_contact ct = anat_contact(s);
    phantom_sample ps = phantom_at_contact(s->anat, tip, s->pose.pressure_n, &ct, NULL, 0);
    tissue_id t = needle_in_skin(s->nd) ? ps.tissue : TISSUE_GEL;
    d->kind = s->sc.drug.kind;
    d->site = drug_site_of(t);
    memcpy(d->c_mm, tip, sizeof tip);
    d->t_start_s = s->t;
    d->t_end_s = s->t;
    d->fibre_deg = phantom_get_def(s->anat)->muscle_fibre_angle_deg;
    j->t_s = s->t;
    j->drug = d->kind;
    j->tissue = t;
    j->layer = needle_in_skin(s->nd) ? ps.layer : -1;
    j->verdict = score_verdict_of(t);
    memcpy(j->tip_mm, tip, sizeof tip);
    j->tip_depth_mm = needle_in_skin(s->nd) ? ps.depth_mm : 0.0;
    double from_top;
    j->margin_mm = dermis_margin(s, tip, &from_top);
    j->vessel_punctured = s->pass_vessel_hit;
    head_needles(s, j);
    double img[3];
    refresh_display(s);
    session_tip_image(s, img);
    j->tip_to_plane_mm = fabs(img[1]);
    j->slice_half_mm = tip_slice_half_mm(s, img);
    j->tip_in_slice = needle_in_skin(s->nd) && tip_in_view(s, img);
    /* Approach: the needle's course in the skin plane against the probe's long axis. */
    probe_frame f = display_frame(s);
    double dir[3];
    needle_dir(s->nd, dir);
    double dh = hypot(dir[0], dir[1]), uh = hypot(f.u[0], f.u[1]);
    double c = dh > 1e-9 && uh > 1e-9 ? fabs(dir[0] * f.u[0] + dir[1] * f.u[1]) / (dh * uh) : 0.0;
    j->out_of_plane = c < cos(45.0 * PI / 180.0);
    if (j->out_of_plane && j->tip_in_slice && j->verdict != VERDICT_OUTSIDE)
        mark_step(s, STEP_INJECTION);
    session_event *v = emit(s, SEV_INJECTION_STARTED);
    if (v) {
        v->injection = i;
        v->verdict = j->verdict;
        v->tissue = j->tissue;
        v->layer = j->layer;
        memcpy(v->p_mm, tip, sizeof v->p_mm);
    }
    switch (j->verdict) {
    case VERDICT_EPIDERMAL: add_adverse(s, ADVERSE_TOO_SUPERFICIAL, tip, i, -1); break;
    case VERDICT_SUBCUTANEOUS:
    case VERDICT_INTRAMUSCULAR: add_adverse(s, ADVERSE_TOO_DEEP, tip, i, -1); break;
    case VERDICT_INTRAVASCULAR: add_adverse(s, ADVERSE_INTRAVASCULAR, tip, i, ps.vessel); break;
    case VERDICT_INTRADERMAL:
        if (from_top < s->sc.scoring.superficial_margin_mm)
            add_adverse(s, ADVERSE_TOO_SUPERFICIAL, tip, i, -1);
        break;
    default: break;
    }
    /* The head's other needles each leave their own deposit: one too shallow or too deep is
     * an adverse event of its own (the middle one is the needle judged above). */
    for (int k = 0; k < j->n_needles; k++) {
        const score_needle *q = &j->needles[k];
        if (k == j->n_needles / 2)
            continue;
        double top;
        dermis_margin(s, q->tip_mm, &top);
        if (q->verdict == VERDICT_EPIDERMAL ||
            (q->verdict == VERDICT_INTRADERMAL && top < s->sc.scoring.superficial_margin_mm))
            add_adverse(s, ADVERSE_TOO_SUPERFICIAL, q->tip_mm, i, -1);
        else if (q->verdict == VERDICT_SUBCUTANEOUS || q->verdict == VERDICT_INTRAMUSCULAR)
            add_adverse(s, ADVERSE_TOO_DEEP, q->tip_mm, i, -1);
    }
    s->active = i;
    s->target_ml = a->v[AK_ML];
    s->rate_ml_s = action_has(a, AK_RATE) ? a->v[AK_RATE] : s->sc.drug.rate_ml_s;
    s->disp_dirty = true;
    return true;
}

static bool apply_probe(session *s, const action *a, char *err, size_t n)
{
    probe_pose p = s->pose;
    probe_def d = s->probe;
    double *pose_f[] = {&p.x_mm, &p.y_mm, &p.rot_deg, &p.tilt_deg, &p.rock_deg, &p.pressure_n};
    double *set_f[] = {&d.freq_mhz, &d.depth_mm, &d.gain_db, &d.dynamic_range_db, &d.tgc_db_cm_mhz};
    for (int k = AK_X; k <= AK_PRESSURE; k++)
        if (action_has(a, (action_key)k))
            *pose_f[k - AK_X] = a->v[k];
    for (int k = AK_FREQ; k <= AK_TGC; k++)
        if (action_has(a, (action_key)k))
            *set_f[k - AK_FREQ] = a->v[k];
    if (action_has(a, AK_FOCUS))
        d.tx_focus_mm = a->v[AK_FOCUS];
    if (action_has(a, AK_RX_FNUMBER))
        d.rx_fnumber = a->v[AK_RX_FNUMBER];
    if (action_has(a, AK_LINES))
        d.n_lines = (int)a->v[AK_LINES];
    for (int k = 0; k < PROBE_TGC_ZONES; k++)
        if (action_has(a, (action_key)(AK_TGC0 + k)))
            d.tgc_db[k] = a->v[AK_TGC0 + k];
    const phantom_def *pd = phantom_get_def(s->anat);
    if (fabs(p.x_mm) > 0.5 * pd->width_mm || fabs(p.y_mm) > 0.5 * pd->length_mm) {
        snprintf(err, n, "probe at (%g, %g) mm is off the %g x %g mm patch", p.x_mm, p.y_mm,
                 pd->width_mm, pd->length_mm);
        session_event *v = emit(s, SEV_PROBE_OFF_PATCH);
        if (v) {
            v->p_mm[0] = p.x_mm;
            v->p_mm[1] = p.y_mm;
        }
        return false;
    }
    const char *pe = probe_check(&d);
    if (pe) {
        snprintf(err, n, "probe settings: %s", pe);
        return false;
    }
    bool pressed = p.pressure_n != s->pose.pressure_n;
    bool was_on = anat_contact(s).on;
    s->pose = p;
    s->probe = d;
    /* The needle meets the anatomy the image shows: the tissue the face presses moves. */
    phantom_contact c = anat_contact(s);
    needle_set_contact(s->nd, &c);
    if (pressed || was_on || c.on)
        needle_retrack(s->nd, s->anat, p.pressure_n);
    return true;
}

/* Takes back the last step tick when it is the named step and recent (scoring.undo_window_s):
 * a mis-click is forgiven, a step undone long after is refused so the log keeps what was
 * done. */
static bool undo_step(session *s, const action *a, char *err, size_t n)
{
    if (s->n_ticks == 0) {
        snprintf(err, n, "undo_step \"%s\": no step has been ticked yet", a->name);
        return false;
    }
    score_step k = s->ticks[s->n_ticks - 1];
    if (strcmp(score_step_name(k), a->name) != 0) {
        snprintf(err, n, "undo_step \"%s\": the last step ticked was \"%s\"; only the last "
                 "tick can be taken back", a->name, score_step_name(k));
        return false;
    }
    double age = s->t - s->m.step_t_s[k];
    if (age > s->sc.scoring.undo_window_s) {
        snprintf(err, n, "undo_step \"%s\": ticked %.1f s ago; a tick can be taken back "
                 "within %g s", a->name, age, s->sc.scoring.undo_window_s);
        return false;
    }
    s->n_ticks--;
    s->m.step_done[k] = false;
    s->m.step_t_s[k] = 0.0;
    if (k == STEP_DISINFECTION)
        s->m.skin_checked = false;
    session_event *v = emit(s, SEV_STEP_UNDONE);
    if (v)
        v->step = k;
    return true;
}

/* The truth in the image's own depths: the dermis boundaries under the probe centre (depth 0
 * is the probe face, which may sit on gel over a dip). */
static void true_dermis(session *s, double *top_mm, double *bottom_mm)
{
    refresh_display(s);
    const phantom_def *pd = phantom_get_def(s->anat);
    probe_frame f = display_frame(s);
    double c[3], img[3], h[PHANTOM_MAX_LAYERS];
    probe_image_to_phantom(&f, 0.0, 0.0, 0.0, c);
    int nl = phantom_interfaces(s->disp, c[0], c[1], s->pose.pressure_n, h);
    for (int k = 0; k + 1 < nl; k++) {
        if (pd->layers[k].tissue == TISSUE_DERMIS) {
            double p[3] = {c[0], c[1], h[k]};
            probe_phantom_to_image(&f, p, img);
            *top_mm = img[2];
            p[2] = h[k + 1];
            probe_phantom_to_image(&f, p, img);
            *bottom_mm = img[2];
            return;
        }
    }
}

/* scoring.require_doppler_check: with Doppler on before the first needle entry, a planned
 * point counts as checked when the dermis-fat junction under it (where the deep plexus and
 * the perforators reaching it lie, tissue.md section 7) is inside the box and within half the
 * slice thickness of the image plane. */
static void doppler_check(session *s)
{
    if (!s->sc.scoring.require_doppler_check || s->m.entered || s->dop.mode == DOPPLER_OFF)
        return;
    s->m.doppler_before_entry = true;
    refresh_display(s);
    const phantom_def *pd = phantom_get_def(s->anat);
    probe_frame f = display_frame(s);
    const score_plan *pl = &s->sc.plan;
    for (int i = 0; i < pl->n_points; i++) {
        double h[PHANTOM_MAX_LAYERS], img[3];
        int nl = phantom_interfaces(s->disp, pl->points_mm[i][0], pl->points_mm[i][1],
                                    s->pose.pressure_n, h);
        for (int k = 0; k + 1 < nl; k++) {
            if (pd->layers[k].tissue != TISSUE_DERMIS)
                continue;
            double p[3] = {pl->points_mm[i][0], pl->points_mm[i][1], h[k + 1]};
            probe_phantom_to_image(&f, p, img);
            double half = 0.5 * fmax(probe_elevation_fwhm_mm(&s->probe, img[2]), 1.0);
            if (fabs(img[1]) <= half && img[0] >= s->dop.box_mm[0] && img[0] <= s->dop.box_mm[2] &&
                img[2] >= s->dop.box_mm[1] && img[2] <= s->dop.box_mm[3])
                s->m.doppler_points |= 1u << i;
            break;
        }
    }
}

static bool apply_action(session *s, const action *a, char *err, size_t n)
{
    if (s->ended) {
        snprintf(err, n, "the session has ended");
        return false;
    }
    session_advance_to(s, a->t_s);
    needle_event ev[MAX_NEEDLE_EVENTS];
    const phantom_def *pd = phantom_get_def(s->anat);
    tip_state was = tip_now(s);
    switch (a->verb) {
    case ACT_PROBE:
        if (!apply_probe(s, a, err, n))
            return false;
        doppler_check(s);
        return true;
    case ACT_NEEDLE_ENTRY:
        if (fabs(a->v[AK_X]) > 0.5 * pd->width_mm || fabs(a->v[AK_Y]) > 0.5 * pd->length_mm) {
            snprintf(err, n, "entry (%g, %g) mm is off the %g x %g mm patch", a->v[AK_X],
                     a->v[AK_Y], pd->width_mm, pd->length_mm);
            return false;
        }
        stop_injection(s);
        if (!needle_enter(s->nd, s->anat, s->pose.pressure_n, a->v[AK_X], a->v[AK_Y],
                          a->v[AK_ANGLE], a->v[AK_AZIMUTH], err, n))
            return false;
        s->m.passes++;
        if (!s->m.entered) {
            s->m.entered = true;
            s->m.first_entry_t_s = s->t;
        }
        s->redirect_open = false;
        s->retracted = false;
        s->pass_vessels = 0;
        s->pass_vessel_hit = false;
        s->pass_dented = false;
        {
            session_event *v = emit(s, SEV_NEEDLE_PLACED);
            if (v)
                needle_tip_mm(s->nd, v->p_mm);
        }
        return true;
    case ACT_ADVANCE: {
        if (!needle_placed(s->nd)) {
            snprintf(err, n, "advance needs the needle on the skin (needle_entry first)");
            return false;
        }
        stop_injection(s);
        s->redirect_open = false;
        s->retracted = false;
        double before = needle_travel_mm(s->nd);
        int k = needle_advance(s->nd, a->v[AK_MM], ev, MAX_NEEDLE_EVENTS);
        handle_needle_events(s, ev, k);
        tell_needle_move(s, was, ev, k);
        /* On bone the needle cannot go deeper: say so rather than move nothing in silence. */
        for (int i = 0; i < k && i < MAX_NEEDLE_EVENTS; i++)
            if (ev[i].kind == NEEDLE_EV_BONE && needle_travel_mm(s->nd) <= before) {
                snprintf(err, n, "the needle tip is on bone: it cannot go deeper (retract or redirect)");
                return false;
            }
        return true;
    }
    case ACT_RETRACT:
        if (!needle_placed(s->nd)) {
            snprintf(err, n, "retract needs the needle on the skin");
            return false;
        }
        stop_injection(s);
        s->redirect_open = false;
        s->retracted = true;
        needle_retract(s->nd, a->v[AK_MM]);
        tell_needle_move(s, was, NULL, 0);
        return true;
    case ACT_WITHDRAW:
        stop_injection(s);
        s->redirect_open = false;
        needle_withdraw(s->nd);
        if (was.in_skin)
            emit(s, SEV_NEEDLE_OUT);
        return true;
    case ACT_REDIRECT: {
        stop_injection(s);
        /* Deep: more than half the needle inside. Pivoting a needle that deep bends it and
         * sweeps its shaft through the tissue; the teaching is to pull back to just under the
         * skin first (docs/actions.md "retract first, as in practice"). */
        bool deep = was.in_skin && !s->retracted &&
                    needle_inserted_mm(s->nd) > SESSION_REDIRECT_DEEP_FRAC * s->sc.needle.length_mm;
        if (was.placed && !was.in_skin) {
            /* Over the skin the tip is lifted and set down again at the same point with the
             * new angle: aiming, not a pass and not a redirect. */
            double e[3];
            needle_entry_mm(s->nd, e);
            if (!needle_enter(s->nd, s->anat, s->pose.pressure_n, e[0], e[1], a->v[AK_ANGLE],
                              a->v[AK_AZIMUTH], err, n))
                return false;
            s->pass_dented = false;
        } else if (!needle_redirect(s->nd, s->anat, s->pose.pressure_n, a->v[AK_ANGLE],
                                    a->v[AK_AZIMUTH], err, n)) {
            return false;
        }
        /* Turning the needle over the skin is aiming, not a redirect; in the skin one
         * continuous change of angle (pivots with no advance, retract or injection between)
         * is one redirect. */
        double counted = 0.0;
        if (was.in_skin && !s->redirect_open) {
            s->m.redirects++;
            s->redirect_open = true;
            counted = 1.0;
            if (deep) {
                s->m.redirects_without_retract++;
                counted = 2.0;
            }
        }
        session_event *v = emit(s, SEV_REDIRECTED);
        if (v) {
            v->value = counted;
            needle_tip_mm(s->nd, v->p_mm);
        }
        tell_needle_move(s, was, NULL, 0);
        return true;
    }
    case ACT_INJECT:
        stop_injection(s);
        s->redirect_open = false;
        return start_injection(s, a, err, n);
    case ACT_UNDO_STEP:
        return undo_step(s, a, err, n);
    case ACT_STEP:
        if (!strcmp(a->name, "positioning"))
            mark_step(s, STEP_POSITIONING);
        else if (!strcmp(a->name, "sterile_field"))
            mark_step(s, STEP_STERILE_FIELD);
        else if (!strcmp(a->name, "dressing"))
            mark_step(s, STEP_DRESSING);
        else if (!strcmp(a->name, "disinfection")) {
            /* The case report's step 2 is disinfection "ensuring no skin lesions were
             * present": without the skin check it does not count. */
            s->m.skin_checked = s->m.skin_checked || a->skin_check;
            if (a->skin_check)
                mark_step(s, STEP_DISINFECTION);
        }
        return true;
    case ACT_MARK_DERMIS: {
        true_dermis(s, &s->m.true_top_mm, &s->m.true_bottom_mm);
        s->m.marked = true;
        s->m.mark_top_mm = a->v[AK_TOP];
        s->m.mark_bottom_mm = a->v[AK_BOTTOM];
        mark_step(s, STEP_ASSESSMENT);
        session_event *v = emit(s, SEV_DERMIS_MARKED);
        if (v)
            v->value = 0.5 * (fabs(s->m.mark_top_mm - s->m.true_top_mm) +
                              fabs(s->m.mark_bottom_mm - s->m.true_bottom_mm));
        return true;
    }
    case ACT_MEASURE: {
        if (!array_grow((void **)&s->meas, &s->cap_meas, s->n_meas + 1, sizeof *s->meas)) {
            snprintf(err, n, "out of memory");
            return false;
        }
        session_measurement *me = &s->meas[s->n_meas++];
        me->t_s = s->t;
        me->x0_mm = a->v[AK_X0], me->z0_mm = a->v[AK_Z0];
        me->x1_mm = a->v[AK_X1], me->z1_mm = a->v[AK_Z1];
        me->distance_mm = hypot(me->x1_mm - me->x0_mm, me->z1_mm - me->z0_mm);
        if (s->sc.scoring.measure_dermis) {
            /* The case asks for the dermis thickness: the last measurement is the assessment. */
            double top = 0.0, bottom = 0.0;
            true_dermis(s, &top, &bottom);
            s->m.measured = true;
            s->m.measured_mm = me->distance_mm;
            s->m.true_thickness_mm = bottom - top;
            mark_step(s, STEP_ASSESSMENT);
        }
        return true;
    }
    case ACT_DOPPLER: {
        doppler_settings d = s->dop;
        if (a->has_mode)
            d.mode = (doppler_mode)a->mode;
        if (action_has(a, AK_X0)) {
            d.box_mm[0] = a->v[AK_X0], d.box_mm[1] = a->v[AK_Z0];
            d.box_mm[2] = a->v[AK_X1], d.box_mm[3] = a->v[AK_Z1];
        }
        if (action_has(a, AK_PRF))
            d.prf_hz = a->v[AK_PRF];
        if (action_has(a, AK_STEER))
            d.steer_deg = a->v[AK_STEER];
        if (action_has(a, AK_GAIN))
            d.gain_db = a->v[AK_GAIN];
        const char *bad = doppler_settings_check(&d);
        if (bad) {
            snprintf(err, n, "%s", bad);
            return false;
        }
        s->dop = d;
        s->dop_used = true;
        doppler_check(s);
        return true;
    }
    case ACT_WAIT:
        return true;
    case ACT_END:
        session_finish(s);
        return true;
    default:
        snprintf(err, n, "unknown action");
        return false;
    }
}

bool session_apply(session *s, const action *a, char *err, size_t n)
{
    char buf[160];
    if (!err || n == 0) {
        err = buf;
        n = sizeof buf;
    }
    err[0] = '\0';
    bool ok = apply_action(s, a, err, n);
    if (!ok) {
        session_event *v = emit(s, SEV_ACTION_REFUSED);
        if (v) {
            v->verb = a->verb;
            v->line = a->line;
            snprintf(v->message, sizeof v->message, "%s", err);
        }
    }
    refresh_display(s);
    return ok;
}

score_result session_score(const session *s)
{
    return score_compute(&s->sc.scoring, &s->sc.plan, &s->m);
}

/* ---- state hash ---------------------------------------------------------------------------- */

typedef struct fnv {
    uint64_t h;
} fnv;

static void h_bytes(fnv *f, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        f->h ^= b[i];
        f->h *= 1099511628211ULL;
    }
}

static void h_d(fnv *f, double x)
{
    if (x == 0.0)
        x = 0.0; /* -0 and +0 are the same state */
    h_bytes(f, &x, sizeof x);
}

static void h_i(fnv *f, long long x) { h_bytes(f, &x, sizeof x); }

uint64_t session_hash(const session *s)
{
    fnv f = {1469598103934665603ULL};
    h_d(&f, s->t);
    h_i(&f, s->ended);
    double p[3];
    h_i(&f, needle_placed(s->nd));
    h_i(&f, needle_in_skin(s->nd));
    h_d(&f, needle_travel_mm(s->nd));
    h_d(&f, needle_inserted_mm(s->nd));
    h_d(&f, needle_dimple_mm(s->nd));
    h_d(&f, needle_load_mm(s->nd));
    needle_entry_mm(s->nd, p);
    for (int k = 0; k < 3; k++)
        h_d(&f, p[k]);
    needle_dir(s->nd, p);
    for (int k = 0; k < 3; k++)
        h_d(&f, p[k]);
    h_d(&f, s->pose.x_mm), h_d(&f, s->pose.y_mm), h_d(&f, s->pose.rot_deg);
    h_d(&f, s->pose.tilt_deg), h_d(&f, s->pose.rock_deg), h_d(&f, s->pose.pressure_n);
    h_d(&f, s->probe.freq_mhz), h_d(&f, s->probe.depth_mm), h_d(&f, s->probe.gain_db);
    h_d(&f, s->probe.dynamic_range_db), h_d(&f, s->probe.tgc_db_cm_mhz);
    if (s->dop_used) {
        h_i(&f, s->dop.mode);
        for (int k = 0; k < 4; k++)
            h_d(&f, s->dop.box_mm[k]);
        h_d(&f, s->dop.prf_hz), h_d(&f, s->dop.steer_deg), h_d(&f, s->dop.gain_db);
    }
    for (int i = 0; i < s->n_dep; i++) {
        const drug_deposit *d = &s->dep[i];
        h_i(&f, d->kind), h_i(&f, d->site);
        for (int k = 0; k < 3; k++)
            h_d(&f, d->c_mm[k]);
        h_d(&f, d->volume_ml), h_d(&f, d->t_start_s), h_d(&f, d->t_end_s);
        const score_injection *j = &s->m.inj[i];
        h_i(&f, j->verdict), h_d(&f, j->tip_depth_mm), h_d(&f, j->margin_mm);
        h_d(&f, j->dermis_fraction), h_i(&f, j->tip_in_slice), h_i(&f, j->spread_seen);
    }
    for (int i = 0; i < s->n_bleed; i++) {
        for (int k = 0; k < 3; k++)
            h_d(&f, s->bleed[i].c_mm[k]);
        h_d(&f, s->bleed[i].t_start_s);
    }
    h_i(&f, s->active), h_d(&f, s->target_ml), h_d(&f, s->rate_ml_s);
    h_i(&f, s->m.passes), h_i(&f, s->m.redirects), h_i(&f, s->m.pops);
    h_i(&f, s->m.hub_stops), h_i(&f, s->m.vessel_punctures), h_i(&f, s->m.n_events);
    h_i(&f, s->m.redirects_without_retract), h_i(&f, s->m.entered), h_d(&f, s->m.first_entry_t_s);
    for (int k = 0; k < STEP_COUNT; k++)
        h_i(&f, s->m.step_done[k]), h_d(&f, s->m.step_t_s[k]);
    h_i(&f, s->m.marked), h_d(&f, s->m.mark_top_mm), h_d(&f, s->m.mark_bottom_mm);
    return f.h;
}

/* ---- report -------------------------------------------------------------------------------- */

/* Figures are rounded to 1 um / 1e-6 so the report reads well and stays byte-stable. A figure
 * that is not a finite number is a bug upstream: jansson would drop its key without a word and
 * the report would lie by omission, so stop and say which value it was. */
static json_t *num(double x)
{
    if (!isfinite(x)) {
        fprintf(stderr, "mesosim: internal error: a report figure is %g, not a number; "
                        "please report this with the scenario and the action log\n", x);
        abort();
    }
    double r = round(x * 1e6) / 1e6;
    if (r == 0.0)
        r = 0.0;
    return json_real(r);
}

static json_t *vec3(const double p[3])
{
    json_t *a = json_array();
    for (int k = 0; k < 3; k++)
        json_array_append_new(a, num(p[k]));
    return a;
}

char *session_report_json(const session *s, const session_identity *id)
{
    score_result r = session_score(s);
    const score_session *m = &s->m;
    json_t *root = json_object();
    json_object_set_new(root, "mesosim_report", json_integer(1));
    if (id && id->simulator_version)
        json_object_set_new(root, "simulator_version", json_string(id->simulator_version));
    json_object_set_new(root, "scenario", json_string(s->sc.name));
    if (id && id->scenario_hash)
        json_object_set_new(root, "scenario_hash", json_string(id->scenario_hash));
    if (id)
        json_object_set_new(root, "finished", json_boolean(id->finished));
    /* Only a blind case says so: a guided session's report keeps its bytes. */
    if (s->sc.guidance.blind)
        json_object_set_new(root, "blind", json_true());
    char hx[24];
    snprintf(hx, sizeof hx, "%016llx", (unsigned long long)session_hash(s));
    json_object_set_new(root, "state_hash", json_string(hx));
    json_t *nd = json_object();
    json_object_set_new(nd, "gauge", json_integer(s->sc.needle.gauge));
    json_object_set_new(nd, "length_mm", num(s->sc.needle.length_mm));
    json_object_set_new(nd, "od_mm", num(needle_gauge_od_mm(s->sc.needle.gauge)));
    json_object_set_new(root, "needle", nd);
    json_object_set_new(root, "drug", json_string(drug_kind_name(s->sc.drug.kind)));

    json_t *inj = json_array();
    for (int i = 0; i < m->n_inj; i++) {
        const score_injection *j = &m->inj[i];
        json_t *o = json_object();
        json_object_set_new(o, "t_s", num(j->t_s));
        json_object_set_new(o, "end_s", num(j->end_s));
        json_object_set_new(o, "volume_ml", num(j->volume_ml));
        json_object_set_new(o, "verdict", json_string(score_verdict_name(j->verdict)));
        json_object_set_new(o, "layer", json_string(tissue_name(j->tissue)));
        json_object_set_new(o, "tip_mm", vec3(j->tip_mm));
        json_object_set_new(o, "tip_depth_mm", num(j->tip_depth_mm));
        json_object_set_new(o, "margin_mm", num(j->margin_mm));
        json_object_set_new(o, "tip_in_slice", json_boolean(j->tip_in_slice));
        json_object_set_new(o, "tip_to_plane_mm", num(j->tip_to_plane_mm));
        json_object_set_new(o, "slice_half_mm", num(j->slice_half_mm));
        json_object_set_new(o, "approach", json_string(j->out_of_plane ? "out_of_plane" : "in_plane"));
        json_object_set_new(o, "dermis_fraction", num(j->dermis_fraction));
        json_object_set_new(o, "wheal", json_boolean(j->wheal));
        json_object_set_new(o, "bleb_mm", num(j->bleb_mm));
        json_object_set_new(o, "vessel_punctured", json_boolean(j->vessel_punctured));
        json_object_set_new(o, "spread_seen", json_boolean(j->spread_seen));
        if (j->n_needles > 1) {
            json_t *arr = json_array();
            for (int k = 0; k < j->n_needles; k++) {
                const score_needle *q = &j->needles[k];
                json_t *e = json_object();
                json_object_set_new(e, "tip_depth_mm", num(q->tip_depth_mm));
                json_object_set_new(e, "verdict", json_string(score_verdict_name(q->verdict)));
                json_object_set_new(e, "margin_mm", num(q->margin_mm));
                json_object_set_new(e, "dermis_fraction", num(q->dermis_fraction));
                json_array_append_new(arr, e);
            }
            json_object_set_new(o, "needles", arr);
            double sd, range;
            score_head_spread(j, &sd, &range);
            json_t *u = json_object();
            json_object_set_new(u, "depth_sd_mm", num(sd));
            json_object_set_new(u, "depth_range_mm", num(range));
            json_object_set_new(o, "uniformity", u);
        }
        json_array_append_new(inj, o);
    }
    json_object_set_new(root, "injections", inj);

    json_t *ses = json_object();
    json_object_set_new(ses, "time_s", num(m->time_s));
    json_object_set_new(ses, "passes", json_integer(m->passes));
    json_object_set_new(ses, "redirects", json_integer(m->redirects));
    json_object_set_new(ses, "redirects_without_retract",
                        json_integer(m->redirects_without_retract));
    json_object_set_new(ses, "pops", json_integer(m->pops));
    json_object_set_new(ses, "hub_stops", json_integer(m->hub_stops));
    json_object_set_new(ses, "vessel_punctures", json_integer(m->vessel_punctures));
    json_object_set_new(ses, "depth_mean_mm", num(r.depth_mean_mm));
    json_object_set_new(ses, "depth_sd_mm", num(r.depth_sd_mm));
    json_object_set_new(ses, "spacing_error_mm", num(r.spacing_error_mm));
    json_object_set_new(ses, "plan_points", json_integer(s->sc.plan.n_points));
    /* Only a session with a multi-injector head: a single-needle report keeps its bytes. */
    if (r.head_injections > 0) {
        json_t *u = json_object();
        json_object_set_new(u, "head_injections", json_integer(r.head_injections));
        json_object_set_new(u, "depth_sd_mm", num(r.head_sd_mean_mm));
        json_object_set_new(u, "depth_sd_max_mm", num(r.head_sd_max_mm));
        json_object_set_new(u, "depth_range_mm", num(r.head_range_mean_mm));
        json_object_set_new(u, "depth_range_max_mm", num(r.head_range_max_mm));
        json_object_set_new(ses, "uniformity", u);
    }
    json_t *ev = json_array();
    for (int i = 0; i < m->n_events; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(score_adverse_name(m->events[i].kind)));
        json_object_set_new(o, "t_s", num(m->events[i].t_s));
        json_object_set_new(o, "p_mm", vec3(m->events[i].p_mm));
        json_object_set_new(o, "injection", json_integer(m->events[i].injection));
        json_array_append_new(ev, o);
    }
    json_object_set_new(ses, "adverse_events", ev);
    if (s->wheals_hidden > 0)
        json_object_set_new(ses, "wheals_not_drawn", json_integer(s->wheals_hidden));
    json_t *steps = json_object();
    for (int k = 0; k < STEP_COUNT; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "done", json_boolean(m->step_done[k]));
        if (m->step_done[k])
            json_object_set_new(o, "t_s", num(m->step_t_s[k]));
        json_object_set_new(o, "in_order", json_boolean(r.step_in_order[k]));
        json_object_set_new(steps, score_step_name((score_step)k), o);
    }
    json_object_set_new(ses, "steps", steps);
    json_t *skipped = json_array(), *late = json_array();
    for (int k = 0; k < STEP_COUNT; k++) {
        if (!m->step_done[k])
            json_array_append_new(skipped, json_string(score_step_name((score_step)k)));
        else if (!r.step_in_order[k])
            json_array_append_new(late, json_string(score_step_name((score_step)k)));
    }
    json_object_set_new(ses, "steps_skipped", skipped);
    json_object_set_new(ses, "steps_out_of_order", late);
    json_t *as = json_object();
    json_object_set_new(as, "marked", json_boolean(m->marked));
    if (m->marked) {
        json_object_set_new(as, "top_mm", num(m->mark_top_mm));
        json_object_set_new(as, "bottom_mm", num(m->mark_bottom_mm));
        json_object_set_new(as, "true_top_mm", num(m->true_top_mm));
        json_object_set_new(as, "true_bottom_mm", num(m->true_bottom_mm));
        json_object_set_new(as, "error_mm", num(0.5 * (fabs(m->mark_top_mm - m->true_top_mm) +
                                                       fabs(m->mark_bottom_mm - m->true_bottom_mm))));
    }
    if (s->sc.scoring.measure_dermis) {
        json_object_set_new(as, "measured", json_boolean(m->measured));
        if (m->measured) {
            json_object_set_new(as, "measured_mm", num(m->measured_mm));
            json_object_set_new(as, "true_thickness_mm", num(m->true_thickness_mm));
            json_object_set_new(as, "measure_error_mm", num(r.assessment_error_mm));
        }
    }
    if (s->sc.scoring.require_doppler_check) {
        json_object_set_new(as, "doppler_points_checked", json_integer(r.doppler_checked));
        json_object_set_new(as, "doppler_points_required", json_integer(r.doppler_required));
    }
    json_object_set_new(ses, "assessment", as);
    /* Listed only when the calipers were used, so a session without them reports as before. */
    if (s->n_meas > 0) {
        json_t *ma = json_array();
        for (int i = 0; i < s->n_meas; i++) {
            const session_measurement *me = &s->meas[i];
            json_t *o = json_object();
            json_object_set_new(o, "t_s", num(me->t_s));
            json_object_set_new(o, "x0_mm", num(me->x0_mm));
            json_object_set_new(o, "z0_mm", num(me->z0_mm));
            json_object_set_new(o, "x1_mm", num(me->x1_mm));
            json_object_set_new(o, "z1_mm", num(me->z1_mm));
            json_object_set_new(o, "distance_mm", num(me->distance_mm));
            json_array_append_new(ma, o);
        }
        json_object_set_new(ses, "measurements", ma);
    }
    json_object_set_new(root, "session", ses);

    json_t *sc = json_object();
    json_object_set_new(sc, "total", num(r.total));
    json_object_set_new(sc, "pass", json_boolean(r.pass));
    json_object_set_new(sc, "pass_mark", num(s->sc.scoring.pass_mark));
    json_object_set_new(sc, "critical_failed", json_boolean(r.critical));
    json_t *crit = json_array();
    for (int k = 0; k < CRITICAL_COUNT; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "item", json_string(score_critical_name((score_critical_item)k)));
        json_object_set_new(o, "judged", json_boolean(r.critical_on[k]));
        json_object_set_new(o, "ok", json_boolean(r.critical_ok[k]));
        json_object_set_new(o, "reason", json_string(r.critical_reason[k]));
        json_array_append_new(crit, o);
    }
    json_object_set_new(sc, "critical", crit);
    json_t *parts = json_object();
    double wsum = 0.0;
    for (int k = 0; k < PART_COUNT; k++)
        wsum += s->sc.scoring.weights[k];
    for (int k = 0; k < PART_COUNT; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "weight", num(100.0 * s->sc.scoring.weights[k] / wsum));
        json_object_set_new(o, "value", num(r.part[k]));
        json_object_set_new(o, "points", num(r.points[k]));
        json_object_set_new(parts, score_part_name((score_part)k), o);
    }
    json_t *tech = json_object_get(parts, "technique");
    json_object_set_new(tech, "passes", num(r.passes_score));
    json_object_set_new(tech, "redirects", num(r.redirect_score));
    json_object_set_new(tech, "time", num(r.time_score));
    json_object_set_new(tech, "depth_consistency", num(r.depth_score));
    json_object_set_new(tech, "spacing", num(r.spacing_score));
    if (r.head_injections > 0)
        json_object_set_new(tech, "uniformity", num(r.uniformity_score));
    json_object_set_new(sc, "parts", parts);
    json_object_set_new(root, "score", sc);

    feedback_item *fb = malloc(FEEDBACK_MAX * sizeof *fb);
    json_t *fa = json_array();
    int nf = fb ? feedback_generate(&s->sc.scoring, &s->sc.plan, m, &r, fb, FEEDBACK_MAX) : 0;
    if (nf > FEEDBACK_MAX) {
        /* A long session: the whole list, in a second pass with room for it. */
        feedback_item *big = realloc(fb, (size_t)nf * sizeof *fb);
        if (big) {
            fb = big;
            feedback_generate(&s->sc.scoring, &s->sc.plan, m, &r, fb, nf);
        } else {
            nf = FEEDBACK_MAX;
        }
    }
    for (int i = 0; i < nf; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "severity", json_string(feedback_severity_name(fb[i].severity)));
        json_object_set_new(o, "topic", json_string(fb[i].topic));
        if (fb[i].injection >= 0)
            json_object_set_new(o, "injection", json_integer(fb[i].injection));
        json_object_set_new(o, "message", json_string(fb[i].message));
        json_array_append_new(fa, o);
    }
    free(fb);
    json_object_set_new(root, "feedback", fa);

    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(root);
    return text;
}
