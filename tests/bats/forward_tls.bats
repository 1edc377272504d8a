#!/usr/bin/env bats
# listen --forward with TLS on a leg: --tls (termination, the clients speak TLS
# to us), --forward-tls (we speak TLS to the target), both; against real TLS
# peers (openssl s_client and s_server, python's ssl module, sockctl's own).
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

PEER="$BATS_TEST_DIRNAME/tls_peer.py"

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export PKI=$d
	cd "$d" || return 1
	key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
	key ca.key
	openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj /CN=sockctl-fwd-CA 2>/dev/null
	leaf() { # leaf NAME CN SAN
		key "$1.key"
		openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
		printf 'subjectAltName=%s\n' "$3" >"$1.ext"
		openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out "$1.pem" -days 5 -extfile "$1.ext" 2>/dev/null
	}
	leaf srv localhost "DNS:localhost,IP:127.0.0.1"
	leaf wrong wrong.example "DNS:wrong.example"
	key self.key
	openssl req -x509 -new -key self.key -out self.pem -days 5 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost 2>/dev/null
	[ -s srv.pem ] && [ -s wrong.pem ] && [ -s self.pem ]
}

# forwarder ARGS...: listen -k -v ARGS 127.0.0.1 0 in the background; FPID, FPORT, $T/fwd.err.
forwarder() {
	start_listen "$BATS_TEST_TMPDIR/fwd.err" -k "$@" 127.0.0.1 0 </dev/null
	FPID=$LPID
	FPORT=$PORT
}

# target [ARGS...]: one-client sockctl listen -v ARGS 127.0.0.1 0, stdin $T/down,
# stdout $T/got.up; TPID, TPORT.
target() {
	local t=$BATS_TEST_TMPDIR
	start_listen "$t/t.err" "$@" 127.0.0.1 0 <"$t/down" >"$t/got.up"
	TPID=$LPID
	TPORT=$PORT
}

# py_peer MODE ARGS...: tls_peer.py serving one client with srv.pem; TPORT, PEER_PID.
py_peer() {
	local mode=$1 ready="$BATS_TEST_TMPDIR/ready.$RANDOM"
	shift
	bg python3 "$PEER" "$mode" "$ready" "$PKI/srv.pem" "$PKI/srv.key" "$@"
	PEER_PID=$BG_PID
	wait_for 10 test -s "$ready" || return 1
	TPORT=$(cat "$ready")
}

# s_server CERT KEY: openssl s_server on 127.0.0.1 (stdin held open), its
# output in $T/s_server.out; TPORT.
s_server() {
	# not bg: a background job's stdin would be /dev/null, whose EOF ends
	# s_server's connection
	openssl s_server -accept 127.0.0.1:0 -quiet -cert "$1" -key "$2" \
		< <(sleep 60 3>&- 2>/dev/null) >"$BATS_TEST_TMPDIR/s_server.out" 2>&1 3>&- &
	echo "$!" >>"$BATS_TEST_TMPDIR/.pids"
	TPORT=$(bound_port "$!")
}

# data SIZE: $T/up (SIZE random bytes) and $T/down (SIZE/2+3).
data() {
	head -c "$1" /dev/urandom >"$BATS_TEST_TMPDIR/up"
	head -c $(($1 / 2 + 3)) /dev/urandom >"$BATS_TEST_TMPDIR/down"
}

# same_both: what went up and down arrived whole, and the target ended well.
same_both() {
	local t=$BATS_TEST_TMPDIR
	wait_pid 60 "$TPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(sha256sum <"$t/up")" = "$(sha256sum <"$t/got.up")" ]
	[ "$(sha256sum <"$t/down")" = "$(sha256sum <"$t/got.down")" ]
}

schema_check() { # schema_check FILE: the forward events match docs/sockctl-listen.schema.json
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/../schema-check.py" --require forward listen "$1"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "forward tls: bad input is one line on stderr, status 2" {
	assert_usage_error "--forward-tls needs --forward" "$SOCKCTL" listen --forward-tls 0
	assert_usage_error "need --forward-tls" "$SOCKCTL" listen -k --forward 127.0.0.1:1 \
		--forward-ca /etc/hosts 0
	assert_usage_error "need --forward-tls" "$SOCKCTL" listen -k --forward 127.0.0.1:1 \
		--forward-insecure 0
	assert_usage_error "--forward-tls needs a stream" "$SOCKCTL" listen -u --forward \
		127.0.0.1:1 --forward-tls 0
	assert_usage_error "--tls needs a stream socket" "$SOCKCTL" listen -u --forward 127.0.0.1:1 \
		--tls 0
	assert_usage_error "exclude each other" "$SOCKCTL" listen --forward 127.0.0.1:1 \
		--forward-tls --forward-ca /etc/hosts --forward-insecure 0
	assert_usage_error "--forward-sni" "$SOCKCTL" listen --forward unix:/tmp/nosuch.sock \
		--forward-tls 0
	# the one that is lifted: --tls --forward starts (and is stopped here)
	timeout 1 "$SOCKCTL" listen --tls --forward 127.0.0.1:1 127.0.0.1 0 </dev/null \
		2>"$BATS_TEST_TMPDIR/e" || [ $? = 124 ]
}

