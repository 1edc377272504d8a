#!/usr/bin/env bats
# connect through SOCKS4/4a/5 and HTTP CONNECT proxies (real ones: microsocks,
# dante, tinyproxy, ncat; hostile ones in python), and listen --proxy-server
# as the proxy for curl, ssh and sockctl.  Every proxy and target runs in a
# network namespace of the test's own (only lo), so fixed ports are fine.
load helper

PEER="$BATS_TEST_DIRNAME/proxy_peer.py"

setup() {
	D=$BATS_TEST_TMPDIR
	ns_add p
	head -c 1048576 /dev/urandom >"$D/A"
	head -c 786432 /dev/urandom >"$D/B"
}

teardown() {
	common_teardown
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# start_target [COUNT] [NBYTES]: the target on 127.0.0.1:5000 in the namespace
# reads NBYTES (-1: to EOF) of each of COUNT clients, then sends B and closes.
start_target() {
	bg in_ns p python3 "$PEER" target 127.0.0.1 5000 "${2:-1048576}" "$D/B" "$D/hash" "${1:-1}"
	wait_for 10 tcp_listening 5000 p
}

# through ARGS...: A through the proxy to the target, B back; both hashes checked.
through() {
	: >"$D/hash"
	timeout 60 ip netns exec "$(ns p)" "$SOCKCTL" connect "$@" 127.0.0.1 5000 \
		<"$D/A" >"$D/got" 2>"$D/err" || { cat "$D/err"; return 1; }
	wait_for 10 test -s "$D/hash"
	[ "$(cat "$D/hash")" = "$(sha "$D/A")" ]
	[ "$(sha "$D/got")" = "$(sha "$D/B")" ]
}

start_microsocks() {
	bg in_ns p microsocks -i 127.0.0.1 -p 1080 "$@"
	wait_for 10 tcp_listening 1080 p
}

# dante in the foreground, as root inside the namespace, config in the test dir.
start_danted() {
	cat >"$D/danted.conf" <<-EOF2
		logoutput: $D/danted.log
		internal: 127.0.0.1 port = 1081
		external: 127.0.0.1
		socksmethod: ${1:-none}
		clientmethod: none
		user.privileged: root
		user.unprivileged: nobody
		client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
		socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 protocol: tcp }
	EOF2
	if [ "${1:-}" = username ]; then
		# dante checks users against the system's: a user of the test's own, in
		# a passwd and shadow seen only by this danted (a private mount namespace)
		cp /etc/passwd "$D/passwd"
		cp /etc/shadow "$D/shadow"
		echo "sockt:x:4242:4242::/nonexistent:/usr/sbin/nologin" >>"$D/passwd"
		echo "sockt:$(openssl passwd -6 'pw 42'):19000:0:99999:7:::" >>"$D/shadow"
		bg ip netns exec "$(ns p)" unshare -m sh -c 'mount --bind "$1" /etc/passwd &&
			mount --bind "$2" /etc/shadow && exec danted -f "$3"' danted \
			"$D/passwd" "$D/shadow" "$D/danted.conf"
	else
		bg in_ns p danted -f "$D/danted.conf"
	fi
	wait_for 10 tcp_listening 1081 p
}

start_tinyproxy() {
	printf 'Port 8888\nListen 127.0.0.1\nTimeout 30\nMaxClients 8\nLogLevel Info\n%s\n' \
		"${1:-}" >"$D/tinyproxy.conf"
	bg in_ns p tinyproxy -d -c "$D/tinyproxy.conf"
	wait_for 10 tcp_listening 8888 p
}

start_hostile() {
	rm -f "$D/hostile.port"
	bg in_ns p python3 "$PEER" hostile 127.0.0.1 0 "$1" "$D/hostile.port"
	wait_for 10 test -s "$D/hostile.port"
	HP=$(cat "$D/hostile.port")
}

# ---- real proxies ----

@test "proxy: microsocks, SOCKS5 and socks5h, 1 MiB each way, sha256 both directions" {
	start_microsocks
	start_target 2
	# microsocks closes both sides at the first EOF: the client keeps its own open
	through --no-shutdown --proxy socks5://127.0.0.1:1080
	through --no-shutdown -x 127.0.0.1:1080 -X 5
}

