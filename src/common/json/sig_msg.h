/*
 * sig_msg.h: one signaling message (SPEC section 4) from JSON text into a
 * struct. I/O-free; never logs; the caller reports err to the client.
 */
#ifndef LC_SIG_MSG_H
#define LC_SIG_MSG_H

#include <stddef.h>

enum lc_sig_method {
    LC_SIG_CONNECT, LC_SIG_PUBLISH, LC_SIG_PLAY, LC_SIG_STOP, LC_SIG_SET_TRANSCODING,
    LC_SIG_START_LIVE, LC_SIG_STOP_LIVE, LC_SIG_PING, LC_SIG_UNKNOWN,
};

#define LC_SIG_FIELD_MAX 256

typedef struct {
    int method;                       /* lc_sig_method */
    char method_name[64];
    char id[LC_SIG_FIELD_MAX];        /* "" when absent */
    char name[LC_SIG_FIELD_MAX];
    char token[LC_SIG_FIELD_MAX];
    const char *sdp;                  /* points into the parsed tree, NULL when absent */
    void *tree_;                      /* owned: lc_sig_msg_free */
} lc_sig_msg_t;

/* 0, or -1 with a reason in err ("Bad JSON: ...", "missing method", "name too long"). */
int lc_sig_msg_parse(const char *text, size_t len, lc_sig_msg_t *msg, char *err, size_t errlen);
void lc_sig_msg_free(lc_sig_msg_t *msg);

#endif
