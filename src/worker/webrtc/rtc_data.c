/*
 * rtc_data.c: WebRTC data channels (RFC 8831/8832) over SCTP (usrsctp) on
 * a session's DTLS association. usrsctp runs without its own threads: SCTP
 * packets come in from DTLS application data (lc_rtc_data_input) and go
 * out through the connection callback into DTLS, and this worker's loop
 * drives usrsctp's timers.
 *
 * What the channels carry, as WCS's sendData does: text a publisher sends
 * on any of its channels becomes a frame of the stream (track 2, codec
 * TEXT), and every WebRTC player of that stream gets it on the first
 * channel it opened. The server opens no channel of its own; it answers
 * the client's DATA_CHANNEL_OPEN with an ACK (DCEP).
 */
#include "worker/webrtc/rtc_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "common/core/log.h"
#include "common/media/flv.h"
#include "common/webrtc/dcep.h"

#define SCTP_PORT 5000          /* ours, as the answer says (a=sctp-port) */
#define TIMER_MS 20
#define PPID_STRING 51
#define PPID_BINARY 53
#define PPID_STRING_EMPTY 56
#define PPID_BINARY_EMPTY 57
#define MAX_TEXT 65536

static int started;
static struct event *timer;
static uint64_t last_timer_ms;
static int associations;

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    lc_rtc_session_t *s = addr;
    (void)tos;
    (void)set_df;
    if (s->dtls && lc_dtls_write(s->dtls, buf, len) == 0)
        return 0;
    return -1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    uint64_t now = lc_rtc_now_ms();
    (void)fd;
    (void)what;
    (void)arg;
    usrsctp_handle_timers((uint32_t)(now - last_timer_ms));
    last_timer_ms = now;
}

static void send_on(lc_rtc_session_t *s, int sid, uint32_t ppid, const void *data, size_t len)
{
    struct sctp_sndinfo info = { .snd_sid = (uint16_t)sid, .snd_ppid = htonl(ppid) };
    if (usrsctp_sendv(s->sctp, data, len, NULL, 0, &info, sizeof(info), SCTP_SENDV_SNDINFO, 0) < 0)
        lc_log_debug("[rtc:%llx] data channel send failed: %s", (unsigned long long)s->id, strerror(errno));
}

/* The client opens every channel; we answer its OPEN with an ACK. A
 * message that is not a valid OPEN is logged and left unanswered (the
 * channel never opens on the client's side): it ends nothing else. */
static void on_dcep(lc_rtc_session_t *s, int sid, const uint8_t *d, size_t len)
{
    const char *err;
    lc_dcep_open_t o;
    int type = lc_dcep_type(d, len, &err);
    if (type == LC_DCEP_ACK)
        return; /* we open no channel that a client could acknowledge */
    if (type < 0 || lc_dcep_parse_open(d, len, &o, &err) < 0) {
        lc_log_warn("[rtc:%llx stream:%s] data channel on stream %d: %s", (unsigned long long)s->id, s->name, sid,
                    err);
        return;
    }
    uint8_t ack[1];
    send_on(s, sid, LC_DCEP_PPID, ack, lc_dcep_build_ack(ack, sizeof(ack)));
    if (s->channel < 0)
        s->channel = sid;
    char label[64];
    lc_dcep_printable(label, sizeof(label), o.label, o.label_len);
    lc_log_info("[rtc:%llx stream:%s] data channel \"%s\" open on stream %d", (unsigned long long)s->id, s->name,
                label, sid);
}

