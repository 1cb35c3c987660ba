/* pen_evdev: tablet pen events (evdev through libevdev, or fed) to a needle pose. */
#include "pen_evdev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* After controls.h (through pen_evdev.h): the kernel's BTN_BACK and a few others are macros
 * that would rename controls.h's buttons of the same names. */
#include <libevdev/libevdev.h>
#include <linux/input-event-codes.h>

#define PI 3.14159265358979323846

/* The tablet's state as of one event frame. */
typedef struct pen_frame {
    int32_t x, y, pressure, tilt_x, tilt_y;
    bool tool, touch;
} pen_frame;

struct pen_state {
    pen_def def;
    pen_axes axes;
    char name[128];
    int fd;
    struct libevdev *dev;
    pen_frame pending, frame;
    bool dropped;                 /* SYN_DROPPED: the frame so far is incomplete */
    bool stylus_edge, stylus2_edge; /* went down in a committed frame, not yet handed out */
    bool stylus_pending, stylus2_pending;
};

pen_def pen_default_def(void)
{
    return (pen_def){.pressure_touch = 0.05, .pressure_full = 0.9, .insert_max_mm = 4.0, .dist_min_mm = 0.5,
                     .dist_max_mm = 10.0, .angle_no_tilt_deg = 30.0};
}

pen_state *pen_create(const pen_def *def, const pen_axes *axes, const char *name)
{
    pen_state *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->def = *def;
    p->axes = *axes;
    p->fd = -1;
    snprintf(p->name, sizeof p->name, "%s", name && *name ? name : "pen");
    return p;
}

static pen_range range_of(struct libevdev *dev, unsigned code)
{
    pen_range r = {0};
    const struct input_absinfo *ai = libevdev_has_event_code(dev, EV_ABS, code) ? libevdev_get_abs_info(dev, code) : NULL;
    if (ai && ai->maximum > ai->minimum)
        r = (pen_range){true, ai->minimum, ai->maximum, ai->resolution};
    return r;
}

pen_state *pen_open_evdev(const pen_def *def, const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct libevdev *dev = NULL;
    int rc = libevdev_new_from_fd(fd, &dev);
    if (rc < 0) {
        snprintf(err, err_len, "%s: not an input device (%s)", path, strerror(-rc));
        close(fd);
        return NULL;
    }
    if (!libevdev_has_event_code(dev, EV_ABS, ABS_PRESSURE) || !libevdev_has_event_code(dev, EV_KEY, BTN_TOOL_PEN)) {
        snprintf(err, err_len, "%s (%s) is not a tablet pen (no pressure or no pen tool)", path,
                 libevdev_get_name(dev));
        libevdev_free(dev);
        close(fd);
        return NULL;
    }
    pen_axes axes = {range_of(dev, ABS_X), range_of(dev, ABS_Y), range_of(dev, ABS_PRESSURE), range_of(dev, ABS_TILT_X),
                     range_of(dev, ABS_TILT_Y)};
    pen_state *p = pen_create(def, &axes, libevdev_get_name(dev));
    if (!p) {
        snprintf(err, err_len, "out of memory");
        libevdev_free(dev);
        close(fd);
        return NULL;
    }
    p->fd = fd;
    p->dev = dev;
    return p;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

pen_state *pen_find(const pen_def *def, char *why, size_t why_len)
{
    DIR *dir = opendir("/dev/input");
    if (!dir) {
        snprintf(why, why_len, "no /dev/input on this system");
        return NULL;
    }
    char *names[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) && n < 256;)
        if (!strncmp(e->d_name, "event", 5))
            names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, (size_t)n, sizeof *names, by_name);
    pen_state *found = NULL;
    int denied = 0;
    for (int i = 0; i < n; i++) {
        char path[300], err[300];
        if (!found && names[i]) {
            snprintf(path, sizeof path, "/dev/input/%s", names[i]);
            found = pen_open_evdev(def, path, err, sizeof err);
            if (!found && access(path, R_OK) != 0 && errno == EACCES)
                denied++;
        }
        free(names[i]);
    }
    if (!found) {
        if (denied)
            snprintf(why, why_len, "%d input device%s not readable (join the input group for pen pressure)", denied,
                     denied == 1 ? "" : "s");
        else
            snprintf(why, why_len, "no tablet pen found");
    }
    return found;
}

void pen_destroy(pen_state *p)
{
    if (!p)
        return;
    if (p->dev)
        libevdev_free(p->dev);
    if (p->fd >= 0)
        close(p->fd);
    free(p);
}

const char *pen_name(const pen_state *p) { return p->name; }
bool pen_has_tilt(const pen_state *p) { return p->axes.tilt_x.present || p->axes.tilt_y.present; }

