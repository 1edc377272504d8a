#!/usr/bin/env bats
# connect --count: TCP ping on loopback, and through a delay line between
# two namespaces (no sch_netem here) for the accuracy checks.
load helper
bats_require_minimum_version 1.5.0

teardown() {
	common_teardown
}

# accept_server [NS]: a listener on port 0 that accepts and closes, in the
# host's namespace (127.0.0.1) or in namespace NS (on 0.0.0.0); sets PORT
# and SPID.  It counts the connections that came to it reset ("reset").
accept_server() {
	local f="$BATS_TEST_TMPDIR/.accept.$RANDOM" addr=127.0.0.1 cmd=()
	[ -n "${1:-}" ] && addr=0.0.0.0 && cmd=(in_ns "$1")
	bg "${cmd[@]}" python3 -c '
import os, socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(1024)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    c, _ = s.accept()
    try:
        c.settimeout(5)
        c.recv(1)
    except ConnectionResetError:
        print("reset", flush=True)
    except OSError:
        pass
    c.close()' "$addr" "$f" </dev/null >"$f.log" 2>&1
	SPID=$BG_PID
	SLOG=$f.log
	wait_for 10 test -s "$f" || { echo "accept_server: no port" >&2; return 1; }
	PORT=$(cat "$f")
}

@test "connect --count: a line per probe, ping's summary with percentiles and jitter" {
	accept_server
	run -0 "$SOCKCTL" connect --count 3 --interval 0.1 127.0.0.1 "$PORT"
	[ "${lines[0]}" = "TCP PING 127.0.0.1 port $PORT (127.0.0.1:$PORT)" ]
	[[ ${lines[1]} =~ ^reply\ from\ 127\.0\.0\.1:$PORT:\ tcp_seq=1\ open\ time=[0-9.]+\ ms$ ]]
	[[ ${lines[3]} == *"tcp_seq=3 open"* ]]
	[[ $output == *"--- 127.0.0.1 port $PORT tcp ping statistics ---"* ]]
	[[ $output == *"3 probes sent, 3 open, 0 closed, 0 lost, 0% loss, time "* ]]
	[[ $output =~ rtt\ min/avg/max/mdev\ =\ [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+\ ms ]]
	[[ $output =~ rtt\ p50/p90/p99\ =\ [0-9.]+/[0-9.]+/[0-9.]+\ ms,\ jitter\ [0-9.]+\ ms ]]
}

@test "connect --count: 1000 probes back to back, the percentiles of 1000 RTTs (a sort the sandbox allows)" {
	accept_server
	run -0 --separate-stderr "$SOCKCTL" connect --count 1000 --interval 0 127.0.0.1 "$PORT"
	[[ $output == *"1000 probes sent, 1000 open, 0 closed, 0 lost, 0% loss, time "* ]]
	[[ $output =~ rtt\ p50/p90/p99\ =\ [0-9.]+/[0-9.]+/[0-9.]+\ ms ]]
}

@test "connect --count: each probe is closed with a reset, so no TIME_WAIT is left" {
	accept_server
	run -0 "$SOCKCTL" connect --count 5 --interval 0.05 127.0.0.1 "$PORT"
	# the server saw every connection reset, and no socket waits on either side
	wait_for 10 test "$(grep -c reset "$SLOG")" -eq 5
	run -0 ss -Htan state time-wait "( sport = :$PORT or dport = :$PORT )"
	[ -z "$output" ]
}

@test "connect --count: a closed port is an answer ('closed port'), exit 0; -z's rules" {
	port=$(closed_port)
	run -0 "$SOCKCTL" connect --count 2 --interval 0.05 127.0.0.1 "$port"
	[[ ${lines[1]} =~ tcp_seq=1\ closed\ port\ time=[0-9.]+\ ms$ ]]
	[[ $output == *"2 probes sent, 0 open, 2 closed, 0 lost, 0% loss"* ]]
	[[ $output == *"rtt min/avg/max/mdev = "* ]]
}

@test "connect --count --json: probe objects and a summary whose jitter is the mean |difference|" {
	accept_server
	run -0 --separate-stderr "$SOCKCTL" connect --count 6 --interval 0.02 --json 127.0.0.1 "$PORT"
	json=$output
	run -0 jq -se --argjson port "$PORT" '
		(map(select(.event == "probe")) | length == 6 and
		 all(.host == "127.0.0.1" and .port == $port and .state == "open" and
		     (.rtt_ms | type) == "number") and (map(.seq) == [1,2,3,4,5,6])) and
		(.[-1] | .event == "summary" and .sent == 6 and .open == 6 and .closed == 0 and
		 .lost == 0 and .family == "inet" and
		 ([.rtt_min_ms, .rtt_avg_ms, .rtt_max_ms, .rtt_mdev_ms, .rtt_p50_ms, .rtt_p90_ms,
		   .rtt_p99_ms, .jitter_ms] | all(type == "number")))' <<<"$output"
	# jitter: the mean absolute difference of consecutive RTTs, from the probes
	run -0 jq -se '
		(map(select(.event == "probe") | .rtt_ms)) as $r |
		([range(1; $r | length)] | map($r[.] - $r[. - 1] | fabs) | add / length) as $j |
		(.[-1].jitter_ms - $j | fabs) < 0.003' <<<"$json"
	# p50 is a sample (nearest rank), p50 <= p90 <= p99 <= max
	run -0 jq -se '(map(select(.event == "probe") | .rtt_ms)) as $r | .[-1] |
		(.rtt_p50_ms as $p | $r | any(. == $p)) and .rtt_p50_ms <= .rtt_p90_ms and
		.rtt_p90_ms <= .rtt_p99_ms and .rtt_p99_ms <= .rtt_max_ms' <<<"$json"
}

@test "connect --count: 100% loss still gives the summary, timeouts by -w, exit 1" {
	ns_add a
	ns_add b
	ns_link a b 198.18.7.1/24 198.18.7.2/24
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; policy drop; }'
	run -1 --separate-stderr in_ns a "$SOCKCTL" connect --count 2 --interval 0.1 -w 300ms \
		198.18.7.2 80
	[[ ${lines[1]} == "no reply from 198.18.7.2:80: tcp_seq=1 timeout after 300 ms" ]]
	[[ $output == *"2 probes sent, 0 open, 0 closed, 2 lost, 100% loss"* ]]
	[[ $output != *"rtt min"* ]]
	run -1 --separate-stderr in_ns a "$SOCKCTL" connect --count 1 -w 200ms --json 198.18.7.2 80
	run -0 jq -se '.[0].state == "timeout" and .[0].rtt_ms == null and
		.[1].lost == 1 and .[1].rtt_avg_ms == null and .[1].jitter_ms == null' <<<"$output"
}

