#!/usr/bin/env bats
# Local faults against the real binary: stdout to /dev/full and to a closed
# pipe, stdin closed, SIGINT/SIGTERM mid-run, fd exhaustion, 8 GiB through
# the relay, the largest datagrams, very long and non-UTF-8 arguments.
# Everything on loopback (or in an isolated namespace, where a name could be
# looked up); every wait bounded.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}

# no_ctl FILE: no raw control byte but newline in FILE
no_ctl() {
	! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$1"
}

# a UDP echo peer on $LO:$UDP_PORT (python3), for -W and udp-recv tests;
# it writes the source port of each datagram to $T/echoed (see echoed_from)
udp_echo() {
	bg timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
log = open(sys.argv[3], "a", buffering=1)
while True:
    d, a = s.recvfrom(70000)
    s.sendto(d, a)
    log.write("%d\n" % a[1])' "$LO" 0 "$BATS_TEST_TMPDIR/echoed"
	UDP_PORT=$(bound_port "$BG_PID" udp)
}

# echoed_from PID: how many datagrams udp_echo got from PID's UDP socket
echoed_from() {
	local l
	l=$(ss -Hunap | grep -m1 "pid=$1,") || { echo 0; return; }
	# the first ADDR:PORT is the local end (the State column may be missing)
	l=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /:[0-9]+$/) { print $i; exit } }' <<<"$l")
	grep -cx "${l##*:}" "$BATS_TEST_TMPDIR/echoed" || true
}

# a TCP peer that sends 1 MiB then waits for EOF: $TCP_PORT
tcp_talker() {
	bg sh -c "head -c 1048576 /dev/zero | exec nc.openbsd -l $LO 0"
	TCP_PORT=$(bound_port "$BG_PID")
}

# at_least N CMD...: CMD prints a number >= N (for wait_for, which re-runs it)
at_least() {
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ]
}

# sig_bg CMD...: like bg, with SIGINT and SIGTERM at their defaults, as an
# interactive shell leaves them (a background job of a script ignores SIGINT)
sig_bg() {
	bg env --default-signal=INT,TERM "$@"
}

# ---- stdout to /dev/full: status 1, one message naming stdout ----

full_ok() { # STATUS-FILE ERR-FILE
	[ "$(cat "$1")" = 1 ] || { echo "status $(cat "$1")"; cat "$2"; return 1; }
	grep -q "write error on stdout: no space left on device" "$2" || { cat "$2"; return 1; }
	[ "$(grep -c 'write error on stdout' "$2")" = 1 ]
	no_ctl "$2"
}

@test "stdout to /dev/full: resolve, connect, connect -z, raw-icmp end with status 1 naming stdout" {
	run -1 --separate-stderr bash -c '"$SOCKCTL" resolve --numeric-host 127.0.0.1 80 >/dev/full'
	[ "$stderr" = "sockctl resolve: write error on stdout: no space left on device" ]
	tcp_talker
	run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect -d $LO $TCP_PORT </dev/null >/dev/full"
	[[ $stderr == *"write error on stdout: no space left on device"* ]]
	bg nc.openbsd -k -l "$LO" 0
	PORT=$(bound_port "$BG_PID")
	run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect -z $LO $PORT >/dev/full"
	[ "$stderr" = "sockctl connect: write error on stdout: no space left on device" ]
	# raw-icmp without -c must stop at the first failed line, not ping on forever
	run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' raw-icmp -i 0.05 127.0.0.1 >/dev/full"
	[ "$stderr" = "sockctl raw-icmp: write error on stdout: no space left on device" ]
	run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' raw-icmp --json -i 0.05 127.0.0.1 >/dev/full"
	# with --json the error is JSON too
	[ "$(jq -r '"\(.event) \(.command) \(.status) \(.message)"' <<<"$stderr")" = "error raw-icmp 1 write error on stdout: no space left on device" ]
}

