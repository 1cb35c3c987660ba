/* haptic_plugin: the C interface a vendor haptic SDK is wrapped in, loaded with dlopen.
 *
 * A plugin is a shared library (`--haptic-plugin FILE.so`) that exports one function,
 *     const haptic_plugin *mesosim_haptic_plugin(void);
 * returning a static table of function pointers. The table opens with its ABI version and its
 * size, so the program refuses a plugin built for another version instead of calling through
 * a table of another shape. Version 1 (this header):
 *
 *   open(args, err, err_len)  -> device handle, or NULL with a message in err. args is the
 *                                text given with --haptic-args ("" when none), the plugin's own
 *                                syntax (a serial port, a device index, a log file).
 *   read_pose(dev, &pose)     -> 1: a new pose in pose, 0: nothing new, -1: the device is gone.
 *                                The pose is the stylus tip (mm) and its frame (columns: x, y,
 *                                and z along the needle from hub to tip) in the device's frame;
 *                                the program maps it onto the phantom with the calibration
 *                                (igtl_calib.h) and into actions (haptics_tool.h).
 *   write_force(dev, force_n) -> 0 on success, -1 on error; the force on the hand, newtons,
 *                                in the device's frame (the calibration's rotation undone).
 *   close(dev)
 *
 * All four are called from the haptics thread only, at its rate (1 kHz): read_pose then
 * write_force once per tick. They must not block (a vendor SDK's servo loop runs on its own
 * thread; the plugin hands values across). Units: mm, N, s. Buttons: bit 0 (HAPTIC_BUTTON_
 * INJECT) going down starts an injection of 0.1 mL. */
#ifndef MESOSIM_HAPTIC_PLUGIN_H
#define MESOSIM_HAPTIC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define HAPTIC_PLUGIN_ABI_VERSION 1u
#define HAPTIC_PLUGIN_ENTRY "mesosim_haptic_plugin"
#define HAPTIC_BUTTON_INJECT 1u

typedef struct haptic_plugin_pose {
    double t_s;          /* the device's clock, seconds */
    double tip_mm[3];
    double frame[3][3];  /* row-major: frame[i][2] is the needle axis */
    uint32_t buttons;
} haptic_plugin_pose;

typedef struct haptic_plugin {
    uint32_t abi_version;  /* HAPTIC_PLUGIN_ABI_VERSION */
    uint32_t struct_size;  /* sizeof(haptic_plugin) */
    const char *name;
    void *(*open)(const char *args, char *err, size_t err_len);
    int (*read_pose)(void *dev, haptic_plugin_pose *out);
    int (*write_force)(void *dev, const double force_n[3]);
    void (*close)(void *dev);
} haptic_plugin;

typedef const haptic_plugin *(*haptic_plugin_entry_fn)(void);

#endif
