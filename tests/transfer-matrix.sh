#!/usr/bin/env bash
# The file-transfer matrix of issue 9: sender x receiver x stdin kind x size,
# each transfer checked by sha256 and by BOTH exit statuses.  Prints one
# markdown table row per cell on stdout and exits 1 if any cell failed.
#
#   tests/transfer-matrix.sh [--header] [GROUP...]   GROUP: main big slow
#                                     peers-recv peers-send (default: all)
#   tests/transfer-matrix.sh cell sc sl cat idle 65536   one cell (tools: sc sl
#                                     nc ncl soc socl; see cell())
#   make transfer-matrix                    the same, with the table header
#
# Loopback only (127.0.0.1).  Every process runs under timeout(1); the
# listening side of sockctl uses port 0 and reports it with -v.
#
# Tools and their flags, as a user would run them for a one-way transfer:
#   sockctl connect / listen   no flags at all (the point of issue 9 §1);
#                              a receiving `sockctl connect` from `nc -l`
#                              gets -d when its stdin is /dev/null or closed:
#                              nc -l quits as soon as its peer sends EOF,
#                              whatever its flags (-N, -q), see below
#   nc.openbsd sender          -N (shut down writing at stdin EOF, else the
#                              receiver never sees EOF)
#   nc.openbsd receiver        -d as a client (never read stdin; without it nc
#                              waits for its stdin's EOF after the data), none
#                              with -l (nc -l ends when the network input ends)
#   socat                      -u (one way: - to TCP, or TCP to -)
# nc.openbsd 1.219 with -l ends when its network input ends even while its
# stdin still has data ("listen and net in gone" in readwrite()); -q does
# not change that.  So sockctl connect receiving from nc -l sends no EOF (-d).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
S=${SOCKCTL:-$ROOT/sockctl}
T=$(mktemp -d "${TMPDIR:-/tmp}/transfer.XXXXXX")
FAILED=0
SLOW_PAUSE=${SLOW_PAUSE:-2}
# shellcheck disable=SC2064
trap "rm -rf '$T'" EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pty CMD...: run CMD with stdin on a fresh pseudo-terminal nobody types on.
PTYWRAP='import os, pty, subprocess, sys
m, s = pty.openpty()
r = subprocess.call(sys.argv[1:], stdin=s)
os.close(s)
sys.exit(r if r >= 0 else 128 - r)'

wait_until() { # SECONDS CMD...: bounded retry every 50 ms
	local n=$(($1 * 20))
	shift
	until "$@" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}

size_of() { stat -c %s "$1" 2>/dev/null || echo -1; }
has_bytes() { [ "$(size_of "$1")" -ge "$2" ]; }
listening() { ss -Htln "sport = :$1" | grep -q .; }

human() {
	case $1 in
	268435456) echo 256MiB ;; 20971520) echo 20MiB ;; 65536) echo 64KiB ;; *) echo "${1}B" ;;
	esac
}

# data SIZE: $T/data.SIZE and its sha256 (once); tar: the archive's.
data() {
	local f=$T/data.$1
	if [ ! -f "$f" ]; then
		head -c "$1" /dev/urandom >"$f"
		sha256sum <"$f" | cut -d' ' -f1 >"$f.sha"
		tar cf - -C "$T" "data.$1" | sha256sum | cut -d' ' -f1 >"$f.tarsha"
		tar cf - -C "$T" "data.$1" | wc -c >"$f.tarsize"
	fi
}

# The command line of TOOL in ROLE (send|recv) at port P.
tool_cmd() {
	local tool=$1 role=$2 p=$3 extra=$4
	case $tool:$role in
	sc:*) echo "$S connect $extra 127.0.0.1 $p" ;;
	sl:*) echo "$S listen -v 127.0.0.1 0" ;;
	ncl:send) echo "nc.openbsd -N -l 127.0.0.1 $p" ;;
	ncl:recv) echo "nc.openbsd -l 127.0.0.1 $p" ;;
	nc:send) echo "nc.openbsd -N 127.0.0.1 $p" ;;
	nc:recv) echo "nc.openbsd -d 127.0.0.1 $p" ;;
	socl:send) echo "socat -u - TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr" ;;
	socl:recv) echo "socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr -" ;;
	soc:send) echo "socat -u - TCP:127.0.0.1:$p" ;;
	soc:recv) echo "socat -u TCP:127.0.0.1:$p -" ;;
	esac
}

