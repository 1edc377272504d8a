#!/usr/bin/env bats
# The shared socket options (OPT_SOCKOPTS, docs/sockopts.inc): each is checked
# for what the kernel did with it (nftables counters, ss, routes, nstat),
# inside network namespaces that the test creates, never only parsed.
load helper

teardown() { common_teardown; }

# two_hosts [MTU]: namespaces a and b on one veth link (198.18.0.1/.2,
# 2001:db8::1/::2), up with carrier, the veths in $VA and $VB.
two_hosts() {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24 2001:db8::1/64 2001:db8::2/64
	VA="v$$a" VB="v$$b"
	VA=${VA:0:15} VB=${VB:0:15}
	if [ -n "${1:-}" ]; then
		ip -n "$(ns a)" link set "$VA" mtu "$1"
		ip -n "$(ns b)" link set "$VB" mtu "$1"
	fi
	link_wait "$(ns a)" "$VA" && link_wait "$(ns b)" "$VB"
}

# listen_bg NS ARGS...: sockctl listen -v ARGS in namespace NS; the port it
# chose (ARGS end with port 0) in $PORT.
listen_bg() {
	local n=$1 f="$BATS_TEST_TMPDIR/listen.err"
	shift
	: >"$f"
	bg in_ns "$n" "$SOCKCTL" listen -v "$@" </dev/null >"$BATS_TEST_TMPDIR/listen.out" 2>"$f"
	wait_for 10 grep -q "listening on" "$f"
	PORT=$(sed -n 's/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p' "$f" | head -n1)
}

