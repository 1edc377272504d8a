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
	}
	json_end(&w);
	fflush(stderr);
}

void exec_show_event(void *ctx, const struct exec_event *ev)
{
	const struct server_show *c = ctx;
	char who[ADDR_STRLEN + 16] = "the peer", dur[32], sig[32];

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
	if (ev->st.exited)
		err_msg(c->cmd, "pid %d for %s exited with status %d after %s", (int)ev->pid, who,
			ev->st.code, dur);
	else
		err_msg(c->cmd, "pid %d for %s killed by %s after %s", (int)ev->pid, who,
			sig_name(ev->st.signal, sig, sizeof(sig)), dur);
}

int exec_show_connect(const struct exec_cmd *x, int verbose, int json, int fd,
		      const struct relay_opts *ro, struct err *e)
{
	struct server_show show = { .cmd = "connect", .verbose = verbose, .json = json };
	int status;

	if (exec_show_run(&show, x, fd, 0, NULL, 0, ro, &status, e))
		return -1;
	return status;
}

/*
 * The program behind pipes: relay_run carries fd <-> the program, seeing
 * the bytes; the peer's EOF closes the program's stdin, the program's stdout
 * EOF shuts down our side of @fd.  0 once the relay is over (a failure is a
 * warning: the program's status still decides), -1 if it could not start.
 */
static int run_piped(struct server_show *show, const struct exec_cmd *x, int fd,
		     const struct relay_opts *ro, pid_t *pid, struct err *e)
{
	int in[2], out[2], rc;
	struct relay_opts r = *ro;
	struct relay_stats rs = { 0 };
	struct err re = { 0 };

	if (pipe2(in, O_CLOEXEC))
		return err_sys(e, EXIT_FAIL, errno, "pipe");
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return err_sys(e, EXIT_FAIL, errno, "pipe");
	}
	rc = exec_spawn(x, in[0], out[1], fd, pid, e);
	close(in[0]);
	close(out[1]);
	if (!rc) {
		r.out_is_program = 1;
		if (relay_run(fd, out[0], in[1], &r, &rs, &re))
			err_warn(show->cmd, "%s", re.msg);
	}
	close(out[0]);
	if (rc || !rs.out_closed)
		close(in[1]);
	close(fd);
	return rc;
}

int exec_show_run(struct server_show *show, const struct exec_cmd *x, int fd, uint64_t id,
		  const struct sockaddr *peer, socklen_t peerlen, const struct relay_opts *ro,
		  int *status, struct err *e)
{
	struct exec_event ev = { .id = id, .peer = peer, .peerlen = peerlen };
	int64_t start = clock_mono_ns();
	int rc;

	if (ro) {
		if (run_piped(show, x, fd, ro, &ev.pid, e))
			return -1;
	} else {
		rc = exec_spawn(x, fd, fd, fd, &ev.pid, e);
		close(fd); /* the program has it */
		if (rc)
			return -1;
		exec_show_event(show, &ev);
	}
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
		      const struct relay_opts *ro, int *status, struct err *e)
{
	struct sockaddr_storage ss = { 0 };
	struct exec_server xs;
	struct server_opts kso;
	struct server_stats st;
	socklen_t len = 0;
	int fd, rc;

	if (!so->keep_open) {
		fd = server_accept_first(fds, n, so, nonblock, &ss, &len, e);
		sock_close_all(fds, n); /* one client, as without -e */
		if (fd < 0)
			return -1;
		return exec_show_run(show, x, fd, 1, (struct sockaddr *)&ss, len, ro, status, e);
	}
	exec_server_init(&xs, x, exec_show_event, show);
	kso = *so;
	kso.handoff = &xs.handoff;
	kso.in_fd = kso.out_fd = -1;
	rc = server_run_stream(fds, n, &kso, &st, e);
	sock_close_all(fds, n);
	return rc;
}
