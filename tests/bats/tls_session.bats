#!/usr/bin/env bats
# -C/--crlf, --delay, -o/--output and --hex-dump over TLS (connect --tls,
# listen --tls, -e/-c behind TLS): the session log holds the plaintext, byte
# for byte what was relayed; CRLF only on what stdin (or the program) sends.
# Peers: tests/bats/tls_peer.py (python's ssl), sockctl itself, and sockctl
# listen --proxy-server as a SOCKS5 proxy.
load helper
load tls_helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

# The CA and a certificate for localhost and 127.0.0.1, once for the file.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	export PKI=$BATS_FILE_TMPDIR
	tls_key ca.key
	openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj /CN=sockctl-session-CA 2>/dev/null
	tls_leaf srv localhost "DNS:localhost,IP:127.0.0.1" 5
	[ -s srv.pem ]
}

# swap_peer DOWN: python's TLS server sends file DOWN after reading the
# client's bytes (to its close_notify) into $BATS_TEST_TMPDIR/got.
swap_peer() {
	py_peer swap "$PKI/srv.pem" "$PKI/srv.key" "$1" "$BATS_TEST_TMPDIR/got"
}

# tls_listen ERRFILE ARGS...: sockctl listen --tls with the test certificate.
tls_listen() {
	local err=$1
	shift
	start_listen "$err" --tls --cert "$PKI/srv.pem" --key "$PKI/srv.key" "$@"
}

# same A B: files A and B hold the same bytes.
same() { [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]; }

# log_check [--hex] LOG SENT RECEIVED: the session log holds exactly those bytes.
log_check() { python3 "$BATS_TEST_DIRNAME/session_log.py" "$@"; }

