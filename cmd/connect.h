/* SPDX-License-Identifier: MIT */
/* sockctl connect: its options, shared by its recipe (connect.c), -z (connect_scan.c) and output (connect_show.c). */
#ifndef SOCKCTL_CMD_CONNECT_H
#define SOCKCTL_CMD_CONNECT_H

#include <stdint.h>

#include "clock.h"
#include "connect_probe.h"
#include "connect_proxy.h"
#include "exec_show.h"
#include "relay.h"
#include "session_log.h"
#include "sock.h"
#include "sock_connect.h"
#include "tls.h"

#define SCAN_PARALLEL 1024
#define SCAN_TIMEOUT NS_PER_SEC

struct connect_opts {
	int family, udp, unix_sock, verbose, json, nonblock, numeric;
	const char *type;
	int64_t timeout, connect_timeout, attempt_delay;
	struct relay_eof_opts eof;
	struct sockopts so;
	int tcp_info;
	long long parallel, fd;
	int scan, no_sandbox;
	struct connect_probe_opts probe; /* --count: TCP ping */
	struct tls_opts tls;
	struct connect_proxy px;
	const char *exec, *sh_exec; /* -e, -c */
	struct exec_cmd xcmd;
	struct session_opts see;    /* -C, --delay, -o, --hex-dump */
	struct session_log *log;
};

struct connect_ctx {
	const struct connect_opts *o;
};

/* Happy Eyeballs and the rest of lib/sock_connect, from connect's options. */
void connect_fill_co(const struct connect_opts *o, struct connect_ctx *c,
		     struct sock_connect_opts *co);
/* lib/sock_connect's attempt hook: -v, --json and --nonblock lines. */
void connect_on_attempt(void *p, const struct sock_attempt *a);
/* -z: the port checks; 0 if one is open, else -1 with @e. */
int connect_run_scan(const struct connect_opts *o, const struct endpoint *ep, struct err *e);
/* --tcp-info's report, both ends (-v, --json; the peer's name into @pb), the end of the relay. */
void connect_show_tcp_info(const struct connect_opts *o, int fd);
void connect_show_ends(const struct connect_opts *o, int fd, char *pb);
void connect_show_end(const struct connect_opts *o, const struct relay_stats *st, int rc);

#endif
