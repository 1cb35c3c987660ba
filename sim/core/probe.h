/* probe: the high-frequency linear probe, its settings, its pose on the skin and its beam.
 *
 * probe_def holds the transducer and the scanner settings (frequency, bandwidth, aperture,
 * focus, elevation lens, depth, gain, TGC, dynamic range); probe_pose where it sits on the
 * skin and how hard it presses. probe_frame turns a pose into the image plane's axes in the
 * phantom frame. The beam functions give the point-spread function the B-mode synthesis uses,
 * derived from the pulse spectrum, the apodised aperture and the transmit focus, calibrated
 * on the physics reference run in shared/reference/ultrasound.md (section 2, L22-14v-like).
 *
 * Units: MHz, mm, dB, newtons; angles in degrees at this edge (converted inside). */
#ifndef MESOSIM_PROBE_H
#define MESOSIM_PROBE_H

#include <stdbool.h>

#include "phantom.h"

#define PROBE_TGC_ZONES 8
#define PROBE_SPEED_M_S 1540.0
/* How far the face sinks per newton of contact force into soft tissue. Assumption: no
 * indentation figure for the back under a linear probe was found; 1.5 mm/N makes a firm 2 N
 * press close the gaps a bony prominence leaves under a 12.8 mm face. */
#define PROBE_CONTACT_MM_PER_N 1.5 /* scanner's assumed speed of sound (ultrasound.md section 3) */

typedef struct probe_def {
    double freq_mhz;           /* centre frequency, 10..22 */
    double bandwidth_frac;     /* -6 dB fractional bandwidth */
    double pitch_mm;           /* element pitch */
    int n_elements;            /* field of view = n_elements * pitch_mm */
    int n_lines;               /* image lines across the field of view */
    double rx_fnumber;         /* dynamic receive f-number */
    double tx_focus_mm;        /* transmit focus depth */
    double elev_focus_mm;      /* elevation lens focus */
    double elev_height_mm;     /* element height (elevation aperture) */
    double depth_mm;           /* image depth, 5..40 */
    double gain_db;            /* overall receive gain */
    double dynamic_range_db;   /* log-compression range shown in 0..255 */
    bool tgc_on;               /* false: no depth gain at all (shows raw attenuation) */
    double tgc_db_cm_mhz;      /* attenuation the automatic TGC slope compensates */
    double tgc_db[PROBE_TGC_ZONES]; /* user TGC sliders, dB, zones equally spaced in depth */
} probe_def;

typedef struct probe_pose {
    double x_mm, y_mm;   /* probe face centre over the skin, phantom frame */
    double rot_deg;      /* rotation about the skin normal; 0: long axis along +x */
    double tilt_deg;     /* fan: beam tilted in elevation (about the long axis) */
    double rock_deg;     /* heel-toe: beam tilted within the image plane */
    double pressure_n;   /* contact force */
} probe_pose;

/* Image plane in the phantom frame: p = origin + x*u + y*v + z*w for image lateral x,
 * elevation y and depth z (all mm). u, v, w orthonormal; w is the beam direction. */
typedef struct probe_frame {
    double origin[3];
    double u[3], v[3], w[3];
    phantom_contact contact; /* the face pressed on the skin (off when it only touches) */
} probe_frame;

/* L22-14v-like probe of the reference run: 18 MHz, 44 %, 128 x 0.1 mm, 1.6 mm elevation
 * aperture focused at 8 mm; 15 mm deep, 256 lines. */
probe_def probe_default_def(void);
probe_pose probe_default_pose(void);

/* Returns NULL when valid, else a static message naming the bad field. */
const char *probe_check(const probe_def *p);

/* The probe face is rigid and flat: at no pressure it rests on the highest skin point under
 * its long axis (the aperture of probe p; p NULL: the single point under its centre), and
 * coupling gel fills the gaps where the skin falls away. Pressed (pose->pressure_n > 0, p
 * given) it sinks into the soft tissue by PROBE_CONTACT_MM_PER_N per newton, no further
 * than it takes to meet the skin everywhere under it and no further than the tissue above
 * bone or the deep fascia gives (phantom_compressible_mm); frame.contact then describes the
 * face for phantom_interfaces_contact. Image depth 0 is the face. */
probe_frame probe_frame_make(const phantom *ph, const probe_def *p, const probe_pose *pose);
void probe_image_to_phantom(const probe_frame *f, double x_mm, double y_mm, double z_mm,
                            double out_mm[3]);
/* Inverse: out = (lateral x, elevation y, depth z) in the image frame. */
void probe_phantom_to_image(const probe_frame *f, const double p_mm[3], double out_mm[3]);

double probe_wavelength_mm(const probe_def *p);
double probe_fov_mm(const probe_def *p);
/* The two-way point-spread function, derived from the pulse and the aperture (probe.c has the
 * model and its calibration). Pulse-echo spectrum amplitude at f (1 at fc, half at fc +- B/2
 * of the beamformed band): */
double probe_pulse_spectrum(const probe_def *p, double f_mhz);
/* Axial and lateral profiles of the baseband PSF, signed (the side lobes alternate), 1 at the
 * peak: axial at depth offset dz, lateral at depth z and lateral offset x (dynamic receive at
 * rx_fnumber times the transmit beam focused at tx_focus_mm). */
double probe_axial_profile(const probe_def *p, double dz_mm);
double probe_lateral_profile(const probe_def *p, double z_mm, double x_mm);
/* -6 dB (half amplitude) widths of those profiles (elevation: of the slice's Gaussian model). */
double probe_axial_fwhm_mm(const probe_def *p);
double probe_lateral_fwhm_mm(const probe_def *p, double z_mm);
double probe_elevation_fwhm_mm(const probe_def *p, double z_mm);
/* Depth gain in dB (TGC slope plus sliders), not including gain_db; 0 when TGC is off. */
double probe_tgc_db(const probe_def *p, double z_mm);

#endif
