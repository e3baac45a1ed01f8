/*
 * rtmp_chunk.c: the RTMP chunk stream (spec section 5.3): chunk headers and
 * payload pieces in, whole messages out; whole messages in, chunks out.
 *
 * Owns: chunk header compression state per chunk stream (csid), message
 * reassembly, the peer's chunk size, Set Chunk Size and Abort. Does not
 * own: what a message means (commands, media, acks are the session's), the
 * socket, or our own outgoing chunk size policy.
 *
 * Invariant: the reader is a byte-exact state machine; its result never
 * depends on how the input is split. When lc_rtmp_chunk_feed() returns with
 * *got == 0 it has consumed all of the input (bytes it must look at twice
 * are kept in r->pb, never handed back), so a caller can feed whatever
 * recv() gave it, drop it, and read again.
 *
 * Memory: a partial message's buffer grows with the bytes that actually
 * arrived, not with the length its header claims, so LC_RTMP_MAX_CSID
 * headers announcing max_message each cost nothing until data follows;
 * the bytes that do arrive are counted (r->held, and the shared budget)
 * and bounded as rtmp_chunk.h says.
 */
#include "common/rtmp/rtmp_chunk.h"

#include <stdlib.h>
#include <string.h>

#define TS_MARK 0xffffffu           /* 24-bit field value that means "see extended" */
#define CSID_MAX_ENCODABLE 65599u   /* 3-byte basic header: 64 + 65535 */
#define HDR_MAX (3 + 11 + 4)

enum { PH_BASIC0, PH_BASIC, PH_MSG, PH_EXT, PH_EXT_PEEK, PH_PAYLOAD };

typedef struct {
    uint32_t csid;
    int opened;             /* a fmt 0 header was applied */
    uint32_t ts;            /* absolute timestamp of the current/last message */
    uint32_t delta;         /* what a fmt 3 header starting a new message adds */
    uint32_t len;
    uint8_t type;
    uint32_t stream_id;
    int ext;                /* last fmt 0..2 header carried an extended timestamp */
    uint32_t ext_field;     /* its value, which fmt 3 chunks may repeat */
    int in_msg;             /* a message is being reassembled */
    uint8_t *buf;
    uint32_t got;
    uint32_t cap;
} chunk_stream_t;

struct lc_rtmp_chunk_reader {
    uint32_t max_message;
    uint32_t chunk_size;
    const char *failed;     /* sticky: a protocol error ends the stream */

    chunk_stream_t cs[LC_RTMP_MAX_CSID];
    int ncs;
    int partials;           /* chunk streams with in_msg set */
    size_t held;            /* sum of got over partial messages */
    size_t max_held;
    lc_rtmp_chunk_budget_t *budget;

    int phase;
    uint8_t hdr[HDR_MAX];   /* the chunk header being collected */
    size_t hdr_len;
    size_t hdr_need;
    size_t basic_len;
    int fmt;
    chunk_stream_t *cur;
    uint32_t chunk_left;    /* payload bytes of the current chunk still to come */

    /* Bytes already consumed from the caller that must be parsed again:
     * an optional extended timestamp that turned out to be payload. */
    uint8_t pb[8];
    size_t pb_len;
};

static uint32_t rd_be(const uint8_t *p, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void drop_message(lc_rtmp_chunk_reader_t *r, chunk_stream_t *st);

/* A failed reader never reads again: what it held goes back at once (and
 * to the budget), not when the session is finally freed. */
static long fail(lc_rtmp_chunk_reader_t *r, const char **err, const char *why)
{
    for (int i = 0; i < r->ncs; i++)
        drop_message(r, &r->cs[i]);
    r->failed = why;
    if (err != NULL)
        *err = why;
    return -1;
}

lc_rtmp_chunk_reader_t *lc_rtmp_chunk_reader_new(uint32_t max_message)
{
    lc_rtmp_chunk_reader_t *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->max_message = max_message;
    r->max_held = 2 * (size_t)max_message;
    r->chunk_size = LC_RTMP_DEFAULT_CHUNK;
    r->phase = PH_BASIC0;
    r->hdr_need = 1;
    return r;
}

void lc_rtmp_chunk_reader_free(lc_rtmp_chunk_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->budget != NULL)
        r->budget->used -= r->held;
    for (int i = 0; i < r->ncs; i++)
        free(r->cs[i].buf);
    free(r);
}

