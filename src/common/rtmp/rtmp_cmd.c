/*
 * rtmp_cmd.c: RTMP command and data messages (see rtmp_cmd.h): the AMF0
 * bodies of commands, metadata and aggregates, parsed and built for the
 * server and the client role alike.
 *
 * Owns: the shape of a command (name, transaction, object, arguments), the
 * stream name's query, which data message is metadata, the FLV tag layout
 * inside an aggregate. Does not own: what a command does (the session's),
 * chunking (rtmp_chunk.c) or AMF0 itself (amf0.c).
 *
 * Invariant: nothing here trusts a length it has not checked against the
 * bytes it was given; a failed parse still leaves the struct freeable.
 */
#include "common/rtmp/rtmp_cmd.h"
#include "common/core/hex.h"

#include <string.h>

#define FLV_TAG_HEADER 11
#define FLV_PREV_TAG_SIZE 4

/* ---- commands ---- */

static int is_string(const lc_amf0_t *v)
{
    return v != NULL && v->type == LC_AMF0_STRING;
}

/* The whole body did not decode: read just name and transaction, so the
 * caller can still address its _error to the right call. */
static void salvage_head(const uint8_t *p, size_t len, lc_rtmp_cmd_t *cmd)
{
    lc_amf0_t *name = NULL, *txn = NULL;
    const char *err;
    int used = lc_amf0_decode(p, len, &name, &err);

    if (used < 0 || !is_string(name)) {
        lc_amf0_free(name);
        return;
    }
    if (lc_amf0_decode(p + used, len - (size_t)used, &txn, &err) < 0 || txn->type != LC_AMF0_NUMBER) {
        lc_amf0_free(name);
        lc_amf0_free(txn);
        return;
    }
    cmd->v[0] = name;
    cmd->v[1] = txn;
    cmd->n = 2;
    cmd->name = name->str;
    cmd->txn = txn->num;
    cmd->has_txn = 1;
}

int lc_rtmp_cmd_parse(uint8_t type, const uint8_t *p, size_t len, lc_rtmp_cmd_t *cmd, const char **err)
{
    int n;

    memset(cmd, 0, sizeof *cmd);
    if (type == LC_RTMP_COMMAND_AMF3) {
        if (len == 0) {
            *err = "empty AMF3 command";
            return -1;
        }
        p++;
        len--;
    } else if (type != LC_RTMP_COMMAND_AMF0) {
        *err = "not a command message";
        return -1;
    }
    n = lc_amf0_decode_all(p, len, cmd->v, LC_RTMP_CMD_MAX_VALUES, err);
    if (n < 0) {
        salvage_head(p, len, cmd);
        return -1;
    }
    cmd->n = n;
    if (n < 2 || !is_string(cmd->v[0]) || cmd->v[1]->type != LC_AMF0_NUMBER) {
        if (n > 0 && is_string(cmd->v[0])) /* a name without a number: no txn to answer */
            cmd->name = cmd->v[0]->str;
        *err = "not (name, transaction id, ...)";
        return -1;
    }
    cmd->name = cmd->v[0]->str;
    cmd->txn = cmd->v[1]->num;
    cmd->has_txn = 1;
    if (n > 2 && cmd->v[2]->type != LC_AMF0_NULL && cmd->v[2]->type != LC_AMF0_UNDEFINED)
        cmd->obj = cmd->v[2];
    cmd->nargs = n > 3 ? n - 3 : 0;
    return 0;
}

void lc_rtmp_cmd_free(lc_rtmp_cmd_t *cmd)
{
    lc_amf0_free_all(cmd->v, cmd->n);
    memset(cmd, 0, sizeof *cmd);
}

const lc_amf0_t *lc_rtmp_cmd_arg(const lc_rtmp_cmd_t *cmd, int i)
{
    return i >= 0 && i < cmd->nargs ? cmd->v[3 + i] : NULL;
}

