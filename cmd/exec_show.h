/* SPDX-License-Identifier: MIT */
/*
 * Running a program on a connection, for connect and listen (-e, -c): its
 * events on stderr (-v text, or a JSON "exec" event when it ends: id, pid,
 * status or signal, duration), and the one-client recipe.
 */
#ifndef SOCKCTL_EXEC_SHOW_H
#define SOCKCTL_EXEC_SHOW_H

#include "exec.h"
#include "exec_relay.h"
#include "relay.h"
#include "server_show.h"
#include "session_log.h"
#include "tls.h"

/* The exec_event_fn hook: @ctx is a struct server_show. */
void exec_show_event(void *ctx, const struct exec_event *ev);

/*
 * Give connected socket @fd (client @id, from @peer) to @x as its stdin and
 * stdout, close ours, wait for the program; *@status is its exit status (128
 * + signal if killed).  -1 with @e if it could not start.  With @ro (the
 * bytes must be seen: --crlf, a session log) the program gets two pipes and
 * relay_run carries the bytes and each direction's EOF; NULL: the direct
 * mode (the socket itself).  A relay failure is reported as a warning.
 */
int exec_show_run(struct server_show *show, const struct exec_cmd *x, int fd, uint64_t id,
		  const struct sockaddr *peer, socklen_t peerlen, const struct relay_opts *ro,
		  int *status, struct err *e);

/*
 * connect -e/-c on connected socket @fd: the program's status, or -1 with
 * @e.  With @tls (connect --tls) the handshake to @host first, then the
 * program behind the TLS relay (@ro must then be given); @peer names the
 * target in messages, @tcp_ns the TCP connect time for the report.
 */
int exec_show_connect(const struct exec_cmd *x, int verbose, int json, int fd,
		      const struct relay_opts *ro, const struct tls_opts *tls, const char *host,
		      const char *peer, int64_t tcp_ns, struct err *e);

/* How listen -e/-c carries the bytes. */
struct exec_serve_how {
	const struct relay_opts *ro; /* NULL: the direct mode (the program has the socket) */
	const struct tls_opts *tls;  /* --tls (then ro is set); NULL: none */
	struct session_log *log;     /* -k: each relay process names its client in it */
};

/*
 * listen -e/-c on the @n listening sockets @fds: without so->keep_open the
 * first client's program, whose status goes to *@status (1 if the relay
 * failed: bytes not delivered, a reset, a truncated TLS stream); with it
 * one program per client in lib/server's loop, behind a relay process of
 * its own when @how->ro is set (statuses are only reported).
 */
int listen_exec_serve(const struct exec_cmd *x, struct server_show *show,
		      const struct server_opts *so, int nonblock, int *fds, int n,
		      const struct exec_serve_how *how, int *status, struct err *e);

/* ---- cmd/exec_relay_show.c: the program behind the relay ---- */

/*
 * The program behind pipes on connected socket @fd (through @tls if not
 * NULL), for client @id from @peer: its exec event; *@status its exit
 * status.  -1 with @e if it could not start, or if the relay failed (status
 * 1, the bytes not delivered counted).  @fd stays open.
 */
int exec_show_piped(struct server_show *show, const struct exec_cmd *x, int fd,
		    struct tls_conn *tls, uint64_t id, const struct sockaddr *peer,
		    socklen_t peerlen, const struct relay_opts *ro, int *status, struct err *e);

/*
 * listen -e/-c when the bytes must be seen under -k, or with --tls: the TLS
 * context first; without -k the first client (its handshake, its program
 * behind the relay); with -k a relay process per client (lib/exec_relay).
 */
int listen_exec_relayed(const struct exec_cmd *x, struct server_show *show,
			const struct server_opts *so, int nonblock, int *fds, int n,
			const struct exec_serve_how *how, int *status, struct err *e);

#endif
