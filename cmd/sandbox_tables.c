/* SPDX-License-Identifier: MIT */
/*
 * Every command's seccomp allow-list, one table per mode, built from the
 * shared groups of tools/sandbox_gen.h.  This file is compiled into the
 * build-time generator only (tools/sandbox_gen.c, linked with libseccomp):
 * `make` turns each table into a BPF program in $(BUILD)/gen/sandbox_progs.c
 * (const struct sandbox_prog sb_<id>, declared in cmd/cmd_sandbox.h), and
 * ./sockctl installs the one of its mode with a single seccomp(2) call.
 * They live together, not in each command's file: the command files are
 * at their size limit and change in many branches at once, and one file is
 * where a reviewer sees everything the binary may still do after set-up.
 * A new mode: a row here, its extern in cmd/cmd_sandbox.h, and the
 * cmd_sandbox_enter() call in the command (see docs/sandbox.inc).
 *
 * Where each command enters the sandbox (after options, names, sockets,
 * files and privileges):
 *  resolve      after getaddrinfo/getnameinfo returned, before the results
 *               (hostile names) are escaped and printed;
 *  connect      relay: once connected (Happy Eyeballs and its fallbacks are
 *               over, a --proxy tunnel is open, -o/--hex-dump files are
 *               open); --tls: after the handshake (libssl dlopen()ed, CA
 *               store read, certificate verified); -z: after the name is
 *               resolved, before the checks, which open and connect sockets
 *               (SB_CONNECT, epoll);
 *  listen       after the sockets are bound and the port shown: one client,
 *               -k/--echo (the accept loop: SB_ACCEPT + SB_EPOLL), -u;
 *               --tls: the server context (certificate, key, CA) is built
 *               first, the handshakes run in the loop (SB_TLS); --forward:
 *               the target is resolved first, each client connects it
 *               (SB_CONNECT); -U also removes its socket file at the end
 *               (SB_UNLINK, and Landlock's REMOVE_FILE in its directory only);
 *  udp-send     after the socket is open and the engine set up (-W's wait
 *               for replies is recvmmsg on the same socket: SB_DGRAM);
 *  udp-recv     after the sockets are bound and the engine set up;
 *  raw-icmp     after the socket is open, every socket option set and
 *               CAP_NET_RAW (and root's rights) dropped.
 * -e/-c (connect, listen): no seccomp filter and no Landlock (a filter is
 * inherited by the programs run); no_new_privs only, and -v says so.
 */
#include <seccomp.h>
#include <stddef.h>

#include "sandbox_gen.h"

#define LISTEN_ANY (SB_BASE | SB_RELAY | SB_ACCEPT | SB_UNLINK)

/* -z -u: an empty datagram to each port, and a recv(2) for its answer */
static const int connect_scan_extra[] = { SCMP_SYS(sendto), SCMP_SYS(recvfrom), -1 };
static const int forward_extra[] = { SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
				     SCMP_SYS(timerfd_gettime), -1 };
/* -u connects its socket to the first sender (then relays as connect -u) */
static const int listen_dgram_extra[] = { SCMP_SYS(connect), -1 };

