#!/usr/bin/env bats
# raw-icmp: ICMP/ICMPv6 echo, compared with iputils ping; privileges; namespaces.
load helper
bats_require_minimum_version 1.5.0

# replies without their times, and the summary without its time
strip_times() {
	sed -E -e 's/ time=[0-9.]+ ms//' -e 's/, time [0-9]+ms$//' -e '/^rtt /d'
}

# a copy of the binary that user nobody can reach and run
nobody_copy() {
	NOBODY_DIR=$(mktemp -d /tmp/sk-icmp.XXXXXX)
	echo "$NOBODY_DIR" >>"$BATS_TEST_TMPDIR/.dirs"
	chmod 755 "$NOBODY_DIR"
	cp "$SOCKCTL" "$NOBODY_DIR/sockctl"
	chmod 755 "$NOBODY_DIR/sockctl"
}

teardown() {
	common_teardown
	if [ -f "$BATS_TEST_TMPDIR/.dirs" ]; then
		while read -r d; do rm -rf "$d"; done <"$BATS_TEST_TMPDIR/.dirs"
	fi
}

# user nobody with no capabilities at all
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)

# veth NAME_A NAME_B NS_A NS_B ADDR_A ADDR_B ADDR6_A ADDR6_B: a named veth pair
# (ns_link names interfaces after the namespace, so a router needs this)
veth() {
	ip link add "$1" netns "$(ns "$3")" type veth peer name "$2" netns "$(ns "$4")" || return 1
	ip -n "$(ns "$3")" addr add "$5" dev "$1"
	ip -n "$(ns "$4")" addr add "$6" dev "$2"
	ip -n "$(ns "$3")" addr add "$7" dev "$1" nodad
	ip -n "$(ns "$4")" addr add "$8" dev "$2" nodad
	link_up "$(ns "$3")" "$1" "$(ns "$4")" "$2"
}

# raw_icmp_open NS: a raw ICMP socket is open in namespace NS (short name)
raw_icmp_open() {
	ss -N "$(ns "$1")" -Hwa | grep -q .
}

# h1 -- r -- h2: two hops, isolated from the host's namespace
two_hops() {
	ns_add h1 && ns_add r && ns_add h2
	veth h1r rh1 h1 r 198.18.0.1/24 198.18.0.2/24 2001:db8::1/64 2001:db8::2/64
	veth rh2 h2r r h2 198.18.1.1/24 198.18.1.2/24 2001:db8:1::1/64 2001:db8:1::2/64
	in_ns h1 ip route add default via 198.18.0.2
	in_ns h2 ip route add default via 198.18.1.1
	in_ns h1 ip -6 route add default via 2001:db8::2
	in_ns h2 ip -6 route add default via 2001:db8:1::1
	in_ns r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# The loopback tests below count every reply: each runs in a network
# namespace of its own (own_net), where no other process's ICMP can fill the
# raw socket's queue (the machine runs several test suites at once).
@test "127.0.0.1: the same lines and counts as iputils ping" {
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -c 3 -i 0.2 127.0.0.1
	ours=$(strip_times <<<"$output")
	[[ $output =~ time=[0-9]+\.[0-9]+\ ms ]]
	[[ $output == *"rtt min/avg/max/mdev = "*" ms"* ]]
	run -0 own_net ping -c 3 -i 0.2 127.0.0.1
	theirs=$(strip_times <<<"$output")
	diff <(echo "$ours") <(echo "$theirs")
	[[ $ours == *"3 packets transmitted, 3 received, 0% packet loss"* ]]
	[ "$(grep -c '^64 bytes from 127.0.0.1: icmp_seq=[123] ttl=64$' <<<"$ours")" -eq 3 ]
}

@test "::1: the same reply lines and counts as iputils ping -6" {
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -6 -c 3 -i 0.2 -s 100 ::1
	ours=$(strip_times <<<"$output" | grep -v '^PING')
	run -0 own_net ping -6 -c 3 -i 0.2 -s 100 ::1
	theirs=$(strip_times <<<"$output" | grep -v '^PING')
	diff <(echo "$ours") <(echo "$theirs")
	[[ $ours == *"108 bytes from ::1: icmp_seq=3 ttl=64"* ]]
}

@test "--json: one object per reply, then a summary" {
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp --json -c 3 -i 0.1 127.0.0.1
	[ "${#lines[@]}" -eq 4 ]
	run -0 jq -se '[.[] | select(.event == "reply")] | length == 3 and
		all(.time_ms >= 0 and .ttl == 64 and .bytes == 64 and .from == "127.0.0.1" and .dup == false)' <<<"$output"
	run -0 jq -r 'select(.event == "summary") | "\(.transmitted) \(.received) \(.duplicates) \(.loss_pct) \(.rtt_min_ms <= .rtt_max_ms)"' <<<"$(
		own_net "$SOCKCTL" raw-icmp --json -c 2 -i 0.1 127.0.0.1)"
	[ "$output" = "2 2 0 0 true" ]
}

