/* mesosim run: a scripted session, headless. Reads a scenario and a JSON Lines action log
 * (docs/actions.md), plays it through the session, writes the report (docs/scoring.md)
 * atomically and, with --frames, the B-mode image when each injection starts and ends.
 *
 * Live (--igtl-port or --haptic-plugin, with --duration): the session runs in real time for
 * that long, driven by a tracked tool over OpenIGTLink or a haptic plugin (and the action log,
 * if one is given, at its times), with the 1 kHz haptics loop sending forces back; the report
 * then holds an "igtl" object (messages in, dropped, out; the needle's and probe's final
 * pose) and a "haptics" one (docs/devices.md). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "atomic_file.h"
#include "bmode.h"
#include "cli_util.h"
#include "commands.h"
#include "image_io.h"
#include "scenario.h"
#include "driver.h"
#include "haptics.h"
#include "igtl_calib.h"
#include "needle.h"
#include "probe.h"
#include "session.h"
#ifdef MESOSIM_IGTL
#include "igtl_server.h"
#endif
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesosim run --scenario FILE --actions FILE.jsonl --report FILE.json\n"
            "                   [--frames DIR] [--threads N] [--force] [--blind]\n"
            "                   [--trainee NAME [--db PATH|URL] | --no-record]\n"
            "       mesosim run --scenario FILE --duration SECONDS --report FILE.json [--actions FILE.jsonl]\n"
            "                   [--igtl-port PORT] [--igtl-bind ADDR] [--igtl-needle NAME] [--igtl-probe NAME]\n"
            "                   [--igtl-calibration FILE] [--igtl-image] [--igtl-image-to HOST:PORT]\n"
            "                   [--haptic-plugin FILE.so] [--haptic-args TEXT] [--blind]\n"
            "Plays a recorded or scripted session (JSON Lines, one timed action per line, see\n"
            "docs/actions.md) on a scenario and writes the report: a verdict per injection and\n"
            "the session score (docs/scoring.md). --frames DIR writes the B-mode image when each\n"
            "injection starts and ends (injection_NN_start.png, injection_NN_end.png).\n"
            "A log that names the scenario it was recorded on (format 2, docs/actions.md) is\n"
            "refused when that scenario has changed since; --force replays it anyway.\n"
            "--blind practises the case blind (as if its guidance.ultrasound were false): the report\n"
            "says \"blind\": true and its scenario_hash stays the case file's, so the records pair it\n"
            "with the case's guided sessions. A log recorded blind this way says so in its header and\n"
            "replays blind without --blind.\n"
            "Live: with --igtl-port (OpenIGTLink on 127.0.0.1, or --igtl-bind ADDR; port 0 picks a\n"
            "free one and says which on stderr) or --haptic-plugin, the session runs in real time for\n"
            "--duration seconds, driven by TRANSFORM/POSITION messages for the devices \"Needle\" and\n"
            "\"Probe\" (--igtl-needle, --igtl-probe) through the calibration (--igtl-calibration, default\n"
            "$XDG_CONFIG_HOME/mesosim/igtl_calibration.json when it exists), or by the plugin's pen; the\n"
            "forces go back as SENSOR messages and to the plugin. --igtl-image streams the B-mode as IMAGE\n"
            "messages at 30 fps, also to a peer with --igtl-image-to. See docs/devices.md.\n"
            "--trainee NAME records the session for that trainee in the records (--db, default\n"
            "$XDG_DATA_HOME/mesosim/records.db, or a postgresql:// URL; docs/records.md) as it goes;\n"
            "stdout then gives its \"session\" id. --no-record: a throwaway run, nothing recorded.\n"
            "Exit status: 0 done (pass or fail is in the report), 1 a bad scenario, action\n"
            "file or action, 2 bad usage.\n");
}

/* The report and a final newline, written atomically (atomic_file.h). */
static int write_report(const char *path, const char *text, char *err, size_t n)
{
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    int rc = atomic_file_write(path, buf, len + 1, err, n);
    free(buf);
    return rc;
}

