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
	port=$(closed_port)
	json_run 1 unshare -n "$SOCKCTL" resolve --json -v nosuch.invalid
	json_run 1 "$SOCKCTL" connect --json -v 127.0.0.1 "$port"
	json_run 1 "$SOCKCTL" listen --json -v -w 0.2 127.0.0.1 0
	grep -q '"event":"listening"' "$BATS_TEST_TMPDIR/err"
	json_run 1 "$SOCKCTL" listen --json -v 198.18.0.1 0
	json_run 1 "$SOCKCTL" udp-send --json -v --wait 0.5 127.0.0.1 "$(closed_port udp)" hi
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

# terminal_safe FILE: no byte in FILE acts on a terminal: no C0 control but
# newline, no DEL, no C1 control (raw or UTF-8), no bidi control, no invalid UTF-8.
terminal_safe() {
	python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", data)
text = data.decode("utf-8", "surrogateescape")
bad = bad or re.search("[\x80-\x9f\u202a-\u202e\u2066-\u2069\udc80-\udcff]", text)
if bad:
    sys.exit("unsafe bytes in %s: %r" % (sys.argv[1], data))
PY
}

# A name with ESC ]0;...BEL (window title), CSI as a C1 byte (U+009B) and a
# bidi override (U+202E).
EVIL=$'e\e]0;pwn\a\e[31m\xc2\x9b2J\xe2\x80\xaex'

# serve_unix NAME FLAGS...: listen -U NAME FLAGS in the background (stderr in
# $BATS_TEST_TMPDIR/lerr), wait until it listens, run connect -v -U NAME.
serve_unix() {
	local name=$1
	shift
	bg "$SOCKCTL" listen -U "$name" -w 5 "$@" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/lerr"
	wait_for 5 grep -q listening "$BATS_TEST_TMPDIR/lerr"
	"$SOCKCTL" connect -v -U "$name" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/cerr"
	wait_pid 10 "$BG_PID"
}

@test "unix socket names with terminal escapes are escaped in -v lines and notices" {
	local lc
	for lc in C C.UTF-8; do
		export LC_ALL=$lc
		serve_unix "$BATS_TEST_TMPDIR/$EVIL" -v
		terminal_safe "$BATS_TEST_TMPDIR/lerr"
		terminal_safe "$BATS_TEST_TMPDIR/cerr"
		grep -qF 'listening on unix:' "$BATS_TEST_TMPDIR/lerr"
		grep -qF 'e\x1b]0;pwn\x07\x1b[31m\xc2\x9b2J\xe2\x80\xaex' "$BATS_TEST_TMPDIR/lerr"
		grep -qF 'connected to unix:' "$BATS_TEST_TMPDIR/cerr"
		grep -qF 'e\x1b]0;pwn\x07\x1b[31m\xc2\x9b2J\xe2\x80\xaex' "$BATS_TEST_TMPDIR/cerr"
		# abstract names: any local user chooses them
		serve_unix "@sk$$$EVIL" -v
		terminal_safe "$BATS_TEST_TMPDIR/lerr"
		terminal_safe "$BATS_TEST_TMPDIR/cerr"
		grep -qF "unix:@sk$$"'e\x1b]0;pwn\x07' "$BATS_TEST_TMPDIR/cerr"
	done
	# an error naming the path: escaped too
	run -1 --separate-stderr "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/none$EVIL" </dev/null
	printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/err"
	terminal_safe "$BATS_TEST_TMPDIR/err"
	# valid UTF-8 stays readable in a UTF-8 locale, escaped in others
	LC_ALL=C.UTF-8 run -1 --separate-stderr "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/сокет" </dev/null
	[[ $stderr == *"/сокет:"* ]]
	LC_ALL=C run -1 --separate-stderr "$SOCKCTL" connect -U "$BATS_TEST_TMPDIR/сокет" </dev/null
	[[ $stderr == *'/\xd1\x81\xd0\xbe'* ]]
}

@test "JSON writes C1 controls and bidi controls as \\u escapes, and they round-trip" {
	serve_unix "@sk$$$EVIL" --json
	terminal_safe "$BATS_TEST_TMPDIR/lerr"
	grep -qF '\u009b2J\u202ex' "$BATS_TEST_TMPDIR/lerr"
	[ "$(jq -r 'select(.event == "listening") | .address' "$BATS_TEST_TMPDIR/lerr")" = "@sk$$$EVIL" ]
}

