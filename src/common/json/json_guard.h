/*
 * json_guard.h: what must be refused before yajl's tree parser sees a text.
 * yajl frees its tree recursively, one stack frame per level, so a message
 * of many "[" would overflow the stack; its tree keeps strings as C strings,
 * so "\u0000" would silently cut a name; and it accepts comments, which
 * could hide brackets from the depth count. I/O-free, never logs.
 */
#ifndef LC_JSON_GUARD_H
#define LC_JSON_GUARD_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#define LC_JSON_MAX_DEPTH 32

/* NULL if text[0..len) may go to yajl_tree_parse, else a static reason
 * starting "Bad JSON: ". */
const char *lc_json_guard(const char *text, size_t len);

/* The one way the tree parses JSON: text[0..len) (no NUL needed) through
 * the guard, then yajl. The tree (the caller frees it with yajl_tree_free),
 * or NULL with the reason, starting "Bad JSON: ", in err. */
yajl_val lc_json_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
