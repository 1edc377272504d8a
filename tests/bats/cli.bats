#!/usr/bin/env bats
# The multi-call binary: dispatch, help, version, exit statuses, stdout checks.
load helper

teardown() { common_teardown; }

@test "sockctl --version prints the version on stdout" {
	run -0 "$SOCKCTL" --version
	[[ $output =~ ^sockctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "sockctl help lists every command with its summary" {
	run -0 "$SOCKCTL" help
	for c in $("$SOCKCTL" --list-commands); do
		[[ $output == *"  $c "* ]]
	done
	[[ $output == *resolve* ]]
}

@test "sockctl without a command: usage on stderr, status 2" {
	run -2 --separate-stderr "$SOCKCTL"
	[ -z "$output" ]
	[[ $stderr == Usage:* ]]
}

@test "an unknown command exits 2 and suggests the closest name" {
	assert_usage_error "did you mean 'resolve'" "$SOCKCTL" reslove
	assert_usage_error "not a command" "$SOCKCTL" frobnicate
	# exact names only: no prefix matching
	assert_usage_error "did you mean 'resolve'" "$SOCKCTL" res
}

@test "sockctl help CMD equals sockctl CMD --help" {
	for c in $("$SOCKCTL" --list-commands); do
		a=$("$SOCKCTL" help "$c")
		b=$("$SOCKCTL" "$c" --help)
		[ "$a" = "$b" ]
		[[ $a == "Usage: sockctl $c "* ]]
	done
	assert_usage_error "not a command" "$SOCKCTL" help nosuch
}

@test "every command: --help exits 0 on stdout; an unknown option exits 2 with one line" {
	for c in $("$SOCKCTL" --list-commands); do
		run -0 --separate-stderr "$SOCKCTL" "$c" --help
		[ -z "$stderr" ]
		assert_usage_error "--no-such-option" "$SOCKCTL" "$c" --no-such-option
	done
}

@test "a multi-call link named sockctl-resolve runs resolve" {
	ln -s "$SOCKCTL" "$BATS_TEST_TMPDIR/sockctl-resolve"
	run -0 "$BATS_TEST_TMPDIR/sockctl-resolve" --numeric-host 127.0.0.1 80
	[[ $output == *127.0.0.1* ]]
}

@test "stdout to /dev/full: status 1 and a message naming stdout" {
	run -1 --separate-stderr bash -c '"$SOCKCTL" resolve localhost 80 >/dev/full'
	[[ $stderr == *"write error on stdout"* ]]
	run -1 --separate-stderr bash -c '"$SOCKCTL" --version >/dev/full'
	[[ $stderr == *"write error on stdout"* ]]
}

@test "stdout to a closed pipe ends quietly, like other tools" {
	run --separate-stderr bash -c '"$SOCKCTL" help | true'
	[ -z "$stderr" ]
	# a long output into a reader that leaves: killed by SIGPIPE, no message
	run --separate-stderr bash -c 'set -o pipefail; "$SOCKCTL" resolve --passive "" 1 --json | head -c1 >/dev/null; true'
	[ -z "$stderr" ]
}
