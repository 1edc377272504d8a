# Shared by the bats files that talk TLS: `load tls_helper` after `load helper`.

PEER="$BATS_TEST_DIRNAME/tls_peer.py"

# tls_key FILE: a new P-256 key.
tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# tls_leaf NAME CN SAN DAYS: NAME.key and NAME.pem signed by ca.pem/ca.key
# (in the current directory).
tls_leaf() {
	tls_key "$1.key"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out "$1.pem" -days "$4" -extfile "$1.ext" 2>/dev/null
}

# py_peer MODE ARGS...: tls_peer.py serving one client; port in $PORT.
py_peer() {
	local mode=$1 ready="$BATS_TEST_TMPDIR/ready.$RANDOM"
	shift
	bg python3 "$PEER" "$mode" "$ready" "$@"
	PEER_PID=$BG_PID
	wait_for 10 test -s "$ready" || return 1
	PORT=$(cat "$ready")
}
