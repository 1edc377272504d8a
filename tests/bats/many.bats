#!/usr/bin/env bats
# raw-icmp over many targets (as fping), and ping's -O, -p, -A, -D formats.
# A LAN in namespaces: a (198.18.1.1, 2001:db8:1::1) and b, where b holds
# 198.18.1.2-5 and 2001:db8:1::2; every other address of the /24 is silent.
load helper
bats_require_minimum_version 1.5.0

teardown() {
	common_teardown
}

lan() {
	local vb
	ns_add a
	ns_add b
	ns_link a b 198.18.1.1/24 198.18.1.2/24 2001:db8:1::1/64 2001:db8:1::2/64
	vb=$(ip -n "$(ns b)" -o link show type veth | awk -F': ' '{ print $2 }' | cut -d@ -f1)
	for h in 3 4 5; do ip -n "$(ns b)" addr add "198.18.1.$h/24" dev "$vb"; done
}

@test "raw-icmp HOST...: a line per reply prefixed by the host, an aligned table, exit 1 if one is silent" {
	lan
	run -1 --separate-stderr in_ns a "$SOCKCTL" raw-icmp -c 2 -i 0.2 -W 500ms 198.18.1.2 \
		198.18.1.3 198.18.1.9 2001:db8:1::2
	[ "$(grep -c '^198\.18\.1\.2  *: 64 bytes from 198\.18\.1\.2: icmp_seq=[12] ttl=64 time=' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^2001:db8:1::2 : 64 bytes from 2001:db8:1::2: icmp_seq=' <<<"$output")" -eq 2 ]
	! grep -q '^198\.18\.1\.9 *: 64 bytes' <<<"$output"
	# the table: a header, a row per host in the order given, columns aligned
	table=$(sed -n '/^HOST /,$p' <<<"$output")
	[ "$(wc -l <<<"$table")" -eq 5 ]
	[[ $(sed -n 2p <<<"$table") =~ ^198\.18\.1\.2\ +2\ +2\ +0%\ +[0-9.]+\ +[0-9.]+\ +[0-9.]+$ ]]
	[[ $(sed -n 4p <<<"$table") =~ ^198\.18\.1\.9\ +2\ +0\ +100%\ +-\ +-\ +-$ ]]
	[ "$(awk '{ match($0, /^[^ ]+ +/); print RLENGTH }' <<<"$table" | sort -u | wc -l)" -eq 1 ]
	# every target answers: exit 0
	run -0 in_ns a "$SOCKCTL" raw-icmp -c 1 198.18.1.2 198.18.1.5 2001:db8:1::2
}

@test "raw-icmp CIDR: the hosts of the prefix; -a and -u list as fping -a and -u do" {
	lan
	run -1 in_ns a "$SOCKCTL" raw-icmp -c 1 -W 500ms -a 198.18.1.0/28
	ours=$output
	run -1 in_ns a fping -q -a -c 1 -t 500 -g 198.18.1.0/28
	[ "$ours" = "$(printf '198.18.1.%s\n' 1 2 3 4 5)" ]
	run -1 in_ns a fping -a -r 0 -t 500 -g 198.18.1.0/28
	[ "$ours" = "$output" ]
	run -1 in_ns a "$SOCKCTL" raw-icmp -c 1 -W 500ms -u 198.18.1.0/29
	[ "$output" = "$(printf '198.18.1.%s\n' 6)" ]
	run -1 in_ns a fping -u -r 0 -t 500 -g 198.18.1.0/29
	[ "$output" = "198.18.1.6" ]
}

@test "raw-icmp --targets FILE and -: one host or prefix a line, comments and blanks skipped" {
	lan
	printf '# the LAN\n198.18.1.2\n\n  198.18.1.4/31  # two\n' >"$BATS_TEST_TMPDIR/t"
	run -0 in_ns a "$SOCKCTL" raw-icmp -c 1 -a --targets "$BATS_TEST_TMPDIR/t"
	[ "$output" = "$(printf '198.18.1.%s\n' 4 5 2)" ]
	run -0 in_ns a "$SOCKCTL" raw-icmp -c 1 -a --targets - 198.18.1.3 <<<"198.18.1.2"
	[ "$output" = "$(printf '198.18.1.%s\n' 3 2)" ]
}

