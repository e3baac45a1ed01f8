"""Configuration (SPEC sections 2 and 3): `livecdn -t -c FILE` accepts good
files and names the file, line and reason of every bad one; a bad file never
starts a server; a reload with a bad file is refused and the old one stays."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import BIN, ROOT, Tests, free_port, wait_for  # noqa: E402

TMP = os.path.realpath(tempfile.mkdtemp(prefix="lc-conf-"))

# The defaults block of SPEC section 3, as a user would copy it.
SPEC_DEFAULTS = """\
worker_processes = "auto";            # ["auto"] or 1..64
pid = "logs/livecdn.pid";
error_log = "logs/error.log";         # "stderr" allowed
log_level = "info";                   # error|warn|info|debug

signaling: {                          # served by workers
  listen = "0.0.0.0:8080";            # ws:// signaling, WHIP, WHEP
  tls_listen = "";                    # wss:// and https://, e.g. "0.0.0.0:8443"
  tls_certificate = ""; tls_certificate_key = "";
  publish_token = "";                 # if set, publish needs this token
};
webrtc: {
  udp_ports = "31000-31999";          # split among workers
  public_ip = "";                     # address put in ICE candidates
  nack = true; pli_interval_ms = 0;   # 0 = only on request
};
rtmp: {
  listen = "0.0.0.0:1935";
  chunk_size = 4096;
  read_timeout = 0; write_timeout = 0;   # s, 0 = off (keepalive-less peers)
};
media: {
  shm_size = "256M";                  # shared ring arena
  streams_max = 4096;
  gop_cache = true;                   # new players start at the last keyframe
};
codecs: {
  audio = ["opus", "mpeg4-generic", "PCMA", "PCMU", "G722", "speex"];
  video = ["H264", "VP8"];
};
http: {                               # control process
  listen = "127.0.0.1:8081";          # REST, metrics, pages
  tls_listen = "";                    # e.g. "0.0.0.0:8444"
  root = "html";
  allow = ["127.0.0.1", "::1"];       # who may call the REST API
  token = "";                         # if set, REST needs "Authorization: Bearer <token>"
};
cdn: {
  enabled = false;
  mode = "dynamic";                   # "dynamic" (CDN 2.0) or "static" (CDN 1.0)
  role = "edge";                      # "origin" or "edge"
  ip = "";                            # this node's address in the CDN
  port = 8084;                        # inter-node WebSocket port
  point_of_entry = "";                # "host" or "host:port" of a node already in the CDN
  nodes_resolve_ip = false;
  node_remove_timeout = 0;            # s; 0 = PASSIVE nodes stay listed
  pull_idle_timeout = 60;             # s an edge keeps a pull after its last player left
  keepalive_interval = 5;             # s between inter-node keepalives
  codecs_exclude = [];                # codecs never used to forward streams through the CDN
  allow = [];                         # addresses/CIDRs allowed to join as nodes; [] = any
  static: {                           # mode = "static" only
    distribution = "webrtc";          # "webrtc" or "rtmp"
    nodes = [];                       # edges the origin pushes every stream to
  };
};
"""

# A small good file the bad ones are variations of: one setting per line, so
# the line of every key is known.
BASE = [
    'worker_processes = 2;',
    'pid = "logs/livecdn.pid";',
    'error_log = "logs/error.log";',
    'log_level = "info";',
    'signaling: {',
    '  listen = "127.0.0.1:18080";',
    '};',
    'rtmp: {',
    '  listen = "127.0.0.1:11935";',
    '  chunk_size = 4096;',
    '};',
    'media: {',
    '  shm_size = "64M";',
    '  ring_size = "4M";',
    '  gop_cache = true;',
    '};',
    'http: {',
    '  listen = "127.0.0.1:18081";',
    '  root = "html";',
    '};',
]


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def variant(name, replace=None, insert=None):
    """BASE with line `old` replaced by `new` (replace=(old, new)) or with
    `lines` inserted after line `after` (insert=(after, [lines])). Returns
    (path, 1-based line number of the changed/first inserted line)."""
    lines = list(BASE)
    if replace:
        i = lines.index(replace[0])
        lines[i] = replace[1]
        line = i + 1
    else:
        after, new = insert
        i = lines.index(after) + 1 if after is not None else 0
        lines[i:i] = new
        line = i + 1
    return write(name, "\n".join(lines) + "\n"), line


def run_test(path, prefix=TMP):
    return subprocess.run([BIN, "-t", "-c", path, "-p", prefix], capture_output=True, text=True,
                          timeout=20)


def assert_ok(path):
    r = run_test(path)
    assert r.returncode == 0, "exit %d for %s:\n%s%s" % (r.returncode, path, r.stdout, r.stderr)
    m = re.search(r"configuration file (\S+) test is successful", r.stdout)
    assert m, "no success line for %s: %r %r" % (path, r.stdout, r.stderr)
    assert os.path.realpath(m.group(1)) == os.path.realpath(path), m.group(1)


def assert_bad(path, line, *needles, file=None):
    """-t fails with exit 1 and a message 'FILE:LINE: ...' holding every needle."""
    r = run_test(path)
    out = r.stdout + r.stderr
    assert r.returncode == 1, "exit %d (want 1) for %s:\n%s" % (r.returncode, path, out)
    assert "test is successful" not in out, out
    want = file or path
    where = "%s:%d:" % (want, line)

    def names_it(ln):
        # "livecdn: FILE:LINE: reason"; an included file may be named as its
        # @include directive wrote it (relative to the including file's directory)
        m = re.match(r"livecdn: (.+?):(\d+): ", ln)
        return m and int(m.group(2)) == line and (
            m.group(1) == want or os.path.join(os.path.dirname(path), m.group(1)) == want)
    msg = [ln for ln in r.stderr.splitlines() if names_it(ln)]
    assert msg, "no line with %r in stderr:\n%s" % (where, r.stderr)
    for n in needles:
        assert n in msg[0], "%r not in %r" % (n, msg[0])
    assert "test failed" in r.stderr, r.stderr
    return msg[0]


def good_configs():
    # the base file the bad ones derive from
    assert_ok(write("base.conf", "\n".join(BASE) + "\n"))
    # SPEC section 3's defaults, verbatim
    assert_ok(write("spec-defaults.conf", SPEC_DEFAULTS))
    # the sample the key table writes (what conf/livecdn.conf is made from)
    sample = subprocess.run([BIN, "--conf-keys=sample"], capture_output=True, text=True, timeout=20)
    assert sample.returncode == 0 and "worker_processes" in sample.stdout, sample.stderr
    assert_ok(write("sample.conf", sample.stdout))
    # an empty file: every key has a default
    assert_ok(write("empty.conf", ""))
    # every config shipped in the repository
    for name in sorted(os.listdir(os.path.join(ROOT, "conf")) if os.path.isdir(os.path.join(ROOT, "conf")) else []):
        if name.endswith(".conf"):
            assert_ok(os.path.join(ROOT, "conf", name))


def unknown_top_level():
    path, line = variant("unknown-top.conf", insert=("log_level = \"info\";", ["worker_procs = 2;"]))
    assert_bad(path, line, 'unknown key "worker_procs"')


def unknown_in_group():
    path, line = variant("unknown-group.conf", insert=("  chunk_size = 4096;", ["  chunksize = 4096;"]))
    assert_bad(path, line, 'unknown key "rtmp.chunksize"')
    # an unknown group is reported at the group's line
    path, line = variant("unknown-grp2.conf", insert=("};", ["nosuchgroup: {", "  a = 1;", "};"]))
    assert_bad(path, line, 'unknown key "nosuchgroup"')
    # a known key at the wrong level: "listen" is not a top-level key
    path, line = variant("unknown-level.conf", insert=(None, ['listen = "127.0.0.1:8080";']))
    assert_bad(path, line, 'unknown key "listen"')


def wrong_type_string_for_int():
    path, line = variant("type-int.conf", replace=("  chunk_size = 4096;", '  chunk_size = "4096";'))
    assert_bad(path, line, '"rtmp.chunk_size"', "integer")


def wrong_type_int_for_bool():
    path, line = variant("type-bool.conf", replace=("  gop_cache = true;", "  gop_cache = 1;"))
    assert_bad(path, line, '"media.gop_cache"', "true or false")


def wrong_type_others():
    # an int where a string is needed, a string where a list is needed
    path, line = variant("type-str.conf", replace=('error_log = "logs/error.log";', "error_log = 5;"))
    assert_bad(path, line, '"error_log"', "string")
    path, line = variant("type-list.conf", insert=('  root = "html";', ['  allow = "127.0.0.1";']))
    assert_bad(path, line, '"http.allow"', "list")
    path, line = variant("type-workers.conf", replace=("worker_processes = 2;", 'worker_processes = "two";'))
    assert_bad(path, line, '"worker_processes"', "auto")


def out_of_range_workers():
    path, line = variant("range-workers.conf", replace=("worker_processes = 2;", "worker_processes = 65;"))
    assert_bad(path, line, '"worker_processes"', "65", "1..64")
    path, line = variant("range-workers0.conf", replace=("worker_processes = 2;", "worker_processes = 0;"))
    assert_bad(path, line, '"worker_processes"', "out of range")


def out_of_range_chunk_size():
    path, line = variant("range-chunk.conf", replace=("  chunk_size = 4096;", "  chunk_size = 1;"))
    assert_bad(path, line, '"rtmp.chunk_size"', "out of range", "128")


def out_of_range_shm_size():
    path, line = variant("range-shm.conf", replace=('  shm_size = "64M";', '  shm_size = "1K";'))
    assert_bad(path, line, '"media.shm_size"', '"1K"', "out of range")


def bad_size_suffix():
    path, line = variant("size-q.conf", replace=('  shm_size = "64M";', '  shm_size = "12Q";'))
    assert_bad(path, line, '"media.shm_size"', '"12Q"', "size")
    path, line = variant("size-neg.conf", replace=('  shm_size = "64M";', '  shm_size = "-64M";'))
    assert_bad(path, line, '"media.shm_size"', '"-64M"')


def bad_enum():
    path, line = variant("enum.conf", replace=('log_level = "info";', 'log_level = "loud";'))
    assert_bad(path, line, '"log_level"', '"loud"', "error|warn|info|debug")


def bad_address():
    path, line = variant("addr.conf", replace=('  listen = "127.0.0.1:18080";', '  listen = "nohost";'))
    assert_bad(path, line, '"signaling.listen"', '"nohost"')
    path, line = variant("addr-port.conf", replace=('  listen = "127.0.0.1:18080";', '  listen = "127.0.0.1:70000";'))
    assert_bad(path, line, '"signaling.listen"', "port")
    # no DNS in the config: a name is refused
    path, line = variant("addr-name.conf", replace=('  listen = "127.0.0.1:18081";', '  listen = "localhost:8081";'))
    assert_bad(path, line, '"http.listen"', '"localhost:8081"')


def syntax_error():
    path, line = variant("syntax.conf", replace=("  chunk_size = 4096;", "  chunk_size = ;"))
    assert_bad(path, line, "syntax error")
    # an unclosed group: libconfig reports where it noticed
    lines = list(BASE) + ["cdn: {", "  enabled = false;"]
    path = write("syntax-eof.conf", "\n".join(lines) + "\n")
    r = run_test(path)
    assert r.returncode == 1 and re.search(re.escape(path) + r":\d+: ", r.stderr), r.stderr


def include_reports_included_file():
    inc = write("included.conf", "# included part\nrtmp: {\n  chunk_size = 4096;\n  chunk_sise = 1;\n};\n")
    main_lines = [ln for ln in BASE]
    i = main_lines.index("rtmp: {")
    del main_lines[i:i + 4]  # the rtmp group comes from the included file
    main_lines.insert(4, '@include "included.conf"')
    path = write("including.conf", "\n".join(main_lines) + "\n")
    assert_bad(path, 4, 'unknown key "rtmp.chunk_sise"', file=inc)
    # a good include passes, and its values count
    write("included-ok.conf", "rtmp: {\n  chunk_size = 8192;\n};\n")
    assert_ok(write("including-ok.conf", "\n".join(m if m != '@include "included.conf"' else
                                                   '@include "included-ok.conf"' for m in main_lines) + "\n"))
    # a syntax error inside the included file names that file
    inc2 = write("included-syntax.conf", "log_level = \"info\";\nlog_level = = 1;\n")
    path = write("including-syntax.conf", '@include "included-syntax.conf"\n')
    assert_bad(path, 2, file=inc2)
    # a missing include is an error at the line of the @include directive
    path = write("including-missing.conf", 'worker_processes = 1;\n@include "no-such-file.conf"\n')
    assert_bad(path, 2, "include")


def missing_file():
    path = os.path.join(TMP, "does-not-exist.conf")
    r = run_test(path)
    assert r.returncode == 1, r.returncode
    assert path in r.stderr and "No such file" in r.stderr, r.stderr
    assert "test is successful" not in r.stdout


def cross_key_checks():
    # keys valid alone but not together: still a clear error naming the file
    path, _ = variant("ring-vs-shm.conf", replace=('  ring_size = "4M";', '  ring_size = "64M";'))
    r = run_test(path)
    assert r.returncode == 1 and path in r.stderr and "media.shm_size" in r.stderr, r.stderr


def session_pids(sid):
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout
    return [int(p) for p, s in (ln.split() for ln in out.splitlines() if len(ln.split()) == 2) if int(s) == sid]


def start_bad(conf, foreground=True, prefix=None):
    """Start livecdn on conf (its own session); returns (rc, stderr, leftover pids)."""
    prefix = prefix or os.path.dirname(conf)
    cmd = [BIN] + (["-g"] if foreground else []) + ["-c", conf, "-p", prefix]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        for pid in session_pids(p.pid) + [p.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p.communicate(timeout=5)
        raise AssertionError("livecdn with a bad config was still running after 20s")
    deadline = time.monotonic() + 5
    while session_pids(p.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = session_pids(p.pid)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return p.returncode, err, left


def start_with_bad_config():
    d = tempfile.mkdtemp(prefix="startbad-", dir=TMP)
    lines = list(BASE)
    lines[lines.index("  chunk_size = 4096;")] = "  chunk_size = 1;"
    conf = os.path.join(d, "livecdn.conf")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    for fg in (True, False):
        rc, err, left = start_bad(conf, foreground=fg)
        assert rc == 1, "exit %r (foreground=%s): %s" % (rc, fg, err)
        assert "%s:%d:" % (conf, BASE.index("  chunk_size = 4096;") + 1) in err, err
        assert not left, "processes left behind: %r" % left
        assert not os.path.exists(os.path.join(d, "logs", "livecdn.pid"))


def start_with_busy_address():
    # valid syntax, but the address is taken: exit 1 with the reason, nothing left running
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        d = tempfile.mkdtemp(prefix="startbusy-", dir=TMP)
        conf = os.path.join(d, "livecdn.conf")
        with open(conf, "w") as f:
            f.write('worker_processes = 1;\nsignaling: { listen = "127.0.0.1:%d"; };\n'
                    'http: { listen = "127.0.0.1:%d"; };\nmedia: { shm_size = "16M"; };\n'
                    % (busy.getsockname()[1], free_port()))
        rc, err, left = start_bad(conf)
        assert rc == 1, "exit %r: %s" % (rc, err)
        assert "signaling.listen" in err and str(busy.getsockname()[1]) in err, err
        assert not left, "processes left behind: %r" % left
        assert not os.path.exists(os.path.join(d, "logs", "livecdn.pid"))
    finally:
        busy.close()


def reload_with_bad_config_refused(t):
    s = t.server().start()
    before = sorted(p["pid"] for p in s.processes("worker"))
    good = open(s.conf).read()
    s.rtmp_extra = "\n  chunk_size = 1;\n"
    s.write_conf()
    text = open(s.conf).read().splitlines()
    line = [i + 1 for i, ln in enumerate(text) if "chunk_size = 1" in ln][0]
    code, body = s.rest_error("config/reload")
    assert code == 500, code
    assert "%s:%d:" % (os.path.realpath(s.conf), line) in body["error"], body
    assert '"rtmp.chunk_size"' in body["error"], body
    show = s.rest("worker/show")
    assert show["master"]["generation"] == 1, show["master"]
    assert sorted(p["pid"] for p in show["processes"] if p["role"] == "worker") == before
    assert "reload refused" in s.log()
    # the file fixed: the next reload goes through
    s.rtmp_extra = ""
    with open(s.conf, "w") as f:
        f.write(good)
    assert s.rest("config/reload")["generation"] == 2
    s.wait_ready(generation=2)


with Tests() as t:
    try:
        t.case("-t: good configs (SPEC defaults, key-table sample, empty, repo conf/) pass", good_configs)
        t.case("-t: unknown top-level key: file:line and key", unknown_top_level)
        t.case("-t: unknown key in a group: file:line and group.key path", unknown_in_group)
        t.case("-t: string for an integer: file:line, key, type", wrong_type_string_for_int)
        t.case("-t: integer for a boolean: file:line, key, type", wrong_type_int_for_bool)
        t.case("-t: other wrong types (int for string, string for list/workers)", wrong_type_others)
        t.case("-t: worker_processes = 65 out of range", out_of_range_workers)
        t.case("-t: rtmp.chunk_size = 1 out of range", out_of_range_chunk_size)
        t.case("-t: media.shm_size = \"1K\" out of range", out_of_range_shm_size)
        t.case("-t: bad size \"12Q\"", bad_size_suffix)
        t.case("-t: bad enum log_level = \"loud\"", bad_enum)
        t.case("-t: bad address signaling.listen = \"nohost\"", bad_address)
        t.case("-t: syntax error: file:line from libconfig", syntax_error)
        t.case("-t: @include: bad key reported with the included file's name and line", include_reports_included_file)
        t.case("-t: missing file", missing_file)
        t.case("-t: keys valid alone but not together (ring_size > shm_size / 2)", cross_key_checks)
        t.case("start with a bad config: exit 1, file:line, no process left (foreground and daemon)",
               start_with_bad_config)
        t.case("start with a busy listen address: exit 1, no process left", start_with_busy_address)
        t.case("reload with a bad config is refused with file:line; old generation stays", reload_with_bad_config_refused, t)
    finally:
        if os.environ.get("LC_KEEP") is None:
            shutil.rmtree(TMP, ignore_errors=True)
