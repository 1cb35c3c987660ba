/* outside_view: skin block, probe, imaging plane, needle and deposits in 3-D. */
#include "outside_view.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cglm/cglm.h>
#include <epoxy/gl.h>

#include "gl_util.h"

/* Mesh density: llvmpipe bins every triangle on the calling thread, so the block is kept to
 * about two thousand triangles. 24 quads over a 40 mm patch still round a 5 mm wheal. */
#define GRID 24        /* skin surface quads per side */
#define EDGE 16        /* segments along each cut side (the layers vary slowly) */
#define MIN_BAND_MM 0.05 /* thinner layers (stratum corneum, epidermis) are invisible here */
#define DEG (3.14159265358979 / 180.0)

typedef struct vtx {
    float p[3], n[3];
    uint8_t c[4];
} vtx;

struct outside_view {
    GLuint prog, vao, vbo, block_vbo;
    GLint u_mvp, u_light, u_alpha;
    vtx *v;
    int n, cap;
    /* The skin block changes only when a wheal grows or the probe presses: its mesh stays
     * in block_vbo until the phantom definition or the pressure differ (a hash of both). */
    uint64_t block_key;
    int n_block;
};

typedef struct rgba {
    uint8_t r, g, b, a;
} rgba;

/* Tissue colours of the cut faces: anatomy-atlas conventions (pink dermis, yellow fat, white
 * fascia, red muscle) so the layers read at a glance. */
static rgba tissue_rgba(tissue_id t)
{
    switch (t) {
    case TISSUE_STRATUM_CORNEUM: return (rgba){236, 222, 200, 255};
    case TISSUE_EPIDERMIS: return (rgba){240, 205, 180, 255};
    case TISSUE_DERMIS: return (rgba){228, 150, 145, 255};
    case TISSUE_FAT: return (rgba){246, 220, 120, 255};
    case TISSUE_SUPERFICIAL_FASCIA: return (rgba){245, 245, 235, 255};
    case TISSUE_DEEP_FAT: return (rgba){236, 205, 100, 255};
    case TISSUE_DEEP_FASCIA: return (rgba){250, 250, 245, 255};
    case TISSUE_MUSCLE: return (rgba){170, 55, 55, 255};
    case TISSUE_FLUID: return (rgba){70, 140, 235, 200};
    case TISSUE_GAS: return (rgba){240, 240, 255, 220};
    case TISSUE_HAEMATOMA: return (rgba){110, 20, 30, 230};
    case TISSUE_STEEL: return (rgba){200, 205, 215, 255};
    default: return (rgba){200, 200, 200, 255};
    }
}

outside_camera outside_default_camera(void)
{
    return (outside_camera){.yaw_deg = -35.0f, .pitch_deg = 35.0f, .dist_mm = 75.0f};
}

void outside_camera_orbit(outside_camera *c, float dyaw_deg, float dpitch_deg, float zoom_factor)
{
    c->yaw_deg = fmodf(c->yaw_deg + dyaw_deg, 360.0f);
    c->pitch_deg = fminf(fmaxf(c->pitch_deg + dpitch_deg, -20.0f), 89.0f);
    if (zoom_factor > 0)
        c->dist_mm = fminf(fmaxf(c->dist_mm * zoom_factor, 15.0f), 300.0f);
}

outside_view *outside_view_create(char *err, size_t err_len)
{
    outside_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->prog = gl_program("scene.vert", "scene.frag", err, err_len);
    if (!v->prog) {
        free(v);
        return NULL;
    }
    v->u_mvp = glGetUniformLocation(v->prog, "u_mvp");
    v->u_light = glGetUniformLocation(v->prog, "u_light_dir");
    v->u_alpha = glGetUniformLocation(v->prog, "u_alpha");
    glGenVertexArrays(1, &v->vao);
    glGenBuffers(1, &v->vbo);
    glGenBuffers(1, &v->block_vbo);
    glBindVertexArray(v->vao);
    glEnableVertexAttribArray(0);
    glEnableVertexAttribArray(1);
    glEnableVertexAttribArray(2);
    glBindVertexArray(0);
    return v;
}

