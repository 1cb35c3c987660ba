/* igtl_server: see igtl_server.h. */
#include "igtl_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "haptics_seq.h"
#include "igtl_msg.h"

#define FORCE_MSG_BYTES (IGTL_MSG_HEADER_BYTES + 10 + 3 * 8)

typedef struct client {
    int fd;
    igtl_stream in;
    uint8_t *out;
    size_t out_len, out_head;   /* queued bytes are out[out_head .. out_len) */
    bool image_only;            /* a peer we connected to for the IMAGE stream */
    bool tool;                  /* it sent a good pose: a tracker */
} client;

struct igtl_server {
    igtl_server_def def;
    char needle_name[IGTL_MSG_NAME_LEN + 1], probe_name[IGTL_MSG_NAME_LEN + 1];
    int listen_fd, wake_fd, port;
    pthread_t thread;
    int stop;
    client clients[IGTL_SERVER_MAX_CLIENTS + 4]; /* + the peers we connect to */
    int n_slots;
    pthread_mutex_t peers_lock;  /* new outbound peers handed to the thread */
    int pending_peer[4];
    int n_pending;
    /* The newest force, from the haptics loop (the one writer) by sequence lock: the loop never
     * waits on this thread; force_sent is the counter of the last one queued (network thread). */
    uint64_t force_seq, force_words[HAPTICS_SEQ_WORDS(haptics_force)];
    uint64_t force_sent;
    int wake_pending;            /* a wake-up is in the eventfd already: no second write(2) */
    /* The newest image, under its own lock held for a copy. */
    pthread_mutex_t image_lock;
    uint8_t *image_msg;
    size_t image_cap, image_len;
    bool image_new;
    pthread_mutex_t stats_lock;
    igtl_server_stats stats;
    pthread_mutex_t haptics_lock;
    haptics *haptics;
    struct timespec t0;
    /* The driver, the calibration and the tools: taken by the network thread for each pose and
     * by the setters, never for longer than a pose's rules. */
    pthread_mutex_t tool_lock;
    driver *d;
    igtl_calibration calib;
    haptics_tool needle_tool, probe_tool;
    igtl_raw_pose raw[IGTL_TOOL_COUNT];
    client *current;            /* the client whose message on_msg handles (network thread) */
};

igtl_server_def igtl_server_default_def(void)
{
    return (igtl_server_def){
        .bind_addr = "127.0.0.1",
        .port = IGTL_SERVER_DEFAULT_PORT,
        .needle_device = "Needle",
        .probe_device = "Probe",
        .calib = igtl_calibration_identity(),
        .tool = haptics_tool_default_def(),
        .max_clients = IGTL_SERVER_MAX_CLIENTS,
        .out_queue_bytes = 1u << 20,
        .read_budget_bytes = 64u << 10,
    };
}

static double now_s(igtl_server *s)
{
    if (s->def.clock_s)
        return s->def.clock_s(s->def.clock_ctx);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - s->t0.tv_sec) + (double)(t.tv_nsec - s->t0.tv_nsec) * 1e-9;
}

