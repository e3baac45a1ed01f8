/*
 * test_sdp.c: unit tests of src/common/webrtc/sdp.c and sdp_negotiate.c.
 *
 * Vectors: offers written from what Chrome 120+ (publish with simulcast and
 * a data channel, and a WHEP recvonly player), Firefox 120+, Safari 17,
 * python aiortc 1.x, OBS 30 WHIP (libdatachannel) and GStreamer webrtcbin
 * send: same attribute order, same quirks (Firefox's fmtp before rtpmap and
 * session-level fingerprint, Chrome's "msid-semantic: WMS" with a space,
 * libdatachannel's session-level ICE, GStreamer's non-numeric mids). Hashes,
 * ids and addresses are made up. The invariant checked for each: the answer
 * we build parses with our own parser and says what negotiation decided.
 * The same texts seed tests/fuzz/corpus/fuzz_sdp/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/webrtc/sdp.h"
#include "common/webrtc/sdp_negotiate.h"

static const char chrome_offer[] =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1 2\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 5bf8c4a2-6b0f-4d6e-9a51-0c8e0f3b2d11\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Fm2v\r\n"
    "a=ice-pwd:TqX0ZtZ8ik9xLq1Jg1bG0oQ7\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=msid:5bf8c4a2-6b0f-4d6e-9a51-0c8e0f3b2d11 0f5b7a39-1e6a-4c4f-8f0e-2f6e3c1d9a77\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:3735928559 cname:r6ZDkV3hN9+eFpQm\r\n"
    "a=ssrc:3735928559 msid:5bf8c4a2-6b0f-4d6e-9a51-0c8e0f3b2d11 0f5b7a39-1e6a-4c4f-8f0e-2f6e3c1d9a77\r\n"
    "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 network-id 1 network-cost 10\r\n"
    "a=candidate:2999745851 1 udp 2122194687 3d2b1f8e-5a7c-4b8d-9e21-7c6a1b2d3e4f.local 54321 typ host generation 0 network-id 2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 100 101 112 113 116 117 118\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Fm2v\r\n"
    "a=ice-pwd:TqX0ZtZ8ik9xLq1Jg1bG0oQ7\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendonly\r\n"
    "a=msid:5bf8c4a2-6b0f-4d6e-9a51-0c8e0f3b2d11 9a3e1c55-7d2b-4f10-b0c4-6e8d2a1f3b90\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:105 rtx/90000\r\n"
    "a=fmtp:105 apt=104\r\n"
    "a=rtpmap:106 H264/90000\r\n"
    "a=rtcp-fb:106 goog-remb\r\n"
    "a=rtcp-fb:106 transport-cc\r\n"
    "a=rtcp-fb:106 ccm fir\r\n"
    "a=rtcp-fb:106 nack\r\n"
    "a=rtcp-fb:106 nack pli\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=106\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:127 H264/90000\r\n"
    "a=rtcp-fb:127 goog-remb\r\n"
    "a=rtcp-fb:127 transport-cc\r\n"
    "a=rtcp-fb:127 ccm fir\r\n"
    "a=rtcp-fb:127 nack\r\n"
    "a=rtcp-fb:127 nack pli\r\n"
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=fmtp:125 apt=127\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:112 H264/90000\r\n"
    "a=rtcp-fb:112 goog-remb\r\n"
    "a=rtcp-fb:112 transport-cc\r\n"
    "a=rtcp-fb:112 ccm fir\r\n"
    "a=rtcp-fb:112 nack\r\n"
    "a=rtcp-fb:112 nack pli\r\n"
    "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"
    "a=rtpmap:113 rtx/90000\r\n"
    "a=fmtp:113 apt=112\r\n"
    "a=rtpmap:116 red/90000\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:118 ulpfec/90000\r\n"
    "a=rid:q send\r\n"
    "a=rid:h send\r\n"
    "a=rid:f send\r\n"
    "a=simulcast:send q;h;f\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Fm2v\r\n"
    "a=ice-pwd:TqX0ZtZ8ik9xLq1Jg1bG0oQ7\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:2\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n";

static const char chrome_whep_offer[] =
    "v=0\r\n"
    "o=- 2210473838915537472 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:kT8q\r\n"
    "a=ice-pwd:Wc3jX9mRb2Lq7Vt1Hs5Nz0Pd\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 C2:71:0A:9E:5B:38:D4:F6:12:8C:E0:47:3B:A9:66:D1:05:7F:B2:E8:49:1C:93:A6:2D:F0:58:BE:74:0C:E3:19\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 127 125 112 113\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:kT8q\r\n"
    "a=ice-pwd:Wc3jX9mRb2Lq7Vt1Hs5Nz0Pd\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 C2:71:0A:9E:5B:38:D4:F6:12:8C:E0:47:3B:A9:66:D1:05:7F:B2:E8:49:1C:93:A6:2D:F0:58:BE:74:0C:E3:19\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:106 H264/90000\r\n"
    "a=rtcp-fb:106 goog-remb\r\n"
    "a=rtcp-fb:106 transport-cc\r\n"
    "a=rtcp-fb:106 ccm fir\r\n"
    "a=rtcp-fb:106 nack\r\n"
    "a=rtcp-fb:106 nack pli\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=106\r\n"
    "a=rtpmap:127 H264/90000\r\n"
    "a=rtcp-fb:127 goog-remb\r\n"
    "a=rtcp-fb:127 transport-cc\r\n"
    "a=rtcp-fb:127 ccm fir\r\n"
    "a=rtcp-fb:127 nack\r\n"
    "a=rtcp-fb:127 nack pli\r\n"
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=fmtp:125 apt=127\r\n"
    "a=rtpmap:112 H264/90000\r\n"
    "a=rtcp-fb:112 goog-remb\r\n"
    "a=rtcp-fb:112 transport-cc\r\n"
    "a=rtcp-fb:112 ccm fir\r\n"
    "a=rtcp-fb:112 nack\r\n"
    "a=rtcp-fb:112 nack pli\r\n"
    "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"
    "a=rtpmap:113 rtx/90000\r\n"
    "a=fmtp:113 apt=112\r\n";

static const char firefox_offer[] =
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-99.0 7052848360639826063 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=sendrecv\r\n"
    "a=fingerprint:sha-256 3C:5A:0B:7E:91:2D:44:F1:6A:88:C3:0E:57:B2:9D:13:E4:70:AF:26:51:C8:0D:9B:36:E7:12:84:FA:5B:C1:6E\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ice-pwd:b6a1b7c6e9f0a3d2c4e5f60718293a4b\r\n"
    "a=ice-ufrag:4d2c1a0b\r\n"
    "a=mid:0\r\n"
    "a=msid:{1f9e0a44-2b7c-4d31-9c8e-5a6b7c8d9e0f} {7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d}\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:109 opus/48000/2\r\n"
    "a=rtpmap:9 G722/8000/1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000/1\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:2518470523 cname:{0b2c7d1e-3f4a-4b5c-9d6e-7f8a9b0c1d2e}\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 105 106 103 104 123 122 119\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n"
    "a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1\r\n"
    "a=fmtp:105 profile-level-id=42001f;level-asymmetry-allowed=1;packetization-mode=1\r\n"
    "a=fmtp:103 profile-level-id=42001f;level-asymmetry-allowed=1\r\n"
    "a=fmtp:120 max-fs=12288;max-fr=60\r\n"
    "a=fmtp:124 apt=120\r\n"
    "a=fmtp:121 max-fs=12288;max-fr=60\r\n"
    "a=fmtp:125 apt=121\r\n"
    "a=fmtp:127 apt=126\r\n"
    "a=fmtp:98 apt=97\r\n"
    "a=fmtp:106 apt=105\r\n"
    "a=fmtp:104 apt=103\r\n"
    "a=fmtp:119 apt=122\r\n"
    "a=ice-pwd:b6a1b7c6e9f0a3d2c4e5f60718293a4b\r\n"
    "a=ice-ufrag:4d2c1a0b\r\n"
    "a=mid:1\r\n"
    "a=msid:{1f9e0a44-2b7c-4d31-9c8e-5a6b7c8d9e0f} {c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b}\r\n"
    "a=rtcp-fb:120 nack\r\n"
    "a=rtcp-fb:120 nack pli\r\n"
    "a=rtcp-fb:120 ccm fir\r\n"
    "a=rtcp-fb:120 goog-remb\r\n"
    "a=rtcp-fb:120 transport-cc\r\n"
    "a=rtcp-fb:121 nack\r\n"
    "a=rtcp-fb:121 nack pli\r\n"
    "a=rtcp-fb:121 ccm fir\r\n"
    "a=rtcp-fb:121 goog-remb\r\n"
    "a=rtcp-fb:121 transport-cc\r\n"
    "a=rtcp-fb:126 nack\r\n"
    "a=rtcp-fb:126 nack pli\r\n"
    "a=rtcp-fb:126 ccm fir\r\n"
    "a=rtcp-fb:126 goog-remb\r\n"
    "a=rtcp-fb:126 transport-cc\r\n"
    "a=rtcp-fb:97 nack\r\n"
    "a=rtcp-fb:97 nack pli\r\n"
    "a=rtcp-fb:97 ccm fir\r\n"
    "a=rtcp-fb:97 goog-remb\r\n"
    "a=rtcp-fb:97 transport-cc\r\n"
    "a=rtcp-fb:105 nack\r\n"
    "a=rtcp-fb:105 nack pli\r\n"
    "a=rtcp-fb:105 ccm fir\r\n"
    "a=rtcp-fb:105 goog-remb\r\n"
    "a=rtcp-fb:105 transport-cc\r\n"
    "a=rtcp-fb:103 nack\r\n"
    "a=rtcp-fb:103 nack pli\r\n"
    "a=rtcp-fb:103 ccm fir\r\n"
    "a=rtcp-fb:103 goog-remb\r\n"
    "a=rtcp-fb:103 transport-cc\r\n"
    "a=rtcp-fb:123 nack\r\n"
    "a=rtcp-fb:123 nack pli\r\n"
    "a=rtcp-fb:123 ccm fir\r\n"
    "a=rtcp-fb:123 goog-remb\r\n"
    "a=rtcp-fb:123 transport-cc\r\n"
    "a=rtcp-fb:122 nack\r\n"
    "a=rtcp-fb:122 nack pli\r\n"
    "a=rtcp-fb:122 ccm fir\r\n"
    "a=rtcp-fb:122 goog-remb\r\n"
    "a=rtcp-fb:122 transport-cc\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:120 VP8/90000\r\n"
    "a=rtpmap:124 rtx/90000\r\n"
    "a=rtpmap:121 VP9/90000\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=rtpmap:126 H264/90000\r\n"
    "a=rtpmap:127 rtx/90000\r\n"
    "a=rtpmap:97 H264/90000\r\n"
    "a=rtpmap:98 rtx/90000\r\n"
    "a=rtpmap:105 H264/90000\r\n"
    "a=rtpmap:106 rtx/90000\r\n"
    "a=rtpmap:103 H264/90000\r\n"
    "a=rtpmap:104 rtx/90000\r\n"
    "a=rtpmap:123 ulpfec/90000\r\n"
    "a=rtpmap:122 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:1348742615 cname:{0b2c7d1e-3f4a-4b5c-9d6e-7f8a9b0c1d2e}\r\n"
    "a=ssrc:3407611832 cname:{0b2c7d1e-3f4a-4b5c-9d6e-7f8a9b0c1d2e}\r\n"
    "a=ssrc-group:FID 1348742615 3407611832\r\n";

static const char safari_offer[] =
    "v=0\r\n"
    "o=- 7614219274584779017 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 2f0f8e1c-4a5b-4c6d-8e7f-9a0b1c2d3e4f\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:pX9e\r\n"
    "a=ice-pwd:0F6mB2qK9sV3tY7wZ1cE5hJ8\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 A1:3F:5C:77:0E:92:B4:D6:18:2A:4C:6E:80:A2:C4:E6:08:2A:4C:6E:80:A2:C4:E6:19:3B:5D:7F:91:B3:D5:F7\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:2f0f8e1c-4a5b-4c6d-8e7f-9a0b1c2d3e4f 6c7d8e9f-0a1b-4c2d-8e3f-4a5b6c7d8e9f\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:1684302719 cname:Zk3m9Qx2Lp7Rv1Ts\r\n"
    "a=ssrc:1684302719 msid:2f0f8e1c-4a5b-4c6d-8e7f-9a0b1c2d3e4f 6c7d8e9f-0a1b-4c2d-8e3f-4a5b6c7d8e9f\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 127 125 104 105 106\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:pX9e\r\n"
    "a=ice-pwd:0F6mB2qK9sV3tY7wZ1cE5hJ8\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 A1:3F:5C:77:0E:92:B4:D6:18:2A:4C:6E:80:A2:C4:E6:08:2A:4C:6E:80:A2:C4:E6:19:3B:5D:7F:91:B3:D5:F7\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendrecv\r\n"
    "a=msid:2f0f8e1c-4a5b-4c6d-8e7f-9a0b1c2d3e4f 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 H264/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP8/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:127 VP9/90000\r\n"
    "a=rtcp-fb:127 goog-remb\r\n"
    "a=rtcp-fb:127 transport-cc\r\n"
    "a=rtcp-fb:127 ccm fir\r\n"
    "a=rtcp-fb:127 nack\r\n"
    "a=rtcp-fb:127 nack pli\r\n"
    "a=fmtp:127 profile-id=0\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=fmtp:125 apt=127\r\n"
    "a=rtpmap:104 red/90000\r\n"
    "a=rtpmap:105 rtx/90000\r\n"
    "a=fmtp:105 apt=104\r\n"
    "a=rtpmap:106 ulpfec/90000\r\n"
    "a=ssrc-group:FID 2913706301 1148275513\r\n"
    "a=ssrc:2913706301 cname:Zk3m9Qx2Lp7Rv1Ts\r\n"
    "a=ssrc:2913706301 msid:2f0f8e1c-4a5b-4c6d-8e7f-9a0b1c2d3e4f 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\r\n"
    "a=ssrc:1148275513 cname:Zk3m9Qx2Lp7Rv1Ts\r\n"
    "a=ssrc:1148275513 msid:2f0f8e1c-4a5b-4c6d-8e7f-9a0b1c2d3e4f 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\r\n";

static const char aiortc_offer[] =
    "v=0\r\n"
    "o=- 3912345678 3912345678 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=audio 50731 UDP/TLS/RTP/SAVPF 96 0 8\r\n"
    "c=IN IP4 192.168.1.23\r\n"
    "a=sendrecv\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=mid:0\r\n"
    "a=msid:8e1f4a2c-39d7-4b6e-a5c0-2f7d9e3b1c48 c0a9d8e7-f6b5-4a43-9210-fedcba987654\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=rtcp-mux\r\n"
    "a=ssrc:2894132081 cname:3b7f2a91-5c4d-4e8f-b6a0-1d2e3f4a5b6c\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=candidate:a8c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5 1 udp 2130706431 192.168.1.23 50731 typ host\r\n"
    "a=candidate:f0e1d2c3b4a5968778695a4b3c2d1e0f 1 udp 1694498815 203.0.113.7 50731 typ srflx raddr 192.168.1.23 rport 50731\r\n"
    "a=end-of-candidates\r\n"
    "a=ice-ufrag:qH1T\r\n"
    "a=ice-pwd:5jR8wK2mN6pQ9sT3vX7yZ0\r\n"
    "a=fingerprint:sha-256 0D:6E:28:9A:B1:4C:F3:57:8E:20:C5:D9:71:3A:BF:06:E4:92:58:1C:7D:A3:46:FB:02:95:C8:3E:61:D7:AA:14\r\n"
    "a=setup:actpass\r\n"
    "m=video 50731 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102\r\n"
    "c=IN IP4 192.168.1.23\r\n"
    "a=sendrecv\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=mid:1\r\n"
    "a=msid:8e1f4a2c-39d7-4b6e-a5c0-2f7d9e3b1c48 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=rtcp-mux\r\n"
    "a=ssrc-group:FID 1776321014 4161592731\r\n"
    "a=ssrc:1776321014 cname:3b7f2a91-5c4d-4e8f-b6a0-1d2e3f4a5b6c\r\n"
    "a=ssrc:4161592731 cname:3b7f2a91-5c4d-4e8f-b6a0-1d2e3f4a5b6c\r\n"
    "a=rtpmap:97 VP8/90000\r\n"
    "a=rtcp-fb:97 nack\r\n"
    "a=rtcp-fb:97 nack pli\r\n"
    "a=rtcp-fb:97 goog-remb\r\n"
    "a=rtpmap:98 rtx/90000\r\n"
    "a=fmtp:98 apt=97\r\n"
    "a=rtpmap:99 H264/90000\r\n"
    "a=rtcp-fb:99 nack\r\n"
    "a=rtcp-fb:99 nack pli\r\n"
    "a=rtcp-fb:99 goog-remb\r\n"
    "a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:100 rtx/90000\r\n"
    "a=fmtp:100 apt=99\r\n"
    "a=rtpmap:101 H264/90000\r\n"
    "a=rtcp-fb:101 nack\r\n"
    "a=rtcp-fb:101 nack pli\r\n"
    "a=rtcp-fb:101 goog-remb\r\n"
    "a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:102 rtx/90000\r\n"
    "a=fmtp:102 apt=101\r\n"
    "a=candidate:a8c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5 1 udp 2130706431 192.168.1.23 50731 typ host\r\n"
    "a=candidate:f0e1d2c3b4a5968778695a4b3c2d1e0f 1 udp 1694498815 203.0.113.7 50731 typ srflx raddr 192.168.1.23 rport 50731\r\n"
    "a=end-of-candidates\r\n"
    "a=ice-ufrag:qH1T\r\n"
    "a=ice-pwd:5jR8wK2mN6pQ9sT3vX7yZ0\r\n"
    "a=fingerprint:sha-256 0D:6E:28:9A:B1:4C:F3:57:8E:20:C5:D9:71:3A:BF:06:E4:92:58:1C:7D:A3:46:FB:02:95:C8:3E:61:D7:AA:14\r\n"
    "a=setup:actpass\r\n";

static const char obs_whip_offer[] =
    "v=0\r\n"
    "o=rtc 2596880946 0 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=group:LS 0 1\r\n"
    "a=msid-semantic:WMS *\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:Xg2x\r\n"
    "a=ice-pwd:nJ4bEbtA3gX0Yq8kWm1LzR\r\n"
    "a=ice-options:ice2,trickle\r\n"
    "a=fingerprint:sha-256 5E:91:AC:0F:33:7B:D2:48:6A:E1:9C:04:B7:2D:F8:63:11:8E:C5:3A:90:DF:26:4B:7E:A2:C9:15:6D:F0:83:B4\r\n"
    "m=audio 59361 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 192.168.1.5\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=ssrc:1802417045 cname:obs-9Ct8uE2bXh5Kq1Lw\r\n"
    "a=ssrc:1802417045 msid:obs-stream obs-audio\r\n"
    "a=msid:obs-stream obs-audio\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1\r\n"
    "a=candidate:1 1 UDP 2122317823 192.168.1.5 59361 typ host\r\n"
    "a=candidate:2 1 UDP 2122317311 fd00::5 59361 typ host\r\n"
    "a=end-of-candidates\r\n"
    "m=video 59361 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 192.168.1.5\r\n"
    "a=mid:1\r\n"
    "a=sendonly\r\n"
    "a=ssrc:2094560231 cname:obs-9Ct8uE2bXh5Kq1Lw\r\n"
    "a=ssrc:2094560231 msid:obs-stream obs-video\r\n"
    "a=msid:obs-stream obs-video\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r\n";

static const char gstreamer_offer[] =
    "v=0\r\n"
    "o=- 1858366236571356123 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:9sVYvNtMkjSn3nA2XqZrCm6pLhBuDeGf\r\n"
    "a=ice-pwd:uT7yGkX2hWqN5mR8pL3vZc1sJf4dBe9a\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=sendonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=framerate:30\r\n"
    "a=ssrc:1489716843 msid:user1215477186@host-3a5d0f2e webrtctransceiver0\r\n"
    "a=ssrc:1489716843 cname:user1215477186@host-3a5d0f2e\r\n"
    "a=mid:video0\r\n"
    "a=fingerprint:sha-256 94:2C:8B:D0:61:EA:37:5F:C4:10:9E:7B:28:D3:46:AF:85:12:6C:F9:3E:07:B5:D1:4A:68:E2:9F:30:CB:57:1D\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 97\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:9sVYvNtMkjSn3nA2XqZrCm6pLhBuDeGf\r\n"
    "a=ice-pwd:uT7yGkX2hWqN5mR8pL3vZc1sJf4dBe9a\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=sendonly\r\n"
    "a=rtpmap:97 OPUS/48000/2\r\n"
    "a=rtcp-fb:97 nack\r\n"
    "a=rtcp-fb:97 nack pli\r\n"
    "a=fmtp:97 sprop-maxcapturerate=48000;sprop-stereo=0\r\n"
    "a=ssrc:3256941045 msid:user1215477186@host-3a5d0f2e webrtctransceiver1\r\n"
    "a=ssrc:3256941045 cname:user1215477186@host-3a5d0f2e\r\n"
    "a=mid:audio1\r\n"
    "a=fingerprint:sha-256 94:2C:8B:D0:61:EA:37:5F:C4:10:9E:7B:28:D3:46:AF:85:12:6C:F9:3E:07:B5:D1:4A:68:E2:9F:30:CB:57:1D\r\n";

static const char vp8_only_play_offer[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-ufrag:Vp8o\r\n"
    "a=ice-pwd:Z3x8cV1bN6mQ2wE9rT5yU0\r\n"
    "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00\r\n"
    "a=setup:actpass\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:97 VP8/90000\r\n"
    "a=rtcp-fb:97 nack\r\n"
    "a=rtcp-fb:97 nack pli\r\n"
    "a=rtpmap:98 rtx/90000\r\n"
    "a=fmtp:98 apt=97\r\n";

static const char *const video_codecs[] = { "H264", "VP8" };
static const char *const audio_codecs[] = { "opus", "PCMU", "PCMA" };
static const char *const cands[] = { "192.0.2.10:20000", "[2001:db8::10]:20000" };
#define FP "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

static lc_sdp_negotiate_policy_t policy(void)
{
    lc_sdp_negotiate_policy_t p = { 0 };
    p.video = video_codecs;
    p.nvideo = 2;
    p.audio = audio_codecs;
    p.naudio = 3;
    p.datachannel = 1;
    return p;
}

static lc_sdp_negotiate_server_t server(void)
{
    lc_sdp_negotiate_server_t s = { 0 };
    s.ice_ufrag = "LcdnUfrag";
    s.ice_pwd = "LcdnPwd0123456789abcdefgh";
    s.fingerprint = FP;
    s.candidates = cands;
    s.ncandidates = 2;
    s.session_id = 0x123456789abcdefULL;
    s.video_ssrc = 11111111;
    s.video_rtx_ssrc = 22222222;
    s.audio_ssrc = 33333333;
    s.cname = "livecdn";
    s.msid_stream = "live-cam";
    s.sctp_port = 5000;
    s.max_message_size = 262144;
    return s;
}

static lc_sdp_t *parse_ok(const char *text)
{
    char err[256];
    lc_sdp_t *s = lc_sdp_parse(text, strlen(text), err, sizeof(err));
    if (!s)
        fail_msg("parse: %s", err);
    return s;
}

static void parse_fails(const char *text, size_t len, const char *want)
{
    char err[256];
    lc_sdp_t *s = lc_sdp_parse(text, len, err, sizeof(err));
    if (s)
        fail_msg("parse should fail with %s", want);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_int_equal(strncmp(err, "Bad SDP: ", 9), 0);
}

static void negotiate_fails(const char *text, lc_sdp_negotiate_role_t role,
                            const lc_sdp_negotiate_policy_t *pol, const char *want)
{
    char err[256];
    lc_sdp_negotiate_t n;
    lc_sdp_t *s = parse_ok(text);
    if (lc_sdp_negotiate_offer(s, role, pol, &n, err, sizeof(err)) == 0)
        fail_msg("negotiation should fail with %s", want);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("error \"%s\" does not start \"%s\"", err, want);
    lc_sdp_free(s);
}

/*
 * Negotiate text for role, build the answer, re-parse it and check it says
 * what the negotiation decided. Returns the negotiation for more checks.
 */