void lc_rtmp_chunk_reader_set_budget(lc_rtmp_chunk_reader_t *r, lc_rtmp_chunk_budget_t *b)
{
    if (r->budget != NULL)
        r->budget->used -= r->held;
    r->budget = b;
    if (b != NULL)
        b->used += r->held;
}

size_t lc_rtmp_chunk_reader_held(const lc_rtmp_chunk_reader_t *r)
{
    return r->held;
}

uint32_t lc_rtmp_chunk_reader_chunk_size(const lc_rtmp_chunk_reader_t *r)
{
    return r->chunk_size;
}

static chunk_stream_t *find_cs(lc_rtmp_chunk_reader_t *r, uint32_t csid)
{
    for (int i = 0; i < r->ncs; i++)
        if (r->cs[i].csid == csid)
            return &r->cs[i];
    return NULL;
}

/* The message on st no longer counts as partial (delivered or dropped). */
static void release(lc_rtmp_chunk_reader_t *r, chunk_stream_t *st)
{
    if (!st->in_msg)
        return;
    r->held -= st->got;
    if (r->budget != NULL)
        r->budget->used -= st->got;
    r->partials--;
    st->in_msg = 0;
}

static void drop_message(lc_rtmp_chunk_reader_t *r, chunk_stream_t *st)
{
    release(r, st);
    free(st->buf);
    st->buf = NULL;
    st->got = st->cap = 0;
    st->in_msg = 0;
}

static void start_header(lc_rtmp_chunk_reader_t *r)
{
    r->phase = PH_BASIC0;
    r->hdr_len = 0;
    r->hdr_need = 1;
    r->cur = NULL;
}

/* The basic header is complete: find (fmt 0: create) its chunk stream. */
static long basic_done(lc_rtmp_chunk_reader_t *r, const char **err)
{
    static const size_t msg_len[4] = { 11, 7, 3, 0 };
    uint32_t csid = r->hdr[0] & 0x3f;
    chunk_stream_t *st;

    if (csid == 0)
        csid = 64 + r->hdr[1];
    else if (csid == 1)
        csid = 64 + r->hdr[1] + ((uint32_t)r->hdr[2] << 8);
    st = find_cs(r, csid);
    if (r->fmt != 0 && (st == NULL || !st->opened))
        return fail(r, err, "chunk stream not opened with fmt 0");
    if (st == NULL) {
        if (r->ncs == LC_RTMP_MAX_CSID)
            return fail(r, err, "too many chunk streams");
        st = &r->cs[r->ncs++];
        memset(st, 0, sizeof *st);
        st->csid = csid;
    }
    r->cur = st;
    r->hdr_need = r->basic_len + msg_len[r->fmt];
    r->phase = PH_MSG;
    return 0;
}

/* Grow a message buffer to hold `need` bytes, at most the message length. */
static int grow(chunk_stream_t *st, uint32_t need)
{
    uint32_t ncap;
    uint8_t *nb;

    if (need <= st->cap)
        return 0;
    ncap = st->cap >= 0x80000000u ? st->len : st->cap * 2;
    if (ncap < 4096)
        ncap = 4096;
    if (ncap < need)
        ncap = need;
    if (ncap > st->len)
        ncap = st->len;
    nb = realloc(st->buf, ncap);
    if (nb == NULL)
        return -1;
    st->buf = nb;
    st->cap = ncap;
    return 0;
}

static long deliver(lc_rtmp_chunk_reader_t *r, chunk_stream_t *st, lc_rtmp_msg_t *msg, int *got,
                    const char **err);

/* The whole chunk header is in r->hdr: update the chunk stream and begin
 * (or continue) its message. ext is the extended timestamp, if one came. */
