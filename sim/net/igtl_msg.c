/* igtl_msg: see igtl_msg.h. Packing and the CRC go through Debian's OpenIGTLink C API (fill,
 * convert the body to network order, CRC over the network-order body, convert the header);
 * parsing copies the 58 header bytes into the library's packed struct and converts them back. */
#include "igtl_msg.h"

#include <math.h>
#include <string.h>

#include <igtl_header.h>
#include <igtl_image.h>
#include <igtl_position.h>
#include <igtl_sensor.h>
#include <igtl_transform.h>
#include <igtl_unit.h>
#include <igtl_util.h>

/* A tracker's coordinates beyond a kilometre are garbage, not a pose. */
#define IGTL_MAX_ABS_VALUE 1e6

const char *igtl_parse_status_name(igtl_parse_status s)
{
    switch (s) {
    case IGTL_PARSE_OK: return "ok";
    case IGTL_PARSE_NEED_MORE: return "need more bytes";
    case IGTL_PARSE_BAD_CRC: return "wrong CRC";
    case IGTL_PARSE_BAD_SIZE: return "wrong body size for its type";
    case IGTL_PARSE_BAD_VALUE: return "not a finite pose";
    case IGTL_PARSE_UNKNOWN: return "unknown type";
    case IGTL_PARSE_TOO_LONG: return "body too long";
    case IGTL_PARSE_BROKEN: return "unframeable header";
    }
    return "?";
}

/* The fixed-width name fields: up to n bytes, stopped at the first NUL. */
static void copy_name(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static void put_name(char *dst, const char *src, size_t n)
{
    memset(dst, 0, n);
    size_t l = strlen(src);
    memcpy(dst, src, l < n ? l : n);
}

static bool finite_pose(const igtl_msg *m)
{
    for (int i = 0; i < 3; i++) {
        if (!isfinite(m->t[i]) || fabs(m->t[i]) > IGTL_MAX_ABS_VALUE)
            return false;
        for (int j = 0; j < 3; j++)
            if (!isfinite(m->r[i][j]) || fabs(m->r[i][j]) > IGTL_MAX_ABS_VALUE)
                return false;
    }
    return true;
}

static void quat_to_matrix(const double q[4], double r[3][3])
{
    double x = q[0], y = q[1], z = q[2], w = q[3];
    double n = sqrt(x * x + y * y + z * z + w * w);
    if (!(n > 1e-12)) {
        memset(r, 0, 9 * sizeof(double));
        r[0][0] = r[1][1] = r[2][2] = 1.0;
        return;
    }
    x /= n, y /= n, z /= n, w /= n;
    r[0][0] = 1 - 2 * (y * y + z * z), r[0][1] = 2 * (x * y - z * w), r[0][2] = 2 * (x * z + y * w);
    r[1][0] = 2 * (x * y + z * w), r[1][1] = 1 - 2 * (x * x + z * z), r[1][2] = 2 * (y * z - x * w);
    r[2][0] = 2 * (x * z - y * w), r[2][1] = 2 * (y * z + x * w), r[2][2] = 1 - 2 * (x * x + y * y);
}

static igtl_parse_status parse_body(const char *type, const uint8_t *body, uint64_t size, igtl_msg *out)
{
    if (!strcmp(type, "TRANSFORM")) {
        if (size != IGTL_TRANSFORM_SIZE)
            return IGTL_PARSE_BAD_SIZE;
        igtl_float32 f[12];
        memcpy(f, body, sizeof f);
        igtl_transform_convert_byte_order(f);
        out->kind = IGTL_MSG_TRANSFORM;
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 3; r++)
                out->r[r][c] = f[c * 3 + r];
        for (int i = 0; i < 3; i++)
            out->t[i] = f[9 + i];
    } else if (!strcmp(type, "POSITION")) {
        if (size != IGTL_POSITION_MESSAGE_DEFAULT_SIZE && size != IGTL_POSITION_MESSAGE_POSITON_ONLY_SIZE &&
            size != IGTL_POSITION_MESSAGE_WITH_QUATERNION3_SIZE)
            return IGTL_PARSE_BAD_SIZE;
        igtl_position p;
        memset(&p, 0, sizeof p);
        memcpy(&p, body, (size_t)size);
        if (size == IGTL_POSITION_MESSAGE_DEFAULT_SIZE)
            igtl_position_convert_byte_order(&p);
        else if (size == IGTL_POSITION_MESSAGE_POSITON_ONLY_SIZE)
            igtl_position_convert_byte_order_position_only(&p);
        else
            igtl_position_convert_byte_order_quaternion3(&p);
        double q[4] = {p.quaternion[0], p.quaternion[1], p.quaternion[2], p.quaternion[3]};
        if (size == IGTL_POSITION_MESSAGE_POSITON_ONLY_SIZE) {
            q[0] = q[1] = q[2] = 0.0, q[3] = 1.0;
        } else if (size == IGTL_POSITION_MESSAGE_WITH_QUATERNION3_SIZE) {
            /* Three components sent; w recovered as the positive root (the spec's rule). */
            double s = 1.0 - q[0] * q[0] - q[1] * q[1] - q[2] * q[2];
            q[3] = s > 0.0 ? sqrt(s) : 0.0;
        }
        for (int i = 0; i < 4; i++)
            if (!isfinite(q[i]))
                return IGTL_PARSE_BAD_VALUE;
        out->kind = IGTL_MSG_POSITION;
        quat_to_matrix(q, out->r);
        for (int i = 0; i < 3; i++)
            out->t[i] = p.position[i];
    } else {
        return IGTL_PARSE_UNKNOWN;
    }
    return finite_pose(out) ? IGTL_PARSE_OK : IGTL_PARSE_BAD_VALUE;
}

