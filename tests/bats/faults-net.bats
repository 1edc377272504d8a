#!/usr/bin/env bats
# Network faults in isolated namespaces (two namespaces joined by one veth
# pair, never to the host; 198.18.0.0/15 and 2001:db8::/32 only): resets,
# a link that goes away, filtered ports and silent hosts, ICMP port
# unreachable, a slow reader, a client that never sends.  Every run bounded.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

# cli (198.18.0.1) -- srv (198.18.0.2), resolvers pointing at nothing
two_hosts() {
	ns_add cli && ns_add srv || return 1
	ns_link cli srv 198.18.0.1/24 198.18.0.2/24 2001:db8::1/64 2001:db8::2/64 || return 1
	for n in cli srv; do
		mkdir -p "/etc/netns/$(ns $n)"
		echo "nameserver 127.0.0.1" >"/etc/netns/$(ns $n)/resolv.conf"
	done
	VSRV=$(ip -n "$(ns srv)" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)
}

listening_in() { # NS PORT
	in_ns "$1" ss -Htln "sport = :$2" | grep -q .
}

# a python3 TCP server in srv:7000 (MODE: reset = read 1 MB then RST;
# flood = send zeros forever; silent = accept and say nothing)
py_srv() {
	bg in_ns srv timeout 60 python3 -c '
import socket, struct, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 7000)); s.listen(1)
c, _ = s.accept()
if sys.argv[1] == "reset":
    n = 0
    while n < 1 << 20:
        n += len(c.recv(65536))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
elif sys.argv[1] == "flood":
    z, n = bytes(65536), 0
    while True:
        c.sendall(z)
        n += 1
        if n == 64:
            open(sys.argv[2], "w").write("4 MiB sent\n")
else:
    time.sleep(60)' "$1" "$BATS_TEST_TMPDIR/progress"
	wait_for 10 listening_in srv 7000
}

# start_listen_in NS ERR ARGS...: listen -v in namespace NS, in the background; LPID
start_listen_in() {
	local n=$1 err=$2
	shift 2
	: >"$err" # now: the job's own redirection may come after we read it
	# not bg: a background job's stdin would be /dev/null, not the caller's
	in_ns "$n" "$SOCKCTL" listen -v "$@" 2>"$err" 0<&0 &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "listening on" "$err" || { cat "$err"; return 1; }
}

size_over() { [ "$(stat -c %s "$2")" -gt "$1" ]; }

# ---- resets ----

@test "peer resets mid-transfer (SO_LINGER 0): connect ends with status 1 and a message" {
	two_hosts
	py_srv reset
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect 198.18.0.2 7000 </dev/zero
	[[ $stderr == "sockctl connect: 198.18.0.2:7000: connection reset by peer"* ]] ||
		[[ $stderr == "sockctl connect: 198.18.0.2:7000: broken pipe"* ]]
	[ "$(wc -l <<<"$stderr")" = 1 ]
}

@test "client resets mid-transfer: listen ends with status 1 and a message" {
	two_hosts
	start_listen_in srv "$BATS_TEST_TMPDIR/err" 198.18.0.2 7000 </dev/zero >/dev/null
	in_ns cli timeout 20 python3 -c '
import socket, struct
c = socket.create_connection(("198.18.0.2", 7000))
n = 0
while n < 1 << 20:
    n += len(c.recv(65536))
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()'
	wait_pid 20 "$LPID" || { cat "$BATS_TEST_TMPDIR/err"; false; }
	[ "$WAIT_STATUS" = 1 ]
	grep -Eq "^sockctl listen: .*(connection reset by peer|broken pipe)" "$BATS_TEST_TMPDIR/err"
}

# ---- the link goes away mid-transfer ----

@test "the peer's link goes down mid-transfer: connect ends within its idle timeout, status 1" {
	two_hosts
	py_srv flood
	bg bash -c 'exec ip netns exec "$0" "$1" connect -w 2 198.18.0.2 7000 </dev/zero >/dev/null 2>"$2.err"' \
		"$(ns cli)" "$SOCKCTL" "$BATS_TEST_TMPDIR/out"
	pid=$BG_PID
	wait_for 10 test -s "$BATS_TEST_TMPDIR/progress" || { cat "$BATS_TEST_TMPDIR/out.err"; false; }
	ip -n "$(ns srv)" link set "$VSRV" down
	wait_pid 10 "$pid" || { cat "$BATS_TEST_TMPDIR/out.err"; false; }
	[ "$WAIT_STATUS" = 1 ]
	# one line, with what stdin gave that never got through (/dev/zero: some)
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out.err")" = 1 ]
	grep -Eq '^sockctl connect: idle timeout after 2\.0s: [0-9]+ bytes sent; [1-9][0-9]* bytes read from stdin were not delivered$' \
		"$BATS_TEST_TMPDIR/out.err" || { cat "$BATS_TEST_TMPDIR/out.err"; false; }
}