# nft_count NS CHAIN WORD: the packets counted by the rule of CHAIN (table
# inet t) whose text has WORD.
nft_count() {
	in_ns "$1" nft list chain inet t "$2" |
		awk -v w="$3" 'index($0, w) { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

# established NS N PATTERN: ss in NS shows N established TCP sockets whose line matches PATTERN.
established() {
	[ "$(in_ns "$1" ss -Htnoe state established | grep -Ec -- "$3")" = "$2" ]
}

@test "--mark: the packets of every command carry the fwmark (nftables counts them, ss -e shows it)" {
	ns_add a
	in_ns a nft add table inet t
	in_ns a nft add chain inet t out '{ type filter hook output priority 0; }'
	in_ns a nft add rule inet t out meta mark 0x2a counter
	# a control: without --mark nothing is counted
	run -0 in_ns a "$SOCKCTL" udp-send 127.0.0.1 9 plain
	[ "$(nft_count a out mark)" = 0 ]
	run -0 in_ns a "$SOCKCTL" udp-send --mark 42 127.0.0.1 9 marked
	n=$(nft_count a out mark)
	[ "$n" -ge 1 ]
	run -0 in_ns a "$SOCKCTL" raw-icmp --mark 0x2a -c 1 -W 5 127.0.0.1
	[ "$(nft_count a out mark)" -gt "$n" ]
	n=$(nft_count a out mark)
	# connect and listen: both ends of the connection, as ss -e sees them
	listen_bg a -d --mark 42 127.0.0.1 0
	bg in_ns a "$SOCKCTL" connect -d --mark 42 127.0.0.1 "$PORT"
	wait_for 10 established a 2 'fwmark:0x2a'
	[ "$(nft_count a out mark)" -gt "$n" ]
	n=$(nft_count a out mark)
	# udp-recv: its echo goes out marked (the unmarked datagram it answers is not counted)
	bg in_ns a "$SOCKCTL" udp-recv --echo --mark 42 -c 1 -w 10 127.0.0.1 7001
	wait_for 10 in_ns a sh -c 'ss -Huln "sport = :7001" | grep -q .'
	run -0 in_ns a "$SOCKCTL" udp-send -W 5 127.0.0.1 7001 echo-me
	[ "$(nft_count a out mark)" = $((n + 1)) ]
	# connect -u too (nothing listens: its status says so, the datagram went out)
	run in_ns a sh -c 'echo x | "$1" connect -u -w 0.2 --mark 42 127.0.0.1 9' _ "$SOCKCTL"
	[ "$(nft_count a out mark)" = $((n + 2)) ]
}

@test "--tos takes hex or decimal in every command (nftables counts DSCP 4 = TOS 0x10)" {
	ns_add a
	in_ns a nft add table inet t
	in_ns a nft add chain inet t out '{ type filter hook output priority 0; }'
	in_ns a nft add rule inet t out ip dscp 4 counter
	run -0 in_ns a "$SOCKCTL" udp-send --tos 0x10 127.0.0.1 9 hex
	[ "$(nft_count a out dscp)" = 1 ]
	run -0 in_ns a "$SOCKCTL" udp-send --tos 16 127.0.0.1 9 decimal
	[ "$(nft_count a out dscp)" = 2 ]
	run -0 in_ns a "$SOCKCTL" raw-icmp -Q 0x10 -c 1 -W 5 127.0.0.1
	run -0 in_ns a "$SOCKCTL" raw-icmp --tos 16 -c 1 -W 5 127.0.0.1
	# two requests and two replies (the reply keeps the request's TOS)
	[ "$(nft_count a out dscp)" -ge 4 ]
	n=$(nft_count a out dscp)
	run in_ns a sh -c 'echo x | "$1" connect -u -w 0.2 --tos 0x10 127.0.0.1 9' _ "$SOCKCTL"
	[ "$(nft_count a out dscp)" = $((n + 1)) ]
	bg in_ns a "$SOCKCTL" udp-recv --echo --tos 0x10 -c 1 -w 10 127.0.0.1 7001
	wait_for 10 in_ns a sh -c 'ss -Huln "sport = :7001" | grep -q .'
	run -0 in_ns a "$SOCKCTL" udp-send -W 5 127.0.0.1 7001 echo-me
	[ "$(nft_count a out dscp)" = $((n + 2)) ]
	# TCP: the listener's TOS goes to the connections it accepts
	listen_bg a -d --tos 0x10 127.0.0.1 0
	bg in_ns a "$SOCKCTL" connect -d --tos 0x10 127.0.0.1 "$PORT"
	wait_for 10 established a 2 .
	[ "$(nft_count a out dscp)" -ge $((n + 5)) ] # SYN, SYN-ACK, ACK at least
	run -0 assert_usage_error "--tos" "$SOCKCTL" listen --tos 0x100 0
	run -0 assert_usage_error "--tos" "$SOCKCTL" udp-recv --tos 0xzz 9
}

@test "-I: the interface decides the route, in every command" {
	ns_add a && ns_add b && ns_add c
	ib="i$$b" ic="i$$c" pb="p$$b" pc="p$$c"
	ib=${ib:0:15} ic=${ic:0:15} pb=${pb:0:15} pc=${pc:0:15}
	ip link add "$ib" netns "$(ns a)" type veth peer name "$pb" netns "$(ns b)"
	ip link add "$ic" netns "$(ns a)" type veth peer name "$pc" netns "$(ns c)"
	ip -n "$(ns a)" addr add 198.18.1.1/24 dev "$ib"
	ip -n "$(ns b)" addr add 198.18.1.2/24 dev "$pb"
	ip -n "$(ns a)" addr add 198.18.2.1/24 dev "$ic"
	ip -n "$(ns c)" addr add 198.18.2.2/24 dev "$pc"
	# helper.bash's link_up: up, then carrying packets (operstate, carrier, qdisc)
	link_up "$(ns a)" "$ib" "$(ns b)" "$pb"
	link_up "$(ns a)" "$ic" "$(ns c)" "$pc"
	# 198.18.3.3 is on b and on c; a's table prefers b
	ip -n "$(ns b)" addr add 198.18.3.3/32 dev lo
	ip -n "$(ns c)" addr add 198.18.3.3/32 dev lo
	ip -n "$(ns a)" route add 198.18.3.3/32 via 198.18.1.2 metric 10
	ip -n "$(ns a)" route add 198.18.3.3/32 via 198.18.2.2 metric 20
	bg in_ns b socat TCP-LISTEN:7000,bind=198.18.3.3,fork,reuseaddr SYSTEM:'echo b'
	bg in_ns c socat TCP-LISTEN:7000,bind=198.18.3.3,fork,reuseaddr SYSTEM:'echo c'
	wait_for 10 in_ns b sh -c 'ss -Htln "sport = :7000" | grep -q .'
	wait_for 10 in_ns c sh -c 'ss -Htln "sport = :7000" | grep -q .'

	run -0 --separate-stderr in_ns a "$SOCKCTL" connect -w 5 198.18.3.3 7000 </dev/null
	[ "$output" = b ]
	run -0 --separate-stderr in_ns a "$SOCKCTL" connect -w 5 -I "$ic" 198.18.3.3 7000 </dev/null
	[ "$output" = c ]

	# udp-send: the datagram reaches c
	bg in_ns c "$SOCKCTL" udp-recv -c 1 -w 10 198.18.3.3 7001 >"$BATS_TEST_TMPDIR/c.out"
	pid=$BG_PID
	wait_for 10 in_ns c sh -c 'ss -Huln "sport = :7001" | grep -q .'
	run -0 in_ns a "$SOCKCTL" udp-send -I "$ic" 198.18.3.3 7001 via-c
	wait_pid 10 "$pid"
	[ "$WAIT_STATUS" = 0 ]
	grep -q 'via-c' "$BATS_TEST_TMPDIR/c.out"

	# raw-icmp: b ignores echo requests, c answers them
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; }'
	in_ns b nft add rule inet t in icmp type echo-request drop
	run -1 in_ns a "$SOCKCTL" raw-icmp -c 1 -W 1 198.18.3.3
	run -0 in_ns a "$SOCKCTL" raw-icmp -I "$ic" -c 1 -W 5 198.18.3.3

	# listen and udp-recv bound to b's link hear nothing that comes in through c's
	bg in_ns a "$SOCKCTL" listen -4 -I "$ib" 7002 </dev/null >/dev/null
	wait_for 10 in_ns a sh -c 'ss -Htln "sport = :7002" | grep -q .'
	run -1 in_ns c "$SOCKCTL" connect -w 5 198.18.2.1 7002 </dev/null
	run -0 in_ns b "$SOCKCTL" connect -w 5 198.18.1.1 7002 </dev/null
	bg in_ns a "$SOCKCTL" udp-recv -4 -I "$ib" -c 1 -w 10 7003 >"$BATS_TEST_TMPDIR/a.out"
	pid=$BG_PID
	wait_for 10 in_ns a sh -c 'ss -Huln "sport = :7003" | grep -q .'
	run -0 in_ns c "$SOCKCTL" udp-send 198.18.2.1 7003 from-c
	run -0 in_ns b "$SOCKCTL" udp-send 198.18.1.1 7003 from-b
	wait_pid 10 "$pid"
	[ "$WAIT_STATUS" = 0 ]
	grep -q 'from-b' "$BATS_TEST_TMPDIR/a.out"
	run -1 grep -q 'from-c' "$BATS_TEST_TMPDIR/a.out"
}

