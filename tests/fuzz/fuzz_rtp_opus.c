/* libFuzzer target: Opus packet durations (src/common/media/rtp_opus.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/media/rtp_opus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *err = NULL;
    int n = lc_rtp_opus_samples(data, size, &err);
    if (n < 0 ? err == NULL : n == 0 || n > LC_RTP_OPUS_MAX_SAMPLES)
        abort();
    if (size > 0) {
        int f = lc_rtp_opus_frame_samples(data[0]);
        if (f < 120 || f > 2880)
            abort();
    }
    return 0;
}
