#!/bin/bash
# tests/man-example-run.sh ACTION FIXTURE COMMAND: run one man-page example
# (a line of tests/man-examples.txt) the way a reader would, on loopback:
# in a network and mount namespace of its own (root), so its fixed ports and
# /run/app.sock collide with nothing and no packet leaves.  There, lo carries
# 127.0.0.1, ::1, 198.18.0.2 and 198.18.1.2; eth0 (a veth pair) has 198.18.5.1/24;
# /etc/hosts names host, example.org, www.example.org and tutorialspoint.com
# as 127.0.0.1; the working directory has file.bin, request, query.bin,
# hosts.txt (three addresses on lo) and dir/.  FIXTURE "peers" (the default)
# first starts the peers the examples talk to: TCP echo servers on 127.0.0.1
# 19200, 9000, 80, 22 and [::1]:8080,
# UDP echo on 127.0.0.1 19200, 9000, 53, and /run/app.sock (a stream
# socket; FIXTURE "seqpacket": a seqpacket one); "none" starts nothing.
# ACTION "exit N": COMMAND must end with status N within 30 s; "serve": it
# must still be running after 1 s (a server, or a ping without -c);
# "report": "hello\n" on its stdin, 3 s at most: prints its status (124:
# still running) and a digest of its stdout.
# Prints "ok" or "FAIL: why".  Every process it starts is killed by PID.
set -u
if [ "${1:-}" != --inner ]; then
	exec unshare -mn --propagation private "$0" --inner "$@"
fi
shift
action=$1 fixture=$2 cmd=$3
SOCKCTL=${SOCKCTL:?}
T=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -- "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
ip link set lo up
ip addr add 198.18.0.2/32 dev lo
ip addr add 198.18.1.2/32 dev lo
ip link add eth0 type veth peer name eth0peer
ip link set eth0peer up
ip link set eth0 up
ip addr add 198.18.5.1/24 dev eth0
echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range
mount -t tmpfs tmpfs /run
printf '127.0.0.1 localhost host example.org www.example.org tutorialspoint.com\n::1 localhost\n' >"$T/hosts"
mount --bind "$T/hosts" /etc/hosts
mkdir -p "$T/work/dir" "$T/bin"
ln -s "$SOCKCTL" "$T/bin/sockctl"
export PATH=$T/bin:$PATH
cd "$T/work" || exit 1
head -c 100000 /dev/urandom >file.bin
printf 'GET / HTTP/1.0\r\n\r\n' >request
printf 'query' >query.bin
echo data >dir/file
printf '127.0.0.1\n198.18.0.2\n198.18.1.2\n' >hosts.txt

serve() { # serve CMD...: a fixture in the background
	"$@" </dev/null >/dev/null 2>&1 &
	pids+=($!)
}
if [ "$fixture" != none ]; then
	for p in 19200 9000 80 22; do serve sockctl listen -k --echo 127.0.0.1 "$p"; done
	serve sockctl listen -k --echo ::1 8080
	for p in 19200 9000 53; do serve sockctl udp-recv --echo 127.0.0.1 "$p"; done
	if [ "$fixture" = seqpacket ]; then
		serve sockctl listen -k --echo -U --type seqpacket /run/app.sock
	else
		serve sockctl listen -k --echo -U /run/app.sock
	fi
	for i in $(seq 100); do
		ss -Htln | grep -q ':8080 ' && ss -Htln | grep -q '127.0.0.1:22 ' &&
			[ "$(ss -Huln | wc -l)" -ge 3 ] && [ -S /run/app.sock ] && break
		[ "$i" = 100 ] && { echo "FAIL: the fixtures did not start"; exit 0; }
		sleep 0.05
	done
fi

case $action in
serve)
	setsid sh -c "$cmd
wait" </dev/null >out 2>err &
	pid=$!
	pids+=("-$pid")
	sleep 1
	if kill -0 "$pid" 2>/dev/null; then
		echo ok
	else
		wait "$pid"
		echo "FAIL: ended with status $? within 1 s: $(head -c 300 err)"
	fi
	;;
exit*)
	want=${action#exit }
	timeout 30 sh -c "$cmd" </dev/null >out 2>err
	st=$?
	if [ "$st" = "$want" ]; then
		echo ok
	else
		echo "FAIL: status $st, not $want: $(head -c 300 err)"
	fi
	;;
report)
	# for tests/bats/coming-from.bats: the same input to both tools of a pair
	printf 'hello\n' | timeout 3 sh -c "$cmd" >out 2>err
	echo "status=$? out=$(md5sum <out | cut -c1-12) bytes=$(wc -c <out)"
	;;
*) echo "FAIL: unknown action $action" ;;
esac
