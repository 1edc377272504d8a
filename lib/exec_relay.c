/* SPDX-License-Identifier: MIT */
#include "exec_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "tls.h"

int exec_relay_run(const struct exec_cmd *x, int sock, struct tls_conn *tls,
		   const struct relay_opts *ro, void (*started)(void *ctx, pid_t pid),
		   void *ctx, struct exec_relay_result *res, struct err *e)
{
	int in[2], out[2], rc;
	struct relay_opts r = *ro;
	struct relay_stats rs;
	struct err re = { 0 };
	int64_t start = clock_mono_ns();

	memset(res, 0, sizeof(*res));
	memset(&rs, 0, sizeof(rs));
	if (pipe2(in, O_CLOEXEC))
		return err_sys(e, EXIT_FAIL, errno, "pipe");
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return err_sys(e, EXIT_FAIL, errno, "pipe");
	}
	rc = exec_spawn(x, in[0], out[1], sock, &res->pid, e);
	close(in[0]);
	close(out[1]);
	if (rc) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	if (started)
		started(ctx, res->pid);
	r.out_is_program = 1;
	if (tls)
		rc = tls_relay(tls, out[0], in[1], &r, &rs, &re);
	else
		rc = relay_run(sock, out[0], in[1], &r, &rs, &re);
	/* the program's ends: it sees its stdin EOF, or EPIPE on its stdout */
	close(out[0]);
	if (!rs.out_closed)
		close(in[1]);
	res->bytes_in = rs.to_out;
	res->bytes_out = rs.to_sock;
	if (rc) {
		res->relay_failed = 1;
		res->undelivered = rs.undelivered;
		snprintf(res->why, sizeof(res->why), "%s", re.msg);
	}
	if (exec_wait(res->pid, &res->st, e))
		return -1;
	res->duration_ns = clock_mono_ns() - start;
	return 0;
}

/* ---- listen -k: one relay process per client ---- */

enum { MSG_STARTED = 1, MSG_ENDED, MSG_FAILED };

/* One record from a child to the parent: whole in one write(2) (< PIPE_BUF). */
struct fork_msg {
	int kind;
	pid_t pid;                  /* MSG_STARTED */
	struct exec_relay_result r; /* MSG_ENDED */
	char error[512];            /* MSG_FAILED: why the program could not run */
};
_Static_assert(sizeof(struct fork_msg) <= 4096, "a record must fit PIPE_BUF");

