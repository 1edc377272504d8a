#!/usr/bin/env bats
# Hostile peers (issue 13): each a mode of hostile.py on loopback (or in a
# namespace for ICMP), each bounded in time.  Against each, the command must
# end within its time bound and its memory bound (peak RSS, VmHWM, from
# /usr/bin/time), with one line of error and status 1 where it fails, and
# never crash.
load helper

teardown() { common_teardown; }

HOSTILE="$BATS_TEST_DIRNAME/hostile.py"
# peak RSS allowed, in KiB: the relay's buffers are fixed, whatever the peer
RSS_MAX=32768

# peer MODE ARGS...: start hostile.py MODE, wait for its port in $PEER
peer() {
	local f="$BATS_TEST_TMPDIR/peer.port"
	rm -f "$f"
	bg timeout 120 python3 "$HOSTILE" "$@" --port-file "$f" >"$BATS_TEST_TMPDIR/peer.out" \
		2>"$BATS_TEST_TMPDIR/peer.err"
	PEER_PID=$BG_PID
	wait_for 10 test -s "$f" || { echo "peer $1 gave no port" >&2; return 1; }
	PEER=$(cat "$f")
}

# bounded SECONDS CMD...: run CMD with stdin as given, stdout to out, stderr
# to err; its status in $ST, peak RSS (KiB) in $RSS.  Fails if it had to be
# killed for time, or died by a signal (a crash), or went over RSS_MAX.
bounded() {
	local secs=$1
	shift
	ST=0
	timeout -k 5 "$secs" /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" "$@" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || ST=$?
	RSS=$(tail -1 "$BATS_TEST_TMPDIR/rss")
	echo "status $ST, peak RSS ${RSS} KiB; stderr:"
	cat "$BATS_TEST_TMPDIR/err"
	[ "$ST" -ne 124 ] && [ "$ST" -ne 137 ] || { echo "not done in ${secs}s"; return 1; }
	[ "$ST" -lt 128 ] || { echo "killed by signal $((ST - 128))"; return 1; }
	grep -q 'Command terminated by signal' "$BATS_TEST_TMPDIR/rss" && return 1
	[[ $RSS =~ ^[0-9]+$ ]] && [ "$RSS" -le "$RSS_MAX" ]
}

# one_error WORDS: stderr is exactly one line, naming WORDS (a regex)
one_error() {
	[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ] && grep -Eq "$1" "$BATS_TEST_TMPDIR/err"
}

@test "hostile: a peer that keeps a zero window: connect times out idle, one line, status 1" {
	peer zero-window --limit 60
	bounded 30 "$SOCKCTL" connect -w 2 127.0.0.1 "$PEER" </dev/zero
	[ "$ST" -eq 1 ]
	one_error 'timed out|timeout|idle'
	one_error 'not delivered|undelivered|[0-9]+ bytes'
}

@test "hostile: a peer that sends one byte a second: every byte arrives, memory bounded" {
	peer slow --bytes 4 --limit 30
	bounded 30 "$SOCKCTL" connect -d -w 5 127.0.0.1 "$PEER" </dev/null
	[ "$ST" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = xxxx ]
}

@test "hostile: one byte a second to listen -k --echo does not hold up another client" {
	local err="$BATS_TEST_TMPDIR/l.err"
	start_listen "$err" -k --echo 127.0.0.1 0 </dev/null
	# the slow client: a byte a second, for 20 s at most
	bg timeout 20 python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for _ in range(20):
    c.send(b"s"); time.sleep(1)' "$PORT"
	sleep 0.5
	# meanwhile others are served, each at once
	local i
	for i in 1 2 3 4 5; do
		[ "$(echo "fast $i" | timeout 5 nc -N 127.0.0.1 "$PORT")" = "fast $i" ]
	done
	kill -0 "$LPID"
	local hwm
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$LPID/status")
	[ "$hwm" -le "$RSS_MAX" ]
}

