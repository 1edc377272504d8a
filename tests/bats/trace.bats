#!/usr/bin/env bats
# --trace on udp-send (UDP), connect (TCP SYN) and raw-icmp (ICMP echo), in a
# chain of namespaces A - R1 - R2 - R3 - B linked only to each other, against
# traceroute -n (-T, -I) and tracepath -n on the same chain.
load helper
bats_require_minimum_version 1.5.0

# hop addresses as seen from A: each router answers from its link towards A
V4=(198.18.1.2 198.18.2.2 198.18.3.2 198.18.4.2)
V6=(2001:db8:1::2 2001:db8:2::2 2001:db8:3::2 2001:db8:4::2)
DST4=198.18.4.2
DST6=2001:db8:4::2

# the chain is built once for the file: five namespaces take a while
setup_file() {
	export TR="skt$$"
	local n k l r
	for n in a r1 r2 r3 b; do
		ip netns add "$TR$n" || return 1
		ip -n "$TR$n" link set lo up
		ip netns exec "$TR$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
		# routers answer every probe (else flaky): no ICMP type is rate
		# limited, per destination or in all (an empty ratemask exempts
		# every type from both limits; icmp_msgs_per_sec 0 would stop them)
		for k in net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_ratemask=0 \
			net.ipv6.icmp.ratelimit=0 net.ipv6.icmp.ratemask=; do
			ip netns exec "$TR$n" sysctl -qw "$k" 2>/dev/null || true
		done
	done
	# the datagram ICMP socket for root, in A
	ip netns exec "${TR}a" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	set -- a r1 r2 r3 b
	for k in 1 2 3 4; do
		l=${!k} r=$(eval echo "\${$((k + 1))}")
		ip link add "${TR}l$k" netns "$TR$l" type veth peer name "${TR}r$k" netns "$TR$r" || return 1
		ip -n "$TR$l" addr add "198.18.$k.1/24" dev "${TR}l$k"
		ip -n "$TR$r" addr add "198.18.$k.2/24" dev "${TR}r$k"
		ip -n "$TR$l" addr add "2001:db8:$k::1/64" dev "${TR}l$k" nodad
		ip -n "$TR$r" addr add "2001:db8:$k::2/64" dev "${TR}r$k" nodad
		link_up "$TR$l" "${TR}l$k" "$TR$r" "${TR}r$k" || return 1
	done
	route() { ip -n "$TR$1" route add "$2" via "$3" && ip -n "$TR$1" -6 route add "$4" via "$5"; }
	route a default 198.18.1.2 default 2001:db8:1::2
	route b default 198.18.4.1 default 2001:db8:4::1
	for k in 3 4; do route r1 "198.18.$k.0/24" 198.18.2.2 "2001:db8:$k::/64" 2001:db8:2::2; done
	route r2 198.18.4.0/24 198.18.3.2 2001:db8:4::/64 2001:db8:3::2
	route r2 198.18.1.0/24 198.18.2.1 2001:db8:1::/64 2001:db8:2::1
	for k in 1 2; do route r3 "198.18.$k.0/24" 198.18.3.1 "2001:db8:$k::/64" 2001:db8:3::1; done
	# neighbours resolved once, so the first probes of a test are not the ones lost
	ip netns exec "${TR}a" ping -c 1 -W 2 "$DST4" >/dev/null || true
	ip netns exec "${TR}a" ping -6 -c 1 -W 2 "$DST6" >/dev/null || true
	ip netns exec "${TR}b" ping -6 -c 1 -W 2 2001:db8:1::1 >/dev/null || true
}

teardown_file() {
	local n
	for n in a r1 r2 r3 b; do
		ip netns pids "$TR$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$TR$n" 2>/dev/null
		rm -rf "/etc/netns/$TR$n"
	done
	true
}

teardown() {
	local n
	for n in r2 b; do ip netns exec "$TR$n" nft flush ruleset 2>/dev/null || true; done
	rm -rf "/etc/netns/${TR}a"
	common_teardown
	if [ -f "$BATS_TEST_TMPDIR/.dirs" ]; then
		while read -r d; do rm -rf "$d"; done <"$BATS_TEST_TMPDIR/.dirs"
	fi
}

in_a() { ip netns exec "${TR}a" "$@"; }
b_listening() { ss -N "${TR}b" -Htln "sport = :$1" | grep -q .; }

