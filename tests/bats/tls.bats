#!/usr/bin/env bats
# connect --tls and listen --tls against real TLS peers: openssl s_server and
# s_client, python's ssl module, socat OPENSSL, curl.  The suite makes its own
# CA and certificates with the openssl CLI in a temp dir.
load helper
load tls_helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export PKI=$d
	cd "$d" || return 1
	tls_key ca.key
	openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj /CN=sockctl-test-CA 2>/dev/null
	tls_leaf srv localhost "DNS:localhost,IP:127.0.0.1" 5
	tls_leaf exp localhost "DNS:localhost,IP:127.0.0.1" -1
	tls_leaf wrong wrong.example "DNS:wrong.example" 5
	tls_leaf client sockctl-client "DNS:client.example" 5
	tls_key self.key
	openssl req -x509 -new -key self.key -out self.pem -days 5 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost 2>/dev/null
	[ -s srv.pem ] && [ -s exp.pem ] && [ -s wrong.pem ] && [ -s self.pem ] && [ -s client.pem ]
}

# s_server ARGS...: openssl s_server on 127.0.0.1, one client; port in $PORT.
s_server() {
	bg openssl s_server -accept 127.0.0.1:0 -naccept 1 "$@" </dev/null >"$BATS_TEST_TMPDIR/s_server.out" 2>&1
	PORT=$(bound_port "$BG_PID")
}

# sha_swap SIZE: SIZE random bytes each way through python's ssl server.
sha_swap() {
	local t=$BATS_TEST_TMPDIR
	head -c "$1" /dev/urandom >"$t/up"
	head -c "$1" /dev/urandom >"$t/down"
	py_peer swap "$PKI/srv.pem" "$PKI/srv.key" "$t/down" "$t/got"
	"$SOCKCTL" connect -w 60 --tls --ca "$PKI/ca.pem" localhost "$PORT" <"$t/up" >"$t/back"
	wait_pid 30 "$PEER_PID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(sha256sum <"$t/up")" = "$(sha256sum <"$t/got")" ]
	[ "$(sha256sum <"$t/down")" = "$(sha256sum <"$t/back")" ]
}

# ---- bad input ----

@test "tls: options without --tls, a bad pin, --tls-min above --tls-max are usage errors" {
	assert_usage_error --ca "$SOCKCTL" connect --ca /x 127.0.0.1 1
	assert_usage_error --pin "$SOCKCTL" connect --tls --pin sha256:abc 127.0.0.1 1
	assert_usage_error --pin "$SOCKCTL" connect --tls --pin md5:abc 127.0.0.1 1
	assert_usage_error --tls-min "$SOCKCTL" connect --tls --tls-min 1.3 --tls-max 1.2 127.0.0.1 1
	assert_usage_error --tls "$SOCKCTL" connect --tls -u 127.0.0.1 1
	assert_usage_error --verify-client "$SOCKCTL" listen --tls --verify-client 127.0.0.1 0
	assert_usage_error --tls "$SOCKCTL" listen --tls -u 127.0.0.1 0
	assert_usage_error --ciphers "$SOCKCTL" connect --tls --ciphers BOGUS 127.0.0.1 1
	assert_usage_error --groups "$SOCKCTL" connect --tls --groups nope 127.0.0.1 1
	assert_usage_error --ciphersuites "$SOCKCTL" listen --tls --ciphersuites TLS_FOO 127.0.0.1 0
	assert_usage_error --verify-name "$SOCKCTL" connect --tls --fd 0
	assert_usage_error --alpn "$SOCKCTL" connect --tls --alpn , 127.0.0.1 1
}

# ---- the relay: data both ways, end of file ----

@test "tls relay: sha256 both ways at 0 B, 1 B and 64 KiB (python ssl server)" {
	sha_swap 0
	sha_swap 1
	sha_swap 65536
}

@test "tls relay: sha256 both ways at 256 MiB" {
	sha_swap 268435456
}

@test "tls relay: the peer's close_notify is its EOF: status 0" {
	py_peer notify "$PKI/srv.pem" "$PKI/srv.key" hello
	run -0 --separate-stderr "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[ "$output" = hello ]
}

