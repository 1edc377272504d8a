#!/usr/bin/env bash
# raw-icmp flood: packets per second against iputils ping -f, same target,
# same run.  Rows: ROW what ours peer theirs unit ratio target.
set -u
N=${ICMP_FLOOD_COUNT:-100000}
TARGET=127.0.0.1

# seconds CMD...: wall time of CMD (bounded), or nothing if it failed
seconds() {
	local t0 t1
	t0=$(date +%s%N)
	timeout 120 "$@" >/dev/null 2>&1 || return 1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) # microseconds
}

best() { # best of 3 runs: the machine is shared, take each side's best
	local us best=
	for _ in 1 2 3; do
		us=$(seconds "$@") || continue
		if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
	done
	echo "$best"
}

ours=$(best "$SOCKCTL" raw-icmp -f -c "$N" "$TARGET")
theirs=$(best ping -f -c "$N" "$TARGET")
[ -n "$ours" ] && [ -n "$theirs" ] || { echo "# raw-icmp flood: a run failed" >&2; exit 1; }
awk -v n="$N" -v a="$ours" -v b="$theirs" 'BEGIN {
	pa = n / (a / 1e6); pb = n / (b / 1e6)
	printf "ROW\traw-icmp -f -c %d 127.0.0.1\t%.0f\tping -f\t%.0f\tpackets/s\t%.2f\t>=1.0\n", n, pa, pb, pa / pb
}'
