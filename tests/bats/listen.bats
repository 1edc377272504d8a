#!/usr/bin/env bats
# sockctl listen against real clients: nc.openbsd, socat, python3.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

# A loopback address of our own: other people's port scans of 127.0.0.1
# (the machine is shared) must not become "the first client" of a test.
setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}


@test "listen: bad input is one line on stderr, status 2, nothing opened" {
	assert_usage_error "PORT" "$SOCKCTL" listen
	assert_usage_error "65536" "$SOCKCTL" listen 65536
	assert_usage_error "--max-conns" "$SOCKCTL" listen -k -m 0 0
	assert_usage_error "-m/--max-conns needs -k" "$SOCKCTL" listen -m 3 0
	assert_usage_error "--echo" "$SOCKCTL" listen --echo -q 1 0
	assert_usage_error "--allow" "$SOCKCTL" listen --allow 10.0.0.0/33 0
	assert_usage_error "--deny" "$SOCKCTL" listen --deny nosuch 0
	assert_usage_error "--allow/--deny" "$SOCKCTL" listen -U --allow 127.0.0.1 /tmp/x.sock
	assert_usage_error "--timeout" "$SOCKCTL" listen -w 1x 0
	assert_usage_error "1.2.3.4.5" "$SOCKCTL" listen 1.2.3.4.5 0
	assert_usage_error "--backlog" "$SOCKCTL" listen -u --backlog 5 0
	assert_usage_error "exclude" "$SOCKCTL" listen -d --send-only 0
	[ ! -e /tmp/x.sock ]
}

@test "listen: -v names both wildcards; port 0 is one kernel-chosen port for both" {
	start_listen "$BATS_TEST_TMPDIR/err" 0 </dev/null >/dev/null
	grep -qx "sockctl listen: listening on 0.0.0.0:$PORT" "$BATS_TEST_TMPDIR/err"
	grep -qxF "sockctl listen: listening on [::]:$PORT" "$BATS_TEST_TMPDIR/err"
	[ "$PORT" -gt 0 ]
}

@test "listen: 1 byte, 64 KiB and 256 MiB into listen > file, from nc.openbsd (IPv4)" {
	for size in 1 65536 268435456; do
		head -c "$size" /dev/urandom >"$BATS_TEST_TMPDIR/in"
		start_listen "$BATS_TEST_TMPDIR/err" $LO 0 </dev/null >"$BATS_TEST_TMPDIR/out"
		timeout 60 nc.openbsd -N $LO "$PORT" <"$BATS_TEST_TMPDIR/in"
		wait_pid 60 "$LPID"
		[ "$WAIT_STATUS" = 0 ]
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
		grep -q "connection from 127.0.0.1:" "$BATS_TEST_TMPDIR/err"
	done
}

@test "listen: 64 KiB and 256 MiB out of listen < file, to socat over IPv6" {
	for size in 65536 268435456; do
		head -c "$size" /dev/urandom >"$BATS_TEST_TMPDIR/in"
		start_listen "$BATS_TEST_TMPDIR/err" ::1 0 <"$BATS_TEST_TMPDIR/in" >/dev/null
		timeout 60 socat -u "TCP6:[::1]:$PORT" "CREATE:$BATS_TEST_TMPDIR/out"
		wait_pid 60 "$LPID"
		[ "$WAIT_STATUS" = 0 ]
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	done
}

@test "listen: half-close both ways with a python3 client" {
	printf 'reply from server' >"$BATS_TEST_TMPDIR/reply"
	start_listen "$BATS_TEST_TMPDIR/err" $LO 0 <"$BATS_TEST_TMPDIR/reply" >"$BATS_TEST_TMPDIR/out"
	run -0 timeout 10 python3 -c '
import socket, sys, os
s = socket.create_connection((os.environ["LO"], int(sys.argv[1])))
s.sendall(b"request"); s.shutdown(socket.SHUT_WR)   # our half-close first
d = b""
while True:
    b = s.recv(4096)
    if not b: break
    d += b
sys.stdout.write(d.decode())' "$PORT"
	[ "$output" = "reply from server" ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = request ]
}

