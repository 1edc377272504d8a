#!/bin/sh
# tests/deb-check.sh PACKAGE.deb [DIR]: install the package into a fresh
# Debian 12 minbase chroot (tests/debootstrap.sh) and check that it works
# there as a user would find it.  `make deb-check` runs it (root; slow: it
# downloads a Debian system).  DIR defaults to a new directory under
# /var/tmp, removed at the end unless KEEP=1.  In the chroot:
#  1. apt installs the package (its Recommends, libcap2-bin, included) with
#     man-db and bash-completion; the postinst gives the binary
#     cap_net_raw+p unless net.ipv4.ping_group_range admits every group;
#  2. an unprivileged user runs `sockctl raw-icmp -c 1 127.0.0.1`;
#  3. `man sockctl-connect` shows the page, at the version of VERSION;
#  4. `bash -ic` completes `sockctl con` to connect through bash-completion;
#  5. as nobody, every command but raw-icmp, caught while it waits, holds no
#     capability at all (CapInh, CapPrm, CapEff, CapAmb are 0) and has
#     no_new_privs; this part runs in a network namespace of its own (lo
#     only), so no packet leaves and the fixed ports collide with nothing.
# Everything runs in a private mount namespace (unshare -m); nothing stays
# mounted.  Prints "deb-check: N passed, N failed"; status 0 when none failed
# and all 15 checks ran.
set -eu
DEB=${1:?usage: tests/deb-check.sh PACKAGE.deb [DIR]}
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${2:-$(mktemp -u /var/tmp/sockctl-deb-check.XXXXXX)}
[ "$(id -u)" -eq 0 ] || { echo "deb-check: run as root" >&2; exit 2; }
[ -f "$DEB" ] || { echo "deb-check: no package $DEB" >&2; exit 2; }

echo "== deb-check: $DEB into $DIR"
date -u
"$SRC/tests/debootstrap.sh" "$DIR"
cp "$DEB" "$DIR/tmp/sockctl.deb"
cp "$SRC/VERSION" "$DIR/tmp/VERSION"

# the helpers both parts use; the outer script counts the ok/not ok lines
cat >"$DIR/tmp/deb-lib.sh" <<'LIB'
set -u
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
check() { # check NAME CMD...: run CMD, ok when it succeeds
	name=$1
	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}
LIB

# part 1 needs the network (apt)
cat >"$DIR/tmp/deb-1.sh" <<'PART1'
. /tmp/deb-lib.sh

echo "== 1. apt installs the package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { notok "apt-get update"; exit 1; }
# man-db and bash-completion first: a user's system has them already
apt-get install -y -q --no-install-recommends man-db bash-completion >/dev/null ||
	{ notok "apt-get install man-db bash-completion"; exit 1; }
check "apt-get install sockctl.deb (with its Recommends)" \
	apt-get install -y -q /tmp/sockctl.deb
# shellcheck disable=SC2046 # "LOW<TAB>HIGH" into two words
set -- $(cat /proc/sys/net/ipv4/ping_group_range)
lo=$1 hi=$2
caps=$(getcap /usr/bin/sockctl)
echo "ping_group_range: $lo $hi; getcap: ${caps:-none}"
if [ "$lo" -le 0 ] && [ "$hi" -ge 2147483647 ]; then
	check "no file capability: ping_group_range admits every group" test -z "$caps"
else
	check "postinst gave cap_net_raw+p (ping_group_range: $lo $hi)" \
		test "$caps" = "/usr/bin/sockctl cap_net_raw=p"
fi
check "sockctl --version says $(cat /tmp/VERSION)" \
	test "$(sockctl --version)" = "sockctl $(cat /tmp/VERSION)"
useradd -m user

echo "== 2. raw-icmp as an unprivileged user"
check "sockctl raw-icmp -c 1 127.0.0.1 as user" \
	runuser -u user -- timeout 20 sockctl raw-icmp -c 1 127.0.0.1

echo "== 3. the man page"
page=$(runuser -u user -- env MANPAGER=cat MANWIDTH=80 man sockctl-connect 2>&1)
check "man sockctl-connect shows its NAME and SYNOPSIS" \
	sh -c 'printf "%s\n" "$1" | grep -A1 "^NAME" | grep -q "sockctl-connect" &&
		printf "%s\n" "$1" | grep -q "^SYNOPSIS"' _ "$page"
check "the man page is at version $(cat /tmp/VERSION)" \
	sh -c 'printf "%s\n" "$1" | tail -n 1 | grep -q "sockctl $2"' _ "$page" "$(cat /tmp/VERSION)"
check "man sockctl shows SHELL COMPLETION" \
	sh -c 'runuser -u user -- env MANPAGER=cat man sockctl 2>&1 | grep -q "^SHELL COMPLETION"'

