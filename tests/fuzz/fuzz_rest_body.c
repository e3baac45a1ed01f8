/* libFuzzer target: REST request bodies (src/common/json/rest_body.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json/rest_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[256], err[256];
    if (lc_rest_body_name((const char *)data, size, name, sizeof(name), err, sizeof(err)) == 0 &&
        (name[0] == '\0' || strlen(name) >= sizeof(name)))
        abort();
    yajl_val tree = lc_rest_body_parse((const char *)data, size, err, sizeof(err));
    yajl_tree_free(tree);
    return 0;
}
