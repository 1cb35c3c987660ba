/* needle: insertion state machine over a per-track tissue table, and the axial force. */
#include "needle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Track samples: the needle plus a margin, every NEEDLE_TRACK_STEP_MM. */
#define TRACK_N 2802 /* (NEEDLE_MAX_LENGTH_MM + 1) / NEEDLE_TRACK_STEP_MM + 2 */
/* Region key of the gel above the skin; layers are 0.., vessels 1000 + index. */
#define REGION_GEL (-1)
#define REGION_VESSEL 1000
/* Below this speed friction and cutting are static: the state alone cannot tell their sign. */
#define V_STATIC_MM_S 0.05

typedef struct track_cell {
    unsigned char tissue;
    signed char layer;
    signed char vessel;
} track_cell;

struct needle {
    needle_def def;
    double od_mm;
    bool placed, punctured;
    double entry[3], dir[3];
    double angle_deg, azimuth_deg;
    double travel, dimple, load, inserted;
    double cut_mm;        /* track already cut by this pass */
    tissue_id barrier;    /* tissue whose interface the tip is loading */
    track_cell cell[TRACK_N];
    double fric_cum[TRACK_N + 1]; /* friction per mm integrated from the entry, N */
    phantom_contact contact;      /* the probe face the track is read under */
};

double needle_gauge_od_mm(int gauge)
{
    /* Needle gauge chart (tissue.md section 4). */
    switch (gauge) {
    case 27: return 0.413;
    case 30: return 0.311;
    case 32: return 0.235;
    default: return 0.0;
    }
}

double needle_gauge_id_mm(int gauge)
{
    switch (gauge) {
    case 27: return 0.210;
    case 30: return 0.159;
    case 32: return 0.108;
    default: return 0.0;
    }
}

needle_def needle_default_def(void)
{
    needle_def d;
    memset(&d, 0, sizeof d);
    /* Case report: a 4 mm single needle; Mammucari 2011 (tissue.md 4b): 4 mm 27G or 13 mm
     * 30/32G. 30G is the middle of the range the scenarios allow. */
    d.gauge = 30;
    d.length_mm = 4.0;
    d.bevel_up = true;
    /* Assumption: half of the skin dent stays after the pop, held by shaft friction. */
    d.dimple_residual_frac = 0.5;
    /* A perforator of 0.7 mm (tissue.md section 7) bleeding into a ~3 mm bruise over a
     * minute; assumption, no measured growth curve found. */
    d.haematoma_radius_mm = 1.5;
    d.haematoma_growth_s = 20.0;
    /* The case report's single needle. The 4 mm spacing of a head is an assumption: no
     * source gives a multi-injector's (shared/reference/training.md 4). */
    d.count = 1;
    d.spacing_mm = 4.0;
    /* Fine-gauge forces in human skin were not found as numbers (tissue.md "Gaps"): values
     * bracketed by microneedles 0.1-3 N, suture needles 0.48-1.0 N, literature median 1.22 N
     * for (mostly larger) needles, and pen needles rising with diameter. For a 30G needle:
     * skin puncture 0.5 N at a 1 mm axial dent (stiffness 0.5 N/mm); internal interfaces
     * stiffer and weaker; friction 21 % of the total in Barnett 2015's split, so a few
     * hundredths of a newton per mm. All tunable per scenario, to be calibrated on the
     * haptic device. */
    for (int t = 0; t < TISSUE_COUNT; t++)
        d.mech[t] = (needle_tissue_mech){0.05, 1.0, 0.005, 0.02};
    d.mech[TISSUE_GEL] = (needle_tissue_mech){0.0, 1.0, 0.0, 0.0};
    d.mech[TISSUE_STRATUM_CORNEUM] = (needle_tissue_mech){0.5, 0.5, 0.02, 0.1};
    d.mech[TISSUE_EPIDERMIS] = (needle_tissue_mech){0.1, 1.0, 0.02, 0.08};
    d.mech[TISSUE_DERMIS] = (needle_tissue_mech){0.15, 1.0, 0.02, 0.08};
    d.mech[TISSUE_FAT] = (needle_tissue_mech){0.03, 1.0, 0.004, 0.02};
    d.mech[TISSUE_DEEP_FAT] = (needle_tissue_mech){0.03, 1.0, 0.004, 0.02};
    d.mech[TISSUE_SUPERFICIAL_FASCIA] = (needle_tissue_mech){0.2, 1.5, 0.01, 0.05};
    d.mech[TISSUE_DEEP_FASCIA] = (needle_tissue_mech){0.4, 2.0, 0.015, 0.08};
    d.mech[TISSUE_MUSCLE] = (needle_tissue_mech){0.1, 1.0, 0.012, 0.05};
    /* Tendon: dense collagen, assumed as firm as the deep fascia. */
    d.mech[TISSUE_TENDON] = (needle_tissue_mech){0.4, 2.0, 0.015, 0.08};
    d.mech[TISSUE_VESSEL_WALL] = (needle_tissue_mech){0.1, 1.0, 0.01, 0.03};
    d.mech[TISSUE_BLOOD] = (needle_tissue_mech){0.0, 1.0, 0.0, 0.0};
    return d;
}