@test "proxy: microsocks with -u/-P: password from the URL, from SOCKCTL_PROXY_PASSWORD; a wrong one is named" {
	start_microsocks -u alice -P 's3cret:x'
	start_target 2
	through --no-shutdown --proxy 'socks5h://alice:s3cret%3Ax@127.0.0.1:1080'
	export SOCKCTL_PROXY_PASSWORD='s3cret:x'
	through --no-shutdown -x 127.0.0.1:1080 -P alice
	SOCKCTL_PROXY_PASSWORD=wrong run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy socks5://alice@127.0.0.1:1080 127.0.0.1 5000 </dev/null
	[[ $output == *"socks5 proxy 127.0.0.1:1080: user alice: user name or password rejected"* ]]
	# no password anywhere: asked for on the terminal, not echoed
	unset SOCKCTL_PROXY_PASSWORD
	printf 'pong\n' >"$D/pong"
	: >"$D/hash"
	bg in_ns p python3 "$PEER" target 127.0.0.1 5000 6 "$D/pong" "$D/hash" 1
	wait_for 10 tcp_listening 5000 p
	run -0 timeout 30 ip netns exec "$(ns p)" expect -c '
		set timeout 20
		spawn -noecho '"$SOCKCTL"' connect --no-shutdown -x 127.0.0.1:1080 -P alice 127.0.0.1 5000
		expect "Password for proxy user alice at 127.0.0.1: "
		send "s3cret:x\r"
		send "hello\r"
		expect "pong"
		expect eof
		catch wait result
		exit [lindex $result 3]'
	[[ $output == *pong* ]]
	[[ $output != *"s3cret"* ]]
	[ "$(cat "$D/hash")" = "$(printf 'hello\n' | sha256sum | cut -d' ' -f1)" ]
	# no user offered: the proxy accepts no method of ours
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy socks5://127.0.0.1:1080 127.0.0.1 5000 </dev/null
	[[ $output == *"no acceptable authentication method"* ]]
}

@test "proxy: a refused target through SOCKS5 is status 1 naming REP 0x05 in words" {
	start_microsocks
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy socks5h://127.0.0.1:1080 localhost 5001 </dev/null
	[ "$output" = "sockctl connect: socks5h proxy 127.0.0.1:1080: REP 0x05: connection refused by destination" ]
}

@test "proxy: dante, SOCKS5 and SOCKS4, with half-close: the target answers after our EOF" {
	start_danted
	start_target 3 -1
	through --proxy socks5://127.0.0.1:1081
	through --proxy socks5h://127.0.0.1:1081
	through --proxy socks4://127.0.0.1:1081
}

@test "proxy: dante with RFC 1929 user/password: the right password passes, a wrong one is named" {
	start_danted username
	start_target 1 -1
	through --proxy 'socks5://sockt:pw%2042@127.0.0.1:1081'
	SOCKCTL_PROXY_PASSWORD='pw 41' run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		-x 127.0.0.1:1081 -P sockt 127.0.0.1 5000 </dev/null
	[ "$output" = "sockctl connect: socks5h proxy 127.0.0.1:1081: user sockt: user name or password rejected" ]
}

@test "proxy: tinyproxy (HTTP CONNECT) and ncat --proxy-type http, 1 MiB each way" {
	start_tinyproxy
	bg in_ns p ncat -l 127.0.0.1 3128 --proxy-type http -k
	wait_for 10 tcp_listening 3128 p
	start_target 3
	through --no-shutdown --proxy http://127.0.0.1:8888
	through --no-shutdown -x 127.0.0.1:3128 -X connect
	through --no-shutdown --proxy http://127.0.0.1:3128
}

@test "proxy: tinyproxy with BasicAuth: right credentials pass, none is HTTP 407 with its Proxy-Authenticate" {
	start_tinyproxy 'BasicAuth bob pw123'
	start_target 1
	through --no-shutdown --proxy http://bob:pw123@127.0.0.1:8888
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy http://127.0.0.1:8888 127.0.0.1 5000 </dev/null
	[[ $output == *"http proxy 127.0.0.1:8888: HTTP 407 "*"; Proxy-Authenticate: Basic realm="* ]]
}

@test "proxy: -z through microsocks: one line per port, open and closed" {
	start_microsocks
	start_target 1 0
	run -0 --separate-stderr timeout 30 ip netns exec "$(ns p)" "$SOCKCTL" connect -z -v \
		--proxy socks5://127.0.0.1:1080 127.0.0.1 4999-5001
	[ "${lines[0]}" = "127.0.0.1 4999 closed" ]
	[ "${lines[1]}" = "127.0.0.1 5000 open" ]
	[ "${lines[2]}" = "127.0.0.1 5001 closed" ]
	[ "${#lines[@]}" -eq 3 ]
	run -1 timeout 30 ip netns exec "$(ns p)" "$SOCKCTL" connect -z --json \
		--proxy socks5://127.0.0.1:1080 127.0.0.1 5001
	[ -z "$output" ] || [[ $output == *'"event":"error"'* ]]
}