static void wake(igtl_server *s)
{
    if (__atomic_exchange_n(&s->wake_pending, 1, __ATOMIC_ACQ_REL))
        return;
    uint64_t one = 1;
    ssize_t w = write(s->wake_fd, &one, sizeof one);
    (void)w; /* a full counter is already a wake-up */
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void stat_add(igtl_server *s, long long *field, long long n)
{
    pthread_mutex_lock(&s->stats_lock);
    *field += n;
    pthread_mutex_unlock(&s->stats_lock);
}

/* What the stream dropped since the last call, into the server's counters. */
static void add_stream_stats(igtl_server *s, const igtl_stream_stats *before, const igtl_stream_stats *after)
{
    pthread_mutex_lock(&s->stats_lock);
    s->stats.dropped += after->dropped - before->dropped;
    s->stats.bad_crc += after->bad_crc - before->bad_crc;
    s->stats.bad_size += after->bad_size - before->bad_size;
    s->stats.unknown_type += after->unknown - before->unknown;
    s->stats.too_long += after->too_long - before->too_long;
    pthread_mutex_unlock(&s->stats_lock);
}

static void close_client(igtl_server *s, client *c)
{
    pthread_mutex_lock(&s->stats_lock);
    if (c->in.broken) {
        s->stats.broken_streams++;
        s->stats.dropped++;
    }
    s->stats.clients_now--;
    if (c->tool) {
        s->stats.tool_clients_now--;
        s->stats.tool_clients_lost++;
    }
    pthread_mutex_unlock(&s->stats_lock);
    close(c->fd);
    free(c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static bool add_client(igtl_server *s, int fd, bool outbound)
{
    int slots = outbound ? s->n_slots : s->def.max_clients;
    for (int i = 0; i < slots; i++) {
        client *c = &s->clients[i];
        if (c->fd >= 0)
            continue;
        c->out = malloc(s->def.out_queue_bytes);
        if (!c->out)
            return false;
        c->fd = fd;
        igtl_stream_init(&c->in);
        c->out_len = c->out_head = 0;
        c->image_only = outbound;
        set_nonblock(fd);
        pthread_mutex_lock(&s->stats_lock);
        s->stats.clients_accepted++;
        s->stats.clients_now++;
        pthread_mutex_unlock(&s->stats_lock);
        return true;
    }
    return false;
}

/* A pose message: which tool, through the calibration, into the rules. */
static void on_msg(void *ctx, const igtl_msg *m)
{
    igtl_server *s = ctx;
    double t = now_s(s);
    igtl_tool which = !strcmp(m->device, s->needle_name) ? IGTL_TOOL_NEEDLE
                      : !strcmp(m->device, s->probe_name) ? IGTL_TOOL_PROBE : IGTL_TOOL_COUNT;
    if (which == IGTL_TOOL_COUNT) {
        pthread_mutex_lock(&s->stats_lock);
        s->stats.unknown_device++;
        s->stats.dropped++;
        pthread_mutex_unlock(&s->stats_lock);
        return;
    }
    pthread_mutex_lock(&s->tool_lock);
    igtl_raw_pose *raw = &s->raw[which];
    raw->count++;
    raw->t_s = t;
    memcpy(raw->p, m->t, sizeof raw->p);
    memcpy(raw->r, m->r, sizeof raw->r);
    double p[3], col[3][3], r[3][3];
    igtl_calibration_point(&s->calib, m->t, p);
    for (int c = 0; c < 3; c++) {
        double dev[3] = {m->r[0][c], m->r[1][c], m->r[2][c]};
        igtl_calibration_dir(&s->calib, dev, col[c]);
    }
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < 3; c++)
            r[i][c] = col[c][i];
    if (which == IGTL_TOOL_NEEDLE && s->d) {
        haptics_tool_needle(&s->needle_tool, s->d, t, p, col[2]);
        pthread_mutex_lock(&s->haptics_lock);
        if (s->haptics)
            haptics_set_pose(s->haptics, &s->needle_tool.pose);
        pthread_mutex_unlock(&s->haptics_lock);
    } else if (which == IGTL_TOOL_PROBE && s->d) {
        haptics_tool_probe(&s->probe_tool, s->d, t, p, (const double(*)[3])r);
    }
    pthread_mutex_unlock(&s->tool_lock);
    pthread_mutex_lock(&s->stats_lock);
    if (which == IGTL_TOOL_NEEDLE)
        s->stats.needle_poses++;
    else
        s->stats.probe_poses++;
    s->stats.received++;
    if (s->current && !s->current->tool) {
        s->current->tool = true;
        s->stats.tool_clients_now++;
    }
    pthread_mutex_unlock(&s->stats_lock);
}

static void queue_msg(igtl_server *s, const uint8_t *msg, size_t len, bool image)
{
    long long sent = 0, dropped = 0;
    for (int i = 0; i < s->n_slots; i++) {
        client *c = &s->clients[i];
        if (c->fd < 0 || (c->image_only && !image))
            continue;
        if (c->out_head > 0 && c->out_len + len > s->def.out_queue_bytes) {
            memmove(c->out, c->out + c->out_head, c->out_len - c->out_head);
            c->out_len -= c->out_head;
            c->out_head = 0;
        }
        if (c->out_len + len > s->def.out_queue_bytes) {
            dropped++;
            continue;
        }
        memcpy(c->out + c->out_len, msg, len);
        c->out_len += len;
        sent++;
    }
    pthread_mutex_lock(&s->stats_lock);
    s->stats.sent += sent;
    s->stats.send_dropped += dropped;
    pthread_mutex_unlock(&s->stats_lock);
}

static void pack_outbound(igtl_server *s)
{
    haptics_force f;
    uint64_t v = haptics_seq_read(&s->force_seq, s->force_words, &f, sizeof f);
    if (v != s->force_sent) {
        s->force_sent = v;
        uint8_t buf[FORCE_MSG_BYTES];
        uint64_t ts = igtl_msg_timestamp(f.t_s);
        size_t n = igtl_msg_pack_sensor_newton(buf, sizeof buf, "NeedleForce", ts, f.needle_n, 3);
        queue_msg(s, buf, n, false);
        n = igtl_msg_pack_sensor_newton(buf, sizeof buf, "ProbeForce", ts, f.probe_n, 3);
        queue_msg(s, buf, n, false);
    }
    /* Copied into the queues under the lock (a frame is ~180 KB: tens of microseconds), so
     * the window's next frame waits at most that, and only when it comes at the same time. */
    pthread_mutex_lock(&s->image_lock);
    if (s->image_new) {
        queue_msg(s, s->image_msg, s->image_len, true);
        s->image_new = false;
        stat_add(s, &s->stats.images_sent, 1);
    }
    pthread_mutex_unlock(&s->image_lock);
}

static void flush_client(igtl_server *s, client *c)
{
    while (c->out_head < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_head, c->out_len - c->out_head, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            c->out_head += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        close_client(s, c);
        return;
    }
    c->out_head = c->out_len = 0;
}

static void read_client(igtl_server *s, client *c)
{
    uint8_t buf[8192];
    size_t budget = s->def.read_budget_bytes;
    while (budget > 0) {
        ssize_t r = recv(c->fd, buf, sizeof buf < budget ? sizeof buf : budget, MSG_DONTWAIT);
        if (r > 0) {
            budget -= (size_t)r < budget ? (size_t)r : budget;
            igtl_stream_stats before = c->in.stats;
            s->current = c;
            bool ok = igtl_stream_feed(&c->in, buf, (size_t)r, on_msg, s);
            s->current = NULL;
            add_stream_stats(s, &before, &c->in.stats);
            if (!ok) {
                close_client(s, c);
                return;
            }
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        close_client(s, c); /* hung up or failed */
        return;
    }
}

static void *loop(void *arg)
{
    igtl_server *s = arg;
    struct pollfd pfd[IGTL_SERVER_MAX_CLIENTS + 6];
    int who[IGTL_SERVER_MAX_CLIENTS + 6];
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&s->peers_lock);
        for (int i = 0; i < s->n_pending; i++)
            if (!add_client(s, s->pending_peer[i], true))
                close(s->pending_peer[i]);
        s->n_pending = 0;
        pthread_mutex_unlock(&s->peers_lock);
        int n = 0;
        pfd[n] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        who[n++] = -1;
        pfd[n] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        who[n++] = -2;
        for (int i = 0; i < s->n_slots; i++) {
            client *c = &s->clients[i];
            if (c->fd < 0)
                continue;
            pfd[n] = (struct pollfd){.fd = c->fd, .events = (short)(POLLIN | (c->out_len > c->out_head ? POLLOUT : 0))};
            who[n++] = i;
        }
        int rc = poll(pfd, (nfds_t)n, 100);
        if (rc < 0)
            continue;
        /* Clients first, so a slot freed by a hang-up this turn can take a new connection. */
        for (int k = n - 1; k >= 0; k--) {
            if (!pfd[k].revents)
                continue;
            if (who[k] == -1) {
                int fd = accept(s->listen_fd, NULL, NULL);
                if (fd >= 0 && !add_client(s, fd, false)) {
                    close(fd); /* full: refused, the others keep their service */
                    stat_add(s, &s->stats.clients_refused, 1);
                }
            } else if (who[k] == -2) {
                uint64_t v;
                ssize_t r = read(s->wake_fd, &v, sizeof v);
                (void)r;
                /* Cleared after the read, before packing: a wake-up whose write the read drained
                 * left its value for pack_outbound below; one after the clear writes again.
                 * (Cleared first, a write drained here would leave it set with nothing to read,
                 * and every later wake() would skip its write: the stream would stall.) */
                __atomic_exchange_n(&s->wake_pending, 0, __ATOMIC_ACQ_REL);
            } else {
                client *c = &s->clients[who[k]];
                if (c->fd >= 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                    read_client(s, c);
            }
        }
        pack_outbound(s);
        for (int i = 0; i < s->n_slots; i++)
            if (s->clients[i].fd >= 0 && s->clients[i].out_len > s->clients[i].out_head)
                flush_client(s, &s->clients[i]);
    }
    return NULL;
}

static void copy_name(char *dst, const char *src, const char *fallback)
{
    snprintf(dst, IGTL_MSG_NAME_LEN + 1, "%s", src && src[0] ? src : fallback);
}

igtl_server *igtl_server_create(const igtl_server_def *def, char *err, size_t err_len)
{
    const char *bad = igtl_calibration_check(&def->calib);
    if (bad) {
        snprintf(err, err_len, "OpenIGTLink calibration: %s", bad);
        return NULL;
    }
    if (def->port < 0 || def->port > 65535) {
        snprintf(err, err_len, "OpenIGTLink port %d: must be 0..65535", def->port);
        return NULL;
    }
    if (def->max_clients < 1 || def->max_clients > IGTL_SERVER_MAX_CLIENTS || def->out_queue_bytes < 4096 ||
        def->read_budget_bytes < 1024) {
        snprintf(err, err_len, "OpenIGTLink server: max_clients 1..%d, out_queue_bytes >= 4096, "
                               "read_budget_bytes >= 1024", IGTL_SERVER_MAX_CLIENTS);
        return NULL;
    }
    const char *addr = def->bind_addr && def->bind_addr[0] ? def->bind_addr : "127.0.0.1";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)def->port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, err_len, "OpenIGTLink bind address '%s' is not an IPv4 address (e.g. 127.0.0.1 or 0.0.0.0)",
                 addr);
        return NULL;
    }
    igtl_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->def = *def;
    s->def.bind_addr = NULL; /* not kept: the caller's string */
    copy_name(s->needle_name, def->needle_device, "Needle");
    copy_name(s->probe_name, def->probe_device, "Probe");
    s->def.needle_device = s->needle_name;
    s->def.probe_device = s->probe_name;
    s->n_slots = IGTL_SERVER_MAX_CLIENTS + 4;
    for (int i = 0; i < s->n_slots; i++)
        s->clients[i].fd = -1;
    s->d = def->d;
    s->calib = def->calib;
    haptics_tool_init(&s->needle_tool, &def->tool);
    haptics_tool_init(&s->probe_tool, &def->tool);
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int one = 1;
    if (s->listen_fd < 0 || s->wake_fd < 0) {
        snprintf(err, err_len, "OpenIGTLink server: %s", strerror(errno));
        goto fail;
    }
    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, err_len, "OpenIGTLink server: cannot listen on %s:%d: %s", addr, def->port, strerror(errno));
        goto fail;
    }
    if (listen(s->listen_fd, 8) != 0) {
        snprintf(err, err_len, "OpenIGTLink server: listen: %s", strerror(errno));
        goto fail;
    }
    fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL, 0) | O_NONBLOCK);
    socklen_t sl = sizeof sa;
    getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.sin_port);
    pthread_mutex_init(&s->peers_lock, NULL);
    pthread_mutex_init(&s->image_lock, NULL);
    pthread_mutex_init(&s->stats_lock, NULL);
    pthread_mutex_init(&s->haptics_lock, NULL);
    pthread_mutex_init(&s->tool_lock, NULL);
    int rc = pthread_create(&s->thread, NULL, loop, s);
    if (rc != 0) {
        snprintf(err, err_len, "OpenIGTLink server: cannot start its thread: %s", strerror(rc));
        pthread_mutex_destroy(&s->peers_lock);
        pthread_mutex_destroy(&s->image_lock);
        pthread_mutex_destroy(&s->stats_lock);
        pthread_mutex_destroy(&s->haptics_lock);
        pthread_mutex_destroy(&s->tool_lock);
        goto fail;
    }
    return s;
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s);
    return NULL;
}

