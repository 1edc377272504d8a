#!/usr/bin/env bats
# listen -k --broker and --chat: every client's bytes to every other client.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}

@test "broker: bad input is one line on stderr, status 2" {
	assert_usage_error "--broker and --chat need -k" "$SOCKCTL" listen --broker 0
	assert_usage_error "--broker and --chat need -k" "$SOCKCTL" listen -k -u --chat 0
	assert_usage_error "--broker and --chat need -k" "$SOCKCTL" listen -k --echo --broker 0
	assert_usage_error "--broker and --chat need -k" "$SOCKCTL" listen -k -e cat --broker 0
}

@test "broker: each client's bytes reach every other client whole (sha256), never itself" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --broker "$LO" 0 </dev/null >"$BATS_TEST_TMPDIR/stdout"
	head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	run -0 timeout 30 python3 - "$LO" "$PORT" "$BATS_TEST_TMPDIR/blob" <<'PY'
import hashlib, socket, sys, threading, time
addr = (sys.argv[1], int(sys.argv[2]))
blob = open(sys.argv[3], "rb").read()
socks = []
for i in range(3):
    socks.append(socket.create_connection(addr))
    time.sleep(0.2)
got = [b"", b"", b""]
def reader(i, want):
    s = socks[i]
    s.settimeout(20)
    while len(got[i]) < want:
        x = s.recv(65536)
        if not x: break
        got[i] += x
# client 0 sends the blob, clients 1 and 2 get it; then 2 says hello to 0 and 1
t = [threading.Thread(target=reader, args=(i, len(blob))) for i in (1, 2)]
for x in t: x.start()
socks[0].sendall(blob)
for x in t: x.join()
assert got[1] == blob and got[2] == blob, (len(got[1]), len(got[2]))
socks[2].sendall(b"hello from 2\n")
t = [threading.Thread(target=reader, args=(i, 13)) for i in (0,)]
for x in t: x.start()
for x in t: x.join()
socks[1].settimeout(5)
one = socks[1].recv(100)
assert got[0] == b"hello from 2\n", got[0]
assert one == b"hello from 2\n", one
# the sender never hears itself
socks[2].settimeout(0.5)
try:
    extra = socks[2].recv(100)
except socket.timeout:
    extra = b""
assert extra == b"", extra
print(hashlib.sha256(got[1]).hexdigest() == hashlib.sha256(blob).hexdigest())
PY
	[ "$output" = True ]
	# listen's stdout saw everything, as one more participant
	[ "$(head -c 1048576 "$BATS_TEST_TMPDIR/stdout" | sha256sum)" = "$(sha256sum <"$BATS_TEST_TMPDIR/blob")" ]
}

@test "broker: --chat prefixes lines with the sender, drops control characters, announces; nc.openbsd and ncat clients" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --chat "$LO" 0 </dev/null >/dev/null
	coproc A { exec timeout 20 nc.openbsd "$LO" "$PORT"; }
	echo "$A_PID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "connection from" "$BATS_TEST_TMPDIR/err"
	coproc B { exec timeout 20 ncat "$LO" "$PORT"; }
	echo "$B_PID" >>"$BATS_TEST_TMPDIR/.pids"
	read -r -t 10 line <&"${A[0]}"
	[ "$line" = "<announce> user2 joined" ]
	printf 'hi\033[31m there\a\n' >&"${A[1]}"
	read -r -t 10 line <&"${B[0]}"
	[ "$line" = "<user1> hi[31m there" ]
	printf 'two\nlines\n' >&"${B[1]}"
	read -r -t 10 l1 <&"${A[0]}"
	read -r -t 10 l2 <&"${A[0]}"
	[ "$l1" = "<user2> two" ]
	[ "$l2" = "<user2> lines" ]
	exec {B[1]}>&-
	read -r -t 10 line <&"${A[0]}"
	[ "$line" = "<announce> user2 left" ]
}