@test "resolve escapes NSS names (canonical and reverse) from a hostile /etc/hosts" {
	printf '198.18.0.66\t%s evil.test\n' "$EVIL" >"$BATS_TEST_TMPDIR/hosts"
	# a private mount namespace sees the file as /etc/hosts; no network
	cat >"$BATS_TEST_TMPDIR/run.sh" <<-'SH'
		mount --bind "$1" /etc/hosts || exit 99
		"$SOCKCTL" resolve --canonname --type stream "$3" 80 >"$2/fwd" &&
		"$SOCKCTL" resolve --reverse 198.18.0.66 >"$2/rev" &&
		LC_ALL=C.UTF-8 "$SOCKCTL" resolve --reverse 198.18.0.66 >"$2/rev8" &&
		"$SOCKCTL" resolve --json --canonname --type stream "$3" >"$2/fwd.json" &&
		"$SOCKCTL" resolve --json --reverse 198.18.0.66 >"$2/rev.json"
	SH
	run -0 unshare -m -n sh "$BATS_TEST_TMPDIR/run.sh" "$BATS_TEST_TMPDIR/hosts" "$BATS_TEST_TMPDIR" \
		evil.test
	local f
	for f in fwd rev rev8 fwd.json rev.json; do
		terminal_safe "$BATS_TEST_TMPDIR/$f"
	done
	grep -qF 'e\x1b]0;pwn\x07\x1b[31m\xc2\x9b2J\xe2\x80\xaex' "$BATS_TEST_TMPDIR/fwd"
	grep -qF 'e\x1b]0;pwn\x07\x1b[31m\xc2\x9b2J\xe2\x80\xaex' "$BATS_TEST_TMPDIR/rev"
	grep -qF 'e\x1b]0;pwn\x07\x1b[31m\xc2\x9b2J\xe2\x80\xaex' "$BATS_TEST_TMPDIR/rev8"
	grep -qF '\u009b2J\u202ex' "$BATS_TEST_TMPDIR/fwd.json"
	[ "$(jq -r .canonname "$BATS_TEST_TMPDIR/fwd.json")" = "$EVIL" ]
	[ "$(jq -r .host "$BATS_TEST_TMPDIR/rev.json")" = "$EVIL" ]
}

@test "one text per errno: EAGAIN reads the same in listen and udp-recv; gai texts lower-cased" {
	run -1 --separate-stderr "$SOCKCTL" listen --nonblock 127.0.0.1 0 </dev/null
	[[ $stderr == *"accept: EAGAIN: resource temporarily unavailable"* ]]
	run -1 --separate-stderr "$SOCKCTL" udp-recv --nonblock -v 127.0.0.1 0
	[[ $stderr == *"recvmmsg: EAGAIN: resource temporarily unavailable"* ]]
	run -1 --separate-stderr unshare -n "$SOCKCTL" resolve nosuch.invalid
	[[ $stderr == *": EAI_"*": temporary failure in name resolution" ]] ||
		[[ $stderr == *": EAI_NONAME: name or service not known" ]]
	# no command prints strerror's capitalised form mid-sentence
	local port
	port=$(closed_port)
	run -1 --separate-stderr "$SOCKCTL" connect -v 127.0.0.1 "$port" </dev/null
	[[ $stderr == *"127.0.0.1:$port: ECONNREFUSED: connection refused after "* ]]
	[[ $stderr != *": Connection refused"* ]]
}

@test "one endpoint format in every -v line: ADDR:PORT and [V6ADDR]:PORT" {
	bg "$SOCKCTL" listen -v -w 10 127.0.0.1 0 </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/l4"
	local lpid=$BG_PID port
	wait_for 10 grep -q "listening on" "$BATS_TEST_TMPDIR/l4"
	grep -Eqx 'sockctl listen: listening on 127\.0\.0\.1:[0-9]+' "$BATS_TEST_TMPDIR/l4"
	port=$(sed -n 's/.*listening on 127.0.0.1://p' "$BATS_TEST_TMPDIR/l4")
	"$SOCKCTL" connect 127.0.0.1 "$port" </dev/null
	wait_pid 10 "$lpid"
	grep -Eq 'connection from 127\.0\.0\.1:[0-9]+$' "$BATS_TEST_TMPDIR/l4"
	run -1 --separate-stderr "$SOCKCTL" listen -v -w 0.1 ::1 0 </dev/null
	[[ $stderr =~ "listening on [::1]:"[0-9]+ ]]
	run -1 --separate-stderr "$SOCKCTL" udp-recv -v -w 0.1 ::1 0
	[[ $stderr =~ "bound [::1]:"[0-9]+ ]]
	run -0 --separate-stderr "$SOCKCTL" resolve -v --reverse -n ::1 443
	[[ $stderr == *"getnameinfo([::1]:443, flags="* ]]
}

@test "-v is one level: no command promises more for -vv" {
	local c
	for c in $("$SOCKCTL" --list-commands); do
		run -0 "$SOCKCTL" "$c" --help
		[[ $output != *twice* ]]
		[[ $output != *-vv* ]]
	done
	! grep -n -e '-vv' -e 'twice: more' "$BATS_TEST_DIRNAME"/../../docs/*.1
}