static int write_frame(const driver_snapshot *snap, bmode *bm, const char *dir, int inj, const char *when)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    driver_snapshot_scene(snap, &scene, dyn);
    bmode_image img;
    char err[256], path[4096];
    if (bmode_render(bm, &scene, &img, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim run: render: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/injection_%02d_%s.png", dir, inj, when);
    /* Square pixels and a scale bar: the frame is looked at, not measured by column. */
    image_gray sq;
    if (image_resample_square(img.pixels, img.rows, img.cols, img.dz_mm, img.dx_mm, &sq, err, sizeof err) != 0 ||
        image_write_png_gray(path, sq.pixels, sq.w, sq.h, err, sizeof err) != 0) {
        free(sq.pixels);
        fprintf(stderr, "mesosim run: %s\n", err);
        return -1;
    }
    free(sq.pixels);
    return 0;
}

/* Frames at the injections' start and end, from the snapshot after a step. */
static int frames_after_step(driver *d, bmode *bm, const char *dir, int *injections)
{
    int n;
    const session_event *ev = driver_events(d, &n);
    for (int i = 0; i < n; i++) {
        if (ev[i].kind != SEV_INJECTION_STARTED)
            continue;
        (*injections)++;
        const driver_snapshot *snap = driver_acquire(d);
        int rc = write_frame(snap, bm, dir, *injections, "start");
        driver_release(d, snap);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The first refused action of the last step, as FILE:LINE: reason. */
static bool refused(const driver *d, const char *act_path)
{
    int n;
    const session_event *ev = driver_events(d, &n);
    for (int i = 0; i < n; i++)
        if (ev[i].kind == SEV_ACTION_REFUSED) {
            fprintf(stderr, "%s:%d: %s\n", act_path, ev[i].line, ev[i].message);
            return true;
        }
    return false;
}

/* The log's header names the scenario it was recorded on by its content hash (either
 * definition, scenario_hash_matches): a log played on another case would score the wrong
 * thing. */
static bool header_matches(const action_list *al, const scenario *sc, const char *act_path,
                           const char *scen_path, bool force)
{
    if (al->header.version < 2 || scenario_hash_matches(sc, al->header.scenario_hash))
        return true;
    char now[17];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(sc));
    fprintf(stderr,
            "%s: this log was recorded on scenario \"%s\" with content hash %s, but %s now hashes to "
            "%s: the case has changed since, and replaying it would score a different case%s\n",
            act_path, al->header.scenario, al->header.scenario_hash, scen_path, now,
            force ? " (replaying anyway: --force)" : ". Pass --force to replay it anyway");
    return force;
}


/* ---- live: a tracked tool, a haptic plugin ------------------------------------------------- */

/* Where and for whom the session is recorded (records.h); trainee NULL: not recorded. */
typedef struct record_opts {
    const char *trainee, *db, *scen_path;
} record_opts;

/* Attaches the records recorder when asked; false after telling why. */
static bool attach_records(driver *d, const record_opts *ro, const char *device, char id[RECORDS_ID_LEN])
{
    id[0] = '\0';
    return !ro->trainee || records_cli_attach(d, ro->db, ro->trainee, device, ro->scen_path, id);
}

/* The stdout line's session member, when recorded. */
static void print_session(const char *id)
{
    if (id[0])
        printf(",\"session\":\"%s\"", id);
}

typedef struct live_opts {
    double duration_s;
    int igtl_port;              /* -1: no server */
    const char *bind, *needle_dev, *probe_dev, *calib_path, *image_to, *plugin, *plugin_args;
    bool image;
} live_opts;

typedef struct live_clock {
    struct timespec t0;
} live_clock;

static double live_now(void *ctx)
{
    const live_clock *c = ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - c->t0.tv_sec) + (double)(t.tv_nsec - c->t0.tv_nsec) * 1e-9;
}

static json_t *vec3(const double v[3])
{
    return json_pack("[f,f,f]", v[0], v[1], v[2]);
}

/* The needle's and the probe's final pose, from the last snapshot. */
static json_t *final_pose(driver *d)
{
    const driver_snapshot *s = driver_acquire(d);
    const needle *n = s->needle;
    json_t *nd = json_object();
    json_object_set_new(nd, "placed", json_boolean(needle_placed(n)));
    json_object_set_new(nd, "in_skin", json_boolean(needle_in_skin(n)));
    if (needle_placed(n)) {
        double e[3], tip[3];
        needle_entry_mm(n, e);
        needle_tip_mm(n, tip);
        json_object_set_new(nd, "entry_mm", vec3(e));
        json_object_set_new(nd, "tip_mm", vec3(tip));
        json_object_set_new(nd, "angle_deg", json_real(needle_angle_deg(n)));
        json_object_set_new(nd, "azimuth_deg", json_real(needle_azimuth_deg(n)));
        json_object_set_new(nd, "travel_mm", json_real(needle_travel_mm(n)));
        json_object_set_new(nd, "inserted_mm", json_real(needle_inserted_mm(n)));
    }
    json_t *pr = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "x_mm", s->pose.x_mm, "y_mm", s->pose.y_mm, "rot_deg",
                           s->pose.rot_deg, "tilt_deg", s->pose.tilt_deg, "rock_deg", s->pose.rock_deg, "pressure_n",
                           s->pose.pressure_n);
    driver_release(d, s);
    return json_pack("{s:o,s:o}", "needle", nd, "probe", pr);
}