void igtl_server_destroy(igtl_server *s)
{
    if (!s)
        return;
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    wake(s);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < s->n_slots; i++)
        if (s->clients[i].fd >= 0)
            close_client(s, &s->clients[i]);
    for (int i = 0; i < s->n_pending; i++)
        close(s->pending_peer[i]);
    close(s->listen_fd);
    close(s->wake_fd);
    free(s->image_msg);
    pthread_mutex_destroy(&s->peers_lock);
    pthread_mutex_destroy(&s->image_lock);
    pthread_mutex_destroy(&s->stats_lock);
    pthread_mutex_destroy(&s->haptics_lock);
    pthread_mutex_destroy(&s->tool_lock);
    free(s);
}

int igtl_server_port(const igtl_server *s)
{
    return s->port;
}

void igtl_server_attach_haptics(igtl_server *s, haptics *h)
{
    pthread_mutex_lock(&s->haptics_lock);
    s->haptics = h;
    pthread_mutex_unlock(&s->haptics_lock);
}

void igtl_server_set_driver(igtl_server *s, driver *d)
{
    pthread_mutex_lock(&s->tool_lock);
    s->d = d;
    haptics_tool_init(&s->needle_tool, &s->def.tool);
    haptics_tool_init(&s->probe_tool, &s->def.tool);
    pthread_mutex_unlock(&s->tool_lock);
}

