# bench/lib.sh: shell pieces every benchmark script shares (sourced).

# Stop one process by PID: sig, then KILL after `grace` seconds; reaps it
# when it is our child.
stop_pid() {
    local pid=$1 sig=$2 grace=$3
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null
    for _ in $(seq $((grace * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# A free TCP port on 127.0.0.1.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Four free consecutive UDP ports (webrtc.udp_ports wants at least 2 per worker).
free_udp_range() {
    /usr/bin/python3 -c '
import random, socket
for _ in range(200):
    b = random.randrange(20000, 60000, 4)
    socks = []
    try:
        for p in range(b, b + 4):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", p)); socks.append(s)
        print("%d-%d" % (b, b + 3)); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()'
}

# A REST call with an empty body to the server on $HTTP_PORT.
rest() { curl -s -m 5 -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$HTTP_PORT/rest-api/$1"; }
