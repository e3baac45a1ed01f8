/*
 * test_stream_table.c: unit tests of src/common/shm/stream_table.c, of the
 * arena lock in shm.c and of the wake-ups in notify.c.
 *
 * Covers every return code of lc_stream_publish, lookups and (id, gen)
 * liveness, unpublish as readers see it, the master's clean-up after an
 * owner killed with SIGKILL, a lock holder dying inside the robust mutex,
 * and the coalescing eventfd wake-up. Children never call cmocka: they
 * report through their exit status, and every wait on them is bounded.
 *
 * Invariant checked throughout: when a stream ends, however it ends, its
 * readers drain what was written and then see LC_RING_ENDED.
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

#include "common/shm/notify.h"
#include "common/shm/ring.h"
#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

#define ARENA (4u << 20)
#define RING (256u << 10)

static lc_shm_t *arena(uint32_t streams_max)
{
    lc_shm_t *shm = lc_shm_create(ARENA, RING, streams_max);
    assert_non_null(shm);
    assert_int_equal(shm->magic, LC_SHM_MAGIC);
    assert_true(shm->rings >= 4);
    return shm;
}

static lc_ring_t *ring_of(lc_shm_t *shm, uint32_t id)
{
    return lc_shm_ring(shm, (uint32_t)lc_shm_stream(shm, id)->ring);
}

static void write_frames(lc_ring_t *r, uint32_t id, int n)
{
    uint8_t payload[64];
    for (int i = 0; i < n; i++) {
        memset(payload, 'a' + i, sizeof(payload));
        lc_frame_t f = { .stream_id = id, .flags = i == 0 ? LC_FRAME_KEY : 0, .len = sizeof(payload), .ts = i };
        assert_int_equal(lc_ring_write(r, &f, payload), 0);
    }
}

/* The cursor gets frames ts 0..n-1 and then ENDED. */
static void expect_drain_then_ended(lc_ring_t *r, lc_ring_cursor_t *c, int n)
{
    lc_frame_t f;
    uint8_t buf[256];
    for (int i = 0; i < n; i++) {
        assert_int_equal(lc_ring_read(r, c, &f, buf, sizeof(buf)), LC_RING_OK);
        assert_int_equal(f.ts, i);
        assert_int_equal(buf[0], 'a' + i);
    }
    assert_int_equal(lc_ring_read(r, c, &f, buf, sizeof(buf)), LC_RING_ENDED);
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

static int exited_ok(int st)
{
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- stream table ---- */

static void test_publish_find_duplicate(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    uint32_t id, id2, fid, gen;

    assert_int_equal(lc_stream_find(shm, "live/cam", &fid, &gen), -ENOENT);
    assert_int_equal(lc_stream_publish(shm, "live/cam", 2, 1234, &id), 0);
    assert_int_equal(lc_stream_count(shm), 1);
    assert_int_equal(atomic_load(&lc_shm_proc(shm, 2)->streams), 1);

    lc_stream_t *s = lc_shm_stream(shm, id);
    assert_int_equal(atomic_load(&s->state), LC_STREAM_LIVE);
    assert_string_equal(s->name, "live/cam");
    assert_int_equal(s->owner_slot, 2);
    assert_int_equal(s->owner_pid, 1234);
    assert_true(s->ring >= 0 && (uint32_t)s->ring < shm->rings);
    assert_int_equal(atomic_load(&shm->ring_in_use[s->ring]), 1);

    assert_int_equal(lc_stream_publish(shm, "live/cam", 3, 99, &id2), -EEXIST);
    assert_int_equal(lc_stream_count(shm), 1);

    assert_int_equal(lc_stream_find(shm, "live/cam", &fid, &gen), 0);
    assert_int_equal(fid, id);
    assert_int_equal(gen, s->gen);
    assert_true(lc_stream_alive(shm, fid, gen));
    assert_int_equal(lc_stream_find(shm, "live/ca", &fid, &gen), -ENOENT); /* names match whole */
    assert_int_equal(lc_stream_find(shm, "live/cam2", &fid, &gen), -ENOENT);

    assert_int_equal(lc_stream_publish(shm, "live/other", 2, 1234, &id2), 0);
    assert_true(id2 != id);
    assert_true(lc_shm_stream(shm, id2)->ring != s->ring);
    assert_int_equal(lc_stream_count(shm), 2);
    assert_int_equal(atomic_load(&lc_shm_proc(shm, 2)->streams), 2);
    lc_shm_destroy(shm);
}

static void test_name_length(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    char name[LC_STREAM_NAME_MAX + 8];
    uint32_t id, fid, gen;

    assert_int_equal(lc_stream_publish(shm, "", 0, 1, &id), -EINVAL);

    memset(name, 'n', sizeof(name));
    name[LC_STREAM_NAME_MAX] = '\0'; /* one too long for the entry with its NUL */
    assert_int_equal(lc_stream_publish(shm, name, 0, 1, &id), -EINVAL);
    name[LC_STREAM_NAME_MAX + 5] = '\0';
    assert_int_equal(lc_stream_publish(shm, name, 0, 1, &id), -EINVAL);
    assert_int_equal(lc_stream_count(shm), 0);

    name[LC_STREAM_NAME_MAX - 1] = '\0'; /* the longest that fits: kept whole */
    assert_int_equal(lc_stream_publish(shm, name, 0, 1, &id), 0);
    assert_int_equal(strlen(lc_shm_stream(shm, id)->name), LC_STREAM_NAME_MAX - 1);
    assert_int_equal(lc_stream_find(shm, name, &fid, &gen), 0);
    assert_int_equal(fid, id);
    lc_shm_destroy(shm);
}

static void test_table_full(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(4);
    char name[32];
    uint32_t id, first = 0;

    assert_true(shm->rings > 4); /* entries run out first */
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "live/%d", i);
        assert_int_equal(lc_stream_publish(shm, name, 0, 1, &id), 0);
        if (i == 0)
            first = id;
    }
    assert_int_equal(lc_stream_publish(shm, "live/4", 0, 1, &id), -ENOSPC);
    assert_int_equal(lc_stream_publish(shm, "live/0", 0, 1, &id), -EEXIST); /* still checked first */
    assert_int_equal(lc_stream_count(shm), 4);

    lc_stream_unpublish(shm, first);
    assert_int_equal(lc_stream_publish(shm, "live/4", 0, 1, &id), 0);
    assert_int_equal(id, first);
    lc_shm_destroy(shm);
}