@test "-I: an interface that does not exist is bad input in every command" {
	run -0 assert_usage_error "--interface" "$SOCKCTL" connect -I nosuch0 127.0.0.1 9
	run -0 assert_usage_error "--interface" "$SOCKCTL" listen -I nosuch0 0
	run -0 assert_usage_error "--interface" "$SOCKCTL" udp-send -I nosuch0 127.0.0.1 9 x
	run -0 assert_usage_error "--interface" "$SOCKCTL" udp-recv -I nosuch0 9
	run -0 assert_usage_error "--interface" "$SOCKCTL" raw-icmp -I nosuch0 127.0.0.1
	run -0 assert_usage_error "--interface" "$SOCKCTL" connect -I "" 127.0.0.1 9
	# raw-icmp's -I also takes an address, as ping's does
	run -0 "$SOCKCTL" raw-icmp -I 127.0.0.1 -c 1 -W 5 127.0.0.1
}

@test "--keepalive --keepidle: ss -to shows the keepalive timer on both ends" {
	ns_add a
	listen_bg a -d --keepalive --keepidle 77 127.0.0.1 0
	bg in_ns a "$SOCKCTL" connect -d --keepalive --keepidle 77s 127.0.0.1 "$PORT"
	# the default idle time is 2 hours: a minute and some seconds left is ours
	wait_for 10 established a 2 'timer:\(keepalive,1min[0-9]+sec'
	run -0 assert_usage_error "--keepalive" "$SOCKCTL" connect --keepidle 5 127.0.0.1 9
	run -0 assert_usage_error "--keepidle" "$SOCKCTL" connect --keepalive --keepidle 1.5 127.0.0.1 9
	run -0 assert_usage_error "TCP" "$SOCKCTL" connect -u --keepalive 127.0.0.1 9
}