@test "raw-icmp --json over many: reply, timeout (-O) and summary objects carry the host" {
	lan
	run -1 --separate-stderr in_ns a "$SOCKCTL" raw-icmp --json -O -c 2 -i 0.2 -W 300ms \
		198.18.1.2 198.18.1.9
	run -0 jq -se '
		(map(select(.event == "reply")) | length == 2 and all(.host == "198.18.1.2")) and
		(map(select(.event == "timeout")) | length == 2 and all(.host == "198.18.1.9") and
		 map(.seq) == [1, 2]) and
		(map(select(.event == "summary")) | map(.host) == ["198.18.1.2", "198.18.1.9"]) and
		(.[-1] | .transmitted == 2 and .received == 0 and .rtt_avg_ms == null)' <<<"$output"
}

@test "raw-icmp -O: a probe without reply is reported before the next is sent (as ping -O)" {
	lan
	run -1 in_ns a "$SOCKCTL" raw-icmp -O -c 3 -i 0.2 -W 300ms 198.18.1.9
	[ "$(grep -c '^no answer yet for icmp_seq=[123]$' <<<"$output")" -eq 3 ]
	# the first is said before the third probe went out: ping -O does the same
	run -1 in_ns a ping -O -c 3 -i 0.2 -W 0.3 198.18.1.9
	[ "$(grep -c '^no answer yet for icmp_seq=' <<<"$output")" -ge 2 ]
}

@test "raw-icmp: a CIDR over 65536 hosts, bad prefixes and empty --targets are status 2" {
	assert_usage_error "198.18.0.0/15" "$SOCKCTL" raw-icmp -c 1 198.18.0.0/15
	assert_usage_error "2001:db8::/100" "$SOCKCTL" raw-icmp -c 1 2001:db8::/100
	assert_usage_error "prefix" "$SOCKCTL" raw-icmp -c 1 198.18.0.0/33
	: >"$BATS_TEST_TMPDIR/empty"
	assert_usage_error "no target" "$SOCKCTL" raw-icmp -c 1 --targets "$BATS_TEST_TMPDIR/empty"
	assert_usage_error "missing" "$SOCKCTL" raw-icmp -c 1
	assert_usage_error "1.2.3.4.5" "$SOCKCTL" raw-icmp -c 1 127.0.0.1 1.2.3.4.5
	assert_usage_error "--pattern" "$SOCKCTL" raw-icmp -c 1 -p xyz 127.0.0.1
	assert_usage_error "--pattern" "$SOCKCTL" raw-icmp -c 1 -p 0123456789abcdef0123456789abcdef00 127.0.0.1
	assert_usage_error "--timestamp-format" "$SOCKCTL" raw-icmp -c 1 --timestamp-format x 127.0.0.1
	# the request's own checks hold for many targets too
	assert_usage_error "--preload" "$SOCKCTL" raw-icmp -f -l 3 127.0.0.1 127.0.0.2
}

@test "raw-icmp: a /16 is 65534 targets, probed at once (here where no route leads)" {
	run -1 --separate-stderr own_net "$SOCKCTL" raw-icmp -q -c 1 -W 10ms 198.18.0.0/16
	[ "$(grep -c ' 100% ' <<<"$output")" -eq 65534 ]
	[[ ${lines[1]} =~ ^198\.18\.0\.1\  ]]
	[[ ${lines[-1]} =~ ^198\.18\.255\.254\  ]]
	# the send errors are said once, not 65534 times
	[ "$(wc -l <<<"$stderr")" -le 2 ]
}

