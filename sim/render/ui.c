/* ui: batched 2-D overlays and stb_truetype text in framebuffer pixels. */
#include "ui.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <epoxy/gl.h>
#include <stb_truetype.h>

#include "gl_util.h"

#define UI_PI 3.14159265f
#define ATLAS_W 1024
#define ATLAS_H 1024 /* glyph area; two more rows hold the white texel */

/* Latin-1 plus the few symbols the screens use (dashes, bullet, arrows, ticks, degree and
 * micro signs are in Latin-1). */
static const int k_extra[] = {0x2013, 0x2014, 0x2022, 0x2190, 0x2191, 0x2192, 0x2193,
                              0x2195, 0x2713, 0x2717, 0x25CF, 0x25B2, 0x25BC};
#define N_EXTRA ((int)(sizeof k_extra / sizeof k_extra[0]))
#define N_LATIN 224 /* 32..255 */
#define N_GLYPHS (N_LATIN + N_EXTRA)

static const float k_size_px[UI_FONT_COUNT] = {12.0f, 15.0f, 24.0f};

typedef struct ui_vertex {
    float x, y, u, v;
    uint8_t rgba[4];
} ui_vertex;

struct ui {
    GLuint prog, vao, vbo, atlas;
    GLint u_viewport, u_atlas;
    ui_vertex *v;
    int n, cap;
    unsigned char *ttf;
    stbtt_fontinfo info;
    stbtt_packedchar glyphs[UI_FONT_COUNT][N_GLYPHS];
    float ascent_px[UI_FONT_COUNT], line_px[UI_FONT_COUNT];
    float white_u, white_v;
    float scale;
    int fb_w, fb_h;
};

const char *ui_default_font_path(void)
{
    const char *env = getenv("MESOSIM_FONT");
    if (env && *env)
        return env;
    static const char *const k_paths[] = {
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/local/share/fonts/DejaVuSans.ttf",
    };
    for (size_t i = 0; i < sizeof k_paths / sizeof k_paths[0]; i++)
        if (access(k_paths[i], R_OK) == 0)
            return k_paths[i];
    return k_paths[0];
}

static unsigned char *read_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open the font %s (install fonts-dejavu-core, or set "
                               "MESOSIM_FONT to a TrueType file)", path);
        return NULL;
    }
    unsigned char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len < (64L << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len)) &&
        fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        snprintf(err, err_len, "cannot read the font %s", path);
    return buf;
}

static int glyph_index(int cp)
{
    if (cp >= 32 && cp < 256)
        return cp - 32;
    for (int i = 0; i < N_EXTRA; i++)
        if (k_extra[i] == cp)
            return N_LATIN + i;
    return '?' - 32;
}

/* Bakes the three sizes at the current scale into the atlas texture. */
static bool bake(ui *u, char *err, size_t err_len)
{
    size_t stride = ATLAS_W;
    unsigned char *pix = calloc(stride * (ATLAS_H + 2), 1);
    if (!pix) {
        snprintf(err, err_len, "out of memory baking the font");
        return false;
    }
    stbtt_pack_context pc;
    bool ok = stbtt_PackBegin(&pc, pix, ATLAS_W, ATLAS_H, (int)stride, 1, NULL) != 0;
    if (ok) {
        stbtt_PackSetOversampling(&pc, 1, 1);
        for (int f = 0; f < UI_FONT_COUNT && ok; f++) {
            float px = roundf(k_size_px[f] * u->scale);
            stbtt_pack_range r[2] = {
                {.font_size = px, .first_unicode_codepoint_in_range = 32,
                 .num_chars = N_LATIN, .chardata_for_range = u->glyphs[f]},
                {.font_size = px, .array_of_unicode_codepoints = (int *)k_extra,
                 .num_chars = N_EXTRA, .chardata_for_range = u->glyphs[f] + N_LATIN},
            };
            ok = stbtt_PackFontRanges(&pc, u->ttf, 0, r, 2) != 0;
            float sc = stbtt_ScaleForPixelHeight(&u->info, px);
            int asc, desc, gap;
            stbtt_GetFontVMetrics(&u->info, &asc, &desc, &gap);
            u->ascent_px[f] = roundf(asc * sc);
            u->line_px[f] = roundf((asc - desc + gap) * sc);
        }
        stbtt_PackEnd(&pc);
    }
    if (!ok) {
        free(pix);
        snprintf(err, err_len, "the font does not fit the atlas at scale %.2f", u->scale);
        return false;
    }
    memset(pix + stride * ATLAS_H, 255, stride * 2);
    u->white_u = 0.5f / ATLAS_W;
    u->white_v = (ATLAS_H + 1.0f) / (ATLAS_H + 2);
    glBindTexture(GL_TEXTURE_2D, u->atlas);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, ATLAS_W, ATLAS_H + 2, 0, GL_RED, GL_UNSIGNED_BYTE, pix);
    free(pix);
    return true;
}

