/*
 * url_path.h: the path of a page request, decoded and checked before the
 * file system sees it. I/O-free, never logs.
 *
 * The result is a relative path of plain components ("a/b/c.js"): each one
 * non-empty, not "." or "..", and free of NUL and control bytes, so the
 * caller can open it one component at a time below http.root (static.c
 * does, with O_NOFOLLOW on every step).
 */
#ifndef LC_COMMON_HTTP_URL_PATH_H
#define LC_COMMON_HTTP_URL_PATH_H

#include <stddef.h>

#define LC_URL_PATH_MAX 1024  /* decoded bytes; a longer path is refused */

/*
 * raw: the request target's path as sent (percent-encoded, starting with
 * '/', no query). Writes the relative path, NUL-terminated, into out; a
 * path ending in '/' (or the root "/") gets "index.html" appended. 0, or -1
 * with *why a static reason.
 */
int lc_url_path_decode(const char *raw, size_t len, char *out, size_t outlen, const char **why);

#endif