static long apply_header(lc_rtmp_chunk_reader_t *r, int has_ext, uint32_t ext, lc_rtmp_msg_t *msg,
                         int *got, const char **err)
{
    chunk_stream_t *st = r->cur;
    const uint8_t *h = r->hdr + r->basic_len;

    if (r->fmt < 3) {
        uint32_t field = has_ext ? ext : rd_be(h, 3);

        if (r->fmt <= 1) {
            uint32_t len = rd_be(h + 3, 3);

            if (st->in_msg && len != st->len)
                return fail(r, err, "message length changed mid-message");
            st->len = len;
            st->type = h[6];
        }
        if (r->fmt == 0) {
            /* the message stream id is the one little-endian field of RTMP */
            st->stream_id = h[7] | (uint32_t)h[8] << 8 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 24;
            st->ts = field;
            st->opened = 1;
        } else {
            st->ts += field;
        }
        /* Spec 5.3.1.2.4: a fmt 3 chunk after a fmt 0 one adds the fmt 0
         * timestamp as its delta (FFmpeg reads it so; nginx-rtmp adds 0). */
        st->delta = field;
        st->ext = has_ext;
        st->ext_field = ext;
    } else if (!st->in_msg) {
        st->ts += st->delta;
    }

    if (!st->in_msg) {
        if (st->len > r->max_message)
            return fail(r, err, "message too long");
        if (r->partials == LC_RTMP_MAX_PARTIAL)
            return fail(r, err, "too many partial messages in flight");
        r->partials++;
        st->in_msg = 1;
        st->got = 0;
    }
    r->chunk_left = st->len - st->got;
    if (r->chunk_left > r->chunk_size)
        r->chunk_left = r->chunk_size;
    r->phase = PH_PAYLOAD;
    if (r->chunk_left == 0)             /* a zero-length message: done now */
        return deliver(r, st, msg, got, err);
    return 0;
}

/* Header bytes r->hdr[0..hdr_need) are in: move to the next phase. */
static long header_step(lc_rtmp_chunk_reader_t *r, lc_rtmp_msg_t *msg, int *got, const char **err)
{
    const uint8_t *x;
    uint32_t v;

    switch (r->phase) {
    case PH_BASIC0:
        r->fmt = r->hdr[0] >> 6;
        r->basic_len = (r->hdr[0] & 0x3f) == 0 ? 2 : (r->hdr[0] & 0x3f) == 1 ? 3 : 1;
        if (r->basic_len > 1) {
            r->hdr_need = r->basic_len;
            r->phase = PH_BASIC;
            return 0;
        }
        return basic_done(r, err);
    case PH_BASIC:
        return basic_done(r, err);
    case PH_MSG:
        if (r->fmt < 3 && rd_be(r->hdr + r->basic_len, 3) == TS_MARK) {
            r->hdr_need += 4;
            r->phase = PH_EXT;
            return 0;
        }
        if (r->fmt == 3 && r->cur->ext) {
            /* Chunks continuing an extended-timestamp message should repeat
             * it (FFmpeg, Flash) but some encoders don't; look and see. */
            r->hdr_need += 4;
            r->phase = PH_EXT_PEEK;
            return 0;
        }
        return apply_header(r, 0, 0, msg, got, err);
    case PH_EXT:
        return apply_header(r, 1, rd_be(r->hdr + r->hdr_len - 4, 4), msg, got, err);
    case PH_EXT_PEEK:
        x = r->hdr + r->hdr_len - 4;
        v = rd_be(x, 4);
        if (v == r->cur->ext_field)
            return apply_header(r, 0, 0, msg, got, err);
        /* Not a repeat: those four bytes are payload (or even the next
         * chunk's header) and go through the state machine again. */
        memcpy(r->pb, x, 4);
        r->pb_len = 4;
        return apply_header(r, 0, 0, msg, got, err);
    default:
        return fail(r, err, "internal: bad reader phase");
    }
}

