/*
 * conf.c: loads a libconfig file against the key table of conf_keys.h.
 *
 * The defaults are themselves libconfig text in the table, so they go
 * through the same type and range checks as user values: a bad default is a
 * test failure, not a silent surprise. Groups exist only as prefixes of key
 * paths; any setting whose path is not a key or such a prefix is unknown.
 */
#include "common/core/conf.h"

#include "common/core/tls.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/net.h"

enum key_type { T_INT, T_BOOL, T_STR, T_ENUM, T_SIZE, T_ADDR, T_RANGE, T_LIST, T_WORKERS };

typedef struct {
    const char *path;
    enum key_type type;
    const char *def;
    long long min, max;
    int reload;
    const char *doc;
    size_t offset;
} key_t_;

static const key_t_ keys[] = {
#define LC_CONF_X(field, path, type, def, min, max, reload, doc) \
    { path, T_##type, def, min, max, reload, doc, offsetof(lc_conf_t, field) },
    LC_CONF_KEYS(LC_CONF_X)
#undef LC_CONF_X
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const key_t_ *key_find(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

static int is_group_prefix(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < NKEYS; i++)
        if (strncmp(keys[i].path, path, n) == 0 && keys[i].path[n] == '.')
            return 1;
    return 0;
}

static void errf(char *err, size_t errlen, const config_setting_t *s, const char *fallback_file,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void errf(char *err, size_t errlen, const config_setting_t *s, const char *fallback_file,
                 const char *fmt, ...)
{
    va_list ap;
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? (int)config_setting_source_line(s) : 0;
    int n = snprintf(err, errlen, "%s:%d: ", file ? file : fallback_file, line);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ENUM choices are the doc text before the first ':' ("a|b|c: ..."). */
static int enum_allows(const key_t_ *k, const char *v)
{
    const char *p = k->doc, *end = strchr(k->doc, ':');
    size_t n = strlen(v);
    while (p < end) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        const char *stop = bar ? bar : end;
        if ((size_t)(stop - p) == n && strncmp(p, v, n) == 0)
            return 1;
        p = stop + 1;
    }
    return 0;
}

static int parse_size(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    long long mul = 1;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': mul = 1LL << 10; end++; break;
    case 'M': mul = 1LL << 20; end++; break;
    case 'G': mul = 1LL << 30; end++; break;
    default: return -1;
    }
    if (*end != '\0' || v > LLONG_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int set_string(char **dst, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* Validate setting s against key k and store it into conf. */
static int apply(lc_conf_t *conf, const key_t_ *k, const config_setting_t *s, const char *file,
                 char *err, size_t errlen)
{
    void *field = (char *)conf + k->offset;
    int type = config_setting_type(s);
    const char *str;

    switch (k->type) {
    case T_INT:
    case T_WORKERS: {
        if (k->type == T_WORKERS && type == CONFIG_TYPE_STRING &&
            strcmp(config_setting_get_string(s), "auto") == 0) {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            *(int *)field = (int)(n < 1 ? 1 : n > k->max ? k->max : n);
            return 0;
        }
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
            errf(err, errlen, s, file, "\"%s\" must be %san integer", k->path,
                 k->type == T_WORKERS ? "\"auto\" or " : "");
            return -1;
        }
        long long v = config_setting_get_int64(s);
        if (v < k->min || v > k->max) {
            errf(err, errlen, s, file, "\"%s\" = %lld is out of range %lld..%lld", k->path, v,
                 k->min, k->max);
            return -1;
        }
        if (k->type == T_WORKERS)
            *(int *)field = (int)v;
        else
            *(long long *)field = v;
        return 0;
    }
    case T_BOOL:
        if (type != CONFIG_TYPE_BOOL) {
            errf(err, errlen, s, file, "\"%s\" must be true or false", k->path);
            return -1;
        }
        *(int *)field = config_setting_get_bool(s);
        return 0;
    case T_LIST: {
        if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
            errf(err, errlen, s, file, "\"%s\" must be a list of strings", k->path);
            return -1;
        }
        lc_conf_list_t *l = field;
        int n = config_setting_length(s);
        char **v = calloc((size_t)n + 1, sizeof(char *));
        if (!v)
            return -1;
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (config_setting_type(e) != CONFIG_TYPE_STRING ||
                strlen(config_setting_get_string(e)) > (size_t)k->max ||
                config_setting_get_string(e)[0] == '\0') {
                errf(err, errlen, s, file, "\"%s\" element %d must be a non-empty string of at most %lld bytes",
                     k->path, i + 1, k->max);
                for (int j = 0; j < i; j++)
                    free(v[j]);
                free(v);
                return -1;
            }
            v[i] = strdup(config_setting_get_string(e));
        }
        for (size_t j = 0; j < l->n; j++)
            free(l->v[j]);
        free(l->v);
        l->v = v;
        l->n = (size_t)n;
        return 0;
    }
    default:
        break;
    }

    /* the rest are strings */
    if (type != CONFIG_TYPE_STRING) {
        errf(err, errlen, s, file, "\"%s\" must be a string", k->path);
        return -1;
    }
    str = config_setting_get_string(s);
    switch (k->type) {
    case T_STR:
        if (strlen(str) < (size_t)k->min || strlen(str) > (size_t)k->max) {
            errf(err, errlen, s, file, "\"%s\" must be %lld..%lld bytes long", k->path, k->min, k->max);
            return -1;
        }
        return set_string(field, str);
    case T_ENUM:
        if (!enum_allows(k, str)) {
            errf(err, errlen, s, file, "\"%s\" = \"%s\" is not one of %.*s", k->path, str,
                 (int)(strchr(k->doc, ':') - k->doc), k->doc);
            return -1;
        }
        return set_string(field, str);
    case T_SIZE: {
        long long v;
        if (parse_size(str, &v) < 0) {
            errf(err, errlen, s, file, "\"%s\" = \"%s\" is not a size like \"256M\"", k->path, str);
            return -1;
        }
        if (v < k->min || v > k->max) {
            errf(err, errlen, s, file, "\"%s\" = \"%s\" is out of range %lld..%lld bytes", k->path,
                 str, k->min, k->max);
            return -1;
        }
        *(long long *)field = v;
        return 0;
    }
    case T_ADDR: {
        lc_net_addr_t a;
        const char *why;
        if (str[0] != '\0' && lc_net_parse_addr(str, &a, &why) < 0) {
            errf(err, errlen, s, file, "\"%s\" = \"%s\": %s", k->path, str, why);
            return -1;
        }
        return set_string(field, str);
    }
    case T_RANGE: {
        int lo, hi, n = -1;
        if (sscanf(str, "%d-%d%n", &lo, &hi, &n) != 2 || n != (int)strlen(str) || lo > hi ||
            lo < k->min || hi > k->max) {
            errf(err, errlen, s, file, "\"%s\" = \"%s\" must be \"LO-HI\" within %lld-%lld", k->path,
                 str, k->min, k->max);
            return -1;
        }
        ((lc_conf_range_t *)field)->lo = lo;
        ((lc_conf_range_t *)field)->hi = hi;
        return 0;
    }
    default:
        return -1;
    }
}

/* Walk every user setting: reject unknown paths, apply known ones. */
static int walk(lc_conf_t *conf, const config_setting_t *group, const char *prefix, const char *file,
                char *err, size_t errlen)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        char path[256];
        const char *name = config_setting_name(s);
        snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", name ? name : "?");
        const key_t_ *k = key_find(path);
        if (k) {
            if (apply(conf, k, s, file, err, errlen) < 0)
                return -1;
        } else if (config_setting_is_group(s) && is_group_prefix(path)) {
            if (walk(conf, s, path, file, err, errlen) < 0)
                return -1;
        } else {
            errf(err, errlen, s, file, "unknown key \"%s\"", path);
            return -1;
        }
    }
    return 0;
}