@test "stdout to /dev/full: udp-recv (no -c) and udp-send -c 0 -W stop at once with status 1" {
	udp_echo
	bg bash -c '"$0" udp-recv --stats "$1" "$2" >/dev/full 2>"$3"; echo $? >"$3.st"' \
		"$SOCKCTL" "$LO" 0 "$BATS_TEST_TMPDIR/rerr"
	port=$(bound_port "$BG_PID" udp)
	"$SOCKCTL" udp-send -q -c 3 "$LO" "$port" hello
	wait_for 10 test -s "$BATS_TEST_TMPDIR/rerr.st"
	full_ok "$BATS_TEST_TMPDIR/rerr.st" "$BATS_TEST_TMPDIR/rerr"
	# the same with --json: the stats (which would go to stdout) are not retried
	bg bash -c '"$0" udp-recv --json --stats "$1" "$2" >/dev/full 2>"$3"; echo $? >"$3.st"' \
		"$SOCKCTL" "$LO" 0 "$BATS_TEST_TMPDIR/jerr"
	port=$(bound_port "$BG_PID" udp)
	"$SOCKCTL" udp-send -q "$LO" "$port" hello
	wait_for 10 test -s "$BATS_TEST_TMPDIR/jerr.st"
	full_ok "$BATS_TEST_TMPDIR/jerr.st" "$BATS_TEST_TMPDIR/jerr"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/jerr")" = 1 ]
	for j in "" --json; do
		run -1 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' udp-send $j -c 0 -i 0.05 -W 1 $LO $UDP_PORT hi >/dev/full"
		[ "$(grep -c 'write error on stdout: no space left on device' <<<"$stderr")" = 1 ]
	done
}

@test "stdout to /dev/full: listen -u datagrams, status 1 and a message" {
	bg bash -c '"$0" listen -u -v "$1" 0 </dev/null >/dev/full 2>"$2"; echo $? >"$2.st"' \
		"$SOCKCTL" "$LO" "$BATS_TEST_TMPDIR/err"
	port=$(listen_port "$BATS_TEST_TMPDIR/err")
	"$SOCKCTL" udp-send -q "$LO" "$port" hello
	wait_for 10 test -s "$BATS_TEST_TMPDIR/err.st"
	full_ok "$BATS_TEST_TMPDIR/err.st" "$BATS_TEST_TMPDIR/err"
}

# ---- stdout to a closed pipe: a quiet end ----