@test "hostile: a peer that resets mid-stream: one line naming the reset, status 1" {
	peer reset --limit 30
	bounded 30 "$SOCKCTL" connect -w 10 127.0.0.1 "$PEER" < <(
		echo hello
		sleep 2
		head -c 1000000 /dev/zero
	)
	[ "$ST" -eq 1 ]
	one_error 'reset|ECONNRESET'
	grep -q 'partial reply' "$BATS_TEST_TMPDIR/out"
}

@test "hostile: a peer that sends 2 GiB without reading: no deadlock, all of it counted" {
	# we send 64 MiB it does not read until its 2 GiB are out: a relay that
	# stopped reading while its own writes are blocked would deadlock
	peer flood --bytes $((2 << 30)) --limit 100
	bounded 100 "$SOCKCTL" connect -v -w 30 127.0.0.1 "$PEER" \
		< <(head -c $((64 << 20)) /dev/zero)
	[ "$ST" -eq 0 ]
	grep -q "$((64 << 20)) bytes sent, $((2 << 30)) received" "$BATS_TEST_TMPDIR/err"
	wait_pid 30 "$PEER_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/peer.out")" = $((64 << 20)) ]
}

@test "hostile: a Unix peer that passes fds nobody asked for: none stays open" {
	local sock="$BATS_TEST_TMPDIR/h.sock" f="$BATS_TEST_TMPDIR/fds.sent"
	: >"$BATS_TEST_TMPDIR/passed-fd"
	bg timeout 60 python3 "$HOSTILE" fds --unix "$sock" --port-file "$f" --limit 30 \
		--pass "$BATS_TEST_TMPDIR/passed-fd"
	wait_for 10 test -S "$sock"
	bg "$SOCKCTL" connect -d -U "$sock" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	local pid=$BG_PID
	wait_for 20 test -s "$f"
	# 200 messages x 16 fds of that file were sent: none may be open here
	! ls -l "/proc/$pid/fd" | grep -q passed-fd || { ls -l "/proc/$pid/fd"; return 1; }
	wait_pid 20 "$pid"
	[ "$WAIT_STATUS" -eq 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 200 ]
}

@test "hostile: a Unix client that passes fds to listen -U: none stays open" {
	local sock="$BATS_TEST_TMPDIR/l.sock" err="$BATS_TEST_TMPDIR/l.err"
	: >"$BATS_TEST_TMPDIR/passed-fd"
	start_listen "$err" -d -U "$sock" >"$BATS_TEST_TMPDIR/out" </dev/null
	bg timeout 30 python3 -c '
import os, socket, struct, sys, time
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
extra = [os.open(sys.argv[3], os.O_RDONLY) for _ in range(16)]
r = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("16i", *extra))]
for i in range(200):
    c.sendmsg([b"line %d\n" % i], r)
open(sys.argv[2], "w").write("sent\n")
time.sleep(2)' "$sock" "$BATS_TEST_TMPDIR/sent" "$BATS_TEST_TMPDIR/passed-fd"
	wait_for 20 test -s "$BATS_TEST_TMPDIR/sent"
	sleep 0.3
	! ls -l "/proc/$LPID/fd" | grep -q passed-fd ||
		{ ls -l "/proc/$LPID/fd"; return 1; }
	wait_pid 20 "$LPID"
	[ "$WAIT_STATUS" -eq 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 200 ]
}