static void use_buffer(GLuint vbo)
{
    glBindBuffer(GL_ARRAY_BUFFER, vbo);
    glVertexAttribPointer(0, 3, GL_FLOAT, GL_FALSE, sizeof(vtx), (void *)offsetof(vtx, p));
    glVertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, sizeof(vtx), (void *)offsetof(vtx, n));
    glVertexAttribPointer(2, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(vtx), (void *)offsetof(vtx, c));
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

void outside_view_destroy(outside_view *v)
{
    if (!v)
        return;
    glDeleteProgram(v->prog);
    glDeleteBuffers(1, &v->vbo);
    glDeleteBuffers(1, &v->block_vbo);
    glDeleteVertexArrays(1, &v->vao);
    free(v->v);
    free(v);
}

/* Phantom frame point to world (y up). */
static void to_world(const double p[3], float out[3])
{
    out[0] = (float)p[0];
    out[1] = (float)-p[2];
    out[2] = (float)p[1];
}

static void push(outside_view *v, const float p[3], const float n[3], rgba c)
{
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 32768;
        vtx *nv = realloc(v->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return;
        v->v = nv;
        v->cap = cap;
    }
    vtx *o = &v->v[v->n++];
    memcpy(o->p, p, sizeof o->p);
    memcpy(o->n, n, sizeof o->n);
    o->c[0] = c.r, o->c[1] = c.g, o->c[2] = c.b, o->c[3] = c.a;
}

/* Flat-shaded quad a b c d (world points, in order around it). */
static void quad(outside_view *v, const float a[3], const float b[3], const float c[3],
                 const float d[3], rgba col)
{
    vec3 e1, e2, n;
    glm_vec3_sub((float *)b, (float *)a, e1);
    glm_vec3_sub((float *)d, (float *)a, e2);
    glm_vec3_cross(e1, e2, n);
    glm_vec3_normalize(n);
    push(v, a, n, col);
    push(v, b, n, col);
    push(v, c, n, col);
    push(v, a, n, col);
    push(v, c, n, col);
    push(v, d, n, col);
}

static void skin_surface(outside_view *v, const phantom *ph, double half_w, double half_l)
{
    const rgba skin = {232, 190, 165, 255};
    static float h[GRID + 1][GRID + 1];
    for (int j = 0; j <= GRID; j++)
        for (int i = 0; i <= GRID; i++)
            h[j][i] = (float)-phantom_surface_mm(ph, -half_w + 2 * half_w * i / GRID,
                                                 -half_l + 2 * half_l * j / GRID);
    float dx = (float)(2 * half_w / GRID), dy = (float)(2 * half_l / GRID);
    for (int j = 0; j < GRID; j++)
        for (int i = 0; i < GRID; i++) {
            float x0 = (float)-half_w + dx * i, y0 = (float)-half_l + dy * j;
            float a[3] = {x0, h[j][i], y0}, b[3] = {x0 + dx, h[j][i + 1], y0};
            float c[3] = {x0 + dx, h[j + 1][i + 1], y0 + dy}, d[3] = {x0, h[j + 1][i], y0 + dy};
            /* Normals from the height differences, so wheals shade smoothly. */
            float n[3] = {-(h[j][i + 1] - h[j][i]) / dx, 1.0f, -(h[j + 1][i] - h[j][i]) / dy};
            glm_vec3_normalize(n);
            push(v, a, n, skin);
            push(v, d, n, skin);
            push(v, c, n, skin);
            push(v, a, n, skin);
            push(v, c, n, skin);
            push(v, b, n, skin);
        }
}

