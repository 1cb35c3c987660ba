/* Needle mechanics and verdicts: where the tip lands against the layer geometry over a grid
 * of angles and inserted lengths for every preset (and the presets where a 4 mm needle at the
 * usual angle lands in the wrong layer), the hub stop, one pop per layer entered with the
 * force dropping at each, and the skin dimpling before the pop. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "needle.h"
#include "phantom.h"
#include "physics_util.h"
#include "scenario.h"
#include "score.h"
#include "session.h"

#define M_PI 3.14159265358979323846

static const char *const k_presets[] = {"adult_back", "adolescent_back", "hyperkeratosis",
                                        "thin_skin", "excess_adipose"};
#define N_PRESETS 5

/* Verdict of the session's injection with the needle entered at (x, y) at angle, pushed
 * travel_mm. */
static score_injection inject_at(const scenario *sc, double x, double y, double angle,
                                 double az, double travel_mm)
{
    char err[256];
    session *s = session_create(sc, err, sizeof err);
    assert_non_null(s);
    action a = {.t_s = 1, .verb = ACT_NEEDLE_ENTRY};
    a.v[AK_X] = x, a.v[AK_Y] = y, a.v[AK_ANGLE] = angle, a.v[AK_AZIMUTH] = az;
    assert_true(session_apply(s, &a, err, sizeof err));
    action b = {.t_s = 2, .verb = ACT_ADVANCE};
    b.v[AK_MM] = travel_mm;
    assert_true(session_apply(s, &b, err, sizeof err));
    action c = {.t_s = 3, .verb = ACT_INJECT};
    c.v[AK_ML] = 0.1;
    assert_true(session_apply(s, &c, err, sizeof err));
    score_injection j = session_metrics(s)->inj[0];
    session_destroy(s);
    return j;
}

/* The layer the geometry puts a point in, independent of the needle code. */
static tissue_id layer_tissue_at(const scenario *sc, const double p[3])
{
    char err[256];
    phantom *ph = phantom_create(&sc->phantom, err, sizeof err);
    assert_non_null(ph);
    double h[PHANTOM_MAX_LAYERS];
    int n = phantom_interfaces(ph, p[0], p[1], 0.0, h);
    tissue_id t = TISSUE_GEL;
    for (int i = 0; i < n; i++)
        if (p[2] >= h[i])
            t = sc->phantom.layers[i].tissue;
    phantom_destroy(ph);
    return t;
}

static void test_verdict_grid(void **state)
{
    (void)state;
    static const double angles[] = {5, 10, 15, 20, 30, 45, 60, 90};
    static const double travels[] = {1.5, 2, 3, 4, 5};
    /* Skin dent left after the pop: residual 0.5 of a 1 mm dent (0.5 N / 0.5 N/mm). */
    const double residual = 0.5;
    for (int p = 0; p < N_PRESETS; p++) {
        scenario sc = pu_load_preset(k_presets[p]);
        int counts[VERDICT_COUNT] = {0};
        for (size_t ia = 0; ia < sizeof angles / sizeof angles[0]; ia++)
            for (size_t it = 0; it < sizeof travels / sizeof travels[0]; it++) {
                double th = angles[ia] * M_PI / 180.0;
                /* Away from vessels and surface features; the needle runs toward +x. */
                score_injection j = inject_at(&sc, -16, 12, angles[ia], 0, travels[it]);
                double ins = fmin(travels[it] - residual, sc.needle.length_mm);
                double want_depth = ins * sin(th);
                /* An unpopped interface can hold up to 0.2 mm of load (0.4 N / 2 N/mm). */
                if (fabs(j.tip_depth_mm - want_depth) > 0.2 * sin(th) + 0.02)
                    fail_msg("%s %g deg %g mm: tip depth %g, geometry says %g", k_presets[p],
                             angles[ia], travels[it], j.tip_depth_mm, want_depth);
                score_verdict want = score_verdict_of(layer_tissue_at(&sc, j.tip_mm));
                if (j.verdict != want)
                    fail_msg("%s %g deg %g mm: verdict %s, geometry %s", k_presets[p],
                             angles[ia], travels[it], score_verdict_name(j.verdict),
                             score_verdict_name(want));
                counts[j.verdict]++;
            }
        print_message("%-16s epidermal %d intradermal %d subcutaneous %d intramuscular %d\n",
                      k_presets[p], counts[VERDICT_EPIDERMAL], counts[VERDICT_INTRADERMAL],
                      counts[VERDICT_SUBCUTANEOUS], counts[VERDICT_INTRAMUSCULAR]);
    }
}