@test "--keepintvl --keepcnt: a peer that went silent ends the connection after idle + cnt x intvl" {
	two_hosts
	listen_bg b -d 198.18.0.2 0
	bg in_ns a "$SOCKCTL" connect -d --keepalive --keepidle 1 --keepintvl 1 --keepcnt 2 \
		198.18.0.2 "$PORT" 2>"$BATS_TEST_TMPDIR/c.err"
	pid=$BG_PID
	wait_for 10 established a 1 .
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; policy drop; }'
	# 1s idle, then 2 probes 1s apart: about 3s (the kernel's default would be 2h11m)
	wait_pid 20 "$pid"
	[ "$WAIT_STATUS" = 1 ]
	grep -q 'timed out' "$BATS_TEST_TMPDIR/c.err"
}

@test "--user-timeout: data left unacknowledged for DUR fails the connection" {
	two_hosts
	listen_bg b -d 198.18.0.2 0
	# stdin stays open, and gets a line only once the peer is cut off (not
	# through bg: an asynchronous command's stdin would be /dev/null)
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 4<>"$BATS_TEST_TMPDIR/in"
	in_ns a "$SOCKCTL" connect --user-timeout 1s 198.18.0.2 "$PORT" \
		<"$BATS_TEST_TMPDIR/in" 2>"$BATS_TEST_TMPDIR/c.err" &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 established a 1 .
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; policy drop; }'
	echo "never acknowledged" >&4
	# retransmissions would go on for about 15 minutes without it
	wait_pid 20 "$pid"
	exec 4>&-
	[ "$WAIT_STATUS" = 1 ]
	grep -q 'timed out' "$BATS_TEST_TMPDIR/c.err"
}

@test "--pmtu do: a datagram over a 1400-byte MTU fails with EMSGSIZE naming 1400; want fragments" {
	two_hosts 1400
	msg=$(head -c 1450 /dev/zero | tr '\0' x)
	run -1 --separate-stderr in_ns a "$SOCKCTL" udp-send --pmtu do 198.18.0.2 9 "$msg"
	[[ $stderr == *EMSGSIZE*"MTU of 1400 bytes"* ]]
	run -1 --separate-stderr in_ns a "$SOCKCTL" udp-send -6 --pmtu do 2001:db8::2 9 "$msg"
	[[ $stderr == *EMSGSIZE*"MTU of 1400 bytes"* ]]
	run -0 --separate-stderr in_ns a "$SOCKCTL" udp-send --pmtu want 198.18.0.2 9 "$msg"
	run -1 --separate-stderr in_ns a sh -c 'printf %s "$2" | "$1" connect -u -w 2 --pmtu do 198.18.0.2 9' \
		_ "$SOCKCTL" "$msg"
	[[ $stderr == *EMSGSIZE*"MTU of 1400 bytes"* ]]
	run -1 --separate-stderr in_ns a "$SOCKCTL" raw-icmp --pmtu do -s 1450 -c 1 -W 1 198.18.0.2
	[[ $stderr == *"message too long, path MTU 1400"* ]]
	run -0 --separate-stderr in_ns a "$SOCKCTL" raw-icmp --pmtu want -s 1450 -c 1 -W 5 198.18.0.2
	run -0 assert_usage_error "--pmtu" "$SOCKCTL" udp-send --pmtu sometimes 127.0.0.1 9 x
	run -0 assert_usage_error "--pmtu" "$SOCKCTL" connect --pmtu do 127.0.0.1 9
}

