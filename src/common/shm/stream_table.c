/*
 * stream_table.c: see stream_table.h. Lookups scan the table; they happen
 * on publish and play, never per frame, and a scan of 4096 entries is a
 * few microseconds.
 */
#include "common/shm/stream_table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/codec/codec.h"
#include "common/shm/notify.h"

static int find_locked(lc_shm_t *shm, const char *name)
{
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load_explicit(&s->state, memory_order_acquire) == LC_STREAM_LIVE &&
            strcmp(s->name, name) == 0)
            return (int)i;
    }
    return -1;
}

static uint32_t count_client_locked(lc_shm_t *shm, const char *client)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        n += atomic_load_explicit(&s->state, memory_order_relaxed) == LC_STREAM_LIVE && strcmp(s->client, client) == 0;
    }
    return n;
}

/* Streams of counted (untrusted) addresses may take every ring but the
 * reserve: however many addresses a flood comes from, trusted publishers
 * and CDN pulls keep rings/8 (at least one) to publish into. */
uint32_t lc_stream_untrusted_max(const lc_shm_t *shm)
{
    uint32_t reserve = shm->rings / 8 ? shm->rings / 8 : 1;
    return shm->rings > reserve ? shm->rings - reserve : 0;
}

static uint32_t count_counted_locked(lc_shm_t *shm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        n += atomic_load_explicit(&s->state, memory_order_relaxed) == LC_STREAM_LIVE && s->client[0];
    }
    return n;
}

uint32_t lc_stream_count_client(lc_shm_t *shm, const char *client)
{
    lc_shm_lock(shm);
    uint32_t n = client[0] ? count_client_locked(shm, client) : 0;
    lc_shm_unlock(shm);
    return n;
}

static uint32_t count_derived_locked(lc_shm_t *shm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        n += atomic_load_explicit(&s->state, memory_order_relaxed) == LC_STREAM_LIVE &&
             atomic_load_explicit(&s->derived, memory_order_relaxed);
    }
    return n;
}

uint32_t lc_stream_count_derived(lc_shm_t *shm)
{
    lc_shm_lock(shm);
    uint32_t n = count_derived_locked(shm);
    lc_shm_unlock(shm);
    return n;
}

/* derived_max: 0 for a stream of its own, else transcoding.max_jobs */
static int publish(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, const char *client,
                   uint32_t max_per_client, uint32_t derived_max, uint32_t *id)
{
    size_t n = strlen(name);
    int entry = -1, ring = -1;

    if (n == 0 || n >= LC_STREAM_NAME_MAX)
        return -EINVAL;
    if (strlen(client) >= sizeof(((lc_stream_t *)0)->client))
        client = ""; /* not an address */
    lc_shm_lock(shm);
    if (find_locked(shm, name) >= 0) {
        lc_shm_unlock(shm);
        return -EEXIST;
    }
    if (derived_max && count_derived_locked(shm) >= derived_max) {
        lc_shm_unlock(shm);
        return -EDQUOT;
    }
    if (client[0] && count_client_locked(shm, client) >= max_per_client) {
        lc_shm_unlock(shm);
        return -EDQUOT;
    }
    if (client[0] && count_counted_locked(shm) >= lc_stream_untrusted_max(shm)) {
        lc_shm_unlock(shm);
        return -EUSERS;
    }
    for (uint32_t i = 0; i < shm->streams_max && entry < 0; i++)
        if (atomic_load_explicit(&lc_shm_stream(shm, i)->state, memory_order_relaxed) == LC_STREAM_FREE)
            entry = (int)i;
    for (uint32_t i = 0; i < shm->rings && ring < 0; i++)
        if (atomic_load_explicit(&shm->ring_in_use[i], memory_order_relaxed) == 0)
            ring = (int)i;
    if (entry < 0 || ring < 0) {
        lc_shm_unlock(shm);
        return entry < 0 ? -ENOSPC : -ENOBUFS;
    }
    atomic_store_explicit(&shm->ring_in_use[ring], 1, memory_order_relaxed);
    lc_ring_reset(lc_shm_ring(shm, (uint32_t)ring));

    lc_stream_t *s = lc_shm_stream(shm, (uint32_t)entry);
    s->gen++;
    s->owner_slot = owner_slot;
    s->owner_pid = owner_pid;
    s->ring = ring;
    s->created_at = time(NULL);
    for (int w = 0; w < LC_PROC_MASK_WORDS; w++)
        atomic_store_explicit(&s->readers[w], 0, memory_order_relaxed);
    for (int p = 0; p < LC_PROC_SLOTS; p++)
        atomic_store_explicit(&s->players[p], 0, memory_order_relaxed);
    s->publisher[0] = '\0';
    snprintf(s->client, sizeof(s->client), "%s", client);
    atomic_store_explicit(&s->vcodec, 0, memory_order_relaxed);
    atomic_store_explicit(&s->acodec, 0, memory_order_relaxed);
    atomic_store_explicit(&s->codecs_declared, 0, memory_order_relaxed);
    s->h264_profile[0] = '\0';
    atomic_store_explicit(&s->bytes_in, 0, memory_order_relaxed);
    atomic_store_explicit(&s->frames_in, 0, memory_order_relaxed);
    atomic_store_explicit(&s->bitrate_kbps, 0, memory_order_relaxed);
    atomic_store_explicit(&s->terminate, 0, memory_order_relaxed);
    atomic_store_explicit(&s->pulled, 0, memory_order_relaxed);
    atomic_store_explicit(&s->keyframe_requests, 0, memory_order_relaxed);
    atomic_store_explicit(&s->derived, derived_max != 0, memory_order_relaxed);
    atomic_store_explicit(&s->adopt, 0, memory_order_relaxed);
    atomic_store_explicit(&s->cpu_us, 0, memory_order_relaxed);
    s->end_reason[0] = '\0';
    memcpy(s->name, name, n + 1);
    /* pairs with the acquire load of state in lookups */
    atomic_store_explicit(&s->state, LC_STREAM_LIVE, memory_order_release);
    lc_shm_unlock(shm);

    if (owner_slot >= 0)
        atomic_fetch_add_explicit(&lc_shm_proc(shm, owner_slot)->streams, 1, memory_order_relaxed);
    *id = (uint32_t)entry;
    return 0;
}

