/*
 * pool.h: the worker's bounded transcoding thread pool, THE one hand-off
 * between the event loop and codec threads (libavcodec and libopus must
 * never run on a loop).
 *
 * Hand-off: the loop submits a job (caller-owned, intrusive); a pool thread
 * runs job->run; the job then goes onto the completion queue, which the loop
 * drains through an eventfd (a libevent event on the pool's base) calling
 * job->done there, in completion order. Jobs with the same key (one
 * transcoder) never run at once and run in submit order; jobs of different
 * keys run in parallel.
 *
 * Bound: at most max_jobs jobs are in the pool (queued, running or waiting
 * for done). Past it lc_pool_submit fails and the caller drops the frame:
 * a late audio frame is worth less than a loop that keeps up, and the
 * transcoder's jitter buffer / PLC covers the hole.
 *
 * Ownership: the caller owns each job; between submit and done (or destroy)
 * the pool holds it. lc_pool_destroy joins the threads, then calls done with
 * job->cancelled = 1 for every job that had not run, so owners free them.
 */
#ifndef LC_POOL_H
#define LC_POOL_H

#include <stddef.h>

struct event_base;

typedef struct lc_pool_job lc_pool_job_t;
struct lc_pool_job {
    const void *key;                        /* ordering key: the transcoder */
    void (*run)(lc_pool_job_t *job);        /* on a pool thread */
    void (*done)(lc_pool_job_t *job);       /* on the event loop */
    void *arg;
    int cancelled;                          /* set for done() on destroy */
    lc_pool_job_t *next;                    /* pool-private */
};

typedef struct lc_pool lc_pool_t;

/* threads: 0 = one per core. NULL with err on failure. */
lc_pool_t *lc_pool_create(struct event_base *base, int threads, int max_jobs, char *err, size_t err_size);
/* 0, or -1 when the pool is full (the caller drops the job). */
int lc_pool_submit(lc_pool_t *p, lc_pool_job_t *job);
int lc_pool_threads(const lc_pool_t *p);
void lc_pool_destroy(lc_pool_t *p);

#endif
