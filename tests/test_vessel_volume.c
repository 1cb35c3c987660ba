/* Vessels in partial volume: a vessel lumen is seen by the share of the elevation beam it
 * fills, as a volume inclusion is (issue 9). A 0.8 mm vessel seen along its length in a slice
 * about 1.3 mm thick (2 mm deep) fills two thirds of the beam on its axis, so its lumen is dark but not
 * black, and reads as the same lumen built as an ellipsoid of blood; moved out of the slice in
 * elevation it fades out. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "physics_util.h"

#define DEPTH_MM 2.0
#define RADIUS_MM 0.4

/* Mean intensity (in dB) of the lumen's core against the dermis above and below it. */
static double lumen_drop_db(const bmode_image *im)
{
    pu_stats core = pu_region_stats(im, (pu_region){DEPTH_MM - 0.1, DEPTH_MM + 0.1, -3.0, 3.0}, NULL);
    pu_stats above = pu_region_stats(im, (pu_region){DEPTH_MM - 1.4, DEPTH_MM - 0.9, -3.0, 3.0}, NULL);
    pu_stats below = pu_region_stats(im, (pu_region){DEPTH_MM + 0.9, DEPTH_MM + 1.4, -3.0, 3.0}, NULL);
    return core.db_mean - 0.5 * (above.db_mean + below.db_mean);
}

/* A vessel along x (in the image plane's length) at elevation y_mm, or the same lumen as an
 * ellipsoid of blood 20 mm long. */
static double render_drop(int as_ellipsoid, double y_mm)
{
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 7);
    if (as_ellipsoid) {
        d.n_inclusions = 1;
        d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_ELLIPSOID,
                                              .tissue = TISSUE_BLOOD,
                                              .c_mm = {0.0, y_mm, DEPTH_MM},
                                              .radii_mm = {10.0, RADIUS_MM, RADIUS_MM}};
    } else {
        d.n_vessels = 1;
        d.vessels[0] = (phantom_vessel_def){.a_mm = {-10.0, y_mm, DEPTH_MM},
                                            .b_mm = {10.0, y_mm, DEPTH_MM},
                                            .radius_mm = RADIUS_MM,
                                            .wall_mm = 0.02};
    }
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 8.0);
    probe_pose pose = {0};
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double drop = lumen_drop_db(&im);
    phantom_destroy(ph);
    return drop;
}

static void test_vessel_along_its_length_as_an_ellipsoid(void **state)
{
    (void)state;
    probe_def p = pu_probe(256, 8.0);
    double slice = probe_elevation_fwhm_mm(&p, DEPTH_MM);
    double vessel = render_drop(0, 0.0), ellipsoid = render_drop(1, 0.0);
    printf("slice %.2f mm at %.0f mm; 0.8 mm lumen along the plane: vessel %+.1f dB, ellipsoid %+.1f dB\n", slice,
           DEPTH_MM, vessel, ellipsoid);
    assert_true(slice > 2.0 * RADIUS_MM);
    /* Two thirds of the beam in the lumen, a third in dermis: about -9 dB, not black. */
    assert_true(vessel < -4.0 && vessel > -20.0);
    assert_true(fabs(vessel - ellipsoid) < 3.0);
}

static void test_vessel_fades_out_of_the_slice(void **state)
{
    (void)state;
    double d0 = render_drop(0, 0.0), d05 = render_drop(0, 0.5), d2 = render_drop(0, 2.0);
    printf("vessel lumen at elevation 0 / 0.5 / 2 mm: %+.1f / %+.1f / %+.1f dB\n", d0, d05, d2);
    assert_true(d05 > d0 + 2.0);
    assert_true(d2 > d05 + 2.0);
    assert_true(fabs(d2) < 1.5); /* beyond the beam: plain dermis */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vessel_along_its_length_as_an_ellipsoid),
        cmocka_unit_test(test_vessel_fades_out_of_the_slice),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
