/*
 * proctitle.c: see proctitle.h. Must run before anything keeps pointers
 * into argv or environ.
 */
#include "common/core/proctitle.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

/* owned for the process's life; volatile so the store is kept and leak
 * checkers see the copy reachable after main() returns */
static char **volatile env_copy;
static char *title_start;
static size_t title_len;

int lc_proctitle_init(int argc, char **argv)
{
    char *end;
    size_t n = 0;

    if (argc < 1 || !argv[0])
        return -1;
    end = argv[0] + strlen(argv[0]) + 1;
    for (int i = 1; i < argc; i++)
        if (argv[i] == end)
            end = argv[i] + strlen(argv[i]) + 1;
    for (char **e = environ; *e; e++)
        n++;
    char **copy = calloc(n + 1, sizeof(char *));
    if (!copy)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (environ[i] == end)
            end = environ[i] + strlen(environ[i]) + 1;
        copy[i] = strdup(environ[i]);
        if (!copy[i])
            return -1;
    }
    /* The copied environment lives as long as the process: it is environ now. */
    env_copy = copy;
    environ = env_copy;
    title_start = argv[0];
    title_len = (size_t)(end - argv[0]);
    return 0;
}

void lc_proctitle_set(const char *title)
{
    char comm[16];
    if (title_start && title_len > 1) {
        size_t n = strlen(title);
        if (n > title_len - 1)
            n = title_len - 1;
        memcpy(title_start, title, n);
        memset(title_start + n, 0, title_len - n);
    }
    /* comm (top, /proc/PID/comm) holds 15 bytes: drop the "livecdn: " */
    const char *short_title = strncmp(title, "livecdn: ", 9) == 0 ? title + 9 : title;
    strncpy(comm, short_title, sizeof(comm) - 1);
    comm[sizeof(comm) - 1] = '\0';
    prctl(PR_SET_NAME, comm, 0, 0, 0);
}