int lc_stream_publish(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, uint32_t *id)
{
    return publish(shm, name, owner_slot, owner_pid, "", 0, 0, id);
}

int lc_stream_publish_from(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, const char *client,
                           uint32_t max_per_client, uint32_t *id)
{
    if (strchr(name, LC_STREAM_DERIVED_SEP))
        return -EINVAL; /* the names of derived streams are the server's */
    return publish(shm, name, owner_slot, owner_pid, client, max_per_client, 0, id);
}

int lc_stream_publish_derived(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, uint32_t max_jobs,
                              uint32_t *id)
{
    return publish(shm, name, owner_slot, owner_pid, "", 0, max_jobs ? max_jobs : 1, id);
}

int lc_stream_derived_name(const char *source, int vcodec, int acodec, char *buf, size_t size)
{
    char v[16] = "", a[16] = "";
    if (vcodec)
        snprintf(v, sizeof(v), "%s", lc_codec_name(vcodec));
    if (acodec)
        snprintf(a, sizeof(a), "%s", lc_codec_name(acodec));
    for (char *c = v; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (char *c = a; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    int n = snprintf(buf, size, "%s%c%s%s%s", source, LC_STREAM_DERIVED_SEP, v, v[0] && a[0] ? "+" : "", a);
    return n > 0 && (size_t)n < size && n < LC_STREAM_NAME_MAX ? 0 : -1;
}

int lc_stream_derived_parse(const char *dname, char *source, size_t size, int *vcodec, int *acodec)
{
    const char *sep = strrchr(dname, LC_STREAM_DERIVED_SEP);
    char codecs[32];
    *vcodec = *acodec = 0;
    if (!sep || sep == dname || (size_t)(sep - dname) >= size || strlen(sep + 1) >= sizeof(codecs))
        return -1;
    snprintf(source, size, "%.*s", (int)(sep - dname), dname);
    snprintf(codecs, sizeof(codecs), "%s", sep + 1);
    for (char *tok = strtok(codecs, "+"); tok; tok = strtok(NULL, "+")) {
        const lc_codec_info_t *c = lc_codec_info(lc_codec_by_name(tok));
        if (!c || c->kind == LC_CODEC_KIND_DATA)
            return -1;
        int *slot = c->kind == LC_CODEC_KIND_VIDEO ? vcodec : acodec;
        if (*slot)
            return -1;
        *slot = (int)c->id;
    }
    if (!*vcodec && !*acodec)
        return -1;
    char again[LC_STREAM_NAME_MAX];
    /* only the one spelling lc_stream_derived_name makes */
    if (lc_stream_derived_name(source, *vcodec, *acodec, again, sizeof(again)) < 0 || strcmp(again, dname) != 0)
        return -1;
    return 0;
}

int lc_stream_request_derived(lc_shm_t *shm, const char *dname, int owner_slot, uint32_t max_jobs, uint32_t *id,
                              uint32_t *gen)
{
    lc_proc_t *owner = lc_shm_proc(shm, owner_slot);
    int rc = publish(shm, dname, owner_slot, owner->pid, "", 0, max_jobs ? max_jobs : 1, id);
    if (rc < 0)
        return rc;
    lc_stream_t *s = lc_shm_stream(shm, *id);
    *gen = s->gen;
    snprintf(s->publisher, sizeof(s->publisher), "transcode (for the CDN)");
    atomic_store_explicit(&s->adopt, 1, memory_order_release);
    /* pairs with the owner's acquire load of derive_requests before it scans */
    atomic_fetch_add_explicit(&owner->derive_requests, 1, memory_order_release);
    lc_notify_wake(shm, owner_slot);
    return 0;
}

static void end_locked(lc_shm_t *shm, lc_stream_t *s)
{
    lc_ring_close(lc_shm_ring(shm, (uint32_t)s->ring));
    lc_notify_wake_readers(shm, s);
    atomic_store_explicit(&s->state, LC_STREAM_FREE, memory_order_release);
    /* The ring is free for the next publisher; its reset bumps the epoch so
     * readers still draining this one see ENDED rather than foreign frames. */
    atomic_store_explicit(&shm->ring_in_use[s->ring], 0, memory_order_relaxed);
    if (s->owner_slot >= 0)
        atomic_fetch_sub_explicit(&lc_shm_proc(shm, s->owner_slot)->streams, 1, memory_order_relaxed);
}

void lc_stream_unpublish(lc_shm_t *shm, uint32_t id)
{
    lc_shm_lock(shm);
    lc_stream_t *s = lc_shm_stream(shm, id);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) == LC_STREAM_LIVE)
        end_locked(shm, s);
    lc_shm_unlock(shm);
}

