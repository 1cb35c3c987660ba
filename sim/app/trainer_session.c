/* trainer_session: the scan screen's session, in one place. The window is one source and
 * the owner thread of a driver (sim/core/driver.h): every action goes through trainer_do,
 * which pushes it and steps the driver; the action-log recorder (sim/store/action_log.h)
 * writes it, flushed at once, so `mesosim run` replays a crashed or finished session to the
 * same report, and writes the report atomically at the end. An injection also keeps the
 * B-mode frame of that instant for the debrief. tsession_feedback turns the driver's typed
 * events (pops, hub, verdicts, adverse events) into messages and into the controls_feedback
 * the device sources may render; tsession_follow_needle_pose turns a tracked needle (a pen) into
 * an entry, continuous needle motion and a withdrawal. With --igtl-port the window hosts the
 * OpenIGTLink server (tracker_*): it lives as long as the window, each scan session lends it
 * its driver, and its poses are stamped with the session time of the latest frame. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "action_log.h"
#include "records_recorder.h"
#include "trainer_internal.h"

void tsession_clear_snapshots(trainer *t)
{
    for (int i = 0; i < t->run.n_snaps; i++) {
        free(t->run.snaps[i].pixels);
        if (t->gl)
            image_tex_destroy(&t->run.snaps[i].tex);
    }
    free(t->run.snaps);
    t->run.snaps = NULL;
    t->run.n_snaps = t->run.cap_snaps = 0;
}

void tsession_close(trainer *t)
{
#ifdef MESOSIM_IGTL
    tracker_attach(t, NULL); /* before the driver goes */
#endif
    /* A session closed before its end is kept, marked unfinished (its log holds every
     * action; the report says "finished": false). */
    if (t->run.d && !driver_finished(t->run.d))
        driver_finish(t->run.d, tsession_view(t)->t_s, false);
    if (t->run.view)
        driver_release(t->run.d, t->run.view);
    t->run.view = NULL;
    driver_destroy(t->run.d);
    t->run.d = NULL;
    t->run.s = NULL;
    free(t->run.ev);
    t->run.ev = NULL;
    t->run.n_ev = t->run.cap_ev = 0;
    t->scan.have_img = false; /* the image was of this session */
}

static void make_dirs(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

static void open_log(trainer *t)
{
    t->run.log_path[0] = t->run.report_path[0] = '\0';
    char dir[1024];
    if (t->def.log_dir && !t->def.log_dir[0])
        return;
    if (t->def.log_dir) {
        snprintf(dir, sizeof dir, "%s", t->def.log_dir);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && xdg[0] == '/')
            snprintf(dir, sizeof dir, "%s/mesosim/sessions", xdg);
        else
            snprintf(dir, sizeof dir, "%s/.local/share/mesosim/sessions", home && *home ? home : ".");
    }
    make_dirs(dir);
    const char *base = strrchr(t->open.path, '/');
    base = base ? base + 1 : t->open.path;
    char stem[128];
    if (snprintf(stem, sizeof stem, "%s", base) >= (int)sizeof stem)
        stem[sizeof stem - 1] = '\0'; /* a long case name is cut in the log's file name only */
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = '\0';
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* A second session in the same second gets its own file. */
    for (int k = 0; k < 100; k++) {
        int w = k == 0 ? snprintf(t->run.log_path, sizeof t->run.log_path, "%s/%s-%s.jsonl", dir, stem, stamp)
                       : snprintf(t->run.log_path, sizeof t->run.log_path, "%s/%s-%s-%d.jsonl", dir, stem, stamp, k);
        if (w >= (int)sizeof t->run.log_path) {
            fprintf(stderr, "mesosim: the session log path under %s is too long (the session is not recorded)\n", dir);
            t->run.log_path[0] = '\0';
            return;
        }
        if (access(t->run.log_path, F_OK) != 0)
            break;
    }
    char abs[4096];
    const char *scen = realpath(t->open.path, abs) ? abs : t->open.path;
    snprintf(t->run.report_path, sizeof t->run.report_path, "%.*s.report.json",
             (int)(strlen(t->run.log_path) - 6), t->run.log_path);
    char comment[2 * sizeof abs + sizeof t->run.log_path + 256]; /* two scenario paths and the log path, never cut */
    snprintf(comment, sizeof comment,
             "# mesosim %s session log (docs/actions.md), written as it happens.\n"
             "# scenario: %s\n"
             "# replay: mesosim run --scenario %s --actions %s --report REPORT.json\n",
             MESOSIM_VERSION, scen, scen, t->run.log_path);
    recorder rec;
    char err[300];
    if (!alog_create(&(alog_def){.log_path = t->run.log_path, .report_path = t->run.report_path,
                                 .comment = comment, .background = true}, &rec, err, sizeof err) ||
        !driver_add_recorder(t->run.d, &rec, err, sizeof err)) {
        fprintf(stderr, "mesosim: %s (the session is not recorded)\n", err);
        t->run.log_path[0] = t->run.report_path[0] = '\0';
    }
}

