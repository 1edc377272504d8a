#!/usr/bin/env bats
# listen --forward: every client to its own outbound connection, against real peers.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}

# forwarder ARGS...: listen -k -v --forward ... in the background; FPID, FPORT.
forwarder() {
	start_listen "$BATS_TEST_TMPDIR/fwd.err" -k "$@" </dev/null
	FPID=$LPID
	FPORT=$PORT
}

@test "forward: bad input is one line on stderr, status 2, nothing opened" {
	assert_usage_error "--forward" "$SOCKCTL" listen -k --forward 127.0.0.1:1 --echo 0
	assert_usage_error "--forward" "$SOCKCTL" listen -k --forward 127.0.0.1:1 -e cat 0
	assert_usage_error "--forward" "$SOCKCTL" listen -k --forward 127.0.0.1:1 -U --type seqpacket /tmp/nosuch.sock
	assert_usage_error "--forward" "$SOCKCTL" listen --forward 127.0.0.1:1 -q 1 0
	assert_usage_error "--connect-timeout needs --forward" "$SOCKCTL" listen --connect-timeout 1s 0
	assert_usage_error "70000" "$SOCKCTL" listen -k --forward 127.0.0.1:70000 0
	assert_usage_error "port" "$SOCKCTL" listen -k --forward 127.0.0.1 0
}

@test "forward: sha256 both ways, 0 B to 64 MiB, nc.openbsd client, sockctl listen target" {
	forwarder_target() {
		: >"$BATS_TEST_TMPDIR/t.err"
		"$SOCKCTL" listen -v "$LO" 0 <"$BATS_TEST_TMPDIR/down" >"$BATS_TEST_TMPDIR/got.up" \
			2>"$BATS_TEST_TMPDIR/t.err" &
		TPID=$!
		echo "$TPID" >>"$BATS_TEST_TMPDIR/.pids"
		TPORT=$(listen_port "$BATS_TEST_TMPDIR/t.err")
	}
	for size in 0 1 65537 1048576 67108864; do
		head -c "$size" /dev/urandom >"$BATS_TEST_TMPDIR/up"
		head -c $((size / 2 + 3)) /dev/urandom >"$BATS_TEST_TMPDIR/down"
		forwarder_target
		forwarder --forward "$LO:$TPORT" "$LO" 0
		timeout 60 nc.openbsd -N "$LO" "$FPORT" <"$BATS_TEST_TMPDIR/up" >"$BATS_TEST_TMPDIR/got.down"
		wait_pid 30 "$TPID"
		[ "$WAIT_STATUS" = 0 ]
		[ "$(sha256sum <"$BATS_TEST_TMPDIR/up")" = "$(sha256sum <"$BATS_TEST_TMPDIR/got.up")" ]
		[ "$(sha256sum <"$BATS_TEST_TMPDIR/down")" = "$(sha256sum <"$BATS_TEST_TMPDIR/got.down")" ]
		wait_for 10 grep -q "forwarded .* $size bytes up, $((size / 2 + 3)) down" \
			"$BATS_TEST_TMPDIR/fwd.err"
		kill "$FPID"
	done
}

@test "forward: half-close both ways is carried (python3 peers, sort-like target)" {
	# the target answers only after the client's EOF, then closes
	bg python3 -c '
import socket, sys, os
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
for _ in range(2):
    c, _ = s.accept()
    if _ == 0: pass
    d = b""
    while True:
        x = c.recv(4096)
        if not x: break
        d += x
    c.sendall(b"".join(sorted(d.splitlines(True))))
    c.close()' "$LO" "$BATS_TEST_TMPDIR/tport"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/tport"
	forwarder --forward "$LO:$(cat "$BATS_TEST_TMPDIR/tport")" "$LO" 0
	run -0 timeout 10 nc.openbsd -N "$LO" "$FPORT" < <(printf 'pear\napple\nfig\n')
	[ "$output" = "$(printf 'apple\nfig\npear')" ]
	# the other way: the target's EOF reaches the client, which still sends after it
	run -0 timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.sendall(b"b\n")
c.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = c.recv(4096)
    if not x: break
    d += x
print(d.decode(), end="")' "$LO" "$FPORT"
	[ "$output" = "b" ]
}

