/* haptics: the force on the hand, at 1 kHz, from the latest pose and the latest snapshot.
 *
 * A haptic device needs a force about every millisecond (below ~500 Hz a stiff contact
 * buzzes; 1 kHz is the usual servo rate, Salisbury et al. 2004, "Haptic rendering"). The
 * session steps at the window's rate; so this loop never touches the live session: each tick
 * it takes the driver's newest snapshot (driver_acquire, a pointer swap, never the step's
 * work) and the tool's newest pose (haptics_set_pose: a sequence lock, haptics_seq.h, so the
 * loop never waits on the thread that sets it) and computes:
 *   - axial: needle_force_n on the snapshot's needle copy at the pose stream's velocity (the
 *     three-term model: interface stiffness up to the pop, friction, cutting; needle.h),
 *     pushing back along the needle's axis;
 *   - lateral: tissue holds a needle that is in on its insertion line: a spring toward that
 *     line, k = lateral_n_mm2 per mm of shaft in tissue per mm off the line (tissue as lateral
 *     springs along the shaft, Glozman & Shoham 2007; their stiffness per length is of the
 *     order of the tissue's Young's modulus, dermis ~50 kPa = 0.05 N/mm^2: an assumption);
 *   - the probe's contact force: the session's probe pressure along the skin's outward normal.
 * Each is clamped to max_force_n (a safety limit for a real device), then handed to `send`
 * (the OpenIGTLink server's SENSOR stream) and to the plugin's write_force. Neither may block.
 *
 * With a plugin (haptic_plugin.h) the loop also reads the device's pose each tick, maps it with
 * the calibration and feeds it to its own tool (haptics_tool.h): the pen drives the session.
 *
 * haptics_create starts the thread (clock_nanosleep to absolute deadlines, the last ~50 us spun,
 * with a 1 ns timer slack, pinned to a core of its own and SCHED_FIFO where granted, its stack
 * touched before the first tick so no page fault lands in one); a tick allocates nothing, logs
 * nothing and takes no lock an ordinary thread holds (its statistics go out by sequence lock
 * too); only the driver's snapshot swap is a mutex, held for a pointer copy. haptics_destroy
 * stops and joins it and closes the plugin. The caller keeps the driver alive meanwhile. */
#ifndef MESOSIM_HAPTICS_H
#define MESOSIM_HAPTICS_H

#include <stdbool.h>
#include <stddef.h>

#include "driver.h"
#include "haptic_plugin.h"
#include "haptics_tool.h"
#include "igtl_calib.h"

typedef struct haptics_force {
    double t_s;
    double needle_n[3];   /* on the hand holding the needle, phantom frame */
    double probe_n[3];    /* on the hand holding the probe */
    double axial_n;       /* > 0 pushes the needle back */
    double lateral_n;     /* magnitude of the lateral spring */
} haptics_force;

typedef struct haptics_def {
    driver *d;
    double rate_hz;        /* 1000 */
    double lateral_n_mm2;  /* 0.05 N per mm of shaft per mm off the line */
    double max_force_n;    /* 8 N: about a desktop pen's peak (Touch X: 7.9 N) */
    void (*send)(void *ctx, const haptics_force *f); /* each tick, from the haptics thread */
    void *send_ctx;
    const haptic_plugin *plugin; /* optional, with its open handle */
    void *plugin_dev;
    igtl_calibration plugin_calib;
    haptics_tool_def tool;
    double (*clock_s)(void *ctx); /* session time; NULL: seconds since haptics_create */
    void *clock_ctx;
    /* What a servo loop asks of the system; each is tried and what was granted is in the stats
     * (nothing fails when refused). */
    bool realtime;         /* true: ask for SCHED_FIFO (granted to root or CAP_SYS_NICE) */
    bool lock_memory;      /* false: mlockall(MCL_CURRENT | MCL_FUTURE) for the whole process, so no
                            * page fault stalls a tick; only tried when the memlock limit cannot
                            * bite (root, or an unlimited RLIMIT_MEMLOCK): a limit would make later
                            * allocations fail */
    bool pin_cpu;          /* true: the thread on the last online core (the synthesis workers and
                            * the window start from the first) */
    double spin_us;        /* 50: sleep until this long before the deadline, then spin on the clock
                            * (the timer's wake-up is late by tens of microseconds); 0: sleep only */
    struct haptics_tick *ticks; /* optional: each tick's timing is written here ... */
    long tick_cap;         /* ... up to this many (for the benchmark) */
} haptics_def;

/* One tick's timing, for the benchmark: what the system took (the wake-up) apart from what the
 * loop did (the work), each tick stamped so a stall can be set beside what else ran then. */
typedef struct haptics_tick {
    double at_s;           /* the tick's deadline, seconds since haptics_create (CLOCK_MONOTONIC) */
    float wake_ms;         /* deadline to the loop running again: the OS's part */
    float late_ms;         /* deadline to the force handed on: wake-up and work */
} haptics_tick;

haptics_def haptics_default_def(void);

/* The force for one pose on one snapshot: the loop's work, callable from tests. */
void haptics_compute(const haptics_def *def, const driver_snapshot *s, const haptics_pose *p, haptics_force *out);

typedef struct haptics haptics;

/* NULL with a message when the thread cannot start or the def is bad. */
haptics *haptics_create(const haptics_def *def, char *err, size_t err_len);
void haptics_destroy(haptics *h);
/* Any thread: the tool's newest pose. */
void haptics_set_pose(haptics *h, const haptics_pose *p);

typedef struct haptics_stats {
    long long ticks, missed_deadlines; /* a tick that ended after the next one was due */
    long long plugin_poses, plugin_errors;
    double max_tick_ms;                /* the work of a tick */
    double max_late_ms;                /* its deadline to the force handed on */
    bool realtime;                     /* the thread got SCHED_FIFO */
    bool memory_locked;                /* mlockall was granted */
    int cpu;                           /* the core it is pinned to, -1 none */
    bool timer_slack;                  /* PR_SET_TIMERSLACK 1 ns was granted */
    haptics_force last;
    long long tool_entries;            /* the plugin's tool: needle entries pushed */
} haptics_stats;
/* Any thread. */
haptics_stats haptics_get_stats(haptics *h);

/* dlopen a plugin and check its ABI; NULL with a message. *handle is for haptics_plugin_unload. */
const haptic_plugin *haptics_plugin_load(const char *path, void **handle, char *err, size_t err_len);
void haptics_plugin_unload(void *handle);

#endif
