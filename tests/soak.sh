#!/usr/bin/env bash
# Soak (issue 13): long runs of the servers and the pinger, with the sandbox
# on, that must not grow.  `make soak`; CI runs it (.ci/run).
#   SOAK_SECONDS=600 (default; shorter for a local try, at least 30: the
#   reference is then the first third instead of the first minute)
# Runs at once:
#  - echo:  listen -k --echo on 127.0.0.1, a client churning 200 connections
#           a second (each sends 1-4 KiB, reads the echo back, closes);
#  - icmp:  raw-icmp -i 0.01 against a host in a network namespace;
#  - forward: listen -k --forward to a python3 sink, 50 concurrent bulk
#           streams (each a loop of 256 KiB connections at 1 MiB/s), every
#           connection's sha256 and count checked by the sink's answer.
# Every 5 s the RSS and fd count of each sockctl are sampled.  Fails unless,
# after the first minute, every sample's RSS (and raw-icmp's fd count) is
# within 5% of the first minute's highest, each server holds as many fds
# once its clients are gone as before they came, nothing was lost or wrong (byte counts and sha256 of all bytes
# sent and echoed), no client failed, and every sockctl said nothing on
# stderr and ended as it should.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
SOCKCTL=${SOCKCTL:-$PWD/sockctl}
SECS=${SOAK_SECONDS:-600}
[ "$SECS" -ge 30 ] 2>/dev/null || { echo "soak: SOAK_SECONDS must be at least 30" >&2; exit 2; }
BASE=$((SECS < 180 ? SECS / 3 : 60)) # the first minute: the reference
TMP=$(mktemp -d)
NSA="soak$$-a" NSB="soak$$-b"
PIDS=()
fail=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
bad() { echo "soak: FAIL: $*"; fail=1; }

# port_of PID: the TCP port PID listens on (10 s at most)
port_of() {
	local line
	for _ in $(seq 200); do
		line=$(ss -Htlnp | grep -m1 "pid=$1,") &&
			{ awk '{ for (i = 1; i <= NF; i++) if ($i ~ /:[0-9]+$/) { sub(/.*:/, "", $i); print $i; exit } }' <<<"$line"; return 0; }
		sleep 0.05
	done
	return 1
}

# sample NAME PID: one line "SECONDS RSS_KIB FDS" in $TMP/NAME.samples
sample() {
	local rss fds
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$2/status" 2>/dev/null) || return 0
	fds=$(ls "/proc/$2/fd" 2>/dev/null | wc -l)
	echo "$((SECONDS - T0)) $rss $fds" >>"$TMP/$1.samples"
}

# check_growth NAME [KIB] [busy]: every sample after BASE within 5% of the
# highest before (plus KIB of RSS known to be touched bit by bit, see
# below).  busy: a server under a churn of clients, whose fd count at a
# sample is its clients in flight at that instant (7 or 47 for the same
# load): its samples' fds are shown, not compared; idle_fds checks it.
check_growth() {
	awk -v base="$BASE" -v name="$1" -v allow="${2:-0}" -v busy="${3:-}" '
		$1 < base { if ($2 > r) r = $2; if ($3 > f) f = $3; next }
		{ n++; if ($2 > rr) rr = $2; if ($3 > ff) ff = $3 }
		END {
			printf "soak: %s: first minute RSS %d KiB, %d fds; after: RSS <= %d KiB, fds <= %d (%d samples)\n", name, r, f, rr, ff, n
			if (!n || !r) { print "soak: " name ": no samples"; exit 1 }
			if (allow) printf "soak: %s: %d KiB allowed on top (a table filled as it goes)\n", name, allow
			if (rr > r * 1.05 + allow) { print "soak: " name ": RSS grew more than 5%"; exit 1 }
			if (!busy && ff > f * 1.05) { print "soak: " name ": fd count grew more than 5%"; exit 1 }
		}' "$TMP/$1.samples" || bad "$1 grew"
}