@test "listen --exit-on-peer-eof: the client closing ends listen even while stdin stays open" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo" # stdin that never ends
	start_listen "$BATS_TEST_TMPDIR/err" --exit-on-peer-eof $LO 0 <&7 >"$BATS_TEST_TMPDIR/out"
	exec 7>&-
	printf hello | timeout 10 nc.openbsd -N $LO "$PORT" >/dev/null
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = hello ]
}

@test "listen -U: unix stream with socat both ways; the socket file is removed at exit" {
	sock=$BATS_TEST_TMPDIR/s.sock
	printf 'to client' >"$BATS_TEST_TMPDIR/reply"
	start_listen "$BATS_TEST_TMPDIR/err" -U "$sock" <"$BATS_TEST_TMPDIR/reply" >"$BATS_TEST_TMPDIR/out"
	grep -qx "sockctl listen: listening on unix:$sock" "$BATS_TEST_TMPDIR/err"
	run -0 bash -c 'printf "to server" | timeout 10 socat - "UNIX-CONNECT:$1"' _ "$sock"
	[ "$output" = "to client" ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "to server" ]
	[ ! -e "$sock" ]
}

@test "listen -U: a stale socket is replaced; a live one and a regular file are left alone" {
	sock=$BATS_TEST_TMPDIR/stale.sock
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
	[ -S "$sock" ]
	start_listen "$BATS_TEST_TMPDIR/err" -k --echo -U "$sock" </dev/null >/dev/null
	run -0 bash -c 'printf ping | timeout 10 nc.openbsd -N -U "$1"' _ "$sock"
	[ "$output" = ping ]
	# a second server must not steal the live socket
	run -1 --separate-stderr timeout 10 "$SOCKCTL" listen -U "$sock"
	[[ $stderr == *"already"* ]]
	run -0 bash -c 'printf again | timeout 10 nc.openbsd -N -U "$1"' _ "$sock"
	[ "$output" = again ]
	# a regular file is never removed
	echo precious >"$BATS_TEST_TMPDIR/file"
	run -1 --separate-stderr timeout 10 "$SOCKCTL" listen -U "$BATS_TEST_TMPDIR/file"
	[[ $stderr == *"not a socket"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/file")" = precious ]
}

@test "listen -k --echo: 200 concurrent clients each get exactly their own bytes back" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --echo $LO 0 </dev/null >/dev/null
	run -0 timeout 60 python3 - "$PORT" <<'PY'
import socket, sys, selectors, os
port = int(sys.argv[1])
sel = selectors.DefaultSelector()
want, got = {}, {}
for i in range(200):
    s = socket.create_connection((os.environ["LO"], port))
    payload = (b"client %03d " % i) + os.urandom(3000 + i * 7)
    want[s] = payload; got[s] = b""
    s.sendall(payload); s.shutdown(socket.SHUT_WR)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
left = 200
while left:
    for key, _ in sel.select(30):
        s = key.fileobj
        b = s.recv(65536)
        if b:
            got[s] += b
        else:
            sel.unregister(s); left -= 1
bad = sum(1 for s in want if want[s] != got[s])
print("bad", bad)
PY
	[ "$output" = "bad 0" ]
	kill -0 "$LPID"
}

@test "listen -k: data of 200 clients reaches stdout intact; stdin goes to every client" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo"
	start_listen "$BATS_TEST_TMPDIR/err" -k $LO 0 <&7 >"$BATS_TEST_TMPDIR/out"
	run -0 timeout 60 python3 - "$PORT" "$BATS_TEST_TMPDIR/fifo" <<'PY'
import socket, sys, time, os
port = int(sys.argv[1])
socks = [socket.create_connection((os.environ["LO"], port)) for _ in range(200)]
for i, s in enumerate(socks):
    s.sendall(b"line from client %03d\n" % i)
# wait until all 200 are connected (the server tells on stderr via -v), then broadcast
time.sleep(1)
with open(sys.argv[2], "w") as f:
    f.write("broadcast\n")
bad = 0
for s in socks:
    s.settimeout(20)
    d = b""
    while not d.endswith(b"\n"):
        b = s.recv(100)
        if not b: break
        d += b
    bad += d != b"broadcast\n"
    s.close()
print("bad", bad)
PY
	exec 7>&-
	[ "$output" = "bad 0" ]
	wait_for 10 test "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 200
	for i in $(seq -f %03g 0 199); do echo "line from client $i"; done >"$BATS_TEST_TMPDIR/want"
	sort "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/want"
}

