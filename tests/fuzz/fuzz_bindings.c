/* fuzz_bindings: any bytes through controls_parse_bindings over the default bindings. Every
 * line is taken or reported; whatever is taken, each binding names at most CONTROLS_MAX_KEYS
 * known keys (their text is not cut short), and an input with no bad line and no binding line leaves the defaults. */
#include <string.h>

#include "controls.h"
#include "fuzz_check.h"

static void keys_of(const controls_state *cs, char buf[][128])
{
    for (int a = 0; a < AXIS_COUNT; a++)
        controls_axis_keys(cs, (ctl_axis)a, buf[a], sizeof buf[a]);
    for (int b = 0; b < BTN_COUNT; b++)
        controls_button_keys(cs, (ctl_button)b, buf[AXIS_COUNT + b], sizeof buf[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An empty file: the defaults, and nothing written anywhere. */
    controls_state *cs = controls_create("/dev/null");
    FUZZ_CHECK(cs != NULL);
    static char defaults[AXIS_COUNT + BTN_COUNT][128], after[AXIS_COUNT + BTN_COUNT][128];
    keys_of(cs, defaults);
    int bad = controls_parse_bindings(cs, (const char *)data, size);
    FUZZ_CHECK(bad >= 0);
    keys_of(cs, after);
    bool has_eq = memchr(data, '=', size) != NULL;
    for (int i = 0; i < AXIS_COUNT + BTN_COUNT; i++) {
        FUZZ_CHECK(memchr(after[i], '\0', sizeof after[i]) != NULL);
        if (!has_eq)
            FUZZ_CHECK(strcmp(after[i], defaults[i]) == 0);
        /* CONTROLS_MAX_KEYS names of SDL's (all short) fit well within the buffer. */
        FUZZ_CHECK(strlen(after[i]) < sizeof after[i] - 1);
    }
    controls_destroy(cs);
    return 0;
}