/* One cut side of the block from (xa, ya) to (xb, yb): a band per layer down to bottom. */
static void cut_side(outside_view *v, const phantom *ph, double xa, double ya, double xb,
                     double yb, double bottom_mm, double pressure_n)
{
    const phantom_def *def = phantom_get_def(ph);
    double prev[PHANTOM_MAX_LAYERS + 1], cur[PHANTOM_MAX_LAYERS + 1];
    int nl = 0;
    for (int k = 0; k <= EDGE; k++) {
        double t = (double)k / EDGE, x = xa + (xb - xa) * t, y = ya + (yb - ya) * t;
        nl = phantom_interfaces(ph, x, y, pressure_n, cur);
        cur[nl] = bottom_mm;
        if (k > 0) {
            double xp = xa + (xb - xa) * (k - 1) / EDGE, yp = ya + (yb - ya) * (k - 1) / EDGE;
            for (int i = 0; i < nl; i++) {
                double top0 = prev[i], bot0 = fmax(prev[i + 1], top0);
                double top1 = cur[i], bot1 = fmax(cur[i + 1], top1);
                if ((top0 >= bottom_mm && top1 >= bottom_mm) ||
                    (bot0 - top0 < MIN_BAND_MM && bot1 - top1 < MIN_BAND_MM))
                    continue;
                double pa[3] = {xp, yp, top0}, pb[3] = {x, y, top1};
                double pc[3] = {x, y, fmin(bot1, bottom_mm)}, pd[3] = {xp, yp, fmin(bot0, bottom_mm)};
                float a[3], b[3], c[3], d[3];
                to_world(pa, a), to_world(pb, b), to_world(pc, c), to_world(pd, d);
                quad(v, a, b, c, d, tissue_rgba(def->layers[i].tissue));
            }
        }
        memcpy(prev, cur, sizeof cur);
    }
}

/* Box spanned by the probe frame: lateral a0..a1, elevation b0..b1, beam c0..c1 (mm). */
static void frame_box(outside_view *v, const probe_frame *f, double a0, double a1, double b0,
                      double b1, double c0, double c1, rgba col)
{
    float P[8][3];
    for (int k = 0; k < 8; k++) {
        double a = k & 1 ? a1 : a0, b = k & 2 ? b1 : b0, c = k & 4 ? c1 : c0, p[3];
        for (int i = 0; i < 3; i++)
            p[i] = f->origin[i] + a * f->u[i] + b * f->v[i] + c * f->w[i];
        to_world(p, P[k]);
    }
    static const int faces[6][4] = {{0, 1, 3, 2}, {4, 6, 7, 5}, {0, 4, 5, 1},
                                    {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 5, 7, 3}};
    for (int i = 0; i < 6; i++)
        quad(v, P[faces[i][0]], P[faces[i][1]], P[faces[i][2]], P[faces[i][3]], col);
}

/* A prism of radius r along a..b (world), sides sides. */
static void prism(outside_view *v, const float a[3], const float b[3], float r, int sides, rgba col)
{
    vec3 axis, e1, e2, up = {0, 1, 0};
    glm_vec3_sub((float *)b, (float *)a, axis);
    glm_vec3_normalize(axis);
    if (fabsf(glm_vec3_dot(axis, up)) > 0.9f)
        up[0] = 1, up[1] = 0;
    glm_vec3_cross(axis, up, e1);
    glm_vec3_normalize(e1);
    glm_vec3_cross(axis, e1, e2);
    for (int k = 0; k < sides; k++) {
        float t0 = 2.0f * 3.14159265f * k / sides, t1 = 2.0f * 3.14159265f * (k + 1) / sides;
        float p[4][3];
        for (int i = 0; i < 3; i++) {
            float o0 = r * (cosf(t0) * e1[i] + sinf(t0) * e2[i]);
            float o1 = r * (cosf(t1) * e1[i] + sinf(t1) * e2[i]);
            p[0][i] = a[i] + o0, p[1][i] = b[i] + o0, p[2][i] = b[i] + o1, p[3][i] = a[i] + o1;
        }
        quad(v, p[0], p[1], p[2], p[3], col);
    }
}

