/*
 * json_guard.c: see json_guard.h. One pass that tracks only whether it is
 * inside a string; yajl does the real validation afterwards.
 */
#include "common/json/json_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lc_json_guard(const char *s, size_t len)
{
    int in_string = 0, depth = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\0')
            return "Bad JSON: NUL byte in message";
        if (in_string) {
            if (ch == '"') {
                in_string = 0;
            } else if (ch == '\\' && i + 1 < len) {
                /* the escaped byte is skipped below: check it here */
                if (s[i + 1] == '\0')
                    return "Bad JSON: NUL byte in message";
                if (s[i + 1] == 'u' && len - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0)
                    return "Bad JSON: \\u0000 in a string";
                i++;
            }
            continue;
        }
        if (ch == '"')
            in_string = 1;
        else if (ch == '/')
            return "Bad JSON: comments are not allowed";
        else if ((ch == '[' || ch == '{') && ++depth > LC_JSON_MAX_DEPTH)
            return "Bad JSON: nested deeper than 32 levels";
        else if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
    }
    return NULL;
}

yajl_val lc_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    char yerr[256] = "";
    const char *bad = lc_json_guard(text, len);
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return NULL;
    }
    /* yajl needs a NUL-terminated copy; the guard refused a NUL inside */
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