@test "tls relay: a bare TCP FIN is a truncation (status 1) unless --tls-allow-truncation" {
	py_peer fin "$PKI/srv.pem" "$PKI/srv.key" hello
	run -1 --separate-stderr "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[ "$output" = hello ]
	[[ $stderr == *"without close_notify"* ]]
	py_peer fin "$PKI/srv.pem" "$PKI/srv.key" hello
	run -0 --separate-stderr "$SOCKCTL" connect --tls --tls-allow-truncation --ca "$PKI/ca.pem" \
		localhost "$PORT" </dev/null
	[ "$output" = hello ]
}

@test "tls: stdin EOF sends close_notify: openssl s_server -www answers and closes" {
	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		< <(printf 'GET / HTTP/1.0\r\n\r\n')
	[[ $output == "HTTP/1.0 200 ok"* ]]
}

@test "tls relay: stdin sent after the peer closed (and reset) is a failure with a count; none is not" {
	s_server -www -tls1_2 -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		< <(printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1; printf more; sleep 1)
	[[ $output == "HTTP/1.0 200 ok"* ]]
	[[ $stderr == *"4 bytes read from stdin after its end were not delivered"* ]]
	s_server -www -tls1_2 -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		< <(printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1)
}

# ---- verification ----

@test "tls verify: good chain, expired, wrong name, self-signed, unknown CA (openssl s_server)" {
	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect --json -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	grep -q '"event":"tls".*"verified":true,"verify":"ok"' <<<"$stderr"
	grep -q '"subject":"CN=localhost","issuer":"CN=sockctl-test-CA"' <<<"$stderr"

	s_server -www -cert "$PKI/exp.pem" -key "$PKI/exp.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"certificate has expired"*"subject CN=localhost"* ]]

	s_server -www -cert "$PKI/wrong.pem" -key "$PKI/wrong.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"hostname mismatch"*"CN=wrong.example"* ]]

	s_server -www -cert "$PKI/self.pem" -key "$PKI/self.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"self-signed certificate"* ]]

	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/self.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"unable to get local issuer certificate"* ]]
}

@test "tls verify: --no-verify goes on, with the failure as a warning; --verify-name; IP names" {
	s_server -www -cert "$PKI/self.pem" -key "$PKI/self.key"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --no-verify localhost "$PORT" \
		< <(printf 'GET / HTTP/1.0\r\n\r\n')
	[[ $output == "HTTP/1.0 200 ok"* ]]
	[[ $stderr == *"certificate not verified"*"self-signed"* ]]

	s_server -www -cert "$PKI/wrong.pem" -key "$PKI/wrong.key"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" \
		--verify-name wrong.example localhost "$PORT" </dev/null

	# an address is checked as an IP SAN and sends no SNI
	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect --json -w 10 --tls --ca "$PKI/ca.pem" 127.0.0.1 "$PORT" </dev/null
	grep -q '"sni":null' <<<"$stderr"
}

@test "tls: --pin accepts the right SPKI hash and refuses another" {
	local pin
	pin=$(openssl x509 -in "$PKI/srv.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)
	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect --json -w 10 --tls --ca "$PKI/ca.pem" \
		--pin "sha256:$pin" localhost "$PORT" </dev/null
	grep -qF "\"pin\":\"sha256:$pin\"" <<<"$stderr"
	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" \
		--pin "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" localhost "$PORT" </dev/null
	[[ $stderr == *"matches no --pin"* ]]
}

@test "tls: ALPN, TLS 1.2 only, --tls-min, client certificates (openssl s_server)" {
	s_server -www -alpn h2,http/1.1 -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect --json -w 10 --tls --ca "$PKI/ca.pem" --alpn http/1.1 localhost "$PORT" </dev/null
	grep -q '"alpn":"http/1.1"' <<<"$stderr"

	s_server -www -tls1_2 -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect --json -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	grep -q '"version":"TLSv1.2"' <<<"$stderr"
	s_server -www -tls1_2 -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --tls-min 1.3 --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"TLS handshake failed"* ]]

	s_server -www -Verify 1 -CAfile "$PKI/ca.pem" -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" --cert "$PKI/client.pem" \
		--key "$PKI/client.key" localhost "$PORT" < <(printf 'GET / HTTP/1.0\r\n\r\n')
	[[ $output == *"CN=sockctl-client"* || $output == *"CN = sockctl-client"* ]]
}

