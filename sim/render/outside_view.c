/* outside_view: skin block, probe, imaging slab, needle, deposits and plan marks in 3-D. */
#include "outside_view.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cglm/cglm.h>
#include <epoxy/gl.h>

#include "gl_util.h"
#include "shaders.h"

/* Mesh density: llvmpipe bins every triangle on the calling thread, so the block is kept to
 * about two thousand triangles. 24 quads over a 40 mm patch still round a 5 mm wheal. */
#define GRID 24        /* skin surface quads per side */
#define EDGE 16        /* segments along each cut side (the layers vary slowly) */
#define MIN_BAND_MM 0.05 /* thinner layers (stratum corneum, epidermis) are invisible here */
#define DEG (3.14159265358979 / 180.0)
#define SLAB_STEPS 12  /* depth segments of the imaging slab (its thickness varies smoothly) */
#define SKIN_ALPHA 0.5f /* the skin surface: translucent so the needle under it shows */

/* assets/probe_mesh.txt */
typedef struct probe_mesh {
    double rim_lat_mm, rim_elev_mm, head_h_mm, handle_r_mm, handle_len_mm, ridge_w_mm, ridge_out_mm;
    int handle_sides;
} probe_mesh;

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
    float mvp[16];          /* the last draw's, with its viewport (x, y from the top, w, h) */
    int vp[4];
    bool drawn;
    uint64_t block_key;
    int n_block, n_surface; /* the surface first (drawn translucent last), then the sides */
    probe_mesh mesh;
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
    return (outside_camera){.yaw_deg = -35.0f, .pitch_deg = 40.0f, .dist_mm = 60.0f};
}

void outside_camera_orbit(outside_camera *c, float dyaw_deg, float dpitch_deg, float zoom_factor)
{
    c->yaw_deg = fmodf(c->yaw_deg + dyaw_deg, 360.0f);
    c->pitch_deg = fminf(fmaxf(c->pitch_deg + dpitch_deg, -20.0f), 89.0f);
    if (zoom_factor > 0)
        c->dist_mm = fminf(fmaxf(c->dist_mm * zoom_factor, 15.0f), 300.0f);
}

/* "name = value" lines, '#' comments; every key once, none unknown. */
static bool parse_mesh(const char *text, probe_mesh *m, char *err, size_t err_len)
{
    static const char *const k_keys[] = {"head_rim_lateral_mm", "head_rim_elevation_mm", "head_height_mm",
                                         "handle_radius_mm", "handle_length_mm", "handle_sides",
                                         "ridge_width_mm", "ridge_out_mm"};
    enum { NK = sizeof k_keys / sizeof k_keys[0] };
    double val[NK];
    bool seen[NK] = {false};
    int line = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char buf[160], key[64];
        line++;
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), p);
        p += n + (e ? 1 : 0);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        double x;
        char extra;
        if (strspn(buf, " \t\r") == strlen(buf))
            continue;
        if (sscanf(buf, " %63[a-z_] = %lf %c", key, &x, &extra) != 2 || !(x > 0.0) || x > 200.0) {
            snprintf(err, err_len, "assets/probe_mesh.txt:%d: want NAME = a number 0..200 mm", line);
            return false;
        }
        int k = 0;
        while (k < NK && strcmp(k_keys[k], key))
            k++;
        if (k == NK) {
            snprintf(err, err_len, "assets/probe_mesh.txt:%d: unknown name %s", line, key);
            return false;
        }
        val[k] = x;
        seen[k] = true;
    }
    for (int k = 0; k < NK; k++)
        if (!seen[k]) {
            snprintf(err, err_len, "assets/probe_mesh.txt: %s is missing", k_keys[k]);
            return false;
        }
    *m = (probe_mesh){.rim_lat_mm = val[0], .rim_elev_mm = val[1], .head_h_mm = val[2], .handle_r_mm = val[3],
                      .handle_len_mm = val[4], .handle_sides = (int)fmin(fmax(val[5], 3), 32),
                      .ridge_w_mm = val[6], .ridge_out_mm = val[7]};
    return true;
}