@test "hostile: ICMP replies wrong in every field: raw-icmp counts none, status 1, no crash" {
	ns_add a
	ns_add b
	ns_link a b 198.18.13.1/24 198.18.13.2/24
	# b's kernel stays quiet: only the hostile script answers
	in_ns b sysctl -qw net.ipv4.icmp_echo_ignore_all=1
	in_ns a sysctl -qw net.ipv4.ping_group_range="0 0"
	local f="$BATS_TEST_TMPDIR/icmp.ready"
	bg in_ns b timeout 60 python3 "$HOSTILE" icmp --port-file "$f" --limit 40
	wait_for 10 test -s "$f"
	bounded 30 ip netns exec "$(ns a)" "$SOCKCTL" raw-icmp --mode raw -c 4 -i 0.2 -W 1 198.18.13.2
	[ "$ST" -eq 1 ]
	grep -q '4 packets transmitted, 0 received' "$BATS_TEST_TMPDIR/out"
	grep -q 'bad checksums' "$BATS_TEST_TMPDIR/out"
	# the datagram socket too (the kernel matches the id there)
	bounded 30 ip netns exec "$(ns a)" "$SOCKCTL" raw-icmp --mode dgram -c 3 -i 0.2 -W 1 198.18.13.2
	[ "$ST" -eq 1 ]
	grep -q '3 packets transmitted, 0 received' "$BATS_TEST_TMPDIR/out"
}

@test "hostile: ICMP replies with odd code, size and payload: raw-icmp reports them, no crash" {
	ns_add a
	ns_add b
	ns_link a b 198.18.13.1/24 198.18.13.2/24
	in_ns b sysctl -qw net.ipv4.icmp_echo_ignore_all=1
	local f="$BATS_TEST_TMPDIR/icmp.ready"
	bg in_ns b timeout 60 python3 "$HOSTILE" icmp --odd --port-file "$f" --limit 40
	wait_for 10 test -s "$f"
	bounded 30 ip netns exec "$(ns a)" "$SOCKCTL" raw-icmp -v --mode raw -c 4 -i 0.2 -W 1 \
		198.18.13.2
	[ "$ST" -eq 0 ]
	grep -q '4 packets transmitted, 4 received, +[0-9]* duplicates' "$BATS_TEST_TMPDIR/out"
	grep -q 'payload bytes differ from what was sent' "$BATS_TEST_TMPDIR/err"
}

# a self-signed P-256 certificate for localhost in $C/$K, and $BIG: it and 300
# copies of it behind, a 180 KiB chain (OpenSSL's clients take 100 KiB)
tls_pki() {
	C=$BATS_TEST_TMPDIR/c.pem K=$BATS_TEST_TMPDIR/k.pem BIG=$BATS_TEST_TMPDIR/big.pem
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K" \
		-out "$C" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
	for _ in $(seq 301); do cat "$C"; done >"$BIG"
}

@test "hostile: a TLS server that sends a 180 KiB certificate chain: one line, status 1, memory bounded" {
	tls_pki
	local f="$BATS_TEST_TMPDIR/tls.port"
	bg timeout 60 python3 "$BATS_TEST_DIRNAME/tls_peer.py" notify "$f" "$BIG" "$K" hello
	wait_for 10 test -s "$f"
	bounded 30 "$SOCKCTL" connect --tls --ca "$C" localhost "$(cat "$f")" </dev/null
	[ "$ST" -eq 1 ]
	one_error 'TLS handshake failed: excessive message size'
}

@test "hostile: a TLS server that gives up mid-handshake: one line, status 1, never a silent SIGPIPE" {
	tls_pki
	# s_server cannot send that chain: it drops the connection after its ServerHello
	bg timeout 60 openssl s_server -accept 127.0.0.1:0 -naccept 1 -cert "$C" -key "$K" \
		-cert_chain "$BIG" </dev/null >"$BATS_TEST_TMPDIR/s_server.out" 2>&1
	wait_for 10 grep -q '^ACCEPT' "$BATS_TEST_TMPDIR/s_server.out"
	bounded 30 "$SOCKCTL" connect --tls --ca "$C" localhost \
		"$(sed -n 's/^ACCEPT .*://p' "$BATS_TEST_TMPDIR/s_server.out")" </dev/null
	[ "$ST" -eq 1 ]
	one_error 'TLS handshake failed'
}
