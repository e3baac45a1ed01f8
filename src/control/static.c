/*
 * static.c: the web pages under http.root. Only GET and HEAD; a path with
 * a ".." segment or a NUL is refused before it reaches the file system.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

void lc_static_handle(lc_control_t *ctl, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        lc_rest_error(req, 405, "Method Not Allowed", "pages are read with GET");
        return;
    }
    size_t dlen = 0;
    char *decoded = evhttp_uridecode(path, 0, &dlen);
    if (!decoded) {
        lc_rest_error(req, 400, "Bad Request", "bad path");
        return;
    }
    /* "%00" would cut the path short; ".." anywhere could climb out of root */
    if (strlen(decoded) != dlen || strstr(decoded, "..") || decoded[0] != '/') {
        free(decoded);
        lc_rest_error(req, 404, "Not Found", "no such page");
        return;
    }
    char *root = lc_conf_path(ctl->cycle->conf, ctl->cycle->conf->http_root);
    char file[4096];
    int n = snprintf(file, sizeof(file), "%s%s%s", root, decoded,
                     decoded[strlen(decoded) - 1] == '/' ? "index.html" : "");
    free(root);
    free(decoded);
    struct stat st;
    int fd = n > 0 && (size_t)n < sizeof(file) ? open(file, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        lc_rest_error(req, 404, "Not Found", "no such page");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type(file));
    if (cmd == EVHTTP_REQ_GET && st.st_size > 0)
        evbuffer_add_file(b, fd, 0, st.st_size); /* takes the fd */
    else
        close(fd);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