@test "the client's link is deleted mid-transfer: listen ends within --idle-timeout, status 1" {
	two_hosts
	start_listen_in srv "$BATS_TEST_TMPDIR/err" --idle-timeout 1500ms 198.18.0.2 7000 </dev/zero >/dev/null
	bg in_ns cli timeout 60 python3 -c '
import socket, time
c = socket.create_connection(("198.18.0.2", 7000))
while True:
    c.sendall(bytes(65536)); c.recv(65536)'
	wait_for 10 grep -q "connection from" "$BATS_TEST_TMPDIR/err"
	sleep 0.3
	ip -n "$(ns srv)" link del "$VSRV"
	wait_pid 10 "$LPID" || { cat "$BATS_TEST_TMPDIR/err"; false; }
	[ "$WAIT_STATUS" = 1 ]
	grep -q "^sockctl listen: idle timeout after 1.5s" "$BATS_TEST_TMPDIR/err" ||
		grep -q "idle" "$BATS_TEST_TMPDIR/err"
}

# ---- filtered ports, silent hosts ----

drop_all() {
	in_ns srv nft -f - <<-'NFT'
		table inet t {
			chain in { type filter hook input priority 0; policy drop; }
		}
	NFT
}

@test "a silent host (nftables drop): connect, connect -z, udp-send -W, raw-icmp -w all bounded, status 1" {
	two_hosts
	drop_all
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -w 1 198.18.0.2 80 </dev/null
	[ "$stderr" = "sockctl connect: 198.18.0.2:80: connection timed out after 1.0s" ]
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -z -v -w 1 198.18.0.2 20-25,80
	[ "$(grep -c ' filtered$' <<<"$output")" = 7 ]
	# UDP: no answer and no ICMP is open|filtered, which counts as open (status 0)
	run -0 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -z -u -v -w 1 198.18.0.2 53
	[ "$output" = "198.18.0.2 53 open|filtered" ]
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" udp-send -W 1 198.18.0.2 53 x
	[[ $stderr == *"198.18.0.2:53: no reply within 1.0s"* ]]
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" raw-icmp -w 1 -i 0.2 198.18.0.2
	[[ $output == *"packets transmitted, 0 received, 100% packet loss"* ]]
}

