/*
 * relay.c: the relay process's loop. It will carry the CDN membership
 * protocol, edge-to-origin pulls and pushes to external RTMP URLs (later
 * issues); today it runs its loop, keeps its process-table row alive and
 * follows the master's signals like every other child.
 */
#include <event2/event.h>
#include <signal.h>

#include "common/core/cycle.h"
#include "common/core/log.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct event_base *base = arg;
    (void)what;
    if (sig == SIGUSR1) {
        lc_log_reopen();
        return;
    }
    /* TERM and QUIT alike: the relay holds no session that needs draining yet */
    event_base_loopbreak(base);
}

int lc_relay_main(lc_cycle_t *cycle)
{
    struct event_base *base = event_base_new();
    struct event *sigs[4];
    int signos[4] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };

    if (!base)
        return 1;
    for (int i = 0; i < 4; i++) {
        sigs[i] = evsignal_new(base, signos[i], on_signal, base);
        event_add(sigs[i], NULL);
    }
    atomic_store(&lc_shm_proc(cycle->shm, cycle->slot)->state, LC_PROC_RUNNING);
    lc_log_info("relay ready (cdn %s)", cycle->conf->cdn_enabled ? "enabled" : "disabled");
    event_base_dispatch(base);
    for (int i = 0; i < 4; i++)
        event_free(sigs[i]);
    event_base_free(base);
    lc_log_info("relay exiting");
    return 0;
}
