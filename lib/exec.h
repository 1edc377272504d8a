/* SPDX-License-Identifier: MIT */
/*
 * Running a program per connection (listen -e/-c, connect --exec): the
 * command line split on whitespace (no shell) or handed to /bin/sh -c, a
 * spawn whose stdin and stdout are given descriptors, stderr ours, every
 * other descriptor closed, and SOCKCTL_PEER_ADDR/PORT, SOCKCTL_LOCAL_ADDR/PORT
 * in its environment.
 *
 * How the bytes reach the program (the choice documented in sockctl-listen(1)):
 * when nothing of ours needs to see them, the program gets the connected
 * socket itself as stdin and stdout, as ncat does; no byte passes through
 * sockctl and no process of ours stays in the path.  Then the client's EOF is
 * the program's stdin EOF, and our side's FIN goes out when the program has
 * closed the socket (normally when it exits).  When the bytes must be seen
 * (--crlf, a session log, TLS), the program gets two pipes and the relay
 * carries each direction's end separately (see exec_spawn_pipes).
 */
#ifndef SOCKCTL_EXEC_H
#define SOCKCTL_EXEC_H

#include <sys/types.h>

#include "err.h"

struct exec_cmd {
	char **argv; /* NULL-terminated */
	char *buf;   /* the words' storage */
	int shell;   /* argv is /bin/sh -c CMD */
};

/*
 * Parse @cmd: with @shell the whole string goes to /bin/sh -c; else it is
 * split on spaces and tabs, and the program must exist (a path that can be
 * executed, or a name found in PATH).  -1 with @e (status 2) if empty or
 * not found.  Free with exec_cmd_free.
 */
int exec_cmd_parse(const char *cmd, int shell, struct exec_cmd *x, struct err *e);
void exec_cmd_free(struct exec_cmd *x);

/*
 * Start @x with @in_fd as its stdin and @out_fd as its stdout (the same
 * socket in the direct mode); they are made blocking.  Descriptors from 3
 * up are closed in the child (ours are all close-on-exec too).  Signals the
 * parent ignores (SIGPIPE) are back at their default in the child.  @sock
 * (a connected socket, or -1) names the ends in the environment.  0 with
 * *@pid, or -1 with @e (status 1) if it could not start.
 */
int exec_spawn(const struct exec_cmd *x, int in_fd, int out_fd, int sock, pid_t *pid,
	       struct err *e);

/* How a program ended, from a wait status. */
struct exec_status {
	int exited; /* 1: exit(code); 0: killed by signal */
	int code;
	int signal;
};
void exec_status_decode(int wstatus, struct exec_status *st);
/* The status a command returns for it: the code, or 128 + the signal (as sh). */
int exec_status_exit(const struct exec_status *st);

/* Wait for @pid (EINTR safe). */
int exec_wait(pid_t pid, struct exec_status *st, struct err *e);

/* ---- one process per client in lib/server's loop (listen -k --exec) ---- */

#include <stdint.h>
#include <sys/socket.h>

#include "server.h"

struct exec_relay_result;

/* A program started or ended for client @id. */
struct exec_event {
	uint64_t id;
	pid_t pid;           /* 0 if it could not start */
	const struct sockaddr *peer;
	socklen_t peerlen;
	int ended;           /* 0: started (or failed to: @error); 1: ended with @st */
	struct exec_status st;
	int64_t duration_ns; /* ended: since it started */
	const char *error;   /* it could not start: why */
	/* ended, behind the relay (lib/exec_relay): bytes each way, a relay failure */
	const struct exec_relay_result *relay;
};
typedef void (*exec_event_fn)(void *ctx, const struct exec_event *ev);

struct exec_server {
	const struct exec_cmd *cmd;
	exec_event_fn on_event; /* may be NULL */
	void *ctx;
	struct server_handoff handoff; /* for server_opts.handoff */
};

/*
 * Every client gets its own process with the socket as stdin and stdout
 * (the direct mode); the loop watches the process (a pidfd) and frees the
 * client's place when it exits.  A program that cannot start: the client
 * is reset and an event says why.
 */
void exec_server_init(struct exec_server *x, const struct exec_cmd *cmd, exec_event_fn fn,
		      void *ctx);

#endif
