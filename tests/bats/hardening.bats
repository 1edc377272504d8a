#!/usr/bin/env bats
# The built ./sockctl carries the hardening the Makefile asks for (checked
# with readelf on the binary itself, not on the flags).  Under SANITIZE=1
# _FORTIFY_SOURCE is off (ASan replaces it), so the fortify test skips there.
load helper

teardown() { common_teardown; }

sanitized() { readelf -sW "$SOCKCTL" | grep -q '__asan_init'; }

@test "hardening: position-independent executable (type DYN, DF_1_PIE)" {
	run -0 readelf -hW "$SOCKCTL"
	[[ $output =~ Type:[[:space:]]+DYN ]]
	run -0 readelf -dW "$SOCKCTL"
	[[ $output =~ FLAGS_1.*PIE ]]
}

@test "hardening: full RELRO (GNU_RELRO segment, BIND_NOW and FLAGS_1 NOW)" {
	run -0 readelf -lW "$SOCKCTL"
	[[ $output == *GNU_RELRO* ]]
	run -0 readelf -dW "$SOCKCTL"
	[[ $output =~ \(BIND_NOW\) ]] || [[ $output =~ \(FLAGS\)[[:space:]]+.*BIND_NOW ]]
	[[ $output =~ FLAGS_1.*NOW ]]
}

@test "hardening: stack protector (__stack_chk_fail imported)" {
	run -0 readelf -sW --dyn-syms "$SOCKCTL"
	[[ $output == *__stack_chk_fail* ]]
}

@test "hardening: _FORTIFY_SOURCE (fortified *_chk functions imported)" {
	sanitized && skip "ASan build: _FORTIFY_SOURCE is off under SANITIZE=1"
	run -0 readelf -sW --dyn-syms "$SOCKCTL"
	n=$(grep -cE ' __[a-z_]+_chk(@|$)' <<<"$output" || true)
	echo "fortified: $n"
	[ "$n" -ge 3 ]
	# the usual suspects in our code
	[[ $output == *__snprintf_chk* ]]
	[[ $output == *__fprintf_chk* ]]
}

@test "hardening: no executable stack, no writable+executable segment" {
	run -0 readelf -lW "$SOCKCTL"
	stack=$(grep GNU_STACK <<<"$output")
	[ -n "$stack" ]
	[[ $stack != *RWE* ]]
	! grep -E '^ *LOAD' <<<"$output" | grep -q 'RWE'
	# no text relocations either
	run -0 readelf -dW "$SOCKCTL"
	[[ $output != *TEXTREL* ]]
}
