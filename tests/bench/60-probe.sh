#!/usr/bin/env bash
# Probing benchmarks (issue 12).  Rows: ROW what ours peer theirs unit ratio target.
#  - many targets: a /24 where 4 hosts answer and 250 are silent, in
#    namespaces, raw-icmp -c 1 -W 500ms against fping -c 1 -t 500 -g (wall time);
#  - TCP ping: 1000 probes at --interval 0 against a local listener that
#    accepts and closes (tests/bench/accept_sink), in probes per second.
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}
BENCH_DIR=${BENCH_DIR:-build/rel/tests/bench}
A=skb$$-a B=skb$$-b
SINK=
cleanup() {
	[ -n "$SINK" ] && kill "$SINK" 2>/dev/null && wait "$SINK" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
}
trap cleanup EXIT

# ms CMD...: wall time of CMD in milliseconds (bounded)
ms() {
	local t0 t1
	t0=$(date +%s%N)
	timeout 60 "$@" >/dev/null 2>&1
	[ $? -le 1 ] || return 1 # 1: some hosts silent, as expected
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# ---- a /24 with 4 answering hosts: A is 198.18.1.1, B holds .2-.4 ----
ip netns add "$A" && ip netns add "$B" || exit 1
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip link add "vb$$a" netns "$A" type veth peer name "vb$$b" netns "$B" || exit 1
ip -n "$A" addr add 198.18.1.1/24 dev "vb$$a"
for h in 2 3 4; do ip -n "$B" addr add "198.18.1.$h/24" dev "vb$$b"; done
ip -n "$A" link set "vb$$a" up
ip -n "$B" link set "vb$$b" up
for _ in $(seq 100); do
	ip netns exec "$A" ping -c 1 -W 0.1 198.18.1.2 >/dev/null 2>&1 && break
done
ours='' theirs=''
for _ in 1 2 3; do # alternating, best of 3 each: the machine is shared
	o=$(ms ip netns exec "$A" "$SOCKCTL" raw-icmp -q -c 1 -W 500ms 198.18.1.0/24) || continue
	t=$(ms ip netns exec "$A" fping -q -c 1 -t 500 -g 198.18.1.0/24) || continue
	if [ -z "$ours" ] || [ "$o" -lt "$ours" ]; then ours=$o; fi
	if [ -z "$theirs" ] || [ "$t" -lt "$theirs" ]; then theirs=$t; fi
done
[ -n "$ours" ] && [ -n "$theirs" ] || { echo "# many targets: a run failed" >&2; exit 1; }
awk -v a="$ours" -v b="$theirs" 'BEGIN {
	printf "ROW\traw-icmp -c 1 -W 500ms 198.18.1.0/24 (4 answer)\t%d\tfping -c 1 -t 500 -g\t%d\tms\t%.2f\t<=1.0\n", a, b, a / b
}'

# ---- TCP ping: 1000 probes, back to back ----
"$BENCH_DIR/accept_sink" >"/tmp/skb$$.port" &
SINK=$!
for _ in $(seq 100); do [ -s "/tmp/skb$$.port" ] && break; sleep 0.05; done
port=$(cat "/tmp/skb$$.port")
rm -f "/tmp/skb$$.port"
best=0
for _ in 1 2 3 4 5; do
	# to a file, not a pipe: a reader woken by every line would share the cores
	timeout 60 "$SOCKCTL" connect --count 1000 --interval 0 --json 127.0.0.1 "$port" \
		>"/tmp/skb$$.json"
	v=$(jq -r 'select(.event == "summary") |
		if .open == 1000 then 1000 / (.time_ms / 1000) | floor else 0 end' "/tmp/skb$$.json")
	rm -f "/tmp/skb$$.json"
	[ "${v:-0}" -gt "$best" ] && best=$v
done
awk -v a="$best" 'BEGIN {
	printf "ROW\tconnect --count 1000 --interval 0 127.0.0.1 (TCP ping)\t%d\tthe issue'"'"'s floor\t30000\tprobes/s\t%.2f\t>=1.0\n", a, a / 30000
}'
