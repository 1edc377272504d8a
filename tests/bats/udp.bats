#!/usr/bin/env bats
# udp-send and udp-recv against real peers: python3 sockets, socat, nc.openbsd,
# and hosts in isolated network namespaces for broadcast and multicast.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

# The helper's assert_usage_error trips over `set -e` when called directly
# (its command substitution fails with status 2), so run it under `run`.
usage_error() {
	run -0 assert_usage_error "$@"
}

# start_recv PORT ARGS...: udp-recv in the background, output in $T/out, $T/err.
# PORT 0 (use it: see helper.bash): the kernel chooses, $port is set to it.
start_recv() {
	local p=$1
	shift
	bg "$SOCKCTL" udp-recv "$@" "$p" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	RECV_PID=$BG_PID
	if [ "$p" != 0 ]; then
		wait_for 10 udp_bound "$p"
		return
	fi
	port=$(bound_port "$RECV_PID" udp) || return 1
	# neither -4 nor -6: one socket per family; wait for the second one too
	[[ " $* " == *" -4 "* || " $* " == *" -6 "* ]] || wait_for 2 two_sockets "$port" || true
}

two_sockets() { [ "$(ss -Huln "sport = :$1" | wc -l)" -ge 2 ]; }
# start_recv0 ADDR ARGS...: udp-recv -v on ADDR port 0 in the background,
# output in $T/out, $T/err; PORT is the port the kernel chose (from -v).
start_recv0() {
	local addr=$1
	shift
	: >"$BATS_TEST_TMPDIR/err" # not by the job's redirection: it may come late
	bg "$SOCKCTL" udp-recv -v "$@" "$addr" 0 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	RECV_PID=$BG_PID
	wait_for 10 grep -q "bound " "$BATS_TEST_TMPDIR/err" || {
		cat "$BATS_TEST_TMPDIR/err"
		return 1
	}
	# "bound ADDR:PORT", as text or inside a JSON notice (--json)
	PORT=$(grep -m1 -o 'bound [^" ]*' "$BATS_TEST_TMPDIR/err" | sed 's/.*://')
	[ -n "$PORT" ] && [ "$PORT" != 0 ]
}

# spoof SRC SPORT DST DPORT PAYLOAD [SRC SPORT DST DPORT PAYLOAD...]: UDP
# datagrams with any source, sent from a raw socket (root) on loopback: how a
# spoofer starts an echo loop.
spoof() {
	python3 -c '
import socket, struct, sys
a = sys.argv[1:]
for i in range(0, len(a), 5):
    src, sport, dst, dport, data = a[i], int(a[i + 1]), a[i + 2], int(a[i + 3]), a[i + 4].encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.bind((src, 0))
    s.sendto(struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data, (dst, 0))' "$@"
}

# start_ulisten ERRFILE ARGS...: listen -u -v ARGS in the background (stdin
# and stdout as redirected by the caller); PORT from its "listening on" line.
start_ulisten() {
	local err=$1
	shift
	: >"$err" # not by the job's redirection, which may come after the wait reads it
	"$SOCKCTL" listen -u -v "$@" 2>"$err" 0<&0 &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "listening on" "$err" || { cat "$err"; return 1; }
	PORT=$(sed -n 's/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p' "$err" | head -n1)
}

# py_send HOST PORT PAYLOAD-EXPR [FAMILY]: one datagram from python3.
py_send() {
	python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.sendto(eval(sys.argv[3]), (sys.argv[1], int(sys.argv[2])))' "$@"
}

# py_server HOST PORT MODE: python3 UDP server for one datagram; writes it to
# $T/py.bin; MODE echo answers it upper-cased, quiet does not.  PORT 0: the
# kernel chooses; $port is set to its choice.
py_server() {
	bg python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
d, a = s.recvfrom(70000)
open(sys.argv[4], "wb").write(d)
if sys.argv[3] == "echo":
    s.sendto(d.upper(), a)' "$1" "$2" "$3" "$BATS_TEST_TMPDIR/py.bin"
	if [ "$2" = 0 ]; then
		port=$(bound_port "$BG_PID" udp)
	else
		wait_for 10 udp_bound "$2"
	fi
}

@test "udp-recv shows python3 datagrams over IPv4 and IPv6 with source, size, escapes" {
	start_recv 0 -c 2 -w 10
	py_send 127.0.0.1 "$port" 'b"hi\x00\tthere"'
	py_send ::1 "$port" 'b"six"'
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	run cat "$BATS_TEST_TMPDIR/out"
	[[ ${lines[0]} =~ ^127\.0\.0\.1\ [0-9]+\ 9:\ hi\\x00\\tthere$ ]]
	[[ ${lines[1]} =~ ^::1\ [0-9]+\ 3:\ six$ ]]
	[ "${#lines[@]}" = 2 ]
}

@test "udp-send to python3 servers, IPv4 and IPv6, HOST PORT and HOST:PORT" {
	py_server 127.0.0.1 0 quiet
	run -0 "$SOCKCTL" udp-send -q 127.0.0.1:"$port" 'hello world'
	wait_pid 10 "$BG_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/py.bin")" = "hello world" ]
	py_server ::1 0 quiet
	run -0 --separate-stderr "$SOCKCTL" udp-send "[::1]:$port" six
	[[ $stderr == *"1 datagram, 3 bytes sent to [::1]:$port"* ]]
	wait_pid 10 "$BG_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/py.bin")" = six ]
}