@test "listen -u: datagrams to stdout; stdin to the last sender; --echo over UDP" {
	start_listen "$BATS_TEST_TMPDIR/err" -u $LO 0 </dev/null >"$BATS_TEST_TMPDIR/out"
	printf 'one datagram' | timeout 5 nc.openbsd -u -q0 $LO "$PORT"
	wait_for 10 grep -q "one datagram" "$BATS_TEST_TMPDIR/out"
	grep -q "connection from 127.0.0.1:" "$BATS_TEST_TMPDIR/err"
	kill "$LPID"

	start_listen "$BATS_TEST_TMPDIR/err2" -u -k --echo ::1 0 </dev/null >/dev/null
	run -0 timeout 20 python3 - "$PORT" <<'PY'
import socket, sys, os
bad = 0
for i in range(20):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    msg = b"dgram %d " % i + bytes(range(256)) * (i + 1)
    s.sendto(msg, ("::1", int(sys.argv[1])))
    d, a = s.recvfrom(70000)
    bad += d != msg
print("bad", bad)
PY
	[ "$output" = "bad 0" ]
}

@test "listen -u: stdin goes back to the sender (python3 client)" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo"
	start_listen "$BATS_TEST_TMPDIR/err" -u $LO 0 <&7 >"$BATS_TEST_TMPDIR/out"
	run -0 timeout 20 python3 - "$PORT" "$BATS_TEST_TMPDIR/fifo" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"hello server", (os.environ["LO"], int(sys.argv[1])))
import time; time.sleep(0.5)
with open(sys.argv[2], "w") as f:
    f.write("hello client")
print(s.recvfrom(100)[0].decode())
PY
	exec 7>&-
	[ "$output" = "hello client" ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "hello server" ]
}

@test "listen --allow/--deny: refused clients are closed at once and logged" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --echo --allow 127.0.0.0/8 --deny 127.0.0.2 0 </dev/null >/dev/null
	run -0 bash -c 'printf ok | timeout 10 nc.openbsd -N 127.0.0.1 "$1"' _ "$PORT"
	[ "$output" = ok ]
	run bash -c 'printf no | timeout 10 nc.openbsd -N -s 127.0.0.2 127.0.0.1 "$1"' _ "$PORT"
	[ -z "$output" ]
	run bash -c 'printf no | timeout 10 nc.openbsd -N ::1 "$1"' _ "$PORT"
	[ -z "$output" ]
	wait_for 10 grep -q "refused 127.0.0.2:[0-9]*: denied" "$BATS_TEST_TMPDIR/err"
	wait_for 10 grep -q "refused \[::1\]:[0-9]*: not allowed" "$BATS_TEST_TMPDIR/err"
}

@test "listen -k -m 2: a third client at once is closed; a slot frees when one leaves" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --echo -m 2 $LO 0 </dev/null >/dev/null
	run -0 timeout 30 python3 - "$PORT" <<'PY'
import socket, sys, time, os
port = int(sys.argv[1])
a = socket.create_connection((os.environ["LO"], port)); a.sendall(b"a"); a.settimeout(10); assert a.recv(1) == b"a"
b = socket.create_connection((os.environ["LO"], port)); b.sendall(b"b"); b.settimeout(10); assert b.recv(1) == b"b"
c = socket.create_connection((os.environ["LO"], port)); c.settimeout(10)
try:
    third = c.recv(1)
except ConnectionResetError:
    third = b""
a.close(); time.sleep(0.5)
d = socket.create_connection((os.environ["LO"], port)); d.sendall(b"d"); d.settimeout(10)
print(repr(third), d.recv(1).decode())
PY
	[ "$output" = "b'' d" ]
	grep -q "refused 127.0.0.1:[0-9]*: max-conns" "$BATS_TEST_TMPDIR/err"
}