@test "tls: socat OPENSSL-LISTEN as the server" {
	bg socat -T 10 "OPENSSL-LISTEN:0,bind=127.0.0.1,cert=$PKI/srv.pem,key=$PKI/srv.key,verify=0" SYSTEM:"echo from-socat"
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[ "$output" = from-socat ]
}

# ---- hostile or stalled peers ----

@test "tls: garbage instead of a ServerHello, and a stalled handshake, fail with status 1" {
	py_peer garbage "$PKI/srv.pem" "$PKI/srv.key"
	run -1 --separate-stderr "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"TLS handshake failed"* ]]
	py_peer stall "$PKI/srv.pem" "$PKI/srv.key"
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect --tls --handshake-timeout 500ms --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"TLS handshake timed out"* ]]
}

# ---- -z --tls and STARTTLS ----

@test "tls: -z --tls over a valid, an expired and a closed port: one JSON row each" {
	local good expired closed
	s_server -www -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	good=$PORT
	s_server -www -cert "$PKI/exp.pem" -key "$PKI/exp.key"
	expired=$PORT
	closed=$(closed_port)
	run -0 --separate-stderr "$SOCKCTL" connect -z --tls --json --ca "$PKI/ca.pem" localhost "$good,$expired,$closed"
	[ "$(wc -l <<<"$output")" -eq 3 ]
	grep -q "\"port\":$good,.*\"verified\":true" <<<"$output"
	grep -q "\"port\":$expired,.*\"verified\":false.*certificate has expired" <<<"$output"
	grep -q "\"port\":$closed,.*\"error\"" <<<"$output"
	jq -e . <<<"$output" >/dev/null
}

@test "tls: --starttls smtp against a scripted SMTP peer" {
	py_peer smtp "$PKI/srv.pem" "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --starttls smtp --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[ "$output" = tls-ok ]
	py_peer smtp-notls "$PKI/srv.pem" "$PKI/srv.key"
	run -1 --separate-stderr "$SOCKCTL" connect -w 10 --tls --starttls smtp --ca "$PKI/ca.pem" localhost "$PORT" </dev/null
	[[ $stderr == *"--starttls smtp: the server said no"* ]]
}

@test "tls: --starttls imap, pop3, ftp, xmpp and postgres against scripted peers" {
	local p
	for p in imap pop3 ftp xmpp postgres; do
		py_peer "starttls-$p" "$PKI/srv.pem" "$PKI/srv.key"
		run -0 --separate-stderr "$SOCKCTL" connect -w 10 --tls --starttls "$p" --ca "$PKI/ca.pem" \
			localhost "$PORT" </dev/null
		[ "$output" = tls-ok ] || { echo "$p: $stderr"; return 1; }
	done
}

# ---- listen --tls ----

@test "listen --tls: curl --cacert gets the HTTP response sent from stdin" {
	start_listen "$BATS_TEST_TMPDIR/err" --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" 127.0.0.1 0 \
		< <(printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n') >/dev/null
	run -0 curl -sS --max-time 10 --cacert "$PKI/ca.pem" "https://localhost:$PORT/"
	[ "$output" = hello ]
}

@test "listen --tls: openssl s_client verifies the chain and sees the ALPN picked" {
	start_listen "$BATS_TEST_TMPDIR/err" --tls --alpn h2,http/1.1 --cert "$PKI/srv.pem" \
		--key "$PKI/srv.key" 127.0.0.1 0 </dev/null >/dev/null
	run -0 timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$PKI/ca.pem" \
		-verify_return_error -verify_hostname localhost -alpn foo,http/1.1 </dev/null
	[[ $output == *"Verify return code: 0 (ok)"* ]]
	[[ $output == *"ALPN protocol: http/1.1"* ]]
}

@test "listen --tls: an ephemeral certificate whose printed pin python's ssl client sees" {
	local pin got
	start_listen "$BATS_TEST_TMPDIR/err" --tls 127.0.0.1 0 </dev/null >"$BATS_TEST_TMPDIR/out"
	wait_for 10 grep -q 'pin sha256:' "$BATS_TEST_TMPDIR/err"
	pin=$(grep -o 'pin sha256:[^ ]*' "$BATS_TEST_TMPDIR/err" | cut -d: -f2)
	[ -n "$pin" ]
	got=$(timeout 20 python3 -c '
import socket, ssl, sys, hashlib, base64
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
der = t.getpeercert(binary_form=True)
import subprocess
spki = subprocess.run(["openssl", "x509", "-inform", "der", "-pubkey", "-noout"], input=der, capture_output=True).stdout
d = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=spki, capture_output=True).stdout
t.sendall(b"hi-from-python")
try:
    t.unwrap()
except ssl.SSLError:
    pass
print(base64.b64encode(hashlib.sha256(d).digest()).decode())' "$PORT")
	[ "$got" = "$pin" ]
	wait_pid 10 "$LPID"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = hi-from-python ]
}