/* The trainee's records, written by their own thread (records_recorder.h): the frame never
 * waits on the database. A store that cannot be opened costs the records, not the session. */
static void open_records(trainer *t)
{
    char path[4096], err[600], id[RECORDS_ID_LEN];
    if (t->def.records_db)
        snprintf(path, sizeof path, "%s", t->def.records_db);
    else if (!records_default_path(path, sizeof path)) {
        fprintf(stderr, "mesosim: no folder for the records (set XDG_DATA_HOME or HOME): the session is not "
                        "recorded for %s\n", t->def.trainee);
        return;
    }
    char abs[4096];
    records_recorder_def rd = records_recorder_default_def();
    rd.db = path;
    rd.trainee = t->def.trainee;
    rd.device = "window";
    rd.scenario_path = realpath(t->open.path, abs) ? abs : t->open.path;
    recorder rec;
    if (!records_recorder_create(&rd, &rec, id, err, sizeof err)) {
        fprintf(stderr, "mesosim: %s (the session is not recorded for %s)\n", err, t->def.trainee);
        return;
    }
    if (!driver_add_recorder(t->run.d, &rec, err, sizeof err)) {
        rec.close(rec.user);
        fprintf(stderr, "mesosim: %s (the session is not recorded for %s)\n", err, t->def.trainee);
    }
}

bool tsession_begin(trainer *t, char *err, size_t n)
{
    tsession_close(t);
    tsession_clear_snapshots(t);
    driver_def dd = driver_default_def();
    dd.sc = &t->open.sc;
    dd.simulator_version = MESOSIM_VERSION;
    dd.blind = t->open.blind;
    t->run.d = driver_create(&dd, err, n);
    if (!t->run.d)
        return false;
    /* The screens hide the image by the case's own key: practised blind, it is set from here on.
     * Every session begins on a case loaded afresh (trainer_open_case, the instructor's replay),
     * so the next one starts from the file again. */
    if (t->open.blind)
        t->open.sc.guidance.blind = true;
    t->run.s = driver_session(t->run.d);
    t->run.n_ev = 0;
    memset(&t->run.fb, 0, sizeof t->run.fb);
    t->run.last_force_n = 0.0;
    t->run.pose_needle = false;
    t->run.pose_pushed_mm = 0.0;
    memset(&t->pause, 0, sizeof t->pause);
    open_log(t);
    if (t->def.trainee)
        open_records(t);
    recorder tape = replay_tape_recorder(&t->run.tape);
    if (!driver_add_recorder(t->run.d, &tape, err, n))
        fprintf(stderr, "mesosim: %s (the debrief has no replay)\n", err);
#ifdef MESOSIM_IGTL
    if (t->tracker) {
        __atomic_store_n(&t->tracker->clock_bits, 0, __ATOMIC_RELEASE);
        t->tracker->had_tool = false;
        t->tracker->calib.on = false;
        tracker_attach(t, t->run.d);
    }
#endif
    return true;
}

const driver_snapshot *tsession_view(trainer *t)
{
    if (t->run.view && !t->run.view_stale)
        return t->run.view;
    if (t->run.view)
        driver_release(t->run.d, t->run.view);
    t->run.view = driver_acquire(t->run.d);
    t->run.view_stale = false;
    return t->run.view;
}

/* Keeps the step's events for tsession_feedback; the view is now old. */
static void gather_events(trainer *t)
{
    t->run.view_stale = true;
    int n;
    const session_event *ev = driver_events(t->run.d, &n);
    if (n > 0 && array_grow((void **)&t->run.ev, &t->run.cap_ev, t->run.n_ev + n, sizeof *ev)) {
        memcpy(t->run.ev + t->run.n_ev, ev, (size_t)n * sizeof *ev);
        t->run.n_ev += n;
    }
}