igtl_parse_status igtl_msg_parse(const uint8_t *buf, size_t len, igtl_msg *out, uint64_t *consumed)
{
    *consumed = 0;
    if (len < IGTL_MSG_HEADER_BYTES)
        return IGTL_PARSE_NEED_MORE;
    igtl_header h;
    memcpy(&h, buf, IGTL_MSG_HEADER_BYTES);
    igtl_header_convert_byte_order(&h);
    memset(out, 0, sizeof *out);
    out->kind = IGTL_MSG_OTHER;
    copy_name(out->type, h.name, IGTL_HEADER_TYPE_SIZE);
    copy_name(out->device, h.device_name, IGTL_HEADER_NAME_SIZE);
    out->timestamp = h.timestamp;
    /* Version 2 keeps the v1 header and puts its extended header inside the body; its poses
     * then do not have the v1 sizes and are dropped as such, but the stream stays framed. */
    if ((h.version != 1 && h.version != 2) || h.body_size > IGTL_MSG_MAX_SKIP)
        return IGTL_PARSE_BROKEN;
    uint64_t total = IGTL_MSG_HEADER_BYTES + h.body_size;
    bool known = !strcmp(out->type, "TRANSFORM") || !strcmp(out->type, "POSITION");
    if (!known) {
        *consumed = total;
        return IGTL_PARSE_UNKNOWN;
    }
    if (h.body_size > IGTL_MSG_MAX_BODY) {
        *consumed = total;
        return IGTL_PARSE_TOO_LONG;
    }
    if (len < total)
        return IGTL_PARSE_NEED_MORE;
    *consumed = total;
    const uint8_t *body = buf + IGTL_MSG_HEADER_BYTES;
    if (crc64((unsigned char *)body, h.body_size, 0) != h.crc)
        return IGTL_PARSE_BAD_CRC;
    return parse_body(out->type, body, h.body_size, out);
}

void igtl_stream_init(igtl_stream *s)
{
    memset(s, 0, sizeof *s);
}