/* The report with extra top-level keys spliced in before its closing brace, so every byte of
 * the session's own report stays as driver_report_json wrote it. */
static char *report_with(const char *text, json_t *extra)
{
    const char *end = strrchr(text, '}');
    char *add = json_dumps(extra, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!end || !add || strlen(add) < 4) {
        free(add);
        return NULL;
    }
    size_t head = (size_t)(end - text), alen = strlen(add);
    char *out = malloc(head + alen + 8);
    if (out) {
        /* add is "{\n  members\n}": its members go after the report's last member. */
        size_t k = head;
        while (k > 0 && (text[k - 1] == '\n' || text[k - 1] == ' '))
            k--;
        memcpy(out, text, k);
        size_t o = k;
        out[o++] = ',';
        memcpy(out + o, add + 1, alen - 3);
        o += alen - 3;
        out[o++] = '\n';
        out[o++] = '}';
        out[o] = '\0';
    }
    free(add);
    return out;
}

#ifdef MESOSIM_IGTL
static void send_frame(igtl_server *srv, driver *d, bmode *bm)
{
    const driver_snapshot *snap = driver_acquire(d);
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    driver_snapshot_scene(snap, &scene, dyn);
    bmode_image img;
    char err[256];
    if (bmode_render(bm, &scene, &img, err, sizeof err) == 0) {
        probe_frame f = probe_frame_make(snap->display, &snap->probe, &snap->pose);
        igtl_image_geometry g = {.spacing_mm = {img.dx_mm, img.dz_mm}};
        double xc = img.x0_mm + 0.5 * (img.cols - 1) * img.dx_mm, zc = img.z0_mm + 0.5 * (img.rows - 1) * img.dz_mm;
        probe_image_to_phantom(&f, xc, 0.0, zc, g.centre_mm);
        memcpy(g.u, f.u, sizeof g.u);
        memcpy(g.v, f.v, sizeof g.v);
        memcpy(g.w, f.w, sizeof g.w);
        igtl_server_send_image(srv, img.pixels, img.cols, img.rows, &g);
    }
    driver_release(d, snap);
}
#endif

static int run_live(const live_opts *o, const scenario *sc, bool blind, const action_list *al,
                    const char *act_path, const char *report, const record_opts *ro)
{
    char err[512];
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = MESOSIM_VERSION;
    dd.blind = blind;
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mesosim run: %s\n", err);
        return 1;
    }
    char rec_id[RECORDS_ID_LEN];
    if (!attach_records(d, ro, o->plugin ? "haptic-plugin" : "igtl", rec_id)) {
        driver_destroy(d);
        return 1;
    }
    live_clock clk;
    clock_gettime(CLOCK_MONOTONIC, &clk.t0);
    int status = 0;
    void *plugin_lib = NULL, *plugin_dev = NULL;
    const haptic_plugin *plugin = NULL;
    haptics *hap = NULL;
    bmode *bm = NULL;
    haptics_def hd = haptics_default_def();
    hd.d = d;
    hd.clock_s = live_now;
    hd.clock_ctx = &clk;
    /* What `mesosim bench --haptics` asks for (realtime, pin_cpu and spin_us are the defaults):
     * a page fault in the middle of a tick is a missed deadline. */
    hd.lock_memory = true;
    igtl_calibration calib = igtl_calibration_identity();
    char cpath[4096];
    const char *cp = o->calib_path;
    if (!cp && igtl_calibration_default_path(cpath, sizeof cpath) && access(cpath, R_OK) == 0)
        cp = cpath;
    if (cp && !igtl_calibration_load(cp, &calib, err, sizeof err)) {
        fprintf(stderr, "mesosim run: calibration: %s\n", err);
        driver_destroy(d);
        return 1;
    }
    hd.plugin_calib = calib;
