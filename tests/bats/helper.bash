# Shared by every bats file: load it with `load helper`.
# Rules: every wait is bounded; every process and namespace a test starts is
# recorded here and removed by PID/name in teardown, even when the test fails.
bats_require_minimum_version 1.5.0

SOCKCTL=${SOCKCTL:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/sockctl}
export SOCKCTL

# bg CMD...: start CMD in the background, remember its PID in $BG_PID.
bg() {
	"$@" &
	BG_PID=$!
	echo "$BG_PID" >>"$BATS_TEST_TMPDIR/.pids"
}

# wait_for SECONDS CMD...: retry CMD every 50 ms until it succeeds or time is up.
wait_for() {
	local tries=$(($1 * 20))
	shift
	while ! "$@" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}

# count_is N PATTERN FILE: FILE has N lines matching PATTERN.  For wait_for:
# `wait_for 10 test "$(grep -c ...)" = N` counts once, before the first try.
count_is() { [ "$(grep -c -- "$2" "$3")" = "$1" ]; }

# wait_pid SECONDS PID: wait for PID to exit; its status in $WAIT_STATUS;
# fails (and kills it) if it is still running after SECONDS.
wait_pid() {
	local tries=$(($1 * 20)) pid=$2
	while kill -0 "$pid" 2>/dev/null; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null || true
			WAIT_STATUS=timeout
			return 1
		fi
		sleep 0.05
	done
	# bats runs with errexit: a non-zero status is data here, not a failure
	WAIT_STATUS=0
	wait "$pid" || WAIT_STATUS=$?
	return 0
}

# ---- ports: let the kernel choose, then read its choice back ----
# Picking a "free" port and binding it later is a race: between the two, any
# process on the machine (up to 8 test suites share it) can take the port,
# and then the test talks to a stranger or its server fails to bind.  So:
#  - servers listen on port 0 and the test reads the port back: bound_port
#    asks the kernel (ss) which port the server's process holds, whatever
#    the server is (sockctl, python3, nc.openbsd -l 0, socat TCP-LISTEN:0);
#    listen_port reads it from sockctl's -v line when the test has one;
#  - a port that must be closed is held, bound but never listening, by a
#    process of the test (closed_port), so nobody can open it meanwhile;
#  - a port a test must name itself (a source port, `listen -p PORT`) comes
#    from free_port, below the kernel's ephemeral range, so no bind(0) or
#    connect() anywhere is ever given it; only another explicit bind of the
#    same random port can collide.
#  - in a namespace of the test's own, fixed ports are fine: nobody else is
#    there.

# free_port [udp]: a port nobody uses on 127.0.0.1 right now, from
# 20000-32767 (below net.ipv4.ip_local_port_range); for ports a test must
# name itself only, see above.
free_port() {
	python3 - "${1:-tcp}" <<'PY'
import random, socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
for _ in range(200):
    p = random.randint(20000, 32767)
    s = socket.socket(socket.AF_INET, t)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    sys.exit("free_port: no free port in 200 tries")
PY
}

# pid_tree PID: PID and every process it started, one per line.
pid_tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
		END { q[1] = root; n = 1
			for (i = 1; i <= n; i++) {
				print q[i]; m = split(kids[q[i]], k, " ")
				for (j = 1; j <= m; j++) q[++n] = k[j]
			} }'
}