# ---- hostile proxies ----

@test "proxy: hostile replies: truncated, wrong version, oversized, slowloris, each status 1, bounded" {
	start_hostile s5-truncated
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy socks5://127.0.0.1:$HP 127.0.0.1 5000 </dev/null
	[[ $output == *"closed the connection after 3 bytes of its reply"* ]]

	start_hostile s5-wrongver
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy socks5://127.0.0.1:$HP 127.0.0.1 5000 </dev/null
	[[ $output == *"invalid reply: version 4 in the reply, not 5"* ]]

	start_hostile http-oversized
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy http://127.0.0.1:$HP 127.0.0.1 5000 </dev/null
	[[ $output == *"invalid reply: reply headers longer than 8 KiB"* ]]

	start_hostile s5-slowloris
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect -w 1 \
		--proxy socks5://127.0.0.1:$HP 127.0.0.1 5000 </dev/null
	[[ $output == *"socks5 proxy 127.0.0.1:$HP: timed out waiting for its reply"* ]]
}

@test "proxy: HTTP 407 from a proxy names Proxy-Authenticate; tunnel bytes after the 200 are not lost" {
	start_hostile http-407
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy http://127.0.0.1:$HP example.org 443 </dev/null
	[ "$output" = "sockctl connect: http proxy 127.0.0.1:$HP: HTTP 407 Proxy Authentication Required; Proxy-Authenticate: Basic realm=\"sockctl test\"" ]
	start_hostile http-tunnel
	run -0 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy http://127.0.0.1:$HP example.org 443 </dev/null
	[ "$output" = "first tunnel bytes" ]
}

@test "proxy: bad proxy options are status 2, one line, before any connection" {
	assert_usage_error "unknown scheme 'socks9'" "$SOCKCTL" connect --proxy socks9://h:1 h 1
	assert_usage_error "proxy port '0'" "$SOCKCTL" connect --proxy socks5://h:0 h 1
	assert_usage_error "-X/--proxy-type '6'" "$SOCKCTL" connect -x h:1 -X 6 h 1
	assert_usage_error "need -x/--proxy-addr" "$SOCKCTL" connect -X 5 h 1
	assert_usage_error "carries TCP" "$SOCKCTL" connect -u --proxy socks5://h:1 h 1
	assert_usage_error "conflicts with -x" "$SOCKCTL" connect --proxy socks5://h:1 -x h:2 h 1
	# no terminal and no SOCKCTL_PROXY_PASSWORD: said at once, no password in argv needed
	assert_usage_error "SOCKCTL_PROXY_PASSWORD" setsid "$SOCKCTL" connect -x 127.0.0.1:1 -P bob h 1
	# a password in the URL never appears in a message
	run -2 "$SOCKCTL" connect --proxy 'socks5://u:hunter2@h:99999' h 1
	[[ $output != *hunter2* ]]
}

# ---- listen --proxy-server ----

# start_pserver ARGS...: sockctl listen -k ARGS on 127.0.0.1:${PSPORT:-1080} in the namespace
start_pserver() {
	: >"$D/pserver.err"
	bg ip netns exec "$(ns p)" "$SOCKCTL" listen -k "$@" 127.0.0.1 "${PSPORT:-1080}" \
		2>"$D/pserver.err"
	PSPID=$BG_PID
	wait_for 10 tcp_listening "${PSPORT:-1080}" p
}

@test "proxy server: SOCKS5 to sockctl connect, half-close carried both ways, sha256 both directions" {
	start_pserver --proxy-server socks5 -v
	start_target 2 -1
	# the target answers only after our EOF: the proxy must carry the half-close
	through --proxy socks5://127.0.0.1:1080
	through --proxy socks5h://127.0.0.1:1080
	wait_for 10 grep -q "to 127.0.0.1 port 5000: 1048576 bytes up, 786432 down, .* (eof)" "$D/pserver.err"
}