@test "listen -k under a low ulimit -n: EMFILE pauses accepting without spinning, then recovers" {
	# 12 descriptors: 0-2, the listeners and epoll leave room for a few clients
	# only; an -m above the limit (the default stays under it) lets EMFILE happen
	bash -c 'ulimit -n 12; exec "$0" listen -v -k -m 1000 --echo $LO 0' "$SOCKCTL" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	PORT=$(listen_port "$BATS_TEST_TMPDIR/err")
	run -0 timeout 60 python3 - "$PORT" "$LPID" <<'PY'
import socket, sys, time, os
port, pid = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
held = [socket.create_connection((os.environ["LO"], port)) for _ in range(20)]
time.sleep(0.5)
c0 = cpu(); time.sleep(2); spent = cpu() - c0
for s in held: s.close()
time.sleep(0.5)
# it accepts and serves again
s = socket.create_connection((os.environ["LO"], port)); s.settimeout(10)
s.sendall(b"back"); print("cpu_ok" if spent < 0.5 else "spun %.2fs" % spent, s.recv(10).decode())
PY
	[ "$output" = "cpu_ok back" ]
	grep -q "EMFILE" "$BATS_TEST_TMPDIR/err"
}

@test "listen -w: no client in time is status 1 with a message" {
	run -1 --separate-stderr timeout 20 "$SOCKCTL" listen -w 300ms $LO 0
	[[ $stderr == "sockctl listen: no client within 300ms" ]]
	run -1 --separate-stderr timeout 20 "$SOCKCTL" listen -k -w 300ms $LO 0
	[[ $stderr == *"no client within 300ms"* ]]
}

@test "listen: stdout to /dev/full is status 1 with a message (single and -k)" {
	bg bash -c 'exec "$0" listen -v $LO 0 </dev/null >/dev/full 2>"$1"' "$SOCKCTL" "$BATS_TEST_TMPDIR/err"
	LPID=$BG_PID
	PORT=$(listen_port "$BATS_TEST_TMPDIR/err")
	printf data | timeout 10 nc.openbsd -N $LO "$PORT" || true
	wait_pid 10 "$LPID" || { cat "$BATS_TEST_TMPDIR/err"; ls -l /proc/$LPID/fd; return 1; }
	[ "$WAIT_STATUS" = 1 ]
	grep -qi "stdout" "$BATS_TEST_TMPDIR/err"

	bg bash -c 'exec "$0" listen -k -v $LO 0 </dev/null >/dev/full 2>"$1"' "$SOCKCTL" "$BATS_TEST_TMPDIR/err2"
	LPID=$BG_PID
	PORT=$(listen_port "$BATS_TEST_TMPDIR/err2")
	printf data | timeout 10 nc.openbsd -N $LO "$PORT" || true
	wait_pid 10 "$LPID" || { cat "$BATS_TEST_TMPDIR/err2"; return 1; }
	[ "$WAIT_STATUS" = 1 ]
	grep -q "write error on stdout: no space left on device" "$BATS_TEST_TMPDIR/err2"
}

@test "listen --json: listening, connection and closed events with byte counts on stderr" {
	bg bash -c 'exec "$0" listen --json -k --echo $LO 0 </dev/null >/dev/null 2>"$1"' "$SOCKCTL" "$BATS_TEST_TMPDIR/err"
	wait_for 10 grep -q listening "$BATS_TEST_TMPDIR/err"
	PORT=$(jq -r 'select(.event == "listening") | .port' "$BATS_TEST_TMPDIR/err")
	run -0 bash -c 'printf 12345 | timeout 10 nc.openbsd -N $LO "$1"' _ "$PORT"
	[ "$output" = 12345 ]
	wait_for 10 grep -q closed "$BATS_TEST_TMPDIR/err"
	run -0 jq -c 'select(.event == "closed") | [.id, .address, .bytes_in, .bytes_out, .reason]' "$BATS_TEST_TMPDIR/err"
	[ "$output" = '[1,"127.0.0.1",5,5,"eof"]' ]
	run -0 jq -r 'select(.event == "connection") | .port > 0' "$BATS_TEST_TMPDIR/err"
	[ "$output" = true ]
}

@test "listen -k --idle-timeout: a silent client is closed, an active one is not" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --echo --idle-timeout 500ms $LO 0 </dev/null >/dev/null
	run -0 timeout 30 python3 - "$PORT" <<'PY'
import socket, sys, time, os
port = int(sys.argv[1])
quiet = socket.create_connection((os.environ["LO"], port)); quiet.settimeout(10)
busy = socket.create_connection((os.environ["LO"], port)); busy.settimeout(10)
for i in range(15):                 # 1.5 s of traffic, 100 ms apart
    busy.sendall(b"x"); assert busy.recv(1) == b"x"
    time.sleep(0.1)
