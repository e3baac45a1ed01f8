/*
 * main.c: the command line of bin/livecdn (nginx-style: -c -p -t -s -g -v),
 * and the master's start: config, arena, wake-up fds, listeners, pid file,
 * first generation, then master.c's loop.
 */
#include <errno.h>
#include <event2/event.h>
#include <libconfig.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_version.h>

#include "common/core/log.h"
#include "common/core/proctitle.h"
#include "common/core/version.h"
#include "common/shm/notify.h"
#include "common/shm/stream_table.h"
#include "master/master.h"

#ifndef LC_PREFIX
#define LC_PREFIX "/usr/local"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: livecdn [-g] [-c FILE] [-p DIR] [-t] [-s reload|stop|quit|reopen] [-v]\n"
            "  -c FILE   configuration file (default conf/livecdn.conf, or " LC_PREFIX "/etc/livecdn.conf)\n"
            "  -p DIR    prefix for relative paths in the configuration (default: current directory)\n"
            "  -t        test the configuration and exit\n"
            "  -s SIGNAL send reload (HUP), stop (TERM), quit (QUIT) or reopen (USR1) to the master\n"
            "  -g        stay in the foreground\n"
            "  -v        print versions and exit\n");
}

/* Only the libraries this binary links (-Wl,--as-needed drops the rest
 * until the media paths that use them land). */
static void print_versions(void)
{
    printf("livecdn version %s\n", LC_VERSION);
    printf("libevent %s\n", event_get_version());
    printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("yajl %d.%d.%d\n", yajl_version() / 10000, yajl_version() / 100 % 100, yajl_version() % 100);
    printf("libconfig %d.%d.%d\n", LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
}

static int signal_number(const char *name)
{
    static const struct { const char *name; int sig; } sigs[] = {
        { "reload", SIGHUP }, { "stop", SIGTERM }, { "quit", SIGQUIT }, { "reopen", SIGUSR1 },
    };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (strcmp(name, sigs[i].name) == 0)
            return sigs[i].sig;
    return -1;
}

/* The master named by the pid file pid_path gets signal name. 0 or 1. */
static int send_signal(const char *pid_path, const char *name)
{
    char err[4200];
    int sig = signal_number(name);
    if (sig < 0) {
        fprintf(stderr, "livecdn: unknown signal \"%s\": use reload, stop, quit or reopen\n", name);
        return 1;
    }
    pid_t pid = pid_path ? lc_pidfile_read(pid_path, err, sizeof(err)) : -1;
    if (pid < 0) {
        fprintf(stderr, "livecdn: %s\n", pid_path ? err : "out of memory");
        return 1;
    }
    if (kill(pid, sig) < 0) {
        fprintf(stderr, "livecdn: kill(%d, %s): %s\n", (int)pid, name, strerror(errno));
        return 1;
    }
    return 0;
}

/*
 * -s reload with a file that fails the test. nginx's `-s reload` tests the
 * file first, prints the error, exits 1 and does not signal; its error line
 * also lands in the error log only because that client logs to the built-in
 * log path. We keep the test and the exit status, and reach the running
 * server's own log a surer way: the master is signalled anyway, tests the
 * same file, logs "reload refused: FILE:LINE: ..." in the log it really
 * writes (and answers REST with it), and keeps its running configuration.
 * The pid file is found leniently, since the file is known to be bad.
 */
static int reload_bad_file(const char *conf_file, const char *prefix)
{
    char *pid_path = lc_conf_peek_path(conf_file, prefix, "pid");
    int rc = send_signal(pid_path, "reload");
    free(pid_path);
    fprintf(stderr, "livecdn: configuration file %s test failed%s\n", conf_file,
            rc == 0 ? "; the master keeps its running configuration and logs why in its error log" : "");
    return 1;
}

/* Create the parent directory of a relative file path like logs/x if missing. */
static void make_parent_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
}

static int open_log(const lc_conf_t *conf)
{
    char *path = lc_conf_path(conf, conf->error_log);
    if (strcmp(conf->error_log, "stderr") != 0)
        make_parent_dir(path);
    int rc = lc_log_open(strcmp(conf->error_log, "stderr") == 0 ? "stderr" : path);
    if (rc < 0)
        fprintf(stderr, "livecdn: cannot open error log %s: %s\n", path, strerror(errno));
    free(path);
    lc_log_set_level(lc_log_level_from_name(conf->log_level));
    return rc;
}

/* Keys that configure features this version does not have yet: say so
 * once at start rather than let a user believe they took effect. */
static void warn_unbuilt(const lc_conf_t *conf)
{
    if (conf->cdn_enabled && strcmp(conf->cdn_mode, "static") == 0)
        lc_log_warn("cdn.mode = \"static\" is not supported in this version: the node joins the dynamic CDN");
    if (conf->cdn_enabled && conf->cdn_codecs_exclude.n > 0)
        lc_log_warn("cdn.codecs_exclude has no effect in this version: streams cross the CDN in their publish codec");
}