const char *needle_check(const needle_def *d)
{
    if (needle_gauge_od_mm(d->gauge) <= 0.0)
        return "gauge: must be 27, 30 or 32";
    if (d->length_mm != 4.0 && d->length_mm != 6.0 && d->length_mm != 13.0)
        return "length_mm: must be 4, 6 or 13";
    if (!(d->dimple_residual_frac >= 0.0 && d->dimple_residual_frac <= 1.0))
        return "dimple_residual_frac: must be within 0..1";
    if (!(d->haematoma_radius_mm > 0.0) || !(d->haematoma_growth_s > 0.0))
        return "haematoma_radius_mm and haematoma_growth_s: must be > 0";
    if (d->count != 1 && d->count != 3 && d->count != 5)
        return "count: must be 1, 3 or 5 needles";
    if (!(d->spacing_mm > 0.0 && d->spacing_mm <= 20.0))
        return "spacing_mm: must be within 0..20 mm";
    for (int t = 0; t < TISSUE_COUNT; t++) {
        const needle_tissue_mech *m = &d->mech[t];
        if (!(m->puncture_n >= 0.0) || !(m->stiffness_n_mm > 0.0) || !(m->friction_n_mm >= 0.0) ||
            !(m->cutting_n >= 0.0))
            return "tissues: puncture_n, friction_n_mm, cutting_n >= 0 and stiffness_n_mm > 0";
    }
    return NULL;
}

needle *needle_create(const needle_def *def)
{
    if (!def || needle_check(def))
        return NULL;
    needle *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->def = *def;
    n->od_mm = needle_gauge_od_mm(def->gauge);
    return n;
}

void needle_destroy(needle *n) { free(n); }

needle *needle_clone(const needle *n)
{
    /* Plain data, the track table inline: a copy is one block. */
    needle *c = malloc(sizeof *c);
    if (c)
        memcpy(c, n, sizeof *c);
    return c;
}

const needle_def *needle_get_def(const needle *n) { return &n->def; }

static int cell_index(double s)
{
    int i = (int)lround(s / NEEDLE_TRACK_STEP_MM);
    return i < 0 ? 0 : (i >= TRACK_N ? TRACK_N - 1 : i);
}

static int region_at(const needle *n, double s)
{
    if (s <= 0.0)
        return REGION_GEL;
    const track_cell *c = &n->cell[cell_index(s)];
    if (c->vessel >= 0)
        return REGION_VESSEL + c->vessel;
    return c->layer;
}

void needle_point_mm(const needle *n, double s, double out[3])
{
    for (int k = 0; k < 3; k++)
        out[k] = n->entry[k] + s * n->dir[k];
}