@test "forward: the target's EOF first, the client keeps sending after it" {
	bg python3 -c '
import socket, sys, os
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
c, _ = s.accept()
c.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = c.recv(4096)
    if not x: break
    d += x
open(sys.argv[3], "wb").write(d)' "$LO" "$BATS_TEST_TMPDIR/tport" "$BATS_TEST_TMPDIR/got"
	SPID=$BG_PID
	wait_for 10 test -s "$BATS_TEST_TMPDIR/tport"
	tport=$(cat "$BATS_TEST_TMPDIR/tport")
	forwarder --forward "$LO:$tport" "$LO" 0
	# the target shuts its side at once; the client reads that EOF, then sends
	run -0 timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
assert c.recv(10) == b""
c.sendall(b"after the target EOF\n")
c.shutdown(socket.SHUT_WR)
c.settimeout(10)
assert c.recv(10) == b""' "$LO" "$FPORT"
	wait_pid 10 "$SPID"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "after the target EOF" ]
}

@test "forward: a refused target resets the client, says why, and the listener keeps serving (unix: target too)" {
	tport=$(closed_port)
	forwarder --forward "$LO:$tport" "$LO" 0
	run timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
try:
    d = c.recv(10)
    print("eof" if d == b"" else "data")
except ConnectionResetError:
    print("reset")' "$LO" "$FPORT"
	[ "$output" = reset ]
	wait_for 10 grep -q "forward failed: .*connection refused" "$BATS_TEST_TMPDIR/fwd.err"
	kill -0 "$FPID"
	run timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
try:
    print("eof" if c.recv(10) == b"" else "data")
except ConnectionResetError:
    print("reset")' "$LO" "$FPORT"
	[ "$output" = reset ]
	kill -0 "$FPID"
	kill "$FPID"
	# without -k the one client's failure is listen's: status 1, named
	start_listen "$BATS_TEST_TMPDIR/one.err" --forward "$LO:$tport" "$LO" 0 </dev/null
	timeout 10 nc.openbsd "$LO" "$PORT" </dev/null || true
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 1 ]
	grep -q "forward failed: .*connection refused (client " "$BATS_TEST_TMPDIR/one.err"
	# a Unix target: a socat server answers through the forwarder (ncat -c
	# would drop its answer at the client's early EOF: the bug we avoid)
	bg socat "UNIX-LISTEN:$BATS_TEST_TMPDIR/t.sock" SYSTEM:'echo from socat'
	wait_for 10 test -S "$BATS_TEST_TMPDIR/t.sock"
	forwarder --forward "unix:$BATS_TEST_TMPDIR/t.sock" "$LO" 0
	run -0 timeout 10 nc.openbsd -N "$LO" "$FPORT" </dev/null
	[ "$output" = "from socat" ]
}

@test "forward: --deny and -m turn clients away; JSON forward events name both ends, bytes, reason" {
	bg python3 -c '
import socket, sys, os
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    c, _ = s.accept()
    d = c.recv(100)
    c.sendall(d.upper())
    c.close()' "$LO" "$BATS_TEST_TMPDIR/tport"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/tport"
	tport=$(cat "$BATS_TEST_TMPDIR/tport")
	: >"$BATS_TEST_TMPDIR/j.err"
	"$SOCKCTL" listen -k -m 1 --json --forward "$LO:$tport" "$LO" 0 </dev/null \
		2>"$BATS_TEST_TMPDIR/j.err" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	port=$(listen_port "$BATS_TEST_TMPDIR/j.err")
	coproc HOLD { exec timeout 20 nc.openbsd "$LO" "$port"; }
	echo "$HOLD_PID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q '"event":"connection"' "$BATS_TEST_TMPDIR/j.err"
	timeout 10 nc.openbsd "$LO" "$port" </dev/null || true
	wait_for 10 grep -q '"reason":"max-conns"' "$BATS_TEST_TMPDIR/j.err"
	echo hello >&"${HOLD[1]}"
	read -r -t 10 got <&"${HOLD[0]}"
	[ "$got" = HELLO ]
	# the target closed: the pair ends with the client's EOF
	exec {HOLD[1]}>&-
	wait_for 10 grep -q '"event":"forward"' "$BATS_TEST_TMPDIR/j.err"
	grep '"event":"forward"' "$BATS_TEST_TMPDIR/j.err" | python3 -c '
import json, sys
ev = json.loads(sys.stdin.readline())
assert ev["bytes_up"] == 6 and ev["bytes_down"] == 6, ev
assert ev["target"] == "%s:%s" % (sys.argv[1], sys.argv[2]), ev
assert ev["address"].startswith("127.") and ev["port"] > 0 and ev["duration_ms"] >= 0, ev
assert ev["reason"] == "eof" and ev["id"] == 1, ev' "$LO" "$tport"
	forwarder --deny 127.0.0.0/8 --forward "$LO:$tport" "$LO" 0
	timeout 10 nc.openbsd "$LO" "$FPORT" </dev/null || true
	wait_for 10 grep -q "refused .*: denied" "$BATS_TEST_TMPDIR/fwd.err"
}

