/*
 * cdn_msg.c: see cdn_msg.h. yajl's tree parser does the JSON, yajl_gen
 * writes it; this file owns the shape of each message, declared once in
 * msg_types[] (which fields a type carries), a table that drives both the
 * parser and the builder so the two cannot disagree. It does not own what
 * a message means: members, pulls and routes live in src/relay.
 *
 * The invariant: whatever lc_cdn_msg_parse accepts, lc_cdn_msg_build
 * writes back to text that parses to the same message (version aside, the
 * builder always writes LC_CDN_PROTO_VERSION). That is why over-long
 * reasons are cut on a UTF-8 boundary and why "\u0000" is refused rather
 * than silently cutting a name short. tests/fuzz/fuzz_cdn_msg.c checks it.
 */
#include "common/cdn/cdn_msg.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/json/json_guard.h"

#define FRAME_VERSION 1
#define FRAME_FLAGS (LC_FRAME_KEY | LC_FRAME_CONFIG | LC_FRAME_META)

enum {
    F_NODE = 1 << 0,   /* "node": sender address */
    F_ROLE = 1 << 1,   /* "role": "origin" | "edge" */
    F_SERIAL = 1 << 2, /* "serial": non-negative integer */
    F_LISTS = 1 << 3,  /* "nodes" and "streams" */
    F_STREAM = 1 << 4, /* "stream": stream name */
    F_REASON = 1 << 5, /* "reason": free text, cut to LC_CDN_REASON_MAX - 1 */
    F_AUTH = 1 << 6,   /* "nonce", "proof": optional hex (cdn_hello.h) */
};

static const struct {
    const char *name;
    int type;
    unsigned fields;
} msg_types[] = {
    { "hello", LC_CDN_HELLO, F_NODE | F_ROLE | F_AUTH },
    { "state", LC_CDN_STATE, F_NODE | F_ROLE | F_SERIAL | F_LISTS },
    { "keepalive", LC_CDN_KEEPALIVE, F_NODE | F_SERIAL },
    { "resync", LC_CDN_RESYNC, F_NODE },
    { "bye", LC_CDN_BYE, F_NODE },
    { "pull", LC_CDN_PULL, F_NODE | F_STREAM },
    { "pull_ok", LC_CDN_PULL_OK, F_STREAM },
    { "eos", LC_CDN_EOS, F_STREAM | F_REASON },
    { "error", LC_CDN_ERROR, F_REASON },
    { "keyframe", LC_CDN_KEYFRAME, F_STREAM },
};
#define NTYPES (sizeof(msg_types) / sizeof(msg_types[0]))

const char *lc_cdn_role_name(int role)
{
    return role == LC_CDN_ROLE_ORIGIN ? "origin" : role == LC_CDN_ROLE_EDGE ? "edge" : "?";
}

/* ---- parsing ----------------------------------------------------------- */

/* Where an error happened: the message type ("pull") for its own fields,
 * or a list entry ("streams[3]"), which wrong-type errors name too. */