double tsession_advance_to(trainer *t, double t_s)
{
    double now = fmax(t_s, tsession_view(t)->t_s);
    driver_step(t->run.d, now);
    gather_events(t);
#ifdef MESOSIM_IGTL
    if (t->tracker) {
        uint64_t bits;
        memcpy(&bits, &now, sizeof bits);
        __atomic_store_n(&t->tracker->clock_bits, bits, __ATOMIC_RELEASE);
    }
#endif
    return now;
}

/* The B-mode image the instant an injection starts, and where the tip truly is: the debrief
 * shows what the trainee saw against the truth. One extra synthesis per injection. */
static void snapshot(trainer *t, trainer_snapshot *s)
{
    memset(s, 0, sizeof *s);
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    const driver_snapshot *snap = driver_acquire(t->run.d);
    driver_snapshot_scene(snap, &scene, dyn);
    s->tip_ok = snap->tip_in_image;
    memcpy(s->tip_img_mm, snap->tip_img_mm, sizeof s->tip_img_mm);
    /* A blind case: the trainee saw no image, so there is none to keep (the debrief's replay
     * shows the truth). */
    if (t->open.sc.guidance.blind) {
        driver_release(t->run.d, snap);
        return;
    }
    bmode_image img;
    char err[256];
    int rc = bmode_render(t->bm, &scene, &img, err, sizeof err);
    driver_release(t->run.d, snap);
    t->scan.bmode_renders += rc == 0;
    if (rc != 0)
        return;
    size_t n = (size_t)img.rows * (size_t)img.cols;
    s->pixels = malloc(n);
    if (!s->pixels)
        return;
    memcpy(s->pixels, img.pixels, n);
    s->rows = img.rows, s->cols = img.cols;
    s->dz_mm = img.dz_mm, s->dx_mm = img.dx_mm;
    s->x0_mm = img.x0_mm, s->z0_mm = img.z0_mm;
}

bool trainer_do(trainer *t, const action *a, char *err, size_t n)
{
    if (!t->run.d || driver_finished(t->run.d)) {
        snprintf(err, n, "no session");
        return false;
    }
    action b = *a;
    double now = tsession_view(t)->t_s;
    if (b.t_s < now)
        b.t_s = now;
    if (!driver_push(t->run.d, &b)) {
        snprintf(err, n, "too many actions waiting");
        return false;
    }
    driver_step(t->run.d, b.t_s);
    gather_events(t);
    int ne;
    const session_event *ev = driver_events(t->run.d, &ne);
    bool ok = true, injected = false;
    for (int i = 0; i < ne; i++) {
        if (ev[i].kind == SEV_ACTION_REFUSED) {
            snprintf(err, n, "%s", ev[i].message);
            ok = false;
        }
        injected = injected || ev[i].kind == SEV_INJECTION_STARTED;
    }
    if (injected && array_grow((void **)&t->run.snaps, &t->run.cap_snaps, t->run.n_snaps + 1,
                               sizeof *t->run.snaps))
        snapshot(t, &t->run.snaps[t->run.n_snaps++]);
    return ok;
}

void trainer_end_session(trainer *t, double t_s)
{
    if (!t->run.d)
        return;
    driver_finish(t->run.d, fmax(t_s, tsession_view(t)->t_s), true);
    gather_events(t);
    driver_stats st = driver_get_stats(t->run.d);
    if (st.record_failures > 0) {
        fprintf(stderr, "mesosim: %s\n", st.record_error);
        t->run.report_path[0] = '\0';
    }
    debrief_enter(t);
}

/* Rumble cues: strengths and lengths chosen to be felt, not measured. The hub reaching the
 * skin is a hard stop (the strong low motor, short); an adverse event is a warning (the high
 * motor, longer). */
#define HUB_RUMBLE_LOW 0.8
#define HUB_RUMBLE_MS 150.0
#define EVENT_RUMBLE_HIGH 0.6
#define EVENT_RUMBLE_MS 400.0