bool igtl_server_set_calibration(igtl_server *s, const igtl_calibration *c, char *err, size_t err_len)
{
    const char *bad = igtl_calibration_check(c);
    if (bad) {
        snprintf(err, err_len, "OpenIGTLink calibration: %s", bad);
        return false;
    }
    pthread_mutex_lock(&s->tool_lock);
    s->calib = *c;
    pthread_mutex_unlock(&s->tool_lock);
    return true;
}

bool igtl_server_latest_raw(igtl_server *s, igtl_tool tool, igtl_raw_pose *out)
{
    memset(out, 0, sizeof *out);
    if ((int)tool < 0 || tool >= IGTL_TOOL_COUNT)
        return false;
    pthread_mutex_lock(&s->tool_lock);
    *out = s->raw[tool];
    pthread_mutex_unlock(&s->tool_lock);
    return out->count > 0;
}

bool igtl_server_connect(igtl_server *s, const char *host, int port, int timeout_ms, char *err, size_t err_len)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(err, err_len, "cannot resolve %s: %s", host, gai_strerror(gai));
        return false;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool ok = fd >= 0;
    if (ok && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        ok = errno == EINPROGRESS;
        if (ok) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int soerr = 0;
            socklen_t l = sizeof soerr;
            ok = poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) == 0 && soerr == 0;
            if (!ok)
                errno = soerr ? soerr : ETIMEDOUT;
        }
    }
    freeaddrinfo(res);
    if (!ok) {
        snprintf(err, err_len, "cannot connect to %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    pthread_mutex_lock(&s->peers_lock);
    bool room = s->n_pending < 4;
    if (room)
        s->pending_peer[s->n_pending++] = fd;
    pthread_mutex_unlock(&s->peers_lock);
    if (!room) {
        snprintf(err, err_len, "too many peers being connected at once");
        close(fd);
        return false;
    }
    wake(s);
    return true;
}

void igtl_server_send_force(igtl_server *s, const haptics_force *f)
{
    haptics_seq_write(&s->force_seq, s->force_words, f, sizeof *f);
    wake(s);
}

void igtl_server_force_sink(void *ctx, const haptics_force *f)
{
    igtl_server_send_force(ctx, f);
}

bool igtl_server_send_image(igtl_server *s, const uint8_t *pixels, int cols, int rows, const igtl_image_geometry *g)
{
    size_t need = igtl_msg_image_bytes(cols, rows);
    if (need == 0 || need > s->def.out_queue_bytes)
        return false;
    /* In the phantom frame as it is (mm; Slicer takes it as RAS): index i runs along u
     * (lateral), j along w (depth), k along v; the message's origin is the image centre. */
    pthread_mutex_lock(&s->image_lock);
    bool ok = true;
    if (s->image_cap < need) {
        uint8_t *a = realloc(s->image_msg, need);
        ok = a != NULL;
        if (ok) {
            s->image_msg = a;
            s->image_cap = need;
        }
    }
    if (ok) {
        s->image_len = igtl_msg_pack_image(s->image_msg, s->image_cap, "Image", igtl_msg_timestamp(now_s(s)), pixels,
                                           cols, rows, g->spacing_mm, g->u, g->w, g->v, g->centre_mm);
        s->image_new = s->image_len > 0;
    }
    pthread_mutex_unlock(&s->image_lock);
    if (ok)
        wake(s);
    return ok;
}

igtl_server_stats igtl_server_get_stats(igtl_server *s)
{
    pthread_mutex_lock(&s->stats_lock);
    igtl_server_stats st = s->stats;
    pthread_mutex_unlock(&s->stats_lock);
    return st;
}