# idle_fds NAME PID: the fd count of a server with no client, 10 s at most
# for the last ones to close; "NAME.idle" holds the first one, and a later
# one must equal it (a leaked descriptor stays after its client is gone)
idle_fds() {
	local n _
	for _ in $(seq 100); do
		n=$(find "/proc/$2/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		[ -s "$TMP/$1.idle" ] && [ "$n" -eq "$(cat "$TMP/$1.idle")" ] && break
		[ -s "$TMP/$1.idle" ] || break
		sleep 0.1
	done
	if [ ! -s "$TMP/$1.idle" ]; then
		echo "$n" >"$TMP/$1.idle"
		return 0
	fi
	echo "soak: $1: $(cat "$TMP/$1.idle") fds before the load, $n after it"
	[ "$n" -eq "$(cat "$TMP/$1.idle")" ] || bad "$1 holds $n fds once idle, $(cat "$TMP/$1.idle") before"
}

# ---- echo: listen -k --echo and a churn of 200 connections a second ----
"$SOCKCTL" listen -k --echo 127.0.0.1 0 </dev/null >"$TMP/echo.out" 2>"$TMP/echo.err" &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
ECHO_PORT=$(port_of "$ECHO_PID") || { echo "soak: listen did not listen"; exit 1; }
idle_fds echo "$ECHO_PID"

# the churn: paced at 200 connections a second; prints one line of totals
python3 - "$ECHO_PORT" "$SECS" >"$TMP/churn.out" 2>"$TMP/churn.err" <<'EOF' &
import hashlib, os, socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
rate, n, errors = 200, 0, 0
sent_h, got_h = hashlib.sha256(), hashlib.sha256()
sent = got = 0
t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    due = t0 + n / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    n += 1
    data = os.urandom(1024 + (n * 7919) % 3072)
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        back = b""
        while len(back) < len(data):
            d = c.recv(65536)
            if not d:
                break
            back += d
        c.close()
    except OSError as e:
        errors += 1
        print("connection %d: %s" % (n, e), file=sys.stderr)
        continue
    sent += len(data); got += len(back)
    sent_h.update(data); got_h.update(back)
    if back != data:
        errors += 1
        print("connection %d: %d bytes sent, %d echoed, different" % (n, len(data), len(back)),
              file=sys.stderr)
print(n, errors, sent, got, sent_h.hexdigest(), got_h.hexdigest(),
      "%.1f" % (n / (time.monotonic() - t0)))
EOF
CHURN_PID=$!
PIDS+=("$CHURN_PID")

# ---- icmp: raw-icmp -i 0.01 against a namespace host ----
ip netns add "$NSA" && ip netns add "$NSB" || { echo "soak: no network namespaces"; exit 1; }
ip link add "vs$$a" netns "$NSA" type veth peer name "vs$$b" netns "$NSB"
ip -n "$NSA" addr add 198.18.14.1/24 dev "vs$$a"
ip -n "$NSB" addr add 198.18.14.2/24 dev "vs$$b"
ip -n "$NSA" link set lo up; ip -n "$NSB" link set lo up
ip -n "$NSA" link set "vs$$a" up; ip -n "$NSB" link set "vs$$b" up
for _ in $(seq 100); do # carrier and an active qdisc (tests/bats/helper.bash: link_wait)
	ip -n "$NSA" -o link show "vs$$a" | grep -q LOWER_UP &&
		! tc -n "$NSA" qdisc show dev "vs$$a" | grep -q noop && break
	sleep 0.05
done
ip netns exec "$NSA" "$SOCKCTL" raw-icmp -q -i 0.01 -W 1 -w "$SECS" 198.18.14.2 \
	>"$TMP/icmp.out" 2>"$TMP/icmp.err" &
ICMP_PID=$!
PIDS+=("$ICMP_PID")

# ---- forward: listen -k --forward with 50 concurrent bulk streams ----
# A python3 sink hashes each connection's bytes and answers with their
# sha256 and count; 50 streams, each a loop of connections through the
# forwarder that send 256 KiB (paced to 1 MiB/s a stream), half-close and
# check the sink's answer.  Prints one line of totals.
python3 - "$TMP/sink.port" >"$TMP/sink.out" 2>"$TMP/sink.err" <<'EOF' &
import hashlib, os, socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        h, n = hashlib.sha256(), 0
        while True:
            d = self.request.recv(262144)
            if not d:
                break
            h.update(d)
            n += len(d)
        self.request.sendall(("%s %d\n" % (h.hexdigest(), n)).encode())
class S(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
s = S(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
EOF
SINK_PID=$!
PIDS+=("$SINK_PID")
for _ in $(seq 200); do [ -s "$TMP/sink.port" ] && break; sleep 0.05; done
SINK_PORT=$(cat "$TMP/sink.port" 2>/dev/null) || { echo "soak: the sink did not listen"; exit 1; }
"$SOCKCTL" listen -k --forward "127.0.0.1:$SINK_PORT" 127.0.0.1 0 </dev/null \
	>"$TMP/forward.out" 2>"$TMP/forward.err" &
FWD_PID=$!
PIDS+=("$FWD_PID")
FWD_PORT=$(port_of "$FWD_PID") || { echo "soak: listen --forward did not listen"; exit 1; }
idle_fds forward "$FWD_PID"
python3 - "$FWD_PORT" "$SECS" >"$TMP/streams.out" 2>"$TMP/streams.err" <<'EOF' &
import hashlib, socket, sys, threading, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
STREAMS, SIZE, RATE = 50, 262144, 1 << 20
lock = threading.Lock()
tot = {"conns": 0, "bytes": 0, "errors": 0}
all_h = hashlib.sha256()
def stream(k):
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < secs:
        i += 1
        data = hashlib.sha256(b"%d-%d" % (k, i)).digest() * (SIZE // 32)
        want = "%s %d" % (hashlib.sha256(data).hexdigest(), len(data))
        start = time.monotonic()
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=30)
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            back = b""
            while True:
                d = c.recv(4096)
                if not d:
                    break
                back += d
            c.close()
            ok = back.decode().strip() == want
            if not ok:
                print("stream %d/%d: sink said %r, want %r" % (k, i, back[:80], want),
                      file=sys.stderr)
        except OSError as e:
            ok = False
            print("stream %d/%d: %s" % (k, i, e), file=sys.stderr)
        with lock:
            tot["conns"] += 1
            if ok:
                tot["bytes"] += len(data)
                all_h.update(data)
            else:
                tot["errors"] += 1
        pause = SIZE / RATE - (time.monotonic() - start)
        if pause > 0:
            time.sleep(pause)
ts = [threading.Thread(target=stream, args=(k,)) for k in range(STREAMS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(tot["conns"], tot["errors"], tot["bytes"], all_h.hexdigest())
EOF
STREAMS_PID=$!
PIDS+=("$STREAMS_PID")

# ---- sample until the end ----
T0=$SECONDS
while [ $((SECONDS - T0)) -lt "$SECS" ] && kill -0 "$CHURN_PID" 2>/dev/null; do
	sample echo "$ECHO_PID"
	sample icmp "$ICMP_PID"
	sample forward "$FWD_PID"
	sleep 5
done

# ---- the end: everything ended as it should, nothing lost ----
wait "$CHURN_PID" || bad "the churn client ended with status $?"
ST=0
wait "$ICMP_PID" || ST=$?
[ "$ST" -eq 0 ] || bad "raw-icmp status $ST: $(cat "$TMP/icmp.err")"
kill -0 "$ECHO_PID" 2>/dev/null || bad "listen -k --echo died"
idle_fds echo "$ECHO_PID"
kill "$ECHO_PID"
wait "$ECHO_PID" 2>/dev/null
read -r n errors sent got hs hg rate <"$TMP/churn.out" || bad "no totals from the churn client"
echo "soak: echo: $n connections ($rate/s), $sent bytes sent, $got echoed, sha256 $hs"
[ "${errors:-1}" -eq 0 ] || bad "$errors failed connections: $(head -5 "$TMP/churn.err")"
[ "${sent:-0}" -gt 0 ] && [ "$sent" = "$got" ] || bad "sent $sent bytes, $got echoed"
[ "${hs:-x}" = "${hg:-y}" ] || bad "sha256 of what was sent and what came back differ"
awk -v r="${rate:-0}" 'BEGIN { exit !(r >= 180) }' || bad "churn only $rate connections/s (want 200)"
[ ! -s "$TMP/echo.err" ] || bad "listen said: $(head -5 "$TMP/echo.err")"
[ ! -s "$TMP/icmp.err" ] || bad "raw-icmp said: $(head -5 "$TMP/icmp.err")"
stats=$(grep 'packets transmitted' "$TMP/icmp.out")
echo "soak: icmp: $stats"
tx=$(awk '{ print $1 }' <<<"$stats") rx=$(awk '{ print $4 }' <<<"$stats")
[ -n "$tx" ] && [ "$tx" -gt 0 ] && [ "$tx" = "$rx" ] || bad "raw-icmp: $tx sent, $rx replies"
wait "$STREAMS_PID" || bad "the forward streams ended with status $?"
kill -0 "$FWD_PID" 2>/dev/null || bad "listen -k --forward died"
idle_fds forward "$FWD_PID"
kill "$FWD_PID"
wait "$FWD_PID" 2>/dev/null
read -r fconns ferrors fbytes fhash <"$TMP/streams.out" || bad "no totals from the streams"
echo "soak: forward: $fconns connections on 50 streams, $fbytes bytes checked by sha256 at the sink, $ferrors failed (sha256 of all: $fhash)"
[ "${ferrors:-1}" -eq 0 ] || bad "$ferrors failed forwarded connections: $(head -5 "$TMP/streams.err")"
[ "${fbytes:-0}" -gt 0 ] || bad "nothing went through --forward"
[ ! -s "$TMP/forward.err" ] || bad "listen --forward said: $(head -5 "$TMP/forward.err")"
check_growth echo 0 busy
check_growth forward 0 busy
# raw-icmp without -c holds a slot per sequence number (lib/ping: 65536 x
# 24 bytes), calloc()ed, so its pages are touched one by one as the
# sequence advances: RSS climbs about 1.4 MiB over the first 655 s at
# -i 0.01, then stays.  That is bounded, not a leak: allowed here, and
# anything beyond it still fails.  Drop the allowance once lib/ping touches
# (or shrinks) the table up front.
check_growth icmp 1536
if [ "$fail" -eq 0 ]; then
	echo "soak: ok (${SECS}s)"
fi
exit "$fail"
