#!/usr/bin/env bats
# sockctl connect and the relay: real peers (nc.openbsd, socat, python3),
# data integrity with cmp/sha256, EOF rules, timeouts, -z port checks.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

PEER="$BATS_TEST_DIRNAME/peer.py"

# peer MODE [ARG]: start tests/bats/peer.py, wait until it listens; port in $PORT.
peer() {
	local ready="$BATS_TEST_TMPDIR/ready.$RANDOM"
	bg python3 "$PEER" "$1" "$ready" "${2:-}"
	PEER_PID=$BG_PID
	wait_for 10 test -s "$ready" || return 1
	PORT=$(cat "$ready")
}

# nc_listen ARGS...: nc.openbsd -l on 127.0.0.1, a port the kernel chooses
# ($PORT), in the background.
nc_listen() {
	bg nc.openbsd -l 127.0.0.1 0 "$@"
	NC_PID=$BG_PID
	PORT=$(bound_port "$NC_PID")
}

mkdata() { head -c "$2" /dev/urandom >"$1"; }

# ---- bad input: one line, status 2, nothing done ----

@test "connect: bad input is one line on stderr and status 2" {
	assert_usage_error "port" "$SOCKCTL" connect 127.0.0.1 70000
	assert_usage_error "20-25" "$SOCKCTL" connect 127.0.0.1 20-25
	assert_usage_error "--timeout" "$SOCKCTL" connect -w xyz 127.0.0.1 80
	assert_usage_error "--send-only" "$SOCKCTL" connect -d --send-only 127.0.0.1 80
	assert_usage_error "--bogus" "$SOCKCTL" connect --bogus 127.0.0.1 80
	assert_usage_error "--parallel" "$SOCKCTL" connect --parallel 10 127.0.0.1 80
	assert_usage_error "--parallel" "$SOCKCTL" connect -z --parallel 0 127.0.0.1 80
	assert_usage_error "-U" "$SOCKCTL" connect -U -4 /tmp/x
	assert_usage_error "--type" "$SOCKCTL" connect --type seqpacket 127.0.0.1 80
	assert_usage_error "--tcp-info" "$SOCKCTL" connect -u --tcp-info 127.0.0.1 80
	assert_usage_error "1.2.3.4.5" "$SOCKCTL" connect 1.2.3.4.5 80
	assert_usage_error "--ttl" "$SOCKCTL" connect --ttl 0 127.0.0.1 80
	assert_usage_error "-z" "$SOCKCTL" connect -z -q 1 127.0.0.1 80
	assert_usage_error "path" "$SOCKCTL" connect -U "$(printf 'x%.0s' {1..200})"
}

@test "connect: refused is status 1 naming the address" {
	port=$(closed_port)
	run -1 --separate-stderr "$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	[ -z "$output" ]
	[ "$stderr" = "sockctl connect: 127.0.0.1:$port: connection refused" ]
}

@test "connect: unknown host is status 1" {
	run -1 --separate-stderr unshare_no_dns "$SOCKCTL" connect nosuch.invalid 80 </dev/null
	[[ $stderr == *"nosuch.invalid"*EAI_NONAME* ]]
}

# ---- interop and data integrity ----

@test "connect -> nc.openbsd -l: 1 byte, 64 KiB and 256 MiB arrive intact" {
	for size in 1 65536 268435456; do
		mkdata "$BATS_TEST_TMPDIR/in" "$size"
		bg sh -c "exec nc.openbsd -l 127.0.0.1 0 >'$BATS_TEST_TMPDIR/out'"
		PORT=$(bound_port "$BG_PID")
		run -0 timeout 60 "$SOCKCTL" connect 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
		wait_pid 30 "$BG_PID"
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	done
}

@test "nc.openbsd -l -> connect: 1 byte, 64 KiB and 256 MiB arrive intact on stdout" {
	for size in 1 65536 268435456; do
		mkdata "$BATS_TEST_TMPDIR/in" "$size"
		bg sh -c "exec nc.openbsd -N -l 127.0.0.1 0 <'$BATS_TEST_TMPDIR/in'"
		PORT=$(bound_port "$BG_PID")
		# -d: no EOF to nc, which would stop sending when it sees one
		timeout 60 "$SOCKCTL" connect -d 127.0.0.1 "$PORT" </dev/null >"$BATS_TEST_TMPDIR/out"
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	done
}