const lc_amf0_t *lc_rtmp_cmd_info(const lc_rtmp_cmd_t *cmd)
{
    const lc_amf0_t *v = lc_rtmp_cmd_arg(cmd, 0);

    return v != NULL && v->type == LC_AMF0_OBJECT ? v : NULL;
}

/* ---- the stream name and its query ---- */

/* Percent-decode v[0..n) into out (cap bytes with the NUL). */
static int decode_value(const char *v, size_t n, char *out, size_t cap, const char **err)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];

        if (c == '%') {
            int hi = i + 2 < n ? lc_hex_digit(v[i + 1]) : -1;
            int lo = i + 2 < n ? lc_hex_digit(v[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                *err = "bad percent-escape in the token";
                return -1;
            }
            c = hi << 4 | lo;
            i += 2;
        }
        if (c == 0) {
            *err = "NUL in the token";
            return -1;
        }
        if (o + 1 >= cap) {
            *err = "token too long";
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int lc_rtmp_cmd_stream_name(const char *arg, size_t len, char *name, size_t name_cap, char *token,
                            size_t token_cap, int *has_token, const char **err)
{
    size_t n = 0;

    *has_token = 0;
    if (token_cap > 0)
        token[0] = '\0';
    if (arg == NULL)
        len = 0;
    while (n < len && arg[n] != '?')
        n++;
    if (n == 0) {
        *err = "empty stream name";
        return -1;
    }
    if (n >= name_cap) {
        *err = "stream name too long";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f) {
            *err = "control character in the stream name";
            return -1;
        }
    }
    memcpy(name, arg, n);
    name[n] = '\0';

    /* the query: key=value pairs; only "token" means something today */
    for (size_t i = n + 1; i < len;) {
        size_t end = i, eq;

        while (end < len && arg[end] != '&')
            end++;
        for (eq = i; eq < end && arg[eq] != '='; eq++)
            ;
        if (eq - i == 5 && memcmp(arg + i, "token", 5) == 0) {
            size_t vs = eq < end ? eq + 1 : end;

            if (*has_token) {
                *err = "token given twice";
                return -1;
            }
            if (decode_value(arg + vs, end - vs, token, token_cap, err) < 0)
                return -1;
            *has_token = 1;
        }
        i = end + 1;
    }
    return 0;
}

/* ---- data messages ---- */

int lc_rtmp_cmd_metadata(const uint8_t *p, size_t len, lc_amf0_buf_t *out, const char **err)
{
    lc_amf0_t *v[8];
    int n = lc_amf0_decode_all(p, len, v, 8, err);
    int first, rc = 0;

    if (n < 0)
        return -1;
    first = n > 0 && is_string(v[0]) && strcmp(v[0]->str, "@setDataFrame") == 0 ? 1 : 0;
    if (n > first && is_string(v[first]) && strcmp(v[first]->str, "onMetaData") == 0) {
        for (int i = first; i < n; i++)
            lc_amf0_put_value(out, v[i]);
        if (out->failed) {
            *err = "out of memory";
            rc = -1;
        } else {
            rc = 1;
        }
    }
    lc_amf0_free_all(v, n);
    return rc;
}

/* ---- aggregates ---- */

void lc_rtmp_cmd_aggregate_init(lc_rtmp_cmd_aggregate_t *it, const lc_rtmp_msg_t *m)
{
    it->m = *m;
    it->p = m->payload;
    it->end = m->payload + m->len;
    it->base = 0;
    it->first = 1;
}

int lc_rtmp_cmd_aggregate_next(lc_rtmp_cmd_aggregate_t *it, lc_rtmp_msg_t *sub, const char **err)
{
    const uint8_t *p = it->p;
    uint32_t size, ts;

    if (it->end - p < FLV_TAG_HEADER)
        return 0;
    size = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    /* FLV's timestamp: 24 bits, then the upper 8 */
    ts = (uint32_t)p[7] << 24 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
    if ((size_t)(it->end - p) < FLV_TAG_HEADER + (size_t)size + FLV_PREV_TAG_SIZE) {
        *err = "aggregate message with a bad FLV tag length";
        return -1;
    }
    if (it->first)
        it->base = ts;
    it->first = 0;
    sub->csid = it->m.csid;
    sub->type = p[0];
    sub->timestamp = it->m.timestamp + (ts - it->base);
    sub->stream_id = it->m.stream_id;
    sub->len = size;
    sub->payload = (uint8_t *)p + FLV_TAG_HEADER;
    it->p = p + FLV_TAG_HEADER + size + FLV_PREV_TAG_SIZE;
    return 1;
}

/* ---- builders ---- */

static void put_info(lc_amf0_buf_t *b, const char *level, const char *code, const char *desc)
{
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "level");
    lc_amf0_put_string(b, level);
    lc_amf0_put_key(b, "code");
    lc_amf0_put_string(b, code);
    if (desc != NULL) {
        lc_amf0_put_key(b, "description");
        lc_amf0_put_string(b, desc);
    }
    lc_amf0_put_object_end(b);
}

