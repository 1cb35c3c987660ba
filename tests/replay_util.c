/* replay_util: one replay loop for the tests. */
#include "replay_util.h"

#include <stdio.h>

#include "session.h"

driver *ru_replay(const scenario *sc, const action_list *al, char *err, size_t n)
{
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = "test";
    dd.blind = al->header.blind; /* as mesosim run: practised blind by option, replayed blind */
    driver *d = driver_create(&dd, err, n);
    if (!d)
        return NULL;
    for (int i = 0; i < al->count; i++) {
        if (al->items[i].verb == ACT_END) {
            driver_finish(d, al->items[i].t_s, true);
            return d;
        }
        driver_push(d, &al->items[i]);
        driver_step(d, al->items[i].t_s);
        int k;
        const session_event *ev = driver_events(d, &k);
        for (int e = 0; e < k; e++)
            if (ev[e].kind == SEV_ACTION_REFUSED) {
                snprintf(err, n, "line %d: %s", ev[e].line, ev[e].message);
                driver_destroy(d);
                return NULL;
            }
    }
    driver_finish(d, session_time_s(driver_session(d)), true);
    return d;
}

char *ru_replay_report(const char *scenario_path, const action_list *al, char *err, size_t n)
{
    scenario sc;
    scenario_diags d = {0};
    bool ok = scenario_load_file(scenario_path, &sc, &d);
    if (!ok)
        snprintf(err, n, "%s: %s", scenario_path, d.count ? d.items[0].message : "cannot be loaded");
    scenario_diags_free(&d);
    if (!ok)
        return NULL;
    driver *dr = ru_replay(&sc, al, err, n);
    if (!dr)
        return NULL;
    char *r = session_report_json(driver_session(dr), NULL);
    if (!r)
        snprintf(err, n, "out of memory");
    driver_destroy(dr);
    return r;
}