ui *ui_create(const char *font_path, float scale, char *err, size_t err_len)
{
    if (!font_path)
        font_path = ui_default_font_path();
    ui *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    u->scale = scale > 0.25f ? scale : 1.0f;
    u->ttf = read_file(font_path, err, err_len);
    if (!u->ttf) {
        free(u);
        return NULL;
    }
    if (!stbtt_InitFont(&u->info, u->ttf, stbtt_GetFontOffsetForIndex(u->ttf, 0))) {
        snprintf(err, err_len, "%s is not a TrueType font", font_path);
        free(u->ttf);
        free(u);
        return NULL;
    }
    u->prog = gl_program("ui.vert", "ui.frag", err, err_len);
    if (!u->prog) {
        free(u->ttf);
        free(u);
        return NULL;
    }
    u->u_viewport = glGetUniformLocation(u->prog, "u_viewport_px");
    u->u_atlas = glGetUniformLocation(u->prog, "u_atlas");
    glGenVertexArrays(1, &u->vao);
    glGenBuffers(1, &u->vbo);
    glBindVertexArray(u->vao);
    glBindBuffer(GL_ARRAY_BUFFER, u->vbo);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, sizeof(ui_vertex), (void *)offsetof(ui_vertex, x));
    glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, sizeof(ui_vertex), (void *)offsetof(ui_vertex, u));
    glVertexAttribPointer(2, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(ui_vertex), (void *)offsetof(ui_vertex, rgba));
    glEnableVertexAttribArray(0);
    glEnableVertexAttribArray(1);
    glEnableVertexAttribArray(2);
    glBindVertexArray(0);
    glGenTextures(1, &u->atlas);
    glBindTexture(GL_TEXTURE_2D, u->atlas);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    if (!bake(u, err, err_len)) {
        ui_destroy(u);
        return NULL;
    }
    return u;
}

void ui_destroy(ui *u)
{
    if (!u)
        return;
    glDeleteProgram(u->prog);
    glDeleteBuffers(1, &u->vbo);
    glDeleteVertexArrays(1, &u->vao);
    glDeleteTextures(1, &u->atlas);
    free(u->v);
    free(u->ttf);
    free(u);
}

bool ui_set_scale(ui *u, float scale, char *err, size_t err_len)
{
    if (scale < 0.25f || fabsf(scale - u->scale) < 1e-3f)
        return true;
    float old = u->scale;
    u->scale = scale;
    if (bake(u, err, err_len))
        return true;
    /* Keep the old glyphs usable; the caller reports err. */
    char again[64];
    u->scale = old;
    bake(u, again, sizeof again);
    return false;
}

float ui_scale(const ui *u) { return u->scale; }

void ui_begin(ui *u, int fb_w, int fb_h)
{
    u->n = 0;
    u->fb_w = fb_w;
    u->fb_h = fb_h;
}

