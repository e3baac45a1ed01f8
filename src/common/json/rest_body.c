/*
 * rest_body.c: see rest_body.h. yajl needs a NUL-terminated copy; the guard
 * has already refused a NUL inside, so the copy is the whole text.
 */
#include "common/json/rest_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json/json_guard.h"

yajl_val lc_rest_body_parse(const char *text, size_t len, char *err, size_t errlen)
{
    char yerr[256] = "";
    const char *bad = lc_json_guard(text, len);
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    yajl_val tree = yajl_tree_parse(copy, yerr, sizeof(yerr));
    free(copy);
    if (!tree) {
        /* yajl's message spans lines; keep the first */
        yerr[strcspn(yerr, "\n")] = '\0';
        snprintf(err, errlen, "Bad JSON: %s", yerr[0] ? yerr : "parse error");
    }
    return tree;
}

int lc_rest_body_name(const char *text, size_t len, char *out, size_t outlen, char *err, size_t errlen)
{
    static const char *path[] = { "name", NULL };
    yajl_val tree = lc_rest_body_parse(text, len, err, errlen);
    if (!tree)
        return -1;
    yajl_val v = YAJL_IS_OBJECT(tree) ? yajl_tree_get(tree, path, yajl_t_string) : NULL;
    const char *name = v ? YAJL_GET_STRING(v) : NULL;
    int ok = name && name[0] && strlen(name) < outlen;
    if (ok)
        snprintf(out, outlen, "%s", name);
    else
        snprintf(err, errlen, "body must be {\"name\": \"STREAM\"}%s",
                 name && strlen(name) >= outlen ? " with a shorter name" : "");
    yajl_tree_free(tree);
    return ok ? 0 : -1;
}