static lc_sdp_negotiate_t check_roundtrip(const char *text, lc_sdp_negotiate_role_t role,
                                          const lc_sdp_negotiate_policy_t *pol)
{
    char err[256];
    lc_sdp_negotiate_t n;
    lc_sdp_negotiate_server_t srv = server();
    lc_sdp_t *offer = parse_ok(text), *ans;
    char *answer;
    size_t nb = 0;
    int tag = 1;

    if (lc_sdp_negotiate_offer(offer, role, pol, &n, err, sizeof(err)) < 0)
        fail_msg("negotiate: %s", err);
    answer = lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err));
    if (!answer)
        fail_msg("answer: %s", err);
    ans = parse_ok(answer);

    assert_true(ans->ice_lite);
    assert_int_equal(ans->nmedia, offer->nmedia);
    assert_int_equal(ans->nmedia, n.nmedia);
    assert_non_null(ans->msid_semantic);
    for (size_t i = 0; i < n.nmedia; i++) {
        const lc_sdp_negotiate_media_t *r = &n.media[i];
        const lc_sdp_media_t *m = &ans->media[i];
        assert_string_equal(m->media, offer->media[i].media);
        assert_string_equal(m->proto, offer->media[i].proto);
        if (!r->accepted) {
            assert_int_equal(m->port, 0);
            continue;
        }
        assert_int_equal(m->port, 20000);
        assert_string_equal(m->mid, r->mid);
        assert_true(nb < ans->nbundle);
        assert_string_equal(ans->bundle[nb++], r->mid);
        assert_string_equal(m->ice_ufrag, srv.ice_ufrag);
        assert_string_equal(m->ice_pwd, srv.ice_pwd);
        assert_string_equal(m->fp_alg, "sha-256");
        assert_string_equal(m->fp_hex, &FP[sizeof("sha-256 ") - 1]);
        assert_int_equal(m->setup, LC_SDP_SETUP_PASSIVE);
        assert_int_equal(m->ncandidates, tag ? 2 : 0);
        assert_int_equal(m->end_of_candidates, tag);
        tag = 0;
        if (r->kind == LC_SDP_KIND_APPLICATION) {
            assert_int_equal(m->sctp_port, 5000);
            assert_int_equal(m->max_message_size, 262144);
            continue;
        }
        assert_int_equal(m->dir, role == LC_SDP_NEGOTIATE_PUBLISH ? LC_SDP_DIR_RECVONLY : LC_SDP_DIR_SENDONLY);
        assert_true(m->rtcp_mux);
        assert_int_equal(m->rtcp_rsize, offer->media[i].rtcp_rsize);
        assert_int_equal(m->npts, r->rtx_pt >= 0 ? 2 : 1);
        assert_int_equal(m->pts[0].pt, r->pt);
        assert_string_equal(m->pts[0].name, r->codec);
        assert_int_equal(m->pts[0].clock, r->clock);
        assert_int_equal(m->pts[0].fb, r->fb);
        assert_int_equal(m->pts[0].fb_other, 0);
        /* Never both congestion controllers. */
        assert_false((r->fb & LC_SDP_FB_TRANSPORT_CC) && (r->fb & LC_SDP_FB_GOOG_REMB));
        if (r->fmtp[0])
            assert_string_equal(m->pts[0].fmtp, r->fmtp);
        if (r->rtx_pt >= 0) {
            assert_int_equal(m->pts[1].pt, r->rtx_pt);
            assert_int_equal(m->pts[1].apt, r->pt);
        }
        /* Only kept extensions, with the offer's ids. */
        size_t kept = 0;
        for (int e = 0; e < LC_SDP_EXT_COUNT; e++)
            kept += r->ext_id[e] != 0;
        assert_int_equal(m->next, kept);
        for (size_t k = 0; k < m->next; k++) {
            int found = 0;
            for (size_t j = 0; j < offer->media[i].next; j++)
                found |= offer->media[i].ext[j].id == m->ext[k].id
                         && strcmp(offer->media[i].ext[j].uri, m->ext[k].uri) == 0;
            assert_true(found);
        }
        if (role == LC_SDP_NEGOTIATE_PLAY) {
            uint32_t want = r->kind == LC_SDP_KIND_VIDEO ? srv.video_ssrc : srv.audio_ssrc;
            assert_true(m->nssrc >= 1);
            assert_int_equal(m->ssrc[0].ssrc, want);
            assert_string_equal(m->ssrc[0].cname, "livecdn");
            assert_non_null(m->msid);
            if (r->kind == LC_SDP_KIND_VIDEO && r->rtx_pt >= 0) {
                assert_int_equal(m->nfid, 1);
                assert_int_equal(m->fid[0].media, srv.video_ssrc);
                assert_int_equal(m->fid[0].rtx, srv.video_rtx_ssrc);
            }
        } else {
            assert_int_equal(m->nssrc, 0);
        }
    }
    assert_int_equal(nb, ans->nbundle);
    lc_sdp_free(ans);
    free(answer);
    lc_sdp_free(offer);
    return n;
}

