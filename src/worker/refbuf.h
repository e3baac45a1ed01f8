/*
 * refbuf.h: a refcounted byte buffer, the unit of fan-out. One is built per
 * frame and handed to every player's output (evbuffer_add_reference), so
 * the bytes exist once however many players send them. Single-threaded:
 * the counts are plain ints, owned by the worker loop.
 */
#ifndef LC_REFBUF_H
#define LC_REFBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    int refs;
    size_t len;
    uint8_t data[];
} lc_refbuf_t;

static inline lc_refbuf_t *lc_refbuf_new(size_t len)
{
    lc_refbuf_t *b = malloc(sizeof(*b) + len);
    if (b) {
        b->refs = 1;
        b->len = len;
    }
    return b;
}

static inline lc_refbuf_t *lc_refbuf_ref(lc_refbuf_t *b)
{
    b->refs++;
    return b;
}

static inline void lc_refbuf_unref(lc_refbuf_t *b)
{
    if (b && --b->refs == 0)
        free(b);
}

/* evbuffer_add_reference cleanup callback: arg is the refbuf */
static inline void lc_refbuf_evbuffer_cleanup(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    lc_refbuf_unref(arg);
}

#endif
