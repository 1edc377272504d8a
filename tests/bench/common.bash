# Helpers of the bench scripts (sourced): times, ports, rows of the table.
# shellcheck shell=bash
now() { date +%s%N; }
free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
listening() { ss -Htln "sport = :$1" | grep -q .; }
wait_listen() {
	local i
	for i in $(seq 200); do listening "$1" && return 0; sleep 0.05; done
	return 1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# row WHAT OURS PEER PEER_FIGURE UNIT TARGET: one line of the table, the ratio computed
row() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(ratio "$2" "$4")" "$6"; }
# wait_line FILE REGEX: up to 10 s for a line matching REGEX
wait_line() {
	local i
	for i in $(seq 200); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}

# bench_scratch: a scratch directory in $TMP, and an array PIDS for the
# servers a script starts; at exit the servers are killed and waited for and
# the directory removed.
bench_scratch() {
	TMP=$(mktemp -d)
	PIDS=()
	trap bench_cleanup EXIT
}
bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}

# sink: a one-client `sockctl listen >/dev/null` on $LO; its port in SINK,
# its PID in PIDS (bench_scratch's)
sink() {
	"$SOCKCTL" listen -v "$LO" 0 </dev/null >/dev/null 2>"$TMP/sink.err" &
	PIDS+=($!)
	wait_line "$TMP/sink.err" "listening on" || { echo "sink did not start" >&2; exit 1; }
	SINK=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/sink.err" | head -n1)
}
