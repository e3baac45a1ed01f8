/*
 * push_table.c: see push_table.h.
 */
#include "common/shm/push_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

lc_push_table_t *lc_shm_push(lc_shm_t *shm)
{
    return (lc_push_table_t *)((char *)shm + shm->off_push);
}

static int running(const lc_push_t *p)
{
    uint32_t s = atomic_load_explicit(&p->state, memory_order_relaxed);
    return s == LC_PUSH_REQUESTED || s == LC_PUSH_STARTED || s == LC_PUSH_RECONNECTING;
}

int lc_push_request(lc_shm_t *shm, const char *url, const char *stream, int transcoding, uint32_t *slot)
{
    lc_push_table_t *t = lc_shm_push(shm);
    int free_slot = -1, done_slot = -1;
    if (strlen(url) >= LC_PUSH_URL_MAX || strlen(stream) >= LC_STREAM_NAME_MAX)
        return -EINVAL;
    lc_shm_lock(shm);
    for (int i = 0; i < LC_PUSH_MAX; i++) {
        lc_push_t *p = &t->push[i];
        uint32_t s = atomic_load_explicit(&p->state, memory_order_relaxed);
        if (s != LC_PUSH_FREE && strcmp(p->url, url) == 0) {
            if (running(p)) {
                lc_shm_unlock(shm);
                return -EEXIST;
            }
            done_slot = i; /* the same URL again: its old row goes */
        }
        if (s == LC_PUSH_FREE && free_slot < 0)
            free_slot = i;
    }
    /* a finished row of another URL makes room when the table is full */
    for (int i = 0; i < LC_PUSH_MAX && free_slot < 0 && done_slot < 0; i++)
        if (!running(&t->push[i]))
            done_slot = i;
    int i = done_slot >= 0 ? done_slot : free_slot;
    if (i < 0) {
        lc_shm_unlock(shm);
        return -ENOSPC;
    }
    lc_push_t *p = &t->push[i];
    p->gen++;
    snprintf(p->url, sizeof(p->url), "%s", url);
    snprintf(p->stream, sizeof(p->stream), "%s", stream);
    p->transcoding = transcoding;
    p->code[0] = p->info[0] = '\0';
    p->since = time(NULL);
    atomic_store_explicit(&p->stop, 0, memory_order_relaxed);
    atomic_store_explicit(&p->bytes, 0, memory_order_relaxed);
    atomic_store_explicit(&p->reconnects, 0, memory_order_relaxed);
    atomic_store_explicit(&p->state, LC_PUSH_REQUESTED, memory_order_release);
    lc_shm_unlock(shm);
    /* pairs with the relay's acquire load before it scans */
    atomic_fetch_add_explicit(&t->requests, 1, memory_order_release);
    *slot = (uint32_t)i;
    return 0;
}

int lc_push_request_stop(lc_shm_t *shm, const char *url)
{
    lc_push_table_t *t = lc_shm_push(shm);
    int rc = -ENOENT;
    lc_shm_lock(shm);
    for (int i = 0; i < LC_PUSH_MAX; i++) {
        lc_push_t *p = &t->push[i];
        if (running(p) && strcmp(p->url, url) == 0) {
            atomic_store_explicit(&p->stop, 1, memory_order_release);
            rc = 0;
        }
    }
    lc_shm_unlock(shm);
    if (rc == 0)
        atomic_fetch_add_explicit(&t->requests, 1, memory_order_release);
    return rc;
}

void lc_push_set_state(lc_shm_t *shm, uint32_t slot, int state, const char *code, const char *info)
{
    lc_push_t *p = &lc_shm_push(shm)->push[slot];
    lc_shm_lock(shm);
    snprintf(p->code, sizeof(p->code), "%s", code ? code : "");
    snprintf(p->info, sizeof(p->info), "%s", info ? info : "");
    p->since = time(NULL);
    atomic_store_explicit(&p->state, (uint32_t)state, memory_order_release);
    lc_shm_unlock(shm);
}

void lc_push_snapshot(lc_shm_t *shm, lc_push_table_t *out)
{
    lc_shm_lock(shm);
    memcpy((void *)out, lc_shm_push(shm), sizeof(*out));
    lc_shm_unlock(shm);
}

const char *lc_push_state_name(int state)
{
    static const char *names[] = { "FREE", "PENDING", "STARTED", "RECONNECTING", "STOPPED", "FAILED" };
    return state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state] : "?";
}

int lc_push_url_check(const char *url, const char **why)
{
    const char *rest = strncmp(url, "rtmp://", 7) == 0 ? url + 7 : strncmp(url, "rtmps://", 8) == 0 ? url + 8 : NULL;
    if (!rest) {
        *why = "url must be rtmp:// or rtmps://";
        return -1;
    }
    if (strlen(url) >= LC_PUSH_URL_MAX) {
        *why = "url too long";
        return -1;
    }
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            *why = "url has a space or a control character";
            return -1;
        }
    const char *slash = strchr(rest, '/');
    const char *last = strrchr(rest, '/');
    if (!slash || slash == rest) {
        *why = "url has no host";
        return -1;
    }
    if (last == slash || !last[1]) {
        *why = "url needs an application and a stream key: rtmp://HOST/APP/KEY";
        return -1;
    }
    return 0;
}