typedef struct {
    char *err;
    size_t errlen;
    char where[32];
    int entry;
} ctx_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(ctx_t *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *in_entry(const ctx_t *c)
{
    return c->entry ? c->where : "";
}

static yajl_val field(yajl_val obj, const char *key)
{
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

static yajl_val need(ctx_t *c, yajl_val obj, const char *key)
{
    yajl_val v = field(obj, key);
    if (!v)
        fail(c, "\"%s\" missing in %s", key, c->where);
    return v;
}

static const char *get_string(ctx_t *c, yajl_val obj, const char *key)
{
    yajl_val v = need(c, obj, key);
    if (!v)
        return NULL;
    if (!YAJL_IS_STRING(v)) {
        fail(c, "\"%s\" must be a string%s%s", key, c->entry ? " in " : "", in_entry(c));
        return NULL;
    }
    return v->u.string;
}

/* A name: 1..cap-1 bytes, never cut. */
static int copy_name(ctx_t *c, yajl_val obj, const char *key, char *out, size_t cap)
{
    const char *s = get_string(c, obj, key);
    if (!s)
        return -1;
    size_t n = strlen(s);
    if (n == 0)
        return fail(c, "\"%s\" must not be empty%s%s", key, c->entry ? " in " : "", in_entry(c));
    if (n >= cap)
        return fail(c, "\"%s\" is longer than %zu bytes%s%s", key, cap - 1, c->entry ? " in " : "",
                    in_entry(c));
    memcpy(out, s, n + 1);
    return 0;
}

/* Free text: cut to fit, on a UTF-8 character boundary so the builder
 * writes valid UTF-8 back. */
static int copy_reason(ctx_t *c, yajl_val obj, const char *key, char *out, size_t cap)
{
    const char *s = get_string(c, obj, key);
    if (!s)
        return -1;
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int get_role(ctx_t *c, yajl_val obj, const char *key, int *role)
{
    const char *s = get_string(c, obj, key);
    if (!s)
        return -1;
    if (strcmp(s, "origin") == 0)
        *role = LC_CDN_ROLE_ORIGIN;
    else if (strcmp(s, "edge") == 0)
        *role = LC_CDN_ROLE_EDGE;
    else
        return fail(c, "\"%s\" must be \"origin\" or \"edge\"%s%s", key, c->entry ? " in " : "", in_entry(c));
    return 0;
}

/* The whole uint64_t range: yajl only marks numbers that fit a long long
 * as integers, so read the digits ourselves. */
static int get_serial(ctx_t *c, yajl_val obj, const char *key, uint64_t *out)
{
    yajl_val v = need(c, obj, key);
    if (!v)
        return -1;
    const char *s = YAJL_IS_NUMBER(v) ? YAJL_GET_NUMBER(v) : NULL;
    uint64_t n = 0;
    if (!s || !*s)
        goto bad;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            goto bad;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    *out = n;
    return 0;
bad:
    return fail(c, "\"%s\" must be a non-negative integer", key);
}

static yajl_val get_list(ctx_t *c, yajl_val obj, const char *key)
{
    yajl_val v = need(c, obj, key);
    if (!v)
        return NULL;
    if (!YAJL_IS_ARRAY(v)) {
        fail(c, "\"%s\" must be an array", key);
        return NULL;
    }
    if (v->u.array.len > LC_CDN_LIST_MAX) {
        fail(c, "\"%s\" has more than %d entries", key, LC_CDN_LIST_MAX);
        return NULL;
    }
    return v;
}

/* Point c at list entry i, which must be an object. */
static yajl_val list_entry(ctx_t *c, yajl_val list, const char *key, size_t i)
{
    yajl_val e = list->u.array.values[i];
    snprintf(c->where, sizeof(c->where), "%s[%zu]", key, i);
    c->entry = 1;
    if (!YAJL_IS_OBJECT(e)) {
        fail(c, "%s must be an object", c->where);
        return NULL;
    }
    return e;
}

/* "nodes" and "streams"; called last, as it repoints c at list entries. */
static int get_lists(ctx_t *c, yajl_val tree, lc_cdn_msg_t *m)
{
    yajl_val nodes = get_list(c, tree, "nodes");
    if (!nodes)
        return -1;
    yajl_val streams = get_list(c, tree, "streams");
    if (!streams)
        return -1;

    if (nodes->u.array.len) {
        m->nodes = calloc(nodes->u.array.len, sizeof(*m->nodes));
        if (!m->nodes)
            return fail(c, "out of memory");
    }
    for (size_t i = 0; i < nodes->u.array.len; i++) {
        yajl_val e = list_entry(c, nodes, "nodes", i);
        if (!e || copy_name(c, e, "node", m->nodes[i].addr, sizeof(m->nodes[i].addr)) < 0 ||
            get_role(c, e, "role", &m->nodes[i].role) < 0)
            return -1;
        m->nnodes++;
    }

    if (streams->u.array.len) {
        m->streams = calloc(streams->u.array.len, sizeof(*m->streams));
        if (!m->streams)
            return fail(c, "out of memory");
    }
    for (size_t i = 0; i < streams->u.array.len; i++) {
        yajl_val e = list_entry(c, streams, "streams", i);
        if (!e || copy_name(c, e, "name", m->streams[i].name, sizeof(m->streams[i].name)) < 0)
            return -1;
        yajl_val f = need(c, e, "fetched");
        if (!f)
            return -1;
        if (!YAJL_IS_TRUE(f) && !YAJL_IS_FALSE(f))
            return fail(c, "\"fetched\" must be a boolean in %s", c->where);
        m->streams[i].fetched = YAJL_IS_TRUE(f);
        /* codecs: optional (a stream whose frames have not shown them yet) */
        static const char *const ck[2] = { "vcodec", "acodec" };
        int *cv[2] = { &m->streams[i].vcodec, &m->streams[i].acodec };
        for (int k = 0; k < 2; k++) {
            yajl_val v = field(e, ck[k]);
            if (!v)
                continue;
            if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > 255)
                return fail(c, "\"%s\" must be an integer 0..255 in %s", ck[k], c->where);
            *cv[k] = (int)YAJL_GET_INTEGER(v);
        }
        m->nstreams++;
    }
    return 0;
}

/* An optional field of exactly n bytes written as 2n hex digits. */
static int get_hex(ctx_t *c, yajl_val obj, const char *key, uint8_t *out, size_t n, int *has)
{
    yajl_val v = field(obj, key);
    if (!v)
        return 0;
    if (!YAJL_IS_STRING(v) || strlen(v->u.string) != 2 * n)
        return fail(c, "\"%s\" must be a string of %zu hex digits", key, 2 * n);
    for (size_t i = 0; i < 2 * n; i++) {
        char ch = v->u.string[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0)
            return fail(c, "\"%s\" must be a string of %zu hex digits", key, 2 * n);
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | d : d << 4);
    }
    *has = 1;
    return 0;
}

static int parse_tree(ctx_t *c, yajl_val tree, lc_cdn_msg_t *m)
{
    if (!YAJL_IS_OBJECT(tree))
        return fail(c, "Bad JSON: a message must be an object");

    yajl_val t = field(tree, "type");
    if (!t)
        return fail(c, "\"type\" missing");
    if (!YAJL_IS_STRING(t))
        return fail(c, "\"type\" must be a string");
    const char *tname = t->u.string;
    size_t k;
    for (k = 0; k < NTYPES; k++)
        if (strcmp(msg_types[k].name, tname) == 0)
            break;
    if (k == NTYPES) {
        /* the peer's text ends up in a log line: printable ASCII only */
        char shown[33];
        size_t n = 0;
        for (; tname[n] && n < sizeof(shown) - 1; n++)
            shown[n] = tname[n] >= 0x20 && tname[n] < 0x7f && tname[n] != '"' ? tname[n] : '?';
        shown[n] = '\0';
        return fail(c, "unknown \"type\" \"%s\"", shown);
    }
    m->type = msg_types[k].type;
    unsigned fields = msg_types[k].fields;
    snprintf(c->where, sizeof(c->where), "%s", msg_types[k].name);

    yajl_val v = need(c, tree, "version");
    if (!v)
        return -1;
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < INT_MIN || YAJL_GET_INTEGER(v) > INT_MAX)
        return fail(c, "\"version\" must be an integer");
    m->version = (int)YAJL_GET_INTEGER(v);

    if ((fields & F_NODE) && copy_name(c, tree, "node", m->node, sizeof(m->node)) < 0)
        return -1;
    if ((fields & F_ROLE) && get_role(c, tree, "role", &m->role) < 0)
        return -1;
    if ((fields & F_SERIAL) && get_serial(c, tree, "serial", &m->serial) < 0)
        return -1;
    if ((fields & F_STREAM) && copy_name(c, tree, "stream", m->stream, sizeof(m->stream)) < 0)
        return -1;
    if ((fields & F_REASON) && copy_reason(c, tree, "reason", m->reason, sizeof(m->reason)) < 0)
        return -1;
    if ((fields & F_AUTH) && (get_hex(c, tree, "nonce", m->nonce, sizeof(m->nonce), &m->has_nonce) < 0 ||
                              get_hex(c, tree, "proof", m->proof, sizeof(m->proof), &m->has_proof) < 0))
        return -1;
    if ((fields & F_LISTS) && get_lists(c, tree, m) < 0)
        return -1;
    return 0;
}

