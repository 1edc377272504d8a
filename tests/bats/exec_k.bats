#!/usr/bin/env bats
# listen -k -e/-c with the program behind a relay process per client (-C, -o,
# --hex-dump, --delay), and -e/-c over TLS (listen --tls, listen -k --tls,
# connect --tls), against real peers: nc.openbsd, python3, openssl s_client
# and s_server.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}

# The bytes of FILE with each LF not after a CR made CRLF (what -C sends).
crlf_of() {
	python3 -c '
import re, sys
sys.stdout.buffer.write(re.sub(rb"(?<!\r)\n", b"\r\n", open(sys.argv[1], "rb").read()))' "$1"
}

# start_json_listen ERR ARGS...: sockctl listen --json ARGS in the background
# (stdin /dev/null); its port in $PORT, its pid in $LPID.
start_json_listen() {
	local err=$1
	shift
	: >"$err"
	"$SOCKCTL" listen --json "$@" </dev/null 2>"$err" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	PORT=$(listen_port "$err")
}

@test "exec -k: what stays refused is one line, status 2" {
	assert_usage_error "--delay, -o" "$SOCKCTL" listen -k --echo -o "$BATS_TEST_TMPDIR/log" 0
	assert_usage_error "seqpacket" "$SOCKCTL" listen -k --delay 1s --type seqpacket \
		-U "$BATS_TEST_TMPDIR/sock"
	assert_usage_error "--tls does not combine" "$SOCKCTL" listen -k --tls --broker -C 0
	[ ! -e "$BATS_TEST_TMPDIR/log" ]
}

@test "exec -k: -C -e /bin/cat, sha256 both ways at 0 B, 1 MiB, 32 MiB; CRLF only towards the client" {
	local t=$BATS_TEST_TMPDIR size
	start_json_listen "$t/err" -k -C -e /bin/cat "$LO" 0
	for size in 0 1048576 33554432; do
		head -c "$size" /dev/urandom >"$t/in.$size"
		timeout 60 nc.openbsd -N "$LO" "$PORT" <"$t/in.$size" >"$t/out.$size"
		[ "$(crlf_of "$t/in.$size" | sha256sum)" = "$(sha256sum <"$t/out.$size")" ]
	done
	wait_for 20 count_is 3 '"event":"exec"' "$t/err"
	# what the program read is exactly what each client sent (no CRLF that way)
	python3 - "$t/err" "$t" <<'PY'
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"exec"' in l]
got = sorted((e["bytes_in"], e["bytes_out"]) for e in evs)
want = []
for size in (0, 1048576, 33554432):
    want.append((size, os.path.getsize("%s/out.%d" % (sys.argv[2], size))))
assert got == sorted(want), (got, want)
assert all(e["status"] == 0 and "relay_error" not in e for e in evs), evs
PY
	# and byte for byte: a program that keeps what it reads
	start_json_listen "$t/err2" -k -C -c "cat >'$t/prog.in'" "$LO" 0
	timeout 60 nc.openbsd -N "$LO" "$PORT" <"$t/in.33554432" >/dev/null
	wait_for 20 grep -q '"event":"exec"' "$t/err2"
	[ "$(sha256sum <"$t/in.33554432")" = "$(sha256sum <"$t/prog.in")" ]
	kill -0 "$LPID" # -k: still serving
}

