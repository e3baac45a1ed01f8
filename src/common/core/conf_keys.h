/*
 * conf_keys.h: THE table of configuration keys. Every key livecdn reads is
 * declared here once, with its type, default (in libconfig syntax), range,
 * whether a reload can change it, and one doc line. The loader (conf.c),
 * `livecdn -t`, the defaults, the sample conf/livecdn.conf and the key list in
 * man/livecdn.conf.5 are all driven by this table; tests check they agree.
 *
 * X(field, "path", TYPE, default, min, max, reload, "doc")
 *   TYPE: INT, BOOL, STR, ENUM (min/max unused, choices in doc before ':'),
 *         SIZE ("256M"), ADDR ("host:port"), RANGE ("lo-hi" ports),
 *         LIST (array of strings), WORKERS ("auto" or min..max).
 *   For STR and LIST, max bounds the length of each string.
 *   reload: 1 = a reload applies it, 0 = needs a restart (kept on reload).
 */
#ifndef LC_CONF_KEYS_H
#define LC_CONF_KEYS_H

#define LC_CONF_KEYS(X) \
    X(worker_processes, "worker_processes", WORKERS, "\"auto\"", 1, 64, 1, \
      "number of media workers; \"auto\" = one per core") \
    X(worker_shutdown_timeout, "worker_shutdown_timeout", INT, "60", 1, 86400, 1, \
      "seconds an old worker may keep its sessions after a reload or graceful stop") \
    X(pid, "pid", STR, "\"logs/livecdn.pid\"", 0, 4095, 0, \
      "pid file of the master, relative to the prefix") \
    X(error_log, "error_log", STR, "\"logs/error.log\"", 1, 4095, 1, \
      "log file relative to the prefix, or \"stderr\"") \
    X(log_level, "log_level", ENUM, "\"info\"", 0, 0, 1, \
      "error|warn|info|debug: least severe level written") \
    X(signaling_listen, "signaling.listen", ADDR, "\"0.0.0.0:8080\"", 0, 0, 1, \
      "ws:// signaling, WHIP and WHEP, served by the workers") \
    X(signaling_tls_listen, "signaling.tls_listen", ADDR, "\"\"", 0, 0, 1, \
      "wss:// and https:// address, \"\" = off") \
    X(signaling_tls_certificate, "signaling.tls_certificate", STR, "\"\"", 0, 4095, 1, \
      "PEM certificate (chain) for signaling.tls_listen and http.tls_listen") \
    X(signaling_tls_certificate_key, "signaling.tls_certificate_key", STR, "\"\"", 0, 4095, 1, \
      "PEM private key of that certificate") \
    X(signaling_publish_token, "signaling.publish_token", STR, "\"\"", 0, 255, 1, \
      "if set, publishing needs this token") \
    X(limits_max_connections, "limits.max_connections", INT, "20000", 16, 1048576, 1, \
      "connections per worker; past it (or on EMFILE) accept pauses, logged once a second") \
    X(limits_max_streams_per_ip, "limits.max_streams_per_ip", INT, "32", 1, 1048576, 1, \
      "streams one client address may publish at once (CDN nodes and limits.trusted exempt)") \
    X(limits_trusted, "limits.trusted", LIST, "[]", 0, 63, 1, \
      "addresses or CIDRs exempt from limits.max_streams_per_ip (encoder farms)") \
    X(limits_idle_publish_timeout, "limits.idle_publish_timeout", INT, "10", 1, 86400, 1, \
      "seconds a publisher may send no media before it is ended") \
    X(limits_handshake_timeout, "limits.handshake_timeout", INT, "10", 1, 3600, 1, \
      "seconds, absolute, for RTMP, WebSocket, HTTP and CDN handshakes") \
    X(limits_output_buffer, "limits.output_buffer", SIZE, "\"4M\"", 65536, 1073741824, 1, \
      "bytes queued to one session; a peer that does not read past it is closed") \
    X(webrtc_udp_ports, "webrtc.udp_ports", RANGE, "\"31000-31999\"", 1024, 65535, 1, \
      "UDP port range for WebRTC media, split among workers") \
    X(webrtc_public_ip, "webrtc.public_ip", STR, "\"\"", 0, 63, 1, \
      "address put in ICE candidates; \"\" = listen address or first non-loopback") \
    X(webrtc_nack, "webrtc.nack", BOOL, "true", 0, 1, 1, \
      "answer and send RTCP NACK") \
    X(webrtc_pli_interval_ms, "webrtc.pli_interval_ms", INT, "0", 0, 60000, 1, \
      "periodic PLI to publishers in ms; 0 = only on request") \
    X(rtmp_listen, "rtmp.listen", ADDR, "\"0.0.0.0:1935\"", 0, 0, 1, \
      "RTMP publish and play address, \"\" = off") \
    X(rtmp_chunk_size, "rtmp.chunk_size", INT, "4096", 128, 16777215, 1, \
      "outgoing RTMP chunk size") \
    X(rtmp_read_timeout, "rtmp.read_timeout", INT, "0", 0, 86400, 1, \
      "seconds without input before an RTMP peer is closed; 0 = off") \
    X(rtmp_write_timeout, "rtmp.write_timeout", INT, "0", 0, 86400, 1, \
      "seconds a blocked RTMP write may wait; 0 = off") \
    X(rtmp_send_batch_ms, "rtmp.send_batch_ms", INT, "40", 0, 1000, 1, \
      "ms a player's frames gather into one write (fewer, fuller TCP segments); 0 = each at once") \
    X(media_shm_size, "media.shm_size", SIZE, "\"256M\"", 4194304, 68719476736LL, 0, \
      "size of the shared-memory arena holding every stream ring") \
    X(media_ring_size, "media.ring_size", SIZE, "\"4M\"", 262144, 1073741824, 0, \
      "bytes of one stream's ring (several GOPs at the stream's bitrate)") \
    X(media_streams_max, "media.streams_max", INT, "4096", 1, 1048576, 0, \
      "entries in the shared stream table") \
    X(media_gop_cache, "media.gop_cache", BOOL, "true", 0, 1, 1, \
      "new players start at the last keyframe") \
    X(codecs_audio, "codecs.audio", LIST, \
      "[\"opus\", \"mpeg4-generic\", \"PCMA\", \"PCMU\", \"G722\", \"speex\"]", 0, 31, 1, \
      "audio codecs offered, in order of preference") \
    X(codecs_video, "codecs.video", LIST, "[\"H264\", \"VP8\"]", 0, 31, 1, \
      "video codecs offered, in order of preference") \
    X(http_listen, "http.listen", ADDR, "\"127.0.0.1:8081\"", 0, 0, 1, \
      "REST API, metrics and web pages, served by the control process") \
    X(http_tls_listen, "http.tls_listen", ADDR, "\"\"", 0, 0, 1, \
      "https:// address of the control process (signaling.tls_certificate), \"\" = off") \
    X(http_root, "http.root", STR, "\"html\"", 1, 4095, 1, \
      "directory of the static pages, relative to the prefix") \
    X(http_allow, "http.allow", LIST, "[\"127.0.0.1\", \"::1\"]", 0, 63, 1, \
      "addresses or CIDRs allowed to call the REST API and /metrics; [] = any") \
    X(http_token, "http.token", STR, "\"\"", 0, 255, 1, \
      "if set, REST calls and /metrics need \"Authorization: Bearer <token>\"; " \
      "if not, their Host must be an IP address, localhost or this machine's name") \
    X(cdn_enabled, "cdn.enabled", BOOL, "false", 0, 1, 1, \
      "join a CDN") \
    X(cdn_mode, "cdn.mode", ENUM, "\"dynamic\"", 0, 0, 1, \
      "dynamic|static: CDN 2.0 or CDN 1.0") \
    X(cdn_role, "cdn.role", ENUM, "\"edge\"", 0, 0, 1, \
      "origin|edge: role of this node") \
    X(cdn_ip, "cdn.ip", STR, "\"\"", 0, 255, 1, \
      "this node's address in the CDN") \
    X(cdn_port, "cdn.port", INT, "8084", 1, 65535, 1, \
      "inter-node WebSocket port") \
    X(cdn_point_of_entry, "cdn.point_of_entry", STR, "\"\"", 0, 255, 1, \
      "\"host\" or \"host:port\" of a node already in the CDN") \
    X(cdn_nodes_resolve_ip, "cdn.nodes_resolve_ip", BOOL, "false", 0, 1, 1, \
      "resolve node names to addresses") \
    X(cdn_node_remove_timeout, "cdn.node_remove_timeout", INT, "0", 0, 31536000, 1, \
      "seconds before a PASSIVE node is removed; 0 = kept") \
    X(cdn_pull_idle_timeout, "cdn.pull_idle_timeout", INT, "60", 0, 86400, 1, \
      "seconds an edge keeps a pull after its last player left") \
    X(cdn_keepalive_interval, "cdn.keepalive_interval", INT, "5", 1, 3600, 1, \
      "seconds between inter-node keepalives") \
    X(cdn_codecs_exclude, "cdn.codecs_exclude", LIST, "[]", 0, 31, 1, \
      "codecs never used to forward streams through the CDN; one codec left: the origin transcodes into it") \
    X(cdn_allow, "cdn.allow", LIST, "[]", 0, 63, 1, \
      "addresses or CIDRs allowed as nodes, inbound, outbound and gossiped; [] = any") \
    X(cdn_secret, "cdn.secret", STR, "\"\"", 0, 255, 1, \
      "shared by every node: each link proves it (HMAC challenge in HELLO); \"\" = unauthenticated") \
    X(cdn_static_distribution, "cdn.static.distribution", ENUM, "\"webrtc\"", 0, 0, 1, \
      "webrtc|rtmp: how a static origin pushes to its edges") \
    X(cdn_static_nodes, "cdn.static.nodes", LIST, "[]", 0, 255, 1, \
      "edges a static origin pushes every stream to, \"host\" or \"host:port\"") \
    X(transcoding_threads, "transcoding.threads", INT, "0", 0, 256, 1, \
      "transcoder thread pool size per worker; 0 = one per core") \
    X(transcoding_max_jobs, "transcoding.max_jobs", INT, "64", 1, 100000, 1, \
      "derived streams (transcodes and composites) per node; past it a request fails with \"Transcoding capacity reached\"") \
    X(transcoding_h264_encoder, "transcoding.h264_encoder", ENUM, "\"libx264\"", 0, 0, 1, \
      "libx264|libopenh264: libavcodec H.264 encoder of the transcoders (libx264 when libavcodec lacks it)") \
    X(push_max_per_channel, "push.max_per_channel", INT, "10", 1, 64, 1, \
      "live-streaming URLs per channel") \
    X(push_reconnect_timeout, "push.reconnect_timeout", INT, "60", 1, 86400, 1, \
      "seconds a lost push retries (back-off 1, 2, 4, 8, 10, 10 .. s) before FAILED")

#endif