@test "connect --count 0: probes until SIGINT, then the summary, exit 0" {
	accept_server
	out=$BATS_TEST_TMPDIR/out
	bg "$SOCKCTL" connect --count 0 --interval 0.05 127.0.0.1 "$PORT" >"$out"
	wait_for 10 grep -q 'tcp_seq=4 ' "$out"
	kill -INT "$BG_PID"
	wait_pid 10 "$BG_PID"
	[ "$WAIT_STATUS" -eq 0 ]
	grep -q "^--- 127.0.0.1 port $PORT tcp ping statistics ---$" "$out"
	grep -qE '^[0-9]+ probes sent, [0-9]+ open, 0 closed' "$out"
}

@test "connect --count: several HOST:PORT targets, a summary each; exit 1 if one never answers" {
	accept_server
	ns_add a
	run -0 "$SOCKCTL" connect --count 2 --interval 0.05 "127.0.0.1:$PORT" "[::1]:$(closed_port)"
	[[ $output == *"--- 127.0.0.1 port $PORT tcp ping statistics ---"* ]]
	# closed_port holds an IPv4 port: ::1 answers with a reset
	[[ $output == *"--- ::1 port "*" tcp ping statistics ---"* ]]
	[[ $output == *"2 probes sent, 0 open, 2 closed, 0 lost"* ]]
	# a target that never answers makes the status 1, and its summary is there
	ip -n "$NS" addr add 198.18.8.1/32 dev lo
	run -1 --separate-stderr in_ns a "$SOCKCTL" connect --count 1 -w 200ms 198.18.8.1:1 \
		198.18.8.2:80
	[[ $output == *"--- 198.18.8.1 port 1 tcp ping statistics ---"* ]]
	[[ $output == *"1 probes sent, 0 open, 1 closed, 0 lost"* ]]
	[[ $output == *"--- 198.18.8.2 port 80 tcp ping statistics ---"* ]]
}

@test "connect --count --targets FILE|-: a HOST:PORT a line, with those on the command line" {
	accept_server
	port2=$(closed_port)
	printf '# targets\n127.0.0.1:%s\n\n[::1]:%s  # closed\n' "$PORT" "$port2" >"$BATS_TEST_TMPDIR/t"
	run -0 --separate-stderr "$SOCKCTL" connect --count 1 --json --targets "$BATS_TEST_TMPDIR/t"
	run -0 jq -se --argjson p "$PORT" --argjson q "$port2" '
		map(select(.event == "summary") | [.address, .port, .open, .closed]) ==
		[["127.0.0.1", $p, 1, 0], ["::1", $q, 0, 1]]' <<<"$output"
	run -0 --separate-stderr "$SOCKCTL" connect --count 1 --json --targets - "127.0.0.1:$port2" \
		<<<"localhost:$PORT"
	run -0 jq -se 'map(select(.event == "summary") | .host) == ["127.0.0.1", "localhost"]' \
		<<<"$output"
	assert_usage_error "missing port" "$SOCKCTL" connect --count 1 --targets - <<<"127.0.0.1"
}

