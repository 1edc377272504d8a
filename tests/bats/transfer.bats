#!/usr/bin/env bats
# File transfers through the relay (issue 9 §1): no byte that a pipe still
# holds is dropped, whatever the sender, receiver and kinds of stdin.  The
# matrix itself lives in tests/transfer-matrix.sh (also `make
# transfer-matrix`); each @test runs one group of cells and prints its
# markdown table to fd 3 and to build/transfer-matrix.md.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

MATRIX="$BATS_TEST_DIRNAME/../transfer-matrix.sh"
TABLE="$BATS_TEST_DIRNAME/../../build/transfer-matrix.md"

# matrix GROUP: run the cells of GROUP; every row to fd 3 and the table file.
matrix() {
	mkdir -p "$(dirname "$TABLE")"
	if [ "$1" = main ]; then "$MATRIX" --header main; else "$MATRIX" "$1"; fi \
		>"$BATS_TEST_TMPDIR/rows" 2>"$BATS_TEST_TMPDIR/fails" && st=0 || st=$?
	if [ "$1" = main ]; then cat "$BATS_TEST_TMPDIR/rows" >"$TABLE"; else cat "$BATS_TEST_TMPDIR/rows" >>"$TABLE"; fi
	sed 's/^/# /' "$BATS_TEST_TMPDIR/rows" >&3
	cat "$BATS_TEST_TMPDIR/fails" >&2
	[ "$st" = 0 ]
	# every cell says so: no row may be missing its verdict
	! grep -q FAIL "$BATS_TEST_TMPDIR/rows"
}

@test "transfer matrix: sockctl <-> sockctl, both directions, every stdin kind, 0 B to 20 MiB" {
	matrix main
}

@test "transfer matrix: 256 MiB through a pipe and from a file, both directions" {
	matrix big
}

@test "transfer matrix: a producer that pauses 2 s mid-stream" {
	matrix slow
}

@test "transfer matrix: nc.openbsd and socat send, sockctl receives (every stdin kind)" {
	matrix peers-recv
}

@test "transfer matrix: sockctl sends, nc.openbsd and socat receive" {
	matrix peers-send
}

# pty CMD...: CMD with stdin on a pseudo-terminal that stays open and silent.
PTYRUN='import os, pty, subprocess, sys
m, s = pty.openpty()
sys.exit(subprocess.call(sys.argv[1:], stdin=s))'

@test "stdin a terminal: the peer's EOF ends connect at once, status 0" {
	bg sh -c "printf 'bye\n' | exec nc.openbsd -N -l 127.0.0.1 0"
	PORT=$(bound_port "$BG_PID")
	# the terminal stays open; connect must not wait for it
	run -0 --separate-stderr timeout 20 python3 -c "$PTYRUN" "$SOCKCTL" connect 127.0.0.1 "$PORT"
	[ "$output" = bye ]
	[ -z "$stderr" ]
}

