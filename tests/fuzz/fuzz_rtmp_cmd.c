/*
 * fuzz_rtmp_cmd.c: libFuzzer target for src/common/rtmp/rtmp_cmd.c.
 *
 * The input is one message body, read every way a peer's message is read:
 * as an AMF0 and an AMF3 command (each string argument also as a stream
 * name with its query), as a data message (metadata) and as an aggregate.
 * Invariants checked besides "no sanitizer report":
 *   - a parsed command has a name and a transaction, and its values,
 *     re-encoded, parse to the same command; a failed one still says
 *     truthfully whether name and txn were read;
 *   - a stream name that parses is the argument up to '?', printable and
 *     NUL-terminated within its buffer, and so is the token;
 *   - metadata that is forwarded decodes and starts with "onMetaData";
 *     anything else leaves the output empty;
 *   - aggregate sub-messages lie inside the aggregate, in order, and each
 *     takes at least a tag header and trailer;
 *   - an onStatus or _error built from the input's first string reads back
 *     with that description (what our client would see from our server).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rtmp/rtmp_cmd.h"
#include "common/shm/shm.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void check_name(const lc_amf0_t *v)
{
    char name[LC_STREAM_NAME_MAX], token[LC_RTMP_CMD_TOKEN_MAX];
    int has;
    const char *err = NULL;

    if (v == NULL || v->type != LC_AMF0_STRING)
        return;
    if (lc_rtmp_cmd_stream_name(v->str, v->len, name, sizeof name, token, sizeof token, &has, &err) < 0) {
        CHECK(err != NULL);
        return;
    }
    size_t n = strlen(name);
    CHECK(n > 0 && n < sizeof name && n <= v->len);
    CHECK(memcmp(name, v->str, n) == 0 && (n == v->len || v->str[n] == '?'));
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)name[i] >= 0x20 && name[i] != 0x7f);
    CHECK(memchr(token, '\0', sizeof token) != NULL);
    if (has)
        CHECK(n < v->len);
    else
        CHECK(token[0] == '\0');
}

static void check_command(uint8_t type, const uint8_t *data, size_t size)
{
    lc_rtmp_cmd_t c, again;
    const char *err = NULL;

    if (lc_rtmp_cmd_parse(type, data, size, &c, &err) < 0) {
        CHECK(err != NULL);
        CHECK(!c.has_txn || c.name != NULL);
        lc_rtmp_cmd_free(&c);
        return;
    }
    CHECK(c.name != NULL && c.has_txn);
    CHECK(c.n >= 2 && c.n <= LC_RTMP_CMD_MAX_VALUES);
    CHECK(c.nargs == (c.n > 3 ? c.n - 3 : 0));
    CHECK(lc_rtmp_cmd_arg(&c, c.nargs) == NULL && lc_rtmp_cmd_arg(&c, -1) == NULL);
    for (int i = 0; i < c.nargs; i++)
        check_name(lc_rtmp_cmd_arg(&c, i));
    (void)lc_rtmp_cmd_info(&c);
    (void)lc_amf0_str(lc_amf0_get(c.obj, "app"));

    /* re-encoded as a command, the same command (names with a NUL are cut
     * by lc_amf0_put_string, so those are left out) */
    if (strlen(c.name) == c.v[0]->len) {
        lc_amf0_buf_t b = { 0 };

        lc_amf0_put_string(&b, c.name);
        lc_amf0_put_number(&b, c.txn);
        for (int i = 2; i < c.n; i++)
            lc_amf0_put_value(&b, c.v[i]);
        CHECK(!b.failed);
        CHECK(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &again, &err) == 0);
        CHECK(strcmp(again.name, c.name) == 0 && again.n == c.n && again.nargs == c.nargs);
        CHECK(memcmp(&again.txn, &c.txn, sizeof c.txn) == 0);
        CHECK((again.obj == NULL) == (c.obj == NULL));
        lc_rtmp_cmd_free(&again);
        lc_amf0_buf_free(&b);
    }
    lc_rtmp_cmd_free(&c);
}

static void check_metadata(const uint8_t *data, size_t size)
{
    lc_amf0_buf_t out = { 0 };
    const char *err = NULL;
    int rc = lc_rtmp_cmd_metadata(data, size, &out, &err);

    if (rc < 0) {
        CHECK(err != NULL);
    } else if (rc == 0) {
        CHECK(out.len == 0);
    } else {
        lc_amf0_t *v = NULL;

        CHECK(out.len > 0 && !out.failed);
        CHECK(lc_amf0_decode(out.data, out.len, &v, &err) > 0);
        CHECK(lc_amf0_str(v) != NULL && strcmp(lc_amf0_str(v), "onMetaData") == 0);
        lc_amf0_free(v);
    }
    lc_amf0_buf_free(&out);
}

static void check_aggregate(const uint8_t *data, size_t size)
{
    lc_rtmp_msg_t m = { .csid = 6, .type = LC_RTMP_AGGREGATE, .timestamp = 1000, .stream_id = 1,
                        .len = (uint32_t)size, .payload = (uint8_t *)data };
    lc_rtmp_cmd_aggregate_t it;
    lc_rtmp_msg_t sub;
    const char *err = NULL;
    const uint8_t *last = data;
    size_t count = 0;
    int rc;

    if (size > 0xffffff)
        return;
    lc_rtmp_cmd_aggregate_init(&it, &m);
    while ((rc = lc_rtmp_cmd_aggregate_next(&it, &sub, &err)) > 0) {
        CHECK(sub.payload >= last + 11 && sub.payload + sub.len + 4 <= data + size);
        CHECK(sub.csid == 6 && sub.stream_id == 1);
        last = sub.payload + sub.len + 4;
        count++;
    }
    CHECK(rc == 0 || err != NULL);
    CHECK(count <= size / 15);
}

static void check_builders(const uint8_t *data, size_t size)
{
    char desc[256];
    size_t n = size < sizeof desc - 1 ? size : sizeof desc - 1;
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_t c;
    const char *err = NULL;

    memcpy(desc, data, n);
    desc[n] = '\0';
    lc_rtmp_cmd_put_status(&b, "error", "NetConnection.Connect.Rejected", desc);
    lc_rtmp_cmd_put_error(&b, 3, "NetConnection.Call.Failed", desc);
    CHECK(!b.failed);
    /* the first of the two messages: decode stops at max values, never fails */
    CHECK(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err) == 0);
    CHECK(strcmp(c.name, "onStatus") == 0);
    CHECK(strcmp(lc_amf0_str(lc_amf0_get(lc_rtmp_cmd_info(&c), "description")), desc) == 0);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_command(LC_RTMP_COMMAND_AMF0, data, size);
    check_command(LC_RTMP_COMMAND_AMF3, data, size);
    check_metadata(data, size);
    check_aggregate(data, size);
    check_builders(data, size);
    return 0;
}