is_listener() { case $1 in sl | ncl | socl) return 0 ;; esac; return 1; }

name() {
	case $1 in
	sc) echo "sockctl connect" ;; sl) echo "sockctl listen" ;; ncl) echo "nc -l" ;;
	nc) echo nc ;; socl) echo "socat listen" ;; soc) echo socat ;;
	esac
}

# start_side ROLE TOOL KIND CMD: run CMD in the background with the stdin
# KIND asks for; its status goes to $T/st.ROLE, stderr to $T/err.ROLE.
start_side() {
	local role=$1 kind=$2 cmd=$3 lim=$4 out=/dev/null
	[ "$role" = recv ] && out=$T/copy
	local run="timeout $lim $cmd"
	rm -f "$T/st.$role"
	case $kind in
	cat) (cat "$DATA" | $run >"$out" 2>"$T/err.$role"; echo $? >"$T/st.$role") & ;;
	file) ($run <"$DATA" >"$out" 2>"$T/err.$role"; echo $? >"$T/st.$role") & ;;
	tar) (tar cf - -C "$T" "$(basename "$DATA")" | $run >"$out" 2>"$T/err.$role"
		echo $? >"$T/st.$role") & ;;
	slow) (
		half=$(($(size_of "$DATA") / 2))
		{ head -c "$half" "$DATA"; sleep "$SLOW_PAUSE"; tail -c +$((half + 1)) "$DATA"; } |
			$run >"$out" 2>"$T/err.$role"
		echo $? >"$T/st.$role") & ;;
	null) ($run </dev/null >"$out" 2>"$T/err.$role"; echo $? >"$T/st.$role") & ;;
	closed) ($run <&- >"$out" 2>"$T/err.$role"; echo $? >"$T/st.$role") & ;;
	pty) (timeout "$lim" python3 -c "$PTYWRAP" $cmd >"$out" 2>"$T/err.$role"
		echo $? >"$T/st.$role") & ;;
	idle) (exec sleep 600 >"$T/idle.fifo") &
		HOLDER=$!
		($run <"$T/idle.fifo" >"$out" 2>"$T/err.$role"; echo $? >"$T/st.$role") & ;;
	esac
}

# cell SENDER RECEIVER SENDER_STDIN RECEIVER_STDIN SIZE: one transfer, one row.
cell() {
	local snd=$1 rcv=$2 sk=$3 rk=$4 size=$5 lim=30 port=0 lrole crole extra=""
	local want got ok st_s st_r wantsize
	[ "$size" -gt 100000000 ] && lim=120
	data "$size"
	DATA=$T/data.$size
	want=$(cat "$DATA.sha")
	wantsize=$size
	if [ "$sk" = tar ]; then
		want=$(cat "$DATA.tarsha")
		wantsize=$(cat "$DATA.tarsize")
	fi
	rm -f "$T/copy" "$T/idle.fifo" "$T/err.send" "$T/err.recv"
	mkfifo "$T/idle.fifo"
	HOLDER=
	# nc -l quits at its peer's EOF: a receiving connect sends none (-d)
	if [ "$snd" = ncl ] && [ "$rcv" = sc ] && { [ "$rk" = null ] || [ "$rk" = closed ]; }; then
		extra=-d
	fi
	if is_listener "$snd"; then lrole=send crole=recv; else lrole=recv crole=send; fi
	local ltool ctool lkind ckind
	if [ $lrole = send ]; then
		ltool=$snd ctool=$rcv lkind=$sk ckind=$rk
	else
		ltool=$rcv ctool=$snd lkind=$rk ckind=$sk
	fi
	[ "$ltool" = sl ] || port=$(free_port)
	start_side "$lrole" "$lkind" "$(tool_cmd "$ltool" "$lrole" "$port" "")" "$lim"
	if [ "$ltool" = sl ]; then
		wait_until 10 grep -q "listening on" "$T/err.$lrole"
		port=$(sed -n 's/.*listening on .*[ :]\([0-9][0-9]*\)$/\1/p' "$T/err.$lrole" | head -n1)
	else
		wait_until 10 listening "$port"
	fi
	start_side "$crole" "$ckind" "$(tool_cmd "$ctool" "$crole" "$port" "$extra")" "$lim"
	if [ -n "$HOLDER" ]; then
		# the idle pipe never ends on its own: once everything arrived, end it
		wait_until "$lim" has_bytes "$T/copy" "$wantsize"
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
	fi
	wait_until $((lim + 10)) test -s "$T/st.send"
	wait_until $((lim + 10)) test -s "$T/st.recv"
	wait
	st_s=$(cat "$T/st.send" 2>/dev/null || echo none)
	st_r=$(cat "$T/st.recv" 2>/dev/null || echo none)
	got=$(sha256sum <"$T/copy" 2>/dev/null | cut -d' ' -f1)
	ok=yes
	[ "$got" = "$want" ] || ok=NO
	local verdict=ok
	if [ $ok != yes ] || [ "$st_s" != 0 ] || [ "$st_r" != 0 ]; then
		verdict=FAIL
		FAILED=1
		{
			echo "FAIL: $(name "$snd") -> $(name "$rcv") stdin $sk/$rk size $size:" \
				"got $(size_of "$T/copy") bytes, statuses $st_s/$st_r"
			sed 's/^/  sender: /' "$T/err.send" 2>/dev/null
			sed 's/^/  receiver: /' "$T/err.recv" 2>/dev/null
		} >&2
	fi
	local rs="$rk"
	[ "$extra" = -d ] && rs="$rk (connect -d)"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(name "$snd")" "$(name "$rcv")" \
		"$sk" "$rs" "$(human "$size")" "$ok" "$st_s" "$st_r" "$verdict"
}