@test "--fastopen: connect and listen carry data in the SYN (nstat counts TCPFastOpenPassive)" {
	ns_add a
	in_ns a sysctl -qw net.ipv4.tcp_fastopen=3
	listen_bg a -k --echo --fastopen 127.0.0.1 0
	# the first connection fetches the cookie, the second sends its data with the SYN
	for n in 1 2; do
		run -0 --separate-stderr in_ns a sh -c 'echo "hi $2" | "$1" connect --fastopen -w 5 127.0.0.1 "$3"' \
			_ "$SOCKCTL" "$n" "$PORT"
		[ "$output" = "hi $n" ] || { echo "got: $output / $stderr"; return 1; }
	done
	passive=$(in_ns a nstat -asz TcpExtTCPFastOpenPassive | awk '/TCPFastOpenPassive/ {print $2}')
	active=$(in_ns a nstat -asz TcpExtTCPFastOpenActive | awk '/TCPFastOpenActive/ {print $2}')
	[ "$passive" -ge 1 ] && [ "$active" -ge 1 ]
}

@test "--mptcp: both ends are MPTCP sockets (ss -M); a kernel with MPTCP off is a clear failure" {
	[ -e /proc/sys/net/mptcp/enabled ] || skip "this kernel has no MPTCP"
	ns_add a
	in_ns a sysctl -qw net.mptcp.enabled=1
	listen_bg a -d --mptcp 127.0.0.1 0
	bg in_ns a "$SOCKCTL" connect -d --mptcp 127.0.0.1 "$PORT"
	wait_for 10 sh -c "[ \"\$(ip netns exec '$(ns a)' ss -HMn state established | wc -l)\" = 2 ]"
	in_ns a sysctl -qw net.mptcp.enabled=0
	run -1 --separate-stderr in_ns a "$SOCKCTL" connect --mptcp 127.0.0.1 "$PORT"
	[[ $stderr == *"--mptcp"*"no MPTCP"* ]]
	run -1 --separate-stderr in_ns a "$SOCKCTL" listen --mptcp 127.0.0.1 0
	[[ $stderr == *"--mptcp"*"no MPTCP"* ]]
	run -1 --separate-stderr in_ns a "$SOCKCTL" connect -z --mptcp 127.0.0.1 "$PORT"
	[[ $stderr == *"--mptcp"*"no MPTCP"* ]]
}

@test "--freebind and --transparent: bind an address this host does not have" {
	ns_add a
	run -1 --separate-stderr in_ns a "$SOCKCTL" listen 198.18.9.9 0
	[[ $stderr == *"assign requested address"* ]]
	listen_bg a -d --freebind 198.18.9.9 0
	[[ $(cat "$BATS_TEST_TMPDIR/listen.err") == *"198.18.9.9"* ]]
	in_ns a ss -Htln | grep -q "198.18.9.9:$PORT"
	bg in_ns a "$SOCKCTL" udp-recv --transparent -w 10 198.18.9.9 7001
	wait_for 10 in_ns a sh -c 'ss -Huln | grep -q "198.18.9.9:7001"'
}