@test "forward tls: --tls termination, sha256 both ways at 0 B, 1 MiB, 64 MiB (sockctl connect --tls to a plain target)" {
	local t=$BATS_TEST_TMPDIR size
	for size in 0 1048576 67108864; do
		data "$size"
		target
		forwarder --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" --forward "127.0.0.1:$TPORT"
		timeout 60 "$SOCKCTL" connect -w 60 --tls --ca "$PKI/ca.pem" localhost "$FPORT" \
			<"$t/up" >"$t/got.down"
		same_both
		wait_for 10 grep -q "forwarded .* $size bytes up, $((size / 2 + 3)) down.*(eof)" \
			"$t/fwd.err"
		grep -q "client leg: TLSv1.3" "$t/fwd.err"
		# listen --tls's own handshake line, as without --forward
		grep -q "listen: tls TLSv1.3" "$t/fwd.err"
		kill "$FPID"
	done
}

@test "forward tls: --tls termination with openssl s_client and python's ssl client; JSON tls and forward events" {
	local t=$BATS_TEST_TMPDIR
	printf 'from the target\n' >"$t/down"
	target
	start_listen "$t/fwd.json" -k --json --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" \
		--forward "127.0.0.1:$TPORT" 127.0.0.1 0 </dev/null
	FPID=$LPID
	run -0 timeout 20 python3 "$PEER" client "$PORT" "$PKI/ca.pem" "python says hi"
	[ "$output" = "from the target" ]
	wait_pid 20 "$TPID"
	[ "$(cat "$t/got.up")" = "python says hi" ]
	wait_for 10 grep -q '"event":"forward".*"bytes_up":14,"bytes_down":16' "$t/fwd.json"
	grep -q '"event":"tls".*"version":"TLSv1.3"' "$t/fwd.json"
	grep '"event":"forward"' "$t/fwd.json" | grep -q '"client_tls_version":"TLSv1.3"'
	# s_client verifies our certificate and reads what the target sends, to
	# the close_notify that the target's FIN became (it sends nothing itself:
	# with bytes on stdin it races its own close against the server's)
	printf 'more from the target\n' >"$t/down"
	target
	kill "$FPID"
	start_listen "$t/fwd.json" -k --json --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" \
		--forward "127.0.0.1:$TPORT" 127.0.0.1 0 </dev/null
	timeout 20 openssl s_client -ign_eof -connect "127.0.0.1:$PORT" -CAfile "$PKI/ca.pem" \
		-verify_return_error -servername localhost </dev/null >"$t/s.out" 2>&1
	wait_pid 20 "$TPID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q "Verification: OK" "$t/s.out"
	grep -qx "more from the target" "$t/s.out"
	wait_for 10 grep -q '"event":"forward"' "$t/fwd.json"
	schema_check "$t/fwd.json"
}

@test "forward tls: --forward-tls, sha256 both ways at 0 B, 1 MiB, 64 MiB (nc.openbsd to sockctl listen --tls, verified)" {
	local t=$BATS_TEST_TMPDIR size
	for size in 0 1048576 67108864; do
		data "$size"
		target --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key"
		forwarder --forward "localhost:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem"
		timeout 60 nc.openbsd -N 127.0.0.1 "$FPORT" <"$t/up" >"$t/got.down"
		same_both
		wait_for 10 grep -q "forwarded .* $size bytes up, $((size / 2 + 3)) down.*(eof)" \
			"$t/fwd.err"
		grep -q "target leg: TLSv1.3 .*, certificate ok" "$t/fwd.err"
		kill "$FPID"
	done
}

