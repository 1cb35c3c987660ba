/* doppler: colour and power Doppler in a box over the B-mode image, from the vessel model.
 *
 * The trainee places a box (lateral and depth extent in image millimetres) and chooses colour
 * (signed mean velocity, red towards the probe, blue away) or power (flow energy, no sign).
 * Each cell of the box is estimated as a scanner's autocorrelation (Kasai) estimator would:
 * the blood in the cell's sample volume (the cell plus the elevation slice, weighted by the
 * elevation beam profile) is summed as unit phasors at the Doppler phase of its axial velocity,
 * so velocities beyond the Nyquist limit wrap; the wall filter removes slow flow; a seeded
 * noise term with the ensemble's variance makes weak flow flicker, and colour gain scales
 * signal and noise alike (too much gain paints noise, as on a scanner).
 *
 * Flow follows the vessel model (phantom.h): laminar, a parabolic profile across the lumen
 * (elliptic when a vein is squashed); it runs from a_mm to b_mm of each vessel. Arteries are
 * pulsatile (systolic peak, diastolic floor, period from the heart rate); veins are steady and
 * lose their flow as probe pressure collapses them. The centreline speed comes from the lumen
 * diameter (doppler_peak_velocity_cm_s; sources in doppler.c): dermal vessels at their
 * published few cm/s mostly stay below the wall filter or the noise, perforators in the fat
 * show. The Doppler beam of the linear probe can be steered in the image plane (-30..30 deg);
 * the measured velocity is v * cos(angle between the flow and that beam).
 *
 * A doppler context owns its output arrays; they stay valid until the next render or
 * doppler_destroy. Pure and deterministic: the same scene, settings, time and seed give the
 * same bytes. Units: mm, s, Hz, cm/s, dB, degrees. */
#ifndef MESOSIM_DOPPLER_H
#define MESOSIM_DOPPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmode.h"

typedef enum doppler_mode {
    DOPPLER_OFF = 0,
    DOPPLER_COLOR,  /* signed mean velocity */
    DOPPLER_POWER,  /* flow energy */
    DOPPLER_MODE_COUNT
} doppler_mode;

/* What the trainee sets (session state, the "doppler" action). */
typedef struct doppler_settings {
    doppler_mode mode;
    double box_mm[4];   /* x0, z0, x1, z1: lateral from the probe centre, depth below the face */
    double prf_hz;      /* pulse repetition frequency: sets the velocity scale */
    double steer_deg;   /* Doppler beam steering in the image plane, + towards +x */
    double gain_db;     /* colour gain */
} doppler_settings;

/* Off; a 10 x 8 mm box from 1 mm deep; PRF 1000 Hz (perforator protocols use 500-1000 Hz,
 * anatomy.md section 5); no steering; 0 dB. */
doppler_settings doppler_default_settings(void);
/* NULL when valid, else a static message naming the bad field in plain words. */
const char *doppler_settings_check(const doppler_settings *s);
const char *doppler_mode_name(doppler_mode m);
/* DOPPLER_MODE_COUNT when name is none of "off", "color", "power". */
doppler_mode doppler_mode_from_name(const char *name);
/* Velocity shown at the top of the colour scale: PRF * c / (4 f0), in cm/s. */
double doppler_nyquist_cm_s(const doppler_settings *s, const probe_def *p);

typedef struct doppler_def {
    double cell_lateral_mm, cell_axial_mm; /* colour cell size (coarser cells for big boxes) */
    int max_cols, max_rows;                /* cap on cells; the cell grows beyond it */
    double wall_filter_frac;  /* wall filter cut-off as a fraction of the Nyquist velocity */
    int ensemble;             /* pulses per estimate: the variance of the estimate */
    double heart_rate_bpm;    /* arterial period */
    double diastolic_ratio;   /* end-diastolic / peak systolic velocity of the arteries */
    double vein_speed_frac;   /* venous centreline speed as a fraction of an artery's peak */
    double blood_snr_db;      /* signal to noise of a cell full of blood at 0 dB gain */
    double threshold_db;      /* display threshold above the mean noise at 0 dB gain */
    double frame_rate_hz;     /* colour frames per second: the noise is drawn anew each frame */
    uint32_t seed;
} doppler_def;

doppler_def doppler_default_def(void);

/* One estimate per cell, row-major, row 0 at the top of the box. */
typedef struct doppler_image {
    int rows, cols;
    double x0_mm, z0_mm;     /* centre of cell (0, 0), image frame */
    double dx_mm, dz_mm;
    doppler_mode mode;
    double nyquist_cm_s;     /* velocity scale */
    float *velocity_cm_s;    /* mean axial velocity as measured (wrapped), + towards the probe */
    float *power_db;         /* flow power after the wall filter, dB above the threshold */
    uint8_t *shown;          /* 1 where the cell shows colour (power over the threshold) */
} doppler_image;

typedef struct doppler doppler;

/* NULL when out of memory or def is invalid (message in err). */
doppler *doppler_create(const doppler_def *def, char *err, size_t err_len);
void doppler_destroy(doppler *d);

/* Estimates the box of settings s over the scene at session time t_s (the phase of the
 * cardiac cycle and the noise frame). The box is clipped to the image; a box outside it, or
 * mode off, gives 0 cells. Returns 0, or -1 with a message in err. out's arrays belong to d. */
int doppler_render(doppler *d, const bmode_scene *scene, const doppler_settings *s, double t_s,
                   doppler_image *out, char *err, size_t err_len);

/* Centreline speed of vessel i at time t_s (cm/s, along a_mm -> b_mm), pressure included. */
double doppler_vessel_speed_cm_s(const doppler *d, const phantom *ph, int vessel,
                                 double pressure_n, double t_s);
/* Peak systolic centreline speed of an artery of lumen diameter d_mm. */
double doppler_peak_velocity_cm_s(double diameter_mm);

/* Display colour of a shown cell: colour mode maps velocity / Nyquist (-1..1) to blue..red
 * (brighter with speed), power mode maps power_db (0..30 dB) to dark to bright orange. */
void doppler_colour_rgb(doppler_mode mode, double velocity_frac, double power_db, uint8_t rgb[3]);

#endif
