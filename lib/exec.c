/* SPDX-License-Identifier: MIT */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"


/* Executable regular file? */
static int runnable(const char *path)
{
	struct stat sb;

	return !stat(path, &sb) && S_ISREG(sb.st_mode) && !access(path, X_OK);
}

/* @prog as posix_spawnp will find it: a path, or a name in PATH. */
static int found(const char *prog)
{
	const char *path = getenv("PATH"), *p;
	char buf[4096];

	if (strchr(prog, '/'))
		return runnable(prog);
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; ) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 && snprintf(buf, sizeof(buf), "./%s", prog) < (int)sizeof(buf) &&
		    runnable(buf))
			return 1;
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog) < (int)sizeof(buf) &&
		    runnable(buf))
			return 1;
		if (!end)
			return 0;
		p = end + 1;
	}
}

int exec_cmd_parse(const char *cmd, int shell, struct exec_cmd *x, struct err *e)
{
	size_t n = strlen(cmd), words = 0;
	char *p;

	memset(x, 0, sizeof(*x));
	if (strspn(cmd, " \t") == n)
		return err_set(e, EXIT_USAGE, "%s: an empty command", shell ? "--sh-exec" : "--exec");
	x->shell = shell;
	x->buf = strdup(cmd);
	x->argv = calloc(shell ? 4 : n / 2 + 2, sizeof(char *));
	if (!x->buf || !x->argv) {
		exec_cmd_free(x);
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	if (shell) {
		x->argv[0] = "/bin/sh";
		x->argv[1] = "-c";
		x->argv[2] = x->buf;
		return 0;
	}
	for (p = x->buf; *p;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		x->argv[words++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	x->argv[words] = NULL;
	if (!words || !found(x->argv[0])) {
		err_set(e, EXIT_USAGE, "--exec: '%.200s': no such program (not in PATH, or not "
			"executable)", x->argv[0]);
		exec_cmd_free(x);
		return -1;
	}
	return 0;
}

void exec_cmd_free(struct exec_cmd *x)
{
	free(x->argv);
	free(x->buf);
	x->argv = NULL;
	x->buf = NULL;
}

/* "SOCKCTL_PEER_ADDR=..." and friends for one end of @sock. */
static void end_vars(int sock, int peer, char *addr, size_t alen, char *port, size_t plen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *who = peer ? "PEER" : "LOCAL";
	char buf[ADDR_STRLEN];
	int rc;

	addr[0] = port[0] = '\0';
	memset(&ss, 0, sizeof(ss));
	rc = peer ? getpeername(sock, (struct sockaddr *)&ss, &len)
		  : getsockname(sock, (struct sockaddr *)&ss, &len);
	if (sock < 0 || rc)
		return;
	if (ss.ss_family == AF_UNIX && len <= offsetof(struct sockaddr_un, sun_path))
		buf[0] = '\0'; /* unnamed (a socketpair, a client that did not bind) */
	else
		addr_ntop((struct sockaddr *)&ss, len, buf, sizeof(buf));
	snprintf(addr, alen, "SOCKCTL_%s_ADDR=%s", who, buf);
	/* a Unix socket has a path (or @name, or nothing), no port */
	if (ss.ss_family != AF_UNIX)
		snprintf(port, plen, "SOCKCTL_%s_PORT=%u", who,
			 addr_port((struct sockaddr *)&ss));
}

/* environ without any SOCKCTL_PEER_* / SOCKCTL_LOCAL_*, then @vars. */
static char **make_env(char *const *vars, size_t nvars)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	if (!(env = calloc(n + nvars + 1, sizeof(char *))))
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "SOCKCTL_PEER_", 13) != 0 &&
		    strncmp(environ[i], "SOCKCTL_LOCAL_", 14) != 0)
			env[k++] = environ[i];
	for (i = 0; i < nvars; i++)
		if (vars[i][0])
			env[k++] = vars[i];
	env[k] = NULL;
	return env;
}

static void set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int exec_spawn(const struct exec_cmd *x, int in_fd, int out_fd, int sock, pid_t *pid,
	       struct err *e)
{
	char pa[ADDR_STRLEN + 32], pp[48], la[ADDR_STRLEN + 32], lp[48];
	char *vars[4] = { pa, pp, la, lp };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	char **env;
	int rc;