static void test_rings_exhausted(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(64);
    char name[32];
    uint32_t id, first = 0;

    assert_true(shm->rings < 64); /* rings run out first */
    /* the arena was carved as documented: rings fit inside it */
    assert_true(shm->off_rings + (uint64_t)shm->rings * shm->ring_size <= shm->size);
    assert_int_equal(shm->off_rings % 64, 0);
    for (uint32_t i = 0; i < shm->rings; i++) {
        snprintf(name, sizeof(name), "live/%u", i);
        assert_int_equal(lc_stream_publish(shm, name, 0, 1, &id), 0);
        if (i == 0)
            first = id;
    }
    assert_int_equal(lc_stream_publish(shm, "live/x", 0, 1, &id), -ENOBUFS);
    assert_int_equal(lc_stream_count(shm), shm->rings);
    uint32_t fid, gen;
    assert_int_equal(lc_stream_find(shm, "live/x", &fid, &gen), -ENOENT); /* no half entry left */

    int ring = lc_shm_stream(shm, first)->ring;
    lc_stream_unpublish(shm, first);
    assert_int_equal(atomic_load(&shm->ring_in_use[ring]), 0);
    assert_int_equal(lc_stream_publish(shm, "live/x", 0, 1, &id), 0);
    assert_int_equal(lc_shm_stream(shm, id)->ring, ring);
    lc_shm_destroy(shm);
}

