/*
 * spawn.c: the master's children. Each child lives in a process slot (its
 * row in the shared process table and its wake-up eventfd). Slot 0 is the
 * master. A generation is N workers + one relay + one control; a reload
 * starts a new generation in free slots while the old one drains, so the two
 * never share a slot, an eventfd or a UDP port.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/shm/session_table.h"
#include "common/shm/stream_table.h"
#include "master/master.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define YOUNG_MS 2000       /* a child that dies younger than this is in a crash loop */
#define KILL_GRACE_MS 5000  /* after its own deadline, an unresponsive child is killed */

static const char *role_name(int role)
{
    switch (role) {
    case LC_ROLE_WORKER: return "worker";
    case LC_ROLE_RELAY: return "relay";
    case LC_ROLE_CONTROL: return "control";
    }
    return "?";
}

int64_t lc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int free_slot(const lc_master_t *m)
{
    for (int s = 1; s < LC_PROC_SLOTS; s++)
        if (m->children[s].pid == 0 && m->children[s].respawn_at_ms == 0 && m->children[s].role == 0)
            return s;
    return -1;
}

static int overlaps(const lc_master_t *m, int lo, int hi)
{
    for (int s = 1; s < LC_PROC_SLOTS; s++) {
        const lc_child_t *c = &m->children[s];
        if (c->role == LC_ROLE_WORKER && lo <= c->udp_hi && c->udp_lo <= hi)
            return 1;
    }
    return 0;
}

/* Split webrtc.udp_ports into 2N parts and hand the new generation N parts
 * no living worker holds. Fails while a previous generation still drains on
 * the ports the new one would need. */
static int pick_udp_slices(const lc_master_t *m, int n, uint16_t *lo, uint16_t *hi)
{
    const lc_conf_range_t *r = &m->cycle.conf->webrtc_udp_ports;
    int parts = 2 * n, span = (r->hi - r->lo + 1) / parts, got = 0;
    for (int p = 0; p < parts && got < n; p++) {
        int a = r->lo + p * span, b = a + span - 1;
        if (!overlaps(m, a, b)) {
            lo[got] = (uint16_t)a;
            hi[got] = (uint16_t)b;
            got++;
        }
    }
    return got == n ? 0 : -1;
}

static void child_exec(lc_master_t *m, int slot)
{
    lc_child_t *c = &m->children[slot];
    char title[64];

    m->cycle.slot = slot;
    m->cycle.index = c->index;
    if (c->role == LC_ROLE_WORKER)
        snprintf(title, sizeof(title), "livecdn: worker %d", c->index);
    else
        snprintf(title, sizeof(title), "livecdn: %s", role_name(c->role));
    close(m->sigfd);
    if (lc_child_init(&m->cycle, title) < 0)
        _exit(2);
    int rc;
    switch (c->role) {
    case LC_ROLE_WORKER: rc = lc_worker_main(&m->cycle); break;
    case LC_ROLE_RELAY: rc = lc_relay_main(&m->cycle); break;
    default: rc = lc_control_main(&m->cycle); break;
    }
    exit(rc);
}

int lc_spawn_child(lc_master_t *m, int slot)
{
    lc_child_t *c = &m->children[slot];
    lc_proc_t *p = lc_shm_proc(m->cycle.shm, slot);

    p->role = c->role;
    p->index = c->index;
    p->generation = c->generation;
    p->udp_lo = c->udp_lo;
    p->udp_hi = c->udp_hi;
    p->started_at = time(NULL);
    atomic_store(&p->connections, 0);
    atomic_store(&p->accepted, 0);
    atomic_store(&p->streams, 0);
    atomic_store(&p->players, 0);
    atomic_store(&p->publishers, 0);
    atomic_store(&p->wake_pending, 0);
    atomic_store(&p->state, LC_PROC_STARTING);

    pid_t pid = fork();
    if (pid < 0) {
        lc_log_errno(LC_LOG_ERROR, errno, "fork() for %s failed", role_name(c->role));
        atomic_store(&p->state, LC_PROC_FREE);
        return -1;
    }
    if (pid == 0)
        child_exec(m, slot);
    c->pid = pid;
    p->pid = pid;
    c->started_ms = lc_now_ms();
    c->respawn_at_ms = 0;
    c->kill_at_ms = 0;
    c->draining = 0;
    lc_log_info("started %s %d (pid %d, generation %u, slot %d)", role_name(c->role), c->index,
                (int)pid, c->generation, slot);
    return 0;
}

static int add_child(lc_master_t *m, int role, int index, uint16_t lo, uint16_t hi)
{
    int slot = free_slot(m);
    if (slot < 0) {
        lc_log_error("no free process slot for %s %d", role_name(role), index);
        return -1;
    }
    lc_child_t *c = &m->children[slot];
    memset(c, 0, sizeof(*c));
    c->role = role;
    c->index = index;
    c->generation = m->cycle.generation;
    c->udp_lo = lo;
    c->udp_hi = hi;
    c->backoff_ms = BACKOFF_MIN_MS;
    return lc_spawn_child(m, slot);
}

