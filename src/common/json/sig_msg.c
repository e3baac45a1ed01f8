/*
 * sig_msg.c: see sig_msg.h. yajl's tree parser does the JSON; this file
 * checks the shape: an object with a string "method", and string fields of
 * bounded length. Unknown fields are ignored (clients add their own).
 */
#include "common/json/sig_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/json/json_guard.h"

#define MAX_TEXT (1 << 20)

static const struct { const char *name; int method; } methods[] = {
    { "connect", LC_SIG_CONNECT },           { "publishStream", LC_SIG_PUBLISH },
    { "playStream", LC_SIG_PLAY },           { "stopStream", LC_SIG_STOP },
    { "setLiveTranscoding", LC_SIG_SET_TRANSCODING },
    { "startLiveStreaming", LC_SIG_START_LIVE }, { "stopLiveStreaming", LC_SIG_STOP_LIVE },
    { "ping", LC_SIG_PING },
};

static yajl_val field(yajl_val obj, const char *key)
{
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/* Copy an optional string or number field; -1 if it has another type or is too long. */
static int copy_field(yajl_val obj, const char *key, char *out, char *err, size_t errlen)
{
    yajl_val v = field(obj, key);
    out[0] = '\0';
    if (!v || YAJL_IS_NULL(v))
        return 0;
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : YAJL_IS_NUMBER(v) ? YAJL_GET_NUMBER(v) : NULL;
    if (!s) {
        snprintf(err, errlen, "\"%s\" must be a string", key);
        return -1;
    }
    if (strlen(s) >= LC_SIG_FIELD_MAX) {
        snprintf(err, errlen, "\"%s\" is longer than %d bytes", key, LC_SIG_FIELD_MAX - 1);
        return -1;
    }
    strcpy(out, s);
    return 0;
}

int lc_sig_msg_parse(const char *text, size_t len, lc_sig_msg_t *msg, char *err, size_t errlen)
{
    memset(msg, 0, sizeof(*msg));
    if (len > MAX_TEXT) {
        snprintf(err, errlen, "message larger than %d bytes", MAX_TEXT);
        return -1;
    }
    /* NULs, \u0000, comments, deep nesting: see json_guard.h */
    yajl_val tree = lc_json_parse(text, len, err, errlen);
    if (!tree)
        return -1;
    msg->tree_ = tree;
    if (!YAJL_IS_OBJECT(tree)) {
        snprintf(err, errlen, "Bad JSON: a message must be an object");
        goto failed;
    }
    yajl_val m = field(tree, "method");
    const char *method = m && YAJL_IS_STRING(m) ? YAJL_GET_STRING(m) : NULL;
    if (!method) {
        snprintf(err, errlen, "missing \"method\"");
        goto failed;
    }
    snprintf(msg->method_name, sizeof(msg->method_name), "%s", method);
    msg->method = LC_SIG_UNKNOWN;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(methods[i].name, method) == 0)
            msg->method = methods[i].method;
    if (copy_field(tree, "id", msg->id, err, errlen) < 0 || copy_field(tree, "name", msg->name, err, errlen) < 0 ||
        copy_field(tree, "token", msg->token, err, errlen) < 0)
        goto failed;
    yajl_val sdp = field(tree, "sdp");
    if (sdp && YAJL_IS_STRING(sdp))
        msg->sdp = YAJL_GET_STRING(sdp);
    else if (sdp && !YAJL_IS_NULL(sdp)) {
        snprintf(err, errlen, "\"sdp\" must be a string");
        goto failed;
    }
    return 0;

failed:
    lc_sig_msg_free(msg);
    return -1;
}

void lc_sig_msg_free(lc_sig_msg_t *msg)
{
    if (msg->tree_)
        yajl_tree_free(msg->tree_);
    msg->tree_ = NULL;
    msg->sdp = NULL;
}
