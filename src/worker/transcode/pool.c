/*
 * pool.c: the transcoding thread pool (contract in pool.h). One mutex
 * guards the submit queue, the running keys and the completion queue; a
 * thread takes the oldest queued job whose key is not running, so per key
 * the order is the submit order.
 */
#include "worker/transcode/pool.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct lc_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t *tid;
    const void **running;           /* key each thread runs, NULL = idle */
    int nthreads, max_jobs, in_pool, stop;
    lc_pool_job_t *q_head, *q_tail;         /* submitted, not yet run */
    lc_pool_job_t *d_head, *d_tail;         /* run, waiting for done on the loop */
    int efd;
    struct event *ev;
};

static void push(lc_pool_job_t **h, lc_pool_job_t **t, lc_pool_job_t *j)
{
    j->next = NULL;
    if (*t != NULL)
        (*t)->next = j;
    else
        *h = j;
    *t = j;
}

static int key_running(const lc_pool_t *p, const void *key)
{
    for (int i = 0; i < p->nthreads; i++)
        if (p->running[i] == key)
            return 1;
    return 0;
}

/* The oldest queued job whose key is free, unlinked; NULL if none. */
static lc_pool_job_t *take(lc_pool_t *p)
{
    lc_pool_job_t *prev = NULL;

    for (lc_pool_job_t *j = p->q_head; j != NULL; prev = j, j = j->next) {
        if (key_running(p, j->key))
            continue;
        if (prev != NULL)
            prev->next = j->next;
        else
            p->q_head = j->next;
        if (p->q_tail == j)
            p->q_tail = prev;
        return j;
    }
    return NULL;
}

static void *thread_main(void *arg)
{
    lc_pool_t *p = arg;
    int self;

    pthread_mutex_lock(&p->mu);
    for (self = 0; p->tid[self] != pthread_self(); self++)
        ;
    for (;;) {
        lc_pool_job_t *j = NULL;
        uint64_t one = 1;

        while (!p->stop && (j = take(p)) == NULL)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        p->running[self] = j->key;
        pthread_mutex_unlock(&p->mu);
        j->run(j);
        pthread_mutex_lock(&p->mu);
        p->running[self] = NULL;
        push(&p->d_head, &p->d_tail, j);
        /* an eventfd write fails only on counter overflow (2^64 - 1 unread) */
        ssize_t w = write(p->efd, &one, sizeof one);
        (void)w;
        pthread_cond_broadcast(&p->cv);     /* a job of this key may now run */
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* On the loop: every finished job's done(), in completion order. */
static void on_eventfd(evutil_socket_t fd, short what, void *arg)
{
    lc_pool_t *p = arg;
    lc_pool_job_t *j, *next;
    uint64_t n;
    int count = 0;

    (void)what;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&p->mu);
    j = p->d_head;
    p->d_head = p->d_tail = NULL;
    for (lc_pool_job_t *k = j; k != NULL; k = k->next)
        count++;
    p->in_pool -= count;
    pthread_mutex_unlock(&p->mu);
    for (; j != NULL; j = next) {
        next = j->next;
        j->cancelled = 0;
        j->done(j);
    }
}

lc_pool_t *lc_pool_create(struct event_base *base, int threads, int max_jobs, char *err, size_t err_size)
{
    lc_pool_t *p = calloc(1, sizeof *p);
    int started = 0;

    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        threads = n > 0 ? (int)n : 1;
    }
    if (p == NULL)
        goto nomem;
    p->efd = -1;
    p->nthreads = threads;
    p->max_jobs = max_jobs > 0 ? max_jobs : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tid = calloc((size_t)threads, sizeof *p->tid);
    p->running = calloc((size_t)threads, sizeof *p->running);
    if (p->tid == NULL || p->running == NULL)
        goto nomem;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        snprintf(err, err_size, "eventfd: %s", strerror(errno));
        goto failed;
    }
    p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, on_eventfd, p);
    if (p->ev == NULL || event_add(p->ev, NULL) < 0)
        goto nomem;
    pthread_mutex_lock(&p->mu);     /* threads find their index once all are created */
    for (; started < threads; started++) {
        int e = pthread_create(&p->tid[started], NULL, thread_main, p);

        if (e != 0) {
            pthread_mutex_unlock(&p->mu);
            snprintf(err, err_size, "pthread_create: %s", strerror(e));
            p->nthreads = started;
            goto failed;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return p;
nomem:
    snprintf(err, err_size, "out of memory");
failed:
    if (p != NULL)
        p->nthreads = started;
    lc_pool_destroy(p);
    return NULL;
}

int lc_pool_submit(lc_pool_t *p, lc_pool_job_t *job)
{
    pthread_mutex_lock(&p->mu);
    if (p->in_pool >= p->max_jobs || p->stop) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    p->in_pool++;
    push(&p->q_head, &p->q_tail, job);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int lc_pool_threads(const lc_pool_t *p)
{
    return p->nthreads;
}

void lc_pool_destroy(lc_pool_t *p)
{
    lc_pool_job_t *j, *next;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->tid[i], NULL);
    /* finished jobs first (their done never ran), then the never-run ones */
    for (int pass = 0; pass < 2; pass++) {
        for (j = pass == 0 ? p->d_head : p->q_head; j != NULL; j = next) {
            next = j->next;
            j->cancelled = pass == 1;
            j->done(j);
        }
    }
    if (p->ev != NULL)
        event_free(p->ev);
    if (p->efd >= 0)
        close(p->efd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->tid);
    free(p->running);
    free(p);
}