bool igtl_stream_feed(igtl_stream *s, const uint8_t *bytes, size_t n,
                      void (*on_msg)(void *ctx, const igtl_msg *m), void *ctx)
{
    while (n > 0 && !s->broken) {
        if (s->skip > 0) {
            size_t k = s->skip < n ? (size_t)s->skip : n;
            s->skip -= k, bytes += k, n -= k;
            continue;
        }
        size_t room = sizeof s->buf - s->len;
        size_t k = n < room ? n : room;
        memcpy(s->buf + s->len, bytes, k);
        s->len += k, bytes += k, n -= k;
        /* Hand out every whole message now in the buffer. */
        for (;;) {
            igtl_msg m;
            uint64_t used;
            igtl_parse_status st = igtl_msg_parse(s->buf, s->len, &m, &used);
            if (st == IGTL_PARSE_NEED_MORE)
                break;
            if (st == IGTL_PARSE_BROKEN) {
                s->broken = true;
                s->len = 0;
                return false;
            }
            switch (st) {
            case IGTL_PARSE_OK: s->stats.received++; break;
            case IGTL_PARSE_BAD_CRC: s->stats.bad_crc++; s->stats.dropped++; break;
            case IGTL_PARSE_BAD_SIZE:
            case IGTL_PARSE_BAD_VALUE: s->stats.bad_size++; s->stats.dropped++; break;
            case IGTL_PARSE_UNKNOWN: s->stats.unknown++; s->stats.dropped++; break;
            case IGTL_PARSE_TOO_LONG: s->stats.too_long++; s->stats.dropped++; break;
            default: break;
            }
            if (used >= s->len) {
                s->skip = used - s->len;
                s->len = 0;
            } else {
                memmove(s->buf, s->buf + used, s->len - (size_t)used);
                s->len -= (size_t)used;
            }
            if (st == IGTL_PARSE_OK && on_msg)
                on_msg(ctx, &m);
            if (s->len == 0)
                break;
        }
    }
    return !s->broken;
}

/* ---- packers ------------------------------------------------------------------------------ */

uint64_t igtl_msg_timestamp(double t_s)
{
    if (!(t_s > 0.0))
        return 0;
    double sec = floor(t_s);
    uint32_t frac = igtl_nanosec_to_frac((igtl_uint32)((t_s - sec) * 1e9));
    return ((uint64_t)(uint32_t)sec << 32) | frac;
}

static void fill_header(uint8_t *buf, const char *type, const char *device, uint64_t ts, uint64_t body_size,
                        uint64_t crc)
{
    igtl_header h;
    memset(&h, 0, sizeof h);
    h.version = IGTL_HEADER_VERSION;
    put_name(h.name, type, IGTL_HEADER_TYPE_SIZE);
    put_name(h.device_name, device, IGTL_HEADER_NAME_SIZE);
    h.timestamp = ts;
    h.body_size = body_size;
    h.crc = crc;
    igtl_header_convert_byte_order(&h);
    memcpy(buf, &h, IGTL_MSG_HEADER_BYTES);
}

size_t igtl_msg_pack_transform(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                               const double r[3][3], const double t[3])
{
    size_t need = IGTL_MSG_HEADER_BYTES + IGTL_TRANSFORM_SIZE;
    if (cap < need)
        return 0;
    igtl_float32 f[12];
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++)
            f[c * 3 + k] = (igtl_float32)r[k][c];
    for (int i = 0; i < 3; i++)
        f[9 + i] = (igtl_float32)t[i];
    igtl_transform_convert_byte_order(f);
    fill_header(buf, "TRANSFORM", device, ts, IGTL_TRANSFORM_SIZE, igtl_transform_get_crc(f));
    memcpy(buf + IGTL_MSG_HEADER_BYTES, f, IGTL_TRANSFORM_SIZE);
    return need;
}

size_t igtl_msg_pack_position(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                              const double p[3], const double q[4])
{
    size_t need = IGTL_MSG_HEADER_BYTES + IGTL_POSITION_MESSAGE_DEFAULT_SIZE;
    if (cap < need)
        return 0;
    igtl_position pos;
    for (int i = 0; i < 3; i++)
        pos.position[i] = (igtl_float32)p[i];
    for (int i = 0; i < 4; i++)
        pos.quaternion[i] = (igtl_float32)q[i];
    igtl_position_convert_byte_order(&pos);
    fill_header(buf, "POSITION", device, ts, IGTL_POSITION_MESSAGE_DEFAULT_SIZE, igtl_position_get_crc(&pos));
    memcpy(buf + IGTL_MSG_HEADER_BYTES, &pos, IGTL_POSITION_MESSAGE_DEFAULT_SIZE);
    return need;
}

