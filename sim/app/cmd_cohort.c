/* mesosim cohort --seed N --out DIR: the case report's 20 patients as scenario files.
 *
 * Writes DIR/cohort_01.json .. cohort_20.json (10 adolescents 14-16 y, 5 male and 5 female,
 * then 10 adults, 6 male and 4 female), each the bundled adolescent_back or adult_back case
 * with the patient's skin and fat drawn by sim/core/cohort.c, in the canonical form, and a
 * table of the patients on stdout. Same seed, same files. Exit status: 0 written, 1 a base
 * case missing or a file not written, 2 bad usage. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "cohort.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mesosim cohort --seed N --out DIR [--region REGION]\n"
               "Writes the case report's cohort as 20 scenario files, DIR/cohort_01.json ..\n"
               "cohort_20.json: 10 adolescents aged 14-16 (5 male, 5 female) and 10 adults\n"
               "(6 male, 4 female), their skin and fat thicknesses drawn from published\n"
               "figures by age, sex and body-mass index (docs/authoring.md, Sources). The same\n"
               "seed writes the same files. DIR is made when missing.\n"
               "Exit status: 0 written, 1 a bundled base case missing or a file not written,\n"
               "--region draws the same patients for another region (thoracic, lumbar, neck,\n"
               "shoulder, lateral_elbow, knee): the region's layers (docs/authoring.md,\n"
               "Regions), each patient's skin and fat scaled from the back by the region's.\n"
               "2 bad usage.\n");
}

/* The bundled base case NAME.json beside the default scenario. */
static bool load_base(const char *name, scenario *out)
{
    const char *def = cli_default_scenario_path();
    if (!def) {
        fprintf(stderr, "mesosim cohort: the bundled cases (scenarios/) are not installed\n");
        return false;
    }
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s", def);
    snprintf(path, sizeof path, "%s/%s.json", dirname(dir), name);
    return cli_load_scenario(path, out);
}

int cmd_cohort(int argc, char **argv)
{
    long seed = -1;
    const char *out_dir = NULL;
    region_id region = REGION_LUMBAR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--seed") && i + 1 < argc) {
            if (!cli_parse_int(argv[++i], 0, 4294967295L, &seed)) {
                fprintf(stderr, "mesosim cohort: --seed wants a whole number 0..4294967295, "
                                "got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--region") && i + 1 < argc) {
            if (!region_from_name(argv[++i], &region)) {
                fprintf(stderr, "mesosim cohort: --region wants one of thoracic, lumbar, neck, "
                                "shoulder, lateral_elbow, knee; got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out_dir = argv[++i];
        } else {
            fprintf(stderr, "mesosim cohort: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (seed < 0 || !out_dir) {
        fprintf(stderr, "mesosim cohort: --seed and --out are both needed\n");
        usage(stderr);
        return 2;
    }
    struct stat st;
    if (stat(out_dir, &st) != 0 && mkdir(out_dir, 0777) != 0) {
        fprintf(stderr, "mesosim cohort: cannot make %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    scenario adult, adolescent;
    if (!load_base("adult_back", &adult) || !load_base("adolescent_back", &adolescent))
        return 1;
    printf("patient  group              age  BMI    skin_mm  fat_mm  file\n");
    for (int i = 0; i < COHORT_SIZE; i++) {
        cohort_patient p = cohort_patient_draw((uint32_t)seed, i);
        bool is_adult = p.group == COHORT_ADULT_MALE || p.group == COHORT_ADULT_FEMALE;
        scenario base = is_adult ? adult : adolescent, sc;
        if (region != REGION_LUMBAR) {
            const region_preset *r = region_preset_get(region, !is_adult);
            region_apply(r ? r : region_preset_get(region, false), &base);
            p = cohort_patient_in_region(&p, region);
        }
        char err[512], path[1200];
        if (!cohort_scenario(&p, &base, (uint32_t)seed, &sc, err, sizeof err)) {
            fprintf(stderr, "mesosim cohort: patient %d: %s\n", i + 1, err);
            return 1;
        }
        snprintf(path, sizeof path, "%s/cohort_%02d.json", out_dir, i + 1);
        if (!scenario_save_file(&sc, path, err, sizeof err)) {
            fprintf(stderr, "mesosim cohort: %s\n", err);
            return 1;
        }
        printf("%7d  %-17s  %3.0f  %5.1f  %7.2f  %6.1f  %s\n", i + 1,
               cohort_group_of(p.group)->name, p.age_years, p.bmi_kg_m2, p.skin_mm, p.fat_mm,
               path);
    }
    return 0;
}