#ifdef MESOSIM_IGTL
    igtl_server *srv = NULL;
    if (o->igtl_port >= 0) {
        igtl_server_def sd = igtl_server_default_def();
        sd.d = d;
        sd.port = o->igtl_port;
        if (o->bind)
            sd.bind_addr = o->bind;
        if (o->needle_dev)
            sd.needle_device = o->needle_dev;
        if (o->probe_dev)
            sd.probe_device = o->probe_dev;
        sd.calib = calib;
        sd.clock_s = live_now;
        sd.clock_ctx = &clk;
        srv = igtl_server_create(&sd, err, sizeof err);
        if (!srv) {
            fprintf(stderr, "mesosim run: %s\n", err);
            status = 1;
        } else {
            fprintf(stderr, "mesosim run: OpenIGTLink on %s:%d\n", o->bind ? o->bind : "127.0.0.1",
                    igtl_server_port(srv));
            fflush(stderr);
            hd.send = igtl_server_force_sink;
            hd.send_ctx = srv;
        }
        if (srv && o->image_to) {
            char host[256];
            const char *colon = strrchr(o->image_to, ':');
            long port = 0;
            if (!colon || colon == o->image_to || (size_t)(colon - o->image_to) >= sizeof host ||
                !cli_parse_int(colon + 1, 1, 65535, &port)) {
                fprintf(stderr, "mesosim run: --igtl-image-to %s: HOST:PORT\n", o->image_to);
                status = 2;
            } else {
                memcpy(host, o->image_to, (size_t)(colon - o->image_to));
                host[colon - o->image_to] = '\0';
                if (!igtl_server_connect(srv, host, (int)port, 2000, err, sizeof err)) {
                    fprintf(stderr, "mesosim run: --igtl-image-to: %s\n", err);
                    status = 1;
                }
            }
        }
        if (status == 0 && o->image) {
            bmode_def bd = bmode_default_def();
            bd.display_only = 1;
            bm = bmode_create(&bd);
            if (!bm) {
                fprintf(stderr, "mesosim run: out of memory\n");
                status = 1;
            }
        }
    }
#endif
    if (status == 0 && o->plugin) {
        plugin = haptics_plugin_load(o->plugin, &plugin_lib, err, sizeof err);
        if (plugin)
            plugin_dev = plugin->open(o->plugin_args ? o->plugin_args : "", err, sizeof err);
        if (!plugin || !plugin_dev) {
            fprintf(stderr, "mesosim run: %s\n", err);
            status = 1;
        }
        hd.plugin = plugin;
        hd.plugin_dev = plugin_dev;
    }
    if (status == 0) {
        hap = haptics_create(&hd, err, sizeof err);
        if (!hap) {
            fprintf(stderr, "mesosim run: %s\n", err);
            status = 1;
        }
    }
#ifdef MESOSIM_IGTL
    if (srv && hap)
        igtl_server_attach_haptics(srv, hap); /* its needle poses feed the velocity and the lateral spring */
#endif
    int next = 0, refusals = 0;
    double frame_s = 1.0 / 60.0;
#ifdef MESOSIM_IGTL
    double next_image = 0.0;
