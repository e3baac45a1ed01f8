/*
 * fuzz_whip_path.c: libFuzzer target for src/common/http/whip_path.c.
 *
 * The input is a request target. Besides "no crash, no sanitizer report",
 * it checks what whip.c relies on: a name is never empty and holds no '/',
 * '%', '?', control byte or space; an id holds no '/'; the split does not
 * depend on the bytes after the target or on a query; an id that parses
 * prints back to the same hex.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http/whip_path.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static int clean(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%' || c == '?' || c <= ' ' || c == 0x7f)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    lc_whip_path_t p, q;
    const char *err = NULL;
    int rc = lc_whip_path_split(t, size, &p, &err);
    if (rc < 0) {
        CHECK(err && err[0]);
        return 0;
    }
    CHECK(rc == 0);
    CHECK(lc_whip_path_match(t, size));
    CHECK(p.kind == LC_WHIP_PATH_WHIP || p.kind == LC_WHIP_PATH_WHEP);
    CHECK(p.name[0] && strlen(p.name) < sizeof(p.name) && !strchr(p.name, '/') && clean(p.name));
    CHECK(p.has_id ? p.id[0] && !strchr(p.id, '/') && clean(p.id) : !p.id[0]);

    /* the same target with a query appended splits the same */
    if (!memchr(t, '?', size) && size < 4096) {
        char buf[4200];
        memcpy(buf, t, size);
        memcpy(buf + size, "?a=b/c", 6);
        CHECK(lc_whip_path_split(buf, size + 6, &q, &err) == 0);
        CHECK(q.kind == p.kind && strcmp(q.name, p.name) == 0 && q.has_id == p.has_id && strcmp(q.id, p.id) == 0);
    }
    uint8_t id[LC_WHIP_PATH_ID_BYTES];
    char hex[LC_WHIP_PATH_ID_HEX + 1];
    if (p.has_id && lc_whip_path_id(p.id, id) == 0) {
        lc_whip_path_id_hex(id, hex);
        CHECK(strcmp(hex, p.id) == 0);
    }
    return 0;
}
