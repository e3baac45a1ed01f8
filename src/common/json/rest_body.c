/*
 * rest_body.c: see rest_body.h.
 */
#include "common/json/rest_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json/json_guard.h"

yajl_val lc_rest_body_parse(const char *text, size_t len, char *err, size_t errlen)
{
    return lc_json_parse(text, len, err, errlen);
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
