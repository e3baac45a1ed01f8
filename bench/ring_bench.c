/*
 * ring_bench.c: how fast the shared-memory ring delivers frames to reader
 * processes, against the physical floor of a plain memcpy of the same bytes.
 *
 * One writer (this process) and R reader processes (R = 1, 4, 16) share an
 * arena made the way the master makes it (lc_shm_create, lc_stream_publish,
 * lc_notify_init before fork). The writer writes frames of one size and
 * wakes the subscribers; each reader blocks in poll() on its eventfd, acks,
 * then reads until the ring is empty, exactly as a worker would. A case ends
 * after N frames or about two seconds, with lc_stream_unpublish: readers
 * drain, see ENDED and report.
 *
 * What is measured: frames/s and GB/s delivered to each reader (from the
 * writer's start to that reader's last frame), averaged over readers, and
 * memcpy GB/s: one process copying the same frame sizes out of a buffer as
 * large as the ring into a frame buffer, which is the most any reader could
 * do. ratio = ring GB/s per reader / memcpy GB/s.
 *
 * Flow control lives in this harness, not in the ring: the server's writer
 * never waits for readers (ring.h), so a writer left free here would lap
 * every reader on a small machine and measure nothing but laps. Readers
 * publish their cursor in a bench-only shared page; the writer yields while
 * the slowest is more than half a ring behind. The numbers are therefore
 * the sustained rate at which every reader still gets every frame; laps and
 * lost frames are counted and must be 0. `-u` turns the flow control off to
 * see what free-running overrun looks like.
 *
 * Output: a table, then one `BENCH ring key=value ...` line per case.
 * Usage: ring_bench [-u] [-t seconds_per_case]
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/shm/notify.h"
#include "common/shm/ring.h"
#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

#define ARENA_BYTES (512ull << 20)
#define RING_BYTES (64ull << 20)
#define MAX_READERS 16
#define WRITER_SLOT 0
#define FIRST_READER_SLOT 1
#define KEY_EVERY 25
#define SRC_BYTES (64u << 20) /* writer's source and memcpy's: as large as the ring, out of cache */

typedef struct {
    _Alignas(64) _Atomic uint64_t pos; /* cursor, for the harness's flow control */
    _Atomic uint64_t frames, bytes, lapped, lost;
    _Atomic int64_t t_last;            /* CLOCK_MONOTONIC ns of the last frame read */
    _Atomic int status;                /* 0 running, 1 done, <0 error */
} reader_stat_t;

typedef struct {
    _Atomic int ready;
    _Atomic int64_t t0;
    reader_stat_t rd[MAX_READERS];
} bench_ctl_t;

typedef struct {
    const char *name;
    uint32_t size;
    uint64_t max_frames;
} bench_case_t;

typedef struct {
    double fps, gbps, gbps_total, memcpy_gbps;
    uint64_t frames, lapped, lost, waits;
    int failed;
} bench_result_t;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- reader process ---- */

static int reader_main(lc_shm_t *shm, lc_ring_t *r, int index, bench_ctl_t *ctl, uint32_t size)
{
    int slot = FIRST_READER_SLOT + index;
    int fd = lc_notify_fd(slot);
    reader_stat_t *st = &ctl->rd[index];
    uint8_t *buf = malloc(size);
    lc_ring_cursor_t c;
    lc_frame_t f;
    int64_t expect = 0, deadline = now_ns() + 30 * 1000000000ll;
    uint64_t frames = 0, bytes = 0, lost = 0;

    if (!buf)
        return 2;
    lc_notify_ack(shm, slot); /* a wake left over from the previous case */
    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    atomic_store(&st->pos, c.pos);
    atomic_fetch_add(&ctl->ready, 1);

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n = poll(&p, 1, 1000);
        if (n < 0 && errno != EINTR)
            return 3;
        if (now_ns() > deadline)
            return 4;
        lc_notify_ack(shm, slot);
        int rc;
        uint64_t before = frames;
        while ((rc = lc_ring_read(r, &c, &f, buf, size)) == LC_RING_OK) {
            if (f.ts != expect) {
                lost += (uint64_t)(f.ts - expect);
                expect = f.ts;
            }
            expect++;
            bytes += f.len;
            if ((++frames & 63) == 0)
                atomic_store_explicit(&st->pos, c.pos, memory_order_relaxed);
        }
        atomic_store_explicit(&st->pos, c.pos, memory_order_relaxed);
        if (frames != before)
            atomic_store_explicit(&st->t_last, now_ns(), memory_order_relaxed);
        if (rc == LC_RING_E2BIG)
            return 5;
        if (rc == LC_RING_ENDED)
            break;
    }
    atomic_store(&st->frames, frames);
    atomic_store(&st->bytes, bytes);
    atomic_store(&st->lapped, c.lapped);
    atomic_store(&st->lost, lost);
    atomic_store(&st->status, 1);
    free(buf);
    return 0;
}