static void test_unpublish_ends_readers(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    uint32_t id, id2, fid, gen;

    assert_int_equal(lc_stream_publish(shm, "live/a", 1, 77, &id), 0);
    assert_int_equal(lc_stream_find(shm, "live/a", &fid, &gen), 0);
    lc_ring_t *r = ring_of(shm, id);
    int ring = lc_shm_stream(shm, id)->ring;
    lc_ring_cursor_t c, late;
    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    write_frames(r, id, 3);

    lc_stream_unpublish(shm, id);
    assert_false(lc_stream_alive(shm, fid, gen));
    assert_int_equal(lc_stream_find(shm, "live/a", &fid, &gen), -ENOENT);
    assert_int_equal(lc_stream_count(shm), 0);
    assert_int_equal(atomic_load(&shm->ring_in_use[ring]), 0);
    assert_int_equal(atomic_load(&lc_shm_proc(shm, 1)->streams), 0);
    lc_ring_cursor_init(r, &late, LC_RING_FROM_KEY); /* started after the end */
    expect_drain_then_ended(r, &c, 3);
    expect_drain_then_ended(r, &late, 3);
    lc_stream_unpublish(shm, id); /* twice is harmless */
    assert_int_equal(atomic_load(&lc_shm_proc(shm, 1)->streams), 0);

    /* The name and entry come back with a new gen; the old (id, gen) is dead. */
    assert_int_equal(lc_stream_publish(shm, "live/a", 1, 78, &id2), 0);
    assert_int_equal(id2, id);
    uint32_t gen2;
    assert_int_equal(lc_stream_find(shm, "live/a", &fid, &gen2), 0);
    assert_true(gen2 != gen);
    assert_false(lc_stream_alive(shm, id, gen));
    assert_true(lc_stream_alive(shm, id, gen2));
    lc_shm_destroy(shm);
}

static void test_release_owner_after_sigkill(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    int pfd[2];
    const int slot = 5, frames = 4;

    assert_int_equal(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the publisher: a worker that is about to be SIGKILLed */
        uint32_t id;
        close(pfd[0]);
        if (lc_stream_publish(shm, "live/doomed", slot, getpid(), &id) != 0)
            _exit(1);
        lc_ring_t *r = ring_of(shm, id);
        uint8_t payload[64];
        for (int i = 0; i < frames; i++) {
            memset(payload, 'a' + i, sizeof(payload));
            lc_frame_t f = { .stream_id = id, .flags = i == 0 ? LC_FRAME_KEY : 0, .len = 64, .ts = i };
            if (lc_ring_write(r, &f, payload) != 0)
                _exit(2);
        }
        char ok = 'k';
        if (write(pfd[1], &ok, 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    close(pfd[1]);
    char b = 0;
    ssize_t n = read(pfd[0], &b, 1);
    close(pfd[0]);
    if (n != 1) {
        reap(pid, 2000);
        fail_msg("publisher child failed before it was killed");
    }

    uint32_t id, gen;
    assert_int_equal(lc_stream_find(shm, "live/doomed", &id, &gen), 0);
    assert_int_equal(lc_shm_stream(shm, id)->owner_pid, pid);
    lc_ring_t *r = ring_of(shm, id);
    lc_ring_cursor_t c;
    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);

    assert_int_equal(kill(pid, SIGKILL), 0);
    int st = reap(pid, 2000);
    assert_true(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* the master notices the death and releases everything the slot owned */
    assert_int_equal(lc_stream_release_owner(shm, slot), 1);
    assert_int_equal(lc_stream_release_owner(shm, slot), 0);
    assert_false(lc_stream_alive(shm, id, gen));
    assert_int_equal(lc_stream_count(shm), 0);
    assert_int_equal(atomic_load(&lc_shm_proc(shm, slot)->streams), 0);
    expect_drain_then_ended(r, &c, frames);

    /* another process may publish the name again */
    uint32_t id2;
    assert_int_equal(lc_stream_publish(shm, "live/doomed", 6, getpid(), &id2), 0);
    lc_shm_destroy(shm);
}

static void test_release_owner_only_that_slot(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    uint32_t a, b, c, fid, gen;

    assert_int_equal(lc_stream_publish(shm, "live/a", 7, 1, &a), 0);
    assert_int_equal(lc_stream_publish(shm, "live/b", 8, 2, &b), 0);
    assert_int_equal(lc_stream_publish(shm, "live/c", 7, 1, &c), 0);
    lc_stream_subscribe(shm, b, 7);  /* the dying slot also read b... */
    lc_stream_subscribe(shm, b, 70); /* ...beside a live reader in another mask word */
    lc_stream_subscribe(shm, b, 6);
    assert_int_equal(lc_stream_release_owner(shm, 7), 2);
    /* the slot's next occupant inherits no subscription; other readers keep theirs */
    lc_stream_t *sb = lc_shm_stream(shm, b);
    assert_int_equal(atomic_load(&sb->readers[0]), 1ull << 6);
    assert_int_equal(atomic_load(&sb->readers[1]), 1ull << (70 - 64));
    assert_int_equal(lc_stream_find(shm, "live/b", &fid, &gen), 0);
    assert_int_equal(fid, b);
    assert_int_equal(lc_stream_count(shm), 1);
    assert_int_equal(atomic_load(&lc_shm_proc(shm, 7)->streams), 0);
    assert_int_equal(atomic_load(&lc_shm_proc(shm, 8)->streams), 1);
    lc_shm_destroy(shm);
}

/* A child takes the arena lock and dies with it held. */
static void kill_lock_holder(lc_shm_t *shm, int use_sigkill)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        lc_shm_lock(shm);
        char ok = 'l';
        if (write(pfd[1], &ok, 1) != 1)
            _exit(3);
        if (use_sigkill)
            for (;;)
                pause();
        _exit(0); /* dies without unlocking */
    }
    close(pfd[1]);
    char b = 0;
    ssize_t n = read(pfd[0], &b, 1);
    close(pfd[0]);
    if (use_sigkill && n == 1)
        kill(pid, SIGKILL);
    int st = reap(pid, 2000);
    assert_int_equal(n, 1);
    assert_true(st >= 0);
}

/* In a child under alarm(): does lc_shm_lock return? */
static int lock_in_child(lc_shm_t *shm)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(2);
        lc_shm_lock(shm);
        lc_shm_unlock(shm);
        _exit(0);
    }
    return reap(pid, 3000);
}

