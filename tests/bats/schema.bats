#!/usr/bin/env bats
# Every --json object, real output of every command, against the JSON Schema
# (draft 2020-12) of its command in docs/ (tests/schema-check.py, with
# Debian's python3-jsonschema).  An event with no schema fails, naming the
# event and the file to add it to.
load helper

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	J=$BATS_TEST_TMPDIR/json
	mkdir -p "$J"
}

teardown() { common_teardown; }

check() { # check COMMAND REQUIRED-EVENTS FILE...
	run /usr/bin/python3 tests/schema-check.py --require "$2" "$1" "${@:3}"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the schemas are valid draft 2020-12 schemas, one per command" {
	for c in $("$SOCKCTL" --list-commands); do
		[ -f "docs/sockctl-$c.schema.json" ] || { echo "no docs/sockctl-$c.schema.json"; return 1; }
	done
	run -0 /usr/bin/python3 -c '
import json, sys, jsonschema
for f in sys.argv[1:]:
    s = json.load(open(f))
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema", f
    jsonschema.Draft202012Validator.check_schema(s)
' docs/*.schema.json
}

@test "the schema check fails on an event it does not know, a wrong type and an extra key" {
	printf '%s\n' '{"event":"nonesuch","version":"1.3"}' >"$J/a"
	run -1 /usr/bin/python3 tests/schema-check.py connect "$J/a"
	[[ $output == *"connect event 'nonesuch' has no schema in docs/sockctl-connect.schema.json"* ]]
	printf '%s\n' '{"event":"scan","address":"127.0.0.1","port":"80","state":"open","ms":1}' >"$J/b"
	run -1 /usr/bin/python3 tests/schema-check.py connect "$J/b"
	[[ $output == *"'80' is not of type 'integer'"* ]]
	printf '%s\n' '{"event":"scan","address":"127.0.0.1","port":80,"state":"open","ms":1,"new":1}' >"$J/c"
	run -1 /usr/bin/python3 tests/schema-check.py connect "$J/c"
	[[ $output == *"'new' was unexpected"* ]]
	run -1 /usr/bin/python3 tests/schema-check.py --require scan connect /dev/null
	[[ $output == *"no 'scan' event was produced"* ]]
}

@test "resolve: address, name and error objects match docs/sockctl-resolve.schema.json" {
	"$SOCKCTL" resolve --json --canonname localhost www >"$J/out" 2>"$J/err"
	"$SOCKCTL" resolve --json -r 127.0.0.1 80 >>"$J/out" 2>>"$J/err"
	run -1 unshare_no_dns "$SOCKCTL" resolve --json name.invalid
	printf '%s\n' "$output" >>"$J/err"
	run -2 "$SOCKCTL" resolve --json --bogus
	printf '%s\n' "$output" >>"$J/err"
	check resolve address,name,error "$J/out" "$J/err"
}

@test "connect and listen: every session event matches their schemas" {
	"$SOCKCTL" listen --json -k --echo --deny 127.0.0.2 127.0.0.1 0 </dev/null >/dev/null 2>"$J/listen" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	lpid=$!
	port=$(listen_port "$J/listen")
	echo hello | "$SOCKCTL" connect --json --tcp-info 127.0.0.1 "$port" >/dev/null 2>"$J/err"
	: >"$J/out"
	"$SOCKCTL" connect --json -z 127.0.0.1 "$port" >>"$J/out" 2>>"$J/err"
	"$SOCKCTL" connect --json -z -v 127.0.0.1 "$(closed_port)" >>"$J/out" 2>>"$J/err" || true
	# turned away by --deny: a refused event
	"$SOCKCTL" connect --json -s 127.0.0.2 127.0.0.1 "$port" </dev/null >/dev/null 2>>"$J/err" || true
	run -2 "$SOCKCTL" connect --json 127.0.0.1 99999
	printf '%s\n' "$output" >>"$J/err"
	wait_for 10 grep -q '"event":"refused"' "$J/listen"
	kill "$lpid"
	wait_pid 10 "$lpid"
	check connect attempt,result,connected,tcp_info,closed,scan,error "$J/out" "$J/err"
	check listen listening,connection,closed,refused "$J/listen"
}

