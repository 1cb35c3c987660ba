/* bmode: the fast synthesis path.
 *
 * Two phases, each line and each column computed from its inputs alone, so the bytes never
 * depend on the thread count or on which worker took which line: (A) per line, classify the tissue along the beam, sum the tissue-fixed scatterer field
 * over the elevation profile (a flat float loop the compiler vectorises), apply the losses, add
 * the echo events and convolve axially; (B) per output column, convolve laterally with the
 * depth-dependent beam, then TGC, gain, envelope and log compression to 8 bits. */
#include "bmode.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmode_kernels.h"
#include "bmode_model.h"
#include "hash.h"

#define MAX_THREADS 8

typedef struct run { int r0, r1; } run;

typedef struct worker_scratch {
    bm_line line;
    bm_nodes nodes;
    float *f_re, *f_im; /* rows + 2 ka, zero padded for the axial convolution */
    float *a_re, *a_im; /* rows: lateral accumulation */
    uint32_t *hz;       /* rows: depth part of the scatterer hash on a vertical line */
    int rows_cap;
} worker_scratch;

struct bmode {
    int n_threads;
    pthread_t th[MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t cv_start, cv_done;
    unsigned generation;
    int pending;
    int quit;
    int phase; /* 0: lines, 1: columns */
    /* The next line phase A takes: lines differ in cost (vessels, lobules and deposits sit in
     * some of them), so workers take them one at a time rather than a fixed share each. A
     * line's result depends only on the line, never on which worker made it. */
    atomic_int next_line;

    const bmk_ops *k; /* hot loops for this CPU */
    bool display_only;
    bm_setup s;
    int have_setup;
    const bmode_scene *scene;
    worker_scratch ws[MAX_THREADS];

    /* Elevation weights by quantised voxel distance k (0..kmax, row kmax all zero) x rows, the
     * row runs where each k counts, and for tilted lines the rows each plane can reach. */
    float *Wq;
    int kmax;
    run *k_runs;
    int *k_nruns;
    int E;
    run *e_runs;
    int *e_nruns;
    int max_runs;
    double w_key[5];

    float *h_lat_t;     /* (2kl+1) x rows, transposed lateral kernels */
    float *g_ax_f;
    float *gain_lin;    /* rows */
    float *gain_db_f;   /* rows */
    float *G_re, *G_im; /* lines x rows */
    size_t G_cap;
    uint8_t *pixels, *labels;
    float *env;
    size_t img_cap;
    int err;
};

bmode_def bmode_default_def(void)
{
    bmode_def d;
    memset(&d, 0, sizeof d);
    return d;
}

static void run_phase(bmode *bm, int worker);

static void *worker_main(void *arg)
{
    void **a = arg;
    bmode *bm = a[0];
    int id = (int)(size_t)a[1];
    free(arg);
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&bm->mu);
        while (bm->generation == seen && !bm->quit)
            pthread_cond_wait(&bm->cv_start, &bm->mu);
        if (bm->quit) {
            pthread_mutex_unlock(&bm->mu);
            return NULL;
        }
        seen = bm->generation;
        pthread_mutex_unlock(&bm->mu);
        run_phase(bm, id);
        pthread_mutex_lock(&bm->mu);
        if (--bm->pending == 0)
            pthread_cond_signal(&bm->cv_done);
        pthread_mutex_unlock(&bm->mu);
    }
}

bmode *bmode_create(const bmode_def *def)
{
    bmode *bm = calloc(1, sizeof *bm);
    if (!bm)
        return NULL;
    int n = def ? def->n_threads : 0;
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    bm->n_threads = n;
    bm->k = bmode_kernels_select(def ? def->isa : NULL);
    bm->display_only = def ? def->display_only : false;
    if (!bm->k) {
        free(bm);
        return NULL;
    }
    pthread_mutex_init(&bm->mu, NULL);
    pthread_cond_init(&bm->cv_start, NULL);
    pthread_cond_init(&bm->cv_done, NULL);
    for (int i = 0; i < n; i++)
        if (bm_line_alloc(&bm->ws[i].line, 1) != 0)
            goto fail;
    /* Worker 0 is the calling thread. */
    for (int i = 1; i < n; i++) {
        void **arg = malloc(2 * sizeof(void *));
        if (!arg)
            goto fail_threads;
        arg[0] = bm;
        arg[1] = (void *)(size_t)i;
        if (pthread_create(&bm->th[i], NULL, worker_main, arg) != 0) {
            free(arg);
            goto fail_threads;
        }
        continue;
    fail_threads:
        bm->n_threads = i; /* join what started */
        bmode_destroy(bm);
        return NULL;
    }
    return bm;
fail:
    for (int i = 0; i < n; i++)
        bm_line_free(&bm->ws[i].line);
    free(bm);
    return NULL;
}

