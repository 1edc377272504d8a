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
start_recv() {
	local port=$1
	shift
	bg "$SOCKCTL" udp-recv "$@" "$port" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	RECV_PID=$BG_PID
	wait_for 10 udp_bound "$port"
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
# $T/py.bin; MODE echo answers it upper-cased, quiet does not.
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
	wait_for 10 udp_bound "$2"
}

@test "udp-recv shows python3 datagrams over IPv4 and IPv6 with source, size, escapes" {
	port=$(free_port udp)
	start_recv "$port" -c 2 -w 10
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
	port=$(free_port udp)
	py_server 127.0.0.1 "$port" quiet
	run -0 "$SOCKCTL" udp-send -q 127.0.0.1:"$port" 'hello world'
	wait_pid 10 "$BG_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/py.bin")" = "hello world" ]
	py_server ::1 "$port" quiet
	run -0 --separate-stderr "$SOCKCTL" udp-send "[::1]:$port" six
	[[ $stderr == *"1 datagram, 3 bytes sent to [::1]:$port"* ]]
	wait_pid 10 "$BG_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/py.bin")" = six ]
}

@test "udp-send stdin: one datagram per line; --raw: chunks of --size" {
	port=$(free_port udp)
	start_recv "$port" -c 3 -w 10 -4
	printf 'one\ntwo\nthree' | "$SOCKCTL" udp-send -q 127.0.0.1 "$port"
	wait_pid 10 "$RECV_PID"
	[ "$(cut -d' ' -f3- "$BATS_TEST_TMPDIR/out")" = $'3: one\n3: two\n5: three' ]
	start_recv "$port" -c 3 -w 10 -4
	printf 'abcdefghij' | "$SOCKCTL" udp-send -q --raw --size 4 127.0.0.1 "$port"
	wait_pid 10 "$RECV_PID"
	[ "$(cut -d' ' -f3- "$BATS_TEST_TMPDIR/out")" = $'4: abcd\n4: efgh\n2: ij' ]
}

@test "interop: nc.openbsd -u and socat send to udp-recv; udp-send reaches socat" {
	port=$(free_port udp)
	start_recv "$port" -c 2 -w 10 -4
	printf 'from nc' | timeout 5 nc.openbsd -u -w1 127.0.0.1 "$port" || true
	printf 'from socat' | socat -u - UDP4-SENDTO:127.0.0.1:"$port"
	wait_pid 15 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q ' 7: from nc$' "$BATS_TEST_TMPDIR/out"
	grep -q ' 10: from socat$' "$BATS_TEST_TMPDIR/out"
	# socat as a UDP echo server on IPv6, udp-send waits for its answer
	bg socat UDP6-RECVFROM:"$port",bind=[::1],reuseaddr EXEC:'tr a-z A-Z'
	wait_for 10 udp_bound "$port"
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 ::1 "$port" 'ping me'
	[[ $output =~ ^::1\ $port\ 7:\ PING\ ME$ ]]
	[[ $stderr == *"1 reply, rtt min/avg/max"* ]]
}

@test "--wait: a reply is shown with its source (status 0); none gives status 1" {
	port=$(free_port udp)
	py_server 127.0.0.1 "$port" echo
	run -0 --separate-stderr "$SOCKCTL" udp-send -W 5 127.0.0.1 "$port" hello
	[ "$output" = "127.0.0.1 $port 5: HELLO" ]
	[[ $stderr == *"1 reply"* ]]
	py_server 127.0.0.1 "$port" quiet
	run -1 --separate-stderr "$SOCKCTL" udp-send -W 0.5 127.0.0.1 "$port" hello
	[ -z "$output" ]
	[[ $stderr == *"no reply within 500ms"* ]]
}

@test "nothing listening: ICMP port unreachable is reported, status 1" {
	port=$(free_port udp)
	run -1 --separate-stderr "$SOCKCTL" udp-send -W 2 127.0.0.1 "$port" x
	[[ $stderr == *"127.0.0.1:$port: connection refused"* ]]
}

