/* libFuzzer target: page paths (src/common/http/url_path.c). Whatever comes
 * in, what goes out is relative and has no "." or ".." component. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http/url_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[LC_URL_PATH_MAX + 1];
    const char *why = NULL;
    if (lc_url_path_decode((const char *)data, size, out, sizeof(out), &why) < 0) {
        if (!why)
            abort();
        return 0;
    }
    size_t n = strlen(out);
    if (n == 0 || out[0] == '/' || out[n - 1] == '/' || strstr(out, "//"))
        abort();
    for (const char *c = out; *c;) {
        size_t len = strcspn(c, "/");
        if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            abort();
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)c[i] < 0x20 || c[i] == '\\')
                abort();
        c += len + (c[len] == '/');
    }
    return 0;
}
