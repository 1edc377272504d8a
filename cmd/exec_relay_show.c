/* SPDX-License-Identifier: MIT */
/*
 * listen/connect -e/-c with the program behind the relay (--crlf, --delay,
 * -o, --hex-dump, --tls): the recipes around lib/exec_relay and what they
 * show.  Under listen -k each client has a relay process of its own.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "exec_show.h"
#include "server.h"
#include "sock.h"
#include "tls_show.h"

int exec_show_piped(struct server_show *show, const struct exec_cmd *x, int fd,
		    struct tls_conn *tls, uint64_t id, const struct sockaddr *peer,
		    socklen_t peerlen, const struct relay_opts *ro, int *status, struct err *e)
{
	struct exec_event ev = { .id = id, .peer = peer, .peerlen = peerlen, .ended = 1 };
	struct exec_relay_result r;
	char who[ADDR_STRLEN] = "the peer";

	if (exec_relay_run(x, fd, tls, ro, NULL, NULL, &r, e))
		return -1;
	ev.pid = r.pid;
	ev.st = r.st;
	ev.duration_ns = r.duration_ns;
	ev.relay = &r;
	exec_show_event(show, &ev);
	*status = exec_status_exit(&r.st);
	if (!r.relay_failed)
		return 0;
	/* nothing is lost silently: the program's status gives way to the relay's failure */
	if (peer && peerlen)
		addr_format(peer, peerlen, who, sizeof(who));
	if (r.undelivered)
		return err_set(e, EXIT_FAIL, "%s: %.300s (the program's output: %llu bytes not "
			       "delivered)", who, r.why, (unsigned long long)r.undelivered);
	return err_set(e, EXIT_FAIL, "%s: %.400s", who, r.why);
}

/* ---- listen -k: a relay process per client ---- */

/* The hooks' context, in the parent and (a copy) in each child. */
struct fork_ctx {
	struct server_show *show;
	struct session_log *log; /* NULL: none */
};

/* In the child: its client's name in every session-log header. */
static void child_setup(void *ctx, uint64_t id, const struct sockaddr *peer, socklen_t len)
{
	const struct fork_ctx *f = ctx;

	if (f->log)
		session_log_name(f->log, id, peer, len);
}

/* In the child: the handshake's report, as listen --tls -k shows it. */
static void child_tls(void *ctx, const struct tls_report *r, const struct sockaddr *peer,
		      socklen_t len)
{
	const struct fork_ctx *f = ctx;
	const struct server_show *show = f->show;
	char who[ADDR_STRLEN];

	addr_format(peer, len, who, sizeof(who));
	tls_show_report(&(struct tls_show){ show->cmd, show->verbose, show->json }, stderr, r,
			who, 0);
}

/* The parent's exec events; a relay failure is a warning (never listen's status). */
static void fork_event(void *ctx, const struct exec_event *ev)
{
	const struct fork_ctx *f = ctx;
	struct server_show *show = f->show;
	char who[ADDR_STRLEN] = "the peer";

	exec_show_event(show, ev);
	if (show->json || !ev->relay || !ev->relay->relay_failed)
		return;
	if (ev->peer && ev->peerlen)
		addr_format(ev->peer, ev->peerlen, who, sizeof(who));
	err_warn(show->cmd, "%s: %s (%llu bytes not delivered)", who, ev->relay->why,
		 (unsigned long long)ev->relay->undelivered);
}

static int serve_forked(const struct exec_cmd *x, struct server_show *show,
			const struct server_opts *so, int *fds, int n, struct tls_ctx *tls,
			const struct exec_serve_how *how, struct err *e)
{
	struct exec_fork_server xs;
	struct fork_ctx f = { show, how->log };
	struct server_opts kso = *so;
	struct server_stats st;

	memset(&xs, 0, sizeof(xs));
	xs.cmd = x;
	xs.ro = how->ro;
	xs.tls = tls;
	xs.lfds = fds;
	xs.nl = n;
	xs.child_setup = child_setup;
	xs.on_tls = child_tls;
	xs.on_event = fork_event;
	xs.ctx = &f;
	exec_fork_server_init(&xs);
	kso.handoff = &xs.handoff;
	kso.in_fd = kso.out_fd = -1;
	return server_run_stream(fds, n, &kso, &st, e);
}

/* Without -k: the first client, its handshake, its program. */
static int serve_first(const struct exec_cmd *x, struct server_show *show,
		       const struct server_opts *so, int nonblock, int *fds, int n,
		       struct tls_ctx *tls, const struct exec_serve_how *how, int *status,
		       struct err *e)
{
	struct sockaddr_storage ss = { 0 };
	struct tls_conn *conn = NULL;
	struct tls_report r;
	socklen_t len = 0;
	char who[ADDR_STRLEN], msg[sizeof(e->msg)];
	int fd = server_accept_first(fds, n, so, nonblock, &ss, &len, e), rc;

	sock_close_all(fds, n); /* one client, as without -e */
	if (fd < 0)
		return -1;
	addr_format((struct sockaddr *)&ss, len, who, sizeof(who));
	if (tls) {
		memset(&r, 0, sizeof(r));
		r.tcp_ns = -1;
		if (tls_accept(tls, fd, &conn, &r, e)) {
			snprintf(msg, sizeof(msg), "%s", e->msg);
			close(fd);
			return err_set(e, EXIT_FAIL, "%s: %s", who, msg);
		}
		tls_show_report(&(struct tls_show){ show->cmd, show->verbose, show->json }, stderr,
				&r, who, 0);
	}
	rc = exec_show_piped(show, x, fd, conn, 1, (struct sockaddr *)&ss, len, how->ro, status,
			     e);
	tls_conn_close(conn, rc == 0); /* a polite end: close_notify */
	close(fd);
	return rc;
}

int listen_exec_relayed(const struct exec_cmd *x, struct server_show *show,
			const struct server_opts *so, int nonblock, int *fds, int n,
			const struct exec_serve_how *how, int *status, struct err *e)
{
	struct tls_ctx *tls = NULL;
	int rc;

	if (how->tls && listen_tls_ctx(&(struct tls_show){ show->cmd, show->verbose, show->json },
				       how->tls, fds, n, &tls, e)) {
		sock_close_all(fds, n);
		return -1;
	}
	if (so->keep_open) {
		rc = serve_forked(x, show, so, fds, n, tls, how, e);
		sock_close_all(fds, n);
	} else {
		rc = serve_first(x, show, so, nonblock, fds, n, tls, how, status, e);
	}
	tls_ctx_free(tls);
	return rc;
}