/* ---- the physical floor ---- */

static double memcpy_gbps(const uint8_t *src, uint32_t size, double seconds)
{
    uint8_t *dst = malloc(size);
    uint64_t stride = ((uint64_t)size + 40 + 7) & ~7ull; /* the ring's record stride */
    uint64_t off = 0, bytes = 0;
    int64_t t0 = now_ns(), t = t0;

    if (!dst)
        return 0;
    while (t - t0 < (int64_t)(seconds * 1e9)) {
        for (int i = 0; i < 64; i++) {
            if (off + size > SRC_BYTES)
                off = 0;
            memcpy(dst, src + off, size);
            __asm__ volatile("" : : "r"(dst) : "memory"); /* the copy is used */
            off += stride;
            bytes += size;
        }
        t = now_ns();
    }
    free(dst);
    return (double)bytes / ((double)(t - t0));
}

/* ---- one case: R readers, frames of one size ---- */

static uint64_t slowest(bench_ctl_t *ctl, int readers)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < readers; i++) {
        if (atomic_load_explicit(&ctl->rd[i].status, memory_order_relaxed) != 0)
            continue;
        uint64_t p = atomic_load_explicit(&ctl->rd[i].pos, memory_order_relaxed);
        if (p < m)
            m = p;
    }
    return m;
}

