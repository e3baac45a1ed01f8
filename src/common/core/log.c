/*
 * log.c: see log.h. Owns the log fd and the per-process context string.
 * Safe to call from any code but not from signal handlers (vsnprintf).
 */
#include "common/core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static int log_level = LC_LOG_INFO;
static char log_path[4096];
static char log_ctx[64] = "livecdn";

static const char *level_names[] = { "error", "warn", "info", "debug" };

int lc_log_open(const char *path)
{
    int fd;

    if (strcmp(path, "stderr") == 0) {
        fd = 2;
    } else {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return -1;
    }
    if (log_fd > 2)
        close(log_fd);
    log_fd = fd;
    snprintf(log_path, sizeof(log_path), "%s", path);
    return 0;
}

int lc_log_reopen(void)
{
    if (log_path[0] == '\0' || strcmp(log_path, "stderr") == 0)
        return 0;
    char path[sizeof(log_path)];
    memcpy(path, log_path, sizeof(path));
    return lc_log_open(path);
}

void lc_log_set_level(int level) { log_level = level; }
int lc_log_fd(void) { return log_fd; }

int lc_log_level_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0)
            return (int)i;
    return -1;
}

void lc_log_set_context(const char *ctx)
{
    snprintf(log_ctx, sizeof(log_ctx), "%s", ctx);
}

static void log_write(int level, int err, const char *fmt, va_list ap)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int r;

    if (level > log_level)
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03d [%s] %d#%s: ", (int)(tv.tv_usec / 1000),
                 level_names[level], (int)getpid(), log_ctx);
    n += (size_t)r;
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    n = r < 0 ? n : n + (size_t)r;
    if (n > sizeof(line) - 2) {
        /* Long lines are cut, visibly: a log line is one atomic write. */
        n = sizeof(line) - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    if (err) {
        r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
        if (r > 0 && (size_t)r < sizeof(line) - n)
            n += (size_t)r;
    }
    if (n > sizeof(line) - 1)
        n = sizeof(line) - 1;
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, n);
    (void)w;
}

void lc_log(int level, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;
    va_start(ap, fmt);
    log_write(level, 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

void lc_log_errno(int level, int err, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;
    va_start(ap, fmt);
    log_write(level, err, fmt, ap);
    va_end(ap);
    errno = saved;
}
