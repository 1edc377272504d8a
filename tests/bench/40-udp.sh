#!/usr/bin/env bash
# Datagram flood on loopback: 1,000,000 64-byte datagrams, sockctl udp-send ->
# udp-recv against iperf3 -u -l 64 -b 0, same run.  Figure: datagrams/s
# received.  udp-recv runs with -q --stats (counting, no per-datagram output)
# and --rcvbuf 8M; iperf3 gets the same 8M socket buffer (-w 8M) in the fair
# row.  sockctl uses its defaults: UDP GSO in udp-send (trains of 64 datagrams
# per message, each a datagram on the wire) and UDP GRO in udp-recv (split back
# and counted one by one); -v output tells which paths were really taken.
set -u
N=${UDP_BENCH_COUNT:-1000000}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket(2,2);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# sockctl
p=$(port)
"$SOCKCTL" udp-recv -4 -v -q --json --stats --until-end -w 30 --rcvbuf 8M 127.0.0.1 "$p" \
	>"$tmp/recv" 2>"$tmp/recv.err" &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do ss -Huln "sport = :$p" | grep -q . && break; sleep 0.05; done
"$SOCKCTL" udp-send -v -q --json -c "$N" --size 64 --rate 0 127.0.0.1 "$p" >"$tmp/send" \
	2>"$tmp/send.err"
wait "$rpid"
sent=$(jq -r .sent "$tmp/send")
read -r got lost pps < <(jq -r '"\(.received) \(.lost) \(.rate_pps)"' "$tmp/recv")
if [ $((sent - got)) -ne "$lost" ]; then
	echo "# loss accounting is wrong: sent $sent, received $got, reported lost $lost" >&2
	exit 1
fi
echo "# sockctl: sent $sent, received $got, lost $lost (exact: sent - received = lost)" >&2
# the paths taken, as the commands report them (a fallback shows here)
sendpath=$(grep -o 'UDP_SEGMENT: [0-9]* datagrams in [0-9]* GSO messages.*' "$tmp/send.err" ||
	echo "sendmmsg, no GSO")
recvpath=$(grep -o 'UDP_GRO: [0-9]* datagrams arrived in [0-9]* coalesced reads.*' "$tmp/recv.err" ||
	echo "recvmmsg, no GRO")
echo "# udp-send: $sendpath" >&2
echo "# udp-recv -q --stats (counting, nothing printed per datagram): $recvpath" >&2
mode="udp-send GSO, udp-recv GRO -q --stats (counts, no output)"
grep -q 'UDP_SEGMENT:' "$tmp/send.err" || mode="udp-send sendmmsg (no GSO), udp-recv -q --stats"
grep -q 'UDP_GRO:' "$tmp/recv.err" || mode="$mode, no GRO"

# iperf3, same count and datagram size: as the issue names it (default socket
# buffers), and again with the 8M buffer udp-recv gets, for a like-for-like row
iperf() { # iperf3 [EXTRA...]: prints "received/s lost"
	local p
	p=$(port)
	iperf3 -s -1 -p "$p" -B 127.0.0.1 >/dev/null 2>&1 &
	pids+=("$!")
	for _ in $(seq 100); do ss -Htln "sport = :$p" | grep -q . && break; sleep 0.05; done
	timeout 120 iperf3 -c 127.0.0.1 -p "$p" -u -l 64 -b 0 -k "$N" -J "$@" >"$tmp/iperf" 2>/dev/null
	jq -r '.end.sum | "\((.packets - .lost_packets) / .seconds) \(.lost_packets)"' "$tmp/iperf"
}
row() { # row WHAT PEER PEER_PPS TARGET
	local ratio
	ratio=$(awk -v a="$pps" -v b="$3" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	printf 'ROW\t%s\t%.0f\t%s\t%.0f\t%s\t%s\t%s\n' "$1" "$pps" "$2" "$3" "datagrams/s" \
		"$ratio" "$4"
}
read -r ipps ilost < <(iperf)
echo "# iperf3 -u -l 64 -b 0: lost $ilost of $N" >&2
row "udp flood 1M x 64 B, received/s; $mode; sockctl lost $lost of $sent, exact" \
	"iperf3 -u -l 64 -b 0" "$ipps" ">=3.0"
read -r ipps ilost < <(iperf -w 8M)
echo "# iperf3 -u -l 64 -b 0 -w 8M: lost $ilost of $N" >&2
row "udp flood 1M x 64 B, received/s, same 8M buffers; $mode" "iperf3 -u -l 64 -b 0 -w 8M" \
	"$ipps" ">=1.0"
