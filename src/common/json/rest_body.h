/*
 * rest_body.h: the JSON bodies of REST calls (SPEC 8), I/O-free, never
 * logs. Every body goes through lc_json_guard before yajl sees it (a deep
 * "[[[[..." would otherwise overflow the control process's stack when yajl
 * frees its tree), so REST routes parse bodies only through here.
 */
#ifndef LC_COMMON_JSON_REST_BODY_H
#define LC_COMMON_JSON_REST_BODY_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

/* The body as a yajl tree (the caller frees it with yajl_tree_free), or
 * NULL with the reason, starting "Bad JSON: ", in err. len bytes of text,
 * no NUL needed. */
yajl_val lc_rest_body_parse(const char *text, size_t len, char *err, size_t errlen);

/* The "name" string of an object body {"name": "..."} into out: non-empty,
 * shorter than outlen, no NUL. 0, or -1 with the reason in err. */
int lc_rest_body_name(const char *text, size_t len, char *out, size_t outlen, char *err, size_t errlen);

#endif
