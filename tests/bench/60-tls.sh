#!/usr/bin/env bash
# TLS benchmarks (issue 10): bulk 1 GiB connect --tls -> listen --tls against
# socat OPENSSL and ncat --ssl, and against `openssl speed` (one core, the
# practical ceiling); handshake + close against openssl s_client and ncat.
# Rows: ROW what ours peer theirs unit ratio target   (see tests/bench/run)
set -u
SOCKCTL=${SOCKCTL:-$PWD/sockctl}

. "$(dirname "$0")/common.bash"
bench_scratch # $TMP, and the servers in PIDS: both gone at exit

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
	2>/dev/null || exit 1
C=$TMP/cert.pem K=$TMP/key.pem

SIZE=$((1024 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TMP/1g"

bulk() { # bulk "server cmd with PORT" "client cmd with PORT": MB/s for 1 GiB
	local port t0 t1 spid
	port=$(free_port)
	eval "${1//PORT/$port}" </dev/null >/dev/null 2>&1 &
	spid=$!
	PIDS+=("$spid")
	wait_listen "$port" || return 1
	t0=$(now)
	eval "timeout 120 ${2//PORT/$port}" <"$TMP/1g" >/dev/null 2>&1
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

ours=$(best 3 bulk "$SOCKCTL listen --tls --cert $C --key $K 127.0.0.1 PORT" \
	"$SOCKCTL connect --tls --ca $C localhost PORT")
socat=$(best 3 bulk "socat -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,cert=$C,key=$K,verify=0 STDOUT" \
	"socat -u STDIN OPENSSL:localhost:PORT,cafile=$C")
ncat=$(best 3 bulk "ncat --ssl --ssl-cert $C --ssl-key $K -l 127.0.0.1 PORT --recv-only" \
	"ncat --ssl --ssl-verify --ssl-trustfile $C --send-only localhost PORT")
row "TLS bulk 1 GiB connect --tls -> listen --tls" "$ours" "socat OPENSSL: -> OPENSSL-LISTEN" "$socat" "MB/s" ">=2.0"
row "TLS bulk 1 GiB connect --tls -> listen --tls" "$ours" "ncat --ssl -> ncat --ssl -l" "$ncat" "MB/s" ">=1.5"
# openssl speed: the k column is 1000 bytes/s; one process, one core
speed=$(openssl speed -elapsed -seconds 3 -bytes 16384 -evp aes-128-gcm 2>/dev/null |
	awk '/^(AES-128-GCM|aes-128-gcm)/ { v = $NF; sub(/k$/, "", v); printf "%.0f", v / 1000 }')
row "TLS bulk 1 GiB connect --tls -> listen --tls" "$ours" "openssl speed -evp aes-128-gcm 16 KiB" "${speed:-0}" "MB/s" ">=0.7"

# handshake + close against one openssl s_server (as many clients as come)
port=$(free_port)
openssl s_server -accept "127.0.0.1:$port" -cert "$C" -key "$K" -quiet </dev/null >/dev/null 2>&1 &
PIDS+=("$!")
wait_listen "$port" || exit 1
hf() { # hf CMD: mean wall time in ms over 100 runs
	hyperfine -N -w 5 -r 100 --export-json "$TMP/hf.json" "$1" >/dev/null 2>&1 &&
		python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["results"][0]["mean"] * 1e3))' "$TMP/hf.json"
}
ours=$(hf "$SOCKCTL connect -z --tls --ca $C localhost $port")
sc=$(hf "sh -c 'openssl s_client -connect localhost:$port -CAfile $C </dev/null'")
nc=$(hf "sh -c 'ncat --ssl --ssl-verify --ssl-trustfile $C localhost $port </dev/null'")
row "TLS handshake + close (connect -z --tls)" "$ours" "openssl s_client </dev/null" "$sc" "ms" "<=0.5"
row "TLS handshake + close (connect -z --tls)" "$ours" "ncat --ssl </dev/null" "$nc" "ms" "<=1.0"