@test "full duplex through a socat echo server: 256 MiB both ways at once, through pipes" {
	mkdata "$BATS_TEST_TMPDIR/in" 268435456
	# EXEC:cat, not PIPE: socat's PIPE is one process writing into and
	# reading from its own pipe, which can block itself with data both ways
	bg socat TCP-LISTEN:0,bind=127.0.0.1,reuseaddr EXEC:cat
	PORT=$(bound_port "$BG_PID")
	cat "$BATS_TEST_TMPDIR/in" | timeout 120 "$SOCKCTL" connect 127.0.0.1 "$PORT" | cat >"$BATS_TEST_TMPDIR/out"
	[ "${PIPESTATUS[*]}" = "0 0 0" ]
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "full duplex with 1 byte and 64 KiB over IPv6 through socat" {
	for size in 1 65536; do
		mkdata "$BATS_TEST_TMPDIR/in" "$size"
		bg socat TCP6-LISTEN:0,bind=[::1],reuseaddr EXEC:cat
		PORT=$(bound_port "$BG_PID")
		timeout 30 "$SOCKCTL" connect "[::1]:$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
		cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	done
}

@test "half-close: stdin EOF shuts down writing and the reply still arrives (python, IPv4 and IPv6)" {
	mkdata "$BATS_TEST_TMPDIR/in" 1000000
	want="$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1) 1000000"
	peer sha
	run -0 timeout 30 "$SOCKCTL" connect 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
	[ "$output" = "$want" ]
	peer sha6
	run -0 timeout 30 "$SOCKCTL" connect -6 ::1 "$PORT" <"$BATS_TEST_TMPDIR/in"
	[ "$output" = "$want" ]
}

@test "half-close by the peer: its EOF arrives, and the whole file is still sent" {
	mkdata "$BATS_TEST_TMPDIR/in" 4000000
	want="$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1) 4000000"
	peer halfclose "$BATS_TEST_TMPDIR/got"
	run -0 timeout 30 "$SOCKCTL" connect 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
	[ "$output" = hello ]
	wait_pid 10 "$PEER_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$want" ]
}

@test "the peer closes while stdin is still open: connect keeps sending until stdin's EOF, status 0" {
	peer halfclose "$BATS_TEST_TMPDIR/got"
	# stdin stays open 1 s after the peer's EOF, then ends: all of it is sent
	run -0 --separate-stderr timeout 20 bash -c "{ printf one; sleep 1; printf two; } | exec '$SOCKCTL' connect 127.0.0.1 $PORT"
	[ "$output" = hello ]
	[ -z "$stderr" ]
	wait_pid 10 "$PEER_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$(printf onetwo | sha256sum | cut -d' ' -f1) 6" ]
}

@test "--exit-on-peer-eof: connect ends at the peer's EOF though stdin is open, status 0, no notice for an empty stdin" {
	bg sh -c "printf 'bye\n' | exec nc.openbsd -N -l 127.0.0.1 0"
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect --exit-on-peer-eof 127.0.0.1 $PORT < <(sleep 60)"
	[ "$output" = bye ]
	[ -z "$stderr" ]
}

@test "stdin fully sent before the peer closes: no notice" {
	bg sh -c "exec nc.openbsd -N -l 127.0.0.1 0 >/dev/null </dev/null"
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 20 bash -c "printf 'all of it' | exec '$SOCKCTL' connect 127.0.0.1 $PORT"
	[ -z "$stderr" ]
}

@test "the peer resets mid-stream: status 1 and a message" {
	peer reset
	run -1 --separate-stderr timeout 30 "$SOCKCTL" connect 127.0.0.1 "$PORT" </dev/zero
	[[ $stderr =~ ^"sockctl connect: 127.0.0.1:$PORT: connection reset by peer after "[0-9]+" bytes sent"(", "[0-9]+" received"|"; "[0-9]+" bytes read from stdin were not delivered")$ ]]
}

@test "stdout write error (/dev/full): status 1 and a message" {
	bg sh -c "head -c 100000 /dev/zero | exec nc.openbsd -N -l 127.0.0.1 0"
	PORT=$(bound_port "$BG_PID")
	run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect -d 127.0.0.1 $PORT </dev/null >/dev/full"
	[[ $stderr == *"write error on stdout: no space left on device"* ]]
}

@test "--no-shutdown -q: stdin EOF does not reach the peer; connect quits after the delay" {
	peer sha
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect --no-shutdown -q 300ms 127.0.0.1 "$PORT" <<<"hi"
	[ -z "$output" ] # the peer never saw EOF, so it never answered
}

