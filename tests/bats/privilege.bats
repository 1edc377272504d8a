#!/usr/bin/env bats
# A privileged install (setuid-root, or cap_net_raw+p) run by user nobody:
# every command gives up everything at start, raw-icmp right after its
# sockets are open; nothing out of the user's own reach comes within it.
load helper
bats_require_minimum_version 1.5.0

# user nobody, as a login would start it: no groups, nothing inherited
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

# The two privileged installs, in a directory nobody can reach, on a
# filesystem that honours setuid bits and file capabilities.
setup() {
	PRIV_DIR=$(mktemp -d /tmp/sk-priv.XXXXXX)
	chmod 755 "$PRIV_DIR"
	if findmnt -no OPTIONS -T "$PRIV_DIR" | grep -qw nosuid; then
		skip "$PRIV_DIR is on a nosuid filesystem"
	fi
	cp "$SOCKCTL" "$PRIV_DIR/suid"
	chmod 4755 "$PRIV_DIR/suid"
	cp "$SOCKCTL" "$PRIV_DIR/fcap"
	chmod 755 "$PRIV_DIR/fcap"
	setcap cap_net_raw+p "$PRIV_DIR/fcap" || skip "setcap failed (no xattrs?)"
	[ "$(stat -c %A "$PRIV_DIR/suid")" = -rwsr-xr-x ]
}

teardown() {
	common_teardown
	rm -rf "$PRIV_DIR"
}

# holds_nothing PID INSTALL: ids all nobody's, every capability set empty
# (the bounding set too, where the install gave CAP_SETPCAP), no_new_privs.
holds_nothing() {
	local st
	st=$(cat "/proc/$1/status") || return 1
	grep -qE '^Uid:[[:space:]]65534[[:space:]]65534[[:space:]]65534[[:space:]]65534$' <<<"$st"
	grep -qE '^Gid:[[:space:]]65534[[:space:]]65534[[:space:]]65534[[:space:]]65534$' <<<"$st"
	grep -qE '^Groups:[[:space:]]*$' <<<"$st"
	for set in CapInh CapPrm CapEff CapAmb; do
		grep -q "^$set:[[:space:]]0000000000000000$" <<<"$st" || {
			echo "$2: $(grep "^$set:" <<<"$st")" >&2
			return 1
		}
	done
	if [ "$2" = suid ]; then
		grep -q '^CapBnd:[[:space:]]0000000000000000$' <<<"$st"
	fi
	grep -q '^NoNewPrivs:[[:space:]]1$' <<<"$st"
}

# check_running INSTALL READY_FILE READY_PATTERN CMD...: start CMD as nobody
# through INSTALL, wait until READY_PATTERN shows in READY_FILE (it is then
# blocked in its main wait), and check what it holds.
check_running() {
	local inst=$1 file=$2 pat=$3
	shift 3
	bg "${AS_NOBODY[@]}" "$PRIV_DIR/$inst" "$@" </dev/null >"$file.out" 2>"$file.err"
	wait_for 10 grep -q -- "$pat" "$file.out" "$file.err" || {
		cat "$file.err" >&2
		return 1
	}
	holds_nothing "$BG_PID" "$inst"
	kill "$BG_PID"
	wait_pid 10 "$BG_PID"
}

# waits_in_lookup INSTALL CMD...: in namespace r, whose name server never
# answers, start CMD as nobody; once its query is out, check what it holds.
waits_in_lookup() {
	local inst=$1
	shift
	# ip netns exec and setpriv both exec: BG_PID is sockctl itself
	bg ip netns exec "$(ns r)" "${AS_NOBODY[@]}" "$PRIV_DIR/$inst" "$@" >/dev/null 2>&1
	wait_for 10 bash -c "ip netns exec $(ns r) ss -Hun dst 127.0.0.1:53 | grep -q ."
	holds_nothing "$BG_PID" "$inst"
	kill "$BG_PID"
	wait_pid 10 "$BG_PID"
}

