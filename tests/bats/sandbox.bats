#!/usr/bin/env bats
# The sandbox after set-up (issue 13): every long-running command is under a
# seccomp filter (Seccomp: 2) with no_new_privs; a forbidden syscall kills it
# by SIGSYS; Landlock refuses files; --no-sandbox and SOCKCTL_SANDBOX_LOG.
load helper

teardown() { common_teardown; }

# the test build: ./sockctl plus cmd/sandbox.c's hook (make check sets it)
hooks() {
	if [ -z "${SOCKCTL_HOOKS:-}" ] || [ ! -x "$SOCKCTL_HOOKS" ]; then
		echo "SOCKCTL_HOOKS is not the hooks binary (run through make check): '${SOCKCTL_HOOKS:-}'" >&2
		return 1
	fi
}

# confined PID ERRFILE: wait (10 s) for the -v line saying the filter is
# on, then the kernel must say so too.
confined() {
	local pid=$1 err=$2 st
	wait_for 10 grep -q 'sandbox: seccomp on' "$err" || {
		echo "no 'sandbox: seccomp on' in: $(cat "$err")" >&2
		return 1
	}
	st=$(cat "/proc/$pid/status")
	grep -qx $'Seccomp:\t2' <<<"$st" || { echo "pid $pid: $(grep Seccomp <<<"$st")" >&2; return 1; }
	grep -qx $'NoNewPrivs:\t1' <<<"$st" || { echo "pid $pid: $(grep NoNewPrivs <<<"$st")" >&2; return 1; }
}

# a TCP peer on 127.0.0.1 that accepts and holds each connection, silent
silent_peer() {
	bg timeout 60 python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
held = []
while True:
    c, _ = s.accept(); held.append(c)'
	PEER=$(bound_port "$BG_PID")
}

@test "sandbox: listen waiting for its client is confined (Seccomp 2, NoNewPrivs 1)" {
	local err="$BATS_TEST_TMPDIR/l.err"
	start_listen "$err" -w 30 127.0.0.1 0 </dev/null
	confined "$LPID" "$err"
	grep -q 'sandbox: seccomp on (listen, [0-9]* syscalls allowed, others kill), landlock' "$err"
}

@test "sandbox: listen -k --echo, listen -u and listen -U -k are confined" {
	local err="$BATS_TEST_TMPDIR/l.err"
	start_listen "$err" -k --echo 127.0.0.1 0 </dev/null
	confined "$LPID" "$err"
	echo ping | nc -N -w 5 127.0.0.1 "$PORT" | grep -qx ping
	kill "$LPID"
	start_listen "$err" -u 127.0.0.1 0 </dev/null
	confined "$LPID" "$err"
	kill "$LPID"
	local sock="$BATS_TEST_TMPDIR/k.sock"
	start_listen "$err" -k -U "$sock" </dev/null
	confined "$LPID" "$err"
	# Landlock lets it remove its own socket file at the end, on SIGTERM too
	kill "$LPID"
	wait_pid 5 "$LPID"
	[ ! -e "$sock" ]
	# an abstract name has no file and no directory for Landlock
	start_listen "$err" -k -U "@sockctl-sandbox-$$" </dev/null
	confined "$LPID" "$err"
}

@test "sandbox: udp-recv and a relaying connect are confined" {
	local err="$BATS_TEST_TMPDIR/r.err"
	bg "$SOCKCTL" udp-recv -v 127.0.0.1 0 2>"$err"
	confined "$BG_PID" "$err"
	silent_peer
	bg "$SOCKCTL" connect -v -d 127.0.0.1 "$PEER" 2>"$BATS_TEST_TMPDIR/c.err"
	confined "$BG_PID" "$BATS_TEST_TMPDIR/c.err"
	grep -q 'seccomp on (connect relay' "$BATS_TEST_TMPDIR/c.err"
}

@test "sandbox: raw-icmp is confined after its socket is open and CAP_NET_RAW dropped" {
	local err="$BATS_TEST_TMPDIR/p.err"
	bg "$SOCKCTL" raw-icmp -v -c 100000 -i 0.2 127.0.0.1 2>"$err" >/dev/null
	confined "$BG_PID" "$err"
	grep -q $'CapEff:\t0000000000000000' "/proc/$BG_PID/status"
}

@test "sandbox: --no-sandbox leaves the process unconfined, and -v says so" {
	local err="$BATS_TEST_TMPDIR/l.err"
	start_listen "$err" --no-sandbox -w 30 127.0.0.1 0 </dev/null
	wait_for 10 grep -q 'sandbox: off (--no-sandbox)' "$err"
	grep -qx $'Seccomp:\t0' "/proc/$LPID/status"
}