#endif
    long k = 0;
    while (status == 0) {
        double t = live_now(&clk);
        if (t >= o->duration_s)
            break;
        while (al && next < al->count && al->items[next].t_s <= t && al->items[next].verb != ACT_END)
            driver_push(d, &al->items[next++]);
        driver_step(d, t);
        int n;
        const session_event *ev = driver_events(d, &n);
        for (int i = 0; i < n; i++)
            if (ev[i].kind == SEV_ACTION_REFUSED && refusals++ < 10)
                fprintf(stderr, "mesosim run: %s%s%.3f s: refused: %s\n", ev[i].line ? act_path : "",
                        ev[i].line ? ": " : "", t, ev[i].message);
#ifdef MESOSIM_IGTL
        if (bm && srv && t >= next_image) {
            send_frame(srv, d, bm);
            next_image += 1.0 / 30.0;
        }
#endif
        k++;
        struct timespec due = clk.t0;
        double when = (double)k * frame_s;
        due.tv_sec += (time_t)when;
        due.tv_nsec += (long)((when - floor(when)) * 1e9);
        if (due.tv_nsec >= 1000000000L) {
            due.tv_sec++;
            due.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    }
    haptics_stats hs = {0};
#ifdef MESOSIM_IGTL
    if (srv)
        igtl_server_attach_haptics(srv, NULL);
#endif
    if (hap) {
        hs = haptics_get_stats(hap);
        haptics_destroy(hap);
    }
    json_t *extra = json_object();
    if (status == 0) {
        driver_finish(d, o->duration_s, true);
#ifdef MESOSIM_IGTL
        if (srv) {
            igtl_server_stats st = igtl_server_get_stats(srv);
            json_t *ig = json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "port", igtl_server_port(srv),
                                   "received", (json_int_t)st.received, "dropped", (json_int_t)st.dropped,
                                   "sent", (json_int_t)st.sent, "send_dropped", (json_int_t)st.send_dropped,
                                   "bad_crc", (json_int_t)st.bad_crc, "bad_size", (json_int_t)st.bad_size,
                                   "unknown_type", (json_int_t)st.unknown_type, "unknown_device",
                                   (json_int_t)st.unknown_device, "needle_poses", (json_int_t)st.needle_poses,
                                   "probe_poses", (json_int_t)st.probe_poses, "images_sent",
                                   (json_int_t)st.images_sent);
            json_t *fp = final_pose(d);
            json_object_update(ig, fp); /* takes references of its own */
            json_decref(fp);
            json_object_set_new(extra, "igtl", ig);
        }
#endif
        json_object_set_new(extra, "haptics",
                            json_pack("{s:I,s:I,s:f,s:I,s:I,s:I,s:[f,f,f]}", "ticks", (json_int_t)hs.ticks,
                                      "missed_deadlines", (json_int_t)hs.missed_deadlines, "max_tick_ms",
                                      hs.max_tick_ms, "plugin_poses", (json_int_t)hs.plugin_poses,
                                      "plugin_errors", (json_int_t)hs.plugin_errors, "plugin_entries",
                                      (json_int_t)hs.tool_entries, "last_needle_force_n", hs.last.needle_n[0],
                                      hs.last.needle_n[1], hs.last.needle_n[2]));
        if (!json_object_get(extra, "igtl"))
            json_object_set_new(extra, "devices", final_pose(d));
        char *text = driver_report_json(d);
        char *full = text ? report_with(text, extra) : NULL;
        if (!full || write_report(report, full, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim run: %s\n", full ? err : "out of memory");
            status = 1;
        } else {
            const driver_snapshot *snap = driver_acquire(d);
            printf("{\"report\":");
            cli_print_json_string(stdout, report);
            print_session(rec_id);
            printf(",\"injections\":%d,\"total\":%.2f,\"pass\":%s}\n", snap->metrics.n_inj, snap->score.total,
                   snap->score.pass ? "true" : "false");
            driver_release(d, snap);
        }
        free(text);
        free(full);
    }
    json_decref(extra);
#ifdef MESOSIM_IGTL
    igtl_server_destroy(srv);
#endif
    if (plugin_dev)
        plugin->close(plugin_dev);
    haptics_plugin_unload(plugin_lib);
    bmode_destroy(bm);
    driver_destroy(d);
    return status;
}

