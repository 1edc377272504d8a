/* SPDX-License-Identifier: MIT */
/* connect/listen -e, -c: the program's events and the recipes around lib/exec. */
#include "exec_show.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "out.h"
#include "parse.h"
#include "sock.h"
#include "tls_show.h"

/* "SIGTERM", or "SIG42" for a number without a name. */
static const char *sig_name(int sig, char *buf, size_t n)
{
	const char *abbr = sigabbrev_np(sig);

	if (abbr)
		snprintf(buf, n, "SIG%s", abbr);
	else
		snprintf(buf, n, "SIG%d", sig);
	return buf;
}

static void event_json(const struct exec_event *ev)
{
	char sig[32];
	struct jsonw w;

	json_begin(&w, stderr);
	json_str(&w, "event", "exec");
	if (ev->id)
		json_uint(&w, "id", ev->id);
	if (ev->peer && ev->peerlen)
		json_sockaddr(&w, ev->peer, ev->peerlen);
	if (ev->error) {
		json_str(&w, "error", ev->error);
	} else {
		json_int(&w, "pid", ev->pid);
		if (ev->st.exited)
			json_int(&w, "status", ev->st.code);
		else
			json_str(&w, "signal", sig_name(ev->st.signal, sig, sizeof(sig)));
		json_num(&w, "duration_ms", (double)ev->duration_ns / 1e6, 3);
		if (ev->relay) {
			json_uint(&w, "bytes_in", ev->relay->bytes_in);
			json_uint(&w, "bytes_out", ev->relay->bytes_out);
			if (ev->relay->relay_failed) {
				json_str(&w, "relay_error", ev->relay->why);
				json_uint(&w, "undelivered", ev->relay->undelivered);
			}
		}
	}
	json_end(&w);
	fflush(stderr);
}

void exec_show_event(void *ctx, const struct exec_event *ev)
{
	const struct server_show *c = ctx;
	char who[ADDR_STRLEN + 16] = "the peer", dur[32], sig[32], bytes[64] = "";

	if (c->json) {
		if (ev->ended || ev->error)
			event_json(ev);
		return;
	}
	if (ev->error) {
		err_warn(c->cmd, "%s", ev->error); /* the client was reset: say why */
		return;
	}
	if (!c->verbose)
		return;
	if (ev->peer && ev->peerlen)
		addr_format(ev->peer, ev->peerlen, who, sizeof(who));
	if (!ev->ended) {
		err_msg(c->cmd, "started pid %d for %s", (int)ev->pid, who);
		return;
	}
	parse_format_duration(ev->duration_ns, dur, sizeof(dur));
	if (ev->relay)
		snprintf(bytes, sizeof(bytes), " (%llu bytes in, %llu out)",
			 (unsigned long long)ev->relay->bytes_in,
			 (unsigned long long)ev->relay->bytes_out);
	if (ev->st.exited)
		err_msg(c->cmd, "pid %d for %s exited with status %d after %s%s", (int)ev->pid, who,
			ev->st.code, dur, bytes);
	else
		err_msg(c->cmd, "pid %d for %s killed by %s after %s%s", (int)ev->pid, who,
			sig_name(ev->st.signal, sig, sizeof(sig)), dur, bytes);
}

int exec_show_connect(const struct exec_cmd *x, int verbose, int json, int fd,
		      const struct relay_opts *ro, const struct tls_opts *tls, const char *host,
		      const char *peer, int64_t tcp_ns, struct err *e)
{
	struct server_show show = { .cmd = "connect", .verbose = verbose, .json = json };
	struct tls_ctx *c = NULL;
	struct tls_conn *conn = NULL;
	int status, rc;

	if (!tls) {
		rc = exec_show_run(&show, x, fd, 0, NULL, 0, ro, &status, e);
		return rc ? -1 : status;
	}
	if (tls_client_start(&(struct tls_show){ "connect", verbose, json }, tls, fd, host, peer,
			     tcp_ns, &c, &conn, e)) {
		close(fd);
		return -1;
	}
	rc = exec_show_piped(&show, x, fd, conn, 0, NULL, 0, ro, &status, e);
	tls_conn_close(conn, rc == 0); /* a polite end: close_notify */
	tls_ctx_free(c);
	close(fd);
	return rc ? -1 : status;
}

int exec_show_run(struct server_show *show, const struct exec_cmd *x, int fd, uint64_t id,
		  const struct sockaddr *peer, socklen_t peerlen, const struct relay_opts *ro,
		  int *status, struct err *e)
{
	struct exec_event ev = { .id = id, .peer = peer, .peerlen = peerlen };
	int64_t start = clock_mono_ns();
	int rc;

	if (ro) {
		rc = exec_show_piped(show, x, fd, NULL, id, peer, peerlen, ro, status, e);
		close(fd);
		return rc;
	}
	rc = exec_spawn(x, fd, fd, fd, &ev.pid, e);
	close(fd); /* the program has it */
	if (rc)
		return -1;
	exec_show_event(show, &ev);
	if (exec_wait(ev.pid, &ev.st, e))
		return -1;
	ev.ended = 1;
	ev.duration_ns = clock_mono_ns() - start;
	exec_show_event(show, &ev);
	*status = exec_status_exit(&ev.st);
	return 0;
}

int listen_exec_serve(const struct exec_cmd *x, struct server_show *show,
		      const struct server_opts *so, int nonblock, int *fds, int n,
		      const struct exec_serve_how *how, int *status, struct err *e)
{
	struct sockaddr_storage ss = { 0 };
	struct exec_server xs;
	struct server_opts kso;
	struct server_stats st;
	socklen_t len = 0;
	int fd, rc;

	if (how->tls || (so->keep_open && how->ro))
		return listen_exec_relayed(x, show, so, nonblock, fds, n, how, status, e);
	if (!so->keep_open) {
		fd = server_accept_first(fds, n, so, nonblock, &ss, &len, e);
		sock_close_all(fds, n); /* one client, as without -e */
		if (fd < 0)
			return -1;
		return exec_show_run(show, x, fd, 1, (struct sockaddr *)&ss, len, how->ro, status,
				     e);
	}
	exec_server_init(&xs, x, exec_show_event, show);
	kso = *so;
	kso.handoff = &xs.handoff;
	kso.in_fd = kso.out_fd = -1;
	rc = server_run_stream(fds, n, &kso, &st, e);
	sock_close_all(fds, n);
	return rc;
}