@test "udp-recv -c N exits 0; -w exits 1 when nothing comes or -c is not reached" {
	port=$(free_port udp)
	run -1 --separate-stderr "$SOCKCTL" udp-recv -w 0.3 "$port"
	[[ $stderr == *"no datagram within 300ms"* ]]
	start_recv "$port" -c 3 -w 1 -4
	"$SOCKCTL" udp-send -q 127.0.0.1 "$port" a b
	wait_pid 10 "$RECV_PID" || { ps -o pid,stat,wchan,cmd -p "$RECV_PID"; cat "$BATS_TEST_TMPDIR/err"; false; }
	[ "$WAIT_STATUS" = 1 ]
	grep -q "only 2 of 3 datagrams" "$BATS_TEST_TMPDIR/err"
	start_recv "$port" -c 2 -4
	"$SOCKCTL" udp-send -q -c 3 127.0.0.1 "$port" a
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" = 2 ]
}

@test "udp-recv --echo answers a python3 client and udp-send" {
	port=$(free_port udp)
	start_recv "$port" --echo -c 2 -w 10
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
	port=$(free_port udp)
	start_recv "$port" --json -c 2 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"\x00\xff\x10bin"'
	py_send 127.0.0.1 "$port" '"caf\u00e9 \"q\"".encode()'
	wait_pid 10 "$RECV_PID"
	run jq -c '[.type, .from, .len, .data, .data_hex]' "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = '["datagram","127.0.0.1",6,null,"00ff1062696e"]' ]
	[ "${lines[1]}" = '["datagram","127.0.0.1",9,"café \"q\"",null]' ]
	jq -e '.port > 0 and .ts > 1600000000' "$BATS_TEST_TMPDIR/out" >/dev/null
	start_recv "$port" --hex -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"\x00\xffAB"'
	wait_pid 10 "$RECV_PID"
	run cat "$BATS_TEST_TMPDIR/out"
	[[ ${lines[0]} =~ ^127\.0\.0\.1\ [0-9]+\ 4:$ ]]
	[[ ${lines[1]} == "00000000  00 ff 41 42"*"|..AB|" ]]
	start_recv "$port" --raw -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'bytes(range(256))'
	wait_pid 10 "$RECV_PID"
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "a datagram longer than --size is reported truncated with its real size" {
	port=$(free_port udp)
	start_recv "$port" --size 10 --json -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"x" * 100'
	wait_pid 10 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	run jq -c '[.len, .data, .truncated, .captured]' "$BATS_TEST_TMPDIR/out"
	[ "$output" = '[100,"xxxxxxxxxx",true,10]' ]
	grep -q "truncated: 100 bytes, buffer 10" "$BATS_TEST_TMPDIR/err"
}

@test "65507-byte datagrams (the IPv4 maximum) go through whole, both ways" {
	port=$(free_port udp)
	head -c 65507 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	start_recv "$port" --raw -c 1 -w 10 -4
	"$SOCKCTL" udp-send -q --raw --size 65507 127.0.0.1 "$port" <"$BATS_TEST_TMPDIR/big"
	wait_pid 10 "$RECV_PID"
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/out"
	# from python3, shown as its true size
	start_recv "$port" -q --stats -c 1 -w 10 -4
	py_send 127.0.0.1 "$port" 'b"z" * 65507'
	wait_pid 10 "$RECV_PID"
	grep -q "1 datagrams, 65507 bytes" "$BATS_TEST_TMPDIR/err"
	# one byte more cannot be a datagram: refused before anything is sent
	run -2 --separate-stderr "$SOCKCTL" udp-send 127.0.0.1 "$port" "$(head -c 65508 /dev/zero | tr '\0' a)"
	[[ $stderr == *"MESSAGE 1 is 65508 bytes"* ]]
}

@test "--nonblock: an empty queue ends with EAGAIN (status 1); a full queue is drained" {
	port=$(free_port udp)
	run -1 --separate-stderr "$SOCKCTL" udp-recv --nonblock -v -4 "$port"
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
	port=$(free_port udp)
	start_recv "$port" --json -q --stats --until-end -w 20 --rcvbuf 4M -4
	run -0 --separate-stderr "$SOCKCTL" udp-send -c 5000 --size 64 --json 127.0.0.1 "$port"
	jq -e '.type == "summary" and .sent == 5000 and .bytes == 320000' <<<"$output"
	wait_pid 20 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	st=$(cat "$BATS_TEST_TMPDIR/out")
	jq -e '.type == "stats" and .expected == 5000 and .end_seen and
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
	port=$(free_port udp)
	start_recv "$port" -v --json -q --stats --until-end -w 30 --rcvbuf 32M -4
	wait_for 10 gro_on
	run -0 --separate-stderr "$SOCKCTL" udp-send -v -c 100000 --size 64 --json 127.0.0.1 "$port"
	jq -e '.sent == 100000 and .bytes == 6400000' <<<"$output"
	[[ $stderr == *"UDP_SEGMENT: 100000 datagrams in 1563 GSO messages, 0 one by one"* ]]
	wait_pid 30 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	jq -e '.type == "stats" and .datagrams == 100000 and .bytes == 6400000 and
		.probes == 100000 and .expected == 100000 and .end_seen and
		.received == 100000 and .lost == 0 and .duplicates == 0 and .discarded == 0 and
		.truncated == 0' "$BATS_TEST_TMPDIR/out"
	grep -Eq "UDP_GRO: [1-9][0-9]* datagrams arrived in [1-9][0-9]* coalesced reads" \
		"$BATS_TEST_TMPDIR/err"
}

@test "GSO: a plain python3 receiver gets each datagram on its own, right size and bytes" {
	port=$(free_port udp)
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
        pass' "$port" "$BATS_TEST_TMPDIR/py.txt"
	pypid=$BG_PID
	wait_for 10 udp_bound "$port"
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
	port=$(free_port udp)
	sport=$(free_port udp)
	payload='[b"dgram-%04d" % i for i in range(7)] + [b"\x00\xff!!"]'
	for mode in "" --raw --hex --json; do
		# shellcheck disable=SC2086
		start_recv "$port" -v -c 8 -w 10 -4 $mode
		wait_for 10 gro_on
		py_train 127.0.0.1 "$port" 10 "$sport" "$payload"
		wait_pid 10 "$RECV_PID"
		[ "$WAIT_STATUS" = 0 ]
		grep -q "UDP_GRO: 8 datagrams arrived in 1 coalesced reads, 0 one by one" \
			"$BATS_TEST_TMPDIR/err"
		sed 's/,"ts":[0-9.]*//' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/gro$mode"
		# shellcheck disable=SC2086
		start_recv "$port" --no-gro -c 8 -w 10 -4 $mode
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
	port=$(free_port udp)
	sport=$(free_port udp)
	for mode in "" --json --hex; do
		# shellcheck disable=SC2086
		start_recv "$port" -v -c 7 -w 10 -4 $mode
		wait_for 10 gro_on
		"$SOCKCTL" udp-send -q -p "$sport" 127.0.0.1 "$port" one two six ten 'a b' 'c\d' $'\x01'
		wait_pid 10 "$RECV_PID"
		grep -q "UDP_GRO: 6 datagrams arrived in 1 coalesced reads, 1 one by one" \
			"$BATS_TEST_TMPDIR/err"
		sed 's/,"ts":[0-9.]*//' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/fast"
		# shellcheck disable=SC2086
		start_recv "$port" --no-gro -c 7 -w 10 -4 $mode
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
	port=$(free_port udp)
	start_recv "$port" -v --echo -c 3 -w 10 -4
	wait_for 10 gro_on
	run -0 --separate-stderr "$SOCKCTL" udp-send -v -W 3 127.0.0.1 "$port" aa bb cc
	[[ $stderr == *"UDP_SEGMENT: 3 datagrams in 1 GSO messages"* ]]
	[[ $stderr == *"3 replies"* ]]
	[ "${lines[0]}" = "127.0.0.1 $port 2: aa" ]
	[ "${lines[1]}" = "127.0.0.1 $port 2: bb" ]
	[ "${lines[2]}" = "127.0.0.1 $port 2: cc" ]
	wait_pid 10 "$RECV_PID"
	grep -q "UDP_GRO: 3 datagrams arrived in 1 coalesced reads" "$BATS_TEST_TMPDIR/err"
	start_recv "$port" -v --size 10 --json -c 3 -w 10 -4
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

@test "namespaces: exact loss when nftables drops every 10th datagram" {
	two_hosts
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; }'
	in_ns b nft add rule inet t in udp dport 7000 numgen inc mod 10 == 0 drop
	bg in_ns b "$SOCKCTL" udp-recv --json -q --stats --until-end -w 20 7000 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	pid=$BG_PID
	sleep 0.5
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
	sleep 0.5
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
	sleep 0.5
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