void bmode_destroy(bmode *bm)
{
    if (!bm)
        return;
    pthread_mutex_lock(&bm->mu);
    bm->quit = 1;
    pthread_cond_broadcast(&bm->cv_start);
    pthread_mutex_unlock(&bm->mu);
    for (int i = 1; i < bm->n_threads; i++)
        pthread_join(bm->th[i], NULL);
    for (int i = 0; i < MAX_THREADS; i++) {
        worker_scratch *w = &bm->ws[i];
        bm_line_free(&w->line);
        bm_nodes_free(&w->nodes);
        free(w->f_re);
        free(w->f_im);
        free(w->a_re);
        free(w->a_im);
        free(w->hz);
    }
    if (bm->have_setup)
        bm_setup_free(&bm->s);
    free(bm->Wq);
    free(bm->k_runs);
    free(bm->k_nruns);
    free(bm->e_runs);
    free(bm->e_nruns);
    free(bm->h_lat_t);
    free(bm->g_ax_f);
    free(bm->gain_lin);
    free(bm->gain_db_f);
    free(bm->G_re);
    free(bm->G_im);
    free(bm->pixels);
    free(bm->labels);
    free(bm->env);
    pthread_mutex_destroy(&bm->mu);
    pthread_cond_destroy(&bm->cv_start);
    pthread_cond_destroy(&bm->cv_done);
    free(bm);
}

int bmode_threads(const bmode *bm) { return bm->n_threads; }

const char *bmode_isa(const bmode *bm) { return bm->k->name; }

static int ensure_scratch(worker_scratch *w, int rows, int ka)
{
    if (rows + 2 * ka <= w->rows_cap && w->line.tissue)
        return 0;
    int cap = rows + 2 * ka + 64;
    bm_line_free(&w->line);
    if (bm_line_alloc(&w->line, cap) != 0)
        return -1;
    free(w->f_re);
    free(w->f_im);
    free(w->a_re);
    free(w->a_im);
    free(w->hz);
    w->hz = malloc(sizeof(uint32_t) * (size_t)cap);
    w->f_re = malloc(sizeof(float) * (size_t)cap);
    w->f_im = malloc(sizeof(float) * (size_t)cap);
    w->a_re = malloc(sizeof(float) * (size_t)cap);
    w->a_im = malloc(sizeof(float) * (size_t)cap);
    if (!w->f_re || !w->f_im || !w->a_re || !w->a_im || !w->hz)
        return -1;
    w->rows_cap = cap;
    return 0;
}

