/* trainer_session: the scan screen's session, in one place. Every action goes through
 * trainer_do: applied to the core session and, when it succeeds, appended to the action log
 * as a JSON Lines record and flushed at once, so `mesosim run` replays a crashed or finished
 * session to the same report; an injection also keeps the B-mode frame of that instant for
 * the debrief. tsession_feedback turns what happened (pops, hub stops, verdicts, adverse
 * events) into messages and into the controls_feedback the device sources may render. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trainer_internal.h"

void tsession_clear_snapshots(trainer *t)
{
    for (int i = 0; i < t->run.n_snaps; i++) {
        free(t->run.snaps[i].pixels);
        if (t->gl)
            image_tex_destroy(&t->run.snaps[i].tex);
    }
    memset(t->run.snaps, 0, sizeof t->run.snaps);
    t->run.n_snaps = 0;
}

void tsession_close(trainer *t)
{
    if (t->run.log) {
        fclose(t->run.log);
        t->run.log = NULL;
    }
    session_destroy(t->run.s);
    t->run.s = NULL;
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
    t->run.log = fopen(t->run.log_path, "w");
    if (!t->run.log) {
        fprintf(stderr, "mesosim: cannot write the session log %s: %s (the session is not recorded)\n",
                t->run.log_path, strerror(errno));
        t->run.log_path[0] = '\0';
        return;
    }
    char abs[4096];
    const char *scen = realpath(t->open.path, abs) ? abs : t->open.path;
    snprintf(t->run.report_path, sizeof t->run.report_path, "%.*s.report.json",
             (int)(strlen(t->run.log_path) - 6), t->run.log_path);
    fprintf(t->run.log, "# mesosim %s session log (docs/actions.md), written as it happens.\n"
                    "# scenario: %s\n"
                    "# replay: mesosim run --scenario %s --actions %s --report REPORT.json\n",
            MESOSIM_VERSION, scen, scen, t->run.log_path);
    fflush(t->run.log);
}

bool tsession_begin(trainer *t, char *err, size_t n)
{
    tsession_close(t);
    tsession_clear_snapshots(t);
    t->run.s = session_create(&t->open.sc, err, n);
    if (!t->run.s)
        return false;
    t->run.seen_pops = t->run.seen_events = t->run.seen_hubs = t->run.seen_done = 0;
    memset(&t->run.fb, 0, sizeof t->run.fb);
    t->run.last_force_n = 0.0;
    open_log(t);
    return true;
}

double tsession_advance_to(trainer *t, double t_s)
{
    double now = fmax(t_s, session_time_s(t->run.s));
    session_advance_to(t->run.s, now);
    return now;
}

/* The B-mode image the instant an injection starts, and where the tip truly is: the debrief
 * shows what the trainee saw against the truth. One extra synthesis per injection. */
static void snapshot(trainer *t, trainer_snapshot *s)
{
    phantom_inclusion dyn[PHANTOM_MAX_INCLUSIONS];
    bmode_scene scene;
    session_scene(t->run.s, &scene, dyn);
    bmode_image img;
    char err[256];
    if (bmode_render(t->bm, &scene, &img, err, sizeof err) != 0)
        return;
    size_t n = (size_t)img.rows * (size_t)img.cols;
    s->pixels = malloc(n);
    if (!s->pixels)
        return;
    memcpy(s->pixels, img.pixels, n);
    s->rows = img.rows, s->cols = img.cols;
    s->dz_mm = img.dz_mm, s->dx_mm = img.dx_mm;
    s->x0_mm = img.x0_mm, s->z0_mm = img.z0_mm;
    s->tip_ok = session_tip_image(t->run.s, s->tip_img_mm);
}

bool trainer_do(trainer *t, const action *a, char *err, size_t n)
{
    if (!t->run.s) {
        snprintf(err, n, "no session");
        return false;
    }
    action b = *a;
    if (b.t_s < session_time_s(t->run.s))
        b.t_s = session_time_s(t->run.s);
    if (!session_apply(t->run.s, &b, err, n))
        return false;
    if (t->run.log) {
        char line[ACTIONS_MAX_LINE];
        action_format(&b, line, sizeof line);
        fprintf(t->run.log, "%s\n", line);
        fflush(t->run.log);
    }
    if (b.verb == ACT_INJECT && t->run.n_snaps < SCORE_MAX_INJECTIONS)
        snapshot(t, &t->run.snaps[t->run.n_snaps++]);
    return true;
}

void trainer_end_session(trainer *t, double t_s)
{
    if (!t->run.s)
        return;
    char err[256];
    action a = trainer_make_action(ACT_END, t_s);
    if (!trainer_do(t, &a, err, sizeof err))
        fprintf(stderr, "mesosim: end: %s\n", err);
    session_finish(t->run.s);
    if (t->run.log) {
        fclose(t->run.log);
        t->run.log = NULL;
    }
    if (t->run.report_path[0]) {
        char *text = session_report_json(t->run.s);
        FILE *f = text ? fopen(t->run.report_path, "w") : NULL;
        if (f) {
            fprintf(f, "%s\n", text);
            fclose(f);
        } else {
            fprintf(stderr, "mesosim: cannot write the report %s\n", t->run.report_path);
            t->run.report_path[0] = '\0';
        }
        free(text);
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
    const score_session *m = session_metrics(t->run.s);
    const needle *nd = session_needle(t->run.s);
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
    if (m->pops > t->run.seen_pops) {
        scan_say(t, 0xffffffff, "Pop: the tip broke into the %s.",
                 tissue_name(needle_tissue_at(nd, needle_inserted_mm(nd), NULL, NULL)));
        fb->pop_count = m->pops - t->run.seen_pops;
        /* A pop releases the load the tip held: its strength is the share of the last frame's
         * force that is gone. */
        double last = t->run.last_force_n;
        fb->pop_strength = last > 1e-9 ? fmin(fmax((last - force) / last, 0.0), 1.0) : 0.0;
    }
    if (m->hub_stops > t->run.seen_hubs) {
        scan_say(t, 0xffd080ff, "Hub on the skin: the needle is fully inserted.");
        fb->rumble_low = HUB_RUMBLE_LOW;
        fb->rumble_ms = HUB_RUMBLE_MS;
    }
    for (int i = t->run.seen_done; i < m->n_inj; i++) {
        const score_injection *in = &m->inj[i];
        scan_say(t, in->verdict == VERDICT_INTRADERMAL ? 0x90ff90ff : 0xffa080ff,
                 "Injection %d: %s, tip %.2f mm deep%s", i + 1, score_verdict_name(in->verdict),
                 in->tip_depth_mm, in->tip_in_slice ? "" : ", tip NOT in the image slice");
    }
    for (int i = t->run.seen_events; i < m->n_events; i++) {
        scan_say(t, 0xff8080ff, "Adverse event: %s", m->events[i].kind);
        fb->rumble_high = EVENT_RUMBLE_HIGH;
        fb->rumble_ms = fmax(fb->rumble_ms, EVENT_RUMBLE_MS);
    }
    t->run.seen_pops = m->pops;
    t->run.seen_hubs = m->hub_stops;
    t->run.seen_done = m->n_inj;
    t->run.seen_events = m->n_events;
    t->run.last_force_n = force;
}
