/*
 * daemon.c: leaving the terminal and the pid file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master/master.h"

int lc_daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    umask(022);
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return -1;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    /* stderr stays until the log is open elsewhere: the master redirects it */
    if (fd > STDERR_FILENO)
        close(fd);
    return 0;
}

int lc_pidfile_write(const char *path)
{
    char buf[32];
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    close(fd);
    /* rename: a reader never sees a half-written pid */
    return rename(tmp, path);
}

pid_t lc_pidfile_read(const char *path, char *err, size_t errlen)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open pid file %s: %s (is livecdn running?)", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    char *end;
    long pid = n > 0 ? strtol(buf, &end, 10) : 0;
    if (n <= 0 || pid <= 1 || (*end != '\n' && *end != '\0')) {
        snprintf(err, errlen, "invalid pid in %s", path);
        return -1;
    }
    return (pid_t)pid;
}
