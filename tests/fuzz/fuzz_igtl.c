/* fuzz_igtl: any bytes through the OpenIGTLink parser, as a connection would deliver them. The
 * input is fed to an igtl_stream in pieces whose sizes come from the input's own bytes; then
 * the same bytes go to igtl_msg_parse directly. Properties: the stream never holds more than
 * its fixed buffer, counts every message it hands out or drops, hands out only finite poses
 * with NUL-terminated names, gives the same messages whatever the pieces, and a pose it takes
 * packs back (float32) to one that parses to the same values. */
#include <math.h>
#include <string.h>

#include "fuzz_check.h"
#include "igtl_msg.h"

typedef struct seen {
    int n;
    double sum;
} seen;

static void check_msg(void *ctx, const igtl_msg *m)
{
    seen *s = ctx;
    FUZZ_CHECK(m->kind == IGTL_MSG_TRANSFORM || m->kind == IGTL_MSG_POSITION);
    FUZZ_CHECK(memchr(m->device, '\0', sizeof m->device) != NULL);
    FUZZ_CHECK(memchr(m->type, '\0', sizeof m->type) != NULL);
    for (int i = 0; i < 3; i++) {
        FUZZ_CHECK(isfinite(m->t[i]));
        s->sum += m->t[i];
        for (int j = 0; j < 3; j++)
            FUZZ_CHECK(isfinite(m->r[i][j]));
    }
    s->n++;
}

static void round_trip(const igtl_msg *m)
{
    uint8_t buf[128];
    size_t n = igtl_msg_pack_transform(buf, sizeof buf, m->device, m->timestamp, (const double(*)[3])m->r, m->t);
    FUZZ_CHECK(n == IGTL_MSG_HEADER_BYTES + 48);
    igtl_msg b;
    uint64_t used;
    FUZZ_CHECK(igtl_msg_parse(buf, n, &b, &used) == IGTL_PARSE_OK && used == n);
    FUZZ_CHECK(strcmp(b.device, m->device) == 0 && b.timestamp == m->timestamp);
    for (int i = 0; i < 3; i++) {
        FUZZ_CHECK(b.t[i] == (double)(float)m->t[i]);
        for (int j = 0; j < 3; j++)
            FUZZ_CHECK(b.r[i][j] == (double)(float)m->r[i][j]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* In one piece. */
    static igtl_stream whole, pieces;
    igtl_stream_init(&whole);
    seen a = {0};
    bool ok_whole = igtl_stream_feed(&whole, data, size, check_msg, &a);
    FUZZ_CHECK(whole.len <= sizeof whole.buf);
    FUZZ_CHECK(whole.stats.received == a.n);
    FUZZ_CHECK(whole.stats.dropped ==
               whole.stats.bad_crc + whole.stats.bad_size + whole.stats.unknown + whole.stats.too_long);

    /* In pieces of 1..16 bytes, sized by the data itself. */
    igtl_stream_init(&pieces);
    seen b = {0};
    bool ok_pieces = true;
    for (size_t off = 0; off < size && ok_pieces;) {
        size_t k = 1 + (data[off] & 15u);
        if (k > size - off)
            k = size - off;
        ok_pieces = igtl_stream_feed(&pieces, data + off, k, check_msg, &b);
        FUZZ_CHECK(pieces.len <= sizeof pieces.buf);
        off += k;
    }
    FUZZ_CHECK(ok_whole == ok_pieces);
    FUZZ_CHECK(a.n == b.n && (a.sum == b.sum || (isnan(a.sum) && isnan(b.sum))));
    FUZZ_CHECK(memcmp(&whole.stats, &pieces.stats, sizeof whole.stats) == 0);

    /* One message at the start, directly. */
    igtl_msg m;
    uint64_t used;
    igtl_parse_status st = igtl_msg_parse(data, size, &m, &used);
    FUZZ_CHECK(igtl_parse_status_name(st)[0] != '?');
    if (st == IGTL_PARSE_OK) {
        FUZZ_CHECK(used >= IGTL_MSG_HEADER_BYTES && used <= size);
        round_trip(&m);
    }
    if (st == IGTL_PARSE_NEED_MORE)
        FUZZ_CHECK(used == 0);
    return 0;
}