@test "listen --tls --verify-client: python's verified client gets through; socat OPENSSL: too" {
	start_listen "$BATS_TEST_TMPDIR/err" --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" 127.0.0.1 0 \
		< <(printf 'to-python') >"$BATS_TEST_TMPDIR/out"
	run -0 timeout 20 python3 "$PEER" client "$PORT" "$PKI/ca.pem" from-python
	[ "$output" = to-python ]
	wait_pid 10 "$LPID"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = from-python ]

	start_listen "$BATS_TEST_TMPDIR/err" --tls --verify-client --ca "$PKI/ca.pem" --cert "$PKI/srv.pem" \
		--key "$PKI/srv.key" 127.0.0.1 0 </dev/null >"$BATS_TEST_TMPDIR/out"
	run -0 timeout 20 socat -u - "OPENSSL:127.0.0.1:$PORT,cafile=$PKI/ca.pem,cert=$PKI/client.pem,key=$PKI/client.key,commonname=localhost" < <(printf from-socat)
	wait_pid 10 "$LPID"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = from-socat ]
}

@test "listen --tls --echo: what a client sends comes back, over TLS" {
	start_listen "$BATS_TEST_TMPDIR/err" --tls --echo --cert "$PKI/srv.pem" --key "$PKI/srv.key" 127.0.0.1 0 </dev/null
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/data"
	"$SOCKCTL" connect -w 10 --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		<"$BATS_TEST_TMPDIR/data" >"$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/back"
}

@test "listen --tls: a client that stalls the handshake is dropped after --handshake-timeout" {
	start_listen "$BATS_TEST_TMPDIR/err" --tls --handshake-timeout 500ms 127.0.0.1 0 </dev/null
	bg python3 -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(30)' "$PORT"
	wait_pid 20 "$LPID" || true
	[ "$WAIT_STATUS" = 1 ]
	grep -q "TLS handshake timed out" "$BATS_TEST_TMPDIR/err"
}

@test "listen -k --tls: a stalled handshake blocks nobody, and is dropped at --handshake-timeout" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --tls --handshake-timeout 1s --cert "$PKI/srv.pem" \
		--key "$PKI/srv.key" 127.0.0.1 0 </dev/null >"$BATS_TEST_TMPDIR/out"
	# connected, never a ClientHello
	bg python3 -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(30)' "$PORT"
	wait_for 10 grep -q "connection from" "$BATS_TEST_TMPDIR/err"
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" < <(printf first)
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" < <(printf second)
	wait_for 10 grep -q "handshake-timeout" "$BATS_TEST_TMPDIR/err"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = firstsecond ]
}

@test "listen -k --tls --echo: two clients at once, each gets its own bytes back" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --echo --tls 127.0.0.1 0 </dev/null
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	"$SOCKCTL" connect -w 20 --tls --no-verify 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/a" >"$BATS_TEST_TMPDIR/a.back" 2>/dev/null &
	local p1=$!
	"$SOCKCTL" connect -w 20 --tls --no-verify 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/b" >"$BATS_TEST_TMPDIR/b.back" 2>/dev/null
	wait "$p1"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/a.back"
	cmp "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/b.back"
}

@test "tls: --session saves the session and the next connection resumes it (also with -z)" {
	local f=$BATS_TEST_TMPDIR/session.pem
	s_server -www -naccept 4 -cert "$PKI/srv.pem" -key "$PKI/srv.key"
	run -0 --separate-stderr "$SOCKCTL" connect -z --json --tls --ca "$PKI/ca.pem" --session "$f" localhost "$PORT"
	grep -q '"resumed":false' <<<"$output"
	[ -s "$f" ]
	run -0 --separate-stderr "$SOCKCTL" connect -z --json --tls --ca "$PKI/ca.pem" --session "$f" localhost "$PORT"
	grep -q '"resumed":true' <<<"$output"
	run -0 --separate-stderr "$SOCKCTL" connect --json --tls --ca "$PKI/ca.pem" --session "$f" localhost "$PORT" \
		< <(printf 'GET / HTTP/1.0\r\n\r\n')
	grep -q '"resumed":true' <<<"$stderr"
}