# hops FILE-OR-STDIN: "TTL ADDR" per hop line of a traceroute-style listing
# (ours and traceroute's): the first address on the line, or "*".
hops() {
	awk '/^ ?[0-9]+  / { a = "*"; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9a-f.:]+$/ && $i ~ /[.:]/) { a = $i; break }
		print $1, a }'
}

# tracepath's hops: "TTL ADDR", once per TTL (the first line of each)
tracepath_hops() {
	awk -F'[: ]+' '/^ *[0-9]+: / { sub(/^ */, ""); split($0, f, /:? +/); if (!seen[f[1]]++) print f[1], f[2] }'
}

# expect_hops FAMILY OUTPUT: hops 1-4 are R1, R2, R3, B in order, and nothing more
expect_hops() {
	local -n want=$1
	local got
	got=$(hops <<<"$2")
	diff <(printf '%s\n' "1 ${want[0]}" "2 ${want[1]}" "3 ${want[2]}" "4 ${want[3]}") <(echo "$got")
}

@test "udp-send --trace: R1, R2, R3, B in order, IPv4 and IPv6, the same hops as traceroute -n" {
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace "$DST4"
	[[ ${lines[0]} == "trace to $DST4 ($DST4), 30 hops max, udp port 33434 upward" ]]
	expect_hops V4 "$output"
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -n -q 3 "$DST4"
	diff <(echo "$ours") <(hops <<<"$output")
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace "$DST6"
	expect_hops V6 "$output"
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -n -q 3 "$DST6"
	diff <(echo "$ours") <(hops <<<"$output")
	# a PORT: every probe to it, each from a socket of its own (as traceroute -U)
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace "$DST6" 53
	[[ ${lines[0]} == *"udp port 53" ]]
	expect_hops V6 "$output"
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace "$DST4:53"
	expect_hops V4 "$output"
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -U -p 53 -n -q 3 "$DST4"
	diff <(echo "$ours") <(hops <<<"$output")
	# [V6] with no port, as the address is written in URLs: the same trace
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace "[$DST6]"
	[[ ${lines[0]} == "trace to $DST6 ($DST6), 30 hops max, udp port 33434 upward" ]]
	expect_hops V6 "$output"
}

@test "connect --trace: TCP SYN hops as traceroute -T, IPv4 and IPv6, both a closed and an open port" {
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace "$DST4" 80
	[[ ${lines[0]} == *"tcp port 80" ]]
	expect_hops V4 "$output"
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -T -p 80 -n -q 3 "$DST4"
	diff <(echo "$ours") <(hops <<<"$output")
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace "[$DST6]:80"
	expect_hops V6 "$output"
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -T -p 80 -n -q 3 "$DST6"
	diff <(echo "$ours") <(hops <<<"$output")
	# an open port answers SYN-ACK: reached too, and JSON says which
	bg ip netns exec "${TR}b" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8080)); s.listen(64); time.sleep(60)'
	wait_for 10 b_listening 8080
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace --json "$DST4" 8080
	[ "$(jq -r 'select(.event == "hop" and .ttl == 4) | .tcp' <<<"$output")" = open ]
	# the connections ended by a reset: nothing left behind (no FIN_WAIT, no TIME_WAIT)
	[ -z "$(ss -N "${TR}a" -Htan "dport = :8080")" ]
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace --json "$DST4" 80
	[ "$(jq -r 'select(.event == "hop" and .ttl == 4) | .tcp' <<<"$output")" = closed ]
}

@test "raw-icmp --trace: ICMP echo hops as traceroute -I, over a raw and a datagram socket, IPv4 and IPv6" {
	for mode in raw dgram; do
		run -0 --separate-stderr in_a "$SOCKCTL" raw-icmp --trace --mode "$mode" "$DST4"
		[[ ${lines[0]} == *"icmp echo ($([ $mode = raw ] && echo raw || echo datagram) socket)" ]]
		expect_hops V4 "$output"
		run -0 --separate-stderr in_a "$SOCKCTL" raw-icmp --trace --mode "$mode" "$DST6"
		expect_hops V6 "$output"
	done
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -I -n -q 3 "$DST6"
	diff <(echo "$ours") <(hops <<<"$output")
	run -0 --separate-stderr in_a "$SOCKCTL" raw-icmp --trace "$DST4"
	ours=$(hops <<<"$output")
	run -0 in_a traceroute -I -n -q 3 "$DST4"
	diff <(echo "$ours") <(hops <<<"$output")
}