@test "udp-send and udp-recv: datagrams, replies, statistics, summaries match their schemas" {
	"$SOCKCTL" udp-recv --json -v --echo --stats -c 4 127.0.0.1 0 >"$J/recv" 2>"$J/recverr" &
	rpid=$!
	echo $rpid >>"$BATS_TEST_TMPDIR/.pids"
	port=$(bound_port "$rpid" udp)
	"$SOCKCTL" udp-send --json -W 2 127.0.0.1 "$port" hello >"$J/send" 2>"$J/senderr"
	printf '\377\376' | "$SOCKCTL" udp-send --json -W 2 127.0.0.1 "$port" >>"$J/send" 2>>"$J/senderr"
	"$SOCKCTL" udp-send --json -c 2 --size 64 -W 2 127.0.0.1 "$port" </dev/null >>"$J/send" 2>>"$J/senderr"
	wait_pid 10 "$rpid"
	run -1 "$SOCKCTL" udp-send --json -W 1 127.0.0.1 "$(closed_port udp)" x
	printf '%s\n' "$output" >>"$J/senderr"
	check udp-send reply,summary,error "$J/send" "$J/senderr"
	check udp-recv datagram,stats,notice "$J/recv" "$J/recverr"
}

@test "raw-icmp: replies and the summary match docs/sockctl-raw-icmp.schema.json" {
	"$SOCKCTL" raw-icmp --json -c 2 -i 0.2 -D 127.0.0.1 >"$J/out" 2>"$J/err" ||
		skip "no ICMP socket for this user"
	"$SOCKCTL" raw-icmp --json -c 1 --type timestamp 127.0.0.1 >>"$J/out" 2>>"$J/err" || true
	run -2 "$SOCKCTL" raw-icmp --json -c 0x 127.0.0.1
	printf '%s\n' "$output" >>"$J/err"
	check raw-icmp reply,summary,error "$J/out" "$J/err"
}

# ---- the events of the features merged after the schemas were written ----

serve_json() { # serve_json FILE ARGS...: sockctl listen --json ARGS in the background; LPID, PORT
	"$SOCKCTL" listen --json "${@:2}" </dev/null >/dev/null 2>"$1" &
	LPID=$!
	echo "$LPID" >>"$BATS_TEST_TMPDIR/.pids"
	PORT=$(listen_port "$1")
}

stop() { kill "$1" 2>/dev/null || true; wait_pid 10 "$1"; }

@test "TLS: connect --tls's tls event and listen --tls's certificate and tls events match their schemas" {
	serve_json "$J/listen" --tls -k --echo 127.0.0.1 0
	echo hello | timeout 30 "$SOCKCTL" connect --json -w 10 --tls --no-verify 127.0.0.1 "$PORT" >/dev/null 2>"$J/err"
	timeout 30 "$SOCKCTL" connect --json -w 10 -z --tls --no-verify 127.0.0.1 "$PORT" >"$J/out" 2>>"$J/err"
	grep -q '"verify_depth"' "$J/out"
	# failed handshakes: a certificate that does not verify, a peer that speaks no TLS
	run -1 timeout 30 "$SOCKCTL" connect --json -w 10 -z --tls 127.0.0.1 "$PORT"
	printf '%s\n' "$output" >>"$J/out"
	wait_for 10 grep -q '"event":"closed"' "$J/listen"
	stop "$LPID"
	serve_json "$J/plain" -k 127.0.0.1 0
	run -1 timeout 30 "$SOCKCTL" connect --json -w 10 -z --tls 127.0.0.1 "$PORT" </dev/null
	printf '%s\n' "$output" >>"$J/out"
	stop "$LPID"
	[ "$(grep -c '"verified":false,"error":' "$J/out")" -eq 2 ]
	check connect tls,connected,closed "$J/out" "$J/err"
	check listen listening,tls_certificate,connection,tls,closed "$J/listen"
}

