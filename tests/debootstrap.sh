#!/bin/sh
# tests/debootstrap.sh DIR: a fresh Debian minbase root ($SUITE, default
# bookworm) in DIR (which must not exist), from the mirror the machine's own
# apt sources use (or $MIRROR), with the machine's resolver for apt.  The
# log goes to DIR.debootstrap.log.  Shared by fresh-chroot.sh and deb-check.sh.
# BASE=DIR2 copies an earlier root instead (a quicker rerun while working on
# a test; never for the record).
set -eu
DIR=${1:?usage: tests/debootstrap.sh DIR}
SUITE=${SUITE:-bookworm}
[ ! -e "$DIR" ] || { echo "debootstrap.sh: $DIR exists; give a new directory" >&2; exit 2; }
if [ -n "${BASE:-}" ]; then
	echo "+ cp -a $BASE $DIR (BASE: a copy, not a fresh debootstrap)"
	cp -a "$BASE" "$DIR"
	cp /etc/resolv.conf "$DIR/etc/resolv.conf"
	exit 0
fi
if [ -z "${MIRROR:-}" ]; then # the machine's own Debian mirror
	MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -E 's,^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^[:space:]]*/debian)/?([[:space:]].*)?$,\3,p' |
		head -n 1)
	MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
echo "+ debootstrap --variant=minbase $SUITE $DIR $MIRROR"
debootstrap --variant=minbase "$SUITE" "$DIR" "$MIRROR" >"$DIR.debootstrap.log" 2>&1 ||
	{ tail -20 "$DIR.debootstrap.log"; exit 1; }
echo "debootstrap ok ($(grep -c '^I: ' "$DIR.debootstrap.log") steps, log in $DIR.debootstrap.log)"
# name resolution for apt inside the chroot (the machine's own resolver)
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