@test "--trace: the same hops as tracepath -n, IPv4 and IPv6" {
	for dst in "$DST4" "$DST6"; do
		run -0 in_a tracepath -n "$dst"
		theirs=$(tracepath_hops <<<"$output")
		[ "$(wc -l <<<"$theirs")" -eq 4 ]
		for argv in "udp-send --trace $dst" "connect --trace $dst 80" "raw-icmp --trace $dst"; do
			# shellcheck disable=SC2086
			run -0 --separate-stderr in_a "$SOCKCTL" $argv
			diff <(echo "$theirs") <(hops <<<"$output")
		done
	done
}

@test "--trace: a router that drops its time-exceeded is '*' for that hop only (all variants, IPv4 and IPv6)" {
	in_ns_r2=(ip netns exec "${TR}r2")
	"${in_ns_r2[@]}" nft -f - <<'EOF'
table inet t {
	chain out {
		type filter hook output priority 0;
		icmp type time-exceeded drop
		icmpv6 type time-exceeded drop
	}
}
EOF
	for dst in "$DST4" "$DST6"; do
		[ "$dst" = "$DST4" ] && want=("${V4[@]}") || want=("${V6[@]}")
		for argv in "udp-send --trace -W 500ms $dst" "connect --trace -w 500ms $dst 80" \
			"raw-icmp --trace -W 500ms $dst"; do
			# shellcheck disable=SC2086
			run -0 --separate-stderr in_a "$SOCKCTL" $argv
			diff <(printf '%s\n' "1 ${want[0]}" "2 *" "3 ${want[2]}" "4 ${want[3]}") <(hops <<<"$output")
			grep -qx ' 2  \* \* \*' <<<"$output"
		done
		ours=$(hops <<<"$output")
		run -0 in_a traceroute -n -w 0.5 "$dst"
		diff <(echo "$ours") <(hops <<<"$output")
	done
}

@test "--trace: a reject rule on B gives traceroute's mark (!X admin-prohibited, !H host-unreachable), status 1" {
	ip netns exec "${TR}b" nft -f - <<'EOF'
table inet t {
	chain in {
		type filter hook input priority 0;
		meta l4proto { udp, tcp, icmp } ip saddr 198.18.1.1 reject with icmp type admin-prohibited
		meta l4proto { udp, tcp, ipv6-icmp } ip6 saddr 2001:db8:1::1 reject with icmpv6 type addr-unreachable
	}
}
EOF
	for argv in "udp-send --trace DST" "connect --trace DST 80" "raw-icmp --trace DST"; do
		run -1 --separate-stderr in_a "$SOCKCTL" ${argv/DST/$DST4}
		[[ ${lines[-1]} =~ ^\ 4\ \ 198\.18\.4\.2\ \ [0-9.]+\ ms\ !X\ \ [0-9.]+\ ms\ !X\ \ [0-9.]+\ ms\ !X$ ]]
		expect_hops V4 "$output"
		run -1 --separate-stderr in_a "$SOCKCTL" ${argv/DST/$DST6}
		[[ ${lines[-1]} == " 4  2001:db8:4::2  "*" ms !H  "*" ms !H  "*" ms !H" ]]
		expect_hops V6 "$output"
	done
	run -1 --separate-stderr in_a "$SOCKCTL" udp-send --trace --json "$DST4"
	jq -e -s '.[3] | .ttl == 4 and .result == "unreachable" and .mark == "!X" and .icmp_code == 13' <<<"$output"
	jq -e -s '.[4] | .event == "trace" and .reached == false and .end_ttl == 4' <<<"$output"
	# traceroute marks the same way
	run in_a traceroute -n "$DST4"
	[[ ${lines[-1]} == *"!X"*"!X"*"!X" ]]
	run in_a traceroute -n "$DST6"
	[[ ${lines[-1]} == *"!H"*"!H"*"!H" ]]
	# host-unreachable on IPv4 is !H
	ip netns exec "${TR}b" nft flush ruleset
	ip netns exec "${TR}b" nft add table ip t
	ip netns exec "${TR}b" nft add chain ip t in '{ type filter hook input priority 0; }'
	ip netns exec "${TR}b" nft add rule ip t in ip saddr 198.18.1.1 meta l4proto udp reject with icmp type host-unreachable
	run -1 --separate-stderr in_a "$SOCKCTL" udp-send --trace "$DST4"
	[[ ${lines[-1]} == " 4  198.18.4.2  "*" ms !H  "*" ms !H  "*" ms !H" ]]
}

