/*
 * static.c: the web pages under http.root. Only GET and HEAD; the path is
 * decoded and checked by lc_url_path_decode (no "..", NUL or escaped
 * slash), then opened component by component without following symlinks.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/http/url_path.h"
#include "control/control.h"

static const char *content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },   { ".json", "application/json" },
        { ".png", "image/png" },                 { ".svg", "image/svg+xml" },
        { ".ico", "image/x-icon" },              { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/*
 * Opens rel (checked by lc_url_path_decode) below the directory root, one
 * component at a time with O_NOFOLLOW: a symlink anywhere under http.root
 * (to /etc, or to a file outside) is never followed, whatever it points at.
 * The root itself is the operator's choice and may be a symlink. O_NONBLOCK
 * so that a FIFO under root cannot block the control loop; only a regular
 * file is served. The fd, or -1 with errno.
 */
static int open_below(const char *root, const char *rel, struct stat *st)
{
    char comp[LC_URL_PATH_MAX + 1];
    int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (dir >= 0) {
        const char *slash = strchr(rel, '/');
        size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
        memcpy(comp, rel, n);
        comp[n] = '\0';
        int fd = openat(dir, comp, O_NOFOLLOW | O_CLOEXEC | (slash ? O_PATH | O_DIRECTORY : O_RDONLY | O_NONBLOCK));
        int e = errno;
        close(dir);
        if (fd < 0 || slash == NULL) {
            if (fd >= 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))) {
                close(fd);
                fd = -1;
                e = EISDIR;
            }
            errno = e;
            return fd;
        }
        dir = fd;
        rel = slash + 1;
    }
    return -1;
}

void lc_static_handle(lc_control_t *ctl, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        lc_rest_error(req, 405, "Method Not Allowed", "pages are read with GET");
        return;
    }
    char rel[LC_URL_PATH_MAX + 1];
    const char *why = NULL;
    /* "%00", "..", "%2F" and control bytes never reach the file system */
    if (lc_url_path_decode(path, strlen(path), rel, sizeof(rel), &why) < 0) {
        lc_log_info("page %.200s refused: %s", path, why);
        lc_rest_error(req, 404, "Not Found", "no such page");
        return;
    }
    char *root = lc_conf_path(ctl->cycle->conf, ctl->cycle->conf->http_root);
    struct stat st;
    int fd = root ? open_below(root, rel, &st) : -1;
    if (fd < 0 && errno == ELOOP)
        lc_log_info("page /%s refused: a symlink under http.root %s is not followed", rel, root);
    free(root);
    if (fd < 0) {
        lc_rest_error(req, 404, "Not Found", "no such page");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type(rel));
    if (cmd == EVHTTP_REQ_GET && st.st_size > 0)
        evbuffer_add_file(b, fd, 0, st.st_size); /* takes the fd */
    else
        close(fd);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
