/* A haptic plugin built for a future ABI (version 99): haptics_plugin_load must refuse it
 * before calling anything in its table (test_haptics). */
#include "haptic_plugin.h"

static const haptic_plugin k_future = {.abi_version = 99, .struct_size = sizeof(haptic_plugin), .name = "future"};

__attribute__((visibility("default"))) const haptic_plugin *mesosim_haptic_plugin(void)
{
    return &k_future;
}