static void test_robust_lock_owner_dies(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    uint32_t id;

    kill_lock_holder(shm, 1);
    int st = lock_in_child(shm); /* the next locker repairs the mutex, does not hang */
    if (!exited_ok(st))
        print_error("locker after a dead holder: status %d (signal %d)\n", st,
                    st >= 0 && WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    assert_true(exited_ok(st));
    assert_true(exited_ok(lock_in_child(shm))); /* and stays usable */

    /* the same with a holder that exits normally, and the parent as next locker */
    kill_lock_holder(shm, 0);
    lc_shm_lock(shm);
    lc_shm_unlock(shm);
    assert_int_equal(lc_stream_publish(shm, "live/after", 0, getpid(), &id), 0);
    assert_int_equal(lc_stream_count(shm), 1);
    lc_shm_destroy(shm);
}

/*
 * A publisher killed inside lc_stream_publish, after it marked its ring in
 * use and before its entry went LIVE, leaks that ring for good: the repair in
 * lc_shm_lock only makes the mutex consistent. Reproduced by doing the first
 * half of a publish in a child that then dies holding the lock.
 */
static void test_dead_publisher_leaks_no_ring(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(64);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lc_shm_lock(shm);
        atomic_store(&shm->ring_in_use[0], 1); /* what publish does first... */
        raise(SIGKILL);                        /* ...and then the OOM killer */
        _exit(1);
    }
    assert_true(reap(pid, 2000) >= 0);

    char name[32];
    uint32_t id;
    for (uint32_t i = 0; i < shm->rings; i++) {
        snprintf(name, sizeof(name), "live/%u", i);
        assert_int_equal(lc_stream_publish(shm, name, 0, 1, &id), 0);
    }
    lc_shm_destroy(shm);
}

/* ---- notify ---- */

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll(&p, 1, 0);
    assert_true(n >= 0);
    return n == 1 && (p.revents & POLLIN);
}

/* The eventfd counter, read without consuming it; -1 if the kernel hides it. */
static long long eventfd_count(int fd)
{
    char path[64], line[128];
    long long v = -1;
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "eventfd-count:", 14) == 0)
            v = strtoll(line + 14, NULL, 16);
    fclose(f);
    return v;
}