@test "connect --count: probe and summary objects, with and without --tls, match the schema" {
	serve_json "$J/listen" -k --echo 127.0.0.1 0
	timeout 30 "$SOCKCTL" connect --json --count 3 --interval 0.05 127.0.0.1 "$PORT" >"$J/out" 2>"$J/err"
	timeout 30 "$SOCKCTL" connect --json --count 1 -w 1 127.0.0.1 "$(closed_port)" >>"$J/out" 2>>"$J/err" || true
	stop "$LPID"
	# a probe without an answer: rtt_ms null, and a summary without round trips
	ns_add a
	ns_add b
	ns_link a b 198.18.1.1/24 198.18.1.2/24
	in_ns b nft add table inet t
	in_ns b nft add chain inet t in '{ type filter hook input priority 0; policy drop; }'
	in_ns a timeout 30 "$SOCKCTL" connect --json --count 1 -w 300ms 198.18.1.2 80 >>"$J/out" 2>>"$J/err" || true
	grep -q '"rtt_ms":null' "$J/out"
	grep -q '"rtt_avg_ms":null' "$J/out"
	check connect probe,summary "$J/out" "$J/err"
	serve_json "$J/tlisten" --tls -k --echo 127.0.0.1 0
	timeout 30 "$SOCKCTL" connect --json --count 3 --interval 0.05 --tls --no-verify 127.0.0.1 "$PORT" \
		>"$J/tout" 2>"$J/terr"
	stop "$LPID"
	grep -q '"tls_ms"' "$J/tout"
	grep -q '"tls_avg_ms"' "$J/tout"
	check connect probe,summary "$J/tout" "$J/terr"
}

@test "raw-icmp over many targets: reply, timeout (-O) and summary objects match the schema" {
	ns_add a
	ns_add b
	ns_link a b 198.18.1.1/24 198.18.1.2/24
	# 198.18.1.2 answers; 198.18.1.9, on the link, does not
	in_ns a timeout 30 "$SOCKCTL" raw-icmp --json -O -c 2 -i 0.2 -W 300ms 198.18.1.2 198.18.1.9 \
		>"$J/out" 2>"$J/err" || true
	grep -q '"host"' "$J/out"
	check raw-icmp reply,timeout,summary "$J/out" "$J/err"
}

@test "--trace: hop and trace objects of connect, udp-send and raw-icmp match their schemas" {
	serve_json "$J/listen" -k 127.0.0.1 0
	timeout 60 "$SOCKCTL" connect --trace --json 127.0.0.1 "$PORT" >"$J/c" 2>"$J/cerr"
	stop "$LPID"
	check connect hop,trace "$J/c" "$J/cerr"
	timeout 60 "$SOCKCTL" udp-send --trace --json 127.0.0.1 >"$J/u" 2>"$J/uerr"
	check udp-send hop,trace "$J/u" "$J/uerr"
	if timeout 60 "$SOCKCTL" raw-icmp --trace --json 127.0.0.1 >"$J/r" 2>"$J/rerr"; then
		check raw-icmp hop,trace "$J/r" "$J/rerr"
	else
		cat "$J/rerr"
		grep -q 'permission\|not permitted' "$J/rerr"
	fi
}

@test "listen and connect -e/-c: the exec object matches their schemas" {
	serve_json "$J/listen" -k -m 2 -c 'read -r l; echo "got $l"; exit 3' 127.0.0.1 0
	echo one | timeout 10 nc.openbsd -N 127.0.0.1 "$PORT" >/dev/null
	wait_for 10 grep -q '"event":"exec"' "$J/listen"
	stop "$LPID"
	check listen listening,connection,exec "$J/listen"
	# connect -c: the same object without the client's address
	serve_json "$J/peer" -k --echo 127.0.0.1 0
	timeout 30 "$SOCKCTL" connect --json -c 'echo hi; exit 4' 127.0.0.1 "$PORT" >/dev/null 2>"$J/cerr" || true
	timeout 30 "$SOCKCTL" connect --json -c 'kill -TERM $$' 127.0.0.1 "$PORT" >/dev/null 2>>"$J/cerr" || true
	stop "$LPID"
	grep -q '"signal"' "$J/cerr"
	check connect connected,exec "$J/cerr"
}

