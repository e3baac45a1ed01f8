/*
 * test_pool.c: the transcoding thread pool on a real libevent event_base:
 * per-key order and exclusion, the bound, destroy joining its threads and
 * handing every job back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "worker/transcode/pool.h"

#define KEYS 4
#define PER_KEY 200

typedef struct { atomic_int active; int next_run; int next_done; int bad; } key_t_;
typedef struct { lc_pool_job_t job; key_t_ *k; int seq; } item_t;

static int done_count, cancelled_count;

static void run(lc_pool_job_t *j)
{
    item_t *it = (item_t *)j;

    if (atomic_fetch_add(&it->k->active, 1) != 0)     /* two jobs of one key at once */
        it->k->bad = 1;
    if (it->k->next_run != it->seq)
        it->k->bad = 1;
    it->k->next_run++;
    if (it->seq % 17 == 0) {
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
    atomic_fetch_sub(&it->k->active, 1);
}

static void done(lc_pool_job_t *j)
{
    item_t *it = (item_t *)j;

    if (j->cancelled) {
        cancelled_count++;
    } else {
        if (it->k->next_done != it->seq)
            it->k->bad = 1;
        it->k->next_done++;
        done_count++;
    }
    free(it);
}

static item_t *item(key_t_ *k, int seq)
{
    item_t *it = calloc(1, sizeof *it);

    it->k = k;
    it->seq = seq;
    it->job.key = k;
    it->job.run = run;
    it->job.done = done;
    return it;
}

static void test_order_per_key(void **s)
{
    struct event_base *base = event_base_new();
    char err[128];
    lc_pool_t *p = lc_pool_create(base, 3, 1000, err, sizeof err);
    key_t_ keys[KEYS];
    struct timeval tick = { 0, 10000 };
    int submitted = 0;

    (void)s;
    assert_non_null(p);
    memset(keys, 0, sizeof keys);
    done_count = 0;
    for (int n = 0; n < PER_KEY; n++)
        for (int k = 0; k < KEYS; k++) {
            item_t *it = item(&keys[k], n);

            assert_int_equal(lc_pool_submit(p, &it->job), 0);
            submitted++;
        }
    for (int i = 0; i < 1000 && done_count < submitted; i++) {
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
    assert_int_equal(done_count, submitted);
    for (int k = 0; k < KEYS; k++) {
        assert_int_equal(keys[k].bad, 0);
        assert_int_equal(keys[k].next_done, PER_KEY);
    }
    lc_pool_destroy(p);
    event_base_free(base);
}

static void slow(lc_pool_job_t *j)
{
    struct timespec ts = { 0, 20 * 1000000 };

    (void)j;
    nanosleep(&ts, NULL);
}

/* max_jobs bounds queued + running + not yet done; submit past it fails;
 * destroy joins and hands back every job (run or not). */
static void test_bound_and_destroy(void **s)
{
    struct event_base *base = event_base_new();
    char err[128];
    lc_pool_t *p = lc_pool_create(base, 1, 4, err, sizeof err);
    key_t_ k;
    item_t *extra;

    (void)s;
    memset(&k, 0, sizeof k);
    done_count = cancelled_count = 0;
    for (int i = 0; i < 4; i++) {
        item_t *it = item(&k, i);

        it->job.run = slow;
        assert_int_equal(lc_pool_submit(p, &it->job), 0);
    }
    extra = item(&k, 4);
    assert_int_equal(lc_pool_submit(p, &extra->job), -1);     /* full: the caller drops */
    free(extra);
    lc_pool_destroy(p);                                       /* the first job may be running */
    assert_int_equal(done_count + cancelled_count, 4);
    assert_true(cancelled_count >= 2);
    event_base_free(base);
}

static void test_threads_default(void **s)
{
    struct event_base *base = event_base_new();
    char err[128];
    lc_pool_t *p = lc_pool_create(base, 0, 8, err, sizeof err);

    (void)s;
    assert_non_null(p);
    assert_true(lc_pool_threads(p) >= 1);
    lc_pool_destroy(p);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_per_key),
        cmocka_unit_test(test_bound_and_destroy),
        cmocka_unit_test(test_threads_default),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