int lc_cdn_msg_parse(const char *text, size_t len, lc_cdn_msg_t *m, char *err, size_t errlen)
{
    ctx_t c = { .err = err, .errlen = errlen };

    memset(m, 0, sizeof(*m));
    if (len > LC_CDN_MSG_MAX)
        return fail(&c, "message larger than %u bytes", LC_CDN_MSG_MAX);
    char why[256];
    yajl_val tree = lc_json_parse(text, len, why, sizeof(why));
    if (!tree)
        return fail(&c, "%s", why);
    int rc = parse_tree(&c, tree, m);
    yajl_tree_free(tree);
    if (rc < 0)
        lc_cdn_msg_free(m);
    return rc;
}

void lc_cdn_msg_free(lc_cdn_msg_t *m)
{
    free(m->nodes);
    free(m->streams);
    m->nodes = NULL;
    m->streams = NULL;
    m->nnodes = 0;
    m->nstreams = 0;
}

/* ---- building ---------------------------------------------------------- */

/* A key or a fixed-size string field; strnlen so an unterminated buffer
 * is never read past its end. */
static int gen_str(yajl_gen g, const char *s, size_t cap)
{
    return yajl_gen_string(g, (const unsigned char *)s, strnlen(s, cap)) == yajl_gen_status_ok ? 0 : -1;
}

