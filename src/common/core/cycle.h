/*
 * cycle.h: what a child process is handed by the master when it is forked:
 * the configuration of its generation, the shared arena, its own process
 * slot, and the listening sockets it serves. Built by the master, as nginx
 * builds a cycle; a reload builds a new one and old children keep theirs.
 */
#ifndef LC_CYCLE_H
#define LC_CYCLE_H

#include <stdint.h>
#include <sys/types.h>

#include "common/core/conf.h"
#include "common/shm/shm.h"

enum lc_listen_kind {
    LC_LISTEN_SIGNALING = 0, LC_LISTEN_HTTP, LC_LISTEN_RTMP, LC_LISTEN_CDN, LC_LISTEN_SIGNALING_TLS, LC_LISTEN_HTTP_TLS,
    LC_LISTEN_KINDS
};

typedef struct {
    int fd;            /* -1 when the address is "" (off) */
    char addr[128];    /* as configured */
} lc_listener_t;

typedef struct lc_cycle {
    lc_conf_t *conf;
    lc_shm_t *shm;
    lc_listener_t listeners[LC_LISTEN_KINDS];
    uint32_t generation;
    pid_t master_pid;
    int slot;          /* child: its process slot */
    int index;         /* worker: its number within the generation */
} lc_cycle_t;

/* Child entry points, one per role; each runs its event loop and returns the exit status. */
int lc_worker_main(lc_cycle_t *cycle);
int lc_relay_main(lc_cycle_t *cycle);
int lc_control_main(lc_cycle_t *cycle);

/* A child's common start: reset signals, die with the master. */
int lc_child_init(lc_cycle_t *cycle, const char *title);

#endif