@test "raw-icmp: a /16 that answers whole: 65534 replies, none lost to a full receive buffer" {
	# every address of the /16 is local in this namespace: the replies come
	# back as fast as the probes go out
	run -0 --separate-stderr unshare -n sh -c 'ip link set lo up &&
		ip route add local 198.18.0.0/16 dev lo && exec "$@"' sh \
		"$SOCKCTL" raw-icmp -q -c 1 -W 5s 198.18.0.0/16
	[ "$(grep -c '  1  *1  *0%  ' <<<"$output")" -eq 65534 ]
}

@test "raw-icmp --rate caps the probes of all targets together" {
	# 20 targets, one probe each, at most 40 a second: at least 0.45 s
	start=$(date +%s%N)
	run -0 own_net "$SOCKCTL" raw-icmp -q -c 1 --rate 40 127.0.0.1/27
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$took" -ge 450 ]
	[[ $output == *"127.0.0.30 "*" 1 "*" 1 "*" 0% "* ]]
}

@test "raw-icmp -p PATTERN: the payload after the counter is the pattern, as ping -p" {
	lan
	f=$BATS_TEST_TMPDIR/payload
	bg in_ns b python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(10)
open(sys.argv[1] + ".ready", "w").close()
while True:
    d = s.recv(2048)
    icmp = d[(d[0] & 15) * 4:]
    if icmp[0] == 8:
        print(icmp[16:24].hex(), len(icmp) - 8, flush=True)
        break' "$f" >"$f"
	wait_for 10 test -e "$f.ready"
	run -0 in_ns a "$SOCKCTL" raw-icmp -c 1 -p ab01 -s 24 198.18.1.2
	wait_for 10 test -s "$f"
	[ "$(cat "$f")" = "ab01ab01ab01ab01 24" ]
}

@test "raw-icmp -A: the next probe goes on each reply, not a second later" {
	# 20 probes at the default 1 s would take 19 s; root has no 200 ms floor
	run -0 timeout 8 "$SOCKCTL" raw-icmp -A -c 20 127.0.0.1
	[[ $output == *"20 packets transmitted, 20 received"* ]]
}

@test "raw-icmp -D --timestamp-format unix|iso|ctime" {
	run -0 "$SOCKCTL" raw-icmp -c 1 -D 127.0.0.1
	[[ ${lines[1]} =~ ^\[[0-9]+\.[0-9]{6}\]\ 64\ bytes ]]
	run -0 "$SOCKCTL" raw-icmp -c 1 --timestamp-format iso 127.0.0.1
	[[ ${lines[1]} =~ ^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\]\ 64\ bytes ]]
	run -0 "$SOCKCTL" raw-icmp -c 1 -D --timestamp-format ctime 127.0.0.1
	[[ ${lines[1]} =~ ^\[[A-Z][a-z]{2}\ [A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9:]{8}\ [0-9]{4}\]\ 64\ bytes ]]
}

@test "raw-icmp --openmetrics over many targets: promtool accepts it, host and family labels" {
	lan
	f=$BATS_TEST_TMPDIR/icmp.prom
	run -1 in_ns a "$SOCKCTL" raw-icmp -q -c 1 -W 300ms --openmetrics "$f" 198.18.1.2 \
		198.18.1.9 2001:db8:1::2
	run -0 promtool check metrics <"$f"
	grep -qx 'sockctl_probes_received{host="198.18.1.2",family="inet",proto="icmp"} 1' "$f"
	grep -qx 'sockctl_probes_received{host="198.18.1.9",family="inet",proto="icmp"} 0' "$f"
	grep -qx 'sockctl_probe_loss_ratio{host="2001:db8:1::2",family="inet6",proto="icmp6"} 0' "$f"
	[ "$(tail -1 "$f")" = "# EOF" ]
	# one target: the same file
	run -0 "$SOCKCTL" raw-icmp -q -c 1 --openmetrics "$f" 127.0.0.1
	run -0 promtool check metrics <"$f"
	grep -qx 'sockctl_probes_sent{host="127.0.0.1",family="inet",proto="icmp"} 1' "$f"
}