int lc_stream_find(lc_shm_t *shm, const char *name, uint32_t *id, uint32_t *gen)
{
    lc_shm_lock(shm);
    int i = find_locked(shm, name);
    if (i >= 0) {
        *id = (uint32_t)i;
        *gen = lc_shm_stream(shm, (uint32_t)i)->gen;
    }
    lc_shm_unlock(shm);
    return i >= 0 ? 0 : -ENOENT;
}

int lc_stream_alive(lc_shm_t *shm, uint32_t id, uint32_t gen)
{
    lc_stream_t *s = lc_shm_stream(shm, id);
    return atomic_load_explicit(&s->state, memory_order_acquire) == LC_STREAM_LIVE && s->gen == gen;
}

int lc_stream_release_owner(lc_shm_t *shm, int slot)
{
    int n = 0;
    lc_shm_lock(shm);
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load_explicit(&s->state, memory_order_relaxed) != LC_STREAM_LIVE)
            continue;
        if (s->owner_slot == slot) {
            /* players learn why (SPEC: an edge's pull lost is its origin lost) */
            snprintf(s->end_reason, sizeof(s->end_reason), "%s",
                     atomic_load_explicit(&s->derived, memory_order_relaxed) ? LC_STREAM_END_MOVED
                     : atomic_load_explicit(&s->pulled, memory_order_relaxed) ? "Origin unavailable"
                                                                              : "Publisher lost: its process died");
            end_locked(shm, s);
            n++;
        } else {
            /* it read this stream: the slot's next occupant does not */
            atomic_fetch_and_explicit(&s->readers[slot / 64], ~(1ull << (slot % 64)), memory_order_acq_rel);
            atomic_store_explicit(&s->players[slot], 0, memory_order_relaxed);
        }
    }
    lc_shm_unlock(shm);
    return n;
}

void lc_stream_subscribe(lc_shm_t *shm, uint32_t id, int slot)
{
    lc_stream_t *s = lc_shm_stream(shm, id);
    /* pairs with the writer's acquire load in lc_notify_wake_readers */
    atomic_fetch_or_explicit(&s->readers[slot / 64], 1ull << (slot % 64), memory_order_acq_rel);
}