/* The friction scale: per-mm friction and cutting rise with the shaft's circumference and
 * tip area; the table is for 30G, so other gauges scale with the diameter (pen needles 28-32G:
 * force rises with diameter, Praestmark 2016). */
static double gauge_scale(const needle *n) { return n->od_mm / 0.311; }

void needle_set_contact(needle *n, const phantom_contact *c)
{
    if (c)
        n->contact = *c;
    else
        memset(&n->contact, 0, sizeof n->contact);
}

void needle_retrack(needle *n, const phantom *ph, double pressure_n)
{
    if (!n->placed)
        return;
    double fc = 0.0, g = gauge_scale(n);
    n->fric_cum[0] = 0.0;
    for (int i = 0; i < TRACK_N; i++) {
        double p[3];
        needle_point_mm(n, i * NEEDLE_TRACK_STEP_MM, p);
        phantom_sample s = phantom_at_contact(ph, p, pressure_n, &n->contact, NULL, 0);
        /* The entry point itself sits on the surface: count it as the top layer. */
        if (i == 0 && s.layer < 0) {
            s.layer = 0;
            s.tissue = phantom_get_def(ph)->layers[0].tissue;
        }
        n->cell[i] = (track_cell){(unsigned char)s.tissue, (signed char)s.layer,
                                  (signed char)s.vessel};
        if (s.layer >= 0)
            fc += n->def.mech[s.tissue].friction_n_mm * g * NEEDLE_TRACK_STEP_MM;
        n->fric_cum[i + 1] = fc;
    }
}

/* The direction of a needle entering at (x, y) at angle_deg to the skin there and azimuth
 * azimuth_deg in the skin plane. */
static void pose_dir(const phantom *ph, double x, double y, double angle_deg, double azimuth_deg, double dir[3])
{
    double nrm[3];
    phantom_surface_normal(ph, x, y, nrm);
    double az = azimuth_deg * PI / 180.0, an = angle_deg * PI / 180.0;
    double a[3] = {cos(az), sin(az), 0.0};
    double an_dot = a[0] * nrm[0] + a[1] * nrm[1] + a[2] * nrm[2];
    double t[3], tl = 0.0;
    for (int k = 0; k < 3; k++) {
        t[k] = a[k] - an_dot * nrm[k];
        tl += t[k] * t[k];
    }
    tl = sqrt(tl);
    for (int k = 0; k < 3; k++)
        dir[k] = cos(an) * t[k] / tl - sin(an) * nrm[k];
}

static void set_pose(needle *n, const phantom *ph, double angle_deg, double azimuth_deg)
{
    pose_dir(ph, n->entry[0], n->entry[1], angle_deg, azimuth_deg, n->dir);
    n->angle_deg = angle_deg;
    n->azimuth_deg = azimuth_deg;
}

bool needle_enter(needle *n, const phantom *ph, double pressure_n, double x, double y,
                  double angle_deg, double azimuth_deg, char *err, size_t err_len)
{
    if (n->placed && (n->inserted > 0.0 || n->punctured)) {
        snprintf(err, err_len, "the needle is in the skin: withdraw it before a new entry");
        return false;
    }
    if (!(angle_deg >= 1.0 && angle_deg <= 90.0)) {
        snprintf(err, err_len, "angle_deg must be within 1..90, got %g", angle_deg);
        return false;
    }
    n->placed = true;
    n->punctured = false;
    n->entry[0] = x;
    n->entry[1] = y;
    n->entry[2] = phantom_surface_mm(ph, x, y);
    set_pose(n, ph, angle_deg, azimuth_deg);
    n->travel = n->dimple = n->load = n->inserted = n->cut_mm = 0.0;
    n->barrier = TISSUE_GEL;
    needle_retrack(n, ph, pressure_n);
    return true;
}

