/* SPDX-License-Identifier: MIT */
/* sockctl listen: its options, shared by its recipe (listen.c) and its checks (listen_check.c). */
#ifndef SOCKCTL_CMD_LISTEN_H
#define SOCKCTL_CMD_LISTEN_H

#include <stdint.h>

#include "addr.h"
#include "clock.h"
#include "connect_proxy.h"
#include "exec_show.h"
#include "listen_forward.h"
#include "listen_proxy.h"
#include "relay.h"
#include "session_log.h"
#include "sock.h"
#include "tls.h"

#define MAX_FDS 16
#define MAX_CIDRS 64
/* -k: a client that takes no broadcast for this long is dropped (--stall-timeout) */
#define STALL_TIMEOUT_DEFAULT (10 * NS_PER_SEC)
/* -k without -m: serve at most the open-file limit less this many (listeners,
 * stdio, epoll) at once, the others wait in the backlog: accept never hits EMFILE */
#define FD_RESERVE 32

struct cidr_list {
	struct cidr c[MAX_CIDRS];
	size_t n;
};

struct listen_opts {
	int family, keep_open, udp, unix_sock, echo, verbose, json, nonblock, numeric, nc_listen;
	int line_buffered, no_sandbox;
	const char *unix_path, *source, *port, *type;
	const char *exec, *sh_exec; /* -e, -c */
	struct exec_cmd xcmd;
	int status;                 /* without -k, -e/-c: the program's */
	struct session_opts see;    /* -C, --delay, -o, --hex-dump */
	struct session_log log;
	int broker, chat;           /* --broker, --chat */
	const char *forward;        /* --forward TARGET */
	struct connect_proxy fpx;   /* --forward through a proxy (--proxy, -x) */
	struct listen_ftls ftls;    /* --forward-tls and its options */
	struct endpoint fwd;
	int64_t connect_timeout;
	int sock_type;      /* from --type, or the inherited socket's */
	long long max_conns, backlog, mode, fd, echo_rate;
	int max_serving; /* without -m: from the open-file limit; more wait */
	int64_t timeout, stall_timeout;
	struct relay_eof_opts eof;
	struct sockopts so;
	struct cidr_list allow, deny;
	struct tls_opts tls;
	struct listen_proxy px;
};

/* After set-up: the sandbox of listen's mode (cmd/listen_sandbox.c). */
int listen_sandbox(const struct listen_opts *o, struct err *e);

/* The options against each other and against the endpoint's kind (NULL: inherited): once. */
int listen_check_opts(const struct listen_opts *o, const struct endpoint *ep, struct err *e);

#endif
