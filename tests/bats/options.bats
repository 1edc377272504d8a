#!/usr/bin/env bats
# Habits and inputs users bring (issue 9 section 4): nc's letters, option
# names spelled in full with a suggestion when mistyped, every host form that
# getaddrinfo(3) takes, the empty host, TIME_WAIT in "address in use".
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

# A loopback address of our own (the machine is shared).
setup() {
	LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	export LO
}


# ---- nc's letters ----

@test "listen -l -p PORT and -lvnp PORT work as nc's do" {
	echo hello >"$BATS_TEST_TMPDIR/in"
	start_listen "$BATS_TEST_TMPDIR/err" -l -v -w 10 -s "$LO" -p 0 <"$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/out"
	run -0 --separate-stderr "$SOCKCTL" connect -w 10 "$LO" "$PORT" </dev/null
	[ "$output" = hello ]
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]

	start_listen "$BATS_TEST_TMPDIR/err2" -lvnp 0 -w 10 </dev/null >"$BATS_TEST_TMPDIR/out2"
	echo ping | nc.openbsd -N 127.0.0.1 "$PORT"
	wait_pid 10 "$LPID"
	[ "$WAIT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out2")" = ping ]
}

@test "-n/--numeric-host: a name is bad input in every command, never looked up" {
	# localhost is in /etc/hosts: only -n makes it fail, and with status 2
	for c in "connect -n localhost 9" "connect -z -n localhost 9" "listen -n localhost 0" \
		"listen -n -s localhost -p 0" "udp-send -n localhost 9 x" \
		"udp-recv -n localhost 0" "raw-icmp --numeric-host -c 1 localhost" \
		"connect -n -s localhost 127.0.0.1 9" "udp-send -n -s localhost 127.0.0.1 9 x"; do
		# shellcheck disable=SC2086
		assert_usage_error "'localhost' is not a numeric address" \
			unshare -n "$SOCKCTL" $c
		# nothing was looked up: no hosts file, no resolver, no connect
		# shellcheck disable=SC2086
		# (LeakSanitizer cannot run under ptrace: off for this run only)
		run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -e trace=openat,connect -o "$BATS_TEST_TMPDIR/trace" \
			unshare -n "$SOCKCTL" $c
		[ "$status" -eq 2 ]
		grep -q 'openat' "$BATS_TEST_TMPDIR/trace" # the trace works
		if grep -E '/etc/hosts|resolv\.conf|nsswitch|connect\(' "$BATS_TEST_TMPDIR/trace"; then
			echo "$c looked the name up"
			return 1
		fi
	done
	# numeric addresses still work with -n
	run -1 --separate-stderr "$SOCKCTL" connect -n -w 5 127.0.0.1 1
	[[ $stderr == *"connection refused"* ]]
}

# ---- option names ----

@test "a mistyped long option gets the name it may stand for, in every command" {
	for c in $("$SOCKCTL" --list-commands); do
		assert_usage_error "unknown option '--jsn'; did you mean '--json'?" \
			"$SOCKCTL" "$c" --jsn
		assert_usage_error "unknown option '--verbos'; did you mean '--verbose'?" \
			"$SOCKCTL" "$c" --verbos
	done
	assert_usage_error "unknown option '--timout'; did you mean '--timeout'?" \
		"$SOCKCTL" connect --timout 1 127.0.0.1 9
	assert_usage_error "unknown option '--reuseadr'; did you mean '--reuseaddr'?" \
		"$SOCKCTL" listen --reuseadr 0
	# nothing close: no guess
	assert_usage_error "unknown option '--frobnicate' (see 'sockctl listen --help')" \
		"$SOCKCTL" listen --frobnicate 0
}

@test "an abbreviated long option is rejected with its full name, never taken" {
	assert_usage_error "unknown option '--time'; did you mean '--timeout'?" \
		"$SOCKCTL" connect --time 1 127.0.0.1 9
	assert_usage_error "unknown option '--time'; did you mean '--timeout'?" \
		"$SOCKCTL" connect --time=1 127.0.0.1 9
	assert_usage_error "unknown option '--verb'; did you mean '--verbose'?" \
		"$SOCKCTL" resolve --verb localhost
	assert_usage_error "unknown option '--numeric-h'; did you mean '--numeric-host'?" \
		"$SOCKCTL" resolve --numeric-h 127.0.0.1
	assert_usage_error "did you mean '--help'?" "$SOCKCTL" udp-send --he
	# the full names, with = or a separate value, still work
	run -0 "$SOCKCTL" resolve --numeric-host --verbose 127.0.0.1
	run -1 "$SOCKCTL" connect --timeout=5 127.0.0.1 1
	run -1 "$SOCKCTL" connect --timeout 5 127.0.0.1 1
}