int cmd_run(int argc, char **argv)
{
    const char *scen_path = NULL, *act_path = NULL, *report = NULL, *frames = NULL;
    long threads = 0;
    bool force = false, no_record = false, blind = false;
    record_opts ro = {0};
    live_opts lo = {.duration_s = -1.0, .igtl_port = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--force")) {
            force = true;
            continue;
        }
        if (!strcmp(a, "--no-record")) {
            no_record = true;
            continue;
        }
        if (!strcmp(a, "--blind")) {
            blind = true;
            continue;
        }
        if (!strcmp(a, "--igtl-image")) {
            lo.image = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "mesosim run: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--scenario"))
            scen_path = v;
        else if (!strcmp(a, "--actions"))
            act_path = v;
        else if (!strcmp(a, "--report"))
            report = v;
        else if (!strcmp(a, "--frames"))
            frames = v;
        else if (!strcmp(a, "--trainee"))
            ro.trainee = v;
        else if (!strcmp(a, "--db"))
            ro.db = v;
        else if (!strcmp(a, "--duration")) {
            char *end;
            lo.duration_s = strtod(v, &end);
            if (end == v || *end || !(lo.duration_s > 0.0 && lo.duration_s <= 86400.0)) {
                fprintf(stderr, "mesosim run: --duration: seconds, more than 0 and at most 86400\n");
                return 2;
            }
        } else if (!strcmp(a, "--igtl-port")) {
            long port;
            if (!cli_parse_int(v, 0, 65535, &port)) {
                fprintf(stderr, "mesosim run: --igtl-port: 0..65535 (0: any free port)\n");
                return 2;
            }
            lo.igtl_port = (int)port;
        } else if (!strcmp(a, "--igtl-bind"))
            lo.bind = v;
        else if (!strcmp(a, "--igtl-needle"))
            lo.needle_dev = v;
        else if (!strcmp(a, "--igtl-probe"))
            lo.probe_dev = v;
        else if (!strcmp(a, "--igtl-calibration"))
            lo.calib_path = v;
        else if (!strcmp(a, "--igtl-image-to"))
            lo.image_to = v;
        else if (!strcmp(a, "--haptic-plugin"))
            lo.plugin = v;
        else if (!strcmp(a, "--haptic-args"))
            lo.plugin_args = v;
        else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(v, 1, 8, &threads)) {
                fprintf(stderr, "mesosim run: --threads: 1..8\n");
                return 2;
            }
        } else {
            fprintf(stderr, "mesosim run: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (no_record && (ro.trainee || ro.db)) {
        fprintf(stderr, "mesosim run: --no-record and --trainee/--db contradict each other\n");
        return 2;
    }
    if (ro.db && !ro.trainee) {
        fprintf(stderr, "mesosim run: --db needs --trainee NAME (whose session it records)\n");
        return 2;
    }
    ro.scen_path = scen_path;
    bool live = lo.igtl_port >= 0 || lo.plugin;
#ifndef MESOSIM_IGTL
    if (lo.igtl_port >= 0) {
        fprintf(stderr, "mesosim run: this build has no OpenIGTLink (install libopenigtlink-dev and rebuild)\n");
        return 2;
    }
#endif
    if (!live && (lo.duration_s > 0.0 || lo.bind || lo.needle_dev || lo.probe_dev || lo.calib_path || lo.image ||
                  lo.image_to || lo.plugin_args)) {
        fprintf(stderr, "mesosim run: --duration and the --igtl-*/--haptic-* options need --igtl-port or "
                        "--haptic-plugin\n");
        return 2;
    }
    if ((lo.image || lo.image_to || lo.bind || lo.needle_dev || lo.probe_dev) && lo.igtl_port < 0) {
        fprintf(stderr, "mesosim run: the --igtl-* options need --igtl-port\n");
        return 2;
    }
    if (live) {
        if (!scen_path || !report || !(lo.duration_s > 0.0)) {
            fprintf(stderr, "mesosim run: a live session needs --scenario, --duration and --report\n");
            usage(stderr);
            return 2;
        }
        if (frames) {
            fprintf(stderr, "mesosim run: --frames is for scripted sessions only\n");
            return 2;
        }
        scenario lsc;
        if (!cli_load_scenario(scen_path, &lsc))
            return 1;
        action_list lal;
        if (act_path) {
            if (!actions_load_file(act_path, &lal)) {
                for (int i = 0; i < lal.n_errors; i++)
                    fprintf(stderr, "%s:%d: %s\n", act_path, lal.errors[i].line, lal.errors[i].message);
                actions_free(&lal);
                return 1;
            }
            if (!header_matches(&lal, &lsc, act_path, scen_path, force)) {
                actions_free(&lal);
                return 1;
            }
        }
        /* A log recorded blind by option replays blind (its header says so). */
        bool lblind = blind || (act_path && lal.header.blind);
        int rc = run_live(&lo, &lsc, lblind, act_path ? &lal : NULL, act_path, report, &ro);
        if (act_path)
            actions_free(&lal);
        return rc;
    }
    if (!scen_path || !act_path || !report) {
        fprintf(stderr, "mesosim run: --scenario, --actions and --report are required\n");
        usage(stderr);
        return 2;
    }
    if (frames) {
        struct stat st;
        if (stat(frames, &st) != 0 && mkdir(frames, 0777) != 0) {
            fprintf(stderr, "mesosim run: --frames %s: %s\n", frames, strerror(errno));
            return 1;
        }
    }
    scenario sc;
    if (!cli_load_scenario(scen_path, &sc))
        return 1;
    action_list al;
    if (!actions_load_file(act_path, &al)) {
        for (int i = 0; i < al.n_errors; i++)
            fprintf(stderr, "%s:%d: %s\n", act_path, al.errors[i].line, al.errors[i].message);
        if (al.total_errors > al.n_errors)
            fprintf(stderr, "%s: %d more problems not listed\n", act_path,
                    al.total_errors - al.n_errors);
        actions_free(&al);
        return 1;
    }
    if (!header_matches(&al, &sc, act_path, scen_path, force)) {
        actions_free(&al);
        return 1;
    }
    char err[256];
    driver_def dd = driver_default_def();
    dd.sc = &sc;
    dd.simulator_version = MESOSIM_VERSION;
    dd.blind = blind || al.header.blind; /* a log recorded blind by option replays blind */
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mesosim run: %s: %s\n", scen_path, err);
        actions_free(&al);
        return 1;
    }
    char rec_id[RECORDS_ID_LEN];
    if (!attach_records(d, &ro, "script", rec_id)) {
        driver_destroy(d);
        actions_free(&al);
        return 1;
    }
    bmode *bm = NULL;
    if (frames) {
        bmode_def def = bmode_default_def();
        def.n_threads = (int)threads;
        bm = bmode_create(&def);
        if (!bm) {
            fprintf(stderr, "mesosim run: out of memory\n");
            driver_destroy(d);
            actions_free(&al);
            return 1;
        }
    }
    int status = 0, injections = 0;
    for (int i = 0; i < al.count && status == 0; i++) {
        const action *a = &al.items[i];
        /* An injection that finishes before this action: show its end. */
        const driver_snapshot *snap = driver_acquire(d);
        bool ends = snap->injecting && snap->inject_end_s <= a->t_s;
        double end = snap->inject_end_s;
        driver_release(d, snap);
        if (bm && ends) {
            driver_step(d, end);
            snap = driver_acquire(d);
            if (write_frame(snap, bm, frames, injections, "end") != 0)
                status = 1;
            driver_release(d, snap);
        }
        if (status != 0)
            break;
        if (a->verb == ACT_END) {
            driver_finish(d, a->t_s, true);
        } else {
            driver_push(d, a);
            driver_step(d, a->t_s);
        }
        if (refused(d, act_path))
            status = 1;
        else if (bm && frames_after_step(d, bm, frames, &injections) != 0)
            status = 1;
    }
    if (status == 0 && !driver_finished(d)) {
        const driver_snapshot *snap = driver_acquire(d);
        bool was = snap->injecting;
        double t_end = snap->injecting ? snap->inject_end_s : snap->t_s;
        driver_release(d, snap);
        driver_finish(d, t_end, true);
        if (bm && was) {
            snap = driver_acquire(d);
            if (write_frame(snap, bm, frames, injections, "end") != 0)
                status = 1;
            driver_release(d, snap);
        }
    }
    if (status == 0) {
        char *text = driver_report_json(d);
        if (!text || write_report(report, text, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim run: %s\n", text ? err : "out of memory");
            status = 1;
        } else {
            const driver_snapshot *snap = driver_acquire(d);
            printf("{\"report\":");
            cli_print_json_string(stdout, report);
            print_session(rec_id);
            printf(",\"injections\":%d,\"total\":%.2f,\"pass\":%s}\n", snap->metrics.n_inj,
                   snap->score.total, snap->score.pass ? "true" : "false");
            driver_release(d, snap);
        }
        free(text);
    }
    bmode_destroy(bm);
    driver_destroy(d);
    actions_free(&al);
    return status;
}
