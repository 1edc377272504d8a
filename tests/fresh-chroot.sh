#!/bin/sh
# tests/fresh-chroot.sh DIR: the README's quick start on a really fresh
# machine.  Not part of `make check` (it downloads a Debian system and every
# dependency from the mirror).  Run as root:
#   tests/fresh-chroot.sh /var/tmp/fresh-bookworm 2>&1 | tee fresh-chroot.log
# It
#  1. debootstraps a Debian 12 minbase root into DIR (which must not exist),
#     from the mirror the machine's own apt sources use (or $MIRROR);
#  2. puts a git clone of this checkout's HEAD in DIR/src (commit first);
#  3. runs, as root in the chroot, the quick start's first command
#     (sh deps.sh && make && ./sockctl resolve localhost www), then deps.sh
#     again (must install nothing), then deps.sh as a user with sudo (one
#     package removed first, so sudo really installs it), and as a user
#     on a machine without sudo (must refuse clearly);
#  4. runs `make check` in the chroot unless NO_CHECK=1.
# Everything runs in a private mount namespace (unshare -m): /proc, /sys,
# /dev, /run/netns and whatever the tests mount there vanish with it, and a
# trap unmounts them too, so no mount outlives the script.  DIR is kept for
# inspection (KEEP=0 removes it).
set -eu
DIR=${1:?usage: tests/fresh-chroot.sh DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${SUITE:-bookworm}
[ "$(id -u)" -eq 0 ] || { echo "fresh-chroot: run as root" >&2; exit 2; }
[ ! -e "$DIR" ] || { echo "fresh-chroot: $DIR exists; give a new directory" >&2; exit 2; }

run() { # show a command, then run it
	echo "+ $*"
	"$@"
}

echo "== fresh-chroot: $SUITE minbase into $DIR, source $SRC ($(git -C "$SRC" rev-parse --short HEAD))"
date -u
"$SRC/tests/debootstrap.sh" "$DIR"
echo "== what the fresh root lacks:"
for f in usr/bin/make usr/bin/cc usr/bin/gcc usr/bin/sudo etc/services etc/hosts usr/bin/git; do
	if [ -e "$DIR/$f" ]; then echo "  /$f present"; else echo "  /$f missing"; fi
done
run git clone -q "$SRC" "$DIR/src"

# The part that needs mounts, in a private mount namespace.
cat >"$DIR/.fresh-inner.sh" <<'INNER'
set -eu
DIR=$1
umount_all() {
	for m in run/netns run dev/pts dev sys proc ""; do
		mountpoint -q "$DIR/$m" 2>/dev/null && umount -l "$DIR/$m" || true
	done
}
trap umount_all EXIT INT TERM
# the root must be a mount point: `ip netns add` and `ip netns exec` change
# the propagation of / (mount --make-rslave /), which fails on a plain dir
mount --bind "$DIR" "$DIR"
mount -t proc proc "$DIR/proc"
mount -t sysfs sysfs "$DIR/sys"
mount --bind /dev "$DIR/dev"
mount --bind /dev/pts "$DIR/dev/pts"
mount -t tmpfs tmpfs "$DIR/run"
mkdir -p "$DIR/run/netns"
in_root() { # a login-like environment: nothing from the caller's
	echo "+ chroot $DIR $*"
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 chroot "$DIR" "$@"
}
echo "== 1. the quick start's first command, as root (no sudo, no make, no compiler)"
t0=$(date +%s)
in_root sh -c 'cd /src && sh deps.sh && make && ./sockctl resolve localhost www'
echo "== quick start took $(($(date +%s) - t0)) s"
echo "== 2. deps.sh again: idempotent, installs nothing"
in_root sh -c 'cd /src && sh deps.sh'
echo "== 3. as a user with sudo: remove one dependency (fping), deps.sh puts it back through sudo"
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends sudo >/dev/null &&
	useradd -m dev && echo "dev ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/dev &&
	apt-get remove -y -q fping >/dev/null && cp -r /src /home/dev/src && chown -R dev: /home/dev/src'
in_root runuser -u dev -- sh -c 'cd /home/dev/src && sh deps.sh && dpkg-query -W fping'
echo "== 4. as a user on a machine without sudo: refuses, naming what to do"
in_root sh -c 'rm /etc/sudoers.d/dev && apt-get remove -y -q fping >/dev/null &&
	SUDO_FORCE_REMOVE=yes apt-get remove -y -q sudo >/dev/null'
st=0
in_root runuser -u dev -- sh -c 'cd /home/dev/src && sh deps.sh' || st=$?
echo "status $st"
in_root sh -c 'cd /src && sh deps.sh >/dev/null' # fping back, as root
if [ "${NO_CHECK:-0}" != 1 ]; then
	echo "== 5. make check, as root in the chroot"
	t0=$(date +%s)
	st=0
	in_root sh -c 'cd /src && make check' || st=$?
	echo "== make check: status $st, $(($(date +%s) - t0)) s"
fi
INNER
st=0
unshare -m --propagation private sh "$DIR/.fresh-inner.sh" "$DIR" || st=$?
rm -f "$DIR/.fresh-inner.sh"
# belt and braces: nothing may stay mounted under DIR
if grep -q " $DIR/" /proc/self/mounts; then
	echo "fresh-chroot: mounts left under $DIR:" >&2
	grep " $DIR/" /proc/self/mounts >&2
	st=1
fi
[ "${KEEP:-1}" = 1 ] || rm -rf "$DIR" "$DIR.debootstrap.log"
date -u
echo "== fresh-chroot: status $st"
exit "$st"