	end_vars(sock, 1, pa, sizeof(pa), pp, sizeof(pp));
	end_vars(sock, 0, la, sizeof(la), lp, sizeof(lp));
	if (!(env = make_env(vars, 4)))
		return err_set(e, EXIT_FAIL, "out of memory");
	set_blocking(in_fd);
	set_blocking(out_fd);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* dup2 clears close-on-exec on 0 and 1; everything from 3 on goes */
	posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, x->argv[0], &fa, &at, x->argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	if (rc)
		return err_sys(e, EXIT_FAIL, rc, "cannot run %.200s", x->shell ? x->argv[2] : x->argv[0]);
	return 0;
}

void exec_status_decode(int wstatus, struct exec_status *st)
{
	memset(st, 0, sizeof(*st));
	st->exited = WIFEXITED(wstatus);
	if (st->exited)
		st->code = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		st->signal = WTERMSIG(wstatus);
}

int exec_status_exit(const struct exec_status *st)
{
	return st->exited ? st->code : 128 + st->signal;
}

int exec_wait(pid_t pid, struct exec_status *st, struct err *e)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return err_sys(e, EXIT_FAIL, errno, "waitpid %d", (int)pid);
	exec_status_decode(ws, st);
	return 0;
}

/* ---- one process per client, in the server's loop ---- */

struct exec_job {
	struct server_watch w; /* first: the loop hands it back */
	struct server_loop *loop;
	struct exec_server *x;
	uint64_t id;
	pid_t pid;
	int64_t start;
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

static void job_emit(const struct exec_job *j, int ended, const struct exec_status *st,
		     const char *error)
{
	struct exec_event ev;

	if (!j->x->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.id = j->id;
	ev.pid = j->pid;
	ev.peer = (const struct sockaddr *)&j->peer;
	ev.peerlen = j->peerlen;
	ev.ended = ended;
	if (st)
		ev.st = *st;
	if (ended)
		ev.duration_ns = clock_mono_ns() - j->start;
	ev.error = error;
	j->x->on_event(j->x->ctx, &ev);
}

static void job_exited(struct server_watch *w, uint32_t events)
{
	struct exec_job *j = (struct exec_job *)(void *)w;
	struct exec_status st;
	siginfo_t si;

	(void)events;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)w->fd, &si, WEXITED | WNOHANG) || !si.si_pid)
		return; /* not yet (or EINTR): the pidfd stays readable */
	memset(&st, 0, sizeof(st));
	st.exited = si.si_code == CLD_EXITED;
	if (st.exited)
		st.code = si.si_status;
	else
		st.signal = si.si_status;
	server_watch_del(j->loop, w);
	close(w->fd);
	job_emit(j, 1, &st, NULL);
	server_release(j->loop);
	server_defer_free(j->loop, j);
}

static int job_start(void *ctx, struct server_loop *l, int fd, uint64_t id,
		     const struct sockaddr *peer, socklen_t peerlen)
{
	struct exec_server *x = ctx;
	struct exec_job *j = calloc(1, sizeof(*j));
	struct err e = { 0 };
	int pfd;

	if (!j) {
		server_reset_close(fd);
		return -1;
	}
	j->loop = l;
	j->x = x;
	j->id = id;
	j->start = clock_mono_ns();
	j->peerlen = peerlen > sizeof(j->peer) ? sizeof(j->peer) : peerlen;
	memcpy(&j->peer, peer, j->peerlen);
	if (exec_spawn(x->cmd, fd, fd, fd, &j->pid, &e)) {
		job_emit(j, 0, NULL, e.msg);
		server_reset_close(fd);
		free(j);
		return -1;
	}
	close(fd); /* the program has it: its exit is the connection's FIN */
	job_emit(j, 0, NULL, NULL);
	j->w.ready = job_exited;
	/* a pidfd is close-on-exec: no other client's program inherits it */
	pfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	if (pfd < 0 || server_watch_add(l, &j->w, pfd, EPOLLIN)) {
		/* cannot watch it: wait for it here, the loop stalls (never seen) */
		struct exec_status st;

		if (pfd >= 0)
			close(pfd);
		if (!exec_wait(j->pid, &st, &e))
			job_emit(j, 1, &st, NULL);
		free(j);
		return -1;
	}
	return 0;
}

void exec_server_init(struct exec_server *x, const struct exec_cmd *cmd, exec_event_fn fn,
		      void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->cmd = cmd;
	x->on_event = fn;
	x->ctx = ctx;
	x->handoff.start = job_start;
	x->handoff.ctx = x;
}