@test "proxy server: curl --socks5-hostname and curl --proxy (HTTP CONNECT), 768 KiB each" {
	cp "$D/B" "$D/www.bin"
	bg ip netns exec "$(ns p)" python3 -m http.server -b 127.0.0.1 -d "$D" 8000
	wait_for 10 tcp_listening 8000 p
	start_pserver --proxy-server socks5
	run -0 timeout 30 ip netns exec "$(ns p)" curl -sS -o "$D/c1" --socks5-hostname 127.0.0.1:1080 \
		http://localhost:8000/www.bin
	[ "$(sha "$D/c1")" = "$(sha "$D/B")" ]
	kill "$PSPID"
	wait_pid 10 "$PSPID"
	wait_for 10 eval '! tcp_listening 1080 p'
	start_pserver --proxy-server http
	run -0 timeout 30 ip netns exec "$(ns p)" curl -sS -p -o "$D/c2" --proxy http://127.0.0.1:1080 \
		http://127.0.0.1:8000/www.bin
	[ "$(sha "$D/c2")" = "$(sha "$D/B")" ]
}

@test "proxy server: --proxy-auth FILE (SOCKS5 and HTTP), wrong passwords refused and named" {
	printf '# users of the test\nalice:pa:ss\nbob:x\n' >"$D/users"
	start_pserver --proxy-server socks5 --proxy-auth "$D/users" -v
	start_target 1
	through --proxy 'socks5://alice:pa%3Ass@127.0.0.1:1080'
	SOCKCTL_PROXY_PASSWORD=nope run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		-x 127.0.0.1:1080 -P bob 127.0.0.1 5000 </dev/null
	[[ $output == *"user bob: user name or password rejected"* ]]
	wait_for 10 grep -q "(auth-failed: wrong user name or password)" "$D/pserver.err"
	kill "$PSPID"
	wait_pid 10 "$PSPID"
	wait_for 10 eval '! tcp_listening 1080 p'
	start_pserver --proxy-server http --proxy-auth "$D/users"
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect --proxy http://127.0.0.1:1080 \
		127.0.0.1 5000 </dev/null
	[[ $output == *'HTTP 407 Proxy Authentication Required; Proxy-Authenticate: Basic realm="sockctl"'* ]]
}

@test "proxy server: --deny turns a client away, --json names target, bytes and reason per client" {
	start_pserver --proxy-server socks5 --json --deny 127.0.0.2
	start_target 1
	through --proxy socks5://127.0.0.1:1080
	wait_for 10 grep -q '"event":"proxy"' "$D/pserver.err"
	run jq -c 'select(.event == "proxy") | [.target, .target_port, .bytes_up, .bytes_down, .reason, .ok]' \
		"$D/pserver.err"
	[ "$output" = '["127.0.0.1",5000,1048576,786432,"eof",true]' ]
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect -s 127.0.0.2 \
		--proxy socks5://127.0.0.1:1080 127.0.0.1 5000 </dev/null
	wait_for 10 grep -q '"event":"refused".*"reason":"denied' "$D/pserver.err"
}

@test "proxy server: -m 1 resets a second client while the first is served" {
	start_pserver --proxy-server socks5 -v -m 1
	# the first client: connected, in its handshake, for 3 s
	bg in_ns p python3 -c 'import socket, time
s = socket.create_connection(("127.0.0.1", 1080)); time.sleep(3)'
	wait_for 10 eval "ss -N $(ns p) -Htn state established 'dport = :1080' | grep -q ."
	run -1 timeout 20 ip netns exec "$(ns p)" "$SOCKCTL" connect \
		--proxy socks5://127.0.0.1:1080 127.0.0.1 5000 </dev/null
	wait_for 10 grep -q "refused 127.0.0.1:[0-9]*: max-conns" "$D/pserver.err"
}

