/*
 * child.c: the first steps of every child after fork: its own signal
 * dispositions (the master blocked everything for its signalfd), its title
 * and log context, and death with the master.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/core/cycle.h"
#include "common/core/log.h"
#include "common/core/proctitle.h"

/* A child forked during a reload inherits the master's copies of the old
 * generation's listening sockets. Holding one would keep a port that the
 * new configuration dropped accepting into a queue nobody reads, so every
 * listening socket that is not this generation's is closed. */
static void close_foreign_listeners(const lc_cycle_t *cycle)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int fds[256], n = 0;

    if (!d)
        return;
    while ((e = readdir(d)) && n < 256) {
        int fd = atoi(e->d_name), on = 0;
        socklen_t len = sizeof(on);
        if (fd <= 2 || fd == dirfd(d))
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 || !on)
            continue;
        int ours = 0;
        for (int k = 0; k < LC_LISTEN_KINDS; k++)
            ours |= cycle->listeners[k].fd == fd;
        if (!ours)
            fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

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
    close_foreign_listeners(cycle);
    lc_proctitle_set(title);
    char ctx[64];
    snprintf(ctx, sizeof(ctx), "%s", title + (title[0] == 'l' ? 9 : 0));
    lc_log_set_context(ctx);
    return 0;
}
