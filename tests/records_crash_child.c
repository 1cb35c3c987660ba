/* A session that takes its time, for test_records_crash.sh: plays the demo's actions on the
 * adult back through a driver recording into the records (the writer-thread recorder),
 * sleeping between actions, and prints "applied N" after each so the test, which kills it
 * with SIGKILL at a random moment, knows how far it got.
 * With LINGER_S, the process stays LINGER_S seconds after the session has ended (a window
 * that goes on after it), for test_records_pg.sh's server that comes back meanwhile.
 * usage: records_crash_child DB SCENARIO ACTIONS DELAY_MS [LINGER_S] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "actions.h"
#include "driver.h"
#include "records_recorder.h"
#include "scenario.h"

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: records_crash_child DB SCENARIO ACTIONS DELAY_MS [LINGER_S]\n");
        return 2;
    }
    scenario sc;
    scenario_diags dg = {0};
    action_list al;
    char err[400], id[RECORDS_ID_LEN];
    if (!scenario_load_file(argv[2], &sc, &dg) || !actions_load_file(argv[3], &al)) {
        fprintf(stderr, "records_crash_child: cannot load the scenario or the actions\n");
        return 1;
    }
    scenario_diags_free(&dg);
    driver_def dd = driver_default_def();
    dd.sc = &sc;
    dd.simulator_version = MESOSIM_VERSION;
    driver *d = driver_create(&dd, err, sizeof err);
    records_recorder_def rd = records_recorder_default_def();
    rd.db = argv[1];
    rd.trainee = "Crash";
    rd.device = "script";
    rd.scenario_path = argv[2];
    recorder rec;
    if (!d || !records_recorder_create(&rd, &rec, id, err, sizeof err) || !driver_add_recorder(d, &rec, err, sizeof err)) {
        fprintf(stderr, "records_crash_child: %s\n", err);
        return 1;
    }
    printf("session %s\n", id);
    fflush(stdout);
    long ms = atol(argv[4]);
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    for (int i = 0; i < al.count; i++) {
        const action *a = &al.items[i];
        if (a->verb == ACT_END) {
            driver_finish(d, a->t_s, true);
            break;
        }
        driver_push(d, a);
        driver_step(d, a->t_s);
        printf("applied %d\n", i + 1);
        fflush(stdout);
        nanosleep(&pause, NULL);
    }
    driver_destroy(d);
    actions_free(&al);
    printf("done\n");
    fflush(stdout);
    if (argc == 6) {
        struct timespec linger = {.tv_sec = atol(argv[5])};
        nanosleep(&linger, NULL);
    }
    return 0;
}
