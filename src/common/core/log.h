/*
 * log.h: the error log every process writes to.
 *
 * One file (or stderr) per server, opened by the master and reopened on
 * USR1 by every process. A line is formatted into a stack buffer and written
 * with one write(2) on an O_APPEND fd, so lines of concurrent processes never
 * interleave. The context prefix ("worker#1") is set once per process;
 * sessions add their own context in the message ("sess:1a2b").
 * Debug lines compile to nothing unless LC_DEBUG is defined.
 */
#ifndef LC_LOG_H
#define LC_LOG_H

enum lc_log_level { LC_LOG_ERROR = 0, LC_LOG_WARN, LC_LOG_INFO, LC_LOG_DEBUG };

/* path "stderr" logs to fd 2. Returns 0 or -1 (errno set) and keeps the old fd. */
int lc_log_open(const char *path);
int lc_log_reopen(void);
void lc_log_set_level(int level);
int lc_log_level_from_name(const char *name); /* -1 if unknown */
void lc_log_set_context(const char *ctx);
int lc_log_fd(void);

void lc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends ": strerror(err)" like nginx's ngx_log_error(..., err, ...). */
void lc_log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define lc_log_error(...) lc_log(LC_LOG_ERROR, __VA_ARGS__)
#define lc_log_warn(...)  lc_log(LC_LOG_WARN, __VA_ARGS__)
#define lc_log_info(...)  lc_log(LC_LOG_INFO, __VA_ARGS__)
#ifdef LC_DEBUG
#define lc_log_debug(...) lc_log(LC_LOG_DEBUG, __VA_ARGS__)
#else
#define lc_log_debug(...) ((void)0)
#endif

#endif