print("quiet", repr(quiet.recv(1)), "busy", busy.send(b"y") == 1 and busy.recv(1) == b"y")
PY
	[ "$output" = "quiet b'' busy True" ]
	grep -q "(idle-timeout)" "$BATS_TEST_TMPDIR/err"
}

@test "listen -p PORT and -s ADDR, as traditional nc spells them" {
	port=$(free_port)
	start_listen "$BATS_TEST_TMPDIR/err" -s "$LO" -p "$port" </dev/null >"$BATS_TEST_TMPDIR/out"
	[ "$PORT" = "$port" ]
	grep -qx "sockctl listen: listening on $LO:$port" "$BATS_TEST_TMPDIR/err"
	printf nc-style | timeout 10 nc.openbsd -N "$LO" "$port"
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = nc-style ]
}

@test "listen --nonblock: no client waiting is EAGAIN, status 1" {
	run -1 --separate-stderr timeout 10 "$SOCKCTL" listen --nonblock "$LO" 0
	[[ $stderr == *EAGAIN* ]]
	[ -z "$output" ]
}

@test "listen --exit-on-peer-eof: a client that closes before stdin ends: a notice with the count" {
	head -c 20M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	start_listen "$BATS_TEST_TMPDIR/err" --exit-on-peer-eof "$LO" 0 <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	# the client says hi, shuts down, and reads nothing for a second
	run -0 timeout 20 python3 -c 'import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b"hi\n"); c.shutdown(socket.SHUT_WR); time.sleep(1)
n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    n += len(b)
print(n)' "$LO" "$PORT"
	got=$output
	wait_pid 10 "$LPID" || false
	[ "$WAIT_STATUS" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = hi ]
	grep -q "^sockctl listen: 127\.[0-9.]*:[0-9]* closed the connection before stdin ended: $((20971520 - got)) bytes ready on stdin were not sent (--exit-on-peer-eof)$" "$BATS_TEST_TMPDIR/err"
}

# rst_client PORT: connect to $LO, send a line, then reset (SO_LINGER 0).
rst_client() {
	timeout 20 python3 -c 'import socket, struct, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b"hello\n"); time.sleep(0.3)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()' "$LO" "$1"
}

@test "listen without -k: a client reset is reason reset + ECONNRESET, status 1, with and without --echo" {
	for mode in relay echo; do
		args=(--json "$LO" 0)
		[ $mode = echo ] && args=(--echo "${args[@]}")
		"$SOCKCTL" listen "${args[@]}" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err.$mode" &
		LPID=$!
		echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
		wait_for 10 grep -q listening "$BATS_TEST_TMPDIR/err.$mode"
		PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/err.$mode" | head -n1)
		rst_client "$PORT"
		wait_pid 10 "$LPID"
		cat "$BATS_TEST_TMPDIR/err.$mode"
		[ "$WAIT_STATUS" = 1 ]
		grep -q '"event":"closed".*"bytes_in":6,.*"reason":"reset","errno":"ECONNRESET"' "$BATS_TEST_TMPDIR/err.$mode"
		grep -q "connection reset by peer after [0-9]* bytes sent" "$BATS_TEST_TMPDIR/err.$mode"
	done
}

# refused_sees_reset PORT: a client that expects data sees ECONNRESET, not a clean EOF.
refused_sees_reset() {
	timeout 20 python3 -c 'import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
try:
    b = c.recv(100)
    print("eof" if not b else "data")
except ConnectionResetError:
    print("ECONNRESET")' "$1" "$2"
}

@test "listen: clients refused by -m, --deny and --allow get a reset (ECONNRESET), not an EOF" {
	# -m 1: the second client is turned away
	start_listen "$BATS_TEST_TMPDIR/err" -k -m 1 "$LO" 0 </dev/null >/dev/null
	exec 8<>/dev/tcp/"$LO"/"$PORT"
	wait_for 10 grep -q "connection from" "$BATS_TEST_TMPDIR/err"
	run -0 refused_sees_reset "$LO" "$PORT"
	[ "$output" = ECONNRESET ]
	exec 8<&-
	# --deny without -k (a client in the prefix), --allow with -k (one outside)
	start_listen "$BATS_TEST_TMPDIR/err2" --deny 127.0.0.0/8 "$LO" 0 </dev/null >/dev/null
	run -0 refused_sees_reset "$LO" "$PORT"
	[ "$output" = ECONNRESET ]
	start_listen "$BATS_TEST_TMPDIR/err3" -k --allow 198.18.0.0/15 "$LO" 0 </dev/null >/dev/null
	run -0 refused_sees_reset "$LO" "$PORT"
	[ "$output" = ECONNRESET ]
	grep -q "refused .*not allowed" "$BATS_TEST_TMPDIR/err3"
}

