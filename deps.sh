#!/bin/sh
# deps.sh: install every build and test dependency of sockctl from Debian
# packages (Debian 12 "bookworm"; Ubuntu with the same names).  The one list
# of packages: `make deps` and .ci/run call this script.
#
# Works from nothing: a fresh `debootstrap --variant=minbase` root has no
# make, no compiler and no sudo, so this is POSIX sh using only what every
# Debian has (dpkg-query, apt-get, debconf).  Runs as root without sudo, or
# as a user through sudo.  Idempotent: installs only what is missing and
# touches nothing (no apt-get update) when everything is there.
#   sh deps.sh          install what is missing
#   sh deps.sh --list   print the package list and exit
# shellcheck disable=SC2086 # the package lists are word lists, split on purpose
set -eu

# build: compiler, make, pkg-config, libcap-ng, OpenSSL 3's headers (libssl3,
# dlopen()ed by --tls, comes with them), libseccomp (the sandbox's filters
# are compiled to BPF at build time: the binary does not link it); lint and
# fuzz: cppcheck,
# clang-tidy, clang + its sanitizer runtime; docs: groff.
BUILD="gcc make pkg-config libc6-dev libcap-ng-dev libssl-dev libseccomp-dev groff-base cppcheck
clang-tidy clang libclang-rt-14-dev"
# make check: bats, the peers tests compare against, namespaces and firewall
# (iproute2, nftables), valgrind, netbase for /etc/services (tests use
# service names such as www), systemd for systemd-socket-activate (nothing
# is started: it is only the launcher the socket-activation tests use), strace
# (options.bats proves -n looks nothing up), traceroute and iputils-tracepath
# (trace.bats compares --trace with them), prometheus for promtool (checks
# the --openmetrics files), fping (the oracle for raw-icmp's many targets);
# tls.bats: openssl (its CA, and s_server/s_client), curl, socat, python3's ssl;
# proxy.bats: microsocks, dante-server, tinyproxy, openssh for ssh's
# ProxyCommand to a local sshd; bsdextrautils for hexdump -C (session.bats
# compares --hex-dump with it).
TEST="bats python3 netcat-openbsd socat ncat iputils-ping iproute2 nftables
dnsmasq-base jq valgrind procps util-linux bash-completion libcap2-bin time
netbase systemd strace traceroute iputils-tracepath prometheus fping openssl curl
microsocks dante-server tinyproxy openssh-server openssh-client bsdextrautils zsh fish"
# benchmarks (make bench; stunnel4: TLS termination, 60-forward-tls.sh)
BENCH="hyperfine iperf3 nmap stunnel4"
# the Debian package (make deb, make deb-check) and the JSON schemas' test
PACKAGE="debhelper dpkg-dev fakeroot lintian python3-jsonschema"
# for later work, cheap to have now: more peers and
# tools (tshark, expect), load for flake hunting (stress-ng), fresh roots
# for the set-up test (debootstrap).
LATER="tshark expect stress-ng debootstrap"
PACKAGES="$BUILD $TEST $BENCH $PACKAGE $LATER"

if [ "${1:-}" = --list ]; then
	printf '%s\n' $PACKAGES
	exit 0
fi

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	set -- $PACKAGES
	echo "deps.sh: all $# dependencies present"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "deps.sh: not root and no sudo: run it as root (su -c 'sh deps.sh')" >&2
	exit 1
fi

echo "deps.sh: installing:$missing"
# Questions some packages ask, answered here so the install never waits:
# tshark (wireshark-common) asks whether non-root users may capture: no;
# iperf3 asks whether to start a daemon: no.
$SUDO debconf-set-selections <<'EOF'
wireshark-common wireshark-common/install-setuid boolean false
iperf3 iperf3/start_daemon boolean false
EOF
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "deps.sh: done"
