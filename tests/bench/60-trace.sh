#!/usr/bin/env bash
# --trace against traceroute -n -q 3 and tracepath -n: wall time of one whole
# trace in a chain A - R1 - R2 - R3 - B of namespaces (linked only to each
# other), every command run inside A (no `ip netns exec` in the figures), the
# median of many runs of each, same chain, same run.
# Rows: ROW what ours peer theirs unit ratio target.
set -u
RUNS=${TRACE_BENCH_RUNS:-200}
P="sktb$$"
DST=198.18.4.2
SOCKCTL=${SOCKCTL:-$PWD/sockctl}

cleanup() {
	local n
	for n in a r1 r2 r3 b; do ip netns del "$P$n" 2>/dev/null; done
}
trap cleanup EXIT

build() {
	local n k l r
	local nodes=(a r1 r2 r3 b)
	for n in "${nodes[@]}"; do
		ip netns add "$P$n" || return 1
		ip -n "$P$n" link set lo up
		ip netns exec "$P$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 \
			net.ipv4.icmp_ratemask=0 >/dev/null
	done
	for k in 1 2 3 4; do
		l=${nodes[$((k - 1))]} r=${nodes[$k]}
		ip link add "${P}l$k" netns "$P$l" type veth peer name "${P}r$k" netns "$P$r" || return 1
		ip -n "$P$l" addr add "198.18.$k.1/24" dev "${P}l$k"
		ip -n "$P$r" addr add "198.18.$k.2/24" dev "${P}r$k"
		ip -n "$P$l" link set "${P}l$k" up
		ip -n "$P$r" link set "${P}r$k" up
	done
	ip -n "${P}a" route add default via 198.18.1.2
	ip -n "${P}b" route add default via 198.18.4.1
	ip -n "${P}r1" route add 198.18.3.0/24 via 198.18.2.2
	ip -n "${P}r1" route add 198.18.4.0/24 via 198.18.2.2
	ip -n "${P}r2" route add 198.18.4.0/24 via 198.18.3.2
	ip -n "${P}r2" route add 198.18.1.0/24 via 198.18.2.1
	ip -n "${P}r3" route add 198.18.1.0/24 via 198.18.3.1
	ip -n "${P}r3" route add 198.18.2.0/24 via 198.18.3.1
	# links up, qdiscs attached, neighbours known: B answers (bounded wait)
	for k in $(seq 100); do
		ip netns exec "${P}a" ping -c 1 -W 1 "$DST" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

build || { echo "# trace bench: the chain did not come up" >&2; exit 1; }
# every run must see B (a trace that did not reach it is no figure)
ip netns exec "${P}a" "$SOCKCTL" udp-send --trace "$DST" >/dev/null || { echo "# trace bench: sockctl did not reach B" >&2; exit 1; }
json=$(mktemp)
trap 'rm -f "$json"; cleanup' EXIT
ip netns exec "${P}a" hyperfine -N -w 10 -r "$RUNS" --export-json "$json" \
	"$SOCKCTL udp-send --trace $DST" "traceroute -n -q 3 $DST" "tracepath -n $DST" \
	"$SOCKCTL raw-icmp --trace $DST" "traceroute -I -n -q 3 $DST" \
	"$SOCKCTL connect --trace $DST 80" "traceroute -T -p 80 -n -q 3 $DST" /bin/true \
	>/dev/null 2>&1 || { echo "# trace bench: hyperfine failed" >&2; exit 1; }
read -r udp tr tp icmp tri tcp trt floor < <(jq -r '[.results[].median * 1000] | map(tostring) | join(" ")' "$json")
# every figure includes starting a process: what that alone takes here
printf "# trace bench: /bin/true takes %.2f ms (median) in the same run\n" "$floor" >&2
awk -v a="$udp" -v b="$tr" -v c="$tp" -v i="$icmp" -v ti="$tri" -v t="$tcp" -v tt="$trt" 'BEGIN {
	w = "4-hop chain, 3 queries"
	printf "ROW\tudp-send --trace, %s\t%.2f\ttraceroute -n -q 3\t%.2f\tms\t%.2f\t<=0.5\n", w, a, b, a / b
	printf "ROW\tudp-send --trace, %s\t%.2f\ttracepath -n\t%.2f\tms\t%.2f\t<=0.2\n", w, a, c, a / c
	printf "ROW\traw-icmp --trace, %s\t%.2f\ttraceroute -I -n -q 3\t%.2f\tms\t%.2f\t<=0.5\n", w, i, ti, i / ti
	printf "ROW\tconnect --trace, %s\t%.2f\ttraceroute -T -n -q 3\t%.2f\tms\t%.2f\t<=0.5\n", w, t, tt, t / tt
}'
