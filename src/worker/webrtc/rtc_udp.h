/*
 * rtc_udp.h: a worker's UDP sockets for WebRTC media. Each worker binds one
 * port of its own slice of webrtc.udp_ports (so the slice of the next
 * generation never collides with it during a reload), on each of its
 * candidate addresses, and puts those addresses in every answer it makes:
 * a session's packets reach the worker that did its signaling. Packets are demultiplexed to sessions first by
 * the ICE username of a STUN binding request (the server ufrag), then by
 * the remote address that request came from (RFC 7983 demux inside).
 */
#ifndef LC_RTC_UDP_H
#define LC_RTC_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "worker/worker.h"

typedef struct lc_rtc_session lc_rtc_session_t;

#define LC_RTC_UDP_MAX_CANDIDATES 2
#define LC_RTC_UDP_CAND_LEN 96

/* 0, or -1 (logged). The candidate address is webrtc.public_ip, else the
 * signaling listen address (for a wildcard one, the first non-loopback
 * IPv4 address); a loopback listen address also gets the first
 * non-loopback IPv4 address, so that a browser on this machine can connect
 * to a server configured for loopback only. */
int lc_rtc_udp_start(lc_worker_t *w);
void lc_rtc_udp_stop(void);
/* The answer's candidates, "ip:port" / "[v6]:port", listen address first; their number. */
size_t lc_rtc_udp_candidates(char out[][LC_RTC_UDP_CAND_LEN], size_t max);
int lc_rtc_udp_port(void);

void lc_rtc_udp_send(const struct sockaddr *to, socklen_t tolen, const uint8_t *buf, size_t len);
/* Media: queued and sent in batches (sendmmsg) when the batch is full or
 * at lc_rtc_udp_flush, which every event that queues calls before it returns. */
void lc_rtc_udp_queue(const struct sockaddr *to, socklen_t tolen, const uint8_t *buf, size_t len);
void lc_rtc_udp_flush(void);

/* Sessions are found by their local ufrag (ICE) and then by address. */
void lc_rtc_udp_add_ufrag(const char *ufrag, lc_rtc_session_t *s);
void lc_rtc_udp_remove(lc_rtc_session_t *s);
void lc_rtc_udp_bind_addr(lc_rtc_session_t *s, const struct sockaddr *from, socklen_t len);

/* rtc_session.c: a packet for s (after STUN from a new address: the
 * session checks the request's integrity before it binds that address). */
void lc_rtc_session_on_packet(lc_rtc_session_t *s, const struct sockaddr *from, socklen_t fromlen,
                              uint8_t *buf, size_t len);

#endif
