#!/usr/bin/env bats
# valgrind memcheck over representative runs of every command: no invalid
# access, no use of uninitialised memory, no definite leak, no fd left open.
#
# To cover a command, add rows to CASES below: "COMMAND STATUS ARGS...", ARGS
# as shell words (quotes work; $PORT is a free loopback port, $PEER_TCP and
# $PEER_UDP are ports where a python3 echo peer listens on 127.0.0.1).  Every
# command the binary lists also gets its --help and a bad option for free.  A
# command missing from the binary is skipped, saying so.
load helper

CASES=$(cat <<'ROWS'
resolve 0 localhost 80
resolve 0 --json --canonname localhost http
resolve 0 --passive "" 8080
resolve 0 -v --numeric-host -4 127.0.0.1 80
resolve 0 --type dgram --protocol udp ::1 domain
resolve 0 --reverse 127.0.0.1 22
resolve 0 --reverse --json -n ::1 80
resolve 1 --numeric-host nosuch.invalid 80
resolve 2 --reverse 999.1.1.1
resolve 2 --type nosuch localhost
resolve 2 --namereq localhost
resolve 2 -4 -6 localhost
resolve 2
connect 0 -w 2 127.0.0.1 $PEER_TCP
connect 0 -v --json -w 2 127.0.0.1 $PEER_TCP
connect 0 --tcp-info -w 2 127.0.0.1 $PEER_TCP
connect 0 -u -w 0.3 127.0.0.1 $PEER_UDP
connect 0 -z -w 1 127.0.0.1 $PEER_TCP,$PORT
connect 1 -z --json -w 1 127.0.0.1 $PORT
connect 1 -w 1 127.0.0.1 $PORT
connect 2 127.0.0.1 70000
connect 2 -w soon 127.0.0.1 80
listen 1 -w 0.3 127.0.0.1 $PORT
listen 1 -k --echo -w 0.3 127.0.0.1 $PORT
listen 1 -u -w 0.3 127.0.0.1 $PORT
listen 1 -U -w 0.3 $BATS_TEST_TMPDIR/vg.sock
listen 2 -m 0 -k 127.0.0.1 $PORT
listen 2 --allow 1.2.3.4/40 127.0.0.1 $PORT
udp-send 0 -W 2 127.0.0.1 $PEER_UDP hello world
udp-send 0 --json -c 5 --size 64 -W 2 127.0.0.1 $PEER_UDP
udp-send 1 -W 1 127.0.0.1 $PORT x
udp-send 2 127.0.0.1 70000 x
udp-send 2 -i 1 --rate 5 127.0.0.1 9 x
udp-recv 1 -w 0.3 127.0.0.1 $PORT
udp-recv 1 --nonblock --json 127.0.0.1 $PORT
udp-recv 2 -c x 127.0.0.1 $PORT
raw-icmp 0 -c 2 -i 0.01 127.0.0.1
raw-icmp 0 --json -c 1 ::1
raw-icmp 0 -q -f -c 200 127.0.0.1
raw-icmp 0 --type timestamp -c 1 127.0.0.1
raw-icmp 0 -v -s 1400 -t 5 -c 1 127.0.0.1
raw-icmp 2 -c 0 127.0.0.1
raw-icmp 2 --mode bogus 127.0.0.1
ROWS
)

teardown() { common_teardown; }

setup() {
	readelf -sW "$SOCKCTL" | grep -q __asan_init &&
		skip "ASan build (SANITIZE=1): valgrind cannot run it; ASan's leak check covers it"
	command -v valgrind >/dev/null || skip "valgrind not installed (make deps)"
	# a port where nothing listens, yet listen and udp-recv rows bind it:
	# it cannot be held (closed_port), so it comes from free_port
	PORT=$(free_port)
	export PORT
}

# peers: a TCP and a UDP echo on loopback, for commands that need someone to talk to
start_peers() {
	bg timeout 120 python3 -c '
import socket, sys, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 0)); t.listen(16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
def udp():
    while True:
        d, a = u.recvfrom(65535); u.sendto(d, a)
threading.Thread(target=udp, daemon=True).start()
while True:
    c, _ = t.accept()
    def echo(c=c):
        while (d := c.recv(65536)): c.sendall(d)
        c.close()
    threading.Thread(target=echo, daemon=True).start()
'
	PEER_TCP=$(bound_port "$BG_PID")
	PEER_UDP=$(bound_port "$BG_PID" udp)
	export PEER_TCP PEER_UDP
}

# vg STATUS ARGS...: run sockctl ARGS under memcheck (stdin empty), bounded in
# time; fail unless it exits STATUS with a clean report.
vg() {
	local want=$1 log="$BATS_TEST_TMPDIR/vg.log" st
	shift
	timeout -k 5 120 valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--track-fds=yes --log-file="$log" "$SOCKCTL" "$@" \
		</dev/null >"$BATS_TEST_TMPDIR/vg.out" 2>"$BATS_TEST_TMPDIR/vg.err" && st=0 || st=$?
	# fds sockctl leaves open at exit, beyond the three standard ones
	local fds
	fds=$(awk '/Open (file descriptor|AF_)/ { open = $0; next }
		open != "" { if ($0 !~ /inherited from parent/) print open; open = "" }' "$log")
	if [ "$st" -ne "$want" ] || grep -q 'ERROR SUMMARY: [1-9]\|definitely lost' "$log" ||
		[ -n "$fds" ]; then
		echo "sockctl $*: status $st (want $want; 99 = memcheck errors)"
		echo "--- stderr:"; cat "$BATS_TEST_TMPDIR/vg.err"
		echo "--- valgrind:"; cat "$log"
		return 1
	fi
}

has() { "$SOCKCTL" --list-commands | grep -qx -- "$1"; }

# check_command CMD: its rows from CASES plus --help and a bad option.
check_command() {
	local cmd=$1 row name want rest n=0
	has "$cmd" ||
		skip "'$cmd' is not in this binary yet ('sockctl --list-commands')"
	vg 0 "$cmd" --help
	vg 2 "$cmd" --no-such-option
	while IFS= read -r row; do
		read -r name want rest <<<"$row"
		[ "$name" = "$cmd" ] || continue
		eval "set -- $rest"
		# valgrind has no seccomp(2) or Landlock (ENOSYS: "unhandled
		# amd64-linux syscall: 317"), and its JIT maps code, which the
		# filter forbids: memcheck runs the commands unconfined
		vg "$want" "$cmd" --no-sandbox "$@"
		n=$((n + 1))
	done <<<"$CASES"
	[ "$n" -gt 0 ] ||
		skip "'$cmd': only --help and a bad option checked; add its runs to CASES"
	echo "$cmd: $((n + 2)) runs clean"
}

@test "valgrind: resolve" { check_command resolve; }
@test "valgrind: connect" { has connect && start_peers; check_command connect; }
@test "valgrind: listen" { check_command listen; }
@test "valgrind: udp-send" { has udp-send && start_peers; check_command udp-send; }
@test "valgrind: udp-recv" { check_command udp-recv; }
@test "valgrind: raw-icmp" { check_command raw-icmp; }

@test "valgrind: the dispatcher (help, version, unknown command)" {
	vg 0 --version
	vg 0 help
	vg 2 frobnicate
	vg 2
}

@test "valgrind: every listed command has a test above" {
	known=" resolve connect listen udp-send udp-recv raw-icmp "
	for c in $("$SOCKCTL" --list-commands); do
		[[ $known == *" $c "* ]] || { echo "add @test \"valgrind: $c\" to valgrind.bats"; return 1; }
	done
}