static long apply_control(lc_rtmp_chunk_reader_t *r, const lc_rtmp_msg_t *m, const char **err)
{
    uint32_t v;

    if (m->type != LC_RTMP_SET_CHUNK_SIZE && m->type != LC_RTMP_ABORT)
        return 0;
    if (m->len < 4)
        return fail(r, err, m->type == LC_RTMP_ABORT ? "abort message too short"
                                                     : "set chunk size message too short");
    v = rd_be(m->payload, 4);
    if (m->type == LC_RTMP_SET_CHUNK_SIZE) {
        if (v == 0 || v > LC_RTMP_MAX_CHUNK_ACCEPTED)   /* also catches the high bit */
            return fail(r, err, "chunk size out of range");
        r->chunk_size = v;
    } else {
        chunk_stream_t *st = find_cs(r, v);

        if (st != NULL)
            drop_message(r, st);
    }
    return 0;
}

static long deliver(lc_rtmp_chunk_reader_t *r, chunk_stream_t *st, lc_rtmp_msg_t *msg, int *got,
                    const char **err)
{
    lc_rtmp_msg_t m;

    m.csid = st->csid;
    m.type = st->type;
    m.timestamp = st->ts;
    m.stream_id = st->stream_id;
    m.len = st->len;
    /* a zero-length message still gets a buffer: callers may memcpy from it */
    m.payload = st->len > 0 ? st->buf : malloc(1);
    if (m.payload == NULL)
        return fail(r, err, "out of memory");
    release(r, st);
    st->buf = NULL;
    st->got = st->cap = 0;
    start_header(r);
    if (apply_control(r, &m, err) < 0) {
        free(m.payload);
        return -1;
    }
    *msg = m;
    *got = 1;
    return 0;
}

/* Run the state machine over p[0..n). Stops after a message (*got), at an
 * error, when input runs out, or when bytes were pushed back into r->pb
 * (they come before the rest of p). *used says how far it got. */
static long step(lc_rtmp_chunk_reader_t *r, const uint8_t *p, size_t n, size_t *used,
                 lc_rtmp_msg_t *msg, int *got, const char **err)
{
    size_t i = 0;

    while (i < n && !*got && r->pb_len == 0) {
        if (r->phase == PH_PAYLOAD) {
            chunk_stream_t *st = r->cur;
            size_t take = n - i < r->chunk_left ? n - i : r->chunk_left;

            if (r->held + take > r->max_held) {
                *used = i;
                return fail(r, err, "partial messages over the connection's limit (2 x the message limit)");
            }
            if (r->budget != NULL && r->budget->used + take > r->budget->limit) {
                *used = i;
                return fail(r, err, "partial messages over the worker's limit (all RTMP connections)");
            }
            if (grow(st, st->got + (uint32_t)take) < 0) {
                *used = i;
                return fail(r, err, "out of memory");
            }
            memcpy(st->buf + st->got, p + i, take);
            st->got += (uint32_t)take;
            r->held += take;
            if (r->budget != NULL)
                r->budget->used += take;
            r->chunk_left -= (uint32_t)take;
            i += take;
            if (r->chunk_left > 0)
                break;
            if (st->got == st->len) {
                if (deliver(r, st, msg, got, err) < 0) {
                    *used = i;
                    return -1;
                }
            } else {
                start_header(r);
            }
            continue;
        }
        size_t take = r->hdr_need - r->hdr_len;

        if (take > n - i)
            take = n - i;
        memcpy(r->hdr + r->hdr_len, p + i, take);
        r->hdr_len += take;
        i += take;
        /* A phase may complete without more bytes (fmt 3 has no message
         * header), hence the loop. */
        while (r->phase != PH_PAYLOAD && r->hdr_len == r->hdr_need && !*got && r->pb_len == 0) {
            if (header_step(r, msg, got, err) < 0) {
                *used = i;
                return -1;
            }
        }
    }
    *used = i;
    return 0;
}

