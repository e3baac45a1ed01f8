/*
 * rtmp_cmd.h: RTMP command and data messages, for both roles. I/O-free and
 * never logs: bytes in, structs out; calls in, AMF0 bodies out (framed into
 * chunks by rtmp_chunk.h).
 *
 * What a message means is the caller's: the server session (worker) parses
 * connect/createStream/publish/play and answers with _result, _error and
 * onStatus built here; a client (a push to an external server) builds
 * connect/createStream/publish here and reads the server's _result, _error
 * and onStatus with the same parser (lc_rtmp_cmd_info).
 *
 * Also here: the stream name argument ("NAME?token=T"), the metadata data
 * message (@setDataFrame/onMetaData) and the split of an aggregate message
 * (type 22) into the FLV tags it packs.
 *
 * Ownership: lc_rtmp_cmd_t owns its decoded values (lc_rtmp_cmd_free, after
 * every parse, failed or not); builders append to a caller's lc_amf0_buf_t.
 */
#ifndef LC_RTMP_CMD_H
#define LC_RTMP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_chunk.h"

/* Values decoded per command: name, transaction, object, arguments. More
 * are left undecoded (optional trailing arguments, as nginx-rtmp does). */
#define LC_RTMP_CMD_MAX_VALUES 16
/* A token in a stream name's query, after percent-decoding. */
#define LC_RTMP_CMD_TOKEN_MAX 256

typedef struct {
    const char *name;           /* the command (v[0]); NULL when unreadable */
    double txn;                 /* transaction id (v[1]) */
    int has_txn;                /* name and txn were read, even if the rest was not */
    const lc_amf0_t *obj;       /* command object, NULL when absent or AMF null */
    int nargs;                  /* values after the object */
    lc_amf0_t *v[LC_RTMP_CMD_MAX_VALUES];
    int n;
} lc_rtmp_cmd_t;

/* A command message body of type LC_RTMP_COMMAND_AMF0 or _AMF3 (AMF3
 * commands carry AMF0 after one format byte). 0, or -1 with *err; after
 * -1, cmd->has_txn says whether name and txn could still be read (so the
 * caller can answer _error(txn)). */
int lc_rtmp_cmd_parse(uint8_t type, const uint8_t *p, size_t len, lc_rtmp_cmd_t *cmd, const char **err);
void lc_rtmp_cmd_free(lc_rtmp_cmd_t *cmd);
/* Argument i (0 = the first after the object), or NULL. */
const lc_amf0_t *lc_rtmp_cmd_arg(const lc_rtmp_cmd_t *cmd, int i);
/* The info object of onStatus, _result and _error: the first argument
 * when it is an object (e.g. {level, code, description}), else NULL. */
const lc_amf0_t *lc_rtmp_cmd_info(const lc_rtmp_cmd_t *cmd);

/* The stream name argument of publish/play: "NAME" or "NAME?QUERY". NAME
 * goes to name (1..name_cap-1 bytes, no control characters); QUERY is
 * key=value pairs joined by '&', of which "token" is percent-decoded into
 * token (NUL-terminated, *has_token = 1); other keys are ignored. Returns
 * 0, or -1 with *err (empty or long name, control character, bad query:
 * a token twice, too long, bad or NUL percent-escape). */
int lc_rtmp_cmd_stream_name(const char *arg, size_t len, char *name, size_t name_cap, char *token,
                            size_t token_cap, int *has_token, const char **err);

/* A data message (type 18) body. @setDataFrame("onMetaData", {...}) or
 * onMetaData({...}): returns 1 with *out the body players get (the same
 * values without @setDataFrame). Any other data message: 0, out empty.
 * Bad AMF0 or out of memory: -1 with *err. lc_amf0_buf_free(out) always. */
int lc_rtmp_cmd_metadata(const uint8_t *p, size_t len, lc_amf0_buf_t *out, const char **err);

/* The FLV tags of an aggregate message, one sub-message each: the type,
 * size and timestamp of each tag, timestamps made relative to the first
 * tag and added to the aggregate's (as the spec says); csid and message
 * stream id the aggregate's. Trailing bytes shorter than a tag header are
 * ignored (encoders pad). */
typedef struct {
    const uint8_t *p, *end;
    lc_rtmp_msg_t m;            /* the aggregate, payload borrowed */
    uint32_t base;
    int first;
} lc_rtmp_cmd_aggregate_t;

void lc_rtmp_cmd_aggregate_init(lc_rtmp_cmd_aggregate_t *it, const lc_rtmp_msg_t *m);
/* 1 with *sub (its payload points into the aggregate's: do not free), 0 at
 * the end, -1 with *err when a tag runs past the message. */
int lc_rtmp_cmd_aggregate_next(lc_rtmp_cmd_aggregate_t *it, lc_rtmp_msg_t *sub, const char **err);

/* ---- builders: each appends one message body to b ---- */

/* onStatus(0, null, {level, code, description}) */
void lc_rtmp_cmd_put_status(lc_amf0_buf_t *b, const char *level, const char *code, const char *desc);
/* _error(txn, null, {level: "error", code, description}) */
void lc_rtmp_cmd_put_error(lc_amf0_buf_t *b, double txn, const char *code, const char *desc);
/* _result(txn, null, num), or _result(txn, null, null) when num < 0 */
void lc_rtmp_cmd_put_result(lc_amf0_buf_t *b, double txn, double num);
/* _result(txn, {fmsVer, capabilities}, {NetConnection.Connect.Success}) */
void lc_rtmp_cmd_put_connect_result(lc_amf0_buf_t *b, double txn, double object_encoding);
/* Client: connect(txn, {app, type, flashVer, tcUrl}) */
void lc_rtmp_cmd_put_connect(lc_amf0_buf_t *b, double txn, const char *app, const char *tc_url);
/* Client: NAME(txn, null[, a1[, a2]]) with string arguments, e.g.
 * createStream(2, null), publish(4, null, "key", "live"), FCPublish(3, null, "key") */
void lc_rtmp_cmd_put_call(lc_amf0_buf_t *b, const char *name, double txn, const char *a1, const char *a2);

#endif