static int run_case(lc_shm_t *shm, bench_ctl_t *ctl, const uint8_t *src, const bench_case_t *bc, int readers,
                    double seconds, int throttle, bench_result_t *res)
{
    char name[64];
    uint32_t id;
    pid_t pids[MAX_READERS];
    int nchild = 0;

    memset(res, 0, sizeof(*res));
    memset(ctl, 0, sizeof(*ctl));
    snprintf(name, sizeof(name), "bench/%s/%d", bc->name, readers);
    int rc = lc_stream_publish(shm, name, WRITER_SLOT, getpid(), &id);
    if (rc != 0) {
        fprintf(stderr, "ring_bench: publish %s: %s\n", name, strerror(-rc));
        return -1;
    }
    lc_stream_t *s = lc_shm_stream(shm, id);
    lc_ring_t *r = lc_shm_ring(shm, (uint32_t)s->ring);
    if (bc->size > lc_ring_max_frame(r)) {
        lc_stream_unpublish(shm, id);
        return -1;
    }
    for (int i = 0; i < readers; i++)
        lc_stream_subscribe(shm, id, FIRST_READER_SLOT + i);

    fflush(NULL);
    for (int i = 0; i < readers; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(reader_main(shm, r, i, ctl, bc->size));
        if (pid < 0) {
            perror("ring_bench: fork");
            res->failed = 1;
            break;
        }
        pids[nchild++] = pid;
    }
    int64_t t_wait = now_ns();
    while (!res->failed && atomic_load(&ctl->ready) < nchild) {
        if (now_ns() - t_wait > 5000000000ll) {
            fprintf(stderr, "ring_bench: readers did not start\n");
            res->failed = 1;
        }
        sched_yield();
    }

    /* The writer. */
    uint64_t limit = r->cap / 2, frames = 0, waits = 0, stride = ((uint64_t)bc->size + 63) & ~63ull;
    uint64_t min_pos = slowest(ctl, readers);
    int64_t t0 = now_ns(), stop = t0 + (int64_t)(seconds * 1e9);
    atomic_store(&ctl->t0, t0);
    while (!res->failed && frames < bc->max_frames) {
        if ((frames & 255) == 0 && now_ns() > stop)
            break;
        if (throttle) {
            uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
            if (head - min_pos > limit) {
                min_pos = slowest(ctl, readers);
                while (head - min_pos > limit && now_ns() < stop + 2000000000ll) {
                    waits++;
                    sched_yield();
                    min_pos = slowest(ctl, readers);
                }
            }
        }
        lc_frame_t f = { .stream_id = id, .codec = 7, .track = 0, .len = bc->size, .ts = (int64_t)frames,
                         .flags = frames % KEY_EVERY == 0 ? LC_FRAME_KEY : 0 };
        if (lc_ring_write(r, &f, src + (frames * stride) % (SRC_BYTES - bc->size)) != 0) {
            res->failed = 1;
            break;
        }
        lc_notify_wake_readers(shm, s);
        frames++;
    }
    lc_stream_unpublish(shm, id); /* close and wake: readers drain, then see ENDED */

    /* Reap, bounded; a reader still running after 10 s is killed. */
    int64_t deadline = now_ns() + 10000000000ll;
    for (int i = 0; i < nchild; i++) {
        int st = 0;
        pid_t w;
        while ((w = waitpid(pids[i], &st, WNOHANG)) == 0 && now_ns() < deadline) {
            struct timespec ms = { 0, 1000000 };
            nanosleep(&ms, NULL);
        }
        if (w == 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &st, 0);
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "ring_bench: reader %d failed (status 0x%x)\n", i, st);
            res->failed = 1;
        }
    }

    double fps = 0, gbps = 0;
    for (int i = 0; i < nchild; i++) {
        reader_stat_t *st = &ctl->rd[i];
        double dt = (double)(atomic_load(&st->t_last) - t0) / 1e9;
        if (dt > 0) {
            fps += (double)atomic_load(&st->frames) / dt;
            gbps += (double)atomic_load(&st->bytes) / dt / 1e9;
        }
        res->lapped += atomic_load(&st->lapped);
        res->lost += atomic_load(&st->lost);
    }
    if (nchild) {
        res->fps = fps / nchild;
        res->gbps = gbps / nchild;
        res->gbps_total = gbps;
    }
    res->frames = frames;
    res->waits = waits;
    return res->failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const bench_case_t cases[] = {
        { "1400B", 1400, 50000000 },
        { "64KiB", 65536, 2000000 },
    };
    static const int reader_counts[] = { 1, 4, 16 };
    double seconds = 2.0;
    int throttle = 1, failed = 0, opt, nlines = 0;
    static char lines[8][512];

    while ((opt = getopt(argc, argv, "ut:")) != -1) {
        if (opt == 'u')
            throttle = 0;
        else if (opt == 't')
            seconds = atof(optarg);
        else {
            fprintf(stderr, "usage: %s [-u] [-t seconds_per_case]\n", argv[0]);
            return 2;
        }
    }

    /* What the master does before its first fork. */
    lc_shm_t *shm = lc_shm_create(ARENA_BYTES, RING_BYTES, 8);
    if (!shm) {
        perror("ring_bench: lc_shm_create");
        return 1;
    }
    if (lc_notify_init() != 0) {
        perror("ring_bench: lc_notify_init");
        return 1;
    }
    bench_ctl_t *ctl = mmap(NULL, sizeof(bench_ctl_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint8_t *src = malloc(SRC_BYTES);
    if (ctl == MAP_FAILED || !src) {
        perror("ring_bench: memory");
        return 1;
    }
    for (size_t i = 0; i < SRC_BYTES; i++)
        src[i] = (uint8_t)(i * 131 + (i >> 12));

    printf("ring_bench: %ld CPUs, arena %llu MiB, ring %llu MiB, %.1f s per case, flow control %s\n",
           sysconf(_SC_NPROCESSORS_ONLN), ARENA_BYTES >> 20, RING_BYTES >> 20, seconds, throttle ? "on" : "off");
    printf("%-6s %7s %12s %13s %11s %11s %7s %6s %5s %10s %9s\n", "case", "readers", "frames/s", "GB/s/reader",
           "GB/s total", "memcpy GB/s", "ratio", "lapped", "lost", "frames", "w-waits");
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        double floor_gbps = memcpy_gbps(src, cases[k].size, 0.5);
        for (size_t j = 0; j < sizeof(reader_counts) / sizeof(reader_counts[0]); j++) {
            bench_result_t res;
            int readers = reader_counts[j];
            if (run_case(shm, ctl, src, &cases[k], readers, seconds, throttle, &res) != 0)
                failed = 1;
            res.memcpy_gbps = floor_gbps;
            double ratio = floor_gbps > 0 ? res.gbps / floor_gbps : 0;
            printf("%-6s %7d %12.0f %13.3f %11.3f %11.3f %7.3f %6llu %5llu %10llu %9llu%s\n", cases[k].name,
                   readers, res.fps, res.gbps, res.gbps_total, floor_gbps, ratio, (unsigned long long)res.lapped,
                   (unsigned long long)res.lost, (unsigned long long)res.frames, (unsigned long long)res.waits,
                   res.failed ? "  FAILED" : "");
            fflush(stdout);
            res.failed |= throttle && (res.lapped || res.lost);
            failed |= res.failed;
            /* the machine-readable lines follow the table */
            snprintf(lines[nlines++], sizeof(lines[0]),
                     "BENCH ring case=%s frame_bytes=%u readers=%d frames=%llu frames_per_s=%.0f "
                     "gbps_per_reader=%.4f gbps_total=%.4f memcpy_gbps=%.4f ratio=%.4f lapped=%llu lost=%llu "
                     "writer_waits=%llu throttle=%d ok=%d",
                     cases[k].name, cases[k].size, readers, (unsigned long long)res.frames, res.fps, res.gbps,
                     res.gbps_total, floor_gbps, ratio, (unsigned long long)res.lapped,
                     (unsigned long long)res.lost, (unsigned long long)res.waits, throttle, !res.failed);
        }
    }
    for (int i = 0; i < nlines; i++)
        printf("%s\n", lines[i]);
    free(src);
    munmap(ctl, sizeof(bench_ctl_t));
    lc_shm_destroy(shm);
    return failed;
}