/* The cases the case report warns about: the same 4 mm needle and angle, another skin. */
static void test_wrong_layer_cases(void **state)
{
    (void)state;
    scenario adult = pu_load_preset("adult_back"), thin = pu_load_preset("thin_skin");
    scenario hyper = pu_load_preset("hyperkeratosis");
    /* Pushed to the hub at 30 deg: 2 mm deep, dermis in the adult, fat in thin skin. */
    score_injection a = inject_at(&adult, -16, 12, 30, 0, 6);
    score_injection t = inject_at(&thin, -16, 12, 30, 0, 6);
    print_message("hub at 30 deg: adult %s at %.3f mm (margin %.3f); thin skin %s at %.3f mm "
                  "(margin %.3f)\n", score_verdict_name(a.verdict), a.tip_depth_mm, a.margin_mm,
                  score_verdict_name(t.verdict), t.tip_depth_mm, t.margin_mm);
    assert_int_equal(a.verdict, VERDICT_INTRADERMAL);
    assert_int_equal(t.verdict, VERDICT_SUBCUTANEOUS);
    assert_true(t.margin_mm < 0.0);
    /* A flat Mantoux-like 4 deg to the hub: 0.28 mm deep, under the adult's 0.09 mm epidermis
     * but inside the hyperkeratotic 0.365 mm. */
    score_injection a4 = inject_at(&adult, -16, 12, 4, 0, 6);
    score_injection h4 = inject_at(&hyper, -16, 12, 4, 0, 6);
    print_message("hub at 4 deg: adult %s at %.3f mm; hyperkeratosis %s at %.3f mm\n",
                  score_verdict_name(a4.verdict), a4.tip_depth_mm,
                  score_verdict_name(h4.verdict), h4.tip_depth_mm);
    assert_int_equal(a4.verdict, VERDICT_INTRADERMAL);
    assert_int_equal(h4.verdict, VERDICT_EPIDERMAL);
}

static phantom *adult_phantom(scenario *sc)
{
    *sc = pu_load_preset("adult_back");
    char err[256];
    phantom *ph = phantom_create(&sc->phantom, err, sizeof err);
    assert_non_null(ph);
    return ph;
}

static void test_hub_stop(void **state)
{
    (void)state;
    scenario sc;
    phantom *ph = adult_phantom(&sc);
    needle *n = needle_create(&sc.needle);
    char err[128];
    assert_true(needle_enter(n, ph, 0, -16, 12, 45, 0, err, sizeof err));
    needle_event ev[64];
    int k = needle_advance(n, 10.0, ev, 64);
    bool hub = false;
    for (int i = 0; i < k && i < 64; i++)
        hub |= ev[i].kind == NEEDLE_EV_HUB;
    assert_true(hub);
    assert_true(fabs(needle_inserted_mm(n) - 4.0) < 1e-9);
    double travel = needle_travel_mm(n);
    needle_advance(n, 3.0, ev, 64);
    assert_true(fabs(needle_inserted_mm(n) - 4.0) < 1e-9);
    assert_true(fabs(needle_travel_mm(n) - travel) < 1e-9);
    print_message("hub stop: 10 mm pushed, %.3f mm inserted, travel %.3f mm\n",
                  needle_inserted_mm(n), travel);
    /* Retract and re-advance along the cut track: no new pops. */
    needle_retract(n, 2.0);
    k = needle_advance(n, 1.0, ev, 64);
    for (int i = 0; i < k && i < 64; i++)
        assert_int_not_equal(ev[i].kind, NEEDLE_EV_POP);
    needle_destroy(n);
    phantom_destroy(ph);
}

