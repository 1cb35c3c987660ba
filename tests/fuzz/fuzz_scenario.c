/* fuzz_scenario: any text through scenario_load_string. A load either succeeds with a
 * scenario the phantom accepts and whose surfaces and layer interfaces are finite numbers, or
 * fails with at least one diagnostic and leaves the output byte for byte as it was. */
#include <math.h>
#include <string.h>

#include "fuzz_check.h"
#include "phantom.h"
#include "scenario.h"

/* Where the interfaces are read: the centre, each feature's centre (where a tiny width puts
 * all its height) and the probe. */
static void check_interfaces(const phantom *ph, double x, double y, double pressure_n)
{
    double h[PHANTOM_MAX_LAYERS + 1];
    int n = phantom_interfaces(ph, x, y, pressure_n, h);
    FUZZ_CHECK(n >= 1 && n <= PHANTOM_MAX_LAYERS);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(isfinite(h[i]));
    FUZZ_CHECK(isfinite(phantom_surface_mm(ph, x, y)));
    double nrm[3];
    phantom_surface_normal(ph, x, y, nrm);
    FUZZ_CHECK(isfinite(nrm[0]) && isfinite(nrm[1]) && isfinite(nrm[2]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static scenario out, before;
    memset(&out, 0xa5, sizeof out);
    memcpy(&before, &out, sizeof out);
    scenario_diags d = {0};
    if (scenario_load_string(text, &out, &d)) {
        FUZZ_CHECK(out.version == SCENARIO_VERSION);
        char err[256];
        phantom *ph = phantom_create(&out.phantom, err, sizeof err);
        FUZZ_CHECK(ph != NULL);
        check_interfaces(ph, 0.0, 0.0, 0.0);
        check_interfaces(ph, out.pose.x_mm, out.pose.y_mm, out.pose.pressure_n);
        for (int i = 0; i < out.phantom.n_features; i++)
            check_interfaces(ph, out.phantom.features[i].x_mm, out.phantom.features[i].y_mm, 0.0);
        phantom_destroy(ph);
    } else {
        FUZZ_CHECK(d.count > 0);
        FUZZ_CHECK(memcmp(&out, &before, sizeof out) == 0);
    }
    for (int i = 0; i < d.count; i++)
        FUZZ_CHECK(d.items[i].message[0] != '\0');
    scenario_diags_free(&d);
    free(text);
    return 0;
}