void lc_stream_unsubscribe(lc_shm_t *shm, uint32_t id, uint32_t gen, int slot)
{
    lc_stream_t *s = lc_shm_stream(shm, id);
    lc_shm_lock(shm);
    if (s->gen == gen)
        atomic_fetch_and_explicit(&s->readers[slot / 64], ~(1ull << (slot % 64)), memory_order_acq_rel);
    lc_shm_unlock(shm);
}

uint32_t lc_stream_count(lc_shm_t *shm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shm->streams_max; i++)
        n += atomic_load_explicit(&lc_shm_stream(shm, i)->state, memory_order_relaxed) == LC_STREAM_LIVE;
    return n;
}

int lc_stream_request_terminate(lc_shm_t *shm, const char *name)
{
    uint32_t id, gen;
    if (lc_stream_find(shm, name, &id, &gen) < 0)
        return -ENOENT;
    lc_stream_t *s = lc_shm_stream(shm, id);
    atomic_store_explicit(&s->terminate, 1, memory_order_release);
    if (s->owner_slot >= 0)
        lc_notify_wake(shm, s->owner_slot);
    return 0;
}

void lc_stream_declare_codecs(lc_shm_t *shm, uint32_t id, int vcodec, int acodec, const char *h264_profile)
{
    lc_stream_t *s = lc_shm_stream(shm, id);
    snprintf(s->h264_profile, sizeof(s->h264_profile), "%s", h264_profile ? h264_profile : "");
    atomic_store_explicit(&s->vcodec, (uint32_t)vcodec, memory_order_relaxed);
    atomic_store_explicit(&s->acodec, (uint32_t)acodec, memory_order_relaxed);
    /* pairs with the acquire load in lc_stream_codecs: the fields above are visible with it */
    atomic_store_explicit(&s->codecs_declared, 1, memory_order_release);
}

int lc_stream_codecs(lc_shm_t *shm, const char *name, lc_stream_codecs_t *out)
{
    uint32_t id, gen;
    memset(out, 0, sizeof(*out));
    if (lc_stream_find(shm, name, &id, &gen) < 0)
        return -ENOENT;
    lc_stream_t *s = lc_shm_stream(shm, id);
    int declared = (int)atomic_load_explicit(&s->codecs_declared, memory_order_acquire);
    out->vcodec = (int)atomic_load_explicit(&s->vcodec, memory_order_relaxed);
    out->acodec = (int)atomic_load_explicit(&s->acodec, memory_order_relaxed);
    if (declared)
        snprintf(out->h264_profile, sizeof(out->h264_profile), "%s", s->h264_profile);
    /* without a declaration (RTMP), the first video frame says it: audio
     * alone does not, as video usually follows it within milliseconds */
    out->known = declared || out->vcodec != 0;
    return 0;
}

enum { CONFIG_VIDEO = 0, CONFIG_AUDIO = 1, CONFIG_META = 2 };
const unsigned lc_stream_config_order[3] = { CONFIG_META, CONFIG_VIDEO, CONFIG_AUDIO };

int lc_stream_write(lc_shm_t *shm, uint32_t id, const lc_frame_t *f, const void *payload, const char **err)
{
    lc_stream_t *s = lc_shm_stream(shm, id);
    lc_ring_t *ring = lc_shm_ring(shm, (uint32_t)s->ring);
    lc_frame_t fr = *f;
    fr.stream_id = id;
    if (fr.flags & (LC_FRAME_CONFIG | LC_FRAME_META)) {
        unsigned slot = (fr.flags & LC_FRAME_META) ? CONFIG_META : fr.track == 0 ? CONFIG_VIDEO : CONFIG_AUDIO;
        if (lc_ring_set_config(ring, slot, &fr, payload) < 0) {
            *err = "codec configuration or metadata larger than 16 KiB";
            return -1;
        }
    }
    if (lc_ring_write(ring, &fr, payload) < 0) {
        *err = "frame larger than half of media.ring_size";
        return -1;
    }
    atomic_fetch_add_explicit(&s->bytes_in, fr.len, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->frames_in, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->ring_bytes, fr.len, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->ring_frames, 1, memory_order_relaxed);
    if (fr.track == 0 && fr.codec)
        atomic_store_explicit(&s->vcodec, fr.codec, memory_order_relaxed);
    else if (fr.track == 1 && fr.codec)
        atomic_store_explicit(&s->acodec, fr.codec, memory_order_relaxed);
    lc_notify_wake_readers(shm, s);
    return 0;
}
