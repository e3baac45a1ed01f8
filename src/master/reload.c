/*
 * reload.c: HUP. Build the new generation's cycle beside the running one;
 * if anything fails (config test, a listen address, the UDP port slices)
 * the running generation is untouched and the reason is logged and stored
 * in the arena for the control process to answer REST callers with. Else
 * start the new generation, then ask the old one to drain (QUIT).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/core/log.h"
#include "master/master.h"

static void publish_result(lc_master_t *m, int ok, const char *msg)
{
    lc_shm_t *shm = m->cycle.shm;
    snprintf(shm->reload_msg, sizeof(shm->reload_msg), "%s", msg);
    atomic_store(&shm->reload_ok, ok);
    /* pairs with the control process's acquire load of reload_seq */
    atomic_fetch_add_explicit(&shm->reload_seq, 1, memory_order_release);
}

void lc_reload(lc_master_t *m)
{
    char err[1024];
    lc_cycle_t old = m->cycle;

    lc_log_info("reloading configuration from %s", m->conf_file);
    lc_conf_t *conf = lc_conf_load(m->conf_file, m->prefix, err, sizeof(err));
    if (!conf) {
        /* err is "FILE:LINE: reason naming the key": the line an operator greps for */
        lc_log_error("reload refused: %s (the running configuration is kept)", err);
        publish_result(m, 0, err);
        return;
    }
    lc_conf_warn_restart_keys(old.conf, conf);

    lc_cycle_t next = old;
    next.conf = conf;
    next.generation = old.generation + 1;
    if (lc_listeners_open(&next, &old, err, sizeof(err)) < 0) {
        lc_log_error("reload refused: %s (the running configuration is kept)", err);
        publish_result(m, 0, err);
        lc_conf_free(conf);
        return;
    }

    if (lc_log_level_from_name(conf->log_level) >= 0)
        lc_log_set_level(lc_log_level_from_name(conf->log_level));
    m->cycle = next;
    atomic_store(&m->cycle.shm->generation, next.generation);
    if (lc_spawn_generation(m, err, sizeof(err)) < 0) {
        /* Children of the new generation that did start are stopped; the
         * old generation never stopped serving. */
        for (int s = 1; s < LC_PROC_SLOTS; s++) {
            lc_child_t *c = &m->children[s];
            if (c->generation != next.generation || c->role == 0)
                continue;
            c->draining = 1;
            c->respawn_at_ms = 0;
            if (c->pid > 0)
                kill(c->pid, SIGTERM);
            else
                memset(c, 0, sizeof(*c));
        }
        lc_listeners_close_unused(&next, &old);
        lc_conf_free(conf);
        m->cycle = old;
        atomic_store(&m->cycle.shm->generation, old.generation);
        lc_log_error("reload refused: %s (the running configuration is kept)", err);
        publish_result(m, 0, err);
        return;
    }
    lc_listeners_close_unused(&old, &m->cycle);
    lc_conf_free(old.conf);
    lc_spawn_signal_all(m, SIGQUIT, next.generation);
    char msg[128];
    snprintf(msg, sizeof(msg), "generation %u", next.generation);
    lc_log_info("configuration reloaded: %s with %d workers; the old generation drains", msg,
                conf->worker_processes);
    publish_result(m, 1, msg);
}
