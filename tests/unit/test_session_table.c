/*
 * test_session_table.c: unit tests of src/common/shm/session_table.c (and
 * of the publish codec record in stream_table.c).
 *
 * Covers: add/find/remove, that a find needs the whole id and the right
 * kind and name, the table filling up, a stale (idx, gen) never naming the
 * entry's next occupant, the request-to-end hand-off between two processes
 * over the eventfd (the asker in a child, bounded waits), and the master's
 * release of a dead slot's entries. Children report by exit status.
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
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/http/whip_path.h"
#include "common/shm/notify.h"
#include "common/shm/session_table.h"
#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

#define ARENA (4u << 20)
#define RING (256u << 10)

static lc_shm_t *arena(void)
{
    lc_shm_t *shm = lc_shm_create(ARENA, RING, 16);
    assert_non_null(shm);
    assert_true(shm->sessions_max >= 1024);
    assert_true(shm->rings >= 4);
    return shm;
}

static void id_of(uint8_t id[LC_SESSION_ID_BYTES], int seed)
{
    for (int i = 0; i < LC_SESSION_ID_BYTES; i++)
        id[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

static void test_add_find_remove(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint8_t id[LC_SESSION_ID_BYTES], other[LC_SESSION_ID_BYTES];
    lc_session_ref_t ref, found;
    id_of(id, 1);

    assert_int_equal(lc_session_find(shm, LC_SESSION_WHEP, "cam", id, &found), -ENOENT);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHEP, "cam", id, 3, &ref), 0);
    assert_int_equal(lc_session_count(shm), 1);
    assert_true(lc_session_alive(shm, &ref));
    assert_int_equal(lc_session_find(shm, LC_SESSION_WHEP, "cam", id, &found), 0);
    assert_int_equal(found.idx, ref.idx);
    assert_int_equal(found.gen, ref.gen);
    assert_int_equal(found.owner_slot, 3);

    /* every byte of the id counts, and the kind and the name */
    for (int i = 0; i < LC_SESSION_ID_BYTES; i++) {
        memcpy(other, id, sizeof(other));
        other[i] ^= 0x01;
        assert_int_equal(lc_session_find(shm, LC_SESSION_WHEP, "cam", other, &found), -ENOENT);
    }
    assert_int_equal(lc_session_find(shm, LC_SESSION_WHIP, "cam", id, &found), -ENOENT);
    assert_int_equal(lc_session_find(shm, LC_SESSION_WHEP, "cam2", id, &found), -ENOENT);
    assert_int_equal(lc_session_find(shm, LC_SESSION_WHEP, "", id, &found), -ENOENT);

    lc_session_remove(shm, &ref);
    assert_false(lc_session_alive(shm, &ref));
    assert_int_equal(lc_session_count(shm), 0);
    assert_int_equal(lc_session_find(shm, LC_SESSION_WHEP, "cam", id, &found), -ENOENT);
    assert_int_equal(lc_session_request_end(shm, &ref), -ENOENT);
    lc_shm_destroy(shm);
}

static void test_stale_ref_never_names_the_next_occupant(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint8_t a[LC_SESSION_ID_BYTES], b[LC_SESSION_ID_BYTES];
    lc_session_ref_t ra, rb;
    id_of(a, 2);
    id_of(b, 3);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHIP, "x", a, 1, &ra), 0);
    lc_session_remove(shm, &ra);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHIP, "x", b, 2, &rb), 0);
    assert_int_equal(rb.idx, ra.idx); /* the same entry, reused */
    assert_int_not_equal(rb.gen, ra.gen);
    /* the old ref: not alive, cannot be asked to end, removing it leaves b */
    assert_false(lc_session_alive(shm, &ra));
    assert_int_equal(lc_session_request_end(shm, &ra), -ENOENT);
    assert_false(lc_session_end_requested(shm, &rb));
    lc_session_remove(shm, &ra);
    assert_true(lc_session_alive(shm, &rb));
    lc_session_remove(shm, &rb);
    lc_shm_destroy(shm);
}

