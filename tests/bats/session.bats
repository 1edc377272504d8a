#!/usr/bin/env bats
# -C/--crlf, --delay, -o/--output and --hex-dump on connect and listen, against real peers.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}

# py_server SCRIPT: a python3 TCP server on $LO (port in $SPORT) running
# SCRIPT with the accepted socket as c and the output file name as out.
py_server() {
	bg python3 -c '
import socket, sys, os, time
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
c, _ = s.accept()
out = sys.argv[3]
exec(sys.argv[4])' "$LO" "$BATS_TEST_TMPDIR/sport" "$BATS_TEST_TMPDIR/srv.out" "$1"
	SPID=$BG_PID
	wait_for 10 test -s "$BATS_TEST_TMPDIR/sport"
	SPORT=$(cat "$BATS_TEST_TMPDIR/sport")
}

READ_ALL='
d = b""
while True:
    x = c.recv(65536)
    if not x: break
    d += x
'

@test "session: bad input is one line, status 2; an unwritable log is status 1 before connecting" {
	assert_usage_error "--delay, -o" "$SOCKCTL" listen -k --echo -o "$BATS_TEST_TMPDIR/log" 0
	assert_usage_error "--delay, -o" "$SOCKCTL" listen --forward 127.0.0.1:1 -o "$BATS_TEST_TMPDIR/log" 0
	assert_usage_error "--delay, -o" "$SOCKCTL" listen -u --hex-dump "$BATS_TEST_TMPDIR/log" 0
	assert_usage_error "-C/--crlf" "$SOCKCTL" listen --echo -C 0
	assert_usage_error "-C/--crlf" "$SOCKCTL" listen -u -C 0
	[ ! -e "$BATS_TEST_TMPDIR/log" ]
	assert_usage_error "-z/--scan" "$SOCKCTL" connect -z -C 127.0.0.1 1
	assert_usage_error "--delay" "$SOCKCTL" connect --delay 1x 127.0.0.1 1
	run -1 "$SOCKCTL" connect -o /nonexistent/dir/log 127.0.0.1 1
	[[ $output == *"-o /nonexistent/dir/log"* ]]
	[[ $output != *refused* ]]
}

@test "session: connect -C sends each LF as CRLF (one after a CR stays one) to a python3 server" {
	py_server "$READ_ALL"'
open(out, "wb").write(d)'
	printf 'HELO x\nMAIL\r\n\nEND' | timeout 10 "$SOCKCTL" connect -C "$LO" "$SPORT"
	wait_pid 10 "$SPID"
	[ "$(od -An -c "$BATS_TEST_TMPDIR/srv.out" | tr -s ' ')" = "$(printf 'HELO x\r\nMAIL\r\n\r\nEND' | od -An -c | tr -s ' ')" ]
}

@test "session: listen -C sends CRLF to an nc.openbsd client; the client's bytes are untouched" {
	start_listen "$BATS_TEST_TMPDIR/err" -C "$LO" 0 < <(printf 'a\nb\n') >"$BATS_TEST_TMPDIR/got"
	run -0 timeout 10 nc.openbsd -N "$LO" "$PORT" < <(printf 'x\ny\n')
	[ "$output" = "$(printf 'a\r\nb\r')" ]
	wait_pid 10 "$LPID"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$(printf 'x\ny')" ]
}

@test "session: listen -k -C sends stdin to every client with CRLF" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	# read-write: opening does not wait for a writer, and stdin never ends
	start_listen "$BATS_TEST_TMPDIR/err" -k -C "$LO" 0 <>"$BATS_TEST_TMPDIR/in" >/dev/null
	for who in a b; do
		bg timeout 20 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
d = b""
while d.count(b"\n") < 2:
    x = c.recv(100)
    if not x: break
    d += x
