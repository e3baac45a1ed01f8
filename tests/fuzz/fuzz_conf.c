/* libFuzzer target: configuration text (src/common/core/conf.c) through
 * lc_conf_parse_string, which reads no file. The input is a config file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/conf.h"

/* libconfig 1.5's parser drops the string token it holds when a syntax
 * error follows it (no bison %destructor): a few bytes per refused file,
 * inside libconfig, not ours to free. Any other leak still fails. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    if (size > 64 << 10)
        return 0;
    lc_conf_t *conf = lc_conf_parse_string((const char *)data, size, "fuzz.conf", "/nonexistent", err, sizeof(err));
    if (!conf) {
        if (!err[0])
            abort();
        return 0;
    }
    lc_conf_free(conf);
    return 0;
}