static void test_force_curve_pops(void **state)
{
    (void)state;
    scenario sc;
    phantom *ph = adult_phantom(&sc);
    sc.needle.length_mm = 13.0;
    needle *n = needle_create(&sc.needle);
    char err[128];
    assert_true(needle_enter(n, ph, 0, -16, 12, 90, 0, err, sizeof err));
    int pops = 0, last_layer = -1;
    double peak = 0.0;
    for (int step = 0; step < 1400; step++) {
        needle_event ev[8];
        int k = needle_advance(n, 0.01, ev, 8);
        double f = needle_force_n(n, 1.0);
        for (int i = 0; i < k && i < 8; i++) {
            if (ev[i].kind != NEEDLE_EV_POP)
                continue;
            pops++;
            /* Layers are entered one after another, each once. */
            assert_int_equal(ev[i].layer, last_layer + 1);
            last_layer = ev[i].layer;
            double threshold = sc.needle.mech[ev[i].tissue].puncture_n;
            double k_n_mm = sc.needle.mech[ev[i].tissue].stiffness_n_mm;
            print_message("pop %d: %-18s at travel %.3f mm, inserted %.3f mm, force %.3f N "
                          "(threshold %.3f)\n", pops, tissue_name(ev[i].tissue),
                          ev[i].travel_mm, ev[i].inserted_mm, ev[i].force_n, threshold);
            assert_true(ev[i].force_n >= threshold - 1e-9);
            assert_true(ev[i].force_n <= threshold + k_n_mm * 0.0101);
        }
        if (ev[0].kind == NEEDLE_EV_HUB && k > 0)
            break;
        peak = fmax(peak, f);
    }
    /* The bottom of the adult stack is muscle, 10.6 mm down: all eight layers entered. */
    assert_int_equal(pops, sc.phantom.n_layers);
    /* The largest force is the skin's, one 0.01 mm step short of its 0.5 N threshold. */
    print_message("peak force %.3f N\n", peak);
    assert_true(peak > 0.49 && peak < 0.5 + 1e-9);
    /* Friction grows with the shaft inside: pulled out it resists less than pushed in. */
    double fin = needle_force_n(n, 1.0), fout = needle_force_n(n, -1.0);
    print_message("at %.2f mm inserted: force advancing %.3f N, retracting %.3f N, at rest "
                  "%.3f N\n", needle_inserted_mm(n), fin, fout, needle_force_n(n, 0.0));
    assert_true(fin > fout);
    needle_destroy(n);
    phantom_destroy(ph);
}

static void test_dimpling(void **state)
{
    (void)state;
    scenario sc;
    phantom *ph = adult_phantom(&sc);
    needle *n = needle_create(&sc.needle);
    char err[128];
    assert_true(needle_enter(n, ph, 0, -16, 12, 30, 0, err, sizeof err));
    double f_half = 0.0;
    for (int step = 0; step < 300; step++) {
        needle_event ev[8];
        int k = needle_advance(n, 0.01, ev, 8);
        if (step == 49)
            f_half = needle_force_n(n, 1.0);
        if (k > 0 && ev[0].kind == NEEDLE_EV_POP) {
            double suggests = ev[0].travel_mm * sin(30.0 * M_PI / 180.0);
            print_message("skin pop at travel %.3f mm (suggests %.3f mm deep), tip %.3f mm "
                          "inserted, dent %.3f mm, force %.3f N\n", ev[0].travel_mm, suggests,
                          ev[0].inserted_mm, needle_dimple_mm(n), ev[0].force_n);
            /* The skin gave way after a 1 mm dent: the tip was still at the surface. */
            assert_true(fabs(ev[0].travel_mm - 1.0) < 0.02);
            assert_true(ev[0].inserted_mm < 0.02);
            break;
        }
    }
    /* Before the pop the force is the skin's spring: 0.5 N/mm x 0.5 mm. */
    assert_true(fabs(f_half - 0.25) < 0.01);
    needle_advance(n, 1.0, NULL, 0);
    double tip[3];
    needle_tip_mm(n, tip);
    double travel = needle_travel_mm(n);
    print_message("after %.3f mm of travel the tip is %.3f mm deep (travel x sin suggests "
                  "%.3f)\n", travel, tip[2], travel * 0.5);
    assert_true(tip[2] < travel * 0.5 - 0.2);
    needle_destroy(n);
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_grid),
        cmocka_unit_test(test_wrong_layer_cases),
        cmocka_unit_test(test_hub_stop),
        cmocka_unit_test(test_force_curve_pops),
        cmocka_unit_test(test_dimpling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
