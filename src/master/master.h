/*
 * master.h: the master process's own state (never shared with children
 * except by fork). The master owns the arena, the listening sockets, the
 * process table and the current generation's configuration.
 */
#ifndef LC_MASTER_H
#define LC_MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include "common/core/cycle.h"

enum { LC_RUNNING = 0, LC_STOP_GRACEFUL, LC_STOP_FAST };

typedef struct {
    pid_t pid;             /* 0 = slot unused */
    int role;
    int index;
    uint32_t generation;
    uint16_t udp_lo, udp_hi;
    int64_t started_ms;
    int backoff_ms;        /* next respawn delay if it dies young */
    int64_t respawn_at_ms; /* > 0: respawn this slot then */
    int64_t kill_at_ms;    /* > 0: SIGKILL if still alive then */
    int draining;
} lc_child_t;

typedef struct {
    lc_cycle_t cycle;          /* current generation */
    lc_child_t children[LC_PROC_SLOTS];
    int sigfd;
    int stopping;
    int64_t stop_deadline_ms;
    const char *conf_file;
    const char *prefix;
    char *pid_path;
    int foreground;
} lc_master_t;

int lc_master_run(lc_master_t *m);

/* spawn.c */
int64_t lc_now_ms(void);
int lc_spawn_generation(lc_master_t *m, char *err, size_t errlen);
int lc_spawn_child(lc_master_t *m, int slot);
void lc_spawn_reap(lc_master_t *m);
void lc_spawn_signal_all(lc_master_t *m, int sig, uint32_t only_below_gen);
int lc_spawn_alive(const lc_master_t *m);
void lc_spawn_run_timers(lc_master_t *m, int64_t now);
int64_t lc_spawn_next_timer(const lc_master_t *m);

/* listeners.c: open this cycle's sockets, reusing old ones with the same address. */
int lc_listeners_open(lc_cycle_t *cycle, const lc_cycle_t *old, char *err, size_t errlen);
void lc_listeners_close_unused(lc_cycle_t *old, const lc_cycle_t *cur);

/* reload.c */
void lc_reload(lc_master_t *m);

/* daemon.c */
int lc_daemonize(void);
int lc_pidfile_write(const char *path);
pid_t lc_pidfile_read(const char *path, char *err, size_t errlen);

#endif