# ---- host forms: what getaddrinfo(3) reads as numeric, in every command ----

@test "127.1, 2130706433 and 0x7f000001 work in every command, as in resolve" {
	for h in 127.1 2130706433 0x7f000001; do
		run -0 "$SOCKCTL" resolve --numeric-host "$h" 80
		[[ $output == *127.0.0.1* ]]

		# listen on the form; connect to it with the form, HOST PORT and HOST:PORT
		echo "from-$h" >"$BATS_TEST_TMPDIR/in"
		start_listen "$BATS_TEST_TMPDIR/err" -v -w 10 "$h" 0 <"$BATS_TEST_TMPDIR/in" \
			>"$BATS_TEST_TMPDIR/out"
		grep -q "listening on 127.0.0.1:$PORT" "$BATS_TEST_TMPDIR/err"
		run -0 --separate-stderr "$SOCKCTL" connect -n -w 10 "$h:$PORT" </dev/null
		[ "$output" = "from-$h" ]
		wait_pid 10 "$LPID"
		[ "$WAIT_STATUS" = 0 ]

		start_listen "$BATS_TEST_TMPDIR/err" -v -w 10 -k 127.0.0.1 0 </dev/null \
			>/dev/null
		run -0 --separate-stderr "$SOCKCTL" connect -z "$h" "$PORT"
		[ "$output" = "127.0.0.1 $PORT open" ]
		run -0 --separate-stderr "$SOCKCTL" connect -w 10 -s "$h" "$h" "$PORT" </dev/null
		kill "$LPID"

		# datagrams: udp-recv bound on the form, udp-send to the form; the
		# files are emptied first: the background job's own redirection may
		# come after the wait reads the last round's port
		: >"$BATS_TEST_TMPDIR/rerr"
		: >"$BATS_TEST_TMPDIR/dg"
		"$SOCKCTL" udp-recv -v -c 1 -w 10 "$h" 0 >"$BATS_TEST_TMPDIR/dg" \
			2>"$BATS_TEST_TMPDIR/rerr" &
		RPID=$!
		echo "$RPID" >>"$BATS_TEST_TMPDIR/.pids"
		wait_for 10 grep -q "bound 127.0.0.1:[0-9][0-9]*$" "$BATS_TEST_TMPDIR/rerr"
		RPORT=$(sed -n 's/.*bound 127.0.0.1:\([0-9][0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/rerr" | head -n1)
		run -0 "$SOCKCTL" udp-send -q "$h" "$RPORT" "dg-$h"
		wait_pid 10 "$RPID"
		[ "$WAIT_STATUS" = 0 ]
		grep -q "dg-$h" "$BATS_TEST_TMPDIR/dg"

		run -0 "$SOCKCTL" raw-icmp -c 1 -W 5 "$h"
		[[ $output == *"from 127.0.0.1"* ]]
		run -0 "$SOCKCTL" raw-icmp -4 -c 1 -W 5 "$h"
		assert_usage_error "an IPv4 address, but -6" "$SOCKCTL" raw-icmp -6 -c 1 "$h"
	done
	# what looks numeric but is no address stays bad input, with no lookup
	for c in "connect 1.2.3.4.5 80" "listen 999.1.1.1 0" "udp-send 1.2.3.4.5 9 x" \
		"udp-recv 999.1.1.1 0" "raw-icmp 1.2.3.4.5"; do
		# shellcheck disable=SC2086
		assert_usage_error "bad IPv4 address" unshare -n "$SOCKCTL" $c
	done
}

# ---- the empty host ----

@test "listen '' PORT and udp-recv '' PORT bind both wildcards, as Python's ''" {
	start_listen "$BATS_TEST_TMPDIR/err" -v -k -w 10 '' 0 </dev/null >/dev/null
	grep -q "listening on 0.0.0.0:$PORT" "$BATS_TEST_TMPDIR/err"
	grep -q "listening on \[::\]:$PORT" "$BATS_TEST_TMPDIR/err"
	run -0 "$SOCKCTL" connect -z 127.0.0.1 "$PORT"
	run -0 "$SOCKCTL" connect -z ::1 "$PORT"
	kill "$LPID"

	"$SOCKCTL" udp-recv -v -w 10 -c 2 '' 0 >"$BATS_TEST_TMPDIR/dg" 2>"$BATS_TEST_TMPDIR/rerr" &
	RPID=$!
	echo "$RPID" >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "bound \[::\]:" "$BATS_TEST_TMPDIR/rerr"
	grep -q "bound 0.0.0.0:" "$BATS_TEST_TMPDIR/rerr"
	RPORT=$(sed -n 's/.*bound 0.0.0.0:\([0-9][0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/rerr" | head -n1)
	run -0 "$SOCKCTL" udp-send -q 127.0.0.1 "$RPORT" four
	run -0 "$SOCKCTL" udp-send -q ::1 "$RPORT" six
	wait_pid 10 "$RPID"
	[ "$WAIT_STATUS" = 0 ]
	grep -q four "$BATS_TEST_TMPDIR/dg"
	grep -q six "$BATS_TEST_TMPDIR/dg"
	# a client still needs a host
	assert_usage_error "empty host" "$SOCKCTL" connect '' 80
}

# ---- address in use ----

# time_wait [reuse]: a connection on 127.0.0.1 whose server closes first, so
# the server's port (TW_PORT) is left in TIME_WAIT with no socket listening;
# with "reuse" the server had SO_REUSEADDR, as most servers (and listen) do.
time_wait() {
	TW_PORT=$(timeout 20 python3 - "${1:-}" <<'PY'
import socket, sys
s = socket.socket()
if sys.argv[1] == "reuse":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen()
port = s.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port), timeout=10)
a, _ = s.accept()
s.close()
a.close()              # the server closes first: its side goes to TIME_WAIT
assert c.recv(1) == b""
c.close()
print(port)
PY
	)
	ss -Htan state time-wait "sport = :$TW_PORT" | grep -q .
}