/* Every player is a socket: allow as many as the hard limit does (the
 * soft default of 1024 would cap a worker at about a thousand players). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            lc_log_errno(LC_LOG_WARN, errno, "setrlimit(RLIMIT_NOFILE, %llu)", (unsigned long long)rl.rlim_max);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        lc_log_info("open files limit: %llu", (unsigned long long)rl.rlim_cur);
}

static int start(lc_master_t *m, lc_conf_t *conf)
{
    char err[1024];
    sigset_t set;

    if (open_log(conf) < 0)
        return 1;
    m->pid_path = lc_conf_path(conf, conf->pid);
    pid_t running = lc_pidfile_read(m->pid_path, err, sizeof(err));
    if (running > 0 && kill(running, 0) == 0) {
        fprintf(stderr, "livecdn: already running with pid %d (%s)\n", (int)running, m->pid_path);
        return 1;
    }
    m->cycle.conf = conf;
    m->cycle.generation = 1;
    if (lc_listeners_open(&m->cycle, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "livecdn: %s\n", err);
        lc_log_error("%s", err);
        return 1;
    }
    m->cycle.shm = lc_shm_create((uint64_t)conf->media_shm_size, (uint64_t)conf->media_ring_size,
                                 (uint32_t)conf->media_streams_max);
    if (!m->cycle.shm || lc_notify_init() < 0) {
        fprintf(stderr, "livecdn: cannot create the shared arena (media.shm_size): %s\n", strerror(errno));
        return 1;
    }
    atomic_store(&m->cycle.shm->generation, 1);

    if (!m->foreground && lc_daemonize() < 0) {
        fprintf(stderr, "livecdn: daemonize failed: %s\n", strerror(errno));
        return 1;
    }
    m->cycle.master_pid = getpid();
    make_parent_dir(m->pid_path);
    if (lc_pidfile_write(m->pid_path) < 0) {
        fprintf(stderr, "livecdn: cannot write pid file %s: %s\n", m->pid_path, strerror(errno));
        return 1;
    }
    lc_proc_t *self = lc_shm_proc(m->cycle.shm, 0);
    self->pid = getpid();
    self->role = LC_ROLE_MASTER;
    self->generation = 1;
    self->started_at = m->cycle.shm->started_at;
    atomic_store(&self->state, LC_PROC_RUNNING);

    sigemptyset(&set);
    int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m->sigfd < 0) {
        lc_log_errno(LC_LOG_ERROR, errno, "signalfd() failed");
        return 1;
    }
    lc_proctitle_set("livecdn: master");
    lc_log_set_context("master");
    lc_log_info("livecdn %s starting: %d workers, configuration %s", LC_VERSION, conf->worker_processes,
                conf->file);
    warn_unbuilt(conf);
    raise_nofile();
    if (!m->foreground && strcmp(conf->error_log, "stderr") != 0) {
        /* the log is open: stderr of a daemon goes to it too */
        dup2(lc_log_fd(), STDERR_FILENO);
    }
    if (lc_spawn_generation(m, err, sizeof(err)) < 0) {
        lc_log_error("%s", err);
        lc_spawn_signal_all(m, SIGTERM, 0);
        m->stopping = LC_STOP_FAST;
        m->stop_deadline_ms = lc_now_ms() + 5000;
    }
    int rc = lc_master_run(m);
    unlink(m->pid_path);
    return rc;
}

int main(int argc, char **argv)
{
    const char *conf_file = NULL, *prefix = NULL, *sig = NULL, *keys = NULL;
    int test = 0, foreground = 0;
    char cwd[4096], err[1024];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 && i + 1 < argc)
            conf_file = argv[++i];
        else if (strcmp(a, "-p") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (strcmp(a, "-s") == 0 && i + 1 < argc)
            sig = argv[++i];
        else if (strcmp(a, "-t") == 0)
            test = 1;
        else if (strcmp(a, "-g") == 0)
            foreground = 1;
        else if (strcmp(a, "-v") == 0) {
            print_versions();
            return 0;
        } else if (strncmp(a, "--conf-keys=", 12) == 0)
            keys = a + 12;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "livecdn: invalid option \"%s\"\n", a);
            usage(stderr);
            return 1;
        }
    }
    if (keys)
        return lc_conf_print_keys(stdout, keys) < 0 ? 1 : 0;

    if (!prefix)
        prefix = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
    if (!conf_file)
        conf_file = access("conf/livecdn.conf", R_OK) == 0 ? "conf/livecdn.conf" : LC_PREFIX "/etc/livecdn.conf";

    lc_conf_t *conf = lc_conf_load(conf_file, prefix, err, sizeof(err));
    if (!conf) {
        fprintf(stderr, "livecdn: %s\n", err);
        if (test)
            fprintf(stderr, "livecdn: configuration file %s test failed\n", conf_file);
        if (!test && sig && strcmp(sig, "reload") == 0)
            return reload_bad_file(conf_file, prefix);
        return 1;
    }
    if (test) {
        printf("livecdn: configuration file %s test is successful\n", conf->file);
        lc_conf_free(conf);
        return 0;
    }
    if (sig) {
        char *pid_path = lc_conf_path(conf, conf->pid);
        int rc = send_signal(pid_path, sig);
        free(pid_path);
        lc_conf_free(conf);
        return rc;
    }
    if (lc_proctitle_init(argc, argv) < 0) {
        fprintf(stderr, "livecdn: out of memory\n");
        return 1;
    }
    static lc_master_t m; /* large (process table); lives for the whole run */
    m.conf_file = strdup(conf->file);
    m.prefix = prefix;
    m.foreground = foreground;
    m.sigfd = -1;
    int rc = start(&m, conf);
    lc_conf_free(m.cycle.conf ? m.cycle.conf : conf);
    free(m.pid_path);
    return rc;
}