@test "listen --forward: the forward object matches docs/sockctl-listen.schema.json" {
	serve_json "$J/target" -k --echo 127.0.0.1 0
	tpid=$LPID tport=$PORT
	serve_json "$J/listen" -k --forward "127.0.0.1:$tport" 127.0.0.1 0
	echo hello | timeout 10 nc.openbsd -N 127.0.0.1 "$PORT" >/dev/null
	timeout 10 nc.openbsd -N 127.0.0.1 "$PORT" </dev/null >/dev/null
	wait_for 10 grep -q '"event":"forward"' "$J/listen"
	stop "$LPID"
	stop "$tpid"
	check listen listening,forward "$J/listen"
}

@test "proxies: listen --proxy-server's tunnel, proxy and refused, connect --proxy's proxy object" {
	serve_json "$J/target" -k --echo 127.0.0.1 0
	tpid=$LPID tport=$PORT
	serve_json "$J/listen" -k --proxy-server socks5 --deny 127.0.0.2 127.0.0.1 0
	echo hello | timeout 30 "$SOCKCTL" connect --json -w 10 --proxy "socks5://127.0.0.1:$PORT" 127.0.0.1 "$tport" \
		>/dev/null 2>"$J/err"
	timeout 30 "$SOCKCTL" connect --json -w 10 -s 127.0.0.2 --proxy "socks5://127.0.0.1:$PORT" 127.0.0.1 "$tport" \
		</dev/null >/dev/null 2>>"$J/err" || true
	wait_for 10 grep -q '"event":"refused"' "$J/listen"
	wait_for 10 grep -q '"event":"proxy"' "$J/listen"
	stop "$LPID"
	stop "$tpid"
	check connect proxy,connected "$J/err"
	check listen listening,tunnel,proxy,refused "$J/listen"
}

@test "connect --progress --json with a file on stdin: progress objects match the schema" {
	serve_json "$J/listen" -k 127.0.0.1 0
	head -c 200000 /dev/zero >"$J/f"
	timeout 30 "$SOCKCTL" connect --json --progress 127.0.0.1 "$PORT" <"$J/f" >/dev/null 2>"$J/err"
	stop "$LPID"
	grep -q '"total":200000' "$J/err"
	check connect progress,connected,closed "$J/err"
}

@test "udp-recv --stats: the flood keys (socket drops, rcvbuf, lost_before_host) match the schema" {
	# a tiny receive buffer and a burst of stamped probes: drops at the socket
	"$SOCKCTL" udp-recv --json -v -q --stats --until-end -w 20 --rcvbuf 1 127.0.0.1 0 \
		>"$J/out" 2>"$J/err" &
	rpid=$!
	echo $rpid >>"$BATS_TEST_TMPDIR/.pids"
	port=$(bound_port "$rpid" udp)
	timeout 30 "$SOCKCTL" udp-send -q --no-gso -c 5000 --size 64 --rate 0 127.0.0.1 "$port" </dev/null
	wait_pid 30 "$rpid"
	cat "$J/out"
	grep -q '"dropped_at_socket":[1-9]' "$J/out"
	grep -q '"lost_before_host":' "$J/out"
	grep -q '"rcvbuf":[0-9]' "$J/out"
	check udp-recv stats,notice "$J/out" "$J/err"
}

@test "listen -u's drop report and listen -k --chat: their objects (notices, sessions) match the schema" {
	# listen -u reports its socket's drops at the end as a notice, not an event of its own
	timeout 30 "$SOCKCTL" listen --json -v -u --idle-timeout 1s 127.0.0.1 0 </dev/null >/dev/null \
		2>"$J/udp" &
	upid=$!
	echo "$upid" >>"$BATS_TEST_TMPDIR/.pids"
	port=$(listen_port "$J/udp")
	timeout 10 "$SOCKCTL" udp-send 127.0.0.1 "$port" x 2>/dev/null
	wait_pid 20 "$upid"
	grep -q '"event":"notice".*dropped at this socket' "$J/udp"
	check listen listening,connection,closed,notice "$J/udp"
	# --chat (and --broker): connection and closed events, nothing new
	serve_json "$J/chat" -k --chat 127.0.0.1 0
	echo hi | timeout 10 nc.openbsd -N 127.0.0.1 "$PORT" >/dev/null
	echo yo | timeout 10 nc.openbsd -N 127.0.0.1 "$PORT" >/dev/null
	wait_for 10 count_is 2 '"event":"closed"' "$J/chat"
	stop "$LPID"
	check listen listening,connection,closed "$J/chat"
}