bool needle_redirect(needle *n, const phantom *ph, double pressure_n, double angle_deg,
                     double azimuth_deg, char *err, size_t err_len)
{
    if (!n->placed || !n->punctured) {
        snprintf(err, err_len, "redirect needs the needle in the skin");
        return false;
    }
    if (!(angle_deg >= 1.0 && angle_deg <= 90.0)) {
        snprintf(err, err_len, "angle_deg must be within 1..90, got %g", angle_deg);
        return false;
    }
    set_pose(n, ph, angle_deg, azimuth_deg);
    /* The interface load is lost when the tip swings; the shaft has cut its new track. */
    n->travel -= n->load;
    n->load = 0.0;
    n->cut_mm = n->inserted;
    needle_retrack(n, ph, pressure_n);
    return true;
}

static int push_event(needle *n, needle_event *ev, int max_ev, int count, needle_event_kind k,
                      int region, double force)
{
    if (count < max_ev && ev) {
        needle_event *e = &ev[count];
        e->kind = k;
        e->travel_mm = n->travel;
        e->inserted_mm = n->inserted;
        e->force_n = force;
        needle_tip_mm(n, e->p_mm);
        const track_cell *c = &n->cell[cell_index(n->inserted + NEEDLE_TRACK_STEP_MM)];
        e->layer = c->layer;
        e->vessel = region >= REGION_VESSEL ? region - REGION_VESSEL : -1;
        e->tissue = (tissue_id)c->tissue;
    }
    return count + 1;
}

int needle_advance(needle *n, double mm, needle_event *ev, int max_ev)
{
    int count = 0;
    if (!n->placed || !(mm > 0.0))
        return 0;
    double h = NEEDLE_TRACK_STEP_MM;
    double push = mm;  /* hand travel still to apply */
    double jump = 0.0; /* tip motion released by a pop (no hand travel) */
    while (push > 1e-12 || jump > 1e-12) {
        if (n->inserted >= n->def.length_mm - 1e-12) {
            count = push_event(n, ev, max_ev, count, NEEDLE_EV_HUB, region_at(n, n->inserted), 0.0);
            break;
        }
        bool from_jump = jump > 1e-12;
        double st = from_jump ? jump : push;
        if (st > h)
            st = h;
        if (st > n->def.length_mm - n->inserted)
            st = n->def.length_mm - n->inserted;
        int here = region_at(n, n->inserted), next = region_at(n, n->inserted + st);
        /* Cortical bone does not let a fine needle through: the tip stops on it. */
        if (n->cell[cell_index(n->inserted + st)].tissue == TISSUE_BONE) {
            count = push_event(n, ev, max_ev, count, NEEDLE_EV_BONE, next, 0.0);
            break;
        }
        if (n->inserted + st > n->cut_mm + 1e-12 && next != here) {
            /* An uncut interface: the push loads it (the skin dents) until it gives. */
            bool skin = here == REGION_GEL;
            const track_cell *c = &n->cell[cell_index(n->inserted + st)];
            n->barrier = (tissue_id)c->tissue;
            if (skin)
                n->dimple += st;
            else
                n->load += st;
            if (from_jump)
                jump -= st;
            else {
                push -= st;
                n->travel += st;
            }
            const needle_tissue_mech *m = &n->def.mech[n->barrier];
            double f = m->stiffness_n_mm * (skin ? n->dimple : n->load);
            double threshold = m->puncture_n * gauge_scale(n);
            if (f >= threshold) {
                double released;
                if (skin) {
                    released = n->dimple * (1.0 - n->def.dimple_residual_frac);
                    n->dimple -= released;
                    n->punctured = true;
                } else {
                    released = n->load;
                    n->load = 0.0;
                }
                /* The tip crosses the interface now: step it in so the table says so. */
                n->inserted += st;
                n->cut_mm = n->inserted > n->cut_mm ? n->inserted : n->cut_mm;
                released -= st;
                if (released < 0.0) {
                    /* The interface gave within the step: the rest of it was free motion. */
                    if (skin)
                        n->dimple += released;
                    else
                        n->load += released;
                    released = 0.0;
                }
                jump += released;
                count = push_event(n, ev, max_ev, count, NEEDLE_EV_POP, next, f);
                if (next >= REGION_VESSEL)
                    count = push_event(n, ev, max_ev, count, NEEDLE_EV_VESSEL, next, f);
            }
        } else {
            n->inserted += st;
            if (from_jump)
                jump -= st;
            else {
                push -= st;
                n->travel += st;
            }
            if (n->inserted > n->cut_mm)
                n->cut_mm = n->inserted;
        }
    }
    return count;
}