static void phase_lines(bmode *bm, int id)
{
    const bm_setup *s = &bm->s;
    worker_scratch *w = &bm->ws[id];
    const int rows = s->rows, ka = s->ka;
    const float inv = 1.0f / 32768.0f;
    const uint32_t seed = hash_mix32(s->d->seed ^ 0x9e3779b9U);
    const uint32_t noise_seed = hash_mix32(s->d->seed ^ 0x6a09e667U); /* bm_add_noise's */
    for (;;) {
        int li = atomic_fetch_add_explicit(&bm->next_line, 1, memory_order_relaxed);
        if (li >= s->lines)
            break;
        if (bm_nodes_fill(s, li, 0, &w->nodes) != 0) {
            bm->err = 1;
            return;
        }
        bm_classify_line(s, li, &w->nodes, &w->line);
        float *fre = w->f_re + ka, *fim = w->f_im + ka;
        memset(w->f_re, 0, sizeof(float) * (size_t)(rows + 2 * ka));
        memset(w->f_im, 0, sizeof(float) * (size_t)(rows + 2 * ka));
        double p0[3];
        bm_line_point(s, li, 0.0, p0);
        const double kx = BM_VOX_PER_MM_XY, kz = BM_VOX_PER_MM_Z;
        const double *fw = s->fr.w, *fv = s->fr.v;
        const int vertical = fw[0] == 0.0 && fw[1] == 0.0;
        if (vertical) {
            /* Depth voxel of each row, in double exactly as the reference computes it. */
            double top[3];
            bm_line_point(s, li, 0.0, top); /* same operation order as bm_line_point below */
            double c = top[2]; /* (origin + x u) + 0 v: adding 0 w is exact */
            for (int r = 0; r < rows; r++) {
                double pz = c + (r * s->dz) * fw[2];
                int32_t iz = (int32_t)(pz * kz + BM_VOX_BIAS + BM_VOX_OFFSET);
                w->hz[r] = (uint32_t)iz * 0xcb1ab31fU;
            }
        }
        const float step[3] = {(float)(s->dz * fw[0] * kx), (float)(s->dz * fw[1] * kx), (float)(s->dz * fw[2] * kz)};
        const float dd[3] = {(float)(fv[0] / kx), (float)(fv[1] / kx), (float)(fv[2] / kz)};
        for (int e = -bm->E; e <= bm->E; e++) {
            double off = e * BM_ELEV_STEP_MM;
            double q[3] = {(p0[0] + off * fv[0]) * kx + BM_VOX_BIAS, (p0[1] + off * fv[1]) * kx + BM_VOX_BIAS,
                           (p0[2] + off * fv[2]) * kz + BM_VOX_BIAS};
            int32_t base[3];
            float frac[3];
            for (int k = 0; k < 3; k++) {
                double fl = floor(q[k]);
                base[k] = (int32_t)fl + BM_VOX_OFFSET;
                frac[k] = (float)(q[k] - fl + BMK_FRAC_OFFSET);
            }
            /* Distance of the plane's first voxel from the image plane (the reference's formula). */
            double c[3];
            bm_voxel_centre(base[0], base[1], base[2], c);
            double d0 = (c[0] - p0[0]) * fv[0] + (c[1] - p0[1]) * fv[1] + (c[2] - p0[2]) * fv[2];
            if (vertical) {
                int k = bm_elev_k(d0);
                if (k >= bm->kmax)
                    continue;
                uint32_t hxy = ((uint32_t)base[0] * 0x8da6b343U) ^ ((uint32_t)base[1] * 0xd8163841U) ^ seed;
                const float *wrow = bm->Wq + (size_t)k * rows;
                for (int j = 0; j < bm->k_nruns[k]; j++) {
                    const run *ru = &bm->k_runs[(size_t)k * bm->max_runs + j];
                    bm->k->scatter_vertical(wrow, ru->r0, ru->r1, hxy, w->hz, fre, fim);
                }
            } else {
                int pi = e + bm->E;
                for (int j = 0; j < bm->e_nruns[pi]; j++) {
                    const run *ru = &bm->e_runs[(size_t)pi * bm->max_runs + j];
                    bm->k->scatter(bm->Wq, rows, bm->kmax, (float)(1.0 / BM_ELEV_DQ_MM), ru->r0, ru->r1, base, frac,
                                   step, (float)d0, dd, seed, fre, fim);
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            float a = w->line.amp[r] * inv;
            fre[r] *= a;
            fim[r] *= a;
        }
        for (int i = 0; i < w->line.n_ev; i++)
            bm_splat(s, &w->line.ev[i], fre, fim);
        bm->k->add_noise(s->noise_amp, rows, ((uint32_t)li * 0x8da6b343U) ^ noise_seed, fre, fim);
        bm->k->axial_conv(bm->g_ax_f, ka, w->f_re, rows, bm->G_re + (size_t)li * rows);
        bm->k->axial_conv(bm->g_ax_f, ka, w->f_im, rows, bm->G_im + (size_t)li * rows);
        int c = li - s->margin;
        if (!bm->display_only && c >= 0 && c < s->cols)
            for (int r = 0; r < rows; r++)
                bm->labels[(size_t)r * s->cols + c] = w->line.tissue[r];
    }
}

static void phase_columns(bmode *bm, int id)
{
    const bm_setup *s = &bm->s;
    worker_scratch *w = &bm->ws[id];
    int per = (s->cols + bm->n_threads - 1) / bm->n_threads;
    int c0 = id * per, c1 = c0 + per < s->cols ? c0 + per : s->cols;
    const int rows = s->rows, kl = s->kl;
    for (int c = c0; c < c1; c++) {
        int li = c + s->margin;
        bm->k->lateral_conv(bm->h_lat_t, 2 * kl + 1, bm->G_re + (size_t)(li - kl) * rows,
                            bm->G_im + (size_t)(li - kl) * rows, rows, w->a_re, w->a_im);
        bm->k->envelope(w->a_re, w->a_im, rows, bm->gain_db_f, bm->gain_lin,
                        (float)s->p.dynamic_range_db, s->cols, c, bm->pixels, bm->display_only ? NULL : bm->env);
    }
}

static void run_phase(bmode *bm, int id)
{
    if (bm->phase == 0)
        phase_lines(bm, id);
    else
        phase_columns(bm, id);
}

static void dispatch(bmode *bm, int phase)
{
    pthread_mutex_lock(&bm->mu);
    bm->phase = phase;
    atomic_store(&bm->next_line, 0);
    bm->pending = bm->n_threads - 1;
    bm->generation++;
    pthread_cond_broadcast(&bm->cv_start);
    pthread_mutex_unlock(&bm->mu);
    run_phase(bm, 0);
    pthread_mutex_lock(&bm->mu);
    while (bm->pending > 0)
        pthread_cond_wait(&bm->cv_done, &bm->mu);
    pthread_mutex_unlock(&bm->mu);
}

/* Runs of rows where mask is set, at most max_runs (a further run merges into the last). */
static int find_runs(const unsigned char *mask, int rows, run *out, int max_runs)
{
    int n = 0, r = 0;
    while (r < rows) {
        while (r < rows && !mask[r])
            r++;
        int r0 = r;
        while (r < rows && mask[r])
            r++;
        if (r > r0) {
            if (n == max_runs)
                out[n - 1].r1 = r;
            else
                out[n++] = (run){r0, r};
        }
    }
    return n;
}

/* Elevation weights depend only on the probe's beam settings: rebuilt when they change. */
static int build_elevation(bmode *bm)
{
    const bm_setup *s = &bm->s;
    const int rows = s->rows;
    double key[5] = {s->p.freq_mhz, s->p.elev_focus_mm, s->p.elev_height_mm, s->p.depth_mm, (double)rows};
    if (bm->Wq && memcmp(key, bm->w_key, sizeof key) == 0)
        return 0;
    double smax = 0;
    for (int r = 0; r < rows; r++)
        if (s->sig_el[r] > smax)
            smax = s->sig_el[r];
    int kmax = (int)ceil(BM_ELEV_SIGMAS * smax / BM_ELEV_DQ_MM) + 1;
    int E = bm_elev_planes(s);
    free(bm->Wq);
    free(bm->k_runs);
    free(bm->k_nruns);
    free(bm->e_runs);
    free(bm->e_nruns);
    bm->max_runs = 4;
    bm->Wq = calloc((size_t)(kmax + 1) * (size_t)rows, sizeof(float));
    bm->k_runs = calloc((size_t)(kmax + 1) * (size_t)bm->max_runs, sizeof(run));
    bm->k_nruns = calloc((size_t)(kmax + 1), sizeof(int));
    bm->e_runs = calloc((size_t)(2 * E + 1) * (size_t)bm->max_runs, sizeof(run));
    bm->e_nruns = calloc((size_t)(2 * E + 1), sizeof(int));
    unsigned char *mask = malloc((size_t)rows);
    if (!bm->Wq || !bm->k_runs || !bm->k_nruns || !bm->e_runs || !bm->e_nruns || !mask) {
        free(mask);
        free(bm->Wq);
        bm->Wq = NULL;
        return -1;
    }
    bm->kmax = kmax;
    bm->E = E;
    for (int k = 0; k < kmax; k++) {
        float *w = bm->Wq + (size_t)k * rows;
        for (int r = 0; r < rows; r++) {
            w[r] = (float)bm_elev_voxel_weight(s, r, k);
            mask[r] = w[r] != 0.0f;
        }
        bm->k_nruns[k] = find_runs(mask, rows, bm->k_runs + (size_t)k * bm->max_runs, bm->max_runs);
    }
    /* A plane's voxels lie within about a pitch of its nominal offset on a tilted line. */
    for (int e = -E; e <= E; e++) {
        double reach = fabs(e * BM_ELEV_STEP_MM) - BM_ELEV_STEP_MM;
        for (int r = 0; r < rows; r++)
            mask[r] = reach <= BM_ELEV_SIGMAS * s->sig_el[r];
        bm->e_nruns[e + E] = find_runs(mask, rows, bm->e_runs + (size_t)(e + E) * bm->max_runs, bm->max_runs);
    }
    free(mask);
    memcpy(bm->w_key, key, sizeof key);
    return 0;
}

static int prepare_buffers(bmode *bm)
{
    const bm_setup *s = &bm->s;
    size_t g = (size_t)s->lines * (size_t)s->rows;
    if (g > bm->G_cap) {
        free(bm->G_re);
        free(bm->G_im);
        bm->G_re = malloc(sizeof(float) * g);
        bm->G_im = malloc(sizeof(float) * g);
        if (!bm->G_re || !bm->G_im) {
            bm->G_cap = 0;
            return -1;
        }
        bm->G_cap = g;
    }
    size_t im = (size_t)s->rows * (size_t)s->cols;
    if (im > bm->img_cap) {
        free(bm->pixels);
        free(bm->labels);
        free(bm->env);
        bm->pixels = malloc(im);
        bm->labels = malloc(im);
        bm->env = malloc(sizeof(float) * im);
        if (!bm->pixels || !bm->labels || !bm->env) {
            bm->img_cap = 0;
            return -1;
        }
        bm->img_cap = im;
    }
    int nl = 2 * s->kl + 1;
    free(bm->h_lat_t);
    free(bm->g_ax_f);
    free(bm->gain_lin);
    free(bm->gain_db_f);
    bm->h_lat_t = malloc(sizeof(float) * (size_t)nl * (size_t)s->rows);
    bm->g_ax_f = malloc(sizeof(float) * (size_t)(2 * s->ka + 1));
    bm->gain_lin = malloc(sizeof(float) * (size_t)s->rows);
    bm->gain_db_f = malloc(sizeof(float) * (size_t)s->rows);
    if (!bm->h_lat_t || !bm->g_ax_f || !bm->gain_lin || !bm->gain_db_f)
        return -1;
    for (int r = 0; r < s->rows; r++) {
        for (int k = 0; k < nl; k++)
            bm->h_lat_t[(size_t)k * s->rows + r] = (float)s->h_lat[(size_t)r * nl + k];
        bm->gain_db_f[r] = (float)s->gain_db[r];
        bm->gain_lin[r] = (float)pow(10.0, s->gain_db[r] / 20.0);
    }
    for (int k = 0; k <= 2 * s->ka; k++)
        bm->g_ax_f[k] = (float)s->g_ax[k];
    for (int i = 0; i < bm->n_threads; i++)
        if (ensure_scratch(&bm->ws[i], s->rows, s->ka) != 0)
            return -1;
    return 0;
}

int bmode_render(bmode *bm, const bmode_scene *scene, bmode_image *out, char *err, size_t err_len)
{
    bool probe_changed;
    if (bm_setup_update(&bm->s, bm->have_setup, scene, &probe_changed, err, err_len) != 0) {
        bm->have_setup = 0;
        return -1;
    }
    bm->have_setup = 1;
    if (build_elevation(bm) != 0 || (probe_changed && prepare_buffers(bm) != 0)) {
        if (err)
            snprintf(err, err_len, "out of memory");
        return -1;
    }
    bm->scene = scene;
    bm->err = 0;
    dispatch(bm, 0);
    if (bm->err) {
        if (err)
            snprintf(err, err_len, "out of memory");
        return -1;
    }
    dispatch(bm, 1);
    const bm_setup *s = &bm->s;
    out->rows = s->rows;
    out->cols = s->cols;
    out->dz_mm = s->dz;
    out->dx_mm = s->dx;
    out->x0_mm = s->x0;
    out->z0_mm = 0.0;
    out->freq_mhz = s->p.freq_mhz;
    out->pixels = bm->pixels;
    out->envelope = bm->display_only ? NULL : bm->env;
    out->labels = bm->display_only ? NULL : bm->labels;
    out->full_scale_db = 0.0;
    return 0;
}