@test "--broadcast: connect -u reaches the subnet broadcast address only with it" {
	two_hosts
	bg in_ns b "$SOCKCTL" udp-recv -c 1 -w 10 7001 >"$BATS_TEST_TMPDIR/b.out"
	pid=$BG_PID
	wait_for 10 in_ns b sh -c 'ss -Huln "sport = :7001" | grep -q .'
	run -1 --separate-stderr in_ns a "$SOCKCTL" connect -u 198.18.0.255 7001 </dev/null
	run -0 --separate-stderr in_ns a sh -c 'echo to-all | "$1" connect -u -w 0.5 --broadcast 198.18.0.255 7001' _ "$SOCKCTL"
	wait_pid 10 "$pid"
	[ "$WAIT_STATUS" = 0 ]
	grep -q 'to-all' "$BATS_TEST_TMPDIR/b.out"
	# listen -u has it too (for replies to a broadcast sender); TCP has not
	run -0 assert_usage_error "--broadcast" "$SOCKCTL" listen --broadcast 0
}

# flow_label_seen PROTO [PORT]: in namespace b, the flow label of the first
# IPv6 packet of PROTO (udp, tcp, icmp: an echo request) to PORT, into $T/label.
flow_label_seen() {
	: >"$BATS_TEST_TMPDIR/label"
	bg in_ns b timeout 20 python3 -c '
import socket, struct, sys
proto, port = {"udp": 17, "tcp": 6, "icmp": 58}[sys.argv[1]], int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD))
print("ready", flush=True)
while True:
    d = s.recv(65535)
    if len(d) < 44 or d[6] != proto:
        continue
    if proto == 58 and d[40] != 128:
        continue
    if proto != 58 and struct.unpack("!H", d[42:44])[0] != port:
        continue
    print(hex(struct.unpack("!I", d[:4])[0] & 0xfffff), flush=True)
    break
' "$1" "${2:-0}" >"$BATS_TEST_TMPDIR/label"
	SNIFF=$BG_PID
	wait_for 10 grep -q ready "$BATS_TEST_TMPDIR/label"
}

@test "--flowlabel: the IPv6 flow label on the wire (connect, connect -u, udp-send, raw-icmp)" {
	two_hosts
	flow_label_seen udp 7001
	run -0 in_ns a "$SOCKCTL" udp-send --flowlabel 0x12345 2001:db8::2 7001 labelled
	wait_pid 10 "$SNIFF"
	[ "$(tail -n1 "$BATS_TEST_TMPDIR/label")" = 0x12345 ]
	flow_label_seen udp 7002
	run in_ns a sh -c 'echo x | "$1" connect -u -w 0.2 --flowlabel 4660 2001:db8::2 7002' _ "$SOCKCTL"
	wait_pid 10 "$SNIFF"
	[ "$(tail -n1 "$BATS_TEST_TMPDIR/label")" = 0x1234 ]
	flow_label_seen tcp 7003
	run -1 in_ns a "$SOCKCTL" connect -w 5 --flowlabel 0x54321 2001:db8::2 7003 </dev/null
	wait_pid 10 "$SNIFF"
	[ "$(tail -n1 "$BATS_TEST_TMPDIR/label")" = 0x54321 ]
	flow_label_seen icmp
	run -0 in_ns a "$SOCKCTL" raw-icmp --flowlabel 0xabcd -c 1 -W 5 2001:db8::2
	wait_pid 10 "$SNIFF"
	[ "$(tail -n1 "$BATS_TEST_TMPDIR/label")" = 0xabcd ]
	run -0 assert_usage_error "--flowlabel" "$SOCKCTL" udp-send -4 --flowlabel 1 127.0.0.1 9 x
	run -0 assert_usage_error "--flowlabel" "$SOCKCTL" connect --flowlabel 0x100000 ::1 9
}
