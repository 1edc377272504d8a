#!/usr/bin/env bats
# Datagram floods (issue 14): loss at our own socket (the kernel's
# SO_RXQ_OVFL count) told apart from loss on the path; a receive buffer
# sized for floods by default; output that keeps up, whole lines, in order.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

T() { echo "$BATS_TEST_TMPDIR"; }
SEQ=$BATS_TEST_DIRNAME/probe_seq.py

# recv0 ARGS...: udp-recv -v -4 on 127.0.0.1 port 0, stdout in $T/out,
# stderr in $T/err; PORT is the port the kernel chose.
recv0() {
	: >"$(T)/err"
	bg "$SOCKCTL" udp-recv -v -4 "$@" 127.0.0.1 0 >"$(T)/out" 2>"$(T)/err"
	RECV_PID=$BG_PID
	wait_for 10 grep -q "bound " "$(T)/err" || { cat "$(T)/err"; return 1; }
	PORT=$(grep -m1 -o 'bound [^" ]*' "$(T)/err" | sed 's/.*://')
	[ -n "$PORT" ] && [ "$PORT" != 0 ]
}

@test "overflow: a tiny --rcvbuf and a burst are 'dropped at this socket' with the kernel's count, 0 lost before this host" {
	# no GSO: each datagram is its own packet, and the kernel counts each drop
	recv0 --json -q --stats --until-end -w 20 --rcvbuf 1
	grep -q 'SO_RCVBUF 1 requested' "$(T)/err"
	run -0 --separate-stderr "$SOCKCTL" udp-send -q --no-gso -c 20000 --size 64 --rate 0 \
		127.0.0.1 "$PORT"
	wait_pid 30 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	cat "$(T)/out"
	# every probe lost was dropped here; so may the end markers be (3 at most, not probes)
	jq -e '.event == "stats" and .expected == 20000 and .end_seen and .lost > 0 and
		.dropped_at_socket >= .lost and .dropped_at_socket <= .lost + 3 and
		.lost_before_host == 0 and .received + .lost == 20000' "$(T)/out"
	# the same as text, with the hint
	recv0 -q --stats --until-end -w 20 --rcvbuf 1
	run -0 --separate-stderr "$SOCKCTL" udp-send -q --no-gso -c 20000 --size 64 --rate 0 \
		127.0.0.1 "$PORT"
	wait_pid 30 "$RECV_PID"
	cat "$(T)/err"
	lost=$(grep -o ', [0-9]* lost (' "$(T)/err" | grep -o '[0-9]*')
	drops=$(grep -o 'dropped at this socket (receive buffer full): [0-9]*; lost before reaching this host: 0;' \
		"$(T)/err" | grep -o ': [0-9]*;' | grep -o '[0-9]*')
	[ "$lost" -gt 0 ] && [ "$drops" -ge "$lost" ] && [ "$drops" -le $((lost + 3)) ]
	grep -q "hint: $drops datagrams were dropped here, at this socket.*raise --rcvbuf" "$(T)/err"
	# GSO trains coalesced into GRO reads: each dropped train counts once, so the
	# split is a bound, said as such
	recv0 --json -q --stats --until-end -w 20 --rcvbuf 1
	"$SOCKCTL" udp-send -q -c 20000 --size 64 --rate 0 127.0.0.1 "$PORT"
	wait_pid 30 "$RECV_PID"
	cat "$(T)/out" "$(T)/err"
	if grep -q 'UDP_GRO on' "$(T)/err" && jq -e '.dropped_at_socket > 0' "$(T)/out"; then
		jq -e '.dropped_are_reads and .lost_before_host == null' "$(T)/out"
	fi
}

@test "SIGINT: the statistics say the socket's drops" {
	recv0 -q --rcvbuf 1
	"$SOCKCTL" udp-send -q --no-gso -c 5000 --size 64 --rate 0 127.0.0.1 "$PORT"
	kill -INT "$RECV_PID"
	wait_pid 10 "$RECV_PID"
	cat "$(T)/err"
	grep -Eq 'dropped at this socket \(receive buffer full\): [1-9][0-9]*' "$(T)/err"
}

@test "the path drops every 10th datagram (nftables): 10% lost before this host, 0 at the socket" {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; }'
	in_ns b nft add rule inet t in udp dport 7000 numgen inc mod 10 == 0 drop
	bg in_ns b "$SOCKCTL" udp-recv -v --json -q --stats --until-end -w 20 7000 \
		>"$(T)/out" 2>"$(T)/err"
	pid=$BG_PID
	wait_for 10 udp_bound 7000 b
	run -0 --separate-stderr in_ns a "$SOCKCTL" udp-send -c 2000 --size 64 --rate 20000 \
		198.18.0.2 7000
	wait_pid 20 "$pid"
	[ "$WAIT_STATUS" = 0 ]
	cat "$(T)/out"
	jq -e '.expected == 2000 and .received == 1800 and .lost == 200 and
		.lost_before_host == 200 and .dropped_at_socket == 0' "$(T)/out"
	# the default receive buffer for floods, as -v says it
	grep -q 'receive buffer [0-9]* bytes (default for floods: 4194304 asked' "$(T)/err"
}