void tsession_feedback(trainer *t)
{
    const driver_snapshot *v = tsession_view(t);
    const needle *nd = v->needle;
    controls_feedback *fb = &t->run.fb;
    memset(fb, 0, sizeof *fb);
    double force = 0.0;
    if (needle_placed(nd)) {
        /* The tissue pushes back along the shaft: on the hand, against the direction of travel. */
        force = needle_force_n(nd, t->scan.needle_speed_mm_s);
        double dir[3];
        needle_dir(nd, dir);
        for (int i = 0; i < 3; i++)
            fb->force_n[i] = -force * dir[i];
    }
    const score_session *m = &v->metrics;
    for (int i = 0; i < t->run.n_ev; i++) {
        const session_event *e = &t->run.ev[i];
        switch (e->kind) {
        case SEV_LAYER_ENTERED:
            if (e->value > 0) { /* by a pop */
                char tn[64];
                scan_say(t, 0xffffffff, "Pop: the tip broke into the %s.", scan_words_tissue(e->tissue, tn, sizeof tn));
                fb->pop_count++;
                /* A pop releases the load the tip held: its strength is the share of the last
                 * frame's force that is gone. */
                double last = t->run.last_force_n;
                fb->pop_strength = last > 1e-9 ? fmin(fmax((last - force) / last, 0.0), 1.0) : 0.0;
                sound_click(t->snd, fb->pop_strength);
            }
            break;
        case SEV_HUB_ON_SKIN:
            scan_say(t, 0xffd080ff, "Hub on the skin: the needle is fully inserted.");
            fb->rumble_low = HUB_RUMBLE_LOW;
            fb->rumble_ms = HUB_RUMBLE_MS;
            break;
        case SEV_INJECTION_STARTED: {
            const score_injection *in = e->injection >= 0 && e->injection < m->n_inj ? &m->inj[e->injection] : NULL;
            if (in)
                scan_say(t, in->verdict == VERDICT_INTRADERMAL ? 0x90ff90ff : 0xffa080ff,
                         "Injection %d: %s, tip %.2f mm deep%s", e->injection + 1,
                         scan_words_verdict(in->verdict), in->tip_depth_mm,
                         in->tip_in_slice ? "" : ", tip NOT in the image slice");
            break;
        }
        case SEV_ADVERSE:
            scan_say(t, 0xff8080ff, "Warning: %s.", scan_words_adverse(e->adverse));
            fb->rumble_high = EVENT_RUMBLE_HIGH;
            fb->rumble_ms = fmax(fb->rumble_ms, EVENT_RUMBLE_MS);
            break;
        default:
            break;
        }
    }
    t->run.n_ev = 0;
    t->run.last_force_n = force;
}

void tsession_follow_needle_pose(trainer *t, const controls *c, double t_s)
{
    const needle *nd = tsession_view(t)->needle;
    char err[256];
    if (!c->has_needle_pose) {
        /* The pen lifted: the hand let go of the needle. */
        if (t->run.pose_needle && needle_placed(nd)) {
            action a = trainer_make_action(ACT_WITHDRAW, t_s);
            if (!trainer_do(t, &a, err, sizeof err))
                scan_say(t, 0xffb0a0ff, "withdraw: %s", err);
        }
        t->run.pose_needle = false;
        return;
    }
    const controls_needle_pose *np = &c->needle_pose;
    if (!t->run.pose_needle) {
        /* A needle another device put in stays that device's. */
        if (needle_placed(nd))
            return;
        action a = trainer_make_action(ACT_NEEDLE_ENTRY, t_s);
        trainer_set_key(&a, AK_X, np->entry_x_mm);
        trainer_set_key(&a, AK_Y, np->entry_y_mm);
        trainer_set_key(&a, AK_ANGLE, np->angle_deg);
        trainer_set_key(&a, AK_AZIMUTH, np->azimuth_deg);
        if (!trainer_do(t, &a, err, sizeof err)) {
            scan_say(t, 0xffb0a0ff, "needle_entry: %s", err);
            return;
        }
        t->run.pose_needle = true;
        t->run.pose_pushed_mm = 0.0;
    }
    /* The driver decimates and quantises the motion; what it applies is what it logs. */
    double mm = np->inserted_mm - t->run.pose_pushed_mm;
    if (mm != 0.0) {
        driver_push_needle_motion(t->run.d, t_s, mm);
        t->run.pose_pushed_mm = np->inserted_mm;
    }
}

