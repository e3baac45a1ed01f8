/*
 * child.c: the first steps of every child after fork: its own signal
 * dispositions (the master blocked everything for its signalfd), its title
 * and log context, and death with the master.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/core/cycle.h"
#include "common/core/log.h"
#include "common/core/proctitle.h"

int lc_child_init(lc_cycle_t *cycle, const char *title)
{
    sigset_t all;
    struct sigaction sa = { .sa_handler = SIG_DFL };

    for (int s = 1; s < NSIG; s++)
        sigaction(s, &sa, NULL); /* EINVAL for KILL/STOP is fine */
    signal(SIGPIPE, SIG_IGN);
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);

    /* TERM when the master dies; then check it did not die before prctl */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != cycle->master_pid)
        return -1;
    lc_proctitle_set(title);
    char ctx[64];
    snprintf(ctx, sizeof(ctx), "%s", title + (title[0] == 'l' ? 9 : 0));
    lc_log_set_context(ctx);
    return 0;
}
