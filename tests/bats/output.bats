#!/usr/bin/env bats
# How sockctl prints: JSON diagnostics, one message format, terminal safety.
load helper

teardown() { common_teardown; }

# assert_jsonl FILE: FILE has at least one line and every line is one JSON object.
assert_jsonl() {
	local l n=0
	while IFS= read -r l || [ -n "$l" ]; do
		n=$((n + 1))
		if ! printf '%s\n' "$l" | jq -e 'type == "object"' >/dev/null 2>&1; then
			echo "not a JSON object, line $n of $1: $l" >&2
			return 1
		fi
	done <"$1"
	[ "$n" -gt 0 ] || { echo "$1 is empty" >&2; return 1; }
}

# json_run STATUS CMD...: run CMD with stdin from /dev/null; want STATUS;
# every stderr line JSON, and the last an error object with that status.
json_run() {
	local want=$1 st=0
	shift
	"$@" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || st=$?
	if [ "$st" -ne "$want" ]; then
		echo "status $st (want $want): $*" >&2
		cat "$BATS_TEST_TMPDIR/err" >&2
		return 1
	fi
	assert_jsonl "$BATS_TEST_TMPDIR/err"
	tail -n1 "$BATS_TEST_TMPDIR/err" | jq -e --argjson st "$want" \
		'.event == "error" and .status == $st and (.message | length > 0)
		 and (.command | type == "string")' >/dev/null ||
		{ echo "last line is not the error: $(tail -n1 "$BATS_TEST_TMPDIR/err")" >&2; return 1; }
}

@test "--json: bad input is a JSON error with status 2 in every command, --json first or last" {
	local c
	for c in $("$SOCKCTL" --list-commands); do
		json_run 2 "$SOCKCTL" "$c" --json --no-such-option
		[ ! -s "$BATS_TEST_TMPDIR/out" ]
		[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
		# --json after the option that is refused: argv is read for it first
		json_run 2 "$SOCKCTL" "$c" --no-such-option --json
		jq -e --arg c "$c" '.command == $c' "$BATS_TEST_TMPDIR/err" >/dev/null
	done
	json_run 2 "$SOCKCTL" connect --json 127.0.0.1 99999
	json_run 2 "$SOCKCTL" listen 127.0.0.1 99999 --json
	json_run 2 "$SOCKCTL" udp-send --json 127.0.0.1 99999 x
	json_run 2 "$SOCKCTL" udp-recv --json 127.0.0.1 99999
	json_run 2 "$SOCKCTL" raw-icmp --json -c abc 127.0.0.1
	json_run 2 "$SOCKCTL" resolve --json --family ipx localhost
	# before a command was chosen: "command" is null
	run -2 --separate-stderr "$SOCKCTL" nosuch --json
	jq -e '.event == "error" and .command == null and .status == 2' <<<"$stderr"
	# "--" ends the options: a message that reads "--json" is data
	run -2 --separate-stderr "$SOCKCTL" udp-send --bad 127.0.0.1 9 -- --json
	[[ $stderr == "sockctl udp-send: "* ]]
}

@test "--json: run-time failures and -v notices are JSON on stderr in every command" {
	local port
	port=$(free_port)
	json_run 1 unshare -n "$SOCKCTL" resolve --json -v nosuch.invalid
	json_run 1 "$SOCKCTL" connect --json -v 127.0.0.1 "$port"
	json_run 1 "$SOCKCTL" listen --json -v -w 0.2 127.0.0.1 0
	grep -q '"event":"listening"' "$BATS_TEST_TMPDIR/err"
	json_run 1 "$SOCKCTL" listen --json -v 198.18.0.1 0
	json_run 1 "$SOCKCTL" udp-send --json -v --wait 0.5 127.0.0.1 "$(free_port udp)" hi
	grep -q '"event":"notice"' "$BATS_TEST_TMPDIR/err"
	json_run 1 "$SOCKCTL" udp-recv --json -v -w 0.2 127.0.0.1 0
	grep -q '"event":"notice","command":"udp-recv","message":"bound ' "$BATS_TEST_TMPDIR/err"
	# lo is down in a new network namespace: nothing can be sent
	run -1 --separate-stderr unshare -n "$SOCKCTL" raw-icmp --json -v -c 1 -W 0.3 127.0.0.1
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	assert_jsonl "$BATS_TEST_TMPDIR/err"
	grep -q '"event":"notice","command":"raw-icmp"' "$BATS_TEST_TMPDIR/err"
	# the same failures in text
	run -1 --separate-stderr "$SOCKCTL" connect 127.0.0.1 "$port"
	[[ $stderr == "sockctl connect: 127.0.0.1:$port: connection refused" ]]
	# connect keeps its data on stdout and its events on stderr
	bg python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.sendall(b"data\n"); c.close()' >"$BATS_TEST_TMPDIR/port"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/port"
	port=$(cat "$BATS_TEST_TMPDIR/port")
	run -0 --separate-stderr "$SOCKCTL" connect --json 127.0.0.1 "$port" </dev/null
	[ "$output" = data ]
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	assert_jsonl "$BATS_TEST_TMPDIR/err"
	grep -q '"event":"connected"' "$BATS_TEST_TMPDIR/err"
}