@test "raw-icmp: replies dropped on the way are 'lost before reaching this host', 0 at the socket" {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24
	in_ns a nft add table inet t
	in_ns a nft add chain inet t in '{ type filter hook input priority 0; }'
	in_ns a nft add rule inet t in icmp type echo-reply numgen inc mod 10 == 0 drop
	run -0 --separate-stderr in_ns a "$SOCKCTL" raw-icmp -c 20 -i 0.01 -W 2 198.18.0.2
	echo "$output"
	[[ $output == *"20 packets transmitted, 18 received"* ]]
	[[ $output == *"dropped at this socket (receive buffer full): 0, lost before reaching this host: 2"* ]]
	run -0 --separate-stderr in_ns a "$SOCKCTL" raw-icmp --json -c 20 -i 0.01 -W 2 198.18.0.2
	echo "$output" | tail -1 | jq -e '.event == "summary" and .transmitted == 20 and
		.received == 18 and .dropped_at_socket == 0 and .lost_before_host == 2'
	# -v: the receive buffer raw-icmp got (no longer a fixed 256 KiB)
	run -0 --separate-stderr in_ns b "$SOCKCTL" raw-icmp -v -c 1 198.18.0.1
	[[ $stderr == *"receive buffer "*" bytes (default for floods: "* ]]
}

@test "1,000,000 probes on loopback, shown as text: exactly N lines, seq 0..N-1 in order" {
	# a buffer that outlasts a stall of this shared machine: the test is the output
	recv0 --stats --until-end -w 30 --rcvbuf 64M
	run -0 --separate-stderr "$SOCKCTL" udp-send -q -c 1000000 --size 64 --rate 250000 \
		127.0.0.1 "$PORT"
	wait_pid 60 "$RECV_PID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q 'probes: 1000000 received of 1000000 sent' "$(T)/err"
	grep -q 'dropped at this socket (receive buffer full): 0;' "$(T)/err"
	[ "$(wc -l <"$(T)/out")" = 1000000 ]
	python3 "$SEQ" text "$(T)/out" 1000000
}

nlines_is() { [ "$(wc -l <"$2")" = "$1" ]; }

# to_cat CMD...: CMD in the background with stdout through a pipe into cat
# (both recorded, so teardown ends them); cat's output in $T/out.
to_cat() {
	mkfifo "$(T)/fifo"
	: >"$(T)/err"
	bg cat "$(T)/fifo" >"$(T)/out"
	bg "$@" >"$(T)/fifo" 2>"$(T)/err"
}

@test "-c N of a JSON flood: exactly N lines, each parses, in order; the pipe to cat too" {
	to_cat "$SOCKCTL" udp-recv -v -4 --json --stats -c 100000 -w 30 --rcvbuf 64M 127.0.0.1 0
	pid=$BG_PID
	wait_for 10 grep -q "bound " "$(T)/err"
	PORT=$(grep -m1 -o 'bound [^" ]*' "$(T)/err" | sed 's/.*://')
	# more than N: udp-recv leaves at N, and udp-send may then hear "refused"
	"$SOCKCTL" udp-send -q -c 150000 --size 64 --rate 250000 127.0.0.1 "$PORT" || true
	wait_pid 30 "$pid"
	[ "$WAIT_STATUS" = 0 ]
	# the datagrams, then the statistics
	wait_for 10 nlines_is 100001 "$(T)/out"
	python3 "$SEQ" json "$(T)/out" 100000
	tail -1 "$(T)/out" | jq -e '.event == "stats" and .datagrams == 100000 and
		.dropped_at_socket == 0'
}

@test "--line-buffered: each datagram is out before the next one comes (udp-recv, listen -u)" {
	for cmd in "udp-recv -4 --line-buffered" "listen -u -4 --line-buffered -k"; do
		rm -f "$(T)/fifo"
		# shellcheck disable=SC2086
		to_cat "$SOCKCTL" $cmd -v 127.0.0.1 0
		wait_for 10 grep -q "bound \|listening on" "$(T)/err"
		PORT=$(grep -m1 -o '\(bound\|listening on\) [^" ]*' "$(T)/err" | sed 's/.*://')
		"$SOCKCTL" udp-send 127.0.0.1 "$PORT" one
		wait_for 10 grep -q one "$(T)/out"
		"$SOCKCTL" udp-send 127.0.0.1 "$PORT" two
		wait_for 10 grep -q two "$(T)/out"
	done
}

@test "listen -u -k: a flood's payloads reach stdout whole and in order, one write per batch" {
	: >"$(T)/err"
	bg "$SOCKCTL" listen -u -k -v -4 127.0.0.1 0 >"$(T)/out" 2>"$(T)/err"
	pid=$BG_PID
	wait_for 10 grep -q "listening on" "$(T)/err"
	PORT=$(grep -m1 -o 'listening on [^" ]*' "$(T)/err" | sed 's/.*://')
	grep -q 'receive buffer [0-9]* bytes (default for floods' "$(T)/err"
	"$SOCKCTL" udp-send -q -c 100000 --size 64 --rate 200000 127.0.0.1 "$PORT"
	# 100000 probes, then end markers (32 bytes each)
	wait_for 20 test "$(stat -c %s "$(T)/out")" -ge 6400000
	kill "$pid"
	python3 - "$(T)/out" <<-'PY'
	import sys
	d = open(sys.argv[1], "rb").read()
	for i in range(100000):
	    p = d[64 * i:64 * i + 64]
	    assert p[:4] == b"SKP1" and int.from_bytes(p[8:16], "big") == i, i
	PY
}

@test "--line-buffered where nothing is shown as it comes is bad input" {
	usage() {
		run -2 --separate-stderr "$@"
		[ -z "$output" ] && [ "${#stderr_lines[@]}" = 1 ] && [[ $stderr == *"--line-buffered applies to"* ]]
	}
	usage "$SOCKCTL" listen --line-buffered 127.0.0.1 0
	usage "$SOCKCTL" udp-send --line-buffered 127.0.0.1 9 x
}
