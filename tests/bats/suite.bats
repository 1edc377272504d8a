#!/usr/bin/env bats
# The suite's own helpers (helper.bash) do what the other files rely on:
# links that carry packets when ns_link returns, ports read back from the
# kernel, closed ports that stay closed, lookups that never leave the machine.
load helper
bats_require_minimum_version 1.5.0

teardown() { common_teardown; }

@test "ns_link returns with both ends UP, carrier, an active qdisc and no tentative IPv6 address" {
	ns_add a && ns_add b
	ns_link a b 198.18.0.1/24 198.18.0.2/24 2001:db8::1/64 2001:db8::2/64
	for n in a b; do
		link=$(ip -n "$(ns $n)" -o link show type veth)
		[[ $link == *"<"*LOWER_UP*">"* && $link == *" state UP "* ]] || { echo "$link"; false; }
		dev=$(awk -F': ' '{print $2}' <<<"$link" | cut -d@ -f1)
		run -0 tc -n "$(ns $n)" qdisc show dev "$dev"
		[[ $output != *noop* ]]
		run -0 ip -n "$(ns $n)" -6 addr show dev "$dev" tentative
		[ -z "$output" ]
	done
	# the very first datagram, IPv6 included, gets through at once
	bg in_ns b "$SOCKCTL" udp-recv -c 2 -w 10 7000 >"$BATS_TEST_TMPDIR/out"
	pid=$BG_PID
	wait_for 10 udp_bound 7000 b
	in_ns a "$SOCKCTL" udp-send -q 2001:db8::2 7000 six
	in_ns a "$SOCKCTL" udp-send -q 198.18.0.2 7000 four
	wait_pid 10 "$pid"
	[ "$WAIT_STATUS" = 0 ]
}

@test "link_wait fails loudly, naming the link, when it never gets a carrier" {
	ns_add a && ns_add b
	ip link add vtest netns "$(ns a)" type veth peer name vpeer netns "$(ns b)"
	ip -n "$(ns a)" link set vtest up # the other end stays down: no carrier
	run -1 link_wait "$(ns a)" vtest 1
	[[ $output == *"link vtest in namespace $(ns a) not ready after 1 s"*"no carrier"* ]]
}

@test "bound_port reads the port a server chose, even from a child process; fails if it dies" {
	bg sh -c "printf 'hi\n' | exec nc.openbsd -N -l 127.0.0.1 0"
	port=$(bound_port "$BG_PID")
	[ "$port" -gt 0 ]
	run -0 timeout 10 "$SOCKCTL" connect -d 127.0.0.1 "$port" </dev/null
	[ "$output" = hi ]
	bg "$SOCKCTL" udp-recv -v -4 -c 1 -w 10 0 2>"$BATS_TEST_TMPDIR/err"
	[ "$(bound_port "$BG_PID" udp)" = "$(listen_port "$BATS_TEST_TMPDIR/err")" ]
	bg sh -c 'exit 3'
	run -1 bound_port "$BG_PID"
	[[ $output == *"ended before it held a tcp port"* ]]
}

@test "closed_port: refused for TCP and UDP, and nobody else can bind it meanwhile" {
	t=$(closed_port)
	u=$(closed_port udp)
	run -1 --separate-stderr "$SOCKCTL" connect 127.0.0.1 "$t" </dev/null
	[[ $stderr == *"connection refused"* ]]
	run -1 --separate-stderr "$SOCKCTL" udp-send -W 2 127.0.0.1 "$u" x
	[[ $stderr == *"connection refused"* ]]
	run -1 --separate-stderr timeout 5 "$SOCKCTL" listen -w 1 127.0.0.1 "$t"
	[[ $stderr == *"in use"* ]]
}

@test "unshare_no_dns: a missing name fails with EAI_NONAME and no packet leaves the namespace" {
	run -1 --separate-stderr unshare_no_dns "$SOCKCTL" resolve nosuch.invalid 80
	[[ $stderr == *EAI_NONAME* ]]
	# its only interface is lo
	run -0 unshare_no_dns ip -o link show
	[ "$(wc -l <<<"$output")" = 1 ]
	[[ $output == *" lo: "* ]]
	run -0 unshare_no_dns "$SOCKCTL" resolve localhost 80
}

@test "tests/run: a bats run that ends early fails the suite, even with no 'not ok' line" {
	# (printf, not a here-document: bats would take the lines for its own tests)
	printf '%s\n' '@test "one" { true; }' \
		'@test "two: bats itself is killed" { kill -9 "$(ps -o ppid= "$PPID")" "$PPID"; }' \
		'@test "three" { true; }' >"$BATS_TEST_TMPDIR/early.bats"
	printf '%s\n' '@test "one" { true; }' >"$BATS_TEST_TMPDIR/fine.bats"
	# a clean environment: the outer bats's variables and PATH stay out of the inner run
	local path=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
	run -1 env -i PATH="$path" HOME="$HOME" BATS_FILES="$BATS_TEST_TMPDIR/early.bats" \
		"$BATS_TEST_DIRNAME/../run"
	[[ $output == *"not ok - bats planned 3 tests and reported 2"* ]]
	[[ ${lines[-1]} == [12]" passed, 1 failed" ]]
	run -0 env -i PATH="$path" HOME="$HOME" BATS_FILES="$BATS_TEST_TMPDIR/fine.bats" \
		"$BATS_TEST_DIRNAME/../run"
	[ "${lines[-1]}" = "1 passed, 0 failed" ]
}
