/* fuzz_bindings: any bytes through controls_bindings_parse over the default bindings. Every
 * line is taken or reported; whatever is taken, each binding keeps at most CONTROLS_MAX_KEYS
 * terminated key names; an input without '=' leaves the defaults; the result formats and
 * parses back to itself. */
#include <stdlib.h>
#include <string.h>

#include "controls.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static controls_bindings defaults, b, back;
    controls_bindings_default(&defaults);
    b = defaults;
    char err[512];
    controls_bindings_parse((const char *)data, size, &b, err, sizeof err);
    FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    for (int a = 0; a < AXIS_COUNT; a++)
        for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
            FUZZ_CHECK(memchr(b.axis_keys[a][k], '\0', CONTROLS_KEY_NAME_LEN) != NULL);
    for (int t = 0; t < BTN_COUNT; t++)
        for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
            FUZZ_CHECK(memchr(b.button_keys[t][k], '\0', CONTROLS_KEY_NAME_LEN) != NULL);
    if (!memchr(data, '=', size))
        FUZZ_CHECK(memcmp(&b, &defaults, sizeof b) == 0);
    /* What was taken writes out and reads back the same. */
    size_t need = controls_bindings_format(&b, NULL, 0);
    char *text = malloc(need + 1);
    FUZZ_CHECK(text != NULL);
    controls_bindings_format(&b, text, need + 1);
    back = defaults;
    FUZZ_CHECK(controls_bindings_parse(text, strlen(text), &back, err, sizeof err));
    for (int a = 0; a < AXIS_COUNT; a++)
        for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
            FUZZ_CHECK(strcmp(back.axis_keys[a][k], b.axis_keys[a][k]) == 0);
    for (int t = 0; t < BTN_COUNT; t++)
        for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
            FUZZ_CHECK(strcmp(back.button_keys[t][k], b.button_keys[t][k]) == 0);
    free(text);
    return 0;
}
