/* igtl_server: tracked tools in, forces and the scan out, over OpenIGTLink (TCP).
 *
 * One network thread runs a poll() loop over a listening socket (127.0.0.1:18944 unless told
 * otherwise; other addresses only when the user asks), up to max_clients connections and the
 * peers we connect to ourselves (igtl_server_connect: e.g. a 3D Slicer or ReceiveServer that
 * waits for our IMAGE stream: such a peer gets the images only). Every socket is non-blocking.
 *
 * In: TRANSFORM and POSITION messages. The device name says which tool moved: needle_device
 * ("Needle") or probe_device ("Probe"); others are counted and ignored. A pose goes through the
 * calibration (igtl_calib.h) into the tool rules (haptics_tool.h), which push actions and device
 * motion to the driver, and to the haptics loop when there is one. The tool's z axis is the
 * needle (hub to tip) or the probe's beam; its x axis the probe's long axis.
 *
 * Out: igtl_server_send_force (from the haptics thread) and igtl_server_send_image keep only
 * the newest value and wake the network thread, which packs SENSOR "NeedleForce" and
 * "ProbeForce" (3 float64, N) and IMAGE "Image" messages into each client's output queue. A
 * queue is bounded (out_queue_bytes); a message that does not fit a slow client is dropped and
 * counted, never waited for. So senders never block and memory stays bounded: a client holds
 * its input buffer (igtl_stream, ~1 KiB) and its output queue.
 *
 * Robustness: malformed messages are dropped and counted (igtl_msg.h); a stream that cannot be
 * framed, a peer that hangs up or errs is closed; a flooding client is read at most
 * read_budget_bytes per loop turn, so the others are served too. */
#ifndef MESOSIM_IGTL_SERVER_H
#define MESOSIM_IGTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "haptics.h"
#include "igtl_calib.h"

#define IGTL_SERVER_DEFAULT_PORT 18944
#define IGTL_SERVER_MAX_CLIENTS 8

typedef struct igtl_server_def {
    driver *d;                 /* NULL: none yet (igtl_server_set_driver); poses are only kept */
    const char *bind_addr;     /* "127.0.0.1" */
    int port;                  /* 18944; 0: a free port (igtl_server_port tells which) */
    const char *needle_device; /* "Needle" */
    const char *probe_device;  /* "Probe" */
    igtl_calibration calib;
    haptics_tool_def tool;
    int max_clients;           /* 8 (at most IGTL_SERVER_MAX_CLIENTS) */
    size_t out_queue_bytes;    /* per client: 1 MiB (five standard IMAGE frames) */
    size_t read_budget_bytes;  /* per client per loop turn: 64 KiB */
    double (*clock_s)(void *ctx); /* session time; NULL: seconds since igtl_server_create */
    void *clock_ctx;
} igtl_server_def;

igtl_server_def igtl_server_default_def(void);

typedef struct igtl_server igtl_server;

/* Binds, listens and starts the thread; NULL with a message (address in use, bad address). */
igtl_server *igtl_server_create(const igtl_server_def *def, char *err, size_t err_len);
void igtl_server_destroy(igtl_server *s);
int igtl_server_port(const igtl_server *s);
/* Any thread: the haptics loop that gets the needle's poses (NULL: none). Returns once the
 * network thread no longer uses the previous one, so that one may then be destroyed. */
void igtl_server_attach_haptics(igtl_server *s, haptics *h);
/* Any thread: the session the poses drive (NULL: none; the poses are then only kept for
 * igtl_server_latest_raw). The tools start afresh (a new session's needle is out). Returns once
 * the network thread no longer uses the previous driver, so that one may then be destroyed. */
void igtl_server_set_driver(igtl_server *s, driver *d);
/* Any thread: the calibration for every pose from now on. False, with the field named, when it
 * is not usable (igtl_calibration_check); the old one stays. */
bool igtl_server_set_calibration(igtl_server *s, const igtl_calibration *c, char *err, size_t err_len);

/* A tool's newest pose as it came in, in the device's frame (before the calibration): what a
 * calibration needs. count is how many poses of that tool came in so far. */
typedef enum igtl_tool { IGTL_TOOL_NEEDLE = 0, IGTL_TOOL_PROBE, IGTL_TOOL_COUNT } igtl_tool;
typedef struct igtl_raw_pose {
    long long count;
    double t_s;                /* the server's clock when it came */
    double p[3];               /* the tip (the probe face's centre), device units */
    double r[3][3];            /* the tool's frame, row-major: column 2 the needle (or the beam) */
} igtl_raw_pose;
/* Any thread: false (and *out zeroed) while that tool has sent nothing. */
bool igtl_server_latest_raw(igtl_server *s, igtl_tool tool, igtl_raw_pose *out);

/* Connects out to a peer (blocking, at most timeout_ms), then serves it like a client. */
bool igtl_server_connect(igtl_server *s, const char *host, int port, int timeout_ms, char *err, size_t err_len);

/* Any thread, never blocks: the newest force, sent as SENSOR messages. */
void igtl_server_send_force(igtl_server *s, const haptics_force *f);
/* For haptics_def.send: ctx is the server. */
void igtl_server_force_sink(void *ctx, const haptics_force *f);

/* The B-mode geometry for IMAGE, phantom frame: pixel spacing, the image's centre and the image
 * plane's axes (probe_frame's u lateral, v elevation, w depth). */
typedef struct igtl_image_geometry {
    double spacing_mm[2];      /* lateral (columns), depth (rows) */
    double centre_mm[3], u[3], v[3], w[3];
} igtl_image_geometry;
/* Any thread: copies the newest frame (8-bit, cols x rows, row 0 the face) for the clients.
 * False when it is too large (65535) or out of memory. */
bool igtl_server_send_image(igtl_server *s, const uint8_t *pixels, int cols, int rows, const igtl_image_geometry *g);

typedef struct igtl_server_stats {
    long long received;        /* good pose messages */
    long long dropped;         /* malformed, unknown type, too long, unknown device */
    long long bad_crc, bad_size, unknown_type, unknown_device, too_long, broken_streams;
    long long sent;            /* messages queued to clients */
    long long send_dropped;    /* messages a client's full queue could not take */
    long long clients_accepted, clients_refused, clients_now;
    long long tool_clients_now;  /* connected clients that sent a good pose: trackers */
    long long tool_clients_lost; /* trackers that went away (hung up, failed, closed for a broken stream) */
    long long needle_poses, probe_poses, images_sent;
} igtl_server_stats;
/* Any thread. */
igtl_server_stats igtl_server_get_stats(igtl_server *s);

#endif