@test "-d/--recv-only never reads stdin; --send-only never reads the socket" {
	bg sh -c "printf 'from server\n' | exec nc.openbsd -N -l 127.0.0.1 0"
	PORT=$(bound_port "$BG_PID")
	run -0 timeout 20 "$SOCKCTL" connect -d 127.0.0.1 "$PORT" <<<"unread"
	[ "$output" = "from server" ]
	peer sha
	run -0 timeout 20 "$SOCKCTL" connect --send-only 127.0.0.1 "$PORT" <<<"data"
	[ -z "$output" ]
}

@test "idle timeout: a silent server ends the relay with status 1" {
	peer silent
	run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect --idle-timeout 500ms 127.0.0.1 $PORT < <(sleep 30)"
	[ "$stderr" = "sockctl connect: idle timeout after 500ms" ]
}

# ---- unix and udp ----

@test "unix stream: socat echo server, 64 KiB intact, -v names the path" {
	sock="$BATS_TEST_TMPDIR/s"
	mkdata "$BATS_TEST_TMPDIR/in" 65536
	bg socat UNIX-LISTEN:"$sock" EXEC:cat
	wait_for 10 test -S "$sock"
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -v -U "$sock" <"$BATS_TEST_TMPDIR/in"
	wait_for 10 test -S "$sock" || true
	[[ $stderr == *"connected to unix:$sock"* ]]
	bg socat UNIX-LISTEN:"$sock" EXEC:cat
	wait_for 10 test -S "$sock"
	timeout 20 "$SOCKCTL" connect "unix:$sock" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "unix seqpacket and dgram keep message boundaries" {
	peer unix-seqpacket "$BATS_TEST_TMPDIR/sp"
	run -0 timeout 20 "$SOCKCTL" connect --type seqpacket -U "$BATS_TEST_TMPDIR/sp" <<<"one"
	[ "$output" = "echo:one" ]
	peer unix-dgram "$BATS_TEST_TMPDIR/dg"
	run -0 timeout 20 "$SOCKCTL" connect -u -w 1 -U "$BATS_TEST_TMPDIR/dg" <<<"two"
	[ "$output" = "echo:two" ]
}

@test "udp: one datagram out, the reply on stdout, ends on -w idle with status 0 (IPv4, IPv6)" {
	peer udp-echo
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -u -w 500ms 127.0.0.1 "$PORT" <<<"ping"
	[ "$output" = "echo:ping" ]
	peer udp-echo6
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -u -w 500ms "[::1]:$PORT" <<<"ping6"
	[ "$output" = "echo:ping6" ]
}

@test "udp to a closed port: ICMP port unreachable is reported, status 1" {
	port=$(closed_port udp)
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect -u -w 2 127.0.0.1 "$port" <<<"x"
	[[ $stderr == *"127.0.0.1:$port"*"connection refused"* ]]
}

# ---- -v, --json, source address, Happy Eyeballs, tcp-info, nonblock ----

@test "-v shows the attempt, both ends, and the byte counts; --json the same as events" {
	peer sha
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -v 127.0.0.1 "$PORT" <<<"abc"
	[[ $stderr == *"trying 127.0.0.1:$PORT"* ]]
	[[ $stderr == *"connected to 127.0.0.1:$PORT in "* ]]
	[[ $stderr == *"local 127.0.0.1:"*", peer 127.0.0.1:$PORT"* ]]
	[[ $stderr == *"4 bytes sent, 67 received in "* ]]
	peer sha
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect --json --tcp-info 127.0.0.1 "$PORT" <<<"abc"
	[ "$(jq -r 'select(.event=="connected") | .peer' <<<"$stderr")" = "127.0.0.1:$PORT" ]
	[ "$(jq -r 'select(.event=="closed") | "\(.sent) \(.received)"' <<<"$stderr")" = "4 67" ]
	[ "$(jq -r 'select(.event=="tcp_info") | (.cwnd > 0)' <<<"$stderr")" = true ]
	[[ $output == *" 4" ]]
}

@test "-s and -p choose the source address and port" {
	sport=$(free_port)
	peer peername
	run -0 timeout 20 "$SOCKCTL" connect -s 127.0.0.2 -p "$sport" 127.0.0.1 "$PORT" </dev/null
	[ "$output" = "127.0.0.2 $sport" ]
}

@test "Happy Eyeballs: IPv6 is black-holed, the IPv4 address of the same name wins" {
	ns_add cli && ns_add dst
	ns_link cli dst 198.18.0.1/24 198.18.0.2/24 2001:db8::1/64 2001:db8::2/64
	in_ns dst nft -f - <<-'NFT'
		table ip6 t {
			chain in { type filter hook input priority 0; policy drop; }
		}
	NFT
	mkdir -p "/etc/netns/$(ns cli)"
	printf '2001:db8::2 dual.test\n198.18.0.2 dual.test\n' >"/etc/netns/$(ns cli)/hosts"
	bg in_ns dst sh -c 'printf "v4 here\n" | exec nc.openbsd -N -l 198.18.0.2 7000'
	wait_for 10 in_ns dst sh -c 'ss -Htln "sport = :7000" | grep -q .'
	run -0 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -v -d -w 5 dual.test 7000
	[ "$output" = "v4 here" ]
	[[ $stderr == *"connected to 198.18.0.2:7000"* ]]
	# getaddrinfo put IPv6 first: that attempt was started and lost the race
	if grep -q 'trying \[2001:db8::2\]' <<<"$stderr"; then
		[[ $stderr == *"trying [2001:db8::2]:7000"*"trying 198.18.0.2:7000"* ]]
	fi
}

@test "--nonblock shows EINPROGRESS and the final SO_ERROR" {
	port=$(closed_port)
	run -1 --separate-stderr "$SOCKCTL" connect --nonblock 127.0.0.1 "$port" </dev/null
	[[ $stderr == *"connect(127.0.0.1:$port) = -1 (EINPROGRESS 115)"* ]]
	[[ $stderr == *"SO_ERROR = ECONNREFUSED (111)"* ]]
}

# ---- -z port checks ----

@test "-z: open ports listed in order, status 0; none open is status 1" {
	b=$(closed_port)
	bg nc.openbsd -k -l 127.0.0.1 0
	a=$(bound_port "$BG_PID")
	bg nc.openbsd -k -l 127.0.0.1 0
	c=$(bound_port "$BG_PID")
	list=$(printf '%s\n' "$a" "$b" "$c" | sort -n | paste -sd,)
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -z 127.0.0.1 "$list"
	[ "$output" = "$(printf '127.0.0.1 %s open\n' $(printf '%s\n' "$a" "$c" | sort -n))" ]
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -z -v 127.0.0.1 "$b,$a"
	[ "${lines[0]}" = "127.0.0.1 $b closed" ]
	[ "${lines[1]}" = "127.0.0.1 $a open" ]
	run -0 timeout 20 "$SOCKCTL" connect -z --json 127.0.0.1 "$a"
	[ "$(jq -r '"\(.address) \(.port) \(.state) \(.ms >= 0)"' <<<"$output")" = "127.0.0.1 $a open true" ]
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect -z 127.0.0.1 "$b"
	[ -z "$output" ]
}

@test "-z 1-65535 on loopback finds a listener and finishes" {
	bg nc.openbsd -k -l 127.0.0.1 0
	a=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 120 "$SOCKCTL" connect -z 127.0.0.1 1-65535
	[[ $output == *"127.0.0.1 $a open"* ]]
}

@test "-z -u: closed only when ICMP says so, else open|filtered; an answer is open" {
	port=$(closed_port udp)
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect -z -u -v -w 1 127.0.0.1 "$port"
	[ "$output" = "127.0.0.1 $port closed" ]
	peer udp-echo
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -z -u -w 2 127.0.0.1 "$PORT"
	[ "$output" = "127.0.0.1 $PORT open" ]
}

# ---- a namespace host that drops every packet ----

drop_host() {
	ns_add cli && ns_add dst || return 1
	ns_link cli dst 198.18.0.1/24 198.18.0.2/24 || return 1
	in_ns dst nft -f - <<-'NFT'
		table inet t {
			chain in { type filter hook input priority 0; policy drop; }
		}
	NFT
}

@test "connect timeout against a host that drops packets: status 1, bounded" {
	drop_host
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -w 1 198.18.0.2 80 </dev/null
	[ "$stderr" = "sockctl connect: 198.18.0.2:80: connection timed out after 1.0s" ]
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect --connect-timeout 300ms 198.18.0.2 80 </dev/null
	[[ $stderr == *"timed out after 300ms" ]]
}

@test "-z 1-1024 -w 1 against a dropping host: all filtered, bounded" {
	drop_host
	run -1 --separate-stderr in_ns cli timeout 30 "$SOCKCTL" connect -z -v -w 1 198.18.0.2 1-1024
	[ "$(grep -c ' filtered' <<<"$output")" -eq 1024 ]
}

@test "stdout to a reader that leaves: ends quietly by SIGPIPE, like other tools" {
	bg sh -c "exec nc.openbsd -l 127.0.0.1 0 </dev/zero"
	PORT=$(bound_port "$BG_PID")
	run --separate-stderr timeout 20 bash -c "set -o pipefail; '$SOCKCTL' connect -d 127.0.0.1 $PORT </dev/null | head -c 100000 | wc -c"
	[ "$status" -eq 141 ]
	[ "$output" = 100000 ]
	[ -z "$stderr" ]
}

@test "a closed stdin is not mistaken for the socket" {
	bg sh -c "printf 'hi\n' | exec nc.openbsd -N -l 127.0.0.1 0"
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect 127.0.0.1 $PORT <&-"
	[ "$output" = hi ]
}

@test "-z --json -v: one row per port with state, ms and the errno behind it" {
	port=$(closed_port)
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect -z --json -v 127.0.0.1 "$port"
	[ "$(jq -r '"\(.address) \(.port) \(.state) \(.error)"' <<<"$output")" = "127.0.0.1 $port closed ECONNREFUSED" ]
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect -z --json 127.0.0.1 "$port"
	[ -z "$output" ]
}

@test "connect's closed event has a reason: eof, reset (with errno), idle-timeout" {
	peer sha
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect --json 127.0.0.1 "$PORT" <<<"x"
	[[ $stderr == *'"event":"closed"'*'"ok":true,"reason":"eof"}'* ]]
	peer reset
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect --json 127.0.0.1 "$PORT" </dev/zero
	[[ $stderr =~ \"event\":\"closed\".*\"reason\":\"reset\",\"errno\":\"(ECONNRESET|EPIPE)\" ]]
	peer silent
	run -1 --separate-stderr timeout 20 "$SOCKCTL" connect --json --idle-timeout 300ms 127.0.0.1 "$PORT" < <(exec sleep 10)
	[[ $stderr == *'"event":"closed"'*'"reason":"idle-timeout"'* ]]
}

@test "connect -v with stderr on /dev/full: printing the trace does not turn a good connect into ENOSPC" {
	peer sha
	run -0 timeout 20 bash -c "printf data | exec '$SOCKCTL' connect -v 127.0.0.1 $PORT 2>/dev/full"
	[ "$output" = "$(printf data | sha256sum | cut -d' ' -f1) 4" ]
	peer sha
	run -0 timeout 20 bash -c "printf data | exec '$SOCKCTL' connect --json 127.0.0.1 $PORT 2>/dev/full"
	[ "$output" = "$(printf data | sha256sum | cut -d' ' -f1) 4" ]
}

@test "connect -w 0 and --connect-timeout 0 are bad input (status 2, one line)" {
	assert_usage_error "-w/--timeout 0" "$SOCKCTL" connect -w 0 127.0.0.1 9
	assert_usage_error "--connect-timeout 0" "$SOCKCTL" connect --connect-timeout 0 127.0.0.1 9
	assert_usage_error "-w/--timeout 0" "$SOCKCTL" connect -z -w 0 127.0.0.1 9
}

@test "Happy Eyeballs -v: each attempt shows when it started; the next one 250 ms after a silent first" {
	# a link to a namespace where nobody has .2: its ARP/ND never answers,
	# so connects to .2 get no answer at all
	ns_add quiet
	ns_add he
	ns_link he quiet 198.18.0.1/24 198.18.0.3/24 2001:db8::1/64 2001:db8::3/64
	NS=$(ns he)
	mkdir -p "/etc/netns/$NS"
	printf '2001:db8::2 he.test\n198.18.0.2 he.test\n' >"/etc/netns/$NS/hosts"
	run -1 --separate-stderr in_ns he timeout 20 "$SOCKCTL" connect -v -w 1 he.test 80 </dev/null
	echo "$stderr"
	[[ $stderr == *"trying [2001:db8::2]:80 at +0.000s"* ]]
	at=$(printf '%s\n' "$stderr" | sed -n 's/.*trying 198\.18\.0\.2:80 at +\([0-9.]*\)s$/\1/p')
	[ -n "$at" ]
	# never before the 250 ms stagger (a loaded machine only makes it later)
	awk -v t="$at" 'BEGIN { exit !(t >= 0.250) }'
}