@test "setuid-root and cap_net_raw+p installs: listen, connect, udp-recv, udp-send run as nobody with nothing" {
	d=$BATS_TEST_TMPDIR
	# a listener that accepts and stays silent, and a UDP port that never answers
	bg python3 -c '
import socket, sys, time
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print(t.getsockname()[1], u.getsockname()[1], flush=True)
conns = []
t.settimeout(60)
while True:
    try:
        conns.append(t.accept()[0])
    except socket.timeout:
        break
' >"$d/ports"
	wait_for 10 grep -q . "$d/ports"
	read -r tport uport <"$d/ports"
	for inst in suid fcap; do
		check_running "$inst" "$d/l$inst" "listening on" listen -v 127.0.0.1 0
		check_running "$inst" "$d/c$inst" "connected\|Connected\|connect(" \
			connect -v 127.0.0.1 "$tport"
		check_running "$inst" "$d/r$inst" "bound\|listening\|receiving\|bind(" \
			udp-recv -v 127.0.0.1 0
		check_running "$inst" "$d/s$inst" "connected to" \
			udp-send -v -W 60 127.0.0.1 "$uport" hello
	done
}

@test "resolve as nobody through both installs: nothing held while the lookup waits" {
	ns_add r
	mkdir -p "/etc/netns/$(ns r)"
	printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"/etc/netns/$(ns r)/resolv.conf"
	# a name server that never answers: the lookup blocks in NSS
	bg in_ns r python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
print("up", flush=True)
time.sleep(60)
' >"$BATS_TEST_TMPDIR/dns"
	wait_for 10 grep -q up "$BATS_TEST_TMPDIR/dns"
	for inst in suid fcap; do
		waits_in_lookup "$inst" resolve host.invalid
	done
}

@test "raw-icmp as nobody: a raw socket through cap_net_raw+p, then nothing held; names resolved with nothing held" {
	d=$BATS_TEST_TMPDIR
	for inst in suid fcap; do
		check_running "$inst" "$d/i$inst" "icmp_seq=2" raw-icmp -v --mode raw -c 30 -i 0.2 127.0.0.1
		grep -q 'SOCK_RAW' "$d/i$inst.err"
	done
	# -I NAME after the drop: SO_BINDTODEVICE without CAP_NET_RAW
	run -0 --separate-stderr "${AS_NOBODY[@]}" "$PRIV_DIR/fcap" raw-icmp --mode raw -I lo -c 1 127.0.0.1
	[[ $output == *"1 packets transmitted, 1 received"* ]]
	# a name resolved while the DNS server stays silent: CAP_NET_RAW is gone by then
	ns_add r
	mkdir -p "/etc/netns/$(ns r)"
	printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"/etc/netns/$(ns r)/resolv.conf"
	bg in_ns r python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
print("up", flush=True)
time.sleep(60)
' >"$d/dns"
	wait_for 10 grep -q up "$d/dns"
	for inst in suid fcap; do
		waits_in_lookup "$inst" raw-icmp -c 1 host.invalid
	done
}