bool trainer_tracker_settings(trainer *t, char *err, size_t n)
{
    const devices_settings *ds = devices_get_settings(t->dev);
#ifdef MESOSIM_IGTL
    /* The window's --igtl-* options first, then devices.conf. */
    if (t->def.igtl_port < 0)
        t->def.igtl_port = ds->igtl_port;
    if (t->def.igtl_port < 0 && (t->def.igtl_bind || t->def.igtl_calibration_path)) {
        snprintf(err, n, "--igtl-bind and --igtl-calibration need --igtl-port (or igtl.port in %s)",
                 devices_settings_path(t->dev));
        return false;
    }
    if (!t->def.igtl_bind)
        t->def.igtl_bind = ds->igtl_bind;
    if (!t->def.igtl_calibration_path && ds->igtl_calibration[0])
        t->def.igtl_calibration_path = ds->igtl_calibration;
    return true;
#else
    if (t->def.igtl_port >= 0) {
        snprintf(err, n, "%s", TRAINER_NO_IGTL);
        return false;
    }
    /* The settings file may be shared with a build that has it: not fatal here. */
    if (ds->igtl_port >= 0)
        fprintf(stderr, "mesosim: igtl.port in devices.conf: this build has no OpenIGTLink, so no tracker "
                        "server (tracked tools need a build with libopenigtlink-dev)\n");
    return true;
#endif
}

#ifdef MESOSIM_IGTL
/* The server's clock (its network thread): the session time of the latest frame. A pose
 * stamped a little before the driver's clock is applied at the next step. */
static double tracker_clock(void *ctx)
{
    const tracker_state *tr = ctx;
    uint64_t bits = __atomic_load_n(&tr->clock_bits, __ATOMIC_ACQUIRE);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

bool tracker_start(trainer *t, char *err, size_t n)
{
    tracker_state *tr = calloc(1, sizeof *tr);
    if (!tr) {
        snprintf(err, n, "out of memory");
        return false;
    }
    igtl_server_def sd = igtl_server_default_def();
    sd.port = t->def.igtl_port;
    if (t->def.igtl_bind)
        sd.bind_addr = t->def.igtl_bind;
    sd.clock_s = tracker_clock;
    sd.clock_ctx = tr;
    if (t->def.igtl_calibration_path)
        snprintf(tr->calib_path, sizeof tr->calib_path, "%s", t->def.igtl_calibration_path);
    else if (!igtl_calibration_default_path(tr->calib_path, sizeof tr->calib_path))
        snprintf(tr->calib_path, sizeof tr->calib_path, "igtl_calibration.json");
    char cerr[600];
    if (access(tr->calib_path, R_OK) == 0 && !igtl_calibration_load(tr->calib_path, &sd.calib, cerr, sizeof cerr)) {
        snprintf(err, n, "calibration: %s (fix it, delete it, or calibrate again with F9)", cerr);
        free(tr);
        return false;
    }
    tr->srv = igtl_server_create(&sd, err, n);
    if (!tr->srv) {
        free(tr);
        return false;
    }
    fprintf(stderr, "mesosim: OpenIGTLink on %s:%d\n", t->def.igtl_bind ? t->def.igtl_bind : "127.0.0.1",
            igtl_server_port(tr->srv));
    t->tracker = tr;
    return true;
}

void tracker_stop(trainer *t)
{
    if (!t->tracker)
        return;
    igtl_server_destroy(t->tracker->srv);
    free(t->tracker);
    t->tracker = NULL;
}

void tracker_attach(trainer *t, driver *d)
{
    if (t->tracker)
        igtl_server_set_driver(t->tracker->srv, d);
}

void tracker_news(trainer *t, bool *lost, bool *back)
{
    *lost = *back = false;
    tracker_state *tr = t->tracker;
    if (!tr)
        return;
    igtl_server_stats st = igtl_server_get_stats(tr->srv);
    bool scanning = t->screen == SCREEN_SCAN && t->run.s;
    /* A tracker that sent poses during this scan and is gone, with none left, drove it. */
    if (scanning && tr->had_tool && st.tool_clients_lost > tr->seen_lost && st.tool_clients_now == 0) {
        *lost = true;
        tr->had_tool = false;
    }
    if (scanning && st.tool_clients_now > 0 && !tr->had_tool) {
        *back = true;
        tr->had_tool = true;
    }
    tr->seen_lost = st.tool_clients_lost;
}

void tracker_status(trainer *t, char *buf, size_t n)
{
    igtl_server_stats st = igtl_server_get_stats(t->tracker->srv);
    int port = igtl_server_port(t->tracker->srv);
    if (st.tool_clients_now > 0)
        snprintf(buf, n, "tracker: connected (OpenIGTLink :%d)", port);
    else if (st.tool_clients_lost > 0)
        snprintf(buf, n, "tracker: disconnected (waiting on :%d)", port);
    else
        snprintf(buf, n, "tracker: waiting on OpenIGTLink :%d", port);
}
#endif
