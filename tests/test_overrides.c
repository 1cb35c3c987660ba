/* Per-layer acoustic overrides (issue 9, "for the people who check the physics"): a phantom
 * of one tissue whose layers differ only by their overrides must image as the overrides say.
 *  - Backscatter is an amplitude: a layer at 2 (0.5) is +6 (-6) dB above (below) the same
 *    speckle without the override, so 20 log10 of the ratio, within 0.5 dB.
 *  - Attenuation: a layer with alpha0 raised by d loses 2 * d * f^b dB per mm more, two way,
 *    so everything below a 4 mm layer is 8 * d * f^b dB darker.
 *  - Impedance (speed x density): a step between two layers of the same tissue gives an
 *    interface echo where there was none.
 *  - Bad values are refused with the limits' ranges; the file's text round-trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"

/* n layers of dermis, 3 mm each but the bottom, no TGC: depth changes come from the phantom. */
static phantom_def dermis_stack(int n)
{
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 21);
    d.n_layers = n;
    for (int i = 0; i < n; i++)
        d.layers[i] = (phantom_layer_def){TISSUE_DERMIS, i + 1 < n ? 3.0 : 0.0, 0.0, 20.0,
                                          PHANTOM_NO_OVERRIDES};
    return d;
}

static probe_def flat_probe(void)
{
    probe_def p = pu_probe(96, 12.0);
    p.tgc_on = false;
    return p;
}

/* Mean dB of the central lines at depth z0..z1 of phantom d. */
static double region_db(const phantom_def *d, double z0, double z1)
{
    phantom *ph = pu_phantom(d);
    probe_def p = flat_probe();
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double db = pu_region_stats(&im, (pu_region){z0, z1, -6.0, 6.0}, NULL).db_mean;
    phantom_destroy(ph);
    return db;
}

static void test_backscatter_override_shifts_the_layer(void **state)
{
    (void)state;
    phantom_def ref = dermis_stack(4), d = dermis_stack(4);
    d.layers[1].acoustic.backscatter = 2.0;
    d.layers[2].acoustic.backscatter = 0.5;
    const double z[3][2] = {{0.8, 2.4}, {3.6, 5.4}, {6.6, 8.4}};
    const double want[3] = {0.0, 6.02, -6.02};
    for (int k = 0; k < 3; k++) {
        double diff = region_db(&d, z[k][0], z[k][1]) - region_db(&ref, z[k][0], z[k][1]);
        printf("layer %d: %+.2f dB (want %+.2f)\n", k, diff, want[k]);
        assert_true(fabs(diff - want[k]) < 0.5);
    }
}

static void test_attenuation_override_darkens_below(void **state)
{
    (void)state;
    phantom_def ref = dermis_stack(3), d = dermis_stack(3);
    const tissue_props *t = &ref.tissues.t[TISSUE_DERMIS];
    probe_def p = flat_probe();
    /* Raise alpha0 so the 3 mm layer costs 6 dB more, two way. */
    double delta = 6.0 / (2.0 * 0.3 * pow(p.freq_mhz, t->atten_exponent));
    d.layers[1].acoustic.atten_db_cm_mhz = t->atten_db_cm_mhz + delta;
    tissue_props q = *t;
    q.atten_db_cm_mhz += delta;
    double want = -2.0 * (tissue_atten_db_mm(&q, p.freq_mhz) - tissue_atten_db_mm(t, p.freq_mhz)) * 3.0;
    double above = region_db(&d, 0.8, 2.4) - region_db(&ref, 0.8, 2.4);
    double below = region_db(&d, 6.6, 9.0) - region_db(&ref, 6.6, 9.0);
    printf("above %+.2f dB, below %+.2f dB (want %+.2f)\n", above, below, want);
    assert_true(fabs(above) < 0.5);
    assert_true(fabs(below - want) < 0.5);
}

/* Peak of the column-averaged profile within 0.4 mm of the interface at 3 mm. */
static double interface_db(const phantom_def *d)
{
    phantom *ph = pu_phantom(d);
    probe_def p = flat_probe();
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double *prof = malloc(sizeof(double) * (size_t)im.rows);
    assert_non_null(prof);
    pu_db_profile(&im, pu_col(&im, -6.0), pu_col(&im, 6.0), prof);
    double best = -1e9;
    for (int r = pu_row(&im, 2.6); r <= pu_row(&im, 3.4); r++)
        best = fmax(best, prof[r]);
    free(prof);
    phantom_destroy(ph);
    return best;
}