@test "stdout to a reader that left: every command ends quietly (SIGPIPE, no message)" {
	udp_echo
	tcp_talker
	bg nc.openbsd -k -l "$LO" 0
	PORT=$(bound_port "$BG_PID")
	cmds=(
		"resolve --passive '' 1 --json"
		"connect -d $LO $TCP_PORT"
		"connect -z -v $LO 1-4000,$PORT" # > 64 KiB: more than the pipe holds
		"raw-icmp -i 0.02 -c 200 127.0.0.1"
		"udp-send -c 200 -i 0.01 -W 1 $LO $UDP_PORT hi"
	)
	for c in "${cmds[@]}"; do
		run --separate-stderr timeout 20 bash -c "set -o pipefail; exec 3>&1; $SOCKCTL $c </dev/null | head -c 1 >/dev/null"
		# all of a short output may be written before the reader leaves: 0 then
		[ "$status" = 141 ] || [[ $c == resolve* && $status = 0 ]] ||
			{ echo "$c: status $status: $stderr"; false; }
		# -v's one line saying the sandbox is on is not a message about the pipe
		[ -z "$(grep -v 'sandbox: seccomp on' <<<"$stderr")" ] || { echo "$c: $stderr"; false; }
	done
	# udp-recv: the reader leaves; the next datagram ends it, quietly
	bg bash -c "set -o pipefail; '$SOCKCTL' udp-recv -w 10 $LO 0 2>'$BATS_TEST_TMPDIR/err' | head -c 1 >/dev/null; echo \$? >'$BATS_TEST_TMPDIR/st'"
	port=$(bound_port "$BG_PID" udp)
	# one datagram makes head leave; one after that meets the closed pipe:
	# send until udp-recv has ended (bounded: 100 x 0.1 s), not a fixed 5
	for i in $(seq 1 100); do
		"$SOCKCTL" udp-send -q "$LO" "$port" "datagram $i"
		[ -s "$BATS_TEST_TMPDIR/st" ] && break
		sleep 0.1
	done
	wait_for 10 test -s "$BATS_TEST_TMPDIR/st"
	[ "$(cat "$BATS_TEST_TMPDIR/st")" = 141 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "stdout to a reader that left: listen ends quietly" {
	bg bash -c "set -o pipefail; '$SOCKCTL' listen -v $LO 0 </dev/null 2>'$BATS_TEST_TMPDIR/err' | head -c 1 >/dev/null; echo \$? >'$BATS_TEST_TMPDIR/st'"
	port=$(listen_port "$BATS_TEST_TMPDIR/err")
	head -c 10000000 /dev/zero | timeout 20 nc.openbsd -N "$LO" "$port" >/dev/null || true
	wait_for 10 test -s "$BATS_TEST_TMPDIR/st"
	[ "$(cat "$BATS_TEST_TMPDIR/st")" = 141 ]
	! grep -qv -e "listening on" -e "connection from" -e "sandbox: seccomp on" \
		"$BATS_TEST_TMPDIR/err"
}

# ---- stdin closed ----

@test "stdin closed (<&-): connect, listen and udp-send do not mistake a socket for it" {
	bg sh -c "printf 'hi\n' | exec nc.openbsd -N -l $LO 0"
	PORT=$(bound_port "$BG_PID")
	run -0 --separate-stderr timeout 20 bash -c "exec '$SOCKCTL' connect $LO $PORT <&-"
	[ "$output" = hi ]
	# listen: the client gets EOF at once (stdin is empty), its bytes arrive
	bg bash -c 'exec "$0" listen -v "$1" 0 <&- >"$2.out" 2>"$2"' "$SOCKCTL" "$LO" "$BATS_TEST_TMPDIR/l"
	lpid=$BG_PID
	port=$(listen_port "$BATS_TEST_TMPDIR/l")
	run -0 bash -c 'printf from-client | timeout 10 nc.openbsd -N "$1" "$2"' _ "$LO" "$port"
	[ -z "$output" ]
	wait_pid 10 "$lpid" || false
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/l.out")" = from-client ]
	# udp-send with no MESSAGE reads stdin: closed means no datagram, no hang
	udp_echo
	run -0 --separate-stderr timeout 10 bash -c "exec '$SOCKCTL' udp-send $LO $UDP_PORT <&-"
	[[ $stderr == *"0 datagrams, 0 bytes"* ]]
	run -0 --separate-stderr timeout 10 bash -c "exec '$SOCKCTL' udp-send -W 2 $LO $UDP_PORT msg <&-"
	[ "$output" = "$LO $UDP_PORT 3: msg" ]
}

# ---- SIGINT / SIGTERM mid-run: clean exit, summaries, whole lines ----

# (wait_pid is called as "wait_pid ... || false": a non-zero status of the
# process it waits for would otherwise trip set -e inside it)

# lines_whole FILE: FILE is empty or ends with a newline
lines_whole() {
	[ ! -s "$1" ] || [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "SIGINT/SIGTERM: raw-icmp prints its statistics, whole lines, status 0 (JSON parses)" {
	for sig in INT TERM; do
		for j in "" --json; do
			out=$BATS_TEST_TMPDIR/out$sig$j
			sig_bg "$SOCKCTL" raw-icmp $j -i 0.02 127.0.0.1 >"$out" 2>"$out.err"
			wait_for 10 grep -q 'icmp_seq=5\|"seq":5' "$out"
			kill -$sig "$BG_PID"
			wait_pid 10 "$BG_PID" || false
			[ "$WAIT_STATUS" = 0 ]
			lines_whole "$out"
			if [ -n "$j" ]; then
				jq -e . "$out" >/dev/null
				[ "$(tail -n1 "$out" | jq -r .event)" = summary ]
			else
				grep -qE '^[0-9]+ packets transmitted, [0-9]+ received' "$out"
			fi
		done
	done
}

@test "SIGINT/SIGTERM: udp-recv --stats prints its summary; status 0 after datagrams, 1 before any" {
	for sig in INT TERM; do
		sig_bg "$SOCKCTL" udp-recv --json --stats "$LO" 0 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
		pid=$BG_PID
		port=$(bound_port "$pid" udp)
		"$SOCKCTL" udp-send -q -c 50 --size 64 "$LO" "$port"
		wait_for 10 at_least 50 grep -c datagram "$BATS_TEST_TMPDIR/out"
		kill -$sig "$pid"
		wait_pid 10 "$pid" || false
		[ "$WAIT_STATUS" = 0 ]
		lines_whole "$BATS_TEST_TMPDIR/out"
		jq -e . "$BATS_TEST_TMPDIR/out" >/dev/null
		tail -n1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "stats" and .datagrams == 50'
		# nothing arrived: the documented status 1, the text summary still said
		sig_bg "$SOCKCTL" udp-recv --stats "$LO" 0 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
		pid=$BG_PID
		port=$(bound_port "$pid" udp)
		kill -$sig "$pid"
		wait_pid 10 "$pid" || false
		[ "$WAIT_STATUS" = 1 ]
		grep -q "0 datagrams" "$BATS_TEST_TMPDIR/err"
		[ ! -s "$BATS_TEST_TMPDIR/out" ]
	done
}

@test "SIGINT/SIGTERM: udp-send -c 0 and a slow --rate print the summary, status 0" {
	udp_echo
	for sig in INT TERM; do
		for a in "-c 0 -i 0.01" "-c 100000 --rate 20"; do
			sig_bg "$SOCKCTL" udp-send --json $a -W 1 "$LO" "$UDP_PORT" ping >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
			pid=$BG_PID
			wait_for 10 at_least 3 grep -c . "$BATS_TEST_TMPDIR/out"
			kill -$sig "$pid"
			wait_pid 10 "$pid" || false
			[ "$WAIT_STATUS" = 0 ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
			lines_whole "$BATS_TEST_TMPDIR/out"
			jq -e . "$BATS_TEST_TMPDIR/out" >/dev/null
			tail -n1 "$BATS_TEST_TMPDIR/out" | jq -e '.event == "summary" and .sent >= 3 and .replies >= 3'
		done
		# text: the summary goes to stderr
		sig_bg "$SOCKCTL" udp-send -c 0 -i 0.01 "$LO" "$UDP_PORT" ping >/dev/null 2>"$BATS_TEST_TMPDIR/err"
		pid=$BG_PID
		# its handlers are set before its socket is opened, and the summary
		# below is of several datagrams: wait until the peer has 2 of them
		wait_for 10 at_least 2 echoed_from "$pid"
		kill -$sig "$pid"
		wait_pid 10 "$pid" || false
		[ "$WAIT_STATUS" = 0 ]
		grep -qE "^sockctl udp-send: [0-9]+ datagrams, [0-9]+ bytes sent to $LO:$UDP_PORT" "$BATS_TEST_TMPDIR/err"
	done
}

@test "SIGINT/SIGTERM: connect mid-transfer and listen -k end at once, by the signal" {
	for sig in INT TERM; do
		bg sh -c "exec nc.openbsd -l $LO 0 </dev/zero >/dev/null"
		PORT=$(bound_port "$BG_PID")
		sig_bg bash -c "exec '$SOCKCTL' connect $LO $PORT </dev/zero >/dev/null"
		pid=$BG_PID
		wait_for 10 established "$PORT"
		sleep 0.3 # bytes flowing both ways
		kill -$sig "$pid"
		wait_pid 10 "$pid" || false
		# no handler: the default action, as nc and socat
		[ "$WAIT_STATUS" = $((128 + $(kill -l $sig))) ]

		sock=$BATS_TEST_TMPDIR/k.sock
		sig_bg bash -c 'exec "$0" listen -k --echo -v -U "$1" </dev/null >/dev/null 2>"$1.err"' "$SOCKCTL" "$sock"
		pid=$BG_PID
		wait_for 10 test -S "$sock"
		run -0 bash -c 'printf ping | timeout 10 nc.openbsd -N -U "$1"' _ "$sock"
		[ "$output" = ping ]
		kill -$sig "$pid"
		wait_pid 10 "$pid" || false
		[ "$WAIT_STATUS" = $((128 + $(kill -l $sig))) ]
		[ ! -e "$sock" ] # the socket file is removed on the way out
	done
}

established() { ss -Htn state established "dport = :$1" | grep -q .; }

# ---- fd exhaustion ----

@test "ulimit -n 32: listen -k serves 100 clients at once, waits without spinning, recovers" {
	# -m above the limit: without it listen would stay under the limit, no EMFILE
	bash -c 'ulimit -n 32; exec "$0" listen -v -k -m 1000 --echo "$1" 0' "$SOCKCTL" "$LO" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	PORT=$(listen_port "$BATS_TEST_TMPDIR/err")
	run -0 timeout 60 python3 - "$PORT" "$LPID" <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
lo = os.environ["LO"]
def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
held = [socket.create_connection((lo, port)) for _ in range(100)]
for i, s in enumerate(held):
    s.sendall(b"c%03d" % i)
time.sleep(0.5)
c0 = cpu(); time.sleep(2); spent = cpu() - c0
# close the served ones: the waiting ones must be accepted and echoed in turn
bad = 0
served = 0
for s in held:
    s.settimeout(20)
    s.shutdown(socket.SHUT_WR)
for i, s in enumerate(held):
    d = b""
    while True:
        b = s.recv(100)
        if not b: break
        d += b
    served += d == b"c%03d" % i
    s.close()
print("cpu_ok" if spent < 0.5 else "spun %.2fs" % spent, served)
PY
	[ "$output" = "cpu_ok 100" ]
	grep -q "EMFILE" "$BATS_TEST_TMPDIR/err"
	kill -0 "$LPID"
}

@test "ulimit -n 32: connect -z over 3000 ports still finds every open one" {
	bg nc.openbsd -k -l "$LO" 0
	a=$(bound_port "$BG_PID")
	bg nc.openbsd -k -l "$LO" 0
	b=$(bound_port "$BG_PID")
	lo=$(( (a < b ? a : b) - 1500 )); [ "$lo" -ge 1 ] || lo=1
	hi=$(( lo + 3000 )); [ "$hi" -le 65535 ] || hi=65535
	run -0 --separate-stderr timeout 60 bash -c "ulimit -n 32; exec '$SOCKCTL' connect -z $LO $lo-$hi,$a,$b"
	[[ $output == *"$LO $a open"* ]]
	[[ $output == *"$LO $b open"* ]]
	run -0 --separate-stderr timeout 60 bash -c "ulimit -n 32; exec '$SOCKCTL' connect -z -v $LO $lo-$hi"
	[ "$(wc -l <<<"$output")" = $((hi - lo + 1)) ]
}

# ---- volume ----

@test "8 GiB through connect -> listen: byte count exact; 1 GiB random data intact (sha256)" {
	# zeros are cheap to make: the count proves nothing was lost or added
	bg bash -c '"$0" listen -d -v "$1" 0 2>"$2" | wc -c >"$2.count"' \
		"$SOCKCTL" "$LO" "$BATS_TEST_TMPDIR/err"
	port=$(listen_port "$BATS_TEST_TMPDIR/err")
	run -0 --separate-stderr timeout 120 bash -c "head -c 8G /dev/zero | '$SOCKCTL' connect $LO $port"
	wait_for 30 test -s "$BATS_TEST_TMPDIR/err.count"
	[ "$(cat "$BATS_TEST_TMPDIR/err.count")" = 8589934592 ]
	# random bytes from a fast deterministic generator, the other way round
	gen='import hashlib,sys
k = hashlib.sha256(b"sockctl").digest() * 2048
blk = bytes(b ^ (i * 131 & 255) for i, b in enumerate(k)) * 16
out = sys.stdout.buffer
for i in range(1 << 30 >> 20):
    out.write(hashlib.sha256(i.to_bytes(4, "big")).digest()[:1] + blk[1:])'
	want=$(python3 -c "$gen" | sha256sum | cut -d' ' -f1)
	bg bash -c 'python3 -c "$1" | exec "$0" listen -v "$2" 0 2>"$3"' "$SOCKCTL" "$gen" "$LO" "$BATS_TEST_TMPDIR/err2"
	port=$(listen_port "$BATS_TEST_TMPDIR/err2")
	got=$(timeout 120 "$SOCKCTL" connect -d "$LO" "$port" </dev/null | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ]
}

@test "65507-byte datagrams both ways: udp-send/udp-recv, connect -u/listen -u" {
	head -c 65507 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	# listen -u --echo answers the whole datagram to connect -u
	bg bash -c 'exec "$0" listen -u -k --echo -v "$1" 0 </dev/null >/dev/null 2>"$2"' "$SOCKCTL" "$LO" "$BATS_TEST_TMPDIR/err"
	port=$(listen_port "$BATS_TEST_TMPDIR/err")
	timeout 20 "$SOCKCTL" connect -u -w 1 "$LO" "$port" <"$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/back" || true
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/back"
	# udp-send --raw -W to udp-recv --echo: the reply shown with its true size
	bg "$SOCKCTL" udp-recv --echo --raw -c 1 -w 10 "$LO" 0 >"$BATS_TEST_TMPDIR/got"
	rpid=$BG_PID
	port=$(bound_port "$rpid" udp)
	run -0 --separate-stderr timeout 20 bash -c "'$SOCKCTL' udp-send --raw --size 65507 -W 2 --json $LO $port <'$BATS_TEST_TMPDIR/big'"
	[ "$(jq -r 'select(.event == "reply") | .len' <<<"$output")" = 65507 ]
	wait_pid 10 "$rpid" || false
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/got"
	# listen -u (no echo) writes the whole datagram to stdout
	bg bash -c 'exec "$0" listen -u -v "$1" 0 </dev/null >"$2.out" 2>"$2"' "$SOCKCTL" "$LO" "$BATS_TEST_TMPDIR/l2"
	port=$(listen_port "$BATS_TEST_TMPDIR/l2")
	"$SOCKCTL" udp-send -q --raw --size 65507 "$LO" "$port" <"$BATS_TEST_TMPDIR/big"
	wait_for 10 at_least 65507 stat -c %s "$BATS_TEST_TMPDIR/l2.out"
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/l2.out"
}

# ---- very long and non-UTF-8 arguments ----

# bad_arg CMD ARGS...: status 2 (1 for a lookup), one line on stderr with no
# control bytes, nothing on stdout; inside a namespace whose resolver is
# 127.0.0.1 with no server, so no lookup leaves the machine
bad_arg() {
	local st
	in_ns res timeout 10 "$SOCKCTL" "$@" </dev/null >"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e" && st=0 || st=$?
	if [ "$st" != 2 ] && [ "$st" != 1 ]; then
		echo "status $st for: ${*:0:3}" | cut -c1-200
		head -c 300 "$BATS_TEST_TMPDIR/e"
		return 1
	fi
	[ "$st" = 2 ] || [ -n "${BAD_LOOKUP:-}" ] || { echo "status 1 for: ${1} ${2:0:40}"; return 1; }
	[ ! -s "$BATS_TEST_TMPDIR/o" ] || { echo "stdout for: ${1} ${2:0:40}"; return 1; }
	[ "$(wc -l <"$BATS_TEST_TMPDIR/e")" = 1 ] || { echo "stderr not one line for ${1} ${2:0:40}"; head -c 300 "$BATS_TEST_TMPDIR/e"; return 1; }
	[ "$(wc -c <"$BATS_TEST_TMPDIR/e")" -lt 1024 ] || { echo "stderr too long for ${1}"; return 1; }
	no_ctl "$BATS_TEST_TMPDIR/e" || { echo "control bytes on stderr for ${1} ${2:0:40}"; return 1; }
	grep -q '^sockctl' "$BATS_TEST_TMPDIR/e"
}

@test "100000-byte and non-UTF-8 arguments: no crash, status 2 (1 for a lookup), one clean line" {
	ns_add res
	mkdir -p "/etc/netns/$NS"
	echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"
	L=$(head -c 100000 /dev/zero | tr '\0' a)
	N=$(head -c 100000 /dev/zero | tr '\0' 9)
	B=$'\xff\xfe\x80\xc3(\x1b[31m\x01\x7f\n\r'
	for v in "$L" "$N" "$B" "$B$L"; do
		for cmd in connect listen udp-send udp-recv raw-icmp resolve; do
			bad_arg "$cmd" "--no-such-$v"
			bad_arg "$cmd" -4 "-$v"
		done
		# ports
		bad_arg connect 127.0.0.1 "$v"
		bad_arg connect -z 127.0.0.1 "$v"
		bad_arg listen "$v"
		bad_arg listen 127.0.0.1 "$v"
		bad_arg udp-send 127.0.0.1 "$v" x
		bad_arg udp-recv "$v"
		bad_arg udp-recv 127.0.0.1 "$v"
		BAD_LOOKUP=1 bad_arg resolve 127.0.0.1 "$v"
		bad_arg resolve --reverse 127.0.0.1 "$v"
		# hosts
		bad_arg connect "$v" 80
		bad_arg listen "$v" 0
		bad_arg udp-send "$v" 9 x
		bad_arg udp-recv "$v" 9
		bad_arg raw-icmp "$v"
		BAD_LOOKUP=1 bad_arg resolve "$v"
		bad_arg resolve --reverse "$v"
		BAD_LOOKUP=1 bad_arg connect -U "$v" # a path that may be valid, but is not there
		# option values
		for o in -w --idle-timeout --connect-timeout -q --parallel --ttl --tos --sndbuf --type -p; do
			bad_arg connect "$o" "$v" 127.0.0.1 80
		done
		BAD_LOOKUP=1 bad_arg connect -s "$v" 127.0.0.1 80
		for o in -w --idle-timeout -m --allow --deny --backlog --ttl --rcvbuf -p; do
			bad_arg listen -k "$o" "$v" 0
		done
		for o in -c -i --rate --size -W --ttl --tos --mcast-ttl --mcast-loop --sndbuf -p; do
			bad_arg udp-send "$o" "$v" 127.0.0.1 9 x
		done
		BAD_LOOKUP=1 bad_arg udp-send --mcast-if "$v" 239.1.1.1 9 x
		for o in -c -w --size --rcvbuf --fd --join; do
			bad_arg udp-recv "$o" "$v" 9
		done
		for o in -c -i -W -w -s -t -Q -l --mode --type --code; do
			bad_arg raw-icmp "$o" "$v" 127.0.0.1
		done
		BAD_LOOKUP=1 bad_arg raw-icmp -I "$v" -c 1 127.0.0.1
		for o in --type --protocol; do
			bad_arg resolve "$o" "$v" localhost
		done
		# the command name itself
		run -2 --separate-stderr "$SOCKCTL" "$v"
		[ -z "$output" ] && [ "$(wc -l <<<"$stderr")" = 1 ]
		! LC_ALL=C grep -q $'[\x01-\x1f\x7f]' <<<"$stderr"
		run -2 --separate-stderr "$SOCKCTL" help "$v"
		! LC_ALL=C grep -q $'[\x01-\x1f\x7f]' <<<"$stderr"
	done
}
