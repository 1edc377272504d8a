#!/usr/bin/env bash
# connect through a proxy: bulk through microsocks, sockctl vs nc -X 5 -x.  Rows:
# ROW what ours peer theirs unit ratio target   (see tests/bench/run)
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}

command -v microsocks >/dev/null || { echo "# 25-proxy: no microsocks (deps.sh)" >&2; exit 0; }
. "$(dirname "$0")/common.bash"
bench_scratch # $TMP, and the servers in PIDS: both gone at exit

SIZE=$((1024 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TMP/1g"

MPORT=$(free_port)
microsocks -i 127.0.0.1 -p "$MPORT" >/dev/null 2>&1 &
PIDS+=("$!")
wait_listen "$MPORT" || { echo "# 25-proxy: microsocks did not start" >&2; exit 1; }

# MB/s for 1 GiB from a file through CLIENT (PORT: the sink's) via microsocks
# into sockctl listen >/dev/null; the sink must have got every byte.
bulk() {
	local port t0 t1 spid got
	port=$(free_port)
	# -d: no EOF toward the proxy (microsocks ends both directions at the first EOF)
	"$SOCKCTL" listen -d 127.0.0.1 "$port" | wc -c >"$TMP/got" &
	spid=$!
	PIDS+=("$spid")
	wait_listen "$port" || return 1
	t0=$(now)
	eval "timeout 120 ${1//PORT/$port}" <"$TMP/1g" >/dev/null
	wait "$spid"
	t1=$(now)
	got=$(cat "$TMP/got")
	[ "$got" = "$SIZE" ] || { echo "# 25-proxy: the sink got $got of $SIZE bytes" >&2; echo 0; return; }
	awk -v s="$SIZE" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", s / (ns / 1e9) / 1e6 }'
}

# alternate the two, best of 3 each, so both see the same machine load
ours=0 nc=0
for _ in 1 2 3; do
	v=$(bulk "$SOCKCTL connect --proxy socks5://127.0.0.1:$MPORT 127.0.0.1 PORT")
	[ "${v:-0}" -gt "$ours" ] && ours=$v
	v=$(bulk "nc.openbsd -N -X 5 -x 127.0.0.1:$MPORT 127.0.0.1 PORT")
	[ "${v:-0}" -gt "$nc" ] && nc=$v
done
row "bulk 1 GiB connect --proxy socks5 through microsocks" "$ours" "nc.openbsd -X 5 -x (same proxy)" "$nc" "MB/s" ">=1.0"