static int apply_defaults(lc_conf_t *conf, char *err, size_t errlen)
{
    for (size_t i = 0; i < NKEYS; i++) {
        config_t c;
        char text[512];
        config_init(&c);
        snprintf(text, sizeof(text), "k = %s;", keys[i].def);
        int ok = config_read_string(&c, text) == CONFIG_TRUE &&
                 apply(conf, &keys[i], config_lookup(&c, "k"), "<default>", err, errlen) == 0;
        config_destroy(&c);
        if (!ok) {
            snprintf(err, errlen, "bad built-in default for \"%s\"", keys[i].path);
            return -1;
        }
    }
    return 0;
}

static char *dir_of(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return NULL;
    char *slash = strrchr(d, '/');
    if (slash)
        *(slash == d ? slash + 1 : slash) = '\0';
    else
        strcpy(d, ".");
    return d;
}

/* The first of two settings the file has, to blame a check of both on. */
static const config_setting_t *either(config_t *c, const char *a, const char *b)
{
    const config_setting_t *s = config_lookup(c, a);
    return s ? s : config_lookup(c, b);
}

/* A conf holding every default, named file (already resolved). */
static lc_conf_t *conf_new(char *file, const char *prefix, char *err, size_t errlen)
{
    lc_conf_t *conf = calloc(1, sizeof(*conf));
    if (!conf || !file || !(conf->prefix = strdup(prefix))) {
        snprintf(err, errlen, "out of memory");
        free(file);
        lc_conf_free(conf);
        return NULL;
    }
    conf->file = file;
    if (apply_defaults(conf, err, errlen) < 0) {
        lc_conf_free(conf);
        return NULL;
    }
    return conf;
}