int lc_spawn_generation(lc_master_t *m, char *err, size_t errlen)
{
    int n = m->cycle.conf->worker_processes;
    uint16_t lo[64], hi[64];

    if (pick_udp_slices(m, n, lo, hi) < 0) {
        snprintf(err, errlen, "webrtc.udp_ports: no free port slices for %d new workers while the previous "
                 "generation drains; retry when it has exited", n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (add_child(m, LC_ROLE_WORKER, i, lo[i], hi[i]) < 0) {
            snprintf(err, errlen, "could not start worker %d (see the error log)", i);
            return -1;
        }
    }
    if (add_child(m, LC_ROLE_RELAY, 0, 0, 0) < 0 || add_child(m, LC_ROLE_CONTROL, 0, 0, 0) < 0) {
        snprintf(err, errlen, "could not start the relay or control process (see the error log)");
        return -1;
    }
    return 0;
}

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended (status %d)", status);
}

void lc_spawn_reap(lc_master_t *m)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int slot;
        for (slot = 1; slot < LC_PROC_SLOTS; slot++)
            if (m->children[slot].pid == pid)
                break;
        if (slot == LC_PROC_SLOTS)
            continue;
        lc_child_t *c = &m->children[slot];
        char how[128];
        describe_status(status, how, sizeof(how));
        int released = lc_stream_release_owner(m->cycle.shm, slot);
        lc_session_release_owner(m->cycle.shm, slot); /* its WHIP/WHEP sessions: a DELETE now finds none */
        int expected = m->stopping || c->draining ||
                       (WIFEXITED(status) && WEXITSTATUS(status) == 0 && c->generation != m->cycle.generation);
        lc_log(expected ? LC_LOG_INFO : LC_LOG_ERROR, "%s %d (pid %d, generation %u) %s%s", role_name(c->role),
               c->index, (int)pid, c->generation, how, released ? ", its streams were ended" : "");

        lc_proc_t *p = lc_shm_proc(m->cycle.shm, slot);
        p->pid = 0;
        c->pid = 0;
        c->kill_at_ms = 0;
        if (expected || c->generation != m->cycle.generation) {
            atomic_store(&p->state, LC_PROC_FREE);
            memset(c, 0, sizeof(*c));
            continue;
        }
        /* Unexpected death of a current child: respawn, backing off if it
         * keeps dying young so a crash loop does not eat the machine. */
        int64_t now = lc_now_ms();
        int delay = 0;
        if (now - c->started_ms < YOUNG_MS) {
            delay = c->backoff_ms;
            c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        } else {
            c->backoff_ms = BACKOFF_MIN_MS;
        }
        if (delay)
            lc_log_warn("%s %d died within %d ms of start: respawning in %d ms", role_name(c->role),
                        c->index, YOUNG_MS, delay);
        atomic_store(&p->state, LC_PROC_STARTING);
        c->respawn_at_ms = now + delay;
    }
}

void lc_spawn_signal_all(lc_master_t *m, int sig, uint32_t only_below_gen)
{
    for (int s = 1; s < LC_PROC_SLOTS; s++) {
        lc_child_t *c = &m->children[s];
        if (c->pid <= 0 || (only_below_gen && c->generation >= only_below_gen))
            continue;
        if (sig == SIGQUIT && only_below_gen) {
            /* an old child: drain, and be killed if it overstays */
            c->draining = 1;
            c->kill_at_ms = lc_now_ms() + m->cycle.conf->worker_shutdown_timeout * 1000 + KILL_GRACE_MS;
            atomic_store(&lc_shm_proc(m->cycle.shm, s)->state, LC_PROC_DRAINING);
        }
        if (kill(c->pid, sig) < 0 && errno != ESRCH)
            lc_log_errno(LC_LOG_WARN, errno, "kill(%d, %d) failed", (int)c->pid, sig);
    }
    if (!only_below_gen) /* a stop: nothing is respawned */
        for (int s = 1; s < LC_PROC_SLOTS; s++)
            m->children[s].respawn_at_ms = 0;
}

int lc_spawn_alive(const lc_master_t *m)
{
    int n = 0;
    for (int s = 1; s < LC_PROC_SLOTS; s++)
        n += m->children[s].pid > 0;
    return n;
}

void lc_spawn_run_timers(lc_master_t *m, int64_t now)
{
    for (int s = 1; s < LC_PROC_SLOTS; s++) {
        lc_child_t *c = &m->children[s];
        if (c->pid == 0 && c->respawn_at_ms && c->respawn_at_ms <= now && !m->stopping)
            lc_spawn_child(m, s);
        if (c->pid > 0 && c->kill_at_ms && c->kill_at_ms <= now) {
            lc_log_warn("%s %d (pid %d) did not exit in time: killing it", role_name(c->role), c->index,
                        (int)c->pid);
            kill(c->pid, SIGKILL);
            c->kill_at_ms = 0;
        }
    }
}

int64_t lc_spawn_next_timer(const lc_master_t *m)
{
    int64_t next = 0;
    for (int s = 1; s < LC_PROC_SLOTS; s++) {
        const lc_child_t *c = &m->children[s];
        int64_t t = c->pid == 0 ? c->respawn_at_ms : c->kill_at_ms;
        if (t && (!next || t < next))
            next = t;
    }
    return next;
}