@test "tls_session: what stays refused is one line, status 2; -C, -o no longer are" {
	assert_usage_error "--broker" "$SOCKCTL" listen -k --tls --broker -C 127.0.0.1 0
	[[ $(cat "$BATS_TEST_TMPDIR/.err") != *"-C"* ]]
	assert_usage_error "--chat" "$SOCKCTL" listen -k --tls --chat -o "$BATS_TEST_TMPDIR/log" 127.0.0.1 0
	[[ $(cat "$BATS_TEST_TMPDIR/.err") != *"--hex-dump"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/log" ]
	assert_usage_error "-z/--scan" "$SOCKCTL" connect -z --tls -C 127.0.0.1 1
}

@test "tls_session: connect --tls -C: the server gets CRLF lines, what comes back is untouched" {
	local t=$BATS_TEST_TMPDIR
	printf 'a\nb\n' >"$t/down"
	swap_peer "$t/down"
	printf 'EHLO x\nMAIL\r\n\nEND' | timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" -C \
		localhost "$PORT" >"$t/back"
	wait_pid 20 "$PEER_PID"
	[ "$WAIT_STATUS" = 0 ]
	printf 'EHLO x\r\nMAIL\r\n\r\nEND' >"$t/want"
	od -c "$t/got"
	same "$t/got" "$t/want"
	same "$t/back" "$t/down"
	# -c behind TLS: the program's LFs go out as CRLF too
	swap_peer /dev/null
	timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" -C -c "printf 'one\ntwo\n'" \
		localhost "$PORT" </dev/null
	wait_pid 20 "$PEER_PID"
	[ "$WAIT_STATUS" = 0 ]
	printf 'one\r\ntwo\r\n' >"$t/want"
	same "$t/got" "$t/want"
}

@test "tls_session: connect --tls -o and --hex-dump hold exactly the plaintext both ways (1 MiB and text)" {
	local t=$BATS_TEST_TMPDIR
	head -c 1048576 /dev/urandom >"$t/up"
	printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\n' >"$t/down"
	swap_peer "$t/down"
	timeout 60 "$SOCKCTL" connect -w 60 --tls --ca "$PKI/ca.pem" -o "$t/log" \
		--hex-dump "$t/hex" localhost "$PORT" <"$t/up" >"$t/back"
	wait_pid 30 "$PEER_PID"
	[ "$WAIT_STATUS" = 0 ]
	same "$t/got" "$t/up"
	same "$t/back" "$t/down"
	log_check "$t/log" "$t/up" "$t/down"
	log_check --hex "$t/hex" "$t/up" "$t/down"
	# a text exchange the other way round: the peer's 1 MiB, our few lines
	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$t/up2"
	swap_peer "$t/up"
	timeout 60 "$SOCKCTL" connect -w 60 --tls --ca "$PKI/ca.pem" -o "$t/log2" \
		--hex-dump "$t/hex2" localhost "$PORT" <"$t/up2" >"$t/back2"
	wait_pid 30 "$PEER_PID"
	log_check "$t/log2" "$t/up2" "$t/up"
	log_check --hex "$t/hex2" "$t/up2" "$t/up"
}

@test "tls_session: connect --tls --delay waits after each line (lower bound only)" {
	local t=$BATS_TEST_TMPDIR start end
	swap_peer /dev/null
	printf 'one\ntwo\nthree\n' >"$t/up"
	start=$(date +%s%N)
	timeout 30 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" --delay 300ms localhost "$PORT" \
		<"$t/up"
	end=$(date +%s%N)
	wait_pid 20 "$PEER_PID"
	[ "$WAIT_STATUS" = 0 ]
	same "$t/got" "$t/up"
	# a delay after each of the first two lines at least: >= 600 ms
	[ $(((end - start) / 1000000)) -ge 600 ]
}

@test "tls_session: connect --starttls smtp -o logs the session inside TLS, not the dialogue" {
	local t=$BATS_TEST_TMPDIR
	py_peer smtp "$PKI/srv.pem" "$PKI/srv.key"
	run -0 timeout 20 "$SOCKCTL" connect --tls --starttls smtp --ca "$PKI/ca.pem" \
		-o "$t/log" -C localhost "$PORT" </dev/null
	[ "$output" = tls-ok ]
	wait_pid 20 "$PEER_PID"
	printf 'tls-ok\n' >"$t/down"
	log_check "$t/log" /dev/null "$t/down"
}

@test "tls_session: connect --proxy socks5 --tls -C -o through sockctl's proxy server" {
	local t=$BATS_TEST_TMPDIR
	tls_listen "$t/lerr" 127.0.0.1 0 </dev/null >"$t/got"
	local tport=$PORT lpid=$LPID
	start_listen "$t/perr" --proxy-server socks5 127.0.0.1 0 </dev/null
	printf 'a\nb\n' >"$t/up"
	run -0 timeout 20 "$SOCKCTL" connect --proxy "socks5://127.0.0.1:$PORT" --tls \
		--ca "$PKI/ca.pem" -C -o "$t/log" 127.0.0.1 "$tport" <"$t/up"
	wait_pid 20 "$lpid"
	[ "$WAIT_STATUS" = 0 ]
	printf 'a\r\nb\r\n' >"$t/want"
	same "$t/got" "$t/want"
	log_check "$t/log" "$t/want" /dev/null
}

@test "tls_session: listen --tls -C with a sockctl connect --tls client; the client's bytes untouched" {
	local t=$BATS_TEST_TMPDIR
	tls_listen "$t/err" -C -o "$t/log" 127.0.0.1 0 < <(printf 'a\nb\n') >"$t/got"
	run -0 timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		< <(printf 'x\ny\n')
	[ "$output" = "$(printf 'a\r\nb\r')" ]
	wait_pid 20 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$t/got")" = "$(printf 'x\ny')" ]
	printf 'a\r\nb\r\n' >"$t/sent"
	printf 'x\ny\n' >"$t/recv"
	log_check "$t/log" "$t/sent" "$t/recv"
}

@test "tls_session: listen --tls -e /bin/cat -C and -o: CRLF towards the client, the log both ways" {
	local t=$BATS_TEST_TMPDIR
	tls_listen "$t/err" -C -o "$t/log" -e /bin/cat 127.0.0.1 0 </dev/null
	run -0 timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		< <(printf 'pear\napple\n')
	[ "$output" = "$(printf 'pear\r\napple\r')" ]
	wait_pid 20 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	printf 'pear\r\napple\r\n' >"$t/sent"
	printf 'pear\napple\n' >"$t/recv"
	log_check "$t/log" "$t/sent" "$t/recv"
	# 1 MiB through the program and back, logged byte-exactly (no LF -> no CRLF change)
	head -c 1048576 /dev/urandom | tr -d '\n' >"$t/up"
	tls_listen "$t/err" --hex-dump "$t/hex" -e /bin/cat 127.0.0.1 0 </dev/null
	timeout 60 "$SOCKCTL" connect -w 60 --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		<"$t/up" >"$t/back"
	wait_pid 20 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	same "$t/back" "$t/up"
	log_check --hex "$t/hex" "$t/up" "$t/up"
}

@test "tls_session: listen -k --tls -C -o: each client's plaintext logged under its id" {
	local t=$BATS_TEST_TMPDIR
	mkfifo "$t/in"
	# read-write: opening does not wait for a writer, and stdin never ends
	tls_listen "$t/err" -k -C -o "$t/log" 127.0.0.1 0 <>"$t/in" >"$t/got"
	# not bg: a background job's stdin would be /dev/null
	timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" -q 0.5 localhost "$PORT" \
		< <(printf 'hello\n'; sleep 3) >"$t/back" &
	local cpid=$!
	echo "$cpid" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "hello" "$t/got"
	printf 'to all\n' >"$t/in"
	wait_for 10 test -s "$t/back"
	wait_pid 20 "$cpid"
	[ "$(od -An -c "$t/back" | tr -s ' ')" = "$(printf 'to all\r\n' | od -An -c | tr -s ' ')" ]
	printf 'to all\r\n' >"$t/sent"
	printf 'hello\n' >"$t/recv"
	wait_for 10 log_check "$t/log" "$t/sent" "$t/recv"
	grep -q '^> 0 [0-9]* [^ ]* 1 127.0.0.1:' "$t/log"
}

@test "tls_session: listen -k --tls -C -o -e /bin/cat: each client's relay process logs its plaintext" {
	local t=$BATS_TEST_TMPDIR
	tls_listen "$t/err" -k -C -o "$t/log" -e /bin/cat 127.0.0.1 0 </dev/null
	run -0 timeout 20 "$SOCKCTL" connect --tls --ca "$PKI/ca.pem" localhost "$PORT" \
		< <(printf 'one\ntwo\n')
	[ "$output" = "$(printf 'one\r\ntwo\r')" ]
	# the records of the one client (named: id 1) are the bytes each way
	printf 'one\r\ntwo\r\n' >"$t/sent"
	printf 'one\ntwo\n' >"$t/recv"
	wait_for 10 log_check "$t/log" "$t/sent" "$t/recv"
	grep -q '^< 0 [0-9]* [^ ]* 1 127.0.0.1:' "$t/log"
}