# bound_port PID [tcp|udp] [NS]: wait (10 s) until process PID, or one it
# started, holds a listening TCP socket (a bound UDP one with udp) in the
# host's namespace (in namespace NS, a short name, if given); print its port.
# Fails, saying why, if PID ends first or nothing shows up in time.
bound_port() {
	local pid=$1 proto=${2:-tcp} tries=200 flags=-Htlnp line pids
	[ "$proto" = udp ] && flags=-Hulnp
	local ss_cmd=(ss "$flags")
	[ -n "${3:-}" ] && ss_cmd=(ss -N "$(ns "$3")" "$flags")
	while :; do
		pids=$(pid_tree "$pid" | paste -sd'|')
		line=$("${ss_cmd[@]}" 2>/dev/null | grep -m1 -E "pid=($pids),") || true
		if [ -n "$line" ]; then
			# the first ADDR:PORT is the local end (ss may leave out State)
			line=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /:[0-9]+$/) { print $i; exit } }' <<<"$line")
			echo "${line##*:}"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "bound_port: process $pid ended before it held a $proto port" >&2
			return 1
		fi
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			echo "bound_port: process $pid holds no $proto port after 10 s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# listen_port FILE: wait (10 s) until FILE (sockctl's -v stderr) has its
# "listening on ..." or "bound ..." line; print the port.  Takes
# "HOST PORT", "HOST:PORT", "[HOST]:PORT" and JSON's "port":N; prints nothing
# for "unix:PATH".
listen_port() {
	local f=$1 tries=200 line rest w1 w2
	while :; do
		line=$(grep -m1 -E 'listening on |bound |"port":' "$f" 2>/dev/null) || true
		if [[ $line =~ (listening\ on|bound)\ unix: ]]; then
			return 0 # a unix socket: no port, nothing to print
		elif [[ $line =~ \"port\":([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		elif [[ $line =~ (listening\ on|bound)\ (.*) ]]; then
			rest=${BASH_REMATCH[2]}
			read -r w1 w2 _ <<<"$rest"
			if [[ $w2 =~ ^([0-9]+) ]] || [[ $w1 =~ :([0-9]+)$ ]]; then
				echo "${BASH_REMATCH[1]}"
				return 0
			fi
		fi
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			echo "listen_port: no port line in $f after 10 s: $(head -c 500 "$f" 2>/dev/null)" >&2
			return 1
		fi
		sleep 0.05
	done
}

# start_listen ERRFILE ARGS...: run listen -v in the background (stdin and
# stdout as the caller redirects them before calling), wait for it to be ready,
# set PORT from its first "listening on" line.
start_listen() {
	local err=$1
	shift
	# emptied here, not by the background job's own redirection, which may
	# come after we read it: a reused file still shows the last listener's port
	: >"$err"
	# not bg: a background job's stdin would be /dev/null, not the caller's
	"$SOCKCTL" listen -v "$@" 2>"$err" 0<&0 &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	PORT=$(listen_port "$err")
}

# closed_port [udp]: a port on 127.0.0.1 where nothing listens, for the
# whole test: a process of the test holds it bound (TCP: never listening, so
# a SYN gets a reset; UDP: connected to 127.0.0.1:9, so a datagram from
# anyone else gets ICMP port unreachable) and nobody else can bind it.
closed_port() {
	local f="$BATS_TEST_TMPDIR/.closed.$RANDOM"
	# shellcheck disable=SC2217 # bg is the helper above, not the job builtin
	bg python3 -c '
import socket, sys, time
udp = sys.argv[1] == "udp"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
if udp:
    s.connect(("127.0.0.1", 9))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(3600)' "${1:-tcp}" "$f" </dev/null >/dev/null 2>&1
	wait_for 10 test -s "$f" || { echo "closed_port: no port from python3" >&2; return 1; }
	cat "$f"
}

# tcp_listening PORT [NS]: something accepts TCP on PORT (per ss), in the
# host's namespace or in namespace NS (a short name).
tcp_listening() {
	ss ${2:+-N "$(ns "$2")"} -Htln "sport = :$1" | grep -q .
}

# udp_bound PORT [NS]: a UDP socket is bound to PORT, as tcp_listening.
udp_bound() {
	ss ${2:+-N "$(ns "$2")"} -Huln "sport = :$1" | grep -q .
}

# own_net CMD...: run CMD in a network namespace of its own with only lo, up.
# For tests that count every packet on loopback (raw ICMP sockets see all
# the ICMP of their namespace, so another suite's flood fills their queue).
own_net() {
	unshare -n sh -c 'ip link set lo up && exec "$@"' own_net "$@"
}

# unshare_no_dns CMD...: run CMD where no name lookup can leave the machine: in a
# network namespace of its own (only lo, up) and a mount namespace whose
# /etc/nsswitch.conf says "hosts: files".  A name missing from /etc/hosts
# then fails with EAI_NONAME at once, as an NXDOMAIN would, and no DNS
# query is even attempted.  Use it for every lookup that must fail.
unshare_no_dns() {
	local nss="$BATS_TEST_TMPDIR/.nsswitch.conf"
	sed -E 's/^hosts:.*/hosts: files/' /etc/nsswitch.conf >"$nss"
	grep -q '^hosts:' "$nss" || echo 'hosts: files' >>"$nss"
	unshare -n -m sh -c 'mount --bind "$1" /etc/nsswitch.conf && ip link set lo up && shift && exec "$@"' \
		unshare_no_dns "$nss" "$@"
}

# ---- network namespaces: isolated test hosts, never linked to the host ----
# ns_add NAME: create namespace "sk<pid>-NAME" with lo up; prints nothing,
# sets NS to the full name.  ns NAME: the full name of NAME.
ns() { echo "sk$$-$1"; }
ns_add() {
	NS=$(ns "$1")
	ip netns add "$NS" || return 1
	echo "$NS" >>"$BATS_TEST_TMPDIR/.netns"
	link_up "$NS" lo
}

# link_up FULL-NS DEV [FULL-NS2 DEV2]: bring DEV up inside namespace
# FULL-NS (a full name, as $NS or $(ns a)), and DEV2 in FULL-NS2 (the other
# end of a veth: carrier needs both ends up), then wait until each can
# really carry packets (link_wait).  DAD is switched off first, so the
# link-local addresses are usable at once too (the test addresses are added
# with nodad already).
link_up() {
	local i
	for i in 1 3; do
		[ -n "${!i:-}" ] || continue
		local n=${!i} j=$((i + 1))
		local dev=${!j}
		[ "$dev" = lo ] || ip netns exec "$n" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" >/dev/null 2>&1 || true
		ip -n "$n" link set "$dev" up || return 1
	done
	link_wait "$1" "$2" || return 1
	[ -z "${3:-}" ] || link_wait "$3" "$4"
}

# link_wait FULL-NS DEV [SECONDS]: wait (5 s by default) until DEV in FULL-NS
# is operstate UP with carrier (LOWER_UP), its qdisc is attached (not the
# "noop" qdisc that drops everything until the kernel's link watcher
# activates the device, up to about 1 s after carrier on newer kernels), and
# none of its IPv6 addresses is tentative (DAD still running) or failed DAD.
# On timeout, fails loudly naming the link and what it still lacks.
link_wait() {
	local n=$1 dev=$2 tries=$((${3:-5} * 20)) link qdisc addr6 why
	while :; do
		link=$(ip -n "$n" -o link show dev "$dev" 2>&1)
		qdisc=$(tc -n "$n" qdisc show dev "$dev" 2>&1)
		addr6=$(ip -n "$n" -6 -o addr show dev "$dev" 2>&1)
		why=
		if [ "$dev" = lo ]; then
			[[ $link == *"<"*UP*">"* ]] || why="not up: $link"
		else
			[[ $link == *" state UP "* ]] || why="operstate not UP: $link"
			[[ $link == *"<"*LOWER_UP*">"* ]] || why="${why:+$why; }no carrier: $link"
		fi
		[[ -n $qdisc && $qdisc != *"qdisc noop"* ]] || why="${why:+$why; }qdisc not active: ${qdisc:-none}"
		[[ $addr6 != *tentative* && $addr6 != *dadfailed* ]] ||
			why="${why:+$why; }IPv6 address tentative or DAD failed: $addr6"
		[ -n "$why" ] || return 0
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			echo "link_wait: link $dev in namespace $n not ready after ${3:-5} s: $why" >&2
			return 1
		fi
		sleep 0.05
	done
}

# ns_link A B ADDR_A/PLEN ADDR_B/PLEN [ADDR6_A/PLEN ADDR6_B/PLEN]: a veth
# pair between namespaces A and B (short names), addresses from
# 198.18.0.0/15 and 2001:db8::/32 only.
ns_link() {
	local a b va vb
	a=$(ns "$1") b=$(ns "$2")
	va="v$$$1" vb="v$$$2"
	va=${va:0:15} vb=${vb:0:15}
	ip link add "$va" netns "$a" type veth peer name "$vb" netns "$b" || return 1
	ip -n "$a" addr add "$3" dev "$va"
	ip -n "$b" addr add "$4" dev "$vb"
	if [ -n "${5:-}" ]; then
		ip -n "$a" addr add "$5" dev "$va" nodad
		ip -n "$b" addr add "$6" dev "$vb" nodad
	fi
	link_up "$a" "$va" "$b" "$vb"
}

# in_ns NAME CMD...: run CMD inside namespace NAME.
in_ns() {
	local n
	n=$(ns "$1")
	shift
	ip netns exec "$n" "$@"
}

common_teardown() {
	local p n
	if [ -f "$BATS_TEST_TMPDIR/.pids" ]; then
		while read -r p; do kill "$p" 2>/dev/null; done <"$BATS_TEST_TMPDIR/.pids"
		while read -r p; do
			wait_pid 5 "$p" 2>/dev/null || true
		done <"$BATS_TEST_TMPDIR/.pids"
		rm -f "$BATS_TEST_TMPDIR/.pids"
	fi
	if [ -f "$BATS_TEST_TMPDIR/.netns" ]; then
		while read -r n; do
			ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$n" 2>/dev/null
			rm -rf "/etc/netns/$n"
		done <"$BATS_TEST_TMPDIR/.netns"
		rm -f "$BATS_TEST_TMPDIR/.netns"
	fi
}

# Bad input: status 2, exactly one line on stderr naming $2, nothing on stdout.
# usage: assert_usage_error WHAT CMD...
assert_usage_error() {
	local what=$1 out err st
	shift
	out=$("$@" 2>"$BATS_TEST_TMPDIR/.err") && st=0 || st=$?
	err=$(cat "$BATS_TEST_TMPDIR/.err")
	if [ "$st" -ne 2 ]; then
		echo "status $st (want 2) for: $*" >&2
		echo "stderr: $err" >&2
		return 1
	fi
	if [ -n "$out" ]; then
		echo "stdout not empty for: $*: $out" >&2
		return 1
	fi
	if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || [[ $err != *"$what"* ]]; then
		echo "stderr should be one line naming '$what': $err" >&2
		return 1
	fi
}
