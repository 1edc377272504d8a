#!/usr/bin/env bats
# --progress on connect and listen: progress events with --json, at most 4 a
# second; a pv-like line on stderr only when stderr is a terminal.
load helper

teardown() { common_teardown; }

@test "connect --json --progress: progress events at most 4 a second, total from a file, a final one" {
	head -c 3000000 /dev/zero >"$BATS_TEST_TMPDIR/f"
	start_listen "$BATS_TEST_TMPDIR/lerr" 127.0.0.1 0 </dev/null >/dev/null
	# a slow sender: the relay runs about 2 s
	{ cat "$BATS_TEST_TMPDIR/f"; sleep 2; } |
		"$SOCKCTL" connect --json --progress --size 3000000 127.0.0.1 "$PORT" >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	wait_pid 10 "$LPID"
	grep '"event":"progress"' "$BATS_TEST_TMPDIR/err" >"$BATS_TEST_TMPDIR/p"
	n=$(wc -l <"$BATS_TEST_TMPDIR/p")
	echo "$n progress events"
	[ "$n" -ge 4 ]
	# about 2 s: 8 updates, the final one, and slack for a loaded machine
	[ "$n" -le 11 ]
	run -0 jq -s -r '[.[] | select(.final == false) | .seconds] as $s |
		[range(1; $s | length) | $s[.] - $s[. - 1]] | min >= 0.24' "$BATS_TEST_TMPDIR/p"
	[ "$output" = true ]
	run -0 jq -s -r '.[-1] | "\(.final) \(.sent) \(.total)"' "$BATS_TEST_TMPDIR/p"
	[ "$output" = "true 3000000 3000000" ]
	run -0 jq -s -r 'map(.total) | unique | .[0]' "$BATS_TEST_TMPDIR/p"
	[ "$output" = 3000000 ]
	# the length of a regular-file stdin, without --size
	start_listen "$BATS_TEST_TMPDIR/lerr" 127.0.0.1 0 </dev/null >/dev/null
	"$SOCKCTL" connect --json --progress 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/f" >/dev/null 2>"$BATS_TEST_TMPDIR/err2"
	wait_pid 10 "$LPID"
	run -0 jq -r 'select(.event == "progress") | .total' "$BATS_TEST_TMPDIR/err2"
	[ "$(sort -u <<<"$output")" = 3000000 ]
}

@test "listen --progress: a pv-like line on a terminal's stderr, nothing when stderr is a file" {
	start_listen "$BATS_TEST_TMPDIR/lerr" --progress 127.0.0.1 0 </dev/null >/dev/null
	head -c 100000 /dev/zero | "$SOCKCTL" connect --progress 127.0.0.1 "$PORT" 2>"$BATS_TEST_TMPDIR/cerr"
	wait_pid 10 "$LPID"
	# stderr is a file: no progress line
	! grep -q 'received' "$BATS_TEST_TMPDIR/lerr"
	[ ! -s "$BATS_TEST_TMPDIR/cerr" ]
	# stderr a terminal (python3's pty module gives the listener one)
	bg python3 -c 'import pty, sys; pty.spawn(sys.argv[1:])' sh -c \
		"exec '$SOCKCTL' listen -v --progress 127.0.0.1 0 </dev/null >/dev/null" \
		>"$BATS_TEST_TMPDIR/tty"
	# (a terminal ends lines with \r\n: read the port here, not with listen_port)
	wait_for 10 grep -q 'listening on 127.0.0.1:' "$BATS_TEST_TMPDIR/tty"
	port=$(grep -ao 'listening on 127.0.0.1:[0-9]*' "$BATS_TEST_TMPDIR/tty" | grep -o '[0-9]*$')
	head -c 100000 /dev/zero | "$SOCKCTL" connect 127.0.0.1 "$port"
	wait_pid 10 "$BG_PID"
	grep -a -q $'\r''0 B sent, 97.7 KiB received, .*/s' "$BATS_TEST_TMPDIR/tty"
}

@test "progress events match the connect and listen schemas" {
	start_listen "$BATS_TEST_TMPDIR/lerr" --json --progress 127.0.0.1 0 </dev/null >/dev/null
	echo hi | "$SOCKCTL" connect --json --progress 127.0.0.1 "$PORT" >/dev/null 2>"$BATS_TEST_TMPDIR/cerr"
	wait_pid 10 "$LPID"
	run -0 /usr/bin/python3 tests/schema-check.py --require progress connect "$BATS_TEST_TMPDIR/cerr"
	run -0 /usr/bin/python3 tests/schema-check.py --require progress listen "$BATS_TEST_TMPDIR/lerr"
}