static void feed_one(pen_state *p, const pen_event *e)
{
    pen_frame *f = &p->pending;
    if (e->type == EV_SYN) {
        if (e->code == SYN_DROPPED) {
            p->dropped = true;
        } else if (e->code == SYN_REPORT) {
            /* After a drop the next report closes the lost frame: nothing of it is used. */
            if (!p->dropped) {
                p->frame = *f;
                p->stylus_edge = p->stylus_edge || p->stylus_pending;
                p->stylus2_edge = p->stylus2_edge || p->stylus2_pending;
            }
            p->stylus_pending = p->stylus2_pending = false;
            p->dropped = false;
        }
        return;
    }
    if (e->type == EV_ABS) {
        switch (e->code) {
        case ABS_X: f->x = e->value; break;
        case ABS_Y: f->y = e->value; break;
        case ABS_PRESSURE: f->pressure = e->value; break;
        case ABS_TILT_X: f->tilt_x = e->value; break;
        case ABS_TILT_Y: f->tilt_y = e->value; break;
        default: break;
        }
    } else if (e->type == EV_KEY) {
        bool down = e->value != 0;
        switch (e->code) {
        case BTN_TOOL_PEN: f->tool = down; break;
        case BTN_TOUCH: f->touch = down; break;
        case BTN_STYLUS: p->stylus_pending = p->stylus_pending || (down && e->value == 1); break;
        case BTN_STYLUS2: p->stylus2_pending = p->stylus2_pending || (down && e->value == 1); break;
        default: break;
        }
    }
}

void pen_feed(pen_state *p, const pen_event *ev, int n)
{
    for (int i = 0; i < n; i++)
        feed_one(p, &ev[i]);
}

int pen_poll(pen_state *p)
{
    if (!p->dev)
        return 0;
    int count = 0;
    unsigned flag = LIBEVDEV_READ_FLAG_NORMAL;
    for (;;) {
        struct input_event ie;
        int rc = libevdev_next_event(p->dev, flag, &ie);
        if (rc == -EAGAIN) {
            if (flag == LIBEVDEV_READ_FLAG_SYNC) {
                flag = LIBEVDEV_READ_FLAG_NORMAL; /* the resync is done */
                continue;
            }
            return count;
        }
        if (rc < 0)
            return rc == -ENODEV ? -1 : count;
        if (rc == LIBEVDEV_READ_STATUS_SYNC && flag == LIBEVDEV_READ_FLAG_NORMAL) {
            /* The kernel dropped events: libevdev hands the state as it now is. */
            flag = LIBEVDEV_READ_FLAG_SYNC;
            continue;
        }
        pen_event e = {ie.type, ie.code, ie.value, (double)ie.input_event_sec + ie.input_event_usec * 1e-6};
        feed_one(p, &e);
        count++;
    }
}

static double frac(const pen_range *r, int32_t v)
{
    if (!r->present || r->max <= r->min)
        return 0.0;
    return fmin(fmax((double)(v - r->min) / (double)(r->max - r->min), 0.0), 1.0);
}

/* Tilt in degrees from the vertical. The kernel gives rotational axes' resolution in units
 * per radian (linux/input.h; Wacom's tilt: 57, a unit a degree), as libinput reads it; with
 * none the range is taken as -64..64 degrees, the Wacom convention. */
static double tilt_deg(const pen_range *r, int32_t v)
{
    if (!r->present)
        return 0.0;
    double centre = r->min <= 0 && r->max >= 0 ? 0.0 : 0.5 * ((double)r->min + (double)r->max);
    if (r->resolution > 0)
        return ((double)v - centre) / (double)r->resolution * 180.0 / PI;
    double half = 0.5 * ((double)r->max - (double)r->min);
    return half > 0 ? ((double)v - centre) / half * 64.0 : 0.0;
}

bool pen_end(pen_state *p, const pen_skin *skin, controls *out)
{
    const pen_def *d = &p->def;
    const pen_frame *f = &p->frame;
    bool any = false;
    if (p->stylus_edge)
        out->pressed[BTN_INJECT] = any = true;
    if (p->stylus2_edge)
        out->pressed[BTN_STEP] = any = true;
    p->stylus_edge = p->stylus2_edge = false;
    double pr = frac(&p->axes.pressure, f->pressure);
    if (!f->tool || pr < d->pressure_touch)
        return any;
    double lateral = (frac(&p->axes.x, f->x) - 0.5) * skin->fov_mm;
    double dist = d->dist_min_mm + frac(&p->axes.y, f->y) * (d->dist_max_mm - d->dist_min_mm);
    double r = skin->probe_rot_deg * PI / 180.0;
    /* Along the image (the probe's long axis) and across the plane, as the scan screen's
     * slides and its out-of-plane entry use them. */
    double ux = cos(r), uy = sin(r), vx = -sin(r), vy = cos(r);
    controls_needle_pose *np = &out->needle_pose;
    out->has_needle_pose = true;
    np->entry_x_mm = skin->probe_x_mm + lateral * ux - dist * vx;
    np->entry_y_mm = skin->probe_y_mm + lateral * uy - dist * vy;
    double az = 90.0 + skin->probe_rot_deg;
    np->azimuth_deg = az > 360 ? az - 360 : az < -360 ? az + 360 : az;
    if (pen_has_tilt(p)) {
        double tilt = hypot(tilt_deg(&p->axes.tilt_x, f->tilt_x), tilt_deg(&p->axes.tilt_y, f->tilt_y));
        np->angle_deg = fmin(fmax(90.0 - tilt, 5.0), 85.0);
    } else {
        np->angle_deg = d->angle_no_tilt_deg;
    }
    double span = d->pressure_full - d->pressure_touch;
    np->inserted_mm = span > 0 ? fmin(fmax((pr - d->pressure_touch) / span, 0.0), 1.0) * d->insert_max_mm : 0.0;
    return true;
}
