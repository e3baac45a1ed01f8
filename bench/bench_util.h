/*
 * bench_util.h: what the benchmark programs share (header-only, each bench
 * is one program): the clock, /proc sampling of the server under test,
 * percentiles, and the RTMP player's URL and commands.
 */
#ifndef LC_BENCH_UTIL_H
#define LC_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common/rtmp/amf0.h"

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* utime + stime of a process, seconds; -1 if it is gone */
static inline double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS (everything resident, shared memory included) and RssAnon (private
 * heap and stacks: what a player costs a process, without shared arenas),
 * added to *rss and *anon. */
static inline void proc_rss_kib(pid_t pid, long *rss, long *anon)
{
    char path[64], line[256];
    long v;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            *rss += v;
        else if (sscanf(line, "RssAnon: %ld kB", &v) == 1)
            *anon += v;
    }
    fclose(f);
}

static inline double own_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* p-th percentile (0..1) of sorted v[0..n); -1 when empty */
static inline double pct(const double *v, int n, double p)
{
    if (n == 0)
        return -1;
    int i = (int)(p * n + 0.999999) - 1; /* ceil without libm */
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* ---- RTMP player ---- */

typedef struct {
    char host[256], port[16], app[256], name[512], tcurl[600];
} url_t;

/* rtmp://HOST[:PORT]/APP/NAME; 0 or -1 */
static inline int parse_url(const char *s, url_t *u)
{
    const char *p = s, *slash, *colon;

    if (strncmp(p, "rtmp://", 7) != 0)
        return -1;
    p += 7;
    slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof(u->host))
        return -1;
    colon = memchr(p, ':', (size_t)(slash - p));
    if (colon) {
        snprintf(u->host, sizeof(u->host), "%.*s", (int)(colon - p), p);
        snprintf(u->port, sizeof(u->port), "%.*s", (int)(slash - colon - 1), colon + 1);
    } else {
        snprintf(u->host, sizeof(u->host), "%.*s", (int)(slash - p), p);
        snprintf(u->port, sizeof(u->port), "1935");
    }
    p = slash + 1;
    slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1] || (size_t)(slash - p) >= sizeof(u->app) ||
        strlen(slash + 1) >= sizeof(u->name))
        return -1;
    snprintf(u->app, sizeof(u->app), "%.*s", (int)(slash - p), p);
    snprintf(u->name, sizeof(u->name), "%s", slash + 1);
    snprintf(u->tcurl, sizeof(u->tcurl), "rtmp://%s:%s/%s", u->host, u->port, u->app);
    return 0;
}

/* The AMF0 bodies of a player's three commands, as Flash-era players send them. */
static inline void rtmp_connect_amf(lc_amf0_buf_t *b, const url_t *u, double txn)
{
    lc_amf0_put_string(b, "connect");
    lc_amf0_put_number(b, txn);
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "app");
    lc_amf0_put_string(b, u->app);
    lc_amf0_put_key(b, "flashVer");
    lc_amf0_put_string(b, "LNX 9,0,124,2");
    lc_amf0_put_key(b, "tcUrl");
    lc_amf0_put_string(b, u->tcurl);
    lc_amf0_put_key(b, "fpad");
    lc_amf0_put_bool(b, 0);
    lc_amf0_put_key(b, "capabilities");
    lc_amf0_put_number(b, 15);
    lc_amf0_put_key(b, "audioCodecs");
    lc_amf0_put_number(b, 4071);
    lc_amf0_put_key(b, "videoCodecs");
    lc_amf0_put_number(b, 252);
    lc_amf0_put_key(b, "videoFunction");
    lc_amf0_put_number(b, 1);
    lc_amf0_put_object_end(b);
}

static inline void rtmp_create_stream_amf(lc_amf0_buf_t *b, double txn)
{
    lc_amf0_put_string(b, "createStream");
    lc_amf0_put_number(b, txn);
    lc_amf0_put_null(b);
}

static inline void rtmp_play_amf(lc_amf0_buf_t *b, const url_t *u)
{
    lc_amf0_put_string(b, "play");
    lc_amf0_put_number(b, 0);
    lc_amf0_put_null(b);
    lc_amf0_put_string(b, u->name);
    lc_amf0_put_number(b, -2000); /* live only */
}

#endif
