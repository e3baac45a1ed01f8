/*
 * whip_path.h: the request targets of WHIP and WHEP (SPEC section 4),
 * I/O-free: "/whip/NAME", "/whep/NAME" (POST) and "/whip/NAME/ID",
 * "/whep/NAME/ID" (the Location a DELETE names), a query ignored.
 *
 * Names are taken as they are: a percent-escape, a control byte or a space
 * is refused rather than decoded, so one name has one spelling. An ID is
 * the session id the server made: LC_WHIP_PATH_ID_HEX lowercase hex digits.
 */
#ifndef LC_COMMON_HTTP_WHIP_PATH_H
#define LC_COMMON_HTTP_WHIP_PATH_H

#include <stddef.h>
#include <stdint.h>

#define LC_WHIP_PATH_ID_BYTES 16
#define LC_WHIP_PATH_ID_HEX (2 * LC_WHIP_PATH_ID_BYTES)

enum lc_whip_path_kind { LC_WHIP_PATH_WHIP = 1, LC_WHIP_PATH_WHEP = 2 };

typedef struct {
    int kind;            /* lc_whip_path_kind */
    char name[256];      /* NUL-terminated, never empty */
    int has_id;          /* a Location: "/KIND/NAME/ID" */
    char id[72];         /* as written (NUL-terminated); "" when !has_id */
} lc_whip_path_t;

/* Is this target /whip/... or /whep/...? */
int lc_whip_path_match(const char *target, size_t len);
/* 0 with *out, or -1 with a static reason in *err (bad or too long name or id). */
int lc_whip_path_split(const char *target, size_t len, lc_whip_path_t *out, const char **err);
/* A session id as the server writes it: 0 with its bytes, or -1 (not exactly
 * LC_WHIP_PATH_ID_HEX lowercase hex digits). */
int lc_whip_path_id(const char *hex, uint8_t out[LC_WHIP_PATH_ID_BYTES]);
/* The hex of an id, into LC_WHIP_PATH_ID_HEX + 1 bytes. */
void lc_whip_path_id_hex(const uint8_t id[LC_WHIP_PATH_ID_BYTES], char out[LC_WHIP_PATH_ID_HEX + 1]);

#endif
