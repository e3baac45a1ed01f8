/*
 * url_path.c: see url_path.h. One pass: percent-decode a byte, append it to
 * the current component, check the component when a '/' (literal, never a
 * decoded "%2F": that would let one component name two) or the end closes
 * it. Empty components ("//") are dropped, as a file system would.
 */
#include "common/http/url_path.h"
#include "common/core/hex.h"

#include <string.h>

/* The component out[start..*n) just closed: keep it, drop it or refuse it. */
static int close_component(char *out, size_t start, size_t *n, const char **why)
{
    size_t clen = *n - start;
    if (clen == 0)
        return 0;
    if ((clen == 1 && out[start] == '.') || (clen == 2 && out[start] == '.' && out[start + 1] == '.')) {
        *why = "a path component is \".\" or \"..\"";
        return -1;
    }
    return 0;
}

int lc_url_path_decode(const char *raw, size_t len, char *out, size_t outlen, const char **why)
{
    static const char index[] = "index.html";
    size_t n = 0, start = 0;

    if (outlen > LC_URL_PATH_MAX + 1)
        outlen = LC_URL_PATH_MAX + 1;
    if (outlen < sizeof(index)) {
        *why = "no room for the path";
        return -1;
    }
    if (len == 0 || raw[0] != '/') {
        *why = "the path does not start with /";
        return -1;
    }
    for (size_t i = 1; i <= len; i++) {
        if (i == len || raw[i] == '/') {
            if (close_component(out, start, &n, why) < 0)
                return -1;
            if (n > start && i < len) {
                if (n + 1 >= outlen) {
                    *why = "the path is too long";
                    return -1;
                }
                out[n++] = '/';
            }
            start = n;
            continue;
        }
        int c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < len ? lc_hex_digit(raw[i + 1]) : -1, lo = hi >= 0 ? lc_hex_digit(raw[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "a bad %-escape";
                return -1;
            }
            c = hi << 4 | lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
            *why = c == '/' || c == '\\' ? "an escaped or back slash in the path" : "a control byte in the path";
            return -1;
        }
        if (n + 1 >= outlen) {
            *why = "the path is too long";
            return -1;
        }
        out[n++] = (char)c;
    }
    /* "/" and "dir/" name the directory's index page */
    if (n == 0 || out[n - 1] == '/') {
        if (n + sizeof(index) > outlen) {
            *why = "the path is too long";
            return -1;
        }
        memcpy(out + n, index, sizeof(index));
        return 0;
    }
    out[n] = '\0';
    return 0;
}
