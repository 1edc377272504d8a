#!/usr/bin/env bats
# The build: install/uninstall with DESTDIR and PREFIX, warning-free compile.
load helper

teardown() { common_teardown; }

@test "make install puts binary, man pages and completion under DESTDIR/PREFIX; uninstall removes them" {
	cd "$BATS_TEST_DIRNAME/../.."
	d=$BATS_TEST_TMPDIR/root
	run -0 make -s install DESTDIR="$d" PREFIX=/usr
	[ -x "$d/usr/bin/sockctl" ]
	[ -f "$d/usr/share/bash-completion/completions/sockctl" ]
	for p in docs/*.1; do
		[ -f "$d/usr/share/man/man1/${p##*/}" ]
		# the shared SOCKET OPTIONS text is inlined: no .so left to resolve
		run -1 grep -q '^\.so' "$d/usr/share/man/man1/${p##*/}"
	done
	grep -q '^\.SH SOCKET OPTIONS' "$d/usr/share/man/man1/sockctl-connect.1"
	run -0 "$d/usr/bin/sockctl" --version
	run -0 make -s uninstall DESTDIR="$d" PREFIX=/usr
	[ -z "$(find "$d" -type f)" ]
}

@test "the sources compile without a single warning" {
	cd "$BATS_TEST_DIRNAME/../.."
	run -0 make -s objs BUILD="$BATS_TEST_TMPDIR/b" CFLAGS="-O2 -Werror"
	[ -z "$(grep -i warning <<<"$output")" ]
	[ -f "$BATS_TEST_TMPDIR/b/cmd/main.o" ]
}