void needle_retract(needle *n, double mm)
{
    if (!n->placed || !(mm > 0.0))
        return;
    double r = mm, take;
    take = fmin(n->load, r);
    n->load -= take, n->travel -= take, r -= take;
    take = fmin(n->dimple, r);
    n->dimple -= take, n->travel -= take, r -= take;
    take = fmin(n->inserted, r);
    n->inserted -= take, n->travel -= take;
    if (n->inserted <= 1e-12 && n->dimple <= 1e-12)
        needle_withdraw(n);
}

void needle_withdraw(needle *n)
{
    n->placed = n->punctured = false;
    n->travel = n->dimple = n->load = n->inserted = n->cut_mm = 0.0;
}

bool needle_placed(const needle *n) { return n->placed; }
bool needle_in_skin(const needle *n) { return n->placed && n->punctured; }
double needle_travel_mm(const needle *n) { return n->travel; }
double needle_inserted_mm(const needle *n) { return n->inserted; }
double needle_dimple_mm(const needle *n) { return n->dimple; }
double needle_load_mm(const needle *n) { return n->load; }
double needle_angle_deg(const needle *n) { return n->angle_deg; }
double needle_azimuth_deg(const needle *n) { return n->azimuth_deg; }

void needle_entry_mm(const needle *n, double out[3])
{
    memcpy(out, n->entry, sizeof n->entry);
}

void needle_dir(const needle *n, double out[3]) { memcpy(out, n->dir, sizeof n->dir); }

void needle_tip_mm(const needle *n, double out[3]) { needle_point_mm(n, n->inserted, out); }

tissue_id needle_tissue_at(const needle *n, double s, int *layer, int *vessel)
{
    if (s <= 0.0 && !n->punctured) {
        if (layer)
            *layer = -1;
        if (vessel)
            *vessel = -1;
        return TISSUE_GEL;
    }
    const track_cell *c = &n->cell[cell_index(s)];
    if (layer)
        *layer = c->layer;
    if (vessel)
        *vessel = c->vessel;
    return (tissue_id)c->tissue;
}

void needle_layer_lengths(const needle *n, double *out, double *in_vessel)
{
    for (int i = 0; i < PHANTOM_MAX_LAYERS; i++)
        out[i] = 0.0;
    *in_vessel = 0.0;
    if (!needle_in_skin(n))
        return;
    int last = cell_index(n->inserted);
    for (int i = 1; i <= last; i++) {
        const track_cell *c = &n->cell[i];
        if (c->vessel >= 0)
            *in_vessel += NEEDLE_TRACK_STEP_MM;
        else if (c->layer >= 0)
            out[c->layer] += NEEDLE_TRACK_STEP_MM;
    }
}

double needle_force_n(const needle *n, double v)
{
    if (!n->placed)
        return 0.0;
    const needle_tissue_mech *m = &n->def.mech[n->barrier];
    double stiff = m->stiffness_n_mm * (n->punctured ? n->load : n->dimple);
    if (v < V_STATIC_MM_S && v > -V_STATIC_MM_S)
        return stiff;
    double fric = n->fric_cum[cell_index(n->inserted)];
    double cut = 0.0;
    if (v > 0.0 && n->punctured && n->load <= 0.0 && n->inserted < n->def.length_mm) {
        tissue_id t = needle_tissue_at(n, n->inserted, NULL, NULL);
        cut = n->def.mech[t].cutting_n * gauge_scale(n);
    }
    /* Retracting: friction pulls the other way and the springs push the needle out. */
    return v > 0.0 ? stiff + fric + cut : stiff - fric;
}