void lc_rtmp_cmd_put_status(lc_amf0_buf_t *b, const char *level, const char *code, const char *desc)
{
    lc_amf0_put_string(b, "onStatus");
    lc_amf0_put_number(b, 0);
    lc_amf0_put_null(b);
    put_info(b, level, code, desc);
}

void lc_rtmp_cmd_put_error(lc_amf0_buf_t *b, double txn, const char *code, const char *desc)
{
    lc_amf0_put_string(b, "_error");
    lc_amf0_put_number(b, txn);
    lc_amf0_put_null(b);
    put_info(b, "error", code, desc);
}

void lc_rtmp_cmd_put_result(lc_amf0_buf_t *b, double txn, double num)
{
    lc_amf0_put_string(b, "_result");
    lc_amf0_put_number(b, txn);
    lc_amf0_put_null(b);
    if (num >= 0)
        lc_amf0_put_number(b, num);
    else
        lc_amf0_put_null(b);
}

void lc_rtmp_cmd_put_connect_result(lc_amf0_buf_t *b, double txn, double object_encoding)
{
    lc_amf0_put_string(b, "_result");
    lc_amf0_put_number(b, txn);
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "fmsVer");
    lc_amf0_put_string(b, "FMS/3,0,1,123");
    lc_amf0_put_key(b, "capabilities");
    lc_amf0_put_number(b, 31);
    lc_amf0_put_object_end(b);
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "level");
    lc_amf0_put_string(b, "status");
    lc_amf0_put_key(b, "code");
    lc_amf0_put_string(b, "NetConnection.Connect.Success");
    lc_amf0_put_key(b, "description");
    lc_amf0_put_string(b, "Connection succeeded.");
    lc_amf0_put_key(b, "objectEncoding");
    lc_amf0_put_number(b, object_encoding);
    lc_amf0_put_object_end(b);
}

void lc_rtmp_cmd_put_connect(lc_amf0_buf_t *b, double txn, const char *app, const char *tc_url)
{
    lc_amf0_put_string(b, "connect");
    lc_amf0_put_number(b, txn);
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "app");
    lc_amf0_put_string(b, app);
    lc_amf0_put_key(b, "type");
    lc_amf0_put_string(b, "nonprivate");
    lc_amf0_put_key(b, "flashVer");
    lc_amf0_put_string(b, "FMLE/3.0 (compatible; livecdn)");
    lc_amf0_put_key(b, "tcUrl");
    lc_amf0_put_string(b, tc_url);
    lc_amf0_put_object_end(b);
}

void lc_rtmp_cmd_put_call(lc_amf0_buf_t *b, const char *name, double txn, const char *a1, const char *a2)
{
    lc_amf0_put_string(b, name);
    lc_amf0_put_number(b, txn);
    lc_amf0_put_null(b);
    if (a1 != NULL)
        lc_amf0_put_string(b, a1);
    if (a1 != NULL && a2 != NULL)
        lc_amf0_put_string(b, a2);
}