@test "exec -k: concurrent clients share -o and --hex-dump; every record names its client, whole and in order" {
	local t=$BATS_TEST_TMPDIR i
	start_json_listen "$t/err" -k -o "$t/log" --hex-dump "$t/hex" -e /bin/cat "$LO" 0
	local pids=()
	for i in 1 2 3 4; do
		head -c $((200000 + i * 1000)) /dev/urandom | base64 -w 76 >"$t/in.$i"
	done
	for i in 1 2 3 4; do
		# not bg's own redirection: a background job's stdin would be /dev/null
		bg sh -c 'exec timeout 60 nc.openbsd -N "$1" "$2" <"$3" >"$4"' sh "$LO" "$PORT" \
			"$t/in.$i" "$t/out.$i"
		pids+=("$BG_PID")
	done
	for i in 1 2 3 4; do
		wait_pid 60 "${pids[$((i - 1))]}"
		[ "$WAIT_STATUS" = 0 ]
		cmp "$t/in.$i" "$t/out.$i"
	done
	wait_for 60 count_is 4 '"event":"exec"' "$t/err"
	python3 - "$t" <<'PY'
import json, re, sys
t = sys.argv[1]
HEAD = re.compile(rb"([<>]) (\d+) (\d+) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\d+) (\S+)")
# the exec events: client id -> address:port, and bytes each way
evs = {e["id"]: e for e in (json.loads(l) for l in open(t + "/err") if '"event":"exec"' in l)}
assert len(evs) == 4, evs
# -o: header, raw bytes, "\n"; one client's records in order, offsets contiguous
log = open(t + "/log", "rb").read()
raw, i = {}, 0
while i < len(log):
    nl = log.index(b"\n", i)
    m = HEAD.fullmatch(log[i:nl])
    assert m, log[i:nl]
    d, off, n, cid, peer = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5)
    e = evs[cid]
    assert peer.decode() == "%s:%d" % (e["address"], e["port"]), (peer, e)
    buf = raw.setdefault((cid, d), bytearray())
    assert off == len(buf), (cid, d, off, len(buf))
    buf += log[nl + 1:nl + 1 + n]
    assert log[nl + 1 + n:nl + 2 + n] == b"\n"
    i = nl + 2 + n
# --hex-dump: the same records; each one's hex lines give back its bytes
hexd, cur = {}, None
for line in open(t + "/hex", "rb").read().split(b"\n"):
    m = HEAD.fullmatch(line)
    if m:
        cur = hexd.setdefault((int(m.group(4)), m.group(1)), bytearray())
        assert int(m.group(2)) == len(cur)
        continue
    if not line.strip():
        continue
    hx = line.split(b"|")[0].split()[1:]
    cur += bytes(int(x, 16) for x in hx)
assert hexd == raw, "the hex dump differs from the raw log"
# each client: what it sent ("<") and got back (">") are one input file, and
# the counts are those of its exec event
ins = {open("%s/in.%d" % (t, k), "rb").read() for k in (1, 2, 3, 4)}
seen = set()
for cid, e in evs.items():
    sent, back = bytes(raw[(cid, b"<")]), bytes(raw[(cid, b">")])
    assert sent == back and sent in ins, cid
    assert e["bytes_in"] == len(sent) and e["bytes_out"] == len(back), e
    seen.add(sent)
assert seen == ins
PY
}

@test "exec -k: --delay DUR waits after each line the program sends, per client (lower bound)" {
	start_json_listen "$BATS_TEST_TMPDIR/err" -k --delay 300ms -c 'printf "a\nb\nc\n"' "$LO" 0
	for i in 1 2; do
		bg python3 -c '
import socket, sys, time
t0 = time.monotonic()
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = c.recv(100)
    if not x: break
    d += x
assert d == b"a\nb\nc\n", d
# a delay after each of the first two lines at least
assert time.monotonic() - t0 >= 0.6, time.monotonic() - t0
open(sys.argv[3], "w").write("ok")' "$LO" "$PORT" "$BATS_TEST_TMPDIR/ok.$i"
	done
	wait_for 30 test -s "$BATS_TEST_TMPDIR/ok.1"
	wait_for 30 test -s "$BATS_TEST_TMPDIR/ok.2"
}