static int gen_key_str(yajl_gen g, const char *key, const char *s, size_t cap)
{
    return gen_str(g, key, SIZE_MAX) < 0 || gen_str(g, s, cap) < 0 ? -1 : 0;
}

static int gen_hex(yajl_gen g, const char *key, const uint8_t *b, size_t n)
{
    char hex[2 * LC_CDN_PROOF_LEN + 1];
    for (size_t i = 0; i < n && i < LC_CDN_PROOF_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    return gen_key_str(g, key, hex, 2 * n);
}

static int gen_body(yajl_gen g, const lc_cdn_msg_t *m, const char *name, unsigned fields)
{
    char num[24];
    int n;

    if (yajl_gen_map_open(g) != yajl_gen_status_ok || gen_key_str(g, "type", name, SIZE_MAX) < 0 ||
        gen_str(g, "version", SIZE_MAX) < 0 || yajl_gen_integer(g, LC_CDN_PROTO_VERSION) != yajl_gen_status_ok)
        return -1;
    if ((fields & F_NODE) && gen_key_str(g, "node", m->node, sizeof(m->node)) < 0)
        return -1;
    if ((fields & F_ROLE) && gen_key_str(g, "role", lc_cdn_role_name(m->role), SIZE_MAX) < 0)
        return -1;
    if (fields & F_SERIAL) {
        /* yajl_gen_integer stops at LLONG_MAX; serial is unsigned */
        n = snprintf(num, sizeof(num), "%" PRIu64, m->serial);
        if (gen_str(g, "serial", SIZE_MAX) < 0 || yajl_gen_number(g, num, (size_t)n) != yajl_gen_status_ok)
            return -1;
    }
    if ((fields & F_STREAM) && gen_key_str(g, "stream", m->stream, sizeof(m->stream)) < 0)
        return -1;
    if ((fields & F_REASON) && gen_key_str(g, "reason", m->reason, sizeof(m->reason)) < 0)
        return -1;
    if ((fields & F_AUTH) && ((m->has_nonce && gen_hex(g, "nonce", m->nonce, sizeof(m->nonce)) < 0) ||
                              (m->has_proof && gen_hex(g, "proof", m->proof, sizeof(m->proof)) < 0)))
        return -1;
    if (fields & F_LISTS) {
        if (gen_str(g, "nodes", SIZE_MAX) < 0 || yajl_gen_array_open(g) != yajl_gen_status_ok)
            return -1;
        for (size_t i = 0; i < m->nnodes; i++) {
            const lc_cdn_peer_t *p = &m->nodes[i];
            if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
                gen_key_str(g, "node", p->addr, sizeof(p->addr)) < 0 ||
                gen_key_str(g, "role", lc_cdn_role_name(p->role), SIZE_MAX) < 0 ||
                yajl_gen_map_close(g) != yajl_gen_status_ok)
                return -1;
        }
        if (yajl_gen_array_close(g) != yajl_gen_status_ok || gen_str(g, "streams", SIZE_MAX) < 0 ||
            yajl_gen_array_open(g) != yajl_gen_status_ok)
            return -1;
        for (size_t i = 0; i < m->nstreams; i++) {
            const lc_cdn_stream_ref_t *s = &m->streams[i];
            if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
                gen_key_str(g, "name", s->name, sizeof(s->name)) < 0 || gen_str(g, "fetched", SIZE_MAX) < 0 ||
                yajl_gen_bool(g, s->fetched != 0) != yajl_gen_status_ok)
                return -1;
            if ((s->vcodec > 0 && s->vcodec <= 255 &&
                 (gen_str(g, "vcodec", SIZE_MAX) < 0 || yajl_gen_integer(g, s->vcodec) != yajl_gen_status_ok)) ||
                (s->acodec > 0 && s->acodec <= 255 &&
                 (gen_str(g, "acodec", SIZE_MAX) < 0 || yajl_gen_integer(g, s->acodec) != yajl_gen_status_ok)) ||
                yajl_gen_map_close(g) != yajl_gen_status_ok)
                return -1;
        }
        if (yajl_gen_array_close(g) != yajl_gen_status_ok)
            return -1;
    }
    return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

