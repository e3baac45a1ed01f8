/*
 * conf.h: the loaded configuration, one struct generated from conf_keys.h.
 *
 * lc_conf_load() reads a libconfig file, rejects unknown keys, wrong types
 * and out-of-range values with "FILE:LINE: reason", fills every key not in
 * the file from its default, and returns a struct owned by the caller
 * (lc_conf_free). A process keeps the conf it was started with; a reload
 * builds a new one and drops the old only when the new one passed.
 */
#ifndef LC_CONF_H
#define LC_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "common/core/conf_keys.h"

typedef struct { char **v; size_t n; } lc_conf_list_t;
typedef struct { int lo, hi; } lc_conf_range_t;

#define LC_CONF_FIELD_INT long long
#define LC_CONF_FIELD_BOOL int
#define LC_CONF_FIELD_STR char *
#define LC_CONF_FIELD_ENUM char *
#define LC_CONF_FIELD_SIZE long long
#define LC_CONF_FIELD_ADDR char *
#define LC_CONF_FIELD_RANGE lc_conf_range_t
#define LC_CONF_FIELD_LIST lc_conf_list_t
#define LC_CONF_FIELD_WORKERS int

typedef struct lc_conf {
#define LC_CONF_X(field, path, type, def, min, max, reload, doc) LC_CONF_FIELD_##type field;
    LC_CONF_KEYS(LC_CONF_X)
#undef LC_CONF_X
    char *file;    /* absolute path of the file loaded */
    char *prefix;  /* directory relative paths are resolved against */
} lc_conf_t;

/* Load and validate. NULL on error with the reason ("FILE:LINE: ...") in err. */
lc_conf_t *lc_conf_load(const char *file, const char *prefix, char *err, size_t errlen);
void lc_conf_free(lc_conf_t *conf);
/* The same from text in memory, named name in errors ("NAME:LINE: ..."):
 * reads no file at all (text with @include is refused, certificates are
 * not loaded), so the fuzz build can feed it anything. */
lc_conf_t *lc_conf_parse_string(const char *text, size_t len, const char *name, const char *prefix, char *err,
                                size_t errlen);
/* The string key (e.g. "pid") as the file sets it, read leniently (other
 * errors in the file ignored), else its default; resolved against prefix.
 * For `livecdn -s` to find a running master when the new file is bad.
 * malloc'd, NULL if unknown or out of memory. */
char *lc_conf_peek_path(const char *file, const char *prefix, const char *key);

/* "FILE:LINE" of key in the file conf was loaded from (read again), or
 * "FILE" when the key is not set there (its default is in use). For errors
 * found after loading, such as a listen address that cannot be bound. */
void lc_conf_where(const lc_conf_t *conf, const char *key, char *out, size_t outlen);

/* rel resolved against conf->prefix unless absolute; malloc'd, caller frees. */
char *lc_conf_path(const lc_conf_t *conf, const char *rel);

/* Log a warning for every restart-only key that differs; returns how many. */
int lc_conf_warn_restart_keys(const lc_conf_t *running, const lc_conf_t *loaded);

/* Print the key table: "list" (one path per line), "sample" (a commented
 * config with every default), "man" (roff for man/livecdn.conf.5). */
int lc_conf_print_keys(FILE *out, const char *format);

#endif
