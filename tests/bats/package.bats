#!/usr/bin/env bats
# The version is written once (VERSION); the packaging follows it.
load helper

teardown() { common_teardown; }

@test "--version, the man pages and debian/changelog all say the version in VERSION" {
	cd "$BATS_TEST_DIRNAME/../.."
	v=$(cat VERSION)
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	run -0 "$SOCKCTL" --version
	[ "$output" = "sockctl $v" ]
	# the pages carry @VERSION@, which make install fills in
	for p in docs/*.1; do
		grep -q '^\.TH .* "sockctl @VERSION@" ' "$p" || { echo "$p: .TH without @VERSION@"; return 1; }
	done
	run -0 dpkg-parsechangelog -l debian/changelog -S Version
	[ "$output" = "$v" ]
	# CHANGELOG.md's newest release is this one (Unreleased above it may be empty)
	run -0 grep -m1 -E '^## \[[0-9]' CHANGELOG.md
	[[ $output == "## [$v] - "* ]]
	d=$BATS_TEST_TMPDIR/root
	run -0 make -s install DESTDIR="$d" PREFIX=/usr
	run -0 grep -l "\"sockctl $v\"" "$d"/usr/share/man/man1/sockctl-connect.1
	! grep -r @VERSION@ "$d/usr/share/man/man1"
}

@test "make install puts the bash, zsh and fish completions where each shell looks" {
	cd "$BATS_TEST_DIRNAME/../.."
	d=$BATS_TEST_TMPDIR/root
	run -0 make -s install DESTDIR="$d" PREFIX=/usr ZSHCOMPDIR=/usr/share/zsh/vendor-completions
	cmp completions/sockctl.bash "$d/usr/share/bash-completion/completions/sockctl"
	cmp completions/_sockctl "$d/usr/share/zsh/vendor-completions/_sockctl"
	cmp completions/sockctl.fish "$d/usr/share/fish/vendor_completions.d/sockctl.fish"
}

@test "debian/control: Build-Depends has the package of every pkg-config module the Makefile asks for; libssl3 (dlopen()ed) is in Depends" {
	cd "$BATS_TEST_DIRNAME/../.."
	bd=$(sed -n 's/^Build-Depends: //p' debian/control)
	mods=$(grep -o 'PKG_CONFIG) --[a-z]* [^ )]*' Makefile | awk '{ print $3 }' | tr -d "'" | sort -u)
	[ -n "$mods" ]
	for m in $mods; do
		pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
		pkg=$(dpkg -S "$pc" | cut -d: -f1)
		[[ ", $bd," == *", $pkg,"* ]] || { echo "$m ($pkg) missing from Build-Depends: $bd"; return 1; }
	done
	# --tls loads libssl.so.3 with dlopen(), which ${shlibs:Depends} cannot see
	grep -Eq '^Depends: .*\blibssl3\b' debian/control
}
