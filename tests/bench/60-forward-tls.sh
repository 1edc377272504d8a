#!/usr/bin/env bash
# listen --tls --forward: TLS termination, what stunnel does.  Rows:
# ROW what ours peer theirs unit ratio target   (see tests/bench/run)
#  - 1 GiB from a TLS client (sockctl connect --tls, the same for every
#    forwarder) through the terminator to `sockctl listen >/dev/null`, against
#    socat OPENSSL-LISTEN,fork TCP: and stunnel4 (when installed).
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}
SIZE=${FORWARD_BYTES:-1073741824}

. "$(dirname "$0")/common.bash"
bench_scratch # $TMP, and the servers in PIDS: both gone at exit
# a loopback address of our own (the machine is shared)
LO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
free_port() { python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$LO"; }

# one certificate for every terminator (P-256, as listen's ephemeral one)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj "/CN=$LO" -addext "subjectAltName=IP:$LO" \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || { echo "no certificate" >&2; exit 1; }


# send PORT: MiB/s of SIZE bytes sent over TLS to $LO:PORT until the far end is done
send() {
	local t0 t1
	t0=$(now)
	head -c "$SIZE" /dev/zero | timeout 300 "$SOCKCTL" connect --tls --ca "$TMP/cert.pem" \
		$LO "$1" >/dev/null || return 1
	t1=$(now)
	awk -v b="$SIZE" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }'
}

best() { printf '%s\n' "$@" | sort -n | tail -n1; }

# terminator KIND: start it in front of a new sink; sets FWD (its port)
terminator() {
	sink
	case $1 in
	sockctl)
		"$SOCKCTL" listen -k -v --tls --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
			--forward "$LO:$SINK" $LO 0 </dev/null 2>"$TMP/f.err" &
		PIDS+=($!)
		wait_line "$TMP/f.err" "listening on"
		FWD=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/f.err" | head -n1)
		;;
	socat)
		FWD=$(free_port)
		socat "OPENSSL-LISTEN:$FWD,bind=$LO,fork,reuseaddr,cert=$TMP/cert.pem,key=$TMP/key.pem,verify=0" \
			"TCP:$LO:$SINK" &
		PIDS+=($!)
		;;
	stunnel)
		FWD=$(free_port)
		printf 'foreground = yes\npid =\n[fwd]\naccept = %s:%s\nconnect = %s:%s\ncert = %s\nkey = %s\n' \
			"$LO" "$FWD" "$LO" "$SINK" "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/stunnel.conf"
		stunnel4 "$TMP/stunnel.conf" 2>/dev/null &
		PIDS+=($!)
		;;
	esac
	wait_listen "$FWD"
}

# rate KIND: best MiB/s of two runs
rate() {
	local r1 r2
	terminator "$1"; r1=$(send "$FWD"); kill "${PIDS[-1]}"
	terminator "$1"; r2=$(send "$FWD"); kill "${PIDS[-1]}"
	best "${r1:-0}" "${r2:-0}"
}

gib=$(awk -v b="$SIZE" 'BEGIN { printf "%g", b / 1073741824 }')
ours=$(rate sockctl)
socat_r=$(rate socat)
echo "# TLS termination $SIZE bytes: sockctl $ours, socat $socat_r MiB/s" >&2
row "TLS termination ${gib} GiB: listen -k --tls --forward vs socat OPENSSL-LISTEN,fork TCP:" \
	"$ours" "socat" "$socat_r" "MiB/s" ">=2"
if command -v stunnel4 >/dev/null; then
	stunnel_r=$(rate stunnel)
	echo "# TLS termination $SIZE bytes: stunnel4 $stunnel_r MiB/s" >&2
	row "TLS termination ${gib} GiB: listen -k --tls --forward vs stunnel4" \
		"$ours" "stunnel4" "$stunnel_r" "MiB/s" ">=1"
fi
