/* libFuzzer target: the JSON guard (src/common/json/json_guard.c). What it
 * lets through must be safe for yajl's tree parser and its recursive free. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/json/json_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = lc_json_guard((const char *)data, size);
    if (bad) {
        if (strncmp(bad, "Bad JSON: ", 10) != 0)
            abort();
        return 0;
    }
    if (memchr(data, '\0', size))
        abort();
    char *copy = malloc(size + 1), err[128];
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    yajl_tree_free(yajl_tree_parse(copy, err, sizeof(err)));
    free(copy);
    return 0;
}