@test "udp-send stdin: one datagram per line; --raw: chunks of --size" {
	start_recv 0 -c 3 -w 10 -4
	printf 'one\ntwo\nthree' | "$SOCKCTL" udp-send -q 127.0.0.1 "$port"
	wait_pid 10 "$RECV_PID"
	[ "$(cut -d' ' -f3- "$BATS_TEST_TMPDIR/out")" = $'3: one\n3: two\n5: three' ]
	start_recv 0 -c 3 -w 10 -4
	printf 'abcdefghij' | "$SOCKCTL" udp-send -q --raw --size 4 127.0.0.1 "$port"
	wait_pid 10 "$RECV_PID"
	[ "$(cut -d' ' -f3- "$BATS_TEST_TMPDIR/out")" = $'4: abcd\n4: efgh\n2: ij' ]
}

@test "interop: nc.openbsd -u and socat send to udp-recv; udp-send reaches socat" {
	start_recv 0 -c 2 -w 10 -4
	printf 'from nc' | timeout 5 nc.openbsd -u -w1 127.0.0.1 "$port" || true
	printf 'from socat' | socat -u - UDP4-SENDTO:127.0.0.1:"$port"
	wait_pid 15 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q ' 7: from nc$' "$BATS_TEST_TMPDIR/out"
	grep -q ' 10: from socat$' "$BATS_TEST_TMPDIR/out"
	# socat as a UDP echo server on IPv6, udp-send waits for its answer
	bg socat UDP6-RECVFROM:0,bind=[::1],reuseaddr EXEC:'tr a-z A-Z'
	port=$(bound_port "$BG_PID" udp)
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 ::1 "$port" 'ping me'
	[[ $output =~ ^::1\ $port\ 7:\ PING\ ME$ ]]
	[[ $stderr == *"1 reply, rtt min/avg/max"* ]]
}

@test "--wait: a reply is shown with its source (status 0); none gives status 1" {
	py_server 127.0.0.1 0 echo
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 127.0.0.1 "$port" hello
	[ "$output" = "127.0.0.1 $port 5: HELLO" ]
	[[ $stderr == *"1 reply"* ]]
	py_server 127.0.0.1 0 quiet
	run -1 --separate-stderr "$SOCKCTL" udp-send -W 0.5 127.0.0.1 "$port" hello
	[ -z "$output" ]
	[[ $stderr == *"no reply within 500ms"* ]]
}

@test "nothing listening: ICMP port unreachable is reported, status 1" {
	port=$(closed_port udp)
	run -1 --separate-stderr "$SOCKCTL" udp-send -W 2 127.0.0.1 "$port" x
	[[ $stderr == *"127.0.0.1:$port: connection refused"* ]]
}

@test "udp-recv -c N exits 0; -w exits 1 when nothing comes or -c is not reached" {
	run -1 --separate-stderr "$SOCKCTL" udp-recv -w 0.3 0
	[[ $stderr == *"no datagram within 300ms"* ]]
	start_recv 0 -c 3 -w 1 -4
	"$SOCKCTL" udp-send -q 127.0.0.1 "$port" a b
	wait_pid 10 "$RECV_PID" || { ps -o pid,stat,wchan,cmd -p "$RECV_PID"; cat "$BATS_TEST_TMPDIR/err"; false; }
	[ "$WAIT_STATUS" = 1 ]
	grep -q "only 2 of 3 datagrams" "$BATS_TEST_TMPDIR/err"
	start_recv 0 -c 2 -4
	"$SOCKCTL" udp-send -q -c 3 127.0.0.1 "$port" a
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" = 2 ]
}

@test "udp-recv --echo answers a python3 client and udp-send" {
	start_recv 0 --echo -c 2 -w 10
	run -0 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\x00\x01echo\xff", ("::1", int(sys.argv[1])))
d, a = s.recvfrom(100)
print(d.hex(), a[0])' "$port"
	[ "$output" = "00016563686fff ::1" ]
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 127.0.0.1 "$port" back
	[ "$output" = "127.0.0.1 $port 4: back" ]
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
}

