#!/usr/bin/env bash
# Startup and lookup cost: `sockctl resolve localhost` against
# `getent ahosts localhost`, wall time (median of many runs, no shell in
# between) and peak RSS (median over runs).  localhost comes from
# /etc/hosts, so no DNS query is sent.
set -eu
: "${SOCKCTL:?}"
RUNS=${RUNS:-400}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hyperfine -N --style none --warmup 30 --runs "$RUNS" \
	--export-json "$tmp/h.json" \
	"$SOCKCTL resolve localhost" "getent ahosts localhost" >/dev/null 2>&1
read -r ours theirs < <(python3 - "$tmp/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print("%.1f %.1f" % (r[0]["median"] * 1e6, r[1]["median"] * 1e6))
PY
)

rss() { # median peak RSS in KiB over 21 runs
	for _ in $(seq 21); do
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n 11p
}
rss_ours=$(rss "$SOCKCTL" resolve localhost)
rss_theirs=$(rss getent ahosts localhost)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'ROW\tresolve localhost: wall time (median of %s)\t%s\tgetent ahosts localhost\t%s\tus\t%s\t<=1.0\n' \
	"$RUNS" "$ours" "$theirs" "$(ratio "$ours" "$theirs")"
printf 'ROW\tresolve localhost: peak RSS (median)\t%s\tgetent ahosts localhost\t%s\tKiB\t%s\t<=1.0\n' \
	"$rss_ours" "$rss_theirs" "$(ratio "$rss_ours" "$rss_theirs")"