bool needle_shaft(const needle *n, phantom_inclusion *out)
{
    if (!needle_in_skin(n) || n->inserted <= 0.0)
        return false;
    memset(out, 0, sizeof *out);
    out->kind = PHANTOM_CAPSULE;
    out->tissue = TISSUE_STEEL;
    needle_entry_mm(n, out->a_mm);
    needle_tip_mm(n, out->b_mm);
    out->radius_mm = 0.5 * n->od_mm;
    out->amplitude = 1.0;
    return true;
}

int needle_head_place(const phantom *ph, double pressure_n, int count, double spacing, double x, double y,
                      double angle_deg, double azimuth_deg, double inserted, needle_head_tip *out, char *err,
                      size_t err_len)
{
    if (count < 1 || count > NEEDLE_HEAD_MAX) {
        snprintf(err, err_len, "a head has 1 to %d needles, got %d", NEEDLE_HEAD_MAX, count);
        return 0;
    }
    if (!(spacing > 0.0 && spacing <= 20.0)) {
        snprintf(err, err_len, "the needles' spacing must be > 0 and <= 20 mm, got %g", spacing);
        return 0;
    }
    if (!(angle_deg >= 1.0 && angle_deg <= 90.0)) {
        snprintf(err, err_len, "angle_deg must be within 1..90, got %g", angle_deg);
        return 0;
    }
    if (!(inserted >= 0.0 && inserted <= NEEDLE_MAX_LENGTH_MM)) {
        snprintf(err, err_len, "the inserted length must be within 0..%g mm, got %g", NEEDLE_MAX_LENGTH_MM,
                 inserted);
        return 0;
    }
    /* The middle needle's direction, as needle_enter sets it from the skin's normal there. */
    double d[3];
    pose_dir(ph, x, y, angle_deg, azimuth_deg, d);
    double az = azimuth_deg * PI / 180.0, u[3] = {-sin(az), cos(az), 0.0};
    double e0[3] = {x, y, phantom_surface_mm(ph, x, y)};
    for (int k = 0; k < count; k++) {
        needle_head_tip *o = &out[k];
        memset(o, 0, sizeof *o);
        o->offset_mm = (k - 0.5 * (count - 1)) * spacing;
        double a[3];
        for (int i = 0; i < 3; i++)
            a[i] = e0[i] + o->offset_mm * u[i];
        /* Where this needle's axis a + t d crosses the skin: the first t where the point is no
         * longer above the surface, searched in steps of the track table's, then halved. */
        double lo = -NEEDLE_MAX_LENGTH_MM, hi = NEEDLE_MAX_LENGTH_MM, t = lo;
        bool found = false;
        for (; t <= hi; t += NEEDLE_TRACK_STEP_MM * 10.0) {
            double p[3] = {a[0] + t * d[0], a[1] + t * d[1], a[2] + t * d[2]};
            if (p[2] >= phantom_surface_mm(ph, p[0], p[1])) {
                found = true;
                break;
            }
        }
        double t_entry = inserted;
        if (found) {
            double t0 = t - NEEDLE_TRACK_STEP_MM * 10.0, t1 = t;
            for (int it = 0; it < 40; it++) {
                double tm = 0.5 * (t0 + t1), p[3] = {a[0] + tm * d[0], a[1] + tm * d[1], a[2] + tm * d[2]};
                if (p[2] >= phantom_surface_mm(ph, p[0], p[1]))
                    t1 = tm;
                else
                    t0 = tm;
            }
            t_entry = t1;
        }
        for (int i = 0; i < 3; i++) {
            o->tip_mm[i] = a[i] + inserted * d[i];
            o->entry_mm[i] = a[i] + (t_entry < inserted ? t_entry : inserted) * d[i];
        }
        o->inserted_mm = inserted - t_entry;
        o->depth_mm = o->tip_mm[2] - phantom_surface_mm(ph, o->tip_mm[0], o->tip_mm[1]);
        o->at = phantom_at(ph, o->tip_mm, pressure_n, NULL, 0);
    }
    return count;
}
