/*
 * fuzz_derived_name.c: libFuzzer target for the derived stream names of
 * src/common/shm/stream_table.c. A pulling CDN node names the stream it
 * wants, and the relay parses that name to decide whether to have a
 * worker transcode: besides "no crash", a name that parses is exactly the
 * name lc_stream_derived_name makes of what it parsed into, with at least
 * one codec, audio in the audio slot and video in the video slot.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec/codec.h"
#include "common/shm/stream_table.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[LC_STREAM_NAME_MAX + 8], source[LC_STREAM_NAME_MAX], again[LC_STREAM_NAME_MAX];
    int v, a;
    if (size >= sizeof(name))
        size = sizeof(name) - 1;
    memcpy(name, data, size);
    name[size] = '\0';
    if (lc_stream_derived_parse(name, source, sizeof(source), &v, &a) < 0)
        return 0;
    CHECK(v || a);
    CHECK(!v || lc_codec_info(v)->kind == LC_CODEC_KIND_VIDEO);
    CHECK(!a || lc_codec_info(a)->kind == LC_CODEC_KIND_AUDIO);
    CHECK(lc_stream_derived_name(source, v, a, again, sizeof(again)) == 0);
    CHECK(strcmp(again, name) == 0);
    return 0;
}
