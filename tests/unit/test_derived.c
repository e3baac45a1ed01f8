/*
 * test_derived.c: derived streams in the stream table (SPEC 2): names made
 * and parsed (the relay parses what a pulling node asks for), the claim
 * that one worker wins, transcoding.max_jobs counted across the node, a
 * client refused a '~' name, the relay's request for a worker (adopt,
 * derive_requests, the end reason of a dead maker); and the CDN's codec
 * rule (common/cdn/cdn_codecs.c): what a pull carries under
 * cdn.codecs_exclude.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include "common/cdn/cdn_codecs.h"
#include "common/codec/codec.h"
#include "common/core/conf.h"
#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

static lc_shm_t *arena(void)
{
    lc_shm_t *shm = lc_shm_create(4u << 20, 256u << 10, 32);
    assert_non_null(shm);
    return shm;
}

static void test_names(void **state)
{
    (void)state;
    char buf[LC_STREAM_NAME_MAX], src[LC_STREAM_NAME_MAX];
    int v, a;
    assert_int_equal(lc_stream_derived_name("cam", 0, LC_CODEC_OPUS, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "cam~opus");
    assert_int_equal(lc_stream_derived_name("cam", LC_CODEC_H264, LC_CODEC_AAC, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "cam~h264+aac");
    assert_int_equal(lc_stream_derived_name("cam", LC_CODEC_VP8, 0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "cam~vp8");
    assert_int_equal(lc_stream_derived_parse("cam~h264+aac", src, sizeof(src), &v, &a), 0);
    assert_string_equal(src, "cam");
    assert_int_equal(v, LC_CODEC_H264);
    assert_int_equal(a, LC_CODEC_AAC);
    assert_int_equal(lc_stream_derived_parse("live/a b~pcma", src, sizeof(src), &v, &a), 0);
    assert_string_equal(src, "live/a b");
    assert_int_equal(a, LC_CODEC_PCMA);
    assert_int_equal(v, 0);
    /* only the spellings lc_stream_derived_name makes */
    const char *bad[] = { "cam", "~opus", "cam~", "cam~opus+opus", "cam~aac+h264", "cam~OPUS", "cam~nosuch",
                          "cam~opus+", "cam~+opus", "cam~text", "cam~amf0", "cam~h264+vp8",
                          "cam~opusopusopusopusopusopusopusopus" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(lc_stream_derived_parse(bad[i], src, sizeof(src), &v, &a), -1);
    /* a name at the limit cannot take a suffix */
    char longname[LC_STREAM_NAME_MAX];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(lc_stream_derived_name(longname, 0, LC_CODEC_OPUS, buf, sizeof(buf)), -1);
    /* a source that does not fit the caller's buffer */
    char small[4];
    assert_int_equal(lc_stream_derived_parse("camera~opus", small, sizeof(small), &v, &a), -1);
}

static void test_claim_and_bound(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t id, id2, gen;
    /* clients cannot take a derived name */
    assert_int_equal(lc_stream_publish_from(shm, "cam~opus", 1, getpid(), "10.0.0.1", 8, &id), -EINVAL);
    assert_int_equal(lc_stream_publish_from(shm, "cam", 1, getpid(), "10.0.0.1", 8, &id), 0);
    /* one claimer wins */
    assert_int_equal(lc_stream_publish_derived(shm, "cam~opus", 1, getpid(), 2, &id), 0);
    assert_int_equal(lc_stream_publish_derived(shm, "cam~opus", 2, getpid(), 2, &id2), -EEXIST);
    assert_true(atomic_load(&lc_shm_stream(shm, id)->derived));
    assert_int_equal(lc_stream_count_derived(shm), 1);
    /* max_jobs counts derived streams only, all owners together */
    assert_int_equal(lc_stream_publish_derived(shm, "cam~aac", 2, getpid(), 2, &id2), 0);
    assert_int_equal(lc_stream_publish_derived(shm, "cam~pcma", 1, getpid(), 2, &id2), -EDQUOT);
    assert_int_equal(lc_stream_publish(shm, "other", 1, getpid(), &id2), 0);
    lc_stream_unpublish(shm, id);
    assert_int_equal(lc_stream_count_derived(shm), 1);
    assert_int_equal(lc_stream_publish_derived(shm, "cam~pcma", 1, getpid(), 2, &id2), 0);
    /* a reused entry is not derived any more */
    lc_stream_unpublish(shm, id2);
    assert_int_equal(lc_stream_publish(shm, "plain", 1, getpid(), &id2), 0);
    assert_false(atomic_load(&lc_shm_stream(shm, id2)->derived));
    assert_int_equal(lc_stream_find(shm, "plain", &id2, &gen), 0);
    lc_shm_destroy(shm);
}

