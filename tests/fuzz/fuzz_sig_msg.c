/* libFuzzer target: signaling JSON messages (src/common/json/sig_msg.c). */
#include <stddef.h>
#include <stdint.h>

#include "common/json/sig_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_sig_msg_t msg;
    char err[256];
    if (lc_sig_msg_parse((const char *)data, size, &msg, err, sizeof(err)) == 0)
        lc_sig_msg_free(&msg);
    return 0;
}