static void test_table_full(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint8_t id[LC_SESSION_ID_BYTES];
    lc_session_ref_t ref, last;
    for (uint32_t i = 0; i < shm->sessions_max; i++) {
        id_of(id, (int)i);
        memcpy(id, &i, sizeof(i));
        assert_int_equal(lc_session_add(shm, LC_SESSION_WHEP, "many", id, 1, &ref), 0);
    }
    assert_int_equal(lc_session_count(shm), shm->sessions_max);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHEP, "many", id, 1, &last), -ENOSPC);
    lc_session_remove(shm, &ref);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHEP, "many", id, 1, &last), 0);
    assert_int_equal(last.idx, ref.idx);
    lc_shm_destroy(shm);
}

static void test_release_owner(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint8_t id[LC_SESSION_ID_BYTES];
    lc_session_ref_t r[6];
    for (int i = 0; i < 6; i++) {
        id_of(id, 10 + i);
        assert_int_equal(lc_session_add(shm, i % 2 ? LC_SESSION_WHIP : LC_SESSION_WHEP, "n", id, i < 4 ? 5 : 6,
                                        &r[i]),
                         0);
    }
    assert_int_equal(lc_session_release_owner(shm, 5), 4);
    for (int i = 0; i < 6; i++)
        assert_int_equal(lc_session_alive(shm, &r[i]), i >= 4);
    assert_int_equal(lc_session_release_owner(shm, 5), 0);
    assert_int_equal(lc_session_count(shm), 2);
    lc_shm_destroy(shm);
}

/* Wait for pid with a deadline; SIGKILL it if it overruns. Returns the status. */
static int reap(pid_t pid, int timeout_ms)
{
    int st = 0;
    for (int waited = 0;; waited++) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0)
            return -1;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -2;
        }
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

/* Another process (a child, as a worker that took the DELETE) asks; we (the
 * owner, slot 1) are woken through our eventfd, see the request, end the
 * session; the asker sees the entry gone. */
static void test_request_end_across_processes(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint8_t id[LC_SESSION_ID_BYTES], bystander_id[LC_SESSION_ID_BYTES];
    lc_session_ref_t ref, bystander;
    const int owner = 1;
    id_of(id, 42);
    id_of(bystander_id, 43);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHEP, "live/cam", id, owner, &ref), 0);
    assert_int_equal(lc_session_add(shm, LC_SESSION_WHEP, "live/cam", bystander_id, owner, &bystander), 0);
    lc_notify_ack(shm, owner);
    assert_false(lc_session_take_requests(shm, owner));

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lc_session_ref_t r;
        if (lc_session_find(shm, LC_SESSION_WHEP, "live/cam", id, &r) < 0 || r.owner_slot != owner ||
            lc_session_request_end(shm, &r) < 0)
            _exit(1);
        for (int i = 0; i < 2000; i++) { /* the bounded wait a DELETE does */
            if (!lc_session_alive(shm, &r))
                _exit(0);
            struct timespec ms = { 0, 1000000 };
            nanosleep(&ms, NULL);
        }
        _exit(2);
    }
    struct pollfd pfd = { .fd = lc_notify_fd(owner), .events = POLLIN };
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    lc_notify_ack(shm, owner);
    assert_true(lc_session_take_requests(shm, owner));
    assert_false(lc_session_take_requests(shm, owner)); /* taken once */
    assert_true(lc_session_end_requested(shm, &ref));
    assert_false(lc_session_end_requested(shm, &bystander));
    lc_session_remove(shm, &ref);
    int st = reap(pid, 3000);
    assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(lc_session_alive(shm, &bystander));
    lc_shm_destroy(shm);
}

