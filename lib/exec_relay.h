/* SPDX-License-Identifier: MIT */
/*
 * A program behind the relay (listen/connect -e/-c when the bytes must be
 * seen: --crlf, --delay, a session log, TLS).  The program gets two pipes;
 * relay_run (or tls_relay) carries the bytes between them and the socket,
 * each direction's end on its own: the peer's EOF (TLS: its close_notify)
 * closes the program's stdin, the program's stdout EOF shuts down our
 * writing side (TLS: close_notify first), and the program leaving early
 * drops only the direction it no longer reads.
 *
 * With listen -k, every client whose bytes must be seen gets its own relay
 * process (exec_fork_server): the server's loop forks it right after the
 * accept and keeps serving the others; the child closes the listening
 * sockets, does the TLS handshake itself (within --handshake-timeout),
 * runs the program behind the relay and sends its result to the parent over
 * a pipe (the program's pid when it starts; status and byte counts when it
 * ends).  The parent reaps the child and reports one exec event per client.
 * The child counts as a client (-m) until it is gone.
 */
#ifndef SOCKCTL_EXEC_RELAY_H
#define SOCKCTL_EXEC_RELAY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "err.h"
#include "exec.h"
#include "relay.h"
#include "server.h"

struct tls_ctx;
struct tls_conn;
struct tls_report;

/* What one program behind the relay did (what the exec event shows). */
struct exec_relay_result {
	pid_t pid;
	struct exec_status st;
	int64_t duration_ns;
	uint64_t bytes_in;    /* from the peer to the program */
	uint64_t bytes_out;   /* from the program to the peer */
	uint64_t undelivered; /* relay_failed: bytes of the program's that the peer never took */
	int relay_failed;     /* the relay failed (reset, truncation...): why */
	char why[512];
};

/*
 * Run @x on two pipes and relay them to connected socket @sock (through
 * @tls when not NULL, which stays the caller's to close) under @ro (crlf,
 * line delay, tap; out_is_program is set here); @started (may be NULL) is
 * called with the program's pid as soon as it runs.  Then wait for the
 * program.  0 with @res filled (a relay failure is in res->relay_failed:
 * the program's status is still there); -1 with @e (status 1) if the
 * program could not start.  @sock stays open.
 */
int exec_relay_run(const struct exec_cmd *x, int sock, struct tls_conn *tls,
		   const struct relay_opts *ro, void (*started)(void *ctx, pid_t pid),
		   void *ctx, struct exec_relay_result *res, struct err *e);

/* ---- listen -k: one relay process per client ---- */

struct exec_fork_server {
	const struct exec_cmd *cmd;
	const struct relay_opts *ro;
	struct tls_ctx *tls;    /* NULL: plain */
	const int *lfds;        /* the listening sockets: closed in every child */
	int nl;
	/* In the child, before the handshake: the client's name for the session log. */
	void (*child_setup)(void *ctx, uint64_t id, const struct sockaddr *peer,
			    socklen_t peerlen);
	/* In the child, the handshake done: its report (may be NULL). */
	void (*on_tls)(void *ctx, const struct tls_report *r, const struct sockaddr *peer,
		       socklen_t peerlen);
	exec_event_fn on_event; /* in the parent: started, ended (with ev.relay), failed */
	void *ctx;
	struct server_handoff handoff; /* for server_opts.handoff */
};

/* Fill x->handoff from the fields above (set them first). */
void exec_fork_server_init(struct exec_fork_server *x);

#endif