@test "sandbox: every command takes --no-sandbox and says in -v whether the filter is on" {
	run -0 "$SOCKCTL" resolve -v --numeric-host 127.0.0.1 80
	[[ $output == *"sandbox: seccomp on (resolve, "*" syscalls allowed"* ]]
	run -0 "$SOCKCTL" resolve -v --no-sandbox --numeric-host 127.0.0.1 80
	[[ $output == *"sandbox: off (--no-sandbox)"* ]]
	run -0 "$SOCKCTL" raw-icmp -v -c 1 127.0.0.1
	[[ $output == *"sandbox: seccomp on (raw-icmp, "* ]]
	local c
	for c in resolve connect listen udp-send udp-recv raw-icmp; do
		"$SOCKCTL" "$c" --list-options | grep -q $'^--no-sandbox\t'
	done
}

@test "sandbox: connect -z may still open and connect sockets under its filter" {
	silent_peer
	local closed
	closed=$(closed_port)
	run -0 "$SOCKCTL" connect -v -z -w 2 127.0.0.1 "$PEER,$closed"
	[[ $output == *"seccomp on (connect -z"* ]]
	[[ $output == *"127.0.0.1 $PEER open"* ]]
	[[ $output == *"127.0.0.1 $closed closed"* ]]
}

@test "sandbox: execve after set-up is killed by SIGSYS (test hook)" {
	hooks
	local st=0
	SOCKCTL_TEST_FORBIDDEN=execve "$SOCKCTL_HOOKS" resolve --numeric-host 127.0.0.1 80 \
		>/dev/null 2>"$BATS_TEST_TMPDIR/err" || st=$?
	[ "$st" -eq 159 ] || { echo "status $st: $(cat "$BATS_TEST_TMPDIR/err")"; return 1; }
	# the same, unconfined: execve runs /bin/true, status 0
	SOCKCTL_TEST_FORBIDDEN=execve "$SOCKCTL_HOOKS" resolve --no-sandbox --numeric-host \
		127.0.0.1 80 >/dev/null
}

@test "sandbox: opening a new file after set-up is killed by SIGSYS (test hook)" {
	hooks
	local st=0 err="$BATS_TEST_TMPDIR/err" want=159
	# make check SANITIZE=1: the filter lets the sanitizers open their
	# report files, so there Landlock is what refuses (EACCES), no kill
	readelf -sW "$SOCKCTL_HOOKS" | grep -q __asan_init && want=1
	silent_peer
	SOCKCTL_TEST_FORBIDDEN=open timeout 20 "$SOCKCTL_HOOKS" connect -d -w 2 127.0.0.1 \
		"$PEER" </dev/null >/dev/null 2>"$err" || st=$?
	[ "$st" -eq "$want" ] || { echo "status $st: $(cat "$err")"; return 1; }
	[ "$want" -eq 159 ] || grep -q 'open was allowed: fd -1 (Permission denied)' "$err"
	st=0
	SOCKCTL_TEST_FORBIDDEN=open timeout 20 "$SOCKCTL_HOOKS" udp-send 127.0.0.1 9 x \
		>/dev/null 2>"$err" || st=$?
	[ "$want" -ne 159 ] || [ "$st" -eq 159 ]
	[ ! -e /tmp/sockctl-sandbox-test ]
}

@test "sandbox: SOCKCTL_SANDBOX_LOG=1 logs instead of killing; Landlock still refuses the file" {
	hooks
	local f=/tmp/sockctl-sandbox-test
	rm -f "$f"
	SOCKCTL_SANDBOX_LOG=1 SOCKCTL_TEST_FORBIDDEN=open run -0 "$SOCKCTL_HOOKS" resolve -v \
		--numeric-host 127.0.0.1 80
	[[ $output == *"others logged"* ]]
	[[ $output == *"landlock ABI "* ]]
	[[ $output == *"open was allowed: fd -1 (Permission denied)"* ]]
	[ ! -e "$f" ]
}

@test "sandbox: ./sockctl has no test hook" {
	SOCKCTL_TEST_FORBIDDEN=execve run -0 "$SOCKCTL" resolve --numeric-host 127.0.0.1 80
	[[ $output == *127.0.0.1* ]]
	! grep -q SOCKCTL_TEST_FORBIDDEN "$SOCKCTL"
}

