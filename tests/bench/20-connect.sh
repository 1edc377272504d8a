#!/usr/bin/env bash
# connect benchmarks: bulk throughput, port checks, startup.  Rows:
# ROW what ours peer theirs unit ratio target   (see tests/bench/run)
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}
TMP=$(mktemp -d)
PIDS=()
NSS=()
cleanup() {
	local p n
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

. "$(dirname "$0")/common.bash"

SIZE=$((1024 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TMP/1g"

# bulk: seconds for 1 GiB from a file through CLIENT into SERVER > /dev/null
bulk() { # bulk "server cmd with PORT" "client cmd with PORT"
	local port t0 t1 spid
	port=$(free_port)
	eval "${1//PORT/$port}" </dev/null >/dev/null &
	spid=$!
	PIDS+=("$spid")
	wait_listen "$port" || return 1
	t0=$(now)
	eval "timeout 120 ${2//PORT/$port}" <"$TMP/1g" >/dev/null
	wait "$spid"
	t1=$(now)
	awk -v s="$SIZE" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", s / (ns / 1e9) / 1e6 }'
}

best() { # best N CMD...: the highest of N runs
	local n=$1 b=0 v i
	shift
	for ((i = 0; i < n; i++)); do
		v=$("$@")
		[ "${v:-0}" -gt "$b" ] && b=$v
	done
	echo "$b"
}

if "$SOCKCTL" listen --help >/dev/null 2>&1; then
	SINK="$SOCKCTL listen 127.0.0.1 PORT"
	SINKNAME="sockctl listen"
else
	SINK="nc.openbsd -l 127.0.0.1 PORT"
	SINKNAME="nc.openbsd -l"
fi
ours=$(best 3 bulk "$SINK" "$SOCKCTL connect 127.0.0.1 PORT")
nc=$(best 3 bulk "nc.openbsd -l 127.0.0.1 PORT" "nc.openbsd -N 127.0.0.1 PORT")
row "bulk 1 GiB connect -> $SINKNAME >/dev/null" "$ours" "nc.openbsd -> nc.openbsd -l" "$nc" "MB/s" ">=2.0"

# the same through a pipe into cat: no /dev/null shortcut on the sink side
ours_p=$(best 3 bulk "timeout 120 $SINK | cat" "$SOCKCTL connect 127.0.0.1 PORT")
nc_p=$(best 3 bulk "timeout 120 nc.openbsd -l 127.0.0.1 PORT | cat" "nc.openbsd -N 127.0.0.1 PORT")
row "bulk 1 GiB connect -> $SINKNAME | cat" "$ours_p" "nc.openbsd -> nc.openbsd -l | cat" "$nc_p" "MB/s" ">=1.0"

iperf() {
	local port out
	port=$(free_port)
	iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
	PIDS+=("$!")
	wait_listen "$port" || return 1
	out=$(timeout 120 iperf3 -c 127.0.0.1 -p "$port" -n 1G -J 2>/dev/null)
	jq -r '.end.sum_received.bits_per_second / 8 / 1e6 | floor' <<<"$out"
}
ip3=$(best 3 iperf)
row "bulk 1 GiB connect vs iperf3 single stream" "$ours" "iperf3 -n 1G" "$ip3" "MB/s" ">=0.9"

# port checks on loopback: every TCP port; median of 5 runs each,
# alternating so both see the same machine load
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
scan_ours=() scan_nmap=()
for _ in 1 2 3 4 5; do
	t0=$(now)
	"$SOCKCTL" connect -z 127.0.0.1 1-65535 >/dev/null 2>&1
	t1=$(now)
	scan_ours+=("$(secs $((t1 - t0)))")
	t0=$(now)
	timeout 300 nmap -sT -p- -n -Pn 127.0.0.1 >/dev/null 2>&1
	t1=$(now)
	scan_nmap+=("$(secs $((t1 - t0)))")
done
ours=$(printf '%s\n' "${scan_ours[@]}" | median)
theirs=$(printf '%s\n' "${scan_nmap[@]}" | median)
row "connect -z 127.0.0.1 1-65535 (median of 5)" "$ours" "nmap -sT -p- 127.0.0.1" "$theirs" "s" "<=1.0"

# a host that drops every packet: 1-1024 with -w 1, against the 5 s budget
a="skbench$$a" b="skbench$$b"
if ip netns add "$a" 2>/dev/null && ip netns add "$b" 2>/dev/null; then
	NSS+=("$a" "$b")
	ip link add "vb$$a" netns "$a" type veth peer name "vb$$b" netns "$b"
	ip -n "$a" addr add 198.18.0.1/24 dev "vb$$a"
	ip -n "$b" addr add 198.18.0.2/24 dev "vb$$b"
	ip -n "$a" link set "vb$$a" up
	ip -n "$b" link set "vb$$b" up
	ip -n "$a" link set lo up
	ip netns exec "$b" nft -f - <<-'NFT'
		table inet t {
			chain in { type filter hook input priority 0; policy drop; }
		}
	NFT
	t0=$(now)
	ip netns exec "$a" timeout 60 "$SOCKCTL" connect -z -w 1 198.18.0.2 1-1024 >/dev/null 2>&1
	t1=$(now)
	ours=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }')
	row "connect -z -w 1 dropping host 1-1024" "$ours" "budget" "5" "s" "<=1.0"
fi

# startup: a closed port, many times over; hyperfine runs one command after
# the other, so run it in both orders and keep each side's best median
startup() {
	# -i: a closed port is status 1 for both, by design
	hyperfine -N -i --style none --warmup 20 --runs 300 --export-json "$1" \
		"$2" "$3" >/dev/null 2>&1
}
hj=$(mktemp)
startup "$hj" "$SOCKCTL connect -z 127.0.0.1 9" "nc.openbsd -z 127.0.0.1 9"
read -r ours theirs < <(jq -r '.results | map(.median * 1e3) | "\(.[0]) \(.[1])"' "$hj")
startup "$hj" "nc.openbsd -z 127.0.0.1 9" "$SOCKCTL connect -z 127.0.0.1 9"
read -r theirs2 ours2 < <(jq -r '.results | map(.median * 1e3) | "\(.[0]) \(.[1])"' "$hj")
rm -f "$hj"
ours=$(awk -v a="$ours" -v b="$ours2" 'BEGIN { printf "%.3f", a < b ? a : b }')
theirs=$(awk -v a="$theirs" -v b="$theirs2" 'BEGIN { printf "%.3f", a < b ? a : b }')
row "startup: connect -z 127.0.0.1 9 (closed), median" "$ours" "nc.openbsd -z 127.0.0.1 9" "$theirs" "ms" "<=1.0"