static void test_notify_coalesced_wake(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    const int slot = 3;
    int fd = lc_notify_fd(slot);
    uint32_t id;
    lc_proc_t *p = lc_shm_proc(shm, slot);

    assert_true(fd >= 0);
    assert_int_equal(lc_stream_publish(shm, "live/n", 0, getpid(), &id), 0);
    lc_stream_t *s = lc_shm_stream(shm, id);
    lc_notify_ack(shm, slot); /* start from a clean slate whatever ran before */

    lc_notify_wake_readers(shm, s); /* nobody subscribed yet */
    assert_false(readable(fd));

    lc_stream_subscribe(shm, id, slot);
    lc_notify_wake_readers(shm, s);
    assert_true(readable(fd));
    assert_int_equal(atomic_load(&p->wake_pending), 1);
    assert_false(readable(lc_notify_fd(slot + 1))); /* only the subscriber */

    /* a second wake before the ack writes nothing more */
    lc_notify_wake_readers(shm, s);
    long long cnt = eventfd_count(fd);
    if (cnt >= 0)
        assert_int_equal(cnt, 1);

    lc_notify_ack(shm, slot);
    assert_false(readable(fd));
    assert_int_equal(atomic_load(&p->wake_pending), 0);

    /* three wakes, one write: reading the eventfd gives exactly 1 */
    lc_notify_wake_readers(shm, s);
    lc_notify_wake_readers(shm, s);
    lc_notify_wake(shm, slot);
    uint64_t v = 0;
    assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
    assert_int_equal(v, 1);
    lc_notify_ack(shm, slot); /* EAGAIN inside, still clears the flag */
    assert_int_equal(atomic_load(&p->wake_pending), 0);
    assert_false(readable(fd));

    /* unsubscribed: no more wakes; subscribed again: an unpublish wakes too */
    lc_stream_unsubscribe(shm, id, s->gen, slot);
    lc_notify_wake_readers(shm, s);
    assert_false(readable(fd));
    lc_stream_subscribe(shm, id, slot);
    lc_stream_unpublish(shm, id);
    assert_true(readable(fd));
    lc_notify_ack(shm, slot);
    assert_false(readable(fd));
    lc_shm_destroy(shm);
}

static void test_notify_wakes_other_process(void **state)
{
    (void)state;
    lc_shm_t *shm = arena(16);
    const int slot = 9;
    uint32_t id;

    assert_int_equal(lc_stream_publish(shm, "live/x", 0, getpid(), &id), 0);
    lc_stream_subscribe(shm, id, slot);
    lc_notify_ack(shm, slot);
    lc_ring_t *r = ring_of(shm, id);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* a reader process: block on its eventfd, ack, read everything */
        lc_ring_cursor_t c;
        lc_frame_t f;
        uint8_t buf[256];
        int got = 0;
        lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
        alarm(3);
        for (;;) {
            struct pollfd pf = { .fd = lc_notify_fd(slot), .events = POLLIN };
            if (poll(&pf, 1, 2000) != 1)
                _exit(2);
            lc_notify_ack(shm, slot);
            int rc;
            while ((rc = lc_ring_read(r, &c, &f, buf, sizeof(buf))) == LC_RING_OK)
                if (f.ts != got++)
                    _exit(3);
            if (rc == LC_RING_ENDED)
                _exit(got == 5 ? 0 : 4);
        }
    }
    uint8_t payload[64] = { 0 };
    for (int i = 0; i < 5; i++) {
        struct timespec ms = { 0, 20000000 };
        nanosleep(&ms, NULL);
        lc_frame_t f = { .stream_id = id, .flags = i == 0 ? LC_FRAME_KEY : 0, .len = 64, .ts = i };
        assert_int_equal(lc_ring_write(r, &f, payload), 0);
        lc_notify_wake_readers(shm, lc_shm_stream(shm, id));
    }
    lc_stream_unpublish(shm, id);
    int st = reap(pid, 4000);
    if (!exited_ok(st))
        print_error("reader child status %d\n", st);
    assert_true(exited_ok(st));
    lc_shm_destroy(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_find_duplicate),
        cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_rings_exhausted),
        cmocka_unit_test(test_unpublish_ends_readers),
        cmocka_unit_test(test_release_owner_after_sigkill),
        cmocka_unit_test(test_release_owner_only_that_slot),
        cmocka_unit_test(test_robust_lock_owner_dies),
        cmocka_unit_test(test_dead_publisher_leaks_no_ring),
        cmocka_unit_test(test_notify_coalesced_wake),
        cmocka_unit_test(test_notify_wakes_other_process),
    };
    /* the master does this once before forking anything */
    if (lc_notify_init() != 0) {
        perror("lc_notify_init");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
