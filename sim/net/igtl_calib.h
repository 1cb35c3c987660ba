/* igtl_calib: where a tracked device's frame lies on the phantom.
 *
 * A tracker reports poses in its own frame (an optical camera's, an arm's base); the session
 * works in the phantom frame (mm, x and y across the skin, z depth, growing into the body).
 * The map is a similarity: p_phantom = scale * R * p_device + offset, and directions turn by R
 * alone. igtl_calibration_two_point computes it from two points touched with the tool and where
 * they are on the phantom (e.g. two marks on the patch):
 *   scale  = |b_ph - a_ph| / |b_dev - a_dev|;
 *   R      = the smallest rotation that turns the device direction a->b onto the phantom one
 *            (Rodrigues' formula); two points cannot see a turn about the line through them,
 *            so that one is taken as none (a third point, or a tracked axis, would fix it);
 *   offset = a_ph - scale * R * a_dev.
 *
 * The file ($XDG_CONFIG_HOME/mesosim/igtl_calibration.json, default ~/.config/...) is a small
 * JSON object: {"scale": 1, "offset_mm": [0,0,0], "rotation": [[1,0,0],[0,1,0],[0,0,1]]}.
 * Plain C, no globals; every function works on caller-owned structs. */
#ifndef MESOSIM_IGTL_CALIB_H
#define MESOSIM_IGTL_CALIB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct igtl_calibration {
    double scale;          /* device units to mm */
    double offset_mm[3];
    double rotation[3][3]; /* row-major, orthonormal */
} igtl_calibration;

igtl_calibration igtl_calibration_identity(void);
/* NULL when usable (scale > 0 and finite, R orthonormal within 1e-3), else a static message. */
const char *igtl_calibration_check(const igtl_calibration *c);
void igtl_calibration_point(const igtl_calibration *c, const double dev[3], double out_mm[3]);
void igtl_calibration_dir(const igtl_calibration *c, const double dev[3], double out[3]);

/* From two (device point, phantom point) pairs. False, with the reason in err, when the points
 * coincide in either frame. */
bool igtl_calibration_two_point(const double dev_a[3], const double ph_a[3], const double dev_b[3],
                                const double ph_b[3], igtl_calibration *out, char *err, size_t err_len);

/* The default file path (XDG); false when neither XDG_CONFIG_HOME nor HOME is set. */
bool igtl_calibration_default_path(char *out, size_t len);
/* Loads path over *out; false with a message naming the file and the field. */
bool igtl_calibration_load(const char *path, igtl_calibration *out, char *err, size_t err_len);
/* Writes it (the directory is made when missing); false with a message. */
bool igtl_calibration_save(const char *path, const igtl_calibration *c, char *err, size_t err_len);

#endif