@test "exec tls: listen --tls -e /bin/cat with sockctl connect --tls (sha256) and openssl s_client" {
	local t=$BATS_TEST_TMPDIR
	head -c 1048576 /dev/urandom >"$t/in"
	start_listen "$t/err" --tls -e /bin/cat "$LO" 0 </dev/null
	timeout 30 "$SOCKCTL" connect --tls --no-verify "$LO" "$PORT" <"$t/in" >"$t/out" 2>/dev/null
	[ "$(sha256sum <"$t/in")" = "$(sha256sum <"$t/out")" ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q "tls TLSv1.3" "$t/err"
	grep -q "exited with status 0 .*(1048576 bytes in, 1048576 out)" "$t/err"
	# s_client: a line there, the same line back, then its close_notify
	start_listen "$t/err" --tls -e /bin/cat "$LO" 0 </dev/null
	coproc SC { exec timeout 20 openssl s_client -quiet -no_ign_eof -connect "$LO:$PORT" 2>/dev/null; }
	echo "$SC_PID" >>"$t/.pids"
	echo "hello over tls" >&"${SC[1]}"
	read -r -t 10 got <&"${SC[0]}"
	[ "$got" = "hello over tls" ]
	exec {SC[1]}>&-
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
}

@test "exec tls: listen -k --tls -e /bin/cat serves 5 concurrent clients (sha256 each)" {
	local t=$BATS_TEST_TMPDIR i
	start_json_listen "$t/err" -k --tls -e /bin/cat "$LO" 0
	for i in 1 2 3 4 5; do
		head -c $((1048576 + i)) /dev/urandom >"$t/in.$i"
		bg sh -c 'timeout 60 "$1" connect --tls --no-verify "$2" "$3" <"$4" >"$5" 2>/dev/null' \
			sh "$SOCKCTL" "$LO" "$PORT" "$t/in.$i" "$t/out.$i"
	done
	wait_for 60 count_is 5 '"event":"exec"' "$t/err"
	for i in 1 2 3 4 5; do
		[ "$(sha256sum <"$t/in.$i")" = "$(sha256sum <"$t/out.$i")" ]
	done
	[ "$(grep -c '"event":"tls"' "$t/err")" = 5 ]
	! grep -q relay_error "$t/err"
	kill -0 "$LPID"
}

@test "exec tls: half-close with sort both ways: listen --tls -e sort, connect --tls -e sort" {
	local t=$BATS_TEST_TMPDIR
	# the client's close_notify is sort's stdin EOF; its answer still comes back
	start_listen "$t/err" --tls -e sort "$LO" 0 </dev/null
	run -0 --separate-stderr timeout 10 "$SOCKCTL" connect --tls --no-verify "$LO" "$PORT" \
		< <(printf 'pear\napple\nfig\n')
	[ "$output" = "$(printf 'apple\nfig\npear')" ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	# connect -e sort: listen's stdin EOF (close_notify) ends sort's input
	printf 'b\nc\na\n' >"$t/words"
	start_listen "$t/err" --tls "$LO" 0 <"$t/words" >"$t/sorted"
	run -0 timeout 10 "$SOCKCTL" connect --tls --no-verify -e sort "$LO" "$PORT"
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$t/sorted")" = "$(printf 'a\nb\nc')" ]
}

@test "exec tls: connect --tls -e against openssl s_server -rev" {
	local t=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/k.pem" \
		-out "$t/c.pem" -days 2 -subj /CN=localhost 2>/dev/null
	bg openssl s_server -rev -accept "$LO:0" -naccept 1 -cert "$t/c.pem" -key "$t/k.pem" \
		</dev/null >/dev/null 2>&1
	port=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 10 "$SOCKCTL" connect --tls --ca "$t/c.pem" \
		--verify-name localhost -c 'echo hello; read -r l; echo "back: $l" >&2' "$LO" "$port"
	[[ $stderr == *"back: olleh"* ]]
}

@test "exec tls: the exit status: the program's, or 1 when the relay failed (truncation, reset)" {
	local t=$BATS_TEST_TMPDIR
	start_listen "$t/err" --tls -c 'cat >/dev/null; exit 7' "$LO" 0 </dev/null
	timeout 10 "$SOCKCTL" connect --tls --no-verify "$LO" "$PORT" </dev/null 2>/dev/null
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 7 ]
	start_listen "$t/err" --tls "$LO" 0 </dev/null
	run -5 timeout 10 "$SOCKCTL" connect --tls --no-verify -c 'exit 5' "$LO" "$PORT"
	# a client that ends with a bare FIN, no close_notify: a truncation, status 1
	start_listen "$t/err" --tls -c 'cat >/dev/null' "$LO" 0 </dev/null
	timeout 10 python3 -c '
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2]))))
s.sendall(b"some bytes\n")
s.shutdown(socket.SHUT_WR)  # drops TLS first: no close_notify
s.recv(10)' "$LO" "$PORT" || true
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 1 ]
	grep -q "without close_notify" "$t/err"
	# a client that resets while the program still sends: status 1, the counts said
	start_listen "$t/err" -C -c 'head -c 20000000 /dev/zero | tr "\0" "\n"' "$LO" 0 </dev/null
	timeout 10 python3 -c '
