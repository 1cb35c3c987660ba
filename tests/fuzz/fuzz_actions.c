/* fuzz_actions: any bytes through actions_load_string. A load either succeeds with actions in
 * time order, each of which action_format writes back to a line that parses to the same
 * action, or fails with its errors listed and no action kept (items NULL, count 0). */
#include <math.h>
#include <string.h>

#include "actions.h"
#include "fuzz_check.h"

static void check_round_trip(const action *a, double prev_t)
{
    char line[ACTIONS_MAX_LINE], err[200];
    int n = action_format(a, line, sizeof line);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof line);
    action b;
    FUZZ_CHECK(action_parse_line(line, (size_t)n, prev_t, &b, err, sizeof err));
    FUZZ_CHECK(b.t_s == a->t_s && b.verb == a->verb && b.has == a->has);
    for (int k = 0; k < AK_COUNT; k++)
        if (action_has(a, (action_key)k))
            FUZZ_CHECK(b.v[k] == a->v[k]);
    FUZZ_CHECK(strcmp(b.name, a->name) == 0);
    FUZZ_CHECK(b.has_skin_check == a->has_skin_check && b.skin_check == a->skin_check);
    FUZZ_CHECK(b.has_mode == a->has_mode && (!a->has_mode || b.mode == a->mode));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    action_list l;
    bool ok = actions_load_string((const char *)data, size, &l);
    FUZZ_CHECK(l.n_errors >= 0 && l.n_errors <= ACTIONS_MAX_ERRORS && l.total_errors >= l.n_errors);
    if (ok) {
        FUZZ_CHECK(l.total_errors == 0);
        FUZZ_CHECK(l.count >= 0 && (l.count == 0 || l.items != NULL));
        double prev = -1.0;
        for (int i = 0; i < l.count; i++) {
            const action *a = &l.items[i];
            FUZZ_CHECK(isfinite(a->t_s) && a->t_s >= 0.0 && a->t_s >= prev);
            FUZZ_CHECK((int)a->verb >= 0 && a->verb < ACT_VERB_COUNT);
            FUZZ_CHECK(a->verb != ACT_END || i == l.count - 1);
            for (int k = 0; k < AK_COUNT; k++)
                if (action_has(a, (action_key)k))
                    FUZZ_CHECK(isfinite(a->v[k]));
            check_round_trip(a, prev);
            prev = a->t_s;
        }
    } else {
        FUZZ_CHECK(l.total_errors > 0 && l.n_errors > 0);
        FUZZ_CHECK(l.count == 0 && l.items == NULL);
        for (int i = 0; i < l.n_errors; i++)
            FUZZ_CHECK(l.errors[i].message[0] != '\0' && l.errors[i].line >= 1);
    }
    actions_free(&l);
    return 0;
}
