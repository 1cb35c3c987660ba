/* igtl_msg: OpenIGTLink version-1 messages as bytes, without sockets.
 *
 * The wire format (openigtlink.org, protocol v1; the C API of Debian's libopenigtlink-dev 1.11):
 * a 58-byte header (version, type name, device name, 32.32 time stamp, body size, CRC-64 of
 * the body), all big-endian, then the body. Inbound we take TRANSFORM (48 bytes: 12 float32,
 * the rotation's columns then the translation) and POSITION (12, 24 or 28 bytes: position,
 * then an optional quaternion); outbound we write TRANSFORM, SENSOR (float64 values with a
 * unit) and IMAGE (8-bit scalar, the image's geometry in its header).
 *
 * igtl_stream is the framing a connection needs: bytes arrive in any pieces, igtl_stream_feed
 * hands out whole messages through a callback and drops (and counts) the bad ones:
 *   - a wrong CRC, a TRANSFORM or POSITION body of the wrong size: dropped, the stream goes on;
 *   - an unknown type, or a body longer than IGTL_MSG_MAX_BODY: skipped without being kept
 *     (the bytes are discarded as they arrive: memory stays at the fixed buffer);
 *   - a header whose version is not 1 or 2, or whose body size is absurd: the stream cannot be
 *     framed any more; igtl_stream_feed reports it and the connection is to be closed.
 * The stream owns no heap memory: its buffer is inside the struct.
 *
 * The packers write into caller buffers and return the bytes written (0 when it does not fit). */
#ifndef MESOSIM_IGTL_MSG_H
#define MESOSIM_IGTL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IGTL_MSG_HEADER_BYTES 58
#define IGTL_MSG_NAME_LEN 20         /* device names: 20 bytes on the wire, not NUL-terminated */
#define IGTL_MSG_MAX_BODY 1024       /* inbound bodies we keep; anything longer is skipped */
#define IGTL_MSG_MAX_SKIP (1ull << 32) /* a body size beyond this is taken for a broken stream */

typedef enum igtl_msg_kind {
    IGTL_MSG_TRANSFORM = 0,
    IGTL_MSG_POSITION,
    IGTL_MSG_OTHER          /* a well-framed message of a type we do not use */
} igtl_msg_kind;

/* A decoded inbound pose: rotation r[row][col] (for POSITION from its quaternion; identity
 * when it has none) and translation t, both in the sender's units (mm for trackers). */
typedef struct igtl_msg {
    igtl_msg_kind kind;
    char type[13];
    char device[IGTL_MSG_NAME_LEN + 1];
    uint64_t timestamp;     /* 32.32 fixed point seconds, 0 when the sender gave none */
    double r[3][3];
    double t[3];
} igtl_msg;

typedef enum igtl_parse_status {
    IGTL_PARSE_OK = 0,      /* a pose message in *out */
    IGTL_PARSE_NEED_MORE,   /* not enough bytes yet */
    IGTL_PARSE_BAD_CRC,
    IGTL_PARSE_BAD_SIZE,    /* a known type with a body of the wrong length */
    IGTL_PARSE_BAD_VALUE,   /* a pose with a NaN, an infinity or an absurd value */
    IGTL_PARSE_UNKNOWN,     /* a type we do not use: skipped */
    IGTL_PARSE_TOO_LONG,    /* a body over IGTL_MSG_MAX_BODY: skipped */
    IGTL_PARSE_BROKEN       /* a header that cannot be framed: close the connection */
} igtl_parse_status;

const char *igtl_parse_status_name(igtl_parse_status s);

/* Parses one message at the start of buf. On anything but NEED_MORE, *consumed is the bytes
 * the message takes (header + body; for UNKNOWN and TOO_LONG it may exceed len: skip the rest
 * as it comes). *out is filled for OK and gets the type and device name for the others. */
igtl_parse_status igtl_msg_parse(const uint8_t *buf, size_t len, igtl_msg *out, uint64_t *consumed);

typedef struct igtl_stream_stats {
    long long received;     /* pose messages handed out */
    long long dropped;      /* bad CRC, bad size, bad value, unknown type, too long */
    long long bad_crc, bad_size, unknown, too_long;
} igtl_stream_stats;

typedef struct igtl_stream {
    uint8_t buf[IGTL_MSG_HEADER_BYTES + IGTL_MSG_MAX_BODY];
    size_t len;
    uint64_t skip;          /* bytes still to discard of a skipped message */
    bool broken;
    igtl_stream_stats stats;
} igtl_stream;

void igtl_stream_init(igtl_stream *s);
/* Takes n bytes; calls on_msg(ctx, msg) for each good pose message. Returns false once the
 * stream is broken (then it takes no more bytes). */
bool igtl_stream_feed(igtl_stream *s, const uint8_t *bytes, size_t n,
                      void (*on_msg)(void *ctx, const igtl_msg *m), void *ctx);

/* ---- packers ------------------------------------------------------------------------------ */

/* Time stamp in 32.32 fixed point from seconds. */
uint64_t igtl_msg_timestamp(double t_s);
/* TRANSFORM: 58 + 48 bytes. r[row][col], t in mm. */
size_t igtl_msg_pack_transform(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                               const double r[3][3], const double t[3]);
/* POSITION with its quaternion (x, y, z, w): 58 + 28 bytes. */
size_t igtl_msg_pack_position(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                              const double p[3], const double q[4]);
/* SENSOR: n (<= 255) float64 values in newtons: 58 + 10 + 8n bytes. */
size_t igtl_msg_pack_sensor_newton(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                                   const double *values, int n);
/* IMAGE: one 8-bit slice of cols x rows pixels (row 0 first), spacing in mm, its orientation
 * (unit vectors along the columns index i and the rows index j, and the normal k) and the
 * position of the image centre, in RAS. 58 + 72 + cols*rows bytes. */
size_t igtl_msg_pack_image(uint8_t *buf, size_t cap, const char *device, uint64_t ts,
                           const uint8_t *pixels, int cols, int rows, const double spacing_mm[2],
                           const double norm_i[3], const double norm_j[3], const double norm_k[3],
                           const double centre_mm[3]);
size_t igtl_msg_image_bytes(int cols, int rows);

#endif