import socket, struct, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.recv(1000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()' "$LO" "$PORT"
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 1 ]
	grep -q "127[0-9.]*:[0-9]*: connection reset by peer after [0-9]* bytes sent" "$t/err"
	# under -k it is the client's exec event, never listen's status
	start_json_listen "$t/err" -k --tls -c 'cat >/dev/null; exit 3' "$LO" 0
	timeout 10 "$SOCKCTL" connect --tls --no-verify "$LO" "$PORT" </dev/null 2>/dev/null
	wait_for 10 grep -q '"event":"exec"' "$t/err"
	grep '"event":"exec"' "$t/err" | grep -q '"status":3'
	kill -0 "$LPID"
}

# k_clients N FIFO OUTDIR [DATA...]: python3 opens N clients to $LO:$PORT at
# once, then writes "a\nb\nc\n" into FIFO (listen's stdin) and closes it;
# client i sends DATA[i] (if given), shuts down its side and reads to EOF
# into OUTDIR/got.i.  OUTDIR/elapsed: seconds from the write to the last EOF.
k_clients() {
	bg python3 -c '
import os, socket, sys, time
n, fifo, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
host, port, data = sys.argv[4], int(sys.argv[5]), sys.argv[6:]
cs = [socket.create_connection((host, port)) for _ in range(n)]
w = os.open(fifo, os.O_WRONLY)
open(out + "/ready", "w").write("1")
time.sleep(0.5)  # not a race: the clients are in before stdin has a byte
t0 = time.monotonic()
os.write(w, b"a\nb\nc\n")
os.close(w)
for i, c in enumerate(cs):
    if i < len(data):
        c.sendall(data[i].encode())
    c.shutdown(socket.SHUT_WR)
for i, c in enumerate(cs):
    d = b""
    while True:
        x = c.recv(65536)
        if not x: break
        d += x
    open("%s/got.%d" % (out, i), "wb").write(d)
open(out + "/elapsed", "w").write("%.3f" % (time.monotonic() - t0))' "$1" "$2" "$3" "$LO" "$PORT" "${@:4}"
	KPID=$BG_PID
}

@test "listen -k (no -e): -o and --hex-dump log stdin's broadcast and every client's bytes, each named" {
	local t=$BATS_TEST_TMPDIR W
	mkfifo "$t/fifo"
	exec {W}<>"$t/fifo"
	# W keeps the FIFO open until the clients are in; nobody else may hold it
	start_listen "$t/err" -k -o "$t/log" --hex-dump "$t/hex" "$LO" 0 <"$t/fifo" >"$t/stdout" \
		{W}>&-
	k_clients 3 "$t/fifo" "$t" one two three {W}>&-
	wait_for 10 test -s "$t/ready"
	exec {W}>&-
	wait_pid 20 "$KPID"
	[ "$WAIT_STATUS" = 0 ]
	for i in 0 1 2; do [ "$(cat "$t/got.$i")" = "$(printf 'a\nb\nc')" ]; done
	wait_for 10 count_is 3 "closed" "$t/err"
	python3 - "$t" <<'PY'
import re, sys
t = sys.argv[1]
HEAD = re.compile(rb"([<>]) (\d+) (\d+) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\d+) (\S+)")
log, raw, i = open(t + "/log", "rb").read(), {}, 0
while i < len(log):
    nl = log.index(b"\n", i)
    m = HEAD.fullmatch(log[i:nl])
    assert m, log[i:nl]
    buf = raw.setdefault((int(m.group(4)), m.group(1)), bytearray())
    assert int(m.group(2)) == len(buf)
    n = int(m.group(3))
    buf += log[nl + 1:nl + 1 + n]
    i = nl + 2 + n
ids = sorted({k[0] for k in raw})
assert len(ids) == 3, raw
assert sorted(bytes(raw[(k, b"<")]) for k in ids) == [b"one", b"three", b"two"], raw
assert all(bytes(raw[(k, b">")]) == b"a\nb\nc\n" for k in ids), raw
hexd, cur = {}, None
for line in open(t + "/hex", "rb").read().split(b"\n"):
    m = HEAD.fullmatch(line)
    if m:
        cur = hexd.setdefault((int(m.group(4)), m.group(1)), bytearray())
    elif line.strip():
        cur += bytes(int(x, 16) for x in line.split(b"|")[0].split()[1:])
assert hexd == raw
PY
	# stdout has every client's bytes, whole
	[ "$(tr -d '\n' <"$t/stdout" | fold -w 100 | grep -o 'one\|two\|three' | sort | paste -sd,)" = "one,three,two" ]
}