@test "address in use by TIME_WAIT only: the message says so and names --reuseaddr" {
	time_wait reuse
	run -1 --separate-stderr "$SOCKCTL" listen --no-reuseaddr -w 1 127.0.0.1 "$TW_PORT"
	[[ $stderr == *"127.0.0.1:$TW_PORT: address already in use by connections in TIME_WAIT"* ]]
	[[ $stderr == *"--reuseaddr"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	# connect binding that source port: the same, and --reuseaddr gets through
	start_listen "$BATS_TEST_TMPDIR/err" -v -w 10 "$LO" 0 </dev/null >/dev/null
	run -1 --separate-stderr "$SOCKCTL" connect -w 5 -s 127.0.0.1 -p "$TW_PORT" "$LO" "$PORT" \
		</dev/null
	[[ $stderr == *"in TIME_WAIT (--reuseaddr"* ]]
	run -0 --separate-stderr "$SOCKCTL" connect --reuseaddr -w 5 -s 127.0.0.1 -p "$TW_PORT" \
		"$LO" "$PORT" </dev/null
	# listen's default (SO_REUSEADDR on) binds it
	start_listen "$BATS_TEST_TMPDIR/err2" -v -w 10 -k 127.0.0.1 "$TW_PORT" </dev/null >/dev/null
	# a listener really holds it now: no TIME_WAIT story
	run -1 --separate-stderr "$SOCKCTL" listen --no-reuseaddr -w 1 127.0.0.1 "$TW_PORT"
	[[ $stderr == *"127.0.0.1:$TW_PORT: address already in use" ]]
	[[ $stderr != *TIME_WAIT* ]]
}

@test "TIME_WAIT of a server without SO_REUSEADDR: the message says --reuseaddr cannot help" {
	time_wait
	run -1 --separate-stderr "$SOCKCTL" listen -w 1 127.0.0.1 "$TW_PORT"
	[[ $stderr == *"127.0.0.1:$TW_PORT: address already in use by connections in TIME_WAIT"* ]]
	[[ $stderr == *"--reuseaddr cannot bind before they end"* ]]
	# python agrees: SO_REUSEADDR does not get through
	run ! python3 -c "import socket; s = socket.socket(); \
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $TW_PORT))"
}

@test "connect -z: a failed lookup names the port list as given, not port 0" {
	run -1 --separate-stderr "$SOCKCTL" connect -4 -z ::1 22
	[[ $stderr == *"::1 port 22: EAI_ADDRFAMILY"* ]]
	run -1 --separate-stderr "$SOCKCTL" connect -6 -z 127.0.0.1 20-25,80,ssh
	[[ $stderr == *"127.0.0.1 port 20-25,80,ssh: EAI_ADDRFAMILY"* ]]
	run -1 --separate-stderr unshare -n "$SOCKCTL" connect -z nosuch.invalid 7,9
	[[ $stderr == *"nosuch.invalid port 7,9: EAI_"* ]]
	[[ $stderr != *"port 0"* ]]
}

# ---- Unix socket files: no race, explicit permissions ----

@test "listen -U: a parent symlink swapped in a loop never gets a regular file removed" {
	# real/s is a stale socket that listen may replace; decoy/s is a regular
	# file that must survive; link flips between real and decoy (atomic
	# rename) while listen -U link/s runs again and again, for 2 seconds
	run -0 timeout 60 python3 - "$SOCKCTL" "$BATS_TEST_TMPDIR" 2 <<'PY'
import os, socket, subprocess, sys, threading, time
sockctl, d, secs = sys.argv[1], os.path.abspath(sys.argv[2]), float(sys.argv[3])
real, decoy, link = (os.path.join(d, n) for n in ("real", "decoy", "link"))
os.mkdir(real)
os.mkdir(decoy)
with open(os.path.join(decoy, "s"), "w") as f:
    f.write("precious\n")
os.symlink(real, link)
stop = time.monotonic() + secs
def swap():
    i = 0
    while time.monotonic() < stop:
        tmp = os.path.join(d, "tmp")
        os.symlink(decoy if i % 2 == 0 else real, tmp)
        os.replace(tmp, link)
        i += 1
t = threading.Thread(target=swap)
t.start()
tries = replaced = 0
while time.monotonic() < stop:
    st = os.path.join(real, "s")
    if not os.path.lexists(st):
        s = socket.socket(socket.AF_UNIX)
        s.bind(st)              # closed without unlink: a stale socket
        s.close()
    r = subprocess.run([sockctl, "listen", "-w", "0.001", "-U", os.path.join(link, "s")],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=10)
    tries += 1
    replaced += b"no client within" in r.stderr
    p = os.path.join(decoy, "s")
    if os.path.islink(p) or not os.path.isfile(p) or open(p).read() != "precious\n":
        print(f"decoy lost after {tries} tries")
        t.join()
        sys.exit(1)
t.join()
print(f"decoy intact after {tries} tries, stale socket replaced {replaced} times")
sys.exit(0 if tries >= 20 and replaced else 1)
PY
	echo "$output"
}

@test "listen -U --mode: the socket file gets exactly that mode, 0600 by default, whatever the umask" {
	local s=$BATS_TEST_TMPDIR/m.sock
	(umask 000; exec "$SOCKCTL" listen -v -w 10 -U "$s" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err") &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "listening on" "$BATS_TEST_TMPDIR/err"
	[ "$(stat -c %a "$s")" = 600 ]
	# the name peers see is the path given, not a /proc/self/fd/N alias
	run -0 python3 -c "import socket, sys; c = socket.socket(socket.AF_UNIX); \
c.connect(sys.argv[1]); print(c.getpeername())" "$s"
	[ "$output" = "$s" ]
	wait_for 10 test ! -e "$s"

	(umask 077; exec "$SOCKCTL" listen -v -w 10 --mode 0666 -U "$s.2" </dev/null >/dev/null \
		2>"$BATS_TEST_TMPDIR/err2") &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 grep -q "listening on" "$BATS_TEST_TMPDIR/err2"
	[ "$(stat -c %a "$s.2")" = 666 ]
	[ "$(stat -c %F "$s.2")" = socket ]

	start_listen "$BATS_TEST_TMPDIR/err3" -v -u -w 10 --mode 640 -U "$s.3" </dev/null >/dev/null
	[ "$(stat -c %a "$s.3")" = 640 ]

	assert_usage_error "--mode" "$SOCKCTL" listen --mode 0800 -U "$s.4"
	assert_usage_error "--mode needs a Unix socket file" "$SOCKCTL" listen --mode 0600 0
	assert_usage_error "abstract" "$SOCKCTL" listen --mode 0600 -U @sockctl-test-$$
	[ ! -e "$s.4" ]
}

# ---- one endpoint parser ----

@test "one endpoint: a port list without -z says it needs -z; -U and unix: are checked alike" {
	assert_usage_error "a port list (20-25) needs -z/--scan" "$SOCKCTL" connect 127.0.0.1 20-25
	assert_usage_error "a port list (20-25,80) needs -z/--scan" \
		"$SOCKCTL" connect 127.0.0.1:20-25,80
	assert_usage_error "port list; one port is expected" "$SOCKCTL" udp-send 127.0.0.1 20-25 x
	assert_usage_error "port list; one port is expected" "$SOCKCTL" listen 9000-9001
	# the same conflict, the same message, whichever way the path is written
	for c in connect listen; do
		a=$("$SOCKCTL" "$c" -4 -U "$BATS_TEST_TMPDIR/x" 2>&1 || true)
		b=$("$SOCKCTL" "$c" -4 "unix:$BATS_TEST_TMPDIR/x" 2>&1 || true)
		[ -n "$a" ] && [ "$a" = "$b" ]
	done
	# one length check, one message, for every command and form
	long=$(printf 'x%.0s' {1..200})
	m=$("$SOCKCTL" connect -U "$long" 2>&1 || true)
	[[ $m == *"unix socket path too long or empty (1 to 107 bytes)" ]]
	for c in "connect unix:$long" "listen -U $long" "listen unix:$long" "listen -U unix:$long"; do
		# shellcheck disable=SC2086
		[ "$("$SOCKCTL" $c 2>&1 | sed 's/^sockctl [a-z]*: //')" = "${m#sockctl connect: }" ]
	done
}