@test "quiet and flood print the summary only; flood wraps the 16-bit sequence" {
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -q -c 2 -i 0.1 127.0.0.1
	! grep -q 'bytes from' <<<"$output"
	[[ $output == *"2 packets transmitted, 2 received, 0% packet loss"* ]]
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -f -c 70000 127.0.0.1
	! grep -q 'bytes from' <<<"$output"
	[[ $output == *"70000 packets transmitted, 70000 received, 0% packet loss"* ]]
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -6 -f -c 1000 ::1
	[[ $output == *"1000 packets transmitted, 1000 received, 0% packet loss"* ]]
}

@test "-s takes the size suffixes udp-send takes (1k), and is checked the same way" {
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -c 1 -W 5 -s 1k 127.0.0.1
	[[ $output == *"PING 127.0.0.1 (127.0.0.1) 1024(1052) bytes of data."* ]]
	[[ $output == *"1032 bytes from 127.0.0.1: icmp_seq=1"* ]]
	assert_usage_error "-s/--size" "$SOCKCTL" raw-icmp -c 1 -s 64k 127.0.0.1
	assert_usage_error "-s/--size" "$SOCKCTL" raw-icmp -c 1 -s 1x 127.0.0.1
}

@test "run by root, --mark reaches the socket (root's rights go after the options), -v says so" {
	run -0 --separate-stderr own_net "$SOCKCTL" raw-icmp -v --mark 7 -c 1 -W 5 127.0.0.1
	[[ $stderr == *"run by root: capabilities are dropped once the socket options are set"* ]]
	[[ $output == *"1 received"* ]]
}

@test "--type timestamp sends an ICMP timestamp request and shows the reply" {
	run -0 --separate-stderr "$SOCKCTL" raw-icmp --type timestamp -c 1 127.0.0.1
	[[ $output =~ 20\ bytes\ from\ 127.0.0.1:\ icmp_seq=1\ ttl=64\ time=[0-9.]+\ ms\ originate=[0-9]+\ receive=[0-9]+\ transmit=[0-9]+ ]]
	run -0 --separate-stderr "$SOCKCTL" raw-icmp --json --type 13 -c 1 127.0.0.1
	run -0 jq -se '.[0].originate <= .[0].receive + 1000 and .[0].bytes == 20' <<<"$output"
}

@test "capabilities: none effective and none permitted while it runs" {
	out=$BATS_TEST_TMPDIR/out
	bg "$SOCKCTL" raw-icmp -c 20 -i 0.2 127.0.0.1 >"$out"
	pid=$BG_PID
	wait_for 10 grep -q 'icmp_seq=2' "$out"
	status_file=$(cat "/proc/$pid/status")
	grep -q '^CapEff:[[:space:]]0000000000000000$' <<<"$status_file"
	grep -q '^CapPrm:[[:space:]]0000000000000000$' <<<"$status_file"
	grep -q '^CapBnd:[[:space:]]0000000000000000$' <<<"$status_file"
	kill -INT "$pid"
	wait_pid 10 "$pid"
	[ "$WAIT_STATUS" -eq 0 ]
}

