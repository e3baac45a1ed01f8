/*
 * fuzz_dtls.c: libFuzzer target for src/common/webrtc/dtls.c, the server
 * side a peer's datagrams reach after ICE.
 *
 * The input is split into datagrams (2-byte length prefixes); each goes to
 * a fresh server association, as a hostile peer's packets would. Whatever
 * OpenSSL makes of them, lc_dtls_feed must return 0 or -1 with a reason,
 * never read out of bounds, and never report SRTP keys before a handshake.
 * The seed corpus holds a real ClientHello (written by this project's own
 * client role) so the fuzzer starts from deep inside the handshake.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/webrtc/dtls.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void sink(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    CHECK(len <= 1500);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const char *err = NULL;
    if (!ready) {
        CHECK(lc_dtls_init(&err) == 0);
        ready = 1;
    }
    lc_dtls_t *d = lc_dtls_new(1, sink, NULL, NULL);
    CHECK(d);
    while (size >= 2) {
        size_t n = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, data, n);
        err = NULL;
        int rc = lc_dtls_feed(d, copy, n, &err);
        CHECK(rc == 0 || (rc == -1 && err && *err));
        free(copy);
        data += n;
        size -= n;
        if (rc < 0)
            break;
    }
    lc_srtp_keys_t k;
    if (!lc_dtls_connected(d))
        CHECK(lc_dtls_srtp_keys(d, &k, &err) == -1);
    lc_dtls_free(d);
    return 0;
}
