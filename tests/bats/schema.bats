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
	printf '%s\n' '{"event":"tls","version":"1.3"}' >"$J/a"
	run -1 /usr/bin/python3 tests/schema-check.py connect "$J/a"
	[[ $output == *"connect event 'tls' has no schema in docs/sockctl-connect.schema.json"* ]]
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