@test "forward tls: TLS on both legs, sha256 both ways at 0 B, 1 MiB, 64 MiB; the JSON event has both legs" {
	local t=$BATS_TEST_TMPDIR size
	for size in 0 1048576 67108864; do
		data "$size"
		target --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key"
		start_listen "$t/fwd.json" -k --json --tls --forward "localhost:$TPORT" --forward-tls \
			--forward-ca "$PKI/ca.pem" 127.0.0.1 0 </dev/null
		FPID=$LPID
		# the listener's ephemeral certificate: its pin is printed
		pin=$(grep -o '"pin":"[^"]*"' "$t/fwd.json" | head -1 | cut -d'"' -f4)
		timeout 60 "$SOCKCTL" connect -w 60 --tls --no-verify --pin "$pin" 127.0.0.1 "$PORT" \
			<"$t/up" >"$t/got.down" 2>/dev/null
		same_both
		wait_for 10 grep -q "\"bytes_up\":$size,\"bytes_down\":$((size / 2 + 3)),.*\"reason\":\"eof\"" \
			"$t/fwd.json"
		ev=$(grep '"event":"forward"' "$t/fwd.json")
		[[ $ev == *'"client_tls_version":"TLSv1.3"'* ]]
		[[ $ev == *'"target_tls_version":"TLSv1.3"'* ]]
		[[ $ev == *'"target_verify":"ok"'* ]]
		schema_check "$t/fwd.json"
		kill "$FPID"
	done
}

@test "forward tls: half-close through --tls termination: sort behind the target answers after close_notify" {
	local t=$BATS_TEST_TMPDIR
	start_listen "$t/t.err" -c sort 127.0.0.1 0 </dev/null
	forwarder --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" --forward "127.0.0.1:$PORT"
	run -0 timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$FPORT" \
		< <(printf 'pear\napple\nfig\n')
	[ "$output" = "$(printf 'apple\nfig\npear')" ]
	wait_for 10 grep -q "forwarded .* 15 bytes up, 15 down.*(eof)" "$t/fwd.err"
}

@test "forward tls: half-close through --forward-tls, both ways (python ssl targets)" {
	local t=$BATS_TEST_TMPDIR
	# the client's FIN becomes close_notify: the target answers only after it
	printf 'the answer' >"$t/answer"
	py_peer swap "$t/answer" "$t/got"
	forwarder --forward "localhost:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem"
	run -0 timeout 20 nc.openbsd -N 127.0.0.1 "$FPORT" < <(printf 'the question')
	[ "$output" = "the answer" ]
	wait_pid 20 "$PEER_PID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$t/got")" = "the question" ]
	# the target's close_notify first: the client reads its EOF, then still
	# sends, and its FIN becomes the close_notify the target reads to
	printf 'first' >"$t/down"
	target --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key"
	kill "$FPID"
	forwarder --forward "localhost:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem"
	run -0 timeout 20 python3 -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
d = b""
while True:
    x = c.recv(4096)
    if not x: break
    d += x
assert d == b"first", d
c.sendall(b"after the target EOF")
c.shutdown(socket.SHUT_WR)
c.settimeout(10)
assert c.recv(10) == b""' "$FPORT"
	wait_pid 20 "$TPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$t/got.up")" = "after the target EOF" ]
	wait_for 10 grep -q "forwarded .* 20 bytes up, 5 down.*(eof)" "$t/fwd.err"
}

@test "forward tls: a target certificate that fails verification ends that client with OpenSSL's reason; the listener goes on; --forward-insecure accepts it" {
	local t=$BATS_TEST_TMPDIR
	s_server "$PKI/self.pem" "$PKI/self.key"
	start_listen "$t/fwd.json" -k --json --forward "localhost:$TPORT" --forward-tls \
		127.0.0.1 0 </dev/null
	FPID=$LPID
	for n in 1 2; do
		run -1 timeout 10 "$SOCKCTL" connect 127.0.0.1 "$PORT" </dev/null
		wait_for 10 count_is "$n" '"event":"forward"' "$t/fwd.json"
	done
	ev=$(grep '"event":"forward"' "$t/fwd.json" | tail -1)
	[[ $ev == *'"reason":"tls-failed"'* ]]
	[[ $ev == *'"side":"target"'* ]]
	[[ $ev == *'self-signed certificate'* ]]
	kill -0 "$FPID"
	schema_check "$t/fwd.json"
	# a name the certificate does not have, from the right CA
	s_server "$PKI/wrong.pem" "$PKI/wrong.key"
	forwarder --forward "localhost:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem"
	run -1 timeout 10 "$SOCKCTL" connect 127.0.0.1 "$FPORT" </dev/null
	wait_for 10 grep -q "forward failed: .*hostname mismatch" "$t/fwd.err"
	# --forward-sni names the certificate's name: it verifies
	kill "$FPID"
	forwarder --forward "127.0.0.1:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem" \
		--forward-sni wrong.example
	printf 'to the right name\n' | timeout 10 "$SOCKCTL" connect 127.0.0.1 "$FPORT"
	wait_for 10 grep -q "to the right name" "$t/s_server.out"
	wait_for 10 grep -q "certificate ok" "$t/fwd.err"
	# --forward-insecure: through, with a warning once and the reason in the event
	s_server "$PKI/self.pem" "$PKI/self.key"
	kill "$FPID"
	forwarder --forward "localhost:$TPORT" --forward-tls --forward-insecure
	wait_for 10 grep -q "forward-insecure: the target's certificate is not verified" "$t/fwd.err"
	printf 'insecure but through\n' | timeout 10 "$SOCKCTL" connect 127.0.0.1 "$FPORT"
	wait_for 10 grep -q "insecure but through" "$t/s_server.out"
	wait_for 10 grep -q "target leg: .*certificate self-signed certificate" "$t/fwd.err"
}