const struct sandbox_table sandbox_tables[] = {
	/* the lookup is over: it prints and ends (SB_PRINT, not SB_BASE: its filter
	 * is loaded on every run, and a shorter one loads faster) */
	{ "resolve", "resolve", SB_PRINT | SB_EXIT, NULL },
	{ "connect_relay", "connect relay", SB_BASE | SB_RELAY, NULL },
	{ "connect_tls", "connect --tls", SB_BASE | SB_RELAY | SB_TLS, NULL },
	/* --session FILE: a TLS 1.3 ticket may come (and be saved) during the relay;
	 * Landlock allows writing in FILE's directory only */
	{ "connect_tls_session", "connect --tls --session", SB_BASE | SB_RELAY | SB_TLS |
	  SB_WRITE_FILES, NULL },
	{ "connect_scan", "connect -z", SB_BASE | SB_CONNECT | SB_EPOLL, connect_scan_extra },
	/* -z --tls: each port resolved, connected (blocking) and verified in turn */
	{ "connect_scan_tls", "connect -z --tls",
	  SB_BASE | SB_RELAY | SB_CONNECT | SB_RESOLVE | SB_TLS | SB_FILES, NULL },
	/* -z --tls --session FILE: each port's ticket saved (Landlock: FILE's directory) */
	{ "connect_scan_tls_session", "connect -z --tls --session", SB_BASE | SB_RELAY |
	  SB_CONNECT | SB_RESOLVE | SB_TLS | SB_FILES | SB_WRITE_FILES, NULL },
	/* --count: TCP ping, a non-blocking connect per probe in epoll */
	{ "connect_count", "connect --count", SB_BASE | SB_CONNECT | SB_EPOLL, NULL },
	/* --count --tls (a handshake per probe, CA store read) or --openmetrics */
	{ "connect_count_files", "connect --count (--tls, --openmetrics)",
	  SB_BASE | SB_CONNECT | SB_EPOLL | SB_RELAY | SB_TLS | SB_FILES | SB_WRITE_FILES, NULL },
	/* --trace (connect, udp-send, raw-icmp): TCP probes a socket each, UDP
	 * sendmmsg, the answers from the error queue or the ICMP socket */
	{ "trace", "--trace", SB_BASE | SB_CONNECT | SB_DGRAM | SB_ICMP | SB_EPOLL, NULL },
	/* --trace --resolve (threads doing getnameinfo) or --openmetrics */
	{ "trace_files", "--trace (--resolve, --openmetrics)", SB_BASE | SB_CONNECT | SB_DGRAM |
	  SB_ICMP | SB_EPOLL | SB_THREADS | SB_RESOLVE | SB_WRITE_FILES, NULL },
	{ "listen_one", "listen", LISTEN_ANY, NULL },
	{ "listen_stream", "listen -k", LISTEN_ANY | SB_EPOLL, NULL },
	{ "listen_tls", "listen --tls", LISTEN_ANY | SB_EPOLL | SB_TLS, NULL },
	{ "listen_tls_ca", "listen --tls --ca", LISTEN_ANY | SB_EPOLL | SB_TLS | SB_FILES, NULL },
	/* the target (and a --proxy) resolved for each client, connected without
	 * stopping the loop (a timerfd wakes the Happy Eyeballs race); -u too */
	{ "listen_forward", "listen --forward",
	  LISTEN_ANY | SB_EPOLL | SB_CONNECT | SB_RESOLVE | SB_DGRAM, forward_extra },
	/* --forward with --tls (termination) or --forward-tls: the same, and the
	 * handshakes in the loop; a --ca/--forward-ca directory is read per handshake */
	{ "listen_forward_tls", "listen --forward (TLS)",
	  LISTEN_ANY | SB_EPOLL | SB_CONNECT | SB_RESOLVE | SB_DGRAM | SB_TLS | SB_FILES,
	  forward_extra },
	/* --proxy-server: getaddrinfo() of each request's host, then a connect;
	 * --proxy-auth FILE is read as the server starts (Landlock: that file) */
	{ "listen_proxy", "listen --proxy-server",
	  LISTEN_ANY | SB_EPOLL | SB_CONNECT | SB_RESOLVE | SB_FILES, NULL },
	{ "listen_dgram", "listen -u", LISTEN_ANY | SB_DGRAM, listen_dgram_extra },
	/* udp-send and raw-icmp name the path MTU when --pmtu do meets EMSGSIZE */
	{ "udp_send", "udp-send", SB_BASE | SB_DGRAM | SB_PATH_MTU, NULL },
	{ "udp_recv", "udp-recv", SB_BASE | SB_DGRAM, NULL },
	{ "raw_icmp", "raw-icmp", SB_BASE | SB_ICMP | SB_PATH_MTU, NULL },
	/* --openmetrics FILE: written at the end (Landlock: FILE's directory) */
	{ "raw_icmp_metrics", "raw-icmp --openmetrics", SB_BASE | SB_ICMP | SB_PATH_MTU |
	  SB_WRITE_FILES, NULL },
	/* tests/unit/test_sandbox.c */
	{ "test_base", "test base", SB_BASE, NULL },
	{ "test_relay", "test relay", SB_BASE | SB_RELAY, NULL },
	{ NULL, NULL, 0, NULL },
};