@test "listen -k (no -e): --delay DUR paces stdin's broadcast, line by line (lower bound)" {
	local t=$BATS_TEST_TMPDIR W
	mkfifo "$t/fifo"
	exec {W}<>"$t/fifo"
	start_listen "$t/err" -k --delay 300ms "$LO" 0 <"$t/fifo" >/dev/null {W}>&-
	k_clients 2 "$t/fifo" "$t" {W}>&-
	wait_for 10 test -s "$t/ready"
	exec {W}>&-
	wait_pid 20 "$KPID"
	[ "$WAIT_STATUS" = 0 ]
	for i in 0 1; do [ "$(cat "$t/got.$i")" = "$(printf 'a\nb\nc')" ]; done
	# after a and after b: 600 ms at least before c is out
	python3 -c 'import sys; assert float(open(sys.argv[1]).read()) >= 0.6' "$t/elapsed"
}

@test "exec -k: the exec object behind the relay (bytes, relay_error) matches the schemas" {
	local t=$BATS_TEST_TMPDIR root
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	start_json_listen "$t/listen" -k -C -c 'head -c 20000000 /dev/zero | tr "\0" "\n"' "$LO" 0
	timeout 10 python3 -c '
import socket, struct, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.recv(1000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()' "$LO" "$PORT"
	wait_for 10 grep -q '"relay_error"' "$t/listen"
	run -0 /usr/bin/python3 "$root/tests/schema-check.py" --require listening,connection,exec \
		listen "$t/listen"
	start_listen "$t/err" --tls "$LO" 0 </dev/null
	timeout 10 "$SOCKCTL" connect --json --tls --no-verify -c 'echo hi' "$LO" "$PORT" \
		>/dev/null 2>"$t/connect"
	grep -q '"bytes_out":3' "$t/connect"
	run -0 /usr/bin/python3 "$root/tests/schema-check.py" --require connected,tls,exec \
		connect "$t/connect"
}

@test "exec -k: -m counts the relay processes; a client over the cap is reset, the held one still served" {
	local t=$BATS_TEST_TMPDIR
	start_json_listen "$t/err" -k -m 1 -C -c 'read -r l; echo "got $l"' "$LO" 0
	coproc A { exec timeout 20 nc.openbsd "$LO" "$PORT"; }
	echo "$A_PID" >>"$t/.pids"
	wait_for 10 grep -q '"id":1' "$t/err"
	run timeout 10 nc.openbsd "$LO" "$PORT" </dev/null
	wait_for 10 grep -q '"reason":"max-conns"' "$t/err"
	echo one >&"${A[1]}"
	read -r -t 10 got <&"${A[0]}"
	[ "$got" = $'got one\r' ]
	wait_for 10 grep -q '"event":"exec"' "$t/err"
	# its place is free again: the next client is served
	run -0 timeout 10 nc.openbsd -N "$LO" "$PORT" < <(echo two)
	[ "$output" = $'got two\r' ]
}

@test "exec tls: under -k a stalled handshake holds up nobody; it ends after --handshake-timeout" {
	local t=$BATS_TEST_TMPDIR
	start_json_listen "$t/err" -k --tls --handshake-timeout 1s -e /bin/cat "$LO" 0
	# a client that connects and never says a word
	bg python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
time.sleep(20)' "$LO" "$PORT"
	wait_for 10 grep -q '"id":1' "$t/err"
	run -0 --separate-stderr timeout 10 "$SOCKCTL" connect --tls --no-verify "$LO" "$PORT" \
		< <(echo served meanwhile)
	[ "$output" = "served meanwhile" ]
	# the silent one: its relay process gave up, the exec event says why
	wait_for 15 grep -q '"event":"exec","id":1,.*"error":' "$t/err"
	kill -0 "$LPID"
}
