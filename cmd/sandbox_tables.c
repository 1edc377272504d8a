/* SPDX-License-Identifier: MIT */
/*
 * Every command's seccomp allow-list, one table per mode, built from the
 * shared groups of lib/sandbox.h.  They live together, not in each command's
 * file: the command files are at their size limit and change in many
 * branches at once, and one file is where a reviewer sees everything the
 * binary may still do after set-up (and where a feature that needs more
 * adds it: a new mode gets a new table, the command one dispatch line).
 *
 * Where each command enters the sandbox (after options, names, sockets,
 * files and privileges):
 *  resolve      after getaddrinfo/getnameinfo returned, before the results
 *               (hostile names) are escaped and printed;
 *  connect      relay: once connected (Happy Eyeballs and its fallbacks are
 *               over); -z: after the name is resolved and before the checks,
 *               which open and connect sockets: that table allows socket(2)
 *               and connect(2) (SB_CONNECT) and epoll;
 *  listen       after the sockets are bound and the port shown: one client,
 *               -k/--echo (the accept loop: SB_ACCEPT + SB_EPOLL), -u;
 *               -U also removes its socket file at the end (SB_UNLINK, and
 *               Landlock's REMOVE_FILE in its directory only);
 *  udp-send     after the socket is open and the engine set up (-W's wait
 *               for replies is recvmmsg on the same socket: SB_DGRAM);
 *  udp-recv     after the sockets are bound and the engine set up;
 *  raw-icmp     after the socket is open, every socket option set and
 *               CAP_NET_RAW (and root's rights) dropped.
 * A mode that must connect later (listen --forward, --proxy) adds
 * SB_CONNECT and resolves its names before entering; one that must still
 * resolve (traceroute --resolve) adds SB_RESOLVE and lists /etc and the NSS
 * libraries as Landlock read paths.  --exec: see lib/sandbox.h (a spawner
 * forked before the filter).
 */
#include <seccomp.h>

#include "cmd_sandbox.h"

const struct sandbox_table sb_resolve = { "resolve", SB_BASE, NULL };

const struct sandbox_table sb_connect_relay = { "connect relay", SB_BASE | SB_RELAY, NULL };
/* -z -u: an empty datagram to each port, and a recv(2) for its answer */
static const int connect_scan_extra[] = { SCMP_SYS(sendto), SCMP_SYS(recvfrom), -1 };
const struct sandbox_table sb_connect_scan = { "connect -z", SB_BASE | SB_CONNECT | SB_EPOLL,
					       connect_scan_extra };

const struct sandbox_table sb_listen_one = { "listen",
					     SB_BASE | SB_RELAY | SB_ACCEPT | SB_UNLINK, NULL };
const struct sandbox_table sb_listen_stream = {
	"listen -k", SB_BASE | SB_RELAY | SB_ACCEPT | SB_EPOLL | SB_UNLINK, NULL
};
/* -u connects its socket to the first sender (then relays as connect -u) */
static const int listen_dgram_extra[] = { SCMP_SYS(connect), -1 };
const struct sandbox_table sb_listen_dgram = { "listen -u",
					       SB_BASE | SB_RELAY | SB_DGRAM | SB_UNLINK,
					       listen_dgram_extra };

/* udp-send and raw-icmp name the path MTU when --pmtu do meets EMSGSIZE */
const struct sandbox_table sb_udp_send = { "udp-send", SB_BASE | SB_DGRAM | SB_PATH_MTU, NULL };
const struct sandbox_table sb_udp_recv = { "udp-recv", SB_BASE | SB_DGRAM, NULL };

const struct sandbox_table sb_raw_icmp = { "raw-icmp", SB_BASE | SB_ICMP | SB_PATH_MTU, NULL };
