/* SPDX-License-Identifier: MIT */
/*
 * Running a program on a connection, for connect and listen (-e, -c): its
 * events on stderr (-v text, or a JSON "exec" event when it ends: id, pid,
 * status or signal, duration), and the one-client recipe.
 */
#ifndef SOCKCTL_EXEC_SHOW_H
#define SOCKCTL_EXEC_SHOW_H

#include "exec.h"
#include "relay.h"
#include "server_show.h"

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

/* connect -e/-c on connected socket @fd: the program's status, or -1 with @e. */
int exec_show_connect(const struct exec_cmd *x, int verbose, int json, int fd,
		      const struct relay_opts *ro, struct err *e);

/*
 * listen -e/-c on the @n listening sockets @fds: without so->keep_open the
 * first client's program, whose status goes to *@status; with it one
 * program per client in lib/server's loop (statuses are only reported).
 */
int listen_exec_serve(const struct exec_cmd *x, struct server_show *show,
		      const struct server_opts *so, int nonblock, int *fds, int n,
		      const struct relay_opts *ro, int *status, struct err *e);

#endif