@test "binary payloads: --json data or data_hex, --hex dump, --raw bytes" {
	start_recv 0 --json -c 2 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"\x00\xff\x10bin"'
	py_send 127.0.0.1 "$port" '"caf\u00e9 \"q\"".encode()'
	wait_pid 10 "$RECV_PID"
	run jq -c '[.event, .from, .len, .data, .data_hex]' "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = '["datagram","127.0.0.1",6,null,"00ff1062696e"]' ]
	[ "${lines[1]}" = '["datagram","127.0.0.1",9,"café \"q\"",null]' ]
	jq -e '.port > 0 and .ts > 1600000000' "$BATS_TEST_TMPDIR/out" >/dev/null
	start_recv 0 --hex -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"\x00\xffAB"'
	wait_pid 10 "$RECV_PID"
	run cat "$BATS_TEST_TMPDIR/out"
	[[ ${lines[0]} =~ ^127\.0\.0\.1\ [0-9]+\ 4:$ ]]
	[[ ${lines[1]} == "00000000  00 ff 41 42"*"|..AB|" ]]
	start_recv 0 --raw -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'bytes(range(256))'
	wait_pid 10 "$RECV_PID"
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "a datagram longer than --size is reported truncated with its real size" {
	start_recv 0 --size 10 --json -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"x" * 100'
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	run jq -c '[.len, .data, .truncated, .captured]' "$BATS_TEST_TMPDIR/out"
	[ "$output" = '[100,"xxxxxxxxxx",true,10]' ]
	grep -q "truncated: 100 bytes, buffer 10" "$BATS_TEST_TMPDIR/err"
}

@test "65507-byte datagrams (the IPv4 maximum) go through whole, both ways" {
	head -c 65507 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	start_recv 0 --raw -c 1 -w 10 -4
	"$SOCKCTL" udp-send -q --raw --size 65507 127.0.0.1 "$port" <"$BATS_TEST_TMPDIR/big"
	wait_pid 10 "$RECV_PID"
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/out"
	# from python3, shown as its true size
	start_recv 0 -q --stats -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"z" * 65507'
	wait_pid 10 "$RECV_PID"
	grep -q "1 datagrams, 65507 bytes" "$BATS_TEST_TMPDIR/err"
	# one byte more cannot be a datagram: refused before anything is sent
	run -2 --separate-stderr "$SOCKCTL" udp-send 127.0.0.1 "$port" "$(head -c 65508 /dev/zero | tr '\0' a)"
	[[ $stderr == *"MESSAGE 1 is 65508 bytes"* ]]
}

@test "--nonblock: an empty queue ends with EAGAIN (status 1); a full queue is drained" {
	run -1 --separate-stderr "$SOCKCTL" udp-recv --nonblock -v -4 0
	[[ $stderr == *"EAGAIN"* ]]
	# a socket whose queue python3 filled (tiny SO_RCVBUF), handed over as fd 3
	run -0 --separate-stderr python3 -c '
import os, socket, sys
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    s.sendto(b"d%03d" % i, r.getsockname())
os.dup2(r.fileno(), 3)
os.execv(sys.argv[1], [sys.argv[1], "udp-recv", "--fd", "3", "--nonblock", "-v", "--stats"])
' "$SOCKCTL"
	n=${#lines[@]}
	[ "$n" -gt 0 ] && [ "$n" -lt 200 ]
	[[ ${lines[0]} == *" 4: d000" ]]
	[[ $stderr == *"recvmmsg: EAGAIN"* ]]
	[[ $stderr == *"$n datagrams"* ]]
}

@test "probes: exact loss, duplicates-free count and latency through udp-recv --stats" {
	start_recv 0 --json -q --stats --until-end -w 20 --rcvbuf 4M -4
	run -0 --separate-stderr "$SOCKCTL" udp-send -c 5000 --size 64 --json 127.0.0.1 "$port"
	jq -e '.event == "summary" and .sent == 5000 and .bytes == 320000' <<<"$output"
	wait_pid 20 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	st=$(cat "$BATS_TEST_TMPDIR/out")
	jq -e '.event == "stats" and .expected == 5000 and .end_seen and
		.received + .lost == 5000 and .duplicates == 0 and .latency_min_ms >= 0' <<<"$st"
}

# py_train HOST PORT SEG SRCPORT PAYLOAD-EXPR: python3 sends PAYLOAD as one UDP GSO
# train (UDP_SEGMENT=SEG) from SRCPORT (0: any); SEG 0 sends each SEG-less
# datagram of the list PAYLOAD one by one instead.
py_train() {
	python3 -c '
import socket, struct, sys
host, port, seg, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", sport))
data = eval(sys.argv[5])
if seg:
    s.sendmsg([b"".join(data)], [(17, 103, struct.pack("H", seg))], 0, (host, port))  # SOL_UDP, UDP_SEGMENT
else:
    for d in data:
        s.sendto(d, (host, port))' "$@"
}

# wait until udp-recv -v says UDP_GRO is on (a train sent earlier is split on arrival)
gro_on() {
	grep -q "UDP_GRO on" "$BATS_TEST_TMPDIR/err"
}

@test "GSO/GRO: 100000 probes, every one counted, 0 lost, both fast paths used" {
	start_recv 0 -v --json -q --stats --until-end -w 30 --rcvbuf 32M -4
	wait_for 10 gro_on
	run -0 --separate-stderr "$SOCKCTL" udp-send -v -c 100000 --size 64 --json 127.0.0.1 "$port"
	jq -e '.sent == 100000 and .bytes == 6400000' <<<"$output"
	[[ $stderr == *"UDP_SEGMENT: 100000 datagrams in 1563 GSO messages, 0 one by one"* ]]
	wait_pid 30 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	jq -e '.event == "stats" and .datagrams == 100000 and .bytes == 6400000 and
		.probes == 100000 and .expected == 100000 and .end_seen and
		.received == 100000 and .lost == 0 and .duplicates == 0 and .discarded == 0 and
		.truncated == 0' "$BATS_TEST_TMPDIR/out"
	grep -Eq "UDP_GRO: [1-9][0-9]* datagrams arrived in [1-9][0-9]* coalesced reads" \
		"$BATS_TEST_TMPDIR/err"
}

@test "GSO: a plain python3 receiver gets each datagram on its own, right size and bytes" {
	bg python3 -c '
import socket, sys
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: nothing may drop
r.bind(("127.0.0.1", int(sys.argv[1])))
r.settimeout(3)
with open(sys.argv[2], "w") as f:
    try:
        while True:
            f.write(r.recv(70000).hex() + "\n")
            f.flush()
    except socket.timeout:
        pass' 0 "$BATS_TEST_TMPDIR/py.txt"
	pypid=$BG_PID
	port=$(bound_port "$pypid" udp)
	run -0 --separate-stderr "$SOCKCTL" udp-send -v -c 1000 --size 100 127.0.0.1 "$port"
	[[ $stderr == *"UDP_SEGMENT: 1000 datagrams in 16 GSO messages, 0 one by one"* ]]
	run -0 --separate-stderr "$SOCKCTL" udp-send -v -c 100 127.0.0.1 "$port" aaaa bbbb cccc
	[[ $stderr == *"UDP_SEGMENT: 300 datagrams in 5 GSO messages, 0 one by one"* ]]
	# stdin lines of mixed sizes: equal-size runs as trains, the others alone
	printf 'x\nyy\nyy\nyy\nzzz\n' | "$SOCKCTL" udp-send -q 127.0.0.1 "$port"
	wait_pid 20 "$pypid"
	run -0 python3 -c '
import sys
got = [bytes.fromhex(l) for l in open(sys.argv[1]).read().split()]
probes, rest = got[:1000], got[1000:]
for i, d in enumerate(probes):
    assert len(d) == 100, (i, len(d))
    assert d[:4] == b"SKP1" and d[4] == 0 and int.from_bytes(d[8:16], "big") == i, i
    assert d[32:] == bytes(ord("a") + j % 26 for j in range(32, 100)), i
marks = rest[:3]
assert all(len(m) == 32 and m[4] == 1 and int.from_bytes(m[24:32], "big") == 1000
           for m in marks), marks
assert rest[3:303] == [b"aaaa", b"bbbb", b"cccc"] * 100, rest[3:9]
assert rest[303:] == [b"x", b"yy", b"yy", b"yy", b"zzz"], rest[303:]
print(len(got))' "$BATS_TEST_TMPDIR/py.txt"
	[ "$output" = 1308 ]
}

@test "GRO: a python3 UDP_SEGMENT train is shown exactly as the same datagrams sent one by one" {
	sport=$(free_port udp)
	payload='[b"dgram-%04d" % i for i in range(7)] + [b"\x00\xff!!"]'
	for mode in "" --raw --hex --json; do
		# shellcheck disable=SC2086
		start_recv 0 -v -c 8 -w 10 -4 $mode
		wait_for 10 gro_on
		py_train 127.0.0.1 "$port" 10 "$sport" "$payload"
		wait_pid 10 "$RECV_PID"
		[ "$WAIT_STATUS" = 0 ]
		grep -q "UDP_GRO: 8 datagrams arrived in 1 coalesced reads, 0 one by one" \
			"$BATS_TEST_TMPDIR/err"
		sed 's/,"ts":[0-9.]*//' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/gro$mode"
		# shellcheck disable=SC2086
		start_recv 0 --no-gro -c 8 -w 10 -4 $mode
		py_train 127.0.0.1 "$port" 0 "$sport" "$payload"
		wait_pid 10 "$RECV_PID"
		[ "$WAIT_STATUS" = 0 ]
		sed 's/,"ts":[0-9.]*//' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/plain$mode"
		[ -s "$BATS_TEST_TMPDIR/plain$mode" ]
		cmp "$BATS_TEST_TMPDIR/gro$mode" "$BATS_TEST_TMPDIR/plain$mode"
	done
	run cat "$BATS_TEST_TMPDIR/gro"
	[ "${#lines[@]}" = 8 ]
	[ "${lines[0]}" = "127.0.0.1 $sport 10: dgram-0000" ]
	[ "${lines[6]}" = "127.0.0.1 $sport 10: dgram-0006" ]
	[ "${lines[7]}" = "127.0.0.1 $sport 4: \\x00\\xff!!" ]
}

@test "GSO to GRO: udp-send's datagrams come out of udp-recv as without either" {
	sport=$(free_port udp)
	for mode in "" --json --hex; do
		# shellcheck disable=SC2086
		start_recv 0 -v -c 7 -w 10 -4 $mode
		wait_for 10 gro_on
		"$SOCKCTL" udp-send -q -p "$sport" 127.0.0.1 "$port" one two six ten 'a b' 'c\d' $'\x01'
		wait_pid 10 "$RECV_PID"
		grep -q "UDP_GRO: 6 datagrams arrived in 1 coalesced reads, 1 one by one" \
			"$BATS_TEST_TMPDIR/err"
		sed 's/,"ts":[0-9.]*//' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/fast"
		# shellcheck disable=SC2086
		start_recv 0 --no-gro -c 7 -w 10 -4 $mode
		"$SOCKCTL" udp-send -q --no-gso -p "$sport" 127.0.0.1 "$port" one two six ten 'a b' 'c\d' $'\x01'
		wait_pid 10 "$RECV_PID"
		sed 's/,"ts":[0-9.]*//' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/slow"
		cmp "$BATS_TEST_TMPDIR/fast" "$BATS_TEST_TMPDIR/slow"
	done
	[ "$(head -1 "$BATS_TEST_TMPDIR/fast")" = "127.0.0.1 $sport 3:" ]
}

@test "GRO: -c N inside a train shows exactly N; the rest is discarded (said), or queued with --no-gro" {
	# python3 holds the socket (UDP_GRO on, so the train waits whole), hands it over as fd 3
	run -0 python3 -c '
import os, socket, struct, subprocess, sys
def once(gro, extra):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if gro:
        r.setsockopt(17, 104, 1)  # SOL_UDP, UDP_GRO
    r.bind(("127.0.0.1", 0))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendmsg([b"".join(b"d%d" % i for i in range(8))], [(17, 103, struct.pack("H", 2))], 0,
              r.getsockname())
    if r.fileno() != 3:
        os.dup2(r.fileno(), 3)
    p = subprocess.run([sys.argv[1], "udp-recv", "--fd", "3", "-c", "3", "--stats"] + extra,
                       pass_fds=(3,), capture_output=True, timeout=10)
    if r.fileno() != 3:
        os.close(3)
    r.setblocking(False)
    left = 0
    try:
        while True:
            left += len(r.recv(100)) // 2
    except BlockingIOError:
        pass
    print(p.returncode, p.stdout.decode().count("\n"), left, p.stdout.decode().split()[-1])
    return p.stderr.decode()
err = once(True, []) + once(False, ["--no-gro"])
print(err, end="")
' "$SOCKCTL"
	[ "${lines[0]}" = "0 3 0 d2" ]
	[[ $output == *"-c 3 reached inside a coalesced (GRO) read: 5 more datagrams were read and discarded"* ]]
	[[ $output == *"3 datagrams, 6 bytes"*", 5 more read past -c and discarded"* ]]
	[ "${lines[1]}" = "0 3 5 d2" ]
	[ "$(grep -c discarded <<<"$output")" = 2 ]
}

@test "GRO: --echo answers each datagram of a train; --size truncation per datagram" {
	start_recv 0 -v --echo -c 3 -w 10 -4
	wait_for 10 gro_on
	run -0 --separate-stderr "$SOCKCTL" udp-send -v -W 3 127.0.0.1 "$port" aa bb cc
	[[ $stderr == *"UDP_SEGMENT: 3 datagrams in 1 GSO messages"* ]]
	[[ $stderr == *"3 replies"* ]]
	[ "${lines[0]}" = "127.0.0.1 $port 2: aa" ]
	[ "${lines[1]}" = "127.0.0.1 $port 2: bb" ]
	[ "${lines[2]}" = "127.0.0.1 $port 2: cc" ]
	wait_pid 10 "$RECV_PID"
	grep -q "UDP_GRO: 3 datagrams arrived in 1 coalesced reads" "$BATS_TEST_TMPDIR/err"
	start_recv 0 -v --size 10 --json -c 3 -w 10 -4
	wait_for 10 gro_on
	py_train 127.0.0.1 "$port" 20 0 '[bytes([65 + i]) * 20 for i in range(3)]'
	wait_pid 10 "$RECV_PID"
	run jq -c '[.len, .data, .truncated, .captured]' "$BATS_TEST_TMPDIR/out"
	[ "$output" = '[20,"AAAAAAAAAA",true,10]
[20,"BBBBBBBBBB",true,10]
[20,"CCCCCCCCCC",true,10]' ]
	[ "$(grep -c "truncated: 20 bytes, buffer 10" "$BATS_TEST_TMPDIR/err")" = 3 ]
}

# two namespaces joined by one veth pair, nothing else
two_hosts() {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24 2001:db8::1/64 2001:db8::2/64
	VA=$(ip -n "$(ns a)" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)
	VB=$(ip -n "$(ns b)" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)
}

# in_group NS DEV GROUP: DEV in namespace NS (short name) is a member of GROUP
in_group() {
	ip -n "$(ns "$1")" maddr show dev "$2" | grep -qw -- "$3"
}

@test "namespaces: exact loss when nftables drops every 10th datagram" {
	two_hosts
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; }'
	in_ns b nft add rule inet t in udp dport 7000 numgen inc mod 10 == 0 drop
	bg in_ns b "$SOCKCTL" udp-recv --json -q --stats --until-end -w 20 7000 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	pid=$BG_PID
	wait_for 10 udp_bound 7000 b
	run -0 --separate-stderr in_ns a "$SOCKCTL" udp-send -c 1000 --size 100 --rate 20000 198.18.0.2 7000
	[[ $stderr == *"1000 datagrams, 100000 bytes"* ]]
	wait_pid 20 "$pid"
	[ "$WAIT_STATUS" = 0 ]
	jq -e '.expected == 1000 and .received == 900 and .lost == 100 and .end_seen' \
		"$BATS_TEST_TMPDIR/out"
}

@test "namespaces: broadcast to the subnet and to <broadcast>, with replies" {
	two_hosts
	ip -n "$(ns a)" route add default dev "$VA"
	bg in_ns b "$SOCKCTL" udp-recv --echo -c 2 -w 20 7001 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	pid=$BG_PID
	wait_for 10 udp_bound 7001 b
	run -1 --separate-stderr in_ns a "$SOCKCTL" udp-send 198.18.0.255 7001 nobcast
	[[ $stderr == *"--broadcast"* ]]
	run -0 --separate-stderr in_ns a "$SOCKCTL" udp-send --broadcast -W 5 198.18.0.255 7001 subnet
	[ "$output" = "198.18.0.2 7001 6: subnet" ]
	run -0 --separate-stderr in_ns a "$SOCKCTL" udp-send -W 5 '<broadcast>' 7001 all
	[ "$output" = "198.18.0.2 7001 3: all" ]
	wait_pid 10 "$pid"
	grep -q '^198.18.0.1 [0-9]* 6: subnet$' "$BATS_TEST_TMPDIR/out"
	grep -q '^198.18.0.1 [0-9]* 3: all$' "$BATS_TEST_TMPDIR/out"
}

@test "namespaces: multicast --join with --mcast-if, IPv4 and IPv6" {
	two_hosts
	bg in_ns b "$SOCKCTL" udp-recv -v --join 239.1.2.3 --mcast-if "$VB" -c 1 -w 20 7002 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	pid=$BG_PID
	bg in_ns b "$SOCKCTL" udp-recv --join ff15::1234 --mcast-if "$VB" -c 1 -w 20 7003 \
		>"$BATS_TEST_TMPDIR/out6" 2>"$BATS_TEST_TMPDIR/err6"
	pid6=$BG_PID
	# both bound and both groups joined before anything is sent
	wait_for 10 udp_bound 7002 b
	wait_for 10 udp_bound 7003 b
	wait_for 10 in_group b "$VB" 239.1.2.3
	wait_for 10 in_group b "$VB" ff15::1234
	run -0 in_ns a "$SOCKCTL" udp-send -q --mcast-if "$VA" --mcast-ttl 1 --mcast-loop off \
		239.1.2.3 7002 group4
	run -0 in_ns a "$SOCKCTL" udp-send -q --mcast-if "$VA" ff15::1234 7003 group6
	wait_pid 10 "$pid"
	wait_pid 10 "$pid6"
	grep -q '^198.18.0.1 [0-9]* 6: group4$' "$BATS_TEST_TMPDIR/out"
	grep -q ' 6: group6$' "$BATS_TEST_TMPDIR/out6"
	grep -q "joined 239.1.2.3 on $VB" "$BATS_TEST_TMPDIR/err"
}

@test "bad input: status 2, one line naming the problem, nothing sent" {
	usage_error "port" "$SOCKCTL" udp-send 127.0.0.1 99999 x
	usage_error "--rate" "$SOCKCTL" udp-send -i 1 --rate 5 127.0.0.1 9 x
	usage_error "--raw" "$SOCKCTL" udp-send --raw 127.0.0.1 9 x
	usage_error "--size" "$SOCKCTL" udp-send --size 10 127.0.0.1 9
	usage_error "--size" "$SOCKCTL" udp-send --size 70000 127.0.0.1 9
	usage_error "--count" "$SOCKCTL" udp-send -c abc 127.0.0.1 9 x
	usage_error "--interval" "$SOCKCTL" udp-send -i 1x 127.0.0.1 9 x
	usage_error "--mcast-loop" "$SOCKCTL" udp-send --mcast-loop maybe 127.0.0.1 9 x
	usage_error "--ttl" "$SOCKCTL" udp-send --ttl 256 127.0.0.1 9 x
	usage_error "1.2.3.4.5" "$SOCKCTL" udp-send 1.2.3.4.5 9 x
	usage_error "--join" "$SOCKCTL" udp-recv --join 198.18.0.1 9
	usage_error "--mcast-if" "$SOCKCTL" udp-recv --mcast-if lo 9
	usage_error "--raw" "$SOCKCTL" udp-recv --raw --hex 9
	usage_error "--nonblock" "$SOCKCTL" udp-recv --nonblock -w 1 9
	usage_error "PORT" "$SOCKCTL" udp-recv
	usage_error "port" "$SOCKCTL" udp-recv 65536
	usage_error "--fd 0" "$SOCKCTL" udp-recv --fd 0 </dev/null
}

@test "udp-send -W against udp-recv --echo -c: five replies of five is status 0, the late ICMP a notice" {
	for i in 1 2 3; do
		start_recv0 127.0.0.1 -q --echo -c 5 -w 10
		run -0 --separate-stderr "$SOCKCTL" udp-send --size 64 -c 5 -W 1 127.0.0.1 "$PORT"
		[ "${#lines[@]}" = 5 ]
		[[ $stderr == *"5 replies"* ]]
		[[ $stderr != *"connection refused"* ]] ||
			[[ $stderr == *"connection refused"*"not an error"* ]]
		wait_pid 10 "$RECV_PID"
		[ "$WAIT_STATUS" = 0 ]
	done
	# a refusal before any reply is still a failure
	run -1 --separate-stderr "$SOCKCTL" udp-send --size 64 -c 5 -W 1 127.0.0.1 "$PORT"
	[[ $stderr == *"127.0.0.1:$PORT: connection refused"* ]]
	[[ $stderr != *"not an error"* ]]
}

@test "--stats: the span runs from the first kernel arrival time to the last; a burst has no rate" {
	start_recv0 127.0.0.1 -q --json --stats --until-end -w 10
	"$SOCKCTL" udp-send -q --size 64 -c 3 127.0.0.1 "$PORT"
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	run jq -r '"\(.received) \(.rate_pps) \(.rate_mbps)"' "$BATS_TEST_TMPDIR/out"
	[ "$output" = "3 null null" ]
	# ten probes 20 ms apart: about 180 ms from the first to the last
	start_recv0 127.0.0.1 -q --json --stats --until-end -w 10
	"$SOCKCTL" udp-send -q --size 64 -c 10 -i 20ms 127.0.0.1 "$PORT"
	wait_pid 10 "$RECV_PID"
	run jq -r '"\(.received) \(.seconds >= 0.17) \(.rate_pps > 0 and .rate_pps <= 55)"' \
		"$BATS_TEST_TMPDIR/out"
	[ "$output" = "10 true true" ]
	start_recv0 127.0.0.1 -q --stats --until-end -w 10
	"$SOCKCTL" udp-send -q --size 64 -c 3 127.0.0.1 "$PORT"
	wait_pid 10 "$RECV_PID"
	run cat "$BATS_TEST_TMPDIR/err"
	[[ $output == *"3 datagrams, 192 bytes at once (no rate"* ]]
	[[ $output != *"datagrams/s"* ]]
}

@test "UTF-8 payloads are text in a UTF-8 locale (udp-recv and udp-send replies); escaped in C" {
	msg='Сокет 套接字'
	hostile=$'\xc2\x9b\xe2\x80\xae\xff'
	for loc in C.UTF-8 C; do
		start_recv0 127.0.0.1 --echo -c 1 -w 10
		LC_ALL=$loc run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 127.0.0.1 "$PORT" \
			"$msg$hostile"
		wait_pid 10 "$RECV_PID"
		[ "$WAIT_STATUS" = 0 ]
		esc='\xc2\x9b\xe2\x80\xae\xff'
		if [ "$loc" = C.UTF-8 ]; then
			[ "$output" = "127.0.0.1 $PORT 26: $msg$esc" ]
		else
			[ "$output" = "127.0.0.1 $PORT 26: \xd0\xa1\xd0\xbe\xd0\xba\xd0\xb5\xd1\x82 \xe5\xa5\x97\xe6\x8e\xa5\xe5\xad\x97$esc" ]
		fi
	done
	# udp-recv under each locale (the sender's locale does not matter)
	for loc in C.UTF-8 C; do
		LC_ALL=$loc start_recv0 127.0.0.1 -c 1 -w 10
		py_send 127.0.0.1 "$PORT" '"Сокет 套接字".encode() + b"\x1b[31m"'
		wait_pid 10 "$RECV_PID"
		run cat "$BATS_TEST_TMPDIR/out"
		if [ "$loc" = C.UTF-8 ]; then
			[[ $output =~ ^127\.0\.0\.1\ [0-9]+\ 25:\ Сокет\ 套接字\\x1b\[31m$ ]]
		else
			[[ $output =~ ^127\.0\.0\.1\ [0-9]+\ 25:\ \\xd0\\xa1.*\\x97\\x1b\[31m$ ]]
		fi
	done
}

@test "JSON: udp-send and udp-recv name every object's kind with \"event\"" {
	start_recv0 127.0.0.1 --json --stats --echo -c 1 -w 10
	run -0 "$SOCKCTL" udp-send --json -W 5 127.0.0.1 "$PORT" hi
	[ "${#lines[@]}" = 2 ]
	jq -e '.event == "reply" and .data == "hi" and (has("type") | not)' <<<"${lines[0]}"
	jq -e '.event == "summary" and .sent == 1 and .replies == 1 and (has("type") | not)' \
		<<<"${lines[1]}"
	wait_pid 10 "$RECV_PID"
	run jq -r '"\(.event) \(has("type"))"' "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = "datagram false" ]
	[ "${lines[1]}" = "stats false" ]
}

@test "listen -u --allow/--deny: a denied sender is refused (event, -v line), never printed, never sent stdin" {
	T=$BATS_TEST_TMPDIR
	mkfifo "$T/in"
	exec 8<>"$T/in"
	start_ulisten "$T/lerr" -k --deny 127.0.0.2 127.0.0.1 0 <"$T/in" >"$T/lout"
	run -0 timeout 30 python3 -c '
import os, socket, sys, time
port, out, err, fifo = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def until(path, text):
    for _ in range(200):
        if text in open(path).read():
            return
        time.sleep(0.05)
    sys.exit("timed out waiting for %r in %s" % (text, path))
good = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); good.bind(("127.0.0.3", 0))
bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); bad.bind(("127.0.0.2", 0))
good.sendto(b"good\n", ("127.0.0.1", port))
until(out, "good")
bad.sendto(b"bad\n", ("127.0.0.1", port))
until(err, "refused 127.0.0.2:%d: denied" % bad.getsockname()[1])
with open(fifo, "w") as f:
    f.write("to the last allowed sender\n")
good.settimeout(5)
print(good.recv(100))
bad.settimeout(1)
try:
    print(bad.recv(100))
except socket.timeout:
    print("denied sender: nothing")
' "$PORT" "$T/lout" "$T/lerr" "$T/in"
	[ "${lines[0]}" = "b'to the last allowed sender\\n'" ]
	[ "${lines[1]}" = "denied sender: nothing" ]
	[ "$(cat "$T/lout")" = good ]
	kill "$LPID"
	exec 8>&-
	# without -k: a denied first sender does not become the peer; --json says why
	"$SOCKCTL" listen -u --json --allow 127.0.0.3 -w 10 127.0.0.1 0 </dev/null >"$T/out2" 2>"$T/err2" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q listening "$T/err2"
	PORT=$(jq -r 'select(.event == "listening") | .port' "$T/err2")
	python3 -c '
import socket, sys
for src, msg in (("127.0.0.2", b"no\n"), ("127.0.0.3", b"yes\n")):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
    s.sendto(msg, ("127.0.0.1", int(sys.argv[1])))' "$PORT"
	wait_for 10 grep -q yes "$T/out2"
	kill "$LPID"
	[ "$(cat "$T/out2")" = yes ]
	[ "$(jq -c 'select(.event == "refused") | [.address, .reason]' "$T/err2")" = \
		'["127.0.0.2","not allowed"]' ]
	[ "$(jq -r 'select(.event == "connection") | .address' "$T/err2")" = 127.0.0.3 ]
}

@test "echo loop check: no echo to our own address and port, port 0 or a reflecting service" {
	start_recv0 127.0.0.1 --echo -w 3
	spoof 127.0.0.1 "$PORT" 127.0.0.1 "$PORT" self 127.0.0.1 0 127.0.0.1 "$PORT" zero \
		127.0.0.1 19 127.0.0.1 "$PORT" chargen
	# one spoofed datagram used to loop forever: now the idle timeout ends the run
	wait_pid 15 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" = 3 ] || { cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"; false; }
	grep -q "not echoed to 127.0.0.1:$PORT: from our own address and port" "$BATS_TEST_TMPDIR/err"
	grep -q "not echoed to 127.0.0.1:0: source port 0" "$BATS_TEST_TMPDIR/err"
	grep -q "not echoed to 127.0.0.1:19: source port of a reflecting service" "$BATS_TEST_TMPDIR/err"
	# a real client is still echoed
	start_recv0 127.0.0.1 --echo -c 1 -w 10
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 127.0.0.1 "$PORT" hello
	[[ $output == *": hello" ]]
	# listen -u -k --echo: the same checks, as refused events
	start_ulisten "$BATS_TEST_TMPDIR/lerr" -k --echo 127.0.0.1 0 </dev/null >/dev/null
	spoof 127.0.0.1 "$PORT" 127.0.0.1 "$PORT" self 127.0.0.1 7 127.0.0.1 "$PORT" echo
	wait_for 10 grep -q "refused 127.0.0.1:7: echo-loop" "$BATS_TEST_TMPDIR/lerr"
	grep -q "refused 127.0.0.1:$PORT: echo-loop" "$BATS_TEST_TMPDIR/lerr"
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 127.0.0.1 "$PORT" hello
	[[ $output == *": hello" ]]
}

@test "echo ping-pong between udp-recv --echo and listen -u -k --echo ends (--echo-rate)" {
	start_recv0 127.0.0.1 --echo -q --stats -w 3
	A=$PORT
	start_ulisten "$BATS_TEST_TMPDIR/lerr" -k --echo 127.0.0.1 0 </dev/null >/dev/null
	B=$PORT
	# one datagram "from" the other echo server starts the bouncing
	spoof 127.0.0.1 "$B" 127.0.0.1 "$A" ping
	wait_pid 20 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	# whichever side went over its rate first dropped it
	grep -q "not echoed to 127.0.0.1:$B: over --echo-rate" "$BATS_TEST_TMPDIR/err" ||
		grep -q "refused 127.0.0.1:$A: echo-rate" "$BATS_TEST_TMPDIR/lerr"
	n=$(sed -n 's/.*udp-recv: \([0-9]*\) datagrams.*/\1/p' "$BATS_TEST_TMPDIR/err")
	[ "$n" -ge 2 ] && [ "$n" -le 2100 ]
	# --echo-rate 0: no limit; a small rate stops a flood from one source
	start_recv0 127.0.0.1 --echo --echo-rate 10 -q -c 100 -w 10
	run -0 --separate-stderr "$SOCKCTL" udp-send -c 100 -W 1 127.0.0.1 "$PORT" x
	[[ $stderr == *"100 datagrams"*"; 10 replies"* ]]
}

@test "per-datagram warnings are rate-limited, with a count of those left out" {
	start_recv0 127.0.0.1 -q --size 4 -c 100 -w 10
	"$SOCKCTL" udp-send -q -c 100 127.0.0.1 "$PORT" "longer than four"
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	run grep -c "truncated" "$BATS_TEST_TMPDIR/err"
	[ "$output" -le 12 ] && [ "$output" -ge 1 ]
	grep -Eq "[0-9]+ more warnings like the above were left out" "$BATS_TEST_TMPDIR/err"
}

@test "a probe stamped 2^63 is counted, never averaged into latency or rtt (udp-recv --stats, udp-send -W)" {
	# probe wire format (lib/dgram.h): "SKP1", flags, 3 zero bytes, then
	# big-endian seq, timestamp (ns), total
	local mk='import struct, sys
def probe(seq, ts, total=1, end=0):
    return b"SKP1" + bytes([end, 0, 0, 0]) + struct.pack("!QQQ", seq, ts, total)'
	start_recv0 127.0.0.1 --stats -q --until-end -w 10
	python3 -c "$mk
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(probe(0, 1 << 63), ('127.0.0.1', int(sys.argv[1])))
s.sendto(probe(0, 0, 1, 1), ('127.0.0.1', int(sys.argv[1])))" "$PORT"
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q "1 probe stamped over an hour off (not in the latency)" "$BATS_TEST_TMPDIR/err"
	! grep -q "latency min" "$BATS_TEST_TMPDIR/err"
	# a reflector that answers every datagram with a probe stamped 2^63
	bg python3 -c "$mk
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
s.settimeout(20)
while True:
    d, a = s.recvfrom(65536)
    s.sendto(probe(0, 1 << 63), a)" >"$BATS_TEST_TMPDIR/rport"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/rport"
	run -0 --separate-stderr "$SOCKCTL" udp-send --json --size 32 -c 1 -W 1 127.0.0.1 "$(cat "$BATS_TEST_TMPDIR/rport")"
	# the probe and its end markers each got a reply: all stamped 2^63
	[ "$(jq -r 'select(.event == "summary") | .replies >= 1 and .replies == .bad_stamps and .rtt_min_ms == null' <<<"$output")" = true ]
	[ "$(jq -s '[.[] | select(.event == "reply") | .rtt_ms] | all(. == null)' <<<"$output")" = true ]
}