@test "setuid-root copy run by nobody: uid given up, no capabilities, raw socket works" {
	nobody_copy
	chmod 4755 "$NOBODY_DIR/sockctl"
	out=$BATS_TEST_TMPDIR/out
	# not "${NOBODY[@]}": an empty bounding set would leave setuid-root powerless
	bg setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$NOBODY_DIR/sockctl" raw-icmp -v --mode raw -c 20 -i 0.2 127.0.0.1 >"$out" 2>"$out.err"
	wait_for 10 grep -q 'icmp_seq=2' "$out"
	pid=$BG_PID
	st=$(cat "/proc/$pid/status")
	grep -qE '^Uid:[[:space:]]65534[[:space:]]65534[[:space:]]65534[[:space:]]65534$' <<<"$st"
	grep -q '^CapEff:[[:space:]]0000000000000000$' <<<"$st"
	grep -q '^CapPrm:[[:space:]]0000000000000000$' <<<"$st"
	kill -INT "$pid"
	wait_pid 10 "$BG_PID"
	[ "$WAIT_STATUS" -eq 0 ]
	grep -q 'setuid-root uid given up' "$out.err"
}

@test "datagram socket unprivileged: nobody, no capabilities, ping_group_range opened" {
	nobody_copy
	ns_add a
	# closed range: neither socket opens, and the message says what is missing
	in_ns a sysctl -qw net.ipv4.ping_group_range="1 0"
	run -2 --separate-stderr in_ns a "${NOBODY[@]}" "$NOBODY_DIR/sockctl" raw-icmp -c 1 127.0.0.1
	[[ $stderr == *"ping_group_range"* && $stderr == *"CAP_NET_RAW"* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[ -z "$output" ]
	in_ns a sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	run -0 --separate-stderr in_ns a "${NOBODY[@]}" "$NOBODY_DIR/sockctl" raw-icmp -v -c 2 -i 0.1 127.0.0.1
	[[ $stderr == *"SOCK_DGRAM"* ]]
	[[ $output == *"2 packets transmitted, 2 received, 0% packet loss"* ]]
	run -0 --separate-stderr in_ns a "${NOBODY[@]}" "$NOBODY_DIR/sockctl" raw-icmp -6 -c 2 -i 0.1 ::1
	[[ $output == *"2 packets transmitted, 2 received, 0% packet loss"* ]]
	# --mode raw as nobody: says CAP_NET_RAW is missing
	run -2 --separate-stderr in_ns a "${NOBODY[@]}" "$NOBODY_DIR/sockctl" raw-icmp --mode raw -c 1 127.0.0.1
	[[ $stderr == *"CAP_NET_RAW is missing"* ]]
}

@test "no reply: a host that drops ICMP gives status 1 after the deadline" {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24
	in_ns b nft -f - <<-'EOF'
		table inet t { chain input_icmp { type filter hook input priority 0; ip protocol icmp drop; }; }
	EOF
	run -1 --separate-stderr timeout 20 ip netns exec "$(ns a)" "$SOCKCTL" raw-icmp -w 1.5 -i 0.3 198.18.0.2
	[[ $output =~ ([0-9]+)\ packets\ transmitted,\ 0\ received,\ 100%\ packet\ loss ]]
	[ "${BASH_REMATCH[1]}" -ge 3 ]
	# -c with -w: fewer replies than COUNT by the deadline is status 1 too
	run -1 --separate-stderr timeout 20 ip netns exec "$(ns a)" "$SOCKCTL" raw-icmp --json -c 2 -w 1 198.18.0.2
	run -0 jq -se '.[-1].event == "summary" and .[-1].received == 0 and .[-1].rtt_avg_ms == null' <<<"$output"
}

@test "summary time is ping's: the time spent sending, not the wait for replies" {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24
	in_ns b nft -f - <<-'EOF'
		table inet t { chain input_icmp { type filter hook input priority 0; ip protocol icmp drop; }; }
	EOF
	# one probe, then a 1s wait for its reply: ping says "time 0ms"
	run -1 --separate-stderr in_ns a ping -c 1 -W 1 198.18.0.2
	[[ $output =~ 100%\ packet\ loss,\ time\ ([0-9]+)ms ]]
	[ "${BASH_REMATCH[1]}" -lt 500 ]
	run -1 --separate-stderr in_ns a "$SOCKCTL" raw-icmp -c 1 -W 1 198.18.0.2
	line=$(grep 'packet loss' <<<"$output")
	[[ $line =~ 100%\ packet\ loss,\ time\ ([0-9]+)ms$ ]]
	[ "${BASH_REMATCH[1]}" -lt 500 ]
	# the next line says where: not at this socket
	[[ $output == *"dropped at this socket (receive buffer full): 0, lost before reaching this host: 1" ]]
	# two probes 300ms apart: at least the interval, less than the 1s wait after it
	run -1 --separate-stderr in_ns a "$SOCKCTL" raw-icmp --json -c 2 -i 0.3 -W 1 198.18.0.2
	run -0 jq -se '.[-1].event == "summary" and .[-1].time_ms >= 300 and .[-1].time_ms < 1000' <<<"$output"
}

@test "TTL exceeded through a router: 'Time exceeded from ROUTER', IPv4 and IPv6" {
	two_hops
	run -0 --separate-stderr in_ns h1 "$SOCKCTL" raw-icmp -c 1 198.18.1.2
	[[ $output == *"bytes from 198.18.1.2: icmp_seq=1 ttl=63 "* ]]
	run -1 --separate-stderr in_ns h1 "$SOCKCTL" raw-icmp -t 1 -c 1 -W 2 198.18.1.2
	[[ $output == *"Time exceeded from 198.18.0.2: icmp_seq=1 Time to live exceeded (original: 198.18.0.1 > 198.18.1.2 ttl=1)"* ]]
	[[ $output == *"1 packets transmitted, 0 received, +1 errors, 100% packet loss"* ]]
	run -1 --separate-stderr in_ns h1 "$SOCKCTL" raw-icmp --json -t 1 -c 1 -W 2 198.18.1.2
	run -0 jq -se '.[0].event == "error" and .[0].from == "198.18.0.2" and .[0].icmp_type == 11
		and .[0].orig_dst == "198.18.1.2" and .[0].orig_ttl == 1 and .[1].errors == 1' <<<"$output"
	run -1 --separate-stderr in_ns h1 "$SOCKCTL" raw-icmp -6 -t 1 -c 1 -W 2 2001:db8:1::2
	[[ $output == *"Time exceeded from 2001:db8::2: icmp_seq=1 Time exceeded: Hop limit (original: 2001:db8::1 > 2001:db8:1::2 ttl=1)"* ]]
	# the datagram socket gets the same error through its error queue
	in_ns h1 sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	run -1 --separate-stderr in_ns h1 "$SOCKCTL" raw-icmp --mode dgram -t 1 -c 1 -W 2 198.18.1.2
	[[ $output == *"Time exceeded from 198.18.0.2: icmp_seq=1 Time to live exceeded"* ]]
}

@test "duplicates and bad checksums from a hostile peer are counted, never crash" {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24
	in_ns b sysctl -qw net.ipv4.icmp_echo_ignore_all=1
	# the peer answers each echo three times: good, duplicate, bad checksum
	bg in_ns b python3 -c '
import socket, struct
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
while True:
    pkt, (src, _) = s.recvfrom(65535)
    ihl = (pkt[0] & 15) * 4
    icmp = pkt[ihl:]
    if icmp[0] != 8: continue
    r = bytes([0, 0]) + b"\0\0" + icmp[4:]
    good = r[:2] + struct.pack("!H", csum(r)) + r[4:]
    s.sendto(good, (src, 0)); s.sendto(good, (src, 0))
    s.sendto(good[:2] + struct.pack("!H", csum(r) ^ 0x5a5a) + good[4:], (src, 0))
'
	# the peer's raw ICMP socket exists before the first echo is sent
	wait_for 10 raw_icmp_open b
	run -0 --separate-stderr in_ns a "$SOCKCTL" raw-icmp -c 2 -i 0.3 198.18.0.2
	[[ $output == *"icmp_seq=1 ttl=64 time="*" ms (DUP!)"* ]]
	# a deadline keeps it listening after the last reply
	run -0 --separate-stderr in_ns a "$SOCKCTL" raw-icmp --json -w 1.4 -i 0.3 198.18.0.2
	run -0 jq -se '.[-1] | .received >= 3 and .duplicates == .received and
		.bad_checksums == .received' <<<"$output"
}

@test "SIGINT prints the summary and exits 0 after replies" {
	out=$BATS_TEST_TMPDIR/out
	bg "$SOCKCTL" raw-icmp -i 0.1 127.0.0.1 >"$out"
	wait_for 10 grep -q 'icmp_seq=3 ' "$out"
	kill -INT "$BG_PID"
	wait_pid 10 "$BG_PID"
	[ "$WAIT_STATUS" -eq 0 ]
	grep -q '^--- 127.0.0.1 ping statistics ---$' "$out"
	grep -qE '^[0-9]+ packets transmitted, [0-9]+ received' "$out"
}

@test "SIGINT stops a flood that never has to wait" {
	out=$BATS_TEST_TMPDIR/out
	bg "$SOCKCTL" raw-icmp -f 127.0.0.1 >"$out"
	# the header is printed once its signal handlers are set
	wait_for 10 grep -q '^PING ' "$out"
	kill -INT "$BG_PID"
	wait_pid 10 "$BG_PID"
	[ "$WAIT_STATUS" -eq 0 ]
	grep -qE '^[0-9]+ packets transmitted, [0-9]+ received, (\+[0-9]+ late, )?[0-9.]+% packet loss' "$out"
}

@test "bad input: status 2, one line, nothing sent" {
	assert_usage_error "--count" "$SOCKCTL" raw-icmp -c 0 127.0.0.1
	assert_usage_error "--count" "$SOCKCTL" raw-icmp -c x 127.0.0.1
	assert_usage_error "--interval" "$SOCKCTL" raw-icmp -i 1x 127.0.0.1
	assert_usage_error "--timeout" "$SOCKCTL" raw-icmp -W -1 127.0.0.1
	assert_usage_error "--deadline" "$SOCKCTL" raw-icmp -w abc 127.0.0.1
	assert_usage_error "--ttl" "$SOCKCTL" raw-icmp -t 256 127.0.0.1
	assert_usage_error "--ttl" "$SOCKCTL" raw-icmp -t 0 127.0.0.1
	assert_usage_error "--tos" "$SOCKCTL" raw-icmp -Q 0x100 127.0.0.1
	assert_usage_error "--size" "$SOCKCTL" raw-icmp -s 65508 127.0.0.1
	assert_usage_error "--size" "$SOCKCTL" raw-icmp -s 70000 ::1
	assert_usage_error "--mode" "$SOCKCTL" raw-icmp --mode packet 127.0.0.1
	assert_usage_error "--type" "$SOCKCTL" raw-icmp --type bogus 127.0.0.1
	assert_usage_error "--type" "$SOCKCTL" raw-icmp --type timestamp ::1
	assert_usage_error "--mode raw" "$SOCKCTL" raw-icmp --mode dgram --type timestamp 127.0.0.1
	assert_usage_error "-6" "$SOCKCTL" raw-icmp -6 127.0.0.1
	assert_usage_error "1.2.3.4.5" "$SOCKCTL" raw-icmp 1.2.3.4.5
	assert_usage_error "HOST" "$SOCKCTL" raw-icmp
	assert_usage_error "conflicts" "$SOCKCTL" raw-icmp -4 -6 localhost
}

@test "an unknown host is a run-time failure, status 1, named" {
	run -1 --separate-stderr unshare_no_dns "$SOCKCTL" raw-icmp -c 1 nosuch.invalid
	[[ $stderr == *"nosuch.invalid"* ]]
	[ -z "$output" ]
}