static void test_request_and_dead_maker(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t id, gen, src;
    lc_proc_t *w = lc_shm_proc(shm, 3);
    w->pid = getpid();
    w->role = LC_ROLE_WORKER;
    uint32_t before = atomic_load(&w->derive_requests);
    assert_int_equal(lc_stream_publish(shm, "cam", 3, getpid(), &src), 0);
    assert_int_equal(lc_stream_request_derived(shm, "cam~opus", 3, 4, &id, &gen), 0);
    lc_stream_t *e = lc_shm_stream(shm, id);
    assert_int_equal(e->owner_slot, 3);
    assert_true(atomic_load(&e->adopt));
    assert_true(atomic_load(&e->derived));
    assert_int_equal(atomic_load(&w->derive_requests), before + 1);
    assert_int_equal(lc_stream_request_derived(shm, "cam~opus", 3, 4, &id, &gen), -EEXIST);
    /* its maker dies: players are told to move, the source's end is its publisher's */
    assert_int_equal(lc_stream_release_owner(shm, 3), 2);
    assert_string_equal(e->end_reason, LC_STREAM_END_MOVED);
    assert_string_equal(lc_shm_stream(shm, src)->end_reason, "Publisher lost: its process died");
    lc_shm_destroy(shm);
}

static lc_conf_t *conf_with(const char *text)
{
    char path[] = "/tmp/lc-derived-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[512] = "";
    lc_conf_t *c = lc_conf_load(path, "/tmp", err, sizeof(err));
    unlink(path);
    if (!c)
        fail_msg("%s", err);
    return c;
}

static void test_cdn_rule(void **state)
{
    (void)state;
    int v, a;
    lc_conf_t *c = conf_with("");
    lc_cdn_forwarded_codecs(c, LC_CODEC_H264, LC_CODEC_AAC, &v, &a); /* nothing excluded: as published */
    assert_int_equal(v, LC_CODEC_H264);
    assert_int_equal(a, LC_CODEC_AAC);
    lc_conf_free(c);

    c = conf_with("cdn: { codecs_exclude = [\"mpeg4-generic\", \"PCMA\", \"PCMU\", \"G722\", \"speex\"]; };");
    lc_cdn_forwarded_codecs(c, LC_CODEC_H264, LC_CODEC_AAC, &v, &a); /* opus alone is left */
    assert_int_equal(v, LC_CODEC_H264);
    assert_int_equal(a, LC_CODEC_OPUS);
    lc_cdn_forwarded_codecs(c, LC_CODEC_VP8, LC_CODEC_OPUS, &v, &a);
    assert_int_equal(a, LC_CODEC_OPUS);
    lc_cdn_forwarded_codecs(c, 0, 0, &v, &a); /* nothing known: nothing asked */
    assert_int_equal(v, 0);
    assert_int_equal(a, 0);
    lc_conf_free(c);

    /* two left: the edge pulls what was published and transcodes itself */
    c = conf_with("cdn: { codecs_exclude = [\"mpeg4-generic\", \"PCMA\", \"PCMU\", \"G722\"]; };");
    lc_cdn_forwarded_codecs(c, LC_CODEC_H264, LC_CODEC_AAC, &v, &a);
    assert_int_equal(a, LC_CODEC_AAC);
    lc_conf_free(c);

    /* PCMU counts only when PCMA is excluded: PCMA and PCMU left is one codec, PCMA */
    c = conf_with("cdn: { codecs_exclude = [\"opus\", \"mpeg4-generic\", \"G722\", \"speex\"]; };");
    lc_cdn_forwarded_codecs(c, 0, LC_CODEC_AAC, &v, &a);
    assert_int_equal(a, LC_CODEC_PCMA);
    lc_conf_free(c);
    c = conf_with("cdn: { codecs_exclude = [\"opus\", \"mpeg4-generic\", \"PCMA\", \"G722\", \"speex\"]; };");
    lc_cdn_forwarded_codecs(c, 0, LC_CODEC_AAC, &v, &a);
    assert_int_equal(a, LC_CODEC_PCMU);
    lc_conf_free(c);

    /* video: H264 excluded leaves VP8; display names work too */
    c = conf_with("cdn: { codecs_exclude = [\"h264\"]; };");
    lc_cdn_forwarded_codecs(c, LC_CODEC_H264, LC_CODEC_OPUS, &v, &a);
    assert_int_equal(v, LC_CODEC_VP8);
    assert_int_equal(a, LC_CODEC_OPUS);
    lc_conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_claim_and_bound),
        cmocka_unit_test(test_request_and_dead_maker),
        cmocka_unit_test(test_cdn_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
