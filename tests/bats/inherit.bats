#!/usr/bin/env bats
# listen --type seqpacket.
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

SEQ="$BATS_TEST_DIRNAME/seqpacket.py"

# ---- listen --type seqpacket ----

@test "listen --type seqpacket: message boundaries and sha256 both ways, python3 client" {
	run -0 timeout 60 python3 "$SEQ" relay "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock" python
	[ ! -e "$BATS_TEST_TMPDIR/s.sock" ]
	grep -q "closed unix:(unnamed): 335642 bytes in, 61005 bytes out" "$BATS_TEST_TMPDIR/listen.err"
}

@test "listen --type seqpacket: boundaries kept with sockctl connect --type seqpacket as the client" {
	run -0 timeout 60 python3 "$SEQ" relay "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock" sockctl
}

@test "listen -k --type seqpacket: two clients, each message whole on stdout; stdin to both" {
	run -0 timeout 60 python3 "$SEQ" keep "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock"
}

@test "listen --echo --type seqpacket: each message back whole, with and without -k" {
	run -0 timeout 60 python3 "$SEQ" echo "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock"
	rm -f "$BATS_TEST_TMPDIR/s.sock"
	run -0 timeout 60 python3 "$SEQ" echo "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock" -k
}

@test "listen --type: bad input is one line, status 2" {
	assert_usage_error "--type" "$SOCKCTL" listen --type seqpacket 127.0.0.1 0
	assert_usage_error "--type" "$SOCKCTL" listen --type raw -U "$BATS_TEST_TMPDIR/x.sock"
	assert_usage_error "--type" "$SOCKCTL" listen -u --type dgram -U "$BATS_TEST_TMPDIR/x.sock"
	assert_usage_error "--backlog" "$SOCKCTL" listen --type dgram --backlog 3 -U "$BATS_TEST_TMPDIR/x.sock"
	[ ! -e "$BATS_TEST_TMPDIR/x.sock" ]
}

@test "listen --type dgram is -u on a Unix socket" {
	sock=$BATS_TEST_TMPDIR/d.sock
	"$SOCKCTL" listen -v --type dgram -U "$sock" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 test -S "$sock"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"dgram!", sys.argv[1])' "$sock"
	wait_for 10 grep -q 'dgram!' "$BATS_TEST_TMPDIR/out"
}