/* NULL also for a type outside lc_cdn_msg_type: there is nothing to write. */
char *lc_cdn_msg_build(const lc_cdn_msg_t *m, size_t *len)
{
    size_t k;
    for (k = 0; k < NTYPES; k++)
        if (msg_types[k].type == m->type)
            break;
    if (k == NTYPES)
        return NULL;

    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return NULL;
    char *out = NULL;
    const unsigned char *buf;
    size_t n;
    if (gen_body(g, m, msg_types[k].name, msg_types[k].fields) == 0 &&
        yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok && (out = malloc(n + 1)) != NULL) {
        memcpy(out, buf, n);
        out[n] = '\0';
        *len = n;
    }
    yajl_gen_free(g);
    return out;
}

/* ---- binary media frames ----------------------------------------------- */

void lc_cdn_frame_header(uint8_t out[LC_CDN_FRAME_HEADER], const lc_frame_t *f)
{
    uint64_t ts = (uint64_t)f->ts;

    out[0] = FRAME_VERSION;
    out[1] = (uint8_t)f->track;
    out[2] = f->flags;
    out[3] = f->codec;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(f->len >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        out[8 + i] = (uint8_t)(ts >> (56 - 8 * i));
}

int lc_cdn_frame_parse(const uint8_t *buf, size_t len, lc_frame_t *f, const uint8_t **payload, const char **err)
{
    const char *e = NULL;
    uint32_t plen = 0;
    uint64_t ts = 0;

    if (len < LC_CDN_FRAME_HEADER) {
        e = "short header";
        goto failed;
    }
    for (int i = 0; i < 4; i++)
        plen = plen << 8 | buf[4 + i];
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | buf[8 + i];
    if (buf[0] != FRAME_VERSION)
        e = "bad version";
    else if ((uint64_t)plen != (uint64_t)(len - LC_CDN_FRAME_HEADER))
        e = "length mismatch";
    else if (buf[1] > 2)
        e = "unknown track";
    else if (buf[2] & ~FRAME_FLAGS)
        e = "flags outside KEY|CONFIG|META";
    if (e)
        goto failed;

    memset(f, 0, sizeof(*f));
    f->stream_id = 0;
    f->track = buf[1];
    f->flags = buf[2];
    f->codec = buf[3];
    f->len = plen;
    /* two's complement without implementation-defined conversion */
    f->ts = ts <= (uint64_t)INT64_MAX ? (int64_t)ts : -(int64_t)(~ts) - 1;
    *payload = buf + LC_CDN_FRAME_HEADER;
    return 0;

failed:
    if (err)
        *err = e;
    return -1;
}