@test "--trace --json: one hop object per hop, then the trace object" {
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace --json "$DST4"
	[ "${#lines[@]}" -eq 5 ]
	jq -e -s 'map(.event) == ["hop","hop","hop","hop","trace"]' <<<"$output"
	jq -e -s '[.[0:4][] | .address] == ["198.18.1.2","198.18.2.2","198.18.3.2","198.18.4.2"]' <<<"$output"
	jq -e -s '.[0:3] | all(.result == "time-exceeded" and .icmp_type == 11 and .sent == 3 and .received == 3 and (.rtt_ms | length) == 3)' <<<"$output"
	jq -e -s '.[3].result == "reached" and .[4].reached == true and .[4].hops == 4 and .[4].protocol == "udp" and .[4].port == 33434' <<<"$output"
}

@test "--trace --cycles: mtr's report, loss and RTT per hop; JSON hops carry the same statistics" {
	run -0 --separate-stderr in_a "$SOCKCTL" raw-icmp --trace --cycles 3 --cycle-interval 50ms "$DST6"
	[[ ${lines[1]} =~ ^HOST\ +Loss%\ +Snt\ +Last\ +Avg\ +Best\ +Wrst\ +StDev$ ]]
	for k in 1 2 3 4; do
		[[ ${lines[$((k + 1))]} =~ ^\ \ $k\.\|--\ ${V6[$((k - 1))]}\ +0\.0%\ +3\ + ]]
	done
	[ "${#lines[@]}" -eq 6 ]
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace --json --cycles 2 --cycle-interval 0 "$DST4" 80
	jq -e -s '.[0:4] | all(.sent == 2 and .received == 2 and .loss_pct == 0 and .best_ms <= .avg_ms and .avg_ms <= .worst_ms)' <<<"$output"
	jq -e -s '.[4].cycles == 2 and .[4].queries == 1' <<<"$output"
}

@test "--trace --openmetrics: one sample a hop, labelled with its TTL and address; promtool accepts it" {
	om=$BATS_TEST_TMPDIR/trace.prom
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace --cycles 2 --cycle-interval 0 \
		--openmetrics "$om" "$DST4"
	run -0 promtool check metrics <"$om"
	for k in 1 2 3 4; do
		grep -qx "sockctl_probes_sent{host=\"$DST4\",port=\"33434\",family=\"inet\",proto=\"udp\",hop=\"$k\",address=\"198.18.$k.2\"} 2" "$om"
	done
	[ "$(grep -c '^sockctl_probes_received{.*} 2$' "$om")" -eq 4 ]
	run -0 --separate-stderr in_a "$SOCKCTL" raw-icmp --trace --openmetrics "$om" "$DST6"
	grep -q '^sockctl_probes_sent{host="'"$DST6"'",family="inet6",proto="icmp",hop="4",address="'"${V6[3]}"'"} 3$' "$om"
	assert_usage_error "--openmetrics needs --trace" "$SOCKCTL" udp-send --openmetrics "$om" 127.0.0.1 9 x
}

@test "--trace --resolve: the hops' names, from the namespace's hosts file" {
	mkdir -p "/etc/netns/${TR}a"
	printf '%s r1.test\n%s r2.test\n%s r3.test\n%s b.test\n' "${V4[@]}" >"/etc/netns/${TR}a/hosts"
	printf 'hosts: files\n' >"/etc/netns/${TR}a/nsswitch.conf"
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace --resolve "$DST4"
	[[ ${lines[1]} == " 1  r1.test (198.18.1.2)  "* ]]
	[[ ${lines[4]} == " 4  b.test (198.18.4.2)  "* ]]
	run -0 --separate-stderr in_a "$SOCKCTL" udp-send --trace "$DST4"
	[[ $output != *r1.test* ]]
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace --resolve --json "$DST4" 80
	jq -e -s '[.[0:4][] | .name] == ["r1.test","r2.test","r3.test","b.test"]' <<<"$output"
}