outside_view *outside_view_create(char *err, size_t err_len)
{
    const char *mesh = shader_find("probe_mesh.txt");
    probe_mesh pm;
    if (!mesh) {
        snprintf(err, err_len, "assets/probe_mesh.txt is not among the embedded assets");
        return NULL;
    }
    if (!parse_mesh(mesh, &pm, err, err_len))
        return NULL;
    outside_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->mesh = pm;
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

/* The top of the first fat layer, seen through the translucent skin: the floor of the dermis
 * the needle is meant to stay above. A coarser grid than the skin (it lies deeper and flatter). */
static void fat_floor(outside_view *v, const phantom *ph, double half_w, double half_l, double pressure_n)
{
    enum { G = GRID / 2 };
    const phantom_def *def = phantom_get_def(ph);
    int layer = -1;
    for (int i = 0; i < def->n_layers && layer < 0; i++)
        if (def->layers[i].tissue == TISSUE_FAT)
            layer = i;
    if (layer < 0)
        return;
    static float h[G + 1][G + 1];
    double ifc[PHANTOM_MAX_LAYERS + 1];
    for (int j = 0; j <= G; j++)
        for (int i = 0; i <= G; i++) {
            phantom_interfaces(ph, -half_w + 2 * half_w * i / G, -half_l + 2 * half_l * j / G, pressure_n, ifc);
            h[j][i] = (float)-ifc[layer];
        }
    float dx = (float)(2 * half_w / G), dy = (float)(2 * half_l / G);
    for (int j = 0; j < G; j++)
        for (int i = 0; i < G; i++) {
            float x0 = (float)-half_w + dx * i, y0 = (float)-half_l + dy * j;
            float a[3] = {x0, h[j][i], y0}, b[3] = {x0 + dx, h[j][i + 1], y0};
            float c[3] = {x0 + dx, h[j + 1][i + 1], y0 + dy}, d[3] = {x0, h[j + 1][i], y0 + dy};
            quad(v, a, d, c, b, tissue_rgba(TISSUE_FAT));
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

/* The linear probe: a head whose face is the aperture (probe_fov_mm) by the element height plus
 * a rim, a round handle above it, and the ridge on the marked end (-u, the image's left: the
 * orientation dot's side). */
static void probe_ridge(outside_view *v, const outside_scene *s)
{
    const probe_mesh *m = &v->mesh;
    double hl = 0.5 * probe_fov_mm(&s->probe) + m->rim_lat_mm, he = 0.5 * s->probe.elev_height_mm + m->rim_elev_mm;
    unsigned rid = OUTSIDE_RIDGE_RGB;
    frame_box(v, &s->frame, -hl - m->ridge_out_mm, -hl + m->ridge_w_mm, -he * 0.8, he * 0.8, -m->head_h_mm + 0.5,
              -1.0, (rgba){(uint8_t)(rid >> 16), (uint8_t)(rid >> 8), (uint8_t)rid, 255});
}

/* The body is drawn translucent: the needle goes in under the probe's face, where an opaque
 * probe would hide the tip, the thing the view is for. */
static void probe_body(outside_view *v, const outside_scene *s)
{
    const probe_mesh *m = &v->mesh;
    double hl = 0.5 * probe_fov_mm(&s->probe) + m->rim_lat_mm, he = 0.5 * s->probe.elev_height_mm + m->rim_elev_mm;
    const rgba body = {70, 80, 96, 100};
    frame_box(v, &s->frame, -hl, hl, -he, he, -m->head_h_mm, 0.0, body);
    double a[3] = {0, 0, -m->head_h_mm}, b[3] = {0, 0, -m->head_h_mm - m->handle_len_mm}, pa[3], pb[3];
    probe_image_to_phantom(&s->frame, a[0], a[1], a[2], pa);
    probe_image_to_phantom(&s->frame, b[0], b[1], b[2], pb);
    float wa[3], wb[3];
    to_world(pa, wa), to_world(pb, wb);
    prism(v, wa, wb, (float)m->handle_r_mm, m->handle_sides, (rgba){90, 100, 118, 100});
}

/* The imaging slab: the plane, thickened at each depth to the elevation beam's FWHM. */
static void slab_mesh(outside_view *v, const outside_scene *s)
{
    double hf = 0.5 * probe_fov_mm(&s->probe), depth = s->probe.depth_mm;
    const rgba face = {90, 200, 255, 60};
    for (int k = 0; k < SLAB_STEPS; k++) {
        double z0 = depth * k / SLAB_STEPS, z1 = depth * (k + 1) / SLAB_STEPS;
        double e0 = 0.5 * probe_elevation_fwhm_mm(&s->probe, z0), e1 = 0.5 * probe_elevation_fwhm_mm(&s->probe, z1);
        for (int side = -1; side <= 1; side += 2) {
            double pts[4][3] = {{-hf, side * e0, z0}, {hf, side * e0, z0}, {hf, side * e1, z1}, {-hf, side * e1, z1}};
            float q[4][3];
            for (int i = 0; i < 4; i++) {
                double p[3];
                probe_image_to_phantom(&s->frame, pts[i][0], pts[i][1], pts[i][2], p);
                to_world(p, q[i]);
            }
            quad(v, q[0], q[1], q[2], q[3], face);
        }
    }
}

void outside_scene_set_head(outside_scene *s, int count, double spacing_mm, double azimuth_deg)
{
    double az = azimuth_deg * 3.14159265358979323846 / 180.0;
    s->head_count = count;
    s->head_step_mm[0] = -sin(az) * spacing_mm;
    s->head_step_mm[1] = cos(az) * spacing_mm;
    s->head_step_mm[2] = 0.0;
}

bool outside_tip_in_slab(const outside_scene *s)
{
    if (!s->needle_shown)
        return false;
    double img[3];
    probe_phantom_to_image(&s->frame, s->tip_mm, img);
    return img[2] >= 0.0 && img[2] <= s->probe.depth_mm && fabs(img[0]) <= 0.5 * probe_fov_mm(&s->probe) &&
           fabs(img[1]) <= 0.5 * probe_elevation_fwhm_mm(&s->probe, img[2]);
}

/* A planned point: a flat cross-shaped mark just above the skin. */
static void plan_mark(outside_view *v, const phantom *ph, double x, double y)
{
    const rgba c = {(uint8_t)(OUTSIDE_PLAN_RGB >> 16), (uint8_t)(OUTSIDE_PLAN_RGB >> 8), (uint8_t)OUTSIDE_PLAN_RGB, 255};
    double z = phantom_surface_mm(ph, x, y) - 0.15, arm = 1.2, w = 0.3;
    for (int k = 0; k < 2; k++) {
        double ax = k ? w : arm, ay = k ? arm : w;
        double p[4][3] = {{x - ax, y - ay, z}, {x + ax, y - ay, z}, {x + ax, y + ay, z}, {x - ax, y + ay, z}};
        float q[4][3];
        for (int i = 0; i < 4; i++)
            to_world(p[i], q[i]);
        quad(v, q[0], q[1], q[2], q[3], c);
    }
}

bool outside_view_project(const outside_view *v, const double p_mm[3], float *px, float *py)
{
    if (!v->drawn)
        return false;
    float w[3];
    to_world(p_mm, w);
    vec4 in = {w[0], w[1], w[2], 1.0f}, out;
    mat4 m;
    memcpy(m, v->mvp, sizeof m);
    glm_mat4_mulv(m, in, out);
    if (out[3] <= 1e-6f)
        return false;
    *px = (float)v->vp[0] + (0.5f + 0.5f * out[0] / out[3]) * (float)v->vp[2];
    *py = (float)v->vp[1] + (0.5f - 0.5f * out[1] / out[3]) * (float)v->vp[3];
    return true;
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
        v->n_surface = v->n;
        fat_floor(v, s->ph, half_w, half_l, s->pose.pressure_n);
        cut_side(v, s->ph, -half_w, -half_l, half_w, -half_l, bottom, s->pose.pressure_n);
        cut_side(v, s->ph, half_w, -half_l, half_w, half_l, bottom, s->pose.pressure_n);
        cut_side(v, s->ph, half_w, half_l, -half_w, half_l, bottom, s->pose.pressure_n);
        cut_side(v, s->ph, -half_w, half_l, -half_w, -half_l, bottom, s->pose.pressure_n);
        glBindBuffer(GL_ARRAY_BUFFER, v->block_vbo);
        glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)((size_t)v->n * sizeof(vtx)), v->v, GL_STATIC_DRAW);
        v->n_block = v->n;
        v->block_key = key;
    }
    /* Opaque: the probe, the needle with its tip marker, the deposits, the plan marks. */
    v->n = 0;
    probe_ridge(v, s);
    if (s->needle_shown) {
        double hub[3], hub_end[3], tip_back[3];
        for (int i = 0; i < 3; i++) {
            hub[i] = s->tip_mm[i] - s->dir[i] * s->needle_length_mm;
            hub_end[i] = hub[i] - s->dir[i] * 6.0;
            tip_back[i] = s->tip_mm[i] - s->dir[i] * 0.8;
        }
        float a[3], b[3], c[3], d[3];
        to_world(hub, a), to_world(s->tip_mm, b), to_world(hub_end, c), to_world(tip_back, d);
        /* Shown thicker than the 0.3 mm shaft so it reads at this scale. */
        prism(v, a, b, (float)fmax(0.5 * s->needle_od_mm, 0.25), 6, tissue_rgba(TISSUE_STEEL));
        prism(v, c, a, 1.3f, 8, (rgba){60, 150, 90, 255});
        unsigned tc = outside_tip_in_slab(s) ? OUTSIDE_TIP_IN_RGB : OUTSIDE_TIP_OUT_RGB;
        prism(v, d, b, 0.7f, 8, (rgba){(uint8_t)(tc >> 16), (uint8_t)(tc >> 8), (uint8_t)tc, 255});
        if (s->head_count > 1) {
            /* The head's other needles, parallel, and the bar that holds their hubs. */
            double half = 0.5 * (s->head_count - 1);
            for (int k = 0; k < s->head_count; k++) {
                double off = k - half, tk[3], hk[3];
                if (off == 0.0)
                    continue;
                for (int i = 0; i < 3; i++) {
                    tk[i] = s->tip_mm[i] + off * s->head_step_mm[i];
                    hk[i] = hub[i] + off * s->head_step_mm[i];
                }
                float e[3], g[3];
                to_world(hk, e), to_world(tk, g);
                prism(v, e, g, (float)fmax(0.5 * s->needle_od_mm, 0.25), 6, tissue_rgba(TISSUE_STEEL));
            }
            double h0[3], h1[3];
            for (int i = 0; i < 3; i++) {
                h0[i] = hub[i] - half * s->head_step_mm[i];
                h1[i] = hub[i] + half * s->head_step_mm[i];
            }
            float e[3], g[3];
            to_world(h0, e), to_world(h1, g);
            prism(v, e, g, 1.3f, 8, (rgba){60, 150, 90, 255});
        }
    }
    for (int i = 0; i < s->n_dyn; i++)
        if (s->dyn[i].kind == PHANTOM_ELLIPSOID)
            ellipsoid(v, &s->dyn[i], tissue_rgba(s->dyn[i].tissue));
    for (int i = 0; i < s->n_plan && s->plan_mm; i++)
        plan_mark(v, s->ph, s->plan_mm[i][0], s->plan_mm[i][1]);
    int n_opaque = v->n;
    probe_body(v, s);
    slab_mesh(v, s);

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
                target[2] + cam->dist_mm * cosf(pitch) * cosf(yaw)};
    glm_lookat(eye, target, (vec3){0, 1, 0}, view);
    glm_mat4_mul(proj, view, mvp);
    vec3 light = {0.3f, 0.85f, -0.4f};
    glm_vec3_normalize(light);

    memcpy(v->mvp, mvp, sizeof v->mvp);
    v->vp[0] = x, v->vp[1] = y, v->vp[2] = w, v->vp[3] = h;
    v->drawn = true;
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
    glDrawArrays(GL_TRIANGLES, v->n_surface, v->n_block - v->n_surface);
    use_buffer(v->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)((size_t)v->n * sizeof(vtx)), v->v, GL_STREAM_DRAW);
    glDrawArrays(GL_TRIANGLES, 0, n_opaque);
    /* Translucent last, without writing depth: the skin over what is under it, then the slab. */
    glEnable(GL_BLEND);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    glDepthMask(GL_FALSE);
    glUniform1f(v->u_alpha, SKIN_ALPHA);
    use_buffer(v->block_vbo);
    glDrawArrays(GL_TRIANGLES, 0, v->n_surface);
    glUniform1f(v->u_alpha, 1.0f);
    use_buffer(v->vbo);
    glDrawArrays(GL_TRIANGLES, n_opaque, v->n - n_opaque); /* the probe's body, then the slab */
    glDepthMask(GL_TRUE);
    glDisable(GL_BLEND);

    glBindVertexArray(0);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_SCISSOR_TEST);
    glViewport(0, 0, fb_w, fb_h);
}