@test "one filtered port among open ones: -z reports each correctly, bounded by -w" {
	two_hosts
	in_ns srv nft -f - <<-'NFT'
		table inet t {
			chain in { type filter hook input priority 0; tcp dport 7001 drop; }
		}
	NFT
	bg in_ns srv nc.openbsd -k -l 198.18.0.2 7000
	wait_for 10 listening_in srv 7000
	run -0 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -z -v -w 1 198.18.0.2 7000-7002
	[ "$output" = "198.18.0.2 7000 open
198.18.0.2 7001 filtered
198.18.0.2 7002 closed" ]
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -w 1 198.18.0.2 7001 </dev/null
	[[ $stderr == *"timed out after 1.0s" ]]
}

# ---- ICMP port unreachable for connected UDP ----

@test "ICMP port unreachable: connect -u and udp-send -W say connection refused, status 1 (IPv4, IPv6)" {
	two_hosts
	for dst in 198.18.0.2 2001:db8::2; do
		ep=$dst
		[[ $dst == *:* ]] && ep="[$dst]"
		run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" connect -u -w 2 "$ep:9999" <<<"x"
		[[ $stderr == *"$ep:9999"*"connection refused"* ]]
		run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" udp-send -W 2 "$ep:9999" x
		[[ $stderr == *"$ep:9999: connection refused"* ]]
	done
	# an explicit nftables reject (port unreachable) acts the same
	in_ns srv nft -f - <<-'NFT'
		table inet t {
			chain in { type filter hook input priority 0; udp dport 7000 reject; }
		}
	NFT
	bg in_ns srv "$SOCKCTL" udp-recv -w 20 198.18.0.2 7000
	wait_for 10 udp_bound 7000 srv
	run -1 --separate-stderr in_ns cli timeout 20 "$SOCKCTL" udp-send -W 2 198.18.0.2 7000 x
	[[ $stderr == *"198.18.0.2:7000: connection refused"* ]]
}

# ---- a slow reader: back-pressure without memory growth ----

# slow_reader OUT: python3 reading 64 KiB every 10 ms from stdin, sha256 to OUT
SLOW_READER='import hashlib, sys, time
h, n, f = hashlib.sha256(), 0, sys.stdin.buffer.raw
while True:
    b = f.read(65536)
    if not b: break
    h.update(b); n += len(b); time.sleep(0.01)
open(sys.argv[1], "w").write("%s %d\n" % (h.hexdigest(), n))'

# rss_watch PID OUT: sample VmRSS (kB) of PID every 100 ms into OUT
rss_watch() {
	bg bash -c 'while kill -0 "$0" 2>/dev/null; do
		sed -n "s/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$0/status" 2>/dev/null
		sleep 0.1; done >"$1"' "$1" "$2"
}

rss_flat() { # FILE: at least 10 samples, max - min < 8 MiB
	sort -n "$1" | awk 'NR==1{mn=$1} {mx=$1; n++} END{print n, mx-mn; exit !(n >= 10 && mx-mn < 8192)}'
}

@test "slow reader: 64 MiB through connect to a reader taking 64 KiB / 10 ms; RSS flat, data intact" {
	two_hosts
	head -c 67108864 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	want="$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1) 67108864"
	bg in_ns srv sh -c "exec nc.openbsd -N -l 198.18.0.2 7000 <'$BATS_TEST_TMPDIR/in' >/dev/null"
	wait_for 10 listening_in srv 7000
	bg bash -c 'ip netns exec "$0" "$1" connect -d 198.18.0.2 7000 </dev/null | python3 -c "$2" "$3"' \
		"$(ns cli)" "$SOCKCTL" "$SLOW_READER" "$BATS_TEST_TMPDIR/got"
	wait_for 10 pgrep -n -f "$SOCKCTL connect -d 198.18.0.2 7000" >/dev/null
	pid=$(pgrep -n -f "$SOCKCTL connect -d 198.18.0.2 7000")
	rss_watch "$pid" "$BATS_TEST_TMPDIR/rss"
	wait_for 60 test -s "$BATS_TEST_TMPDIR/got"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$want" ]
	run -0 rss_flat "$BATS_TEST_TMPDIR/rss"
}

@test "slow reader: 64 MiB through listen to a reader taking 64 KiB / 10 ms; RSS flat, data intact" {
	two_hosts
	head -c 67108864 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	want="$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1) 67108864"
	bg bash -c 'ip netns exec "$0" "$1" listen -v 198.18.0.2 7000 </dev/null 2>"$4" | python3 -c "$2" "$3"' \
		"$(ns srv)" "$SOCKCTL" "$SLOW_READER" "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/err"
	wait_for 10 grep -q "listening on" "$BATS_TEST_TMPDIR/err"
	pid=$(pgrep -n -f "$SOCKCTL listen -v 198.18.0.2 7000")
	rss_watch "$pid" "$BATS_TEST_TMPDIR/rss"
	bg in_ns cli sh -c "exec nc.openbsd -N 198.18.0.2 7000 <'$BATS_TEST_TMPDIR/in' >/dev/null"
	wait_for 60 test -s "$BATS_TEST_TMPDIR/got"
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = "$want" ]
	run -0 rss_flat "$BATS_TEST_TMPDIR/rss"
}

# ---- a peer that connects and never sends ----

@test "a client that connects and never sends: listen --idle-timeout (single and -k) ends it" {
	two_hosts
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo" # stdin that stays open and silent
	start_listen_in srv "$BATS_TEST_TMPDIR/err" --idle-timeout 500ms 198.18.0.2 7000 <&7 >/dev/null
	bg in_ns cli timeout 30 python3 -c '
import socket, time
c = socket.create_connection(("198.18.0.2", 7000)); time.sleep(30)'
	wait_pid 10 "$LPID" || { cat "$BATS_TEST_TMPDIR/err"; false; }
	exec 7>&-
	[ "$WAIT_STATUS" = 1 ]
	grep -q "idle timeout after 500ms" "$BATS_TEST_TMPDIR/err"
	# -k: the silent client is closed, the server stays up
	start_listen_in srv "$BATS_TEST_TMPDIR/err2" -k --idle-timeout 500ms 198.18.0.2 7001 </dev/null >/dev/null
	run -0 in_ns cli timeout 20 python3 -c '
import socket
c = socket.create_connection(("198.18.0.2", 7001)); c.settimeout(10)
print(repr(c.recv(10)))'
	[ "$output" = "b''" ]
	kill -0 "$LPID"
}

@test "a server that accepts and never sends: connect --idle-timeout ends it, status 1" {
	two_hosts
	py_srv silent
	run -1 --separate-stderr in_ns cli timeout 20 bash -c "exec '$SOCKCTL' connect --idle-timeout 500ms 198.18.0.2 7000 < <(sleep 30)"
	[ "$stderr" = "sockctl connect: idle timeout after 500ms" ]
	[ -z "$output" ]
}