header() {
	echo "| sender | receiver | sender stdin | receiver stdin | size | sha256 equal | sender status | receiver status | verdict |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
}

SIZES="0 1 65536 20971520"
PEER_SIZES="0 65536 20971520"

group_main() { # sockctl <-> sockctl, both directions, every stdin kind, every size
	local pair sk rk size
	for pair in "sc sl" "sl sc"; do
		for sk in cat file; do
			for rk in null closed pty idle; do
				for size in $SIZES; do
					# shellcheck disable=SC2086
					cell $pair "$sk" "$rk" "$size"
				done
			done
		done
		# shellcheck disable=SC2086
		cell $pair tar null 20971520
	done
}

group_big() { # 256 MiB, pipe and file, both directions
	local pair sk
	for pair in "sc sl" "sl sc"; do
		for sk in cat file; do
			# shellcheck disable=SC2086
			cell $pair "$sk" null 268435456
		done
	done
}

group_slow() { # a producer that pauses mid-stream
	local pair
	for pair in "sc sl" "sl sc" "sc ncl" "sl nc" "nc sl" "soc sl"; do
		# shellcheck disable=SC2086
		cell $pair slow null 20971520
	done
	cell sc sl slow pty 20971520
	cell sl sc slow idle 20971520
}

group_peers_recv() { # nc and socat send, sockctl receives with every stdin kind
	local pair sk rk size
	for pair in "nc sl" "soc sl" "ncl sc" "socl sc"; do
		for sk in cat file; do
			for rk in null closed pty idle; do
				for size in $PEER_SIZES; do
					# shellcheck disable=SC2086
					cell $pair "$sk" "$rk" "$size"
				done
			done
		done
	done
}

group_peers_send() { # sockctl sends, nc and socat receive
	local pair sk size
	for pair in "sc ncl" "sc socl" "sl nc" "sl soc"; do
		for sk in cat file; do
			for size in $PEER_SIZES; do
				# shellcheck disable=SC2086
				cell $pair "$sk" null "$size"
			done
		done
	done
}

[ "${1:-}" = --header ] && { header; shift; }
if [ "${1:-}" = cell ]; then # one cell: cell SENDER RECEIVER SENDER_STDIN RECEIVER_STDIN SIZE
	shift
	cell "$@"
	exit "$FAILED"
fi
[ $# -gt 0 ] || set -- main big slow peers-recv peers-send
for g in "$@"; do
	"group_${g//-/_}"
done
exit "$FAILED"