@test "sandbox: a scoped IPv6 peer (fe80::%IFACE) is named under the filter (if_indextoname)" {
	ns_add a
	ns_add b
	ns_link a b 198.18.13.1/24 198.18.13.2/24 fe80::a/64 fe80::b/64
	local va="v$$a" err="$BATS_TEST_TMPDIR/r.err"
	va=${va:0:15}
	bg in_ns b "$SOCKCTL" udp-recv -v -c 1 -w 10 :: 0 >"$BATS_TEST_TMPDIR/out" 2>"$err"
	local port
	port=$(listen_port "$err")
	wait_for 10 grep -q 'sandbox: seccomp on' "$err"
	in_ns a "$SOCKCTL" udp-send -q "fe80::b%$va" "$port" hello
	wait_pid 10 "$BG_PID"
	[ "$WAIT_STATUS" -eq 0 ] || { cat "$err"; return 1; }
	# the interface by name, as without the filter (not a bare %index)
	grep -Eq '^fe80::[0-9a-f:]+%v[^ ]+ [0-9]+ 5: hello$' "$BATS_TEST_TMPDIR/out" ||
		{ cat "$BATS_TEST_TMPDIR/out"; return 1; }
}

@test "sandbox: listen -k --tls, -k --forward and -k --proxy-server serve under their filters" {
	local err="$BATS_TEST_TMPDIR/l.err" eerr="$BATS_TEST_TMPDIR/e.err" echo_port
	start_listen "$err" -k --echo --tls 127.0.0.1 0 </dev/null
	confined "$LPID" "$err"
	grep -q 'seccomp on (listen --tls, ' "$err"
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -w 10 --tls --no-verify 127.0.0.1 \
		"$PORT" < <(printf tls-echo)
	[ "$output" = tls-echo ]
	kill "$LPID"
	start_listen "$eerr" -k --echo 127.0.0.1 0 </dev/null
	echo_port=$PORT
	# the target by name: looked up for each client, under the filter
	start_listen "$err" -k -4 --forward "localhost:$echo_port" 127.0.0.1 0 </dev/null
	confined "$LPID" "$err"
	grep -q 'seccomp on (listen --forward, ' "$err"
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -w 10 127.0.0.1 "$PORT" \
		< <(printf forwarded)
	[ "$output" = forwarded ]
	kill "$LPID"
	start_listen "$err" -k -4 --proxy-server socks5 127.0.0.1 0 </dev/null
	confined "$LPID" "$err"
	grep -q 'seccomp on (listen --proxy-server, ' "$err"
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -w 10 \
		--proxy "socks5h://127.0.0.1:$PORT" localhost "$echo_port" < <(printf proxied)
	[ "$output" = proxied ]
}

@test "sandbox: connect --tls is confined after its handshake; -e/-c run with no filter, -v says so" {
	local err="$BATS_TEST_TMPDIR/l.err" cerr="$BATS_TEST_TMPDIR/c.err"
	start_listen "$err" -k --echo --tls 127.0.0.1 0 </dev/null
	bg "$SOCKCTL" connect -v -d --tls --no-verify 127.0.0.1 "$PORT" 2>"$cerr"
	confined "$BG_PID" "$cerr"
	grep -q 'seccomp on (connect --tls, ' "$cerr"
	grep -q 'tls TLSv1' "$cerr" # the handshake came first
	kill "$LPID"
	# -e: the program would inherit a filter: none (nor Landlock), no_new_privs only
	start_listen "$err" -e cat 127.0.0.1 0 </dev/null
	wait_for 10 grep -q 'sandbox: seccomp and landlock off (-e/-c' "$err"
	grep -qx $'Seccomp:\t0' "/proc/$LPID/status"
	grep -qx $'NoNewPrivs:\t1' "/proc/$LPID/status"
	run -0 --separate-stderr timeout 20 "$SOCKCTL" connect -w 10 127.0.0.1 "$PORT" \
		< <(printf via-cat)
	[ "$output" = via-cat ]
}

@test "sandbox: connect --count, udp-send --trace (--resolve) and connect -z --tls say their mode" {
	silent_peer
	run -0 "$SOCKCTL" connect -v --count 1 "127.0.0.1:$PEER"
	[[ $output == *"seccomp on (connect --count, "* ]]
	# --resolve's threads name the hop from /etc/hosts under the filter; in a
	# namespace of its own so that no DNS query can leave the machine
	run -0 unshare -n sh -c 'ip link set lo up && "$0" udp-send -v --trace --resolve \
		--max-ttl 2 -W 2 127.0.0.1' "$SOCKCTL"
	[[ $output == *"seccomp on (--trace (--resolve, --openmetrics), "* ]]
	[[ $output == *localhost* ]]
	run "$SOCKCTL" connect -v -z --tls --no-verify -w 2 127.0.0.1 "$PEER"
	[[ $output == *"seccomp on (connect -z --tls, "* ]]
}
