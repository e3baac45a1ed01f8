/*
 * libFuzzer target: SDP offers (src/common/webrtc/sdp.c) and what follows
 * them in a session (sdp_negotiate.c). A parsed offer is negotiated for
 * both roles with a few stream shapes; each answer built must parse again
 * with our own parser, with the same number of m= sections. Anything else
 * is a bug, reported by abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/webrtc/sdp.h"
#include "common/webrtc/sdp_negotiate.h"

static const char *const video[] = { "H264", "VP8" };
static const char *const audio[] = { "opus", "PCMU", "PCMA" };
static const char *const cands[] = { "192.0.2.10:20000", "[2001:db8::10]:20000" };

static void answer_and_reparse(const lc_sdp_t *offer, lc_sdp_negotiate_role_t role,
                               const lc_sdp_negotiate_policy_t *pol)
{
    char err[256];
    lc_sdp_negotiate_t n;
    lc_sdp_negotiate_server_t srv = { 0 };
    lc_sdp_t *back;
    char *text;

    if (lc_sdp_negotiate_offer(offer, role, pol, &n, err, sizeof(err)) < 0) {
        if (strncmp(err, "Bad SDP: ", 9) != 0 && strncmp(err, "Codec not supported: ", 21) != 0)
            abort();
        return;
    }
    srv.ice_ufrag = "LcdnUfrag";
    srv.ice_pwd = "LcdnPwd0123456789abcdefgh";
    srv.fingerprint = "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
    srv.candidates = cands;
    srv.ncandidates = 2;
    srv.session_id = 42;
    srv.video_ssrc = 1;
    srv.video_rtx_ssrc = 2;
    srv.audio_ssrc = 3;
    srv.cname = "livecdn";
    srv.msid_stream = "live-cam";
    srv.sctp_port = 5000;
    srv.max_message_size = 262144;
    if (!(text = lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err))))
        abort();
    if (!(back = lc_sdp_parse(text, strlen(text), err, sizeof(err))) || back->nmedia != n.nmedia
        || !back->ice_lite)
        abort();
    lc_sdp_free(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    lc_sdp_negotiate_policy_t pol = { video, 2, audio, 3, 1, NULL, NULL, NULL };
    lc_sdp_t *offer = lc_sdp_parse((const char *)data, size, err, sizeof(err));

    if (!offer) {
        if (strncmp(err, "Bad SDP: ", 9) != 0)
            abort();
        return 0;
    }
    answer_and_reparse(offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    pol.stream_video = "H264";
    pol.stream_audio = "opus";
    pol.stream_h264_profile = "42e01f";
    answer_and_reparse(offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    pol.stream_video = "VP8";
    pol.stream_audio = NULL;
    answer_and_reparse(offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    lc_sdp_free(offer);
    return 0;
}