/* ---- parsing ----------------------------------------------------------------- */

static void test_parse_chrome(void **state)
{
    (void)state;
    lc_sdp_t *s = parse_ok(chrome_offer);
    const lc_sdp_media_t *a = &s->media[0], *v = &s->media[1], *d = &s->media[2];
    const lc_sdp_pt_t *pt;

    assert_int_equal(s->nmedia, 3);
    assert_int_equal(s->nbundle, 3);
    assert_string_equal(s->bundle[2], "2");
    assert_string_equal(s->msid_semantic, "WMS 5bf8c4a2-6b0f-4d6e-9a51-0c8e0f3b2d11");
    assert_null(s->ice_ufrag);
    assert_int_equal(a->kind, LC_SDP_KIND_AUDIO);
    assert_int_equal(a->port, 9);
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_string_equal(a->mid, "0");
    assert_int_equal(a->dir, LC_SDP_DIR_SENDONLY);
    assert_string_equal(a->ice_ufrag, "Fm2v");
    assert_string_equal(a->fp_alg, "sha-256");
    assert_int_equal(a->setup, LC_SDP_SETUP_ACTPASS);
    assert_int_equal(a->npts, 8);
    assert_true(a->rtcp_mux);
    assert_false(a->rtcp_rsize);
    pt = lc_sdp_find_pt(a, 111);
    assert_string_equal(pt->name, "opus");
    assert_int_equal(pt->clock, 48000);
    assert_int_equal(pt->channels, 2);
    assert_string_equal(pt->fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(pt->fb, LC_SDP_FB_TRANSPORT_CC);
    assert_string_equal(lc_sdp_find_pt(a, 0)->name, "PCMU");
    assert_int_equal(a->next, 4);
    assert_int_equal(a->nssrc, 1);
    assert_int_equal(a->ssrc[0].ssrc, 3735928559u);
    assert_string_equal(a->ssrc[0].cname, "r6ZDkV3hN9+eFpQm");
    assert_string_equal(a->ssrc[0].msid, "5bf8c4a2-6b0f-4d6e-9a51-0c8e0f3b2d11 0f5b7a39-1e6a-4c4f-8f0e-2f6e3c1d9a77");
    assert_int_equal(a->ncandidates, 2);

    assert_int_equal(v->kind, LC_SDP_KIND_VIDEO);
    assert_int_equal(v->npts, 25);
    assert_true(v->rtcp_rsize);
    assert_true(v->simulcast);
    assert_int_equal(v->next, 11);
    assert_int_equal(v->nssrc, 0);
    pt = lc_sdp_find_pt(v, 96);
    assert_int_equal(pt->fb, LC_SDP_FB_NACK | LC_SDP_FB_NACK_PLI | LC_SDP_FB_CCM_FIR
                     | LC_SDP_FB_GOOG_REMB | LC_SDP_FB_TRANSPORT_CC);
    assert_int_equal(lc_sdp_find_pt(v, 97)->apt, 96);
    assert_int_equal(lc_sdp_find_pt(v, 113)->apt, 112);
    assert_int_equal(lc_sdp_find_pt(v, 118)->apt, -1);
    assert_null(lc_sdp_find_pt(v, 111));

    assert_int_equal(d->kind, LC_SDP_KIND_APPLICATION);
    assert_string_equal(d->proto, "UDP/DTLS/SCTP");
    assert_string_equal(d->fmt, "webrtc-datachannel");
    assert_int_equal(d->npts, 0);
    assert_int_equal(d->sctp_port, 5000);
    assert_int_equal(d->max_message_size, 262144);
    lc_sdp_free(s);
}

static void test_parse_firefox(void **state)
{
    (void)state;
    lc_sdp_t *s = parse_ok(firefox_offer);
    const lc_sdp_media_t *a = &s->media[0], *v = &s->media[1];

    /* Session-level fingerprint and direction, media-level ICE. */
    assert_string_equal(s->fp_alg, "sha-256");
    assert_null(a->fp_alg);
    assert_string_equal(a->ice_ufrag, "4d2c1a0b");
    assert_string_equal(s->msid_semantic, "WMS *");
    assert_int_equal(a->dir, LC_SDP_DIR_SENDRECV);
    /* fmtp written before its rtpmap still lands on the payload type. */
    assert_string_equal(lc_sdp_find_pt(a, 109)->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
    assert_int_equal(lc_sdp_find_pt(a, 9)->channels, 1);
    assert_int_equal(lc_sdp_find_pt(v, 124)->apt, 120);
    assert_int_equal(lc_sdp_find_pt(v, 127)->apt, 126);
    assert_int_equal(v->nfid, 1);
    assert_int_equal(v->fid[0].media, 1348742615u);
    assert_int_equal(v->fid[0].rtx, 3407611832u);
    assert_int_equal(v->nssrc, 2);
    assert_int_equal(a->ext[1].id, 2);  /* "2/recvonly" */
    assert_string_equal(a->ext[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
    lc_sdp_free(s);
}

static void test_parse_session_level(void **state)
{
    (void)state;
    lc_sdp_t *s = parse_ok(obs_whip_offer);
    assert_string_equal(s->ice_ufrag, "Xg2x");
    assert_int_equal(s->setup, LC_SDP_SETUP_ACTPASS);
    assert_null(s->media[0].ice_ufrag);
    assert_int_equal(s->media[0].port, 59361);
    assert_int_equal(s->media[0].ncandidates, 2);
    assert_true(s->media[0].end_of_candidates);
    assert_int_equal(s->nbundle, 2);    /* a=group:LS ignored */
    lc_sdp_free(s);

    s = parse_ok(gstreamer_offer);
    assert_string_equal(s->bundle[0], "video0");
    assert_string_equal(s->media[1].mid, "audio1");
    assert_string_equal(lc_sdp_find_pt(&s->media[1], 97)->name, "OPUS");
    assert_null(s->msid_semantic);
    lc_sdp_free(s);
}

static void test_fmtp_find(void **state)
{
    (void)state;
    size_t n;
    const char *f = "level-asymmetry-allowed=1; packetization-mode=1;profile-level-id=42e01f";
    const char *v = lc_sdp_fmtp_find(f, "packetization-mode", &n);
    assert_non_null(v);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], '1');
    v = lc_sdp_fmtp_find(f, "PROFILE-LEVEL-ID", &n);
    assert_int_equal(n, 6);
    assert_memory_equal(v, "42e01f", 6);
    assert_null(lc_sdp_fmtp_find(f, "level", &n));
    assert_null(lc_sdp_fmtp_find("0-15", "apt", &n));
    assert_null(lc_sdp_fmtp_find(NULL, "apt", &n));
    assert_null(lc_sdp_fmtp_find("", "apt", &n));
}

static void test_parse_legacy_datachannel_and_wildcard_fb(void **state)
{
    (void)state;
    lc_sdp_t *s = parse_ok(
        "v=0\n"
        "o=- 1 1 IN IP4 0.0.0.0\n"
        "s=-\n"
        "t=0 0\n"
        "a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:mid\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 100\n"
        "a=rtpmap:100 VP8/90000\n"
        "a=rtcp-fb:* nack\n"
        "a=rtcp-fb:* foo bar\n"
        "m=application 9 DTLS/SCTP 5000\n"
        "a=sctpmap:5000 webrtc-datachannel 1024\n");
    assert_int_equal(s->media[0].pts[0].fb, LC_SDP_FB_NACK);
    assert_int_equal(s->media[0].pts[0].fb_other, 1);
    assert_int_equal(s->media[0].next, 1);
    assert_int_equal(s->media[0].ext[0].id, 5);
    assert_int_equal(s->media[1].sctp_port, 5000);
    assert_string_equal(s->media[1].fmt, "5000");
    lc_sdp_free(s);
}

/* For literals: their length, NUL bytes inside included. */
#define PARSE_FAILS(lit, want) parse_fails((lit), sizeof(lit) - 1, (want))

static void test_parse_errors(void **state)
{
    (void)state;
    static char big[LC_SDP_MAX_TEXT + 2];
    char buf[8192];
    size_t n;

    PARSE_FAILS("", "empty");
    PARSE_FAILS("o=- 1 1 IN IP4 0.0.0.0\r\n", "must start with v=0");
    PARSE_FAILS("v=0\r\ns=-\r\nthis is not sdp\r\n", "line 3: expected type=value");
    PARSE_FAILS("v=0\r\nX=1\r\n", "line 2: expected type=value");
    PARSE_FAILS("v=0\r\n=x\r\n", "expected type=value");
    PARSE_FAILS("v=0\r\na=x\0y\r\n", "NUL");
    PARSE_FAILS("v=0\r\nm=audio\r\n", "line 2: m= needs");
    PARSE_FAILS("v=0\r\nm=audio x UDP/TLS/RTP/SAVPF 0\r\n", "bad m= port");
    PARSE_FAILS("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 128\r\n", "bad payload type");
    PARSE_FAILS("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 0\r\n", "listed twice");
    PARSE_FAILS("v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", "line 3: rtpmap needs name/clock");
    PARSE_FAILS("v=0\r\nm=audio 9 RTP/AVP 0\r\na=extmap:0 urn:x\r\n", "bad extmap id");
    PARSE_FAILS("v=0\r\nm=audio 9 RTP/AVP 0\r\na=setup:sideways\r\n", "bad setup");
    PARSE_FAILS("v=0\r\na=fingerprint:sha-256 XY:ZZ\r\n", "bad fingerprint");
    PARSE_FAILS("v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\n",
                "mid \"a\" used twice");

    /* Oversized: one byte over the limit, however valid the rest. */
    memset(big, 'x', sizeof(big));
    memcpy(big, "v=0\r\na=", 7);
    parse_fails(big, LC_SDP_MAX_TEXT + 1, "larger than 65536 bytes");

    /* Bounds: 17 m= sections, 65 payload types, 33 extmaps, 33 ssrcs. */
    n = (size_t)snprintf(buf, sizeof(buf), "v=0\r\n");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "m=audio 9 RTP/AVP 0\r\n");
    parse_fails(buf, n, "more than 16 m= sections");
    n = (size_t)snprintf(buf, sizeof(buf), "v=0\r\nm=video 9 RTP/AVP");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %d", i);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
    parse_fails(buf, n, "more than 64 payload types");
    n = (size_t)snprintf(buf, sizeof(buf), "v=0\r\nm=video 9 RTP/AVP 96\r\n");
    for (int i = 1; i <= 33; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a=extmap:%d urn:x:%d\r\n", i, i);
    parse_fails(buf, n, "more than 32 extmaps");
    n = (size_t)snprintf(buf, sizeof(buf), "v=0\r\nm=video 9 RTP/AVP 96\r\n");
    for (int i = 1; i <= 33; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a=ssrc:%d cname:x\r\n", i);
    parse_fails(buf, n, "more than 32 ssrcs");
}

/* Every prefix of every fixture: an answer or an error, never a crash. */
static void test_parse_prefixes(void **state)
{
    (void)state;
    const char *all[] = { chrome_offer, firefox_offer, safari_offer, aiortc_offer, obs_whip_offer,
                          gstreamer_offer };
    char err[256];
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        size_t len = strlen(all[k]);
        for (size_t i = 0; i <= len; i += 7) {
            lc_sdp_t *s = lc_sdp_parse(all[k], i, err, sizeof(err));
            if (!s)
                assert_int_equal(strncmp(err, "Bad SDP: ", 9), 0);
            lc_sdp_free(s);
        }
    }
}

/* ---- negotiation: PUBLISH -------------------------------------------------------- */

static void test_publish_chrome(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n = check_roundtrip(chrome_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    const lc_sdp_negotiate_media_t *a = &n.media[0], *v = &n.media[1], *d = &n.media[2];

    assert_int_equal(n.audio, 0);
    assert_int_equal(n.video, 1);
    assert_int_equal(n.data, 2);
    assert_string_equal(n.ice_ufrag, "Fm2v");
    assert_string_equal(n.ice_pwd, "TqX0ZtZ8ik9xLq1Jg1bG0oQ7");
    assert_int_equal(n.setup, LC_SDP_SETUP_ACTPASS);
    assert_string_equal(n.fp_alg, "sha-256");
    assert_int_equal(strlen(n.fp_hex), 95);

    assert_int_equal(a->pt, 111);
    assert_string_equal(a->fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(a->fb, LC_SDP_FB_TRANSPORT_CC);
    assert_int_equal(a->ext_id[LC_SDP_EXT_TWCC], 3);
    assert_int_equal(a->ext_id[LC_SDP_EXT_MID], 4);
    assert_int_equal(a->ext_id[LC_SDP_EXT_AUDIO_LEVEL], 1);
    assert_int_equal(a->ext_id[LC_SDP_EXT_ABS_SEND_TIME], 0);
    assert_int_equal(a->rtx_pt, -1);

    /* VP8 is first in Chrome's order. */
    assert_int_equal(v->pt, 96);
    assert_int_equal(v->rtx_pt, 97);
    assert_int_equal(v->fb, LC_SDP_FB_NACK | LC_SDP_FB_NACK_PLI | LC_SDP_FB_CCM_FIR | LC_SDP_FB_TRANSPORT_CC);
    assert_int_equal(v->ext_id[LC_SDP_EXT_TWCC], 3);
    assert_int_equal(v->ext_id[LC_SDP_EXT_ABS_SEND_TIME], 0);
    assert_int_equal(v->ext_id[LC_SDP_EXT_AUDIO_LEVEL], 0);
    assert_true(v->rtcp_rsize);
    assert_int_equal(v->dir, LC_SDP_DIR_RECVONLY);

    assert_true(d->accepted);
    assert_int_equal(d->sctp_port, 5000);

    /* Without data channels the application section gets port 0. */
    pol.datachannel = 0;
    n = check_roundtrip(chrome_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    assert_false(n.media[2].accepted);
    assert_int_equal(n.data, -1);

    /* H.264 only on the server: mode 0 entries (104, 108) never qualify, and
     * baseline (42001f) and constrained baseline (42e01f) rank alike, so the
     * offer's order decides: 102 before 106. */
    static const char *const h264[] = { "H264" };
    pol.video = h264;
    pol.nvideo = 1;
    n = check_roundtrip(chrome_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    assert_int_equal(n.media[1].pt, 102);
    assert_int_equal(n.media[1].rtx_pt, 103);
    assert_string_equal(n.media[1].fmtp,
                        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
}

static void test_publish_firefox(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n = check_roundtrip(firefox_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    assert_int_equal(n.media[0].pt, 109);
    assert_int_equal(n.media[0].ext_id[LC_SDP_EXT_AUDIO_LEVEL], 1);
    assert_int_equal(n.media[0].ext_id[LC_SDP_EXT_MID], 3);
    assert_int_equal(n.media[1].pt, 120);
    assert_int_equal(n.media[1].rtx_pt, 124);
    assert_int_equal(n.media[1].ext_id[LC_SDP_EXT_TWCC], 7);
    assert_string_equal(n.media[1].fmtp, "");
    assert_string_equal(n.ice_ufrag, "4d2c1a0b");
    assert_string_equal(n.fp_hex, "3C:5A:0B:7E:91:2D:44:F1:6A:88:C3:0E:57:B2:9D:13:E4:70:AF:26:51:C8:0D:9B:36:E7:12:84:FA:5B:C1:6E");
}

static void test_publish_safari_prefers_constrained_baseline(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n = check_roundtrip(safari_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    /* H.264 first in Safari's order; of its two, 42e01f over 640c1f. */
    assert_int_equal(n.media[1].pt, 98);
    assert_int_equal(n.media[1].rtx_pt, 99);
    assert_string_equal(n.media[1].codec, "H264");
    assert_int_equal(n.media[0].pt, 111);
}

static void test_publish_aiortc_remb(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n = check_roundtrip(aiortc_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    const lc_sdp_negotiate_media_t *v = &n.media[1];
    assert_int_equal(n.media[0].pt, 96);
    assert_int_equal(n.media[0].fb, 0);
    assert_int_equal(n.media[0].ext_id[LC_SDP_EXT_AUDIO_LEVEL], 2);
    /* No transport-wide-cc extension offered: REMB with abs-send-time. */
    assert_int_equal(v->pt, 97);
    assert_int_equal(v->rtx_pt, 98);
    assert_int_equal(v->fb, LC_SDP_FB_NACK | LC_SDP_FB_NACK_PLI | LC_SDP_FB_GOOG_REMB);
    assert_int_equal(v->ext_id[LC_SDP_EXT_ABS_SEND_TIME], 3);
    assert_int_equal(v->ext_id[LC_SDP_EXT_TWCC], 0);
    assert_string_equal(n.ice_ufrag, "qH1T");
}

static void test_publish_obs_whip(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n = check_roundtrip(obs_whip_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    assert_int_equal(n.media[0].pt, 111);
    assert_int_equal(n.media[1].pt, 96);
    assert_int_equal(n.media[1].rtx_pt, -1);
    assert_string_equal(n.media[1].fmtp,
                        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    /* Transport from the session level (libdatachannel writes it there). */
    assert_string_equal(n.ice_ufrag, "Xg2x");
    assert_string_equal(n.ice_pwd, "nJ4bEbtA3gX0Yq8kWm1LzR");

    /* OBS cannot play: a PLAY of its sendonly offer has nothing to receive. */
    pol.stream_video = "H264";
    pol.stream_audio = "opus";
    negotiate_fails(obs_whip_offer, LC_SDP_NEGOTIATE_PLAY, &pol, "Bad SDP: play offer has no receivable");
}

static void test_publish_gstreamer(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n = check_roundtrip(gstreamer_offer, LC_SDP_NEGOTIATE_PUBLISH, &pol);
    assert_int_equal(n.video, 0);
    assert_int_equal(n.audio, 1);
    assert_string_equal(n.media[0].mid, "video0");
    assert_int_equal(n.media[0].pt, 96);
    assert_int_equal(n.media[0].fb, LC_SDP_FB_NACK | LC_SDP_FB_NACK_PLI | LC_SDP_FB_CCM_FIR);
    assert_int_equal(n.media[1].pt, 97);
    assert_string_equal(n.media[1].fmtp, "minptime=10;useinbandfec=1");
}

/* ---- negotiation: PLAY ------------------------------------------------------------ */

static void test_play_chrome_whep(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n;

    pol.stream_video = "H264";
    pol.stream_audio = "opus";
    pol.stream_h264_profile = "42e01f";
    n = check_roundtrip(chrome_whep_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_int_equal(n.media[1].pt, 106);    /* exact profile-level-id, not 102 */
    assert_int_equal(n.media[1].rtx_pt, 107);
    assert_int_equal(n.media[1].dir, LC_SDP_DIR_SENDONLY);
    assert_int_equal(n.media[0].pt, 111);

    /* A High-profile publisher: Chrome's 64001f entry, with the publisher's level. */
    pol.stream_h264_profile = "640028";
    n = check_roundtrip(chrome_whep_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_int_equal(n.media[1].pt, 112);
    assert_string_equal(n.media[1].fmtp,
                        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640028");

    /* Unknown publisher profile: constrained baseline family, first in order. */
    pol.stream_h264_profile = NULL;
    n = check_roundtrip(chrome_whep_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_int_equal(n.media[1].pt, 102);

    /* A VP8 stream with no audio: audio section rejected, VP8 sent. */
    pol.stream_video = "VP8";
    pol.stream_audio = NULL;
    n = check_roundtrip(chrome_whep_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_false(n.media[0].accepted);
    assert_int_equal(n.media[1].pt, 96);
    assert_int_equal(n.audio, -1);

    /* sendrecv offers (Firefox, Safari) play too. */
    pol.stream_video = "H264";
    pol.stream_audio = "opus";
    pol.stream_h264_profile = "42e01f";
    n = check_roundtrip(firefox_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_int_equal(n.media[1].pt, 126);
    assert_int_equal(n.media[1].rtx_pt, 127);
    n = check_roundtrip(safari_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_int_equal(n.media[1].pt, 98);
}

static void test_play_codec_mismatch(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    pol.stream_video = "H264";
    pol.stream_audio = "opus";
    negotiate_fails(vp8_only_play_offer, LC_SDP_NEGOTIATE_PLAY, &pol,
                    "Codec not supported: stream video is H264");
    /* The same offer plays a VP8 stream. */
    pol.stream_video = "VP8";
    lc_sdp_negotiate_t n = check_roundtrip(vp8_only_play_offer, LC_SDP_NEGOTIATE_PLAY, &pol);
    assert_int_equal(n.media[0].pt, 97);
    assert_int_equal(n.media[0].rtx_pt, 98);
    /* A stream with nothing at all. */
    pol.stream_video = pol.stream_audio = NULL;
    negotiate_fails(vp8_only_play_offer, LC_SDP_NEGOTIATE_PLAY, &pol, "Codec not supported: ");
}

/* ---- negotiation errors ------------------------------------------------------------ */

#define HDR "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
#define ICE "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
#define FPL "a=fingerprint:sha-256 AA:BB\r\n"

static void test_negotiate_errors(void **state)
{
    (void)state;
    lc_sdp_negotiate_policy_t pol = policy();
    const char *vid = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
                      "a=rtpmap:96 VP8/90000\r\n";
    char buf[2048];

    negotiate_fails(HDR ICE FPL "a=setup:actpass\r\n", LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: no media");
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE "a=setup:actpass\r\n%s", vid);
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: no fingerprint");
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" FPL "a=setup:actpass\r\n%s", vid);
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: no ice-ufrag");
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "%s", vid);
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: no setup");
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "a=setup:passive\r\n%s", vid);
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: setup:passive");
    snprintf(buf, sizeof(buf), HDR ICE FPL "a=setup:actpass\r\n%s", vid);
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: no a=group:BUNDLE");
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 7\r\n" ICE FPL "a=setup:actpass\r\n%s", vid);
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: no BUNDLE-able mid");
    /* A publish offer that only receives. */
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "a=setup:actpass\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n");
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: publish offer has no sendable");
    /* No rtcp-mux. */
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "a=setup:actpass\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n");
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: mid 0 has no a=rtcp-mux");
    /* Only unsupported codecs: VP9 and AV1 video, H.264 in mode 0. */
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "a=setup:actpass\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 98 45 104\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
             "a=rtpmap:98 VP9/90000\r\na=rtpmap:45 AV1/90000\r\na=rtpmap:104 H264/90000\r\n"
             "a=fmtp:104 packetization-mode=0;profile-level-id=42e01f\r\n");
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Codec not supported: offer has no H264 or VP8 video");
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "a=setup:actpass\r\n"
             "m=audio 9 UDP/TLS/RTP/SAVPF 9 18\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n");
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Codec not supported: offer has no opus, PCMU or PCMA audio");
    /* Plain RTP/AVP is not DTLS-SRTP. */
    snprintf(buf, sizeof(buf), HDR "a=group:BUNDLE 0\r\n" ICE FPL "a=setup:actpass\r\n"
             "m=video 9 RTP/AVP 96\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n");
    negotiate_fails(buf, LC_SDP_NEGOTIATE_PUBLISH, &pol, "Bad SDP: publish offer has no sendable");
}

static void test_answer_rejects_bad_server_params(void **state)
{
    (void)state;
    char err[256];
    lc_sdp_negotiate_policy_t pol = policy();
    lc_sdp_negotiate_t n;
    lc_sdp_negotiate_server_t srv;
    lc_sdp_t *s = parse_ok(obs_whip_offer);
    static const char *const bad_cand[] = { "192.0.2.1" };
    static const char *const bad_cand2[] = { "192.0.2.1:5000\r\na=evil" };
    char *a;

    assert_int_equal(lc_sdp_negotiate_offer(s, LC_SDP_NEGOTIATE_PUBLISH, &pol, &n, err, sizeof(err)), 0);
    srv = server();
    srv.candidates = bad_cand;
    srv.ncandidates = 1;
    assert_null(lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err)));
    assert_non_null(strstr(err, "not ip:port"));
    srv.candidates = bad_cand2;
    assert_null(lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err)));
    srv = server();
    srv.ice_ufrag = "has space";
    assert_null(lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err)));
    srv = server();
    srv.fingerprint = "sha-256";
    assert_null(lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err)));

    /* No candidates: port 9 and 0.0.0.0, still parseable. */
    srv = server();
    srv.ncandidates = 0;
    a = lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(strstr(a, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"));
    assert_non_null(strstr(a, "a=ice-lite\r\n"));
    assert_non_null(strstr(a, "a=group:BUNDLE 0 1\r\n"));
    free(a);

    /* IPv6 first: c=IN IP6, priority and foundation per address. */
    static const char *const v6[] = { "[2001:db8::10]:20000", "192.0.2.10:20000", "[2001:db8::10]:20001" };
    srv.candidates = v6;
    srv.ncandidates = 3;
    a = lc_sdp_negotiate_answer(&n, &srv, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(strstr(a, "c=IN IP6 2001:db8::10\r\n"));
    assert_non_null(strstr(a, "a=candidate:1 1 udp 2130706431 2001:db8::10 20000 typ host\r\n"));
    assert_non_null(strstr(a, "a=candidate:2 1 udp 2130706175 192.0.2.10 20000 typ host\r\n"));
    assert_non_null(strstr(a, "a=candidate:1 1 udp 2130705919 2001:db8::10 20001 typ host\r\n"));
    free(a);
    lc_sdp_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_chrome),
        cmocka_unit_test(test_parse_firefox),
        cmocka_unit_test(test_parse_session_level),
        cmocka_unit_test(test_fmtp_find),
        cmocka_unit_test(test_parse_legacy_datachannel_and_wildcard_fb),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_prefixes),
        cmocka_unit_test(test_publish_chrome),
        cmocka_unit_test(test_publish_firefox),
        cmocka_unit_test(test_publish_safari_prefers_constrained_baseline),
        cmocka_unit_test(test_publish_aiortc_remb),
        cmocka_unit_test(test_publish_obs_whip),
        cmocka_unit_test(test_publish_gstreamer),
        cmocka_unit_test(test_play_chrome_whep),
        cmocka_unit_test(test_play_codec_mismatch),
        cmocka_unit_test(test_negotiate_errors),
        cmocka_unit_test(test_answer_rejects_bad_server_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