@test "forward: -u, one outbound socket per client address, expired after --idle-timeout" {
	bg python3 -c '
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0))
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d.upper() + (" via %d" % a[1]).encode(), a)' "$LO" "$BATS_TEST_TMPDIR/tport"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/tport"
	: >"$BATS_TEST_TMPDIR/j.err"
	"$SOCKCTL" listen -u -k --json --idle-timeout 1s --forward "$LO:$(cat "$BATS_TEST_TMPDIR/tport")" \
		"$LO" 0 </dev/null 2>"$BATS_TEST_TMPDIR/j.err" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	port=$(listen_port "$BATS_TEST_TMPDIR/j.err")
	run -0 timeout 10 python3 -c '
import socket, sys
p = (sys.argv[1], int(sys.argv[2]))
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.settimeout(5)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.settimeout(5)
a.sendto(b"one", p); r1 = a.recv(100)
b.sendto(b"two", p); r2 = b.recv(100)
a.sendto(b"three", p); r3 = a.recv(100)
via = lambda r: r.split(b" via ")[1]
assert r1.startswith(b"ONE") and r2.startswith(b"TWO") and r3.startswith(b"THREE"), (r1, r2, r3)
# each client address has its own outbound socket, kept between datagrams
assert via(r1) == via(r3) and via(r1) != via(r2), (r1, r2, r3)
print("ok")' "$LO" "$port"
	[ "$output" = ok ]
	wait_for 10 count_is 2 '"event":"forward"' "$BATS_TEST_TMPDIR/j.err"
	grep '"event":"forward"' "$BATS_TEST_TMPDIR/j.err" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
ups = sorted(e["bytes_up"] for e in evs)
assert ups == [3, 8], evs
assert all(e["reason"] == "idle-timeout" and e["duration_ms"] >= 1000 for e in evs), evs'
}

@test "forward: a target that never answers stalls nobody: other clients are accepted meanwhile; --connect-timeout resets it" {
	# a listener whose queue is full: SYNs to it are dropped, connects hang
	bg python3 -c '
import socket, sys, os, time
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(0)
held = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    held.append(c)
time.sleep(0.5)
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(120)' "$LO" "$BATS_TEST_TMPDIR/tport"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/tport"
	forwarder --connect-timeout 4s --forward "$LO:$(cat "$BATS_TEST_TMPDIR/tport")" "$LO" 0
	bg timeout 30 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
try:
    print("eof" if c.recv(10) == b"" else "data")
except ConnectionResetError:
    print("reset")' "$LO" "$FPORT" >"$BATS_TEST_TMPDIR/a.out"
	wait_for 10 count_is 1 "connection from" "$BATS_TEST_TMPDIR/fwd.err"
	# while the first client's target is being connected, a second is accepted
	timeout 10 nc.openbsd -w 1 "$LO" "$FPORT" </dev/null >/dev/null 2>&1 &
	wait_for 10 count_is 2 "connection from" "$BATS_TEST_TMPDIR/fwd.err"
	wait_for 20 grep -q . "$BATS_TEST_TMPDIR/a.out"
	[ "$(cat "$BATS_TEST_TMPDIR/a.out")" = reset ]
	wait_for 10 grep -q "forward failed: .*timed out after 4.0s" "$BATS_TEST_TMPDIR/fwd.err"
	# the second connection came in before the first one's connect gave up
	first_fail=$(grep -n "forward failed" "$BATS_TEST_TMPDIR/fwd.err" | head -n1 | cut -d: -f1)
	second=$(grep -n "connection from" "$BATS_TEST_TMPDIR/fwd.err" | sed -n 2p | cut -d: -f1)
	[ "$second" -lt "$first_fail" ]
	kill -0 "$FPID"
}