/*
 * Everything after libconfig's parse: unknown keys, types and ranges, then
 * the checks that involve several keys. with_files: also load the TLS
 * certificate files (the only check here that touches the file system).
 */
static int conf_check(lc_conf_t *conf, config_t *c, int with_files, char *err, size_t errlen)
{
    if (walk(conf, config_root_setting(c), "", conf->file, err, errlen) < 0)
        return -1;
    if (conf->webrtc_udp_ports.hi - conf->webrtc_udp_ports.lo + 1 < 2 * conf->worker_processes) {
        errf(err, errlen, either(c, "webrtc.udp_ports", "worker_processes"), conf->file,
             "\"webrtc.udp_ports\" must hold at least 2 ports per worker "
             "(old and new workers use separate ports during a reload)");
        return -1;
    }
    if (conf->media_ring_size * 2 > conf->media_shm_size) {
        errf(err, errlen, either(c, "media.shm_size", "media.ring_size"), conf->file,
             "\"media.shm_size\" must hold at least two rings of \"media.ring_size\"");
        return -1;
    }
    if (with_files && lc_tls_wanted(conf)) { /* certificate files are checked now, not at the first handshake */
        SSL_CTX *ctx = lc_tls_server_ctx(conf, err, errlen);
        if (!ctx)
            return -1;
        SSL_CTX_free(ctx);
    }
    return 0;
}

static void syntax_error(config_t *c, const char *file, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s:%d: %s", config_error_file(c) ? config_error_file(c) : file,
             config_error_line(c), config_error_text(c));
}

lc_conf_t *lc_conf_load(const char *file, const char *prefix, char *err, size_t errlen)
{
    config_t c;
    char *path = realpath(file, NULL);

    if (!path) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    lc_conf_t *conf = conf_new(path, prefix, err, errlen);
    if (!conf)
        return NULL;
    config_init(&c);
    char *incdir = dir_of(conf->file);
    config_set_include_dir(&c, incdir);
    int ok = config_read_file(&c, conf->file) == CONFIG_TRUE;
    if (!ok)
        syntax_error(&c, conf->file, err, errlen);
    ok = ok && conf_check(conf, &c, 1, err, errlen) == 0;
    config_destroy(&c);
    free(incdir);
    if (!ok) {
        lc_conf_free(conf);
        return NULL;
    }
    return conf;
}

