#!/usr/bin/env bash
# listen --forward and --exec benchmarks.  Rows:
# ROW what ours peer theirs unit ratio target   (see tests/bench/run)
#  - 1 GiB through a forwarder (client -> forwarder -> `sockctl listen >/dev/null`)
#    against socat TCP-LISTEN,fork, ncat -l -k --sh-exec 'ncat ...' and no forwarder;
#  - VmHWM of listen -k --forward holding 1000 idle forwarded connections;
#  - connections/s of 200 short clients of listen -k --exec /bin/cat vs ncat -k -e.
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}
BENCH_DIR=${BENCH_DIR:-build/rel/tests/bench}
SIZE=${FORWARD_BYTES:-1073741824}

. "$(dirname "$0")/common.bash"
bench_scratch # $TMP, and the servers in PIDS: both gone at exit
# a port nobody listens on now, for the peers that cannot report port 0 (bench only)
free_port() { python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$LO"; }
# a loopback address of our own: a stranger's port scan of 127.0.0.1 (the
# machine is shared) must not become a one-client sink's client
LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))


# send PORT: MiB/s of SIZE bytes sent to $LO:PORT until the far end is done
send() {
	local t0 t1
	t0=$(now)
	head -c "$SIZE" /dev/zero | timeout 300 "$SOCKCTL" connect $LO "$1" >/dev/null || return 1
	t1=$(now)
	awk -v b="$SIZE" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }'
}

best() { printf '%s\n' "$@" | sort -n | tail -n1; }

# forwarder KIND: start it in front of a new sink; sets FWD (its port)
forwarder() {
	sink
	case $1 in
	sockctl)
		"$SOCKCTL" listen -k -v --forward "$LO:$SINK" $LO 0 </dev/null 2>"$TMP/f.err" &
		PIDS+=($!)
		wait_line "$TMP/f.err" "listening on"
		FWD=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/f.err" | head -n1)
		;;
	socat)
		FWD=$(free_port)
		socat "TCP-LISTEN:$FWD,bind=$LO,fork,reuseaddr" "TCP:$LO:$SINK" &
		PIDS+=($!)
		;;
	ncat)
		FWD=$(free_port)
		ncat -l -k $LO "$FWD" --sh-exec "ncat $LO $SINK" &
		PIDS+=($!)
		;;
	esac
	for _ in $(seq 100); do ss -Htln "sport = :$FWD" | grep -q . && break; sleep 0.05; done
}

# rate KIND: best MiB/s of two runs
rate() {
	local r1 r2
	if [ "$1" = direct ]; then
		sink; r1=$(send "$SINK")
		sink; r2=$(send "$SINK")
	else
		forwarder "$1"; r1=$(send "$FWD"); kill "${PIDS[-1]}"
		forwarder "$1"; r2=$(send "$FWD"); kill "${PIDS[-1]}"
	fi
	best "${r1:-0}" "${r2:-0}"
}

ours=$(rate sockctl)
socat_r=$(rate socat)
ncat_r=$(rate ncat)
direct=$(rate direct)
echo "# forward $SIZE bytes: sockctl $ours, socat $socat_r, ncat $ncat_r, direct $direct MiB/s" >&2
gib=$(awk -v b="$SIZE" 'BEGIN { printf "%g", b / 1073741824 }')
row "forward ${gib} GiB: listen -k --forward vs socat TCP-LISTEN,fork" "$ours" "socat" "$socat_r" "MiB/s" ">=2"
row "forward ${gib} GiB: listen -k --forward vs ncat -l -k --sh-exec 'ncat'" "$ours" "ncat" "$ncat_r" "MiB/s" ">=3"
row "forward ${gib} GiB: listen -k --forward vs a direct connection" "$ours" "direct" "$direct" "MiB/s" ">=0.8"

# memory: 1000 idle forwarded connections (the target: listen -k, which holds them)
"$SOCKCTL" listen -k -v $LO 0 </dev/null >/dev/null 2>"$TMP/t.err" &
PIDS+=($!)
wait_line "$TMP/t.err" "listening on"
tport=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/t.err" | head -n1)
"$SOCKCTL" listen -k -v --forward "$LO:$tport" $LO 0 </dev/null 2>"$TMP/m.err" &
mpid=$!
PIDS+=("$mpid")
wait_line "$TMP/m.err" "listening on"
mport=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/m.err" | head -n1)
timeout 60 "$BENCH_DIR/echo_load" --hold $LO "$mport" 1000 10 >"$TMP/hold" &
PIDS+=($!)
wait_line "$TMP/hold" "^held 1000" || { echo "could not hold 1000 forwarded clients" >&2; exit 1; }
for _ in $(seq 200); do
	[ "$(grep -c 'connection from' "$TMP/t.err")" -ge 1000 ] && break
	sleep 0.05
done
sleep 0.5
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$mpid/status")
echo "# listen -k --forward with 1000 idle forwarded connections: VmHWM ${hwm} KiB" >&2
row "memory: 1000 idle forwarded connections (VmHWM vs the 32 MiB budget)" \
	"$(awk -v k="$hwm" 'BEGIN { printf "%.2f", k / 1024 }')" "budget" "32" "MiB" "<=1.0"

# --exec: 200 short clients, one after the other, each answered by /bin/cat
short_clients() {
	timeout 120 python3 - "$1" "$LO" <<'PY'
import socket, sys, time
host, port = sys.argv[2], int(sys.argv[1])
n = 200
t0 = time.monotonic()
for i in range(n):
    s = socket.create_connection((host, port))
    msg = b"client %d\n" % i
    s.sendall(msg)
    # no shutdown first: ncat -e closes at the client's EOF before cat answers
    got = b""
    while len(got) < len(msg):
        x = s.recv(4096)
        if not x:
            break
        got += x
    s.close()
    assert got == msg, (i, got)
print("%.0f" % (n / (time.monotonic() - t0)))
PY
}
"$SOCKCTL" listen -k -v -e /bin/cat $LO 0 </dev/null 2>"$TMP/e.err" &
PIDS+=($!)
wait_line "$TMP/e.err" "listening on"
eport=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/e.err" | head -n1)
e1=$(short_clients "$eport"); e2=$(short_clients "$eport")
kill "${PIDS[-1]}"
nport=$(free_port)
ncat -l -k $LO "$nport" -e /bin/cat &
PIDS+=($!)
for _ in $(seq 100); do ss -Htln "sport = :$nport" | grep -q . && break; sleep 0.05; done
n1=$(short_clients "$nport"); n2=$(short_clients "$nport")
kill "${PIDS[-1]}"
echo "# --exec 200 short clients: sockctl $e1 $e2, ncat $n1 $n2 conn/s" >&2
row "exec: 200 short clients of listen -k -e /bin/cat vs ncat -l -k -e /bin/cat" \
	"$(best "${e1:-0}" "${e2:-0}")" "ncat" "$(best "${n1:-0}" "${n2:-0}")" "conn/s" ">=1"