static void test_impedance_step_gives_an_interface_echo(void **state)
{
    (void)state;
    phantom_def ref = dermis_stack(2);
    /* No diffuse echo: only what the interface reflects stands above the noise. */
    ref.tissues.t[TISSUE_DERMIS].backscatter = 0.0;
    phantom_def d = ref;
    d.layers[1].acoustic.speed_m_s = 1700.0;
    d.layers[1].acoustic.density_kg_m3 = 1150.0;
    double none = interface_db(&ref), echo = interface_db(&d);
    printf("interface: %.1f dB without the step, %.1f dB with it\n", none, echo);
    assert_true(echo > none + 20.0);
}

static void test_texture_off_removes_the_fat_texture(void **state)
{
    (void)state;
    phantom_def tex = pu_uniform_def(TISSUE_FAT, 5), plain = tex;
    plain.layers[0].acoustic.texture = PHANTOM_TEXTURE_OFF;
    /* The texture of fat (lobules and septa) modulates its speckle; without it the layer is
     * plain speckle at fat's backscatter, a different mean. */
    double t = region_db(&tex, 2.0, 6.0), p = region_db(&plain, 2.0, 6.0);
    printf("fat textured %.2f dB, plain %.2f dB\n", t, p);
    assert_true(fabs(t - p) > 0.5);
}

static void test_file_overrides_round_trip_and_bad_values(void **state)
{
    (void)state;
    const char *ok = "{\"version\": 1, \"phantom\": {\"layers\": ["
                     "{\"tissue\": \"dermis\", \"thickness_mm\": 2, \"acoustic\": "
                     "{\"backscatter\": 2, \"texture\": false}},"
                     "{\"tissue\": \"fat\", \"acoustic\": {\"speed_m_s\": 1500}}]}}";
    scenario s;
    scenario_diags dg = {0};
    assert_true(scenario_load_string(ok, &s, &dg));
    scenario_diags_free(&dg);
    assert_true(s.phantom.layers[0].acoustic.backscatter == 2.0);
    assert_int_equal(s.phantom.layers[0].acoustic.texture, PHANTOM_TEXTURE_OFF);
    assert_true(s.phantom.layers[1].acoustic.speed_m_s == 1500.0);
    assert_true(s.phantom.layers[1].acoustic.atten_db_cm_mhz == 0.0);
    char *text = scenario_save_string(&s);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"acoustic\""));
    assert_null(strstr(text, "atten_db_cm_mhz\": 0"));
    scenario back;
    assert_true(scenario_load_string(text, &back, &dg));
    scenario_diags_free(&dg);
    char *again = scenario_save_string(&back);
    assert_string_equal(text, again);
    free(again);
    free(text);

    /* Setters by path: a value out of range names the limit, 0 clears the override. */
    char err[256] = "";
    assert_false(scenario_set_number(&s, "phantom.layers[1].acoustic.speed_m_s", 300.0, err,
                                     sizeof err));
    printf("%s\n", err);
    assert_non_null(strstr(err, "must be within 1000..2500 m/s"));
    assert_true(scenario_set_number(&s, "phantom.layers[1].acoustic.speed_m_s", 0.0, err,
                                    sizeof err));
    assert_true(s.phantom.layers[1].acoustic.speed_m_s == 0.0);
    assert_true(scenario_set_bool(&s, "phantom.layers[0].acoustic.texture", true, err, sizeof err));
    assert_int_equal(s.phantom.layers[0].acoustic.texture, PHANTOM_TEXTURE_ON);
    assert_false(scenario_set_bool(&s, "phantom.layers[7].acoustic.texture", true, err, sizeof err));

    const char *bad[][2] = {
        {"{\"version\": 1, \"phantom\": {\"layers\": [{\"tissue\": \"dermis\", \"acoustic\": "
         "{\"backscatter\": 0}}]}}", "0.01..100"},
        {"{\"version\": 1, \"phantom\": {\"layers\": [{\"tissue\": \"dermis\", \"acoustic\": "
         "{\"density_kg_m3\": 5000}}]}}", "800..2000"},
        {"{\"version\": 1, \"phantom\": {\"layers\": [{\"tissue\": \"dermis\", \"acoustic\": "
         "{\"texture\": \"yes\"}}]}}", "expected true or false"},
        {"{\"version\": 1, \"phantom\": {\"layers\": [{\"tissue\": \"dermis\", \"acoustic\": "
         "{\"sped_m_s\": 1500}}]}}", "unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scenario_diags d = {0};
        assert_false(scenario_load_string(bad[i][0], &s, &d));
        assert_true(d.count >= 1);
        printf("%s: %s\n", d.items[0].path, d.items[0].message);
        assert_non_null(strstr(d.items[0].message, bad[i][1]));
        scenario_diags_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backscatter_override_shifts_the_layer),
        cmocka_unit_test(test_attenuation_override_darkens_below),
        cmocka_unit_test(test_impedance_step_gives_an_interface_echo),
        cmocka_unit_test(test_texture_off_removes_the_fat_texture),
        cmocka_unit_test(test_file_overrides_round_trip_and_bad_values),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