lc_conf_t *lc_conf_parse_string(const char *text, size_t len, const char *name, const char *prefix, char *err,
                                size_t errlen)
{
    config_t c;
    /* libconfig would open the named file: this entry point reads nothing */
    if (memmem(text, len, "@include", 8) || memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: %s", name,
                 memchr(text, '\0', len) ? "NUL byte in the configuration" : "@include is not allowed here");
        return NULL;
    }
    char *copy = strndup(text, len);
    lc_conf_t *conf = copy ? conf_new(strdup(name), prefix, err, errlen) : NULL;
    if (!conf) {
        if (!copy)
            snprintf(err, errlen, "out of memory");
        free(copy);
        return NULL;
    }
    config_init(&c);
    int ok = config_read_string(&c, copy) == CONFIG_TRUE;
    if (!ok)
        syntax_error(&c, conf->file, err, errlen);
    ok = ok && conf_check(conf, &c, 0, err, errlen) == 0;
    config_destroy(&c);
    free(copy);
    if (!ok) {
        lc_conf_free(conf);
        return NULL;
    }
    return conf;
}

char *lc_conf_peek_path(const char *file, const char *prefix, const char *key)
{
    const key_t_ *k = key_find(key);
    const char *v = NULL;
    config_t c, d;
    char text[512];

    if (!k || (k->type != T_STR && k->type != T_ADDR))
        return NULL;
    config_init(&c);
    config_init(&d);
    char *incdir = dir_of(file);
    config_set_include_dir(&c, incdir);
    if (config_read_file(&c, file) == CONFIG_TRUE)
        config_lookup_string(&c, key, &v);
    snprintf(text, sizeof(text), "k = %s;", k->def);
    if (!v && config_read_string(&d, text) == CONFIG_TRUE)
        config_lookup_string(&d, "k", &v);
    char *out = NULL;
    if (v && (v[0] == '/' || !prefix[0]))
        out = strdup(v);
    else if (v && asprintf(&out, "%s/%s", prefix, v) < 0)
        out = NULL;
    config_destroy(&c);
    config_destroy(&d);
    free(incdir);
    return out;
}

void lc_conf_where(const lc_conf_t *conf, const char *key, char *out, size_t outlen)
{
    config_t c;
    char *incdir = dir_of(conf->file);
    config_init(&c);
    config_set_include_dir(&c, incdir);
    const config_setting_t *s = config_read_file(&c, conf->file) == CONFIG_TRUE ? config_lookup(&c, key) : NULL;
    const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : conf->file;
    /* printed before config_destroy: the setting owns the file name */
    if (s)
        snprintf(out, outlen, "%s:%d", file, (int)config_setting_source_line(s));
    else
        snprintf(out, outlen, "%s", conf->file);
    config_destroy(&c);
    free(incdir);
}

void lc_conf_free(lc_conf_t *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < NKEYS; i++) {
        void *field = (char *)conf + keys[i].offset;
        switch (keys[i].type) {
        case T_STR: case T_ENUM: case T_ADDR:
            free(*(char **)field);
            break;
        case T_LIST: {
            lc_conf_list_t *l = field;
            for (size_t j = 0; j < l->n; j++)
                free(l->v[j]);
            free(l->v);
            break;
        }
        default:
            break;
        }
    }
    free(conf->file);
    free(conf->prefix);
    free(conf);
}

char *lc_conf_path(const lc_conf_t *conf, const char *rel)
{
    char *out;
    if (rel[0] == '/' || !conf->prefix || !conf->prefix[0])
        return strdup(rel);
    if (asprintf(&out, "%s/%s", conf->prefix, rel) < 0)
        return NULL;
    return out;
}

