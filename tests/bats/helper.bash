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

# free_port [udp]: a port nobody uses on loopback right now.
free_port() {
	python3 - "${1:-tcp}" <<'PY'
import socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# tcp_listening PORT: something accepts TCP on 127.0.0.1:PORT (per ss).
tcp_listening() {
	ss -Htln "sport = :$1" | grep -q .
}

udp_bound() {
	ss -Huln "sport = :$1" | grep -q .
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

# link_up FULL-NS DEV: bring DEV up inside namespace FULL-NS (a full name,
# as $NS or $(ns a)) and wait until it can really carry packets (link_wait).
# DAD is switched off on DEV first, so its link-local address is usable at
# once too (the test addresses are added with nodad already).
link_up() {
	[ "$2" = lo ] || ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.accept_dad=0" 2>/dev/null || true
	ip -n "$1" link set "$2" up || return 1
	link_wait "$1" "$2"
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
	link_up "$a" "$va" && link_up "$b" "$vb"
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