@test "listen -k --stall-timeout: a client that never reads is dropped; the others still get stdin" {
	head -c 20M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	want=$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1)
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$SOCKCTL" listen -k --json --stall-timeout 1s "$LO" 0 <"$BATS_TEST_TMPDIR/fifo" \
		2>"$BATS_TEST_TMPDIR/err" >/dev/null &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	exec 7>"$BATS_TEST_TMPDIR/fifo"
	wait_for 10 grep -q listening "$BATS_TEST_TMPDIR/err"
	PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/err" | head -n1)
	# two clients that never read, one that reads everything
	bg python3 -c 'import socket, sys, time
a = socket.create_connection((sys.argv[1], int(sys.argv[2])))
b = socket.create_connection((sys.argv[1], int(sys.argv[2])))
time.sleep(60)' "$LO" "$PORT" 7>&-
	python3 - "$LO" "$PORT" >"$BATS_TEST_TMPDIR/sha" 7>&- <<'PY' &
import hashlib, socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.shutdown(socket.SHUT_WR)
h = hashlib.sha256()
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b)
print(h.hexdigest())
PY
	CPID=$!
	echo "$CPID" >>"$BATS_TEST_TMPDIR/.pids"
	three() { [ "$(grep -c '"event":"connection"' "$BATS_TEST_TMPDIR/err")" -eq 3 ]; }
	wait_for 10 three
	cat "$BATS_TEST_TMPDIR/in" >&7
	exec 7>&-
	wait_pid 60 "$CPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/sha")" = "$want" ]
	[ "$(grep -c '"event":"closed".*"reason":"stall-timeout","undelivered":[1-9]' "$BATS_TEST_TMPDIR/err")" -eq 2 ]
	assert_usage_error "--stall-timeout" "$SOCKCTL" listen --stall-timeout 1s 0
	assert_usage_error "--stall-timeout" "$SOCKCTL" listen -k -u --stall-timeout 1s 0
}

@test "listen -k without -m: at most the open-file limit less 32 clients at once; the next waits, never EMFILE" {
	run -0 timeout 60 bash -c '
ulimit -n 64
"$1" listen -k -v --echo "$2" 0 </dev/null >/dev/null 2>"$3" &
pid=$!
for i in $(seq 100); do grep -q listening "$3" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n "s/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p" "$3")
python3 -c "
import socket, sys
held = [socket.create_connection((sys.argv[1], int(sys.argv[2]))) for _ in range(32)]
for h in held:
    h.settimeout(10); h.sendall(b\"x\"); assert h.recv(1) == b\"x\"
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b\"y\"); c.settimeout(1)
try:
    c.recv(1); print(\"served at once\")
except socket.timeout:
    held[0].close()          # one leaves: the waiting one gets in
    c.settimeout(10)
    print(\"waited\", c.recv(1).decode())
" "$2" "$port"
kill $pid' _ "$SOCKCTL" "$LO" "$BATS_TEST_TMPDIR/err"
	[ "$output" = "waited y" ]
	[ "$(grep -c "connection from" "$BATS_TEST_TMPDIR/err")" -eq 33 ]
	! grep -q "EMFILE\|refused" "$BATS_TEST_TMPDIR/err"
}

@test "listen -k with stdin at EOF (/dev/null, a file): a client that sends EOF is closed at once" {
	for src in /dev/null /etc/hostname; do
		start_listen "$BATS_TEST_TMPDIR/err" -v -k "$LO" 0 <"$src" >/dev/null
		run -0 timeout 20 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.settimeout(10)
c.sendall(b"x")
c.shutdown(socket.SHUT_WR)
d = b""
while True:
    b = c.recv(65536)   # the rest of stdin, then our EOF: no timeout
    if not b:
        break
    d += b
print(len(d))' "$LO" "$PORT"
		kill "$LPID"
	done
}