static int field_equal(const key_t_ *k, const lc_conf_t *a, const lc_conf_t *b)
{
    const void *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
    switch (k->type) {
    case T_STR: case T_ENUM: case T_ADDR:
        return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
    case T_INT: case T_SIZE:
        return *(const long long *)fa == *(const long long *)fb;
    case T_BOOL: case T_WORKERS:
        return *(const int *)fa == *(const int *)fb;
    case T_RANGE:
        return memcmp(fa, fb, sizeof(lc_conf_range_t)) == 0;
    case T_LIST: {
        const lc_conf_list_t *la = fa, *lb = fb;
        if (la->n != lb->n)
            return 0;
        for (size_t i = 0; i < la->n; i++)
            if (strcmp(la->v[i], lb->v[i]) != 0)
                return 0;
        return 1;
    }
    }
    return 1;
}

int lc_conf_warn_restart_keys(const lc_conf_t *running, const lc_conf_t *loaded)
{
    int n = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].reload && !field_equal(&keys[i], running, loaded)) {
            lc_log_warn("\"%s\" changed in %s: it takes effect only after a restart", keys[i].path,
                        loaded->file);
            n++;
        }
    }
    return n;
}

static const char *type_name(enum key_type t)
{
    static const char *names[] = { "integer", "boolean", "string", "string", "size", "address",
                                   "port range", "list of strings", "\"auto\" or integer" };
    return names[t];
}

static int groups_of(const char *path)
{
    int n = 0;
    for (; *path; path++)
        n += *path == '.';
    return n;
}

static void print_sample(FILE *out)
{
    const char *prev = "";
    fprintf(out, "# livecdn configuration: every key with its default (written by\n"
                 "# `make man-keys` from the key table; see man/livecdn.conf.5).\n");
    for (size_t i = 0; i <= NKEYS; i++) {
        const char *path = i < NKEYS ? keys[i].path : "";
        int keep = 0, have = groups_of(prev), want = groups_of(path);
        /* groups are shared while the leading components match */
        const char *a = prev, *b = path;
        while (keep < have && keep < want) {
            const char *ea = strchr(a, '.'), *eb = strchr(b, '.');
            if (ea - a != eb - b || strncmp(a, b, (size_t)(ea - a)) != 0)
                break;
            a = ea + 1;
            b = eb + 1;
            keep++;
        }
        for (int d = have; d > keep; d--)
            fprintf(out, "%*s};\n", (d - 1) * 2, "");
        for (int d = keep; d < want; d++) {
            const char *e = strchr(b, '.');
            fprintf(out, "\n%*s%.*s: {\n", d * 2, "", (int)(e - b), b);
            b = e + 1;
        }
        if (i == NKEYS)
            break;
        fprintf(out, "%s%*s# %s\n%*s%s = %s;\n", want == keep && want == 0 ? "\n" : "", want * 2, "",
                keys[i].doc, want * 2, "", b, keys[i].def);
        prev = path;
    }
}

static void roff_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

int lc_conf_print_keys(FILE *out, const char *format)
{
    if (strcmp(format, "list") == 0) {
        for (size_t i = 0; i < NKEYS; i++)
            fprintf(out, "%s\n", keys[i].path);
        return 0;
    }
    if (strcmp(format, "sample") == 0) {
        print_sample(out);
        return 0;
    }
    if (strcmp(format, "man") == 0) {
        for (size_t i = 0; i < NKEYS; i++) {
            fprintf(out, ".TP\n.B ");
            roff_escape(out, keys[i].path);
            fprintf(out, "\n%s, default \\fB", type_name(keys[i].type));
            roff_escape(out, keys[i].def);
            fprintf(out, "\\fR");
            if (keys[i].type == T_INT || keys[i].type == T_SIZE || keys[i].type == T_WORKERS)
                fprintf(out, ", range %lld..%lld", keys[i].min, keys[i].max);
            fprintf(out, "%s.\n", keys[i].reload ? "" : " (restart only)");
            roff_escape(out, keys[i].doc);
            fprintf(out, ".\n");
        }
        return 0;
    }
    return -1;
}
