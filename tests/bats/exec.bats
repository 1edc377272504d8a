#!/usr/bin/env bats
# listen -e/-c and connect -e/-c: a program per connection, against real peers.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}

@test "exec: bad input is one line on stderr, status 2, nothing opened" {
	assert_usage_error "nosuchprog" "$SOCKCTL" listen -e 'nosuchprog -x' 0
	assert_usage_error "empty" "$SOCKCTL" listen -e '  ' 0
	assert_usage_error "exclude" "$SOCKCTL" listen -e cat -c cat 0
	assert_usage_error "-e/-c" "$SOCKCTL" listen -u -e cat 0
	assert_usage_error "-e/-c" "$SOCKCTL" listen --echo -e cat 0
	assert_usage_error "-e/-c" "$SOCKCTL" listen -q 1 -c cat 0
	assert_usage_error "-e/-c" "$SOCKCTL" connect -z -e cat 127.0.0.1 1
	assert_usage_error "nosuchprog" "$SOCKCTL" connect -e nosuchprog 127.0.0.1 1
}

@test "exec: listen -e sort answers after the client's EOF (half-close), status is the program's" {
	start_listen "$BATS_TEST_TMPDIR/err" -e sort "$LO" 0 </dev/null
	run -0 timeout 10 nc.openbsd -N "$LO" "$PORT" < <(printf 'pear\napple\nfig\n')
	[ "$output" = "$(printf 'apple\nfig\npear')" ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q "exited with status 0" "$BATS_TEST_TMPDIR/err"
}

@test "exec: without -k listen exits with the program's status (and 128+signal)" {
	start_listen "$BATS_TEST_TMPDIR/err" -c 'cat >/dev/null; exit 7' "$LO" 0 </dev/null
	timeout 10 nc.openbsd -N "$LO" "$PORT" </dev/null
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 7 ]
	start_listen "$BATS_TEST_TMPDIR/err" -c 'kill -TERM $$' "$LO" 0 </dev/null
	timeout 10 nc.openbsd -N "$LO" "$PORT" </dev/null || true
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 143 ]
	grep -q "killed by SIGTERM" "$BATS_TEST_TMPDIR/err"
}

@test "exec: environment names both ends; the child holds only fds 0-2 (no listener, no other client)" {
	start_listen "$BATS_TEST_TMPDIR/err" -k -c \
		'echo "$SOCKCTL_PEER_ADDR $SOCKCTL_PEER_PORT $SOCKCTL_LOCAL_ADDR $SOCKCTL_LOCAL_PORT"; ls /proc/self/fd | tr "\n" " "; echo; cat >/dev/null' \
		"$LO" 0 </dev/null
	# a first client stays connected while the second one looks
	coproc HOLD { exec timeout 20 nc.openbsd "$LO" "$PORT"; }
	echo "$HOLD_PID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "started pid" "$BATS_TEST_TMPDIR/err"
	run -0 timeout 10 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
me = s.getsockname()
s.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = s.recv(4096)
    if not x: break
    d += x
print(me[0], me[1])
print(d.decode(), end="")' "$LO" "$PORT"
	read -r myaddr myport <<<"${lines[0]}"
	[ "${lines[1]}" = "$myaddr $myport $LO $PORT" ]
	# ls lists 0 1 2 and its own directory fd 3, nothing else
	[ "${lines[2]}" = "0 1 2 3 " ]
	[ "$(grep -c "started pid" "$BATS_TEST_TMPDIR/err")" = 2 ]
}

@test "exec: -k runs one program per client concurrently, -m caps them, JSON exec events" {
	: >"$BATS_TEST_TMPDIR/err"
	"$SOCKCTL" listen -k -m 2 --json -c 'read -r l; echo "got $l"; exit 3' "$LO" 0 \
		</dev/null 2>"$BATS_TEST_TMPDIR/err" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	PORT=$(listen_port "$BATS_TEST_TMPDIR/err")
	# two clients held open (their programs wait for a line): a third is reset
	coproc A { exec timeout 20 nc.openbsd "$LO" "$PORT"; }
	echo "$A_PID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q '"id":1' "$BATS_TEST_TMPDIR/err"
	coproc B { exec timeout 20 nc.openbsd "$LO" "$PORT"; }
	echo "$B_PID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q '"id":2' "$BATS_TEST_TMPDIR/err"
	run timeout 10 nc.openbsd "$LO" "$PORT" </dev/null
	wait_for 10 grep -q '"reason":"max-conns"' "$BATS_TEST_TMPDIR/err"
	# the second client is served while the first still waits
	echo two >&"${B[1]}"
	read -r -t 10 got <&"${B[0]}"
	[ "$got" = "got two" ]
	echo one >&"${A[1]}"
	read -r -t 10 got <&"${A[0]}"
	[ "$got" = "got one" ]
	wait_for 10 count_is 2 '"event":"exec"' "$BATS_TEST_TMPDIR/err"
	grep '"event":"exec"' "$BATS_TEST_TMPDIR/err" | python3 -c '
import json, sys
for l in sys.stdin:
    ev = json.loads(l)
    assert ev["status"] == 3 and ev["pid"] > 0 and ev["duration_ms"] >= 0, ev
    assert "signal" not in ev and ev["address"], ev'
	# the programs status never becomes listens: it is still serving
	kill -0 "$LPID"
}

@test "exec: connect -e sort against python3, connect -c against ncat; the status is the program's" {
	bg python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
c, _ = s.accept(); c.sendall(b"b\na\nc\n"); c.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = c.recv(100)
    if not x: break
    d += x
open(sys.argv[3], "wb").write(d)' "$LO" "$BATS_TEST_TMPDIR/port" "$BATS_TEST_TMPDIR/got"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/port"
	run -0 timeout 10 "$SOCKCTL" connect -e sort "$LO" "$(cat "$BATS_TEST_TMPDIR/port")"
	wait_pid 10 "$BG_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$(printf 'a\nb\nc')" ]

	bg ncat -l "$LO" 0 -v --recv-only 2>"$BATS_TEST_TMPDIR/ncat.err" >"$BATS_TEST_TMPDIR/ncat.out"
	port=$(bound_port "$BG_PID")
	run -5 timeout 10 "$SOCKCTL" connect -c 'echo hi from $SOCKCTL_LOCAL_PORT; exit 5' "$LO" "$port"
	wait_pid 10 "$BG_PID"
	grep -q "^hi from [0-9]" "$BATS_TEST_TMPDIR/ncat.out"
}
