/*
 * libFuzzer target: inter-node CDN messages (src/common/cdn/cdn_msg.c).
 *
 * The input is tried as a JSON control message and as a binary media
 * frame. A message that parses must build, and the built text must parse
 * back to the same message (the round-trip invariant of cdn_msg.c); a
 * frame that parses must give back its own header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cdn/cdn_msg.h"

static void check_equal(const lc_cdn_msg_t *a, const lc_cdn_msg_t *b)
{
    if (a->type != b->type || b->version != LC_CDN_PROTO_VERSION || strcmp(a->node, b->node) != 0 ||
        a->role != b->role || a->serial != b->serial || strcmp(a->stream, b->stream) != 0 ||
        strcmp(a->reason, b->reason) != 0 || a->nnodes != b->nnodes || a->nstreams != b->nstreams)
        abort();
    /* the hello's proof of cdn.secret */
    if (a->has_nonce != b->has_nonce || a->has_proof != b->has_proof ||
        (a->has_nonce && memcmp(a->nonce, b->nonce, sizeof(a->nonce)) != 0) ||
        (a->has_proof && memcmp(a->proof, b->proof, sizeof(a->proof)) != 0))
        abort();
    for (size_t i = 0; i < a->nnodes; i++)
        if (strcmp(a->nodes[i].addr, b->nodes[i].addr) != 0 || a->nodes[i].role != b->nodes[i].role)
            abort();
    for (size_t i = 0; i < a->nstreams; i++)
        if (strcmp(a->streams[i].name, b->streams[i].name) != 0 || a->streams[i].fetched != b->streams[i].fetched)
            abort();
}

static void fuzz_msg(const uint8_t *data, size_t size)
{
    lc_cdn_msg_t m, again;
    char err[256];
    size_t len = 0;

    if (lc_cdn_msg_parse((const char *)data, size, &m, err, sizeof(err)) != 0) {
        if (m.nodes || m.streams || !err[0])
            abort();
        return;
    }
    char *json = lc_cdn_msg_build(&m, &len);
    if (!json || strlen(json) != len)
        abort();
    if (lc_cdn_msg_parse(json, len, &again, err, sizeof(err)) != 0)
        abort();
    check_equal(&m, &again);
    free(json);
    lc_cdn_msg_free(&again);
    lc_cdn_msg_free(&m);
}

static void fuzz_frame(const uint8_t *data, size_t size)
{
    lc_frame_t f;
    const uint8_t *payload = NULL;
    const char *err = NULL;
    uint8_t h[LC_CDN_FRAME_HEADER];

    if (lc_cdn_frame_parse(data, size, &f, &payload, &err) != 0) {
        if (!err)
            abort();
        return;
    }
    lc_cdn_frame_header(h, &f);
    if (f.stream_id != 0 || payload != data + LC_CDN_FRAME_HEADER || f.len != size - LC_CDN_FRAME_HEADER ||
        memcmp(h, data, LC_CDN_FRAME_HEADER) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_msg(data, size);
    fuzz_frame(data, size);
    return 0;
}