echo "== 4. bash completion through bash-completion, as user"
# what bash sets before it calls a completion function (bash-completion
# reads COMP_LINE and COMP_POINT)
got=$(runuser -u user -- bash -ic '_completion_loader sockctl 2>/dev/null
	t() { COMP_LINE=$*; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$*"
		[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _sockctl; echo "${COMPREPLY[*]}"; }
	t "sockctl con"; t "sockctl raw-icmp --mode "' 2>/dev/null)
check "bash -ic: sockctl con<TAB> is connect; raw-icmp --mode <TAB>: auto dgram raw" \
	test "$got" = "connect
auto dgram raw"
check "zsh and fish completions are where the shells look" \
	test -f /usr/share/zsh/vendor-completions/_sockctl -a \
	-f /usr/share/fish/vendor_completions.d/sockctl.fish

PART1

# part 2 runs in a network namespace of its own (lo only)
cat >"$DIR/tmp/deb-2.sh" <<'PART2'
. /tmp/deb-lib.sh
echo "== 5. as nobody, no command but raw-icmp holds a capability"
caps_zero() { # caps_zero PID: 0 when its four sets are empty and NNP is set
	st=/proc/$1/status
	[ -r "$st" ] || return 1
	for k in CapInh CapPrm CapEff CapAmb; do
		grep -q "^$k:[[:space:]]*0000000000000000$" "$st" || return 1
	done
	grep -q "^NoNewPrivs:[[:space:]]*1$" "$st"
}
as_nobody() { # as_nobody CMD...: start CMD as nobody, its PID in $PID
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@" &
	PID=$!
}
held() { # held NAME: the capabilities of $PID, waited for up to 10 s
	n=0
	while ! caps_zero "$PID"; do
		n=$((n + 1))
		if [ $n -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
			grep -E '^(Cap|NoNewPrivs)' "/proc/$PID/status" 2>/dev/null
			notok "$1: capabilities held as nobody (or it ended)"
			return
		fi
		sleep 0.1
	done
	ok "$1 as nobody: CapInh, CapPrm, CapEff, CapAmb 0, no_new_privs"
}
stop() {
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
}
# a silent DNS server on 127.0.0.1:53, so that resolve waits for an answer
echo "nameserver 127.0.0.1" >/etc/resolv.conf
sockctl udp-recv -q 127.0.0.1 53 >/dev/null 2>&1 &
dns=$!
sockctl listen -k --echo 127.0.0.1 7000 </dev/null >/dev/null 2>&1 &
peer=$!
# a new network namespace admits no group to ICMP datagram sockets: when
# the package gave no capability (the outer range admitted everyone), do
# here what the outer system does
[ -n "$(getcap /usr/bin/sockctl)" ] ||
	echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range
sleep 0.5
as_nobody sockctl resolve name.that.waits.example
held resolve
stop
as_nobody sockctl listen 127.0.0.1 7001
held listen
stop
as_nobody sockctl connect -d 127.0.0.1 7000
held connect
stop
as_nobody sockctl udp-send -W 20 127.0.0.1 53 ping
held udp-send
stop
as_nobody sockctl udp-recv 127.0.0.1 7003
held udp-recv
stop
kill "$dns" "$peer" 2>/dev/null
check "raw-icmp as nobody still works (capability, or the ping range)" \
	sh -c 'setpriv --reuid=nobody --regid=nogroup --clear-groups timeout 20 \
		sockctl raw-icmp -c 1 127.0.0.1 >/dev/null'
PART2

cat >"$DIR/tmp/deb-mount.sh" <<'MOUNT'
set -eu
DIR=$1
umount_all() {
	for m in run dev/pts dev sys proc ""; do
		mountpoint -q "$DIR/$m" 2>/dev/null && umount -l "$DIR/$m" || true
	done
}
trap umount_all EXIT INT TERM
mount --bind "$DIR" "$DIR"
mount -t proc proc "$DIR/proc"
mount -t sysfs sysfs "$DIR/sys"
mount --bind /dev "$DIR/dev"
mount --bind /dev/pts "$DIR/dev/pts"
mount -t tmpfs tmpfs "$DIR/run"
in_root() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 chroot "$DIR" "$@"
}
in_root sh /tmp/deb-1.sh 2>&1
# lo up from outside (minbase has no iproute2), then the same chroot
unshare -n sh -c 'ip link set lo up &&
	exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 chroot "$1" sh /tmp/deb-2.sh' _ "$DIR" 2>&1
MOUNT

log=$DIR.log
unshare -m --propagation private sh "$DIR/tmp/deb-mount.sh" "$DIR" >"$log" 2>&1 || true
cat "$log"
pass=$(grep -c '^ok ' "$log" || true)
fail=$(grep -c '^not ok ' "$log" || true)
echo "deb-check: $pass passed, $fail failed"
st=0
[ "$fail" -eq 0 ] && [ "$pass" -ge 15 ] || st=1
if grep -q " $DIR/" /proc/self/mounts; then
	echo "deb-check: mounts left under $DIR:" >&2
	grep " $DIR/" /proc/self/mounts >&2
	st=1
fi
[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR" "$DIR.debootstrap.log" "$log"
date -u
echo "== deb-check: status $st"
exit "$st"