@test "listen --tls --verify-client: a client without a certificate is refused (status 1)" {
	start_listen "$BATS_TEST_TMPDIR/err" --tls --verify-client --ca "$PKI/ca.pem" --cert "$PKI/srv.pem" \
		--key "$PKI/srv.key" 127.0.0.1 0 </dev/null >"$BATS_TEST_TMPDIR/out"
	run ! timeout 20 python3 "$PEER" client "$PORT" "$PKI/ca.pem" from-python
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 1 ]
	grep -q "TLS handshake failed" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "listen -k --tls: stdin goes to a client that is still shaking hands, once it is done" {
	start_listen "$BATS_TEST_TMPDIR/err" -k --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" 127.0.0.1 0 \
		< <(sleep 1; printf broadcast; sleep 2) >/dev/null
	# connected at once, its ClientHello only after stdin was read (at 1 s)
	run -0 --separate-stderr timeout 20 python3 -c '
import socket, ssl, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(2)
t = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(c, server_hostname="localhost")
out = b""
while len(out) < 9:
    b = t.recv(4096)
    if not b:
        break
    out += b
t.unwrap()
print(out.decode())' "$PORT" "$PKI/ca.pem"
	[ "$output" = broadcast ]
}

@test "tls: OpenSSL is loaded only by --tls (not linked; a plain connect never opens it)" {
	run -0 readelf -dW "$SOCKCTL"
	[[ $output != *libssl* && $output != *libcrypto* ]]
	local port
	port=$(closed_port)
	run -1 --separate-stderr env ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=openat -o "$BATS_TEST_TMPDIR/plain" \
		"$SOCKCTL" connect -z 127.0.0.1 "$port"
	! grep -q 'libssl\|libcrypto' "$BATS_TEST_TMPDIR/plain"
	run -1 --separate-stderr env ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=openat -o "$BATS_TEST_TMPDIR/tls" \
		"$SOCKCTL" connect -z --tls 127.0.0.1 "$port"
	grep -q 'libssl.so.3' "$BATS_TEST_TMPDIR/tls"
}

@test "tls: connect --count --tls pings with a full handshake, its time a second column; a bad chain is no answer" {
	bg openssl s_server -accept 127.0.0.1:0 -naccept 6 -cert "$PKI/srv.pem" -key "$PKI/srv.key" \
		-quiet </dev/null >/dev/null 2>&1
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr "$SOCKCTL" connect --count 2 --interval 0.05 --tls \
		--ca "$PKI/ca.pem" localhost "$PORT"
	[[ ${lines[1]} =~ tcp_seq=1\ open\ time=[0-9.]+\ ms\ tls=[0-9.]+\ ms$ ]]
	[[ ${lines[2]} =~ tcp_seq=2\ open\ time=[0-9.]+\ ms\ tls=[0-9.]+\ ms$ ]]
	[[ $output == *"tls handshake min/avg/max/mdev = "* ]]
	run -0 --separate-stderr "$SOCKCTL" connect --count 2 --interval 0.05 --tls --json \
		--ca "$PKI/ca.pem" localhost "$PORT"
	jq -e -s '.[0:2] | all(.event == "probe" and .state == "open" and .tls_ms > 0 and .rtt_ms < .tls_ms)' <<<"$output"
	jq -e -s '.[2].tls_min_ms > 0 and .[2].tls_avg_ms >= .[2].tls_min_ms' <<<"$output"
	# the system store does not know the suite's CA: no answer, the reason on each line
	run -1 --separate-stderr "$SOCKCTL" connect --count 2 --interval 0.05 --tls localhost "$PORT"
	[[ ${lines[1]} == *"tcp_seq=1 TLS: certificate verify failed: unable to get local issuer certificate"* ]]
	[[ $output == *"2 probes sent, 0 open, 0 closed, 2 lost"* ]]
	assert_usage_error "--session" "$SOCKCTL" connect --count 1 --tls --session /tmp/x localhost "$PORT"
}