struct fork_job {
	struct server_watch w; /* first: the loop hands it back */
	struct server_loop *loop;
	struct exec_fork_server *x;
	uint64_t id;
	pid_t child;
	int64_t start;
	int ended, failed;
	struct fork_msg last;  /* the MSG_ENDED or MSG_FAILED record */
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

static void msg_send(int fd, const struct fork_msg *m)
{
	ssize_t w;

	do
		w = write(fd, m, sizeof(*m));
	while (w < 0 && errno == EINTR);
}

static void child_started(void *ctx, pid_t pid)
{
	struct fork_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = MSG_STARTED;
	m.pid = pid;
	msg_send(*(int *)ctx, &m);
}

/* The relay process of client @fd: never returns. */
static void child_main(const struct exec_fork_server *x, int fd, int wfd, uint64_t id,
		       const struct sockaddr *peer, socklen_t peerlen)
{
	struct fork_msg m;
	struct tls_conn *conn = NULL;
	struct tls_report r;
	struct err e = { 0 };
	char who[ADDR_STRLEN];
	int i, rc;

	/* the parent's ^C handler (it removes a Unix socket file) is the parent's */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	for (i = 0; i < x->nl; i++)
		close(x->lfds[i]);
	if (x->child_setup)
		x->child_setup(x->ctx, id, peer, peerlen);
	memset(&m, 0, sizeof(m));
	if (x->tls) {
		memset(&r, 0, sizeof(r));
		r.tcp_ns = -1;
		if (tls_accept(x->tls, fd, &conn, &r, &e)) {
			addr_format(peer, peerlen, who, sizeof(who));
			m.kind = MSG_FAILED;
			snprintf(m.error, sizeof(m.error), "%.100s: %.400s", who, e.msg);
			msg_send(wfd, &m);
			server_reset_close(fd);
			_exit(1);
		}
		if (x->on_tls)
			x->on_tls(x->ctx, &r, peer, peerlen);
	}
	rc = exec_relay_run(x->cmd, fd, conn, x->ro, child_started, &wfd, &m.r, &e);
	if (conn)
		tls_conn_close(conn, !rc && !m.r.relay_failed);
	m.kind = rc ? MSG_FAILED : MSG_ENDED;
	if (rc)
		snprintf(m.error, sizeof(m.error), "%s", e.msg);
	msg_send(wfd, &m);
	if (rc)
		server_reset_close(fd);
	else
		close(fd);
	_exit(0);
}

static void job_emit(const struct fork_job *j, pid_t pid, int ended, const char *error)
{
	struct exec_event ev;

	if (!j->x->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.id = j->id;
	ev.pid = pid;
	ev.peer = (const struct sockaddr *)&j->peer;
	ev.peerlen = j->peerlen;
	ev.error = error;
	if (ended) {
		ev.ended = 1;
		ev.st = j->last.r.st;
		ev.duration_ns = j->last.r.duration_ns;
		ev.relay = &j->last.r;
	}
	j->x->on_event(j->x->ctx, &ev);
}

/* The child's pipe ended: reap the child and report the client. */
static void job_report(const struct fork_job *j)
{
	char why[96];
	int ws = 0;

	while (waitpid(j->child, &ws, 0) < 0 && errno == EINTR)
		;
	if (j->ended) {
		job_emit(j, j->last.r.pid, 1, NULL);
	} else if (j->failed) {
		job_emit(j, 0, 0, j->last.error);
	} else {
		/* never seen: the child died before it could say anything */
		snprintf(why, sizeof(why), "relay process %d ended without a report (wait status %d)",
			 (int)j->child, ws);
		job_emit(j, 0, 0, why);
	}
}

/* The child's records, as they come: 1 once its pipe has ended, 0 for more later. */
static int job_read(struct fork_job *j)
{
	struct fork_msg m;
	ssize_t n;

	for (;;) {
		n = read(j->w.fd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n != (ssize_t)sizeof(m))
			return 1; /* EOF (or a broken child): it is over */
		if (m.kind == MSG_STARTED) {
			job_emit(j, m.pid, 0, NULL);
		} else {
			j->last = m;
			j->ended = m.kind == MSG_ENDED;
			j->failed = m.kind == MSG_FAILED;
		}
	}
}

static void job_ready(struct server_watch *w, uint32_t events)
{
	struct fork_job *j = (struct fork_job *)(void *)w;

	(void)events;
	if (!job_read(j))
		return;
	job_report(j);
	server_watch_del(j->loop, &j->w);
	close(j->w.fd);
	server_release(j->loop);
	server_defer_free(j->loop, j);
}

static int job_start(void *ctx, struct server_loop *l, int fd, uint64_t id,
		     const struct sockaddr *peer, socklen_t peerlen)
{
	struct exec_fork_server *x = ctx;
	struct fork_job *j = calloc(1, sizeof(*j));
	int p[2];

	if (!j || pipe2(p, O_CLOEXEC)) {
		free(j);
		server_reset_close(fd);
		return -1;
	}
	j->loop = l;
	j->x = x;
	j->id = id;
	j->start = clock_mono_ns();
	j->peerlen = peerlen > sizeof(j->peer) ? sizeof(j->peer) : peerlen;
	memcpy(&j->peer, peer, j->peerlen);
	j->child = fork();
	if (j->child == 0) {
		close(p[0]);
		child_main(x, fd, p[1], id, peer, peerlen);
	}
	close(p[1]);
	if (j->child < 0) {
		job_emit(j, 0, 0, "cannot fork the relay process");
		close(p[0]);
		server_reset_close(fd);
		free(j);
		return -1;
	}
	close(fd); /* the child has it */
	j->w.ready = job_ready;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) || server_watch_add(l, &j->w, p[0], EPOLLIN)) {
		/* cannot watch it: wait for it here, the loop stalls (never seen) */
		j->w.fd = p[0];
		fcntl(p[0], F_SETFL, 0);
		job_read(j);
		job_report(j);
		close(p[0]);
		free(j);
		return -1;
	}
	return 0;
}

void exec_fork_server_init(struct exec_fork_server *x)
{
	x->handoff.start = job_start;
	x->handoff.ctx = x;
}