@test "forward tls: a refused target resets the client, says why, and the listener keeps serving" {
	local t=$BATS_TEST_TMPDIR cport
	cport=$(closed_port)
	forwarder --forward "127.0.0.1:$cport" --forward-tls --tls
	# (not $i: bats's run sets it)
	for n in 1 2; do
		run -1 timeout 10 "$SOCKCTL" connect --tls --no-verify 127.0.0.1 "$FPORT" </dev/null
		wait_for 10 count_is "$n" "forward failed: 127.0.0.1:$cport: connection refused" \
			"$t/fwd.err"
	done
	kill -0 "$FPID"
}

@test "forward tls: a TLS leg that ends without close_notify is a truncation: bytes before it delivered, the client reset, status 1 without -k" {
	local t=$BATS_TEST_TMPDIR
	py_peer fin "before the cut"
	forwarder --forward "localhost:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem"
	run -1 timeout 10 "$SOCKCTL" connect 127.0.0.1 "$FPORT" </dev/null
	[[ $output == "before the cut"* ]]
	wait_for 10 grep -q "forward failed: the target's TLS ended without close_notify (truncation)" \
		"$t/fwd.err"
	kill -0 "$FPID"
	# without -k the one client's truncation is listen's failure; the clients'
	# leg too: python sends, then shuts TCP down without close_notify
	start_listen "$t/t.err" 127.0.0.1 0 </dev/null >"$t/got.up"
	TPID=$LPID
	start_listen "$t/one.err" --tls --forward "127.0.0.1:$PORT" 127.0.0.1 0 </dev/null
	OPID=$LPID
	timeout 10 python3 -c '
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = ctx.wrap_socket(c)
t.sendall(b"cut short")
r = socket.socket(fileno=t.detach())
r.shutdown(socket.SHUT_WR)  # a FIN, no close_notify
try:
    while r.recv(4096): pass
except OSError:
    pass' "$PORT"
	wait_pid 10 "$OPID"
	[ "$WAIT_STATUS" = 1 ]
	grep -q "the client's TLS ended without close_notify (truncation)" "$t/one.err"
	wait_pid 10 "$TPID"
	[ "$(cat "$t/got.up")" = "cut short" ]
}

@test "forward tls: a stalled client handshake is dropped at --handshake-timeout and blocks nobody" {
	local t=$BATS_TEST_TMPDIR
	start_listen "$t/t.err" -k --echo 127.0.0.1 0 </dev/null
	forwarder --tls --handshake-timeout 1s --forward "127.0.0.1:$PORT"
	# a client that connects and never says ClientHello
	bg python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(30)' "$FPORT"
	wait_for 10 grep -q "connection from" "$t/fwd.err"
	out=$(timeout 10 "$SOCKCTL" connect --tls --no-verify 127.0.0.1 "$FPORT" < <(echo served) \
		2>/dev/null)
	[ "$out" = "served" ]
	wait_for 10 grep -q "forward failed: the client's TLS handshake took too long" "$t/fwd.err"
}

@test "forward tls: --forward-tls through --proxy: the TLS goes through the tunnel, SNI the target's name" {
	local t=$BATS_TEST_TMPDIR
	data 100000
	target --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key"
	start_listen "$t/proxy.err" -k --proxy-server socks5 127.0.0.1 0 </dev/null
	forwarder --forward "localhost:$TPORT" --forward-tls --forward-ca "$PKI/ca.pem" \
		--proxy "socks5h://127.0.0.1:$PORT"
	timeout 20 nc.openbsd -N 127.0.0.1 "$FPORT" <"$t/up" >"$t/got.down"
	same_both
	grep -q "sni localhost" "$t/t.err"
	wait_for 10 grep -q "target leg: TLSv1.3 .*, certificate ok" "$t/fwd.err"
}