@test "proxy server: hostile clients (wrong version, garbage, a GET, slowloris) are closed, the proxy serves on" {
	start_pserver --proxy-server socks5 -v --idle-timeout 1
	start_target 1
	in_ns p python3 - <<-'PY'
		import socket, time
		def ask(data, pause=0):
		    s = socket.create_connection(("127.0.0.1", 1080), timeout=10)
		    s.sendall(data)
		    time.sleep(pause)
		    try:
		        got = s.recv(100)
		    except ConnectionResetError:
		        got = b"reset"
		    s.close()
		    return got
		# SOCKS4 to a SOCKS5 proxy, then a reserved byte that is not 0
		assert ask(b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00") == b""
		assert ask(b"\x05\x01\x00\x05\x01\x07\x01\x7f\x00\x00\x01\x13\x88")[:2] == b"\x05\x00"
		# slowloris: half a greeting, then nothing: closed after --idle-timeout
		t0 = time.time()
		assert ask(b"\x05\x02\x00") == b""
		assert 0.5 < time.time() - t0 < 8, time.time() - t0
	PY
	wait_for 10 grep -q "(bad-request: not SOCKS version 5)" "$D/pserver.err"
	wait_for 10 grep -q "(bad-request: reserved byte is not 0)" "$D/pserver.err"
	wait_for 10 grep -q "(handshake-timeout)" "$D/pserver.err"
	through --proxy socks5://127.0.0.1:1080
	kill "$PSPID"
	wait_pid 10 "$PSPID"
	wait_for 10 eval '! tcp_listening 1080 p'
	start_pserver --proxy-server http -v
	run -0 timeout 10 ip netns exec "$(ns p)" sh -c \
		'printf "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n" | "$1" connect 127.0.0.1 1080' sh "$SOCKCTL"
	[[ ${lines[0]} == "HTTP/1.1 400 Bad Request"* ]]
	wait_for 10 grep -q "(bad-request: not a CONNECT request)" "$D/pserver.err"
}

@test "proxy server: bad --proxy-server input is status 2" {
	assert_usage_error "--proxy-server 'socks4'" "$SOCKCTL" listen --proxy-server socks4 0
	assert_usage_error "needs a TCP listener" "$SOCKCTL" listen -u --proxy-server socks5 0
	assert_usage_error "--proxy-auth needs --proxy-server" "$SOCKCTL" listen --proxy-auth /x 0
	printf 'nocolon\n' >"$D/bad"
	assert_usage_error "line 1: give USER:PASSWORD" "$SOCKCTL" listen --proxy-server socks5 \
		--proxy-auth "$D/bad" 127.0.0.1 0
}

# ---- ssh's ProxyCommand, the real-world client ----

@test "proxy: ssh -o ProxyCommand='sockctl connect --proxy socks5h://...' to sshd in the namespace" {
	command -v /usr/sbin/sshd || skip "openssh-server is not installed (deps.sh installs it)"
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$D/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$D/id"
	cp "$D/id.pub" "$D/authorized_keys"
	chmod 600 "$D/authorized_keys"
	cat >"$D/sshd_config" <<-EOF2
		Port 2222
		ListenAddress 127.0.0.1
		HostKey $D/hostkey
		AuthorizedKeysFile $D/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PidFile none
	EOF2
	bg ip netns exec "$(ns p)" /usr/sbin/sshd -D -e -f "$D/sshd_config" 2>"$D/sshd.log"
	wait_for 10 tcp_listening 2222 p
	start_microsocks
	PSPORT=1082 start_pserver --proxy-server socks5
	for url in socks5h://127.0.0.1:1080 socks5h://127.0.0.1:1082; do
		timeout 60 ip netns exec "$(ns p)" ssh -F /dev/null -i "$D/id" -p 2222 \
			-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o LogLevel=ERROR -o ProxyCommand="$SOCKCTL connect --proxy $url %h %p" \
			"$(id -un)@localhost" "sha256sum | cut -c1-64; cat '$D/B'" <"$D/A" >"$D/ssh.out" ||
			{ cat "$D/sshd.log"; return 1; }
		[ "$(head -c 64 "$D/ssh.out")" = "$(sha "$D/A")" ]
		[ "$(tail -c +66 "$D/ssh.out" | sha256sum | cut -d' ' -f1)" = "$(sha "$D/B")" ]
	done
}

@test "proxy: listen --forward --proxy: each client's outbound leg is a tunnel through microsocks (sha256 both ways)" {
	start_microsocks
	start_target 1
	bg in_ns p "$SOCKCTL" listen -v --forward 127.0.0.1:5000 --proxy socks5://127.0.0.1:1080 \
		127.0.0.1 6000 2>"$D/fwd.err"
	wait_for 10 tcp_listening 6000 p
	: >"$D/hash"
	timeout 60 ip netns exec "$(ns p)" "$SOCKCTL" connect --no-shutdown 127.0.0.1 6000 \
		<"$D/A" >"$D/got"
	wait_for 10 test -s "$D/hash"
	[ "$(cat "$D/hash")" = "$(sha "$D/A")" ]
	[ "$(sha "$D/got")" = "$(sha "$D/B")" ]
	wait_for 10 grep -q "socks5 proxy 127.0.0.1 port 1080: tunnel to 127.0.0.1 port 5000 open" "$D/fwd.err"
	assert_usage_error "--proxy and -x need --forward" "$SOCKCTL" listen --proxy socks5://127.0.0.1:1 127.0.0.1 0
	assert_usage_error "a proxy (--proxy, -x) carries TCP" "$SOCKCTL" listen -u --forward 127.0.0.1:9 -x 127.0.0.1:1 127.0.0.1 0
}
