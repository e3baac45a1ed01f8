/*
 * fuzz_dcep.c: libFuzzer target for src/common/webrtc/dcep.c.
 *
 * The input is one SCTP message on the DCEP payload protocol, as a
 * worker's data channel code gets it. Invariants checked besides "no
 * sanitizer report": an accepted OPEN's label and protocol lie inside the
 * input back to back after the header, it rebuilds to the same bytes, an
 * ACK is only ever the one byte, and the log form of any bytes is printable
 * and NUL-terminated within its buffer whatever the cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/webrtc/dcep.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static uint8_t out[65536 * 2 + 64];

static void check_printable(const uint8_t *s, size_t n)
{
    static const size_t caps[] = { 1, 2, 4, 5, 64, 300 };
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        char buf[301];
        memset(buf, 'X', sizeof(buf));
        lc_dcep_printable(buf, caps[c], s, n);
        size_t k = strlen(buf);
        CHECK(k < caps[c]);
        for (size_t i = 0; i < k; i++)
            CHECK(buf[i] >= 0x20 && buf[i] < 0x7f);
        if (n < caps[c])
            CHECK(k == n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *err = NULL;
    int type = lc_dcep_type(data, size, &err);
    CHECK(type == -1 || type == LC_DCEP_OPEN || type == LC_DCEP_ACK);
    CHECK(type >= 0 || err);

    lc_dcep_open_t o;
    if (lc_dcep_parse_open(data, size, &o, &err) == 0) {
        CHECK(type == LC_DCEP_OPEN);
        CHECK(o.label == data + LC_DCEP_OPEN_HEADER);
        CHECK(o.protocol == o.label + o.label_len);
        size_t used = LC_DCEP_OPEN_HEADER + o.label_len + o.protocol_len;
        CHECK(used <= size);
        size_t n = lc_dcep_build_open(out, sizeof(out), &o);
        CHECK(n == used && memcmp(out, data, used) == 0);
        CHECK(lc_dcep_build_open(out, used - 1, &o) == 0); /* one byte short: nothing */
        check_printable(o.label, o.label_len);
        check_printable(o.protocol, o.protocol_len);
    } else {
        CHECK(err != NULL);
    }
    if (lc_dcep_parse_ack(data, size, &err) == 0)
        CHECK(size == 1 && data[0] == LC_DCEP_ACK && type == LC_DCEP_ACK);
    check_printable(data, size);
    return 0;
}