static ui_vertex *reserve(ui *u, int n)
{
    if (u->n + n > u->cap) {
        int cap = u->cap ? u->cap * 2 : 8192;
        while (cap < u->n + n)
            cap *= 2;
        ui_vertex *v = realloc(u->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        u->v = v;
        u->cap = cap;
    }
    ui_vertex *out = u->v + u->n;
    u->n += n;
    return out;
}

static void put(ui_vertex *v, float x, float y, float s, float t, ui_color c)
{
    v->x = x;
    v->y = y;
    v->u = s;
    v->v = t;
    v->rgba[0] = (uint8_t)(c >> 24);
    v->rgba[1] = (uint8_t)(c >> 16);
    v->rgba[2] = (uint8_t)(c >> 8);
    v->rgba[3] = (uint8_t)c;
}

/* Quad with corners p0..p3 (in order around it) and texture corners (s0,t0)-(s1,t1). */
static void quad(ui *u, const float p[8], float s0, float t0, float s1, float t1, ui_color c)
{
    ui_vertex *v = reserve(u, 6);
    if (!v)
        return;
    put(&v[0], p[0], p[1], s0, t0, c);
    put(&v[1], p[2], p[3], s1, t0, c);
    put(&v[2], p[4], p[5], s1, t1, c);
    put(&v[3], p[0], p[1], s0, t0, c);
    put(&v[4], p[4], p[5], s1, t1, c);
    put(&v[5], p[6], p[7], s0, t1, c);
}

void ui_rect(ui *u, float x, float y, float w, float h, ui_color c)
{
    const float p[8] = {x, y, x + w, y, x + w, y + h, x, y + h};
    quad(u, p, u->white_u, u->white_v, u->white_u, u->white_v, c);
}

void ui_frame(ui *u, float x, float y, float w, float h, float width, ui_color c)
{
    ui_rect(u, x, y, w, width, c);
    ui_rect(u, x, y + h - width, w, width, c);
    ui_rect(u, x, y + width, width, h - 2 * width, c);
    ui_rect(u, x + w - width, y + width, width, h - 2 * width, c);
}

void ui_line(ui *u, float x0, float y0, float x1, float y1, float width, ui_color c)
{
    float dx = x1 - x0, dy = y1 - y0, len = sqrtf(dx * dx + dy * dy);
    if (len < 1e-6f)
        return;
    float nx = -dy / len * 0.5f * width, ny = dx / len * 0.5f * width;
    const float p[8] = {x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny};
    quad(u, p, u->white_u, u->white_v, u->white_u, u->white_v, c);
}

void ui_triangle(ui *u, float x0, float y0, float x1, float y1, float x2, float y2, ui_color c)
{
    ui_vertex *v = reserve(u, 3);
    if (!v)
        return;
    put(&v[0], x0, y0, u->white_u, u->white_v, c);
    put(&v[1], x1, y1, u->white_u, u->white_v, c);
    put(&v[2], x2, y2, u->white_u, u->white_v, c);
}

void ui_ring(ui *u, float cx, float cy, float r, float width, ui_color c)
{
    enum { SEG = 24 };
    for (int i = 0; i < SEG; i++) {
        float a0 = 2.0f * UI_PI * i / SEG, a1 = 2.0f * UI_PI * (i + 1) / SEG;
        float ri = r - 0.5f * width, ro = r + 0.5f * width;
        const float p[8] = {cx + ri * cosf(a0), cy + ri * sinf(a0), cx + ro * cosf(a0),
                            cy + ro * sinf(a0), cx + ro * cosf(a1), cy + ro * sinf(a1),
                            cx + ri * cosf(a1), cy + ri * sinf(a1)};
        quad(u, p, u->white_u, u->white_v, u->white_u, u->white_v, c);
    }
}

void ui_disc(ui *u, float cx, float cy, float r, ui_color c)
{
    enum { SEG = 20 };
    for (int i = 0; i < SEG; i++) {
        float a0 = 2.0f * UI_PI * i / SEG, a1 = 2.0f * UI_PI * (i + 1) / SEG;
        ui_triangle(u, cx, cy, cx + r * cosf(a0), cy + r * sinf(a0), cx + r * cosf(a1),
                    cy + r * sinf(a1), c);
    }
}

/* Next code point of UTF-8 text; malformed bytes read as '?'. */
static int next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    int cp = '?', len = 1;
    if (p[0] < 0x80)
        cp = p[0];
    else if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80)
        cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F), len = 2;
    else if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
        cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F), len = 3;
    *s = p + len;
    return cp;
}

float ui_text(ui *u, ui_font f, float x, float y, ui_color c, const char *utf8)
{
    float px = roundf(x), py = roundf(y + u->ascent_px[f]);
    const float x_start = px;
    for (const unsigned char *s = (const unsigned char *)utf8; *s;) {
        int cp = next_cp(&s);
        stbtt_aligned_quad q;
        stbtt_GetPackedQuad(u->glyphs[f], ATLAS_W, ATLAS_H + 2, glyph_index(cp), &px, &py, &q, 1);
        if (cp == ' ')
            continue;
        const float p[8] = {q.x0, q.y0, q.x1, q.y0, q.x1, q.y1, q.x0, q.y1};
        quad(u, p, q.s0, q.t0, q.s1, q.t1, c);
    }
    return px - x_start;
}

float ui_textf(ui *u, ui_font f, float x, float y, ui_color c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ui_text(u, f, x, y, c, buf);
}

float ui_text_width(const ui *u, ui_font f, const char *utf8)
{
    float w = 0;
    for (const unsigned char *s = (const unsigned char *)utf8; *s;)
        w += u->glyphs[f][glyph_index(next_cp(&s))].xadvance;
    return w;
}

float ui_line_height(const ui *u, ui_font f) { return u->line_px[f]; }

void ui_flush(ui *u)
{
    if (u->n == 0)
        return;
    glDisable(GL_DEPTH_TEST);
    glEnable(GL_BLEND);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    glUseProgram(u->prog);
    glUniform2f(u->u_viewport, (float)u->fb_w, (float)u->fb_h);
    glUniform1i(u->u_atlas, 0);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, u->atlas);
    glBindVertexArray(u->vao);
    glBindBuffer(GL_ARRAY_BUFFER, u->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)((size_t)u->n * sizeof(ui_vertex)), u->v, GL_STREAM_DRAW);
    glDrawArrays(GL_TRIANGLES, 0, u->n);
    glBindVertexArray(0);
    u->n = 0;
}
