#!/usr/bin/env bash
# Docs agree with the code: the key table drives man/livecdn.conf.5 and
# conf/livecdn.conf; every man page renders without warnings.
cd "$(dirname "$0")/../.."
t() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

{ cat man/livecdn.conf.5.head; bin/livecdn --conf-keys=man; cat man/livecdn.conf.5.tail; } > "$tmp/conf.5"
t "man/livecdn.conf.5 is generated from the key table (make man-keys)" 'diff -u man/livecdn.conf.5 "$tmp/conf.5"'
missing=""
for k in $(bin/livecdn --conf-keys=list); do
    grep -q "^\.B $(echo "$k" | sed 's/\./\\./g')\$" man/livecdn.conf.5 || missing="$missing $k"
done
t "man/livecdn.conf.5 lists every key${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
bin/livecdn --conf-keys=sample > "$tmp/sample.conf"
t "conf/livecdn.conf is the generated sample" 'diff -u conf/livecdn.conf "$tmp/sample.conf"'
t "conf/livecdn.conf passes -t with every default" 'bin/livecdn -t -c conf/livecdn.conf >/dev/null'
t "conf/origin.conf and conf/edge.conf pass -t" 'bin/livecdn -t -c conf/origin.conf >/dev/null && bin/livecdn -t -c conf/edge.conf >/dev/null'
for m in man/livecdn.8 man/livecdn.conf.5 man/livecdnctl.1 man/livecdn-cdn.7; do
    t "$m renders without warnings" '[ -f $m ] && [ -z "$(groff -man -Tutf8 -ww -z $m 2>&1)" ] && man -l $m 2>/dev/null | grep -q NAME'
done
t "README shows make run and make check" 'grep -q "make run" README && grep -q "make check" README'
t ".ci/run calls make check" 'grep -q "^make check" .ci/run'