long lc_rtmp_chunk_feed(lc_rtmp_chunk_reader_t *r, const uint8_t *buf, size_t len, lc_rtmp_msg_t *msg,
                        int *got, const char **err)
{
    size_t used = 0;

    *got = 0;
    if (r->failed != NULL) {
        if (err != NULL)
            *err = r->failed;
        return -1;
    }
    for (;;) {
        size_t u;

        if (r->pb_len > 0) {
            uint8_t tmp[sizeof r->pb];
            size_t n = r->pb_len;

            memcpy(tmp, r->pb, n);
            r->pb_len = 0;
            if (step(r, tmp, n, &u, msg, got, err) < 0)
                return -1;
            if (u < n) {
                /* A new push-back is older input than what is left here. */
                if (r->pb_len + (n - u) > sizeof r->pb)
                    return fail(r, err, "internal: push-back overflow");
                memcpy(r->pb + r->pb_len, tmp + u, n - u);
                r->pb_len += n - u;
            }
        } else {
            if (used == len)
                return (long)used;
            if (step(r, buf + used, len - used, &u, msg, got, err) < 0)
                return -1;
            used += u;
        }
        if (*got)
            return (long)used;
    }
}

/* ---- writer ---- */

static size_t put_basic(uint8_t *p, int fmt, uint32_t csid)
{
    if (csid < 64) {
        p[0] = (uint8_t)(fmt << 6 | csid);
        return 1;
    }
    if (csid < 320) {
        p[0] = (uint8_t)(fmt << 6);
        p[1] = (uint8_t)(csid - 64);
        return 2;
    }
    p[0] = (uint8_t)(fmt << 6 | 1);
    p[1] = (uint8_t)((csid - 64) & 0xff);
    p[2] = (uint8_t)((csid - 64) >> 8);
    return 3;
}

static void wr_be(uint8_t *p, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* The size does not depend on the csid in the API, so this is the bound
 * for the widest (3-byte) basic header; lc_rtmp_chunk_write() returns the
 * exact count, up to 2 bytes a chunk less for csids below 320. A chunk size
 * of 0 means the default, as in the writer; 0 is returned for a length
 * the 24-bit field cannot carry. */
size_t lc_rtmp_chunk_size_of(uint32_t len, uint32_t chunk_size, uint32_t timestamp)
{
    size_t ext = timestamp >= TS_MARK ? 4 : 0;
    size_t chunks;

    if (len > 0xffffff)
        return 0;
    if (chunk_size == 0)
        chunk_size = LC_RTMP_DEFAULT_CHUNK;
    chunks = len == 0 ? 1 : ((size_t)len + chunk_size - 1) / chunk_size;
    return 3 + 11 + ext + len + (chunks - 1) * (3 + ext);
}

/* Returns 0 (writes nothing) for a csid outside 2..65599 or a length over
 * 24 bits: both are caller bugs a peer must never see on the wire. */
size_t lc_rtmp_chunk_write(uint8_t *out, uint32_t csid, uint8_t type, uint32_t timestamp, uint32_t stream_id,
                           const uint8_t *payload, uint32_t len, uint32_t chunk_size)
{
    int ext = timestamp >= TS_MARK;
    uint8_t *p = out;
    uint32_t off = 0;

    if (csid < 2 || csid > CSID_MAX_ENCODABLE || len > 0xffffff)
        return 0;
    if (chunk_size == 0)
        chunk_size = LC_RTMP_DEFAULT_CHUNK;
    p += put_basic(p, 0, csid);
    wr_be(p, ext ? TS_MARK : timestamp, 3);
    wr_be(p + 3, len, 3);
    p[6] = type;
    p[7] = (uint8_t)stream_id;
    p[8] = (uint8_t)(stream_id >> 8);
    p[9] = (uint8_t)(stream_id >> 16);
    p[10] = (uint8_t)(stream_id >> 24);
    p += 11;
    if (ext) {
        wr_be(p, timestamp, 4);
        p += 4;
    }
    for (;;) {
        uint32_t n = len - off < chunk_size ? len - off : chunk_size;

        if (n > 0)
            memcpy(p, payload + off, n);
        p += n;
        off += n;
        if (off >= len)
            break;
        p += put_basic(p, 3, csid);
        /* repeated in every fmt 3 chunk, which is what FFmpeg requires */
        if (ext) {
            wr_be(p, timestamp, 4);
            p += 4;
        }
    }
    return (size_t)(p - out);
}
