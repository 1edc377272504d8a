#!/usr/bin/env bash
# listen benchmarks: concurrent echo round trips, memory of idle clients.  Rows:
# ROW what ours peer theirs unit ratio target   (see tests/bench/run)
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}
BENCH_DIR=${BENCH_DIR:-build/rel/tests/bench}

. "$(dirname "$0")/common.bash"
bench_scratch # $TMP, and the servers in PIDS: both gone at exit

CLIENTS=${ECHO_CLIENTS:-500} ROUNDS=${ECHO_ROUNDS:-200} SIZE=64

# echo_rate PORT: round trips per second of the load against 127.0.0.1:PORT (best of 3)
echo_rate() {
	local best=0 r
	for _ in 1 2 3; do
		r=$(timeout 120 "$BENCH_DIR/echo_load" 127.0.0.1 "$1" "$CLIENTS" "$ROUNDS" "$SIZE" | awk '{ print $3 }')
		[ -n "$r" ] && [ "$r" -gt "$best" ] && best=$r
	done
	echo "$best"
}

# sockctl listen -k --echo
"$SOCKCTL" listen -k --echo -v 127.0.0.1 0 </dev/null >/dev/null 2>"$TMP/l.err" &
PIDS+=($!)
wait_line "$TMP/l.err" "listening on" || { echo "listen did not start" >&2; exit 1; }
lport=$(sed -n 's/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p' "$TMP/l.err" | head -n1)
ours=$(echo_rate "$lport")
kill "${PIDS[-1]}"

# the ceiling: a minimal single-threaded epoll echo server
"$BENCH_DIR/echo_ceiling" >"$TMP/c.port" &
PIDS+=($!)
wait_line "$TMP/c.port" "^[0-9]+$"
ceiling=$(echo_rate "$(cat "$TMP/c.port")")
kill "${PIDS[-1]}"

# Python's socketserver.ThreadingTCPServer echo server
python3 - "$TMP/p.port" <<'PY' &
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                return
            self.request.sendall(d)
class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 4096
s = Server(("127.0.0.1", 0), Echo)
open(sys.argv[1], "w").write("%d\n" % s.server_address[1])
s.serve_forever()
PY
PIDS+=($!)
wait_line "$TMP/p.port" "^[0-9]+$"
python=$(echo_rate "$(cat "$TMP/p.port")")
kill "${PIDS[-1]}"

row "echo ${CLIENTS}x${ROUNDS} round trips of ${SIZE} B: listen -k --echo vs Python ThreadingTCPServer" \
	"$ours" "python-threading" "$python" "rt/s" ">=10"
row "echo ${CLIENTS}x${ROUNDS} round trips of ${SIZE} B: listen -k --echo vs minimal epoll server" \
	"$ours" "epoll-ceiling" "$ceiling" "rt/s" ">=0.9"

# memory: 1000 idle clients on listen -k.  The peer figure is the budget
# (16 MiB); the ratio is the fraction of it used.
"$SOCKCTL" listen -k -v 127.0.0.1 0 </dev/null >/dev/null 2>"$TMP/m.err" &
mpid=$!
PIDS+=("$mpid")
wait_line "$TMP/m.err" "listening on"
mport=$(sed -n 's/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p' "$TMP/m.err" | head -n1)
timeout 60 "$BENCH_DIR/echo_load" --hold 127.0.0.1 "$mport" 1000 8 >"$TMP/hold" &
PIDS+=($!)
wait_line "$TMP/hold" "^held 1000" || { echo "could not hold 1000 clients" >&2; exit 1; }
for _ in $(seq 200); do
	[ "$(grep -c 'connection from' "$TMP/m.err")" -ge 1000 ] && break
	sleep 0.05
done
sleep 0.5
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$mpid/status")
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$mpid/status")
echo "# listen -k with 1000 idle clients: VmRSS ${rss} KiB, VmHWM ${hwm} KiB" >&2
row "memory: 1000 idle clients on listen -k (VmHWM vs the 16 MiB budget)" \
	"$(awk -v k="$hwm" 'BEGIN { printf "%.2f", k / 1024 }')" "budget" "16" "MiB" "<=1.0"