@test "stdin a terminal: the client's EOF ends listen at once, status 0" {
	run -0 --separate-stderr timeout 20 python3 - "$SOCKCTL" "$PTYRUN" <<'PY'
import os, socket, subprocess, sys, time
sockctl, ptyrun = sys.argv[1], sys.argv[2]
p = subprocess.Popen([sys.executable, "-c", ptyrun, sockctl, "listen", "-v", "127.0.0.1", "0"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
line = p.stderr.readline().decode()
port = int(line.rsplit(":", 1)[1])
c = socket.create_connection(("127.0.0.1", port))
c.sendall(b"typed\n")
c.shutdown(socket.SHUT_WR)
print(p.stdout.read().decode().strip(), p.wait(timeout=10))
PY
	[ "$output" = "typed 0" ]
}

# A peer that reads MIB MiB, then resets the connection (SO_LINGER 0 with
# unread data); prints its port on stdout.
RESETTER='import socket, struct, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); n = 0; want = int(sys.argv[1]) << 20
while n < want:
    b = c.recv(65536)
    if not b: break
    n += len(b)
c.shutdown(socket.SHUT_WR)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()'

start_resetter() {
	bg python3 -c "$RESETTER" "$1" >"$BATS_TEST_TMPDIR/port"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/port"
	PORT=$(cat "$BATS_TEST_TMPDIR/port")
}

@test "the peer resets mid-transfer: status 1, and the bytes read from stdin and not delivered are counted" {
	head -c 20M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	for kind in pipe file; do
		start_resetter 1
		if [ $kind = pipe ]; then
			run -1 --separate-stderr timeout 30 bash -c "cat '$BATS_TEST_TMPDIR/in' | exec '$SOCKCTL' connect 127.0.0.1 $PORT"
		else
			run -1 --separate-stderr timeout 30 "$SOCKCTL" connect 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
		fi
		echo "$kind: $stderr"
		if [ $kind = file ] &&
			[[ $stderr =~ ^"sockctl connect: 127.0.0.1:$PORT: connection reset by peer after "([0-9]+)" bytes sent, 0 received"$ ]]; then
			# sendfile keeps no bytes of ours: when the reset finds
			# nothing in flight, every byte read was acknowledged (what
			# the peer's program read of them TCP cannot tell)
			[ "${BASH_REMATCH[1]}" -ge 1048576 ]
			continue
		fi
		[[ $stderr =~ ^"sockctl connect: 127.0.0.1:$PORT: connection reset by peer after "([0-9]+)" bytes sent; "([0-9]+)" bytes read from stdin were not delivered"$ ]]
		# the peer read 1 MiB; something read from stdin was lost, and said so
		[ "${BASH_REMATCH[1]}" -ge 1048576 ]
		[ "${BASH_REMATCH[2]}" -gt 0 ]
	done
}

@test "the client resets mid-transfer: listen exits 1 with the count, and says reset in JSON" {
	head -c 20M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	"$SOCKCTL" listen --json 127.0.0.1 0 <"$BATS_TEST_TMPDIR/in" 2>"$BATS_TEST_TMPDIR/err" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q listening "$BATS_TEST_TMPDIR/err"
	PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/err" | head -n1)
	run -0 timeout 20 python3 - "$PORT" <<'PY'
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
n = 0
while n < 1 << 20:
    n += len(c.recv(65536))
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
PY
	wait_pid 20 "$LPID"
	cat "$BATS_TEST_TMPDIR/err"
	[ "$WAIT_STATUS" = 1 ]
	grep -q '"event":"closed".*"reason":"reset","errno":"\(ECONNRESET\|EPIPE\)","undelivered":[1-9]' "$BATS_TEST_TMPDIR/err"
	grep -q "connection reset by peer after [0-9]* bytes sent; [1-9][0-9]* bytes read from stdin were not delivered" "$BATS_TEST_TMPDIR/err"
}

@test "--exit-on-peer-eof: the old rule; the notice counts what stdin had ready, and is silent otherwise" {
	# stdin a 20 MiB file and a peer that says hello, shuts down and reads
	# nothing for a while: what is left of the file is counted exactly
	head -c 20M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	bg python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.sendall(b"hello\n"); c.shutdown(socket.SHUT_WR)
time.sleep(1)
while c.recv(1 << 16): pass' >"$BATS_TEST_TMPDIR/port"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/port"
	PORT=$(cat "$BATS_TEST_TMPDIR/port")
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect --json --exit-on-peer-eof 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
	[ "$output" = hello ]
	sent=$(printf '%s\n' "$stderr" | sed -n 's/.*"event":"closed","sent":\([0-9]*\).*/\1/p')
	[ -n "$sent" ]
	# --json: the notice is a JSON warning too
	msg=$(printf '%s\n' "$stderr" | jq -r 'select(.event == "warning" and .command == "connect") | .message')
	[ "$msg" = "127.0.0.1:$PORT closed the connection before stdin ended: $((20971520 - sent)) bytes ready on stdin were not sent (--exit-on-peer-eof)" ]
	# stdin open but empty: nothing was left behind, so nothing is said
	bg sh -c "printf 'bye\n' | exec nc.openbsd -N -l 127.0.0.1 0"
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect --exit-on-peer-eof 127.0.0.1 $PORT < <(exec sleep 60)"
	[ "$output" = bye ]
	[ -z "$stderr" ]
}

@test "the peer's EOF does not stop stdin: a pipe still open is sent to its end (connect and listen)" {
	# the peer says hello and shuts down at once; stdin has more to come later
	bg python3 "$BATS_TEST_DIRNAME/peer.py" halfclose "$BATS_TEST_TMPDIR/ready" "$BATS_TEST_TMPDIR/got"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/ready"
	PORT=$(cat "$BATS_TEST_TMPDIR/ready")
	run -0 timeout 20 bash -c "{ printf first; sleep 1; printf second; } | exec '$SOCKCTL' connect 127.0.0.1 $PORT"
	[ "$output" = hello ]
	wait_for 10 test -s "$BATS_TEST_TMPDIR/got"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$(printf firstsecond | sha256sum | cut -d' ' -f1) 11" ]
}

@test "listen -k: a client's EOF does not stop the broadcast to it; it gets stdin to its end" {
	head -c 5M /dev/urandom >"$BATS_TEST_TMPDIR/in"
	want=$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1)
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$SOCKCTL" listen -k -v 127.0.0.1 0 <"$BATS_TEST_TMPDIR/fifo" 2>"$BATS_TEST_TMPDIR/err" >/dev/null &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	exec 7>"$BATS_TEST_TMPDIR/fifo"
	wait_for 10 grep -q listening "$BATS_TEST_TMPDIR/err"
	PORT=$(sed -n 's/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/err")
	python3 - "$PORT" >"$BATS_TEST_TMPDIR/sha" 7>&- <<'PY' &
import hashlib, socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.shutdown(socket.SHUT_WR)          # EOF at once: it still wants stdin
h = hashlib.sha256()
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b)
print(h.hexdigest())
PY
	CPID=$!
	echo "$CPID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "connection from" "$BATS_TEST_TMPDIR/err"
	cat "$BATS_TEST_TMPDIR/in" >&7
	exec 7>&-
	wait_pid 20 "$CPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/sha")" = "$want" ]
	wait_for 10 grep -q "closed 127.0.0.1:[0-9]*: 0 bytes in, 5242880 bytes out, .* (eof)" "$BATS_TEST_TMPDIR/err"
}

@test "--exit-on-peer-eof with --keep-sending or -d, or with listen -u/--echo: bad input" {
	assert_usage_error "--exit-on-peer-eof" "$SOCKCTL" connect --exit-on-peer-eof --keep-sending 127.0.0.1 9
	assert_usage_error "--exit-on-peer-eof" "$SOCKCTL" connect --exit-on-peer-eof -d 127.0.0.1 9
	assert_usage_error "--exit-on-peer-eof" "$SOCKCTL" listen --exit-on-peer-eof -u 0
	assert_usage_error "--exit-on-peer-eof" "$SOCKCTL" listen --exit-on-peer-eof --echo 0
	assert_usage_error "relay options do not apply" "$SOCKCTL" connect -z --exit-on-peer-eof 127.0.0.1 9
}
