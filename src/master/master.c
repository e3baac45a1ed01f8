/*
 * master.c: the master process's loop. It never touches media: it waits
 * for signals on a signalfd (so no code runs in signal handlers at all),
 * reaps and respawns children, reloads, reopens logs and stops.
 *
 *   HUP  reload (reload.c)      TERM, INT  fast stop
 *   QUIT graceful stop          USR1       reopen logs (and tell children)
 *   CHLD reap, respawn what died unexpectedly
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/core/log.h"
#include "master/master.h"

#define FAST_STOP_GRACE_MS 5000

static void begin_stop(lc_master_t *m, int how)
{
    if (m->stopping == LC_STOP_FAST)
        return;
    m->stopping = how;
    int64_t grace = how == LC_STOP_FAST ? FAST_STOP_GRACE_MS
                                        : m->cycle.conf->worker_shutdown_timeout * 1000 + FAST_STOP_GRACE_MS;
    m->stop_deadline_ms = lc_now_ms() + grace;
    lc_log_info("%s stop requested", how == LC_STOP_FAST ? "fast" : "graceful");
    lc_spawn_signal_all(m, how == LC_STOP_FAST ? SIGTERM : SIGQUIT, 0);
}

static void reopen_logs(lc_master_t *m)
{
    if (lc_log_reopen() < 0)
        lc_log_errno(LC_LOG_ERROR, errno, "reopening the error log failed");
    else
        lc_log_info("error log reopened");
    lc_spawn_signal_all(m, SIGUSR1, 0xffffffffu);
}

static void handle_signal(lc_master_t *m, int signo)
{
    switch (signo) {
    case SIGCHLD: lc_spawn_reap(m); break;
    case SIGHUP:
        if (!m->stopping)
            lc_reload(m);
        break;
    case SIGTERM:
    case SIGINT: begin_stop(m, LC_STOP_FAST); break;
    case SIGQUIT: begin_stop(m, LC_STOP_GRACEFUL); break;
    case SIGUSR1: reopen_logs(m); break;
    }
}

int lc_master_run(lc_master_t *m)
{
    for (;;) {
        int64_t now = lc_now_ms();
        int64_t next = lc_spawn_next_timer(m);
        if (m->stopping && (!next || m->stop_deadline_ms < next))
            next = m->stop_deadline_ms;
        int timeout = next ? (int)(next > now ? next - now : 0) : -1;

        struct pollfd pfd = { .fd = m->sigfd, .events = POLLIN };
        if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
            lc_log_errno(LC_LOG_ERROR, errno, "poll() failed in the master");
            return 1;
        }
        struct signalfd_siginfo si;
        while (read(m->sigfd, &si, sizeof(si)) == sizeof(si))
            handle_signal(m, (int)si.ssi_signo);

        now = lc_now_ms();
        lc_spawn_run_timers(m, now);
        if (m->stopping) {
            if (lc_spawn_alive(m) == 0)
                break;
            if (now >= m->stop_deadline_ms) {
                lc_log_warn("children did not stop in time: killing them");
                lc_spawn_signal_all(m, SIGKILL, 0);
                m->stop_deadline_ms = now + 1000;
            }
        }
    }
    lc_log_info("exiting");
    return 0;
}