@test "through privileged installs, nobody reaches no root-only Unix socket, no port 80, no forced buffer" {
	d=$BATS_TEST_TMPDIR
	priv=$(mktemp -d /tmp/sk-root.XXXXXX)
	echo "$priv" >>"$d/.rootdirs"
	chmod 700 "$priv"
	bg python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
print("up", flush=True)
s.settimeout(30)
try:
    c, _ = s.accept(); c.sendall(b"root-only\n"); c.close()
except socket.timeout:
    pass
' "$priv/sock" >"$d/up"
	wait_for 10 grep -q up "$d/up"
	for inst in suid fcap; do
		run -1 --separate-stderr "${AS_NOBODY[@]}" "$PRIV_DIR/$inst" connect -U "$priv/sock"
		[[ $stderr == *"permission denied"* ]]
		[[ $output != *root-only* ]]
		run -1 --separate-stderr "${AS_NOBODY[@]}" "$PRIV_DIR/$inst" listen -U "$priv/new.sock" </dev/null
		[[ $stderr == *"permission denied"* ]]
		[ ! -e "$priv/new.sock" ]
		run -1 --separate-stderr timeout 10 "${AS_NOBODY[@]}" "$PRIV_DIR/$inst" listen 127.0.0.1 80 </dev/null
		[[ $stderr == *"permission denied"* ]]
		# SO_RCVBUFFORCE is refused: the buffer stays within net.core.rmem_max
		bg "${AS_NOBODY[@]}" "$PRIV_DIR/$inst" udp-recv -v --rcvbuf 1000M 127.0.0.1 0 \
			>/dev/null 2>"$d/rb.err"
		wait_for 10 grep -q granted "$d/rb.err"
		port=$(sed -n 's/.*bound 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$d/rb.err")
		rb=$(ss -Huamn "sport = :$port" | grep -o 'rb[0-9]*' | tr -d rb)
		[ -n "$rb" ] && [ "$rb" -le $((2 * $(cat /proc/sys/net/core/rmem_max))) ]
		kill "$BG_PID"
		wait_pid 10 "$BG_PID"
	done
	rm -rf "$priv"
}

@test "raw-icmp as nobody: other ICMP types, codes, flooding and fast intervals are refused (status 2)" {
	for inst in suid fcap; do
		b=$PRIV_DIR/$inst
		assert_usage_error "--type" "${AS_NOBODY[@]}" "$b" raw-icmp --mode raw --type 134 -c 1 127.0.0.1
		assert_usage_error "--type" "${AS_NOBODY[@]}" "$b" raw-icmp --type 134 -c 1 ::1
		assert_usage_error "--type" "${AS_NOBODY[@]}" "$b" raw-icmp --mode raw --type 5 -c 1 127.0.0.1
		assert_usage_error "--code" "${AS_NOBODY[@]}" "$b" raw-icmp --code 1 -c 1 127.0.0.1
		assert_usage_error "--flood" "${AS_NOBODY[@]}" "$b" raw-icmp -f -c 1 127.0.0.1
		assert_usage_error "--interval" "${AS_NOBODY[@]}" "$b" raw-icmp -i 0.001 -c 1 127.0.0.1
		assert_usage_error "--preload" "${AS_NOBODY[@]}" "$b" raw-icmp -l 4 -c 1 127.0.0.1
		# what users may do still works: echo, timestamp, 2ms, preload 3
		run -0 --separate-stderr "${AS_NOBODY[@]}" "$b" raw-icmp -i 0.002 -l 3 -c 3 127.0.0.1
		run -0 --separate-stderr "${AS_NOBODY[@]}" "$b" raw-icmp --type timestamp -c 1 127.0.0.1
	done
	# numeric types are IPv4 only, for everyone: ICMPv6 sends echo requests only
	assert_usage_error "IPv4 only" "$SOCKCTL" raw-icmp --mode raw --type 134 -c 1 ::1
	# root may still flood and send other types
	run -0 --separate-stderr "$SOCKCTL" raw-icmp -f -c 50 127.0.0.1
}

@test "the datagram socket is preferred where ping_group_range allows it, and -v says which" {
	ns_add a
	in_ns a sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	run -0 --separate-stderr in_ns a "${AS_NOBODY[@]}" "$PRIV_DIR/fcap" raw-icmp -v -c 1 127.0.0.1
	[[ $stderr == *"SOCK_DGRAM"*"unprivileged ICMP datagram sockets are allowed"* ]]
	in_ns a sysctl -qw net.ipv4.ping_group_range="1 0"
	run -0 --separate-stderr in_ns a "${AS_NOBODY[@]}" "$PRIV_DIR/fcap" raw-icmp -v -c 1 127.0.0.1
	[[ $stderr == *"SOCK_RAW"*"ping_group_range"* ]]
	[[ $stderr == *"capabilities dropped before options were read"* ]]
}