static void ellipsoid(outside_view *v, const phantom_inclusion *inc, rgba col)
{
    enum { LON = 14, LAT = 8 };
    for (int j = 0; j < LAT; j++)
        for (int i = 0; i < LON; i++) {
            float q[4][3];
            for (int k = 0; k < 4; k++) {
                int ii = i + (k == 1 || k == 2), jj = j + (k >= 2);
                double th = 3.14159265358979 * jj / LAT, ph = 2 * 3.14159265358979 * ii / LON;
                double p[3] = {inc->c_mm[0] + inc->radii_mm[0] * sin(th) * cos(ph),
                               inc->c_mm[1] + inc->radii_mm[1] * sin(th) * sin(ph),
                               inc->c_mm[2] + inc->radii_mm[2] * cos(th)};
                to_world(p, q[k]);
            }
            quad(v, q[0], q[1], q[2], q[3], col);
        }
}

void outside_view_draw(outside_view *v, const outside_scene *s, const outside_camera *cam,
                       int x, int y, int w, int h, int fb_w, int fb_h)
{
    if (w < 8 || h < 8)
        return;
    const phantom_def *def = phantom_get_def(s->ph);
    double half_w = 0.5 * def->width_mm, half_l = 0.5 * def->length_mm;
    double bottom = 0;
    double ifc[PHANTOM_MAX_LAYERS];
    int nl = phantom_interfaces(s->ph, 0, 0, 0, ifc);
    bottom = fmin(ifc[nl - 1] + 6.0, 30.0);

    uint64_t key = fnv(fnv(1469598103934665603ull, def, sizeof *def), &s->pose.pressure_n, sizeof(double));
    if (key != v->block_key || !v->n_block) {
        v->n = 0;
        skin_surface(v, s->ph, half_w, half_l);
        cut_side(v, s->ph, -half_w, -half_l, half_w, -half_l, bottom, s->pose.pressure_n);
        cut_side(v, s->ph, half_w, -half_l, half_w, half_l, bottom, s->pose.pressure_n);
        cut_side(v, s->ph, half_w, half_l, -half_w, half_l, bottom, s->pose.pressure_n);
        cut_side(v, s->ph, -half_w, half_l, -half_w, -half_l, bottom, s->pose.pressure_n);
        glBindBuffer(GL_ARRAY_BUFFER, v->block_vbo);
        glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)((size_t)v->n * sizeof(vtx)), v->v, GL_STATIC_DRAW);
        v->n_block = v->n;
        v->block_key = key;
    }
    v->n = 0;
    double half_fov = 0.5 * probe_fov_mm(&s->probe);
    frame_box(v, &s->frame, -half_fov - 1.5, half_fov + 1.5, -3.0, 3.0, -14.0, 0.0,
              (rgba){95, 110, 140, 255});
    frame_box(v, &s->frame, -half_fov - 0.5, -half_fov + 0.5, -3.05, -2.95, -14.0, -13.9,
              (rgba){120, 255, 120, 255});
    int n_opaque = v->n;

    /* Needle, hub and deposits: drawn twice, as a ghost through the skin and solid. */
    if (s->needle_shown) {
        double hub[3], hub_end[3];
        for (int i = 0; i < 3; i++) {
            hub[i] = s->tip_mm[i] - s->dir[i] * s->needle_length_mm;
            hub_end[i] = hub[i] - s->dir[i] * 6.0;
        }
        float a[3], b[3], c[3];
        to_world(hub, a), to_world(s->tip_mm, b), to_world(hub_end, c);
        /* Shown thicker than the 0.3 mm shaft so it reads at this scale. */
        prism(v, a, b, (float)fmax(0.5 * s->needle_od_mm, 0.25), 6, tissue_rgba(TISSUE_STEEL));
        prism(v, c, a, 1.3f, 8, (rgba){60, 150, 90, 255});
    }
    for (int i = 0; i < s->n_dyn; i++)
        if (s->dyn[i].kind == PHANTOM_ELLIPSOID)
            ellipsoid(v, &s->dyn[i], tissue_rgba(s->dyn[i].tissue));
    int n_solid_end = v->n;

    /* Imaging plane: faint, so the block and needle show through it. */
    {
        float q[4][3];
        double zs[4] = {0, 0, s->probe.depth_mm, s->probe.depth_mm};
        double xs[4] = {-half_fov, half_fov, half_fov, -half_fov};
        for (int k = 0; k < 4; k++) {
            double p[3];
            probe_image_to_phantom(&s->frame, xs[k], 0, zs[k], p);
            to_world(p, q[k]);
        }
        quad(v, q[0], q[1], q[2], q[3], (rgba){90, 200, 255, 70});
    }

    glEnable(GL_SCISSOR_TEST);
    glScissor(x, fb_h - y - h, w, h);
    glViewport(x, fb_h - y - h, w, h);
    glClearColor(0.13f, 0.15f, 0.18f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);

    mat4 proj, view, mvp;
    glm_perspective(35.0f * (float)DEG, (float)w / (float)h, 2.0f, 800.0f, proj);
    double c0[3] = {s->pose.x_mm, s->pose.y_mm, phantom_surface_mm(s->ph, s->pose.x_mm, s->pose.y_mm)};
    float target[3];
    to_world(c0, target);
    float yaw = cam->yaw_deg * (float)DEG, pitch = cam->pitch_deg * (float)DEG;
    vec3 eye = {target[0] + cam->dist_mm * cosf(pitch) * sinf(yaw),
                target[1] + cam->dist_mm * sinf(pitch),
                target[2] - cam->dist_mm * cosf(pitch) * cosf(yaw)};
    glm_lookat(eye, target, (vec3){0, 1, 0}, view);
    glm_mat4_mul(proj, view, mvp);
    vec3 light = {0.3f, 0.85f, -0.4f};
    glm_vec3_normalize(light);

    glUseProgram(v->prog);
    glUniformMatrix4fv(v->u_mvp, 1, GL_FALSE, (float *)mvp);
    glUniform3fv(v->u_light, 1, light);
    glBindVertexArray(v->vao);
    glEnable(GL_DEPTH_TEST);
    glDepthFunc(GL_LESS);
    glDepthMask(GL_TRUE);
    glDisable(GL_BLEND);
    glUniform1f(v->u_alpha, 1.0f);
    use_buffer(v->block_vbo);
    glDrawArrays(GL_TRIANGLES, 0, v->n_block);
    use_buffer(v->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)((size_t)v->n * sizeof(vtx)), v->v, GL_STREAM_DRAW);
    glDrawArrays(GL_TRIANGLES, 0, n_opaque);
    glEnable(GL_BLEND);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    if (n_solid_end > n_opaque) {
        glDepthMask(GL_FALSE);
        glDepthFunc(GL_ALWAYS);
        glUniform1f(v->u_alpha, 0.45f);
        glDrawArrays(GL_TRIANGLES, n_opaque, n_solid_end - n_opaque);
        glDepthMask(GL_TRUE);
        glDepthFunc(GL_LESS);
        glUniform1f(v->u_alpha, 1.0f);
        glDrawArrays(GL_TRIANGLES, n_opaque, n_solid_end - n_opaque);
    }
    glDepthMask(GL_FALSE);
    glDrawArrays(GL_TRIANGLES, n_solid_end, v->n - n_solid_end);
    glDepthMask(GL_TRUE);

    glBindVertexArray(0);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_SCISSOR_TEST);
    glViewport(0, 0, fb_w, fb_h);
}
