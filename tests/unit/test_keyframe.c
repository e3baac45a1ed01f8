/*
 * test_keyframe.c: unit tests of src/common/shm/keyframe.c (keyframe
 * requests from a ring's readers to its writer, and the gate every hop
 * forwards them through) and of the KEYFRAME message of the CDN protocol.
 *
 * The gate's contract, checked on a fake clock: the first request goes out
 * at once; any number inside the next 500 ms make one held request, which
 * is due exactly when the window ends (never dropped); a burst of 20 in
 * 100 ms costs two forwarded requests, not twenty and not one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <poll.h>
#include <unistd.h>

#include "common/cdn/cdn_msg.h"
#include "common/shm/keyframe.h"
#include "common/shm/notify.h"
#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

static void test_gate_first_goes_at_once(void **state)
{
    (void)state;
    lc_kf_gate_t g = { 0 };
    assert_int_equal(lc_kf_gate_wait_ms(&g, 0), -1);
    assert_int_equal(lc_kf_gate_ask(&g, 0), 1); /* time 0 is a time like any other */
    assert_int_equal(lc_kf_gate_wait_ms(&g, 0), -1);
    assert_int_equal(lc_kf_gate_due(&g, 10000), 0); /* nothing held: nothing due */
    /* the window over, the next goes at once too */
    assert_int_equal(lc_kf_gate_ask(&g, 500), 1);
    assert_int_equal(lc_kf_gate_ask(&g, 5000), 1);
}

static void test_gate_holds_inside_window(void **state)
{
    (void)state;
    lc_kf_gate_t g = { 0 };
    assert_int_equal(lc_kf_gate_ask(&g, 1000), 1);
    assert_int_equal(lc_kf_gate_ask(&g, 1100), 0);
    assert_int_equal(lc_kf_gate_wait_ms(&g, 1100), 400);
    assert_int_equal(lc_kf_gate_ask(&g, 1400), 0); /* still the one held request */
    assert_int_equal(lc_kf_gate_due(&g, 1499), 0);
    assert_int_equal(lc_kf_gate_wait_ms(&g, 1499), 1);
    assert_int_equal(lc_kf_gate_due(&g, 1500), 1);
    assert_int_equal(lc_kf_gate_due(&g, 1500), 0); /* sent once */
    assert_int_equal(lc_kf_gate_wait_ms(&g, 1500), -1);
    /* the held one opened a new window */
    assert_int_equal(lc_kf_gate_ask(&g, 1700), 0);
    assert_int_equal(lc_kf_gate_wait_ms(&g, 1700), 300);
    /* a late timer still sends it, and the window runs from then */
    assert_int_equal(lc_kf_gate_wait_ms(&g, 2600), 0);
    assert_int_equal(lc_kf_gate_due(&g, 2600), 1);
    assert_int_equal(lc_kf_gate_ask(&g, 2700), 0);
    assert_int_equal(lc_kf_gate_ask(&g, 3100), 1); /* a request after the window ends goes at once */
    assert_int_equal(lc_kf_gate_wait_ms(&g, 3100), -1);
}

/* 20 requests in 100 ms, a timer every 50 ms for 2 s: two go out, 500 ms
 * apart, and at most one in any 500 ms. */
static void test_gate_burst(void **state)
{
    (void)state;
    lc_kf_gate_t g = { 0 };
    uint64_t sent[8];
    int n = 0;
    for (uint64_t t = 10000; t < 12000; t += 5) {
        if (t < 10100 && (t - 10000) % 5 == 0 && lc_kf_gate_ask(&g, t))
            sent[n++] = t;
        if ((t - 10000) % 50 == 0 && lc_kf_gate_due(&g, t))
            sent[n++] = t;
        assert_true(n <= 8);
    }
    assert_int_equal(n, 2);
    assert_int_equal(sent[0], 10000);
    assert_int_equal(sent[1], 10500);
}

/* ---- requests through the arena ---- */

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_request_take(void **state)
{
    (void)state;
    lc_shm_t *shm = lc_shm_create(4u << 20, 256u << 10, 16);
    assert_non_null(shm);
    const int owner = 5;
    uint32_t id, gen, seen = 0;
    lc_notify_ack(shm, owner);
    assert_int_equal(lc_stream_publish(shm, "live/kf", owner, getpid(), &id), 0);
    gen = lc_shm_stream(shm, id)->gen;

    assert_int_equal(lc_keyframe_take(shm, id, &seen), 0);
    lc_keyframe_request(shm, id, gen);
    assert_true(readable(lc_notify_fd(owner))); /* the writer is woken */
    lc_keyframe_request(shm, id, gen);
    lc_keyframe_request(shm, id, gen);
    assert_int_equal(lc_keyframe_take(shm, id, &seen), 1); /* three requests, taken as one */
    assert_int_equal(lc_keyframe_take(shm, id, &seen), 0);
    lc_notify_ack(shm, owner);

    /* a reader of the stream's previous life asks nothing of the next */
    lc_stream_unpublish(shm, id);
    lc_notify_ack(shm, owner);
    uint32_t id2;
    assert_int_equal(lc_stream_publish(shm, "live/kf2", owner, getpid(), &id2), 0);
    assert_int_equal(id2, id);
    seen = 0;
    lc_keyframe_request(shm, id, gen);
    assert_false(readable(lc_notify_fd(owner)));
    assert_int_equal(lc_keyframe_take(shm, id2, &seen), 0);
    lc_stream_unpublish(shm, id2);
    lc_notify_ack(shm, owner);
    lc_shm_destroy(shm);
}

/* ---- the CDN message ---- */

static void test_keyframe_message(void **state)
{
    (void)state;
    lc_cdn_msg_t in = { .type = LC_CDN_KEYFRAME, .version = LC_CDN_PROTO_VERSION, .stream = "live/cam" }, out;
    char err[256];
    size_t len;
    char *json = lc_cdn_msg_build(&in, &len);
    assert_non_null(json);
    assert_string_equal(json, "{\"type\":\"keyframe\",\"version\":1,\"stream\":\"live/cam\"}");
    assert_int_equal(lc_cdn_msg_parse(json, len, &out, err, sizeof(err)), 0);
    assert_int_equal(out.type, LC_CDN_KEYFRAME);
    assert_string_equal(out.stream, "live/cam");
    lc_cdn_msg_free(&out);
    free(json);

    static const struct {
        const char *json, *err;
    } bad[] = {
        { "{\"type\":\"keyframe\",\"version\":1}", "\"stream\" missing in keyframe" },
        { "{\"type\":\"keyframe\",\"version\":1,\"stream\":\"\"}", "\"stream\" must not be empty" },
        { "{\"type\":\"keyframe\",\"version\":1,\"stream\":7}", "\"stream\" must be a string" },
        { "{\"type\":\"keyframe\",\"stream\":\"a\"}", "\"version\" missing in keyframe" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(lc_cdn_msg_parse(bad[i].json, strlen(bad[i].json), &out, err, sizeof(err)), -1);
        if (!strstr(err, bad[i].err))
            fail_msg("%s: error \"%s\", wanted \"%s\"", bad[i].json, err, bad[i].err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_first_goes_at_once),
        cmocka_unit_test(test_gate_holds_inside_window),
        cmocka_unit_test(test_gate_burst),
        cmocka_unit_test(test_request_take),
        cmocka_unit_test(test_keyframe_message),
    };
    if (lc_notify_init() != 0) {
        perror("lc_notify_init");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