open(sys.argv[3], "w").write(repr(d))' "$LO" "$PORT" "$BATS_TEST_TMPDIR/got.$who"
	done
	wait_for 10 count_is 2 "connection from" "$BATS_TEST_TMPDIR/err"
	printf 'one\ntwo\r\n' >"$BATS_TEST_TMPDIR/in"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/got.a"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/got.b"
	[ "$(cat "$BATS_TEST_TMPDIR/got.a")" = "b'one\\r\\ntwo\\r\\n'" ]
	[ "$(cat "$BATS_TEST_TMPDIR/got.b")" = "b'one\\r\\ntwo\\r\\n'" ]
}

@test "session: --delay DUR waits between lines sent from stdin" {
	py_server "$READ_ALL"'
open(out, "w").write("%d\n" % len(d))
' 
	start=$(date +%s%N)
	printf 'one\ntwo\nthree\n' | timeout 20 "$SOCKCTL" connect --delay 300ms "$LO" "$SPORT"
	end=$(date +%s%N)
	wait_pid 10 "$SPID"
	[ "$(cat "$BATS_TEST_TMPDIR/srv.out")" = 14 ]
	# three lines, a delay after each of the first two at least: >= 600 ms
	[ $(((end - start) / 1000000)) -ge 600 ]
}

@test "session: -o logs both directions as they move; --hex-dump matches hexdump -C" {
	py_server "$READ_ALL"'
c.sendall(d.upper() + bytes(range(256)))
c.close()'
	head -c 3000 /dev/urandom | base64 -w 0 >"$BATS_TEST_TMPDIR/in"
	timeout 10 "$SOCKCTL" connect -o "$BATS_TEST_TMPDIR/log" --hex-dump "$BATS_TEST_TMPDIR/hex" \
		"$LO" "$SPORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	wait_pid 10 "$SPID"
	# the raw log parses back into exactly the bytes of each direction
	python3 "$BATS_TEST_DIRNAME/session_log.py" "$BATS_TEST_TMPDIR/log" "$BATS_TEST_TMPDIR/in" \
		"$BATS_TEST_TMPDIR/out"
	# the hex dump, its headers left out, is hexdump -C of each direction
	grep -v '^[<>] ' "$BATS_TEST_TMPDIR/hex" >"$BATS_TEST_TMPDIR/hex.body"
	{ hexdump -C "$BATS_TEST_TMPDIR/in" | sed '$d'; hexdump -C "$BATS_TEST_TMPDIR/out" | sed '$d'; } \
		| grep -v '^\*$' >"$BATS_TEST_TMPDIR/want"
	# hexdump -C folds repeated lines into '*': compare only lines it printed
	grep -Fxf "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/hex.body" | diff - "$BATS_TEST_TMPDIR/want"
}

@test "session: listen -e with -o goes through pipes: half-close both ways, log of both directions" {
	start_listen "$BATS_TEST_TMPDIR/err" -o "$BATS_TEST_TMPDIR/log" \
		-c "echo hi; exec 1>&-; cat >'$BATS_TEST_TMPDIR/prog.got'" "$LO" 0 </dev/null
	# the program's stdout EOF reaches the client, which sends after it
	run -0 timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
d = b""
while True:
    x = c.recv(100)
    if not x: break
    d += x
c.sendall(b"after your EOF\n")
c.shutdown(socket.SHUT_WR)
print(d.decode(), end="")
assert c.recv(10) == b""' "$LO" "$PORT"
	[ "$output" = hi ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/prog.got")" = "after your EOF" ]
	grep -q '^> 0 3 ' "$BATS_TEST_TMPDIR/log"
	grep -q '^< 0 15 ' "$BATS_TEST_TMPDIR/log"
	# and sort through the relay: its answer needs the client's EOF
	start_listen "$BATS_TEST_TMPDIR/err" -C -e sort "$LO" 0 </dev/null
	run -0 timeout 10 nc.openbsd -N "$LO" "$PORT" < <(printf 'pear\napple\n')
	[ "$output" = "$(printf 'apple\r\npear\r')" ]
}