/* The publish codec record: declared before any frame, reset by the next publish. */
static void test_declared_codecs(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t id;
    lc_stream_codecs_t c;
    assert_int_equal(lc_stream_codecs(shm, "cam", &c), -ENOENT);
    assert_int_equal(lc_stream_publish(shm, "cam", 1, 100, &id), 0);
    assert_int_equal(lc_stream_codecs(shm, "cam", &c), 0);
    assert_false(c.known);
    lc_stream_declare_codecs(shm, id, 7, 10, "42e01f");
    assert_int_equal(lc_stream_codecs(shm, "cam", &c), 0);
    assert_true(c.known);
    assert_int_equal(c.vcodec, 7);
    assert_int_equal(c.acodec, 10);
    assert_string_equal(c.h264_profile, "42e01f");
    lc_stream_unpublish(shm, id);
    assert_int_equal(lc_stream_publish(shm, "cam", 1, 100, &id), 0);
    assert_int_equal(lc_stream_codecs(shm, "cam", &c), 0);
    assert_false(c.known);
    assert_string_equal(c.h264_profile, "");
    /* an undeclared publisher (RTMP) is known by its first video frame */
    lc_frame_t f = { .track = 0, .codec = 7, .flags = LC_FRAME_KEY, .len = 4 };
    const char *err;
    assert_int_equal(lc_stream_write(shm, id, &f, "abcd", &err), 0);
    assert_int_equal(lc_stream_codecs(shm, "cam", &c), 0);
    assert_true(c.known);
    assert_int_equal(c.vcodec, 7);
    lc_shm_destroy(shm);
}

/* The path split that moved out of whip.c. */
static void test_whip_path(void **state)
{
    (void)state;
    lc_whip_path_t p;
    const char *err;
    uint8_t id[LC_WHIP_PATH_ID_BYTES];
    char hex[LC_WHIP_PATH_ID_HEX + 1];
    assert_int_equal(lc_whip_path_split("/whip/cam", 9, &p, &err), 0);
    assert_int_equal(p.kind, LC_WHIP_PATH_WHIP);
    assert_string_equal(p.name, "cam");
    assert_false(p.has_id);
    const char *t = "/whep/cam/00112233445566778899aabbccddeeff?x=1";
    assert_int_equal(lc_whip_path_split(t, strlen(t), &p, &err), 0);
    assert_int_equal(p.kind, LC_WHIP_PATH_WHEP);
    assert_string_equal(p.name, "cam");
    assert_true(p.has_id);
    assert_int_equal(lc_whip_path_id(p.id, id), 0);
    lc_whip_path_id_hex(id, hex);
    assert_string_equal(hex, "00112233445566778899aabbccddeeff");
    assert_int_equal(lc_whip_path_split("/whip/cam/", 10, &p, &err), 0);
    assert_false(p.has_id);
    assert_int_equal(lc_whip_path_split("/whip/", 6, &p, &err), -1);
    assert_int_equal(lc_whip_path_split("/whip//x", 8, &p, &err), -1);
    assert_int_equal(lc_whip_path_split("/whip/c%61m", 11, &p, &err), -1);
    assert_int_equal(lc_whip_path_split("/whip/a/b/c", 11, &p, &err), -1);
    assert_int_equal(lc_whip_path_split("/whip/a\0b", 9, &p, &err), -1);
    assert_int_equal(lc_whip_path_split("/rtmp/cam", 9, &p, &err), -1);
    assert_int_equal(lc_whip_path_id("00112233445566778899AABBCCDDEEFF", id), -1);
    assert_int_equal(lc_whip_path_id("0011223344556677", id), -1);
    assert_int_equal(lc_whip_path_id("00112233445566778899aabbccddeeff0", id), -1);
    assert_int_equal(lc_whip_path_id("g0112233445566778899aabbccddeeff", id), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_remove),
        cmocka_unit_test(test_stale_ref_never_names_the_next_occupant),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_release_owner),
        cmocka_unit_test(test_request_end_across_processes),
        cmocka_unit_test(test_declared_codecs),
        cmocka_unit_test(test_whip_path),
    };
    /* the master does this once before forking anything */
    if (lc_notify_init() != 0) {
        perror("lc_notify_init");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
