/*
 * test_stream_limits.c: limits.max_streams_per_ip as the stream table
 * enforces it (lc_stream_publish_from, src/common/shm/stream_table.c).
 *
 * The bound counts the live entries of one client address under the arena
 * lock, so it holds for publishes from any process; a refused publish
 * takes no entry and no ring; an entry with no address ("", CDN pulls and
 * limits.trusted) is never counted; a stream that ends, or whose process
 * dies, gives its slot back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

static lc_shm_t *arena(void)
{
    lc_shm_t *shm = lc_shm_create(4u << 20, 256u << 10, 32);
    assert_non_null(shm);
    assert_true(shm->rings >= 8);
    return shm;
}

static uint32_t rings_used(lc_shm_t *shm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shm->rings; i++)
        n += atomic_load(&shm->ring_in_use[i]) != 0;
    return n;
}

static void test_bound_per_client(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t id[4], other, anon, again;
    char name[16];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "a%d", i);
        assert_int_equal(lc_stream_publish_from(shm, name, 1, 100, "10.0.0.1", 3, &id[i]), 0);
    }
    assert_int_equal(lc_stream_count_client(shm, "10.0.0.1"), 3);
    assert_string_equal(lc_shm_stream(shm, id[0])->client, "10.0.0.1");
    uint32_t used = rings_used(shm);
    /* the fourth is refused before it takes anything */
    assert_int_equal(lc_stream_publish_from(shm, "a3", 1, 100, "10.0.0.1", 3, &id[3]), -EDQUOT);
    assert_int_equal(rings_used(shm), used);
    assert_int_equal(lc_stream_count(shm), 3);
    /* another address, and no address, are not affected */
    assert_int_equal(lc_stream_publish_from(shm, "b0", 1, 100, "10.0.0.2", 3, &other), 0);
    assert_int_equal(lc_stream_publish(shm, "pull", 1, 100, &anon), 0);
    assert_string_equal(lc_shm_stream(shm, anon)->client, "");
    assert_int_equal(lc_stream_count_client(shm, ""), 0);
    /* a name in use is still that, whoever asks */
    assert_int_equal(lc_stream_publish_from(shm, "b0", 1, 100, "10.0.0.1", 3, &again), -EEXIST);
    /* one ends: its slot is free again */
    lc_stream_unpublish(shm, id[1]);
    assert_int_equal(lc_stream_count_client(shm, "10.0.0.1"), 2);
    assert_int_equal(lc_stream_publish_from(shm, "a3", 1, 100, "10.0.0.1", 3, &id[3]), 0);
    lc_shm_destroy(shm);
}

/* Two processes publish from one address: the bound is the table's, not a process's. */
static void test_bound_across_processes(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t id;
    assert_int_equal(lc_stream_publish_from(shm, "p0", 1, getpid(), "192.0.2.7", 2, &id), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        uint32_t cid;
        int ok = lc_stream_publish_from(shm, "c0", 2, getpid(), "192.0.2.7", 2, &cid) == 0 &&
                 lc_stream_publish_from(shm, "c1", 2, getpid(), "192.0.2.7", 2, &cid) == -EDQUOT;
        _exit(ok ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(lc_stream_publish_from(shm, "p1", 1, getpid(), "192.0.2.7", 2, &id), -EDQUOT);
    /* the child's process is gone: the master releases its streams, and the slot */
    assert_int_equal(lc_stream_release_owner(shm, 2), 1);
    assert_int_equal(lc_stream_publish_from(shm, "p1", 1, getpid(), "192.0.2.7", 2, &id), 0);
    lc_shm_destroy(shm);
}

/* Something that cannot be an address is not counted rather than cut. */
static void test_overlong_client_not_counted(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t id;
    char long_client[100];
    memset(long_client, 'x', sizeof(long_client) - 1);
    long_client[sizeof(long_client) - 1] = '\0';
    assert_int_equal(lc_stream_publish_from(shm, "l0", 1, 1, long_client, 0, &id), 0);
    assert_string_equal(lc_shm_stream(shm, id)->client, "");
    lc_shm_destroy(shm);
}

/* However many addresses a flood comes from, untrusted publishers leave
 * rings/8 (at least one) to trusted ones and CDN pulls. */
static void test_reserve_for_trusted(void **state)
{
    (void)state;
    lc_shm_t *shm = arena();
    uint32_t max = lc_stream_untrusted_max(shm), id;
    assert_true(max < shm->rings);
    char name[16], addr[32];
    for (uint32_t i = 0; i < max; i++) {
        snprintf(name, sizeof(name), "f%u", i);
        snprintf(addr, sizeof(addr), "10.1.%u.%u", i / 250, i % 250 + 1);
        assert_int_equal(lc_stream_publish_from(shm, name, 1, 100, addr, 4, &id), 0);
    }
    uint32_t used = rings_used(shm);
    assert_int_equal(lc_stream_publish_from(shm, "late", 1, 100, "10.9.9.9", 4, &id), -EUSERS);
    assert_int_equal(rings_used(shm), used);
    /* a trusted publisher (no counted address) still gets a ring */
    assert_int_equal(lc_stream_publish_from(shm, "trusted", 1, 100, "", 4, &id), 0);
    lc_shm_destroy(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_per_client),
        cmocka_unit_test(test_reserve_for_trusted),
        cmocka_unit_test(test_bound_across_processes),
        cmocka_unit_test(test_overlong_client_not_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