@test "--trace over UDP and TCP needs no privilege: user nobody, no capabilities (ICMP: the datagram socket)" {
	d=$(mktemp -d /tmp/sk-trace.XXXXXX)
	echo "$d" >>"$BATS_TEST_TMPDIR/.dirs"
	chmod 755 "$d"
	cp "$SOCKCTL" "$d/sockctl"
	chmod 755 "$d/sockctl"
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
	run -0 --separate-stderr in_a "${nobody[@]}" "$d/sockctl" udp-send --trace "$DST4"
	expect_hops V4 "$output"
	run -0 --separate-stderr in_a "${nobody[@]}" "$d/sockctl" connect --trace "$DST6" 80
	expect_hops V6 "$output"
	# ICMP too, where net.ipv4.ping_group_range lets the user have a datagram socket
	run -0 --separate-stderr in_a "${nobody[@]}" "$d/sockctl" raw-icmp --trace "$DST4"
	[[ ${lines[0]} == *"(datagram socket)" ]]
	expect_hops V4 "$output"
	run -2 --separate-stderr in_a "${nobody[@]}" "$d/sockctl" raw-icmp --trace --mode raw "$DST4"
	[[ $stderr == *"CAP_NET_RAW"* ]]
	[ -z "$output" ]
}

@test "--trace: not reached is status 1 (a router's !N), and --first-ttl/--max-ttl bound the hops" {
	run -1 --separate-stderr in_a "$SOCKCTL" udp-send --trace -W 500ms 198.18.9.9
	[[ ${lines[-1]} == " 1  198.18.1.2  "*" ms !N  "*" ms !N  "*" ms !N" ]]
	run -1 --separate-stderr in_a "$SOCKCTL" udp-send --trace --max-ttl 2 "$DST4"
	diff <(printf '1 %s\n2 %s\n' "${V4[0]}" "${V4[1]}") <(hops <<<"$output")
	run -0 --separate-stderr in_a "$SOCKCTL" connect --trace --first-ttl 3 "$DST4" 80
	diff <(printf '3 %s\n4 %s\n' "${V4[2]}" "${V4[3]}") <(hops <<<"$output")
}

@test "--trace: bad input is status 2, one line naming the problem, nothing on stdout" {
	assert_usage_error "--scan does not apply to --trace" "$SOCKCTL" connect --trace --scan 127.0.0.1 80
	assert_usage_error "--size does not apply to --trace" "$SOCKCTL" udp-send --trace --size 100 127.0.0.1
	assert_usage_error "--pmtu does not apply to --trace" "$SOCKCTL" connect --trace --pmtu do 127.0.0.1 80
	assert_usage_error "-c/--count does not apply to --trace" "$SOCKCTL" raw-icmp --trace -c 3 127.0.0.1
	assert_usage_error "--max-ttl needs --trace" "$SOCKCTL" udp-send --max-ttl 5 127.0.0.1 9
	assert_usage_error "--resolve needs --trace" "$SOCKCTL" connect --resolve 127.0.0.1 9
	assert_usage_error "--first-ttl 9 is past --max-ttl 3" "$SOCKCTL" udp-send --trace --first-ttl 9 --max-ttl 3 127.0.0.1
	assert_usage_error "--max-ttl" "$SOCKCTL" connect --trace --max-ttl 256 127.0.0.1 80
	assert_usage_error "--queries" "$SOCKCTL" connect --trace --queries 0 127.0.0.1 80
	assert_usage_error "-t/--ttl" "$SOCKCTL" raw-icmp --trace -t 5 127.0.0.1
	assert_usage_error "--cycle-interval needs --cycles" "$SOCKCTL" udp-send --trace --cycle-interval 1s 127.0.0.1
	assert_usage_error "-p/--source-port" "$SOCKCTL" connect --trace -p 4000 127.0.0.1 80
	assert_usage_error "missing arguments" "$SOCKCTL" connect --trace
	assert_usage_error "unexpected argument" "$SOCKCTL" raw-icmp --trace 127.0.0.1 2
	assert_usage_error "-W/--wait 0" "$SOCKCTL" udp-send --trace -W 0 127.0.0.1
	run -0 "$SOCKCTL" connect --trace --help
	[[ $output == *"--max-ttl N"* && $output == *"Exit status: 0 the destination was reached"* ]]
	# a name that does not exist is a run-time failure (1), looked up where no query leaves
	run -1 --separate-stderr unshare_no_dns "$SOCKCTL" udp-send --trace nosuch.invalid
	[[ $stderr == *"nosuch.invalid"* ]]
	[ -z "$output" ]
}

@test "--trace: each command's --help lists the trace options" {
	for c in connect udp-send raw-icmp; do
		run -0 "$SOCKCTL" "$c" --help
		for o in --trace --max-ttl --first-ttl --queries --cycles --cycle-interval --resolve; do
			[[ $output == *"$o"* ]] || { echo "$c --help lacks $o"; return 1; }
		done
	done
}