@test "connect --count --openmetrics: promtool accepts the file; host, port, family labels" {
	accept_server
	f=$BATS_TEST_TMPDIR/tcp.prom
	run -0 "$SOCKCTL" connect --count 3 --interval 0.02 --openmetrics "$f" 127.0.0.1 "$PORT"
	run -0 promtool check metrics <"$f"
	grep -qx "sockctl_probes_sent{host=\"127.0.0.1\",port=\"$PORT\",family=\"inet\",proto=\"tcp\"} 3" "$f"
	grep -q "^sockctl_probe_rtt_seconds{.*quantile=\"0.99\"} " "$f"
	grep -q "^sockctl_probe_jitter_seconds{" "$f"
	[ "$(tail -1 "$f")" = "# EOF" ]
	# written to a temporary name and renamed: nothing else left behind
	[ "$(find "$BATS_TEST_TMPDIR" -name 'tcp.prom*' | wc -l)" -eq 1 ]
}

@test "connect --count: bad input is status 2 with one line" {
	assert_usage_error "--count" "$SOCKCTL" connect --count -1 127.0.0.1 80
	assert_usage_error "need --count" "$SOCKCTL" connect --interval 1 127.0.0.1 80
	assert_usage_error "need --count" "$SOCKCTL" connect --openmetrics x 127.0.0.1 80
	assert_usage_error "need --count" "$SOCKCTL" connect --targets x 127.0.0.1 80
	assert_usage_error "cannot be used with" "$SOCKCTL" connect --count 1 -u 127.0.0.1 80
	assert_usage_error "--count" "$SOCKCTL" connect 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3
	assert_usage_error "70000" "$SOCKCTL" connect --count 1 127.0.0.1:70000
}

# delay_link A B MS: namespaces A and B joined by tests/bats/delayline.py,
# MS one way (198.18.9.1 in A, 198.18.9.2 in B)
delay_link() {
	local f="$BATS_TEST_TMPDIR/.delay"
	ns_add "$1"
	ns_add "$2"
	bg in_ns "$1" python3 "$BATS_TEST_DIRNAME/delayline.py" "dl$$a" "dl$$b" "$3" 60 >"$f"
	wait_for 10 grep -q ready "$f" || return 1
	ip -n "$(ns "$1")" link set "dl$$b" netns "$(ns "$2")"
	ip -n "$(ns "$1")" addr add 198.18.9.1 peer 198.18.9.2 dev "dl$$a"
	ip -n "$(ns "$2")" addr add 198.18.9.2 peer 198.18.9.1 dev "dl$$b"
	ip -n "$(ns "$1")" link set "dl$$a" up
	ip -n "$(ns "$2")" link set "dl$$b" up
}

@test "connect --count --tcp-info: each rtt agrees with the kernel's SYN RTT sample (tcpi_rtt) to 10%" {
	delay_link a b 20
	accept_server b
	run -0 --separate-stderr in_ns a "$SOCKCTL" connect --count 5 --interval 0.05 --tcp-info \
		--json 198.18.9.2 "$PORT"
	json=$output
	run -0 jq -se 'map(select(.event == "probe")) | length == 5 and
		all(.state == "open" and (.tcpi_rtt_ms | type) == "number" and
		    ((.rtt_ms - .tcpi_rtt_ms) | fabs) <= 0.1 * .tcpi_rtt_ms)' <<<"$json"
	# 20 ms each way: never under 40 ms less the clock's slack.  No upper
	# bound: the delay line is a python process, late when the machine is
	# loaded (the netem test below holds the 5% bound where netem exists).
	run -0 jq -se '.[-1].rtt_avg_ms | . >= 39.5' <<<"$json"
	run -0 in_ns a "$SOCKCTL" connect --count 1 --tcp-info 198.18.9.2 "$PORT"
	[[ ${lines[1]} =~ open\ time=[0-9.]+\ ms\ tcpi_rtt=[0-9.]+\ ms$ ]]
}

@test "connect --count: with netem delay 20ms on each side the average is 40ms within 5%" {
	ns_add a
	ns_add b
	ns_link a b 198.18.10.1/24 198.18.10.2/24
	va=$(ip -n "$(ns a)" -o link show type veth | awk -F': ' '{ print $2 }' | cut -d@ -f1)
	vb=$(ip -n "$(ns b)" -o link show type veth | awk -F': ' '{ print $2 }' | cut -d@ -f1)
	if ! tc -n "$(ns a)" qdisc add dev "$va" root netem delay 20ms 2>/dev/null; then
		skip "this kernel has no sch_netem ('tc qdisc add ... netem' fails); the delay-line test above checks the same through TUN devices"
	fi
	tc -n "$(ns b)" qdisc add dev "$vb" root netem delay 20ms
	accept_server b
	run -0 --separate-stderr in_ns a "$SOCKCTL" connect --count 5 --interval 0.05 --json \
		198.18.10.2 "$PORT"
	run -0 jq -se '.[-1].rtt_avg_ms | . >= 38 and . <= 42' <<<"$output"
}