size_t igtl_msg_pack_sensor_newton(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                                   const double *values, int n)
{
    if (n < 0 || n > 255)
        return 0;
    size_t body = IGTL_SENSOR_HEADER_SIZE + 8u * (size_t)n;
    if (cap < IGTL_MSG_HEADER_BYTES + body)
        return 0;
    igtl_unit_data u;
    igtl_unit_init(&u);
    u.prefix = IGTL_UNIT_PREFIX_NONE;
    u.unit[0] = IGTL_UNIT_SI_DERIVED_NEWTON;
    u.exp[0] = 1;
    igtl_sensor_header sh;
    sh.larray = (igtl_uint8)n;
    sh.status = 0;
    sh.unit = igtl_unit_pack(&u);
    igtl_float64 data[255];
    for (int i = 0; i < n; i++)
        data[i] = values[i];
    igtl_sensor_convert_byte_order(&sh, data);
    uint64_t crc = igtl_sensor_get_crc(&sh, data);
    fill_header(buf, "SENSOR", device, ts, body, crc);
    memcpy(buf + IGTL_MSG_HEADER_BYTES, &sh, IGTL_SENSOR_HEADER_SIZE);
    memcpy(buf + IGTL_MSG_HEADER_BYTES + IGTL_SENSOR_HEADER_SIZE, data, 8u * (size_t)n);
    return IGTL_MSG_HEADER_BYTES + body;
}

size_t igtl_msg_image_bytes(int cols, int rows)
{
    if (cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535)
        return 0;
    return IGTL_MSG_HEADER_BYTES + IGTL_IMAGE_HEADER_SIZE + (size_t)cols * (size_t)rows;
}

size_t igtl_msg_pack_image(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                           const uint8_t *pixels, int cols, int rows, const double spacing_mm[2],
                           const double norm_i[3], const double norm_j[3], const double norm_k[3],
                           const double centre_mm[3])
{
    size_t need = igtl_msg_image_bytes(cols, rows);
    if (need == 0 || cap < need)
        return 0;
    igtl_image_header ih;
    memset(&ih, 0, sizeof ih);
    ih.version = IGTL_IMAGE_HEADER_VERSION;
    ih.num_components = 1;
    ih.scalar_type = IGTL_IMAGE_STYPE_TYPE_UINT8;
    ih.endian = IGTL_IMAGE_ENDIAN_BIG; /* one byte per pixel: either reads the same */
    ih.coord = IGTL_IMAGE_COORD_RAS;
    ih.size[0] = (igtl_uint16)cols;
    ih.size[1] = (igtl_uint16)rows;
    ih.size[2] = 1;
    ih.subvol_size[0] = (igtl_uint16)cols;
    ih.subvol_size[1] = (igtl_uint16)rows;
    ih.subvol_size[2] = 1;
    float sp[3] = {(float)spacing_mm[0], (float)spacing_mm[1], 1.0f};
    float org[3], ni[3], nj[3], nk[3];
    for (int i = 0; i < 3; i++) {
        org[i] = (float)centre_mm[i];
        ni[i] = (float)norm_i[i], nj[i] = (float)norm_j[i], nk[i] = (float)norm_k[i];
    }
    igtl_image_set_matrix(sp, org, ni, nj, nk, &ih);
    uint8_t *body = buf + IGTL_MSG_HEADER_BYTES;
    size_t npix = (size_t)cols * (size_t)rows;
    igtl_image_convert_byte_order(&ih);
    memcpy(body, &ih, IGTL_IMAGE_HEADER_SIZE);
    memcpy(body + IGTL_IMAGE_HEADER_SIZE, pixels, npix);
    uint64_t crc = crc64(body, IGTL_IMAGE_HEADER_SIZE + npix, 0);
    fill_header(buf, "IMAGE", device, ts, IGTL_IMAGE_HEADER_SIZE + npix, crc);
    return need;
}