static int on_receive(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
                      struct sctp_rcvinfo rcv, int flags, void *ulp)
{
    lc_rtc_session_t *s = ulp;
    (void)sock;
    (void)addr;
    if (data && !(flags & MSG_NOTIFICATION) && s) {
        uint32_t ppid = ntohl(rcv.rcv_ppid);
        if (ppid == LC_DCEP_PPID) {
            on_dcep(s, rcv.rcv_sid, data, len);
        } else if ((ppid == PPID_STRING || ppid == PPID_STRING_EMPTY) && s->role == LC_RTC_PUBLISH && s->pub &&
                   len <= MAX_TEXT) {
            const char *err;
            lc_frame_t f = { .codec = LC_CODEC_TEXT, .track = 2, .len = ppid == PPID_STRING ? (uint32_t)len : 0,
                             .ts = lc_rtc_now_us() - s->started_us };
            if (lc_core_pub_write(s->pub, &f, data, &err) < 0)
                lc_log_warn("[rtc:%llx stream:%s] data message dropped: %s", (unsigned long long)s->id, s->name, err);
        }
    }
    free(data); /* usrsctp hands us its buffer */
    return 1;
}

int lc_rtc_data_start(lc_rtc_session_t *s, int remote_port)
{
    if (!started) {
        usrsctp_init_nothreads(0, conn_output, NULL);
        usrsctp_sysctl_set_sctp_ecn_enable(0);
        started = 1;
    }
    if (!timer) {
        struct timeval tv = { 0, TIMER_MS * 1000 };
        timer = event_new(s->w->base, -1, EV_PERSIST, on_timer, NULL);
        if (!timer || event_add(timer, &tv) < 0)
            return -1;
        last_timer_ms = lc_rtc_now_ms();
    }
    s->channel = -1;
    usrsctp_register_address(s);
    s->sctp = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, on_receive, NULL, 0, s);
    if (!s->sctp) {
        usrsctp_deregister_address(s);
        return -1;
    }
    associations++;
    usrsctp_set_non_blocking(s->sctp, 1);
    struct linger lg = { 1, 0 };
    usrsctp_setsockopt(s->sctp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    int on = 1;
    usrsctp_setsockopt(s->sctp, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
    /* usrsctp opens 10 outbound streams by default, and a DCEP ACK goes
     * back on the stream of its OPEN: without more, a channel on stream 10
     * or above would never be acknowledged. 256 each way (128 channels of
     * a browser, which numbers its own with even ids) for ~100 bytes per
     * stream per association; browsers allow up to 1024. */
    struct sctp_initmsg im = { .sinit_num_ostreams = 256, .sinit_max_instreams = 256 };
    usrsctp_setsockopt(s->sctp, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im));
    struct sctp_assoc_value av = { .assoc_id = SCTP_ALL_ASSOC, .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
    usrsctp_setsockopt(s->sctp, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av));
    struct sockaddr_conn local = { .sconn_family = AF_CONN, .sconn_port = htons(SCTP_PORT), .sconn_addr = s };
    struct sockaddr_conn remote = { .sconn_family = AF_CONN, .sconn_port = htons((uint16_t)remote_port),
                                    .sconn_addr = s };
    if (usrsctp_bind(s->sctp, (struct sockaddr *)&local, sizeof(local)) < 0 ||
        (usrsctp_connect(s->sctp, (struct sockaddr *)&remote, sizeof(remote)) < 0 && errno != EINPROGRESS)) {
        lc_rtc_data_stop(s);
        return -1;
    }
    return 0;
}

void lc_rtc_data_input(lc_rtc_session_t *s, const uint8_t *buf, size_t len)
{
    if (s->sctp)
        usrsctp_conninput(s, buf, len, 0);
}

void lc_rtc_data_send_text(lc_rtc_session_t *s, const uint8_t *text, size_t len)
{
    if (s->sctp && s->channel >= 0)
        send_on(s, s->channel, len ? PPID_STRING : PPID_STRING_EMPTY, len ? text : (const uint8_t *)" ",
                len ? len : 1);
}

void lc_rtc_data_stop(lc_rtc_session_t *s)
{
    if (!s->sctp)
        return;
    usrsctp_close(s->sctp);
    usrsctp_deregister_address(s);
    s->sctp = NULL;
    if (--associations == 0 && timer) {
        event_free(timer);
        timer = NULL;
    }
}
